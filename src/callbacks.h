/* Response callbacks of the most used commands, in C.  Same results as their
 * Python counterparts in redis_native/_parsers/helpers.py, which stay the
 * reference (and are used for every other command). */
#ifndef RN_CALLBACKS_H
#define RN_CALLBACKS_H

#include "module.h"

extern PyMethodDef rn_callback_methods[];

/* A status reply OK, as bytes or str: 1 when it is, 0 when it is another
 * bytes/str, -1 for anything else (no exception set). */
int rn_is_ok(PyObject *reply);

#endif
