/* Redis Cluster in C (cluster.h): CRC16 key hashing, _native.SlotTable and
 * _native.ClusterBase.execute_command, the per-command router of RedisCluster.
 *
 * The router takes a command only when it can do all of redis-py's routing
 * for it without Python:
 *   - the client's routing methods are redis_native's own (the stand-in rule,
 *     kind RN_KIND_CLUSTER: a subclass or patch of _execute_command,
 *     determine_slot, keyslot... sends every command through Python);
 *   - no target_nodes/nodes_flag keyword;
 *   - the command name is in key_specs (filled by RedisCluster from COMMAND:
 *     commands with fixed key positions, no routing flag, no policy), and no
 *     cluster response callback is registered for it;
 *   - with reads from replicas enabled, it is not a read command (replica
 *     choice and load balancing stay in Python);
 *   - its keys all hash to one slot and that slot has a primary whose
 *     redis_connection is set.
 * Then the command runs through the primary's Redis client (its own C
 * execute_command: pool, retry, callbacks), and the result is returned.  Any
 * other command goes to RedisCluster._internal_execute_command with the same
 * arguments; an exception from the node (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, a
 * connection error, or a plain error reply) goes to
 * RedisCluster._resume_command(node, error, *args, **kwargs), which handles it
 * exactly as redis-py's retry loop would have after that first attempt.
 *
 * All of it runs with the GIL held and calls no Python code between reading
 * a slot's list and taking a reference to its node, so a topology refresh in
 * another thread is seen either wholly or not at all.
 */
#include "cluster.h"
#include "packer.h"
#include "pool.h"

#include <string.h>
#include "structmember.h"

/* ------------------------------------------------------------------ CRC16 */

static const unsigned short crc16_table[256] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
    0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
    0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
    0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
    0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
    0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
    0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
    0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
    0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
    0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
    0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
    0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
    0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
    0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
    0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
    0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
    0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
    0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
    0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
    0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
    0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
    0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
    0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
    0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
    0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
    0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
    0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
    0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
    0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
    0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
    0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
    0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

unsigned int
rn_crc16(const char *buf, size_t len)
{
    unsigned int crc = 0;
    const unsigned char *p = (const unsigned char *)buf;
    for (size_t i = 0; i < len; i++)
        crc = ((crc << 8) ^ crc16_table[((crc >> 8) ^ p[i]) & 0xff]) & 0xffff;
    return crc;
}

/* The part of a key that is hashed: the text between the first '{' and the
 * first '}' after it, when that is not empty; else the whole key. */
static void
hash_tag(const char **key, size_t *len)
{
    const char *k = *key;
    const char *open = memchr(k, '{', *len);
    if (open == NULL)
        return;
    size_t rest = *len - (size_t)(open - k) - 1;
    const char *close = memchr(open + 1, '}', rest);
    if (close == NULL || close == open + 1)
        return;
    *key = open + 1;
    *len = (size_t)(close - open - 1);
}

unsigned int
rn_key_hash_slot(const char *key, size_t len)
{
    hash_tag(&key, &len);
    return rn_crc16(key, len) & (RN_CLUSTER_SLOTS - 1);
}

