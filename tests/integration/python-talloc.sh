#!/usr/bin/env bash
# Debian's python3-talloc, unchanged, on our libtalloc: `import talloc`,
# enable_null_tracking(), total_blocks() and report_full() must give what
# they give on Debian's library. python3-ldb provides talloc memory to
# count and report (talloc_report.py says what is printed).
#
# /usr/bin/python3 on purpose: another python3 earlier in PATH (pyenv)
# does not see Debian's modules.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
py=/usr/bin/python3
[ -x $py ] || fail "$py is missing (Debian package python3)"
$py -c 'import talloc' 2>/dev/null || fail "$py cannot import talloc: install python3-talloc"
$py -c 'import ldb' 2>/dev/null || fail "$py cannot import ldb: install python3-ldb"
script=$SRC_ROOT/tests/integration/talloc_report.py

# 1. The plain `import talloc` loads our library: ask the process itself
# (its /proc/self/maps), independently of the launcher's loader trace.
ours=$(readlink -f "$BUILD_ROOT/lib/talloc/libtalloc.so.2")
mapped=$("$launcher" -b "$BUILD_ROOT" --require talloc -- $py -c '
import talloc
paths = {l.split()[-1] for l in open("/proc/self/maps") if "libtalloc.so" in l}
print("\n".join(sorted(paths)))')
[ "$mapped" = "$ours" ] || fail "import talloc mapped '$mapped', expected only $ours"
note "import talloc maps $mapped"

# Addresses in report lines differ from run to run; nothing else may.
strip_addresses() { sed -E 's/ 0x[0-9a-f]+$//' "$1" >"$1.cmp"; }

# 2. Our libtalloc under Debian's libtevent: the transcript must be the
# reference's line for line, totals included.
run_on ref "$work/ref" talloc $py "$script"
run_on talloc-only "$work/talloc-only" talloc $py "$script"
maps_report "$work/talloc-only.maps"
strip_addresses "$work/ref"
strip_addresses "$work/talloc-only"
grep -q '^full talloc report on .null_context. (total .* in  *[0-9]* blocks)' "$work/ref.cmp" ||
    fail "the reference run printed no report: $(head -n 20 "$work/ref")"
grep -q '^--- exit status 0$' "$work/ref.cmp" || fail "the reference run failed: $(head -n 20 "$work/ref")"
same "$work/ref.cmp" "$work/talloc-only.cmp" "python3-talloc, our libtalloc + Debian's libtevent"

# 3. Both our libraries. An ldb context owns a tevent context, and what
# libtevent allocates inside it is its own business (our tevent_context
# is one chunk of another size; Debian's also keeps a registry of backends
# as top-level chunks). without_tevent.py sets aside the lines marked
# [tevent], the chunks tevent allocates for itself, and the totals of the
# chunks above those; everything else (names, nesting, reference counts,
# the totals of the ldb objects, the block counts the script prints) must
# still be the reference's.
without_tevent() { $py "$SRC_ROOT/tests/integration/without_tevent.py" "$1.cmp" >"$1.notevent"; }
run_on ours "$work/ours" talloc,tevent $py "$script"
maps_report "$work/ours.maps"
strip_addresses "$work/ours"
without_tevent "$work/ref"
without_tevent "$work/ours"
# The filter must not have thrown away the ldb objects being compared.
grep -q 'struct ldb_message  *contains  *[0-9]* bytes' "$work/ref.notevent" ||
    fail "the filtered reference report lost the ldb message or its totals"
same "$work/ref.notevent" "$work/ours.notevent" "python3-talloc, our libtalloc + our libtevent"
note "python3-talloc: same transcript as on Debian's libtalloc ($(wc -l <"$work/ref.cmp") lines)"
