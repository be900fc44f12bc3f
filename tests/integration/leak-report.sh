#!/usr/bin/env bash
# What a Samba program leaves allocated at exit, as its own leak report
# shows it (smbclient --leak-report prints the chunks left under talloc's
# null context), must be the same on ours as on Debian's: the report is
# part of what Samba's users and developers read. Today it is not: the
# reference's libtevent registers its four backends as four top-level
# "struct tevent_ops_list" chunks, which appear in every such report (ctdb
# prints the same chunks in its exit report), and ours does not. This is
# that comparison alone, kept apart so that it fails on its own until
# ours matches; the other Samba tests compare everything else.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
need smbclient smbclient
private_smb_conf "$work/conf"
port=$(free_port)   # nobody listens there: the connection is refused
for side in ref ours; do
    run_on $side "$work/$side" talloc,tevent smbclient -s "$work/conf/smb.conf" --leak-report -N -L 127.0.0.1 -p "$port"
    mask "$work/$side" 's/0x[0-9a-f]\+$/ADDRESS/'
done
grep -q "^talloc report on 'null_context'" "$work/ref" || fail "the reference printed no leak report: $(cat "$work/ref")"
same "$work/ref" "$work/ours" "smbclient --leak-report (the reference's four 'struct tevent_ops_list' chunks are known to be missing on ours)"
note "smbclient's leak report is the same on both"
