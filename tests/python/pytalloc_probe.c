/*
 * pytalloc_probe: a Python extension module built against pytalloc.h the way
 * Samba's modules are, so that the same Python script can drive every
 * function and macro of the header on Debian's libpytalloc-util and on ours
 * (tests/python/probe_script.py prints what it sees; the two transcripts
 * are compared).
 *
 * It touches pytalloc_Object's fields directly, as pidl-generated code
 * does, defines a type of its own on top of talloc.BaseObject with
 * pytalloc_BaseObject_PyType_Ready(), and watches the talloc memory behind
 * the Python objects with destructors that print when they run.
 */
#include <Python.h>
#include <pytalloc.h>
#include <stdio.h>
#include <string.h>

struct probe_thing {
	int value;
};

/* Prints when talloc frees a watched chunk: shows when Python lets go. */
static int watch_destructor(void *ptr)
{
	printf("destructor: %s\n", talloc_get_name(ptr));
	fflush(stdout);
	return 0;
}

static int thing_destructor(struct probe_thing *t)
{
	return watch_destructor(t);
}

static PyTypeObject *kind_type(const char *kind);

/* A C subclass of talloc.Object, laid out as pytalloc_Object. */
static PyTypeObject ObjSub_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "pytalloc_probe.ObjSub",
	.tp_basicsize = sizeof(pytalloc_Object),
	.tp_flags = Py_TPFLAGS_DEFAULT,
};

/* A type on talloc.BaseObject that Python can instantiate. */
static PyObject *thing_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
	int value = 0;
	static char *kwlist[] = { "value", NULL };
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|i", kwlist, &value))
		return NULL;
	struct probe_thing *t = talloc_zero(NULL, struct probe_thing);
	if (t == NULL)
		return PyErr_NoMemory();
	t->value = value;
	talloc_set_destructor(t, thing_destructor);
	PyObject *ret = pytalloc_steal(type, t);
	if (ret == NULL)
		talloc_free(t);
	return ret;
}

static PyObject *thing_value(PyObject *self, PyObject *Py_UNUSED(ignored))
{
	struct probe_thing *t = pytalloc_get_type(self, struct probe_thing);
	if (t == NULL)
		return NULL;
	return PyLong_FromLong(t->value);
}

static PyMethodDef thing_methods[] = {
	{ "value", thing_value, METH_NOARGS, "the value given to the constructor" },
	{ NULL }
};

static PyTypeObject Thing_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "pytalloc_probe.Thing",
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_new = thing_new,
	.tp_methods = thing_methods,
};

static PyTypeObject *kind_type(const char *kind)
{
	if (strcmp(kind, "object") == 0)
		return pytalloc_GetObjectType();
	if (strcmp(kind, "base") == 0)
		return pytalloc_GetBaseObjectType();
	if (strcmp(kind, "objsub") == 0)
		return &ObjSub_Type;
	if (strcmp(kind, "thing") == 0)
		return &Thing_Type;
	PyErr_Format(PyExc_ValueError, "unknown kind %s", kind);
	return NULL;
}

/* new(kind, name, size=16, watch=False): a chunk named NAME wrapped by
 * pytalloc_steal() (or, for kind "generic", pytalloc_GenericObject_steal()). */
static PyObject *probe_new(PyObject *self, PyObject *args)
{
	const char *kind, *name;
	Py_ssize_t size = 16;
	int watch = 0;
	if (!PyArg_ParseTuple(args, "ss|np", &kind, &name, &size, &watch))
		return NULL;
	void *ptr = talloc_size(NULL, size);
	if (ptr == NULL)
		return PyErr_NoMemory();
	talloc_set_name(ptr, "%s", name);
	if (watch)
		talloc_set_destructor(ptr, watch_destructor);
	PyObject *ret;
	if (strcmp(kind, "generic") == 0) {
		ret = pytalloc_GenericObject_steal(ptr);
	} else {
		PyTypeObject *type = kind_type(kind);
		ret = type ? pytalloc_steal(type, ptr) : NULL;
	}
	if (ret == NULL)
		talloc_free(ptr);
	return ret;
}

/* new_macro(): pytalloc_new() of a zeroed struct probe_thing. */
static PyObject *probe_new_macro(PyObject *self, PyObject *Py_UNUSED(ignored))
{
	return pytalloc_new(struct probe_thing, pytalloc_GetObjectType());
}

/* child(obj, name, watch=False): a chunk allocated under the object's pointer. */
static PyObject *probe_child(PyObject *self, PyObject *args)
{
	PyObject *obj;
	const char *name;
	int watch = 0;
	if (!PyArg_ParseTuple(args, "Os|p", &obj, &name, &watch))
		return NULL;
	void *parent = pytalloc_get_ptr(obj);
	void *c = talloc_size(parent, 8);
	if (c == NULL)
		return PyErr_NoMemory();
	talloc_set_name(c, "%s", name);
	if (watch)
		talloc_set_destructor(c, watch_destructor);
	Py_RETURN_NONE;
}

