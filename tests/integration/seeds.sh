#!/usr/bin/env bash
# The seed programs (tests/seeds/: seed_0*.c for talloc, seed_thread_pipe.c
# and seed_proxy_reply.c for tevent: the programs written from the seed
# documents in shared/seeds)
# built the way their users build them, then run on our libraries.
#
#   seeds.sh binary   built against Debian's talloc.h/tevent.h and linked
#                     with Debian's libtalloc/libtevent, then run, the very
#                     same executables, on ours: binary compatibility.
#   seeds.sh source   built against OUR installed headers and libraries,
#                     found with `pkg-config --cflags --libs talloc tevent`
#                     in a `meson install --destdir` tree, then run there:
#                     source compatibility.
#
# Either way each program's output (addresses removed, lines sorted, as
# threads finish in any order) and exit status must be those of the
# Debian-built program on Debian's libraries.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
mode=${1:-}
case $mode in binary|source) ;; *) fail "usage: seeds.sh binary|source" ;; esac
cc=${CC:-cc}
need "$cc" gcc
need pkg-config pkg-config

# name | source | libraries it needs | arguments. The proxy-reply seed runs
# the "own immediate" pattern only small: the reference races in it at
# full size (tests/seeds/seed_proxy_reply.c says why).
seeds=(
    "seed_000_thread_transfer|tests/seeds/seed_000_thread_transfer.c|talloc|"
    "seed_002_tsd_getenv|tests/seeds/seed_002_tsd_getenv.c|talloc|"
    "seed_004_tsd_destructors|tests/seeds/seed_004_tsd_destructors.c|talloc|"
    "seed_thread_pipe|tests/seeds/seed_thread_pipe.c|talloc,tevent|--threads 16 --loops 5"
    "seed_proxy_reply_fresh|tests/seeds/seed_proxy_reply.c|talloc,tevent|--threads 16 --rounds 1000 --loops 3 --reply-im fresh"
    "seed_proxy_reply_own|tests/seeds/seed_proxy_reply.c|talloc,tevent|--threads 4 --rounds 1 --loops 5 --reply-im own"
)
cflags=(-O2 -g -Wall -Wno-deprecated-declarations -I"$SRC_ROOT/tests/seeds")

# build OUT SOURCE HEADER-DIR FLAGS...: compile and link one program, and
# check from the compiler's own dependency list that talloc.h (and
# tevent.h when used) came from HEADER-DIR.
build() {
    local out=$1 src=$2 hdrdir=$3
    shift 3
    "$cc" "${cflags[@]}" -MD -MF "$out.d" -o "$out" "$SRC_ROOT/$src" "$@" -lpthread ||
        fail "cannot build $src with: $*"
    local h
    for h in talloc.h tevent.h; do
        grep -q "[[:space:]/]$h\b" "$out.d" || continue
        grep -Eq "(^|[[:space:]])$hdrdir/$h([[:space:]]|$)" "$out.d" ||
            fail "$src took $h from elsewhere than $hdrdir: $(tr -s ' \\\n' ' ' <"$out.d")"
    done
}

# transcript FILE: what gets compared, addresses out and lines sorted.
transcript() { sed -E 's/0x[0-9a-f]+//g' "$1" | LC_ALL=C sort >"$1.cmp"; }

mkdir -p "$work/debian" "$work/ours"
# The Debian builds: default include path and library path, i.e.
# /usr/include/talloc.h and /usr/lib/<multiarch>/libtalloc.so.
for s in "${seeds[@]}"; do
    IFS='|' read -r name src libs args <<<"$s"
    links=(-ltalloc); [ "$libs" = talloc,tevent ] && links=(-ltevent -ltalloc)
    build "$work/debian/$name" "$src" /usr/include "${links[@]}"
done

