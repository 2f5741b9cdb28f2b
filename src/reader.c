/* RESP2 reply reader: hiredis' redisReader driven with our own
 * redisReplyObjectFunctions, so that replies are built as Python objects in
 * one pass (no redisReply tree to convert afterwards).
 *
 * Ownership model
 * ---------------
 * hiredis keeps raw pointers to the objects we return from the callbacks:
 * the root of the reply in `reader->reply`, and every open array in its task
 * stack (`task->obj`, the parent of the next children).  We never let hiredis
 * own anything:
 *
 *   - the root object is owned by rn_reader.root (strong reference) until
 *     rn_reader_get hands it to the caller;
 *   - every non-root object is owned by the list it was stored in, and the
 *     pointer returned to hiredis is borrowed;
 *   - freeObject is a no-op.
 *
 * So an abandoned half-built reply (protocol error, rn_reader_reset in the
 * middle of a nested array, rn_reader_free) is released by dropping
 * rn_reader.root, whatever hiredis does with its own pointers.
 *
 * Python exceptions raised inside a callback
 * ------------------------------------------
 * A callback can fail for reasons that say nothing about the stream itself: a
 * bulk string that does not decode with the client's encoding, MemoryError,
 * an exception from parse_error_reply.  Returning NULL to hiredis would turn
 * that into an "Out of memory" reader error and lose the position in the
 * stream.  Instead the first such exception is recorded, the callback returns
 * a dummy non-NULL pointer, and the following callbacks of that reply build
 * nothing.  When hiredis reports the reply complete, rn_reader_get drops the
 * partial tree and raises the recorded exception.  The stream stays in sync:
 * the next reply can be read normally (redis-py, too, raises the decode error
 * from read_response after consuming the reply).
 *
 * Limits
 * ------
 * Lengths from the wire are never trusted for allocation: an array announced
 * with N elements preallocates at most RN_ARRAY_PREALLOC slots and grows by
 * appending as the children arrive (hiredis delivers them in index order).
 * Length and integer validation (negative counts other than -1, counts above
 * INT_MAX, non-digits: tests/test_reader.py pins them down) is hiredis' own;
 * every hiredis error becomes InvalidResponse.  Replies may nest up to
 * RN_MAX_DEPTH levels of arrays (see "Deep replies").
 *
 * Deep replies (hiredis 0.x)
 * --------------------------
 * A hiredis 0.14 reader has a fixed task stack: arrays at levels 0..7 and a
 * protocol error for any array at level 8 ("depth > 7", raised before the
 * line is read, after which the reader has thrown its buffer away).  Real
 * replies go deeper: COMMAND DOCS, Lua tables, EXEC around either.  So
 * readers are chained.  When an array with children opens at level 7, the
 * callback hands every unread byte to a fresh hiredis reader (a frame) and
 * truncates the current reader's buffer, so the current reader stops right
 * there, waiting for that array's first child.  The frame parses the
 * children as a sequence of top-level replies, each stored into the array by
 * reply_attach; a frame can open frames of its own.  When the last child is
 * complete the frame is popped: the parent reader is told its array is on its
 * last child (rstack[ridx].idx), fed one placeholder item ":0\r\n" that
 * cb_integer recognises and builds nothing for (hiredis then closes the array
 * itself), and fed the bytes the frame had not consumed.  All bytes go to the
 * innermost frame.  Errors in a frame are copied to the first reader, which
 * stays the one whose error state the rest of this file checks.
 *
 * Big bulk strings
 * ----------------
 * hiredis only builds a bulk string once all of it is in its buffer, which
 * grows to the size of the value; the callback then copies it into a bytes
 * object: a 64 MiB GET would cost 64 MiB of buffer plus a copy, and the buffer
 * stayed that big.  So when the reader waits inside a bulk string of at least
 * RN_ZEROCOPY_MIN bytes (hiredis has read its '$' and holds "<len>\r\n" and
 * part of the payload), rn_reader_direct takes it over: the bytes object is
 * allocated at its final size, the payload already buffered is copied in, the
 * hiredis buffer is cut back to before the length line, and the connection
 * receives the rest of the payload straight into the object (allocated at
 * most RN_BIG_FIRST at first, grown as the payload arrives).  Its "\r\n" is
 * checked as it is fed; then hiredis is fed "0\r\n\r\n" (an empty bulk
 * string at the very place of the big one) and cb_string hands over the
 * prepared object instead (big_ready), wherever it sits in the reply tree.
 * The payload is copied once: from the socket into the object.
 *
 * Feeding hiredis
 * ---------------
 * After every reply, hiredis 0.14 moves its unread bytes to the front of its
 * buffer once 1 KiB has been consumed (sdsrange in redisReaderGetReply).  Fed
 * 64 KiB at once (one recv), the replies of a pipeline made that memmove of
 * up to 64 KiB per reply: two thirds of the C time of a 1000-GET pipeline.
 * So hiredis gets at most RN_FEED_CHUNK bytes at a time: the rest of a feed
 * waits in `stage` and rn_reader_get hands it over a chunk at a time when
 * hiredis needs more.  rn_reader_get returns 0 ("need more bytes") only with
 * an empty stage; a feed of at most RN_FEED_CHUNK bytes into an empty stage
 * (any small reply) goes to hiredis directly.
 *
 * hiredis 0.14 internals used here, all declared in <hiredis/read.h> and
 * <hiredis/sds.h>: `pos`/`len`/`buf` (unread bytes; an sds string),
 * `err`/`errstr`, `maxbuf`, `privdata`, and for chaining `rstack`/`ridx`.
 */
#include "reader.h"

#include <hiredis/hiredis.h>     /* HIREDIS_MAJOR */
#include <hiredis/read.h>
#include <hiredis/sds.h>
#include <string.h>

