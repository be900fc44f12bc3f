#!/usr/bin/env bash
# The six packages of tools/make-debs.sh installed over Debian's, for real,
# on this machine, then Debian's put back.  Runs as root, after every other
# test (tools/run-tests.sh's last stage; `meson test` leaves it out unless
# asked for with --setup systeminstall --suite system-install): while ours
# are installed, nothing else may use the system libraries as the oracle.
#
# With ours installed: apt-get check and dpkg --audit are clean, no package
# was removed or changed besides the six, dpkg --verify passes, and Debian's
# python3-samba and python3-ldb (`import samba, ldb, talloc`, then
# samba_ldb.py: LoadParm, pidl types, samba.Ldb searches returning messages)
# work with no launcher and no environment, giving the transcript they gave
# on Debian's packages, with /proc/self/maps showing only our files.
#
# Debian's packages are put back from their .debs (apt's cache, or
# apt-get download of the installed version, fetched before anything is
# touched) by an EXIT trap, so a failure midway restores them as well; the
# restore is checked against the package list taken before.  Should even
# that be cut short (SIGKILL), the backups and a note stay in $state_dir and
# the next run restores them first.
#
# SYSTEM_INSTALL_SANDBOX=overlay runs all of it (the restore included) in a
# private mount namespace whose / is an overlay on the machine's /: for a
# machine others work on, whose system libraries must not change under
# them. The CI machine runs it for real.
if [ "${SYSTEM_INSTALL_SANDBOX:-}" = overlay ] && [ -z "${SYSTEM_INSTALL_IN_SANDBOX:-}" ]; then
    : "${SRC_ROOT:?}" "${BUILD_ROOT:?}"
    command -v unshare >/dev/null || { echo "FAIL: system-install: unshare is missing" >&2; exit 1; }
    sb=$(mktemp -d /var/tmp/system-install-sandbox.XXXXXX)
    mkdir -p "$sb/upper" "$sb/work" "$sb/root"
    st=0
    # shellcheck disable=SC2016  # (expanded by the inner shell)
    unshare -m --propagation private bash -c '
        set -e
        sb=$1; shift
        mount -t overlay overlay -o "lowerdir=/,upperdir=$sb/upper,workdir=$sb/work" "$sb/root"
        for d in proc sys dev; do mount --rbind "/$d" "$sb/root/$d"; done
        exec chroot "$sb/root" env SYSTEM_INSTALL_IN_SANDBOX=1 "$@"' sandbox "$sb" \
        SRC_ROOT="$SRC_ROOT" BUILD_ROOT="$BUILD_ROOT" PATH="$PATH" bash "$0" "$@" || st=$?
    rm -rf "$sb"
    exit $st
fi
[ -n "${SYSTEM_INSTALL_IN_SANDBOX:-}" ] && echo "-- in a sandbox: a private mount namespace, / an overlay on the machine's"
# shellcheck source=tests/integration/common.sh
. "$SRC_ROOT/tests/integration/common.sh"
# shellcheck source=tests/python/lib.sh
. "$SRC_ROOT/tests/python/lib.sh"
py=/usr/bin/python3
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg --print-architecture)
state_dir=/var/tmp/talloc-tevent-cxx-system-install
packages=(libtalloc2 libtalloc-dev libtevent0 libtevent-dev python3-talloc python3-talloc-dev)
declare -A ours=([libtalloc2]=2.5.0-1 [libtalloc-dev]=2.5.0-1 [libtevent0]=0.17.2-1 [libtevent-dev]=0.17.2-1
                 [python3-talloc]=2.5.0-1 [python3-talloc-dev]=2.5.0-1)
[ "$(id -u)" -eq 0 ] || fail "installing packages needs root"
for t in apt-get dpkg dpkg-deb dpkg-query; do need $t apt; done
export DEBIAN_FRONTEND=noninteractive
snapshot() { dpkg-query -W -f='${binary:Package} ${Version} ${db:Status-Abbrev}\n' | LC_ALL=C sort; }

