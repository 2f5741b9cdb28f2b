/* Cluster pipelines in C: the two steps of ClusterPipeline.execute() that run
 * for every command (redis_native/cluster.py, section "ClusterPipeline").
 *
 *   _route_stack(pipe, commands)  groups queued commands by the node of their
 *                                 keys' slot, with the C router's rules
 *   _roundtrip_many(pairs)        one packed write per node, all nodes'
 *                                 replies awaited at once (connection.c,
 *                                 rn_conn_roundtrip_many)
 *
 * Everything else -- commands the router leaves to Python, redirections,
 * retries, transactions -- is Python, shaped like redis-py's ClusterPipeline.
 */
#include "module.h"
#include "connection.h"
#include "cluster.h"

/* One node's group while routing: the node (strong), and the positions and
 * commands of its share of the stack (strong lists). */
typedef struct {
    PyObject *node;
    PyObject *indices;
    PyObject *commands;
} rn_group;

static void
groups_free(rn_group *g, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(g[i].node);
        Py_XDECREF(g[i].indices);
        Py_XDECREF(g[i].commands);
    }
    PyMem_Free(g);
}

/* _route_stack(pipe, commands) -> (groups, unrouted)
 *
 * `commands` is a list of (args, options) pairs.  groups: a list of
 * [node, [positions], [commands]] (nodes in first-seen order, compared by
 * identity); unrouted: the positions of the commands Python routes (an
 * explicit target_nodes, a command the router does not know, replica reads,
 * ...).  When the stand-in rule says a routing method of `pipe` was replaced,
 * every command is left to Python. */
static PyObject *
route_stack(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_route_stack(pipe, commands) takes 2 arguments");
        return NULL;
    }
    PyObject *pipe = args[0], *commands = args[1];
    if (!PyObject_TypeCheck(pipe, st->ClusterType)) {
        PyErr_SetString(PyExc_TypeError, "_route_stack(): pipe must be a cluster client");
        return NULL;
    }
    if (!PyList_Check(commands)) {
        PyErr_SetString(PyExc_TypeError, "_route_stack(): commands must be a list");
        return NULL;
    }
    /* a tuple of our own: encoding a key may run Python code (a float
     * subclass's __repr__), which must not pull items from under us */
    PyObject *stack = PyList_AsTuple(commands);
    if (stack == NULL)
        return NULL;
    int routing = rn_stands_in(st, pipe, RN_KIND_CLUSTER);
    Py_ssize_t ngroups = 0, cap = 4, last = -1;
    PyObject *unrouted = PyList_New(0), *groups = NULL, *result = NULL;
    rn_group *g = PyMem_Calloc((size_t)cap, sizeof(rn_group));
    if (unrouted == NULL || g == NULL) {
        if (g == NULL)
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(stack); i++) {
        PyObject *item = PyTuple_GET_ITEM(stack, i);     /* borrowed from stack */
        PyObject *node = NULL;
        int rc = 0;
        if (routing && PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2 &&
            PyTuple_Check(PyTuple_GET_ITEM(item, 0)) && PyDict_Check(PyTuple_GET_ITEM(item, 1))) {
            PyObject *cargs = PyTuple_GET_ITEM(item, 0);
            PyObject *options = PyTuple_GET_ITEM(item, 1);
            int targeted = PyDict_GET_SIZE(options) > 0
                ? PyDict_Contains(options, st->s_target_nodes) : 0;
            if (targeted < 0)
                goto done;
            if (!targeted) {
                rc = rn_cluster_route((rn_cluster *)pipe, &PyTuple_GET_ITEM(cargs, 0),
                                      PyTuple_GET_SIZE(cargs), &node);
                if (rc < 0)
                    goto done;
            }
        }
        if (rc == 0) {
            PyObject *pos = PyLong_FromSsize_t(i);
            if (pos == NULL || PyList_Append(unrouted, pos) < 0) {
                Py_XDECREF(pos);
                goto done;
            }
            Py_DECREF(pos);
            continue;
        }
        /* the node's group: the last one used, else a scan (few nodes) */
        Py_ssize_t k = last;
        if (k < 0 || g[k].node != node) {
            for (k = 0; k < ngroups && g[k].node != node; k++)
                ;
            if (k == ngroups) {
                if (ngroups == cap) {
                    rn_group *bigger = PyMem_Realloc(g, sizeof(rn_group) * (size_t)cap * 2);
                    if (bigger == NULL) {
                        Py_DECREF(node);
                        PyErr_NoMemory();
                        goto done;
                    }
                    memset(bigger + cap, 0, sizeof(rn_group) * (size_t)cap);
                    g = bigger;
                    cap *= 2;
                }
                g[k].node = Py_NewRef(node);
                g[k].indices = PyList_New(0);
                g[k].commands = PyList_New(0);
                ngroups++;
                if (g[k].indices == NULL || g[k].commands == NULL) {
                    Py_DECREF(node);
                    goto done;
                }
            }
        }
        Py_DECREF(node);            /* the group holds it */
        last = k;
        PyObject *pos = PyLong_FromSsize_t(i);
        if (pos == NULL || PyList_Append(g[k].indices, pos) < 0 ||
            PyList_Append(g[k].commands, item) < 0) {
            Py_XDECREF(pos);
            goto done;
        }
        Py_DECREF(pos);
    }
    if ((groups = PyList_New(ngroups)) == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < ngroups; k++) {
        PyObject *entry = PyList_New(3);
        if (entry == NULL)
            goto done;
        PyList_SET_ITEM(entry, 0, Py_NewRef(g[k].node));
        PyList_SET_ITEM(entry, 1, Py_NewRef(g[k].indices));
        PyList_SET_ITEM(entry, 2, Py_NewRef(g[k].commands));
        PyList_SET_ITEM(groups, k, entry);
    }
    result = PyTuple_Pack(2, groups, unrouted);

