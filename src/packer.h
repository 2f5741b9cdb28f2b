/* Command packing: Python arguments -> RESP2 multibulk, with redis-py's
 * Encoder rules:
 *   bytes, memoryview   as is
 *   str                 encoded with the client's encoding/errors
 *   int (not bool)      decimal text (int subclasses: repr(), as redis-py)
 *   float               repr()
 *   anything else       DataError("Invalid input of type: '<name>'. Convert to
 *                       a bytes, string, int or float first.")
 * A first argument holding spaces ("CONFIG GET") is split into words.
 *
 * All functions need the GIL.
 */
#ifndef RN_PACKER_H
#define RN_PACKER_H

#include "module.h"

/* An argument sent from the caller's memory: its bytes go on the wire right
 * after the first `at` bytes of the buffer (the "$<len>\r\n" before it and
 * the "\r\n" after it are in the buffer).  `view` holds a buffer export of the
 * object (GIL needed to release it): the object stays alive and a bytearray
 * under a memoryview cannot be resized while the write uses its memory. */
typedef struct {
    size_t at;
    Py_buffer view;
} rn_seg;

/* The segments of a buffer, owned by whoever packs and writes it (usually
 * on its stack); rn_segs_clear (GIL held) once the write is over. */
typedef struct {
    int n, cap;
    rn_seg *items;
} rn_segs;

/* Growable output buffer, reused across commands by a connection.  With
 * `segs` set (a connection's write), arguments of RN_ZEROCOPY_MIN bytes or
 * more become segments instead of being copied. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    rn_segs *segs;               /* borrowed, or NULL: copy everything */
} rn_buf;

void rn_buf_init(rn_buf *b);
void rn_buf_free(rn_buf *b);
/* Release the buffer exports of the segments from index `keep` on (GIL held). */
void rn_segs_release(rn_segs *s, int keep);
/* Release them all and free the array (GIL held). */
void rn_segs_clear(rn_segs *s);
/* Make room for `extra` more bytes; -1 with MemoryError set on failure. */
int rn_buf_reserve(rn_buf *b, size_t extra);
/* Shrink a buffer that grew past `keep` bytes (after a huge command) so idle
 * connections do not pin memory. */
void rn_buf_trim(rn_buf *b, size_t keep);

/* Append one packed command to `b`.  `args` are borrowed.  `encoding` and
 * `errors` are C strings (e.g. "utf-8", "strict").  Returns 0, or -1 with an
 * exception set (DataError, UnicodeEncodeError, MemoryError) and b->len
 * restored to its value on entry. */
int rn_pack_command(rn_state *st, rn_buf *b, PyObject *const *args,
                    Py_ssize_t nargs, const char *encoding, const char *errors);

/* Append the bytes `v` encodes to (the same rules, no RESP framing) to `b`:
 * what redis-py's Encoder.encode(v) returns.  0, or -1 with an exception set
 * and b->len unchanged. */
int rn_encode_arg(rn_state *st, rn_buf *b, PyObject *v, const char *encoding,
                  const char *errors);

/* Python-facing helper: pack one command into a new bytes object. */
PyObject *rn_pack_to_bytes(rn_state *st, PyObject *const *args, Py_ssize_t nargs,
                           const char *encoding, const char *errors);

#endif
