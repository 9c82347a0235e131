/* vga.c: the VGA adapter's registers, planar memory and Bochs VBE/DISPI extension.
 *
 * Video memory is one array. The 256 KiB of the standard VGA are four 64 KiB planes stored
 * interleaved: plane p of plane address a is vram[a * 4 + p], so one 32-bit load fetches the
 * four latches and one page of vram holds the same 1 KiB of every plane. The VBE modes and the
 * PCI linear framebuffer see the same array as plain bytes.
 *
 * CPU accesses to the 0xA0000-0xBFFFF window go through the graphics controller's pipeline
 * (IBM VGA Technical Reference, "Graphics Controller Registers"):
 *   - addressing: chain-4 (SR04 bit 3) picks the plane from address bits 0-1 and uses the
 *     address with those bits cleared; odd/even (SR04 bit 2 clear for writes, GR05 bit 4 for
 *     reads) picks the plane from bit 0; otherwise the map mask (SR02) / read map (GR04) decide.
 *   - every read loads the four latches; read mode 1 returns the colour-compare result.
 *   - write modes 0-3 combine rotated data, set/reset, the latches (logical operation) and the
 *     bit mask, and the map mask chooses which planes take the result.
 * Example: write mode 0, SR02 = 0x0F, GR01 = 0x0F, GR00 = 0x05, GR08 = 0x80: a write of any
 * byte to 0xA0000 sets bit 7 of planes 0 and 2 and clears it in planes 1 and 3, leaving the
 * other seven pixels as the latches held them.
 *
 * Rendering lives in vga_render.c. Writes through the window mark the 4 KiB vram page they
 * touched; the LFB is plain RAM to the CPU, so the renderer compares its visible pages with a
 * shadow copy instead. */
#include "devices/vga.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "devices/pci.h"
#include "devices/vga_internal.h"

const uint32_t vga_expand4[16] = {
    0x00000000, 0x000000FF, 0x0000FF00, 0x0000FFFF, 0x00FF0000, 0x00FF00FF, 0x00FFFF00,
    0x00FFFFFF, 0xFF000000, 0xFF0000FF, 0xFF00FF00, 0xFF00FFFF, 0xFFFF0000, 0xFFFF00FF,
    0xFFFFFF00, 0xFFFFFFFF,
};

/* Writable bits per register; reserved bits read back as zero. */
static const uint8_t seq_mask[VGA_SEQ_COUNT] = {0x03, 0x3D, 0x0F, 0x3F, 0x0E};
static const uint8_t gc_mask[VGA_GC_COUNT] = {0x0F, 0x0F, 0x0F, 0x1F, 0x03,
                                              0x7B, 0x0F, 0x0F, 0xFF};
static const uint8_t ar_mask[VGA_AR_COUNT] = {
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F,
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0xEF, 0xFF, 0x3F, 0x0F, 0x0F,
};

static inline uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void st32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

void vga_mark_dirty(VGAState *s, uint32_t vaddr)
{
    uint32_t pg = (vaddr >> VGA_PAGE_SHIFT) & (VGA_PAGES - 1);
    s->dirty[pg >> 6] |= 1ull << (pg & 63);
}

bool vga_vbe_enabled(const VGAState *s)
{
    return (s->vbe_regs[VBE_INDEX_ENABLE] & VBE_ENABLED) != 0;
}

unsigned vga_vbe_bytes_pp(unsigned bpp)
{
    switch (bpp) {
    case 8:
        return 1;
    case 15:
    case 16:
        return 2;
    case 24:
        return 3;
    case 32:
        return 4;
    }
    return 0;
}

/* --- the memory window --- */

/* Map a window offset (from 0xA0000) through the memory map select (GR06 bits 2-3). */
static bool window_offset(const VGAState *s, uint64_t addr, uint32_t *off)
{
    switch ((s->gc[6] >> 2) & 3) {
    case 0:
        *off = (uint32_t)addr;
        return true;
    case 1:
        *off = (uint32_t)addr;
        return addr < 0x10000;
    case 2:
        *off = (uint32_t)addr - 0x10000;
        return addr >= 0x10000 && addr < 0x18000;
    default:
        *off = (uint32_t)addr - 0x18000;
        return addr >= 0x18000;
    }
}

