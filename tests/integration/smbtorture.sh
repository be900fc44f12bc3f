#!/usr/bin/env bash
# Upstream's own test suites for talloc and tevent, as Debian ships them
# compiled into smbtorture (package samba-testsuite): `smbtorture ncalrpc:
# local.talloc`, `local.event` or `local.tevent_req` (the argument names
# the suite) on Debian's libraries and on ours. The suites run in-process
# and need no server; smbtorture still reads an smb.conf, so a private one
# is given. Passes only when, on ours, every case that started reported
# success (no failure or error line; a case that crashed or aborted has no
# success line), including the suite's own umbrella case where it has one
# (local.talloc's "talloc"), and the cases that succeeded are exactly the
# reference's. The reference must pass too: if it does not, the machine is
# broken, not our library.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
suite=${1:?usage: smbtorture.sh local.talloc|local.event|local.tevent_req}
need smbtorture samba-testsuite
private_smb_conf "$work/conf"

for side in ref ours; do
    run_on $side "$work/$side" talloc,tevent smbtorture -s "$work/conf/smb.conf" ncalrpc: "$suite"
done
maps_report "$work/ours.maps"

if ! subunit_verdict "$work/ref.stdout" >"$work/ref.verdict" || ! grep -q '^--- exit status 0$' "$work/ref"; then
    cat "$work/ref.verdict" >&2; tail -n 20 "$work/ref" >&2
    fail "$suite does not pass on Debian's libraries: the environment is broken, nothing is known about ours"
fi
if ! subunit_verdict "$work/ours.stdout" >"$work/ours.verdict"; then
    sed 's/^/   /' "$work/ours.verdict" >&2
    echo "   last lines:" >&2; tail -n 15 "$work/ours" | sed 's/^/   /' >&2
    fail "$suite: not every case succeeds on our libraries ($(grep -c '^success: ' "$work/ours.stdout" || true) of $(grep -c '^success: ' "$work/ref.stdout") success lines)"
fi
grep -q '^--- exit status 0$' "$work/ours" || fail "$suite: smbtorture exits with $(tail -n 1 "$work/ours") on ours"
successes "$work/ref.stdout" >"$work/ref.cases"
successes "$work/ours.stdout" >"$work/ours.cases"
same "$work/ref.cases" "$work/ours.cases" "$suite: the cases that succeed"
note "$suite: all $(wc -l <"$work/ours.cases") cases succeed on ours, as on the reference"
