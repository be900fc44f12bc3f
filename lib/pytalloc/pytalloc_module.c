/*
 * The talloc extension module: the types talloc.Object, talloc.BaseObject
 * and talloc.GenericObject, and the functions enable_null_tracking(),
 * report_full() and total_blocks().
 *
 * None of the types can be instantiated from Python; C code makes them with
 * pytalloc_steal() and friends (pytalloc_util.c).  Objects compare by
 * pointer when their types are equal, by type otherwise, as upstream's do;
 * they are unhashable.  Freeing one unlinks the talloc context it owns.
 */
#include "pytalloc_private.h"

#include <stdio.h>
#include <stdlib.h>

static const char type_doc[] = "Python wrapper for a talloc-maintained object.";

/* The object's own context goes; the memory below it with it, unless it is
 * referenced from elsewhere.  Failing to unlink means the object was
 * corrupted: stop, as upstream's assertion does. */
static void unlink_own_context(TALLOC_CTX *ctx, const char *type_name)
{
	if (ctx != NULL && talloc_unlink(NULL, ctx) == -1) {
		fprintf(stderr, "talloc: cannot unlink the memory of a %s object\n", type_name);
		abort();
	}
}

static void object_dealloc(PyObject *self)
{
	pytalloc_Object *obj = (pytalloc_Object *)self;
	unlink_own_context(obj->talloc_ctx, Py_TYPE(self)->tp_name);
	obj->talloc_ctx = NULL;
	Py_TYPE(self)->tp_free(self);
}

static void base_object_dealloc(PyObject *self)
{
	pytalloc_BaseObject *obj = (pytalloc_BaseObject *)self;
	unlink_own_context(obj->talloc_ctx, Py_TYPE(self)->tp_name);
	obj->talloc_ctx = NULL;
	Py_TYPE(self)->tp_free(self);
}

static PyObject *repr_with(PyObject *self, const char *what)
{
	PyObject *type = PyObject_Type(self);
	if (type == NULL)
		return NULL;
	PyObject *ret = PyUnicode_FromFormat("<%s %s at %p>", ((PyTypeObject *)type)->tp_name,
					     what, pytalloc_get_ptr(self));
	Py_DECREF(type);
	return ret;
}

static PyObject *object_repr(PyObject *self)
{
	return repr_with(self, "talloc object");
}

static PyObject *base_object_repr(PyObject *self)
{
	return repr_with(self, "talloc based object");
}

static PyTypeObject Object_Type;

/* Objects of one type compare by their pointers; an object and a
 * talloc.Object of another type compare by the addresses of their types.
 * Both rich comparisons look for talloc.Object in the other operand, as
 * upstream's do: a BaseObject compared with a BaseObject of another type
 * is not comparable (== and != fall back to identity). */
static PyObject *compare(PyObject *a, PyObject *b, int op)
{
	const void *x, *y;
	if (Py_TYPE(a) == Py_TYPE(b)) {
		x = pytalloc_get_ptr(a);
		y = pytalloc_get_ptr(b);
	} else if (PyObject_TypeCheck(b, &Object_Type)) {
		x = Py_TYPE(a);
		y = Py_TYPE(b);
	} else {
		Py_RETURN_NOTIMPLEMENTED;
	}
	int r;
	switch (op) {
	case Py_EQ: r = x == y; break;
	case Py_NE: r = x != y; break;
	case Py_LT: r = x < y; break;
	case Py_GT: r = x > y; break;
	case Py_LE: r = x <= y; break;
	case Py_GE: r = x >= y; break;
	default: Py_RETURN_NOTIMPLEMENTED;
	}
	return PyBool_FromLong(r);
}

/* Defined before Object_Type on purpose: comparisons between objects of
 * different types order them by the addresses of their types, and in
 * upstream's module both BaseObject and GenericObject come before Object
 * (the two are never ordered against each other: see compare()). */
static PyTypeObject GenericObject_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "talloc.GenericObject",
	.tp_basicsize = sizeof(pytalloc_BaseObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = type_doc,
};

static PyTypeObject BaseObject_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "talloc.BaseObject",
	.tp_basicsize = sizeof(pytalloc_BaseObject),
	.tp_dealloc = base_object_dealloc,
	.tp_repr = base_object_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = type_doc,
	.tp_richcompare = compare,
};

static PyObject *py_report_full(PyObject *Py_UNUSED(self), PyObject *args)
{
	PyObject *obj = Py_None;
	if (!PyArg_ParseTuple(args, "|O", &obj))
		return NULL;
	talloc_report_full(obj == Py_None ? NULL : pytalloc_get_mem_ctx(obj), stdout);
	Py_RETURN_NONE;
}

static PyObject *py_enable_null_tracking(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(ignored))
{
	talloc_enable_null_tracking();
	Py_RETURN_NONE;
}

static PyObject *py_total_blocks(PyObject *Py_UNUSED(self), PyObject *args)
{
	PyObject *obj = Py_None;
	if (!PyArg_ParseTuple(args, "|O", &obj))
		return NULL;
	return PyLong_FromLong((long)talloc_total_blocks(obj == Py_None ? NULL : pytalloc_get_mem_ctx(obj)));
}

static PyMethodDef module_functions[] = {
	{ "report_full", py_report_full, METH_VARARGS, "show a talloc tree for an object" },
	{ "enable_null_tracking", py_enable_null_tracking, METH_NOARGS,
	  "enable tracking of the NULL object" },
	{ "total_blocks", py_total_blocks, METH_VARARGS, "return talloc block count" },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject Object_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "talloc.Object",
	.tp_basicsize = sizeof(pytalloc_Object),
	.tp_dealloc = object_dealloc,
	.tp_repr = object_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = type_doc,
	.tp_richcompare = compare,
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "talloc",
	.m_doc = "Python wrapping of talloc-maintained objects.",
	.m_size = -1,
	.m_methods = module_functions,
};

PyMODINIT_FUNC PyInit_talloc(void)
{
	if (PyType_Ready(&Object_Type) < 0 || PyType_Ready(&BaseObject_Type) < 0)
		return NULL;
	GenericObject_Type.tp_base = &BaseObject_Type;
	if (PyType_Ready(&GenericObject_Type) < 0)
		return NULL;

	PyObject *m = PyModule_Create(&module_def);
	if (m == NULL)
		return NULL;
	struct { const char *name; PyTypeObject *type; } types[] = {
		{ "Object", &Object_Type },
		{ "BaseObject", &BaseObject_Type },
		{ "GenericObject", &GenericObject_Type },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		Py_INCREF(types[i].type);
		if (PyModule_AddObject(m, types[i].name, (PyObject *)types[i].type) < 0) {
			Py_DECREF(types[i].type);
			Py_DECREF(m);
			return NULL;
		}
	}
	return m;
}
