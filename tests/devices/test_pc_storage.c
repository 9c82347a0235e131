/* test_pc_storage.c: the PC board's storage wiring: -hda/-cdrom/-fda from the MachineConfig
 * (opened by blk_open_drives) reach the IDE function and the floppy controller, CMOS records
 * the floppy, and -snapshot keeps the image unchanged. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/ide.h"
#include "devices/pc/pc.h"
#include "frontend/block.h"

static char dir[64];

static void make_file(const char *name, size_t size, uint8_t fill)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    uint8_t *buf = malloc(size);
    memset(buf, fill, size);
    cr_assert_eq(fwrite(buf, 1, size, f), size);
    fclose(f);
    free(buf);
}

static void add_drive(MachineConfig *cfg, const char *name, DriveIf iface, DriveMedia media,
                      int index)
{
    DriveConfig *d = &cfg->drives[cfg->n_drives++];
    memset(d, 0, sizeof(*d));
    snprintf(d->file, sizeof(d->file), "%s/%s", dir, name);
    d->iface = iface;
    d->media = media;
    d->index = index;
}

/* A minimal multiboot kernel (a.out kludge: header at 64, loaded at 2 MiB), for boards that
 * must take the direct-boot (-kernel) path where the board does the firmware duties. */
static void make_kernel(const char *name)
{
    uint8_t img[4096];
    memset(img, 0x90, sizeof(img));
    uint32_t hdr[8] = {0x1BADB002, 0x00010000, 0, 0x200040, 0x200000, 0x201000, 0x201000,
                       0x200100};
    hdr[2] = (uint32_t)-(hdr[0] + hdr[1]);
    memcpy(img + 64, hdr, sizeof(hdr));
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(img, 1, sizeof(img), f), sizeof(img));
    fclose(f);
}

static Machine *board_machine_kernel(bool snapshot, bool kernel, PCBoard **board);

static Machine *board_machine(bool snapshot, PCBoard **board)
{
    return board_machine_kernel(snapshot, false, board);
}

static Machine *board_machine_kernel(bool snapshot, bool kernel, PCBoard **board)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    if (kernel) {
        make_kernel("mb.bin");
        snprintf(cfg.kernel, sizeof(cfg.kernel), "%s/mb.bin", dir);
    }
    cfg.ram_size = 16 << 20;
    cfg.icount_shift = 0;
    cfg.snapshot = snapshot;
    add_drive(&cfg, "hda.img", DRIVE_IF_IDE, DRIVE_MEDIA_DISK, 0);
    add_drive(&cfg, "cd.iso", DRIVE_IF_IDE, DRIVE_MEDIA_CDROM, 2);
    add_drive(&cfg, "fd.img", DRIVE_IF_FLOPPY, DRIVE_MEDIA_DISK, 0);
    char err[512] = "";
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    setenv("TMPDIR", dir, 1);
    cr_assert_eq(blk_open_drives(m, err, sizeof(err)), 0, "%s", err);
    *board = pc_board_new(m, err, sizeof(err));
    cr_assert_not_null(*board, "%s", err);
    return m;
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/anyvm-pcs-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    make_file("hda.img", 4 << 20, 0x11);
    make_file("cd.iso", 64 * 2048, 0x22);
    make_file("fd.img", 1474560, 0x33);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    int r = system(cmd);
    (void)r;
    unsetenv("TMPDIR");
}

TestSuite(pc_storage, .init = setup, .fini = teardown);

static uint32_t cfg_read(Machine *m, unsigned devfn, unsigned reg)
{
    port_write(&m->io, 0xCF8, 0x80000000u | devfn << 8 | reg, 4);
    return port_read(&m->io, 0xCFC, 4);
}

static uint8_t cmos(Machine *m, uint8_t idx)
{
    port_write(&m->io, 0x70, idx, 1);
    return (uint8_t)port_read(&m->io, 0x71, 1);
}

