/* test_fdc.c: the 8237 DMA controllers and the 82077AA floppy controller through port I/O:
 * DMA programming and terminal count, FDC command/result phases, seeks, reads and writes by
 * DMA and PIO, FORMAT TRACK, disk change, and the FreeDOS floppy read sector by sector. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chipset_harness.h"
#include "devices/fdc.h"
#include "devices/i8237.h"
#include "devices/port80.h"
#include "frontend/block.h"

#define RAM_SIZE (1u << 20)
#define FREEDOS ANYVM_SOURCE_DIR "/../shared/guests/freedos-1.44M.img"

static Machine *m;
static I8237 *dma;
static Port80 *p80;
static FDCState *fdc;
static IRQRecorder irq6;
static BlockBackend *fd0;
static uint8_t *img; /* the image's bytes as the test expects them */
static char tmpdir[64];

static void make_image(uint32_t bytes, bool from_freedos)
{
    img = calloc(1, bytes);
    if (from_freedos) {
        FILE *in = fopen(FREEDOS, "rb");
        cr_assert_not_null(in, "the FreeDOS image is missing");
        cr_assert_eq(fread(img, 1, bytes, in), bytes);
        fclose(in);
    } else {
        for (uint32_t i = 0; i < bytes; i++) {
            img[i] = (uint8_t)(i / 512 + i * 3);
        }
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/fd.img", tmpdir);
    FILE *out = fopen(path, "wb"); /* a copy: the shared image is never opened for writing */
    cr_assert_eq(fwrite(img, 1, bytes, out), bytes);
    fclose(out);
    char err[256];
    fd0 = blk_open(path, "raw", 0, err, sizeof(err));
    cr_assert_not_null(fd0, "%s", err);
}

static void start(uint32_t bytes, bool freedos)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/anyvm-fdc-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    m = th_machine();
    cr_assert_geq(mem_map_ram(&m->mem, "ram", 0, RAM_SIZE, m->ram, 0), 0);
    p80 = port80_new(m);
    cr_assert_not_null(p80);
    dma = i8237_new(m);
    cr_assert_not_null(dma, "the page registers coexist with port 0x80");
    th_irq_init(&irq6, m);
    if (bytes) {
        make_image(bytes, freedos);
    }
    BlockBackend *drives[2] = {fd0, NULL};
    fdc = fdc_new(m, &irq6.line, dma, drives);
    cr_assert_not_null(fdc);
}

static void setup(void)
{
    start(1474560, false);
}

static void teardown(void)
{
    machine_free(m);
    fdc_free(fdc);
    i8237_free(dma);
    port80_free(p80);
    blk_close(fd0);
    fd0 = NULL;
    free(img);
    img = NULL;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    int r = system(cmd);
    (void)r;
}

TestSuite(fdc, .init = setup, .fini = teardown);

/* --- helpers: program the DMA controller like a BIOS does --- */

static void dma_setup(int ch, uint32_t addr, uint32_t len, uint8_t type /* 4 w, 8 r */)
{
    static const uint16_t page[4] = {0x87, 0x83, 0x81, 0x82};
    th_outb(m, 0x0A, (uint8_t)(0x04 | ch));        /* mask */
    th_outb(m, 0x0C, 0);                           /* flip-flop */
    th_outb(m, 0x0B, (uint8_t)(0x40 | type | ch)); /* single mode */
    th_outb(m, (uint16_t)(ch * 2), (uint8_t)addr);
    th_outb(m, (uint16_t)(ch * 2), (uint8_t)(addr >> 8));
    th_outb(m, page[ch], (uint8_t)(addr >> 16));
    th_outb(m, (uint16_t)(ch * 2 + 1), (uint8_t)(len - 1));
    th_outb(m, (uint16_t)(ch * 2 + 1), (uint8_t)((len - 1) >> 8));
    th_outb(m, 0x0A, (uint8_t)ch); /* unmask */
}

static void fdc_cmd(const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        cr_assert(th_inb(m, 0x3F4) & FDC_MSR_RQM, "RQM before command byte %d", i);
        cr_assert_eq(th_inb(m, 0x3F4) & FDC_MSR_DIO, 0);
        th_outb(m, 0x3F5, b[i]);
    }
}

