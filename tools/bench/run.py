#!/usr/bin/env python3
"""Side-by-side benchmarks: the reference (Debian's) libraries against ours.

Each benchmark program (talloc_bench.c, tevent_bench.c) is built once against
Debian's headers and libraries and run alternately on the reference and,
through LD_LIBRARY_PATH, on our build, several rounds.  Medians per workload
give the ratios in the table (throughput ratio ours/reference: > 1 means we
are faster; for memory, bytes ratio ours/reference: < 1 means we use less).

Usage: tools/bench/run.py [--build DIR] [--rounds N] [--scale X]
                          [--plot FILE.png] [--markdown] [--smoke]

--smoke runs one short round of every workload on both libraries and fails
only if a workload is missing or the timer firing order differs from the
reference's (no time is judged).
"""
import argparse
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# workload -> (target, kind).  'time': throughput ratio must reach the target;
# 'bytes': ours/reference must stay at or below it; 'same': values must match.
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
    "immediate_resched": (2.0, "time"),
    "timers_add_20k": (20.0, "time"),
    "timers_due_add_fire_20k": (10.0, "time"),
    "timers_due_fire_only_20k": (None, "time"),
    "timers_fire_order": (None, "same"),
    "fd_pingpong": (1.2, "time"),
    "fd_pingpong_1000_idle": (1.2, "time"),
    "threaded_immediates": (3.0, "time"),
    "proxy_roundtrips": (2.0, "time"),
}

PROGRAMS = {
    "talloc_bench": ["-ltalloc", "-lpthread"],
    "tevent_bench": ["-ltevent", "-ltalloc", "-lpthread"],
}


def build(tmp):
    out = {}
    for name, libs in PROGRAMS.items():
        binary = os.path.join(tmp, name)
        subprocess.run(["cc", "-O2", "-o", binary, os.path.join(HERE, name + ".c")] + libs, check=True)
        out[name] = binary
    return out


def run_once(argv, env):
    res = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    values = {}
    for line in res.stdout.splitlines():
        name, value, _unit = line.split()
        values[name] = float(value)
    return values


def environments(build_dir):
    talloc_dir = os.path.join(build_dir, "lib", "talloc")
    tevent_dir = os.path.join(build_dir, "lib", "tevent")
    for d, lib in ((talloc_dir, "libtalloc.so.2"), (tevent_dir, "libtevent.so.0")):
        if not os.path.exists(os.path.join(d, lib)):
            sys.exit(f"no built {lib} in {d}")
    ref_env = dict(os.environ)
    ref_env.pop("LD_LIBRARY_PATH", None)
    ours_env = dict(ref_env, LD_LIBRARY_PATH=f"{talloc_dir}:{tevent_dir}")
    return (("reference", ref_env), ("ours", ours_env))


def collect(binaries, envs, rounds, scale):
    samples = {"reference": {}, "ours": {}}
    for _ in range(rounds):
        # alternate, so drift in machine load hits both sides alike
        for binary in binaries.values():
            for side, env in envs:
                for name, value in run_once([binary, str(scale)], env).items():
                    samples[side].setdefault(name, []).append(value)
    return samples


