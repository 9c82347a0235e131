/* test_vga.c: the VGA adapter and Bochs VBE through the port and memory buses: register
 * semantics, the planar read/write pipeline, rendering of text, CGA, planar, 256-colour and
 * VBE modes into the DisplaySurface, and dirty tracking. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/cpu.h"
#include "core/display.h"
#include "core/machine.h"
#include "core/vmstate.h"
#include "devices/pci.h"
#include "devices/pc/pc.h"
#include "devices/vga.h"

#define LFB_BASE 0xE0000000u
#define VGA_DEVFN PCI_DEVFN(2, 0)

static Machine *m;
static PCIBus *bus;
static VGAState *vga;

static void setup(void)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 2u << 20;
    cfg.icount_shift = 0;
    char err[256];
    m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "machine_new: %s", err);
    cr_assert_geq(mem_map_ram(&m->mem, "ram", 0, 0xA0000, m->ram, 0), 0);
    bus = pci_bus_new(m);
    cr_assert_not_null(bus);
    vga = vga_new(m, bus, VGA_DEVFN);
    cr_assert_not_null(vga);
}

static void teardown(void)
{
    machine_free(m);
    pci_bus_free(bus);
    vga_free(vga);
}

TestSuite(vga, .init = setup, .fini = teardown);

static void outb(uint16_t port, uint8_t v)
{
    port_write(&m->io, port, v, 1);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)port_read(&m->io, port, 1);
}

static void outw(uint16_t port, uint16_t v)
{
    port_write(&m->io, port, v, 2);
}

static uint16_t inw(uint16_t port)
{
    return (uint16_t)port_read(&m->io, port, 2);
}

static void wrb(uint32_t addr, uint8_t v)
{
    mem_write(&m->mem, addr, v, 1);
}

static uint8_t rdb(uint32_t addr)
{
    return (uint8_t)mem_read(&m->mem, addr, 1);
}

static void seq(uint8_t i, uint8_t v)
{
    outb(0x3C4, i);
    outb(0x3C5, v);
}

static void gc(uint8_t i, uint8_t v)
{
    outb(0x3CE, i);
    outb(0x3CF, v);
}

static void crtc(uint8_t i, uint8_t v)
{
    outb(0x3D4, i);
    outb(0x3D5, v);
}

static uint8_t crtc_rd(uint8_t i)
{
    outb(0x3D4, i);
    return inb(0x3D5);
}

static void dac(uint8_t idx, uint8_t r, uint8_t g, uint8_t b)
{
    outb(0x3C8, idx);
    outb(0x3C9, r);
    outb(0x3C9, g);
    outb(0x3C9, b);
}

static uint8_t plane(uint32_t pa, unsigned p)
{
    return vga_vram(vga)[pa * 4 + p];
}

/* Standard register sets of the IBM VGA modes (IBM VGA Technical Reference, BIOS tables). */
typedef struct ModeRegs {
    uint8_t misc, seq[5], crtc[25], gc[9], ar[21];
} ModeRegs;

static const ModeRegs mode03 = {
    0x67,
    {0x03, 0x00, 0x03, 0x00, 0x02},
    {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
     0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00},
};

static const ModeRegs mode13 = {
    0x63,
    {0x03, 0x01, 0x0F, 0x00, 0x0E},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
     0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00},
};

static const ModeRegs mode12 = {
    0xE3,
    {0x03, 0x01, 0x0F, 0x00, 0x06},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
     0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00},
};

static const ModeRegs mode04 = {
    0x63,
    {0x03, 0x09, 0x03, 0x00, 0x02},
    {0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x0F, 0xFF},
    {0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12,
     0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00},
};

static const ModeRegs mode0d = {
    0x63,
    {0x03, 0x09, 0x0F, 0x00, 0x06},
    {0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC0, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xE3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12,
     0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x0F, 0x00, 0x00},
};

static const ModeRegs mode06 = {
    0x63,
    {0x03, 0x01, 0x01, 0x00, 0x06},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x00, 0x96, 0xB9, 0xC2, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x00, 0xFF},
    {0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
     0x17, 0x17, 0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00, 0x00},
};

static void set_mode(const ModeRegs *r)
{
    outb(0x3C2, r->misc);
    for (unsigned i = 0; i < 5; i++) {
        seq((uint8_t)i, r->seq[i]);
    }
    crtc(0x11, r->crtc[0x11] & 0x7F); /* unprotect CR00-07 */
    for (unsigned i = 0; i < 25; i++) {
        crtc((uint8_t)i, r->crtc[i]);
    }
    for (unsigned i = 0; i < 9; i++) {
        gc((uint8_t)i, r->gc[i]);
    }
    (void)inb(0x3DA);
    for (unsigned i = 0; i < 21; i++) {
        outb(0x3C0, (uint8_t)i);
        outb(0x3C0, r->ar[i]);
    }
    outb(0x3C0, 0x20); /* PAS: the attribute controller drives the display again */
}

static uint32_t px(const DisplaySurface *s, int x, int y)
{
    return s->pixels[(size_t)y * s->stride + x];
}

static uint32_t rgb6(uint8_t r, uint8_t g, uint8_t b)
{
    return (uint32_t)((r << 2) | (r >> 4)) << 16 | (uint32_t)((g << 2) | (g >> 4)) << 8 |
           (uint32_t)((b << 2) | (b >> 4));
}