uint8_t vga_mem_readb(VGAState *s, uint32_t off)
{
    uint32_t pa;
    unsigned plane;
    if (s->seq[4] & 0x08) {
        plane = off & 3;
        pa = off & 0xFFFC;
    } else if (s->gc[5] & 0x10) {
        plane = (s->gc[4] & 2) | (off & 1);
        pa = off & 0xFFFE;
    } else {
        plane = s->gc[4] & 3;
        pa = off & 0xFFFF;
    }
    uint32_t w = ld32(s->vram + pa * 4);
    s->latch = w;
    if (!(s->gc[5] & 0x08)) {
        return (uint8_t)(w >> (8 * plane));
    }
    /* Read mode 1: a bit is 1 where every plane selected by colour don't care matches the
     * colour compare value. */
    uint32_t care = vga_expand4[s->gc[7] & 0xF];
    uint32_t x = (~(w ^ vga_expand4[s->gc[2] & 0xF]) & care) | ~care;
    return (uint8_t)(x & (x >> 8) & (x >> 16) & (x >> 24));
}

void vga_mem_writeb(VGAState *s, uint32_t off, uint8_t v)
{
    uint32_t pa;
    unsigned mask = s->seq[2] & 0xF;
    if (s->seq[4] & 0x08) {
        mask &= 1u << (off & 3);
        pa = off & 0xFFFC;
    } else if (!(s->seq[4] & 0x04)) {
        mask &= (off & 1) ? 0xA : 0x5;
        pa = off & 0xFFFE;
    } else {
        pa = off & 0xFFFF;
    }
    if (!mask) {
        return;
    }
    unsigned rot = s->gc[3] & 7;
    uint8_t rv = (uint8_t)((v >> rot) | (v << ((8 - rot) & 7)));
    uint32_t latch = s->latch;
    uint8_t bm = s->gc[8];
    uint32_t data;
    unsigned wm = s->gc[5] & 3;
    if (wm == 1) {
        data = latch;
    } else {
        if (wm == 0) {
            uint32_t esr = vga_expand4[s->gc[1] & 0xF];
            data = ((rv * 0x01010101u) & ~esr) | (vga_expand4[s->gc[0] & 0xF] & esr);
        } else if (wm == 2) {
            data = vga_expand4[v & 0xF];
        } else {
            bm &= rv;
            data = vga_expand4[s->gc[0] & 0xF];
        }
        switch ((s->gc[3] >> 3) & 3) {
        case 1:
            data &= latch;
            break;
        case 2:
            data |= latch;
            break;
        case 3:
            data ^= latch;
            break;
        default:
            break;
        }
        uint32_t bm32 = bm * 0x01010101u;
        data = (data & bm32) | (latch & ~bm32);
    }
    uint32_t pm = vga_expand4[mask];
    uint8_t *p = s->vram + pa * 4;
    st32(p, (ld32(p) & ~pm) | (data & pm));
    if (mask & 4) {
        s->font_dirty = true;
    }
    vga_mark_dirty(s, pa * 4);
}

static uint64_t window_read(void *opaque, uint64_t addr, unsigned size)
{
    VGAState *s = opaque;
    if (vga_vbe_enabled(s)) {
        uint64_t a = (uint64_t)s->vbe_regs[VBE_INDEX_BANK] * 0x10000 + addr;
        if (addr >= 0x10000 || a >= VGA_VRAM_SIZE) {
            return 0xFF;
        }
        return s->vram[a];
    }
    uint32_t off;
    if (!window_offset(s, addr, &off) || !(s->misc & 0x02)) {
        return 0xFF; /* RAM access disabled (misc bit 1) or outside the selected map */
    }
    return vga_mem_readb(s, off);
}

