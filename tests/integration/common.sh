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
# more launcher options for run_on (start_service sets --pid-to)
launch_extra=()
# Where the launcher takes our libraries from: the build tree by default; a
# test of an installed tree sets this to (-L that-tree's-libdir).
ours_libs=(-b "$BUILD_ROOT")
test_name=$(basename "$0" .sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/integration-$test_name.XXXXXX")
# Keep the scratch directory of a failed run for a look, remove it otherwise;
# services still running are stopped first (stop_all_services, below).
trap 'st=$?; stop_all_services; if [ $st -eq 0 ] || [ $st -eq 77 ]; then rm -rf "$work"; else echo "(scratch files kept in $work)" >&2; fi' EXIT
# A timeout (meson sends SIGTERM) must run that too: the services are in
# sessions of their own, out of reach of a signal to the test's group.
trap 'exit 143' TERM INT HUP

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
# The command reads its stdin from the file named by run_stdin (default
# /dev/null). The command's own failure is not a test failure here: the exit status
# is part of the transcript and gets compared.
# write_transcript OUT STATUS: OUT from OUT.stdout and OUT.stderr, with the
# exit status line last.
write_transcript() {
    { cat "$1.stdout"; echo "--- stderr"; cat "$1.stderr"; echo "--- exit status $2"; } >"$1"
}

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
    "$launcher" "${ours_libs[@]}" "${how[@]}" "${launch_extra[@]}" --require "$libs" --show-to "$out.maps" -- "$@" \
        >"$out.stdout" 2>"$out.stderr" <"${run_stdin:-/dev/null}" || st=$?
    # The launcher's own complaints end with this line; anything else that
    # exits 125 is the command's business.
    if grep -q '^launch: requirement not met' "$out.stderr"; then
        cat "$out.maps" "$out.stderr" >&2
        fail "$which run of '$*' did not map the expected lib$libs"
    fi
    grep -q '^launch: ' "$out.stderr" && { cat "$out.stderr" >&2; fail "launcher error for '$*'"; }
    write_transcript "$out" "$st"
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

# A session is a numbered series of steps on one side. step COMMAND...
# runs the next one with run_on, on the caller's $side (ref or ours) and
# $libs (default talloc,tevent), counting in the caller's $n: transcript
# $work/$side.$n, the command line in $work/$side.$n.cmd.
step() {
    n=$((n + 1))
    echo "$*" >"$work/$side.$n.cmd"
    run_on "$side" "$work/$side.$n" "${libs:-talloc,tevent}" "$@"
}

# mask_steps SIDE COUNT SED...: mask (below) steps 1..COUNT of SIDE, the
# side's own directory $work/SIDE named SIDE first.
mask_steps() {
    local side=$1 count=$2 i
    shift 2
    for i in $(seq 1 "$count"); do mask "$work/$side.$i" "s#$work/$side#SIDE#g" "$@"; done
}

# same_steps WHAT COUNT: steps 1..COUNT of the two sides must be the same.
same_steps() {
    local i
    for i in $(seq 1 "$2"); do
        same "$work/ref.$i" "$work/ours.$i" "$1 step $i ($(cut -c1-80 "$work/ours.$i.cmd"))"
    done
}

# maps_report FILE: the launcher's report, for the test log, so a reader
# sees which library file each process had.
maps_report() { sed 's/^/   /' "$1"; }

# ---- services and programs that need a private setup -------------------------

# private_smb_conf DIR [LINES...]: DIR/smb.conf with a [global] section that
# keeps every Samba directory (state, cache, locks, private, pid, logs,
# sockets) under DIR, so a Samba program run with -s DIR/smb.conf touches
# nothing of the machine's. LINES go on at the end of [global] (or start
# shares of their own).
private_smb_conf() {
    local dir=$1
    shift
    mkdir -p "$dir"/{state,cache,lock,private,pid,log,ncalrpc,binddns}
    {
        echo "[global]"
        echo "    state directory = $dir/state"
        echo "    cache directory = $dir/cache"
        echo "    lock directory = $dir/lock"
        echo "    private dir = $dir/private"
        echo "    binddns dir = $dir/binddns"
        echo "    pid directory = $dir/pid"
        echo "    ncalrpc dir = $dir/ncalrpc"
        echo "    log file = $dir/log/log.%m"
        echo "    interfaces = 127.0.0.1 ::1"
        echo "    bind interfaces only = yes"
        printf '    %s\n' "$@"
    } >"$dir/smb.conf"
}

# subunit_verdict FILE: FILE holds a subunit-like report (smbtorture's
# "test: NAME" / "success: NAME" / "failure: NAME [...]" / "error: NAME"
# lines). Prints one line per case that did not succeed and returns 1 if
# any: a failure or error line (with the reason that follows it in
# brackets), or a case started but never reported a success (the program
# died in it).
subunit_verdict() {
    awk '
        /^test: / { t = substr($0, 7); started[t] = 1; order[++n] = t; next }
        /^success: / { ok[substr($0, 10)] = 1; next }
        /^(failure|error|uxsuccess|skip|xfail): / { print; bad = 1; why = /\[$/; next }
        why { print "    " $0; if ($0 == "]") why = 0; next }
        END {
            for (i = 1; i <= n; i++)
                if (!(order[i] in ok)) { print "no success line for case: " order[i]; bad = 1 }
            if (n == 0) { print "no case was run"; bad = 1 }
            exit bad
        }' "$1"
}

# successes FILE: the names of the cases that reported success, sorted.
successes() { sed -n 's/^success: //p' "$1" | sort; }

# A service runs in the foreground under the launcher, in the background of
# the test: start_service starts it, stop_service stops it by its PID and
# makes its transcript (as run_on does). The EXIT trap stops what is left.
services=()   # OUT of each service started and not stopped

# start_service WHICH OUT LIBS COMMAND...: as run_on, in the background;
# returns once the service's process exists (OUT.pid holds its PID). Its
# environment gets INTEGRATION_SERVICE=OUT, which its processes inherit
# (those that detach from it as well): service_pids finds them by that.
# It runs in a session of its own: a daemon that signals its process group
# must not hit the test.
start_service() {
    local out=$2 i
    rm -f "$out.pid"
    ( launch_extra=(--pid-to "$out.pid" --new-session); run_on "$1" "$2" "$3" env INTEGRATION_SERVICE="$out" "${@:4}" ) &
    echo $! >"$out.runner"
    services+=("$out")
    for i in $(seq 1 100); do
        [ -s "$out.pid" ] && return 0
        sleep 0.1
    done
    fail "service '${*:4}' did not start"
}

# service_pids OUT: the PIDs of the processes the service started as OUT
# has now, its own included.
service_pids() {
    local f
    for f in $(grep -lzxF "INTEGRATION_SERVICE=$1" /proc/[0-9]*/environ 2>/dev/null); do
        f=${f#/proc/}; echo "${f%/environ}"
    done
}

# service_ended OUT: the service started with OUT has no main process any
# more (it ended, by itself or stopped).
service_ended() {
    ! kill -0 "$(cat "$1.pid")" 2>/dev/null
}

# stop_service OUT [SIGNAL [GRACE]]: sends SIGNAL (TERM) to the service's
# PID and waits for it to end; its helpers get GRACE seconds (0) to notice
# and exit by themselves (what they print then is part of the log), those
# still there SIGKILL. Fails if the launcher found the wrong libraries
# mapped in any of its processes.
stop_service() {
    local out=$1 sig=${2:-TERM} grace=${3:-0} pid kids i st=0
    pid=$(cat "$out.pid")
    kids=$(service_pids "$out")
    kill -"$sig" "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        service_ended "$out" && break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid" 2>/dev/null || true; }
    for i in $(seq 1 $((grace * 10))); do
        [ -n "$(service_pids "$out")" ] || break
        sleep 0.1
    done
    for k in $kids $(service_pids "$out"); do kill -KILL "$k" 2>/dev/null || true; done
    wait "$(cat "$out.runner")" || st=$?
    # run_on wrote the transcript when the launcher ended, with the service's
    # main process; its helpers may have written on until just now (an
    # event daemon that notices its parent gone): the transcript is made
    # again from the finished files, with the exit status run_on saw.
    if [ -f "$out" ]; then
        local status_line
        status_line=$(tail -n 1 "$out")
        write_transcript "$out" "${status_line#--- exit status }"
    fi
    local rest=()
    for s in "${services[@]}"; do [ "$s" = "$out" ] || rest+=("$s"); done
    services=("${rest[@]}")
    [ $st -eq 0 ] || fail "service run in $out failed (above)"
}

# stop_all_services: for the EXIT trap; whatever is still running is killed.
stop_all_services() {
    local out pid
    for out in "${services[@]}"; do
        [ -s "$out.pid" ] || continue
        pid=$(cat "$out.pid")
        for k in $(service_pids "$out") "$pid"; do kill -KILL "$k" 2>/dev/null || true; done
    done
    services=()
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds;
# fails naming WHAT after SECONDS.
wait_until() {
    local secs=$1 what=$2 i
    shift 2
    for i in $(seq 1 $((secs * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "$what: not after ${secs} s"
}

# free_port: a TCP port of 127.0.0.1 nobody listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# mask FILE SED-EXPR...: in place, the parts that differ between any two
# runs become fixed words: first what the SED-EXPRs say (they come first,
# so they can name paths under the scratch directory), then the scratch
# directory and dates.
mask() {
    local f=$1
    shift
    local args=() e
    for e in "$@"; do args+=(-e "$e"); done
    args+=(-e "s#$work#WORK#g"
        -e 's/[0-9]\{4\}[-/][0-9]\{2\}[-/][0-9]\{2\}[ T][0-9:.,]\{8,\}/DATE/g'
        -e 's/\(Mon\|Tue\|Wed\|Thu\|Fri\|Sat\|Sun\) \(Jan\|Feb\|Mar\|Apr\|May\|Jun\|Jul\|Aug\|Sep\|Oct\|Nov\|Dec\) [ 0-9][0-9] [0-9:]\{8\} [0-9]\{4\}/DATE/g')
    sed -i "${args[@]}" "$f"
}

# service_maps WHICH OUT LIBS: every process the service started as OUT
# has now, forked children included (a fork maps nothing new, so the
# loader's record of the launcher does not see it), must have mapped each
# of LIBS from the copy WHICH (ref or ours) names, read from
# /proc/PID/maps. Appends "PID NAME LIBRARY-FILE" lines to OUT.procmaps.
service_maps() {
    local which=$1 out=$2 libs=$3 pid lib so path n=0
    declare -A want=()
    for lib in ${libs//,/ }; do
        case $lib in talloc) so=libtalloc.so.2 ;; *) so=libtevent.so.0 ;; esac
        if [ "$which" = ours ]; then
            want[$lib]=$(readlink -f "$BUILD_ROOT/lib/$lib/$so")
        else
            want[$lib]=$(readlink -f "$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')")
        fi
    done
    for pid in $(service_pids "$out"); do
        [ -r "/proc/$pid/maps" ] || continue
        n=$((n + 1))
        for lib in "${!want[@]}"; do
            path=$(awk -v l="/lib$lib.so" 'index($6, l) { print $6; exit }' "/proc/$pid/maps" 2>/dev/null) || true
            if [ -z "$path" ]; then
                kill -0 "$pid" 2>/dev/null || continue   # gone meanwhile
                fail "$which: process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) of the service has no lib$lib mapped"
            fi
            [ "$(readlink -f "$path")" = "${want[$lib]}" ] ||
                fail "$which: process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) of the service mapped $path, not ${want[$lib]}"
            echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null) $path" >>"$out.procmaps"
        done
    done
    [ $n -gt 0 ] || fail "$which: the service $out has no process to check"
}
