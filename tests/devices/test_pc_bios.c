/* test_pc_bios.c: the board's firmware boot block: the built-in BIOS at the reset vector and in
 * the F-segment shadow, the boot order in CMOS, -bios FILE checks, and POST's results. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/bios.h"
#include "core/cpu.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "core/display.h"
#include "devices/pc/pc.h"
#include "devices/vga.h"

static Machine *new_machine(const char *boot_order, const char *bios)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 16 << 20;
    cfg.icount_shift = 0;
    if (boot_order) {
        snprintf(cfg.boot_order, sizeof(cfg.boot_order), "%s", boot_order);
    }
    if (bios) {
        snprintf(cfg.bios, sizeof(cfg.bios), "%s", bios);
    }
    char err[256] = "";
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    return m;
}

static uint8_t cmos(Machine *m, uint8_t idx)
{
    port_write(&m->io, 0x70, idx, 1);
    return (uint8_t)port_read(&m->io, 0x71, 1);
}

Test(pc_bios, builtin_image_sits_at_the_reset_vector_and_in_the_f_segment)
{
    Machine *m = new_machine(NULL, NULL);
    char err[256] = "";
    PCBoard *b = pc_board_new(m, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    cr_assert_eq(anyvm_bios_size, 0x10000u);
    cr_assert_eq(anyvm_bios_image[0xFFF0], 0xEA, "reset vector is a far jump");
    for (unsigned off = 0xFFF0; off < 0x10000; off++) {
        cr_assert_eq(mem_read(&m->mem, 0xFFFF0000u + off, 1), anyvm_bios_image[off]);
        cr_assert_eq(mem_read(&m->mem, 0xF0000u + off, 1), anyvm_bios_image[off]);
    }
    /* default order "cad": hard disk, floppy, CD-ROM */
    cr_assert_eq(cmos(m, BIOS_CMOS_BOOT_ORDER), 0x12);
    cr_assert_eq(cmos(m, BIOS_CMOS_BOOT_ORDER3) >> 4, 3);
    machine_free(m);
    pc_board_free(b);
}

