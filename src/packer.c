/* Command packing: Python arguments -> RESP2 "*N\r\n$len\r\n<arg>\r\n...".
 *
 * The encoding rules are redis-py's Encoder.encode, checked in this order:
 *   bytes (and subclasses), memoryview    sent as they are
 *   bool                                  DataError (it is an int subclass)
 *   int, float (and subclasses)           repr(); an exact int is written
 *                                         in decimal directly (same text)
 *   str (and subclasses)                  .encode(encoding, errors)
 *   anything else                         DataError naming the type
 * and the first argument follows redis-py's PythonRespSerializer.pack: a str
 * is always encoded as UTF-8 (not with the client encoding) and split on ASCII
 * whitespace (bytes.split()), so "CONFIG GET" becomes two arguments; bytes are
 * split the same way only when they contain a space.
 *
 * One pass over the arguments; the buffer grows geometrically and is reused
 * by the connection across commands.  Allocation is PyMem_Raw*, so the
 * connection may write the buffer out with the GIL released.
 */
#include "packer.h"

#include <limits.h>
#include <string.h>

/* Smallest allocation of a buffer, to skip the first few doublings. */
#define RN_BUF_MIN 256

/* Enough for "$" + 20 digits + "\r\n" ... "\r\n". */
#define RN_BULK_OVERHEAD 32

void
rn_buf_init(rn_buf *b)
{
    memset(b, 0, sizeof *b);
}

void
rn_segs_release(rn_segs *s, int keep)
{
    while (s->n > keep)
        PyBuffer_Release(&s->items[--s->n].view);
}

void
rn_segs_clear(rn_segs *s)
{
    rn_segs_release(s, 0);
    PyMem_Free(s->items);
    s->items = NULL;
    s->cap = 0;
}

void
rn_buf_free(rn_buf *b)
{
    PyMem_RawFree(b->data);
    rn_buf_init(b);
}

int
rn_buf_reserve(rn_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > (size_t)PY_SSIZE_T_MAX - b->len) {
        PyErr_NoMemory();
        return -1;
    }
    size_t need = b->len + extra;
    size_t cap = b->cap < RN_BUF_MIN ? RN_BUF_MIN : b->cap;
    while (cap < need)
        cap = cap <= (size_t)PY_SSIZE_T_MAX / 2 ? cap * 2 : need;
    char *data = PyMem_RawRealloc(b->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

void
rn_buf_trim(rn_buf *b, size_t keep)
{
    if (b->cap <= keep)
        return;
    size_t cap = b->len > keep ? b->len : keep;
    if (cap == 0) {
        rn_buf_free(b);
        return;
    }
    if (cap >= b->cap)
        return;
    /* A failed shrink leaves the (valid) larger block in place. */
    char *data = PyMem_RawRealloc(b->data, cap);
    if (data != NULL) {
        b->data = data;
        b->cap = cap;
    }
}

/* ------------------------------------------------------------------------
 * Writing helpers.  The caller has reserved the room.
 */

/* Decimal digits of `v` at `p`; returns the end. */
static char *
put_uint(char *p, unsigned long long v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Text of a signed value into `out` (at least 21 bytes); returns the length. */
static size_t
format_ll(char *out, long long v)
{
    char *p = out;
    unsigned long long u = (unsigned long long)v;
    if (v < 0) {
        *p++ = '-';
        u = 0ULL - u;                  /* well defined for LLONG_MIN too */
    }
    return (size_t)(put_uint(p, u) - out);
}

/* "$<n>\r\n<data>\r\n" */
static int
put_bulk(rn_buf *b, const char *data, size_t n)
{
    if (rn_buf_reserve(b, n + RN_BULK_OVERHEAD) < 0)
        return -1;
    char *p = b->data + b->len;
    *p++ = '$';
    p = put_uint(p, n);
    *p++ = '\r';
    *p++ = '\n';
    if (n > 0)
        memcpy(p, data, n);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    b->len = (size_t)(p - b->data);
    return 0;
}

/* "$<n>\r\n", then the bytes of `view` as a segment (written from the
 * caller's memory), then "\r\n".  Steals the view (released on failure too). */
static int
put_bulk_seg(rn_buf *b, Py_buffer *view)
{
    size_t n = (size_t)view->len;
    rn_segs *sg = b->segs;
    if (sg->n == sg->cap) {
        int cap = sg->cap ? 2 * sg->cap : 4;
        rn_seg *items = sg->cap < INT_MAX / 4
            ? PyMem_Realloc(sg->items, (size_t)cap * sizeof *items) : NULL;
        if (items == NULL) {
            PyBuffer_Release(view);
            PyErr_NoMemory();
            return -1;
        }
        sg->items = items;
        sg->cap = cap;
    }
    if (rn_buf_reserve(b, RN_BULK_OVERHEAD) < 0) {
        PyBuffer_Release(view);
        return -1;
    }
    char *p = b->data + b->len;
    *p++ = '$';
    p = put_uint(p, n);
    *p++ = '\r';
    *p++ = '\n';
    sg->items[sg->n].at = (size_t)(p - b->data);
    sg->items[sg->n].view = *view;
    sg->n++;
    *p++ = '\r';
    *p++ = '\n';
    b->len = (size_t)(p - b->data);
    return 0;
}

/* ------------------------------------------------------------------------
 * Encoding of one argument
 */

/* Encoding names that mean UTF-8 to Python's codec registry for the names
 * people actually pass; anything else goes through the codec machinery
 * (which has its own fast paths). */
static int
is_utf8_name(const char *enc)
{
    return enc != NULL && (strcmp(enc, "utf-8") == 0 || strcmp(enc, "utf8") == 0 ||
                           strcmp(enc, "UTF-8") == 0 || strcmp(enc, "UTF8") == 0 ||
                           strcmp(enc, "utf_8") == 0);
}

/* The bytes of a str: pure ASCII text under a UTF-8 encoding is the str's own
 * storage (borrowed, *tmp stays NULL); otherwise a new bytes object in *tmp
 * keeps the data alive.  `utf8` says the encoding is UTF-8. */
static int
str_bytes(PyObject *s, int utf8, const char *encoding, const char *errors,
          PyObject **tmp, const char **data, size_t *n)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0)
        return -1;
#endif
    if (utf8 && PyUnicode_IS_ASCII(s)) {
        *data = (const char *)PyUnicode_DATA(s);
        *n = (size_t)PyUnicode_GET_LENGTH(s);
        return 0;
    }
    if (utf8 && strcmp(errors, "strict") == 0)
        *tmp = PyUnicode_AsUTF8String(s);
    else
        *tmp = PyUnicode_AsEncodedString(s, encoding, errors);
    if (*tmp == NULL)
        return -1;
    if (!PyBytes_Check(*tmp)) {
        PyErr_Format(PyExc_TypeError, "encoder returned '%.200s' instead of 'bytes'",
                     Py_TYPE(*tmp)->tp_name);
        return -1;
    }
    *data = PyBytes_AS_STRING(*tmp);
    *n = (size_t)PyBytes_GET_SIZE(*tmp);
    return 0;
}

