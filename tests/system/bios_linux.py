#!/usr/bin/env python3
"""bios_linux.py: the Debian guest kernel booted through anyvm's built-in BIOS (not -kernel).

  bios_linux.py --anyvm BIN --images DIR --work DIR

Builds a FAT16 hard-disk image (no partition table) with Debian's SYSLINUX boot sector and
loader (mkfs.vfat, syslinux --install, mcopy), the guest kernel and initramfs, boots it from
-hda with an e1000, and checks from the guest shell what the BIOS's POST left: the PCI devices
with the BARs bios/pci.S assigned (e1000 memory BAR in 0xE0000000.., the IDE bus-master BAR
from 0xC000), working drivers on them (e1000 gets eth0, ata_piix finds the boot disk as SCSI 0:0:0:0) and the
SMBIOS tables (/sys/class/dmi/id).
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_boot import Serial, fail  # noqa: E402

SYSLINUX_CFG = (b"DEFAULT linux\n"
                b"LABEL linux\n"
                b"  KERNEL vmlinuz\n"
                b"  APPEND initrd=initrd.img console=ttyS0 panic=-1 quiet\n")


def make_disk(args):
    img = os.path.join(args.work, "bios-linux.img")
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(32 << 20)
    subprocess.run(["mkfs.vfat", "-F", "16", img], check=True, capture_output=True)
    subprocess.run(["syslinux", "--install", img], check=True)
    cfg = os.path.join(args.work, "syslinux.cfg")
    with open(cfg, "wb") as f:
        f.write(SYSLINUX_CFG)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    subprocess.run(["mcopy", "-i", img, os.path.join(args.images, "vmlinuz"),
                    os.path.join(args.images, "initrd.img"), cfg, "::/"], check=True, env=env)
    return img


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    for tool in ("mkfs.vfat", "syslinux", "mcopy"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            fail("%s is missing (scripts/deps.sh installs dosfstools, syslinux, mtools)" % tool)
    os.makedirs(args.work, exist_ok=True)
    img = make_disk(args)
    t0 = time.monotonic()
    proc = subprocess.Popen([args.anyvm, "-hda", img, "-nographic", "-serial", "stdio",
                             "-display", "none", "-monitor", "none", "-m", "128",
                             "-accel", "jit", "-nic", "user,model=e1000"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    con = Serial(proc)
    con.expect(b"Booting from drive 00000080", 30)
    con.expect(b"SYSLINUX", 30)
    con.expect(b"ANYVM-SHELL-READY", 420)
    t_shell = time.monotonic() - t0
    con.expect(b"anyvm# ", 60)
    con.run("dmesg -n 1")
    dmi = con.run("cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name "
                  "/sys/class/dmi/id/bios_vendor /sys/class/dmi/id/bios_version")
    for want in ("anyvm\n", "anyvm PC (i440FX + PIIX)", "anyvm BIOS 1.0"):
        if want not in dmi:
            fail("/sys/class/dmi/id lacks %r:\n%s" % (want, dmi))
    res = con.run("cat /sys/bus/pci/devices/0000:00:03.0/resource "
                  "/sys/bus/pci/devices/0000:00:01.1/resource "
                  "/sys/bus/pci/devices/0000:00:03.0/irq")
    lines = [ln.split() for ln in res.strip().split("\n") if ln.strip()]
    # resource files: 7 (+ ROM etc.) lines of "start end flags" per device; irq a number
    e1000_bar0 = int(lines[0][0], 16)
    ide_bar4 = int(lines[13 + 4][0], 16) if len(lines) > 17 else 0
    irq = int(lines[-1][0])
    if not 0xE0000000 <= e1000_bar0 < 0xFEC00000:
        fail("e1000 BAR0 at %#x, not in the BIOS's memory window" % e1000_bar0, res.encode())
    if not 0xC000 <= ide_bar4 < 0x10000:
        fail("IDE BAR4 at %#x, not in the BIOS's I/O window" % ide_bar4, res.encode())
    if irq != 11:
        fail("e1000 (slot 3, INTA -> PIRQC) has IRQ %d, expected 11" % irq, res.encode())
    # insmod, dependencies first (the initramfs has no modules.dep)
    mods = " ".join("drivers/%s.ko" % m for m in (
        "net/ethernet/intel/e1000/e1000", "scsi/scsi_common", "scsi/scsi_mod", "ata/libata",
        "ata/ata_piix"))
    drv = con.run("cd /lib/modules/$(uname -r); "
                  "for m in %s; do insmod $m || echo INSMOD-FAIL $m; done; sleep 2; "
                  "ls /sys/class/net; cat /sys/bus/scsi/devices/0:0:0:0/vendor "
                  "/sys/bus/scsi/devices/0:0:0:0/model" % mods)
    if "eth0" not in drv:
        fail("e1000 did not bring up eth0", drv.encode())
    if "ATA" not in drv or "ANYVM HARDDISK" not in drv:
        fail("ata_piix did not find the boot disk (SCSI 0:0:0:0)", drv.encode())
    proc.stdin.write(b"poweroff -f\n")
    proc.stdin.flush()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        fail("anyvm did not exit after poweroff", con.buf)
    print("bios-linux: SYSLINUX -> Linux shell in %.1f s wall; DMI: %s; e1000 BAR0 %#x IRQ %d, "
          "IDE BAR4 %#x; eth0 and the IDE disk present" % (t_shell, " / ".join(dmi.split("\n")[:2]),
                                                  e1000_bar0, irq, ide_bar4))


if __name__ == "__main__":
    main()
