#!/usr/bin/env bash
# tools/make-debs.sh: build Debian packages of our libraries under the names
# of the packages they replace: libtalloc2, libtalloc-dev, libtevent0,
# libtevent-dev, python3-talloc and python3-talloc-dev.
#
#   tools/make-debs.sh [--build DIR] [--out DIR] [--revision N]
#                      [--maintainer 'Name <mail>'] [--no-lintian]
#
# The libraries are built in their own meson build directory (default
# build-debs/) configured as Debian configures its packages: prefix /usr,
# multiarch libdir, buildtype plain with the flags of dpkg-buildflags, no
# tests. `meson install --destdir` lays the files out; every installed file
# must land in exactly one package. Shared libraries get a shlibs file, a
# symbols file (each symbol needs the version its node is named after) and
# the ldconfig trigger; dependencies on libc6, libtalloc2 and libpython3.11
# come from dpkg-shlibdeps as in a Debian build (python3-talloc, like
# Debian's, then pins the libtalloc2 of the same build exactly). The .debs are built with dpkg-deb,
# shown with dpkg-deb --info/--contents and checked with lintian, whose
# errors make the script fail.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/tools/packaging
build=$root/build-debs
out=$root/debs
revision=1
maintainer=""
run_lintian=1

die() { echo "make-debs: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --revision) revision=$2; shift 2 ;;
    --maintainer) maintainer=$2; shift 2 ;;
    --no-lintian) run_lintian=0; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
case $build in /*) ;; *) build=$PWD/$build ;; esac
case $out in /*) ;; *) out=$PWD/$out ;; esac

for tool in meson ninja dpkg-deb dpkg-shlibdeps dpkg-architecture dpkg-buildflags strip objdump nm; do
    command -v "$tool" >/dev/null || die "$tool is missing (tools/install-deps.sh installs it)"
done

arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$ma
talloc_version=$(sed -n "s/^talloc_version = '\(.*\)'.*/\1/p" "$root/meson.build")
tevent_version=$(sed -n "s/^tevent_version = '\(.*\)'.*/\1/p" "$root/meson.build")
[ -n "$talloc_version" ] && [ -n "$tevent_version" ] || die "cannot read the versions from meson.build"
talloc_deb=$talloc_version-$revision
tevent_deb=$tevent_version-$revision

# Same time stamps in every build of the same commit.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
if [ -z "$maintainer" ]; then
    if [ -n "${DEBEMAIL:-}" ]; then
        maintainer="${DEBFULLNAME:-talloc-tevent-cxx maintainers} <$DEBEMAIL>"
    else
        maintainer=$(git -C "$root" log -1 --format='%an <%ae>' 2>/dev/null || true)
    fi
    [ -n "$maintainer" ] || die "no maintainer known: pass --maintainer 'Name <mail>' or set DEBEMAIL"
fi

# ---- build and install ------------------------------------------------------------
if [ -f "$build/build.ninja" ]; then
    opts=$(meson introspect --buildoptions "$build" | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["libdir"], o["tests"])')
    [ "$opts" = "/usr lib/$ma False" ] ||
        die "$build is configured as (prefix libdir tests) '$opts', not '/usr lib/$ma False'; use another --build"
else
    echo "== configuring $build (prefix /usr, libdir lib/$ma, dpkg-buildflags)"
    (cd "$root" && eval "$(dpkg-buildflags --export=sh)" &&
        meson setup "$build" "$root" --prefix=/usr --libdir="lib/$ma" --buildtype=plain \
            -Dtests=false >"${build%/}.setup.log" 2>&1) ||
        { cat "${build%/}.setup.log" >&2; die "meson setup failed"; }
    rm -f "${build%/}.setup.log"
