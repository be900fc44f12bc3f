#!/usr/bin/env bash
# Debian's ldb-tools, unchanged (ldbadd, ldbmodify, ldbsearch, ldbrename,
# ldbdel; libldb keeps its data in talloc memory and runs its requests on
# tevent), on our libtalloc + libtevent. The same session is played on
# Debian's libraries and on ours, each with a tdb database of its own
# created by the session; every command's output and exit status must be
# the same. Then each side reads the database the other side wrote.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
for t in ldbadd ldbmodify ldbsearch ldbrename ldbdel; do need $t ldb-tools; done

# The directory entries to start with.
cat >"$work/base.ldif" <<'LDIF'
dn: dc=example,dc=com
objectClass: top
objectClass: domain
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: cn=alice,ou=people,dc=example,dc=com
objectClass: person
cn: alice
sn: Liddell
telephoneNumber: 555-0101
description: first entry

dn: cn=bob,ou=people,dc=example,dc=com
objectClass: person
cn: bob
sn: Builder
telephoneNumber: 555-0102
telephoneNumber: 555-0103

dn: cn=carol,ou=people,dc=example,dc=com
objectClass: person
cn: carol
sn: Singer
LDIF

# Replace, add and delete attribute values, in one file of three changes.
cat >"$work/modify.ldif" <<'LDIF'
dn: cn=alice,ou=people,dc=example,dc=com
changetype: modify
replace: telephoneNumber
telephoneNumber: 555-0199
-
add: mail
mail: alice@example.com
mail: al@example.com
-
delete: description

dn: cn=bob,ou=people,dc=example,dc=com
changetype: modify
delete: telephoneNumber
telephoneNumber: 555-0102

dn: cn=carol,ou=people,dc=example,dc=com
changetype: modify
add: description
description: added by ldbmodify
LDIF

# A change that must fail the same way on both: the entry does not exist.
cat >"$work/bad-modify.ldif" <<'LDIF'
dn: cn=nobody,ou=people,dc=example,dc=com
changetype: modify
replace: sn
sn: Nobody
LDIF

# session SIDE: the whole sequence on one side (ref or ours), in a
# directory of its own, so that messages naming the database are alike.
session() {
    local side=$1 n=0 libs=talloc,tevent
    mkdir -p "$work/$side"
    cd "$work/$side"
    step ldbadd -H tdb://dir.ldb "$work/base.ldif"
    step ldbsearch -H tdb://dir.ldb --sorted -a
    step ldbmodify -H tdb://dir.ldb "$work/modify.ldif"
    step ldbsearch -H tdb://dir.ldb --sorted '(cn=alice)'
    step ldbsearch -H tdb://dir.ldb --sorted -b ou=people,dc=example,dc=com -s one '(telephoneNumber=*)' cn telephoneNumber
    step ldbsearch -H tdb://dir.ldb --sorted '(&(objectClass=person)(description=*))' dn
    step ldbmodify -H tdb://dir.ldb "$work/bad-modify.ldif"
    step ldbrename -H tdb://dir.ldb cn=carol,ou=people,dc=example,dc=com cn=caroline,ou=people,dc=example,dc=com
    step ldbdel -H tdb://dir.ldb cn=bob,ou=people,dc=example,dc=com
    step ldbdel -H tdb://dir.ldb cn=bob,ou=people,dc=example,dc=com   # already gone: an error
    step ldbsearch -H tdb://dir.ldb --sorted -a
    step ldbsearch -H tdb://dir.ldb --sorted -s base -b cn=caroline,ou=people,dc=example,dc=com
    steps=$n
    cd "$work"
}
session ref
session ours
maps_report "$work/ours.1.maps"

same_steps ldb-tools "$steps"
# The sessions must have done something: the final search still finds the
# entries left, the failing steps failed.
grep -q '^dn: cn=caroline,ou=people,dc=example,dc=com' "$work/ours.11" || fail "final search lacks the renamed entry: $(head -n 20 "$work/ours.11")"
grep -q '^mail: al@example.com' "$work/ours.4" || fail "ldbmodify's added value is missing: $(head -n 20 "$work/ours.4")"
grep -q '^--- exit status [1-9]' "$work/ours.7" || fail "modifying a missing entry succeeded"
grep -q '^--- exit status [1-9]' "$work/ours.10" || fail "deleting a deleted entry succeeded"

# Each side reads the other's database: the files written through our
# libraries are the reference's in content.
cd "$work/ref"
run_on ours "$work/cross.ours" talloc,tevent ldbsearch -H tdb://"$work/ref/dir.ldb" --sorted -a
cd "$work/ours"
run_on ref "$work/cross.ref" talloc,tevent ldbsearch -H tdb://"$work/ours/dir.ldb" --sorted -a
sed -i 's#/ours/dir.ldb#/ref/dir.ldb#' "$work/cross.ref"   # only the path may differ
same "$work/cross.ref" "$work/cross.ours" "ldbsearch across the two databases"
same "$work/ref.11" "$work/cross.ours" "ldbsearch of the reference's database on ours"
note "ldb-tools: $steps steps and the cross reads give the same output on both"