/* --- registers --- */

Test(vga, attribute_flip_flop_alternates_index_and_data_and_3da_read_resets_it)
{
    (void)inb(0x3DA);
    outb(0x3C0, 0x05);
    outb(0x3C0, 0x2A);
    cr_assert_eq(inb(0x3C1), 0x2A);
    outb(0x3C0, 0x06); /* the flip-flop is back on index */
    outb(0x3C0, 0x11);
    outb(0x3C0, 0x05); /* now an index write again: selects register 5 */
    cr_assert_eq(inb(0x3C0) & 0x1F, 0x05);
    outb(0x3C0, 0x12); /* half way: this is an index... */
    (void)inb(0x3DA);  /* ...until the status read resets the flip-flop */
    outb(0x3C0, 0x07);
    outb(0x3C0, 0x33);
    cr_assert_eq(inb(0x3C1), 0x33);
    outb(0x3C0, 0x06);
    cr_assert_eq(inb(0x3C1), 0x11);
}

Test(vga, dac_write_and_read_indices_auto_increment_with_6_bit_components)
{
    outb(0x3C8, 10);
    for (int i = 0; i < 6; i++) {
        outb(0x3C9, (uint8_t)(0x10 + i));
    }
    cr_assert_eq(inb(0x3C8), 12);
    outb(0x3C9, 0xFF); /* 6-bit DAC keeps bits 0-5 */
    outb(0x3C9, 0x40);
    outb(0x3C9, 0x01);
    cr_assert_eq(inb(0x3C8), 13);
    outb(0x3C7, 10);
    cr_assert_eq(inb(0x3C7) & 3, 3);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(inb(0x3C9), 0x10 + i);
    }
    cr_assert_eq(inb(0x3C9), 0x3F);
    cr_assert_eq(inb(0x3C9), 0x00);
    cr_assert_eq(inb(0x3C9), 0x01);
    outb(0x3C8, 0);
    cr_assert_eq(inb(0x3C7) & 3, 0);
}

Test(vga, crtc_protect_bit_locks_registers_0_to_7_except_line_compare_bit_8)
{
    crtc(0x01, 0x4F);
    crtc(0x07, 0x00);
    crtc(0x11, 0x80);
    crtc(0x01, 0x27);
    crtc(0x07, 0xFF);
    crtc(0x13, 0x55); /* above 7: not protected */
    cr_assert_eq(crtc_rd(0x01), 0x4F);
    cr_assert_eq(crtc_rd(0x07), 0x10);
    cr_assert_eq(crtc_rd(0x13), 0x55);
    crtc(0x11, 0x00);
    crtc(0x01, 0x27);
    cr_assert_eq(crtc_rd(0x01), 0x27);
}

Test(vga, misc_output_bit_0_moves_crtc_and_status_between_3b_and_3d)
{
    outb(0x3C2, 0x01);
    crtc(0x0C, 0x12);
    cr_assert_eq(inb(0x3B5), 0xFF);
    outb(0x3C2, 0x00);
    cr_assert_eq(inb(0x3CC), 0x00);
    cr_assert_eq(inb(0x3D5), 0xFF);
    outb(0x3B4, 0x0C);
    cr_assert_eq(inb(0x3B5), 0x12);
    outb(0x3BA, 0x01); /* feature control write at the mono address */
    cr_assert_eq(inb(0x3CA), 0x01);
}

Test(vga, input_status_1_shows_vertical_retrace_as_virtual_time_passes)
{
    set_mode(&mode03);
    int retrace = 0, active = 0;
    for (int i = 0; i < 2000; i++) {
        clock_advance_icount(&m->clock, 20000); /* 20 us steps over 40 ms */
        uint8_t st = inb(0x3DA);
        if (st & 0x08) {
            retrace++;
            cr_assert(st & 0x01, "vertical retrace is also display-disabled");
        } else {
            active++;
        }
    }
    cr_assert_gt(retrace, 0);
    cr_assert_gt(active, retrace * 10);
}

/* --- memory pipeline --- */

static void planar_setup(void)
{
    set_mode(&mode12);
}

Test(vga, write_mode_0_set_reset_and_bit_mask_merge_with_latches)
{
    planar_setup();
    gc(1, 0x0F);
    gc(0, 0x05);
    gc(8, 0x80);
    (void)rdb(0xA0000); /* latches = 0 */
    wrb(0xA0000, 0x00);
    cr_assert_eq(plane(0, 0), 0x80);
    cr_assert_eq(plane(0, 1), 0x00);
    cr_assert_eq(plane(0, 2), 0x80);
    cr_assert_eq(plane(0, 3), 0x00);
    /* Without set/reset: rotated CPU data, XOR with latches, full mask. */
    gc(1, 0x00);
    gc(8, 0xFF);
    gc(3, (3 << 3) | 1); /* XOR, rotate right by 1 */
    (void)rdb(0xA0000);
    wrb(0xA0000, 0x03); /* ror 1 = 0x81 */
    cr_assert_eq(plane(0, 0), 0x80 ^ 0x81);
    cr_assert_eq(plane(0, 1), 0x81);
    gc(3, 1 << 3); /* AND */
    (void)rdb(0xA0000);
    wrb(0xA0000, 0x0F);
    cr_assert_eq(plane(0, 1), 0x01);
    gc(3, 2 << 3); /* OR */
    (void)rdb(0xA0000);
    wrb(0xA0000, 0xF0);
    cr_assert_eq(plane(0, 1), 0xF1);
}

