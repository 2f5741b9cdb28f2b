/* RESP2 reply reader: hiredis' redisReader with callbacks that build Python
 * objects directly (no intermediate redisReply tree).
 *
 * This is the one interface the rest of the C code uses for replies, so that a
 * RESP3 reader can be slotted in later without touching connection/dispatch.
 *
 * Every function needs the GIL (callbacks create Python objects).
 */
#ifndef RN_READER_H
#define RN_READER_H

#include "module.h"

typedef struct rn_reader rn_reader;

/* New reader; NULL with MemoryError set on failure.  `st` is borrowed and must
 * outlive the reader (the owner keeps the module alive). */
rn_reader *rn_reader_new(rn_state *st);
void rn_reader_free(rn_reader *r);

/* Drop buffered bytes and any half-built reply (used on disconnect). */
void rn_reader_reset(rn_reader *r);

/* Append raw bytes from the socket.  0 on success, -1 with an exception set. */
int rn_reader_feed(rn_reader *r, const char *buf, size_t len);

/* A big bulk string received in place (reader.c, "Big bulk strings"): when
 * rn_reader_get returned 0 inside a bulk string of at least RN_ZEROCOPY_MIN
 * bytes, returns 1 with the place for its next bytes, `*dst` for at most
 * `*want` bytes, inside `*hold` (a new reference: keep it while writing
 * there without the GIL, a reset may drop the reader's own); then report
 * what arrived with rn_reader_direct_got and call rn_reader_get again.
 * 0: read into a buffer and rn_reader_feed as usual.  -1: MemoryError. */
int rn_reader_direct(rn_reader *r, char **dst, size_t *want, PyObject **hold);
void rn_reader_direct_got(rn_reader *r, PyObject *hold, size_t n);

/* Number of bytes fed but not yet consumed by a completed reply. */
size_t rn_reader_pending(rn_reader *r);

/* 1 when the byte stream is still in step: after rn_reader_get returned -1
 * for an error raised while building a complete reply (e.g. a decode error)
 * the next reply can be read; 0 after a protocol error (reset needed). */
int rn_reader_in_sync(rn_reader *r);

/* Take one complete reply.
 *   returns 1: *out is a new reference (bytes/str/int/list/None, or an
 *              exception *instance* for an error reply -- top level or nested;
 *              the caller decides whether to raise it);
 *   returns 0: more bytes are needed, *out untouched;
 *   returns -1: protocol error or hostile input (InvalidResponse set) or
 *              MemoryError; the reader is then unusable until rn_reader_reset
 *              and the caller must drop the connection.
 * decode != 0: bulk and status strings become str decoded with
 *   encoding/errors (C strings, e.g. "utf-8"/"strict"); otherwise bytes.
 * Error replies are always decoded (utf-8, "replace") and passed to
 * st->parse_error_reply. */
int rn_reader_get(rn_reader *r, int decode, const char *encoding,
                  const char *errors, PyObject **out);

/* redis-py's parsers raise an array reply whose first element is a
 * ConnectionError-class error reply (LOADING, max clients, NOAUTH...) as that
 * error, wherever the array came from (EXEC, EVAL).  The connection read paths
 * apply the same rule through this: steals `reply`, returns a new reference to
 * the error instead of the array when the rule applies, else `reply`. */
PyObject *rn_reply_lift_conn_error(rn_state *st, PyObject *reply);

/* on != 0: until called again with 0, error replies come out of
 * rn_reader_get as the 1-tuple (message,) instead of an exception instance
 * (for replies whose errors are judged without building one: the
 * connect-time CLIENT SETINFO). */
void rn_reader_raw_errors(rn_reader *r, int on);

/* Visit the Python objects the reader holds (a half-built reply, a recorded
 * exception), for the tp_traverse of its owner.  `r` may be NULL. */
int rn_reader_traverse(rn_reader *r, visitproc visit, void *arg);

/* Python type _native.Reader(encoding=None, errors=None): feed(data) and
 * gets() -> reply or False, for byte-level tests and fuzzing.  Added to the
 * module by module.c. */
extern PyType_Spec rn_reader_type_spec;

#endif
