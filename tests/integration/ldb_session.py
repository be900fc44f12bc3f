"""One session of Debian's python3-ldb on a fresh tdb database, for
tests/integration/python-ldb.sh: add, modify, search, rename, delete,
transactions and the errors they raise. Everything printed is sorted so
that only what ldb (on talloc and tevent) computes can differ.

usage: ldb_session.py DATABASE-FILE"""
import sys

import ldb

url = "tdb://" + sys.argv[1]
db = ldb.Ldb(url)


def show(title, results):
    print("==", title, "->", len(results), "result(s)")
    for msg in sorted(results, key=lambda m: str(m.dn).lower()):
        print("dn:", msg.dn)
        for attr in sorted(k for k in msg.keys() if k != "dn"):
            for value in sorted(bytes(v) for v in msg[attr]):
                print("  %s: %s" % (attr, value.decode()))


def attempt(title, action):
    try:
        action()
        print("==", title, "-> ok")
    except ldb.LdbError as e:
        code, text = e.args
        print("==", title, "-> LdbError", code, text)


def entry(dn, **attrs):
    msg = ldb.Message(ldb.Dn(db, dn))
    for name, values in attrs.items():
        msg[name] = ldb.MessageElement([v.encode() for v in values], ldb.FLAG_MOD_ADD, name)
    return msg


base = "dc=example,dc=com"
people = "ou=people," + base
attempt("add base", lambda: db.add(entry(base, objectClass=["top", "domain"], dc=["example"])))
attempt("add ou", lambda: db.add(entry(people, objectClass=["organizationalUnit"], ou=["people"])))
for i in range(20):
    name = "user%02d" % i
    attempt("add " + name, lambda: db.add(entry("cn=%s,%s" % (name, people), objectClass=["person"],
                                                  cn=[name], uidNumber=[str(1000 + i)],
                                                  memberOf=["group%d" % (i % 3)])))
attempt("add duplicate", lambda: db.add(entry("cn=user00," + people, objectClass=["person"])))
show("everything", db.search(base, ldb.SCOPE_SUBTREE, "(objectClass=*)"))

# modify: replace, add, delete values
mod = ldb.Message(ldb.Dn(db, "cn=user03," + people))
mod["uidNumber"] = ldb.MessageElement([b"4242"], ldb.FLAG_MOD_REPLACE, "uidNumber")
mod["mail"] = ldb.MessageElement([b"u3@example.com", b"user03@example.com"], ldb.FLAG_MOD_ADD, "mail")
mod["memberOf"] = ldb.MessageElement([], ldb.FLAG_MOD_DELETE, "memberOf")
attempt("modify user03", lambda: db.modify(mod))
bad = ldb.Message(ldb.Dn(db, "cn=ghost," + people))
bad["sn"] = ldb.MessageElement([b"x"], ldb.FLAG_MOD_REPLACE, "sn")
attempt("modify missing entry", lambda: db.modify(bad))
show("user03", db.search("cn=user03," + people, ldb.SCOPE_BASE))
show("group1 members, cn only", db.search(people, ldb.SCOPE_ONELEVEL, "(memberOf=group1)", ["cn"]))
show("uidNumber range", db.search(base, ldb.SCOPE_SUBTREE, "(&(uidNumber>=1010)(uidNumber<=1015))", ["uidNumber"]))

# a cancelled transaction leaves nothing, a committed one keeps its work
db.transaction_start()
attempt("delete user05 in a transaction", lambda: db.delete("cn=user05," + people))
db.transaction_cancel()
show("user05 after cancel", db.search(people, ldb.SCOPE_ONELEVEL, "(cn=user05)", ["cn"]))
db.transaction_start()
for i in range(10, 20):
    attempt("delete user%02d" % i, lambda: db.delete("cn=user%02d,%s" % (i, people)))
db.transaction_commit()

attempt("rename user01", lambda: db.rename("cn=user01," + people, "cn=renamed," + people))
attempt("rename missing", lambda: db.rename("cn=ghost," + people, "cn=ghost2," + people))
attempt("delete missing", lambda: db.delete("cn=ghost," + people))
attempt("delete non-leaf", lambda: db.delete(people))
show("at the end", db.search(base, ldb.SCOPE_SUBTREE, "(objectClass=*)"))
dn = ldb.Dn(db, "CN=Renamed,OU=People," + base)
print("dn casefold:", dn.get_casefold(), "parent:", dn.parent(), "valid:", dn.validate())
