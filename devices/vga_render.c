/* vga_render.c: turns VGA/VBE state into a 32-bit RGB DisplaySurface, redrawing only what
 * changed.
 *
 * The CRTC fetches memory by "memory address" (MA): one character clock reads one byte from
 * each plane at the plane address derived from MA by the addressing mode (CR17 bit 6 byte
 * mode, CR14 bit 6 doubleword mode, otherwise word mode) and, when CR17 bits 0/1 are clear, with
 * address bits 13/14 replaced by bits 0/1 of the row scan counter (CGA/Hercules banks). Each
 * character row advances MA by twice the offset register (CR13). What a character clock turns
 * into depends on the shift mode (GR05 bits 5-6): 8 planar pixels, 8 CGA 2-bit pixels, or 4
 * 256-colour pixels; text mode draws a glyph from plane 2 instead.
 *
 * Example, mode 13h: CR13 = 40, doubleword mode, 80 character clocks per line: row r starts at
 * MA = 80r, character clock k reads plane address (80r + k) * 4, whose four planes hold pixels
 * 4k..4k+3. That is where a chain-4 CPU write to 0xA0000 + 320r + 4k + p put pixel p.
 *
 * Redraw decisions: a change in any register the picture's shape depends on (VGAModeKey), the
 * palette or the font redraws everything; otherwise a line (or text row) is redrawn only when
 * a vram page it reads was written since the last render. Text cells are compared with a
 * per-cell cache as well, and the cursor and blinking cells follow the blink phase. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "devices/vga_internal.h"

/* 70 Hz frames: the cursor toggles every 8 frames, blinking characters every 16. */
#define VGA_FRAME_NS 14285714

static inline uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint32_t dac_rgb(const VGAState *s, unsigned idx)
{
    const uint8_t *p = &s->palette[(idx & 0xFF) * 3];
    if (s->vbe_regs[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) {
        return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    }
    uint32_t r = p[0] & 0x3F, g = p[1] & 0x3F, b = p[2] & 0x3F;
    r = (r << 2) | (r >> 4);
    g = (g << 2) | (g >> 4);
    b = (b << 2) | (b >> 4);
    return r << 16 | g << 8 | b;
}

/* The attribute controller's mapping of a 4-bit pixel to a DAC index (IBM VGA Technical
 * Reference, AR10 bit 7 and AR14), then the DAC mask and palette. */
static void build_palettes(const VGAState *s, uint32_t pal16[16], uint32_t pal256[256])
{
    for (unsigned i = 0; i < 256; i++) {
        pal256[i] = dac_rgb(s, i & s->dac_mask);
    }
    for (unsigned i = 0; i < 16; i++) {
        unsigned v = s->ar[i & s->ar[0x12] & 0xF];
        if (s->ar[0x10] & 0x80) {
            v = (v & 0x0F) | (s->ar[0x14] & 0x03) << 4;
        } else {
            v &= 0x3F;
        }
        v |= (s->ar[0x14] & 0x0C) << 4;
        pal16[i] = pal256[v & s->dac_mask];
    }
}

static uint32_t ma_to_pa(const VGAState *s, uint32_t ma)
{
    if (s->crtc[0x14] & 0x40) {
        return (ma << 2) & 0xFFFF;
    }
    if (!(s->crtc[0x17] & 0x40)) {
        uint32_t b0 = (s->crtc[0x17] & 0x20) ? (ma >> 15) & 1 : (ma >> 13) & 1;
        return ((ma << 1) | b0) & 0xFFFF;
    }
    return ma & 0xFFFF;
}

static uint32_t scan_subst(const VGAState *s, uint32_t pa, unsigned scan)
{
    if (!(s->crtc[0x17] & 0x01)) {
        pa = (pa & ~0x2000u) | (scan & 1) << 13;
    }
    if (!(s->crtc[0x17] & 0x02)) {
        pa = (pa & ~0x4000u) | (scan & 2) << 13;
    }
    return pa;
}

static bool pages_dirty(const VGAState *s, uint32_t first, uint32_t last)
{
    uint32_t p0 = first >> VGA_PAGE_SHIFT, p1 = last >> VGA_PAGE_SHIFT;
    if (p1 >= VGA_PAGES) {
        p1 = VGA_PAGES - 1;
    }
    for (uint32_t p = p0; p <= p1; p++) {
        if (s->dirty[p >> 6] & (1ull << (p & 63))) {
            return true;
        }
    }
    return false;
}

/* Whether the plane addresses from ma over n character clocks touch a written page. */
static bool span_dirty(const VGAState *s, uint32_t ma, unsigned n, unsigned scan)
{
    uint32_t a = scan_subst(s, ma_to_pa(s, ma), scan);
    uint32_t b = scan_subst(s, ma_to_pa(s, ma + n - 1), scan);
    if (b < a) {
        return true; /* wraps around the plane: not worth being precise */
    }
    return pages_dirty(s, a * 4, b * 4 + 3);
}

static unsigned line_compare(const VGAState *s)
{
    return s->crtc[0x18] | (s->crtc[7] & 0x10) << 4 | (s->crtc[9] & 0x40) << 3;
}

static bool resize(VGAState *s, int w, int h)
{
    DisplaySurface *d = &s->surface;
    if (d->pixels && d->width == w && d->height == h) {
        return false;
    }
    if (display_surface_resize(d, w, h) < 0) {
        LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "vga: %dx%d display not shown\n", w, h);
        if (!d->pixels && display_surface_resize(d, 640, 480) < 0) {
            return false;
        }
    }
    return true;
}

