/* test_ide.c: the PIIX3 IDE function through port I/O and guest memory: ATA PIO, LBA48, CHS,
 * MULTIPLE, bus-master DMA (and hostile PRD tables), ATAPI packets, resets and interrupts. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chipset_harness.h"
#include "core/block.h"
#include "devices/ide.h"
#include "devices/pci.h"

#define RAM_SIZE (1u << 20)
#define BM_BASE 0xC000u
#define P 0x1F0u /* primary command block */
#define S 0x170u /* secondary */

/* MemDisk: an in-memory medium. Sectors past `stored` read as their own LBA (8 bytes, LE)
 * repeated, so huge LBA48 disks need no memory. */
typedef struct MemDisk {
    uint8_t *data;
    uint64_t stored;
    int flushes;
} MemDisk;

static void fill_lba(uint8_t *p, uint64_t lba)
{
    for (int i = 0; i < 512; i += 8) {
        memcpy(p + i, &lba, 8);
    }
}

static int md_pread(void *opaque, uint64_t off, void *buf, size_t len)
{
    MemDisk *d = opaque;
    for (size_t i = 0; i < len; i += 512) {
        uint64_t s = (off + i) / 512;
        if (s < d->stored) {
            memcpy((uint8_t *)buf + i, d->data + s * 512, 512);
        } else {
            fill_lba((uint8_t *)buf + i, s);
        }
    }
    return 0;
}

static int md_pwrite(void *opaque, uint64_t off, const void *buf, size_t len)
{
    MemDisk *d = opaque;
    if ((off + len) / 512 > d->stored) {
        return -EIO;
    }
    memcpy(d->data + off, buf, len);
    return 0;
}

static int md_flush(void *opaque)
{
    ((MemDisk *)opaque)->flushes++;
    return 0;
}

static const BlockOps md_ops = {.pread = md_pread, .pwrite = md_pwrite, .flush = md_flush};

static Machine *m;
static PCIBus *bus;
static IDEState *ide;
static IRQRecorder irq14, irq15;
static MemDisk disk, cd, big, cd2;
static BlockBackend *disk_blk, *cd_blk, *big_blk, *cd2_blk;

static BlockBackend *md_new(MemDisk *d, uint64_t stored, uint64_t sectors, bool ro, uint8_t seed)
{
    d->data = malloc(stored * 512 + 1);
    d->stored = stored;
    d->flushes = 0;
    for (uint64_t i = 0; i < stored * 512; i++) {
        d->data[i] = (uint8_t)(i / 512 * 7 + i + seed);
    }
    return blk_new(&md_ops, d, sectors, ro, "mem");
}

