/* _native.ClientBase: the C base of redis_native.Redis.  It owns the
 * per-command path: take a connection, pack, send, read, retry, release,
 * apply the response callback. */
#ifndef RN_CLIENT_H
#define RN_CLIENT_H

#include "module.h"
#include "pythread.h"

typedef struct rn_client {
    PyObject_HEAD
    PyObject *module;              /* strong */
    rn_state *st;
    PyObject *connection_pool;
    PyObject *connection;          /* None unless single_connection_client */
    PyObject *response_callbacks;  /* dict-like: command name -> callable */
    PyThread_type_lock single_lock;  /* serialises use of `connection` */
    int overridden;                /* see rn_setattro_tracking */
    PyObject *weakreflist;
} rn_client;

extern PyType_Spec rn_client_type_spec;

#endif
