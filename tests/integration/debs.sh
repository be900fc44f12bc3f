#!/usr/bin/env bash
# tools/make-debs.sh end to end: the six packages are built (lintian
# errors fail the build), carry the names, files and metadata of Debian's
# libtalloc2, libtalloc-dev, libtevent0, libtevent-dev, python3-talloc and
# python3-talloc-dev, satisfy every
# dependency that the installed Debian packages declare on them, install
# into a scratch root with dpkg (their own dependencies met by the host's
# libc6, libc6-dev and pkg-config), serve a Debian program and a program
# built with their pkg-config files there, and purge without leftovers.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
for t in dpkg dpkg-deb dpkg-query lintian; do need $t "dpkg-dev/lintian"; done
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg --print-architecture)

# The package build gets a build directory of its own, configured as
# Debian configures (prefix /usr, multiarch libdir, no tests); kept in the
# test build tree so that later runs rebuild only what changed.
start=$(date +%s)
"$SRC_ROOT/tools/make-debs.sh" --build "$BUILD_ROOT/integration-debs" --out "$work/debs" >"$work/make-debs.log" 2>&1 ||
    { cat "$work/make-debs.log" >&2; fail "tools/make-debs.sh failed"; }
note "make-debs.sh (build, packages, lintian) took $(($(date +%s) - start)) s"
sed -n '/^== lintian/,/^== packages/p' "$work/make-debs.log" | sed '$d'

declare -A version=([libtalloc2]=2.5.0-1 [libtalloc-dev]=2.5.0-1 [libtevent0]=0.17.2-1 [libtevent-dev]=0.17.2-1
                   [python3-talloc]=2.5.0-1 [python3-talloc-dev]=2.5.0-1)
packages=(libtalloc2 libtalloc-dev libtevent0 libtevent-dev python3-talloc python3-talloc-dev)
for p in "${packages[@]}"; do
    deb=$work/debs/${p}_${version[$p]}_$arch.deb
    [ -f "$deb" ] || fail "no $(basename "$deb") (named as Debian names it)"
    field() { dpkg-deb -f "$deb" "$1"; }
    [ "$(field Package)" = "$p" ] || fail "$deb: Package is $(field Package)"
    [ "$(field Version)" = "${version[$p]}" ] || fail "$deb: Version is $(field Version)"
    [ "$(field Architecture)" = "$arch" ] || fail "$deb: Architecture is $(field Architecture)"
    [ "$(field Multi-Arch)" = same ] || fail "$deb: Multi-Arch is '$(field Multi-Arch)', Debian's is same"
    # Section, Source and Breaks as Debian's own package says.
    for f in Section Source Breaks; do
        want=$(dpkg-query -W -f="\${$f}" "$p")
        [ "$(field $f)" = "$want" ] || fail "$deb: $f is '$(field $f)', Debian's is '$want'"
    done
    [ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ] || fail "$deb: no Maintainer or Description"

    # The files: Debian's list for the package (what dpkg -L says is
    # installed on this machine), with Debian's upstream versions turned
    # into ours. Left out on Debian's side: talloc_guide.txt.gz, upstream's
    # tutorial that Debian adds to libtalloc-dev and that has no
    # counterpart here.
    dpkg -L "$p" | while read -r f; do [ -d "$f" ] || echo "$f"; done |
        sed -e 's/2\.4\.0/2.5.0/; s/0\.14\.1/0.17.2/' | grep -v '/talloc_guide\.txt\.gz$' | LC_ALL=C sort >"$work/$p.debian"
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's#^\./#/#' | LC_ALL=C sort >"$work/$p.ours"
    diff -u "$work/$p.debian" "$work/$p.ours" >&2 || fail "$p holds other files than Debian's $p (above: - Debian, + ours)"
    # Symbolic links point where Debian's do.
    dpkg-deb -c "$deb" | awk '$1 ~ /^l/ {print $6, $8}' | sed 's#^\./#/#' | while read -r link target; do
        dtarget=$(readlink "$(echo "$link" | sed 's/2\.5\.0/2.4.0/; s/0\.17\.2/0.14.1/')" | sed 's/2\.4\.0/2.5.0/; s/0\.14\.1/0.17.2/')
        [ "$target" = "$dtarget" ] || fail "$p: $link -> $target, Debian's points to $dtarget"
    done
done
note "names, versions, sections, files and links are those of Debian's packages"

