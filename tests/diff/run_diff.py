#!/usr/bin/env python3
"""Run one differential program against the reference and against ours.

usage: run_diff.py PROGRAM OUR_LIBTALLOC REFERENCE_LIBTALLOC [ARGS...]

PROGRAM was built against Debian's headers and libtalloc.  It is run twice:

  1. as built, with LD_LIBRARY_PATH/LD_PRELOAD removed (the reference);
  2. with LD_LIBRARY_PATH set to the directory of OUR_LIBTALLOC (drop-in).

Each run gets TALLOC_DIFF_EXPECT_LIB naming the library it must have mapped;
the program checks that itself and exits 2 on a mismatch.  Exit statuses,
stdout and stderr are compared after masking addresses (0x...); on any
difference a unified diff is printed and the script exits 1.
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


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    program, ours, ref = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
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
    if ref_rc != our_rc:
        print(f"{name}: exit status differs: reference {ref_rc}, ours {our_rc}")
        ok = False
    for what, a, b in (("stdout", ref_out, our_out), ("stderr", ref_err, our_err)):
        if a != b:
            ok = False
            print(f"{name}: {what} differs (--- reference, +++ ours):")
            sys.stdout.writelines(difflib.unified_diff(
                a.splitlines(keepends=True), b.splitlines(keepends=True),
                fromfile=f"reference/{what}", tofile=f"ours/{what}", n=3))
    if ok:
        lines = ref_out.count("\n") + ref_err.count("\n")
        print(f"{name}: identical transcripts ({lines} lines, exit {ref_rc})")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