static void
raise_data_error(rn_state *st, PyObject *value)
{
    PyObject *name = PyType_GetName(Py_TYPE(value));   /* type(value).__name__ */
    if (name == NULL)
        return;
    PyErr_Format(st->DataError,
                 "Invalid input of type: '%U'. Convert to a bytes, string, int or "
                 "float first.", name);
    Py_DECREF(name);
}

/* repr(value).encode() as one bulk string (int subclasses, floats). */
static int
put_repr(rn_buf *b, PyObject *value)
{
    PyObject *text = PyObject_Repr(value);
    if (text == NULL)
        return -1;
    PyObject *tmp = NULL;
    const char *data;
    size_t n;
    int rc = str_bytes(text, 1, "utf-8", "strict", &tmp, &data, &n);
    if (rc == 0)
        rc = put_bulk(b, data, n);
    Py_XDECREF(tmp);
    Py_DECREF(text);
    return rc;
}

/* Append one encoded argument. */
static int
put_arg(rn_state *st, rn_buf *b, PyObject *v, int utf8,
        const char *encoding, const char *errors)
{
    /* Most frequent types first; the order of the isinstance checks below
     * matches redis-py for every type. */
    if (PyBytes_Check(v)) {
        if (b->segs != NULL && PyBytes_GET_SIZE(v) >= RN_ZEROCOPY_MIN) {
            Py_buffer view;         /* holds a reference to v */
            if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0)
                return -1;
            return put_bulk_seg(b, &view);
        }
        return put_bulk(b, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
    }
    if (PyUnicode_Check(v)) {
        PyObject *tmp = NULL;
        const char *data;
        size_t n;
        int rc = str_bytes(v, utf8, encoding, errors, &tmp, &data, &n);
        if (rc == 0)
            rc = put_bulk(b, data, n);
        Py_XDECREF(tmp);
        return rc;
    }
    if (PyLong_CheckExact(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred())
            return -1;
        if (overflow)
            return put_repr(b, v);     /* big int: str() == repr() */
        char text[24];
        return put_bulk(b, text, format_ll(text, x));
    }
    if (PyFloat_CheckExact(v)) {
        /* repr(float), without the str object. */
        char *text = PyOS_double_to_string(PyFloat_AS_DOUBLE(v), 'r', 0,
                                           Py_DTSF_ADD_DOT_0, NULL);
        if (text == NULL)
            return -1;
        int rc = put_bulk(b, text, strlen(text));
        PyMem_Free(text);
        return rc;
    }
    if (PyMemoryView_Check(v)) {
        /* Any C-contiguous view, whatever its format: the bytes it covers. */
        Py_buffer view;
        if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0)
            return -1;
        if (b->segs != NULL && view.len >= RN_ZEROCOPY_MIN)
            return put_bulk_seg(b, &view);  /* the export pins a bytearray's size */
        int rc = put_bulk(b, (const char *)view.buf, (size_t)view.len);
        PyBuffer_Release(&view);
        return rc;
    }
    if (PyBool_Check(v)) {
        raise_data_error(st, v);
        return -1;
    }
    if (PyLong_Check(v) || PyFloat_Check(v))
        return put_repr(b, v);         /* subclasses: their own __repr__ */
    raise_data_error(st, v);
    return -1;
}