/* --- text --- */

static const uint16_t font_base[8] = {0x0000, 0x4000, 0x8000, 0xC000,
                                      0x2000, 0x6000, 0xA000, 0xE000};

typedef struct TextGeom {
    int cols, rows, cw, ch;
    uint32_t start, stride;
} TextGeom;

static void text_geometry(const VGAState *s, TextGeom *g)
{
    g->cols = s->crtc[1] + 1;
    g->cw = (s->seq[1] & 1) ? 8 : 9;
    g->ch = (s->crtc[9] & 0x1F) + 1;
    int lines = (int)vga_vde(s);
    if (s->crtc[9] & 0x80) {
        lines /= 2;
    }
    g->rows = lines / g->ch;
    if (g->rows < 1) {
        g->rows = 1;
    }
    while (g->rows * g->ch > DISPLAY_MAX_HEIGHT) {
        g->rows--;
    }
    g->start = (uint32_t)s->crtc[0x0C] << 8 | s->crtc[0x0D];
    g->stride = s->crtc[0x13] * 2u;
    if (g->stride == 0) {
        g->stride = (uint32_t)g->cols;
    }
}

static void draw_glyph(VGAState *s, const TextGeom *g, int row, int col, uint8_t chr,
                       uint8_t attr, bool cursor, bool blink_hide, const uint32_t pal16[16])
{
    unsigned sr3 = s->seq[3];
    unsigned map_a = ((sr3 >> 3) & 4) | ((sr3 >> 2) & 3);
    unsigned map_b = ((sr3 >> 2) & 4) | (sr3 & 3);
    uint32_t glyph = font_base[(attr & 0x08) ? map_a : map_b] + chr * 32u;
    unsigned bgi = attr >> 4;
    if (s->ar[0x10] & 0x08) {
        bgi &= 7;
    }
    uint32_t fg = pal16[attr & 0xF], bg = pal16[bgi];
    if (blink_hide) {
        fg = bg;
    }
    unsigned cs = s->crtc[0x0A] & 0x1F, ce = s->crtc[0x0B] & 0x1F;
    bool nine_dup = (s->ar[0x10] & 0x04) && chr >= 0xC0 && chr <= 0xDF;
    DisplaySurface *d = &s->surface;
    for (int y = 0; y < g->ch; y++) {
        unsigned bits = y < 32 ? s->vram[((glyph + (unsigned)y) & 0xFFFF) * 4 + 2] : 0;
        if (cursor && (unsigned)y >= cs && (unsigned)y <= ce) {
            bits = 0xFF;
        }
        uint32_t *px = d->pixels + (size_t)(row * g->ch + y) * d->stride + col * g->cw;
        for (int x = 0; x < 8; x++) {
            px[x] = (bits & (0x80u >> x)) ? fg : bg;
        }
        if (g->cw == 9) {
            px[8] = ((nine_dup || (cursor && bits == 0xFF)) && (bits & 1)) ? fg : bg;
        }
    }
}

