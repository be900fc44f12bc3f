#!/usr/bin/env bash
# Debian's python3-samba and python3-ldb, unchanged, on our libtalloc,
# libtevent and Python bindings (libpytalloc-util and the talloc module,
# through tools/launch --python): samba_ldb.py makes LoadParm, pidl types,
# credentials, a session and samba.Ldb/ldb.Ldb objects, passes them to C
# and searches for messages. Its transcript must be the one it gives on
# Debian's libraries, and each run must have mapped what it was meant to:
# the launcher's record, and the process's own /proc/self/maps.
# shellcheck source=tests/integration/common.sh
. "$SRC_ROOT/tests/integration/common.sh"
# shellcheck source=tests/python/lib.sh
. "$SRC_ROOT/tests/python/lib.sh"
py=/usr/bin/python3
ours_libs=(-b "$BUILD_ROOT" --python)
$py -c 'import samba.param, ldb, talloc' 2>/dev/null ||
    fail "$py cannot import samba.param, ldb and talloc: install python3-samba, python3-ldb, python3-talloc"
script=$SRC_ROOT/tests/python/samba_ldb.py
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

mkdir -p "$work/ref.dir" "$work/ours.dir"
run_on ref "$work/ref" talloc,tevent,pytalloc $py "$script" "$work/ref.dir" "$work/ref.dir/maps"
run_on ours "$work/ours" talloc,tevent,pytalloc $py "$script" "$work/ours.dir" "$work/ours.dir/maps"
maps_report "$work/ours.maps"

grep -q '^--- exit status 0$' "$work/ref" || fail "the reference run failed: $(tail -n 20 "$work/ref")"
grep -q '^search: 3 results' "$work/ref" || fail "the reference run found no messages: $(head -n 30 "$work/ref")"
same_samba_transcripts "python3-samba and python3-ldb on our Python bindings"

# /proc/self/maps of each run: Debian's four files, then exactly ours.
want_ref="/usr/lib/python3/dist-packages/talloc.cpython-311-x86_64-linux-gnu.so
/usr/lib/$ma/libpytalloc-util.cpython-311-x86-64-linux-gnu.so.2.4.0
/usr/lib/$ma/libtalloc.so.2.4.0
/usr/lib/$ma/libtevent.so.0.14.1"
[ "$(cat "$work/ref.dir/maps")" = "$want_ref" ] || fail "the reference run mapped: $(cat "$work/ref.dir/maps")"
want_ours="$(readlink -f "$BUILD_ROOT"/lib/pytalloc/libpytalloc-util.cpython-311-x86-64-linux-gnu.so.2)
$(readlink -f "$BUILD_ROOT"/lib/pytalloc/talloc.cpython-311-x86_64-linux-gnu.so)
$(readlink -f "$BUILD_ROOT"/lib/talloc/libtalloc.so.2)
$(readlink -f "$BUILD_ROOT"/lib/tevent/libtevent.so.0)"
[ "$(cat "$work/ours.dir/maps")" = "$want_ours" ] || fail "our run mapped: $(cat "$work/ours.dir/maps")"
note "samba.param, pidl types, credentials, samba.Ldb and ldb searches: same transcript ($(wc -l <"$work/ref") lines) on our libtalloc, libtevent, libpytalloc-util and talloc module"
