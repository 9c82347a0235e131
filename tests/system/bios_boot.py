#!/usr/bin/env python3
"""bios_boot.py: whole-system tests of anyvm's built-in BIOS (bios/).

  bios_boot.py freedos --anyvm BIN --floppy IMG --work DIR
      copies the FreeDOS 1.44M floppy IMG into DIR (the original is never modified), puts an
      AUTOEXEC.BAT in the copy (mtools) that writes a marker, VER and DIR A:\\ to COM1, boots
      it with -fda -nographic and checks the marker and the commands' output on the serial
      line; then types a command over the serial line (the BIOS takes COM1 bytes as keys).
  bios_boot.py harddisk --anyvm BIN --bootsect BIN --work DIR
      builds a 64-sector raw disk whose boot sector (hd_bootsect.S) prints through INT 10h,
      checks INT 13h 41h/48h and reads sectors with 42h and 02h, and exits through
      isa-debug-exit; checks its report and exit status, reports the time from reset to
      the boot sector (guest instructions, guest TSC, wall time), and checks that -boot
      order= chooses between a floppy and the disk.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_boot import Serial, fail  # noqa: E402

AUTOEXEC = (b"@ECHO OFF\r\n"
            b"ECHO ANYVM-DOS-READY > COM1\r\n"
            b"VER > COM1\r\n"
            b"DIR A:\\ > COM1\r\n"
            b"ECHO ANYVM-DOS-DONE > COM1\r\n")


def freedos_copy(floppy, work, name, autoexec):
    """Copy the FreeDOS floppy image to work/name (the original is never modified) and put
    autoexec (bytes) in the copy as its AUTOEXEC.BAT with mtools. Returns the copy's path."""
    os.makedirs(work, exist_ok=True)
    img = os.path.join(work, name)
    shutil.copyfile(floppy, img)
    bat = os.path.join(work, "AUTOEXEC.BAT")
    with open(bat, "wb") as f:
        f.write(autoexec)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    subprocess.run(["mcopy", "-o", "-i", img, bat, "::/AUTOEXEC.BAT"], check=True, env=env)
    return img