Test(vga, map_mask_limits_which_planes_are_written)
{
    planar_setup();
    seq(2, 0x06);
    wrb(0xA0010, 0x5A);
    cr_assert_eq(plane(0x10, 0), 0x00);
    cr_assert_eq(plane(0x10, 1), 0x5A);
    cr_assert_eq(plane(0x10, 2), 0x5A);
    cr_assert_eq(plane(0x10, 3), 0x00);
}

Test(vga, write_mode_1_copies_the_latches)
{
    planar_setup();
    uint8_t *v = vga_vram(vga);
    v[0x20 * 4 + 0] = 0x11;
    v[0x20 * 4 + 1] = 0x22;
    v[0x20 * 4 + 2] = 0x33;
    v[0x20 * 4 + 3] = 0x44;
    gc(5, 0x01);
    (void)rdb(0xA0020);
    wrb(0xA0040, 0xFF);
    for (unsigned p = 0; p < 4; p++) {
        cr_assert_eq(plane(0x40, p), 0x11 * (p + 1));
    }
}

Test(vga, write_mode_2_expands_cpu_bits_to_planes_under_the_bit_mask)
{
    planar_setup();
    gc(5, 0x02);
    gc(8, 0x0F);
    (void)rdb(0xA0000);
    wrb(0xA0000, 0x09);
    cr_assert_eq(plane(0, 0), 0x0F);
    cr_assert_eq(plane(0, 1), 0x00);
    cr_assert_eq(plane(0, 2), 0x00);
    cr_assert_eq(plane(0, 3), 0x0F);
}

Test(vga, write_mode_3_uses_rotated_data_anded_with_bit_mask)
{
    planar_setup();
    gc(5, 0x03);
    gc(0, 0x0C); /* set/reset colour 12 */
    gc(8, 0xF0);
    gc(3, 0x04); /* rotate right 4 */
    (void)rdb(0xA0000);
    wrb(0xA0000, 0x3C); /* ror 4 = 0xC3; & mask 0xF0 = 0xC0 */
    cr_assert_eq(plane(0, 0), 0x00);
    cr_assert_eq(plane(0, 1), 0x00);
    cr_assert_eq(plane(0, 2), 0xC0);
    cr_assert_eq(plane(0, 3), 0xC0);
}

Test(vga, read_mode_0_returns_the_plane_chosen_by_read_map_select)
{
    planar_setup();
    uint8_t *v = vga_vram(vga);
    for (unsigned p = 0; p < 4; p++) {
        v[0x100 * 4 + p] = (uint8_t)(0xA0 + p);
    }
    for (unsigned p = 0; p < 4; p++) {
        gc(4, (uint8_t)p);
        cr_assert_eq(rdb(0xA0100), 0xA0 + p);
    }
}

Test(vga, read_mode_1_compares_colours_honouring_dont_care)
{
    planar_setup();
    uint8_t *v = vga_vram(vga);
    /* Pixels 7..0 colours: plane bits give colour = p3p2p1p0. */
    v[0] = 0xF0; /* plane 0 */
    v[1] = 0xCC; /* plane 1 */
    v[2] = 0xAA; /* plane 2 */
    v[3] = 0x00; /* plane 3 */
    gc(5, 0x08);
    gc(2, 0x07); /* colour 7 */
    gc(7, 0x0F);
    /* colour 7 needs p0=1,p1=1,p2=1,p3=0: bits where F0&CC&AA = 0x80 */
    cr_assert_eq(rdb(0xA0000), 0x80);
    gc(7, 0x01); /* only plane 0 matters: where plane 0 is 1 */
    cr_assert_eq(rdb(0xA0000), 0xF0);
    gc(7, 0x00); /* nothing matters: all ones */
    cr_assert_eq(rdb(0xA0000), 0xFF);
}

Test(vga, chain_4_selects_the_plane_from_the_low_address_bits)
{
    set_mode(&mode13);
    for (unsigned i = 0; i < 8; i++) {
        wrb(0xA0000 + 0x100 + i, (uint8_t)(0x40 + i));
    }
    for (unsigned i = 0; i < 8; i++) {
        cr_assert_eq(plane(0x100 + (i & ~3u), i & 3), 0x40 + i);
        cr_assert_eq(rdb(0xA0100 + i), 0x40 + i);
    }
}

Test(vga, odd_even_text_writes_put_characters_in_plane_0_and_attributes_in_plane_1)
{
    set_mode(&mode03);
    wrb(0xB8000, 'H');
    wrb(0xB8001, 0x1E);
    wrb(0xB8002, 'i');
    cr_assert_eq(plane(0, 0), 'H');
    cr_assert_eq(plane(0, 1), 0x1E);
    cr_assert_eq(plane(2, 0), 'i');
    cr_assert_eq(rdb(0xB8001), 0x1E);
}

Test(vga, memory_map_select_decides_which_window_answers)
{
    set_mode(&mode03); /* GR06 map 3: B8000-BFFFF */
    wrb(0xA0000, 0x77);
    cr_assert_eq(rdb(0xA0000), 0xFF);
    cr_assert_eq(plane(0, 0), 0x00);
    gc(6, 0x02 | (1 << 2)); /* map 1: A0000-AFFFF */
    cr_assert_eq(rdb(0xB8000), 0xFF);
}

