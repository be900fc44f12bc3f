/*
 * libpytalloc-util: wrapping talloc pointers in objects of the talloc
 * module's types (see pytalloc.h for the interface).
 *
 * The types themselves live in the talloc extension module
 * (pytalloc_module.c); this library finds them by importing the module, as
 * upstream's does, so either half can be combined with the other's
 * counterpart of another build.
 */
#include "pytalloc_private.h"

#include <stdbool.h>

/* talloc.NAME, as a borrowed reference: the module keeps its types alive
 * for as long as the interpreter runs. */
static PyTypeObject *module_type(const char *name)
{
	PyObject *module = PyImport_ImportModule("talloc");
	if (module == NULL)
		return NULL;
	PyObject *type = PyObject_GetAttrString(module, name);
	Py_DECREF(module);
	if (type == NULL)
		return NULL;
	if (!PyType_Check(type)) {
		PyErr_Format(PyExc_TypeError, "talloc.%s is not a type", name);
		Py_DECREF(type);
		return NULL;
	}
	Py_DECREF(type);
	return (PyTypeObject *)type;
}

PYTALLOC_EXPORT PyTypeObject *pytalloc_GetObjectType(void)
{
	return module_type("Object");
}

PYTALLOC_EXPORT PyTypeObject *pytalloc_GetBaseObjectType(void)
{
	return module_type("BaseObject");
}

static PyTypeObject *generic_object_type(void)
{
	return module_type("GenericObject");
}

static int is_instance_of(PyObject *obj, PyTypeObject *type)
{
	if (type == NULL) {
		PyErr_Clear();
		return 0;
	}
	return Py_TYPE(obj) == type || PyType_IsSubtype(Py_TYPE(obj), type);
}

PYTALLOC_EXPORT int pytalloc_Check(PyObject *obj)
{
	return is_instance_of(obj, pytalloc_GetObjectType());
}

PYTALLOC_EXPORT int pytalloc_BaseObject_check(PyObject *obj)
{
	return is_instance_of(obj, pytalloc_GetBaseObjectType());
}

PYTALLOC_EXPORT size_t pytalloc_BaseObject_size(void)
{
	return sizeof(pytalloc_BaseObject);
}

PYTALLOC_EXPORT int pytalloc_BaseObject_PyType_Ready(PyTypeObject *type)
{
	PyTypeObject *base = pytalloc_GetBaseObjectType();
	if (base == NULL)
		return -1;
	type->tp_base = base;
	type->tp_basicsize = pytalloc_BaseObject_size();
	return PyType_Ready(type);
}

/* A new PY_TYPE object whose own talloc context takes MEM_CTX over (STEAL)
 * or holds a reference to it. */
static PyObject *wrap(PyTypeObject *py_type, TALLOC_CTX *mem_ctx, void *ptr, bool steal)
{
	PyTypeObject *base_type = pytalloc_GetBaseObjectType();
	if (base_type == NULL)
		return NULL;
	PyTypeObject *object_type = pytalloc_GetObjectType();
	if (object_type == NULL)
		return NULL;
	if (mem_ctx == NULL)
		return PyErr_NoMemory();   /* what a failed talloc call hands over */

	bool is_base = PyType_IsSubtype(py_type, base_type);
	if (!is_base && !PyType_IsSubtype(py_type, object_type)) {
		PyErr_SetString(PyExc_TypeError, "Expected type based on talloc");
		return NULL;
	}

	PyObject *obj = py_type->tp_alloc(py_type, 0);
	if (obj == NULL)
		return NULL;
	TALLOC_CTX *own = talloc_new(NULL);
	if (own == NULL) {
		PyErr_NoMemory();
		Py_DECREF(obj);
		return NULL;
	}
	void *held = steal ? talloc_steal(own, mem_ctx) : talloc_reference(own, mem_ctx);
	if (held == NULL) {
		talloc_free(own);
		Py_DECREF(obj);
		return NULL;
	}
	/* the report shows the Python type the memory belongs to */
	talloc_set_name_const(own, py_type->tp_name);

	if (is_base) {
		pytalloc_BaseObject *b = (pytalloc_BaseObject *)obj;
		b->talloc_ctx = own;
		b->talloc_ptr_ctx = mem_ctx;
		b->ptr = ptr;
	} else {
		pytalloc_Object *o = (pytalloc_Object *)obj;
		o->talloc_ctx = own;
		o->ptr = ptr;
	}
	return obj;
}