static void setup(void)
{
    m = th_machine();
    cr_assert_geq(mem_map_ram(&m->mem, "ram", 0, RAM_SIZE, m->ram, 0), 0);
    bus = pci_bus_new(m);
    cr_assert_not_null(bus);
    th_irq_init(&irq14, m);
    th_irq_init(&irq15, m);
    disk_blk = md_new(&disk, 4096, 4096, false, 1);   /* 2 MiB primary master */
    big_blk = md_new(&big, 16, 1ull << 36, false, 2); /* 32 TiB primary slave */
    cd_blk = md_new(&cd, 4 * 64, 4 * 64, true, 3);    /* 64 CD blocks */
    IDEDriveConfig drives[4] = {
        {.blk = disk_blk},
        {.blk = big_blk},
        {.blk = cd_blk, .cdrom = true, .present = true},
        {0},
    };
    ide = ide_new(m, bus, &irq14.line, &irq15.line, drives);
    cr_assert_not_null(ide);
    unsigned devfn = PIIX_DEVFN_IDE;
    pci_config_write(bus, devfn, PCI_BAR0 + 16, BM_BASE | 1, 4);
    pci_config_write(bus, devfn, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

static void teardown(void)
{
    machine_free(m);
    ide_free(ide);
    pci_bus_free(bus);
    blk_close(disk_blk);
    blk_close(big_blk);
    blk_close(cd_blk);
    blk_close(cd2_blk);
    cd2_blk = NULL;
    free(cd2.data);
    cd2.data = NULL;
    free(disk.data);
    free(big.data);
    free(cd.data);
}

TestSuite(ide, .init = setup, .fini = teardown);

static uint16_t inw(uint16_t port)
{
    return (uint16_t)port_read(&m->io, port, 2);
}

static void outw(uint16_t port, uint16_t v)
{
    port_write(&m->io, port, v, 2);
}

static void read_words(uint16_t base, uint8_t *buf, size_t bytes)
{
    for (size_t i = 0; i < bytes; i += 2) {
        uint16_t w = inw(base);
        buf[i] = (uint8_t)w;
        buf[i + 1] = (uint8_t)(w >> 8);
    }
}

/* lba28: program an LBA28 command's task file for unit (0/1). */
static void lba28(uint16_t base, int unit, uint32_t lba, uint8_t count)
{
    th_outb(m, base + 6, (uint8_t)(0xE0 | unit << 4 | ((lba >> 24) & 0x0F)));
    th_outb(m, base + 2, count);
    th_outb(m, base + 3, (uint8_t)lba);
    th_outb(m, base + 4, (uint8_t)(lba >> 8));
    th_outb(m, base + 5, (uint8_t)(lba >> 16));
}

static void lba48(uint16_t base, int unit, uint64_t lba, uint16_t count)
{
    th_outb(m, base + 6, (uint8_t)(0x40 | unit << 4));
    th_outb(m, base + 2, (uint8_t)(count >> 8));
    th_outb(m, base + 3, (uint8_t)(lba >> 24));
    th_outb(m, base + 4, (uint8_t)(lba >> 32));
    th_outb(m, base + 5, (uint8_t)(lba >> 40));
    th_outb(m, base + 2, (uint8_t)count);
    th_outb(m, base + 3, (uint8_t)lba);
    th_outb(m, base + 4, (uint8_t)(lba >> 8));
    th_outb(m, base + 5, (uint8_t)(lba >> 16));
}

static void identify(uint16_t base, uint8_t cmd, uint16_t *w)
{
    th_outb(m, base + 7, cmd);
    uint8_t st = th_inb(m, base + 7);
    cr_assert_eq(st & (IDE_STAT_DRQ | IDE_STAT_ERR), IDE_STAT_DRQ, "status %02x", st);
    for (int i = 0; i < 256; i++) {
        w[i] = inw(base);
    }
    cr_assert_eq(th_inb(m, base + 7) & IDE_STAT_DRQ, 0);
}

Test(ide, pci_function_is_piix3_ide_with_bus_master_bar)
{
    unsigned devfn = PIIX_DEVFN_IDE;
    cr_assert_eq(pci_config_read(bus, devfn, PCI_VENDOR_ID, 2), 0x8086);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_DEVICE_ID, 2), 0x7010);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_CLASS_PROG, 1), 0x80);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_CLASS_PROG + 1, 2), 0x0101);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_BAR0 + 16, 4), BM_BASE | 1);
    pci_config_write(bus, devfn, PCI_BAR0 + 16, 0xFFFFFFFF, 4);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_BAR0 + 16, 4), 0xFFFFFFF1, "16-byte I/O BAR");
}

Test(ide, identify_device_geometry_lba28_and_lba48_words)
{
    uint16_t w[256];
    th_outb(m, P + 6, 0xA0);
    identify(P, 0xEC, w);
    cr_assert_eq(w[0], 0x0040);
    cr_assert_eq(w[1], 4096 / (16 * 63));
    cr_assert_eq(w[3], 16);
    cr_assert_eq(w[6], 63);
    cr_assert_eq(w[49] & 0x0300, 0x0300, "LBA and DMA");
    cr_assert_eq(w[60] | (uint32_t)w[61] << 16, 4096);
    cr_assert_eq(w[83] & 0x0400, 0x0400, "48-bit feature set");
    cr_assert_eq(w[100], 4096);
    cr_assert_eq(w[27] >> 8, 'A', "model string, first character in the high byte");
    cr_assert_eq(irq14.rises, 1);
    th_outb(m, P + 6, 0xB0);
    identify(P, 0xEC, w);
    cr_assert_eq(w[1], 16383, "cylinders saturate");
    cr_assert_eq(w[60] | (uint32_t)w[61] << 16, 0x0FFFFFFF, "LBA28 capacity saturates");
    uint64_t n48 = w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32;
    cr_assert_eq(n48, 1ull << 36);
}

Test(ide, pio_read_sectors_lba28)
{
    lba28(P, 0, 5, 2);
    th_outb(m, P + 7, 0x20);
    cr_assert_eq(irq14.level, 1);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ);
    cr_assert_eq(irq14.level, 0, "reading status clears INTRQ");
    uint8_t buf[1024];
    read_words(P, buf, 512);
    cr_assert_eq(irq14.level, 1, "second block interrupts");
    read_words(P, buf + 512, 512);
    cr_assert(memcmp(buf, disk.data + 5 * 512, 1024) == 0);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert_eq(th_inb(m, P + 3), 6, "task file holds the last sector read");
}

