#!/usr/bin/env python3
"""net_throughput.py: guest-to-host TCP throughput of the emulated NICs, anyvm next to QEMU.

Boots the Debian i386 kernel + BusyBox initramfs (scripts/build-guest.sh) with -netdev user and
each NIC, brings eth0 up with udhcpc, and runs `dd if=/dev/zero bs=64k count=N | nc 10.0.2.2 P`
in the guest into a listener on the host's loopback. The host counts the bytes and times them
from the first byte to EOF. The same guest, kernel command line and NIC run under
qemu-system-i386 (TCG unless --qemu-accel kvm) for comparison.

  bench/net_throughput.py [--anyvm build/release/frontend/anyvm] [--images guest-images]
                          [--nics e1000,ne2k_pci] [--emulators anyvm,qemu] [--mib 16]
"""
import argparse
import os
import socket
import sys
import threading
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "system"))
from linux_boot import anyvm_cmd  # noqa: E402
from linux_net import APPEND, HOST_IP, Guest, netdev_args, free_port  # noqa: E402


# Both emulators boot the same command line (PCI described in ACPI by both firmwares).
QEMU_APPEND = APPEND


class Sink:
    """Accepts one TCP connection on 127.0.0.1 and counts its bytes until EOF."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.total = 0
        self.first = self.last = None
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                now = time.monotonic()
                if self.first is None:
                    self.first = now
                self.last = now
                self.total += len(data)
        self.done.set()
        self.sock.close()


def qemu_cmd(args, extra):
    return ["qemu-system-i386", "-accel", args.qemu_accel, "-cpu", "max", "-m", "256",
            "-kernel", os.path.join(args.images, "vmlinuz"),
            "-initrd", os.path.join(args.images, "initrd.img"),
            "-append", QEMU_APPEND, "-display", "none", "-serial", "stdio",
            "-monitor", "none", "-no-reboot"] + extra


def measure(args, emulator, nic):
    extra = netdev_args(nic, free_port())
    cmd = (anyvm_cmd(args, APPEND, extra) if emulator == "anyvm"
           else qemu_cmd(args, extra))
    guest = Guest(cmd, args.timeout)
    try:
        guest.bring_up(nic)
        sink = Sink()
        count = args.mib * 16
        t0 = time.monotonic()
        out = guest.run("dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc %s %d; echo NC=$?"
                        % (count, HOST_IP, sink.port), args.timeout)
        wall = time.monotonic() - t0
        sink.done.wait(60)
        guest.poweroff()
    finally:
        guest.kill()
    want = count * 65536
    span = (sink.last - sink.first) if sink.first is not None else 0.0
    ok = sink.total == want and "NC=0" in out
    rate = sink.total / span / 1e6 if span > 0 else 0.0
    print("%-6s %-9s boot %6.1f s  %9d/%d bytes  %7.2f s first-to-last byte  %7.3f MB/s  "
          "(command %.1f s)%s" % (emulator, nic, guest.boot_time, sink.total, want, span, rate,
                                  wall, "" if ok else "  INCOMPLETE: " + out.strip()[-200:]))
    sys.stdout.flush()
    return rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anyvm", default=os.path.join(top, "build/release/frontend/anyvm"))
    ap.add_argument("--images", default=os.path.join(top, "guest-images"))
    ap.add_argument("--nics", default="e1000,ne2k_pci")
    ap.add_argument("--emulators", default="anyvm,qemu")
    ap.add_argument("--mib", type=int, default=16, help="MiB the guest sends")
    ap.add_argument("--qemu-accel", default="tcg")
    ap.add_argument("--accel", default="jit", help="anyvm engine: jit or interp")
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()
    for emulator in args.emulators.split(","):
        for nic in args.nics.split(","):
            measure(args, emulator, nic)


if __name__ == "__main__":
    main()