/* --- rendering --- */

static void load_glyph(uint8_t ch, const uint8_t *rows, int n)
{
    seq(2, 0x04);
    seq(4, 0x07);
    gc(4, 0x02);
    gc(5, 0x00);
    gc(6, 0x04);
    for (int i = 0; i < n; i++) {
        wrb(0xA0000 + ch * 32u + (unsigned)i, rows[i]);
    }
    set_mode(&mode03);
}

static const uint8_t glyph_a[16] = {0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE,
                                    0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x00};

Test(vga, text_mode_draws_a_loaded_glyph_with_attribute_colours)
{
    set_mode(&mode03);
    load_glyph('A', glyph_a, 16);
    dac(0x01, 0, 0, 42);
    dac(0x3F, 63, 63, 63);
    crtc(0x0A, 0x20); /* cursor off */
    /* row 1, column 2 */
    wrb(0xB8000 + (80 + 2) * 2, 'A');
    wrb(0xB8000 + (80 + 2) * 2 + 1, 0x1F);
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 720);
    cr_assert_eq(s->height, 400);
    uint32_t fg = rgb6(63, 63, 63), bg = rgb6(0, 0, 42);
    int x0 = 2 * 9, y0 = 16;
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 8; x++) {
            bool on = glyph_a[y] & (0x80 >> x);
            cr_assert_eq(px(s, x0 + x, y0 + y), on ? fg : bg, "pixel %d,%d", x, y);
        }
        cr_assert_eq(px(s, x0 + 8, y0 + y), bg, "9th column of a letter is background");
    }
    uint16_t cells[80 * 25];
    int cols, rows;
    cr_assert_eq(vga_read_text(vga, cells, 80 * 25, &cols, &rows), 0);
    cr_assert_eq(cols, 80);
    cr_assert_eq(rows, 25);
    cr_assert_eq(cells[80 + 2], 'A' | 0x1F << 8);
}

Test(vga, text_cursor_fills_its_scan_lines_and_text_grid_follows_start_address)
{
    set_mode(&mode03);
    dac(0x07, 42, 42, 42);
    crtc(0x0A, 14);
    crtc(0x0B, 15);
    crtc(0x0E, 0);
    crtc(0x0F, 5); /* cell 5 of row 0 */
    wrb(0xB8000 + 10, ' ');
    wrb(0xB8000 + 11, 0x07);
    DisplaySurface *s = vga_update_display(vga); /* virtual time 0: cursor phase on */
    cr_assert_eq(px(s, 5 * 9 + 3, 14), rgb6(42, 42, 42));
    cr_assert_eq(px(s, 5 * 9 + 3, 13), 0);
    /* Start address 80: the grid begins at the second row of memory. */
    wrb(0xB8000 + 160, 'Z');
    crtc(0x0C, 0);
    crtc(0x0D, 80);
    uint16_t cells[80 * 25];
    int cols, rows;
    cr_assert_eq(vga_read_text(vga, cells, 80 * 25, &cols, &rows), 0);
    cr_assert_eq(cells[0] & 0xFF, 'Z');
}

Test(vga, text_grid_reader_refuses_graphics_modes)
{
    set_mode(&mode13);
    uint16_t cells[4];
    int cols, rows;
    cr_assert_eq(vga_read_text(vga, cells, 4, &cols, &rows), -ENOTSUP);
}

Test(vga, mode_13h_renders_320x200_chain_4_pixels_through_the_dac)
{
    set_mode(&mode13);
    dac(0x21, 63, 0, 0);
    dac(0x42, 0, 63, 0);
    wrb(0xA0000 + 0, 0x21);
    wrb(0xA0000 + 199 * 320 + 319, 0x42);
    wrb(0xA0000 + 100 * 320 + 7, 0x21);
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 320);
    cr_assert_eq(s->height, 200);
    cr_assert_eq(px(s, 0, 0), 0xFF0000);
    cr_assert_eq(px(s, 319, 199), 0x00FF00);
    cr_assert_eq(px(s, 7, 100), 0xFF0000);
    cr_assert_eq(px(s, 8, 100), 0);
}

Test(vga, unchained_256_colour_mode_x_reads_four_planes_per_address)
{
    set_mode(&mode13);
    seq(4, 0x06); /* chain-4 off */
    crtc(0x14, 0x00);
    crtc(0x17, 0xE3); /* byte mode */
    dac(5, 0, 0, 63);
    seq(2, 0x04); /* plane 2 only */
    wrb(0xA0000 + 80 * 10 + 1, 5); /* row 10, address 1, plane 2: pixel x = 4 + 2 */
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 320);
    cr_assert_eq(px(s, 6, 10), 0x0000FF);
    cr_assert_eq(px(s, 5, 10), 0);
    cr_assert_eq(px(s, 7, 10), 0);
}

Test(vga, mode_12h_renders_640x480_planar_16_colour_pixels)
{
    set_mode(&mode12);
    dac(0x3C, 63, 63, 0); /* AR0C = 0x3C */
    gc(5, 0x02);
    gc(8, 0x01); /* rightmost pixel of the byte */
    (void)rdb(0xA0000 + 479 * 80 + 79);
    wrb(0xA0000 + 479 * 80 + 79, 0x0C);
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 640);
    cr_assert_eq(s->height, 480);
    cr_assert_eq(px(s, 639, 479), 0xFFFF00);
    cr_assert_eq(px(s, 638, 479), 0);
}

