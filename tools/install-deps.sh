#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, if any is missing.
set -eu
packages=(meson ninja-build g++ gcc clang pkg-config python3 binutils valgrind
          catch2 libcmocka-dev libbsd-dev
          libtalloc-dev libtevent-dev    # the reference implementation (oracle)
          python3-talloc python3-ldb ldb-tools proot   # Debian programs of tests/integration
          python3-dev python3-talloc-dev python3-samba  # the Python bindings and tests/python
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
