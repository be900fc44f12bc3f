#!/usr/bin/env bash
# Builds the libFuzzer harness for talloc with clang (AddressSanitizer and
# UBSan on the whole library) and runs it.
#   tools/fuzz/run.sh [SECONDS]    default 60; CI runs a short smoke run
# The corpus lives in build-fuzz/corpus and grows across runs.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
out=${FUZZ_DIR:-$root/build-fuzz}
mkdir -p "$out/corpus"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -D_GNU_SOURCE -I"$root/compat" -I"$root/lib")
clang++ "${flags[@]}" -o "$out/talloc_fuzz" "$root/tools/fuzz/talloc_fuzz.cpp" \
    "$root"/lib/talloc/*.cpp "$root/compat/talloc_exports.cpp" -lpthread
"$out/talloc_fuzz" -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=1 "$out/corpus"
