/* _native.Connection: one socket to a Redis server (TCP or unix domain).
 *
 * The C type owns the socket, the reader, the output buffer and the settings
 * read on every command (timeouts, decoding, health-check interval, retry).
 * Cold logic (constructor arguments, the connect handshake, repr, health
 * check) lives in the Python subclasses in redis_native/connection.py, which
 * call the C primitives below.
 */
#ifndef RN_CONNECTION_H
#define RN_CONNECTION_H

#include "module.h"
#include "packer.h"
#include "reader.h"

typedef struct rn_conn {
    PyObject_HEAD
    PyObject *module;            /* strong: keeps st alive */
    rn_state *st;
    int fd;                      /* -1 when disconnected */
    unsigned long fork_gen;      /* rn_fork_generation() when fd was opened */
    long pid;                    /* getpid() at connect, for users and repr */
    rn_reader *reader;
    rn_buf wbuf;                 /* reused output buffer */
    char *rbuf;                  /* input buffer, RN_RBUF_SIZE bytes, lazily */
    /* hot settings, mirrored in C by their attribute setters */
    PyObject *socket_timeout;    /* None or number */
    double timeout_c;            /* < 0: block forever */
    PyObject *socket_connect_timeout;
    double connect_timeout_c;
    PyObject *health_check_interval;
    double hc_interval_c;
    double next_health_check;    /* monotonic seconds */
    double last_io;              /* monotonic time of the last complete reply */
    PyObject *encoding;          /* str */
    PyObject *encoding_errors;   /* str */
    int decode_responses;
    PyObject *retry;             /* Retry object */
    /* I/O running with the GIL released on this connection, and descriptors
     * whose close() waits for it: closing an fd another thread is blocked on
     * would let the number be reused under it (see rn_conn_close). */
    int io_active;
    int deferred_fds[4];
    int n_deferred;
    int overridden;              /* see rn_setattro_tracking */
    /* Replies the server still owes us: commands sent on this socket whose
     * replies were not read yet.  Any path that leaves one unread (an
     * exception between send and read, C or Python) makes the connection
     * disconnect before it serves another request or goes back to a pool. */
    Py_ssize_t owed;
    PyObject *weakreflist;
} rn_conn;

#define RN_RBUF_SIZE 65536

/* A connection idle for longer than this is probed (one non-blocking peek)
 * before its next command, so that a socket the server closed meanwhile (idle
 * timeout, restart, CLIENT KILL) is replaced instead of failing the command,
 * as redis-py's checkout check does.  A connection reused within this time of
 * its last reply (any busy loop) is never probed: no extra syscall there. */
#define RN_IDLE_PROBE_SECONDS 0.002

extern PyType_Spec rn_connection_type_spec;

/* Fast path used by dispatch for the exact registered classes (GIL held):
 * connect if needed, health check if due, pack, send, read one reply.
 * `decode` selects decoding.  Returns a new reference (the reply; a top-level
 * error reply is raised, not returned) or NULL with an exception set.  On any
 * failure between the first byte sent and the complete reply the connection
 * is disconnected. */
PyObject *rn_conn_command(rn_conn *c, PyObject *const *args, Py_ssize_t nargs,
                          int decode);

/* Connect if needed, pack and send one command without reading its reply
 * (GIL held).  0, or -1 with an exception set. */
int rn_conn_send(rn_conn *c, PyObject *const *args, Py_ssize_t nargs);

/* Close the socket (no shutdown() in a forked child) and reset the reader. */
void rn_conn_close(rn_conn *c);

/* 1 when `c` is connected in this process; drops an inherited socket. */
int rn_conn_is_live(rn_conn *c);

double rn_monotonic(void);

#endif
