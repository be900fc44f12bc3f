#!/usr/bin/env python3
"""Real programs as benchmarks: unchanged Debian binaries timed on the
reference libraries and on ours, alternating, through tools/launch.

Workloads (all in a private temporary directory, nothing outside it is
written; the server listens on 127.0.0.1 only):
  ldbadd_*           ldbadd of a generated LDIF (100k person records) into a
                     fresh tdb database
  ldbsearch_*        ldbsearch over that database: every record, and an
                     unindexed filter (a full scan)
  samba_tool_provision
                     samba-tool domain provision (a DC, no DNS) into a fresh
                     target directory
  smbclient_*        smbd with a private configuration, serving smbclient over
                     127.0.0.1: mget of many small files, get of one large
                     file (the daemon is started for each side and round and
                     stopped by its PID)

A ratio is ours / reference wall time (lower is better); the CPU column
is the same for the user + system time of the timed commands and the
processes they waited for (the smbd daemon's own time is not in it).  Each run's output
gives a signature (records counted, files and hashes) that must be the same
on both libraries.  Before timing, one run of each program under
`tools/launch --require` checks that the processes really mapped the
libraries the side claims.

Usage: tools/bench/programs.py [--build DIR] [--rounds N] [--records N]
                               [--only SUBSTR] [--doc FILE] [--smoke]
--smoke: tiny sizes, one round, samba-tool testparm instead of provision; it
fails only if a run fails or the signatures differ (no time is judged).
"""
import argparse
import datetime
import hashlib
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAUNCH = os.path.join(ROOT, "tools", "launch")
sys.path.insert(0, HERE)
from run import replace_marked  # noqa: E402  (the --doc marks, shared with the matrix)

SIDES = ("reference", "ours")


class Side:
    def __init__(self, name, build):
        self.name = name
        self.prefix = [LAUNCH, "--build", build, "--"] if name == "ours" else [LAUNCH, "--system", "--"]
        self.check = [LAUNCH, "--build", build, "--require", "talloc,tevent", "--"] if name == "ours" else \
            [LAUNCH, "--system", "--require", "talloc,tevent", "--"]


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


CPU = {"last": 0.0}   # CPU seconds (user + system) of the last timed() command and its children


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv, **kw):
    """Runs argv; its wall time and stdout (its CPU time goes to CPU["last"])."""
    c, t = children_cpu(), time.monotonic()
    res = subprocess.run(argv, capture_output=True, **kw)
    elapsed = time.monotonic() - t
    CPU["last"] = children_cpu() - c
    if res.returncode != 0:
        sys.exit(f"failed ({res.returncode}): {' '.join(argv)}\n{res.stderr.decode(errors='replace')[-2000:]}")
    return elapsed, res.stdout


# ---- ldb ----------------------------------------------------------------------

def write_ldif(path, records):
    with open(path, "w") as f:
        for i in range(records):
            f.write(f"dn: cn=user{i},ou=people,dc=example,dc=com\n"
                    f"objectClass: top\nobjectClass: person\ncn: user{i}\nsn: Surname{i % 977}\n"
                    f"uid: user{i}\ndescription: record {i} of the generated benchmark directory\n"
                    f"telephoneNumber: +1 555 {i:07d}\n\n")


class Ldb:
    def __init__(self, tmp, records):
        self.tmp, self.records = tmp, records
        self.ldif = os.path.join(tmp, "records.ldif")
        write_ldif(self.ldif, records)
        self.rows = [f"ldbadd_{records // 1000}k" if records >= 1000 else f"ldbadd_{records}",
                     "ldbsearch_all", "ldbsearch_unindexed_filter"]

    def run(self, side):
        db = os.path.join(self.tmp, f"{side.name}.ldb")
        if os.path.exists(db):
            os.unlink(db)
        out = {}
        t, stdout = timed(side.prefix + ["ldbadd", "-H", "tdb://" + db, self.ldif])
        out[self.rows[0]] = (t, CPU["last"], stdout.decode().strip().splitlines()[-1])
        t, stdout = timed(side.prefix + ["ldbsearch", "-H", "tdb://" + db, "(objectClass=person)"])
        lines = sorted(stdout.decode(errors="replace").splitlines())
        out[self.rows[1]] = (t, CPU["last"], f"{sum(1 for l in lines if l.startswith('dn: '))} {sha(chr(10).join(lines).encode())}")
        t, stdout = timed(side.prefix + ["ldbsearch", "-H", "tdb://" + db, "(telephoneNumber=*7)", "cn"])
        lines = sorted(stdout.decode(errors="replace").splitlines())
        out[self.rows[2]] = (t, CPU["last"], f"{sum(1 for l in lines if l.startswith('dn: '))} {sha(chr(10).join(lines).encode())}")
        return out

    def verify(self, side):
        db, ldif = os.path.join(self.tmp, f"verify-{side.name}.ldb"), os.path.join(self.tmp, "one.ldif")
        write_ldif(ldif, 1)
        subprocess.run(side.check + ["ldbadd", "-H", "tdb://" + db, ldif], check=True, capture_output=True)
        subprocess.run(side.check + ["ldbsearch", "-H", "tdb://" + db, "(cn=user0)"], check=True, capture_output=True)