static void render_text(VGAState *s, bool full, const uint32_t pal16[16])
{
    TextGeom g;
    text_geometry(s, &g);
    if (resize(s, g.cols * g.cw, g.rows * g.ch)) {
        full = true;
    }
    if (s->surface.width < g.cols * g.cw || s->surface.height < g.rows * g.ch) {
        return;
    }
    int n = g.cols * g.rows;
    if (s->text_cache_n != n) {
        uint32_t *c = realloc(s->text_cache, (size_t)n * sizeof(*c));
        if (!c) {
            return;
        }
        s->text_cache = c;
        s->text_cache_n = n;
        full = true;
    }
    if (s->font_dirty) {
        full = true;
    }
    int64_t frame = clock_now(&s->m->clock) / VGA_FRAME_NS;
    bool cursor_on = !((frame >> 3) & 1);
    bool blink_on = !((frame >> 4) & 1);
    bool phase_changed = (frame >> 3) != s->last_phase;
    s->last_phase = frame >> 3;

    int cur_row = -1, cur_col = -1;
    if (!(s->crtc[0x0A] & 0x20)) {
        uint32_t loc = (uint32_t)s->crtc[0x0E] << 8 | s->crtc[0x0F];
        uint32_t rel = (loc - g.start) & 0xFFFF;
        if (rel / g.stride < (uint32_t)g.rows && rel % g.stride < (uint32_t)g.cols) {
            cur_row = (int)(rel / g.stride);
            cur_col = (int)(rel % g.stride);
        }
    }
    bool blink_attr = (s->ar[0x10] & 0x08) != 0;
    for (int r = 0; r < g.rows; r++) {
        uint32_t ma = g.start + (uint32_t)r * g.stride;
        if (!full && !phase_changed && r != cur_row && r != s->last_cursor_row &&
            !span_dirty(s, ma, (unsigned)g.cols, 0)) {
            continue;
        }
        int x0 = g.cols, x1 = -1;
        for (int c = 0; c < g.cols; c++) {
            uint32_t pa = ma_to_pa(s, ma + (uint32_t)c);
            uint8_t chr = s->vram[pa * 4], attr = s->vram[pa * 4 + 1];
            bool cur = r == cur_row && c == cur_col && cursor_on;
            bool hide = blink_attr && (attr & 0x80) && !blink_on;
            uint32_t key = chr | (uint32_t)attr << 8 | (uint32_t)cur << 16 |
                           (uint32_t)hide << 17 | 1u << 18;
            uint32_t *slot = &s->text_cache[r * g.cols + c];
            if (!full && *slot == key) {
                continue;
            }
            *slot = key;
            draw_glyph(s, &g, r, c, chr, attr, cur, hide, pal16);
            if (c < x0) {
                x0 = c;
            }
            x1 = c;
        }
        if (x1 >= 0) {
            display_surface_add_dirty(&s->surface, x0 * g.cw, r * g.ch, (x1 - x0 + 1) * g.cw,
                                      g.ch);
        }
    }
    s->last_cursor_row = cur_row;
}

int vga_read_text(VGAState *s, uint16_t *cells, int max, int *cols, int *rows)
{
    if (vga_vbe_enabled(s) || (s->gc[6] & 1)) {
        return -ENOTSUP;
    }
    TextGeom g;
    text_geometry(s, &g);
    *cols = g.cols;
    *rows = g.rows;
    for (int r = 0; r < g.rows; r++) {
        for (int c = 0; c < g.cols; c++) {
            int i = r * g.cols + c;
            if (i >= max) {
                return 0;
            }
            uint32_t pa = ma_to_pa(s, g.start + (uint32_t)r * g.stride + (uint32_t)c);
            cells[i] = (uint16_t)(s->vram[pa * 4] | s->vram[pa * 4 + 1] << 8);
        }
    }
    return 0;
}

/* --- graphics --- */

