#!/usr/bin/env bash
# Debian's Samba file server, unchanged: smbd (in the foreground, with the
# samba-dcerpcd and rpcd_* helpers it starts on demand, and a forked smbd
# per client) serving smbclient on 127.0.0.1/::1 at a free port, all state
# in a private directory. The same session runs on Debian's libraries and
# on ours: testparm, smbpasswd and pdbedit on the private passdb, a share
# list, put and get of many small files and one large one (checksums of
# what came back compared with what was sent), rename, delete, a wrong
# password and a wrong share (both must be refused), net against the
# server. Every step's output and exit status, and smbd's own log, must be
# the same on both after masking ports, dates, pids and paths. Every
# process of the server — forked children and the helpers, which detach
# from smbd — is checked through /proc to have mapped the intended
# libraries, besides the launcher's record of all programs started.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
need smbd samba
need smbclient smbclient
for t in testparm smbpasswd pdbedit net; do need $t samba-common-bin; done
[ "$(id -u)" -eq 0 ] || skip "smbd needs root to serve a share (it changes to the user's uid)"

# The files: many small ones, one large one.
mkdir -p "$work/files"
for i in $(seq -w 1 100); do
    head -c $((10#$i * 37)) /dev/urandom >"$work/files/small$i.bin"
done
head -c $((16 * 1024 * 1024)) /dev/urandom >"$work/files/large.bin"
(cd "$work/files" && sha256sum -- * | sort -k2) >"$work/files.sha256"
printf 'Secret-pw-1\nSecret-pw-1\n' >"$work/password"

session() {
    local side=$1 n=0 d port
    d=$work/$side
    port=$(free_port)
    private_smb_conf "$d" "smb ports = $port" "passdb backend = tdbsam" "disable netbios = yes" \
        "workgroup = TESTGRP" "netbios name = INTEGRATION" "server role = standalone server" \
        "load printers = no" "printcap name = /dev/null" "disable spoolss = yes" \
        "server string = integration test" "log level = 1"
    mkdir -p "$d/share" "$d/back"
    printf '[data]\n    path = %s\n    read only = no\n' "$d/share" >>"$d/smb.conf"
    local conf=$d/smb.conf client=(smbclient -s "$d/smb.conf" -p "$port" -U root%Secret-pw-1)
    step testparm -s "$conf"
    run_stdin=$work/password step smbpasswd -c "$conf" -s -a root
    step pdbedit -s "$conf" -L
    start_service "$side" "$work/$side.smbd" talloc,tevent \
        smbd -s "$conf" --foreground --no-process-group --debug-stdout
    wait_until 60 "smbd on port $port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    step "${client[@]}" -L 127.0.0.1
    step "${client[@]}" -L ::1
    step "${client[@]}" //127.0.0.1/data -c "lcd $work/files; prompt off; mput small*; put large.bin; ls"
    step "${client[@]}" //127.0.0.1/data -c "rename small001.bin renamed.bin; del small002.bin; mkdir sub; ls"
    step "${client[@]}" //127.0.0.1/data -c "lcd $d/back; prompt off; mget *.bin; allinfo renamed.bin"
    step smbclient -s "$conf" -p "$port" -U root%wrong-password //127.0.0.1/data -c ls
    step "${client[@]}" //127.0.0.1/nosuchshare -c ls
    step net -s "$conf" rpc info -I 127.0.0.1 -p "$port" -U root%Secret-pw-1
    step net -s "$conf" rpc user -I 127.0.0.1 -p "$port" -U root%Secret-pw-1
    step net -s "$conf" getlocalsid
    step net -s "$conf" status sessions
    step pdbedit -s "$conf" -L -w
    # While a client is connected, the server has a child for it and the
    # helpers: every one of them must have mapped the intended libraries.
    mkfifo "$d/commands"
    start_service "$side" "$work/$side.held" talloc,tevent \
        bash -c 'exec "$@" <"$0"' "$d/commands" "${client[@]}" //127.0.0.1/data
    exec 5>"$d/commands"
    # (smbclient's output to a file is buffered: watch the file it puts)
    echo "put $work/password held.txt" >&5
    wait_until 60 "the held smbclient session" test -s "$d/share/held.txt"
    rm -f "$work/$side.smbd.procmaps"
    service_maps "$side" "$work/$side.smbd" talloc,tevent
    echo quit >&5
    exec 5>&-
    # smbclient quits by itself; a signal sent before it has would cut its
    # last lines (and its exit status) short, on either side.
    wait_until 30 "the held smbclient session quitting" service_ended "$work/$side.held"
    stop_service "$work/$side.held"
    stop_service "$work/$side.smbd"
    steps=$n
}
session ref
session ours
maps_report "$work/ours.smbd.maps"
note "processes of the server checked while a client was connected:"
sed 's/^/   /' "$work/ours.smbd.procmaps"
# checked: the parent, the client's forked smbd, the forked helpers, the
# RPC server and its workers
checked=$(awk '{ print $2 }' "$work/ours.smbd.procmaps" | sort | uniq -c | awk '{ print $2 "=" $1 / 2 }' | tr '\n' ' ')
for p in smbd=2 smbd-notifyd= cleanupd= samba-dcerpcd= rpcd_classic=; do
    case " $checked" in *" $p"*) ;; *) fail "not checked, or not as many as expected: $p (checked: $checked)" ;; esac
