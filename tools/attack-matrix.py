#!/usr/bin/env python3
"""Run the attack suite (tests/attack/attack.c) on both libraries and compare.

usage:
  attack-matrix.py --build BUILD_DIR [options]
  attack-matrix.py --program ATTACK --ours OUR_LIBTALLOC --reference REF_LIBTALLOC [options]
  attack-matrix.py --from REF_OUTPUT OUR_OUTPUT [options]   (saved transcripts)

options:
  --markdown         print the tables as Markdown (for docs/hardening.md)
  --guesses N        processes per one-guess attack (default: the program's 2000)
  --entropy N        processes for the entropy of the secret (default: 200)
  --check gap        exit 1 when ours does not report where the reference
                     reports, or is EXPLOITED / leaves the secret in freed
                     memory anywhere, or when fewer bits of its magic vary
                     across processes than the reference's (fails until the
                     hardening lands)
  --check holds      exit 1 unless what holds on ours today still holds
                     (see check_holds below)
  --save DIR         keep both transcripts there

The program is built once against Debian's talloc.h and libtalloc; it runs
as built (the reference, LD_LIBRARY_PATH/LD_PRELOAD removed) and again with
LD_LIBRARY_PATH set to the directory of our libtalloc.so.2 (the drop-in),
as tests/diff/run_diff.py does.  Each run names the library it mapped on
its first line; a run that mapped the wrong one is an error.
"""
import argparse
import os
import re
import subprocess
import sys
from collections import OrderedDict, defaultdict

OUTCOMES = ["REPORTED", "EXPLOITED", "CRASHED", "UNNOTICED", "NOT-ADJACENT",
            "LAYOUT-UNKNOWN", "FOUND", "NOT-FOUND", "MEASURED"]