Test(ide, pio_write_sectors_with_32bit_data_port)
{
    uint8_t src[1024];
    for (int i = 0; i < 1024; i++) {
        src[i] = (uint8_t)(i * 13);
    }
    lba28(P, 0, 100, 2);
    th_outb(m, P + 7, 0x30);
    cr_assert_eq(irq14.rises, 0, "no interrupt before the first block");
    cr_assert(th_inb(m, P + 7) & IDE_STAT_DRQ);
    for (int i = 0; i < 1024; i += 4) {
        uint32_t v;
        memcpy(&v, src + i, 4);
        port_write(&m->io, P, v, 4);
        if (i == 508) {
            cr_assert_eq(irq14.rises, 1, "DRQ for the second block interrupts");
            cr_assert(th_inb(m, P + 7) & IDE_STAT_DRQ);
        }
    }
    cr_assert_eq(irq14.rises, 2, "completion interrupts");
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert(memcmp(disk.data + 100 * 512, src, 1024) == 0);
}

Test(ide, read_write_multiple_need_set_multiple_mode)
{
    lba28(P, 0, 0, 4);
    th_outb(m, P + 7, 0xC4);
    cr_assert_eq(th_inb(m, P + 7) & IDE_STAT_ERR, IDE_STAT_ERR);
    cr_assert_eq(th_inb(m, P + 1), IDE_ERR_ABRT);
    th_outb(m, P + 2, 3);
    th_outb(m, P + 7, 0xC6);
    cr_assert(th_inb(m, P + 7) & IDE_STAT_ERR, "3 sectors per block is not a power of two");
    th_outb(m, P + 2, 4);
    th_outb(m, P + 7, 0xC6);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    irq14.rises = 0;
    lba28(P, 0, 8, 6);
    th_outb(m, P + 7, 0xC4);
    uint8_t buf[6 * 512];
    (void)th_inb(m, P + 7);
    read_words(P, buf, 4 * 512);
    cr_assert_eq(irq14.rises, 2, "one interrupt per 4-sector block");
    (void)th_inb(m, P + 7);
    read_words(P, buf + 4 * 512, 2 * 512);
    cr_assert(memcmp(buf, disk.data + 8 * 512, sizeof(buf)) == 0);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    /* WRITE MULTIPLE EXT */
    memset(buf, 0x5C, sizeof(buf));
    lba48(P, 0, 200, 6);
    th_outb(m, P + 7, 0x39);
    for (int i = 0; i < (int)sizeof(buf); i += 2) {
        outw(P, 0x5C5C);
    }
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert(memcmp(disk.data + 200 * 512, buf, sizeof(buf)) == 0);
}

Test(ide, lba48_read_past_the_lba28_limit)
{
    uint64_t lba = 0x123456789ull;
    lba48(P, 1, lba, 2);
    th_outb(m, P + 7, 0x24);
    uint8_t buf[1024];
    read_words(P, buf, 1024);
    uint64_t got0, got1;
    memcpy(&got0, buf, 8);
    memcpy(&got1, buf + 512, 8);
    cr_assert_eq(got0, lba);
    cr_assert_eq(got1, lba + 1);
    th_outb(m, P + 0x206, 0x80); /* HOB: read the high-order bytes back */
    cr_assert_eq(th_inb(m, P + 3), 0x23, "LBA 31:24 of the last sector");
    cr_assert_eq(th_inb(m, P + 4), 0x01);
    th_outb(m, P + 0x206, 0x00);
    cr_assert_eq(th_inb(m, P + 3), 0x8A);
}

Test(ide, chs_read_after_initialize_device_parameters)
{
    th_outb(m, P + 6, 0xA0 | 3); /* 4 heads */
    th_outb(m, P + 2, 17);       /* 17 sectors per track */
    th_outb(m, P + 7, 0x91);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    /* C/H/S 2/1/5 = (2*4 + 1)*17 + 4 = 157 */
    th_outb(m, P + 6, 0xA0 | 1);
    th_outb(m, P + 2, 1);
    th_outb(m, P + 3, 5);
    th_outb(m, P + 4, 2);
    th_outb(m, P + 5, 0);
    th_outb(m, P + 7, 0x20);
    uint8_t buf[512];
    read_words(P, buf, 512);
    cr_assert(memcmp(buf, disk.data + 157 * 512, 512) == 0);
    uint16_t w[256];
    th_outb(m, P + 6, 0xA0);
    identify(P, 0xEC, w);
    cr_assert_eq(w[55], 4);
    cr_assert_eq(w[56], 17);
    /* Sector 0 does not exist in CHS. */
    th_outb(m, P + 6, 0xA0);
    th_outb(m, P + 3, 0);
    th_outb(m, P + 2, 1);
    th_outb(m, P + 7, 0x20);
    cr_assert(th_inb(m, P + 7) & IDE_STAT_ERR);
    cr_assert(th_inb(m, P + 1) & IDE_ERR_IDNF);
}

