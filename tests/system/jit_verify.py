#!/usr/bin/env python3
"""jit_verify.py: the JIT's lockstep verification over a whole Linux boot and a workload.

  jit_verify.py boot --anyvm BIN --images DIR [--shift N]
      boots the Debian kernel to its shell under `-accel jit,verify=on -icount` (every
      translated block runs twice, under the JIT and under the interpreter, and the results
      are compared), then runs a workload over the serial console: the selftest script, md5sum
      and sha256sum of a generated file (compared with hashes computed here) and a gzip round
      trip; the selftest's awk floating-point program must print what the same BusyBox
      prints natively.
      Passes when the outputs are right, anyvm exits with status 0 after poweroff, and the
      -d jit-stats log reports no mismatch and a large number of verified blocks.
  jit_verify.py mismatch --anyvm BIN --images DIR
      the check that a mismatch fails the run: without -icount, RDTSC reads the host clock,
      which has moved on when the interpreter re-runs a block; the first such block (in the
      kernel's decompressor) must be reported as a MISMATCH and anyvm must exit with status 1.
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_boot import MARKER, PROMPT, Serial, fail, native_awk  # noqa: E402

# The generated file: the numbers 1..N, one per line (the same bytes as the host's).
SEQ_N = 30000
# At least this many blocks must have been compared (a boot to the shell compares several
# hundred million; this catches a verify mode that silently stopped comparing).
MIN_VERIFIED = 100_000_000
STATS = re.compile(r"jit verify: (\d+) blocks \((\d+) guest insns\) compared with the "
                   r"interpreter, (no mismatch|a MISMATCH); run under the JIT alone: (\d+) with "
                   r"port I/O, (\d+) with MMIO, (\d+) with too many stores; TLBs copied for (\d+)")


def anyvm_cmd(args, log, accel, extra=()):
    return [args.anyvm, "-m", "256", "-accel", accel,
            "-kernel", os.path.join(args.images, "vmlinuz"),
            "-initrd", os.path.join(args.images, "initrd.img"),
            "-append", "console=ttyS0 panic=-1", "-nographic", "-serial", "stdio",
            "-no-reboot", "-display", "none", "-d", "jit-stats", "-D", log] + list(extra)


def read_log(path):
    with open(path, "r", errors="replace") as f:
        return f.read()


def boot(args):
    work = tempfile.mkdtemp(prefix="anyvm-jit-verify-")
    log = os.path.join(work, "jit.log")
    start = time.monotonic()
    proc = subprocess.Popen(anyvm_cmd(args, log, "jit,verify=on",
                                      ["-icount", "shift=%d" % args.shift]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    con = Serial(proc)
    con.expect(MARKER, args.timeout)
    print("boot to the shell under lockstep: %.1f s wall time" % (time.monotonic() - start))
    con.expect(PROMPT, 300)
    con.run("dmesg -n 1")
    selftest = con.run("sh /etc/anyvm/selftest.sh", 600)
    if "Linux anyvm 6.1" not in selftest or "GenuineIntel" not in selftest:
        fail("selftest output is wrong:\n%s" % selftest)
    native = native_awk(args.images)
    if native not in selftest:
        fail("the selftest's awk output differs from the native run (%s):\n%s"
             % (native, selftest))
    data = "".join("%d\n" % i for i in range(1, SEQ_N + 1)).encode()
    md5 = hashlib.md5(data).hexdigest()
    sha = hashlib.sha256(data).hexdigest()
    out = con.run("seq 1 %d > /tmp/f; md5sum /tmp/f; sha256sum /tmp/f; "
                  "gzip -6 -c /tmp/f > /tmp/f.gz; gzip -dc /tmp/f.gz | md5sum; "
                  "test $(wc -c < /tmp/f.gz) -lt $(wc -c < /tmp/f) && echo gzip-smaller"
                  % SEQ_N, 600)
    print(out.strip())
    for want in ("%s  /tmp/f" % md5, "%s  /tmp/f" % sha, "%s  -" % md5, "gzip-smaller"):
        if want not in out:
            fail("workload output lacks %r:\n%s" % (want, out))
    proc.stdin.write(b"poweroff -f\n")
    proc.stdin.flush()
    try:
        status = proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("anyvm did not exit after poweroff", con.buf)
    elapsed = time.monotonic() - start
    text = read_log(log)
    if "MISMATCH" in text:
        fail("lockstep reported a mismatch:\n%s" % text[-4000:])
    if status != 0:
        fail("anyvm exited with status %d after poweroff" % status, con.buf)
    m = STATS.search(text)
    if not m:
        fail("no lockstep statistics in the -d jit-stats log:\n%s" % text[-4000:])
    blocks, insns = int(m.group(1)), int(m.group(2))
    if m.group(3) != "no mismatch":
        fail("lockstep statistics report a mismatch: %s" % m.group(0))
    if blocks < MIN_VERIFIED:
        fail("only %d blocks were compared (expected at least %d): %s"
             % (blocks, MIN_VERIFIED, m.group(0)))
    print(m.group(0))
    print("jit-verify boot: %d blocks (%d guest insns) compared, no mismatch, %.1f s wall time"
          % (blocks, insns, elapsed))


def mismatch(args):
    work = tempfile.mkdtemp(prefix="anyvm-jit-verify-")
    log = os.path.join(work, "jit.log")
    try:
        res = subprocess.run(anyvm_cmd(args, log, "jit,verify=on"), stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        fail("anyvm did not stop at the RDTSC mismatch")
    text = read_log(log)
    if "jit verify: MISMATCH" not in text:
        fail("no mismatch reported without -icount (status %d):\n%s"
             % (res.returncode, text[-4000:]), res.stdout)
    report = text[text.index("jit verify: MISMATCH"):].splitlines()
    if not any("rdtsc" in line for line in report[:40]):
        fail("the mismatch report does not show the RDTSC block:\n%s" % "\n".join(report[:40]))
    if b"ANYVM-SHELL-READY" in res.stdout:
        fail("the guest went on running after the mismatch", res.stdout)
    if res.returncode != 1:
        fail("anyvm exited with status %d after a lockstep mismatch (expected 1)"
             % res.returncode, res.stdout)
    print(report[0])
    print("mismatch: reported, machine stopped, exit status 1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["boot", "mismatch"])
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--shift", type=int, default=0)
    args = ap.parse_args()
    for f in ("vmlinuz", "initrd.img", "busybox"):
        if not os.path.exists(os.path.join(args.images, f)):
            fail("%s missing: run scripts/build-guest.sh" % os.path.join(args.images, f))
    {"boot": boot, "mismatch": mismatch}[args.mode](args)


if __name__ == "__main__":
    main()