Test(pc_storage, drives_reach_ide_and_fdc)
{
    PCBoard *b;
    Machine *m = board_machine(false, &b);
    cr_assert_eq(cfg_read(m, PIIX_DEVFN_IDE, 0), 0x70108086);
    cr_assert_eq(cmos(m, 0x10), 0x40, "drive 0 is a 1.44M floppy");
    cr_assert_eq(cmos(m, 0x14) & 0xC1, 0x01, "one floppy drive installed");
    /* IDENTIFY the primary master: 4 MiB = 8192 sectors. */
    port_write(&m->io, 0x1F6, 0xA0, 1);
    port_write(&m->io, 0x1F7, 0xEC, 1);
    uint16_t w[256];
    for (int i = 0; i < 256; i++) {
        w[i] = (uint16_t)port_read(&m->io, 0x1F0, 2);
    }
    cr_assert_eq(w[60], 8192);
    /* The CD on the secondary master carries the ATAPI signature. */
    cr_assert_eq(port_read(&m->io, 0x174, 1), 0x14);
    cr_assert_eq(port_read(&m->io, 0x175, 1), 0xEB);
    cr_assert(m->drive_blk[1]->readonly, "CD media are read-only");
    /* Floppy: SENSE DRIVE STATUS answers with ready. */
    for (int i = 0; i < 4; i++) {
        port_write(&m->io, 0x3F5, 0x08, 1);
        port_read(&m->io, 0x3F5, 1);
        port_read(&m->io, 0x3F5, 1);
    }
    port_write(&m->io, 0x3F5, 0x04, 1);
    port_write(&m->io, 0x3F5, 0x00, 1);
    cr_assert_eq(port_read(&m->io, 0x3F5, 1) & 0x20, 0x20);
    blk_close_drives(m);
    machine_free(m);
    pc_board_free(b);
}

/* Regression: for -kernel the board left BAR4 at 0, so Linux's ata_piix found no bus-master
 * block and could not use DMA. The board now assigns it like a BIOS (and enables both
 * channels). */
Test(pc_storage, firmware_assigns_the_bus_master_bar)
{
    PCBoard *b;
    Machine *m = board_machine_kernel(false, true, &b); /* -kernel: the board's duty */
    cr_assert_eq(cfg_read(m, PIIX_DEVFN_IDE, 0x20), 0xC001u, "BAR4: I/O at 0xC000");
    cr_assert(cfg_read(m, PIIX_DEVFN_IDE, 0x04) & 1, "I/O decoding on");
    cr_assert_eq(cfg_read(m, PIIX_DEVFN_IDE, 0x40), 0x80008000, "both channels enabled");
    /* The bus-master registers answer there: write the PRD pointer, read it back. */
    port_write(&m->io, 0xC004, 0x12345678, 4);
    cr_assert_eq(port_read(&m->io, 0xC004, 4), 0x12345678u & ~3u);
    blk_close_drives(m);
    machine_free(m);
    pc_board_free(b);
}

Test(pc_storage, snapshot_leaves_the_disk_image_untouched)
{
    PCBoard *b;
    Machine *m = board_machine(true, &b);
    /* WRITE SECTORS to LBA 0 through the IDE ports, then read it back. */
    port_write(&m->io, 0x1F6, 0xE0, 1);
    port_write(&m->io, 0x1F2, 1, 1);
    port_write(&m->io, 0x1F3, 0, 1);
    port_write(&m->io, 0x1F4, 0, 1);
    port_write(&m->io, 0x1F5, 0, 1);
    port_write(&m->io, 0x1F7, 0x30, 1);
    for (int i = 0; i < 256; i++) {
        port_write(&m->io, 0x1F0, 0xABCD, 2);
    }
    port_write(&m->io, 0x1F7, 0xE7, 1); /* FLUSH CACHE */
    port_write(&m->io, 0x1F2, 1, 1);
    port_write(&m->io, 0x1F7, 0x20, 1);
    cr_assert_eq(port_read(&m->io, 0x1F0, 2), 0xABCD, "the guest sees its write");
    blk_close_drives(m);
    machine_free(m);
    pc_board_free(b);
    char p[128];
    snprintf(p, sizeof(p), "%s/hda.img", dir);
    FILE *f = fopen(p, "rb");
    uint8_t first[512];
    cr_assert_eq(fread(first, 1, 512, f), 512u);
    fclose(f);
    for (int i = 0; i < 512; i++) {
        cr_assert_eq(first[i], 0x11, "the image is unchanged");
    }
}
