# shellcheck shell=bash disable=SC2034  # (ours_libs and the like are read by the tests)
# Sourced by every integration test (tests/integration/*.sh).
#
# Each test runs the same unchanged program twice: once on Debian's
# libtalloc/libtevent (the reference) and once on ours, both through
# tools/launch, which records what every process of the run really mapped.
# A run counts only if the library it was meant to use is the one mapped:
# --require fails the run when, say, a program meant to run on ours got
# the system's copy (an RPATH, a setuid helper, a clean environment...),
# because then comparing the two transcripts would prove nothing.
#
# meson passes SRC_ROOT and BUILD_ROOT (tests/integration/meson.build).
# Exit codes follow meson: 0 pass, 77 skip (with the reason on stdout),
# anything else fail.
set -euo pipefail

: "${SRC_ROOT:?SRC_ROOT must name the source tree}"
: "${BUILD_ROOT:?BUILD_ROOT must name the meson build directory}"

# meson test puts the build's library directories in LD_LIBRARY_PATH; the
# reference runs would then load ours. Which library a run gets is the
# launcher's business alone.
unset LD_LIBRARY_PATH LD_PRELOAD

launcher=$SRC_ROOT/tools/launch
# Where the launcher takes our libraries from: the build tree by default; a
# test of an installed tree sets this to (-L that-tree's-libdir).
ours_libs=(-b "$BUILD_ROOT")
test_name=$(basename "$0" .sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/integration-$test_name.XXXXXX")
# Keep the scratch directory of a failed run for a look, remove it otherwise.
trap 'st=$?; if [ $st -eq 0 ] || [ $st -eq 77 ]; then rm -rf "$work"; else echo "(scratch files kept in $work)" >&2; fi' EXIT

fail() { echo "FAIL: $test_name: $*" >&2; exit 1; }
skip() { echo "SKIP: $test_name: $*"; exit 77; }
note() { echo "-- $*"; }

# need PROGRAM DEBIAN-PACKAGE: the Debian binary under test must be there.
need() {
    command -v "$1" >/dev/null 2>&1 ||
        fail "$1 is missing: install the Debian package $2 (tools/install-deps.sh does)"
}

# run_on WHICH OUT LIBS COMMAND...
#   WHICH  ref          Debian's libraries (the launcher's --system)
#          ours         our libtalloc and libtevent
#          talloc-only  our libtalloc with Debian's libtevent
#   OUT    transcript file: the command's stdout, then its stderr, then
#          its exit status; OUT.maps gets the launcher's mapping report
#   LIBS   what must have been mapped and by whom: talloc, tevent or
#          talloc,tevent
# The command's own failure is not a test failure here: the exit status
# is part of the transcript and gets compared.
run_on() {
    local which=$1 out=$2 libs=$3 how=()
    shift 3
    case $which in
    ref) how=(--system) ;;
    ours) how=() ;;
    talloc-only) how=(--talloc-only) ;;
    *) fail "run_on: unknown library set $which" ;;
    esac
    local st=0
    "$launcher" "${ours_libs[@]}" "${how[@]}" --require "$libs" --show-to "$out.maps" -- "$@" \
        >"$out.stdout" 2>"$out.stderr" </dev/null || st=$?
    # The launcher's own complaints end with this line; anything else that
    # exits 125 is the command's business.
    if grep -q '^launch: requirement not met' "$out.stderr"; then
        cat "$out.maps" "$out.stderr" >&2
        fail "$which run of '$*' did not map the expected lib$libs"
    fi
    grep -q '^launch: ' "$out.stderr" && { cat "$out.stderr" >&2; fail "launcher error for '$*'"; }
    { cat "$out.stdout"; echo "--- stderr"; cat "$out.stderr"; echo "--- exit status $st"; } >"$out"
    return 0
}

# same REF OURS WHAT: the two transcripts must be equal; show the
# difference otherwise.
same() {
    if ! diff -u "$1" "$2" >"$work/diff.out"; then
        head -n 60 "$work/diff.out" >&2
        fail "$3: the transcript on our libraries differs from the reference's (above: - reference, + ours)"
    fi
}

# maps_report FILE: the launcher's report, for the test log, so a reader
# sees which library file each process had.
maps_report() { sed 's/^/   /' "$1"; }