# ---- samba-tool ---------------------------------------------------------------

class SambaTool:
    def __init__(self, tmp, smoke):
        self.tmp, self.smoke = tmp, smoke
        self.rows = ["samba_tool_testparm" if smoke else "samba_tool_provision"]
        self.conf = os.path.join(tmp, "testparm.conf")
        with open(self.conf, "w") as f:
            f.write("[global]\n  server role = standalone server\n[share]\n  path = /tmp\n")

    def run(self, side):
        if self.smoke:
            t, stdout = timed(side.prefix + ["samba-tool", "testparm", "--suppress-prompt", "-s", self.conf])
            return {self.rows[0]: (t, CPU["last"], sha(stdout))}
        target = os.path.join(self.tmp, f"provision-{side.name}")
        shutil.rmtree(target, ignore_errors=True)
        t, _ = timed(side.prefix + ["samba-tool", "domain", "provision", "--targetdir", target,
                                    "--realm", "BENCH.EXAMPLE.COM", "--domain", "BENCH", "--server-role", "dc",
                                    "--dns-backend", "NONE", "--adminpass", "Bench-Pass-1234",
                                    "--host-name", "benchdc", "--use-rfc2307"])
        files = sorted(os.path.relpath(os.path.join(d, f), target) for d, _, fs in os.walk(target) for f in fs)
        return {self.rows[0]: (t, CPU["last"], f"{len(files)} files {sha(chr(10).join(files).encode())}")}

    def verify(self, side):
        subprocess.run(side.check + ["samba-tool", "testparm", "--suppress-prompt", "-s", self.conf],
                       check=True, capture_output=True)


