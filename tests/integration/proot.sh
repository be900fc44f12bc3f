#!/usr/bin/env bash
# Debian's proot, unchanged, on our libtalloc: proot keeps the state of
# every traced process, binding and path translation in talloc memory. A
# short session with bindings, a fake root, a changed working directory
# and a few dozen traced execs must print the same on both libraries.
#
# proot needs ptrace. Where the kernel or the container forbids it
# (seccomp, Yama ptrace_scope 3, no CAP_SYS_PTRACE across user
# namespaces), proot cannot run on any library; the test then says so and
# reports a skip, which tools/run-tests.sh counts as not passed.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
need proot proot

# Can proot trace at all here? Try for real on Debian's libraries first.
if ! probe=$(proot /bin/true 2>&1); then
    scope=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo "not present")
    seccomp=$(awk '/^Seccomp:/ {print $2}' /proc/self/status)
    case $probe in
    *ptrace*|*"not permitted"*|*EPERM*)
        skip "ptrace is not permitted here (proot /bin/true said: $(echo "$probe" | head -n 2 | tr '\n' ' ');" \
             "Yama ptrace_scope: $scope; seccomp mode: $seccomp), so proot cannot run on any library" ;;
    *) fail "proot /bin/true fails on Debian's libraries for another reason: $probe" ;;
    esac
fi
note "ptrace is permitted: proot /bin/true runs"

mkdir -p "$work/data/sub"
printf 'hello from the bound directory\n' >"$work/data/hello.txt"
printf 'second file\n' >"$work/data/sub/two.txt"
# What runs inside proot: identity under -0, the bound directory through
# its guest path, the working directory, and many execs (each exec makes
# proot rebuild its loader and path state in talloc memory).
inner='id -u; id -g; pwd; cat hello.txt; ls -1 . sub; cat /mnt/sub/two.txt;
i=0; while [ $i -lt 40 ]; do /bin/true; i=$((i + 1)); done; echo "$i execs";
/bin/sh -c "exit 3"; echo "child exit $?"; readlink /proc/self/cwd'

for side in ref ours; do
    run_on $side "$work/$side" talloc proot -0 -b "$work/data:/mnt" -w /mnt /bin/sh -c "$inner"
done
maps_report "$work/ours.maps"
grep -q '^40 execs$' "$work/ref" || fail "the reference session did not run through: $(head -n 20 "$work/ref")"
grep -q '^hello from the bound directory$' "$work/ours" || fail "binding not seen on ours: $(head -n 20 "$work/ours")"
same "$work/ref" "$work/ours" "proot session"
note "proot: same session output on both ($(wc -l <"$work/ref") lines)"
