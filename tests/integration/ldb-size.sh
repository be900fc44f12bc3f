#!/usr/bin/env bash
# Debian's ldb-tools, unchanged, on a database of a real size: 100,000
# generated person records (ldif.py, the same bytes every run), indexed on
# uid, mail and employeeNumber, added with ldbadd, then indexed and
# unindexed searches, a thousand modifies, deletes and a rename, once on
# Debian's libraries and once on ours, each side with its own tdb
# database. Every command's output and exit status must be the same; so
# must a full sorted dump of the final databases.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
for t in ldbadd ldbmodify ldbsearch ldbrename ldbdel; do need $t ldb-tools; done
records=${LDB_RECORDS:-100000}
python3 "$SRC_ROOT/tests/integration/ldif.py" "$records" >"$work/base.ldif"

# A thousand changes: replace, add and delete values over the database.
python3 - "$records" >"$work/modify.ldif" <<'PY'
import sys
n = int(sys.argv[1])
for k in range(1000):
    i = (k * 7907) % n
    print(f"dn: uid=user{i:06d},ou=people,dc=example,dc=com\nchangetype: modify\n"
          f"replace: sn\nsn: Changed{k}\n-\nadd: description\ndescription: modified {k}\n-\n"
          f"delete: departmentNumber\n")
PY
base=ou=people,dc=example,dc=com

session() {
    local side=$1 n=0
    mkdir -p "$work/$side"
    cd "$work/$side"
    local H=(-H tdb://big.ldb)
    step ldbadd "${H[@]}" "$work/base.ldif"
    step ldbsearch "${H[@]}" '(uid=user012345)'
    step ldbsearch "${H[@]}" '(uid=USER099999)' dn
    step ldbsearch "${H[@]}" --sorted '(|(mail=user000001@example.com)(employeeNumber=7919)(employeeNumber=15838))' uid
    step ldbsearch "${H[@]}" --sorted -b "$base" -s one '(&(sn=Family5)(departmentNumber=5))' uid cn
    step ldbsearch "${H[@]}" '(cn=User Number 77777)' mail
    step ldbmodify "${H[@]}" "$work/modify.ldif"
    step ldbsearch "${H[@]}" --sorted '(sn=Changed*)' uid sn description
    step ldbsearch "${H[@]}" --sorted '(description=modified 999)'
    step ldbdel "${H[@]}" "uid=user000000,$base" "uid=user050000,$base" "uid=user099999,$base"
    step ldbdel "${H[@]}" "uid=user000000,$base"
    step ldbrename "${H[@]}" "uid=user000001,$base" "uid=renamed,$base"
    step ldbsearch "${H[@]}" '(uid=renamed)' dn mail
    step ldbsearch "${H[@]}" '(mail=user000001@example.com)' dn
    step ldbsearch "${H[@]}" --sorted -b "$base" -s one '(objectClass=person)' dn sn
    steps=$n
    cd "$work"
}
session ref
session ours
maps_report "$work/ours.1.maps"

same_steps ldb "$steps"
grep -q "^Added $((records + 4)) records successfully" "$work/ours.1" || fail "ldbadd: $(head -n 5 "$work/ours.1")"
grep -q '^# returned 1000 records' "$work/ours.8" || fail "the modified entries: $(tail -n 5 "$work/ours.8")"
grep -q "^# returned $((records - 3)) records" "$work/ours.15" || fail "the final listing: $(tail -n 5 "$work/ours.15")"
grep -q '^--- exit status [1-9]' "$work/ours.11" || fail "deleting a deleted entry succeeded"
grep -q '^dn: uid=renamed' "$work/ours.14" || fail "the renamed entry is not found by its indexed mail: $(cat "$work/ours.14")"
note "ldb-tools at size: $records records, $steps steps give the same output on both"
