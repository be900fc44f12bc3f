#!/usr/bin/env bash
# tools/launch itself: the other integration tests trust its --require, so
# check here that it both passes and fails when it should, in both ways of
# putting our libraries in place, and that it leaves the command's exit
# status and output alone.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
py=/usr/bin/python3
[ -x $py ] || fail "$py is missing (Debian package python3)"
ours_talloc=$(readlink -f "$BUILD_ROOT/lib/talloc/libtalloc.so.2")
ours_tevent=$(readlink -f "$BUILD_ROOT/lib/tevent/libtevent.so.0")
L=("$launcher" -b "$BUILD_ROOT")

# expect STATUS COMMAND...: the launcher run must end with STATUS.
expect() {
    local want=$1 st=0
    shift
    "$@" >"$work/out" 2>"$work/err" </dev/null || st=$?
    [ $st -eq "$want" ] || { cat "$work/out" "$work/err" >&2; fail "exit status $st, not $want: $*"; }
}

# Both ways, python3 with ldb maps our two libraries and the report says so.
for how in --library-path --preload; do
    expect 0 "${L[@]}" $how --require talloc,tevent --show-to "$work/maps" $py -c 'import ldb; ldb.Ldb()'
    grep -qF "mapped $ours_talloc [ours]" "$work/maps" || fail "$how: report lacks our libtalloc: $(cat "$work/maps")"
    grep -qF "mapped $ours_tevent [ours]" "$work/maps" || fail "$how: report lacks our libtevent: $(cat "$work/maps")"
    grep -q 'not ours' "$work/maps" && fail "$how: something else was mapped too: $(cat "$work/maps")"
done
# In preload mode even a program that never asks for libtevent maps ours.
expect 0 "${L[@]}" --preload --require talloc,tevent /bin/true

# --require fails (125) when the named library is not mapped at all, or
# mapped from the system: a reference run checked against ours, and the
# other way round.
expect 125 "${L[@]}" --require talloc /bin/true
grep -q 'no process mapped libtalloc' "$work/err" || fail "unclear message: $(cat "$work/err")"
# A program that loads the other copy by its full path gets caught.
system_talloc=$(readlink -f /usr/lib/"$(dpkg-architecture -qDEB_HOST_MULTIARCH)"/libtalloc.so.2)
expect 125 "${L[@]}" --require talloc $py -c "import ctypes; ctypes.CDLL('$system_talloc')"
grep -qF "mapped $system_talloc, not ours" "$work/err" || fail "unclear message: $(cat "$work/err")"
expect 125 "${L[@]}" --system --require talloc $py -c "import ctypes; ctypes.CDLL('$ours_talloc')"
grep -qF "mapped our $ours_talloc, which was not to be replaced" "$work/err" || fail "unclear message: $(cat "$work/err")"
# --talloc-only: our libtalloc under the system's libtevent.
expect 0 "${L[@]}" --talloc-only --require talloc,tevent --show $py -c 'import ldb; ldb.Ldb()'
system_tevent=$(readlink -f /usr/lib/"$(dpkg-architecture -qDEB_HOST_MULTIARCH)"/libtevent.so.0)
grep -qF "mapped $ours_talloc [ours]" "$work/err" && grep -qF "mapped $system_tevent [not ours]" "$work/err" ||
    fail "--talloc-only report: $(cat "$work/err")"
expect 0 "${L[@]}" --system --require talloc,tevent $py -c 'import ldb; ldb.Ldb()'

# The command's status and output are its own, a crash included; the
# report still comes (the loader wrote it before main()).
expect 7 "${L[@]}" --require talloc $py -c 'import talloc, sys; print("out"); sys.exit(7)'
[ "$(cat "$work/out")" = out ] || fail "stdout changed: $(cat "$work/out")"
expect 134 "${L[@]}" --show --require talloc $py -c 'import talloc, os; os.abort()'
grep -qF "mapped $ours_talloc [ours]" "$work/err" || fail "no report after a crash: $(cat "$work/err")"
expect 127 "${L[@]}" /nonexistent/program
expect 125 "${L[@]}" --require nothing /bin/true
# --pid-to names the command's own process (the one a test stops by its
# PID), also through --new-session, which makes it a session leader; the
# status is still the command's, its stdin still the launcher's.
st=0
"${L[@]}" --require talloc --pid-to "$work/pid" --new-session $py -c \
    'import talloc, os, sys; print(os.getpid(), os.getsid(0), sys.stdin.read().strip()); sys.exit(5)' \
    <<<"from stdin" >"$work/out" 2>"$work/err" || st=$?
[ $st -eq 5 ] || { cat "$work/out" "$work/err" >&2; fail "--pid-to --new-session: exit status $st, not 5"; }
read -r self sid rest <"$work/out"
[ "$(cat "$work/pid")" = "$self" ] || fail "--pid-to wrote $(cat "$work/pid"), the command was $self"
[ "$sid" = "$self" ] || fail "--new-session: the command's session is $sid, not its own ($self)"
[ "$rest" = "from stdin" ] || fail "--pid-to: the command's stdin was not the launcher's: $(cat "$work/out")"
# Without --new-session the command stays in the caller's session.
expect 0 "${L[@]}" --system --pid-to "$work/pid" $py -c 'import os; print(os.getsid(0))'
[ "$(cat "$work/out")" = "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "the command left the caller's session: $(cat "$work/out")"
note "launcher: both modes, --require passing and failing, statuses kept, --pid-to and --new-session"