static void window_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VGAState *s = opaque;
    if (vga_vbe_enabled(s)) {
        uint64_t a = (uint64_t)s->vbe_regs[VBE_INDEX_BANK] * 0x10000 + addr;
        if (addr < 0x10000 && a < VGA_VRAM_SIZE) {
            s->vram[a] = (uint8_t)val;
            vga_mark_dirty(s, (uint32_t)a);
        }
        return;
    }
    uint32_t off;
    if (window_offset(s, addr, &off) && (s->misc & 0x02)) {
        vga_mem_writeb(s, off, (uint8_t)val);
    }
}

static const IOOps window_ops = {
    .read = window_read,
    .write = window_write,
    .min_access = 1,
    .max_access = 1,
};

/* --- registers --- */

unsigned vga_vde(const VGAState *s)
{
    return (s->crtc[0x12] | (s->crtc[7] & 0x02) << 7 | (s->crtc[7] & 0x40) << 3) + 1u;
}

/* Input status 1 (IBM VGA Technical Reference, "Input Status Register 1"): bit 3 vertical
 * retrace, bit 0 display disabled (horizontal or vertical blanking). The beam position comes
 * from virtual time with the 31.469 kHz VGA line rate and the CRTC's vertical timing. */
static uint8_t vga_status1(VGAState *s)
{
    const int64_t line_ns = 31778;
    unsigned vt = (s->crtc[6] | (s->crtc[7] & 0x01) << 8 | (s->crtc[7] & 0x20) << 4) + 2u;
    if (vt < 200 || vt > 1200) {
        vt = 449;
    }
    unsigned vde = vga_vde(s);
    unsigned vrs = s->crtc[0x10] | (s->crtc[7] & 0x04) << 6 | (s->crtc[7] & 0x80) << 2;
    if (vrs == 0 || vrs >= vt) {
        vrs = vde < vt ? vde : vt - 3;
    }
    unsigned vrlen = ((s->crtc[0x11] & 0xF) - (vrs & 0xF)) & 0xF;
    if (vrlen == 0) {
        vrlen = 16;
    }
    int64_t now = clock_now(&s->m->clock);
    if (now < 0) {
        now = 0;
    }
    int64_t t = now % ((int64_t)vt * line_ns);
    unsigned line = (unsigned)(t / line_ns);
    int64_t in_line = t % line_ns;
    bool vr = line >= vrs && line < vrs + vrlen;
    bool blank = line >= vde || in_line >= line_ns * 4 / 5;
    return (uint8_t)((vr ? 0x08 : 0) | (vr || blank ? 0x01 : 0));
}

