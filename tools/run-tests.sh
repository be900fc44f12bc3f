#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the whole suite
# (then the memory-checked part under valgrind) and ends with the line
# "N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/tools/install-deps.sh" || exit 1
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" "$root" >/dev/null || exit 1
else
    meson setup "$build" "$root" >/dev/null || exit 1
fi
ninja -C "$build" || { echo "0 passed, 1 failed"; exit 1; }

logs=()
rm -f "$build/meson-logs/main.json"
meson test -C "$build" --num-processes 2 --print-errorlogs --logbase main
logs+=("$build/meson-logs/main.json")
if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
    # meson names the log <logbase>-<setup>.json
    rm -f "$build/meson-logs/memcheck-valgrind.json"
    meson test -C "$build" --setup valgrind --suite valgrind --num-processes 2 --print-errorlogs --logbase memcheck
    logs+=("$build/meson-logs/memcheck-valgrind.json")
fi
python3 "$root/tools/count-results.py" "${logs[@]}"