static int fdc_results(uint8_t *r)
{
    int n = 0;
    while ((th_inb(m, 0x3F4) & (FDC_MSR_RQM | FDC_MSR_DIO)) == (FDC_MSR_RQM | FDC_MSR_DIO) &&
           n < 16) {
        r[n++] = th_inb(m, 0x3F5);
    }
    return n;
}

static void sense_interrupt(uint8_t *st0, uint8_t *pcn)
{
    uint8_t c = 0x08, r[16];
    fdc_cmd(&c, 1);
    int n = fdc_results(r);
    cr_assert_geq(n, 1);
    *st0 = r[0];
    *pcn = n > 1 ? r[1] : 0xFF;
}

static void drain_reset_interrupts(void)
{
    for (int i = 0; i < 4; i++) {
        uint8_t st0, pcn;
        sense_interrupt(&st0, &pcn);
        cr_assert_eq(st0, 0xC0 | i, "reset status of drive %d", i);
    }
}

static void read_chs(uint8_t c, uint8_t h, uint8_t s, uint8_t eot, bool mt, uint8_t *r)
{
    uint8_t cmd[9] = {
        (uint8_t)(0x46 | (mt ? 0x80 : 0)), (uint8_t)(h << 2), c, h, s, 2, eot, 0x1B, 0xFF};
    fdc_cmd(cmd, 9);
    cr_assert_eq(fdc_results(r), 7);
}

/* --- DMA controller --- */

Test(fdc, dma_registers_read_back_through_the_flip_flop)
{
    dma_setup(1, 0x12345, 0x400, 0x04);
    th_outb(m, 0x0C, 0);
    cr_assert_eq(th_inb(m, 0x02), 0x45);
    cr_assert_eq(th_inb(m, 0x02), 0x23);
    cr_assert_eq(th_inb(m, 0x03), 0xFF);
    cr_assert_eq(th_inb(m, 0x03), 0x03);
    cr_assert_eq(th_inb(m, 0x83), 0x01, "channel 1 page register");
    th_outb(m, 0x80, 0x42); /* POST code: not a page register */
    cr_assert_eq(th_inb(m, 0x87), 0);
    th_outb(m, 0x8E, 0x5A); /* unused page register: storage */
    cr_assert_eq(th_inb(m, 0x8E), 0x5A);
}

Test(fdc, dma_terminal_count_masks_and_sets_status)
{
    uint8_t data[600];
    memset(data, 0xAB, sizeof(data));
    dma_setup(2, 0x7000, 512, 0x04);
    bool tc;
    cr_assert(i8237_channel_ready(dma, 2));
    cr_assert_eq(i8237_write_memory(dma, 2, data, sizeof(data), &tc), 512);
    cr_assert(tc);
    cr_assert_eq(m->ram[0x7000 + 511], 0xAB);
    cr_assert_eq(m->ram[0x7000 + 512], 0, "stops at the count");
    cr_assert(!i8237_channel_ready(dma, 2), "masked after terminal count");
    cr_assert_eq(th_inb(m, 0x08) & 0x04, 0x04, "TC bit of channel 2");
    cr_assert_eq(th_inb(m, 0x08) & 0x04, 0, "cleared by the read");
    /* Wrong direction: a read-mode channel does not accept a device write. */
    dma_setup(2, 0x7000, 512, 0x08);
    cr_assert_eq(i8237_write_memory(dma, 2, data, 16, &tc), 0);
}

