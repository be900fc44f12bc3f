#!/usr/bin/env python3
"""Sums meson test logs (JSON lines) into the closing 'N passed, N failed' line.

Exits non-zero when anything failed or when no test ran at all."""
import json
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"missing test log {path}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:  # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, SKIP: a skipped check is not a pass
            failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
