"""Debian's python3-samba and python3-ldb, unchanged, creating and passing
talloc-backed objects (tests/python/samba-ldb.sh runs this on Debian's
libraries and on ours and compares the transcripts).

    samba_ldb.py WORKDIR MAPS-FILE

WORKDIR gets an smb.conf and an ldb file; MAPS-FILE the libtalloc,
libtevent, libpytalloc-util and talloc module files this process mapped (read from
/proc/self/maps at the end), which differ between the runs on purpose and
are checked by the shell script."""
import os
import sys

import talloc
import ldb
import samba
import samba.param
from samba import ndr
from samba.auth import system_session
from samba.credentials import Credentials
from samba.dcerpc import misc, security

work, maps_file = sys.argv[1], sys.argv[2]
talloc.enable_null_tracking()


def out(*args):
    print(*args)
    sys.stdout.flush()


def blocks_of(make):
    """How many talloc blocks an object made by make() holds while it lives."""
    before = talloc.total_blocks(None)
    obj = make()
    held = talloc.total_blocks(None) - before
    del obj
    return held, talloc.total_blocks(None) - before


# samba.param.LoadParm: a talloc.BaseObject (pytalloc_steal in C)
conf = os.path.join(work, "smb.conf")
with open(conf, "w") as f:
    f.write("[global]\n\tworkgroup = PYTALLOC\n\tnetbios name = PROBE\n"
            "\tprivate dir = %s\n\tlock dir = %s\n" % (work, work))
lp = samba.param.LoadParm()
out("LoadParm:", type(lp).__name__, [c.__name__ for c in type(lp).__mro__],
    isinstance(lp, talloc.BaseObject))
out("load:", lp.load(conf))
out("workgroup:", lp.get("workgroup"), "netbios name:", lp.get("netbios name"),
    "is_myname PROBE:", lp.is_myname("PROBE"), "configfile is ours:", lp.configfile == conf)
lp2 = samba.param.LoadParm()
out("two LoadParms: equal", lp == lp2, "same object equal", lp == lp)
try:
    hash(lp)
except TypeError as e:
    out("hash(LoadParm):", e)

# pidl-generated types on talloc.BaseObject, packed and unpacked through C
sid = security.dom_sid("S-1-5-32-544")
out("dom_sid:", repr(sid), str(sid), [c.__name__ for c in type(sid).__mro__])
blob = ndr.ndr_pack(sid)
out("ndr_pack:", blob.hex())
sid2 = ndr.ndr_unpack(security.dom_sid, blob)
out("ndr_unpack:", str(sid2), "equal:", sid2 == sid, str(sid2) == str(sid))
out("dom_sid blocks (held, left after del):", blocks_of(lambda: security.dom_sid("S-1-5-21-1-2-3-500")))
guid = misc.GUID("12345678-1234-1234-1234-123456789abc")
out("GUID:", str(guid), ndr.ndr_pack(guid).hex(), [c.__name__ for c in type(guid).__mro__])
out("GUID blocks (held, left after del):", blocks_of(lambda: misc.GUID("00000000-1111-2222-3333-444444444444")))
try:
    ndr.ndr_pack(lp)
except Exception as e:
    out("ndr_pack(LoadParm):", type(e).__name__)
try:
    ndr.ndr_unpack(security.dom_sid, b"\x01")
except Exception as e:
    out("ndr_unpack of a short blob:", type(e).__name__)
acl = security.descriptor.from_sddl("O:BAG:BAD:(A;;GA;;;WD)", sid)
out("security descriptor:", acl.as_sddl(sid), str(acl.owner_sid), ndr.ndr_pack(acl).hex())

# Credentials and a session: talloc objects handed to C functions
creds = Credentials()
creds.guess(lp)
creds.set_username("alice")
out("credentials:", creds.get_username(), isinstance(creds, talloc.BaseObject) or type(creds).__name__)
session = system_session(lp)
out("system session:", type(session).__name__, isinstance(session, talloc.BaseObject))

# samba.Ldb (lp, session_info and credentials passed as talloc objects)
# and plain ldb: messages in, searches returning messages out
url = os.path.join(work, "test.ldb")
db = samba.Ldb(url=url, lp=lp, session_info=session, credentials=creds)
for i, name in enumerate(["alice", "bob", "carol"]):
    m = ldb.Message(ldb.Dn(db, "cn=%s,dc=example,dc=com" % name))
    m["cn"] = name.encode()
    m["objectClass"] = [b"person", b"top"]
    m["uidNumber"] = str(1000 + i).encode()
    db.add(m)
res = db.search(base="dc=example,dc=com", scope=ldb.SCOPE_SUBTREE, expression="(objectClass=person)",
                attrs=["cn", "uidNumber"])
out("search:", len(res), "results of type", type(res).__name__)
for msg in sorted(res, key=lambda m: str(m.dn)):
    out("  ", type(msg).__name__, str(msg.dn), msg["cn"][0], int(msg["uidNumber"][0]))
one = db.search(base="cn=bob,dc=example,dc=com", scope=ldb.SCOPE_BASE)
out("base search:", [str(m.dn) for m in one], sorted(one[0].keys()))
db.modify(ldb.Message.from_dict(db, {"dn": "cn=bob,dc=example,dc=com", "uidNumber": "2000"},
                                 ldb.FLAG_MOD_REPLACE))
out("after modify:", db.search(base="cn=bob,dc=example,dc=com", scope=ldb.SCOPE_BASE)[0]["uidNumber"][0])
db.delete("cn=carol,dc=example,dc=com")
out("after delete:", len(db.search(base="dc=example,dc=com", scope=ldb.SCOPE_ONELEVEL)))
del res, one, db

plain = ldb.Ldb(url)
out("plain ldb sees:", sorted(str(m.dn) for m in plain.search(base="dc=example,dc=com",
                                                             scope=ldb.SCOPE_ONELEVEL)))
del plain

# What this process mapped of talloc and its Python bindings.
names = ("libtalloc.so", "libtevent.so", "libpytalloc-util", "talloc.cpython-")
with open("/proc/self/maps") as f:
    paths = sorted({line.split()[-1] for line in f
                    if any(n in line.split()[-1].rsplit("/", 1)[-1] for n in names)})
with open(maps_file, "w") as f:
    f.write("".join(p + "\n" for p in paths))
out("done")
