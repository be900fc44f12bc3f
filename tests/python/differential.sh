#!/usr/bin/env bash
# The same Python script on Debian's python3-talloc and on ours, driven
# through pytalloc_probe, a C extension module built against each side's
# pytalloc.h with flags from each side's pkg-config file:
#   ref   Debian's pytalloc.h and .pc (python3-talloc-dev), Debian's
#         libtalloc, libpytalloc-util and talloc module
#   ours  the header and .pc file that `meson install` puts in a staging
#         root, our libtalloc, libpytalloc-util and talloc module from there
# probe_script.py prints reprs, comparisons, type checks and their errors,
# block counts, full talloc reports and the destructors that run when
# Python frees objects; the transcripts must be the same once addresses
# are blanked out.
# shellcheck source=tests/integration/common.sh
. "$SRC_ROOT/tests/integration/common.sh"
py=/usr/bin/python3
cc=${CC:-cc}
pc=pytalloc-util.cpython-311-x86_64-linux-gnu
probe_src=$SRC_ROOT/tests/python/pytalloc_probe.c
script=$SRC_ROOT/tests/python/probe_script.py
modname=pytalloc_probe.cpython-311-x86_64-linux-gnu.so
for p in python3-talloc-dev python3-dev; do
    dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'install ok installed' ||
        fail "$p is not installed (the reference's header and pkg-config file; tools/install-deps.sh installs it)"
done

# Our files as installed, in a staging root (prefix /usr/local).
root=$work/root
meson install -C "$BUILD_ROOT" --no-rebuild --quiet --destdir "$root" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "meson install failed"; }
prefix=$(meson introspect --buildoptions "$BUILD_ROOT" | $py -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"] + "\t" + o["libdir"])')
libdir=$root${prefix%%	*}/${prefix#*	}
[ -f "$libdir/pkgconfig/$pc.pc" ] || fail "meson install put no $pc.pc in $libdir/pkgconfig"

# The extension, built twice from the same source.
mkdir -p "$work/ref.mod" "$work/ours.mod"
ref_flags=$(pkg-config --cflags --libs $pc python3 talloc) || fail "pkg-config knows no $pc (Debian's)"
# shellcheck disable=SC2086
$cc -shared -fPIC -O2 -Wall -Werror -o "$work/ref.mod/$modname" "$probe_src" $ref_flags ||
    fail "cannot build the probe against Debian's pytalloc.h ($ref_flags)"
# (our .pc files, moved to the staging root; Python's flags are the system's)
ours_flags="$(PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR="$libdir/pkgconfig" \
    pkg-config --define-variable=prefix="$root${prefix%%	*}" --cflags --libs $pc talloc) $(pkg-config --cflags python3)" ||
    fail "pkg-config cannot read our $pc.pc"
case " $ours_flags " in *" -I$root"*) ;; *) fail "our .pc file's flags do not point into the staging root: $ours_flags" ;; esac
# shellcheck disable=SC2086
$cc -shared -fPIC -O2 -Wall -Werror -o "$work/ours.mod/$modname" "$probe_src" $ours_flags ||
    fail "cannot build the probe against our pytalloc.h ($ours_flags)"
# It was compiled with our header, and links our library.
# shellcheck disable=SC2086
$cc -E $ours_flags -x c "$probe_src" >"$work/probe.i" 2>/dev/null || fail "cannot preprocess the probe"
grep -q "^# [0-9]* \"$root/.*/pytalloc.h\"" "$work/probe.i" ||
    fail "the probe built with our flags did not include our pytalloc.h"
readelf -dW "$work/ours.mod/$modname" | grep -q 'NEEDED.*\[libpytalloc-util.cpython-311-x86-64-linux-gnu.so.2\]' ||
    fail "the probe does not need libpytalloc-util"

# The header offers what Debian's offers: the same macros, typedefs and
# function declarations (the probe above uses each of them).
names() {   # the names a header defines or declares
    sed -n -e 's/^#define \([A-Za-z_][A-Za-z0-9_]*\).*/macro \1/p' \
        -e 's/^} *\([A-Za-z_][A-Za-z0-9_]*\);.*/typedef \1/p' \
        -e 's/^[A-Za-z_][A-Za-z0-9_ ]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/function \1/p' "$1" | LC_ALL=C sort -u
}
names /usr/include/pytalloc.h >"$work/names.debian"
names "$root${prefix%%	*}/include/pytalloc.h" >"$work/names.ours"
grep -q '^function pytalloc_steal_ex$' "$work/names.debian" || fail "cannot read the names of Debian's pytalloc.h"
diff -u "$work/names.debian" "$work/names.ours" >&2 || fail "our pytalloc.h names other things than Debian's (above: - Debian's, + ours)"
note "pytalloc.h: the $(wc -l <"$work/names.ours") macros, typedefs and functions of Debian's"

ours_libs=(-L "$libdir" --python)
(cd "$work" && PYTHONPATH=$work/ref.mod run_on ref "$work/ref" talloc,pytalloc $py "$script")
(cd "$work" && PYTHONPATH=$work/ours.mod run_on ours "$work/ours" talloc,pytalloc $py "$script")
maps_report "$work/ours.maps"
grep -q '^--- exit status 0$' "$work/ref" || fail "the reference run failed: $(tail -n 20 "$work/ref")"
grep -q "^full talloc report on 'null_context'" "$work/ref" || fail "the reference run printed no report"
grep -q '^destructor: ' "$work/ref" || fail "the reference run shows no destructor"
sed -E 's/0x[0-9a-f]+/0xADDR/g' "$work/ref" >"$work/ref.cmp"
sed -E 's/0x[0-9a-f]+/0xADDR/g' "$work/ours" >"$work/ours.cmp"
grep -q 'shows the pointer: False' "$work/ours.cmp" && fail "a repr of ours does not show the object's pointer"
same "$work/ref.cmp" "$work/ours.cmp" "probe_script.py through pytalloc_probe"
note "probe_script.py: same transcript ($(wc -l <"$work/ref.cmp") lines, $(grep -c '^full talloc report' "$work/ref.cmp") reports, $(grep -c ' raises ' "$work/ref.cmp") errors) on Debian's python3-talloc and ours"
