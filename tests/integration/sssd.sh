#!/usr/bin/env bash
# Debian's sssd, unchanged (the monitor, sssd_be, sssd_nss and sssd_pam are
# tevent programs on talloc throughout, and so is sssctl), with the files
# provider over a private passwd and group file: no external directory is
# needed. sssd's paths (/var/lib/sss for its caches and sockets,
# /var/log/sssd, /etc/sssd, its pid file under /run) are fixed when it is
# built, so the session runs in a mount namespace of its own (unshare -m)
# where private directories are mounted over those paths, and over
# /etc/nsswitch.conf one that sends passwd and group lookups to sss: the
# machine's sssd, if any, and its files are not touched. In the namespace
# sssd runs interactively (in the foreground, logging to stderr), getent,
# id and sssctl ask it about users and groups, known and unknown, then it
# is stopped by its PID. Once on Debian's libraries and once on ours; the
# answers and sssd's log must be the same after masking times and paths.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
need sssd sssd-common
need sssctl sssd-tools
[ -e /usr/lib/x86_64-linux-gnu/sssd/libsss_files.so ] || [ -n "$(find /usr/lib -name libsss_files.so -print -quit)" ] ||
    fail "sssd's files provider (libsss_files.so, package sssd-common) is missing"
ls /lib/*/libnss_sss.so.2 >/dev/null 2>&1 || fail "libnss_sss.so.2 is missing (package libnss-sss)"
[ "$(id -u)" -eq 0 ] || skip "a private mount namespace for sssd's fixed paths needs root"
unshare -m true 2>/dev/null || fail "unshare -m does not work here: sssd's fixed paths cannot be made private"

# The session inside the namespace: DIR is the side's private directory.
cat >"$work/inner.sh" <<'INNER'
d=$1
mount --bind "$d/lib" /var/lib/sss
mount --bind "$d/log" /var/log/sssd
mount --bind "$d/etc" /etc/sssd
mount --bind "$d/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$d/run" /run
sssd -i --logger=stderr -d 0x0070 2>"$d/sssd.log" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for i in $(seq 1 300); do [ -S /var/lib/sss/pipes/nss ] && break; sleep 0.2; done
# the responders answer once the back end is online
for i in $(seq 1 300); do getent passwd alice >/dev/null && break; sleep 0.2; done
ask() { echo "== $*"; "$@" 2>&1; echo "== status $?"; }
ask getent passwd alice
ask getent passwd 20002
ask getent group testers
ask getent group admins
ask getent passwd mallory
ask id alice
ask id bob
ask sssctl domain-list
ask sssctl domain-status test --active
ask sssctl user-checks alice -s sss_test -a acct
ask sssctl user-show alice
ask sssctl group-show testers
ask sssctl cache-expire -E
ask getent group testers
kill "$pid"
wait "$pid"
echo "== sssd exit status $?"
trap - EXIT
INNER

session() {
    local side=$1 d
    d=$work/$side
    mkdir -p "$d"/{lib/db,lib/deskprofile,lib/gpo_cache,lib/mc,lib/pipes/private,lib/pubconf,lib/secrets,log,etc/conf.d,run}
    chmod 700 "$d/lib/db" "$d/lib/pipes/private" "$d/etc"
    cat >"$d/etc/sssd.conf" <<CONF
[sssd]
services = nss, pam
domains = test

[nss]

[pam]

[domain/test]
id_provider = files
passwd_files = $d/passwd
group_files = $d/group
CONF
    chmod 600 "$d/etc/sssd.conf"
    printf 'alice:x:20001:20001:Alice Liddell:/home/alice:/bin/sh\nbob:x:20002:20001:Bob Builder:/home/bob:/bin/bash\n' >"$d/passwd"
    printf 'testers:x:20001:alice,bob\nadmins:x:20003:alice\n' >"$d/group"
    printf 'passwd: files sss\ngroup: files sss\nshadow: files\nhosts: files\n' >"$d/nsswitch.conf"
    run_on "$side" "$work/$side.session" talloc,tevent unshare -m --propagation private bash "$work/inner.sh" "$d"
    cp "$d/sssd.log" "$work/$side.log"
}
session ref
session ours
maps_report "$work/ours.session.maps"

for side in ref ours; do
    for f in "$work/$side.session" "$work/$side.log"; do
        mask "$f" "s#$work/$side#SIDE#g" 's/^([0-9: -]*)/(TIME)/' \
            's/^\(\s*\)\(Cache entry creation date\|Cache entry expiration time\|Cache entry last update time\|Initgroups expiration time\|Cached in InfoPipe\).*/\1\2: T/'
    done
    # the responders start side by side: their lines come in any order
    sed -i 's/\]\[[0-9]\+\]/][PID]/g' "$work/$side.log"
    # At the end the monitor SIGTERMs its children, which free their context
    # and raise SIGTERM again; whether one is seen to exit or to die of the
    # signal races the monitor's own exit, and varies between runs on the
    # reference too (nss exited, pam signalled, and the other way round).
    # That the signal's action comes back when the context goes is checked
    # by tevent-api-signal and by samba-fileserver (smbd's exit status).
    sed -i 's/\(Child \[[a-z]*\]\) \(exited gracefully\|terminated with a signal\)$/\1 ended/' "$work/$side.log"
    # Every process announces its debug level as it starts, all at once,
    # and their writes to the one log can run into each other mid-line
    # (seen on the reference): those lines say nothing about the libraries.
    sed -i '/Starting with debug level/d' "$work/$side.log"
    sort -s -o "$work/$side.log" "$work/$side.log"
done
same "$work/ref.session" "$work/ours.session" "the session's answers"
same "$work/ref.log" "$work/ours.log" "sssd's log"
grep -qx 'alice:x:20001:20001:Alice Liddell:/home/alice:/bin/sh' "$work/ours.session.stdout" || fail "alice not found through sss: $(head -n 20 "$work/ours.session")"
grep -qx 'testers:x:20001:alice,bob' "$work/ours.session.stdout" || fail "group testers not found through sss"
grep -A1 -x '== getent passwd mallory' "$work/ours.session.stdout" | grep -qx '== status 2' || fail "an unknown user was found"
grep -qx '== sssd exit status 0' "$work/ours.session.stdout" || fail "sssd did not stop cleanly: $(tail -n 5 "$work/ours.session")"
note "sssd: the answers through NSS and sssctl and sssd's log are the same on both"
