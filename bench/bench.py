#!/usr/bin/env python3
"""bench.py: time the same guest workloads on anyvm (JIT, interpreter), QEMU TCG and natively.

  bench.py [--runs N] [--scale S] [--quick] [--out DIR] [--anyvm BIN] [--qemu BIN]
           [--images DIR] [--configs jit,interp,qemu,native] [--workloads a,b,...]

Every configuration runs the same shell commands with the same i386 BusyBox binary: in the
guest (Debian's i386 kernel + BusyBox initramfs, direct kernel boot, console on -serial stdio
driven through pipes with tests/system/linux_boot.py's Serial helper), or natively on the host
through `busybox sh` on the same kind of pipe. The shell prints a marker before and after each
workload and the host timestamps the markers as they arrive, so a workload's time is wall time
as seen from outside the emulator. Rounds interleave the configurations (one session of each
per round, the starting configuration rotating) so drift of a shared machine spreads over all
of them; the median over rounds is reported. Each session's peak RSS comes from wait4().

Results go to OUT/runs.csv (every measurement), OUT/summary.csv (medians), OUT/table.md and
OUT/chart.png (gnuplot). Numbers are reported, never asserted: the exit status is non-zero only
when an available configuration failed to run its workloads (the harness rotted).
"""
import argparse
import csv
import json
import math
import os
import random
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "system"))
from linux_boot import MARKER, PROMPT, Serial  # noqa: E402  (the shared serial-console helper)
from linux_net import HostHttp  # noqa: E402  (a loopback HTTP server serving /blob)

# The configurations, in table order. kind: anyvm / qemu / native.
CONFIGS = [
    ("jit", "anyvm JIT"),
    ("interp", "anyvm interp"),
    ("qemu", "QEMU TCG"),
    ("native", "native"),
]
LABEL = dict(CONFIGS)

# Nominal sizes at --scale 1 (a 64 MiB file); the default scale shrinks them so that every
# workload takes seconds, not minutes, under the interpreter on the 2-core build machine.
DEFAULT_SCALE = 1.0 / 32
CHUNK = 65536  # the file is this 64 KiB block of `seq` text repeated


class Workload:
    """One timed shell command. cmd uses `busybox APPLET` and $D (a tmpfs directory).
    native=False: guest-only (e.g. disk, network). emu_args: extra emulator options it needs
    (a disk image, a NIC), added to the anyvm and QEMU command lines of every session.
    guest_setup: an untimed command run in the guest before the timed ones (load a driver,
    get a DHCP lease). host_env: variables the command reads, for the native shell; the guest
    gets its values from guest_setup. disk=True: the session gets a raw scratch image on the
    host disk (`-drive file=IMG,format=raw,if=ide` for the emulators; natively the file itself
    in $DISK, with $RDIRECT / $WDIRECT = dd's O_DIRECT flags where the file system takes them).
    needs: workloads whose files this one reads (run first, in the same session)."""

    def __init__(self, name, what, cmd, native=True, emu_args=(), guest_setup=None,
                 host_env=None, disk=False, needs=()):
        self.name, self.what, self.cmd = name, what, cmd
        self.native, self.emu_args = native, list(emu_args)
        self.guest_setup, self.host_env = guest_setup, dict(host_env or {})
        self.disk, self.needs = disk, list(needs)


# The network workload's server: the host's loopback, seen by a guest on user-mode networking
# as 10.0.2.2 (the emulators' default slirp address), by the native run as 127.0.0.1.
E1000_KO = "/lib/modules/$(uname -r)/drivers/net/ethernet/intel/e1000/e1000.ko"


def net_blob(nbytes):
    """The file the network workload downloads: deterministic pseudo-random bytes."""
    return random.Random(20261121).randbytes(nbytes)


