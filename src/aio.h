/* _native.AsyncProtocol: the wire protocol of redis_native.asyncio, an
 * asyncio.Protocol driven by the event loop (default loop or uvloop).
 *
 * Commands are packed by the packer (packer.h) and written to the transport;
 * data_received feeds the reader (reader.h) and completes the waiting futures
 * in the order their commands were written, applying the response callback
 * of each command (the C twins from callbacks.c or redis-py's Python ones).
 */
#ifndef RN_AIO_H
#define RN_AIO_H

#include "module.h"

extern PyType_Spec rn_aproto_type_spec;

#endif