def run(program, lib_dir, extra):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LD_LIBRARY_PATH", None)
    if lib_dir is not None:
        env["LD_LIBRARY_PATH"] = lib_dir
    p = subprocess.run([program] + extra, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=1800)
    if p.returncode != 0:
        sys.exit(f"attack-matrix: {program} exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    return p.stdout.decode("utf-8", "replace")


def parse(text):
    """(library line fields, OrderedDict (kind, attack, param) -> (outcome, detail))"""
    lib, cases = None, OrderedDict()
    for line in text.splitlines():
        f = line.split("\t")
        if f[0] == "library":
            lib = f[1:]
        elif f[0] == "case" and len(f) >= 5:
            cases[(f[1], f[2], f[3])] = (f[4], f[5] if len(f) > 5 else "")
    return lib, cases


def short(outcome, detail):
    """Outcome with the signal of a crash, for the matrix."""
    if outcome == "CRASHED":
        m = re.search(r"SIG[A-Z]+", detail)
        return f"CRASHED/{m.group(0)}" if m else "CRASHED"
    if outcome == "EXPLOITED":
        for key, tag in (("forged destructor ran", "destructor"), ("jumped to", "jump"),
                         ("write through", "write"), ("get_name", "name"), ("get_size", "size"),
                         ("talloc_parent", "parent"), ("talloc_size(B", "memory"),
                         ("report followed", "report"), ("accepted", "accepted")):
            if key in detail:
                return f"EXPLOITED/{tag}"
    return outcome


def runs(cases, kind, attack):
    """Compressed '1-8 X, 9-64 Y' over the numeric parameters of a row."""
    items = [(int(p), short(*v)) for (k, a, p), v in cases.items() if k == kind and a == attack]
    items.sort()
    out, start, prev, cur = [], None, None, None
    for n, o in items:
        if o != cur or (prev is not None and n != prev + 1):
            if cur is not None:
                out.append(f"{start}-{prev} {cur}" if start != prev else f"{start} {cur}")
            start, cur = n, o
        prev = n
    if cur is not None:
        out.append(f"{start}-{prev} {cur}" if start != prev else f"{start} {cur}")
    return ", ".join(out)


def is_numeric_row(cases, kind, attack):
    return all(p.isdigit() for (k, a, p) in cases if k == kind and a == attack)


def rows(ref, ours):
    keys = OrderedDict()
    for (k, a, p) in list(ref) + list(ours):
        keys.setdefault((k, a), None)
    return list(keys)


def cell(cases, kind, attack, detail=False):
    if is_numeric_row(cases, kind, attack) and any(k == kind and a == attack for (k, a, _) in cases):
        if sum(1 for (k, a, _) in cases if k == kind and a == attack) >= 8:
            return runs(cases, kind, attack)
    parts = []
    for (k, a, p), (o, d) in cases.items():
        if k == kind and a == attack:
            text = short(o, d)
            if detail or o in ("MEASURED", "FOUND", "NOT-FOUND") or a.startswith("guess") or k == "upstream":
                text += f" ({d})" if d else ""
            parts.append(f"{p}: {text}")
    return "; ".join(parts) or "-"


def print_matrix(ref, ours, markdown):
    if markdown:
        print("| kind | attack | reference 2.4.0 | ours |")
        print("|---|---|---|---|")
    for kind, attack in rows(ref, ours):
        r, o = cell(ref, kind, attack), cell(ours, kind, attack)
        if markdown:
            print(f"| {kind} | {attack} | {r} | {o} |")
        else:
            print(f"{kind:14} {attack:24}\n    reference: {r}\n    ours:      {o}")


def print_summary(ref, ours, markdown):
    kinds = list(OrderedDict((k, None) for (k, _, _) in list(ref) + list(ours)))
    used = [o for o in OUTCOMES if any(v[0] == o for v in list(ref.values()) + list(ours.values()))]
    count = {}
    for name, cases in (("ref", ref), ("ours", ours)):
        c = defaultdict(int)
        for (k, _, _), (o, _) in cases.items():
            c[(k, o)] += 1
        count[name] = c
    if markdown:
        print("| kind | " + " | ".join(used) + " |")
        print("|---|" + "---|" * len(used))
    else:
        print(f"{'kind (reference / ours)':24}" + "".join(f"{o:>15}" for o in used))
    for k in kinds:
        vals = [f"{count['ref'][(k, o)]} / {count['ours'][(k, o)]}" for o in used]
        if markdown:
            print(f"| {k} | " + " | ".join(vals) + " |")
        else:
            print(f"{k:24}" + "".join(f"{v:>15}" for v in vals))


def check_gap(ref, ours):
    """Ours reports wherever the reference does, is never EXPLOITED, never
    leaves the secret in freed memory, and every case could be set up."""
    bad = []
    for key, (ro, rd) in ref.items():
        oo, od = ours.get(key, ("MISSING", ""))
        if ro == "REPORTED" and oo != "REPORTED":
            bad.append(f"{'/'.join(key)}: reference REPORTED, ours {oo} ({od})")
    for key, (oo, od) in ours.items():
        if oo in ("EXPLOITED", "FOUND", "NOT-ADJACENT", "LAYOUT-UNKNOWN"):
            bad.append(f"{'/'.join(key)}: ours {oo} ({od})")
    # the secret: no fewer bits vary across processes than the reference's
    bits = {}
    for name, cases in (("reference", ref), ("ours", ours)):
        for (k, a, _), (o, d) in cases.items():
            m = re.search(r"(\d+) bits vary", d) if (k, a) == ("secret", "entropy") else None
            if m:
                bits[name] = int(m.group(1))
    if "reference" in bits and bits.get("ours", -1) < bits["reference"]:
        bad.append(f"secret/entropy: {bits.get('ours', '?')} bits of ours' magic vary, "
                   f"{bits['reference']} of the reference's")
    for line in bad:
        print("GAP: " + line)
    print(f"attack-gap: {len(bad)} cases where ours is weaker than required")
    return not bad


DIRECT_OPS = ("free", "get-name", "get-size", "parent", "steal", "child")
POOL_KINDS = ("pool-member", "pooled-object")


def check_holds(ref, ours, ref_lib, our_lib):
    """What holds on ours today, from this run's own outcomes:
    - both runs confirmed their header layout table on live chunks;
    - upstream's case (two 4-byte pool members, 32 zero bytes written from
      the first, the pool freed) is REPORTED with "Bad talloc magic value -
      unknown value", and the second member's destructor does not run;
    - in every storage kind, an operation on B itself (free, get-name,
      get-size, parent, steal, child) after an overflow that changed the
      verified bits of B's check word (hit=1, measured by the program: our
      pool members' guard word, else the flags word with the magic; the
      reference's flags word) is REPORTED;
    - in both pool kinds such hits happen (the guard word, or the
      reference's magic, is the first thing an overflow reaches), so the
      point above is not vacuous there.
    - no secret in freed-then-reused memory: the scan of blocks malloc
      hands out after chunks of 16, 4000 and 100000 bytes (and a pool with
      a member) were freed finds neither the magic nor a guard word;
    - a loop of forged chunks with guessed magics, under an abort function
      that returns, is stopped before any guess is accepted.
    All on both libraries: the reference shows the checks can pass.
    """
    bad = []
    for name, lib in (("reference", ref_lib), ("ours", our_lib)):
        if lib is None or "layout checked" not in lib:
            bad.append(f"{name}: header layout not confirmed ({lib})")
    for name, cases in (("reference", ref), ("ours", ours)):
        o, d = cases.get(("upstream", "pool-member-overflow", "32"), ("MISSING", ""))
        if o != "REPORTED" or "Bad talloc magic value - unknown value" not in d or "destructor ran" in d:
            bad.append(f"{name}: upstream case {o} ({d})")
        hits = defaultdict(int)
        for (kind, op, n), (o, d) in cases.items():
            if op not in DIRECT_OPS or not n.isdigit():
                continue
            if o in ("NOT-ADJACENT", "LAYOUT-UNKNOWN") and kind in POOL_KINDS:
                bad.append(f"{name}: {kind}/{op}/{n}: {o} ({d})")
            if "hit=1" not in d:
                continue
            hits[kind] += 1
            if o != "REPORTED":
                bad.append(f"{name}: {kind}/{op}/{n}: the overflow changed B's check word, {o} ({d})")
        for kind in POOL_KINDS:
            if hits[kind] == 0:
                bad.append(f"{name}: {kind}: no overflow reached B's check word")
        for size in ("16", "4000", "100000"):
            o, d = cases.get(("secret", "freed-scan", size), ("MISSING", ""))
            if o != "NOT-FOUND":
                bad.append(f"{name}: secret in freed memory after {size}-byte chunks: {o} ({d})")
        o, d = cases.get(("forged-chunk", "guess-loop", "returning-abort-fn"), ("MISSING", ""))
        if o == "EXPLOITED" or "stopped after" not in d:
            bad.append(f"{name}: guess loop with a returning abort function: {o} ({d})")
        print(f"attack-holds: {name}: upstream case; check word hit and reported: "
              + ", ".join(f"{k} {v}" for k, v in hits.items()))
    for line in bad:
        print("FAILED: " + line)
    return not bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build")
    ap.add_argument("--program")
    ap.add_argument("--ours")
    ap.add_argument("--reference", default="/usr/lib/x86_64-linux-gnu/libtalloc.so.2")
    ap.add_argument("--from", dest="from_files", nargs=2)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--guesses")
    ap.add_argument("--entropy")
    ap.add_argument("--check", choices=["gap", "holds"])
    ap.add_argument("--save")
    args = ap.parse_args()

    if args.from_files:
        ref_text, our_text = (open(f).read() for f in args.from_files)
    else:
        if args.build:
            args.program = args.program or os.path.join(args.build, "tests", "attack", "attack")
            args.ours = args.ours or os.path.join(args.build, "lib", "talloc", "libtalloc.so.2")
        if not (args.program and args.ours):
            ap.error("give --build, or --program and --ours")
        extra = []
        if args.guesses is not None:
            extra += ["--guesses", args.guesses]
        if args.entropy is not None:
            extra += ["--entropy", args.entropy]
        ref_text = run(args.program, None, extra)
        our_text = run(args.program, os.path.dirname(os.path.abspath(args.ours)), extra)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            open(os.path.join(args.save, "reference.txt"), "w").write(ref_text)
            open(os.path.join(args.save, "ours.txt"), "w").write(our_text)
    ref_lib, ref = parse(ref_text)
    our_lib, ours = parse(our_text)

    if not args.from_files:
        for name, lib, want in (("reference", ref_lib, args.reference), ("ours", our_lib, args.ours)):
            if lib is None or os.path.realpath(lib[0]) != os.path.realpath(want):
                sys.exit(f"attack-matrix: the {name} run mapped {lib[0] if lib else '?'}, not {want}")
    print(f"reference: {' '.join(ref_lib or [])}\nours:      {' '.join(our_lib or [])}\n")

    print_summary(ref, ours, args.markdown)
    print()
    print_matrix(ref, ours, args.markdown)
    print()
    if args.check == "gap":
        return 0 if check_gap(ref, ours) else 1
    if args.check == "holds":
        return 0 if check_holds(ref, ours, ref_lib, our_lib) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