def table(samples, markdown):
    rows, failures, missing = [], 0, 0
    for name, (target, kind) in TARGETS.items():
        if name not in samples["reference"] or name not in samples["ours"]:
            missing += 1
            rows.append((name, "-", "-", "-", "-", "MISSING"))
            continue
        ref = statistics.median(samples["reference"][name])
        our = statistics.median(samples["ours"][name])
        if kind == "same":
            same = set(samples["reference"][name]) == set(samples["ours"][name])
            failures += 0 if same else 1
            rows.append((name, "", "", "", "identical", "yes" if same else "NO"))
            continue
        if kind == "time":
            ratio = ref / our if our > 0 else float("inf")
            ok = target is None or ratio >= target
            ref_s, our_s = f"{ref * 1000:.2f} ms", f"{our * 1000:.2f} ms"
        else:
            ratio = our / ref if ref > 0 else float("inf")
            ok = ratio <= target
            ref_s, our_s = f"{ref:.1f} B", f"{our:.1f} B"
        failures += 0 if ok else 1
        want = "-" if target is None else (f">= {target:g}" if kind == "time" else f"<= {target:g}")
        verdict = "(info)" if target is None else ("yes" if ok else "NO")
        rows.append((name, ref_s, our_s, f"{ratio:.2f}", want, verdict))
    if markdown:
        print("| workload | reference | ours | ratio | target | met |")
        print("|---|---:|---:|---:|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        print(f"{'workload':<26} {'reference':>12} {'ours':>12} {'ratio':>7} {'target':>10}  met")
        for r in rows:
            print(f"{r[0]:<26} {r[1]:>12} {r[2]:>12} {r[3]:>7} {r[4]:>10}  {r[5]}")
    floor = samples["ours"].get("fd_pingpong_no_library", []) + samples["reference"].get("fd_pingpong_no_library", [])
    if floor and "fd_pingpong" in samples["ours"] and "fd_pingpong" in samples["reference"]:
        # Both libraries make the same three system calls per hop; the time
        # left above the bare loop (whose wait is the cheapest there is) is
        # all either library can win back.
        f = statistics.median(floor)
        ref = statistics.median(samples["reference"]["fd_pingpong"])
        our = statistics.median(samples["ours"]["fd_pingpong"])
        print(f"\nfd_pingpong with no library (epoll_wait without deadline + read + write per hop): {f * 1000:.2f} ms; "
              f"reference {ref / f:.2f}x that, ours {our / f:.2f}x; "
              f"the best any library could reach is {ref / f:.2f}x the reference")
    if "alloc_free" in samples["ours"] and "malloc_free" in samples["ours"]:
        m = statistics.median(samples["ours"]["alloc_free"]) / statistics.median(samples["ours"]["malloc_free"])
        print(f"\nours alloc_free / plain malloc_free, same run: {m:.2f} (target <= 1.5)")
        failures += 0 if m <= 1.5 else 1
    return failures, missing


# ---- a small PNG plotter (no matplotlib needed) ------------------------------

# 5x7 glyphs, one hex byte per row (low 5 bits, leftmost pixel first).
FONT = {
    "0": "0e11131519110e", "1": "040c040404040e", "2": "0e11010204081f", "3": "1f02040201110e",
    "4": "02060a121f0202", "5": "1f101e0101110e", "6": "0608101e11110e", "7": "1f010204080808",
    "8": "0e11110e11110e", "9": "0e11110f01020c", "A": "0e1111111f1111", "B": "1e11111e11111e",
    "C": "0e11101010110e", "D": "1c12111111121c", "E": "1f10101e10101f", "F": "1f10101e101010",
    "G": "0e11101711110f", "H": "1111111f111111", "I": "0e04040404040e", "J": "0702020202120c",
    "K": "11121418141211", "L": "1010101010101f", "M": "111b1515111111", "N": "11111915131111",
    "O": "0e11111111110e", "P": "1e11111e101010", "Q": "0e11111115120d", "R": "1e11111e141211",
    "S": "0f10100e01011e", "T": "1f040404040404", "U": "1111111111110e", "V": "11111111110a04",
    "W": "1111111515150a", "X": "11110a040a1111", "Y": "1111110a040404", "Z": "1f01020408101f",
    " ": "00000000000000", ".": "00000000000c0c", "/": "00010204081000", "(": "02040808080402",
    ")": "08040202020408", "-": "0000001f000000", ",": "000000000c0408", ":": "000c0c000c0c00", "=": "00001f001f0000",
}


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def dot(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def line(self, x0, y0, x1, y1, c, width=1):
        x0, y0, x1, y1 = int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            for ox in range(width):
                for oy in range(width):
                    self.dot(x0 + ox - width // 2, y0 + oy - width // 2, c)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def box(self, x, y, r, c):
        for ox in range(-r, r + 1):
            for oy in range(-r, r + 1):
                self.dot(int(x) + ox, int(y) + oy, c)

    def text(self, x, y, s, c=(0, 0, 0), scale=2):
        for ch in s.upper():
            rows = FONT.get(ch, FONT[" "])
            for r in range(7):
                bits = int(rows[2 * r:2 * r + 2], 16)
                for col in range(5):
                    if bits & (0x10 >> col):
                        for a in range(scale):
                            for b in range(scale):
                                self.dot(x + col * scale + a, y + r * scale + b, c)
            x += 6 * scale

    def png(self, path):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3]) for y in range(self.h))

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n")
            f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)))
            f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
            f.write(chunk(b"IEND", b""))


REF_COLOR, OUR_COLOR, GREY = (200, 60, 40), (30, 90, 200), (190, 190, 190)


