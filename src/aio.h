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

/* The ready-connection fast path of redis_native.asyncio.Redis.execute_command
 * (module functions, see aio.c "fast path"). */
PyObject *rn_aio_setup(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *rn_aio_take(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *rn_aio_release(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#define RN_AIO_METHODS                                                              \
    {"_aio_setup", (PyCFunction)(void (*)(void))rn_aio_setup, METH_FASTCALL,        \
     "_aio_setup(*builtins): the built-in methods the asyncio fast path stands in for."}, \
    {"_aio_take", (PyCFunction)(void (*)(void))rn_aio_take, METH_FASTCALL,          \
     "_aio_take(client, args, options) -> (pool, conn, proto, future) or None"},   \
    {"_aio_release", (PyCFunction)(void (*)(void))rn_aio_release, METH_FASTCALL,    \
     "_aio_release(pool, conn): give a connection taken by _aio_take back"},

#endif