/* reference(kind, obj[, ctx_obj]): a second Python object on obj's pointer,
 * holding a talloc reference (pytalloc_reference_ex(), or
 * pytalloc_GenericObject_reference() for kind "generic"). */
static PyObject *probe_reference(PyObject *self, PyObject *args)
{
	const char *kind;
	PyObject *obj;
	if (!PyArg_ParseTuple(args, "sO", &kind, &obj))
		return NULL;
	void *ptr = pytalloc_get_ptr(obj);
	if (strcmp(kind, "generic") == 0)
		return pytalloc_GenericObject_reference(ptr);
	if (strcmp(kind, "generic_ex") == 0)
		return pytalloc_GenericObject_reference_ex(pytalloc_get_mem_ctx(obj), ptr);
	PyTypeObject *type = kind_type(kind);
	if (type == NULL)
		return NULL;
	if (strcmp(kind, "object") == 0)
		return pytalloc_reference(type, ptr);
	return pytalloc_reference_ex(type, ptr, ptr);
}

/* steal_into(type, name): pytalloc_steal() with any Python type. */
static PyObject *probe_steal_into(PyObject *self, PyObject *args)
{
	PyObject *type;
	const char *name;
	if (!PyArg_ParseTuple(args, "O!s", &PyType_Type, &type, &name))
		return NULL;
	void *ptr = talloc_named_const(NULL, 4, "probe chunk");
	talloc_set_name(ptr, "%s", name);
	PyObject *ret = pytalloc_steal((PyTypeObject *)type, ptr);
	if (ret == NULL) {
		void *parent = talloc_parent(ptr);
		printf("steal_into failed; the chunk's parent is %s\n",
		       parent ? talloc_get_name(parent) : "none");
		talloc_free(ptr);
	}
	return ret;
}

/* steal_ex_null(kind): pytalloc_steal_ex()/GenericObject_steal_ex() of NULL. */
static PyObject *probe_steal_ex_null(PyObject *self, PyObject *args)
{
	const char *kind;
	if (!PyArg_ParseTuple(args, "s", &kind))
		return NULL;
	if (strcmp(kind, "generic") == 0)
		return pytalloc_GenericObject_steal_ex(NULL, NULL);
	PyTypeObject *type = kind_type(kind);
	return type ? pytalloc_steal_ex(type, NULL, NULL) : NULL;
}

/* steal_ex_other(kind, ctx_name, name): the memory context and the pointer
 * differ: PTR is a child of a new context CTX. */
static PyObject *probe_steal_ex_other(PyObject *self, PyObject *args)
{
	const char *kind, *ctx_name, *name;
	if (!PyArg_ParseTuple(args, "sss", &kind, &ctx_name, &name))
		return NULL;
	void *ctx = talloc_named_const(NULL, 0, "ctx");
	talloc_set_name(ctx, "%s", ctx_name);
	void *ptr = talloc_size(ctx, 4);
	talloc_set_name(ptr, "%s", name);
	PyObject *ret;
	if (strcmp(kind, "generic") == 0) {
		ret = pytalloc_GenericObject_steal_ex(ctx, ptr);
	} else {
		PyTypeObject *type = kind_type(kind);
		ret = type ? pytalloc_steal_ex(type, ctx, ptr) : NULL;
	}
	if (ret == NULL)
		talloc_free(ctx);
	return ret;
}

/* inspect(obj): what the accessor functions say about obj. */
static PyObject *probe_inspect(PyObject *self, PyObject *obj)
{
	void *ptr = pytalloc_get_ptr(obj);
	TALLOC_CTX *mem_ctx = pytalloc_get_mem_ctx(obj);
	const char *name = pytalloc_get_name(obj);
	int direct = -1;
	if (pytalloc_Check(obj)) {
		/* what pidl-generated code does: the fields, not the functions */
		pytalloc_Object *o = (pytalloc_Object *)obj;
		direct = (o->ptr == ptr && o->talloc_ctx == mem_ctx);
	}
	const char *ctx_name = mem_ctx ? talloc_get_name(mem_ctx) : NULL;
	void *ptr_parent = ptr ? talloc_parent(ptr) : NULL;
	return Py_BuildValue("{s:i,s:i,s:i,s:i,s:z,s:z,s:i,s:z,s:i}",
		"Check", pytalloc_Check(obj),
		"BaseObject_check", pytalloc_BaseObject_check(obj),
		"has_ptr", ptr != NULL,
		"has_mem_ctx", mem_ctx != NULL,
		"name", name,
		"mem_ctx_name", ctx_name,
		"fields_agree", direct,
		"ptr_parent_name", ptr_parent ? talloc_get_name(ptr_parent) : NULL,
		"ptr_is_mem_ctx", ptr != NULL && ptr == mem_ctx);
}

