#!/usr/bin/env python3
"""boot_media.py: the built-in BIOS boots Debian's syslinux from a CD-ROM and a hard disk.

  boot_media.py cdrom --anyvm BIN --images DIR --work DIR
      builds an El Torito no-emulation ISO with isolinux (scripts/build-boot-media.sh iso),
      boots it with -cdrom x.iso -boot d -accel jit, waits for the BIOS's "Booting from drive
      000000E0", ISOLINUX, the kernel and the guest's ANYVM-SHELL-READY, and checks in the
      guest that the kernel command line came from isolinux.cfg (BOOT_IMAGE, initrd=) and that
      the boot protocol's type_of_loader is SYSLINUX; measures reset to boot image in guest
      instructions with -icount 0; and checks that a CD without an El Torito boot record is
      refused (the BIOS's message, then INT 18h's "No bootable device.").
  boot_media.py fdemu --anyvm BIN --floppy IMG --work DIR
      puts an AUTOEXEC.BAT into a copy of the FreeDOS 1.44M floppy IMG (mtools), makes it the
      boot image of an El Torito floppy-emulation ISO (build-boot-media.sh fdemu) and boots it
      with -cdrom x.iso -boot d: the BIOS serves drive 00h from the CD, FreeDOS boots from it
      and writes VER and DIR A:\\ to COM1.
  boot_media.py hdemu --anyvm BIN --images DIR --work DIR
      the harddisk image below as the boot image of an El Torito hard-disk-emulation ISO
      (build-boot-media.sh hdemu): -cdrom x.iso -boot d boots syslinux's MBR from it as drive
      80h, and syslinux loads the kernel through the BIOS's emulated drive to the shell.
  boot_media.py harddisk --anyvm BIN --images DIR --work DIR
      builds a raw disk with syslinux's MBR and a FAT16 partition (build-boot-media.sh hdd),
      boots it with -hda disk.img -accel jit to ANYVM-SHELL-READY and checks the command line
      and the loader type as above.
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
from bios_boot import freedos_copy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILDER = os.path.join(ROOT, "scripts", "build-boot-media.sh")


def build(mode, args, name):
    os.makedirs(args.work, exist_ok=True)
    out = os.path.join(args.work, name)
    subprocess.run(["bash", BUILDER, mode, args.images, out], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def boot(args, media, drive, banner):
    """Boot to the shell; returns (Serial, wall seconds to the boot sector, to the shell)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([args.anyvm, "-m", "256", "-accel", "jit", "-nographic",
                             "-serial", "stdio", "-display", "none", "-no-reboot"] + media,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    s = Serial(proc)
    s.expect(b"Booting from drive " + drive, 30)
    t_sector = time.monotonic() - t0
    s.expect(banner, 30)
    s.expect(b"Loading /vmlinuz", 60)
    s.expect(b"Linux version", 120)
    s.expect(b"ANYVM-SHELL-READY", 240)
    t_shell = time.monotonic() - t0
    return s, t_sector, t_shell


def check_guest(s):
    """The kernel was loaded by syslinux: its command line and the boot protocol's loader."""
    cmdline = s.run("cat /proc/cmdline", 60)
    for want in ("BOOT_IMAGE=/vmlinuz", "initrd=/initrd.img", "console=ttyS0"):
        if want not in cmdline:
            fail("the kernel command line lacks %s (not from the syslinux config?)" % want,
                 cmdline.encode())
    # type_of_loader (boot_params offset 0x210): 3xh is SYSLINUX (Documentation/x86/boot).
    loader = s.run("od -An -tx1 -j528 -N1 /sys/kernel/boot_params/data", 60).strip()
    if not re.fullmatch(r"3[0-9a-f]", loader):
        fail("type_of_loader is %r, not SYSLINUX (3xh)" % loader)
    return cmdline.strip(), loader


def cdrom(args):
    iso = build("iso", args, "boot-media.iso")
    media = ["-cdrom", iso, "-boot", "d"]
    s, t_sector, t_shell = boot(args, media, b"000000E0", b"ISOLINUX 6")
    cmdline, loader = check_guest(s)
    s.kill()
    # Reset to boot sector in guest instructions: with -icount 0 one instruction is 1 ns of
    # virtual time and the TSC runs at 450 MHz (core/cpu.h CPU_TSC_KHZ).
    proc = subprocess.Popen([args.anyvm, "-m", "256", "-icount", "0", "-nographic", "-serial",
                             "stdio", "-display", "none", "-no-reboot"] + media,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    s2 = Serial(proc)
    s2.expect(b"Booting from drive 000000E0, TSC ", 60)
    tsc = s2.expect(b"\r\n", 10)[:-2]
    s2.kill()
    insns = int(tsc, 16) * 1000 // 450
    if insns <= 0 or insns > 5000000:
        fail("reset to the CD boot sector took %d instructions (expected 1..5e6)" % insns)
    # A CD without an El Torito boot record: the BIOS says so, and INT 18h ends the boot.
    plain = build("plain", args, "boot-media-plain.iso")
    proc = subprocess.Popen([args.anyvm, "-m", "32", "-cdrom", plain, "-boot", "d",
                             "-nographic", "-serial", "stdio", "-display", "none",
                             "-no-reboot"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    s3 = Serial(proc)
    s3.expect(b"CD-ROM: no bootable El Torito image.", 60)
    s3.expect(b"No bootable device.", 30)
    s3.kill()
    print("cdrom: isolinux -> Linux -> shell; cmdline %r, type_of_loader %sh; a CD without "
          "a boot record is refused and INT 18h reports no bootable device" % (cmdline, loader))
    print("cdrom: reset to El Torito boot image in about %d guest instructions (%.1f us of "
          "guest time at 1 ns per instruction); wall: %.2f s to the boot image, %.1f s to the "
          "shell" % (insns, insns / 1000.0, t_sector, t_shell))


AUTOEXEC = (b"@ECHO OFF\r\n"
            b"ECHO ANYVM-DOS-READY > COM1\r\n"
            b"VER > COM1\r\n"
            b"DIR A:\\ > COM1\r\n"
            b"ECHO ANYVM-DOS-DONE > COM1\r\n")


def fdemu(args):
    img = freedos_copy(args.floppy, args.work, "fdemu-floppy.img", AUTOEXEC)
    args.images = img
    iso = build("fdemu", args, "boot-media-fdemu.iso")
    t0 = time.monotonic()
    proc = subprocess.Popen([args.anyvm, "-m", "32", "-cdrom", iso, "-boot", "d",
                             "-nographic", "-serial", "stdio", "-display", "none",
                             "-no-reboot"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    s = Serial(proc)
    s.expect(b"Booting from drive 00000000", 30)
    s.expect(b"ANYVM-DOS-READY", 120)
    out = s.expect(b"ANYVM-DOS-DONE", 120).decode("utf-8", "replace")
    wall = time.monotonic() - t0
    s.kill()
    if "FreeCom version" not in out:
        fail("VER printed no FreeCom version", out.encode())
    if not re.search(r"KERNEL\s+SYS", out) or not re.search(r"COMMAND\s+COM", out):
        fail("DIR A:\\ did not list KERNEL.SYS and COMMAND.COM", out.encode())
    # Boot order between the CD and a hard disk (CMOS 0x3D from -boot order=): a disk whose
    # sector 0 is the same FreeDOS boot sector (55AAh) boots as 80h when it comes first.
    disk = os.path.join(args.work, "fdemu-disk.img")
    shutil.copyfile(img, disk)
    for order, drive in (("dc", b"00000000"), ("cd", b"00000080")):
        proc = subprocess.Popen([args.anyvm, "-m", "32", "-hda", disk, "-cdrom", iso, "-boot",
                                 "order=" + order, "-nographic", "-serial", "stdio", "-display",
                                 "none", "-no-reboot"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        s = Serial(proc)
        s.expect(b"Booting from drive ", 30)
        got = s.expect(b",", 10)[:-1]
        s.kill()
        if got != drive:
            fail("-boot order=%s booted drive %s, expected %s" % (order, got, drive))
    print("fdemu: FreeDOS booted from the CD's floppy image as drive 00h, VER and DIR A:\\ "
          "on COM1 after %.2f s wall; -boot order=dc boots the CD, order=cd the disk" % wall)


def hdemu(args):
    iso = build("hdemu", args, "boot-media-hdemu.iso")
    s, t_sector, t_shell = boot(args, ["-cdrom", iso, "-boot", "d"], b"00000080", b"SYSLINUX 6")
    cmdline, loader = check_guest(s)
    s.kill()
    print("hdemu: the CD's hard disk image as drive 80h -> MBR -> syslinux -> Linux -> shell; "
          "cmdline %r, type_of_loader %sh; wall: %.2f s to the MBR, %.1f s to the shell"
          % (cmdline, loader, t_sector, t_shell))


def harddisk(args):
    img = build("hdd", args, "boot-media.img")
    s, t_sector, t_shell = boot(args, ["-hda", img], b"00000080", b"SYSLINUX 6")
    cmdline, loader = check_guest(s)
    s.kill()
    print("harddisk: MBR -> syslinux (FAT16) -> Linux -> shell; cmdline %r, type_of_loader %sh"
          % (cmdline, loader))
    print("harddisk: wall: %.2f s to the MBR, %.1f s to the shell" % (t_sector, t_shell))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["cdrom", "fdemu", "hdemu", "harddisk"])
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--images")
    ap.add_argument("--floppy")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if args.mode == "fdemu":
        if not args.floppy or not os.path.exists(args.floppy):
            fail("no FreeDOS floppy at %s" % args.floppy)
        fdemu(args)
    elif not args.images:
        fail("--images is needed for %s" % args.mode)
    elif args.mode == "cdrom":
        cdrom(args)
    elif args.mode == "hdemu":
        hdemu(args)
    else:
        harddisk(args)


if __name__ == "__main__":
    main()