/* key_slot(key, bucket=16384): redis.crc.key_slot. */
static PyObject *
mod_key_slot(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"key", "bucket"};
    PyObject *vals[2] = {NULL, NULL};
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    RN_UNUSED(module);
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "key_slot() takes at most 2 arguments (%zd given)",
                     nargs + nkw);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        vals[i] = args[i];
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i);
        int j = -1;
        for (int n = 0; n < 2; n++)
            if (PyUnicode_CompareWithASCIIString(k, names[n]) == 0)
                j = n;
        if (j < 0) {
            PyErr_Format(PyExc_TypeError, "key_slot() got an unexpected keyword argument '%S'", k);
            return NULL;
        }
        if (vals[j] != NULL) {
            PyErr_Format(PyExc_TypeError, "key_slot() got multiple values for argument '%s'",
                         names[j]);
            return NULL;
        }
        vals[j] = args[nargs + i];
    }
    if (vals[0] == NULL) {
        PyErr_SetString(PyExc_TypeError, "key_slot() missing required argument: 'key'");
        return NULL;
    }
    if (PyUnicode_Check(vals[0]) || !PyObject_CheckBuffer(vals[0])) {
        PyErr_Format(PyExc_TypeError,
                     "key_slot() takes an encoded key (bytes), not '%.100s'",
                     Py_TYPE(vals[0])->tp_name);
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(vals[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const char *k = view.buf;
    size_t len = (size_t)view.len;
    hash_tag(&k, &len);
    unsigned int crc = rn_crc16(k, len);
    PyBuffer_Release(&view);
    PyObject *c = PyLong_FromUnsignedLong(crc);
    if (c == NULL || vals[1] == NULL) {
        if (c != NULL) {
            PyObject *r = PyLong_FromUnsignedLong(crc & (RN_CLUSTER_SLOTS - 1));
            Py_DECREF(c);
            return r;
        }
        return NULL;
    }
    /* any other bucket: Python's own %, as redis-py computes it */
    PyObject *r = PyNumber_Remainder(c, vals[1]);
    Py_DECREF(c);
    return r;
}

PyMethodDef rn_cluster_methods[] = {
    {"key_slot", (PyCFunction)(void (*)(void))mod_key_slot, METH_FASTCALL | METH_KEYWORDS,
     "key_slot(key, bucket=16384)\n--\n\n"
     "The Redis Cluster hash slot of an encoded key (CRC16 of the key or of its "
     "{hash tag}, modulo bucket)."},
    {NULL, NULL, 0, NULL}
};

/* ------------------------------------------------------------ SlotTable */

/* The slot number `key` names, or -1 (no exception set) when it names none. */
static long
slot_index(PyObject *key)
{
    if (!PyLong_Check(key))
        return -1;
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(key, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (overflow || v < 0 || v >= RN_CLUSTER_SLOTS)
        return -1;
    return v;
}

static PyObject *
slot_table_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    RN_UNUSED(args);
    RN_UNUSED(kwargs);
    rn_slot_table *self = (rn_slot_table *)type->tp_alloc(type, 0);   /* zero-filled */
    if (self == NULL)
        return NULL;
    self->module = Py_XNewRef(rn_module_from_type(type));
    return (PyObject *)self;
}

static int
slot_table_traverse(rn_slot_table *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    for (int i = 0; i < RN_CLUSTER_SLOTS; i++)
        Py_VISIT(self->slots[i]);
    return 0;
}

/* Empty every slot.  The lists are released after the table is empty, so a
 * list's destructor running Python code never sees a half-cleared table. */
static int
slot_table_clear_all(rn_slot_table *self)
{
    PyObject **old = PyMem_Malloc(sizeof(PyObject *) * RN_CLUSTER_SLOTS);
    if (old == NULL) {
        /* cannot defer: release in place (still consistent slot by slot) */
        for (int i = 0; i < RN_CLUSTER_SLOTS; i++) {
            PyObject *v = self->slots[i];
            self->slots[i] = NULL;
            if (v != NULL)
                self->covered--;
            Py_XDECREF(v);
        }
        self->covered = 0;
        return 0;
    }
    memcpy(old, self->slots, sizeof(PyObject *) * RN_CLUSTER_SLOTS);
    memset(self->slots, 0, sizeof(PyObject *) * RN_CLUSTER_SLOTS);
    self->covered = 0;
    for (int i = 0; i < RN_CLUSTER_SLOTS; i++)
        Py_XDECREF(old[i]);
    PyMem_Free(old);
    return 0;
}

static int
slot_table_tp_clear(rn_slot_table *self)
{
    for (int i = 0; i < RN_CLUSTER_SLOTS; i++)
        Py_CLEAR(self->slots[i]);
    self->covered = 0;
    return 0;
}

static void
slot_table_dealloc(rn_slot_table *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    slot_table_tp_clear(self);
    Py_CLEAR(self->module);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static Py_ssize_t
slot_table_length(rn_slot_table *self)
{
    return self->covered;
}

static PyObject *
slot_table_getitem(rn_slot_table *self, PyObject *key)
{
    long i = slot_index(key);
    if (i < 0 || self->slots[i] == NULL) {
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    return Py_NewRef(self->slots[i]);
}

static int
slot_table_setitem(rn_slot_table *self, PyObject *key, PyObject *value)
{
    long i = slot_index(key);
    if (value == NULL) {
        if (i < 0 || self->slots[i] == NULL) {
            PyErr_SetObject(PyExc_KeyError, key);
            return -1;
        }
        PyObject *old = self->slots[i];
        self->slots[i] = NULL;
        self->covered--;
        Py_DECREF(old);
        return 0;
    }
    if (i < 0) {
        PyErr_Format(PyExc_KeyError,
                     "slot numbers are ints from 0 to %d, not %R", RN_CLUSTER_SLOTS - 1, key);
        return -1;
    }
    if (!PyList_Check(value)) {
        PyErr_Format(PyExc_TypeError, "a slot maps to a list of ClusterNode, not '%.100s'",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    PyObject *old = self->slots[i];
    self->slots[i] = Py_NewRef(value);
    if (old == NULL)
        self->covered++;
    Py_XDECREF(old);
    return 0;
}

static int
slot_table_contains(rn_slot_table *self, PyObject *key)
{
    long i = slot_index(key);
    return i >= 0 && self->slots[i] != NULL;
}

static PyObject *
slot_table_iter(rn_slot_table *self)
{
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    for (int i = 0; i < RN_CLUSTER_SLOTS; i++) {
        if (self->slots[i] == NULL)
            continue;
        PyObject *n = PyLong_FromLong(i);
        if (n == NULL || PyList_Append(list, n) < 0) {
            Py_XDECREF(n);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(n);
    }
    PyObject *it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

/* replace(mapping): the whole table at once, from a dict {slot: list}.
 * Everything is checked before anything changes. */
static PyObject *
slot_table_replace(rn_slot_table *self, PyObject *mapping)
{
    if (!PyDict_Check(mapping)) {
        PyErr_Format(PyExc_TypeError, "replace() takes a dict {slot: [ClusterNode...]}, not '%.100s'",
                     Py_TYPE(mapping)->tp_name);
        return NULL;
    }
    PyObject **fresh = PyMem_Calloc(RN_CLUSTER_SLOTS, sizeof(PyObject *));
    if (fresh == NULL)
        return PyErr_NoMemory();
    Py_ssize_t pos = 0, covered = 0;
    PyObject *k, *v;
    while (PyDict_Next(mapping, &pos, &k, &v)) {
        long i = slot_index(k);
        if (i < 0) {
            PyErr_Format(PyExc_KeyError,
                         "slot numbers are ints from 0 to %d, not %R", RN_CLUSTER_SLOTS - 1, k);
            goto error;
        }
        if (!PyList_Check(v)) {
            PyErr_Format(PyExc_TypeError, "a slot maps to a list of ClusterNode, not '%.100s'",
                         Py_TYPE(v)->tp_name);
            goto error;
        }
        if (fresh[i] == NULL)
            covered++;
        Py_XSETREF(fresh[i], Py_NewRef(v));
    }
    /* swap, then release the old lists */
    for (int i = 0; i < RN_CLUSTER_SLOTS; i++) {
        PyObject *old = self->slots[i];
        self->slots[i] = fresh[i];
        fresh[i] = old;
    }
    self->covered = covered;
    for (int i = 0; i < RN_CLUSTER_SLOTS; i++)
        Py_XDECREF(fresh[i]);
    PyMem_Free(fresh);
    Py_RETURN_NONE;

error:
    for (int i = 0; i < RN_CLUSTER_SLOTS; i++)
        Py_XDECREF(fresh[i]);
    PyMem_Free(fresh);
    return NULL;
}

static PyObject *
slot_table_clear_method(rn_slot_table *self, PyObject *unused)
{
    RN_UNUSED(unused);
    slot_table_clear_all(self);
    Py_RETURN_NONE;
}

static PyMethodDef slot_table_methods[] = {
    {"replace", (PyCFunction)slot_table_replace, METH_O,
     "replace(mapping)\n--\n\nMake the table hold exactly the dict {slot: [nodes]}, in one step."},
    {"clear", (PyCFunction)slot_table_clear_method, METH_NOARGS,
     "clear()\n--\n\nEmpty every slot."},
    {NULL, NULL, 0, NULL}
};

static PyMemberDef slot_table_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(rn_slot_table, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}
};

static PyType_Slot slot_table_slots[] = {
    {Py_tp_new, slot_table_new},
    {Py_tp_dealloc, slot_table_dealloc},
    {Py_tp_traverse, slot_table_traverse},
    {Py_tp_clear, slot_table_tp_clear},
    {Py_tp_iter, slot_table_iter},
    {Py_tp_methods, slot_table_methods},
    {Py_tp_members, slot_table_members},
    {Py_mp_length, slot_table_length},
    {Py_mp_subscript, slot_table_getitem},
    {Py_mp_ass_subscript, slot_table_setitem},
    {Py_sq_contains, slot_table_contains},
    {Py_tp_doc, "Slot number -> list of ClusterNode (primary first): the routing table "
                "the C router reads."},
    {0, NULL}
};

PyType_Spec rn_slot_table_type_spec = {
    .name = "redis_native._native.SlotTable",
    .basicsize = sizeof(rn_slot_table),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = slot_table_slots,
};

/* ---------------------------------------------------------- ClusterBase */

/* Key positions of a command, packed into one int: first (1..32767), last
 * (-32768..32767, negative counts from the end as in COMMAND), step
 * (1..32767).  Step 0 is the EVAL form: args[first - 1] holds the number of
 * keys, which follow from args[first] (last is then unused, 0). */
static int
pack_spec(PyObject *spec, long long *out)
{
    long v[3];
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 3) {
        PyErr_SetString(PyExc_TypeError, "a key spec is a tuple (first, last, step)");
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        PyObject *x = PyTuple_GET_ITEM(spec, i);
        if (!PyLong_Check(x) || PyBool_Check(x)) {
            PyErr_SetString(PyExc_TypeError, "key spec positions are ints");
            return -1;
        }
        v[i] = PyLong_AsLong(x);
        if (v[i] == -1 && PyErr_Occurred())
            return -1;
    }
    int numkeys_form = v[2] == 0 && v[1] == 0 && v[0] >= 2;
    if (v[0] < 1 || v[0] > 32767 || v[1] < -32768 || v[1] > 32767 ||
        (v[2] < 1 && !numkeys_form) || v[2] > 32767) {
        PyErr_Format(PyExc_ValueError, "key spec out of range: %R", spec);
        return -1;
    }
    *out = (long long)v[0] | ((long long)(v[1] & 0xffff) << 16) | ((long long)v[2] << 32);
    return 0;
}

static void
unpack_spec(long long p, Py_ssize_t *first, Py_ssize_t *last, Py_ssize_t *step)
{
    *first = (Py_ssize_t)(p & 0xffff);
    *last = (Py_ssize_t)(short)((p >> 16) & 0xffff);
    *step = (Py_ssize_t)((p >> 32) & 0xffff);
}

static int
name_is(PyObject *k, PyObject *interned)
{
    return k == interned || PyUnicode_Compare(k, interned) == 0;
}

static int
is_utf8(PyObject *enc)
{
    const char *e = enc != NULL ? PyUnicode_AsUTF8(enc) : NULL;
    if (e == NULL) {
        PyErr_Clear();
        return 0;
    }
    return strcmp(e, "utf-8") == 0 || strcmp(e, "utf8") == 0 || strcmp(e, "UTF-8") == 0 ||
           strcmp(e, "UTF8") == 0 || strcmp(e, "utf_8") == 0;
}

/* The slot of one key, encoded as redis-py's Encoder would.  0 or -1 with an
 * exception set (DataError for a key of the wrong type). */
static int
key_slot_of(rn_cluster *self, PyObject *key, rn_buf *scratch, unsigned int *slot)
{
    if (PyBytes_Check(key)) {
        *slot = rn_key_hash_slot(PyBytes_AS_STRING(key), (size_t)PyBytes_GET_SIZE(key));
        return 0;
    }
    if (PyUnicode_CheckExact(key) && self->encoding_utf8 &&
#if PY_VERSION_HEX < 0x030C0000
        PyUnicode_READY(key) == 0 &&
#endif
        PyUnicode_IS_ASCII(key)) {
        *slot = rn_key_hash_slot((const char *)PyUnicode_DATA(key),
                                 (size_t)PyUnicode_GET_LENGTH(key));
        return 0;
    }
    const char *enc = PyUnicode_AsUTF8(self->encoding);
    const char *errs = enc != NULL ? PyUnicode_AsUTF8(self->encoding_errors) : NULL;
    if (errs == NULL)
        return -1;
    scratch->len = 0;
    if (rn_encode_arg(self->st, scratch, key, enc, errs) < 0)
        return -1;
    *slot = rn_key_hash_slot(scratch->data != NULL ? scratch->data : "", scratch->len);
    return 0;
}

/* `obj.<name>` is a bound method of the function `builtin` (so neither the
 * instance nor its class replaced it): 1, else 0.  Never leaves an error. */
static int
method_is(PyObject *obj, PyObject *name, PyObject *builtin)
{
    PyObject *bound = PyObject_GetAttr(obj, name);
    if (bound == NULL) {
        PyErr_Clear();
        return 0;
    }
    int same = PyMethod_Check(bound) && PyMethod_GET_FUNCTION(bound) == builtin &&
               PyMethod_GET_SELF(bound) == obj;
    Py_DECREF(bound);
    return same;
}

/* The index into `nodes` ([primary, replica...], more than one) that
 * redis-py's NodesManager.get_node_from_slot would pick for a read: its
 * LoadBalancer's round robin per primary, kept in the same
 * `primary_to_idx` dict, so the Python paths and this one share the turn.
 * 1 with *index set, 0 when Python must choose (a replaced method, a
 * balancer state it does not recognise), -1 on error.  Without the
 * balancer's lock: with the GIL held the read-and-advance below is not
 * interleaved with another C reader, and a Python reader interleaving costs
 * at most one repeated turn. */
static int
balanced_index(rn_cluster *self, PyObject *nodes, Py_ssize_t *index)
{
    rn_state *st = self->st;
    if (self->replica_router == NULL)
        return 0;
    /* held: the lookups below run Python code, which may replace it */
    PyObject *router = Py_NewRef(self->replica_router);
    PyObject *nm = PyTuple_GET_ITEM(router, 0);
    PyObject *lb = NULL, *turns = NULL, *start = NULL, *primary_name = NULL;
    int rc = 0;
    if (!method_is(nm, st->s_get_node_from_slot, PyTuple_GET_ITEM(router, 1)))
        goto done;
    if ((lb = PyObject_GetAttr(nm, st->s_read_load_balancer)) == NULL)
        goto python;
    if (!method_is(lb, st->s_get_server_index, PyTuple_GET_ITEM(router, 2)))
        goto done;
    if ((turns = PyObject_GetAttr(lb, st->s_primary_to_idx)) == NULL ||
        (start = PyObject_GetAttr(lb, st->s_start_index)) == NULL)
        goto python;
    /* the lookups above ran Python code: the list may have changed */
    if (PyList_GET_SIZE(nodes) < 2)
        goto done;
    PyObject *primary = Py_NewRef(PyList_GET_ITEM(nodes, 0));
    primary_name = PyObject_GetAttr(primary, st->s_name);
    Py_DECREF(primary);
    if (primary_name == NULL)
        goto python;
    if (!PyDict_CheckExact(turns) || !PyLong_CheckExact(start) ||
        !PyUnicode_CheckExact(primary_name))
        goto done;
    Py_ssize_t n = PyList_GET_SIZE(nodes);
    PyObject *cur = PyDict_GetItemWithError(turns, primary_name);   /* borrowed */
    if (cur == NULL && PyErr_Occurred()) {
        rc = -1;
        goto done;
    }
    PyObject *turn = cur != NULL ? cur : start;
    if (!PyLong_CheckExact(turn))
        goto done;
    Py_ssize_t i = PyLong_AsSsize_t(turn);
    if (i == -1 && PyErr_Occurred())
        goto python;
    if (self->lb_mode == RN_LB_ROUND_ROBIN_REPLICAS && i == 0)
        i = 1;                      /* the primary's turn is skipped */
    if (i < 0 || i >= n || PyList_GET_SIZE(nodes) != n)
        goto done;                  /* out of range, or the list changed: Python decides */
    PyObject *next = PyLong_FromSsize_t((i + 1) % n);
    if (next == NULL || PyDict_SetItem(turns, primary_name, next) < 0) {
        Py_XDECREF(next);
        rc = -1;
        goto done;
    }
    Py_DECREF(next);
    *index = i;
    rc = 1;
    goto done;

python:
    PyErr_Clear();
    rc = 0;
done:
    Py_XDECREF(lb);
    Py_XDECREF(turns);
    Py_XDECREF(start);
    Py_XDECREF(primary_name);
    Py_DECREF(router);
    return rc;
}

/* Find the node for a command.  1: *node is its primary (new reference);
 * 0: not for the C router (no exception); -1: error (a key that cannot be
 * encoded). */
static int
route(rn_cluster *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
      PyObject **node)
{
    rn_state *st = self->st;
    *node = NULL;
    if (nargs < 2 || self->slot_table == NULL || self->key_specs == NULL)
        return 0;
    if (kwnames != NULL) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
            PyObject *k = PyTuple_GET_ITEM(kwnames, i);
            if (name_is(k, st->s_target_nodes) || name_is(k, st->s_nodes_flag))
                return 0;
        }
    }
    PyObject *name = args[0];
    if (!PyUnicode_CheckExact(name))
        return 0;
    PyObject *spec = PyDict_GetItemWithError(self->key_specs, name);   /* borrowed */
    if (spec == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (self->cluster_callbacks == NULL || !PyDict_Check(self->cluster_callbacks))
        return 0;
    if (PyDict_GET_SIZE(self->cluster_callbacks) > 0) {
        PyObject *cb = PyDict_GetItemWithError(self->cluster_callbacks, name);
        if (cb != NULL)
            return 0;
        if (PyErr_Occurred())
            return -1;
    }
    int balanced = 0;               /* a read to spread over the slot's nodes */
    if (self->replica_reads) {
        if (self->read_commands == NULL)
            return 0;
        int is_read = PySet_Contains(self->read_commands, name);
        if (is_read < 0)
            return -1;
        if (is_read) {
            if (self->lb_mode == RN_LB_PYTHON || self->replica_router == NULL)
                return 0;
            balanced = 1;
        }
    }

    long long packed = PyLong_AsLongLong(spec);
    if (packed == -1 && PyErr_Occurred())
        return -1;
    Py_ssize_t first, last, step;
    unpack_spec(packed, &first, &last, &step);
    if (step == 0) {
        /* EVAL/EVALSHA: an int key count before the keys; 0 keys (a random
         * slot), other count types and short argument lists are Python's */
        if (first > nargs || !PyLong_CheckExact(args[first - 1]))
            return 0;
        Py_ssize_t n = PyLong_AsSsize_t(args[first - 1]);
        if (n == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        if (n <= 0 || n > nargs - first)
            return 0;
        last = first + n - 1;
        step = 1;
    }
    else if (last < 0)
        last = nargs + last;
    if (first > last || last >= nargs)
        return 0;             /* no key, or too few arguments: Python says why */

    rn_buf scratch;
    rn_buf_init(&scratch);
    unsigned int slot = 0, s;
    int rc = 1;
    for (Py_ssize_t pos = first; pos <= last; pos += step) {
        if (key_slot_of(self, args[pos], &scratch, &s) < 0) {
            rc = -1;
            break;
        }
        if (pos == first)
            slot = s;
        else if (s != slot) {
            rc = 0;           /* cross-slot: Python raises redis-py's error */
            break;
        }
    }
    rn_buf_free(&scratch);
    if (rc <= 0)
        return rc;
    /* encoding a key may have run Python code (an int subclass's __repr__)
     * that replaced the table: read it only now */
    if (self->slot_table == NULL)
        return 0;

    PyObject *nodes = ((rn_slot_table *)self->slot_table)->slots[slot];   /* borrowed */
    if (nodes == NULL || PyList_GET_SIZE(nodes) == 0)
        return 0;             /* not covered: Python refreshes or raises */
    Py_ssize_t index = 0;
    if (balanced && PyList_GET_SIZE(nodes) > 1) {
        Py_INCREF(nodes);     /* the balancer runs Python lookups */
        rc = balanced_index(self, nodes, &index);
        /* the lookups ran Python code: another thread may have shortened
         * the list (a failover seen through MOVED) */
        if (rc > 0 && index >= PyList_GET_SIZE(nodes))
            rc = 0;
        if (rc > 0)
            *node = Py_NewRef(PyList_GET_ITEM(nodes, index));
        Py_DECREF(nodes);
        return rc;
    }
    *node = Py_NewRef(PyList_GET_ITEM(nodes, 0));
    return 1;
}

/* self.<method>(*prefix, *args, **kwargs) with the vectorcall arguments of
 * the call being handled. */
static PyObject *
call_method_with(rn_cluster *self, PyObject *method, PyObject *const *prefix, Py_ssize_t nprefix,
                 PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_ssize_t total = 1 + nprefix + nargs + nkw;
    PyObject *small[24];
    PyObject **buf = total + 1 <= 24 ? small : PyMem_Malloc(sizeof(PyObject *) * (size_t)(total + 1));
    if (buf == NULL)
        return PyErr_NoMemory();
    PyObject **stack = buf + 1;      /* buf[0] is free: PY_VECTORCALL_ARGUMENTS_OFFSET */
    stack[0] = (PyObject *)self;
    for (Py_ssize_t i = 0; i < nprefix; i++)
        stack[1 + i] = prefix[i];
    memcpy(stack + 1 + nprefix, args, sizeof(PyObject *) * (size_t)(nargs + nkw));
    PyObject *r = PyObject_VectorcallMethod(
        method, stack, (size_t)(1 + nprefix + nargs) | PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames);
    if (buf != small)
        PyMem_Free(buf);
    return r;
}

/* The node client's own command path: ClientBase.execute_command(client,
 * *args, **kwargs), whatever its class or a patch (a tracer's wrapper) puts
 * under the name execute_command.  redis-py talks to the node through
 * send_command/parse_response and never calls the node client's
 * execute_command, so a wrapper there must not see cluster traffic.  A node
 * client that is no ClientBase is called by name. */
static PyObject *
run_on_node(rn_state *st, PyObject *client, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_ssize_t total = 1 + nargs + nkw;
    PyObject *small[24];
    PyObject **buf = total + 1 <= 24 ? small : PyMem_Malloc(sizeof(PyObject *) * (size_t)(total + 1));
    if (buf == NULL)
        return PyErr_NoMemory();
    /* a strong reference: the call may run code that replaces the attribute */
    PyObject *impl = PyObject_TypeCheck(client, st->ClientType)
        ? Py_XNewRef(_PyType_Lookup(st->ClientType, st->s_execute_command)) : NULL;
    PyObject **stack = buf + 1;
    stack[0] = client;
    memcpy(stack + 1, args, sizeof(PyObject *) * (size_t)(nargs + nkw));
    PyObject *r = impl != NULL
        ? PyObject_Vectorcall(impl, stack, (size_t)(1 + nargs) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                              kwnames)
        : PyObject_VectorcallMethod(
              st->s_execute_command, stack, (size_t)(1 + nargs) | PY_VECTORCALL_ARGUMENTS_OFFSET,
              kwnames);
    Py_XDECREF(impl);
    if (buf != small)
        PyMem_Free(buf);
    return r;
}

/* execute_command(*args, **kwargs) */
static PyObject *
cluster_execute_command(rn_cluster *self, PyObject *const *args, size_t nargsf,
                        PyObject *kwnames)
{
    rn_state *st = self->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *node = NULL, *client = NULL, *result;

    if (!rn_stands_in(st, (PyObject *)self, RN_KIND_CLUSTER))
        goto python;
    int routed = route(self, args, nargs, kwnames, &node);
    if (routed < 0)
        return NULL;
    if (routed == 0)
        goto python;
    client = PyObject_GetAttr(node, st->s_redis_connection);
    if (client == NULL || client == Py_None) {
        PyErr_Clear();
        Py_XDECREF(client);
        Py_DECREF(node);
        goto python;
    }
    result = run_on_node(st, client, args, nargs, kwnames);
    Py_DECREF(client);
    if (result == NULL && PyErr_ExceptionMatches(PyExc_Exception)) {
        /* the first attempt failed: the rest of redis-py's loop, in Python */
        PyObject *err = rn_err_take();
        PyObject *prefix[2] = {node, err};
        result = call_method_with(self, st->s_resume_command, prefix, 2, args, nargs, kwnames);
        Py_DECREF(err);
    }
    Py_DECREF(node);
    return result;

python:
    return call_method_with(self, st->s_internal_execute, NULL, 0, args, nargs, kwnames);
}

/* _keyslot(key): the slot of a key under the client's encoding. */
static PyObject *
cluster_keyslot(rn_cluster *self, PyObject *key)
{
    rn_buf scratch;
    unsigned int slot;
    rn_buf_init(&scratch);
    int rc = key_slot_of(self, key, &scratch, &slot);
    rn_buf_free(&scratch);
    return rc < 0 ? NULL : PyLong_FromUnsignedLong(slot);
}

/* _partition_keys(keys): {slot: [key, ...]} in first-seen order. */
static PyObject *
cluster_partition_keys(rn_cluster *self, PyObject *keys)
{
    PyObject *seq = PySequence_Fast(keys, "keys must be iterable");
    if (seq == NULL)
        return NULL;
    PyObject *out = PyDict_New();
    rn_buf scratch;
    rn_buf_init(&scratch);
    if (out == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        /* held: encoding may run Python code that changes the list */
        PyObject *key = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
        unsigned int slot;
        if (key_slot_of(self, key, &scratch, &slot) < 0) {
            Py_DECREF(key);
            goto error;
        }
        PyObject *n = PyLong_FromUnsignedLong(slot);
        if (n == NULL) {
            Py_DECREF(key);
            goto error;
        }
        PyObject *list = PyDict_GetItemWithError(out, n);
        if (list == NULL) {
            if (PyErr_Occurred() || (list = PyList_New(0)) == NULL ||
                PyDict_SetItem(out, n, list) < 0) {
                Py_XDECREF(list);
                Py_DECREF(n);
                Py_DECREF(key);
                goto error;
            }
            Py_DECREF(list);     /* the dict holds it */
        }
        Py_DECREF(n);
        int appended = PyList_Append(list, key);
        Py_DECREF(key);
        if (appended < 0)
            goto error;
    }
    rn_buf_free(&scratch);
    Py_DECREF(seq);
    return out;

error:
    rn_buf_free(&scratch);
    Py_XDECREF(out);
    Py_DECREF(seq);
    return NULL;
}

static PyObject *
cluster_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    RN_UNUSED(args);
    RN_UNUSED(kwargs);
    rn_state *st = rn_state_from_type(type);
    if (st == NULL)
        return NULL;
    rn_cluster *self = (rn_cluster *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->module = Py_XNewRef(rn_module_from_type(type));
    self->st = st;
    self->read_from_replicas = Py_NewRef(Py_False);
    self->load_balancing_strategy = Py_NewRef(Py_None);
    self->encoding = Py_NewRef(st->s_utf8);
    self->encoding_errors = Py_NewRef(st->s_strict);
    self->encoding_utf8 = 1;
    if ((self->key_specs = PyDict_New()) == NULL ||
        (self->cluster_callbacks = PyDict_New()) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
cluster_traverse(rn_cluster *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    Py_VISIT(self->slot_table);
    Py_VISIT(self->key_specs);
    Py_VISIT(self->read_commands);
    Py_VISIT(self->replica_router);
    Py_VISIT(self->cluster_callbacks);
    Py_VISIT(self->read_from_replicas);
    Py_VISIT(self->load_balancing_strategy);
    Py_VISIT(self->encoding);
    Py_VISIT(self->encoding_errors);
    return 0;
}

static int
cluster_clear(rn_cluster *self)
{
    Py_CLEAR(self->slot_table);
    Py_CLEAR(self->key_specs);
    Py_CLEAR(self->read_commands);
    Py_CLEAR(self->replica_router);
    Py_CLEAR(self->cluster_callbacks);
    Py_CLEAR(self->read_from_replicas);
    Py_CLEAR(self->load_balancing_strategy);
    Py_CLEAR(self->encoding);
    Py_CLEAR(self->encoding_errors);
    return 0;
}

static void
cluster_dealloc(rn_cluster *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    cluster_clear(self);
    Py_CLEAR(self->module);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* -- attributes: typed, validated setters -- */

static PyObject *
get_or_none(PyObject *v)
{
    return Py_NewRef(v != NULL ? v : Py_None);
}

static PyObject *
cluster_get_slot_table(rn_cluster *self, void *closure)
{
    RN_UNUSED(closure);
    return get_or_none(self->slot_table);
}

static int
cluster_set_slot_table(rn_cluster *self, PyObject *value, void *closure)
{
    RN_UNUSED(closure);
    if (value == NULL || value == Py_None) {
        Py_CLEAR(self->slot_table);
        return 0;
    }
    if (!PyObject_TypeCheck(value, self->st->SlotTableType)) {
        PyErr_Format(PyExc_TypeError, "_slot_table must be a SlotTable or None, not '%.100s'",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    Py_XSETREF(self->slot_table, Py_NewRef(value));
    return 0;
}

static PyObject *
cluster_get_key_specs(rn_cluster *self, void *closure)
{
    RN_UNUSED(closure);
    PyObject *out = PyDict_New();
    if (out == NULL || self->key_specs == NULL)
        return out;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(self->key_specs, &pos, &k, &v)) {
        Py_ssize_t first, last, step;
        unpack_spec(PyLong_AsLongLong(v), &first, &last, &step);
        PyObject *t = Py_BuildValue("(nnn)", first, last, step);
        if (t == NULL || PyDict_SetItem(out, k, t) < 0) {
            Py_XDECREF(t);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(t);
    }
    return out;
}

static int
cluster_set_key_specs(rn_cluster *self, PyObject *value, void *closure)
{
    RN_UNUSED(closure);
    if (value == NULL || !PyDict_Check(value)) {
        PyErr_SetString(PyExc_TypeError,
                        "_key_specs must be a dict {command name: (first, last, step)}");
        return -1;
    }
    PyObject *packed = PyDict_New();
    if (packed == NULL)
        return -1;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(value, &pos, &k, &v)) {
        long long p;
        if (!PyUnicode_CheckExact(k)) {
            PyErr_SetString(PyExc_TypeError, "_key_specs keys are command names (str)");
            goto error;
        }
        if (pack_spec(v, &p) < 0)
            goto error;
        PyObject *n = PyLong_FromLongLong(p);
        if (n == NULL || PyDict_SetItem(packed, k, n) < 0) {
            Py_XDECREF(n);
            goto error;
        }
        Py_DECREF(n);
    }
    Py_XSETREF(self->key_specs, packed);
    return 0;

error:
    Py_DECREF(packed);
    return -1;
}

static PyObject *
cluster_get_read_commands(rn_cluster *self, void *closure)
{
    RN_UNUSED(closure);
    return get_or_none(self->read_commands);
}

static int
cluster_set_read_commands(rn_cluster *self, PyObject *value, void *closure)
{
    RN_UNUSED(closure);
    if (value == NULL || value == Py_None) {
        Py_CLEAR(self->read_commands);
    Py_CLEAR(self->replica_router);
        return 0;
    }
    if (!PyAnySet_Check(value)) {
        PyErr_Format(PyExc_TypeError, "_read_commands must be a set or frozenset, not '%.100s'",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    Py_XSETREF(self->read_commands, Py_NewRef(value));
    return 0;
}

static PyObject *
cluster_get_lb_mode(rn_cluster *self, void *closure)
{
    RN_UNUSED(closure);
    return PyLong_FromLong(self->lb_mode);
}

static PyObject *
cluster_get_replica_router(rn_cluster *self, void *closure)
{
    RN_UNUSED(closure);
    return get_or_none(self->replica_router);
}

static int
cluster_set_replica_router(rn_cluster *self, PyObject *value, void *closure)
{
    RN_UNUSED(closure);
    if (value == NULL || value == Py_None) {
        Py_CLEAR(self->replica_router);
        return 0;
    }
    if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 3 ||
        !PyFunction_Check(PyTuple_GET_ITEM(value, 1)) ||
        !PyFunction_Check(PyTuple_GET_ITEM(value, 2))) {
        PyErr_SetString(PyExc_TypeError,
                        "_replica_router is (nodes_manager, get_node_from_slot function, "
                        "get_server_index function) or None");
        return -1;
    }
    Py_XSETREF(self->replica_router, Py_NewRef(value));
    return 0;
}

static PyObject *
cluster_get_obj(rn_cluster *self, void *closure)
{
    PyObject *v = *(PyObject **)((char *)self + (size_t)closure);
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "attribute was deleted");
        return NULL;
    }
    return Py_NewRef(v);
}

/* cluster_response_callbacks: any object (the router only reads dicts) */
static int
cluster_set_obj(rn_cluster *self, PyObject *value, void *closure)
{
    PyObject **slot = (PyObject **)((char *)self + (size_t)closure);
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "this attribute cannot be deleted");
        return -1;
    }
    Py_XSETREF(*slot, Py_NewRef(value));
    return 0;
}

/* replica_reads and lb_mode from read_from_replicas and
 * load_balancing_strategy, as NodesManager.get_node_from_slot reads them: a
 * strategy wins; read_from_replicas alone means ROUND_ROBIN. */
static int
update_replica_reads(rn_cluster *self)
{
    int rfr = PyObject_IsTrue(self->read_from_replicas);
    if (rfr < 0)
        return -1;
    PyObject *lbs = self->load_balancing_strategy;
    int mode = rfr ? RN_LB_ROUND_ROBIN : RN_LB_PRIMARY;
    if (lbs != Py_None) {
        mode = RN_LB_PYTHON;
        PyObject *v = PyObject_GetAttr(lbs, self->st->s_value);   /* an Enum member's value */
        if (v == NULL)
            PyErr_Clear();
        else {
            if (PyUnicode_Check(v) && PyUnicode_CompareWithASCIIString(v, "round_robin") == 0)
                mode = RN_LB_ROUND_ROBIN;
            else if (PyUnicode_Check(v) &&
                     PyUnicode_CompareWithASCIIString(v, "round_robin_replicas") == 0)
                mode = RN_LB_ROUND_ROBIN_REPLICAS;
            Py_DECREF(v);
        }
    }
    self->lb_mode = mode;
    self->replica_reads = mode != RN_LB_PRIMARY;
    return 0;
}

/* read_from_replicas / load_balancing_strategy: any object, as in redis-py;
 * whether replicas may serve reads is recomputed on every change. */
static int
cluster_set_routing(rn_cluster *self, PyObject *value, void *closure)
{
    PyObject **slot = (PyObject **)((char *)self + (size_t)closure);
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "this attribute cannot be deleted");
        return -1;
    }
    PyObject *old = *slot;
    *slot = Py_NewRef(value);
    if (update_replica_reads(self) < 0) {
        *slot = old;
        Py_DECREF(value);
        return -1;
    }
    Py_XDECREF(old);
    return 0;
}

static int
cluster_set_str(rn_cluster *self, PyObject *value, void *closure)
{
    PyObject **slot = (PyObject **)((char *)self + (size_t)closure);
    if (value == NULL || !PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "the key encoding and its error handler are str");
        return -1;
    }
    if (PyUnicode_AsUTF8(value) == NULL)
        return -1;
    Py_XSETREF(*slot, Py_NewRef(value));
    self->encoding_utf8 = is_utf8(self->encoding);
    return 0;
}

static PyGetSetDef cluster_getset[] = {
    {"_slot_table", (getter)cluster_get_slot_table, (setter)cluster_set_slot_table,
     "the SlotTable the router reads (NodesManager.slots_cache)", NULL},
    {"_key_specs", (getter)cluster_get_key_specs, (setter)cluster_set_key_specs,
     "{command name: (first, last, step)}: the commands the router routes by their keys", NULL},
    {"_read_commands", (getter)cluster_get_read_commands, (setter)cluster_set_read_commands,
     "names of read commands (routed in Python while replicas may serve reads)", NULL},
    {"_replica_router", (getter)cluster_get_replica_router, (setter)cluster_set_replica_router,
     "(nodes_manager, NodesManager.get_node_from_slot, LoadBalancer.get_server_index): "
     "where reads from replicas take their turn", NULL},
    {"_lb_mode", (getter)cluster_get_lb_mode, NULL, "how reads pick a node (RN_LB_*)", NULL},
    {"cluster_response_callbacks", (getter)cluster_get_obj, (setter)cluster_set_obj, NULL,
     (void *)offsetof(rn_cluster, cluster_callbacks)},
    {"read_from_replicas", (getter)cluster_get_obj, (setter)cluster_set_routing, NULL,
     (void *)offsetof(rn_cluster, read_from_replicas)},
    {"load_balancing_strategy", (getter)cluster_get_obj, (setter)cluster_set_routing, NULL,
     (void *)offsetof(rn_cluster, load_balancing_strategy)},
    {"_key_encoding", (getter)cluster_get_obj, (setter)cluster_set_str, NULL,
     (void *)offsetof(rn_cluster, encoding)},
    {"_key_encoding_errors", (getter)cluster_get_obj, (setter)cluster_set_str, NULL,
     (void *)offsetof(rn_cluster, encoding_errors)},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyMethodDef cluster_methods[] = {
    {"execute_command", (PyCFunction)(void (*)(void))cluster_execute_command,
     METH_FASTCALL | METH_KEYWORDS,
     "execute_command(self, *args, **kwargs)\n--\n\nRun one command on the node(s) it "
     "belongs to and return its result, as redis-py's RedisCluster does."},
    {"_keyslot", (PyCFunction)cluster_keyslot, METH_O,
     "_keyslot(key)\n--\n\nThe hash slot of `key` encoded with the client's encoding."},
    {"_partition_keys", (PyCFunction)cluster_partition_keys, METH_O,
     "_partition_keys(keys)\n--\n\n{slot: [keys]} in the order the keys come."},
    {NULL, NULL, 0, NULL}
};

static PyMemberDef cluster_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(rn_cluster, weakreflist), READONLY, NULL},
    {"_overridden", T_INT, offsetof(rn_cluster, overridden), READONLY,
     "an instance attribute replaces a routing method: commands go through Python"},
    {NULL, 0, 0, 0, NULL}
};

static int
cluster_setattro(rn_cluster *self, PyObject *name, PyObject *value)
{
    return rn_setattro_tracking((PyObject *)self, self->st, name, value, &self->overridden,
                                RN_KIND_CLUSTER);
}

static PyType_Slot cluster_slots[] = {
    {Py_tp_setattro, cluster_setattro},
    {Py_tp_new, cluster_new},
    {Py_tp_dealloc, cluster_dealloc},
    {Py_tp_traverse, cluster_traverse},
    {Py_tp_clear, cluster_clear},
    {Py_tp_methods, cluster_methods},
    {Py_tp_getset, cluster_getset},
    {Py_tp_members, cluster_members},
    {Py_tp_doc, "C base of redis_native.cluster.RedisCluster: per-command routing."},
    {0, NULL}
};

PyType_Spec rn_cluster_type_spec = {
    .name = "redis_native._native.ClusterBase",
    .basicsize = sizeof(rn_cluster),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = cluster_slots,
};

/* For cluster pipelines (cluster_pipe.c): route() with the arguments of a
 * queued command, no keyword arguments.  See cluster.h. */
int
rn_cluster_route(rn_cluster *self, PyObject *const *args, Py_ssize_t nargs, PyObject **node)
{
    return route(self, args, nargs, NULL, node);
}
