#!/usr/bin/env bash
# Debian's python3-ldb, unchanged, on our libtalloc + libtevent: the same
# session (ldb_session.py: add, modify, search, rename, delete,
# transactions, errors) on a fresh tdb database gives the same output on
# Debian's libraries and on ours; then each side reads the database the
# other wrote.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
py=/usr/bin/python3   # Debian's: a pyenv python3 in PATH lacks the modules
[ -x $py ] || fail "$py is missing (Debian package python3)"
$py -c 'import ldb' 2>/dev/null || fail "$py cannot import ldb: install python3-ldb"
session=$SRC_ROOT/tests/integration/ldb_session.py

for side in ref ours; do
    mkdir -p "$work/$side"
    (cd "$work/$side" && run_on $side "$work/$side.session" talloc,tevent $py "$session" dir.ldb)
done
maps_report "$work/ours.session.maps"
grep -q '^--- exit status 0$' "$work/ref.session" || fail "the session failed on the reference: $(head -n 20 "$work/ref.session")"
grep -q '^== at the end -> 11 result(s)$' "$work/ref.session" || fail "unexpected reference session: $(head -n 20 "$work/ref.session")"
same "$work/ref.session" "$work/ours.session" "python3-ldb session"

# Cross reads: a search of the other side's database file.
dump='import ldb, sys
db = ldb.Ldb("tdb://" + sys.argv[1])
for m in sorted(db.search("dc=example,dc=com", ldb.SCOPE_SUBTREE, "(objectClass=*)"), key=lambda m: str(m.dn)):
    print(m.dn, sorted((k, sorted(bytes(v) for v in m[k])) for k in m.keys() if k != "dn"))'
run_on ours "$work/cross.ours" talloc,tevent $py -c "$dump" "$work/ref/dir.ldb"
run_on ref "$work/cross.ref" talloc,tevent $py -c "$dump" "$work/ours/dir.ldb"
grep -q '^cn=renamed,' "$work/cross.ref" || fail "cross read found no renamed entry: $(head -n 20 "$work/cross.ref")"
same "$work/cross.ref" "$work/cross.ours" "python3-ldb reading the other side's database"
note "python3-ldb: same session output ($(wc -l <"$work/ref.session") lines) and same databases"