/* Built and tested against the hiredis Debian ships (0.14): the chained
 * readers below depend on its fixed task stack and its struct layout.  A
 * hiredis 1.x grows its stack itself and would need a different (untested)
 * path, so refuse to build against it rather than guess. */
#if !defined(HIREDIS_MAJOR) || HIREDIS_MAJOR != 0
#error "redis_native's reader.c supports hiredis 0.x only (Debian's libhiredis-dev 0.14)"
#endif

/* Level of the deepest array one hiredis 0.x reader can hold (root = 0). */
#define RN_HIREDIS_LAST_LEVEL 7

/* Most arrays a reply may nest (InvalidResponse beyond): a bound on what a
 * hostile server can make us allocate (a chained reader and its buffer per 8
 * levels) and on how deep the Python objects get.  redis-py's own parser
 * stops at Python's recursion limit. */
#define RN_MAX_DEPTH 512
#define RN_MAX_FRAMES (RN_MAX_DEPTH / (RN_HIREDIS_LAST_LEVEL + 1))

/* The item fed to a parent reader to close an array whose children a frame
 * has built. */
#define RN_PLACEHOLDER ":0\r\n"

/* Slots preallocated for an announced array; more are appended.  Bounded so
 * that a hostile "*2147483647\r\n" costs 8 KiB, not 16 GiB. */
#define RN_ARRAY_PREALLOC 1024

/* A big bulk string's bytes object starts at most this big and doubles as
 * its payload arrives: a length from the wire is not trusted for allocation
 * (a hostile "$9999999999" costs this much, not 10 GB).  Values up to this
 * size get their final size at once; larger blocks are mmap()ed by malloc,
 * so growing them (mremap) copies nothing. */
#define RN_BIG_FIRST (32 * 1024 * 1024)

/* The most bytes hiredis holds unparsed because of one feed: bounds the
 * memmove it does after every reply ("Feeding hiredis"). */
#define RN_FEED_CHUNK 4096

/* hiredis frees its input buffer when it is empty and has more than this
 * many bytes of unused room.  Above the 16 KiB default so that a connection
 * reading medium replies (tens of KiB) does not free and reallocate its
 * buffer on every reply; low enough that an idle connection pins little. */
#define RN_READER_MAXBUF (64 * 1024)

struct rn_reader {
    rn_state *st;             /* borrowed; outlives the reader */
    redisReader *hr;          /* NULL after a reset until the next use */

    /* Options of the rn_reader_get call in progress (the callbacks run only
     * inside redisReaderGetReply).  The strings are borrowed from the caller. */
    int decode;
    const char *encoding;
    const char *errors;

    PyObject *root;           /* strong: reply under construction, or NULL */

    /* First exception raised by a callback for the reply in progress
     * (strong reference to the exception instance, see exc_take). */
    PyObject *exc;

    /* Byte accounting for rn_reader_pending: bytes fed since the last reset,
     * and bytes belonging to replies already handed out. */
    unsigned long long fed;
    unsigned long long consumed;

    int raw_errors;           /* error replies as (message,) (rn_reader_raw_errors) */
    int busy;                 /* inside redisReaderGetReply */
    int reset_pending;        /* rn_reader_reset called while busy */

    /* Chained readers for deep replies ("Deep replies" above); frames[0] is
     * the one below `hr`.  Empty outside deep replies. */
    struct rn_frame *frames;
    int nframes, frames_cap;
    int placeholder;          /* the next integer is RN_PLACEHOLDER */
    int chain_err;            /* REDIS_ERR_* from a failed push, or 0 */
    const char *chain_errstr;

    /* A big bulk string received in place ("Big bulk strings" above):
     * `big` (strong) is its bytes object, big_have of its big_len payload
     * bytes are in, then big_crlf bytes of its "\r\n" are still to check;
     * big_ready: the next bulk string callback stands for it. */
    PyObject *big;
    size_t big_len, big_have;
    int big_crlf;
    int big_ready;

    /* Bytes fed but not given to hiredis yet ("Feeding hiredis"): stage[pos,
     * len) of a PyMem block of cap bytes. */
    char *stage;
    size_t stage_pos, stage_len, stage_cap;
};

/* A chained reader and the array its top-level replies are the children of. */
struct rn_frame {
    redisReader *hr;
    PyObject *list;           /* borrowed (owned by the reply tree), or NULL
                               * once an exception is recorded */
    Py_ssize_t next;          /* index of the next child in list */
    int elements;             /* children announced */
    int remaining;            /* children not complete yet */
};

/* The reader that parses the next bytes: the innermost frame's. */
static inline redisReader *
top_reader(rn_reader *r)
{
    return r->nframes > 0 ? r->frames[r->nframes - 1].hr : r->hr;
}

/* ------------------------------------------------------------------------
 * Callbacks (called by hiredis inside redisReaderGetReply, GIL held)
 */

/* The exception being raised, taken out of the thread state as one object
 * (its traceback attached), or NULL when none is set.  PyErr_Fetch and
 * PyErr_Restore are deprecated from Python 3.12 on; 3.11 (our oldest
 * target) lacks their replacements, so the older pair is used there only. */
static PyObject *
exc_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(tb);
    Py_DECREF(type);
    return value;
#endif
}

/* Raise `exc` again (a reference taken from exc_take; stolen). */
static void
exc_give(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

/* Record the exception currently set (the first one wins) and return the
 * dummy pointer that keeps hiredis parsing.  The dummy is the rn_reader
 * itself: never dereferenced as a PyObject, because once an exception is
 * recorded no callback touches task objects until the reply completes. */
static void *
reply_fail(rn_reader *r)
{
    if (r->exc != NULL) {
        PyErr_Clear();
        return r;
    }
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "reply callback failed without an exception");
    r->exc = exc_take();
    if (r->exc == NULL)         /* not reached; None marks "failed" anyway */
        r->exc = Py_NewRef(Py_None);
    return r;
}

