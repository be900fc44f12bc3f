#!/bin/sh
# Runs a transcript program (linked against Debian's libtevent) twice: as
# linked, and with LD_LIBRARY_PATH pointing at our libraries; the two
# transcripts must be identical.
#
# usage: run-tevent-diff.sh PROGRAM OUR_LIBTEVENT [OUR_LIBTALLOC]
# (OUR_* are the built shared libraries; their directories go first in
# LD_LIBRARY_PATH.  Without OUR_LIBTALLOC both runs use the system talloc.)
set -u
prog=$1
ours_tevent=$2
ours_talloc=${3:-}

fail() { echo "run-tevent-diff: $*" >&2; exit 1; }

# meson test points LD_LIBRARY_PATH at the build tree; the reference run
# must see the system's libraries only.
unset LD_LIBRARY_PATH

[ -x "$prog" ] || fail "no program $prog"
[ -f "$ours_tevent" ] || fail "no library $ours_tevent"

# What the loader picks for the program as linked: the reference.
ref_tevent=$(ldd "$prog" | awk '$1 ~ /^libtevent\.so/ { print $3 }')
ref_talloc=$(ldd "$prog" | awk '$1 ~ /^libtalloc\.so/ { print $3 }')
[ -n "$ref_tevent" ] && [ -n "$ref_talloc" ] || fail "cannot find the reference libraries of $prog"
[ "$(readlink -f "$ref_tevent")" != "$(readlink -f "$ours_tevent")" ] ||
    fail "reference and ours are the same file: $ref_tevent"

tevent_dir=$(dirname "$(readlink -f "$ours_tevent")")
libpath=$tevent_dir
want_talloc=$ref_talloc
if [ -n "$ours_talloc" ]; then
    libpath=$(dirname "$(readlink -f "$ours_talloc")"):$libpath
    want_talloc=$ours_talloc
fi
# The loader looks for the soname, so that is what must be found there.
[ -e "$tevent_dir/libtevent.so.0" ] || fail "no libtevent.so.0 next to $ours_tevent"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

TEVENT_DIFF_EXPECT_LIB=$ref_tevent TEVENT_DIFF_EXPECT_TALLOC=$ref_talloc \
    "$prog" >"$tmp/reference.txt" 2>"$tmp/reference.err"
ref_rc=$?
LD_LIBRARY_PATH=$libpath \
    TEVENT_DIFF_EXPECT_LIB=$tevent_dir/libtevent.so.0 TEVENT_DIFF_EXPECT_TALLOC=$want_talloc \
    "$prog" >"$tmp/ours.txt" 2>"$tmp/ours.err"
ours_rc=$?

status=0
if [ $ref_rc -ne 0 ]; then
    echo "run-tevent-diff: the reference run failed ($ref_rc):" >&2
    cat "$tmp/reference.err" >&2
    status=1
fi
if [ $ours_rc -ne 0 ]; then
    echo "run-tevent-diff: our run failed ($ours_rc):" >&2
    cat "$tmp/ours.err" >&2
    status=1
fi
if ! diff -u "$tmp/reference.txt" "$tmp/ours.txt"; then
    echo "run-tevent-diff: transcripts differ (- reference, + ours)" >&2
    status=1
fi
[ $status -eq 0 ] && echo "run-tevent-diff: $(wc -l <"$tmp/ours.txt") identical lines"
exit $status
