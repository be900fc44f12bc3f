#!/usr/bin/env bash
# Debian's Samba AD tooling, unchanged: samba-tool (Python on the Samba
# libraries, which keep everything in talloc memory and run ldb on tevent)
# provisions a domain controller's database into a temporary directory,
# then creates users, a group and its members, an OU and moves a user
# into it, changes a password, disables and deletes a user, refuses a
# duplicate, and checks the database (dbcheck), once on Debian's libraries
# and once on ours. Every command's output and exit status must be the
# same after masking the domain's random SID, GUIDs, pids, times and paths
# (and the first record a repack meets, which depends on the random GUIDs
# in record keys).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
need samba-tool samba-common-bin
/usr/bin/python3 -c 'import samba' 2>/dev/null || fail "python3-samba is missing (tools/install-deps.sh installs it)"

session() {
    local side=$1 n=0 d
    d=$work/$side
    mkdir -p "$d"
    cd "$d"
    step samba-tool domain provision --targetdir="$d/dc" --realm=INTEG.EXAMPLE --domain=INTEG \
        --adminpass=Passw0rd-Integ1 --server-role=dc --dns-backend=NONE --host-name=dc1 \
        --option="interfaces=127.0.0.1" --option="bind interfaces only=yes"
    local at=(-s "$d/dc/etc/smb.conf" -H "$d/dc/private/sam.ldb")
    step samba-tool user create alice Passw0rd-Alice1 --given-name=Alice --surname=Liddell "${at[@]}"
    step samba-tool user create bob Passw0rd-Bob1 --description="second user" "${at[@]}"
    step samba-tool user create alice Passw0rd-Alice2 "${at[@]}"
    step samba-tool user list "${at[@]}"
    step samba-tool group add Engineers --description="the engineers" "${at[@]}"
    step samba-tool group addmembers Engineers alice,bob "${at[@]}"
    step samba-tool group listmembers Engineers "${at[@]}"
    step samba-tool ou add OU=Lab --description="an organizational unit" "${at[@]}"
    step samba-tool user move bob OU=Lab "${at[@]}"
    step samba-tool ou listobjects OU=Lab "${at[@]}"
    step samba-tool ou list "${at[@]}"
    step samba-tool user setpassword alice --newpassword=Passw0rd-Alice3 "${at[@]}"
    step samba-tool user disable bob "${at[@]}"
    step samba-tool user show alice --attributes=sAMAccountName,givenName,sn,memberOf,userAccountControl,distinguishedName "${at[@]}"
    step samba-tool user show bob --attributes=userAccountControl,distinguishedName,description "${at[@]}"
    step samba-tool group list "${at[@]}"
    step samba-tool user delete bob "${at[@]}"
    step samba-tool group listmembers Engineers "${at[@]}"
    step samba-tool dbcheck --cross-ncs "${at[@]}"
    steps=$n
    cd "$work"
}
session ref
session ours
maps_report "$work/ours.2.maps"

for side in ref ours; do
    mask_steps $side "$steps" 's/pid:[0-9]\+/pid:N/g' \
        's/S-1-5-21-[0-9]\+-[0-9]\+-[0-9]\+/S-1-5-21-DOMAIN/g' \
        's/[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}/GUID/g' \
        's/^\(Repacking database from v1 to v2 format\) (first record .*)/\1 (first record R)/'
    for i in $(seq 1 "$steps"); do
        # the lists come in the database's order of the entries' GUIDs
        case $(cat "$work/$side.$i.cmd") in
        *" list "*|*listmembers*|*listobjects*) sort -s -o "$work/$side.$i" "$work/$side.$i" ;;
        esac
    done
done
same_steps samba-tool "$steps"
grep -q '^--- exit status 0' "$work/ours.1" || fail "provision failed: $(tail -n 20 "$work/ours.1")"
grep -q '^--- exit status [1-9]' "$work/ours.4" || fail "a duplicate user was created"
grep -qx 'alice' "$work/ours.19.stdout" && ! grep -qx 'bob' "$work/ours.19.stdout" || fail "group members after the delete: $(cat "$work/ours.19")"
grep -q 'memberOf: CN=Engineers' "$work/ours.15" || fail "alice is not in the group: $(cat "$work/ours.15")"
grep -q 'OU=Lab' "$work/ours.16" || fail "bob was not moved: $(cat "$work/ours.16")"
grep -q '(0 errors)' "$work/ours.20" || fail "dbcheck found errors: $(tail -n 20 "$work/ours.20")"
note "samba-tool: $steps steps give the same on both"