static uint8_t dac_scale(const VGAState *s)
{
    return (s->vbe_regs[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) ? 0xFF : 0x3F;
}

static uint64_t vga_port_read(void *opaque, uint64_t addr, unsigned size)
{
    VGAState *s = opaque;
    unsigned port = 0x3B0 + (unsigned)addr;
    bool color = s->misc & 1;
    if ((port < 0x3C0 && color) || (port >= 0x3D0 && !color)) {
        return 0xFF; /* the CRTC/status ports of the other (mono/colour) address set */
    }
    switch (port) {
    case 0x3C0:
        return s->ar_index;
    case 0x3C1: {
        unsigned i = s->ar_index & 0x1F;
        return i < VGA_AR_COUNT ? s->ar[i] : 0;
    }
    case 0x3C2:
        return 0x00;
    case 0x3C4:
        return s->seq_index;
    case 0x3C5:
        return s->seq_index < VGA_SEQ_COUNT ? s->seq[s->seq_index] : 0;
    case 0x3C6:
        return s->dac_mask;
    case 0x3C7:
        return s->dac_state;
    case 0x3C8:
        return s->dac_write_index;
    case 0x3C9: {
        uint8_t v = s->palette[s->dac_read_index * 3 + s->dac_sub];
        if (++s->dac_sub == 3) {
            s->dac_sub = 0;
            s->dac_read_index++;
        }
        return v;
    }
    case 0x3CA:
        return s->feature;
    case 0x3CC:
        return s->misc;
    case 0x3CE:
        return s->gc_index;
    case 0x3CF:
        return s->gc_index < VGA_GC_COUNT ? s->gc[s->gc_index] : 0;
    case 0x3B4:
    case 0x3D4:
        return s->crtc_index;
    case 0x3B5:
    case 0x3D5:
        return s->crtc_index < VGA_CRTC_COUNT ? s->crtc[s->crtc_index] : 0;
    case 0x3BA:
    case 0x3DA:
        s->ar_flip = false;
        return vga_status1(s);
    default:
        return 0xFF;
    }
}

static void crtc_write(VGAState *s, uint8_t v)
{
    unsigned i = s->crtc_index;
    if (i >= VGA_CRTC_COUNT) {
        return;
    }
    /* CR11 bit 7 protects CR00-CR07, except the line compare bit 8 in CR07 bit 4. */
    if ((s->crtc[0x11] & 0x80) && i <= 7) {
        if (i == 7) {
            s->crtc[7] = (uint8_t)((s->crtc[7] & ~0x10) | (v & 0x10));
        }
        return;
    }
    s->crtc[i] = v;
}

static void vga_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VGAState *s = opaque;
    unsigned port = 0x3B0 + (unsigned)addr;
    uint8_t v = (uint8_t)val;
    bool color = s->misc & 1;
    if ((port < 0x3C0 && color) || (port >= 0x3D0 && !color)) {
        return;
    }
    switch (port) {
    case 0x3C0:
        if (!s->ar_flip) {
            s->ar_index = v & 0x3F;
        } else {
            unsigned i = s->ar_index & 0x1F;
            if (i < VGA_AR_COUNT) {
                s->ar[i] = v & ar_mask[i];
            }
        }
        s->ar_flip = !s->ar_flip;
        break;
    case 0x3C2:
        s->misc = v;
        break;
    case 0x3C4:
        s->seq_index = v & 0x07;
        break;
    case 0x3C5:
        if (s->seq_index < VGA_SEQ_COUNT) {
            s->seq[s->seq_index] = v & seq_mask[s->seq_index];
        }
        break;
    case 0x3C6:
        s->dac_mask = v;
        s->palette_dirty = true;
        break;
    case 0x3C7:
        s->dac_read_index = v;
        s->dac_sub = 0;
        s->dac_state = 3;
        break;
    case 0x3C8:
        s->dac_write_index = v;
        s->dac_sub = 0;
        s->dac_state = 0;
        break;
    case 0x3C9:
        s->dac_latch[s->dac_sub] = v & dac_scale(s);
        if (++s->dac_sub == 3) {
            memcpy(&s->palette[s->dac_write_index * 3], s->dac_latch, 3);
            s->dac_sub = 0;
            s->dac_write_index++;
            s->palette_dirty = true;
        }
        break;
    case 0x3CE:
        s->gc_index = v & 0x0F;
        break;
    case 0x3CF:
        if (s->gc_index < VGA_GC_COUNT) {
            s->gc[s->gc_index] = v & gc_mask[s->gc_index];
        }
        break;
    case 0x3B4:
    case 0x3D4:
        s->crtc_index = v & 0x3F;
        break;
    case 0x3B5:
    case 0x3D5:
        crtc_write(s, v);
        break;
    case 0x3BA:
    case 0x3DA:
        s->feature = v & 0x03;
        break;
    default:
        break;
    }
}

static const IOOps vga_port_ops = {
    .read = vga_port_read,
    .write = vga_port_write,
    .min_access = 1,
    .max_access = 1,
};

/* --- Bochs VBE/DISPI --- */

