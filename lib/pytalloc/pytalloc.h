/*
 * pytalloc.h: talloc memory behind Python objects.
 *
 * Part of talloc-tevent-cxx, a rewrite of talloc 2.5.0 that keeps its C
 * interface.  This header declares the interface of
 * libpytalloc-util.cpython-311-x86-64-linux-gnu.so.2, the library that C
 * extension modules (Samba's, ldb's, pidl-generated ones) use to wrap
 * talloc-allocated pointers in Python objects of the talloc module's types:
 *
 *   talloc.Object         holds a talloc context that owns (or references)
 *                         the memory and the pointer itself; its layout is
 *                         pytalloc_Object below, and extensions read its
 *                         fields directly.
 *   talloc.BaseObject     the newer type: also remembers which talloc
 *                         context the pointer lives in, so that
 *                         pytalloc_get_type() can check the pointer's name.
 *                         Its layout is private; types derived from it get
 *                         their size from pytalloc_BaseObject_size() or
 *                         pytalloc_BaseObject_PyType_Ready().
 *   talloc.GenericObject  a BaseObject for any pointer without a type of
 *                         its own.
 *
 * When Python frees such an object, the talloc context it holds is unlinked,
 * which frees the memory unless something else still references it.
 *
 * Licensed under the LGPL, version 3 or later (see the project's README).
 */
#ifndef _PYTALLOC_H_
#define _PYTALLOC_H_

#include <Python.h>
#include <talloc.h>

/* The layout of talloc.Object (and of types derived from it). */
typedef struct {
	PyObject_HEAD
	TALLOC_CTX *talloc_ctx;	/* owned by this object; the memory hangs below it */
	void *ptr;		/* the pointer the object stands for */
} pytalloc_Object;

/* The types talloc.Object and talloc.BaseObject (borrowed references;
 * NULL with an exception set if the talloc module cannot be imported). */
PyTypeObject *pytalloc_GetObjectType(void);
PyTypeObject *pytalloc_GetBaseObjectType(void);

/* 1 if the object is a talloc.Object (or derived from it), else 0. */
int pytalloc_Check(PyObject *);

/* 1 if the object is a talloc.BaseObject (or derived from it), else 0. */
int pytalloc_BaseObject_check(PyObject *);

/* 1 if the object is a BaseObject whose pointer is the memory context it
 * was stolen or referenced with and carries the talloc name TYPE_NAME;
 * 0 otherwise (no exception is set). */
int _pytalloc_check_type(PyObject *py_obj, const char *type_name);
#define pytalloc_check_type(py_obj, type) \
	_pytalloc_check_type((PyObject *)(py_obj), #type)

/* The pointer of a BaseObject checked as _pytalloc_check_type() does;
 * NULL with a TypeError set when the check fails.  Like talloc_get_type(). */
void *_pytalloc_get_type(PyObject *py_obj, const char *type_name);
#define pytalloc_get_type(py_obj, type) \
	((type *)_pytalloc_get_type((PyObject *)(py_obj), #type))

/* The object's pointer, or NULL when it is no talloc object. */
void *_pytalloc_get_ptr(PyObject *py_obj);
#define pytalloc_get_ptr(py_obj) _pytalloc_get_ptr((PyObject *)(py_obj))

/* The memory context: for an Object the context the object owns, for a
 * BaseObject the context it was given; NULL when it is no talloc object. */
TALLOC_CTX *_pytalloc_get_mem_ctx(PyObject *py_obj);
#define pytalloc_get_mem_ctx(py_obj) _pytalloc_get_mem_ctx((PyObject *)(py_obj))

/* The talloc name of the object's pointer ("non-talloc object" when there
 * is none). */
const char *_pytalloc_get_name(PyObject *py_obj);
#define pytalloc_get_name(py_obj) _pytalloc_get_name((PyObject *)(py_obj))

/* A new object of PY_TYPE (talloc.Object or talloc.BaseObject or derived)
 * for PTR: a fresh talloc context named after the type takes MEM_CTX over
 * (steal) or references it (reference).  NULL with an exception set on
 * failure (TypeError for any other type, MemoryError for a NULL MEM_CTX). */
PyObject *pytalloc_steal_ex(PyTypeObject *py_type, TALLOC_CTX *mem_ctx, void *ptr);
PyObject *pytalloc_steal(PyTypeObject *py_type, void *ptr);
PyObject *pytalloc_reference_ex(PyTypeObject *py_type, TALLOC_CTX *mem_ctx, void *ptr);
#define pytalloc_reference(py_type, talloc_ptr) \
	pytalloc_reference_ex(py_type, talloc_ptr, talloc_ptr)

/* A new object of TYPEOBJ for a zeroed talloc TYPE. */
#define pytalloc_new(type, typeobj) pytalloc_steal(typeobj, talloc_zero(NULL, type))

/* The same for talloc.GenericObject, a BaseObject for any pointer. */
PyObject *pytalloc_GenericObject_steal_ex(TALLOC_CTX *mem_ctx, void *ptr);
#define pytalloc_GenericObject_steal(talloc_ptr) \
	pytalloc_GenericObject_steal_ex(talloc_ptr, talloc_ptr)
PyObject *pytalloc_GenericObject_reference_ex(TALLOC_CTX *mem_ctx, void *ptr);
#define pytalloc_GenericObject_reference(talloc_ptr) \
	pytalloc_GenericObject_reference_ex(talloc_ptr, talloc_ptr)

/* The size of a talloc.BaseObject: tp_basicsize of types derived from it. */
size_t pytalloc_BaseObject_size(void);

/* Makes TYPE a subtype of talloc.BaseObject (tp_base, tp_basicsize) and
 * readies it with PyType_Ready(); -1 on failure. */
int pytalloc_BaseObject_PyType_Ready(PyTypeObject *type);

#endif /* _PYTALLOC_H_ */
