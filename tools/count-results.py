#!/usr/bin/env python3
"""Sums meson test logs (JSON lines) into the closing 'N passed, N failed' line.

One log per stage (main, valgrind, asan, tsan); a line per stage goes to
stderr first.  A missing log (a stage whose build failed) counts as a
failure.  Exits non-zero when anything failed or when no test ran at all."""
import json
import os
import sys

passed = failed = 0
for path in sys.argv[1:]:
    stage = os.path.basename(path).removesuffix(".json")
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"{stage}: missing test log {path}", file=sys.stderr)
        failed += 1
        continue
    p = f = 0
    for line in lines:
        if not line.strip():
            continue
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            p += 1
        else:  # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, SKIP: a skipped check is not a pass
            f += 1
    print(f"{stage}: {p} passed, {f} failed", file=sys.stderr)
    passed += p
    failed += f
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