done:
    Py_DECREF(stack);
    if (g != NULL)
        groups_free(g, ngroups);
    Py_XDECREF(groups);
    Py_XDECREF(unrouted);
    return result;
}

/* _roundtrip_many(pairs): see rn_conn_roundtrip_many (connection.h). */
static PyObject *
roundtrip_many(PyObject *module, PyObject *pairs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    return rn_conn_roundtrip_many(st, pairs);
}

/* _share_router(dst, src): dst routes with src's tables (slot table, key
 * positions, read commands: the same objects, never mutated in place by C),
 * without converting the key positions again.  Both are cluster clients. */
static PyObject *
share_router(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (nargs != 2 || !PyObject_TypeCheck(args[0], st->ClusterType) ||
        !PyObject_TypeCheck(args[1], st->ClusterType)) {
        PyErr_SetString(PyExc_TypeError, "_share_router(dst, src) takes two cluster clients");
        return NULL;
    }
    rn_cluster *dst = (rn_cluster *)args[0], *src = (rn_cluster *)args[1];
    Py_XSETREF(dst->slot_table, Py_XNewRef(src->slot_table));
    Py_XSETREF(dst->key_specs, Py_XNewRef(src->key_specs));
    Py_XSETREF(dst->read_commands, Py_XNewRef(src->read_commands));
    Py_RETURN_NONE;
}

PyMethodDef rn_cluster_pipe_methods[] = {
    {"_share_router", (PyCFunction)(void (*)(void))share_router, METH_FASTCALL,
     "_share_router(dst, src)\n--\n\nMake cluster client `dst` route with the tables of `src`."},
    {"_route_stack", (PyCFunction)(void (*)(void))route_stack, METH_FASTCALL,
     "_route_stack(pipe, commands)\n--\n\n(groups, unrouted): the queued (args, options) "
     "commands grouped by the primary of their keys' slot as [node, positions, commands], "
     "and the positions of those Python must route."},
    {"_roundtrip_many", (PyCFunction)roundtrip_many, METH_O,
     "_roundtrip_many(pairs)\n--\n\nSend each (Connection, commands) pair's commands in one "
     "write and read all replies, every socket at once with the GIL released; one entry per "
     "pair: the raw replies, or the exception that ended that connection's exchange."},
    {NULL, NULL, 0, NULL}
};