# ---- smbd + smbclient ------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Smb:
    def __init__(self, tmp, small_files, large_mb):
        self.tmp = tmp
        self.share = os.path.join(tmp, "share")
        os.makedirs(os.path.join(self.share, "small"))
        data = b""
        for i in range(small_files):
            body = hashlib.sha256(str(i).encode()).digest() * (16 + (i % 240))   # 0.5 to 8 KiB
            with open(os.path.join(self.share, "small", f"f{i:05d}.dat"), "wb") as f:
                f.write(body)
            data += body
        self.small_sig = f"{small_files} {sha(data)}"
        block = os.urandom(1 << 20)
        h = hashlib.sha256()
        with open(os.path.join(self.share, "large.dat"), "wb") as f:
            for _ in range(large_mb):
                f.write(block)
                h.update(block)
        self.large_sig = h.hexdigest()[:16]
        self.rows = [f"smbclient_mget_{small_files}_small", f"smbclient_get_{large_mb}mb"]

    def config(self, side):
        base = os.path.join(self.tmp, f"smb-{side.name}")
        shutil.rmtree(base, ignore_errors=True)
        dirs = {k: os.path.join(base, k) for k in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log")}
        for d in dirs.values():
            os.makedirs(d)
        port = free_port()
        conf = os.path.join(base, "smb.conf")
        with open(conf, "w") as f:
            f.write("[global]\n  server role = standalone server\n  interfaces = 127.0.0.1\n"
                    "  bind interfaces only = yes\n  disable netbios = yes\n"
                    f"  smb ports = {port}\n"
                    f"  private dir = {dirs['private']}\n  lock directory = {dirs['lock']}\n"
                    f"  state directory = {dirs['state']}\n  cache directory = {dirs['cache']}\n"
                    f"  pid directory = {dirs['pid']}\n  ncalrpc dir = {dirs['ncalrpc']}\n"
                    f"  log file = {dirs['log']}/log.%m\n  max log size = 0\n  log level = 0\n"
                    "  map to guest = Bad User\n  guest account = root\n  load printers = no\n"
                    "  printing = bsd\n  printcap name = /dev/null\n  disable spoolss = yes\n"
                    f"[share]\n  path = {self.share}\n  guest ok = yes\n  read only = yes\n")
        return base, conf, port, dirs["pid"]

    def start(self, side, prefix):
        base, conf, port, piddir = self.config(side)
        subprocess.run(prefix + ["smbd", "-D", "-s", conf], check=True, capture_output=True)
        deadline = time.monotonic() + 60
        pidfile = None
        while time.monotonic() < deadline:
            files = [f for f in os.listdir(piddir) if f.endswith(".pid")]
            if files:
                pidfile = os.path.join(piddir, files[0])
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    pass
            time.sleep(0.1)
        else:
            sys.exit(f"smbd ({side.name}) did not start listening on 127.0.0.1:{port}")
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
        return base, conf, port, pid

    @staticmethod
    def stop(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def client(self, side, conf, port, commands, prefix=None):
        return timed((prefix or side.prefix) + ["smbclient", "//127.0.0.1/share", "-p", str(port), "-N", "-s", conf,
                                                "-c", commands])

    def run(self, side):
        base, conf, port, pid = self.start(side, side.prefix)
        try:
            out = {}
            dest = os.path.join(base, "got")
            os.makedirs(dest)
            t, _ = self.client(side, conf, port, f"lcd {dest}; cd small; prompt off; mget *")
            data = b""
            names = sorted(os.listdir(dest))
            for n in names:
                with open(os.path.join(dest, n), "rb") as f:
                    data += f.read()
            out[self.rows[0]] = (t, CPU["last"], f"{len(names)} {sha(data)}")
            t, _ = self.client(side, conf, port, f"lcd {base}; get large.dat")
            h = hashlib.sha256()
            with open(os.path.join(base, "large.dat"), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out[self.rows[1]] = (t, CPU["last"], h.hexdigest()[:16])
        finally:
            self.stop(pid)
        shutil.rmtree(base, ignore_errors=True)
        return out

    def verify(self, side):
        base, conf, port, pid = self.start(side, side.check)
        try:
            self.client(side, conf, port, "ls", prefix=side.check)
        finally:
            self.stop(pid)
        shutil.rmtree(base, ignore_errors=True)


TARGETS = {"ldb": 0.6, "samba_tool_provision": 0.6, "smbclient": 0.6}


def target_of(row):
    for key, value in TARGETS.items():
        if row.startswith(key):
            return value
    return 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--only", help="workloads ldb, samba-tool or smb")
    ap.add_argument("--doc", metavar="FILE", help="put the markdown table between the programs marks of FILE")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.records = 1, 200
    for prog in ("ldbadd", "ldbsearch", "samba-tool", "smbd", "smbclient"):
        if shutil.which(prog) is None:
            print(f"{prog} is not installed: skipped (exit 77)")
            return 77
    # the reference side must not inherit a library path (meson's test
    # runner, for one, points LD_LIBRARY_PATH at our build)
    for var in ("LD_LIBRARY_PATH", "LD_PRELOAD"):
        os.environ.pop(var, None)
    sides = {s: Side(s, os.path.abspath(args.build)) for s in SIDES}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-programs-") as tmp:
        workloads = []
        if not args.only or "ldb" in args.only:
            workloads.append(Ldb(tmp, args.records))
        if not args.only or "samba" in args.only:
            workloads.append(SambaTool(tmp, args.smoke))
        if not args.only or "smb" in args.only.replace("samba", ""):
            workloads.append(Smb(tmp, 20 if args.smoke else 1000, 1 if args.smoke else 128))
        if args.smoke:
            # the one round itself runs under --require (what it costs is not judged)
            for side in sides.values():
                side.prefix = side.check
        else:
            for w in workloads:
                for s in SIDES:
                    w.verify(sides[s])
        samples = {s: {} for s in SIDES}
        for r in range(args.rounds):
            for w in workloads:
                for s in (SIDES if r % 2 == 0 else SIDES[::-1]):
                    for row, value in w.run(sides[s]).items():
                        samples[s].setdefault(row, []).append(value)
            print(f"round {r + 1}/{args.rounds} done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        rows = [row for w in workloads for row in w.rows]
    load_after = os.getloadavg()

    header = (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {args.rounds} rounds "
              f"(alternating, medians), {args.records} ldb records; load average before "
              f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
              f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}")
    md = [header + ".", "", "| program run | reference | ours | ours / reference (wall) | spread (per round) "
          "| CPU ours / reference | target | met |", "|---|---:|---:|---:|---|---:|---|---|"]
    print(header + "\n")
    print(f"{'program run':<30} {'reference':>10} {'ours':>10} {'ratio':>7} {'spread':>11} {'CPU':>6} {'target':>8}  met")
    broken = []
    for row in rows:
        ref, our = samples["reference"][row], samples["ours"][row]
        same = len({sig for _, _, sig in ref + our}) == 1
        rm, om = statistics.median(v for v, _, _ in ref), statistics.median(v for v, _, _ in our)
        rc, oc = statistics.median(c for _, c, _ in ref), statistics.median(c for _, c, _ in our)
        per = [o / r for (r, _, _), (o, _, _) in zip(ref, our)]
        ratio, target = om / rm, target_of(row)
        verdict = "yes" if ratio <= target else "NO"
        if not same:
            verdict = "OUTPUT DIFFERS"
            broken.append(row)
        cells = [row, f"{rm:.2f} s", f"{om:.2f} s", f"{ratio:.2f}", f"{min(per):.2f}-{max(per):.2f}",
                 f"{oc / rc:.2f}" if rc > 0 else "-", f"<= {target:g}", verdict]
        print(f"{cells[0]:<30} {cells[1]:>10} {cells[2]:>10} {cells[3]:>7} {cells[4]:>11} {cells[5]:>6} {cells[6]:>8}"
              f"  {cells[7]}")
        md.append("| " + " | ".join(cells) + " |")
    if args.doc:
        replace_marked(args.doc, "\n".join(md) + "\n", "programs")
    if args.smoke:
        print(f"smoke: {len(rows)} program runs on both libraries, outputs "
              + ("agree" if not broken else "differ: " + ", ".join(broken)))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