/* check_type(obj, name): pytalloc_check_type() result and the error set. */
static PyObject *probe_check_type(PyObject *self, PyObject *args)
{
	PyObject *obj;
	const char *name;
	if (!PyArg_ParseTuple(args, "Os", &obj, &name))
		return NULL;
	int ok = _pytalloc_check_type(obj, name);
	if (!ok && PyErr_Occurred())
		return NULL;
	return PyBool_FromLong(ok);
}

/* get_type(obj, name): whether _pytalloc_get_type() gives the pointer. */
static PyObject *probe_get_type(PyObject *self, PyObject *args)
{
	PyObject *obj;
	const char *name;
	if (!PyArg_ParseTuple(args, "Os", &obj, &name))
		return NULL;
	void *p = _pytalloc_get_type(obj, name);
	if (p == NULL && PyErr_Occurred())
		return NULL;
	return PyBool_FromLong(p != NULL && p == pytalloc_get_ptr(obj));
}

/* macros(obj): the typed macros of the header on struct probe_thing. */
static PyObject *probe_macros(PyObject *self, PyObject *obj)
{
	int checked = pytalloc_check_type(obj, struct probe_thing);
	if (!checked) {
		PyErr_Clear();
	}
	struct probe_thing *t = pytalloc_get_type(obj, struct probe_thing);
	if (t == NULL)
		PyErr_Clear();
	return Py_BuildValue("(ii)", checked, t != NULL);
}

/* address(obj): the object's pointer as a repr prints it. */
static PyObject *probe_address(PyObject *self, PyObject *obj)
{
	return PyUnicode_FromFormat("%p", pytalloc_get_ptr(obj));
}

static PyObject *probe_sizes(PyObject *self, PyObject *Py_UNUSED(ignored))
{
	return Py_BuildValue("(nnnn)", (Py_ssize_t)pytalloc_BaseObject_size(),
		(Py_ssize_t)sizeof(pytalloc_Object),
		pytalloc_GetObjectType()->tp_basicsize,
		pytalloc_GetBaseObjectType()->tp_basicsize);
}

/* same_types(): the type getters return the talloc module's types. */
static PyObject *probe_types(PyObject *self, PyObject *Py_UNUSED(ignored))
{
	return Py_BuildValue("(OO)", (PyObject *)pytalloc_GetObjectType(),
		(PyObject *)pytalloc_GetBaseObjectType());
}

static PyMethodDef probe_methods[] = {
	{ "new", probe_new, METH_VARARGS, NULL },
	{ "new_macro", probe_new_macro, METH_NOARGS, NULL },
	{ "child", probe_child, METH_VARARGS, NULL },
	{ "reference", probe_reference, METH_VARARGS, NULL },
	{ "steal_into", probe_steal_into, METH_VARARGS, NULL },
	{ "steal_ex_null", probe_steal_ex_null, METH_VARARGS, NULL },
	{ "steal_ex_other", probe_steal_ex_other, METH_VARARGS, NULL },
	{ "inspect", probe_inspect, METH_O, NULL },
	{ "check_type", probe_check_type, METH_VARARGS, NULL },
	{ "get_type", probe_get_type, METH_VARARGS, NULL },
	{ "macros", probe_macros, METH_O, NULL },
	{ "address", probe_address, METH_O, NULL },
	{ "sizes", probe_sizes, METH_NOARGS, NULL },
	{ "types", probe_types, METH_NOARGS, NULL },
	{ NULL }
};

static struct PyModuleDef probe_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "pytalloc_probe",
	.m_doc = "drives pytalloc.h for the tests",
	.m_size = -1,
	.m_methods = probe_methods,
};

PyMODINIT_FUNC PyInit_pytalloc_probe(void)
{
	ObjSub_Type.tp_base = pytalloc_GetObjectType();
	if (ObjSub_Type.tp_base == NULL || PyType_Ready(&ObjSub_Type) < 0)
		return NULL;
	if (pytalloc_BaseObject_PyType_Ready(&Thing_Type) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&probe_module);
	if (m == NULL)
		return NULL;
	Py_INCREF(&ObjSub_Type);
	Py_INCREF(&Thing_Type);
	if (PyModule_AddObject(m, "ObjSub", (PyObject *)&ObjSub_Type) < 0 ||
	    PyModule_AddObject(m, "Thing", (PyObject *)&Thing_Type) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
