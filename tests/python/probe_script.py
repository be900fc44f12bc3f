"""The same script for Debian's python3-talloc and for ours
(tests/python/differential.py runs it on both and compares): what the
talloc module and libpytalloc-util do, driven from Python and through
pytalloc_probe (a C extension built on pytalloc.h).

Prints reprs, comparisons, type checks, errors, block counts, full talloc
reports and the destructors that run when Python frees an object. Which
address a chunk gets is the allocator's business: the comparison blanks
addresses out, and the script checks itself that a repr shows the object's
pointer."""
import gc
import sys

import talloc
import pytalloc_probe as probe


def out(*args):
    print(*args)
    sys.stdout.flush()


def report(obj=None):
    sys.stdout.flush()
    talloc.report_full(obj)
    sys.stdout.flush()


def attempt(what, fn, *args):
    try:
        out(what, "->", repr(fn(*args)))
    except Exception as e:  # the error is what is compared
        out(what, "raises", type(e).__name__ + ":", e)


out("module doc:", talloc.__doc__)
out("names:", sorted(n for n in dir(talloc) if not n.startswith("__")))
for t in (talloc.Object, talloc.BaseObject, talloc.GenericObject):
    out(t.__name__, t.__module__, t.__qualname__, repr(t), t.__doc__)
    out("  mro:", [c.__name__ for c in t.__mro__], "basicsize:", t.__basicsize__,
        "itemsize:", t.__itemsize__, "hash:", t.__hash__)
    out("  flags basetype/heaptype/gc:", bool(t.__flags__ & (1 << 10)),
        bool(t.__flags__ & (1 << 9)), bool(t.__flags__ & (1 << 14)))
    attempt("  %s()" % t.__name__, t)
    sub = type("Sub" + t.__name__, (t,), {})
    attempt("  subclass()", sub)
for f in (talloc.enable_null_tracking, talloc.report_full, talloc.total_blocks):
    out(f.__name__, f.__doc__, type(f).__name__)
out("sizes (BaseObject_size, sizeof pytalloc_Object, Object, BaseObject):", probe.sizes())
out("types:", probe.types(), probe.types() == (talloc.Object, talloc.BaseObject))

out("-- before null tracking")
out("total_blocks():", talloc.total_blocks(), talloc.total_blocks(None))
attempt("total_blocks(1, 2)", talloc.total_blocks, 1, 2)
attempt("total_blocks(x=1)", lambda: talloc.total_blocks(x=1))
attempt("report_full(1, 2)", talloc.report_full, 1, 2)
attempt("enable_null_tracking(1)", talloc.enable_null_tracking, 1)
report()
a = probe.new("object", "before tracking", 10)
out("total_blocks(a) before tracking:", talloc.total_blocks(a))
report(a)
del a

out("-- null tracking on")
out("enable_null_tracking():", talloc.enable_null_tracking())
out("total_blocks():", talloc.total_blocks())
report()

out("-- objects of each kind")
objs = {}
for kind in ("object", "base", "generic", "objsub", "thing"):
    o = probe.new(kind, "chunk of " + kind, 24, True)
    objs[kind] = o
    out(kind, type(o).__name__, repr(o), "shows the pointer:", probe.address(o) in repr(o))
    out("  inspect:", sorted(probe.inspect(o).items()))
    out("  isinstance Object/BaseObject:", isinstance(o, talloc.Object),
        isinstance(o, talloc.BaseObject))
    out("  total_blocks(o):", talloc.total_blocks(o))
    probe.child(o, "child of " + kind, True)
    out("  total_blocks(o) with a child:", talloc.total_blocks(o))
    attempt("  hash(o)", hash, o)
    attempt("  o == o", lambda: o == o)
    attempt("  o != o", lambda: o != o)
    attempt("  o < o", lambda: o < o)
    attempt("  o <= o", lambda: o <= o)
    attempt("  o == 5", lambda: o == 5)
    attempt("  o < 5", lambda: o < 5)
    attempt("  5 > o", lambda: 5 > o)
    attempt("  o == None", lambda: o is None or o == None)  # noqa: E711
    attempt("  o.anything", getattr, o, "anything")
    attempt("  setattr", setattr, o, "anything", 1)
    attempt("  check_type(o, name)", probe.check_type, o, "chunk of " + kind)
    attempt("  check_type(o, other)", probe.check_type, o, "other name")
    attempt("  get_type(o, name)", probe.get_type, o, "chunk of " + kind)
    attempt("  get_type(o, other)", probe.get_type, o, "other name")
    attempt("  macros(o)", probe.macros, o)
out("total_blocks() with five objects:", talloc.total_blocks())
report()

out("-- comparisons between objects")
kinds = sorted(objs)
for k1 in kinds:
    for k2 in kinds:
        if k1 >= k2:
            continue
        a, b = objs[k1], objs[k2]
        for op, fn in (("==", lambda: a == b), ("!=", lambda: a != b), ("<", lambda: a < b),
                       (">", lambda: a > b), ("<=", lambda: a <= b), (">=", lambda: a >= b)):
            attempt("  %s %s %s" % (k1, op, k2), fn)
two = [probe.new("object", "one of two"), probe.new("object", "one of two")]
out("same type, two pointers: ==", two[0] == two[1], "!=", two[0] != two[1])
out("  order agrees with the pointers:", (two[0] < two[1]) != (two[0] > two[1]))
del two

out("-- references")
base = probe.new("generic", "shared chunk", 8, True)
refs = []
for kind in ("object", "base", "generic", "generic_ex", "objsub", "thing"):
    r = probe.reference(kind, base)
    refs.append(r)
    out(kind, type(r).__name__, "== base:", r == base, "inspect:", sorted(probe.inspect(r).items()))
report()
del base
out("base dropped, references remain:")
report()
while refs:
    refs.pop()
out("all references dropped:")
report()

out("-- stealing: other memory contexts, wrong types, NULL")
for kind in ("object", "base", "generic", "thing"):
    o = probe.steal_ex_other(kind, "ctx for " + kind, "ptr for " + kind)
    out(kind, repr(o), sorted(probe.inspect(o).items()))
    report(o)
    del o
for t in (int, dict, talloc.Object, talloc.BaseObject, talloc.GenericObject, probe.Thing, probe.ObjSub):
    attempt("steal_into(%s)" % t.__name__, probe.steal_into, t, "stolen into " + t.__name__)
for kind in ("object", "base", "generic"):
    attempt("steal_ex(NULL) " + kind, probe.steal_ex_null, kind)
m = probe.new_macro()
out("pytalloc_new:", type(m).__name__, sorted(probe.inspect(m).items()), probe.macros(m))
del m

out("-- accessors on objects that are not talloc objects")
for x in (None, 5, "text", object(), talloc.Object, [1]):
    out(type(x).__name__, sorted(probe.inspect(x).items()))
    attempt("  check_type", probe.check_type, x, "chunk")
    attempt("  get_type", probe.get_type, x, "chunk")
    attempt("  total_blocks", talloc.total_blocks, x)
    attempt("  report_full", report, x)

out("-- a type of the probe: Thing")
t = probe.Thing(7)
out(repr(t), t.value(), isinstance(t, talloc.BaseObject), sorted(probe.inspect(t).items()))
attempt("Thing('x')", probe.Thing, "x")
attempt("Thing.value on generic", probe.Thing.value, objs["generic"])
attempt("Thing.value on object", probe.Thing.value, objs["object"])
del t

out("-- Python frees the objects")
for kind in list(objs):
    out("del", kind)
    del objs[kind]
    gc.collect()
out("total_blocks() at the end:", talloc.total_blocks())
report()