done

# What comes back is what was sent (less the renamed and deleted files).
for side in ref ours; do
    (cd "$work/$side/back" && mv renamed.bin small001.bin && sha256sum -- * | sort -k2) >"$work/$side.back.sha256"
    grep -v ' small002.bin$' "$work/files.sha256" >"$work/sent.sha256"
    same "$work/sent.sha256" "$work/$side.back.sha256" "$side: the checksums of the files got back"
done

for side in ref ours; do
    for i in $(seq 1 "$steps") smbd held; do
        # The listings come in the order of each side's directory; the
        # transfers report their rate.
        sed -i -e 's/(\(average \)\?[0-9.]* [A-Za-z]*\/s[a-z]*)/(RATE)/g' -e 's/smb ports = [0-9]*/smb ports = PORT/' -e '/^smb: \\> $/d' "$work/$side.$i"
        sort -s -o "$work/$side.$i" "$work/$side.$i"
        # "allinfo" shows dates, smbd logs pids and times, the lists name
        # the random port and, on IPv6, a temporary client port
        mask "$work/$side.$i" "s#$work/$side#SIDE#g" \
            's/\(pid\|PID\)[ =:]*[0-9]\+/\1 N/g' 's/:[0-9]\{4,5\}\b/:PORT/g' \
            's/^\(create\|access\|write\|change\)_time:.*/\1_time: T/' \
            's/ \(Mon\|Tue\|Wed\|Thu\|Fri\|Sat\|Sun\) [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\} [0-9]\{4\}$/ DATE/' \
            's/[0-9]\+ blocks of size [0-9]\+\. [0-9]\+ blocks available/N blocks/' \
            's/^\(Last change time\|Password last set\|Password can change\|Logon time\):.*/\1: T/' \
            's/\(blocking_lock_count\|file_id\|fileid\):.*/\1: N/' \
            's/S-1-5-21-[0-9-]*/SID/g' 's/^Sequence number: .*/Sequence number: N/' 's/:LCT-[0-9A-F]*:/:LCT-T:/'
    done
done
same_steps samba "$steps"
same "$work/ref.smbd" "$work/ours.smbd" "smbd's log"
same "$work/ref.held" "$work/ours.held" "the held smbclient session"

# The session did what it says: shares listed, the wrong ones refused.
grep -q '^[[:space:]]*data[[:space:]]*Disk' "$work/ours.4" || fail "share list lacks [data]: $(cat "$work/ours.4")"
grep -q 'NT_STATUS_LOGON_FAILURE' "$work/ours.9" || fail "a wrong password was not refused: $(cat "$work/ours.9")"
grep -q 'NT_STATUS_BAD_NETWORK_NAME' "$work/ours.10" || fail "a wrong share was not refused: $(cat "$work/ours.10")"
grep -q 'renamed.bin' "$work/ours.7" || fail "rename: $(cat "$work/ours.7")"
note "samba file server: $steps steps, smbd's log and the held session give the same on both"