# Shared library metadata: the shlibs line, and a symbols file that lists
# every symbol the library exports, at its version node.
for p in libtalloc2 libtevent0 python3-talloc; do
    deb=$work/debs/${p}_${version[$p]}_$arch.deb
    mkdir -p "$work/ctl/$p" "$work/x/$p"
    dpkg-deb -e "$deb" "$work/ctl/$p"
    dpkg-deb -x "$deb" "$work/x/$p"
    if [ $p = python3-talloc ]; then
        lib=libpytalloc-util.cpython-311-x86-64-linux-gnu; soversion=2
    else
        lib=${p%[0-9]}; soversion=${p: -1}
    fi
    so=$(ls "$work/x/$p/usr/lib/$ma/$lib.so".*.*.*)
    grep -qx "$lib $soversion $p (>= ${version[$p]%-1})" "$work/ctl/$p/shlibs" || fail "$p shlibs: $(cat "$work/ctl/$p/shlibs")"
    nm -D --defined-only --with-symbol-versions "$so" | awk '{print $NF}' | sed 's/@@*/@/' |
        awk -F@ 'NF == 2 {print $1 "@" $2} NF == 1 {print $1 "@" $1}' | LC_ALL=C sort >"$work/$p.exported"
    awk 'NR > 2 {print $1}' "$work/ctl/$p/symbols" | LC_ALL=C sort >"$work/$p.listed"
    diff -u "$work/$p.exported" "$work/$p.listed" >&2 || fail "$p symbols file does not list exactly the exported symbols"
    grep -qx 'activate-noawait ldconfig' "$work/ctl/$p/triggers" || fail "$p has no ldconfig trigger"
done
dpkg-deb -f "$work/debs/libtevent0_${version[libtevent0]}_$arch.deb" Depends | grep -q 'libtalloc2 (>= ' ||
    fail "libtevent0 does not depend on libtalloc2"
# python3-talloc pins libtalloc2 exactly and names the Python versions, as
# Debian's does (whose relations are checked against the host's below).
dpkg-deb -f "$work/debs/python3-talloc_${version[python3-talloc]}_$arch.deb" Depends |
    grep -q "^libtalloc2 (= ${version[libtalloc2]}), python3 (<< 3.12), python3 (>= 3.11~), " ||
    fail "python3-talloc depends on: $(dpkg-deb -f "$work/debs/python3-talloc_${version[python3-talloc]}_$arch.deb" Depends)"

# Every installed Debian package that depends on one of the four must
# accept ours in its place: check each versioned relation against our
# version (Depends, Pre-Depends and Breaks alike). The one kind of
# relation no other build can meet is an exact (=) pin from a package of
# the same Debian source (python3-talloc, built with libtalloc2, needs
# exactly that libtalloc2): those are listed, not failed; such a package
# stays usable on our library through tools/launch.
# (fields split at a control character: a tab is white space to `read`,
# which would merge the empty Source field of most packages away)
# shellcheck disable=SC2016  # the ${...} are dpkg-query's, not the shell's
dpkg-query -W -f="$(printf '${Package}\037${Source}\037${Depends}, ${Pre-Depends}\037${Breaks}')\n" >"$work/host-relations"
checked=0
while IFS=$'\037' read -r pkg source deps breaks; do
    source=${source%% *}; [ -n "$source" ] || source=$pkg
    for kind in depends breaks; do
        if [ $kind = depends ]; then rels=$deps; else rels=$breaks; fi
        # split on commas and alternatives; keep relations naming our packages
        while read -r rel; do
            name=${rel%% *}; name=${name%%:*}
            [ -n "${version[$name]:-}" ] || continue
            op=$(echo "$rel" | sed -n 's/.*(\([<>=]*\) *\([^)]*\)).*/\1/p')
            ver=$(echo "$rel" | sed -n 's/.*(\([<>=]*\) *\([^)]*\)).*/\2/p')
            [ -n "$op" ] || { checked=$((checked + 1)); echo "   $pkg: $rel" >>"$work/accepted"; continue; }   # unversioned
            case $op in '>='|'>>') dop=${op/>>/gt}; dop=${dop/>=/ge} ;; '<='|'<<') dop=${op/<</lt}; dop=${dop/<=/le} ;; '=') dop=eq ;; esac
            if dpkg --compare-versions "${version[$name]}" "$dop" "$ver"; then ok=1; else ok=0; fi
            if [ $kind = depends ] && [ $ok = 0 ]; then
                if [ "$op" = "=" ] && { [ "$source" = talloc ] || [ "$source" = tevent ]; }; then
                    case $pkg in libtalloc-dev|libtevent-dev|python3-talloc|python3-talloc-dev) ;;   # replaced by ours too
                    *) note "note: $pkg (source $source) pins $rel: installing ours leaves that unmet" ;;
                    esac
                    continue
                fi
                fail "$pkg needs $rel; ours is ${version[$name]}"
            fi
            if [ $kind = breaks ] && [ $ok = 1 ]; then fail "$pkg breaks $rel, which ours is"; fi
            checked=$((checked + 1))
            echo "   $pkg: $kind $rel" >>"$work/accepted"
        done < <(echo "$rels" | tr ',|' '\n\n' | sed 's/^ *//; s/ *$//' | grep -v '^$')
    done
done < <(grep -E 'lib(talloc|tevent)' "$work/host-relations")   # the others name none of ours
[ $checked -gt 0 ] || fail "no installed package relates to libtalloc2/libtevent0 (python3-talloc, ldb-tools are expected)"
note "$checked relations of installed Debian packages to these packages accept our versions:"
cat "$work/accepted"

