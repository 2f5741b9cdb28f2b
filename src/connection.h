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
#include "tls.h"
#include "pythread.h"

/* State of the scan that counts the commands in bytes given to
 * send_packed_command (see scan_commands in connection.c); kept across calls
 * because a command may be sent in pieces. */
typedef struct {
    int state;
    int neg;                     /* a '-' sign in the number being read */
    long long num;               /* the number being read */
    long long args;              /* bulk strings left in the current command */
    long long skip;              /* payload bytes (with CRLF) left in the bulk */
} rn_cmd_scan;

typedef struct rn_conn {
    PyObject_HEAD
    PyObject *module;            /* strong: keeps st alive */
    rn_state *st;
    int fd;                      /* -1 when disconnected */
    unsigned long fd_serial;     /* counts the sockets installed (`_fd_serial`) */
    int connecting;              /* connect.c: inside a native handshake */
    unsigned long fork_gen;      /* rn_fork_generation() when fd was opened */
    long pid;                    /* getpid() at connect, for users and repr */
    rn_reader *reader;
    /* Buffers (DESIGN rule 8).  A send takes wbuf out of the struct while it
     * packs and writes, and a read takes rbuf, so that nothing another
     * thread (or a signal handler) does meanwhile -- a send on the same
     * connection, disconnect() trimming the buffer -- can touch the memory
     * the GIL-free I/O uses; a concurrent user gets a buffer of its own.
     * Both go back (wbuf shrunk after a large command) when the I/O is done. */
    rn_buf wbuf;                 /* reused output buffer */
    char *rbuf;                  /* input buffer, RN_RBUF_SIZE bytes, lazily */
    /* hot settings, mirrored in C by their attribute setters */
    PyObject *socket_timeout;    /* as given (None or a number) */
    double timeout_c;            /* < 0: block forever; 0: non-blocking */
    PyObject *socket_connect_timeout;
    double connect_timeout_c;
    int bad_timeouts;            /* RN_BAD_*: a value socket.settimeout() refuses,
                                  * raised when the connection connects */
    PyObject *health_check_interval;
    double hc_interval_c;
    double next_health_check;    /* monotonic seconds */
    double last_io;              /* monotonic time of the last complete reply */
    PyObject *encoding;          /* str */
    PyObject *encoding_errors;   /* str */
    int decode_responses;
    PyObject *retry;             /* Retry object (any object: read by attribute) */
    /* Who uses the connection (GIL held to look or change).  One thread at a
     * time reads and one writes (a pub/sub worker reads while another thread
     * subscribes); a second reader gets RedisError("... in use by another
     * thread"), a second writer waits for the first (write_wake), and a
     * thread re-entering its own I/O (a signal handler, a reply callback)
     * gets the error.  Thread idents, 0 for nobody. */
    unsigned long reader_thread;
    unsigned long writer_thread;
    rn_wake write_wake;          /* its lock made lazily, by the first waiter */
    /* Readers + writers at work.  Closing an fd somebody is using would let
     * the number be reused under it: rn_conn_close shuts such a socket down
     * (which wakes a blocked call) and defers close() until the last user
     * is done. */
    int io_active;
    struct rn_deferred { int fd; rn_tls *tls; } *deferred;
    int n_deferred, cap_deferred;
    /* TLS: the SSL object on fd once _start_tls() succeeded, else NULL.
     * Closed and deferred together with fd (a GIL-free user keeps using it
     * until it gives the connection back). */
    rn_tls *tls;
    /* `_keep_session`: the server holds state for this connection that a
     * reconnect would lose silently (a pipeline's WATCH).  The idle probe
     * then raises ConnectionError for a socket the server closed instead of
     * reconnecting, as the command would have failed in redis-py.  Cleared
     * whenever the socket is closed. */
    int keep_session;
    int overridden;              /* see rn_setattro_tracking */
    /* Replies the server still owes us: commands sent on this socket whose
     * replies were not read yet.  Any path that leaves one unread (an
     * exception between send and read, C or Python) makes the connection
     * disconnect before it serves another request or goes back to a pool. */
    Py_ssize_t owed;
    rn_cmd_scan scan;            /* send_packed_command's command counter */
    /* `_on_readonly`: None (NULL) or a callable hook(connection, error) run
     * when a reply is a READONLY error (ReadOnlyError), before it is raised
     * or handed to a pipeline.  Sentinel's managed connections use it to turn
     * "this master was demoted" into a disconnect + ConnectionError without
     * overriding read_response (which would cost the C fast path); replies
     * that are not READONLY errors never look at it. */
    PyObject *on_readonly;
    PyObject *weakreflist;
} rn_conn;

/* bits of rn_conn.bad_timeouts */
#define RN_BAD_SOCKET_TIMEOUT 1
#define RN_BAD_CONNECT_TIMEOUT 2

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

/* Close the socket (no shutdown() in a forked child), reset the reader and
 * forget the replies owed. */
void rn_conn_close(rn_conn *c);

/* 1 when `c` is connected in this process.  In a forked child it first drops
 * what was inherited (socket, deferred descriptors, the parent threads' use
 * of the connection), without shutdown(). */
int rn_conn_is_live(rn_conn *c);

double rn_monotonic(void);

/* Connection._handshake(commands): see connection.c.  True, or False when
 * the Python path must run (nothing sent); NULL with an exception set. */
PyObject *rn_conn_handshake(rn_conn *c, PyObject *commands);

/* What `c.connect()` does (connect.c): natively while the connect chain is
 * AbstractConnection's own, else by calling connect().  0, or -1 with an
 * exception set. */
int rn_conn_connect(rn_conn *c);

#endif

/* Cluster pipelines (src/cluster_pipe.c): `pairs` is a sequence of
 * (Connection, commands) tuples, commands as _execute_pipeline takes them,
 * each connection at most once.  Every node's commands are packed into one
 * buffer, then all sockets are written and read at once: one poll() over
 * them with the GIL released, the GIL taken only to turn bytes into replies.
 * Returns a list with one entry per pair: the list of raw replies (error
 * replies as exception instances), or the exception that ended that
 * connection's exchange (connect, I/O, timeout, protocol; the connection is
 * then closed).  Raises, having sent nothing, when a command cannot be
 * packed; raises (closing every connection still owed replies) when a signal
 * handler does.  GIL held. */
PyObject *rn_conn_roundtrip_many(rn_state *st, PyObject *pairs);