/* Store `obj` (a new reference, stolen) where the task says: the root, or
 * slot task->idx of the parent list.  Returns the pointer to give hiredis. */
static void *
reply_attach(rn_reader *r, const redisReadTask *task, PyObject *obj)
{
    PyObject *list;
    Py_ssize_t idx;

    if (task->parent != NULL) {
        /* Borrowed: owned by its own parent, or by r->root. */
        list = (PyObject *)task->parent->obj;
        idx = task->idx;
    }
    else if (r->nframes == 0) {
        /* The root: owned by the reader until rn_reader_get returns it. */
        Py_XSETREF(r->root, obj);
        return obj;
    }
    else {
        /* A top-level reply of a chained reader: the next child of the
         * array that reader was opened for. */
        struct rn_frame *f = &r->frames[r->nframes - 1];
        if (f->list == NULL) {
            Py_DECREF(obj);
            return r;
        }
        list = f->list;
        idx = f->next++;
    }
    if (idx < PyList_GET_SIZE(list)) {
        /* A preallocated slot; children arrive in order, so it is still
         * NULL, but never leak whatever might be there. */
        PyObject *old = PyList_GET_ITEM(list, idx);
        PyList_SET_ITEM(list, idx, obj);    /* steals obj */
        Py_XDECREF(old);
    }
    else {
        int rc = PyList_Append(list, obj);
        Py_DECREF(obj);                     /* the list holds it now */
        if (rc < 0)
            return reply_fail(r);
    }
    return obj;                             /* borrowed from the list */
}

/* Error reply "-PREFIX message": an exception *instance*, built by
 * redis_native.exceptions.parse_error_reply (never raised here); with
 * raw_errors the 1-tuple (message,). */
static PyObject *
make_error(rn_reader *r, const char *s, size_t len)
{
    PyObject *msg = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace");
    if (msg == NULL)
        return NULL;
    if (r->raw_errors) {
        PyObject *t = PyTuple_Pack(1, msg);
        Py_DECREF(msg);
        return t;
    }
    PyObject *factory = r->st->parse_error_reply != NULL
        ? r->st->parse_error_reply : r->st->ResponseError;
    PyObject *exc = PyObject_CallOneArg(factory, msg);
    Py_DECREF(msg);
    return exc;
}

static void *
cb_string(const redisReadTask *task, char *s, size_t len)
{
    rn_reader *r = (rn_reader *)task->privdata;
    PyObject *obj;

    if (r->big_ready && task->type == REDIS_REPLY_STRING) {
        /* the empty stand-in for a big bulk string received in place */
        PyObject *big = r->big;
        r->big = NULL;
        r->big_ready = 0;
        r->big_len = r->big_have = 0;
        if (r->exc != NULL || big == NULL) {
            Py_XDECREF(big);
            return r;
        }
        if (r->decode) {
            obj = PyUnicode_Decode(PyBytes_AS_STRING(big), PyBytes_GET_SIZE(big),
                                   r->encoding, r->errors);
            Py_DECREF(big);
        }
        else {
            obj = big;
        }
        if (obj == NULL)
            return reply_fail(r);
        return reply_attach(r, task, obj);
    }
    if (r->exc != NULL)
        return r;
    if (len > (size_t)PY_SSIZE_T_MAX) {
        PyErr_NoMemory();
        return reply_fail(r);
    }
    if (task->type == REDIS_REPLY_ERROR)
        obj = make_error(r, s, len);
    else if (r->decode)                     /* bulk or status string */
        obj = PyUnicode_Decode(s, (Py_ssize_t)len, r->encoding, r->errors);
    else
        obj = PyBytes_FromStringAndSize(s, (Py_ssize_t)len);
    if (obj == NULL)
        return reply_fail(r);
    return reply_attach(r, task, obj);
}

static void push_frame(rn_reader *r, PyObject *list, int elements);
static void chain_fail(rn_reader *r, int err, const char *errstr);

static void *
cb_array(const redisReadTask *task, int elements)
{
    rn_reader *r = (rn_reader *)task->privdata;
    void *result = r;
    int level = 0;

    if (elements > 0 || r->nframes > 0) {
        for (const redisReadTask *t = task->parent; t != NULL; t = t->parent)
            level++;
        if (r->nframes * (RN_HIREDIS_LAST_LEVEL + 1) + level >= RN_MAX_DEPTH) {
            chain_fail(r, REDIS_ERR_PROTOCOL, "Protocol error: reply nested deeper than "
                       Py_STRINGIFY(RN_MAX_DEPTH) " levels");
            return r;
        }
    }

    if (r->exc == NULL) {
        if (elements < 0) {
            /* hiredis rejects these itself; keep a clean error if it ever
             * stops doing so (it would then parse the array as empty). */
            PyErr_SetString(r->st->InvalidResponse,
                            "Protocol error: negative multi-bulk length");
            return reply_fail(r);
        }
        /* The slots past what the wire has delivered stay NULL until their
         * child arrives; the list is only reachable from r->root (or, through
         * gc.get_objects(), in the usual "under construction" state). */
        PyObject *list = PyList_New(elements < RN_ARRAY_PREALLOC ? elements
                                                                  : RN_ARRAY_PREALLOC);
        if (list == NULL)
            return reply_fail(r);
        result = reply_attach(r, task, list);
    }
    /* Also after a recorded exception: the bytes must still be parsed. */
    if (elements > 0 && level == RN_HIREDIS_LAST_LEVEL)
        push_frame(r, r->exc == NULL ? (PyObject *)result : NULL, elements);
    return result;
}