# The scratch root: an empty dpkg database, except that the packages ours
# depend on beyond each other (libc6, libc6-dev, pkg-config) are recorded
# as installed, copied from this machine's database, so dpkg checks the
# dependencies for real instead of being forced.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
: >"$root/var/lib/dpkg/status"
dpkg-query -W -f='${Package} ${Provides}\n' >"$work/host-provides"
for p in "${packages[@]}"; do dpkg-deb -f "$work/debs/${p}_${version[$p]}_$arch.deb" Depends; done |
    tr ',' '\n' | sed 's/^ *//; s/[ (:].*//' | sort -u | while read -r dep; do
        [ -n "${version[$dep]:-}" ] && continue
        # A name only provided by another package (pkg-config by pkgconf)
        # is satisfied through the provider's stanza.
        provider=$(awk -v d="$dep" '
            $1 == d {print $1; exit} { for (i = 2; i <= NF; i++) { p = $i; sub(/,$/, "", p); if (p == d) {print $1; exit} } }' "$work/host-provides")
        [ -n "$provider" ] || fail "$dep (a dependency of ours) is not installed on this machine"
        dpkg-query -s "$provider" >>"$root/var/lib/dpkg/status"
        echo >>"$root/var/lib/dpkg/status"
    done
dpkg --root="$root" --force-not-root --force-script-chrootless -i "$work"/debs/*.deb >"$work/dpkg-i.log" 2>&1 ||
    { cat "$work/dpkg-i.log" >&2; fail "dpkg could not install the packages into the scratch root"; }
for p in "${packages[@]}"; do
    st=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status} ${Version}' "$p")
    [ "$st" = "install ok installed ${version[$p]}" ] || fail "$p in the scratch root: $st"
done
dpkg --root="$root" --verify "${packages[@]}" || fail "dpkg --verify: installed files differ from the packages' md5sums"
note "installed into $root: $(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package} ' "${packages[@]}")"

# A Debian program on the installed libraries: ldbadd/ldbsearch.
ours_libs=(-L "$root/usr/lib/$ma")
printf 'dn: cn=pkg,dc=test\ncn: pkg\nobjectClass: person\n' >"$work/one.ldif"
(cd "$work" && run_on ours "$work/ldbadd" talloc,tevent ldbadd -H tdb://pkg.ldb "$work/one.ldif")
(cd "$work" && run_on ours "$work/ldbsearch" talloc,tevent ldbsearch -H tdb://pkg.ldb '(cn=pkg)' cn)
grep -q '^cn: pkg$' "$work/ldbsearch" || fail "ldbsearch on the packaged libraries: $(head -n 20 "$work/ldbsearch")"
maps_report "$work/ldbsearch.maps"

# Debian's python3-samba on the installed Python bindings.
ours_libs=(-L "$root/usr/lib/$ma" --python)
run_on ours "$work/samba" talloc,tevent,pytalloc /usr/bin/python3 -c '
import samba.param, talloc
from samba.dcerpc import security
lp = samba.param.LoadParm()
print(type(lp).__mro__[1], lp.get("workgroup"), str(security.dom_sid("S-1-5-32-544")))
print(sorted({l.split()[-1] for l in open("/proc/self/maps") if "talloc" in l.split()[-1]}))'
grep -q "^<class 'talloc.BaseObject'> WORKGROUP S-1-5-32-544$" "$work/samba" ||
    fail "python3-samba on the packaged bindings: $(head -n 20 "$work/samba")"
grep -q "'$root/usr/lib/python3/dist-packages/talloc.cpython-311-x86_64-linux-gnu.so'" "$work/samba" ||
    fail "the packaged talloc module was not the one imported: $(head -n 20 "$work/samba")"
maps_report "$work/samba.maps"
ours_libs=(-L "$root/usr/lib/$ma")

# A program built with the packaged headers, libraries and pkg-config
# files, run on the packaged libraries.
flags=$(PKG_CONFIG_LIBDIR=$root/usr/lib/$ma/pkgconfig PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR=$root \
    pkg-config --cflags --libs tevent talloc) || fail "pkg-config cannot read the packaged .pc files"
# shellcheck disable=SC2086
${CC:-cc} -O2 -Wno-deprecated-declarations -o "$work/pipe" "$SRC_ROOT/tests/seeds/seed_thread_pipe.c" $flags -lpthread ||
    fail "cannot build a tevent program with $flags"
run_on ours "$work/pipe.out" talloc,tevent "$work/pipe" --threads 8 --loops 3
grep -q '^--- exit status 0$' "$work/pipe.out" || fail "the program built on the packages failed: $(head -n 20 "$work/pipe.out")"

# Purge: nothing of the packages may stay behind.
dpkg --root="$root" --force-not-root --force-script-chrootless -P "${packages[@]}" >"$work/dpkg-P.log" 2>&1 ||
    { cat "$work/dpkg-P.log" >&2; fail "dpkg could not purge the packages"; }
left=$(cd "$root" && find . -path ./var -prune -o ! -type d -print)
[ -z "$left" ] || fail "files left after purging: $left"
note "packages built, checked, installed, used and purged"