def panel(cv, x0, y0, w, h, title, xlabel, series, xs_log, ys_log, xticks, yticks, legend_low=False):
    """series: [(label, color, [(x, y), ...])]; ticks: [(value, text)];
    the legend goes top left, or bottom right where the curves leave room."""
    import math
    tx = (lambda v: math.log10(v)) if xs_log else (lambda v: v)
    ty = (lambda v: math.log10(v)) if ys_log else (lambda v: v)
    xmin, xmax = tx(xticks[0][0]), tx(xticks[-1][0])
    ymin, ymax = ty(yticks[0][0]), ty(yticks[-1][0])
    px = lambda v: x0 + (tx(v) - xmin) / (xmax - xmin) * w
    py = lambda v: y0 + h - (ty(v) - ymin) / (ymax - ymin) * h
    cv.text(x0, y0 - 40, title)
    for v, label in xticks:
        cv.line(px(v), y0, px(v), y0 + h, GREY)
        cv.text(int(px(v)) - 6 * len(label), y0 + h + 8, label)
    for v, label in yticks:
        cv.line(x0, py(v), x0 + w, py(v), GREY)
        cv.text(x0 - 12 * len(label) - 8, int(py(v)) - 7, label)
    cv.line(x0, y0 + h, x0 + w, y0 + h, (0, 0, 0), 2)
    cv.line(x0, y0, x0, y0 + h, (0, 0, 0), 2)
    cv.text(x0 + w // 2 - 6 * len(xlabel), y0 + h + 32, xlabel)
    for i, (label, color, pts) in enumerate(series):
        pts = [(x, y) for x, y in pts if y > 0]
        for (a, b), (c, d) in zip(pts, pts[1:]):
            cv.line(px(a), py(b), px(c), py(d), color, 3)
        for a, b in pts:
            cv.box(px(a), py(b), 4, color)
        lx = x0 + w - 12 * len(label) - 40 if legend_low else x0 + 20
        ly = y0 + h - 26 * (len(series) - i) if legend_low else y0 + 14 + 26 * i
        cv.box(lx, ly, 6, color)
        cv.text(lx + 14, ly - 7, label, color)


def ticks(lo, hi, log):
    import math
    if log:
        out, v = [], 10 ** math.floor(math.log10(lo))
        while v < hi * 1.0001:
            out.append(v)
            v *= 10
        out.append(v)
        return [(t, f"{t:g}") for t in out]
    step = 10 ** math.floor(math.log10(max(hi, 1e-9)))
    while hi / step < 4:
        step /= 2
    top = math.ceil(hi / step) * step
    n = int(round(top / step))
    return [(i * step, f"{i * step:g}") for i in range(n + 1)]


def plot(binaries, envs, rounds, path, smoke):
    # (the reference needs seconds at 20,000: its insert is linear)
    counts = [500, 1000, 2000] if smoke else [1000, 2500, 5000, 10000, 20000]
    thread_counts = [1, 2, 4] if smoke else [1, 2, 3, 4, 6, 8]
    per_thread = 0.02 if smoke else 0.5
    timers = {side: {} for side, _ in envs}
    threads = {side: {} for side, _ in envs}
    for _ in range(rounds):
        for side, env in envs:
            vals = run_once([binaries["tevent_bench"], "curve"] + [str(c) for c in counts], env)
            for c in counts:
                timers[side].setdefault(c, []).append(vals[f"timers_add_{c}"])
            for k in thread_counts:
                vals = run_once([binaries["talloc_bench"], "threads", str(k), str(per_thread)], env)
                threads[side].setdefault(k, []).append(vals[f"threads_{k}"])
    med = lambda d: {k: statistics.median(v) for k, v in d.items()}
    cv = Canvas(1200, 520)
    ms = {s: {c: t * 1000 for c, t in med(timers[s]).items()} for s in timers}
    all_ms = [v for s in ms.values() for v in s.values() if v > 0]
    panel(cv, 130, 80, 420, 340, "TIMERS ADDED AT RANDOM DEADLINES", "TIMERS (LOG)",
          [("REFERENCE (MS, LOG)", REF_COLOR, sorted(ms["reference"].items())),
           ("OURS (MS, LOG)", OUR_COLOR, sorted(ms["ours"].items()))],
          True, True, [(c, str(c)) for c in counts], ticks(min(all_ms), max(all_ms), True))
    ops = {s: {k: k * 1e6 * per_thread / t / 1e6 for k, t in med(threads[s]).items()} for s in threads}
    top = max(v for s in ops.values() for v in s.values())
    ncpu = os.cpu_count() or 1
    panel(cv, 720, 80, 420, 340, f"ALLOC/FREE LOOPS, {ncpu} CPUS", "THREADS",
          [("REFERENCE (M LOOPS/S)", REF_COLOR, sorted(ops["reference"].items())),
           ("OURS (M LOOPS/S)", OUR_COLOR, sorted(ops["ours"].items()))],
          False, False, [(k, str(k)) for k in range(0, thread_counts[-1] + 1, 2 if thread_counts[-1] > 4 else 1)],
          ticks(0, top, False), legend_low=True)
    cv.png(path)
    print(f"plot written to {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--plot", metavar="FILE", help="also write scaling curves to FILE (PNG)")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--smoke", action="store_true", help="one short round, no time judged")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.scale = 1, 0.02

    envs = environments(args.build)
    with tempfile.TemporaryDirectory() as tmp:
        binaries = build(tmp)
        samples = collect(binaries, envs, args.rounds, args.scale)
        if not args.smoke:
            print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                  f"{args.rounds} rounds, medians, scale {args.scale:g}\n")
        failures, missing = table(samples, args.markdown)
        if args.plot:
            plot(binaries, envs, 1 if args.smoke else 3, args.plot, args.smoke)
    if args.smoke:
        order_same = set(samples["reference"].get("timers_fire_order", [0])) == \
            set(samples["ours"].get("timers_fire_order", [1]))
        ok = missing == 0 and order_same
        print("smoke:", "1 passed, 0 failed" if ok else "0 passed, 1 failed")
        return 0 if ok else 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