static void *
cb_integer(const redisReadTask *task, long long value)
{
    rn_reader *r = (rn_reader *)task->privdata;

    if (r->placeholder) {
        /* RN_PLACEHOLDER: the array's children are already in place. */
        r->placeholder = 0;
        return r;
    }
    if (r->exc != NULL)
        return r;
    PyObject *obj = PyLong_FromLongLong(value);
    if (obj == NULL)
        return reply_fail(r);
    return reply_attach(r, task, obj);
}

/* "$-1" and "*-1". */
static void *
cb_nil(const redisReadTask *task)
{
    rn_reader *r = (rn_reader *)task->privdata;

    if (r->exc != NULL)
        return r;
    Py_INCREF(Py_None);
    return reply_attach(r, task, Py_None);
}

/* Nothing to do: see "Ownership model" above. */
static void
cb_free(void *obj)
{
    RN_UNUSED(obj);
}

/* Read-only for hiredis; a table of function pointers, not Python state. */
static redisReplyObjectFunctions rn_reply_functions = {
    cb_string, cb_array, cb_integer, cb_nil, cb_free,
};

/* ------------------------------------------------------------------------
 * rn_reader
 */

/* A hiredis reader calling our callbacks for `r`; NULL when out of memory
 * (no exception set). */
static redisReader *
new_hiredis(rn_reader *r)
{
    redisReader *hr = redisReaderCreateWithFunctions(&rn_reply_functions);
    if (hr != NULL) {
        hr->privdata = r;
        hr->maxbuf = RN_READER_MAXBUF;
    }
    return hr;
}