if [ $mode = source ]; then
    # Install this build into a scratch tree, as a user would install it.
    meson install -C "$BUILD_ROOT" --no-rebuild --quiet --destdir "$work/root" >"$work/install.log" 2>&1 ||
        { cat "$work/install.log" >&2; fail "meson install failed"; }
    pc=$(find "$work/root" -name talloc.pc -path '*/pkgconfig/*' | head -n 1)
    [ -n "$pc" ] || fail "meson install put no talloc.pc in $work/root"
    [ -e "$(dirname "$pc")/tevent.pc" ] || fail "tevent.pc is not next to $pc"
    # Only our .pc files, and their paths read inside the scratch tree.
    PKG_CONFIG_LIBDIR=$(dirname "$pc")
    export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR=$work/root
    flags=$(pkg-config --cflags --libs talloc tevent) || fail "pkg-config does not know talloc tevent"
    [ "$(pkg-config --modversion talloc)" = 2.5.0 ] || fail "talloc.pc says version $(pkg-config --modversion talloc)"
    [ "$(pkg-config --modversion tevent)" = 0.17.2 ] || fail "tevent.pc says version $(pkg-config --modversion tevent)"
    # pkgconf puts the sysroot in front of these too; keep the paths as
    # the .pc file states them (relative to the installed tree).
    incdir=$(pkg-config --variable=includedir talloc); incdir=${incdir#"$work/root"}
    libdir=$(pkg-config --variable=libdir talloc); libdir=${libdir#"$work/root"}
    note "pkg-config --cflags --libs talloc tevent: $flags"
    # The installed tree holds exactly what Debian's four packages hold
    # (tests/integration/debs.sh compares with Debian's own file lists).
    prefix=$(pkg-config --variable=prefix talloc); prefix=${prefix#"$work/root"}
    rel=${libdir#"$prefix"/}
    printf '%s\n' include/talloc.h include/tevent.h share/man/man3/talloc.3 \
        "$rel"/pkgconfig/talloc.pc "$rel"/pkgconfig/tevent.pc \
        "$rel"/libtalloc.a "$rel"/libtalloc.so "$rel"/libtalloc.so.2 "$rel"/libtalloc.so.2.5.0 \
        "$rel"/libtevent.a "$rel"/libtevent.so "$rel"/libtevent.so.0 "$rel"/libtevent.so.0.17.2 \
        >"$work/install.list"
    # and, when built, what python3-talloc and python3-talloc-dev hold (docs/python.md)
    if [ -d "$BUILD_ROOT/lib/pytalloc" ]; then
        pyutil=$rel/libpytalloc-util.cpython-311-x86-64-linux-gnu.so
        printf '%s\n' include/pytalloc.h "$rel"/pkgconfig/pytalloc-util.cpython-311-x86_64-linux-gnu.pc \
            "$pyutil" "$pyutil".2 "$pyutil".2.5.0 lib/python3/dist-packages/talloc.cpython-311-x86_64-linux-gnu.so \
            >>"$work/install.list"
    fi
    LC_ALL=C sort "$work/install.list" >"$work/install.expected"
    (cd "$work/root$prefix" && find . ! -type d | sed 's#^\./##' | LC_ALL=C sort) >"$work/install.found"
    diff -u "$work/install.expected" "$work/install.found" >&2 ||
        fail "meson install laid out other files than expected (above: - expected, + installed)"
    note "meson install: $(wc -l <"$work/install.found") files under $prefix, as expected"
    case " $flags " in *" -I$work/root$incdir "*) ;; *) fail "no -I for the installed headers in '$flags'" ;; esac
    case " $flags " in *" -L$work/root$libdir "*) ;; *) fail "no -L for the installed libraries in '$flags'" ;; esac
    # shellcheck disable=SC2086  # pkg-config output is meant to be split
    for s in "${seeds[@]}"; do
        IFS='|' read -r name src libs args <<<"$s"
        build "$work/ours/$name" "$src" "$work/root$incdir" $flags
    done
    ours_libs=(-L "$work/root$libdir")   # run_on's "ours": the installed tree
fi

for s in "${seeds[@]}"; do
    IFS='|' read -r name src libs args <<<"$s"
    # shellcheck disable=SC2086  # the argument list is meant to be split
    run_on ref "$work/$name.ref" "$libs" "$work/debian/$name" $args
    grep -q '^--- exit status 0$' "$work/$name.ref" ||
        fail "$name fails on Debian's libraries: $(head -n 20 "$work/$name.ref")"
    if [ $mode = binary ]; then
        exe=$work/debian/$name
    else
        exe=$work/ours/$name
        # The program must really have been linked with our library.
        objdump -p "$exe" | grep -q 'NEEDED *libtalloc\.so\.2$' || fail "$name does not need libtalloc.so.2"
    fi
    # shellcheck disable=SC2086
    run_on ours "$work/$name.ours" "$libs" "$exe" $args
    transcript "$work/$name.ref"
    transcript "$work/$name.ours"
    same "$work/$name.ref.cmp" "$work/$name.ours.cmp" "$name ($mode compatibility)"
    note "$name: same as the reference; $(grep -o 'mapped [^ ]*' "$work/$name.ours.maps" | tr '\n' ' ')"
done