Test(vga, cga_mode_4_interleaves_even_and_odd_lines_in_two_banks)
{
    set_mode(&mode04);
    dac(0x15, 63, 0, 63); /* AR02 = 0x15 */
    dac(0x17, 63, 63, 63);
    wrb(0xB8000, 0x80);          /* line 0, pixel 0 = colour 2 */
    wrb(0xB8000 + 0x2000, 0x03); /* line 1, pixel 3 = colour 3 */
    wrb(0xB8000 + 0x2000 + 80 + 1, 0xC0); /* line 3, byte 1 (odd: plane 1), pixel 4 */
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 320);
    cr_assert_eq(s->height, 200);
    cr_assert_eq(px(s, 0, 0), 0xFF00FF);
    cr_assert_eq(px(s, 3, 1), 0xFFFFFF);
    cr_assert_eq(px(s, 4, 3), 0xFFFFFF);
    cr_assert_eq(px(s, 0, 1), px(s, 1, 0));
}

Test(vga, mode_0dh_is_320x200_planar_with_double_scan)
{
    set_mode(&mode0d);
    dac(0x14, 0, 63, 63); /* colour 12 -> AR0C = 0x14 */
    gc(5, 0x02);
    gc(8, 0x80);
    (void)rdb(0xA0000 + 199 * 40 + 39);
    wrb(0xA0000 + 199 * 40 + 39, 12); /* pixel (312, 199) */
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 320);
    cr_assert_eq(s->height, 200);
    cr_assert_eq(px(s, 312, 199), 0x00FFFF);
    cr_assert_eq(px(s, 313, 199), 0);
}

Test(vga, mode_6_is_640x200_two_colour_with_odd_lines_in_the_second_bank)
{
    set_mode(&mode06);
    dac(0x17, 63, 63, 63);
    wrb(0xB8000 + 0x2000 + 80 * 2 + 3, 0x81); /* line 5, bytes of x = 24..31 */
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 640);
    cr_assert_eq(s->height, 200);
    cr_assert_eq(px(s, 24, 5), 0xFFFFFF);
    cr_assert_eq(px(s, 31, 5), 0xFFFFFF);
    cr_assert_eq(px(s, 25, 5), 0);
    cr_assert_eq(px(s, 24, 4), 0);
}

Test(vga, start_address_and_line_compare_scroll_and_split_the_screen)
{
    set_mode(&mode13);
    dac(1, 63, 0, 0);
    dac(2, 0, 63, 0);
    wrb(0xA0000 + 0, 2);        /* line 0 */
    wrb(0xA0000 + 10 * 320, 1); /* line 10 */
    /* Start at line 10: doubleword mode, so the start address counts 4-byte units. */
    crtc(0x0C, (10 * 80) >> 8);
    crtc(0x0D, (10 * 80) & 0xFF);
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(px(s, 0, 0), 0xFF0000);
    /* Line compare at raw scan line 99 (output line 49): line 50 shows memory line 0. */
    crtc(0x18, 99);
    crtc(0x07, 0x0F); /* clear bit 8 */
    crtc(0x09, 0x01); /* clear bit 9, keep two scan lines per row */
    s = vga_update_display(vga);
    cr_assert_eq(px(s, 0, 0), 0xFF0000);
    cr_assert_eq(px(s, 0, 50), 0x00FF00);
}

Test(vga, screen_off_and_palette_source_off_blank_the_display)
{
    set_mode(&mode13);
    dac(1, 63, 63, 63);
    wrb(0xA0000, 1);
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(px(s, 0, 0), 0xFFFFFF);
    seq(1, 0x21);
    s = vga_update_display(vga);
    cr_assert_eq(px(s, 0, 0), 0);
}

/* --- VBE and PCI --- */

static void vbe(uint16_t idx, uint16_t v)
{
    outw(0x1CE, idx);
    outw(0x1CF, v);
}

static uint16_t vbe_rd(uint16_t idx)
{
    outw(0x1CE, idx);
    return inw(0x1CF);
}