PYTALLOC_EXPORT PyObject *pytalloc_steal_ex(PyTypeObject *py_type, TALLOC_CTX *mem_ctx, void *ptr)
{
	return wrap(py_type, mem_ctx, ptr, true);
}

PYTALLOC_EXPORT PyObject *pytalloc_steal(PyTypeObject *py_type, void *ptr)
{
	return wrap(py_type, ptr, ptr, true);
}

PYTALLOC_EXPORT PyObject *pytalloc_reference_ex(PyTypeObject *py_type, TALLOC_CTX *mem_ctx, void *ptr)
{
	return wrap(py_type, mem_ctx, ptr, false);
}

PYTALLOC_EXPORT PyObject *pytalloc_GenericObject_steal_ex(TALLOC_CTX *mem_ctx, void *ptr)
{
	return pytalloc_steal_ex(generic_object_type(), mem_ctx, ptr);
}

PYTALLOC_EXPORT PyObject *pytalloc_GenericObject_reference_ex(TALLOC_CTX *mem_ctx, void *ptr)
{
	return pytalloc_reference_ex(generic_object_type(), mem_ctx, ptr);
}

PYTALLOC_EXPORT void *_pytalloc_get_ptr(PyObject *py_obj)
{
	if (pytalloc_BaseObject_check(py_obj))
		return ((pytalloc_BaseObject *)py_obj)->ptr;
	if (pytalloc_Check(py_obj))
		return ((pytalloc_Object *)py_obj)->ptr;
	return NULL;
}

PYTALLOC_EXPORT TALLOC_CTX *_pytalloc_get_mem_ctx(PyObject *py_obj)
{
	if (pytalloc_BaseObject_check(py_obj))
		return ((pytalloc_BaseObject *)py_obj)->talloc_ptr_ctx;
	if (pytalloc_Check(py_obj))
		return ((pytalloc_Object *)py_obj)->talloc_ctx;
	return NULL;
}

PYTALLOC_EXPORT const char *_pytalloc_get_name(PyObject *py_obj)
{
	void *ptr = _pytalloc_get_ptr(py_obj);
	if (ptr == NULL)
		return "non-talloc object";
	return talloc_get_name(ptr);
}

/* The pointer of PY_OBJ if it is a talloc pointer named TYPE_NAME: only a
 * pointer that is its own memory context (a BaseObject made by
 * pytalloc_steal(), pytalloc_reference() or the like) is known to be one.
 * Otherwise NULL, with a TypeError naming CALLER unless QUIET. */
static void *checked_ptr(PyObject *py_obj, const char *type_name, bool quiet, const char *caller)
{
	TALLOC_CTX *mem_ctx = _pytalloc_get_mem_ctx(py_obj);
	void *ptr = _pytalloc_get_ptr(py_obj);
	if (ptr == NULL || ptr != mem_ctx) {
		if (!quiet)
			PyErr_Format(PyExc_TypeError,
				     "%s: expected %s, but the pointer is no talloc pointer, "
				     "pytalloc_get_ptr() would get the raw pointer.",
				     caller, type_name);
		return NULL;
	}
	if (talloc_check_name(ptr, type_name) == NULL) {
		if (!quiet)
			PyErr_Format(PyExc_TypeError, "%s: expected %s, got %s",
				     caller, type_name, talloc_get_name(ptr));
		return NULL;
	}
	return ptr;
}

PYTALLOC_EXPORT int _pytalloc_check_type(PyObject *py_obj, const char *type_name)
{
	return checked_ptr(py_obj, type_name, true, "pytalloc_check_type") != NULL;
}

PYTALLOC_EXPORT void *_pytalloc_get_type(PyObject *py_obj, const char *type_name)
{
	return checked_ptr(py_obj, type_name, false, "pytalloc_get_type");
}
