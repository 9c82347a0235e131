/* bios.h: anyvm's built-in BIOS image (bios/bios.S, assembled and linked at build time). */
#ifndef ANYVM_BIOS_BIOS_H
#define ANYVM_BIOS_BIOS_H

#include <stddef.h>

/* The 64 KiB image that belongs at 0xF0000-0xFFFFF (and at the top of 4 GiB). */
extern const unsigned char anyvm_bios_image[];
extern const size_t anyvm_bios_size;

/* The VGA BIOS (bios/vgabios.S): a 32 KiB option ROM for 0xC0000, signature, length and
 * checksum fixed at build time. */
extern const unsigned char anyvm_vgabios_image[];
extern const size_t anyvm_vgabios_size;
#define VGABIOS_ADDR 0xC0000

/* CMOS bytes the board fills for the BIOS (anyvm's own convention): the boot order as
 * device codes, 1 = floppy A:, 2 = first hard disk, 3 = CD-ROM (not bootable yet), 0 = end.
 * Byte 0x3D: first device in bits 0-3, second in bits 4-7; byte 0x38 bits 4-7: third. */
#define BIOS_CMOS_BOOT_ORDER 0x3D
#define BIOS_CMOS_BOOT_ORDER3 0x38

#endif
