/* Response callbacks of the most used commands, in C.  Same results as their
 * Python counterparts in redis_native/_parsers/helpers.py, which stay the
 * reference (and are used for every other command). */
#ifndef RN_CALLBACKS_H
#define RN_CALLBACKS_H

#include "module.h"

extern PyMethodDef rn_callback_methods[];

#endif