/* Create the hiredis reader if a reset dropped it.  -1 with MemoryError. */
static int
ensure_hiredis(rn_reader *r)
{
    if (r->hr != NULL)
        return 0;
    r->hr = new_hiredis(r);
    if (r->hr == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Free the chained readers (their objects belong to the reply tree). */
static void
drop_frames(rn_reader *r)
{
    while (r->nframes > 0)
        redisReaderFree(r->frames[--r->nframes].hr);
    r->placeholder = 0;
    r->chain_err = 0;
    r->chain_errstr = NULL;
}

/* Put the first reader into hiredis' error state (what a protocol error in
 * it would have done), so that the checks on r->hr->err see it. */
static void
set_stuck(rn_reader *r, int err, const char *errstr)
{
    r->hr->err = err;
    snprintf(r->hr->errstr, sizeof(r->hr->errstr), "%s", errstr);
}

/* Cut the current reader's buffer to what it has parsed, so that it parses
 * nothing more in this call: it stops where it is, inside the reply. */
static void
cut_reader(redisReader *hr)
{
    sdssetlen(hr->buf, hr->pos);
    hr->buf[hr->pos] = '\0';
    hr->len = hr->pos;
}

/* From a callback: fail the reply once redisReaderGetReply returns (the
 * first failure wins), parsing nothing more meanwhile. */
static void
chain_fail(rn_reader *r, int err, const char *errstr)
{
    if (!r->chain_err) {
        r->chain_err = err;
        r->chain_errstr = errstr;
    }
    cut_reader(top_reader(r));
}

/* Called by cb_array for an array with children at the last level the
 * current reader holds: move the unread bytes to a new chained reader that
 * parses the `elements` children, and stop the current reader there, waiting
 * for the array's first child. */
static void
push_frame(rn_reader *r, PyObject *list, int elements)
{
    redisReader *cur = top_reader(r);
    redisReader *hr = NULL;

    if (r->chain_err || r->nframes >= RN_MAX_FRAMES) {
        /* not reached: cb_array's depth check fails the reply first */
        chain_fail(r, REDIS_ERR_PROTOCOL, "Protocol error: reply nested too deeply");
        return;
    }
    if (r->nframes == r->frames_cap) {
        int cap = r->frames_cap ? r->frames_cap * 2 : 4;
        struct rn_frame *frames = PyMem_Realloc(r->frames, (size_t)cap * sizeof(*frames));
        if (frames == NULL)
            goto oom;
        r->frames = frames;
        r->frames_cap = cap;
    }
    hr = new_hiredis(r);
    if (hr == NULL)
        goto oom;
    if (cur->len > cur->pos
        && redisReaderFeed(hr, cur->buf + cur->pos, cur->len - cur->pos) != REDIS_OK)
        goto oom;
    r->frames[r->nframes++] = (struct rn_frame){
        .hr = hr, .list = list, .next = 0, .elements = elements, .remaining = elements,
    };
    cut_reader(cur);
    return;

oom:
    if (hr != NULL)
        redisReaderFree(hr);
    chain_fail(r, REDIS_ERR_OOM, "Out of memory");
}

/* The innermost frame's array has all its children: close it in the parent
 * reader and give that reader the bytes the frame did not consume.
 * 0, or -1 with chain_err set. */
static int
pop_frame(rn_reader *r)
{
    struct rn_frame *f = &r->frames[r->nframes - 1];
    redisReader *parent = r->nframes > 1 ? r->frames[r->nframes - 2].hr : r->hr;
    int top = RN_HIREDIS_LAST_LEVEL + 1;

    /* The parent stopped where push_frame cut it: on the first child of a
     * level-7 array of f->elements children. */
    if (parent->ridx != top || parent->rstack[top - 1].elements != f->elements
        || parent->rstack[top].idx != 0) {
        r->chain_err = REDIS_ERR_PROTOCOL;
        r->chain_errstr = "Protocol error: chained reply readers out of step";
        return -1;
    }
    parent->rstack[top].idx = f->elements - 1;
    r->placeholder = 1;
    if (redisReaderFeed(parent, RN_PLACEHOLDER, sizeof(RN_PLACEHOLDER) - 1) != REDIS_OK
        || (f->hr->len > f->hr->pos
            && redisReaderFeed(parent, f->hr->buf + f->hr->pos,
                               f->hr->len - f->hr->pos) != REDIS_OK)) {
        r->chain_err = REDIS_ERR_OOM;
        r->chain_errstr = "Out of memory";
        return -1;
    }
    redisReaderFree(f->hr);
    r->nframes--;
    return 0;
}

/* Forget the reply under construction and any recorded exception. */
static void
drop_partial(rn_reader *r)
{
    Py_CLEAR(r->root);
    Py_CLEAR(r->exc);
    Py_CLEAR(r->big);
    r->big_len = r->big_have = 0;
    r->big_crlf = 0;
    r->big_ready = 0;
}

/* Raise the error a hiredis reader is stuck in. */
static void
raise_hiredis_error(rn_reader *r)
{
    const char *msg = r->hr->errstr[0] != '\0' ? r->hr->errstr : "unknown reader error";
    PyObject *exc = r->st->InvalidResponse != NULL ? r->st->InvalidResponse
                                                   : PyExc_RuntimeError;
    if (r->hr->err == REDIS_ERR_OOM)
        PyErr_NoMemory();
    else if (strncmp(msg, "Protocol error", 14) == 0)
        PyErr_SetString(exc, msg);
    else
        PyErr_Format(exc, "Protocol error: %s", msg);
}

static int
raise_busy(void)
{
    PyErr_SetString(PyExc_RuntimeError,
                    "the reply reader is already in use by another call");
    return -1;
}

rn_reader *
rn_reader_new(rn_state *st)
{
    rn_reader *r = PyMem_Calloc(1, sizeof(*r));
    if (r == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    r->st = st;
    if (ensure_hiredis(r) < 0) {
        PyMem_Free(r);
        return NULL;
    }
    return r;
}

void
rn_reader_free(rn_reader *r)
{
    if (r == NULL)
        return;
    /* Never called while busy: the caller of rn_reader_get holds a strong
     * reference to the object that owns the reader. */
    drop_frames(r);
    PyMem_Free(r->frames);
    if (r->hr != NULL)
        redisReaderFree(r->hr);     /* its freeObject is a no-op */
    drop_partial(r);
    PyMem_Free(r->stage);
    PyMem_Free(r);
}

void
rn_reader_reset(rn_reader *r)
{
    if (r == NULL)
        return;
    if (r->busy) {
        /* Called from Python code run by a callback (another thread, a
         * finalizer...): hiredis is in the middle of its buffer, so the
         * reset happens when redisReaderGetReply returns. */
        r->reset_pending = 1;
        return;
    }
    r->reset_pending = 0;
    /* given nothing since it was made or last reset (see below) */
    int untouched = r->fed == 0 && r->nframes == 0 && r->hr != NULL &&
                    r->hr->err == 0 && r->hr->len == 0 && r->hr->ridx == -1;
    drop_frames(r);
    drop_partial(r);
    r->fed = r->consumed = 0;
    r->stage_pos = r->stage_len = 0;
    if (r->stage_cap > RN_READER_MAXBUF) {
        PyMem_Free(r->stage);
        r->stage = NULL;
        r->stage_cap = 0;
    }
    /* A hiredis reader given nothing since it was made is as fresh as a new
     * one: kept (a connection resets its reader at every close, also of a
     * closed connection). */
    if (untouched)
        return;
    /* A fresh hiredis reader is the only public way to clear an error state
     * and drop buffered bytes.  If it cannot be allocated now, the next
     * feed/get retries and raises MemoryError. */
    if (r->hr != NULL) {
        redisReaderFree(r->hr);
        r->hr = NULL;
    }
    /* No exception here: callers reset while raising one of their own. */
    r->hr = new_hiredis(r);
}

/* Room in r->big for at least one more payload byte (it has big_have <
 * big_len): doubles it, up to big_len.  0, or -1 with MemoryError (r->big
 * is then NULL). */
static int
big_room(rn_reader *r)
{
    size_t size = (size_t)PyBytes_GET_SIZE(r->big);
    if (r->big_have < size)
        return 0;
    size_t grown = size < r->big_len / 2 ? size * 2 : r->big_len;
    return _PyBytes_Resize(&r->big, (Py_ssize_t)grown);
}

int
rn_reader_feed(rn_reader *r, const char *buf, size_t len)
{
    if (r->busy)
        return raise_busy();
    if (ensure_hiredis(r) < 0)
        return -1;
    if (r->hr->err) {
        raise_hiredis_error(r);
        return -1;
    }
    if (len == 0)
        return 0;
    redisReader *hr = top_reader(r);
    if (r->big != NULL && !r->big_ready) {
        /* The rest of a big bulk string (when a read went through the input
         * buffer: can_read), then its CRLF, then the empty stand-in. */
        while (len > 0 && r->big_have < r->big_len) {
            if (big_room(r) < 0) {
                drop_partial(r);
                set_stuck(r, REDIS_ERR_OOM, "Out of memory");
                return -1;          /* MemoryError set */
            }
            size_t n = (size_t)PyBytes_GET_SIZE(r->big) - r->big_have;
            if (n > len)
                n = len;
            memcpy(PyBytes_AS_STRING(r->big) + r->big_have, buf, n);
            r->big_have += n;
            buf += n;
            len -= n;
        }
        while (len > 0 && r->big_crlf > 0) {
            if (*buf != "\r\n"[2 - r->big_crlf]) {
                set_stuck(r, REDIS_ERR_PROTOCOL, "Protocol error: bulk string not "
                          "followed by CRLF");
                drop_frames(r);
                drop_partial(r);
                raise_hiredis_error(r);
                return -1;
            }
            r->big_crlf--;
            buf++;
            len--;
        }
        if (r->big_have < r->big_len || r->big_crlf > 0)
            return 0;
        r->big_ready = 1;
        if (redisReaderFeed(hr, "0\r\n\r\n", 5) != REDIS_OK)
            goto oom;
        r->fed += 5;
        if (len == 0)
            return 0;
    }
    if (r->stage_pos == r->stage_len) {
        /* nothing staged: hiredis takes a chunk now, the rest waits */
        size_t n = len < RN_FEED_CHUNK ? len : RN_FEED_CHUNK;
        if (redisReaderFeed(hr, buf, n) != REDIS_OK)
            goto oom;
        r->fed += n;
        buf += n;
        len -= n;
        r->stage_pos = r->stage_len = 0;
        if (len == 0)
            return 0;
    }
    if (r->stage_pos > 0) {         /* keep the staged bytes at the front */
        memmove(r->stage, r->stage + r->stage_pos, r->stage_len - r->stage_pos);
        r->stage_len -= r->stage_pos;
        r->stage_pos = 0;
    }
    if (r->stage_cap - r->stage_len < len) {
        if (len > PY_SSIZE_T_MAX - r->stage_len) {
            PyErr_NoMemory();
            return -1;
        }
        size_t cap = r->stage_len + len;
        char *stage = PyMem_Realloc(r->stage, cap);
        if (stage == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        r->stage = stage;
        r->stage_cap = cap;
    }
    memcpy(r->stage + r->stage_len, buf, len);
    r->stage_len += len;
    r->fed += len;
    return 0;

oom:
    /* OOM: hiredis sets REDIS_ERR_OOM */
    if (hr != r->hr)
        set_stuck(r, hr->err, hr->errstr);
    drop_frames(r);
    drop_partial(r);
    raise_hiredis_error(r);
    return -1;
}

/* Hand hiredis the next chunk of staged bytes.  0, or -1 when hiredis is out
 * of memory (its error state set, nothing raised yet). */
static int
pump(rn_reader *r)
{
    size_t n = r->stage_len - r->stage_pos;
    if (n > RN_FEED_CHUNK)
        n = RN_FEED_CHUNK;
    redisReader *hr = top_reader(r);
    if (redisReaderFeed(hr, r->stage + r->stage_pos, n) != REDIS_OK)
        return -1;
    r->stage_pos += n;
    if (r->stage_pos == r->stage_len)
        r->stage_pos = r->stage_len = 0;
    return 0;
}

int
rn_reader_direct(rn_reader *r, char **dst, size_t *want, PyObject **hold)
{
    if (r->busy || r->hr == NULL || r->hr->err || r->stage_len > r->stage_pos)
        return 0;
    if (r->big == NULL) {
        redisReader *hr = top_reader(r);
        if (hr->ridx < 0 || hr->rstack[hr->ridx].type != REDIS_REPLY_STRING)
            return 0;
        /* hiredis consumed the '$' and waits for "<len>\r\n<payload>\r\n" */
        const char *p = hr->buf + hr->pos;
        size_t avail = hr->len - hr->pos, i = 0;
        unsigned long long len = 0;
        while (i < avail && i < 19 && p[i] >= '0' && p[i] <= '9')
            len = len * 10 + (unsigned long long)(p[i++] - '0');
        if (i == 0 || i + 2 > avail || p[i] != '\r' || p[i + 1] != '\n')
            return 0;       /* nil, garbage (hiredis says so) or not all there */
        if (len < RN_ZEROCOPY_MIN || len > (unsigned long long)PY_SSIZE_T_MAX)
            return 0;
        size_t have = avail - (i + 2);
        if (have >= len)
            return 0;       /* all there: hiredis builds it */
        size_t first = len < RN_BIG_FIRST ? (size_t)len : RN_BIG_FIRST;
        if (first < have + 1)
            first = have + 1;       /* have < len */
        PyObject *big = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)first);
        if (big == NULL)
            return -1;
        memcpy(PyBytes_AS_STRING(big), p + i + 2, have);
        cut_reader(hr);     /* back to just after the '$' */
        r->big = big;
        r->big_len = (size_t)len;
        r->big_have = have;
        r->big_crlf = 2;
        r->big_ready = 0;
    }
    if (r->big_have >= r->big_len)
        return 0;           /* the CRLF and what follows go through feed */
    if (big_room(r) < 0) {
        drop_partial(r);
        return -1;
    }
    *dst = PyBytes_AS_STRING(r->big) + r->big_have;
    *want = (size_t)PyBytes_GET_SIZE(r->big) - r->big_have;
    *hold = Py_NewRef(r->big);
    return 1;
}

void
rn_reader_direct_got(rn_reader *r, PyObject *hold, size_t n)
{
    if (r->big == hold && n <= (size_t)PyBytes_GET_SIZE(r->big) - r->big_have)
        r->big_have += n;
}

/* After a complete reply: give back the memory of a hiredis buffer that grew
 * for a large reply (hiredis itself would only do so at the next feed, and an
 * idle pooled connection would keep it). */
static void
trim_hiredis(redisReader *hr)
{
    if (hr->pos != hr->len || sdsalloc(hr->buf) <= RN_READER_MAXBUF)
        return;
    sds fresh = sdsempty();
    if (fresh == NULL)
        return;             /* keep the big one; hiredis retries at its next feed */
    sdsfree(hr->buf);
    hr->buf = fresh;
    hr->pos = hr->len = 0;
}

int
rn_reader_in_sync(rn_reader *r)
{
    return r != NULL && r->hr != NULL && !r->hr->err;
}

size_t
rn_reader_pending(rn_reader *r)
{
    if (r == NULL || r->hr == NULL || r->hr->err)
        return 0;
    return (size_t)(r->fed - r->consumed);
}

int
rn_reader_get(rn_reader *r, int decode, const char *encoding,
              const char *errors, PyObject **out)
{
    void *reply = NULL;
    int rc;

    if (r->busy)
        return raise_busy();
    if (ensure_hiredis(r) < 0)
        return -1;
    if (r->hr->err) {
        raise_hiredis_error(r);
        return -1;
    }

    r->decode = decode;
    r->encoding = encoding != NULL ? encoding : "utf-8";
    r->errors = errors != NULL ? errors : "strict";
    for (;;) {
        redisReader *hr = top_reader(r);
        int nframes = r->nframes;

        reply = NULL;
        r->busy = 1;
        rc = redisReaderGetReply(hr, &reply);
        r->busy = 0;

        if (r->reset_pending) {
            /* The bytes this call parsed belong to a stream the owner has
             * discarded meanwhile: report nothing. */
            r->encoding = r->errors = NULL;
            rn_reader_reset(r);
            return 0;
        }
        if (rc != REDIS_OK && hr != r->hr)
            set_stuck(r, hr->err, hr->errstr);
        else if (rc == REDIS_OK && r->chain_err) {
            set_stuck(r, r->chain_err, r->chain_errstr);
            rc = REDIS_ERR;
        }
        if (rc != REDIS_OK) {
            /* hiredis has dropped its buffer and task stack (or the first
             * reader is stuck as if it had); the half-built reply is ours
             * to release. */
            r->encoding = r->errors = NULL;
            drop_frames(r);
            drop_partial(r);
            raise_hiredis_error(r);
            return -1;
        }
        if (r->nframes > nframes)
            continue;               /* a chained reader took the rest */
        if (reply == NULL && r->stage_len > r->stage_pos) {
            if (pump(r) < 0) {      /* hiredis out of memory */
                redisReader *top = top_reader(r);
                if (top != r->hr)
                    set_stuck(r, top->err, top->errstr);
                r->encoding = r->errors = NULL;
                drop_frames(r);
                drop_partial(r);
                raise_hiredis_error(r);
                return -1;
            }
            continue;               /* the next chunk */
        }
        if (reply == NULL) {
            r->encoding = r->errors = NULL;
            return 0;               /* incomplete: wait for more bytes */
        }
        if (r->nframes == 0)
            break;                  /* the whole reply */
        /* One more child of the innermost frame's array. */
        if (--r->frames[r->nframes - 1].remaining == 0 && pop_frame(r) < 0) {
            set_stuck(r, r->chain_err, r->chain_errstr);
            r->encoding = r->errors = NULL;
            drop_frames(r);
            drop_partial(r);
            raise_hiredis_error(r);
            return -1;
        }
    }
    r->encoding = r->errors = NULL;

    /* A complete reply: every byte before hiredis' cursor is consumed. */
    unsigned long long before = r->consumed;
    r->consumed = r->fed - (unsigned long long)(r->hr->len - r->hr->pos)
                  - (unsigned long long)(r->stage_len - r->stage_pos);
    if (r->consumed - before > RN_READER_MAXBUF)
        trim_hiredis(r->hr);        /* a large reply: the buffer may have grown */
    if (r->exc != NULL) {
        PyObject *exc = r->exc;
        r->exc = NULL;
        Py_CLEAR(r->root);
        if (PyExceptionInstance_Check(exc)) {
            exc_give(exc);                          /* steals */
        }
        else {
            Py_DECREF(exc);
            PyErr_SetString(PyExc_SystemError, "reply callback failed without an exception");
        }
        return -1;
    }
    /* The root callback stored the same object hiredis hands back. */
    if (r->root == NULL || (void *)r->root != reply) {
        Py_CLEAR(r->root);
        PyErr_SetString(PyExc_SystemError, "reply reader lost track of its reply");
        return -1;
    }
    *out = r->root;                 /* ownership passes to the caller */
    r->root = NULL;
    return 1;
}

PyObject *
rn_reply_lift_conn_error(rn_state *st, PyObject *reply)
{
    if (!PyList_CheckExact(reply) || PyList_GET_SIZE(reply) == 0)
        return reply;
    PyObject *first = PyList_GET_ITEM(reply, 0);
    if (!PyExceptionInstance_Check(first) ||
        !PyObject_TypeCheck(first, (PyTypeObject *)st->ConnectionError))
        return reply;
    Py_INCREF(first);
    Py_DECREF(reply);
    return first;
}

int
rn_reader_traverse(rn_reader *r, visitproc visit, void *arg)
{
    if (r == NULL)
        return 0;
    /* The root owns every list of the reply under construction, including
     * those the chained readers' frames point to (borrowed). */
    Py_VISIT(r->root);
    Py_VISIT(r->exc);
    return 0;
}

/* ------------------------------------------------------------------------
 * _native.Reader: the reader as a Python object, for byte-level tests and
 * fuzzing (API in the style of hiredis-py's Reader).
 */

typedef struct {
    PyObject_HEAD
    rn_reader *reader;
    PyObject *encoding;     /* str, or NULL: return bytes */
    PyObject *errors;       /* str */
} ReaderObject;

static PyObject *
Reader_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"encoding", "errors", NULL};
    PyObject *encoding = Py_None, *errors = Py_None;
    ReaderObject *self = NULL;
    PyObject *codec = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:Reader", kwlist,
                                     &encoding, &errors))
        return NULL;
    if (encoding != Py_None && !PyUnicode_Check(encoding)) {
        PyErr_SetString(PyExc_TypeError, "encoding must be a str or None");
        return NULL;
    }
    if (errors != Py_None && !PyUnicode_Check(errors)) {
        PyErr_SetString(PyExc_TypeError, "errors must be a str or None");
        return NULL;
    }
    rn_state *st = rn_state_from_type(type);
    if (st == NULL)
        return NULL;

    self = (ReaderObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (encoding != Py_None) {
        const char *enc = PyUnicode_AsUTF8(encoding);
        if (enc == NULL)
            goto error;
        /* Unknown codecs fail here, not in the middle of a reply. */
        codec = PyCodec_Decoder(enc);
        if (codec == NULL)
            goto error;
        Py_CLEAR(codec);
        Py_INCREF(encoding);
        self->encoding = encoding;
    }
    if (errors == Py_None) {
        self->errors = PyUnicode_FromString("strict");
        if (self->errors == NULL)
            goto error;
    }
    else {
        const char *err = PyUnicode_AsUTF8(errors);
        if (err == NULL)
            goto error;
        codec = PyCodec_LookupError(err);
        if (codec == NULL)
            goto error;
        Py_CLEAR(codec);
        Py_INCREF(errors);
        self->errors = errors;
    }
    self->reader = rn_reader_new(st);
    if (self->reader == NULL)
        goto error;
    return (PyObject *)self;

error:
    Py_XDECREF(codec);
    Py_DECREF(self);
    return NULL;
}