Test(ide, out_of_range_lba_is_idnf_and_unknown_command_abrt)
{
    lba28(P, 0, 4095, 2);
    th_outb(m, P + 7, 0x20);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_ERR);
    cr_assert(th_inb(m, P + 1) & IDE_ERR_IDNF);
    lba48(P, 0, 1ull << 40, 1);
    th_outb(m, P + 7, 0x34);
    cr_assert(th_inb(m, P + 1) & IDE_ERR_IDNF);
    th_outb(m, P + 7, 0xFD);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_ERR);
    cr_assert_eq(th_inb(m, P + 1), IDE_ERR_ABRT);
}

static void put_prd(uint32_t at, uint32_t addr, uint32_t len, bool eot)
{
    mem_write(&m->mem, at, addr, 4);
    mem_write(&m->mem, at + 4, (len & 0xFFFF) | (eot ? 0x80000000u : 0), 4);
}

Test(ide, dma_read_through_a_prd_table)
{
    put_prd(0x1000, 0x20000, 1024, false);
    put_prd(0x1008, 0x30000, 2048, true);
    port_write(&m->io, BM_BASE + 4, 0x1000, 4);
    lba28(P, 0, 40, 6);
    th_outb(m, P + 7, 0xC8);
    cr_assert_eq(irq14.rises, 0, "nothing happens before the bus master starts");
    th_outb(m, BM_BASE, IDE_BM_CMD_START | IDE_BM_CMD_TO_MEMORY);
    cr_assert_eq(irq14.level, 1);
    uint8_t st = th_inb(m, BM_BASE + 2);
    cr_assert_eq(st & (IDE_BM_STATUS_IRQ | IDE_BM_STATUS_ACTIVE | IDE_BM_STATUS_ERROR),
                 IDE_BM_STATUS_IRQ, "bm status %02x", st);
    cr_assert(memcmp(m->ram + 0x20000, disk.data + 40 * 512, 1024) == 0);
    cr_assert(memcmp(m->ram + 0x30000, disk.data + 42 * 512, 2048) == 0);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    th_outb(m, BM_BASE + 2, IDE_BM_STATUS_IRQ);
    cr_assert_eq(th_inb(m, BM_BASE + 2) & IDE_BM_STATUS_IRQ, 0, "IRQ bit is write-1-to-clear");
}

Test(ide, dma_write_ext_started_before_the_command)
{
    for (int i = 0; i < 4096; i++) {
        m->ram[0x40000 + i] = (uint8_t)(i ^ 0xA5);
    }
    put_prd(0x2000, 0x40000, 4096, true);
    port_write(&m->io, BM_BASE + 4, 0x2000, 4);
    th_outb(m, BM_BASE, IDE_BM_CMD_START);
    lba48(P, 0, 300, 8);
    th_outb(m, P + 7, 0x35);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert(memcmp(disk.data + 300 * 512, m->ram + 0x40000, 4096) == 0);
    cr_assert_eq(th_inb(m, BM_BASE + 2) & IDE_BM_STATUS_ACTIVE, 0);
}

Test(ide, dma_needs_pci_bus_master_enable)
{
    pci_config_write(bus, PIIX_DEVFN_IDE, PCI_COMMAND, PCI_COMMAND_IO, 2);
    put_prd(0x1000, 0x20000, 512, true);
    memset(m->ram + 0x20000, 0xEE, 512);
    port_write(&m->io, BM_BASE + 4, 0x1000, 4);
    lba28(P, 0, 1, 1);
    th_outb(m, P + 7, 0xC8);
    th_outb(m, BM_BASE, IDE_BM_CMD_START | IDE_BM_CMD_TO_MEMORY);
    cr_assert_eq(m->ram[0x20000], 0xEE, "no DMA while bus mastering is off");
    cr_assert(th_inb(m, P + 7) & IDE_STAT_DRQ);
}

