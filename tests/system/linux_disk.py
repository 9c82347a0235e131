#!/usr/bin/env python3
"""linux_disk.py: whole-system storage tests: the Debian kernel's ata_piix driving anyvm's IDE.

  linux_disk.py MODE --anyvm BIN --images DIR [--work DIR] [--accel jit]

Every mode boots the Debian i386 kernel with the BusyBox initramfs, loads the IDE stack with
/etc/anyvm/storage.sh (scsi_mod, libata, ata_piix, sd_mod, sr_mod, isofs in dependency order)
and drives the guest over the serial console:

  raw      -drive file=disk.raw,format=raw,if=ide: the guest reads a pattern the host wrote
           (md5 in the guest = md5 on the host), writes its own pattern with dd conv=fsync and a
           64 MiB run with O_DIRECT, reads 64 MiB back (O_DIRECT), powers off; the host finds
           both writes in the image. Reports the transfer mode (dmesg) and MB/s.
  pio      the same with libata dma=0 (PIO only): the PIO data path, and its MB/s.
  qcow2    -hda overlay.qcow2 made by `qemu-img create -f qcow2 -b base.raw -F raw`: the guest
           reads the base's pattern through the overlay and writes; then `qemu-img check` finds
           no errors, `qemu-img convert` of the overlay shows the write, the base is unchanged.
  cdrom    -cdrom x.iso (made with xorriso) plus -hda disk.raw with -snapshot: the guest mounts
           the ISO (sr_mod + isofs) and compares a file's md5 with the host's, writes to the
           disk and reads its write back; after poweroff the image is byte-identical.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linux_boot import MARKER, PROMPT, Serial, fail  # noqa: E402

MIB = 1 << 20
DISK_MIB = 128
HOST_OFF = 1 * MIB      # the host's pattern: 1 MiB at 1 MiB
GUEST_OFF = 3 * MIB     # the guest's pattern: 1 MiB at 3 MiB
BULK_OFF = 8 * MIB      # the 64 MiB throughput run
BULK_MIB = 64


def host_pattern(seed, size=MIB):
    """Deterministic non-trivial bytes: SHA-256 in counter mode."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(b"%s-%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:size])


# The guest's pattern: a 64 KiB block of `seq` text repeated 16 times (cheap to make in the
# guest: BusyBox seq formats through the FPU), which the host can produce too.
GUEST_GEN = ("(seq 1 13000 | head -c 65536 > /tmp/blk; for i in $(seq 1 16); do cat /tmp/blk; "
             "done)")


def guest_pattern():
    text = "".join("%d\n" % i for i in range(1, 13001)).encode()
    assert len(text) >= 65536
    return text[:65536] * 16


def md5(data):
    return hashlib.md5(data).hexdigest()


def read_at(path, off, size):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(size)


def make_raw(path, size_mib=DISK_MIB):
    with open(path, "wb") as f:
        f.truncate(size_mib * MIB)
        f.seek(HOST_OFF)
        f.write(host_pattern(b"host"))
        # The bulk region starts non-zero so that the guest's zeros are visible afterwards.
        f.seek(BULK_OFF)
        f.write(b"\xA5" * (BULK_MIB * MIB))


