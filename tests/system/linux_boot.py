#!/usr/bin/env python3
"""linux_boot.py: whole-system tests that boot the Debian i386 kernel with the BusyBox initramfs.

  linux_boot.py interactive --anyvm BIN --images DIR
      boots with the host clock, waits for the shell marker on the serial console, runs
      commands over the serial line (uname, /proc/cpuinfo, a floating-point awk program whose
      output must equal the same BusyBox binary run natively on the host) and powers off:
      anyvm must exit with status 0.
  linux_boot.py reboot --anyvm BIN --images DIR
      boots with a script that runs `reboot -f`: with -no-reboot anyvm must exit with status 0
      instead of booting again.
  linux_boot.py deterministic --anyvm BIN --images DIR
      boots twice with -icount and a script run by /init without any input, and checks that
      the two serial logs are byte-identical and that the run powered off with status 0.
"""
import argparse
import atexit
import os
import re
import select
import subprocess
import sys
import time

MARKER = b"ANYVM-SHELL-READY"
PROMPT = b"anyvm# "
AWK = ("busybox awk 'BEGIN { s = 0; p = 1; for (i = 1; i <= 20000; i++) { s += 1 / (i * i); "
       "p *= 1.0001 } printf \"awk %.15f %.10e %.3f\\n\", s, p, 1e15 / 7 }'")


def fail(msg, log=b""):
    sys.stderr.write("FAIL: %s\n" % msg)
    if log:
        sys.stderr.write("--- last serial output ---\n")
        sys.stderr.write(log[-4000:].decode("utf-8", "replace"))
        sys.stderr.write("\n---\n")
    sys.exit(1)


def anyvm_cmd(args, append, extra=()):
    accel = ["-accel", args.accel] if getattr(args, "accel", None) else []
    return [args.anyvm, "-m", "256"] + accel + [ "-kernel", os.path.join(args.images, "vmlinuz"),
            "-initrd", os.path.join(args.images, "initrd.img"), "-append", append,
            "-nographic", "-serial", "stdio", "-no-reboot", "-display", "none"] + list(extra)


KERNEL_LINE = re.compile(r"^\[ *[0-9]+\.[0-9]+\] .*\n?", re.M)


