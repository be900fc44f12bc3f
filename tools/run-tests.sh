#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the whole suite,
# then the memory-checked part under valgrind, the whole suite again built
# with AddressSanitizer+UBSan, and the threaded tests built with
# ThreadSanitizer, last the packages installed over Debian's (and Debian's
# put back); ends with the line "N passed, N failed" over all stages.
#
#   BUILD_DIR=dir        default build/ (the sanitizer builds go to dir-asan
#                        and dir-tsan)
#   SKIP_VALGRIND=1      leave out the valgrind stage
#   SKIP_SANITIZERS=1    leave out the ASan and TSan stages
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/tools/install-deps.sh" || exit 1

# configure DIR [meson options...]
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$root" "$@" >/dev/null
    else
        meson setup "$dir" "$root" "$@" >/dev/null
    fi
}

configure "$build" || exit 1
ninja -C "$build" || { echo "0 passed, 1 failed"; exit 1; }

logs=()
# meson names the log <logbase>.json, or <logbase>-<setup>.json with a setup.
run_stage() {
    local dir=$1 logbase=$2 log=$3
    shift 3
    rm -f "$dir/meson-logs/$log.json"
    meson test -C "$dir" --num-processes 2 --print-errorlogs --logbase "$logbase" "$@"
    logs+=("$dir/meson-logs/$log.json")
}

run_stage "$build" main main
if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
    run_stage "$build" memcheck memcheck-valgrind --setup valgrind --suite valgrind
fi

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
    # AddressSanitizer + UBSan: every test (the differential and reference
    # tests, which run Debian's uninstrumented libraries, are not built).
    # UBSan only reports by default; here any report fails the test.
    asan=$build-asan
    if configure "$asan" -Dsanitize_address=true -Dreference_tests=false && ninja -C "$asan"; then
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_stage "$asan" asan asan
    else
        echo "ASan build failed" >&2
        logs+=("$asan/meson-logs/asan-build-failed.json")
    fi

    # ThreadSanitizer: the tests whose point is threads, built alone (the
    # rest would only add build time).  Any report fails the test (TSan
    # exits 66).
    tsan=$build-tsan
    tsan_targets=(tests/seeds/seed_000_thread_transfer tests/seeds/seed_002_tsd_getenv
                  tests/seeds/seed_004_tsd_destructors tests/tevent/api/tevent_api_threads
                  tests/tevent/api/tevent_api_signal_threads tests/tevent/api/tevent_api_crossthread
                  tests/seeds/seed_thread_pipe
                  tests/seeds/seed_proxy_reply tests/stress/stress_threaded_immediates
                  tests/stress/stress_seed_003 tests/stress/stress_seed_000
                  tests/talloc/api/talloc_thread_check tests/tevent/threads/tevent_thread_check)
    tsan_tests=(seed-000 seed-000-stress seed-002 seed-004 tevent-api-threads
                tevent-api-signal-threads tevent-api-crossthread
                tevent-seed-001-epoll tevent-seed-001-poll tevent-seed-001-poll_mt tevent-seed-001-standard
                tevent-seed-003-epoll tevent-seed-003-poll tevent-seed-003-poll_mt tevent-seed-003-standard
                tevent-seed-003-own-immediate-x100
                stress-threaded-immediates-epoll stress-threaded-immediates-poll
                stress-seed-003-64x1000 stress-seed-000-x5
                talloc-thread-check-overlap talloc-thread-check-null-tracking talloc-thread-check-clean
                talloc-thread-check-off-overlap talloc-thread-check-off-null-tracking talloc-thread-check-off-clean
                tevent-thread-check-timers tevent-thread-check-proxy tevent-thread-check-allowed tevent-thread-check-nested
                seed-000-threadcheck seed-000-stress-threadcheck seed-002-threadcheck seed-004-threadcheck
                tevent-seed-001-threadcheck tevent-seed-003-threadcheck stress-seed-000-threadcheck
                stress-seed-003-64-threadcheck stress-threaded-immediates-threadcheck)
    if configure "$tsan" -Dsanitize_thread=true -Dreference_tests=false && ninja -C "$tsan" "${tsan_targets[@]}"; then
        run_stage "$tsan" tsan tsan --no-rebuild "${tsan_tests[@]}"
    else
        echo "TSan build failed" >&2
        logs+=("$tsan/meson-logs/tsan-build-failed.json")
    fi
fi

# Last, alone: our packages installed over Debian's and Debian's put back
# (tests/python/system-install.sh); nothing may run on the system
# libraries meanwhile.
run_stage "$build" final final-systeminstall --setup systeminstall --suite system-install

python3 "$root/tools/count-results.py" "${logs[@]}"