static uint16_t vbe_read(VGAState *s)
{
    unsigned i = s->vbe_index;
    if (i >= VBE_INDEX_COUNT) {
        return 0;
    }
    if (s->vbe_regs[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
        switch (i) {
        case VBE_INDEX_XRES:
            return VBE_MAX_XRES;
        case VBE_INDEX_YRES:
            return VBE_MAX_YRES;
        case VBE_INDEX_BPP:
            return VBE_MAX_BPP;
        default:
            break;
        }
    }
    if (i == VBE_INDEX_VIDEO_MEMORY_64K) {
        return (uint16_t)(VGA_VRAM_SIZE >> 16);
    }
    return s->vbe_regs[i];
}

/* Recompute the virtual height for the current virtual width (as much as VRAM holds). */
static void vbe_fit_virtual(VGAState *s)
{
    unsigned bpp = vga_vbe_bytes_pp(s->vbe_regs[VBE_INDEX_BPP]);
    uint32_t pitch = (uint32_t)s->vbe_regs[VBE_INDEX_VIRT_WIDTH] * (bpp ? bpp : 1);
    uint32_t vh = pitch ? VGA_VRAM_SIZE / pitch : 0;
    s->vbe_regs[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)(vh > 0xFFFF ? 0xFFFF : vh);
}

static void vbe_write(VGAState *s, uint16_t v)
{
    unsigned i = s->vbe_index;
    bool on = vga_vbe_enabled(s);
    switch (i) {
    case VBE_INDEX_ID:
        if (v >= VBE_ID0 && v <= VBE_ID5) {
            s->vbe_regs[i] = v;
        }
        break;
    case VBE_INDEX_XRES:
    case VBE_INDEX_YRES:
    case VBE_INDEX_BPP:
        if (!on) {
            s->vbe_regs[i] = (i == VBE_INDEX_BPP && v == 0) ? 8 : v;
        }
        break;
    case VBE_INDEX_BANK:
        s->vbe_regs[i] = v & (uint16_t)((VGA_VRAM_SIZE >> 16) - 1);
        break;
    case VBE_INDEX_ENABLE: {
        uint16_t nv = v & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC | VBE_LFB_ENABLED |
                           VBE_NOCLEARMEM);
        if ((nv & VBE_ENABLED) && !on) {
            unsigned xres = s->vbe_regs[VBE_INDEX_XRES], yres = s->vbe_regs[VBE_INDEX_YRES];
            unsigned bpp = vga_vbe_bytes_pp(s->vbe_regs[VBE_INDEX_BPP]);
            if (!bpp || xres == 0 || yres == 0 || xres > VBE_MAX_XRES || yres > VBE_MAX_YRES ||
                (uint64_t)xres * yres * bpp > VGA_VRAM_SIZE) {
                LOG_ONCE(&s->m->log, LOG_GUEST_ERROR,
                         "vga: VBE mode %ux%u bpp %u rejected\n", xres, yres,
                         s->vbe_regs[VBE_INDEX_BPP]);
                nv &= (uint16_t)~VBE_ENABLED;
            } else {
                s->vbe_regs[VBE_INDEX_VIRT_WIDTH] = (uint16_t)xres;
                s->vbe_regs[VBE_INDEX_X_OFFSET] = 0;
                s->vbe_regs[VBE_INDEX_Y_OFFSET] = 0;
                s->vbe_regs[VBE_INDEX_BANK] = 0;
                vbe_fit_virtual(s);
                if (!(nv & VBE_NOCLEARMEM)) {
                    memset(s->vram, 0, (size_t)xres * yres * bpp);
                }
            }
        }
        s->vbe_regs[i] = nv;
        s->full_update = true;
        break;
    }
    case VBE_INDEX_VIRT_WIDTH: {
        unsigned bpp = vga_vbe_bytes_pp(s->vbe_regs[VBE_INDEX_BPP]);
        if (v < s->vbe_regs[VBE_INDEX_XRES] || !bpp ||
            (uint64_t)v * bpp * s->vbe_regs[VBE_INDEX_YRES] > VGA_VRAM_SIZE) {
            break;
        }
        s->vbe_regs[i] = v;
        vbe_fit_virtual(s);
        break;
    }
    case VBE_INDEX_VIRT_HEIGHT:
    case VBE_INDEX_X_OFFSET:
    case VBE_INDEX_Y_OFFSET:
        s->vbe_regs[i] = v;
        break;
    default:
        break;
    }
}

/* Ports 0x1CE (index, 16-bit) and 0x1CF (data, 16-bit). A word access at the odd port 0x1CF
 * arrives here as two bytes at offsets 1 and 2: the low byte is held until the high byte. */