static int
Reader_traverse(ReaderObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->encoding);
    Py_VISIT(self->errors);
    return rn_reader_traverse(self->reader, visit, arg);
}

static int
Reader_clear(ReaderObject *self)
{
    Py_CLEAR(self->encoding);
    Py_CLEAR(self->errors);
    if (self->reader != NULL)
        rn_reader_reset(self->reader);
    return 0;
}

static void
Reader_dealloc(ReaderObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->encoding);
    Py_CLEAR(self->errors);
    rn_reader_free(self->reader);
    self->reader = NULL;
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* feed(data, offset=0, length=-1): append bytes from any buffer. */
static PyObject *
Reader_feed(ReaderObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "offset", "length", NULL};
    Py_buffer view;
    Py_ssize_t offset = 0, length = -1;
    PyObject *result = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|nn:feed", kwlist,
                                     &view, &offset, &length))
        return NULL;
    if (offset < 0 || offset > view.len) {
        PyErr_SetString(PyExc_ValueError, "offset is out of range");
        goto done;
    }
    if (length == -1)
        length = view.len - offset;
    if (length < 0 || length > view.len - offset) {
        PyErr_SetString(PyExc_ValueError, "length is out of range");
        goto done;
    }
    if (rn_reader_feed(self->reader, (const char *)view.buf + offset, (size_t)length) < 0)
        goto done;
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

