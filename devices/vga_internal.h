/* vga_internal.h: the VGA state layout shared by the register side (vga.c) and the renderer
 * (vga_render.c). Nothing outside devices/vga*.c includes it. */
#ifndef ANYVM_DEVICES_VGA_INTERNAL_H
#define ANYVM_DEVICES_VGA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/display.h"
#include "core/machine.h"
#include "devices/pci.h"
#include "devices/vga.h"

#define VGA_SEQ_COUNT 5
#define VGA_GC_COUNT 9
#define VGA_CRTC_COUNT 0x19
#define VGA_AR_COUNT 0x15
#define VGA_PAGE_SHIFT 12
#define VGA_PAGES (VGA_VRAM_SIZE >> VGA_PAGE_SHIFT)

/* What the picture's shape depends on, compared between renders to spot mode changes. */
typedef struct VGAModeKey {
    uint8_t misc, seq[VGA_SEQ_COUNT], gc5, gc6, ar_index;
    uint8_t crtc[VGA_CRTC_COUNT]; /* cursor location zeroed: it moves without a redraw */
    uint8_t ar[VGA_AR_COUNT];
    uint16_t vbe[VBE_INDEX_COUNT];
} VGAModeKey;

struct VGAState {
    Machine *m;
    PCIDevice pci;
    bool has_pci;
    uint8_t *rom;                        /* the expansion ROM BAR's image (NULL: none) */
    int window_handle, port_handle, vbe_handle;

    /* Registers (IBM VGA Technical Reference names). */
    uint8_t misc, feature;
    uint8_t seq_index, seq[VGA_SEQ_COUNT];
    uint8_t gc_index, gc[VGA_GC_COUNT];
    uint8_t crtc_index, crtc[VGA_CRTC_COUNT];
    uint8_t ar_index, ar[VGA_AR_COUNT]; /* ar_index bit 5 is PAS (palette address source) */
    bool ar_flip;                        /* false: the next 0x3C0 write is an index */
    uint8_t dac_read_index, dac_write_index, dac_sub, dac_state, dac_mask;
    uint8_t dac_latch[3];
    uint8_t palette[768];                /* 6-bit components (8-bit with VBE_8BIT_DAC) */
    uint32_t latch;                      /* plane p in bits 8p..8p+7 */
    uint16_t vbe_index, vbe_regs[VBE_INDEX_COUNT];
    uint8_t vbe_data_lo;

    /* Render bookkeeping (not saved: a load forces a full redraw). */
    uint64_t dirty[VGA_PAGES / 64];      /* vram pages written since the last render */
    bool font_dirty, palette_dirty, full_update;
    VGAModeKey last_key;
    uint32_t *text_cache;                /* per cell: char, attr, cursor and blink state */
    int text_cache_n;
    int64_t last_phase;
    int last_cursor_row;
    uint8_t *shadow;                     /* last rendered copy of vram (LFB compare) */
    DisplaySurface surface;
    DisplaySource source;

    uint8_t vram[VGA_VRAM_SIZE];
};

extern const uint32_t vga_expand4[16];

/* vga_mark_dirty: the vram byte at vaddr changed. */
void vga_mark_dirty(VGAState *s, uint32_t vaddr);

/* vga_mem_readb / vga_mem_writeb: one CPU access at offset off of the selected VGA memory map
 * (planar pipeline; VBE banking is handled by the caller). */
uint8_t vga_mem_readb(VGAState *s, uint32_t off);
void vga_mem_writeb(VGAState *s, uint32_t off, uint8_t v);

bool vga_vbe_enabled(const VGAState *s);
unsigned vga_vbe_bytes_pp(unsigned bpp);

/* vga_vde: vertical display end + 1 (scan lines shown). */
unsigned vga_vde(const VGAState *s);

#endif