fi
echo "== building in $build"
ninja -C "$build" >/dev/null || { ninja -C "$build" >&2 || true; die "the build failed"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/make-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage
meson install -C "$build" --no-rebuild --quiet --destdir "$stage" >/dev/null

# What Debian's tools do to installed files: strip the libraries, no
# execute bit on them, compressed manual pages.
pydir=usr/lib/python3/dist-packages
for f in "$stage/$libdir"/lib*.so.*.*.* "$stage/$pydir"/*.so; do
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
    chmod 0644 "$f"
done
for f in "$stage/$libdir"/lib*.a; do
    [ -e "$f" ] || continue
    strip --strip-debug --remove-section=.comment --remove-section=.note --enable-deterministic-archives "$f"
    chmod 0644 "$f"
done
find "$stage/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
# Debian's libtalloc-dev/libtevent-dev point the development link at the
# fully versioned file (libtalloc.so -> libtalloc.so.2.5.0), not at the
# soname link meson makes; do the same.
ln -sfn "libtalloc.so.$talloc_version" "$stage/$libdir/libtalloc.so"
ln -sfn "libtevent.so.$tevent_version" "$stage/$libdir/libtevent.so"
# The Python bindings: names carry Python's tag (lib/pytalloc/meson.build).
pytalloc_so=$(cd "$stage/$libdir" && ls libpytalloc-util.*.so."$talloc_version" 2>/dev/null) ||
    die "meson install did not install libpytalloc-util (python3-dev missing at configure time?)"
pytalloc_lib=${pytalloc_so%.so.*}                       # libpytalloc-util.cpython-311-x86-64-linux-gnu
pytalloc_module=$(cd "$stage/$pydir" && ls talloc.*.so) || die "meson install did not install the talloc module"
pytalloc_pc=$(cd "$stage/$libdir/pkgconfig" && ls pytalloc-util.*.pc) || die "meson install did not install the pytalloc-util .pc file"
ln -sfn "$pytalloc_so" "$stage/$libdir/$pytalloc_lib.so"

# ---- the six packages ---------------------------------------------------------------
declare -A files=(
    [libtalloc2]="$libdir/libtalloc.so.2 $libdir/libtalloc.so.$talloc_version"
    [libtalloc-dev]="usr/include/talloc.h $libdir/libtalloc.so $libdir/libtalloc.a $libdir/pkgconfig/talloc.pc usr/share/man/man3/talloc.3.gz"
    [libtevent0]="$libdir/libtevent.so.0 $libdir/libtevent.so.$tevent_version"
    [libtevent-dev]="usr/include/tevent.h $libdir/libtevent.so $libdir/libtevent.a $libdir/pkgconfig/tevent.pc"
    [python3-talloc]="$pydir/$pytalloc_module $libdir/$pytalloc_lib.so.2 $libdir/$pytalloc_so"
    [python3-talloc-dev]="usr/include/pytalloc.h $libdir/$pytalloc_lib.so $libdir/pkgconfig/$pytalloc_pc"
)
packages=(libtalloc2 libtalloc-dev libtevent0 libtevent-dev python3-talloc python3-talloc-dev)

# Every installed file goes to exactly one package.
declare -A owner=()
for p in "${packages[@]}"; do
    for f in ${files[$p]}; do
        [ -e "$stage/$f" ] || [ -L "$stage/$f" ] || die "meson install did not install $f (for $p)"
        owner[$f]=$p
    done
done
while IFS= read -r f; do
    f=${f#./}
    [ -n "${owner[$f]:-}" ] || die "installed file $f belongs to no package"
done < <(cd "$stage" && find . ! -type d)

common_description() {
    cat <<'EOF'
 This build comes from talloc-tevent-cxx, which writes talloc 2.5.0 and
 tevent 0.17.2 anew in C++ and keeps their C interface, symbol versions and
 behaviour, so that existing programs run on it unchanged.
EOF
}
description() {
    case $1 in
    libtalloc2|libtalloc-dev)
        if [ "$1" = libtalloc2 ]; then
            echo "Description: hierarchical memory allocator with destructors - library"
        else
            echo "Description: hierarchical memory allocator with destructors - development"
        fi
        cat <<'EOF'
 talloc hands out memory as a tree: an allocation may have a parent, and
 freeing a parent frees everything below it. Allocations carry names and
 optional destructors, can be carved from pools or capped by limits, and the
 library can report what is allocated where.
 .
EOF
        common_description
        echo " ."
        if [ "$1" = libtalloc2 ]; then
            echo " This package holds the shared library."
        else
            echo " This package holds the header, the static library, the pkg-config file"
            echo " and the talloc(3) manual page."
        fi
        ;;
    libtevent0|libtevent-dev)
        if [ "$1" = libtevent0 ]; then
            echo "Description: event loop library built on talloc - library"
        else
            echo "Description: event loop library built on talloc - development"
        fi
        cat <<'EOF'
 tevent runs a main loop that waits for file descriptors, timers, signals,
 immediate events and events posted by other threads, and offers
 asynchronous requests (tevent_req) and queues whose state lives in talloc
 memory.
 .
EOF
        common_description
        echo " ."
        if [ "$1" = libtevent0 ]; then
            echo " This package holds the shared library."
        else
            echo " This package holds the header, the static library and the pkg-config"
            echo " file."
        fi
        ;;
    python3-talloc|python3-talloc-dev)
        if [ "$1" = python3-talloc ]; then
            echo "Description: hierarchical memory allocator with destructors - Python 3 bindings"
        else
            echo "Description: hierarchical memory allocator with destructors - Python 3 development"
        fi
        cat <<'EOF'
 talloc hands out memory as a tree: an allocation may have a parent, and
 freeing a parent frees everything below it. The Python bindings wrap
 talloc memory in Python objects (talloc.Object, talloc.BaseObject,
 talloc.GenericObject) that free it when Python lets go of them; Samba's
 and ldb's Python modules are built on them.
 .
EOF
        common_description
        echo " ."
        if [ "$1" = python3-talloc ]; then
            echo " This package holds the talloc module and the libpytalloc-util library."
        else
            echo " This package holds pytalloc.h and the pkg-config file of libpytalloc-util."
        fi
        ;;
    esac
}

changelog() {   # source version
    local date
    date=$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")
    cat <<EOF
$1 ($2) unstable; urgency=medium

  * Built by tools/make-debs.sh of talloc-tevent-cxx: lib$1 written in C++,
    with the C ABI of $1 ${2%-*}.

 -- $maintainer  $date
EOF
}

# dpkg-shlibdeps wants a debian/control naming the packages it works for.
mkdir -p "$work/src/debian"
{
    printf 'Source: talloc-tevent-cxx\n'
    for p in "${packages[@]}"; do printf '\nPackage: %s\nArchitecture: any\n' "$p"; done
} >"$work/src/debian/control"

mkdir -p "$out"
debs=()
for p in "${packages[@]}"; do
    tree=$work/$p
    mkdir -p "$tree/DEBIAN"
    for f in ${files[$p]}; do
        mkdir -p "$tree/$(dirname "$f")"
        cp -a "$stage/$f" "$tree/$f"
    done
    case $p in libtalloc*|python3-talloc*) source=talloc; version=$talloc_deb ;; *) source=tevent; version=$tevent_deb ;; esac
    doc=$tree/usr/share/doc/$p
    mkdir -p "$doc"
    install -m 0644 "$here/copyright" "$doc/copyright"
    changelog "$source" "$version" | gzip -9n >"$doc/changelog.Debian.gz"
    chmod 0644 "$doc/changelog.Debian.gz"

    case $p in
    libtalloc2)
        section=libs
        echo "libtalloc 2 libtalloc2 (>= $talloc_version)" >"$tree/DEBIAN/shlibs"
        "$here/gen-symbols.sh" "$tree/$libdir/libtalloc.so.$talloc_version" libtalloc2 TALLOC_ libtalloc-dev >"$tree/DEBIAN/symbols"
        ;;
    libtevent0)
        section=libs
        echo "libtevent 0 libtevent0 (>= $tevent_version)" >"$tree/DEBIAN/shlibs"
        "$here/gen-symbols.sh" "$tree/$libdir/libtevent.so.$tevent_version" libtevent0 TEVENT_ libtevent-dev >"$tree/DEBIAN/symbols"
        ;;
    python3-talloc)
        section=python
        echo "$pytalloc_lib 2 python3-talloc (>= $talloc_version)" >"$tree/DEBIAN/shlibs"
        "$here/gen-symbols.sh" "$tree/$libdir/$pytalloc_so" python3-talloc PYTALLOC_UTIL_ python3-talloc-dev \
            PYTALLOC_UTIL. >"$tree/DEBIAN/symbols"
        ;;
    *) section=libdevel ;;
    esac
    # Debian's overrides of lintian's findings, for the same reasons: the
    # library's name is not the package's; the library takes nothing from
    # libc directly; a -dev package of Python bindings
    case $p in
    python3-talloc)
        mkdir -p "$tree/usr/share/lintian/overrides"
        printf '%s\n' "python3-talloc: package-name-doesnt-match-sonames libpytalloc-util.cpython-*" \
            "python3-talloc: library-not-linked-against-libc [usr/lib/*/libpytalloc-util.cpython-*.so.*]" \
            >"$tree/usr/share/lintian/overrides/python3-talloc"
        ;;
    python3-talloc-dev)
        mkdir -p "$tree/usr/share/lintian/overrides"
        echo "python3-talloc-dev: wrong-section-according-to-package-name * => python" \
            >"$tree/usr/share/lintian/overrides/python3-talloc-dev"
        ;;
    esac
    case $p in
    libtalloc2|libtevent0|python3-talloc)
        printf '# the package ships a shared library in a directory ldconfig caches\nactivate-noawait ldconfig\n' >"$tree/DEBIAN/triggers"
        # libtevent0's dependency on libtalloc2 is computed against the
        # libtalloc2 built here (its symbols file), not the system's.
        objects=("$tree/$libdir"/lib*.so.*.*.*)
        [ $p = python3-talloc ] && objects+=("$tree/$pydir/$pytalloc_module")
        # (-x: the module's need of libpytalloc-util is met inside python3-talloc)
        depends=$(cd "$work/src" && dpkg-shlibdeps -O -x"$p" -S"$work/libtalloc2" -S"$work/python3-talloc" \
            -l"$work/libtalloc2/$libdir" -l"$work/python3-talloc/$libdir" \
            -e "${objects[@]}" 2>"$work/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p') ||
            { cat "$work/shlibdeps.log" >&2; die "dpkg-shlibdeps failed for $p"; }
        [ -n "$depends" ] || { cat "$work/shlibdeps.log" >&2; die "dpkg-shlibdeps found no dependencies for $p"; }
        if [ $p = python3-talloc ]; then
            # As Debian's: exactly the libtalloc2 of this build, and the
            # Python versions whose ABI the module was built for.
            echo "$depends" | grep -q 'libtalloc2' || die "python3-talloc: dpkg-shlibdeps found no libtalloc2 dependency"
            pymin=$(echo "$pytalloc_module" | sed -n 's/^talloc\.cpython-3\([0-9]*\)-.*/3.\1/p')
            [ -n "$pymin" ] || die "cannot read the Python version from $pytalloc_module"
            pynext=3.$((${pymin#3.} + 1))
            others=$(echo "$depends" | tr ',' '\n' | sed 's/^ *//' | grep -v '^libtalloc2[ (]' | paste -sd, | sed 's/,/, /g')
            depends="libtalloc2 (= $talloc_deb), python3 (<< $pynext), python3 (>= $pymin~), $others"
        fi
        ;;
    libtalloc-dev) depends="libtalloc2 (= $talloc_deb), pkg-config" ;;
    libtevent-dev) depends="libc6-dev, libtalloc-dev, libtevent0 (= $tevent_deb)" ;;
    python3-talloc-dev) depends="pkg-config, python3-talloc (= $talloc_deb)" ;;
    esac
    # Debian's libtalloc2 breaks python3-talloc older than 2.1.13-2 (built
    # for an older interface); ours stands in for it, so it says the same.
    breaks=""
    [ "$p" = libtalloc2 ] && breaks="python3-talloc (<< 2.1.13-2~)"

    find "$tree" -type d -exec chmod 0755 {} +
    (cd "$tree" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$tree/DEBIAN/md5sums"
    chmod 0644 "$tree/DEBIAN"/*
    size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
    {
        echo "Package: $p"
        echo "Source: $source"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $size"
        echo "Depends: $depends"
        [ -z "$breaks" ] || echo "Breaks: $breaks"
        echo "Section: $section"
        echo "Priority: optional"
        echo "Multi-Arch: same"
        description "$p"
    } >"$tree/DEBIAN/control"

    deb=$out/${p}_${version}_${arch}.deb
    dpkg-deb --root-owner-group -Zxz --build "$tree" "$deb" >/dev/null
    debs+=("$deb")
done

# ---- show and check ------------------------------------------------------------------
for deb in "${debs[@]}"; do
    echo "== $(basename "$deb")"
    dpkg-deb --info "$deb" | sed 's/^/   /'
    dpkg-deb --contents "$deb" | awk '{ $2 = $3 = $4 = $5 = ""; gsub(/ +/, " "); print "   " $0 }'
done
if [ $run_lintian = 1 ]; then
    command -v lintian >/dev/null || die "lintian is missing (tools/install-deps.sh installs it; or --no-lintian)"
    echo "== lintian"
    # Findings are shown with their severity (E: error, W: warning, I: info,
    # P: pedantic); errors fail the build.
    # initial-upload-closes-no-bugs is about uploads to Debian's archive
    # (a first upload closes an ITP bug); these packages are never uploaded.
    if lintian --display-info --pedantic --fail-on error --suppress-tags initial-upload-closes-no-bugs \
        "${debs[@]}" >"$work/lintian.log" 2>&1; then
        lint_status=0
    else
        lint_status=$?
    fi
    if [ -s "$work/lintian.log" ]; then sed 's/^/   /' "$work/lintian.log"; else echo "   no findings"; fi
    [ $lint_status -eq 0 ] || die "lintian reported errors"
fi
echo "== packages in $out:"
printf '   %s\n' "${debs[@]##*/}"
