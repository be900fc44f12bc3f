/*
 * What libpytalloc-util and the talloc module share beyond pytalloc.h: the
 * layout of talloc.BaseObject, which extensions only know by its size
 * (pytalloc_BaseObject_size()).
 */
#ifndef PYTALLOC_PRIVATE_H
#define PYTALLOC_PRIVATE_H

#include "pytalloc.h"

typedef struct {
	PyObject_HEAD
	TALLOC_CTX *talloc_ctx;		/* owned by the object, named after its type */
	TALLOC_CTX *talloc_ptr_ctx;	/* the memory context it was given */
	void *ptr;			/* the pointer it stands for */
} pytalloc_BaseObject;

#if defined(__GNUC__)
#define PYTALLOC_EXPORT __attribute__((visibility("default")))
#else
#define PYTALLOC_EXPORT
#endif

#endif
