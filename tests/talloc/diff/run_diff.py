#!/usr/bin/env python3
"""Run one differential program against the reference and against ours.

usage: run_diff.py [--memlimit-epochs] PROGRAM OUR_LIBTALLOC REFERENCE_LIBTALLOC [ARGS...]

PROGRAM was built against Debian's headers and libtalloc.  It is run twice:

  1. as built, with LD_LIBRARY_PATH/LD_PRELOAD removed (the reference);
  2. with LD_LIBRARY_PATH set to the directory of OUR_LIBTALLOC (drop-in).

Each run gets TALLOC_DIFF_EXPECT_LIB naming the library it must have mapped;
the program checks that itself and exits 2 on a mismatch.  Exit statuses,
stdout and stderr are compared after masking addresses (0x...); on any
difference a unified diff is printed and the script exits 1.

With --memlimit-epochs (diff_memlimit_random) stdout is compared epoch by
epoch, and after a "drift:" line of an epoch (an operation that may leave
charge behind in the reference's books) two differences are accepted: a
limit that counts less on ours than on the reference, and an operation that
succeeds on ours but fails on the reference, after which the rest of that
epoch is not compared (the hierarchies differ from there on).  Ours counting
more, or failing where the reference succeeds, is always a difference.
"""
import difflib
import os
import re
import subprocess
import sys

ADDR = re.compile(r"0x[0-9a-fA-F]+")


def mask(text):
    return ADDR.sub("0xADDR", text)


def run(program, args, lib_dir, expect_lib):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LD_LIBRARY_PATH", None)
    if lib_dir is not None:
        env["LD_LIBRARY_PATH"] = lib_dir
    env["TALLOC_DIFF_EXPECT_LIB"] = expect_lib
    p = subprocess.run([program] + args, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    return (p.returncode,
            mask(p.stdout.decode("utf-8", "replace")),
            mask(p.stderr.decode("utf-8", "replace")))


LIMITS = re.compile(r" n(\d+)=(-?\d+)/(-?\d+)")
RESULT = re.compile(r"^(\d+: .* -> )(.*)$")


def limits_at_most(ref_line, our_line):
    """Same limits with the same maxima, ours counting no more than ref."""
    if not (ref_line.startswith("  limits:") and our_line.startswith("  limits:")):
        return False
    ref = LIMITS.findall(ref_line)
    ours = LIMITS.findall(our_line)
    if [(n, m) for n, _, m in ref] != [(n, m) for n, _, m in ours]:
        return False
    return all(int(o) <= int(r) for (_, r, _), (_, o, _) in zip(ref, ours))


def succeeds_where_ref_fails(ref_line, our_line):
    r, o = RESULT.match(ref_line), RESULT.match(our_line)
    return (r is not None and o is not None and r.group(1) == o.group(1)
            and r.group(2).startswith("NULL") and o.group(2) == "ok")


def split_epochs(text):
    epochs, cur = [], []
    for line in text.splitlines():
        if line.startswith("== ") and cur:
            epochs.append(cur)
            cur = []
        cur.append(line)
    epochs.append(cur)
    return epochs


def compare_epochs(name, ref_out, our_out):
    """True when our transcript differs from the reference's only as allowed."""
    ref_ep, our_ep = split_epochs(ref_out), split_epochs(our_out)
    if len(ref_ep) != len(our_ep):
        print(f"{name}: {len(ref_ep)} sections on the reference, {len(our_ep)} on ours")
        return False
    lower = cut = 0
    for ref, ours in zip(ref_ep, our_ep):
        drifted = False
        for i, (r, o) in enumerate(zip(ref, ours)):
            if r.startswith("drift:") and r == o:
                drifted = True
            if r == o:
                continue
            if drifted and limits_at_most(r, o):
                lower += 1
                continue
            if drifted and succeeds_where_ref_fails(r, o):
                cut += 1
                break
            print(f"{name}: {ref[0]}: line {i + 1} differs{' (before any drift)' if not drifted else ''}:")
            print(f"  reference: {r}\n  ours:      {o}")
            print("  context (reference):")
            for line in ref[max(0, i - 8):i + 1]:
                print(f"    {line}")
            return False
        else:
            if len(ref) != len(ours):
                print(f"{name}: {ref[0]}: {len(ref)} lines on the reference, {len(ours)} on ours")
                return False
    print(f"{name}: {len(ref_ep)} sections match; allowed after drift: "
          f"{lower} limit lines lower on ours, {cut} epochs cut where ours succeeded")
    return True


def main():
    epochs_mode = len(sys.argv) > 1 and sys.argv[1] == "--memlimit-epochs"
    argv = sys.argv[1:] if not epochs_mode else sys.argv[2:]
    if len(argv) < 3:
        print(__doc__)
        return 2
    program, ours, ref = argv[0], argv[1], argv[2]
    args = argv[3:]
    name = os.path.basename(program)

    ref_rc, ref_out, ref_err = run(program, args, None, ref)
    our_rc, our_out, our_err = run(program, args, os.path.dirname(os.path.abspath(ours)), ours)

    if ref_rc == 2 or our_rc == 2:
        print(f"{name}: wrong library mapped (reference run: {ref_err.strip()!r}; "
              f"our run: {our_err.strip()!r})")
        return 1
    if not ref_out.strip():
        print(f"{name}: the reference run printed nothing (exit {ref_rc})")
        return 1

    ok = True
    if epochs_mode and ref_rc != 0:
        print(f"{name}: the reference run failed (exit {ref_rc}): the scenario must keep to what it survives")
        ok = False
    if ref_rc != our_rc:
        print(f"{name}: exit status differs: reference {ref_rc}, ours {our_rc}")
        ok = False
    if epochs_mode:
        ok = compare_epochs(name, ref_out, our_out) and ok
    for what, a, b in (("stdout", ref_out, our_out), ("stderr", ref_err, our_err)):
        if epochs_mode and what == "stdout":
            continue
        if a != b:
            ok = False
            print(f"{name}: {what} differs (--- reference, +++ ours):")
            sys.stdout.writelines(difflib.unified_diff(
                a.splitlines(keepends=True), b.splitlines(keepends=True),
                fromfile=f"reference/{what}", tofile=f"ours/{what}", n=3))
    if ok:
        lines = ref_out.count("\n") + ref_err.count("\n")
        how = "matching" if epochs_mode else "identical"
        print(f"{name}: {how} transcripts ({lines} lines, exit {ref_rc})")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