Test(ide, malicious_prd_tables_stay_inside_the_rules)
{
    /* Entries pointing past RAM and at the top of the address space: dropped by the bus, no
     * crash; the transfer completes. */
    put_prd(0x1000, 0xFFFFF000u, 0, false);     /* 64 KiB at the top of 4 GiB */
    put_prd(0x1008, RAM_SIZE - 256, 512, true); /* straddles the end of RAM */
    port_write(&m->io, BM_BASE + 4, 0x1000, 4);
    lba28(P, 0, 0, 129);
    th_outb(m, P + 7, 0xC8);
    th_outb(m, BM_BASE, IDE_BM_CMD_START | IDE_BM_CMD_TO_MEMORY);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert(memcmp(m->ram + RAM_SIZE - 256, disk.data + 128 * 512, 256) == 0);
    /* A table shorter than the transfer: an error, not a hang or an overrun. */
    th_outb(m, BM_BASE, 0);
    th_outb(m, BM_BASE + 2, 0x06);
    put_prd(0x1000, 0x20000, 512, true);
    memset(m->ram + 0x20200, 0x77, 512);
    lba28(P, 0, 0, 2);
    th_outb(m, P + 7, 0xC8);
    th_outb(m, BM_BASE, IDE_BM_CMD_START | IDE_BM_CMD_TO_MEMORY);
    cr_assert(th_inb(m, BM_BASE + 2) & IDE_BM_STATUS_ERROR);
    cr_assert(th_inb(m, P + 7) & IDE_STAT_ERR);
    cr_assert_eq(m->ram[0x20200], 0x77, "nothing written past the PRD");
    /* A table with no end-of-table bit that fills its whole 64 KiB page: bounded. */
    th_outb(m, BM_BASE, 0);
    th_outb(m, BM_BASE + 2, 0x06);
    for (uint32_t a = 0x50000; a < 0x60000; a += 8) {
        put_prd(a, 0x70000, 2, false);
    }
    port_write(&m->io, BM_BASE + 4, 0x50000, 4);
    lba28(P, 0, 0, 0); /* 256 sectors = 128 KiB > 8192 entries x 2 bytes */
    th_outb(m, P + 7, 0xC8);
    th_outb(m, BM_BASE, IDE_BM_CMD_START | IDE_BM_CMD_TO_MEMORY);
    cr_assert(th_inb(m, BM_BASE + 2) & IDE_BM_STATUS_ERROR);
    cr_assert(th_inb(m, P + 7) & IDE_STAT_ERR);
}

Test(ide, flush_cache_reaches_the_backend)
{
    th_outb(m, P + 6, 0xA0);
    th_outb(m, P + 7, 0xE7);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    th_outb(m, P + 7, 0xEA);
    cr_assert_eq(disk.flushes, 2);
}

Test(ide, nien_masks_the_interrupt_line)
{
    th_outb(m, P + 0x206, 0x02);
    th_outb(m, P + 6, 0xA0);
    th_outb(m, P + 7, 0xE7);
    cr_assert_eq(irq14.rises, 0);
    th_outb(m, P + 0x206, 0x00);
    cr_assert_eq(irq14.level, 1, "the pending interrupt shows once nIEN clears");
    (void)th_inb(m, P + 7);
    cr_assert_eq(irq14.level, 0);
}

Test(ide, software_reset_restores_signatures)
{
    th_outb(m, P + 6, 0xB0);
    th_outb(m, P + 3, 0x55);
    th_outb(m, P + 0x206, 0x04);
    cr_assert_eq(th_inb(m, P + 0x206) & IDE_STAT_BSY, IDE_STAT_BSY);
    th_outb(m, P + 0x206, 0x00);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert_eq(th_inb(m, P + 6) & 0x10, 0, "master selected after reset");
    cr_assert_eq(th_inb(m, P + 2), 1);
    cr_assert_eq(th_inb(m, P + 3), 1);
    cr_assert_eq(th_inb(m, P + 4), 0);
    cr_assert_eq(th_inb(m, P + 1), 1, "diagnostic passed");
    th_outb(m, S + 0x206, 0x04);
    th_outb(m, S + 0x206, 0x00);
    cr_assert_eq(th_inb(m, S + 4), 0x14, "ATAPI signature");
    cr_assert_eq(th_inb(m, S + 5), 0xEB);
    th_outb(m, S + 6, 0xB0); /* absent slave */
    cr_assert_eq(th_inb(m, S + 7), 0);
}

Test(ide, readonly_medium_refuses_writes)
{
    disk_blk->readonly = true;
    lba28(P, 0, 0, 1);
    th_outb(m, P + 7, 0x30);
    cr_assert_eq(th_inb(m, P + 7), IDE_STAT_DRDY | IDE_STAT_ERR);
    cr_assert_eq(th_inb(m, P + 1), IDE_ERR_ABRT);
    disk_blk->readonly = false;
}

/* --- ATAPI --- */