def freedos(args):
    img = freedos_copy(args.floppy, args.work, "freedos-test.img", AUTOEXEC)
    mon_path = os.path.join(args.work, "freedos-mon.sock")
    if os.path.exists(mon_path):
        os.unlink(mon_path)
    t0 = time.monotonic()
    proc = subprocess.Popen([args.anyvm, "-fda", img, "-nographic", "-serial", "stdio",
                             "-display", "none", "-m", "32",
                             "-monitor", "unix:%s,server,nowait" % mon_path],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        s = Serial(proc)
        s.expect(b"Booting from drive 00000000", 30)
        t_boot = time.monotonic() - t0
        s.expect(b"ANYVM-DOS-READY", 120)
        t_dos = time.monotonic() - t0
        out = s.expect(b"ANYVM-DOS-DONE", 120).decode("utf-8", "replace")
        if "FreeCom version" not in out:
            fail("VER printed no FreeCom version", out.encode())
        if not re.search(r"KERNEL\s+SYS", out) or not re.search(r"COMMAND\s+COM", out):
            fail("DIR A:\\ did not list KERNEL.SYS and COMMAND.COM", out.encode())
        if "bytes free" not in out:
            fail("DIR A:\\ printed no free space", out.encode())
        s.expect(b">", 60)
        proc.stdin.write(b"ECHO ANYVM-TYPED-%d\r" % 42)
        proc.stdin.flush()
        s.expect(b"\nANYVM-TYPED-42", 60)
        # The PS/2 keyboard (8042 IRQ 1, scancode set 1) through the monitor's sendkey, and
        # the VGA text screen the BIOS put in mode 3 through "info screen".
        s.expect(b">", 60)
        screen = monitor(mon_path, ["sendkey %s" % k for k in
                                    ("e", "c", "h", "o", "spc", "shift-k", "shift-b", "d",
                                     "minus", "1", "ret")], "info screen")
        s.expect(b"\nKBd-1", 60)
        if "KBd-1" not in screen or "80x25 text" not in screen:
            fail("the VGA text screen does not show the typed command", screen.encode())
        print("freedos: boot sector after %.3f s wall, DOS marker after %.3f s; VER and DIR "
              "output on COM1, keystrokes from COM1 and the PS/2 keyboard accepted, VGA text screen "
              "written" % (t_boot, t_dos))
    finally:
        proc.kill()
        proc.wait()


def monitor(path, commands, last):
    """Run commands on the human monitor at unix socket path; return the output of last."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(50):
        try:
            c.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    c.settimeout(10)
    buf = b""

    def prompt():
        nonlocal buf
        while b"(anyvm) " not in buf:
            chunk = c.recv(65536)
            if not chunk:
                fail("monitor closed", buf)
            buf += chunk
        out, buf = buf.split(b"(anyvm) ", 1)
        return out

    prompt()
    for cmd in commands:
        c.sendall(cmd.encode() + b"\n")
        prompt()
        time.sleep(0.05)
    time.sleep(1.0)
    c.sendall(last.encode() + b"\n")
    out = prompt()
    c.close()
    return out.decode("utf-8", "replace")


def harddisk(args):
    os.makedirs(args.work, exist_ok=True)
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
    path = os.path.join(args.work, "bios-hd-test.img")
    with open(path, "wb") as f:
        f.write(img)
    t0 = time.monotonic()
    r = subprocess.run([args.anyvm, "-hda", path, "-nographic", "-serial", "stdio",
                        "-display", "none", "-m", "32", "-d", "stats",
                        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    wall = time.monotonic() - t0
    out = r.stdout
    if b"HDBOOT-OK" not in out:
        fail("the boot sector did not report success", out + r.stderr)
    if r.returncode != (0x10 << 1 | 1):
        fail("exit status %d, expected %d" % (r.returncode, 0x10 << 1 | 1), out + r.stderr)
    m = re.search(rb"TSC ([0-9A-F]{8})", out)
    st = re.search(rb"stats: (\d+) instructions in [0-9.]+ s host time .*virtual time ([0-9.]+)",
                   r.stderr)
    if not m or not st:
        fail("no TSC or stats line", out + r.stderr)
    # Reset to boot sector in guest instructions: with -icount 0 one instruction is 1 ns of
    # virtual time and the TSC runs at 450 MHz (core/cpu.h CPU_TSC_KHZ); POST does not halt.
    r2 = subprocess.run([args.anyvm, "-hda", path, "-nographic", "-serial", "stdio",
                         "-display", "none", "-m", "32", "-icount", "0",
                         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
                        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    m2 = re.search(rb"TSC ([0-9A-F]{8})", r2.stdout)
    if b"HDBOOT-OK" not in r2.stdout or not m2:
        fail("the -icount 0 run did not boot", r2.stdout + r2.stderr)
    insns = int(m2.group(1), 16) * 1000 // 450
    if insns <= 0 or insns > 1000000:
        fail("reset to boot sector took %d instructions (expected 1..1e6)" % insns)
    print("harddisk: reset to boot sector in about %d guest instructions (%.1f us of guest "
          "time at 1 ns per instruction)" % (insns, insns / 1000.0))
    # Boot order: the same sector on a floppy fails its INT 13h extension checks (exit 0x11),
    # so the exit status shows which device -boot order= picked.
    fpath = os.path.join(args.work, "bios-fd-test.img")
    with open(fpath, "wb") as f:
        f.write(boot + bytes(1474560 - 512))
    for order, drive, code in (("ac", b"00000000", 0x11), ("ca", b"00000080", 0x10)):
        r3 = subprocess.run([args.anyvm, "-hda", path, "-fda", fpath, "-boot",
                             "order=" + order, "-nographic", "-serial", "stdio", "-display",
                             "none", "-m", "32",
                             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        if (b"Booting from drive " + drive) not in r3.stdout or r3.returncode != code << 1 | 1:
            fail("-boot order=%s: wrong device or status %d" % (order, r3.returncode),
                 r3.stdout + r3.stderr)
    print("harddisk: -boot order=ac boots the floppy, order=ca the hard disk")
    print("harddisk: HDBOOT-OK; whole run (reset, POST, boot sector, INT 13h tests) %s guest "
          "instructions, %s s guest time, TSC at the boot sector jump 0x%s, %.3f s wall"
          % (st.group(1).decode(), st.group(2).decode(), m.group(1).decode(), wall))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["freedos", "harddisk"])
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--floppy")
    ap.add_argument("--bootsect")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if args.mode == "freedos":
        if not args.floppy or not os.path.exists(args.floppy):
            fail("no FreeDOS floppy at %s" % args.floppy)
        freedos(args)
    else:
        harddisk(args)


if __name__ == "__main__":
    main()
