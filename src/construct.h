/* Construction helpers (construct.c): per-client and per-connection work on
 * the connect path, not per command. */
#ifndef RN_CONSTRUCT_H
#define RN_CONSTRUCT_H

#include <Python.h>

PyObject *rn_copy_plain_retry(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