static void render_graphics(VGAState *s, bool full, const uint32_t pal16[16],
                            const uint32_t pal256[256])
{
    bool m256 = (s->gc[5] & 0x40) != 0;
    bool cga = !m256 && (s->gc[5] & 0x20);
    unsigned chars = s->crtc[1] + 1u;
    int w = (int)(m256 ? chars * 4 : chars * 8);
    unsigned msl = (s->crtc[9] & 0x1F) + 1u;
    unsigned dbl = (s->crtc[9] & 0x80) ? 2 : 1;
    bool subst = (s->crtc[0x17] & 3) != 3;
    unsigned lines_per_row = subst ? msl : 1; /* distinct lines per character row */
    unsigned raw_per_line = dbl * (subst ? 1 : msl);
    int h = (int)(vga_vde(s) / raw_per_line);
    if (h < 1) {
        h = 1;
    }
    if (w > DISPLAY_MAX_WIDTH) {
        w = DISPLAY_MAX_WIDTH;
        chars = (unsigned)(m256 ? w / 4 : w / 8);
    }
    if (h > DISPLAY_MAX_HEIGHT) {
        h = DISPLAY_MAX_HEIGHT;
    }
    if (resize(s, w, h)) {
        full = true;
    }
    DisplaySurface *d = &s->surface;
    if (d->width < w || d->height < h) {
        return;
    }
    uint32_t start = (uint32_t)s->crtc[0x0C] << 8 | s->crtc[0x0D];
    uint32_t stride = s->crtc[0x13] * 2u;
    unsigned y_split = line_compare(s) / raw_per_line + 1;
    for (int y = 0; y < h; y++) {
        unsigned yy = (unsigned)y;
        uint32_t base = start;
        if (yy >= y_split) {
            yy -= y_split;
            base = 0;
        }
        unsigned row = yy / lines_per_row, scan = yy % lines_per_row;
        uint32_t ma = base + row * stride;
        if (!full && !span_dirty(s, ma, chars, scan)) {
            continue;
        }
        uint32_t *px = d->pixels + (size_t)y * d->stride;
        for (unsigned k = 0; k < chars; k++) {
            uint32_t pa = scan_subst(s, ma_to_pa(s, ma + k), scan);
            uint32_t planes = ld32(s->vram + pa * 4);
            if (m256) {
                px[0] = pal256[planes & 0xFF];
                px[1] = pal256[(planes >> 8) & 0xFF];
                px[2] = pal256[(planes >> 16) & 0xFF];
                px[3] = pal256[planes >> 24];
                px += 4;
            } else if (cga) {
                unsigned b0 = planes & 0xFF, b1 = (planes >> 8) & 0xFF;
                for (unsigned i = 0; i < 4; i++) {
                    px[i] = pal16[(b0 >> (6 - 2 * i)) & 3];
                    px[4 + i] = pal16[(b1 >> (6 - 2 * i)) & 3];
                }
                px += 8;
            } else {
                for (unsigned i = 0; i < 8; i++) {
                    unsigned sh = 7 - i;
                    unsigned v = ((planes >> sh) & 1) | ((planes >> (sh + 8)) & 1) << 1 |
                                 ((planes >> (sh + 16)) & 1) << 2 |
                                 ((planes >> (sh + 24)) & 1) << 3;
                    px[i] = pal16[v];
                }
                px += 8;
            }
        }
        display_surface_add_dirty(d, 0, y, w, 1);
    }
}

/* --- VBE --- */