class Serial:
    """The guest console on anyvm's stdin/stdout. The emulator is killed when the test ends
    (also on failure), so a failed test never leaves a guest running."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""
        atexit.register(self.kill)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def expect(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while pattern not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("timed out after %ds waiting for %r" % (timeout, pattern), self.buf)
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    fail("anyvm exited (status %s) while waiting for %r"
                         % (self.proc.poll(), pattern), self.buf)
                self.buf += chunk
        idx = self.buf.index(pattern) + len(pattern)
        before, self.buf = self.buf[:idx], self.buf[idx:]
        return before

    def run(self, command, timeout=300):
        """Send a shell command and return its output (between unique markers)."""
        tag = "%08x" % (hash(command) & 0xFFFFFFFF)
        self.proc.stdin.write(("echo BEGIN-%s; %s; echo END-%s\n" % (tag, command, tag))
                              .encode())
        self.proc.stdin.flush()
        self.expect(("BEGIN-%s\r\n" % tag).encode(), timeout)
        out = self.expect(("END-%s" % tag).encode(), timeout)
        text = out[: -len("END-%s" % tag)].replace(b"\r\n", b"\n").decode("utf-8", "replace")
        # Kernel console messages can land in the middle of a command's output.
        return KERNEL_LINE.sub("", text)


def native_awk(images):
    bb = os.path.join(images, "busybox")
    res = subprocess.run(["/bin/sh", "-c", AWK.replace("busybox", bb, 1)],
                         capture_output=True, timeout=120)
    if res.returncode != 0:
        fail("the i386 busybox does not run natively on this host: %r" % res.stderr)
    return res.stdout.decode().strip()


def interactive(args):
    start = time.monotonic()
    proc = subprocess.Popen(anyvm_cmd(args, "console=ttyS0 panic=-1"),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    con = Serial(proc)
    con.expect(MARKER, args.timeout)
    boot = time.monotonic() - start
    print("boot to shell marker: %.1f s wall time" % boot)
    con.expect(PROMPT, 120)
    con.run("dmesg -n 1")  # keep kernel messages off the console from here on
    uname = con.run("uname -a")
    print("uname:", uname.strip())
    if "Linux anyvm 6.1" not in uname or "i686" not in uname:
        fail("unexpected uname output", con.buf)
    cpuinfo = con.run("cat /proc/cpuinfo")
    for want in ("GenuineIntel", "fpu\t\t: yes", " fpu ", " cmov", " mmx", " fxsr"):
        if want not in cpuinfo:
            fail("/proc/cpuinfo lacks %r:\n%s" % (want, cpuinfo))
    pci = con.run("ls /sys/bus/pci/devices")
    for dev in ("0000:00:00.0", "0000:00:01.0", "0000:00:01.3"):
        if dev not in pci:
            fail("PCI device %s not enumerated through ACPI: %s" % (dev, pci.split()))
    guest = con.run(AWK).strip()
    native = native_awk(args.images)
    print("awk in the guest: %s\nawk natively:     %s" % (guest, native))
    if guest != native:
        fail("floating-point awk output differs from the native run")
    proc.stdin.write(b"poweroff -f\n")
    proc.stdin.flush()
    try:
        status = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("anyvm did not exit after poweroff", con.buf)
    if status != 0:
        fail("anyvm exited with status %d after poweroff" % status, con.buf)
    print("poweroff: anyvm exited with status 0")


def deterministic(args):
    logs = []
    for run in range(2):
        start = time.monotonic()
        res = subprocess.run(anyvm_cmd(args, "console=ttyS0 panic=-1 anyvm.run=selftest",
                                       ["-icount", "shift=%d,sleep=off" % args.shift]),
                             stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=args.timeout)
        if res.returncode != 0:
            fail("run %d: anyvm exited with status %d" % (run + 1, res.returncode), res.stdout)
        if b"ANYVM-RUN-END selftest" not in res.stdout:
            fail("run %d: the selftest script did not finish" % (run + 1), res.stdout)
        print("run %d: %.1f s wall time, %d bytes of serial output"
              % (run + 1, time.monotonic() - start, len(res.stdout)))
        logs.append(res.stdout)
    if logs[0] != logs[1]:
        a, b = logs
        i = next(i for i in range(min(len(a), len(b))) if a[i] != b[i]) if a[:1] else 0
        fail("the two -icount runs differ at byte %d:\n%r\n%r" % (i, a[i - 80:i + 80],
                                                                  b[i - 80:i + 80]))
    native = native_awk(args.images)
    if native.encode() not in logs[0]:
        fail("the guest's awk output differs from the native run (%s)" % native, logs[0])
    print("deterministic: both runs byte-identical; awk matches the native run")


def reboot(args):
    res = subprocess.run(anyvm_cmd(args, "console=ttyS0 panic=-1 anyvm.run=reboot"),
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=args.timeout)
    out = res.stdout
    if b"rebooting" not in out:
        fail("the reboot script did not run", out)
    if out.count(b"Linux version") != 1:
        fail("the kernel booted %d times: -no-reboot must end the run at the reset"
             % out.count(b"Linux version"), out)
    if res.returncode != 0:
        fail("anyvm exited with status %d after the guest reset" % res.returncode, out)
    print("reboot with -no-reboot: anyvm exited with status 0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["interactive", "deterministic", "reboot"])
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--shift", type=int, default=0)
    ap.add_argument("--accel", default=None, help="interp or jit (default: anyvm's, jit on x86-64)")
    args = ap.parse_args()
    for f in ("vmlinuz", "initrd.img", "busybox"):
        if not os.path.exists(os.path.join(args.images, f)):
            fail("%s missing: run scripts/build-guest.sh" % os.path.join(args.images, f))
    {"interactive": interactive, "deterministic": deterministic, "reboot": reboot}[args.mode](args)


if __name__ == "__main__":
    main()
