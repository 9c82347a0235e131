#!/usr/bin/env bash
# build-guest.sh: build the default guest from Debian's packages by name: the i386 686 kernel
# and an initramfs with busybox-static:i386 as its userland. Output in guest-images/ (ignored
# by git). Idempotent: returns at once when the images are already built.
#
#   scripts/build-guest.sh [OUTDIR]
#
# Produces OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/busybox (the i386 binary, for running the
# same program natively in tests) and OUTDIR/modules/ (kernel modules later tests load).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/guest-images}
mkdir -p "$out"
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ -s "$out/busybox" ] &&
   [ "$out/initrd.img" -nt "$top/scripts/build-guest.sh" ]; then
    exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! dpkg --print-foreign-architectures | grep -qx i386; then
    $SUDO dpkg --add-architecture i386
    $SUDO apt-get update -q || echo "build-guest: warning: apt-get update reported errors" >&2
fi
kpkg_from_meta() {
    apt-cache depends linux-image-686:i386 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {sub(/:i386$/, "", $2); print $2; exit}'
}
kpkg=$(kpkg_from_meta || true)
if [ -z "$kpkg" ]; then
    # The i386 index may be missing entirely on a fresh machine: refresh once, tolerating an
    # index that is briefly out of sync on the mirror.
    $SUDO apt-get update -q || echo "build-guest: warning: apt-get update reported errors" >&2
    kpkg=$(kpkg_from_meta || true)
fi
if [ -z "$kpkg" ]; then
    echo "build-guest: error: cannot find the Debian i386 kernel package (linux-image-686:i386)" >&2
    echo "build-guest: the i386 package index could not be read; try again later" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for p in "$kpkg:i386" busybox-static:i386; do
    if ! apt-get download -q "$p" >/dev/null 2>&1; then
        echo "build-guest: error: could not download $p from the Debian mirror" >&2
        exit 1
    fi