static uint64_t vbe_port_read(void *opaque, uint64_t addr, unsigned size)
{
    VGAState *s = opaque;
    if (addr == 0) {
        return size == 1 ? (s->vbe_index & 0xFF) : s->vbe_index;
    }
    uint16_t v = vbe_read(s);
    return addr == 1 ? (v & 0xFF) : (v >> 8);
}

static void vbe_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VGAState *s = opaque;
    if (addr == 0) {
        s->vbe_index = size == 1 ? (uint16_t)((s->vbe_index & 0xFF00) | (val & 0xFF))
                                 : (uint16_t)val;
    } else if (addr == 1) {
        s->vbe_data_lo = (uint8_t)val;
    } else {
        vbe_write(s, (uint16_t)(s->vbe_data_lo | (val & 0xFF) << 8));
    }
}

static const IOOps vbe_port_ops = {
    .read = vbe_port_read,
    .write = vbe_port_write,
    .min_access = 1,
    .max_access = 2,
};

/* --- lifecycle --- */

static int vga_post_load(void *opaque)
{
    VGAState *s = opaque;
    if (s->has_pci) {
        pci_device_post_load(&s->pci);
    }
    if (s->ar_index & 0xC0) {
        s->ar_index &= 0x3F;
    }
    s->seq_index &= 7;
    s->gc_index &= 0x0F;
    s->crtc_index &= 0x3F;
    s->dac_sub %= 3;
    vga_invalidate(s);
    return 0;
}

static const VMStateField vga_fields[] = {
    VMSTATE_STRUCT(VGAState, pci, pci_device_vmstate, PCIDevice),
    VMSTATE_U8(VGAState, misc),
    VMSTATE_U8(VGAState, feature),
    VMSTATE_U8(VGAState, seq_index),
    VMSTATE_U8_ARRAY(VGAState, seq, VGA_SEQ_COUNT),
    VMSTATE_U8(VGAState, gc_index),
    VMSTATE_U8_ARRAY(VGAState, gc, VGA_GC_COUNT),
    VMSTATE_U8(VGAState, crtc_index),
    VMSTATE_U8_ARRAY(VGAState, crtc, VGA_CRTC_COUNT),
    VMSTATE_U8(VGAState, ar_index),
    VMSTATE_U8_ARRAY(VGAState, ar, VGA_AR_COUNT),
    VMSTATE_BOOL(VGAState, ar_flip),
    VMSTATE_U8(VGAState, dac_read_index),
    VMSTATE_U8(VGAState, dac_write_index),
    VMSTATE_U8(VGAState, dac_sub),
    VMSTATE_U8(VGAState, dac_state),
    VMSTATE_U8(VGAState, dac_mask),
    VMSTATE_U8_ARRAY(VGAState, dac_latch, 3),
    VMSTATE_U8_ARRAY(VGAState, palette, 768),
    VMSTATE_U32(VGAState, latch),
    VMSTATE_U16(VGAState, vbe_index),
    VMSTATE_U16_ARRAY(VGAState, vbe_regs, VBE_INDEX_COUNT),
    VMSTATE_U8(VGAState, vbe_data_lo),
    VMSTATE_BUFFER(VGAState, vram),
    VMSTATE_END,
};

static const VMStateDesc vga_vmstate = {
    .name = "vga",
    .version = 1,
    .fields = vga_fields,
    .post_load = vga_post_load,
};

static void vga_reset(void *opaque)
{
    VGAState *s = opaque;
    s->misc = 0x01; /* colour addressing at 0x3Dx; RAM access off until a mode set */
    s->feature = 0;
    s->seq_index = s->gc_index = s->crtc_index = s->ar_index = 0;
    memset(s->seq, 0, sizeof(s->seq));
    memset(s->gc, 0, sizeof(s->gc));
    memset(s->crtc, 0, sizeof(s->crtc));
    memset(s->ar, 0, sizeof(s->ar));
    s->ar_flip = false;
    s->gc[8] = 0xFF;
    s->seq[2] = 0x0F;
    s->dac_read_index = s->dac_write_index = s->dac_sub = s->dac_state = 0;
    s->dac_mask = 0xFF;
    s->latch = 0;
    s->vbe_index = 0;
    memset(s->vbe_regs, 0, sizeof(s->vbe_regs));
    s->vbe_regs[VBE_INDEX_ID] = VBE_ID5;
    s->vbe_regs[VBE_INDEX_BPP] = 8;
    s->vbe_data_lo = 0;
    if (s->has_pci) {
        pci_device_reset(&s->pci);
    }
    vga_invalidate(s);
}

