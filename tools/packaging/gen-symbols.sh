#!/bin/sh
# gen-symbols.sh LIBRARY PACKAGE PREFIX DEV-PACKAGE: prints a dpkg symbols
# file for LIBRARY (a shared object with versioned symbols) on stdout.
#
# Every exported symbol is listed at its version node, and the package
# version it needs is the one the node is named after (TALLOC_2.1.0 -> 2.1.0):
# a program using only symbols of old nodes then depends on an old enough
# libtalloc2/libtevent0, whichever implementation provides it.
#   PREFIX is the node prefix with its underscore, e.g. TALLOC_ or TEVENT_;
#   DEV-PACKAGE the package with the header (Build-Depends-Package).
#   LIBRARY-NODE-PREFIX (optional) starts the name of a version node that
#   upstream names after the library (PYTALLOC_UTIL.CPYTHON_311_..._2.5.0);
#   its version is the number it ends with.
set -eu
lib=$1 pkg=$2 prefix=$3 dev=$4 libnode=${5:-}
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[ -n "$soname" ] || { echo "gen-symbols: $lib has no SONAME" >&2; exit 1; }
echo "$soname $pkg #MINVER#"
echo "* Build-Depends-Package: $dev"
nm -D --defined-only --with-symbol-versions "$lib" | awk -v prefix="$prefix" -v libnode="$libnode" '
    {
        sym = $NF
        n = index(sym, "@")
        if (n == 0 && $(NF - 1) == "A" && index(sym, prefix) == 1) {
            # the version node itself
            printf " %s@%s %s\n", sym, sym, substr(sym, length(prefix) + 1)
            next
        }
        if (n == 0 && $(NF - 1) == "A" && libnode != "" && index(sym, libnode) == 1 && match(sym, /_[0-9][0-9.]*$/)) {
            printf " %s@%s %s\n", sym, sym, substr(sym, RSTART + 1)
            next
        }
        if (n == 0) { print "gen-symbols: unversioned symbol " sym > "/dev/stderr"; bad = 1; next }
        name = substr(sym, 1, n - 1)
        node = substr(sym, n); sub(/^@+/, "", node)
        if (index(node, prefix) != 1) { print "gen-symbols: symbol " sym " outside " prefix "*" > "/dev/stderr"; bad = 1; next }
        ver = substr(node, length(prefix) + 1)
        printf " %s@%s %s\n", name, node, ver
    }
    END { exit bad }' >"${TMPDIR:-/tmp}/gen-symbols.$$" || { rm -f "${TMPDIR:-/tmp}/gen-symbols.$$"; exit 1; }
LC_ALL=C sort -u "${TMPDIR:-/tmp}/gen-symbols.$$"
rm -f "${TMPDIR:-/tmp}/gen-symbols.$$"
