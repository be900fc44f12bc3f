"""Drives Debian's python3-talloc (and python3-ldb, to have talloc memory
to look at) for tests/integration/python-talloc.sh.

Prints talloc.total_blocks(None) at each step and talloc.report_full(None)
at the end, with null tracking on from the start. Lines whose numbers
depend on libtevent's own allocations (an ldb context owns a tevent
context) start with "[tevent]" so the comparison can set them apart when
libtevent differs between the runs."""
import sys

import talloc

talloc.enable_null_tracking()
print("blocks with only the null context:", talloc.total_blocks(None))

import ldb  # noqa: E402  (imported after tracking is on, on purpose)

print("blocks after importing ldb:", talloc.total_blocks(None))
db = ldb.Ldb()
print("[tevent] blocks after ldb.Ldb():", talloc.total_blocks(None))

# Everything below hangs off the ldb context but allocates no tevent memory:
# the differences must be exactly the reference's.
before = talloc.total_blocks(None)
dn = ldb.Dn(db, "cn=alice,ou=people,dc=example,dc=com")
print("blocks for a parsed Dn:", talloc.total_blocks(None) - before)
msg = ldb.Message(dn)
msg["cn"] = b"alice"
msg["mail"] = [b"alice@example.com", b"a@example.com"]
print("blocks for a Message with two elements:", talloc.total_blocks(None) - before)
print("dn:", msg.dn, "components:", msg.dn.get_component_name(0), len(msg.dn))

sys.stdout.flush()  # report_full writes through C stdio
talloc.report_full(None)
sys.stdout.flush()

del msg, dn
print("blocks given back after del:", before - talloc.total_blocks(None) == 0)
