#!/usr/bin/env bash
# build-boot-media.sh: bootable media for the BIOS boot tests, from Debian's syslinux packages.
#
#   build-boot-media.sh iso IMAGES OUT.iso   El Torito no-emulation ISO: isolinux.bin +
#                                            ldlinux.c32 (packages isolinux, syslinux-common),
#                                            made with xorriso
#   build-boot-media.sh plain IMAGES OUT.iso ISO 9660 with the same files and no El Torito boot
#                                            record (the BIOS must refuse it)
#   build-boot-media.sh fdemu FLOPPY OUT.iso El Torito floppy emulation: the 1.44M image
#                                            FLOPPY as the boot image (xorriso picks the
#                                            emulation from its size)
#   build-boot-media.sh hdemu IMAGES OUT.iso El Torito hard disk emulation: the hdd image
#                                            below as the CD's boot image
#   build-boot-media.sh hdd IMAGES OUT.img   32 MiB raw disk: syslinux's mbr.bin, one FAT16
#                                            partition at sector 2048 made with mkfs.fat
#                                            --offset, files copied with mtools, and syslinux
#                                            --install --offset (no loop devices needed)
#
# IMAGES is a guest image directory (scripts/build-guest.sh: vmlinuz, initrd.img). Both boot
# the kernel with console=ttyS0; syslinux also talks on COM1 (SERIAL 0 115200).
set -euo pipefail

mode=${1:?usage: build-boot-media.sh iso|plain|fdemu|hdemu|hdd IMAGES|FLOPPY OUT}
images=${2:?missing IMAGES directory}
out=${3:?missing output file}

ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX_C32=/usr/lib/syslinux/modules/bios/ldlinux.c32
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin

need() {
    for f in "$@"; do
        if [ ! -e "$f" ]; then
            echo "build-boot-media: missing $f (run scripts/deps.sh)" >&2
            exit 1
        fi
    done
}
if [ "$mode" != fdemu ]; then
    need "$images/vmlinuz" "$images/initrd.img"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# xorriso prints its banner on stderr even with -quiet: show its output only when it fails.
run_xorriso() {
    if ! xorriso "$@" 2>"$work/xorriso.log"; then
        cat "$work/xorriso.log" >&2
        exit 1
    fi
}

syslinux_cfg() {
    cat <<'EOF'
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img console=ttyS0 panic=-1
EOF
}

case "$mode" in
iso)
    need "$ISOLINUX_BIN" "$LDLINUX_C32" "$(command -v xorriso || echo /usr/bin/xorriso)"
    mkdir -p "$work/iso/isolinux"
    cp "$ISOLINUX_BIN" "$LDLINUX_C32" "$work/iso/isolinux/"
    cp "$images/vmlinuz" "$images/initrd.img" "$work/iso/"
    syslinux_cfg > "$work/iso/isolinux/isolinux.cfg"
    run_xorriso -as mkisofs -quiet -o "$out.tmp" -R -J -V ANYVM_CD \
        -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table "$work/iso"
    mv "$out.tmp" "$out"
    ;;
fdemu)
    need "$images"
    if [ "$(stat -c %s "$images")" -ne 1474560 ]; then
        echo "build-boot-media: $images is not a 1.44M floppy image" >&2
        exit 1
    fi
    mkdir -p "$work/iso"
    cp "$images" "$work/iso/floppy.img"
    run_xorriso -as mkisofs -quiet -o "$out.tmp" -V ANYVM_FDEMU \
        -b floppy.img -c boot.cat "$work/iso"
    mv "$out.tmp" "$out"
    ;;
hdemu)
    bash "$0" hdd "$images" "$work/disk.img"
    mkdir -p "$work/iso"
    mv "$work/disk.img" "$work/iso/disk.img"
    run_xorriso -as mkisofs -quiet -o "$out.tmp" -V ANYVM_HDEMU \
        -b disk.img -hard-disk-boot -c boot.cat "$work/iso"
    mv "$out.tmp" "$out"
    ;;
plain)
    mkdir -p "$work/iso"
    cp "$images/vmlinuz" "$images/initrd.img" "$work/iso/"
    run_xorriso -as mkisofs -quiet -o "$out.tmp" -R -J -V ANYVM_PLAIN "$work/iso"
    mv "$out.tmp" "$out"
    ;;
hdd)
    need "$MBR_BIN" "$(command -v syslinux || echo /usr/bin/syslinux)" \
         "$(command -v mkfs.fat || echo /usr/sbin/mkfs.fat)" "$(command -v mcopy || echo mcopy)"
    start=2048                      # partition start (sectors)
    total=65536                     # 32 MiB disk
    img="$out.tmp"
    rm -f "$img"
    truncate -s $((total * 512)) "$img"
    # FAT16 in the partition: --offset places it, -h records the hidden sectors in the BPB.
    mkfs.fat -F 16 -n ANYVM --offset $start -h $start "$img" $(((total - start) / 2)) >/dev/null
    syslinux_cfg > "$work/syslinux.cfg"
    export MTOOLS_SKIP_CHECK=1
    mcopy -i "$img@@$((start * 512))" "$images/vmlinuz" "$images/initrd.img" \
        "$work/syslinux.cfg" ::/
    syslinux --install --offset $((start * 512)) "$img"
    # MBR: syslinux's boot code (440 bytes), then one active FAT16 (06h) partition entry.
    dd if="$MBR_BIN" of="$img" bs=440 count=1 conv=notrunc status=none
    python3 - "$img" $start $((total - start)) <<'EOF'
import struct, sys
path, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chs(lba, heads=16, spt=63):
    c, rest = divmod(lba, heads * spt)
    h, s = divmod(rest, spt)
    c = min(c, 1023)
    return bytes([h, ((c >> 2) & 0xC0) | (s + 1), c & 0xFF])
entry = (b"\x80" + chs(start) + b"\x06" + chs(start + count - 1) +
         struct.pack("<II", start, count))
with open(path, "r+b") as f:
    f.seek(440)
    f.write(struct.pack("<IH", 0x414E5956, 0) + entry + bytes(48) + b"\x55\xAA")
EOF
    mv "$img" "$out"
    ;;
*)
    echo "build-boot-media: unknown mode '$mode' (iso, plain, fdemu, hdemu or hdd)" >&2
    exit 1
    ;;
esac
