#!/usr/bin/env python3
"""seabios_boot.py: a third-party BIOS (Debian's SeaBIOS, -bios FILE) on anyvm's board.

  seabios_boot.py --anyvm BIN --bios FILE --floppy IMG --bootsect BIN --work DIR

Boots SeaBIOS with its debug output (port 0x402, -debugcon) and checks that its POST found the
chipset (PCI devices, PIIX4 PM timer, RAM size from CMOS) and handed over to the boot sector;
then boots a copy of the FreeDOS floppy (an AUTOEXEC.BAT in the copy writes a marker and VER
to COM1; the original image is never modified) and the hard-disk boot sector test
(hd_bootsect.S: INT 13h 41h/48h/42h/02h, exit status through isa-debug-exit). SeaBIOS loads
anyvm's VGA BIOS from the VGA's expansion ROM BAR, so the FreeDOS boot is also checked on the
text screen (monitor "info screen").
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_boot import Serial, fail  # noqa: E402
from bios_boot import monitor, freedos_copy  # noqa: E402

AUTOEXEC = (b"@ECHO OFF\r\n"
            b"ECHO ANYVM-DOS-READY > COM1\r\n"
            b"VER > COM1\r\n"
            b"ECHO ANYVM-DOS-DONE > COM1\r\n")


def freedos(args):
    img = freedos_copy(args.floppy, args.work, "seabios-freedos.img", AUTOEXEC)
    dbg = os.path.join(args.work, "seabios-freedos-debug.txt")
    if os.path.exists(dbg):
        os.unlink(dbg)
    mon_path = os.path.join(args.work, "seabios-mon.sock")
    if os.path.exists(mon_path):
        os.unlink(mon_path)
    t0 = time.monotonic()
    proc = subprocess.Popen([args.anyvm, "-bios", args.bios, "-fda", img, "-serial", "stdio",
                             "-display", "none", "-monitor",
                             "unix:%s,server,nowait" % mon_path, "-m", "32",
                             "-accel", "jit", "-debugcon", "file:" + dbg],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        s = Serial(proc)
        s.expect(b"ANYVM-DOS-READY", 90)
        t_dos = time.monotonic() - t0
        out = s.expect(b"ANYVM-DOS-DONE", 60)
        if b"FreeCom version" not in out:
            fail("VER printed no FreeCom version", out)
        screen = monitor(mon_path, [], "info screen")
        for want in ("SeaBIOS (version", "Booting from Floppy", "FreeDOS kernel"):
            if want not in screen:
                fail("the VGA text screen lacks %r" % want, screen.encode())
    finally:
        proc.kill()
        proc.wait()
    with open(dbg, "rb") as f:
        log = f.read()
    for want in (rb"SeaBIOS \(version", rb"RamSize: 0x02000000", rb"Found \d+ PCI devices",
                 rb"Using pmtimer", rb"Running option rom at c000:0003",
                 rb"Booting from Floppy", rb"Booting from 0000:7c00"):
        if not re.search(want, log):
            fail("SeaBIOS debug output lacks %r" % want, log)
    print("seabios: FreeDOS from floppy reached its AUTOEXEC marker after %.1f s wall "
          "(SeaBIOS found the PCI devices, the PM timer and the VGA BIOS in the ROM BAR, RAM from "
          "CMOS; its messages and FreeDOS's on the VGA text screen)" % t_dos)


def harddisk(args):
    with open(args.bootsect, "rb") as f:
        boot = f.read()
    if len(boot) != 512 or boot[510:] != b"\x55\xaa":
        fail("boot sector %s is not 512 bytes with 55AA" % args.bootsect)
    img = bytearray(boot)
    for k in range(1, 64):
        sec = bytearray(512)
        sec[0:6] = b"SECTOR"
        sec[6] = k
        img += sec
    path = os.path.join(args.work, "seabios-hd.img")
    with open(path, "wb") as f:
        f.write(img)
    dbg = os.path.join(args.work, "seabios-hd-debug.txt")
    if os.path.exists(dbg):
        os.unlink(dbg)
    t0 = time.monotonic()
    r = subprocess.run([args.anyvm, "-bios", args.bios, "-hda", path, "-serial", "stdio",
                        "-display", "none", "-monitor", "none", "-m", "32", "-accel", "jit",
                        "-debugcon", "file:" + dbg,
                        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=90)
    wall = time.monotonic() - t0
    with open(dbg, "rb") as f:
        log = f.read()
    if r.returncode != (0x10 << 1 | 1):
        fail("hard-disk boot sector: exit status %d, expected %d (0x10: INT 13h checks "
             "passed)" % (r.returncode, 0x10 << 1 | 1), log + r.stdout + r.stderr)
    if b"Booting from Hard Disk" not in log:
        fail("SeaBIOS did not boot from the hard disk", log)
    print("seabios: the hard-disk boot sector passed its INT 13h checks (%.1f s wall)" % wall)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--bios", required=True)
    ap.add_argument("--floppy", required=True)
    ap.add_argument("--bootsect", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if not os.path.exists(args.bios):
        fail("no SeaBIOS image at %s (scripts/deps.sh installs Debian's seabios)" % args.bios)
    if not os.path.exists(args.floppy):
        fail("no FreeDOS floppy at %s" % args.floppy)
    os.makedirs(args.work, exist_ok=True)
    harddisk(args)
    freedos(args)


if __name__ == "__main__":
    main()