def _file_bytes(scale):
    return max(CHUNK, int(64 * 2**20 * scale) // CHUNK * CHUNK)


def workloads(scale, net_port=0):
    file_bytes = _file_bytes(scale)
    gzip_bytes = max(CHUNK, file_bytes // 8)
    awk_iters = max(1000, int(320000 * scale))
    sort_lines = max(1000, int(160000 * scale))
    mib = file_bytes / 2**20
    return [
        Workload("create", "create a %g MiB file in tmpfs" % mib,
                 "busybox seq 1 20000 | busybox head -c %d > $D/chunk; "
                 "for i in $(busybox seq 1 %d); do busybox cat $D/chunk; done > $D/data; "
                 "busybox ls -l $D/data | busybox awk '{print $5}'"
                 % (CHUNK, file_bytes // CHUNK)),
        Workload("md5sum", "md5sum of the %g MiB file" % mib,
                 "busybox md5sum < $D/data", needs=["create"]),
        Workload("sha256sum", "sha256sum of the %g MiB file" % mib,
                 "busybox sha256sum < $D/data", needs=["create"]),
        Workload("gzip", "gzip -6 of the first %g KiB" % (gzip_bytes / 1024),
                 "busybox head -c %d $D/data | busybox gzip -6 | busybox md5sum" % gzip_bytes,
                 needs=["create"]),
        # Debian's static BusyBox awk has no libm: only + - * / here.
        Workload("awk-fp", "floating-point awk loop, %d iterations" % awk_iters,
                 "busybox awk 'BEGIN { s = 0; p = 1; for (i = 1; i <= %d; i++) "
                 "{ s += (i * 0.5 + 1) / (i * i + 1.5); p = p * 1.000001 - s / 1e9 } "
                 "printf \"%%.12f %%.12f\\n\", s, p }'" % awk_iters),
        Workload("sort", "seq 1 %d | sort | md5sum" % sort_lines,
                 "busybox seq 1 %d | busybox sort | busybox md5sum" % sort_lines),
        # The file to the disk and back (O_DIRECT both ways, so neither the guest's nor the
        # host's page cache serves the read), then the md5 of what came back. The guest loads
        # the IDE stack (libata, ata_piix, sd_mod) untimed; the disk is /dev/sda.
        Workload("disk", "copy the %g MiB file to and from the disk" % mib,
                 "busybox dd if=$D/data of=$DISK bs=%s $WDIRECT conv=fsync 2>/dev/null && "
                 "busybox dd if=$DISK bs=%s count=%d $RDIRECT 2>/dev/null | busybox md5sum"
                 % (disk_bs(file_bytes), disk_bs(file_bytes),
                    file_bytes // disk_bs_bytes(file_bytes)),
                 guest_setup="sh /etc/anyvm/storage.sh >/dev/null 2>&1; DISK=/dev/sda "
                             "RDIRECT=iflag=direct,fullblock WDIRECT=oflag=direct",
                 disk=True, needs=["create"]),
        # Network: an e1000 on user-mode networking (the same options for anyvm and QEMU)
        # downloads the file from an HTTP server bench.py runs on the host's loopback; the
        # driver and the DHCP lease are set up untimed. Native: the same wget over loopback.
        Workload("net-wget", "wget of a %g MiB file from the host (e1000, user net)" % mib,
                 "busybox wget -q -O - http://$NETHOST:$NETPORT/blob | busybox md5sum",
                 emu_args=["-netdev", "user,id=bn0", "-device", "e1000,netdev=bn0"],
                 guest_setup="insmod %s && busybox udhcpc -i eth0 -q -n -t 6 -T 3 "
                             ">/dev/null 2>&1; NETHOST=10.0.2.2; NETPORT=%d"
                             % (E1000_KO, net_port),
                 host_env={"NETHOST": "127.0.0.1", "NETPORT": str(net_port)}),
    ]


def disk_bs_bytes(nbytes):
    return 2**20 if nbytes % 2**20 == 0 else CHUNK


def disk_bs(nbytes):
    return "1M" if disk_bs_bytes(nbytes) == 2**20 else "64k"


QUICK_WORKLOADS = ["sort"]
GOAL_WORKLOADS = ["md5sum", "sha256sum", "gzip", "awk-fp", "sort"]


def scratch_image(args, wls, tag):
    """A sparse raw image on the host disk for the disk workload (None when none needs it)."""
    if not any(w.disk for w in wls):
        return None
    path = os.path.join(args.out, "scratch-%s.raw" % tag)
    with open(path, "wb") as f:
        f.truncate(_file_bytes(args.scale) + 4 * 2**20)
    return path


def o_direct_works(path):
    """True when the file system holding path accepts O_DIRECT (tmpfs and some overlays do
    not); the native disk workload then bypasses the host's page cache like the guest's."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECT", 0))
        os.close(fd)
        return hasattr(os, "O_DIRECT")
    except OSError:
        return False


class SessionError(Exception):
    pass


def expect(con, pattern, timeout):
    """Serial.expect, turning its exit-on-failure into an exception for this session."""
    try:
        return con.expect(pattern, timeout)
    except SystemExit:
        raise SessionError("waiting for %r failed (see the serial output above)" % pattern)


def wait_rusage(proc, timeout):
    """Reap proc with wait4 (no later than timeout s, then kill). Returns (status, maxrss KiB)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, ru.ru_maxrss
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return None, ru.ru_maxrss
        time.sleep(0.05)


def emulator_cmd(cfg, args, extra):
    img = args.images
    common = ["-m", "256", "-kernel", os.path.join(img, "vmlinuz"),
              "-initrd", os.path.join(img, "initrd.img"),
              "-append", "console=ttyS0 panic=-1", "-serial", "stdio", "-no-reboot",
              "-display", "none"]
    if cfg == "qemu":
        # The CPU model closest to anyvm's (a Pentium II: fpu ... cmov mmx fxsr, no SSE), so
        # both run the same kernel and library code paths.
        return [args.qemu, "-accel", "tcg", "-cpu", "pentium2", "-monitor", "none"] + \
            common + extra
    accel = ["-accel", "jit", "-d", "jit-stats", "-D", args.jit_log] if cfg == "jit" else \
        ["-accel", "interp"]
    return [args.anyvm] + accel + common + ["-monitor", "none"] + extra


def run_marked(con, proc, wl, timeout):
    """Send wl's command wrapped in markers; returns (seconds between markers, output)."""
    begin, end = ("BENCH-B %s" % wl.name).encode(), ("BENCH-E %s" % wl.name).encode()
    # printf's format keeps the marker text itself out of the echoed command line.
    line = "printf 'BENCH-%%s %%s\\n' B %s; %s; printf 'BENCH-%%s %%s\\n' E %s\n" % (
        wl.name, wl.cmd, wl.name)
    proc.stdin.write(line.encode())
    proc.stdin.flush()
    expect(con, begin, timeout)
    t0 = time.monotonic()
    out = expect(con, end, timeout)
    t1 = time.monotonic()
    out = out[: -len(end)].replace(b"\r\n", b"\n").decode("utf-8", "replace").strip()
    return t1 - t0, out


def guest_session(cfg, args, wls):
    """Boot cfg, run wls, power off. Returns ({workload: (s, output)}, maxrss KiB, notes)."""
    extra = [a for w in wls for a in w.emu_args]
    disk = scratch_image(args, wls, cfg)
    if disk:
        extra += ["-drive", "file=%s,format=raw,if=ide" % disk]
    cmd = emulator_cmd(cfg, args, extra)
    results, notes = {}, []
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    con = Serial(proc)
    try:
        expect(con, MARKER, args.timeout)
        results["boot"] = (time.monotonic() - t0, "")
        expect(con, PROMPT, args.timeout)
        setup = ("mkdir -p /bench && mount -t tmpfs -o size=200m tmpfs /bench && D=/bench; "
                 "echo BENCH-SETUP-$((6*7))\n")
        proc.stdin.write(setup.encode())
        proc.stdin.flush()
        expect(con, b"BENCH-SETUP-42", args.timeout)
        for w in wls:
            if w.guest_setup:
                proc.stdin.write(("%s; echo BENCH-SETUP-$((7*7))\n" % w.guest_setup).encode())
                proc.stdin.flush()
                expect(con, b"BENCH-SETUP-49", args.timeout)
        for w in wls:
            results[w.name] = run_marked(con, proc, w, args.timeout)
        proc.stdin.write(b"poweroff -f\n")
        proc.stdin.flush()
    except (SessionError, BrokenPipeError) as e:
        notes.append(str(e))
    status, rss = wait_rusage(proc, 60 if not notes else 0)
    if status != 0 and not notes:
        notes.append("exit status %s after poweroff" % status)
    if disk:
        os.unlink(disk)
    return results, rss, notes


def native_session(args, wls):
    """The same commands through the i386 `busybox sh` on a pipe, $D in a tmpfs directory."""
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = tempfile.mkdtemp(prefix="anyvm-bench-", dir=shm)
    bindir = os.path.join(work, "bin")
    os.mkdir(bindir)
    os.symlink(os.path.abspath(os.path.join(args.images, "busybox")),
               os.path.join(bindir, "busybox"))
    env = {"PATH": bindir + ":/usr/bin:/bin", "LC_ALL": "C", "D": work}
    for w in wls:
        env.update(w.host_env)
    disk = scratch_image(args, wls, "native")
    if disk:
        env["DISK"] = disk
        if o_direct_works(disk):
            env["RDIRECT"], env["WDIRECT"] = "iflag=direct,fullblock", "oflag=direct"
        else:
            env["RDIRECT"], env["WDIRECT"] = "iflag=fullblock", ""
    proc = subprocess.Popen([os.path.join(bindir, "busybox"), "sh"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    con = Serial(proc)
    results, notes = {}, []
    try:
        for w in wls:
            if w.native:
                results[w.name] = run_marked(con, proc, w, args.timeout)
        proc.stdin.write(b"exit\n")
        proc.stdin.flush()
    except (SessionError, BrokenPipeError) as e:
        notes.append(str(e))
    status, rss = wait_rusage(proc, 60 if not notes else 0)
    if status != 0 and not notes:
        notes.append("busybox sh exited with status %s" % status)
    shutil.rmtree(work, ignore_errors=True)
    if disk:
        os.unlink(disk)
    return results, rss, notes


def jit_available(anyvm):
    """True when this anyvm has the JIT linked in: only the JIT's option parser accepts
    `-accel jit,tb-size=N` (before it lands, -accel jit silently meant the interpreter)."""
    try:
        res = subprocess.run([anyvm, "-accel", "jit,tb-size=32", "-m", "16", "-display", "none",
                              "-serial", "none", "-monitor", "stdio"], input=b"quit\n",
                             capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt(x, digits=2):
    """Seconds or ratios for the table: more decimals for the millisecond-sized native runs."""
    if x is None:
        return "—"
    if x < 0.1:
        return "%.4f" % x
    return "%.*f" % (digits, x) if x < 100 else "%.0f" % x


def machine_info():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB RAM" % (int(f.readline().split()[1]) / 2**20)
    except (OSError, ValueError, IndexError):
        pass
    return "%s, %d cores, %s, Linux %s" % (cpu, os.cpu_count() or 0, mem, platform.release())


def version_of(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=10, text=True).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


def write_outputs(out, meta, runs):
    """Write runs.csv, meta.json, summary.csv, table.md and chart.png into out; returns the
    table. meta: what the run was (configs, availability, workloads, RSS, notes, machine)."""
    configs, avail, rss, notes = meta["configs"], meta["avail"], meta["rss"], meta["notes"]
    names = [n for n, _ in meta["workloads"]]
    what = dict(meta["workloads"])
    with open(os.path.join(out, "runs.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["round", "config", "workload", "seconds", "output", "peak_rss_kib"])
        for r in runs:
            wr.writerow(r)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    med = {}
    for cfg in configs:
        for n in names:
            xs = [r[3] for r in runs if r[1] == cfg and r[2] == n]
            med[cfg, n] = statistics.median(xs) if xs else None
    rss_med = {c: (statistics.median(rss[c]) / 1024 if rss.get(c) else None) for c in configs}
    with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["workload"] + ["%s_s" % c for c in configs])
        for n in names:
            wr.writerow([n] + ["" if med[c, n] is None else "%.4f" % med[c, n] for c in configs])
        wr.writerow(["peak_rss_mib"] + ["" if rss_med[c] is None else "%.1f" % rss_med[c]
                                        for c in configs])
    # Outputs must agree with the native run (same BusyBox): a mismatch is a correctness bug.
    ref = {r[2]: r[4] for r in runs if r[1] == "native"}
    mism = sorted({"%s on %s" % (r[2], LABEL[r[1]]) for r in runs
                   if r[2] in ref and r[4] != ref[r[2]]})

    anyvm_cfgs = [c for c in ("jit", "interp") if c in configs and avail[c]]
    ratio_cols = [(a, b) for a in anyvm_cfgs for b in ("qemu", "native") if b in configs]
    head = ["workload"] + ["%s (s)" % LABEL[c] for c in configs] + \
        ["%s / %s" % (LABEL[a].replace("anyvm ", ""), LABEL[b]) for a, b in ratio_cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ratios = {rc: [] for rc in ratio_cols}

    def cell(c, n):
        if not avail[c]:
            return "n/a"
        return fmt(med[c, n])

    for n in names:
        row = [what[n].replace("|", "\\|")] + [cell(c, n) for c in configs]
        for a, b in ratio_cols:
            x = med[a, n] / med[b, n] if med[a, n] and med[b, n] else None
            if x:
                ratios[a, b].append(x)
            row.append(fmt(x) if x is not None else "—")
        lines.append("| " + " | ".join(row) + " |")
    gm = ["**geometric mean**"] + [""] * len(configs) + \
        ["**%s**" % fmt(geomean(ratios[rc])) if ratios[rc] else "—" for rc in ratio_cols]
    lines.append("| " + " | ".join(gm) + " |")
    # The JIT issue's goal is stated for these five (BusyBox's md5sum, sha256sum, gzip, awk and
    # sort): their geometric mean too, when all of them ran.
    named = [n for n in GOAL_WORKLOADS if n in names]
    if len(named) == len(GOAL_WORKLOADS):
        gm5 = ["**geometric mean of %s**" % ", ".join(named)] + [""] * len(configs)
        for a, b in ratio_cols:
            xs = [med[a, n] / med[b, n] for n in named if med[a, n] and med[b, n]]
            gm5.append("**%s**" % fmt(geomean(xs)) if len(xs) == len(named) else "—")
        lines.append("| " + " | ".join(gm5) + " |")
    rrow = ["peak RSS (MiB)"] + [("n/a" if not avail[c] else fmt(rss_med[c], 0))
                                 for c in configs] + [""] * len(ratio_cols)
    lines.append("| " + " | ".join(rrow) + " |")
    nrounds = max([r[0] for r in runs] or [0])
    foot = ["%s. Median of %d interleaved round(s), wall time from the host between serial "
            "markers; `--scale %g`. %s; load average %s at the start, %s at the end. "
            "anyvm %s; %s." % (meta["date"], nrounds, meta["scale"], meta["machine"],
                               meta["loads"][0], meta["loads"][1], meta["anyvm_version"],
                               meta["qemu_version"])]
    if "jit" in configs and not avail["jit"]:
        foot.append("anyvm JIT: not available in this build (`-accel jit,tb-size=N` rejected).")
    if "native" in configs:
        foot.append("Native: the guest's i386 BusyBox binary run on the host (`busybox sh`, "
                    "files in /dev/shm); peak RSS there is the largest process of the session.")
    if ref:
        foot.append("Outputs identical to the native run: %s." %
                    ("all" if not mism else "NO — " + ", ".join(mism)))
    else:
        foot.append("Outputs not compared (no native run in this set of configurations).")
    for c, ns in notes.items():
        for n in ns:
            foot.append("%s: %s" % (LABEL[c], n))
    table = "\n".join(lines) + "\n\n" + "\n\n".join(foot) + "\n"
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table)
    chart(out, names, configs, avail, med)
    return table


def chart(out, names, configs, avail, med):
    """A grouped bar chart (log scale) of the medians, with gnuplot when it is installed."""
    gp = shutil.which("gnuplot")
    cols = [c for c in configs if avail[c]]
    if not gp or not cols:
        print("bench: gnuplot not found; no chart", file=sys.stderr)
        return
    dat = os.path.join(out, "chart.dat")
    with open(dat, "w") as f:
        for n in names:
            f.write("%s %s\n" % (n, " ".join("%.4f" % med[c, n] if med[c, n] else "NaN"
                                             for c in cols)))
    plots = ", ".join("'%s' using %d:xtic(1) title '%s'" % (dat, i + 2, LABEL[c])
                      for i, c in enumerate(cols))
    script = ("set terminal pngcairo size 1000,560 noenhanced\n"
              "set output '%s'\n"
              "set title 'anyvm benchmark (median wall time, log scale; lower is better)'\n"
              "set style data histogram\nset style histogram cluster gap 1\n"
              "set style fill solid border -1\nset boxwidth 0.9\nset logscale y\n"
              "set ylabel 'seconds'\nset grid ytics\nset key top left\n"
              "plot %s\n" % (os.path.join(out, "chart.png"), plots))
    res = subprocess.run([gp], input=script, text=True, capture_output=True)
    if res.returncode != 0:
        print("bench: gnuplot failed: %s" % res.stderr.strip(), file=sys.stderr)


def render(out):
    """Rebuild the outputs of a finished run from its runs.csv and meta.json."""
    with open(os.path.join(out, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(out, "runs.csv"), newline="") as f:
        rows = list(csv.reader(f))[1:]
    runs = [[int(r[0]), r[1], r[2], float(r[3]), r[4], int(r[5])] for r in rows]
    return write_outputs(out, meta, runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--anyvm", default=os.path.join(TOP, "build/release/frontend/anyvm"))
    ap.add_argument("--qemu", default="qemu-system-i386")
    ap.add_argument("--images", default=os.path.join(TOP, "guest-images"))
    ap.add_argument("--out", default=None, help="default bench/results/DATE-TIME")
    ap.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--scale", type=float, default=DEFAULT_SCALE,
                    help="workload size; 1 = a 64 MiB file (default %g)" % DEFAULT_SCALE)
    ap.add_argument("--configs", default="jit,interp,qemu,native")
    ap.add_argument("--workloads", default=None, help="comma-separated subset")
    ap.add_argument("--timeout", type=int, default=1800, help="per marker, seconds")
    ap.add_argument("--quick", action="store_true",
                    help="CI: one short workload, one round, every configuration")
    ap.add_argument("--render", metavar="DIR",
                    help="only rewrite DIR's summary, table and chart from its runs.csv")
    args = ap.parse_args()
    if args.render:
        print(render(args.render))
        return

    if args.quick:
        args.runs = 1
        args.scale = 1.0 / 64
    names = [w.name for w in workloads(args.scale)]
    keep = QUICK_WORKLOADS if args.quick else (args.workloads.split(",") if args.workloads
                                               else names)
    keep = keep + [n for w in workloads(args.scale) if w.name in keep for n in w.needs]
    http = None
    if "net-wget" in keep:
        # Serve the download for every session of the run (guest and native).
        http = HostHttp(net_blob(_file_bytes(args.scale)))
    wls = [w for w in workloads(args.scale, http.port if http else 0) if w.name in keep]
    configs = [c for c, _ in CONFIGS if c in args.configs.split(",")]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.out = args.out or os.path.join(TOP, "bench", "results", stamp)
    os.makedirs(args.out, exist_ok=True)
    for f in ("vmlinuz", "initrd.img", "busybox"):
        if not os.path.exists(os.path.join(args.images, f)):
            sys.exit("bench: %s missing: run scripts/build-guest.sh" % f)

    avail = {}
    for c in configs:
        if c == "jit":
            avail[c] = os.access(args.anyvm, os.X_OK) and jit_available(args.anyvm)
        elif c == "interp":
            avail[c] = os.access(args.anyvm, os.X_OK)
        elif c == "qemu":
            avail[c] = shutil.which(args.qemu) is not None
        else:
            avail[c] = True
        print("bench: %-13s %s" % (LABEL[c], "available" if avail[c] else "not available"),
              flush=True)
    anyvm_version = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                                        capture_output=True, text=True).stdout.strip() or "?"
    qemu_version = version_of([args.qemu, "--version"]) if avail.get("qemu") else "no QEMU"

    loads = ["%.2f" % os.getloadavg()[0], None]
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    runs, rss, notes = [], {}, {}
    failed = False
    active = [c for c in configs if avail[c]]
    for rnd in range(1, args.runs + 1):
        k = (rnd - 1) % max(1, len(active))
        for cfg in active[k:] + active[:k]:
            print("bench: round %d/%d: %s ..." % (rnd, args.runs, LABEL[cfg]), end="",
                  flush=True)
            args.jit_log = os.path.join(args.out, "jit-stats-round%d.log" % rnd)
            if cfg == "native":
                res, peak, ns = native_session(args, wls)
            else:
                res, peak, ns = guest_session(cfg, args, wls)
            for n, (secs, out) in res.items():
                runs.append([rnd, cfg, n, round(secs, 4), out, peak])
            rss.setdefault(cfg, []).append(peak)
            if ns:
                failed = True
                notes.setdefault(cfg, []).extend("round %d: %s" % (rnd, n) for n in ns)
            print(" " + ", ".join("%s %.2fs" % (n, s) for n, (s, _) in res.items()) +
                  (" FAILED: %s" % "; ".join(ns) if ns else ""), flush=True)
    loads[1] = "%.2f" % os.getloadavg()[0]
    meta = {"date": date, "scale": args.scale, "configs": configs, "avail": avail,
            "workloads": [["boot", "boot to the shell marker"]] + [[w.name, w.what] for w in wls],
            "rss": rss, "notes": notes, "loads": loads, "machine": machine_info(),
            "anyvm_version": anyvm_version, "qemu_version": qemu_version}
    table = write_outputs(args.out, meta, runs)
    print("\n" + table)
    print("bench: results in %s" % args.out)
    if not args.quick and args.out.startswith(os.path.join(TOP, "bench", "results")):
        latest = os.path.join(TOP, "bench", "results", "latest")
        if os.path.islink(latest) or not os.path.exists(latest):
            if os.path.islink(latest):
                os.unlink(latest)
            os.symlink(os.path.basename(args.out), latest)
    if http:
        http.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