done
for d in ./*.deb; do
    dpkg -x "$d" root
done

vmlinuz=$(ls root/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || { echo "build-guest: error: no vmlinuz in $kpkg" >&2; exit 1; }
[ -x root/bin/busybox ] || { echo "build-guest: error: no busybox in busybox-static" >&2; exit 1; }
kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')

# The initramfs: BusyBox as the whole userland, /init brings up the console and a shell.
ir=$work/initramfs
mkdir -p "$ir"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin,lib/modules/"$kver"}
cp root/bin/busybox "$ir/bin/busybox"
# Kernel modules later tests need (disk, network); copied with their dependencies listed.
moddir=root/lib/modules/$kver/kernel
for m in drivers/ata/ata_piix.ko drivers/ata/libata.ko drivers/scsi/sd_mod.ko \
         drivers/scsi/scsi_mod.ko drivers/scsi/sr_mod.ko drivers/cdrom/cdrom.ko \
         drivers/net/ethernet/intel/e1000/e1000.ko drivers/net/ethernet/8390/ne2k-pci.ko \
         drivers/net/ethernet/8390/8390.ko lib/crc-t10dif.ko drivers/scsi/scsi_common.ko \
         fs/fat/fat.ko fs/fat/vfat.ko fs/nls/nls_cp437.ko fs/nls/nls_ascii.ko \
         fs/isofs/isofs.ko fs/mbcache.ko fs/ext2/ext2.ko block/t10-pi.ko \
         crypto/crct10dif_common.ko crypto/crct10dif_generic.ko lib/crc64.ko \
         lib/crc64-rocksoft.ko crypto/crc64_rocksoft_generic.ko \
         drivers/gpu/drm/drm.ko drivers/gpu/drm/drm_kms_helper.ko \
         drivers/gpu/drm/drm_ttm_helper.ko drivers/gpu/drm/drm_vram_helper.ko \
         drivers/gpu/drm/ttm/ttm.ko drivers/gpu/drm/tiny/bochs.ko \
         drivers/video/fbdev/core/fb_sys_fops.ko drivers/video/fbdev/core/syscopyarea.ko \
         drivers/video/fbdev/core/sysfillrect.ko drivers/video/fbdev/core/sysimgblt.ko; do
    for f in "$moddir/$m" "$moddir/$m.xz" "$moddir/$m.zst"; do
        if [ -f "$f" ]; then
            mkdir -p "$ir/lib/modules/$kver/$(dirname "$m")"
            cp "$f" "$ir/lib/modules/$kver/$(dirname "$m")/"
        fi
    done
done
cat > "$ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname anyvm
# anyvm.run=NAME on the kernel command line runs /etc/anyvm/NAME.sh without input and powers off:
# used by the deterministic (-icount) boot tests, whose serial output must not depend on when a
# host sends input.
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    anyvm.run=*)
        name=${arg#anyvm.run=}
        echo "ANYVM-RUN-BEGIN $name"
        [ -f "/etc/anyvm/$name.sh" ] && sh "/etc/anyvm/$name.sh"
        echo "ANYVM-RUN-END $name"
        poweroff -f
        ;;
    esac
done
echo "ANYVM-SHELL-READY"
# A shell on the console; when it exits, power off (so scripted sessions end cleanly).
setsid cttyhack sh -l
poweroff -f
INIT
chmod +x "$ir/init"
printf 'export PS1="anyvm# "\n' > "$ir/etc/profile"
mkdir -p "$ir/etc/anyvm"
cat > "$ir/etc/anyvm/selftest.sh" <<'SELFTEST'
uname -a
grep -E '^(vendor_id|cpu family|model|flags|fpu)' /proc/cpuinfo
busybox awk 'BEGIN { s = 0; p = 1; for (i = 1; i <= 20000; i++) { s += 1 / (i * i); p *= 1.0001 } printf "awk %.15f %.10e %.3f\n", s, p, 1e15 / 7 }'
cat /proc/interrupts
SELFTEST
# udhcpc's default script (BusyBox ships none): apply the lease to the interface, the default
# route and /etc/resolv.conf.
mkdir -p "$ir/etc/udhcpc"
cat > "$ir/etc/udhcpc/default.script" <<'DHCP'
#!/bin/sh
case "$1" in
deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    ip link set "$interface" up
    for r in $router; do
        ip route replace default via "$r" dev "$interface"
        break
    done
    : > /etc/resolv.conf
    for d in $dns; do
        echo "nameserver $d" >> /etc/resolv.conf
    done
    echo "udhcpc: $interface bound to $ip/${mask:-24} router $router dns $dns"
    ;;
esac
exit 0
DHCP
chmod +x "$ir/etc/udhcpc/default.script"
printf 'echo rebooting\nreboot -f\n' > "$ir/etc/anyvm/reboot.sh"
# storage.sh: load the IDE/ATAPI stack (ata_piix, sd_mod, sr_mod, isofs) in dependency order
# and wait for the disks the kernel finds to appear in /dev. LIBATA_OPTS (e.g. "dma=0" for PIO
# only) is passed to libata.
cat > "$ir/etc/anyvm/storage.sh" <<'STORAGE'
M=/lib/modules/$(uname -r)
insmod "$M/drivers/scsi/scsi_common.ko"
insmod "$M/drivers/scsi/scsi_mod.ko"
insmod "$M/drivers/ata/libata.ko" $LIBATA_OPTS
for m in drivers/ata/ata_piix crypto/crct10dif_common crypto/crct10dif_generic \
         lib/crc-t10dif lib/crc64 crypto/crc64_rocksoft_generic lib/crc64-rocksoft \
         block/t10-pi drivers/scsi/sd_mod drivers/cdrom/cdrom \
         drivers/scsi/sr_mod fs/isofs/isofs; do
    [ -f "$M/$m.ko" ] || { echo "storage: $m.ko missing"; continue; }
    insmod "$M/$m.ko" 2>/dev/null || grep -q "^$(basename "$m" | tr - _) " /proc/modules ||
        echo "storage: insmod $m failed"
done
# The SCSI scan is asynchronous: wait (up to ~10 s) for the block devices.
i=0
while [ $i -lt 50 ] && ! ls /sys/block | grep -q -E '^(sd|sr)'; do sleep 0.2; i=$((i + 1)); done
mdev -s 2>/dev/null
echo "storage: $(ls /sys/block | grep -E '^(sd|sr)' | tr '\n' ' ')"
STORAGE
# bochsfb: the bochs-drm driver (Bochs VBE/DISPI on PCI 1234:1111) and its DRM dependencies;
# fbcon takes tty1 over, a text goes there, the mode is reported, and the screen stays up.
cat > "$ir/etc/anyvm/bochsfb.sh" <<'BOCHSFB'
for m in drm fb_sys_fops syscopyarea sysfillrect sysimgblt drm_kms_helper ttm drm_ttm_helper \
         drm_vram_helper bochs; do
    insmod "$(find /lib/modules -name "$m.ko*" | head -n 1)" || echo "insmod $m failed"
done
sleep 1
echo "fb0: $(cat /sys/class/graphics/fb0/name 2>/dev/null)" \
     "$(cat /sys/class/graphics/fb0/virtual_size 2>/dev/null)" \
     "bpp $(cat /sys/class/graphics/fb0/bits_per_pixel 2>/dev/null)"
printf '\033[2J\033[HANYVM FRAMEBUFFER CONSOLE\n' > /dev/tty1
ls / > /dev/tty1
echo ANYVM-FB-READY
sleep 60
BOCHSFB
(cd "$ir" && find . -print0 | sort -z | cpio --null -o -H newc --quiet --reproducible) |
    gzip -9 -n > "$out/initrd.img.tmp"
cp "$vmlinuz" "$out/vmlinuz.tmp"
cp root/bin/busybox "$out/busybox"
rm -rf "$out/modules" && cp -r "$ir/lib/modules/$kver" "$out/modules"
echo "$kpkg" > "$out/kernel-package.txt"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "build-guest: $kpkg + busybox-static:i386 -> $out"