Test(pc_bios, boot_order_option_reaches_cmos)
{
    Machine *m = new_machine("ac", NULL);
    char err[256] = "";
    PCBoard *b = pc_board_new(m, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    cr_assert_eq(cmos(m, BIOS_CMOS_BOOT_ORDER), 0x21);
    cr_assert_eq(cmos(m, BIOS_CMOS_BOOT_ORDER3) >> 4, 0);
    machine_free(m);
    pc_board_free(b);
}

Test(pc_bios, bios_file_of_a_wrong_size_is_a_start_up_error)
{
    char path[] = "/tmp/anyvm-bios-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    static const uint8_t junk[1000];
    cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    Machine *m = new_machine(NULL, path);
    char err[256] = "";
    PCBoard *b = pc_board_new(m, err, sizeof(err));
    cr_assert_null(b);
    cr_assert(strstr(err, "64, 128 or 256 KiB") != NULL, "%s", err);
    machine_free(m);
    unlink(path);
}

Test(pc_bios, post_fills_ivt_bda_and_halts_without_a_boot_device)
{
    Machine *m = new_machine(NULL, NULL);
    char err[256] = "";
    PCBoard *b = pc_board_new(m, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    CPUState *cpu = m->cpu;
    for (int i = 0; i < 100 && !cpu->halted; i++) {
        cpu_exec(cpu, 10000);
    }
    cr_assert(cpu->halted, "no boot device: INT 18h halts");
    cr_assert_eq(mem_read(&m->mem, 0x413, 2), 639, "INT 12h memory size");
    cr_assert_eq(mem_read(&m->mem, 0x40E, 2), 0x9FC0, "EBDA segment");
    cr_assert_eq(mem_read(&m->mem, 0x400, 2), 0x3F8, "COM1 base");
    cr_assert_eq(mem_read(&m->mem, 0x475, 1), 0, "no hard disks");
    for (unsigned v = 0x11; v <= 0x1A; v++) {
        cr_assert_eq(mem_read(&m->mem, v * 4 + 2, 2), 0xF000, "INT %02xh in the BIOS", v);
    }
    cr_assert_eq(mem_read(&m->mem, 0x10 * 4 + 2, 2), 0xC000, "INT 10h in the VGA BIOS");
    cr_assert_eq(mem_read(&m->mem, 0x43 * 4 + 2, 2), 0xC000, "INT 43h: the VGA BIOS's font");
    cr_assert_eq(mem_read(&m->mem, 0x08 * 4 + 2, 2), 0xF000, "timer IRQ handler");
    machine_free(m);
    pc_board_free(b);
}

/* The VGA BIOS option ROM: header and checksum as built, found by POST's ROM scan, which runs
 * its initialisation: mode 3 with the 8x16 font in plane 2, and the BIOS's messages shown. */
Test(pc_bios, vga_bios_option_rom_sets_mode_3_with_a_font)
{
    cr_assert_eq(anyvm_vgabios_size, 0x8000u);
    cr_assert_eq(anyvm_vgabios_image[0], 0x55);
    cr_assert_eq(anyvm_vgabios_image[1], 0xAA);
    cr_assert_eq(anyvm_vgabios_image[2], 0x8000 / 512);
    uint8_t sum = 0;
    for (size_t i = 0; i < anyvm_vgabios_size; i++) {
        sum = (uint8_t)(sum + anyvm_vgabios_image[i]);
    }
    cr_assert_eq(sum, 0, "option ROM checksum");

    Machine *m = new_machine(NULL, NULL);
    char err[256] = "";
    PCBoard *b = pc_board_new(m, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    cr_assert_eq(mem_read(&m->mem, VGABIOS_ADDR, 2), 0xAA55, "ROM copied to C0000");
    CPUState *cpu = m->cpu;
    for (int i = 0; i < 200 && !cpu->halted; i++) {
        cpu_exec(cpu, 10000);
    }
    cr_assert(cpu->halted);
    cr_assert_eq(mem_read(&m->mem, 0x449, 1), 3, "BDA mode");
    cr_assert_eq(mem_read(&m->mem, 0x44A, 2), 80, "BDA columns");
    cr_assert_eq(mem_read(&m->mem, 0x485, 2), 16, "BDA character height");
    cr_assert_eq(mem_read(&m->mem, 0x463, 2), 0x3D4, "BDA CRTC port");

    uint16_t cells[80 * 25];
    int cols = 0, rows = 0;
    cr_assert_eq(m->display->text(m->display->opaque, cells, 80 * 25, &cols, &rows), 0);
    cr_assert_eq(cols, 80);
    cr_assert_eq(rows, 25);
    char screen[80 * 25 + 1];
    for (int i = 0; i < 80 * 25; i++) {
        screen[i] = (char)(cells[i] & 0xFF);
    }
    screen[80 * 25] = 0;
    cr_assert(strncmp(screen, "anyvm BIOS", 10) == 0, "row 0: %.80s", screen);
    cr_assert(strstr(screen, "No bootable device.") != NULL, "screen: %s", screen);
    cr_assert_eq(cells[0] >> 8, 0x07, "grey on black");

    /* plane 2 (vram byte a * 4 + 2): 32-byte glyph slots; 'A' has pixels, ' ' none, and the
     * glyph fits the 16 lines (the rest of the slot is clear) */
    const uint8_t *vram = vga_vram(pc_board_vga(b));
    unsigned a_bits = 0, sp_bits = 0, tail = 0;
    for (unsigned l = 0; l < 32; l++) {
        uint8_t ga = vram[('A' * 32 + l) * 4 + 2], gs = vram[(' ' * 32 + l) * 4 + 2];
        if (l < 16) {
            a_bits += (unsigned)__builtin_popcount(ga);
            sp_bits += (unsigned)__builtin_popcount(gs);
        } else {
            tail |= ga;
        }
    }
    cr_assert_gt(a_bits, 20, "'A' glyph in plane 2");
    cr_assert_eq(sp_bits, 0, "blank space glyph");
    cr_assert_eq(tail, 0);
    machine_free(m);
    pc_board_free(b);
}