/* packet: send a 12-byte command to the secondary master; returns the status after it. */
static uint8_t packet(const uint8_t *cdb, uint16_t limit, bool dma)
{
    th_outb(m, S + 6, 0xA0);
    th_outb(m, S + 1, dma ? 1 : 0);
    th_outb(m, S + 4, (uint8_t)limit);
    th_outb(m, S + 5, (uint8_t)(limit >> 8));
    th_outb(m, S + 7, 0xA0);
    uint8_t st = th_inb(m, S + 7);
    cr_assert(st & IDE_STAT_DRQ, "packet phase: status %02x", st);
    cr_assert_eq(th_inb(m, S + 2) & 3, 1, "interrupt reason: command out");
    for (int i = 0; i < 12; i += 2) {
        outw(S, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    }
    return th_inb(m, S + 0x206);
}

/* data_in: read one DRQ chunk (byte count from the task file) into buf; returns its size. */
static uint32_t data_in(uint8_t *buf)
{
    cr_assert(th_inb(m, S + 7) & IDE_STAT_DRQ);
    cr_assert_eq(th_inb(m, S + 2) & 3, 2, "interrupt reason: data in");
    uint32_t n = th_inb(m, S + 4) | (uint32_t)th_inb(m, S + 5) << 8;
    read_words(S, buf, n);
    return n;
}

static uint8_t sense_key(void)
{
    uint8_t cdb[12] = {0x03, 0, 0, 0, 18};
    packet(cdb, 18, false);
    uint8_t s[18];
    cr_assert_eq(data_in(s), 18);
    return s[2] & 0x0F;
}

Test(ide, atapi_identify_packet_and_inquiry)
{
    uint16_t w[256];
    th_outb(m, S + 6, 0xA0);
    th_outb(m, S + 7, 0xEC);
    cr_assert(th_inb(m, S + 7) & IDE_STAT_ERR, "IDENTIFY DEVICE aborts on ATAPI");
    cr_assert_eq(th_inb(m, S + 4), 0x14);
    identify(S, 0xA1, w);
    cr_assert_eq(w[0], 0x85C0);
    uint8_t cdb[12] = {0x12, 0, 0, 0, 36};
    packet(cdb, 0xFFFE, false);
    uint8_t inq[36];
    cr_assert_eq(data_in(inq), 36);
    cr_assert_eq(inq[0], 0x05);
    cr_assert_eq(inq[1], 0x80);
    cr_assert(memcmp(inq + 8, "ANYVM", 5) == 0);
    cr_assert_eq(th_inb(m, S + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert_eq(th_inb(m, S + 2) & 3, 3, "interrupt reason: status");
}

Test(ide, atapi_read_capacity_and_read10_in_limited_chunks)
{
    uint8_t cap[8];
    uint8_t c1[12] = {0x25};
    packet(c1, 8, false);
    cr_assert_eq(data_in(cap), 8);
    cr_assert_eq(cap[3], 63, "last LBA");
    cr_assert_eq(cap[6], 0x08, "2048-byte blocks");
    uint8_t c2[12] = {0x28, 0, 0, 0, 0, 10, 0, 0, 3};
    packet(c2, 2048, false);
    uint8_t buf[3 * 2048];
    uint32_t got = 0;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(data_in(buf + got), 2048);
        got += 2048;
    }
    cr_assert(memcmp(buf, cd.data + 10 * 2048, sizeof(buf)) == 0);
    cr_assert_eq(th_inb(m, S + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    /* READ(12) past the end: ILLEGAL REQUEST / LBA out of range. */
    uint8_t c3[12] = {0xA8, 0, 0, 0, 0, 63, 0, 0, 0, 2};
    uint8_t st = packet(c3, 2048, false);
    cr_assert(st & IDE_STAT_ERR);
    cr_assert_eq(th_inb(m, S + 1) >> 4, 5);
    cr_assert_eq(sense_key(), 5);
}

Test(ide, atapi_dma_read10)
{
    put_prd(0x3000, 0x60000, 4096, true);
    port_write(&m->io, BM_BASE + 8 + 4, 0x3000, 4);
    uint8_t cdb[12] = {0x28, 0, 0, 0, 0, 2, 0, 0, 2};
    packet(cdb, 0, true);
    th_outb(m, BM_BASE + 8, IDE_BM_CMD_START | IDE_BM_CMD_TO_MEMORY);
    cr_assert_eq(th_inb(m, S + 7), IDE_STAT_DRDY | IDE_STAT_DSC);
    cr_assert(memcmp(m->ram + 0x60000, cd.data + 2 * 2048, 4096) == 0);
    cr_assert_eq(irq15.level, 0);
    cr_assert_geq(irq15.rises, 1);
}

Test(ide, atapi_read_toc_formats_0_1_2)
{
    uint8_t toc[64];
    uint8_t f0[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 64};
    packet(f0, 64, false);
    cr_assert_eq(data_in(toc), 20);
    cr_assert_eq(toc[1], 18);
    cr_assert_eq(toc[6], 1, "track 1");
    cr_assert_eq(toc[14], 0xAA, "lead-out");
    cr_assert_eq(toc[19], 64, "lead-out LBA = capacity");
    uint8_t f0m[12] = {0x43, 2, 0, 0, 0, 0, 0, 0, 64};
    packet(f0m, 64, false);
    cr_assert_eq(data_in(toc), 20);
    cr_assert_eq(toc[10], 2, "track 1 at 00:02:00");
    cr_assert_eq(toc[18], 2);
    cr_assert_eq(toc[19], 64, "lead-out at 00:02:64");
    uint8_t f1[12] = {0x43, 0, 1, 0, 0, 0, 0, 0, 64};
    packet(f1, 64, false);
    cr_assert_eq(data_in(toc), 12);
    cr_assert_eq(toc[6], 1, "first track of the last session");
    uint8_t f2[12] = {0x43, 2, 2, 0, 0, 0, 1, 0, 64};
    packet(f2, 64, false);
    cr_assert_eq(data_in(toc), 48);
    cr_assert_eq(toc[7], 0xA0);
    cr_assert_eq(toc[7 + 11], 0xA1);
    cr_assert_eq(toc[7 + 22], 0xA2);
    cr_assert_eq(toc[4 + 22 + 10], 64 + 0, "lead-out frame");
    uint8_t bad[12] = {0x43, 0, 0, 0, 0, 0, 5, 0, 64};
    cr_assert(packet(bad, 64, false) & IDE_STAT_ERR, "track 5 does not exist");
}

Test(ide, atapi_media_change_unit_attention_and_events)
{
    uint8_t tur[12] = {0};
    cr_assert_eq(packet(tur, 0, false) & IDE_STAT_ERR, 0);
    cd2_blk = md_new(&cd2, 4 * 10, 4 * 10, true, 9);
    cr_assert_eq(ide_cd_change_media(ide, 2, cd2_blk, false), 0);
    cr_assert(packet(tur, 0, false) & IDE_STAT_ERR, "unit attention after a change");
    cr_assert_eq(th_inb(m, S + 1) >> 4, 6);
    cr_assert_eq(packet(tur, 0, false) & IDE_STAT_ERR, 0, "reported once");
    uint8_t gesn[12] = {0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8};
    packet(gesn, 8, false);
    uint8_t ev[8];
    cr_assert_eq(data_in(ev), 8);
    cr_assert_eq(ev[2], 4, "media class");
    cr_assert_eq(ev[4], 2, "new media");
    cr_assert_eq(ev[5], 2, "media present, tray closed");
    packet(gesn, 8, false);
    data_in(ev);
    cr_assert_eq(ev[4], 0, "the event is consumed");
    uint8_t async[12] = {0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8};
    cr_assert(packet(async, 8, false) & IDE_STAT_ERR, "asynchronous GESN is refused");
    cr_assert_eq(sense_key(), 5);
    /* Lock, try to eject, unlock, eject: not ready with the tray open. */
    uint8_t lock[12] = {0x1E, 0, 0, 0, 1};
    uint8_t eject[12] = {0x1B, 0, 0, 0, 2};
    uint8_t unlock[12] = {0x1E};
    cr_assert_eq(packet(lock, 0, false) & IDE_STAT_ERR, 0);
    cr_assert(packet(eject, 0, false) & IDE_STAT_ERR, "locked tray stays shut");
    cr_assert_eq(ide_cd_change_media(ide, 2, NULL, false), -EBUSY);
    cr_assert_eq(packet(unlock, 0, false) & IDE_STAT_ERR, 0);
    cr_assert_eq(packet(eject, 0, false) & IDE_STAT_ERR, 0);
    cr_assert(packet(tur, 0, false) & IDE_STAT_ERR);
    cr_assert_eq(sense_key(), 2, "NOT READY");
    uint8_t load[12] = {0x1B, 0, 0, 0, 3};
    cr_assert_eq(packet(load, 0, false) & IDE_STAT_ERR, 0);
    cr_assert(packet(tur, 0, false) & IDE_STAT_ERR, "unit attention after loading");
    cr_assert_eq(packet(tur, 0, false) & IDE_STAT_ERR, 0);
    cr_assert_eq(ide_cd_change_media(ide, 0, NULL, false), -EINVAL, "a disk is no CD drive");
}

Test(ide, atapi_mode_sense_and_get_configuration)
{
    uint8_t buf[256];
    uint8_t ms[12] = {0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 255};
    packet(ms, 255, false);
    uint32_t n = data_in(buf);
    cr_assert_eq(n, 30);
    cr_assert_eq((buf[0] << 8 | buf[1]), 28);
    cr_assert_eq(buf[8], 0x2A);
    uint8_t all[12] = {0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 255};
    packet(all, 255, false);
    cr_assert_eq(data_in(buf), 8 + 8 + 8 + 16 + 22);
    uint8_t saved[12] = {0x5A, 0, 0xEA, 0, 0, 0, 0, 0, 255};
    cr_assert(packet(saved, 255, false) & IDE_STAT_ERR, "saved values are not supported");
    uint8_t gc[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 255};
    packet(gc, 255, false);
    n = data_in(buf);
    cr_assert_gt(n, 8);
    cr_assert_eq(buf[6] << 8 | buf[7], 0x0008, "current profile CD-ROM");
    uint32_t len = (uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3];
    cr_assert_eq(len + 4, n);
    uint8_t gc_short[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 8};
    packet(gc_short, 255, false);
    cr_assert_eq(data_in(buf), 8, "cut to the allocation length");
}

Test(ide, unknown_atapi_command_is_illegal_request)
{
    uint8_t cdb[12] = {0xFF};
    cr_assert(packet(cdb, 0, false) & IDE_STAT_ERR);
    uint8_t s[18];
    uint8_t rs[12] = {0x03, 0, 0, 0, 18};
    packet(rs, 18, false);
    data_in(s);
    cr_assert_eq(s[2], 5);
    cr_assert_eq(s[12], 0x20, "invalid command operation code");
}

Test(ide, empty_channel_floats_high)
{
    /* With nothing on a channel every register reads 0xFF: a fresh machine whose IDE
     * function has no drives. */
    machine_free(m);
    ide_free(ide);
    pci_bus_free(bus);
    m = th_machine();
    bus = pci_bus_new(m);
    IDEDriveConfig none[4] = {{0}};
    ide = ide_new(m, bus, NULL, NULL, none);
    cr_assert_not_null(ide);
    cr_assert_eq(th_inb(m, P + 7), 0xFF);
    cr_assert_eq(th_inb(m, S + 7), 0xFF);
    th_outb(m, P + 7, 0xEC); /* ignored */
    cr_assert_eq(th_inb(m, P + 7), 0xFF);
}

/* Random register traffic (commands, task file values, PRD tables full of garbage, bus
 * master starts, resets) never crashes or escapes guest memory; run it under the asan preset
 * for the memory checks. Every access answers. */
Test(ide, random_port_traffic_never_crashes)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    static const uint16_t ports[] = {
        P,       P + 1,       P + 2,       P + 3,       P + 4,        P + 5,
        P + 6,   P + 7,       P + 0x206,   S,           S + 1,        S + 2,
        S + 3,   S + 4,       S + 5,       S + 6,       S + 7,        S + 0x206,
        BM_BASE, BM_BASE + 2, BM_BASE + 4, BM_BASE + 8, BM_BASE + 10, BM_BASE + 12};
    static const uint8_t cmds[] = {0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0x25, 0x35, 0xC4, 0xC5,
                                   0xC6, 0xC8, 0xCA, 0xEC, 0xA1, 0xA0, 0xE7, 0xEA, 0xEF, 0x91,
                                   0x90, 0x08, 0xF8, 0x27, 0x40, 0x42, 0x70, 0xE5};
    for (uint32_t a = 0; a < RAM_SIZE; a += 4) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        memcpy(m->ram + a, &s, 4);
    }
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint16_t port = ports[s % (sizeof(ports) / sizeof(ports[0]))];
        uint32_t val = (uint32_t)(s >> 20);
        unsigned size = (s >> 8) % 3 == 0 ? 4 : (s >> 8) % 3 == 1 ? 2 : 1;
        if ((port & 7) == 7 && port < 0x200 && (s >> 40) % 2) {
            val = cmds[(s >> 44) % sizeof(cmds)];
            size = 1;
        }
        if (port == BM_BASE + 4 || port == BM_BASE + 12) {
            val &= RAM_SIZE - 8; /* keep most PRD tables in RAM, where the garbage is */
            size = 4;
        }
        if ((s >> 50) % 2) {
            port_write(&m->io, port, val, (port & 7) == 0 && port < 0x200 ? size : 1);
        } else {
            (void)port_read(&m->io, port, (port & 7) == 0 && port < 0x200 ? size : 1);
        }
    }
    /* The device still works afterwards. */
    th_outb(m, P + 0x206, 0x04);
    th_outb(m, P + 0x206, 0x00);
    disk_blk->readonly = false;
    uint16_t w[256];
    th_outb(m, P + 6, 0xA0);
    identify(P, 0xEC, w);
    cr_assert_eq(w[0], 0x0040);
}
