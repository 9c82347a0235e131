/* vga.h: the VGA adapter (standard register set, 256 KiB planar memory, text and graphics
 * rendering) with the Bochs VBE/DISPI extension and its linear framebuffer on PCI (1234:1111).
 *
 * The board creates it once the PCI bus exists:
 *
 *     VGAState *vga = vga_new(m, pci_bus, PCI_DEVFN(2, 0));
 *     m->display = vga_display_source(vga);
 *
 * and the frontend calls the source's update() at its refresh rate: only what the guest
 * changed since the last call is rendered, and the surface's dirty list says where. */
#ifndef ANYVM_DEVICES_VGA_H
#define ANYVM_DEVICES_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/display.h"
#include "core/machine.h"

typedef struct PCIBus PCIBus;
typedef struct VGAState VGAState;

#define VGA_VRAM_SIZE (16u << 20)   /* the LFB; the planar VGA uses the first 256 KiB */
#define VGA_PLANAR_SIZE (256u << 10)
#define VBE_MAX_XRES 1920
#define VBE_MAX_YRES 1080
#define VBE_MAX_BPP 32

/* Bochs VBE/DISPI register indices (written to port 0x1CE, data at 0x1CF). */
enum {
    VBE_INDEX_ID = 0,
    VBE_INDEX_XRES,
    VBE_INDEX_YRES,
    VBE_INDEX_BPP,
    VBE_INDEX_ENABLE,
    VBE_INDEX_BANK,
    VBE_INDEX_VIRT_WIDTH,
    VBE_INDEX_VIRT_HEIGHT,
    VBE_INDEX_X_OFFSET,
    VBE_INDEX_Y_OFFSET,
    VBE_INDEX_VIDEO_MEMORY_64K,
    VBE_INDEX_COUNT,
};
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_8BIT_DAC 0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM 0x80
#define VBE_ID0 0xB0C0
#define VBE_ID5 0xB0C5

#define VGA_ROM_MAX (64u << 10)

#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111

/* vga_new: the adapter on m: ports 0x3B0-0x3DF and 0x1CE-0x1D0, the 0xA0000-0xBFFFF window,
 * and, when bus is non-NULL, the PCI function at devfn with the LFB in BAR0 (prefetchable,
 * RAM-backed). Registers vmstate "vga" and a reset handler. NULL on failure. The caller frees
 * it with vga_free() after machine_free(). */
VGAState *vga_new(Machine *m, PCIBus *bus, unsigned devfn);

/* vga_new_with_rom: vga_new, and (with a bus) an expansion ROM BAR (config 0x30) over a copy of
 * rom, rom_size bytes (at most VGA_ROM_MAX): the VGA BIOS for firmware that loads option ROMs
 * from PCI devices. NULL on failure or a bad size. */
VGAState *vga_new_with_rom(Machine *m, PCIBus *bus, unsigned devfn, const uint8_t *rom,
                           size_t rom_size);
void vga_free(VGAState *s);

/* vga_display_source: the DisplaySource for the frontend (owned by s). */
DisplaySource *vga_display_source(VGAState *s);

/* vga_update_display: render what changed into the surface and return it (owned by s). */
DisplaySurface *vga_update_display(VGAState *s);

/* vga_invalidate: the next update redraws everything. */
void vga_invalidate(VGAState *s);

/* vga_read_text: the text grid (see DisplaySource.text). */
int vga_read_text(VGAState *s, uint16_t *cells, int max, int *cols, int *rows);

/* vga_vram: the video memory (VGA_VRAM_SIZE bytes; plane p of planar address a is byte
 * a * 4 + p), for tests and firmware. */
uint8_t *vga_vram(VGAState *s);

/* vga_lfb_addr: where BAR0 currently maps the LFB (0 when unmapped). */
uint32_t vga_lfb_addr(const VGAState *s);

#endif