def boot(args, drive_args, append_extra=""):
    cmd = [args.anyvm, "-m", "256"] + (["-accel", args.accel] if args.accel else []) + [
        "-kernel", os.path.join(args.images, "vmlinuz"),
        "-initrd", os.path.join(args.images, "initrd.img"),
        "-append", ("console=ttyS0 panic=-1 " + append_extra).strip(),
        "-nographic", "-serial", "stdio", "-no-reboot", "-display", "none"] + drive_args
    print("+ " + " ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    con = Serial(proc)
    con.expect(MARKER, args.timeout)
    con.expect(PROMPT, 120)
    print("boot to shell: %.1f s" % (time.monotonic() - start), flush=True)
    con.run("dmesg -n 1")
    return proc, con


def load_storage(con, libata_opts=""):
    out = con.run("LIBATA_OPTS='%s' sh /etc/anyvm/storage.sh" % libata_opts, 120)
    print(out.strip())
    if "failed" in out or "missing" in out:
        fail("loading the storage modules failed:\n%s" % out)
    return out


def poweroff(proc, con):
    proc.stdin.write(b"poweroff -f\n")
    proc.stdin.flush()
    try:
        status = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("anyvm did not exit after poweroff", con.buf)
    if status != 0:
        fail("anyvm exited with status %d after poweroff" % status, con.buf)


def guest_md5(con, cmd):
    out = con.run("%s | md5sum" % cmd, 300)
    m = re.search(r"\b([0-9a-f]{32})\b", out)
    if not m:
        fail("no md5 from %r: %r" % (cmd, out))
    return m.group(1)


def timed_dd(con, ddargs, nbytes, timeout=600):
    """Run dd under BusyBox's `time` (its dd prints no rate); returns MB/s (10^6 bytes/s)."""
    out = con.run("time dd %s 2>&1" % ddargs, timeout)
    if "records out" not in out:
        fail("dd %s failed: %r" % (ddargs, out))
    m = re.search(r"real\s+(\d+)m\s*([0-9.]+)s", out)
    if not m:
        fail("no time output in %r" % out)
    secs = int(m.group(1)) * 60 + float(m.group(2))
    return nbytes / 1e6 / max(secs, 0.01)


def xfer_mode(con):
    """libata's transfer mode of the primary master (XFER_MW_DMA_2, XFER_PIO_4, ...)."""
    return con.run("cat /sys/class/ata_device/dev1.0/xfer_mode").strip() or "?"


def check_disk_io(con, dev, bulk=True):
    """Host pattern read, guest pattern write (fsync), optionally the 64 MiB runs.
    Returns {"write": MB/s, "read": MB/s} for the bulk runs."""
    got = guest_md5(con, "dd if=%s bs=1M skip=%d count=1 2>/dev/null" % (dev, HOST_OFF // MIB))
    want = md5(host_pattern(b"host"))
    print("host pattern: guest md5 %s, host md5 %s" % (got, want))
    if got != want:
        fail("the guest read different data than the host wrote at %d MiB" % (HOST_OFF // MIB))
    gm = guest_md5(con, GUEST_GEN)
    if gm != md5(guest_pattern()):
        fail("the guest's pattern generator differs from the host's (%s)" % gm)
    out = con.run("%s | dd of=%s bs=1M seek=%d conv=fsync 2>&1" % (GUEST_GEN, dev,
                                                                  GUEST_OFF // MIB), 300)
    if "records out" not in out:
        fail("dd write failed: %r" % out)
    rates = {}
    if bulk:
        # O_DIRECT so that the page cache measures nothing; conv=fsync for good measure.
        n = BULK_MIB * MIB
        rates["write"] = timed_dd(con, "if=/dev/zero of=%s bs=1M seek=%d count=%d oflag=direct "
                                  "conv=fsync" % (dev, BULK_OFF // MIB, BULK_MIB), n)
        con.run("sync; echo 3 > /proc/sys/vm/drop_caches")
        rates["read"] = timed_dd(con, "if=%s of=/dev/null bs=1M skip=%d count=%d iflag=direct"
                                 % (dev, BULK_OFF // MIB, BULK_MIB), n)
        # The zeros must read back as zeros (through the device, not the cache).
        con.run("echo 3 > /proc/sys/vm/drop_caches")
        z = guest_md5(con, "dd if=%s bs=1M skip=%d count=4 iflag=direct 2>/dev/null"
                      % (dev, BULK_OFF // MIB))
        if z != md5(bytes(4 * MIB)):
            fail("the guest does not read back its 64 MiB of zeros")
    return rates


def check_host_sees(path_or_bytes, bulk=True):
    data = path_or_bytes
    got = data[GUEST_OFF:GUEST_OFF + MIB]
    if got != guest_pattern():
        fail("the guest's write (1 MiB at %d MiB) is not in the image" % (GUEST_OFF // MIB))
    if data[HOST_OFF:HOST_OFF + MIB] != host_pattern(b"host"):
        fail("the host's pattern was damaged")
    if bulk and data[BULK_OFF:BULK_OFF + BULK_MIB * MIB] != bytes(BULK_MIB * MIB):
        fail("the guest's 64 MiB of zeros are not in the image")


def raw_mode(args, pio):
    disk = os.path.join(args.work, "disk.raw")
    make_raw(disk)
    proc, con = boot(args, ["-drive", "file=%s,format=raw,if=ide" % disk])
    out = load_storage(con, "dma=0" if pio else "")
    if "sda" not in out:
        fail("the kernel found no IDE disk:\n%s" % out)
    size = con.run("cat /sys/block/sda/size").strip()
    if size != str(DISK_MIB * MIB // 512):
        fail("sda has %s sectors, want %d" % (size, DISK_MIB * MIB // 512))
    mode = xfer_mode(con)
    print("transfer mode: %s" % mode)
    if pio and not mode.startswith("XFER_PIO"):
        fail("libata dma=0 still configured %s" % mode)
    if not pio and "DMA" not in mode:
        fail("ata_piix did not configure a DMA mode (%s)" % mode)
    irq_before = con.run("grep ' 14:' /proc/interrupts")
    rates = check_disk_io(con, "/dev/sda")
    print("irq 14: %s" % irq_before.strip())
    poweroff(proc, con)
    with open(disk, "rb") as f:
        check_host_sees(f.read())
    print("RESULT %s: host pattern read, guest writes found in the image" % args.mode)
    print("THROUGHPUT %s (%s): write %.1f MB/s, read %.1f MB/s (64 MiB, bs=1M, O_DIRECT)"
          % (args.mode, mode, rates["write"], rates["read"]))


def qemu_img(*a):
    qi = shutil.which("qemu-img")
    if not qi:
        fail("qemu-img not found: install qemu-utils (scripts/deps.sh)")
    res = subprocess.run([qi] + list(a), capture_output=True, text=True, timeout=300)
    return res


def qcow2_mode(args):
    base = os.path.join(args.work, "base.raw")
    ov = os.path.join(args.work, "overlay.qcow2")
    make_raw(base, 64)
    base_md5 = md5(open(base, "rb").read())
    res = qemu_img("create", "-f", "qcow2", "-b", base, "-F", "raw", ov)
    if res.returncode != 0:
        fail("qemu-img create failed: %s" % res.stderr)
    proc, con = boot(args, ["-hda", ov])
    out = load_storage(con)
    if "sda" not in out:
        fail("the kernel found no IDE disk:\n%s" % out)
    check_disk_io(con, "/dev/sda", bulk=False)
    # A larger allocating write through the overlay too (fresh clusters, several L2 entries).
    rate = timed_dd(con, "if=/dev/zero of=/dev/sda bs=1M seek=%d count=16 oflag=direct "
                    "conv=fsync" % (BULK_OFF // MIB), 16 * MIB)
    print("qcow2 allocating write: %.1f MB/s" % rate)
    poweroff(proc, con)
    res = qemu_img("check", ov)
    print(res.stdout.strip())
    if res.returncode != 0 or "No errors were found" not in res.stdout:
        fail("qemu-img check found problems (status %d): %s %s"
             % (res.returncode, res.stdout, res.stderr))
    conv = os.path.join(args.work, "converted.raw")
    res = qemu_img("convert", "-O", "raw", ov, conv)
    if res.returncode != 0:
        fail("qemu-img convert failed: %s" % res.stderr)
    data = open(conv, "rb").read()
    check_host_sees(data, bulk=False)
    if data[BULK_OFF:BULK_OFF + 16 * MIB] != bytes(16 * MIB):
        fail("the guest's 16 MiB of zeros are not in the converted overlay")
    if data[BULK_OFF + 16 * MIB:BULK_OFF + 32 * MIB] != b"\xA5" * (16 * MIB):
        fail("the base's data past the guest's write did not come through the overlay")
    if md5(open(base, "rb").read()) != base_md5:
        fail("the backing file changed")
    print("RESULT qcow2: base read through the overlay, writes in the overlay, qemu-img check "
          "clean, base unchanged")


def cdrom_mode(args):
    xorriso = shutil.which("xorriso")
    if not xorriso:
        fail("xorriso not found: install xorriso (scripts/deps.sh)")
    tree = os.path.join(args.work, "isotree")
    os.makedirs(tree, exist_ok=True)
    payload = host_pattern(b"iso", 300 * 1024 + 123)
    with open(os.path.join(tree, "payload.bin"), "wb") as f:
        f.write(payload)
    iso = os.path.join(args.work, "test.iso")
    res = subprocess.run([xorriso, "-as", "mkisofs", "-quiet", "-o", iso, "-V", "ANYVMTEST",
                          tree], capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        fail("xorriso failed: %s" % res.stderr)
    disk = os.path.join(args.work, "disk.raw")
    make_raw(disk, 16)
    before = md5(open(disk, "rb").read())
    proc, con = boot(args, ["-hda", disk, "-cdrom", iso, "-snapshot"])
    out = load_storage(con)
    if "sda" not in out or "sr0" not in out:
        fail("the kernel did not find both the disk and the CD-ROM:\n%s" % out)
    out = con.run("mkdir -p /cd && mount -t iso9660 -o ro /dev/sr0 /cd && ls /cd")
    if "payload.bin" not in out.lower():
        fail("the ISO did not mount or lacks payload.bin: %r" % out)
    name = "payload.bin" if "payload.bin" in out else "PAYLOAD.BIN"
    got = guest_md5(con, "cat /cd/%s" % name)
    print("ISO file: guest md5 %s, host md5 %s" % (got, md5(payload)))
    if got != md5(payload):
        fail("the file read from the CD-ROM differs")
    # -snapshot: the guest writes and reads its write back, the image stays untouched.
    out = con.run("%s | dd of=/dev/sda bs=1M seek=%d conv=fsync 2>&1" % (GUEST_GEN,
                                                                       GUEST_OFF // MIB))
    if "records out" not in out:
        fail("dd write failed: %r" % out)
    con.run("echo 3 > /proc/sys/vm/drop_caches")
    got = guest_md5(con, "dd if=/dev/sda bs=1M skip=%d count=1 iflag=direct 2>/dev/null"
                    % (GUEST_OFF // MIB))
    if got != md5(guest_pattern()):
        fail("under -snapshot the guest does not read back its own write")
    poweroff(proc, con)
    if md5(open(disk, "rb").read()) != before:
        fail("-snapshot: the disk image changed")
    print("RESULT cdrom: ISO file md5 matches; -snapshot kept the image unchanged")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["raw", "pio", "qcow2", "cdrom"])
    ap.add_argument("--anyvm", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--accel", default=None, help="interp (default) or jit")
    args = ap.parse_args()
    for f in ("vmlinuz", "initrd.img"):
        if not os.path.exists(os.path.join(args.images, f)):
            fail("%s missing: run scripts/build-guest.sh" % os.path.join(args.images, f))
    tmp = None
    if args.work is None:
        tmp = args.work = tempfile.mkdtemp(prefix="anyvm-disk-", dir="/var/tmp")
    else:
        args.work = os.path.join(args.work, args.mode)
        shutil.rmtree(args.work, ignore_errors=True)
        os.makedirs(args.work)
    try:
        if args.mode in ("raw", "pio"):
            raw_mode(args, args.mode == "pio")
        elif args.mode == "qcow2":
            qcow2_mode(args)
        else:
            cdrom_mode(args)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