static DisplaySurface *source_update(void *opaque)
{
    return vga_update_display(opaque);
}

static int source_text(void *opaque, uint16_t *cells, int max, int *cols, int *rows)
{
    return vga_read_text(opaque, cells, max, cols, rows);
}

VGAState *vga_new(Machine *m, PCIBus *bus, unsigned devfn)
{
    return vga_new_with_rom(m, bus, devfn, NULL, 0);
}

VGAState *vga_new_with_rom(Machine *m, PCIBus *bus, unsigned devfn, const uint8_t *rom,
                           size_t rom_size)
{
    if (rom && (rom_size == 0 || rom_size > VGA_ROM_MAX)) {
        return NULL;
    }
    VGAState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->m = m;
    s->shadow = calloc(1, VGA_VRAM_SIZE);
    if (!s->shadow) {
        free(s);
        return NULL;
    }
    s->window_handle = s->port_handle = s->vbe_handle = -1;
    s->source.update = source_update;
    s->source.text = source_text;
    s->source.opaque = s;
    s->window_handle = mem_map_mmio(&m->mem, "vga-window", 0xA0000, 0x20000, &window_ops, s, 1);
    s->port_handle = port_map(&m->io, "vga", 0x3B0, 0x30, &vga_port_ops, s);
    s->vbe_handle = port_map(&m->io, "vbe", 0x1CE, 3, &vbe_port_ops, s);
    if (s->window_handle < 0 || s->port_handle < 0 || s->vbe_handle < 0) {
        goto fail;
    }
    if (bus) {
        pci_device_init(&s->pci, "vga", VGA_PCI_VENDOR, VGA_PCI_DEVICE, 2, 0x030000, 0, 0);
        if (pci_register_bar(&s->pci, 0, PCI_BAR_RAM, VGA_VRAM_SIZE, NULL, NULL, s->vram,
                             true) < 0) {
            goto fail;
        }
        if (rom) {
            /* The BAR decodes a power of two of at least 2 KiB: the copy is padded to it. */
            uint32_t sz = 2048;
            while (sz < rom_size) {
                sz <<= 1;
            }
            s->rom = calloc(1, sz);
            if (!s->rom) {
                goto fail;
            }
            memcpy(s->rom, rom, rom_size);
            if (pci_register_rom(&s->pci, s->rom, sz) < 0) {
                goto fail;
            }
        }
        if (pci_bus_add_device(bus, &s->pci, devfn) < 0) {
            goto fail;
        }
        s->has_pci = true;
    }
    if (vmstate_register(&m->vmstate, "vga", &vga_vmstate, s) < 0 ||
        machine_add_reset(m, vga_reset, s) < 0) {
        goto fail;
    }
    vga_reset(s);
    return s;
fail:
    if (s->window_handle >= 0) {
        mem_unmap(&m->mem, s->window_handle);
    }
    if (s->port_handle >= 0) {
        port_unmap(&m->io, s->port_handle);
    }
    if (s->vbe_handle >= 0) {
        port_unmap(&m->io, s->vbe_handle);
    }
    free(s->rom);
    free(s->shadow);
    free(s);
    return NULL;
}

void vga_free(VGAState *s)
{
    if (!s) {
        return;
    }
    display_surface_free(&s->surface);
    free(s->text_cache);
    free(s->shadow);
    free(s->rom);
    free(s);
}

DisplaySource *vga_display_source(VGAState *s)
{
    return &s->source;
}

uint8_t *vga_vram(VGAState *s)
{
    return s->vram;
}

uint32_t vga_lfb_addr(const VGAState *s)
{
    return s->has_pci && s->pci.bars[0].is_mapped ? s->pci.bars[0].mapped_addr : 0;
}