/* gets(decode=True): the next reply, or False when it is not complete yet.
 * An error reply is returned as the exception instance; protocol errors
 * raise InvalidResponse.  decode=False returns bytes even when the reader
 * has an encoding (redis-py's disable_decoding). */
static PyObject *
Reader_gets(ReaderObject *self, PyObject *args)
{
    int decode = 1;
    PyObject *reply = NULL;
    const char *enc = NULL, *err = NULL;

    if (!PyArg_ParseTuple(args, "|p:gets", &decode))
        return NULL;
    if (self->encoding == NULL)
        decode = 0;
    if (decode) {
        if ((enc = PyUnicode_AsUTF8(self->encoding)) == NULL)
            return NULL;
        if ((err = PyUnicode_AsUTF8(self->errors)) == NULL)
            return NULL;
    }
    int rc = rn_reader_get(self->reader, decode, enc, err, &reply);
    if (rc < 0)
        return NULL;
    if (rc == 0)
        Py_RETURN_FALSE;
    return reply;
}

static PyObject *
Reader_has_data(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(rn_reader_pending(self->reader) > 0);
}

static PyObject *
Reader_pending(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSize_t(rn_reader_pending(self->reader));
}

static PyObject *
Reader_reset(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    rn_reader_reset(self->reader);
    Py_RETURN_NONE;
}

