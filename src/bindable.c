/* _native.BindableMethod: a C method that binds like a Python function.
 *
 * The C methods user code reaches as `client.execute_command` are method
 * descriptors: `r.execute_command` is then a bound built-in, for which
 * inspect.ismethod() is False and which has no __func__.  Tracers that wrap
 * one client's method (wrapt, OpenTelemetry's instrument_client) find no
 * instance behind it.  redis-py's is a Python function, bound as a
 * types.MethodType.
 *
 * A BindableMethod wraps such a descriptor.  Read through an instance it
 * gives a types.MethodType (instance, __func__, ismethod()); read through
 * the class it gives itself.  It carries Py_TPFLAGS_METHOD_DESCRIPTOR, so
 * the interpreter's method calls (`self.execute_command(...)` in every
 * command method) still call it unbound with the instance first, without
 * building a bound object: one extra indirect call per command.  Its name,
 * qualified name, doc and text signature are the wrapped method's, and
 * __wrapped__ is the method itself. */
#include "module.h"
#include "structmember.h"

typedef struct {
    PyObject_HEAD
    PyObject *func;                 /* the wrapped callable (strong) */
    vectorcallfunc vectorcall;
} rn_bindable;

static PyObject *
bindable_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *func = ((rn_bindable *)self)->func;
    if (func == NULL) {             /* cleared by the garbage collector */
        PyErr_SetString(PyExc_RuntimeError, "BindableMethod: the wrapped method is gone");
        return NULL;
    }
    return PyObject_Vectorcall(func, args, nargsf, kwnames);
}

static PyObject *
bindable_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *func;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "BindableMethod() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "BindableMethod", 1, 1, &func))
        return NULL;
    if (!PyCallable_Check(func)) {
        PyErr_Format(PyExc_TypeError, "BindableMethod() needs a callable, not %.100s",
                     Py_TYPE(func)->tp_name);
        return NULL;
    }
    rn_bindable *self = (rn_bindable *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->func = Py_NewRef(func);
    self->vectorcall = bindable_call;
    return (PyObject *)self;
}

static PyObject *
bindable_get(PyObject *self, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static int
bindable_traverse(rn_bindable *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->func);
    return 0;
}

static int
bindable_clear(rn_bindable *self)
{
    Py_CLEAR(self->func);
    return 0;
}

static void
bindable_dealloc(rn_bindable *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    bindable_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* __name__, __qualname__, __doc__, __text_signature__, __objclass__: the
 * wrapped method's (AttributeError when it has none) */
static PyObject *
bindable_forward(rn_bindable *self, void *name)
{
    if (self->func == NULL) {
        PyErr_SetString(PyExc_AttributeError, (const char *)name);
        return NULL;
    }
    return PyObject_GetAttrString(self->func, (const char *)name);
}

static PyObject *
bindable_repr(rn_bindable *self)
{
    if (self->func == NULL)
        return PyUnicode_FromString("<BindableMethod (cleared)>");
    return PyUnicode_FromFormat("<BindableMethod of %R>", self->func);
}

static PyGetSetDef bindable_getset[] = {
    {"__name__", (getter)bindable_forward, NULL, NULL, "__name__"},
    {"__qualname__", (getter)bindable_forward, NULL, NULL, "__qualname__"},
    {"__doc__", (getter)bindable_forward, NULL, NULL, "__doc__"},
    {"__text_signature__", (getter)bindable_forward, NULL, NULL, "__text_signature__"},
    {"__objclass__", (getter)bindable_forward, NULL, NULL, "__objclass__"},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef bindable_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(rn_bindable, func), READONLY,
     "the wrapped method"},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(rn_bindable, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot bindable_slots[] = {
    {Py_tp_new, bindable_new},
    {Py_tp_descr_get, bindable_get},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, bindable_traverse},
    {Py_tp_clear, bindable_clear},
    {Py_tp_dealloc, bindable_dealloc},
    {Py_tp_repr, bindable_repr},
    {Py_tp_getset, bindable_getset},
    {Py_tp_members, bindable_members},
    {0, NULL},
};

PyType_Spec rn_bindable_type_spec = {
    .name = "redis_native._native.BindableMethod",
    .basicsize = sizeof(rn_bindable),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_METHOD_DESCRIPTOR | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = bindable_slots,
};