# restore_debian: Debian's six from $state_dir, checked against the list
# taken before installing ours; 0 when the machine is as it was.
restore_debian() {
    [ -f "$state_dir/installed" ] || return 0
    echo "-- restoring Debian's packages from $state_dir"
    if ! dpkg -i "$state_dir"/debs/*.deb >"$state_dir/restore.log" 2>&1; then
        cat "$state_dir/restore.log" >&2
        echo "FAIL: $test_name: dpkg could not put Debian's packages back (see above; debs in $state_dir/debs)" >&2
        return 1
    fi
    snapshot >"$state_dir/after-restore"
    if ! diff -u "$state_dir/before" "$state_dir/after-restore" >&2; then
        echo "FAIL: $test_name: after the restore the package list differs from before (above)" >&2
        return 1
    fi
    apt-get check >/dev/null 2>&1 || { echo "FAIL: $test_name: apt-get check fails after the restore" >&2; return 1; }
    rm -rf "$state_dir"
    echo "-- Debian's packages are back: $(dpkg-query -W -f='${Package} ${Version}, ' "${packages[@]}")"
}

# A run cut short earlier left ours installed: put Debian's back first.
if [ -f "$state_dir/installed" ]; then
    restore_debian || fail "an earlier run left our packages installed, and restoring Debian's failed"
fi
rm -rf "$state_dir"

for p in "${packages[@]}"; do
    v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || fail "Debian's $p is not installed (tools/install-deps.sh installs it)"
    [ "$v" != "${ours[$p]}" ] || fail "$p $v is installed: ours, not Debian's; put Debian's back first"
done
$py -c 'import samba, ldb, talloc' || fail "$py cannot import samba, ldb and talloc on Debian's packages"

# Debian's .debs, before anything changes.
mkdir -p "$state_dir/debs"
for p in "${packages[@]}"; do
    v=$(dpkg-query -W -f='${Version}' "$p")
    cached=/var/cache/apt/archives/${p}_${v//:/%3a}_$arch.deb
    if [ -f "$cached" ]; then
        cp "$cached" "$state_dir/debs/"
    else
        (cd "$state_dir/debs" && apt-get download -qq "$p=$v" >/dev/null 2>&1) ||
            { rm -rf "$state_dir"; fail "no .deb of Debian's $p $v (not in apt's cache, apt-get download failed): cannot promise to restore it"; }
    fi
done
for p in "${packages[@]}"; do
    deb=$(ls "$state_dir"/debs/"${p}"_*.deb)
    [ "$(dpkg-deb -f "$deb" Package)" = "$p" ] && [ "$(dpkg-deb -f "$deb" Version)" = "$(dpkg-query -W -f='${Version}' "$p")" ] ||
        { rm -rf "$state_dir"; fail "$deb is not the installed $p"; }
done

# The reference transcript, on Debian's packages.
mkdir -p "$work/ref.dir" "$work/ours.dir"
clean_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)
(cd "$work" && "${clean_env[@]}" $py "$SRC_ROOT/tests/python/samba_ldb.py" "$work/ref.dir" "$work/ref.dir/maps" \
    >"$work/ref" 2>&1) || fail "samba_ldb.py fails on Debian's packages: $(tail -n 20 "$work/ref")"
grep -q '^search: 3 results' "$work/ref" || fail "the reference run found no messages"

# Our packages (the build directory is the one the debs test uses).
"$SRC_ROOT/tools/make-debs.sh" --build "$BUILD_ROOT/integration-debs" --out "$work/debs" >"$work/make-debs.log" 2>&1 ||
    { rm -rf "$state_dir"; cat "$work/make-debs.log" >&2; fail "tools/make-debs.sh failed"; }
debs=()
for p in "${packages[@]}"; do debs+=("$work/debs/${p}_${ours[$p]}_$arch.deb"); done

snapshot >"$state_dir/before"
# What apt would do: install the six, remove nothing.
apt-get -s install --no-remove "${debs[@]}" >"$work/simulate" 2>&1 ||
    { rm -rf "$state_dir"; cat "$work/simulate" >&2; fail "apt-get refuses to install our packages over Debian's"; }
if grep -q '^Remv ' "$work/simulate"; then rm -rf "$state_dir"; grep '^Remv ' "$work/simulate" >&2; fail "apt would remove packages"; fi

# From here on the trap puts Debian's back, whatever happens.
: >"$state_dir/installed"
trap 'st=$?; trap - EXIT INT TERM HUP; restore_debian || st=1; if [ $st -eq 0 ]; then rm -rf "$work"; else echo "(scratch files kept in $work)" >&2; fi; exit $st' EXIT
trap 'exit 130' INT TERM HUP
apt-get install -y -q --no-remove -o Dpkg::Options::=--force-confold "${debs[@]}" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "apt-get install of our packages failed"; }
note "installed: $(dpkg-query -W -f='${Package} ${Version}, ' "${packages[@]}")"

# The package database.
apt-get check >"$work/check.log" 2>&1 || { cat "$work/check.log" >&2; fail "apt-get check fails with ours installed"; }
audit=$(dpkg --audit 2>&1) || fail "dpkg --audit failed: $audit"
[ -z "$audit" ] || fail "dpkg --audit reports: $audit"
dpkg --verify "${packages[@]}" || fail "dpkg --verify: files of our packages differ from their md5sums"
snapshot >"$work/after"
for p in "${packages[@]}"; do
    grep -q "^$p:$arch ${ours[$p]} ii $" "$work/after" || fail "$p: $(grep "^$p:" "$work/after")"
done
# Everything else as it was: the same packages, versions and states.
grep -vE "^($(IFS='|'; echo "${packages[*]}")):" "$state_dir/before" >"$work/others.before"
grep -vE "^($(IFS='|'; echo "${packages[*]}")):" "$work/after" >"$work/others.after"
diff -u "$work/others.before" "$work/others.after" >&2 || fail "installing ours changed other packages (above)"
note "apt-get check and dpkg --audit clean; $(wc -l <"$work/others.after") other packages unchanged, none removed"

# Debian's Python modules on the installed libraries, no launcher.
"${clean_env[@]}" $py -c 'import samba, ldb, talloc' || fail "import samba, ldb, talloc fails with ours installed"
(cd "$work" && "${clean_env[@]}" $py "$SRC_ROOT/tests/python/samba_ldb.py" "$work/ours.dir" "$work/ours.dir/maps" \
    >"$work/ours" 2>&1) || fail "samba_ldb.py fails with ours installed: $(tail -n 20 "$work/ours")"
same_samba_transcripts "samba_ldb.py with our packages installed"
want="/usr/lib/python3/dist-packages/talloc.cpython-311-x86_64-linux-gnu.so
/usr/lib/$ma/libpytalloc-util.cpython-311-x86-64-linux-gnu.so.2.5.0
/usr/lib/$ma/libtalloc.so.2.5.0
/usr/lib/$ma/libtevent.so.0.17.2"
[ "$(cat "$work/ours.dir/maps")" = "$want" ] || fail "with ours installed the process mapped: $(cat "$work/ours.dir/maps")"
# The module's path is Debian's too: its content must be our package's.
for f in $want; do
    owner=$(dpkg -S "$f" 2>/dev/null | cut -d: -f1)
    case " ${packages[*]} " in *" $owner "*) ;; *) fail "$f belongs to '$owner', not to one of ours" ;; esac
    sum=$(dpkg-deb --ctrl-tarfile "$work/debs/${owner}_${ours[$owner]}_$arch.deb" | tar -xO ./md5sums | awk -v f="${f#/}" '$2 == f {print $1}')
    [ -n "$sum" ] && [ "$(md5sum <"$f" | cut -d' ' -f1)" = "$sum" ] || fail "$f is not the file of our $owner"
done
note "python3-samba/python3-ldb on the installed packages: same transcript as on Debian's; mapped only our files"
