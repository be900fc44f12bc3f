#!/usr/bin/env bash
# Builds a libFuzzer harness with clang (AddressSanitizer and UBSan on the
# whole library, compiled from source into the harness) and runs it.
#   tools/fuzz/run.sh talloc|tevent [SECONDS]    default 60
# CI runs each for a few seconds; a longer run is e.g.
#   tools/fuzz/run.sh tevent 3600
# The corpus lives in $FUZZ_DIR/corpus-TARGET (default build-fuzz/) and grows
# across runs; a crash leaves crash-* files there, replayed with
#   build-fuzz/TARGET_fuzz build-fuzz/crash-...
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:-talloc}
seconds=${2:-60}
out=${FUZZ_DIR:-$root/build-fuzz}
mkdir -p "$out/corpus-$target"
# -fno-sanitize=function: destructors are set the talloc way, as functions
# taking the object's own type called through int (*)(void *), which every
# talloc user does (talloc_set_destructor casts); only the C++ check sees it.
# TAL_INTERNAL_CHECKS: the library's own consistency checks (TAL_ASSERT in
# lib/talloc/chunk.hpp) run under the fuzzer too.
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-sanitize=function -fno-exceptions -fno-rtti -D_GNU_SOURCE -DTAL_INTERNAL_CHECKS=1
       -I"$root/compat" -I"$root/lib")
talloc_src=("$root"/lib/talloc/*.cpp "$root/compat/talloc_exports.cpp")
case "$target" in
talloc) src=("${talloc_src[@]}") ;;
tevent) src=("${talloc_src[@]}" "$root"/lib/tevent/*.cpp "$root"/compat/tevent*_exports.cpp) ;;
*) echo "usage: $0 talloc|tevent [SECONDS]" >&2; exit 2 ;;
esac
# Objects are compiled in parallel and kept: reruns only recompile what
# changed, a source, or any header or this script (its flags), which every
# object may depend on.
objs=()
mkdir -p "$out/obj-$target"
stale() {
    [ ! -f "$1" ] || [ "$2" -nt "$1" ] ||
        [ -n "$(find "$root/lib" "$root/compat" "$root/tools/fuzz" \( -name '*.h' -o -name '*.hpp' -o -name run.sh \) \
                -newer "$1" -print -quit)" ]
}
for f in "${src[@]}" "$root/tools/fuzz/${target}_fuzz.cpp"; do
    # named after the directory too: lib/talloc and lib/tevent both have a
    # thread_check.cpp
    o="$out/obj-$target/$(basename "$(dirname "$f")")-$(basename "$f").o"
    objs+=("$o")
    if stale "$o" "$f"; then
        clang++ "${flags[@]}" -c -o "$o" "$f" &
    fi
done
wait
for o in "${objs[@]}"; do [ -f "$o" ] || { echo "compile failed: $o" >&2; exit 1; }; done
clang++ "${flags[@]}" -o "$out/${target}_fuzz" "${objs[@]}" -lpthread
cd "$out"
"$out/${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=20 \
    -print_final_stats=1 "$out/corpus-$target"