/* ------------------------------------------------------------------------
 * The first argument
 */

static int
is_ascii_space(char c)
{
    /* bytes.split() whitespace */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static Py_ssize_t
count_words(const char *p, size_t n)
{
    Py_ssize_t words = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_ascii_space(p[i]))
            i++;
        if (i == n)
            break;
        words++;
        while (i < n && !is_ascii_space(p[i]))
            i++;
    }
    return words;
}

static int
put_words(rn_buf *b, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && is_ascii_space(p[i]))
            i++;
        if (i == n)
            break;
        size_t start = i;
        while (i < n && !is_ascii_space(p[i]))
            i++;
        if (put_bulk(b, p + start, i - start) < 0)
            return -1;
    }
    return 0;
}

int
rn_pack_command(rn_state *st, rn_buf *b, PyObject *const *args,
                Py_ssize_t nargs, const char *encoding, const char *errors)
{
    const size_t start = b->len;
    const int start_segs = b->segs != NULL ? b->segs->n : 0;
    PyObject *first_tmp = NULL;     /* new ref keeping `first` alive, or NULL */
    const char *first = NULL;       /* bytes of a first argument to split */
    size_t first_len = 0;
    Py_ssize_t first_words = 1;     /* arguments the first one turns into */
    Py_ssize_t i;

    if (encoding == NULL)
        encoding = "utf-8";
    if (errors == NULL)
        errors = "strict";
    const int utf8 = is_utf8_name(encoding);

    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "a command needs at least one argument");
        return -1;
    }

    /* redis-py: a str command is always .encode()d (UTF-8, strict) and
     * split(); a bytes command only when it contains a space. */
    if (PyUnicode_Check(args[0])) {
        if (str_bytes(args[0], 1, "utf-8", "strict", &first_tmp, &first, &first_len) < 0)
            goto error;
        first_words = count_words(first, first_len);
    }
    else if (PyBytes_Check(args[0]) &&
             memchr(PyBytes_AS_STRING(args[0]), ' ', (size_t)PyBytes_GET_SIZE(args[0]))) {
        first = PyBytes_AS_STRING(args[0]);
        first_len = (size_t)PyBytes_GET_SIZE(args[0]);
        first_words = count_words(first, first_len);
    }

    /* "*N\r\n" */
    if (rn_buf_reserve(b, RN_BULK_OVERHEAD) < 0)
        goto error;
    {
        char *p = b->data + b->len;
        *p++ = '*';
        p = put_uint(p, (unsigned long long)(first_words + nargs - 1));
        *p++ = '\r';
        *p++ = '\n';
        b->len = (size_t)(p - b->data);
    }

    if (first != NULL) {
        if (put_words(b, first, first_len) < 0)
            goto error;
        i = 1;
    }
    else
        i = 0;
    for (; i < nargs; i++) {
        if (put_arg(st, b, args[i], utf8, encoding, errors) < 0)
            goto error;
    }
    Py_XDECREF(first_tmp);
    return 0;

error:
    Py_XDECREF(first_tmp);
    b->len = start;
    if (b->segs != NULL)
        rn_segs_release(b->segs, start_segs);
    return -1;
}

PyObject *
rn_pack_to_bytes(rn_state *st, PyObject *const *args, Py_ssize_t nargs,
                 const char *encoding, const char *errors)
{
    rn_buf b;
    PyObject *result = NULL;

    rn_buf_init(&b);
    if (rn_pack_command(st, &b, args, nargs, encoding, errors) == 0)
        result = PyBytes_FromStringAndSize(b.data, (Py_ssize_t)b.len);
    rn_buf_free(&b);
    return result;
}

int
rn_encode_arg(rn_state *st, rn_buf *b, PyObject *v, const char *encoding, const char *errors)
{
    const size_t start = b->len;
    if (encoding == NULL)
        encoding = "utf-8";
    if (errors == NULL)
        errors = "strict";
    if (put_arg(st, b, v, is_utf8_name(encoding), encoding, errors) < 0) {
        b->len = start;
        return -1;
    }
    /* drop the "$<n>\r\n" header and the trailing "\r\n" put_arg framed it with */
    char *p = b->data + start;
    char *nl = memchr(p, '\n', b->len - start);
    size_t header = (size_t)(nl - p) + 1;
    size_t n = b->len - start - header - 2;
    memmove(p, p + header, n);
    b->len = start + n;
    return 0;
}
