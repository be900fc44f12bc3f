#!/usr/bin/env python3
"""Side-by-side benchmarks: the reference (Debian's) libraries against ours.

Each benchmark program is built once against Debian's headers and libraries
and run alternately on the reference and, through LD_LIBRARY_PATH, on our
build, several rounds.  Medians per workload give the ratios printed at the
end (throughput ratio ours/reference: > 1 means we are faster; for memory
workloads, bytes ratio ours/reference: < 1 means we use less).

Usage: tools/bench/run.py [--build DIR] [--rounds N] [--scale X] [--smoke]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# workload -> (target ratio, kind); kind 'time' compares throughput,
# 'bytes' compares memory (ours / reference).
TARGETS = {
    "alloc_free": (2.5, "time"),
    "pool_alloc_free": (2.5, "time"),
    "free_1m_children": (2.0, "time"),
    "free_100k_deep": (2.0, "time"),
    "asprintf_append": (1.5, "time"),
    "realloc_growth": (1.5, "time"),
    "reference_unlink": (2.0, "time"),
    "two_threads": (2.5, "time"),
    "heap_per_16b_chunk": (0.6, "bytes"),
}


def build(source, out, libs):
    cmd = ["cc", "-O2", "-o", out, source] + libs
    subprocess.run(cmd, check=True)


def run_once(binary, scale, env):
    res = subprocess.run([binary, str(scale)], env=env, check=True, capture_output=True, text=True)
    values = {}
    for line in res.stdout.splitlines():
        name, value, _unit = line.split()
        values[name] = float(value)
    return values


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--smoke", action="store_true", help="one short round, no target check")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.scale = 1, 0.05

    ours_dir = os.path.join(args.build, "lib", "talloc")
    if not os.path.exists(os.path.join(ours_dir, "libtalloc.so.2")):
        sys.exit(f"no built libtalloc.so.2 in {ours_dir}")
    ours_env = dict(os.environ, LD_LIBRARY_PATH=ours_dir)
    ref_env = dict(os.environ)
    ref_env.pop("LD_LIBRARY_PATH", None)

    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "talloc_bench")
        build(os.path.join(HERE, "talloc_bench.c"), binary, ["-ltalloc", "-lpthread"])
        samples = {"reference": {}, "ours": {}}
        for _ in range(args.rounds):
            # alternate, so drift in machine load hits both sides alike
            for side, env in (("reference", ref_env), ("ours", ours_env)):
                for name, value in run_once(binary, args.scale, env).items():
                    samples[side].setdefault(name, []).append(value)

    print(f"{'workload':<22} {'reference':>12} {'ours':>12} {'ratio':>8} {'target':>8}  ok")
    failures = 0
    for name, (target, kind) in TARGETS.items():
        ref = statistics.median(samples["reference"][name])
        our = statistics.median(samples["ours"][name])
        if kind == "time":
            ratio = ref / our if our > 0 else float("inf")
            ok = ratio >= target
        else:
            ratio = our / ref if ref > 0 else float("inf")
            ok = ratio <= target
        failures += 0 if ok else 1
        print(f"{name:<22} {ref:>12.6f} {our:>12.6f} {ratio:>8.2f} {target:>8.2f}  {'yes' if ok else 'NO'}")
    malloc_ratio = statistics.median(samples["ours"]["alloc_free"]) / statistics.median(samples["ours"]["malloc_free"])
    print(f"ours alloc_free / plain malloc_free (same run): {malloc_ratio:.2f} (target <= 1.5)")
    if args.smoke:
        return 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
