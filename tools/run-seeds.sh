#!/usr/bin/env bash
# Builds the libraries and runs the seed programs (../shared/seeds) against
# them: the talloc seeds compiled with plain cc against our headers and
# library, and the tevent seeds as built by meson on our libraries.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/tools/install-deps.sh" || exit 1
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" "$root" >/dev/null || exit 1
else
    meson setup "$build" "$root" >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || exit 1

status=0
"$root/tests/seeds/run-seeds.sh" "$build" || status=1
tevent_seeds=$(meson test -C "$build" --list 2>/dev/null | awk -F' / ' '/tevent-seed/ && !/reference/ {print $2}')
if [ -n "$tevent_seeds" ]; then
    echo "== tevent seeds (001: threaded immediates over a pipe, 003: request/reply through thread proxies)"
    # shellcheck disable=SC2086
    meson test -C "$build" --no-rebuild --print-errorlogs $tevent_seeds || status=1
fi
exit $status
