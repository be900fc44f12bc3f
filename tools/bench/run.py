#!/usr/bin/env python3
"""The benchmark matrix, side by side: the reference (Debian's) libraries
against ours.

Each benchmark program (talloc_bench.c, tevent_bench.c) is built once against
Debian's headers and libraries and run on the reference and, through
LD_LIBRARY_PATH, on our build, alternating (which side goes first alternates
too), several rounds in one run.  Rows are timed in process CPU time
(user + system; rows with several threads in wall time), so that the time
a row spends waiting for a shared CPU is not counted.  Every row prints
its time and a checksum
of what the library handed back; the checksums of both libraries must agree,
or the row is marked.  A ratio is reference time / our time (throughput: > 1
means we are faster), from the medians over rounds; for heap bytes it is ours
/ reference (< 1 means we use less).  The spread is the range of the
per-round ratios (each round's pair runs back to back, so load drift hits
both sides of a pair alike).

Usage: tools/bench/run.py [--build DIR] [--rounds N] [--scale X] [--only SUBSTR]
                          [--markdown FILE] [--doc FILE] [--plot FILE.png]
                          [--raw FILE.json] [--from-raw FILE.json]
                          [--instructions SCALE] [--smoke]
                          [--check-cost [--tevent-nocheck-build DIR]]
                          [--cost-against DIR]

--instructions SCALE adds a column: each row's instructions (valgrind
--tool=callgrind, one run per side; the counters are zeroed before and
dumped after each row, so setup done inside a row counts too).  Under
valgrind our slab cells take the path that announces them to memcheck, so
counts of rows made of chunks up to 80 bytes overstate ours.
--from-raw FILE re-renders the timings of an earlier --raw run.

--check-cost measures the thread checks (docs/threads.md) instead of the
matrix: the talloc rows run on ours with TALLOC_THREAD_CHECK unset ("off")
and =1 ("on"), the tevent rows on a build configured with
-Dtevent_thread_check=false ("off", --tevent-nocheck-build DIR; without it
the tevent rows are left out) and on ours ("on"), alternating as above; the
ratios are on / off (> 1: what the check costs).

--cost-against DIR measures a change to ours instead of the matrix: every
row on the libraries of another build of ours (DIR, "off": say, the commit
before the change) and on this build ("on"), alternating; the ratios are
on / off (> 1: what the change costs).  The hardened checks (issue 16,
docs/hardening.md) were measured so.

--doc FILE replaces what lies between the "matrix:begin"/"matrix:end" marks
of FILE (docs/performance.md) with the table.  --smoke: one round at a tiny
scale; fails only if a row is missing on a side or the checksums differ
(no time is judged).
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

PROGRAMS = {
    "talloc_bench": ["-ltalloc", "-lpthread"],
    "tevent_bench": ["-ltevent", "-ltalloc", "-lpthread"],
}

NCPU = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def target_of(name):
    """Issue 17's target for a row: (value, kind), kind 'time' (ratio must
    reach it), 'bytes' (must stay at or below it) or 'info' (no library
    work of ours, or a part shown for explanation)."""
    if name.startswith(("malloc_", "fd_floor")):
        return None, "info"
    if name == "heap_per_16b_chunk":
        return 0.50, "bytes"
    if name.startswith("threads"):
        k = int(name[len("threads"):].split("_")[0])
        return (3.0 if k <= NCPU else 1.0), "time"
    if name.startswith(("tree_3", "tree_mixed", "wide")) or name.startswith("pool"):
        return 2.5, "time"
    if name.startswith(("alloc_free", "batch", "deep", "tree_2level", "typed_zero", "destructor",
                        "zero_memdup", "array_free")):
        return 3.0, "time"
    if name.startswith(("asprintf", "strdup", "strndup")):
        return 2.0, "time"
    if name in ("realloc_grow_1m", "realloc_double_1m", "realloc_shrink_100k"):
        return 1.5, "time"
    if name.startswith("ref_"):
        return 2.0, "time"
    if name.startswith("immediate"):
        return 3.0, "time"
    if name == "timers_add_random_20k":
        return 50.0, "time"
    if name == "timers_add_fire_random_20k":
        return 30.0, "time"
    if name == "threaded_immediates":
        return 10.0, "time"
    if name == "proxy_roundtrips":
        return 4.0, "time"
    # everything else: no row of the matrix may be slower than the reference
    return 1.0, "time"


def build(tmp):
    out = {}
    for name, libs in PROGRAMS.items():
        binary = os.path.join(tmp, name)
        subprocess.run(["cc", "-O2", "-Wall", "-o", binary, os.path.join(HERE, name + ".c")] + libs, check=True)
        out[name] = binary
    return out


def run_once(argv, env):
    res = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    values = {}
    for line in res.stdout.splitlines():
        name, value, check = line.split()
        values[name] = (float(value), check)
    return values


def environments(build_dir):
    talloc_dir = os.path.join(build_dir, "lib", "talloc")
    tevent_dir = os.path.join(build_dir, "lib", "tevent")
    for d, lib in ((talloc_dir, "libtalloc.so.2"), (tevent_dir, "libtevent.so.0")):
        if not os.path.exists(os.path.join(d, lib)):
            sys.exit(f"no built {lib} in {d}")
    ref_env = dict(os.environ)
    ref_env.pop("LD_LIBRARY_PATH", None)
    ref_env.pop("TALLOC_THREAD_CHECK", None)
    ours_env = dict(ref_env, LD_LIBRARY_PATH=f"{talloc_dir}:{tevent_dir}")
    return {"reference": dict.fromkeys(PROGRAMS, ref_env), "ours": dict.fromkeys(PROGRAMS, ours_env)}


def check_environments(build_dir, nocheck_build):
    """--check-cost: the talloc rows on ours with TALLOC_THREAD_CHECK off
    ("off") and on ("on"); the tevent rows on a build with the tevent check
    compiled out (meson -Dtevent_thread_check=false) and on ours as built,
    when that build is given."""
    ours = environments(build_dir)["ours"]["talloc_bench"]
    off = {"talloc_bench": ours}
    on = {"talloc_bench": dict(ours, TALLOC_THREAD_CHECK="1")}
    if nocheck_build:
        off["tevent_bench"] = environments(nocheck_build)["ours"]["tevent_bench"]
        on["tevent_bench"] = ours
    return {"off": off, "on": on}


def env_of(envs, side, prog):
    """envs[side][program]: the environment the program runs in on that
    side; None: the program does not run on that side."""
    return envs[side].get(prog)


def uses_threads(name):
    """Rows whose work runs on several threads at once."""
    if name.startswith("threads"):
        return int(name[len("threads"):].split("_")[0]) > 1
    return name in ("threaded_immediates", "proxy_roundtrips")


def row_groups(binary, scale, only, names):
    """The argument lists that run a program's rows (`names`, from
    row_names()): the single-thread rows pinned to one CPU (the same for
    both sides), the others free.  On these 2-vCPU machines a process the
    scheduler moves between CPUs runs some rows at half speed for a while,
    on either library, which a median of a few rounds does not always
    outvote; of six pinned runs, none did.  The benchmark programs select
    rows by comma-separated substrings: the pinned group is kept to the
    exact names it lists."""
    single = [n for n in names if not uses_threads(n)]
    threaded = [n for n in names if uses_threads(n)]
    exact = all(not any(t in n for t in single) for n in threaded)
    if not shutil.which("taskset") or not exact or not single:
        return [[binary, str(scale)] + ([only] if only else [])]
    groups = [["taskset", "-c", str(NCPU - 1), binary, str(scale), ",".join(single)]]
    if threaded:
        groups.append([binary, str(scale), ",".join(threaded)])
    return groups


def collect(binaries, envs, rounds, scale, only):
    """samples[side][row] = [(seconds, checksum) per round]"""
    order = list(envs)
    samples = {side: {} for side in order}
    groups = {prog: row_groups(binary, scale, only, row_names({prog: binary}, only))
              for prog, binary in binaries.items()}
    for r in range(rounds):
        for prog in binaries:
            # alternate which side runs first, so that neither always gets
            # the warmer or the quieter turn
            for side in (order if r % 2 == 0 else order[::-1]):
                env = env_of(envs, side, prog)
                if env is None:
                    continue
                for argv in groups[prog]:
                    for name, value in run_once(argv, env).items():
                        samples[side].setdefault(name, []).append(value)
        print(f"round {r + 1}/{rounds} done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return samples


TRIGGER = "desc: Trigger: Client Request: "

# The rows of tevent_bench (filled in by main), for --check-cost's summary.
TEVENT_ROWS = set()


def instructions(binaries, envs, scale, only, tmp):
    """Instructions per row (valgrind --tool=callgrind, whole process, one
    run per side): counts[side][row]."""
    counts = {}
    for side in envs:
        counts[side] = {}
        for prog, binary in binaries.items():
            env = env_of(envs, side, prog)
            if env is None:
                continue
            prefix = os.path.join(tmp, f"cg-{side}-{prog}")
            argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={prefix}.%p", binary, str(scale)]
            subprocess.run(argv + ([only] if only else []), env=env, check=True, capture_output=True)
            for f in os.listdir(tmp):
                if not f.startswith(os.path.basename(prefix) + "."):
                    continue
                name, total = None, None
                for line in open(os.path.join(tmp, f)):
                    if line.startswith(TRIGGER):
                        name = line[len(TRIGGER):].strip()
                    elif line.startswith(("totals:", "summary:")):
                        total = int(line.split()[1])
                if name is not None and total is not None:
                    counts[side][name] = total
        print(f"instructions counted on {side}", file=sys.stderr)
    return counts


def row_names(binaries, only):
    names = []
    for binary in binaries.values():
        out = subprocess.run([binary, "list"], check=True, capture_output=True, text=True).stdout.split()
        names += [n for n in out if not only or only in n]
    if "talloc_bench" in binaries and (not only or only in "heap_per_16b_chunk"):
        names.append("heap_per_16b_chunk")
    return names


def fmt_time(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} us"


def evaluate(names, samples, counts):
    """One dict per row: the medians, ratio, per-round ratio range, verdict."""
    rows = []
    for name in names:
        ref_s, our_s = samples["reference"].get(name), samples["ours"].get(name)
        target, kind = target_of(name)
        row = {"name": name, "target": target, "kind": kind}
        if not ref_s or not our_s:
            row["verdict"] = "MISSING"
            rows.append(row)
            continue
        same = {c for _, c in ref_s} == {c for _, c in our_s} and len({c for _, c in ref_s}) == 1
        ref = statistics.median(v for v, _ in ref_s)
        our = statistics.median(v for v, _ in our_s)
        pairs = list(zip((v for v, _ in ref_s), (v for v, _ in our_s)))
        if kind == "bytes":
            ratio = our / ref if ref > 0 else math.inf
            per_round = [o / r for r, o in pairs if r > 0]
            ok = ratio <= target
        else:
            ratio = ref / our if our > 0 else math.inf
            per_round = [r / o for r, o in pairs if o > 0]
            ok = target is None or ratio >= target
        per_round = per_round or [ratio]
        row.update(ref=ref, our=our, ratio=ratio, lo=min(per_round), hi=max(per_round), same=same)
        ir_ref, ir_our = counts.get("reference", {}).get(name), counts.get("ours", {}).get(name)
        if ir_ref and ir_our:
            row.update(ir_ref=ir_ref, ir_our=ir_our)
        if not same:
            row["verdict"] = "CHECKSUM DIFFERS"
        elif kind == "info":
            row["verdict"] = "(info)"
        else:
            row["verdict"] = "yes" if ok else "NO"
        rows.append(row)
    return rows


def derived(samples):
    """Ratios within one library's run: talloc ÷ plain malloc of the same
    shape (throughput of the talloc loop / throughput of the malloc loop),
    and the fd ping-pong ÷ the no-library floor."""
    out = []
    pairs = [("tree_3_16_32_48 vs malloc", "tree_3_16_32_48", "malloc_tree_3_16_32_48", 0.7),
             ("tree_mixed_3 vs malloc", "tree_mixed_3", "malloc_tree_mixed_3", 0.7),
             ("alloc_free_16 vs malloc", "alloc_free_16", "malloc_free_16", None),
             ("fd_pingpong vs no library", "fd_pingpong", "fd_floor", 0.95),
             ("fd_pingpong_1000_idle vs no library", "fd_pingpong_1000_idle", "fd_floor_1000_idle", 0.95)]
    for label, lib_row, floor_row, target in pairs:
        vals = {}
        for side in ("reference", "ours"):
            a, b = samples[side].get(lib_row), samples[side].get(floor_row)
            if not a or not b:
                break
            per_round = [f / t for (t, _), (f, _) in zip(a, b) if t > 0]
            vals[side] = (statistics.median(per_round), min(per_round), max(per_round))
        if len(vals) == 2:
            ok = target is None or vals["ours"][0] >= target
            out.append({"name": label, "reference": vals["reference"], "ours": vals["ours"], "target": target,
                        "verdict": "(info)" if target is None else ("yes" if ok else "NO")})
    return out


def check_cost_report(names, samples, counts, header):
    """--check-cost: per row, the time and the instruction count with the
    thread check on over the same with it off (> 1: the check costs)."""
    lines = header + ["", f"{'row':<34} {'off':>10} {'on':>10} {'on/off':>7} {'spread':>11} "
                          f"{'instr off':>13} {'instr on':>13} {'on/off':>7}"]
    by_prog = {}
    for name in names:
        off, on = samples["off"].get(name), samples["on"].get(name)
        if not off or not on:
            continue
        t_off = statistics.median(v for v, _ in off)
        t_on = statistics.median(v for v, _ in on)
        per_round = [b / a for (a, _), (b, _) in zip(off, on) if a > 0] or [math.inf]
        cost = t_on / t_off if t_off > 0 else math.inf
        i_off, i_on = counts.get("off", {}).get(name), counts.get("on", {}).get(name)
        icost = i_on / i_off if i_off and i_on else None
        prog = "tevent" if name in TEVENT_ROWS else "talloc"
        by_prog.setdefault(prog, []).append((name, cost, icost))
        lines.append(f"{name:<34} {fmt_time(t_off):>10} {fmt_time(t_on):>10} {cost:>7.2f} "
                     f"{min(per_round):>5.2f}-{max(per_round):<5.2f} "
                     + (f"{i_off:>13,} {i_on:>13,} {icost:>7.3f}" if icost else f"{'-':>13} {'-':>13} {'-':>7}"))
    lines.append("")
    for prog, rows in by_prog.items():
        worst_t = max(rows, key=lambda r: r[1])
        geo_t = math.exp(statistics.mean(math.log(r[1]) for r in rows if 0 < r[1] < math.inf))
        line = f"{prog}: time on/off geometric mean {geo_t:.3f}, worst {worst_t[1]:.2f} ({worst_t[0]})"
        with_i = [r for r in rows if r[2]]
        if with_i:
            worst_i = max(with_i, key=lambda r: r[2])
            geo_i = math.exp(statistics.mean(math.log(r[2]) for r in with_i))
            line += f"; instructions geometric mean {geo_i:.3f}, worst {worst_i[2]:.3f} ({worst_i[0]})"
        lines.append(line)
    return "\n".join(lines) + "\n"


def want(row):
    if row["target"] is None:
        return "-"
    return (">= " if row["kind"] == "time" else "<= ") + f"{row['target']:g}"


def render(rows, extra, header, markdown):
    lines = []
    if markdown:
        lines += header + [""]
        lines.append("| row | reference | ours | ratio | spread (per round) | instructions ref / ours | target | met |")
        lines.append("|---|---:|---:|---:|---|---:|---|---|")
    else:
        lines += header + [""]
        lines.append(f"{'row':<34} {'reference':>10} {'ours':>10} {'ratio':>7} {'spread':>13} {'instr':>22} "
                     f"{'target':>8}  met")
    for r in rows:
        if "ratio" not in r:
            cells = [r["name"], "-", "-", "-", "-", "-", want(r), r["verdict"]]
        else:
            unit = (lambda v: f"{v:.1f} B") if r["kind"] == "bytes" else fmt_time
            instr = "-"
            if "ir_ref" in r:
                instr = f"{r['ir_ref'] / r['ir_our']:.2f} ({r['ir_ref'] / 1e6:.1f}M/{r['ir_our'] / 1e6:.1f}M)"
            cells = [r["name"], unit(r["ref"]), unit(r["our"]), f"{r['ratio']:.2f}",
                     f"{r['lo']:.2f}-{r['hi']:.2f}", instr, want(r), r["verdict"]]
        if markdown:
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(f"{cells[0]:<34} {cells[1]:>10} {cells[2]:>10} {cells[3]:>7} {cells[4]:>13} {cells[5]:>22} "
                         f"{cells[6]:>8}  {cells[7]}")
    if extra:
        lines.append("")
        if markdown:
            lines.append("Within one library's run (library throughput ÷ no-library or plain-malloc throughput, "
                         "median of the per-round ratios, range):")
            lines.append("")
            lines.append("| shape | reference | ours | target (ours) | met |")
            lines.append("|---|---:|---:|---|---|")
        for e in extra:
            ref, our = e["reference"], e["ours"]
            t = "-" if e["target"] is None else f">= {e['target']:g}"
            cells = [e["name"], f"{ref[0]:.2f} ({ref[1]:.2f}-{ref[2]:.2f})", f"{our[0]:.2f} ({our[1]:.2f}-{our[2]:.2f})",
                     t, e["verdict"]]
            if markdown:
                lines.append("| " + " | ".join(cells) + " |")
            else:
                lines.append(f"{cells[0]:<38} ref {cells[1]:>18}  ours {cells[2]:>18}  {t:>8}  {cells[4]}")
    met = sum(1 for r in rows + extra if r["verdict"] == "yes")
    missed = [r["name"] for r in rows + extra if r["verdict"] in ("NO", "MISSING", "CHECKSUM DIFFERS")]
    lines.append("")
    lines.append(f"targets met: {met}; not met: {len(missed)}" + (f" ({', '.join(missed)})" if missed else ""))
    return "\n".join(lines) + "\n"


# ---- the plot: one bar per row, log scale, the target marked ---------------

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
    ")": "08040202020408", "-": "0000001f000000", ",": "000000000c0408", ":": "000c0c000c0c00",
    "=": "00001f001f0000", "_": "0000000000001f", "<": "02040810080402", ">": "08040201020408",
}


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def rect(self, x0, y0, x1, y1, c):
        x0, x1 = sorted((max(0, int(x0)), min(self.w, int(x1))))
        y0, y1 = sorted((max(0, int(y0)), min(self.h, int(y1))))
        for y in range(y0, y1):
            i = (y * self.w + x0) * 3
            self.px[i:i + 3 * (x1 - x0)] = bytes(c) * (x1 - x0)

    def text(self, x, y, s, c=(0, 0, 0), scale=1):
        for ch in s.upper():
            rows = FONT.get(ch, FONT[" "])
            for r in range(7):
                bits = int(rows[2 * r:2 * r + 2], 16)
                for col in range(5):
                    if bits & (0x10 >> col):
                        self.rect(x + col * scale, y + r * scale, x + (col + 1) * scale, y + (r + 1) * scale, c)
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


GOOD, BAD, INFO, GREY, BLACK = (40, 150, 60), (210, 50, 40), (150, 150, 150), (215, 215, 215), (0, 0, 0)


def plot(rows, path, title):
    """Horizontal bars: the ratio of each row on a log axis from 0.25 to
    1000, green where the target is met, red where not, grey for info rows;
    a black tick marks the target and the whisker the per-round range."""
    rows = [r for r in rows if "ratio" in r]
    label_w, bar_w, line_h, top = 300, 700, 13, 50
    cv = Canvas(label_w + bar_w + 40, top + line_h * len(rows) + 40)
    lo_v, hi_v = 0.25, 1000.0
    xpos = lambda v: label_w + (math.log10(min(max(v, lo_v), hi_v)) - math.log10(lo_v)) / \
        (math.log10(hi_v) - math.log10(lo_v)) * bar_w
    cv.text(10, 10, title, scale=2)
    for v in (0.25, 0.5, 1, 2, 5, 10, 30, 100, 1000):
        cv.rect(xpos(v), top - 6, xpos(v) + 1, top + line_h * len(rows), GREY if v != 1 else BLACK)
        cv.text(int(xpos(v)) - 3 * len(f"{v:g}"), top - 16, f"{v:g}")
    for i, r in enumerate(rows):
        y = top + i * line_h
        cv.text(label_w - 6 * len(r["name"]) - 8, y + 3, r["name"])
        color = INFO if r["verdict"] == "(info)" else (GOOD if r["verdict"] == "yes" else BAD)
        cv.rect(xpos(1), y + 2, xpos(r["ratio"]), y + line_h - 2, color)
        cv.rect(xpos(r["lo"]), y + line_h // 2, xpos(r["hi"]) + 1, y + line_h // 2 + 1, BLACK)
        if r["target"] is not None:
            cv.rect(xpos(r["target"]) - 1, y, xpos(r["target"]) + 2, y + line_h, BLACK)
    cv.text(10, top + line_h * len(rows) + 16, "RATIO OURS / REFERENCE (THROUGHPUT; HEAP: BYTES), LOG SCALE; "
            "BLACK TICK: TARGET; WHISKER: PER-ROUND RANGE")
    cv.png(path)


def replace_marked(path, text, mark="matrix"):
    """Puts text between the "<!-- MARK:begin -->" and "<!-- MARK:end -->"
    lines of the file at path."""
    begin, end = f"<!-- {mark}:begin -->", f"<!-- {mark}:end -->"
    doc = open(path).read() if os.path.exists(path) else f"{begin}\n{end}\n"
    if begin not in doc or end not in doc:
        sys.exit(f"{path} has no {begin} ... {end} marks")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + text + end + tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", help="rows whose name contains this")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table as markdown to FILE")
    ap.add_argument("--doc", metavar="FILE", help="put the markdown table between the marks of FILE")
    ap.add_argument("--plot", metavar="FILE", help="draw the matrix to FILE (PNG)")
    ap.add_argument("--raw", metavar="FILE", help="write every sample to FILE (JSON)")
    ap.add_argument("--instructions", type=float, metavar="SCALE",
                    help="also count each row's instructions under callgrind at this scale")
    ap.add_argument("--from-raw", metavar="FILE",
                    help="take the timings (and counts, if it has them) from a --raw FILE instead of running")
    ap.add_argument("--counts-from", metavar="FILE", help="take the instruction counts from another --raw FILE")
    ap.add_argument("--smoke", action="store_true", help="one tiny round; judges no time, only checksums")
    ap.add_argument("--check-cost", action="store_true",
                    help="instead of the matrix: ours with the thread checks off against on (talloc: "
                         "TALLOC_THREAD_CHECK=1; tevent: needs --tevent-nocheck-build)")
    ap.add_argument("--cost-against", metavar="DIR",
                    help="instead of the matrix: every row on another build of ours (DIR, 'off') against "
                         "this build ('on')")
    ap.add_argument("--tevent-nocheck-build", metavar="DIR",
                    help="with --check-cost: a build configured with -Dtevent_thread_check=false, for the "
                         "tevent rows' 'off' side")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.scale = 1, 0.01

    if args.cost_against:
        args.check_cost = True
        envs = {"off": environments(args.cost_against)["ours"], "on": environments(args.build)["ours"]}
    elif args.check_cost:
        envs = check_environments(args.build, args.tevent_nocheck_build)
    else:
        envs = environments(args.build)
    load_before = os.getloadavg()
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        binaries = build(tmp)
        if args.check_cost:
            binaries = {p: b for p, b in binaries.items() if p in envs["off"]}
        TEVENT_ROWS.update(row_names({"tevent_bench": binaries["tevent_bench"]}, None) if "tevent_bench" in binaries
                           else [])
        names = row_names(binaries, args.only)
        if args.from_raw:
            with open(args.from_raw) as f:
                raw = json.load(f)
            samples, load_before, load_after = raw["samples"], raw["load_before"], raw["load_after"]
            args.rounds, args.scale = raw["rounds"], raw["scale"]
            counts = raw.get("counts", {})
            if counts and not args.instructions:
                args.instructions = raw.get("instructions_scale")
        else:
            samples = collect(binaries, envs, args.rounds, args.scale, args.only)
            load_after = os.getloadavg()
        if args.counts_from:
            with open(args.counts_from) as f:
                raw = json.load(f)
            counts, args.instructions = raw["counts"], raw["instructions_scale"]
        elif args.instructions and not counts:
            counts = instructions(binaries, envs, args.instructions, args.only, tmp)
    header = [f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
              f"{platform.processor() or platform.machine()}, {NCPU} CPUs, {args.rounds} rounds "
              f"(alternating, medians), scale {args.scale:g}; load average before "
              f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
              f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}"
              + (f"; instructions: callgrind, one run per side at scale {args.instructions:g}" if counts else "")]
    if args.check_cost:
        if args.cost_against:
            header.append(f"cost of a change: rows on {args.cost_against} (off) / on {args.build} (on)")
        else:
            header.append("thread check cost: talloc rows TALLOC_THREAD_CHECK unset (off) / =1 (on)"
                          + ("; tevent rows the tevent check compiled out (off, " + args.tevent_nocheck_build
                             + ") / in (on)" if args.tevent_nocheck_build else ""))
        text = check_cost_report(names, samples, counts, header)
        print(text)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(text)
        if args.raw:
            with open(args.raw, "w") as f:
                json.dump({"header": header, "samples": samples, "rounds": args.rounds, "scale": args.scale,
                           "load_before": load_before, "load_after": load_after, "counts": counts,
                           "instructions_scale": args.instructions, "check_cost": True}, f)
        return 0
    rows = evaluate(names, samples, counts)
    extra = derived(samples)
    print(render(rows, extra, header, False))
    if args.markdown or args.doc:
        md = render(rows, extra, [h + "." for h in header], True)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(md)
        if args.doc:
            replace_marked(args.doc, md)
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump({"header": header, "samples": samples, "rounds": args.rounds, "scale": args.scale,
                       "load_before": load_before, "load_after": load_after, "counts": counts,
                       "instructions_scale": args.instructions}, f)
    if args.plot:
        plot(rows, args.plot, f"TALLOC/TEVENT MATRIX, {args.rounds} ROUNDS, LOAD {load_before[0]:.1f}")
        print(f"plot written to {args.plot}")
    broken = [r["name"] for r in rows if r["verdict"] in ("MISSING", "CHECKSUM DIFFERS")]
    if args.smoke:
        print(f"smoke: {len(rows)} rows on both libraries, checksums "
              + ("agree" if not broken else "differ or are missing: " + ", ".join(broken)))
        return 1 if broken else 0
    return 1 if broken or any(r["verdict"] == "NO" for r in rows + extra) else 0


if __name__ == "__main__":
    sys.exit(main())