static void map_lfb(void)
{
    pci_config_write(bus, VGA_DEVFN, PCI_BAR0, LFB_BASE, 4);
    pci_config_write(bus, VGA_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
}

Test(vga, pci_function_is_1234_1111_display_with_16mib_prefetchable_bar0)
{
    cr_assert_eq(pci_config_read(bus, VGA_DEVFN, PCI_VENDOR_ID, 2), 0x1234);
    cr_assert_eq(pci_config_read(bus, VGA_DEVFN, PCI_DEVICE_ID, 2), 0x1111);
    cr_assert_eq(pci_config_read(bus, VGA_DEVFN, PCI_REVISION_ID, 4) >> 8, 0x030000);
    pci_config_write(bus, VGA_DEVFN, PCI_BAR0, 0xFFFFFFFF, 4);
    uint32_t bar = pci_config_read(bus, VGA_DEVFN, PCI_BAR0, 4);
    cr_assert_eq(bar & 0xFFFFFFF0u, 0xFF000000u);
    cr_assert_eq(bar & 0x8, 0x8, "prefetchable");
    cr_assert_eq(bar & 0x1, 0, "memory BAR");
    map_lfb();
    cr_assert_eq(vga_lfb_addr(vga), LFB_BASE);
    mem_write(&m->mem, LFB_BASE + 0x123456, 0xCAFEBABE, 4);
    cr_assert_eq(mem_read(&m->mem, LFB_BASE + 0x123456, 4), 0xCAFEBABE);
    cr_assert_eq(vga_vram(vga)[0x123456], 0xBE);
}

Test(vga, vbe_id_getcaps_and_video_memory_registers)
{
    cr_assert_eq(vbe_rd(VBE_INDEX_ID), VBE_ID5);
    vbe(VBE_INDEX_ID, 0xB0C2);
    cr_assert_eq(vbe_rd(VBE_INDEX_ID), 0xB0C2);
    vbe(VBE_INDEX_ID, 0x1234); /* not a DISPI id: ignored */
    cr_assert_eq(vbe_rd(VBE_INDEX_ID), 0xB0C2);
    cr_assert_eq(vbe_rd(VBE_INDEX_VIDEO_MEMORY_64K), 256);
    vbe(VBE_INDEX_ENABLE, VBE_GETCAPS);
    cr_assert_eq(vbe_rd(VBE_INDEX_XRES), 1920);
    cr_assert_eq(vbe_rd(VBE_INDEX_YRES), 1080);
    cr_assert_eq(vbe_rd(VBE_INDEX_BPP), 32);
    vbe(VBE_INDEX_ENABLE, 0);
    vbe(VBE_INDEX_XRES, 800);
    cr_assert_eq(vbe_rd(VBE_INDEX_XRES), 800);
}

Test(vga, vbe_1024x768x32_lfb_writes_show_in_the_surface)
{
    map_lfb();
    vbe(VBE_INDEX_XRES, 1024);
    vbe(VBE_INDEX_YRES, 768);
    vbe(VBE_INDEX_BPP, 32);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    cr_assert_eq(vbe_rd(VBE_INDEX_VIRT_WIDTH), 1024);
    cr_assert_eq(vbe_rd(VBE_INDEX_VIRT_HEIGHT), (16u << 20) / 4096);
    mem_write(&m->mem, LFB_BASE + (767 * 1024 + 1023) * 4, 0x00123456, 4);
    mem_write(&m->mem, LFB_BASE + (5 * 1024 + 7) * 4, 0x00ABCDEF, 4);
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(s->width, 1024);
    cr_assert_eq(s->height, 768);
    cr_assert_eq(px(s, 1023, 767), 0x123456);
    cr_assert_eq(px(s, 7, 5), 0xABCDEF);
    /* Legacy ports keep answering alongside. */
    outb(0x3C8, 0);
    cr_assert_eq(inb(0x3C8), 0);
}

Test(vga, vbe_16_and_8_bpp_banked_window_and_y_offset_panning)
{
    vbe(VBE_INDEX_XRES, 640);
    vbe(VBE_INDEX_YRES, 480);
    vbe(VBE_INDEX_BPP, 16);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED);
    vbe(VBE_INDEX_BANK, 1); /* bytes 0x10000.. = pixel 32768 = (128, 51) */
    mem_write(&m->mem, 0xA0000, 0xF800, 2); /* red in 5:6:5 */
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(px(s, 128, 51), 0xFF0000);
    vbe(VBE_INDEX_Y_OFFSET, 51);
    s = vga_update_display(vga);
    cr_assert_eq(px(s, 128, 0), 0xFF0000);
    vbe(VBE_INDEX_ENABLE, 0);
    vbe(VBE_INDEX_BPP, 8);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_8BIT_DAC);
    dac(9, 0x80, 0x40, 0x20); /* 8-bit DAC keeps whole bytes */
    vga_vram(vga)[3] = 9;
    s = vga_update_display(vga);
    cr_assert_eq(px(s, 3, 0), 0x804020);
}

Test(vga, vbe_enable_clears_memory_unless_noclearmem_and_rejects_bad_modes)
{
    vga_vram(vga)[100] = 0x55;
    vbe(VBE_INDEX_XRES, 320);
    vbe(VBE_INDEX_YRES, 200);
    vbe(VBE_INDEX_BPP, 8);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_NOCLEARMEM);
    cr_assert_eq(vga_vram(vga)[100], 0x55);
    vbe(VBE_INDEX_ENABLE, 0);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED);
    cr_assert_eq(vga_vram(vga)[100], 0);
    vbe(VBE_INDEX_ENABLE, 0);
    vbe(VBE_INDEX_XRES, 4000);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED);
    cr_assert_eq(vbe_rd(VBE_INDEX_ENABLE) & VBE_ENABLED, 0);
}

/* --- dirty tracking --- */

Test(vga, unchanged_screen_reports_no_dirty_rectangles)
{
    set_mode(&mode13);
    vga_update_display(vga);
    DisplaySurface *s = vga_update_display(vga);
    display_surface_clear_dirty(s);
    s = vga_update_display(vga);
    cr_assert_eq(s->n_dirty, 0);
    wrb(0xA0000 + 150 * 320 + 10, 7);
    s = vga_update_display(vga);
    cr_assert_eq(s->n_dirty, 1);
    /* The written page covers lines 147..159 (4 KiB of vram = 1 KiB per plane). */
    cr_assert_leq(s->dirty[0].y, 150);
    cr_assert_geq(s->dirty[0].y + s->dirty[0].h, 151);
    cr_assert_leq(s->dirty[0].h, 16);
    display_surface_clear_dirty(s);
    s = vga_update_display(vga);
    cr_assert_eq(s->n_dirty, 0);
}