Test(fdc, dma_16bit_channel_counts_words_and_autoinit_reloads)
{
    /* Channel 5: address register holds A16:A1, page 0x8B holds A23:A17. */
    th_outb(m, 0xD4, 0x05); /* mask ch5 */
    th_outb(m, 0xD8, 0);
    th_outb(m, 0xD6, 0x54 | 1); /* single, autoinit, write, ch5 */
    th_outb(m, 0xC4, 0x00);
    th_outb(m, 0xC4, 0x40); /* word address 0x4000 -> byte 0x8000 */
    th_outb(m, 0x8B, 0x00);
    th_outb(m, 0xC6, 3); /* 4 words */
    th_outb(m, 0xC6, 0);
    th_outb(m, 0xD4, 0x01);
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    bool tc;
    cr_assert_eq(i8237_write_memory(dma, 5, data, 8, &tc), 8);
    cr_assert(tc);
    cr_assert(memcmp(m->ram + 0x8000, data, 8) == 0);
    cr_assert(i8237_channel_ready(dma, 5), "autoinit keeps the channel unmasked");
    uint8_t again[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    cr_assert_eq(i8237_write_memory(dma, 5, again, 8, &tc), 8);
    cr_assert_eq(m->ram[0x8000], 9, "reloaded to the base address");
}

/* --- FDC --- */

Test(fdc, reset_raises_irq6_and_four_sense_statuses)
{
    th_outb(m, 0x3F2, 0x00);
    cr_assert_eq(th_inb(m, 0x3F4), 0, "held in reset");
    th_outb(m, 0x3F2, 0x0C);
    cr_assert_eq(irq6.level, 1);
    drain_reset_interrupts();
    cr_assert_eq(irq6.level, 0);
    uint8_t st0, pcn;
    sense_interrupt(&st0, &pcn);
    cr_assert_eq(st0, 0x80, "nothing more to sense");
    cr_assert_eq(pcn, 0xFF, "a one-byte result");
    cr_assert_eq(th_inb(m, 0x3F4), FDC_MSR_RQM);
}

Test(fdc, version_configure_lock_dumpreg_perpendicular)
{
    drain_reset_interrupts();
    uint8_t r[16];
    uint8_t v = 0x10;
    fdc_cmd(&v, 1);
    cr_assert_eq(fdc_results(r), 1);
    cr_assert_eq(r[0], 0x90);
    uint8_t spec[3] = {0x03, 0xDF, 0x02};
    fdc_cmd(spec, 3);
    uint8_t conf[4] = {0x13, 0x00, 0x47, 0x05}; /* implied seeks, FIFO, polling on */
    fdc_cmd(conf, 4);
    uint8_t perp[2] = {0x12, 0x83};
    fdc_cmd(perp, 2);
    uint8_t lock = 0x94;
    fdc_cmd(&lock, 1);
    cr_assert_eq(fdc_results(r), 1);
    cr_assert_eq(r[0], 0x10);
    uint8_t dump = 0x0E;
    fdc_cmd(&dump, 1);
    cr_assert_eq(fdc_results(r), 10);
    cr_assert_eq(r[4], 0xDF);
    cr_assert_eq(r[5], 0x02);
    cr_assert_eq(r[7], 0x80 | 0x03, "lock and perpendicular bits");
    cr_assert_eq(r[8], 0x47);
    cr_assert_eq(r[9], 0x05);
    /* LOCK keeps CONFIGURE across a software reset (datasheet 5.2.2). */
    th_outb(m, 0x3F4, 0x80);
    drain_reset_interrupts();
    fdc_cmd(&dump, 1);
    cr_assert_eq(fdc_results(r), 10);
    cr_assert_eq(r[8], 0x47);
    uint8_t bad = 0x1F;
    fdc_cmd(&bad, 1);
    cr_assert_eq(fdc_results(r), 1);
    cr_assert_eq(r[0], 0x80, "invalid command");
}

Test(fdc, seek_recalibrate_sense_drive_status_and_disk_change)
{
    drain_reset_interrupts();
    cr_assert_eq(th_inb(m, 0x3F7) & 0x80, 0x80, "change line set at power-on");
    uint8_t seek[3] = {0x0F, 0x04, 40};
    fdc_cmd(seek, 3);
    cr_assert_eq(irq6.level, 1);
    uint8_t st0, pcn;
    sense_interrupt(&st0, &pcn);
    cr_assert_eq(st0, 0x24, "seek end, head 1, drive 0");
    cr_assert_eq(pcn, 40);
    cr_assert_eq(th_inb(m, 0x3F7) & 0x80, 0, "a seek with a disk in clears the change line");
    uint8_t sds[2] = {0x04, 0x00};
    uint8_t r[16];
    fdc_cmd(sds, 2);
    cr_assert_eq(fdc_results(r), 1);
    cr_assert_eq(r[0] & 0x30, 0x20, "ready, not on track 0");
    uint8_t recal[2] = {0x07, 0x00};
    fdc_cmd(recal, 2);
    sense_interrupt(&st0, &pcn);
    cr_assert_eq(st0, 0x20);
    cr_assert_eq(pcn, 0);
    fdc_cmd(sds, 2);
    fdc_results(r);
    cr_assert(r[0] & 0x10, "track 0");
    uint8_t recal3[2] = {0x07, 0x03};
    fdc_cmd(recal3, 2);
    sense_interrupt(&st0, &pcn);
    cr_assert_eq(st0, 0x73, "no drive 3: equipment check");
    cr_assert_eq(fdc_change_media(fdc, 0, fd0), 0);
    cr_assert_eq(th_inb(m, 0x3F7) & 0x80, 0x80, "media change sets the line again");
}

Test(fdc, read_data_by_dma_multi_sector_with_terminal_count)
{
    drain_reset_interrupts();
    dma_setup(2, 0x10000, 3 * 512, 0x04);
    uint8_t r[16];
    read_chs(1, 0, 4, 18, false, r);
    cr_assert_eq(irq6.rises, 2);
    cr_assert_eq(r[0], 0x00, "normal termination");
    cr_assert_eq(r[3], 1);
    cr_assert_eq(r[4], 0);
    cr_assert_eq(r[5], 7, "next sector");
    uint32_t lba = (1 * 2 + 0) * 18 + 3;
    cr_assert(memcmp(m->ram + 0x10000, img + lba * 512, 3 * 512) == 0);
}

Test(fdc, multitrack_read_crosses_to_head_1_and_eot_without_tc_is_en)
{
    drain_reset_interrupts();
    dma_setup(2, 0x20000, 4 * 512, 0x04);
    uint8_t r[16];
    read_chs(0, 0, 17, 18, true, r);
    cr_assert_eq(r[0] & 0xC0, 0, "TC after 4 sectors: 0/0/17, 0/0/18, 0/1/1, 0/1/2");
    cr_assert_eq(r[4], 1);
    cr_assert_eq(r[5], 3);
    cr_assert(memcmp(m->ram + 0x20000, img + 16 * 512, 4 * 512) == 0);
    /* A count larger than the track without MT: abnormal termination, end of cylinder. */
    dma_setup(2, 0x20000, 8 * 512, 0x04);
    read_chs(2, 1, 17, 18, false, r);
    cr_assert_eq(r[0] & 0xC0, 0x40);
    cr_assert_eq(r[1], 0x80);
    cr_assert_eq(r[3], 3, "C+1");
    cr_assert_eq(r[5], 1, "R=1");
}

Test(fdc, write_data_by_dma_and_read_back)
{
    drain_reset_interrupts();
    for (int i = 0; i < 1024; i++) {
        m->ram[0x30000 + i] = (uint8_t)(0xC3 ^ i);
    }
    dma_setup(2, 0x30000, 1024, 0x08);
    uint8_t cmd[9] = {0xC5, 0x00, 5, 0, 9, 2, 18, 0x1B, 0xFF};
    fdc_cmd(cmd, 9);
    uint8_t r[16];
    cr_assert_eq(fdc_results(r), 7);
    cr_assert_eq(r[0], 0);
    uint8_t back[1024];
    cr_assert_eq(blk_read(fd0, (5 * 2) * 18 + 8, back, 2), 0);
    cr_assert(memcmp(back, m->ram + 0x30000, 1024) == 0);
}

Test(fdc, read_without_dma_programmed_reports_overrun)
{
    drain_reset_interrupts();
    th_outb(m, 0x0A, 0x06); /* channel 2 masked */
    uint8_t r[16];
    read_chs(0, 0, 1, 18, false, r);
    cr_assert_eq(r[0] & 0xC0, 0x40);
    cr_assert_eq(r[1], 0x10);
    /* A sector that does not exist on a 1.44M disk. */
    dma_setup(2, 0x10000, 512, 0x04);
    read_chs(0, 0, 19, 19, false, r);
    cr_assert_eq(r[1], 0x04, "no data");
}

Test(fdc, non_dma_pio_read_through_the_fifo)
{
    drain_reset_interrupts();
    uint8_t spec[3] = {0x03, 0xDF, 0x03}; /* ND: non-DMA */
    fdc_cmd(spec, 3);
    uint8_t cmd[9] = {0x46, 0x00, 0, 0, 18, 2, 18, 0x1B, 0xFF};
    fdc_cmd(cmd, 9);
    cr_assert_eq(th_inb(m, 0x3F4), FDC_MSR_RQM | FDC_MSR_DIO | FDC_MSR_NDMA | FDC_MSR_CB);
    uint8_t buf[512];
    for (int i = 0; i < 512; i++) {
        buf[i] = th_inb(m, 0x3F5);
    }
    cr_assert(memcmp(buf, img + 17 * 512, 512) == 0);
    uint8_t r[16];
    cr_assert_eq(fdc_results(r), 7);
    cr_assert_eq(r[1], 0x80, "ran to EOT");
}

Test(fdc, format_track_fills_sectors)
{
    drain_reset_interrupts();
    uint8_t seek[3] = {0x0F, 0x00, 3};
    fdc_cmd(seek, 3);
    uint8_t st0, pcn;
    sense_interrupt(&st0, &pcn);
    for (int s = 0; s < 18; s++) {
        uint8_t *id = m->ram + 0x40000 + s * 4;
        id[0] = 3;
        id[1] = 0;
        id[2] = (uint8_t)(s + 1);
        id[3] = 2;
    }
    dma_setup(2, 0x40000, 18 * 4, 0x08);
    uint8_t cmd[6] = {0x4D, 0x00, 2, 18, 0x54, 0xF6};
    fdc_cmd(cmd, 6);
    uint8_t r[16];
    cr_assert_eq(fdc_results(r), 7);
    cr_assert_eq(r[0] & 0xC0, 0);
    uint8_t back[512];
    cr_assert_eq(blk_read(fd0, 3 * 2 * 18 + 17, back, 1), 0);
    for (int i = 0; i < 512; i++) {
        cr_assert_eq(back[i], 0xF6);
    }
    uint8_t rid[2] = {0x4A, 0x00};
    fdc_cmd(rid, 2);
    cr_assert_eq(fdc_results(r), 7);
    cr_assert_eq(r[3], 3, "READ ID reports the current cylinder");
}

Test(fdc, geometries_from_image_size)
{
    cr_assert_eq(fdc_geometry_for_size(368640)->sectors, 9);
    cr_assert_eq(fdc_geometry_for_size(368640)->tracks, 40);
    cr_assert_eq(fdc_geometry_for_size(737280)->cmos_type, 3);
    cr_assert_eq(fdc_geometry_for_size(1228800)->sectors, 15);
    cr_assert_eq(fdc_geometry_for_size(1474560)->sectors, 18);
    cr_assert_eq(fdc_geometry_for_size(2949120)->sectors, 36);
    cr_assert_null(fdc_geometry_for_size(1000000));
    cr_assert_eq(fdc_cmos_type(fdc, 0), 4);
    cr_assert_eq(fdc_cmos_type(fdc, 1), 0);
}

Test(fdc, readonly_floppy_refuses_writes)
{
    drain_reset_interrupts();
    fd0->readonly = true;
    dma_setup(2, 0x30000, 512, 0x08);
    uint8_t cmd[9] = {0x45, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF};
    fdc_cmd(cmd, 9);
    uint8_t r[16];
    cr_assert_eq(fdc_results(r), 7);
    cr_assert_eq(r[1], 0x02, "not writable");
    uint8_t sds[2] = {0x04, 0x00};
    fdc_cmd(sds, 2);
    fdc_results(r);
    cr_assert(r[0] & 0x40, "write protect in ST3");
    fd0->readonly = false;
}

/* The FreeDOS boot floppy (a copy), read the way a BIOS boots: the boot sector by DMA to
 * 0x7C00, then the whole disk track by track with multi-track reads. */
TestSuite(fdc_image, .fini = teardown);

Test(fdc_image, reads_the_freedos_floppy)
{
    if (access(FREEDOS, R_OK) != 0) {
        cr_skip_test("no FreeDOS image at " FREEDOS);
    }
    start(1474560, true);
    drain_reset_interrupts();
    dma_setup(2, 0x7C00, 512, 0x04);
    uint8_t r[16];
    read_chs(0, 0, 1, 18, true, r);
    cr_assert_eq(r[0], 0);
    cr_assert_eq(m->ram[0x7C00 + 510], 0x55);
    cr_assert_eq(m->ram[0x7C00 + 511], 0xAA);
    uint16_t bps = (uint16_t)(m->ram[0x7C00 + 11] | m->ram[0x7C00 + 12] << 8);
    cr_assert_eq(bps, 512, "FAT BPB bytes per sector");
    cr_assert_eq(m->ram[0x7C00 + 24], 18, "BPB sectors per track");
    for (uint8_t c = 0; c < 80; c++) {
        dma_setup(2, 0x10000, 36 * 512, 0x04);
        read_chs(c, 0, 1, 18, true, r);
        cr_assert_eq(r[0] & 0xC0, 0, "cylinder %u: st0 %02x st1 %02x", c, r[0], r[1]);
        cr_assert(memcmp(m->ram + 0x10000, img + (size_t)c * 36 * 512, 36 * 512) == 0,
                  "cylinder %u", c);
    }
    FILE *f = fopen(FREEDOS, "rb");
    uint8_t *orig = malloc(1474560);
    cr_assert_eq(fread(orig, 1, 1474560, f), 1474560u);
    fclose(f);
    cr_assert(memcmp(orig, img, 1474560) == 0, "the shared image is unchanged");
    free(orig);
}

/* Random traffic on the FDC and DMA ports (command bytes, DOR resets, DMA programming with
 * garbage addresses and counts) never crashes; the controller still reads afterwards. */
Test(fdc, random_port_traffic_never_crashes)
{
    uint64_t s = 0x243F6A8885A308D3ull;
    static const uint16_t ports[] = {0x3F0, 0x3F1, 0x3F2, 0x3F3, 0x3F4, 0x3F5, 0x3F5, 0x3F5,
                                     0x3F5, 0x3F7, 0x04,  0x05,  0x08,  0x0A,  0x0B,  0x0C,
                                     0x0D,  0x81,  0xC4,  0xC6,  0xD4,  0xD6};
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint16_t port = ports[s % (sizeof(ports) / sizeof(ports[0]))];
        uint8_t v = (uint8_t)(s >> 24);
        if (port == 0x3F2 && (s >> 40) % 4) {
            v |= 0x0C; /* mostly out of reset */
        }
        if ((s >> 50) % 3) {
            th_outb(m, port, v);
        } else {
            (void)th_inb(m, port);
        }
    }
    th_outb(m, 0x3F2, 0x08);
    th_outb(m, 0x3F2, 0x0C);
    uint8_t conf[4] = {0x13, 0x00, 0x00, 0x00}; /* polling on again, in case it was locked */
    uint8_t unlock = 0x14, r[16];
    while (th_inb(m, 0x3F4) & FDC_MSR_DIO) {
        (void)th_inb(m, 0x3F5);
    }
    fdc_cmd(&unlock, 1);
    fdc_results(r);
    fdc_cmd(conf, 4);
    uint8_t spec[3] = {0x03, 0xDF, 0x02};
    fdc_cmd(spec, 3);
    dma_setup(2, 0x10000, 512, 0x04);
    read_chs(0, 0, 1, 18, false, r);
    cr_assert_eq(r[0] & 0xC0, 0, "st0 %02x st1 %02x", r[0], r[1]);
    cr_assert(memcmp(m->ram + 0x10000, img, 512) == 0);
}