static void render_vbe(VGAState *s, bool full, const uint32_t pal256[256])
{
    int w = s->vbe_regs[VBE_INDEX_XRES], h = s->vbe_regs[VBE_INDEX_YRES];
    unsigned bpp = s->vbe_regs[VBE_INDEX_BPP];
    unsigned bypp = vga_vbe_bytes_pp(bpp);
    if (resize(s, w, h)) {
        full = true;
    }
    DisplaySurface *d = &s->surface;
    if (d->width != w || d->height != h || !bypp) {
        return;
    }
    uint64_t pitch = (uint64_t)s->vbe_regs[VBE_INDEX_VIRT_WIDTH] * bypp;
    uint64_t start = s->vbe_regs[VBE_INDEX_Y_OFFSET] * pitch +
                     (uint64_t)s->vbe_regs[VBE_INDEX_X_OFFSET] * bypp;
    uint64_t end = start + pitch * (uint64_t)(h - 1) + (uint64_t)w * bypp;
    if (end > VGA_VRAM_SIZE) {
        end = VGA_VRAM_SIZE;
    }
    /* The LFB is RAM the CPU writes without telling us: find the changed pages by comparing
     * the visible range with the copy taken at the last render. */
    for (uint64_t pg = start & ~(uint64_t)0xFFF; pg < end; pg += 4096) {
        if (full || memcmp(s->vram + pg, s->shadow + pg, 4096) != 0) {
            memcpy(s->shadow + pg, s->vram + pg, 4096);
            vga_mark_dirty(s, (uint32_t)pg);
        }
    }
    for (int y = 0; y < h; y++) {
        uint64_t la = start + (uint64_t)y * pitch;
        uint64_t len = (uint64_t)w * bypp;
        uint32_t *px = d->pixels + (size_t)y * d->stride;
        if (la + len > VGA_VRAM_SIZE) {
            if (full) {
                memset(px, 0, (size_t)w * 4);
                display_surface_add_dirty(d, 0, y, w, 1);
            }
            continue;
        }
        if (!full && !pages_dirty(s, (uint32_t)la, (uint32_t)(la + len - 1))) {
            continue;
        }
        const uint8_t *src = s->vram + la;
        switch (bpp) {
        case 32:
            for (int x = 0; x < w; x++) {
                px[x] = ld32(src + 4 * x) & 0xFFFFFF;
            }
            break;
        case 24:
            for (int x = 0; x < w; x++) {
                const uint8_t *p = src + 3 * x;
                px[x] = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
            }
            break;
        case 16:
            for (int x = 0; x < w; x++) {
                uint32_t v = src[2 * x] | src[2 * x + 1] << 8;
                uint32_t r = (v >> 11) & 0x1F, g = (v >> 5) & 0x3F, b = v & 0x1F;
                px[x] = ((r << 3) | (r >> 2)) << 16 | ((g << 2) | (g >> 4)) << 8 |
                        ((b << 3) | (b >> 2));
            }
            break;
        case 15:
            for (int x = 0; x < w; x++) {
                uint32_t v = src[2 * x] | src[2 * x + 1] << 8;
                uint32_t r = (v >> 10) & 0x1F, g = (v >> 5) & 0x1F, b = v & 0x1F;
                px[x] = ((r << 3) | (r >> 2)) << 16 | ((g << 3) | (g >> 2)) << 8 |
                        ((b << 3) | (b >> 2));
            }
            break;
        default:
            for (int x = 0; x < w; x++) {
                px[x] = pal256[src[x]];
            }
            break;
        }
        display_surface_add_dirty(d, 0, y, w, 1);
    }
}

static void render_blank(VGAState *s, bool full)
{
    DisplaySurface *d = &s->surface;
    if (resize(s, d->pixels ? d->width : 640, d->pixels ? d->height : 400)) {
        full = true;
    }
    if (full && d->pixels) {
        memset(d->pixels, 0, (size_t)d->stride * (size_t)d->height * 4);
        display_surface_add_dirty(d, 0, 0, d->width, d->height);
    }
}

static void build_key(const VGAState *s, VGAModeKey *k)
{
    memset(k, 0, sizeof(*k));
    k->misc = s->misc;
    memcpy(k->seq, s->seq, sizeof(k->seq));
    k->gc5 = s->gc[5] & 0x60;
    k->gc6 = s->gc[6] & 0x01;
    k->ar_index = s->ar_index & 0x20;
    memcpy(k->crtc, s->crtc, sizeof(k->crtc));
    k->crtc[0x0E] = k->crtc[0x0F] = 0;
    memcpy(k->ar, s->ar, sizeof(k->ar));
    memcpy(k->vbe, s->vbe_regs, sizeof(k->vbe));
    k->vbe[VBE_INDEX_BANK] = 0;
}

void vga_invalidate(VGAState *s)
{
    s->full_update = true;
}

DisplaySurface *vga_update_display(VGAState *s)
{
    VGAModeKey key;
    build_key(s, &key);
    bool full = s->full_update || s->palette_dirty;
    if (memcmp(&key, &s->last_key, sizeof(key)) != 0) {
        s->last_key = key;
        full = true;
    }
    uint32_t pal16[16], pal256[256];
    build_palettes(s, pal16, pal256);
    if (vga_vbe_enabled(s)) {
        render_vbe(s, full, pal256);
    } else if (!(s->ar_index & 0x20) || (s->seq[1] & 0x20)) {
        render_blank(s, full); /* palette address source off or screen off (SR01 bit 5) */
    } else if (s->gc[6] & 1) {
        render_graphics(s, full, pal16, pal256);
    } else {
        render_text(s, full, pal16);
    }
    if (!s->surface.pixels) {
        render_blank(s, true);
    }
    memset(s->dirty, 0, sizeof(s->dirty));
    s->full_update = s->palette_dirty = s->font_dirty = false;
    return &s->surface;
}
