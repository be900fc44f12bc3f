#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, if any is missing.
set -eu
packages=(meson ninja-build g++ gcc clang pkg-config python3 binutils valgrind
          catch2 libcmocka-dev libbsd-dev
          libtalloc-dev libtevent-dev    # the reference implementation (oracle)
          python3-talloc python3-ldb ldb-tools proot   # Debian programs of tests/integration
          python3-dev python3-talloc-dev python3-samba  # the Python bindings and tests/python
          samba-testsuite samba smbclient samba-common-bin   # tests/integration: real programs
          samba-ad-provision samba-dsdb-modules samba-vfs-modules
          freeradius freeradius-utils notmuch ctdb sssd-common sssd-proxy sssd-tools
          dpkg-dev lintian)              # tools/make-debs.sh
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The service packages (samba, freeradius, ctdb, sssd) would start their
# daemons on installing: a policy-rc.d that refuses every start keeps them
# down (the tests start their own, privately). Whatever was there before
# comes back afterwards, also when the installation fails.
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ] || [ -L "$policy" ]; then
    saved=$(mktemp /usr/sbin/.policy-rc.d.saved.XXXXXX)
    cp -a "$policy" "$saved"
fi
restore_policy() {
    if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# tools/install-deps.sh: no service starts while packages are installed\nexit 101\n' >"$policy"
chmod 755 "$policy"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
