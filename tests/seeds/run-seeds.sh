#!/bin/sh
# Build the talloc seed programs the way a user builds their own program
# against the new library -- plain `cc`, our compat/talloc.h, our
# libtalloc.so.2 -- and run them with the dynamic loader pointed at it.
#
#   tests/seeds/run-seeds.sh [BUILD_DIR]     (default: build)
#
# BUILD_DIR must be a configured meson build directory of this project; the
# library is (re)built there first.  Each program prints
# "<name>: all checks passed" and exits 0, or lists the failed checks.
# Seeds 001 and 003 are about tevent and are not handled here.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-${BUILD_DIR:-build}}
case $build in /*) ;; *) build="$top/$build" ;; esac

[ -f "$build/build.ninja" ] || { echo "run-seeds: $build is not a configured meson build directory" >&2; exit 2; }
libdir="$build/lib/talloc"
ninja -C "$build" lib/talloc/libtalloc.so.2.5.0 >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM

status=0
for src in "$here"/seed_000_thread_transfer.c "$here"/seed_002_tsd_getenv.c "$here"/seed_004_tsd_destructors.c; do
	name=$(basename "$src" .c)
	${CC:-cc} -O2 -g -Wall -I"$top/compat" -I"$here" -o "$out/$name" "$src" \
		-L"$libdir" -ltalloc -lpthread
	# make sure the program really runs on our library
	mapped=$(LD_LIBRARY_PATH="$libdir" ldd "$out/$name" | awk '/libtalloc\.so\.2/ {print $3}')
	case $mapped in
	"$libdir"/*) ;;
	*) echo "$name: libtalloc resolves to '$mapped', not $libdir" >&2; status=1; continue ;;
	esac
	echo "== $name (libtalloc: $mapped)"
	if LD_LIBRARY_PATH="$libdir" "$out/$name" > "$out/$name.log" 2>&1; then
		tail -n 1 "$out/$name.log"
	else
		cat "$out/$name.log"
		echo "$name: FAILED" >&2
		status=1
	fi
done
exit $status