Test(vga, lfb_write_dirties_only_the_lines_of_its_page)
{
    map_lfb();
    vbe(VBE_INDEX_XRES, 1024);
    vbe(VBE_INDEX_YRES, 768);
    vbe(VBE_INDEX_BPP, 32);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    DisplaySurface *s = vga_update_display(vga);
    display_surface_clear_dirty(s);
    s = vga_update_display(vga);
    cr_assert_eq(s->n_dirty, 0);
    mem_write(&m->mem, LFB_BASE + (400 * 1024 + 3) * 4, 0xFFFFFF, 4);
    s = vga_update_display(vga);
    cr_assert_eq(s->n_dirty, 1);
    cr_assert_eq(s->dirty[0].y, 400);
    cr_assert_eq(s->dirty[0].h, 1);
    cr_assert_eq(px(s, 3, 400), 0xFFFFFF);
}

Test(vga, text_screen_redraws_only_the_changed_cell_and_palette_change_redraws_all)
{
    set_mode(&mode03);
    crtc(0x0A, 0x20);
    DisplaySurface *s = vga_update_display(vga);
    display_surface_clear_dirty(s);
    wrb(0xB8000 + (3 * 80 + 10) * 2, 'x');
    s = vga_update_display(vga);
    cr_assert_eq(s->n_dirty, 1);
    cr_assert_eq(s->dirty[0].x, 90);
    cr_assert_eq(s->dirty[0].y, 48);
    cr_assert_eq(s->dirty[0].w, 9);
    cr_assert_eq(s->dirty[0].h, 16);
    display_surface_clear_dirty(s);
    dac(3, 1, 2, 3);
    s = vga_update_display(vga);
    cr_assert_eq(s->n_dirty, 1);
    cr_assert_eq(s->dirty[0].w, 720);
    cr_assert_eq(s->dirty[0].h, 400);
}

/* --- robustness and state --- */

Test(vga, hostile_register_values_render_without_crashing)
{
    for (unsigned i = 0; i < 0x19; i++) {
        crtc((uint8_t)i, 0xFF);
    }
    crtc(0x11, 0x00);
    for (unsigned i = 0; i < 0x19; i++) {
        crtc((uint8_t)i, 0xFF);
    }
    (void)inb(0x3DA);
    outb(0x3C0, 0x20);
    for (unsigned g = 0; g < 2; g++) {
        gc(6, (uint8_t)g);
        for (unsigned v = 0; v < 0x80; v += 0x20) {
            gc(5, (uint8_t)v);
            DisplaySurface *s = vga_update_display(vga);
            cr_assert_not_null(s->pixels);
            cr_assert_leq(s->width, DISPLAY_MAX_WIDTH);
        }
    }
    vbe(VBE_INDEX_XRES, 1920);
    vbe(VBE_INDEX_YRES, 1080);
    vbe(VBE_INDEX_BPP, 32);
    vbe(VBE_INDEX_ENABLE, VBE_ENABLED);
    vbe(VBE_INDEX_Y_OFFSET, 0xFFFF);
    vbe(VBE_INDEX_X_OFFSET, 0xFFFF);
    cr_assert_not_null(vga_update_display(vga)->pixels);
}