static PyMethodDef Reader_methods[] = {
    {"feed", (PyCFunction)(void (*)(void))Reader_feed, METH_VARARGS | METH_KEYWORDS,
     "feed(data, offset=0, length=-1)\n\nAppend bytes read from the server."},
    {"gets", (PyCFunction)Reader_gets, METH_VARARGS,
     "gets(decode=True) -> reply or False\n\n"
     "The next complete reply (an error reply is returned as an exception "
     "instance), or False when more bytes are needed."},
    {"has_data", (PyCFunction)Reader_has_data, METH_NOARGS,
     "True when fed bytes are not yet consumed by a returned reply."},
    {"pending", (PyCFunction)Reader_pending, METH_NOARGS,
     "Number of fed bytes not yet consumed by a returned reply."},
    {"reset", (PyCFunction)Reader_reset, METH_NOARGS,
     "Drop buffered bytes, any half-read reply and any protocol error state."},
    {NULL, NULL, 0, NULL}
};

static PyType_Slot Reader_slots[] = {
    {Py_tp_new, Reader_new},
    {Py_tp_dealloc, Reader_dealloc},
    {Py_tp_traverse, Reader_traverse},
    {Py_tp_clear, Reader_clear},
    {Py_tp_methods, Reader_methods},
    {Py_tp_doc, "Reader(encoding=None, errors='strict')\n\n"
                "RESP2 reply parser fed with raw bytes (hiredis-py style)."},
    {0, NULL}
};

PyType_Spec rn_reader_type_spec = {
    .name = "redis_native._native.Reader",
    .basicsize = sizeof(ReaderObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Reader_slots,
};

void
rn_reader_raw_errors(rn_reader *r, int on)
{
    r->raw_errors = on;
}
