#!/usr/bin/env bash
# Debian's ldb-tools, unchanged, on a database of a real size: 100,000
# generated person records (ldif.py, the same bytes every run), indexed on
# uid, mail and employeeNumber, added with ldbadd (ten files of 10,000),
# then indexed and unindexed searches, a thousand modifies, deletes and a
# rename, once on Debian's libraries and once on ours, each side with its
# own tdb database. Every command's output and exit status must be the
# same, the final sorted listing of all entries included.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
for t in ldbadd ldbmodify ldbsearch ldbrename ldbdel; do need $t ldb-tools; done
records=${LDB_RECORDS:-100000}
python3 "$SRC_ROOT/tests/integration/ldif.py" "$records" "$work/ldif"

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
    local f
    for f in "$work"/ldif/*.ldif; do step ldbadd "${H[@]}" "$f"; done
    adds=$n
    step ldbsearch "${H[@]}" '(uid=user012345)'
    step ldbsearch "${H[@]}" '(uid=USER099999)' dn
    step ldbsearch "${H[@]}" --sorted '(|(mail=user000001@example.com)(employeeNumber=7919)(employeeNumber=15838))' uid
    step ldbsearch "${H[@]}" --sorted -b "$base" -s one '(&(sn=Family5)(departmentNumber=5))' uid cn
    step ldbsearch "${H[@]}" '(cn=User Number 77777)' mail
    step ldbmodify "${H[@]}" "$work/modify.ldif"
    step ldbsearch "${H[@]}" --sorted '(sn=Changed*)' uid sn description
    modified=$n
    step ldbsearch "${H[@]}" --sorted '(description=modified 999)'
    step ldbdel "${H[@]}" "uid=user000000,$base" "uid=user050000,$base" "uid=user099999,$base"
    step ldbdel "${H[@]}" "uid=user000000,$base"
    deleted_again=$n
    step ldbrename "${H[@]}" "uid=user000001,$base" "uid=renamed,$base"
    step ldbsearch "${H[@]}" '(uid=renamed)' dn mail
    step ldbsearch "${H[@]}" '(mail=user000001@example.com)' dn
    renamed=$n
    step ldbsearch "${H[@]}" --sorted -b "$base" -s one '(objectClass=person)' dn sn
    steps=$n
    cd "$work"
}
session ref
session ours
maps_report "$work/ours.1.maps"

same_steps ldb "$steps"
added=$(for i in $(seq 1 "$adds"); do cat "$work/ours.$i.stdout"; done |
    awk '/^Added [0-9]+ records successfully$/ { s += $2 } END { print s + 0 }')
[ "$added" = $((records + 4)) ] || fail "ldbadd added $added records, not $((records + 4))"
grep -q '^# returned 1000 records' "$work/ours.$modified" || fail "the modified entries: $(tail -n 5 "$work/ours.$modified")"
gone=0   # of the three entries deleted, those a smaller LDB_RECORDS has
for i in 0 50000 99999; do [ $i -lt "$records" ] && gone=$((gone + 1)); done
grep -q "^# returned $((records - gone)) records" "$work/ours.$steps" || fail "the final listing: $(tail -n 5 "$work/ours.$steps")"
grep -q '^--- exit status [1-9]' "$work/ours.$deleted_again" || fail "deleting a deleted entry succeeded"
grep -q '^dn: uid=renamed' "$work/ours.$renamed" || fail "the renamed entry is not found by its indexed mail: $(cat "$work/ours.$renamed")"
note "ldb-tools at size: $records records, $steps steps give the same output on both"