Test(vga, snapshot_round_trip_restores_registers_and_memory)
{
    set_mode(&mode13);
    dac(3, 10, 20, 30);
    wrb(0xA0000 + 5, 3);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(vmstate_save_buf(&m->vmstate, &buf, &len), 0);
    machine_reset(m);
    cr_assert_eq(rdb(0xA0000 + 5), 0xFF, "after reset the window is disabled");
    char err[128];
    cr_assert_eq(vmstate_load_buf(&m->vmstate, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(rdb(0xA0000 + 5), 3);
    DisplaySurface *s = vga_update_display(vga);
    cr_assert_eq(px(s, 5, 0), rgb6(10, 20, 30));
}

/* --- the PC board's wiring --- */

/* The expansion ROM BAR (vga_new_with_rom): sized by the usual all-ones probe, decoding only
 * with its enable bit and memory space on, read-only, padded to a power of two. */
Test(vga_rom, expansion_rom_bar_maps_the_image_read_only_when_enabled)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 2u << 20;
    char err[256];
    Machine *rm = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(rm, "%s", err);
    PCIBus *rbus = pci_bus_new(rm);
    cr_assert_not_null(rbus);
    static uint8_t image[3000];
    for (size_t i = 0; i < sizeof(image); i++) {
        image[i] = (uint8_t)(i * 7 + 1);
    }
    image[0] = 0x55;
    image[1] = 0xAA;
    cr_assert_null(vga_new_with_rom(rm, rbus, VGA_DEVFN, image, VGA_ROM_MAX + 1),
                   "an oversized ROM is refused");
    VGAState *rv = vga_new_with_rom(rm, rbus, VGA_DEVFN, image, sizeof(image));
    cr_assert_not_null(rv);
    pci_config_write(rbus, VGA_DEVFN, PCI_ROM_ADDRESS, 0xFFFFFFFF, 4);
    cr_assert_eq(pci_config_read(rbus, VGA_DEVFN, PCI_ROM_ADDRESS, 4), 0xFFFFF001u,
                 "3000 bytes decode as 4 KiB");
    const uint32_t base = 0xFEB00000u;
    pci_config_write(rbus, VGA_DEVFN, PCI_ROM_ADDRESS, base, 4);
    pci_config_write(rbus, VGA_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cr_assert_neq(mem_read(&rm->mem, base, 2), 0xAA55, "not enabled: no ROM");
    pci_config_write(rbus, VGA_DEVFN, PCI_ROM_ADDRESS, base | 1, 4);
    cr_assert_eq(mem_read(&rm->mem, base, 2), 0xAA55);
    cr_assert_eq(mem_read(&rm->mem, base + 2999, 1), image[2999]);
    cr_assert_eq(mem_read(&rm->mem, base + 3000, 1), 0, "padding");
    mem_write(&rm->mem, base + 100, 0xEE, 1);
    cr_assert_eq(mem_read(&rm->mem, base + 100, 1), image[100], "read-only");
    pci_config_write(rbus, VGA_DEVFN, PCI_COMMAND, 0, 2);
    cr_assert_neq(mem_read(&rm->mem, base, 2), 0xAA55, "memory space off: no ROM");
    machine_free(rm);
    pci_bus_free(rbus);
    vga_free(rv);
}

/* On the PC board the ROM BAR holds the VGA BIOS. */
Test(vga_board, pc_board_vga_rom_bar_holds_the_vga_bios)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 16u << 20;
    char err[256];
    Machine *pm = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(pm, "%s", err);
    PCBoard *b = pc_board_new(pm, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    uint32_t cfg_rom = 0x80000000u | (2u << 11) | PCI_ROM_ADDRESS;
    port_write(&pm->io, 0xCF8, cfg_rom, 4);
    port_write(&pm->io, 0xCFC, 0xFFFFFFFFu, 4);
    cr_assert_eq(port_read(&pm->io, 0xCFC, 4), 0xFFFF8001u, "32 KiB ROM BAR");
    port_write(&pm->io, 0xCFC, 0xFEB00001u, 4);
    /* memory decoding on, as firmware does (the built-in BIOS's POST, bios/pci.S) */
    port_write(&pm->io, 0xCF8, 0x80000000u | (2u << 11) | PCI_COMMAND, 4);
    port_write(&pm->io, 0xCFC, PCI_COMMAND_MEMORY, 2);
    cr_assert_eq(mem_read(&pm->mem, 0xFEB00000u, 2), 0xAA55);
    cr_assert_eq(mem_read(&pm->mem, 0xFEB00002u, 1), 0x40, "length byte: 64 x 512");
    uint8_t sum = 0;
    for (uint32_t i = 0; i < 0x8000; i++) {
        sum = (uint8_t)(sum + mem_read(&pm->mem, 0xFEB00000u + i, 1));
    }
    cr_assert_eq(sum, 0);
    machine_free(pm);
    pc_board_free(b);
}

Test(vga_board, pc_board_puts_the_vga_at_00_02_0_and_host_input_reaches_the_8042)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 16u << 20;
    char err[256];
    Machine *pm = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(pm, "%s", err);
    PCBoard *b = pc_board_new(pm, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    port_write(&pm->io, 0xCF8, 0x80000000u | (2u << 11), 4);
    cr_assert_eq(port_read(&pm->io, 0xCFC, 4), 0x11111234u);
    cr_assert_not_null(pm->display);
    cr_assert_not_null(pm->input);
    /* The BIOS's POST (bios/pci.S) maps the LFB in its PCI memory window; without a boot
     * device POST ends halted in INT 18h. */
    for (int i = 0; i < 200 && !pm->cpu->halted; i++) {
        cpu_exec(pm->cpu, 10000);
    }
    port_write(&pm->io, 0xCF8, 0x80000000u | (2u << 11) | PCI_BAR0, 4);
    uint32_t lfb = (uint32_t)port_read(&pm->io, 0xCFC, 4);
    cr_assert_eq(lfb & 0xF, 8, "prefetchable 32-bit memory BAR");
    lfb &= ~0xFu;
    cr_assert(lfb >= 0xE0000000u && lfb < 0xFEC00000u, "LFB at %08x", lfb);
    mem_write(&pm->mem, lfb + 0x10, 0xA5, 1);
    cr_assert_eq(mem_read(&pm->mem, lfb + 0x10, 1), 0xA5);
    port_write(&pm->io, 0x1CE, VBE_INDEX_ID, 2);
    cr_assert_eq(port_read(&pm->io, 0x1CF, 2), VBE_ID5);
    /* The legacy ports answer on the board too. */
    port_write(&pm->io, 0x3C8, 0x21, 1);
    cr_assert_eq(port_read(&pm->io, 0x3C8, 1), 0x21);
    /* A host key press arrives as the translated set 1 make code at port 0x60. */
    pm->input->key(pm->input->opaque, 0x1C, true);
    cr_assert_eq(port_read(&pm->io, 0x64, 1) & 1, 1);
    cr_assert_eq(port_read(&pm->io, 0x60, 1), 0x1E);
    DisplaySurface *s = pm->display->update(pm->display->opaque);
    cr_assert_not_null(s->pixels);
    machine_free(pm);
    pc_board_free(b);
}
