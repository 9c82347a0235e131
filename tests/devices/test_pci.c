/* test_pci.c: PCI mechanism #1, BARs, i440FX PAM/SMRAM and PIIX3/PIIX4 through the bus. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/irq.h"
#include "core/machine.h"
#include "core/vmstate.h"
#include "devices/i440fx.h"
#include "devices/pci.h"
#include "devices/piix.h"

#define RAM_SIZE (2u << 20)
#define ROM_BASE 0xE0000u
#define ROM_SIZE 0x20000u
#define PM_BASE 0x600u
#define TEST_DEVFN PCI_DEVFN(3, 0)

typedef struct IrqSink {
    int level;
    int rises;
} IrqSink;

/* A stand-in PCI function with an I/O BAR, an MMIO BAR and a RAM BAR. */
typedef struct TestDev {
    PCIDevice pci;
    uint8_t regs[4096];
    uint8_t vram[1 << 20];
    uint8_t optrom[0x1000];
    int io_reads, mmio_writes;
} TestDev;

static Machine *m;
static PCIBus *bus;
static I440FXState *host;
static PiixState *piix;
static TestDev *tdev;
static uint8_t *rom;
static IrqSink sinks[16];
static IRQLine lines[16];
static IRQLine *line_ptrs[16];

static void sink_handler(void *opaque, int n, int level)
{
    IrqSink *s = opaque;
    if (level && !s->level) {
        s->rises++;
    }
    s->level = level;
}

static uint64_t tdev_io_read(void *opaque, uint64_t addr, unsigned size)
{
    TestDev *t = opaque;
    t->io_reads++;
    return 0xA0 + addr;
}

static void tdev_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    TestDev *t = opaque;
    t->mmio_writes++;
    for (unsigned i = 0; i < size && addr + i < sizeof(t->regs); i++) {
        t->regs[addr + i] = (uint8_t)(val >> (8 * i));
    }
}

static uint64_t tdev_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    TestDev *t = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && addr + i < sizeof(t->regs); i++) {
        v |= (uint64_t)t->regs[addr + i] << (8 * i);
    }
    return v;
}

static const IOOps tdev_io_ops = {.read = tdev_io_read, .min_access = 1, .max_access = 4};
static const IOOps tdev_mmio_ops = {
    .read = tdev_mmio_read,
    .write = tdev_mmio_write,
    .min_access = 1,
    .max_access = 4,
};

static void setup(void)
{
    MachineConfig cfg;
    char err[256];
    machine_config_defaults(&cfg);
    cfg.ram_size = RAM_SIZE;
    cfg.icount_shift = 0;
    m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "machine_new: %s", err);
    cr_assert_geq(mem_map_ram(&m->mem, "ram", 0, RAM_SIZE, m->ram, 0), 0);
    rom = malloc(ROM_SIZE);
    for (unsigned i = 0; i < ROM_SIZE; i++) {
        rom[i] = (uint8_t)(0x5A ^ i);
    }
    cr_assert_geq(mem_map_rom(&m->mem, "bios", ROM_BASE, ROM_SIZE, rom, 1), 0);
    for (int n = 0; n < 16; n++) {
        sinks[n].level = sinks[n].rises = 0;
        irq_init(&lines[n], sink_handler, &sinks[n], n);
        line_ptrs[n] = &lines[n];
    }
    bus = pci_bus_new(m);
    cr_assert_not_null(bus);
    host = i440fx_new(m, bus);
    cr_assert_not_null(host);
    piix = piix_new(m, bus, piix_isa_irq_array, line_ptrs);
    cr_assert_not_null(piix);

    tdev = calloc(1, sizeof(*tdev));
    pci_device_init(&tdev->pci, "testdev", 0x1234, 0x5678, 0x01, 0x020000, 0, 1);
    cr_assert_eq(pci_register_bar(&tdev->pci, 0, PCI_BAR_IO, 32, &tdev_io_ops, tdev, NULL, false),
                 0);
    cr_assert_eq(
        pci_register_bar(&tdev->pci, 1, PCI_BAR_MMIO, 4096, &tdev_mmio_ops, tdev, NULL, false), 0);
    cr_assert_eq(pci_register_bar(&tdev->pci, 2, PCI_BAR_RAM, sizeof(tdev->vram), NULL, NULL,
                                  tdev->vram, true),
                 0);
    memset(tdev->optrom, 0xEE, sizeof(tdev->optrom));
    tdev->optrom[0] = 0x55;
    tdev->optrom[1] = 0xAA;
    cr_assert_eq(pci_register_rom(&tdev->pci, tdev->optrom, sizeof(tdev->optrom)), 0);
    cr_assert_eq(pci_bus_add_device(bus, &tdev->pci, TEST_DEVFN), 0);
}

static void teardown(void)
{
    machine_free(m);
    piix_free(piix);
    i440fx_free(host);
    pci_bus_free(bus);
    free(tdev);
    free(rom);
}

TestSuite(pci, .init = setup, .fini = teardown);

static uint32_t cfg_addr(unsigned devfn, unsigned reg)
{
    return 0x80000000u | (devfn << 8) | (reg & 0xFC);
}

static uint32_t cfg_read(unsigned devfn, unsigned reg, unsigned size)
{
    port_write(&m->io, 0xCF8, cfg_addr(devfn, reg), 4);
    return port_read(&m->io, (uint16_t)(0xCFC + (reg & 3)), size);
}

static void cfg_write(unsigned devfn, unsigned reg, uint32_t val, unsigned size)
{
    port_write(&m->io, 0xCF8, cfg_addr(devfn, reg), 4);
    port_write(&m->io, (uint16_t)(0xCFC + (reg & 3)), val, size);
}

static void advance_ns(int64_t ns)
{
    clock_advance_icount(&m->clock, (uint64_t)ns);
    clock_run_timers(&m->clock);
}

/* ---- configuration mechanism #1 ---- */

Test(pci, confadd_keeps_only_defined_bits)
{
    port_write(&m->io, 0xCF8, 0xFFFFFFFFu, 4);
    cr_assert_eq(port_read(&m->io, 0xCF8, 4), 0x80FFFFFCu);
}

Test(pci, confdata_needs_the_enable_bit)
{
    port_write(&m->io, 0xCF8, 0x00000000u, 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0xFFFFFFFFu, "enable off: no config cycle");
    port_write(&m->io, 0xCF8, 0x80000000u, 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0x12378086u);
}

Test(pci, byte_and_word_accesses_select_bytes_of_the_dword)
{
    port_write(&m->io, 0xCF8, 0x80000000u, 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 1), 0x86);
    cr_assert_eq(port_read(&m->io, 0xCFD, 1), 0x80);
    cr_assert_eq(port_read(&m->io, 0xCFE, 2), 0x1237);
    cr_assert_eq(port_read(&m->io, 0xCFC, 2), 0x8086);
    /* Byte write into the middle of PIIX3's PIRQRC dword. */
    port_write(&m->io, 0xCF8, cfg_addr(PIIX_DEVFN_ISA, 0x60), 4);
    port_write(&m->io, 0xCFD, 0x0B, 1);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0x80800B80u);
    port_write(&m->io, 0xCFE, 0x0A0A, 2);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0x0A0A0B80u);
}

Test(pci, narrow_accesses_to_cf8_leave_confadd_alone)
{
    port_write(&m->io, 0xCF8, 0x80000008u, 4);
    port_write(&m->io, 0xCF8, 0x00, 1);
    port_write(&m->io, 0xCFA, 0x1234, 2);
    cr_assert_eq(port_read(&m->io, 0xCF8, 4), 0x80000008u);
}

Test(pci, other_buses_and_missing_functions_read_all_ones)
{
    port_write(&m->io, 0xCF8, 0x80010000u, 4); /* bus 1 */
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0xFFFFFFFFu);
    cr_assert_eq(cfg_read(PCI_DEVFN(2, 0), 0, 4), 0xFFFFFFFFu);
    cr_assert_eq(cfg_read(PCI_DEVFN(1, 1), 0, 4), 0xFFFFFFFFu, "no IDE function yet");
    cr_assert_eq(cfg_read(PCI_DEVFN(2, 0), 0, 2), 0xFFFFu);
}

Test(pci, chipset_functions_identify_themselves)
{
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0, 4), 0x12378086u);
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0x08, 4) >> 8, 0x060000u, "host bridge class");
    cr_assert_eq(cfg_read(PIIX_DEVFN_ISA, 0, 4), 0x70008086u);
    cr_assert_eq(cfg_read(PIIX_DEVFN_ISA, 0x08, 4) >> 8, 0x060100u, "ISA bridge class");
    cr_assert_eq(cfg_read(PIIX_DEVFN_ISA, 0x0E, 1), 0x80, "multi-function");
    cr_assert_eq(cfg_read(PIIX_DEVFN_PM, 0, 4), 0x71138086u);
    cr_assert_eq(cfg_read(PIIX_DEVFN_PM, 0x08, 4) >> 8, 0x068000u);
}

Test(pci, identity_registers_are_read_only)
{
    cfg_write(PCI_DEVFN(0, 0), 0, 0xDEADBEEFu, 4);
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0, 4), 0x12378086u);
    cfg_write(TEST_DEVFN, 0x3D, 0x04, 1);
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x3D, 1), 0x01, "interrupt pin is read-only");
    cfg_write(TEST_DEVFN, 0x3C, 0x0B, 1);
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x3C, 1), 0x0B, "interrupt line is read/write");
}

Test(pci, status_error_bits_clear_when_written_with_one)
{
    pci_set_le(tdev->pci.config, PCI_STATUS, 0x3000 | 0x0200, 2); /* RTA, RMA, DEVSEL */
    cfg_write(TEST_DEVFN, PCI_STATUS, 0x1000, 2);
    cr_assert_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2), 0x2200);
    cfg_write(TEST_DEVFN, PCI_STATUS, 0x0200, 2);
    cr_assert_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2), 0x2200, "DEVSEL timing is read-only");
}

/* ---- BARs ---- */

Test(pci, bar_sizing_returns_size_mask_and_type_bits)
{
    for (unsigned n = 0; n < 3; n++) {
        cfg_write(TEST_DEVFN, 0x10 + 4 * n, 0xFFFFFFFFu, 4);
    }
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x10, 4), 0xFFFFFFE1u, "32-byte I/O BAR");
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x14, 4), 0xFFFFF000u, "4 KiB memory BAR");
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x18, 4), 0xFFF00008u, "1 MiB prefetchable BAR");
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x1C, 4), 0, "unimplemented BAR reads 0");
    cfg_write(TEST_DEVFN, 0x1C, 0xFFFFFFFFu, 4);
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x1C, 4), 0);
}

Test(pci, io_bar_decodes_only_with_the_io_enable_bit)
{
    cfg_write(TEST_DEVFN, 0x10, 0xC000, 4);
    cr_assert_eq(port_read(&m->io, 0xC004, 1), 0xFF, "command.IO clear: nothing decodes");
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
    cr_assert_eq(port_read(&m->io, 0xC004, 1), 0xA4);
    cr_assert_eq(port_read(&m->io, 0xC01F, 1), 0xBF);
    cr_assert_eq(tdev->io_reads, 2);
    cfg_write(TEST_DEVFN, 0x10, 0xD000, 4);
    cr_assert_eq(port_read(&m->io, 0xC004, 1), 0xFF, "moved away");
    cr_assert_eq(port_read(&m->io, 0xD001, 1), 0xA1);
    cfg_write(TEST_DEVFN, PCI_COMMAND, 0, 2);
    cr_assert_eq(port_read(&m->io, 0xD001, 1), 0xFF, "unmapped when the bit is cleared");
}

Test(pci, memory_bars_map_into_the_memmap_with_the_memory_bit)
{
    cfg_write(TEST_DEVFN, 0x14, 0xFEB00000u, 4);
    cfg_write(TEST_DEVFN, 0x18, 0xFD000000u, 4);
    mem_write(&m->mem, 0xFEB00010u, 0x11223344u, 4);
    cr_assert_eq(tdev->mmio_writes, 0);
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    mem_write(&m->mem, 0xFEB00010u, 0x11223344u, 4);
    cr_assert_eq(tdev->mmio_writes, 1);
    cr_assert_eq(mem_read(&m->mem, 0xFEB00012u, 2), 0x1122);
    mem_write(&m->mem, 0xFD000100u, 0xCAFEu, 2);
    cr_assert_eq(tdev->vram[0x100], 0xFE);
    cr_assert_eq(tdev->vram[0x101], 0xCA);
    const MemRegion *r = mem_find(&m->mem, 0xFD000000u);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, MR_RAM, "a framebuffer BAR stays a fast RAM region");
    cfg_write(TEST_DEVFN, PCI_COMMAND, 0, 2);
    cr_assert_null(mem_find(&m->mem, 0xFEB00010u));
    cr_assert_null(mem_find(&m->mem, 0xFD000000u));
}

Test(pci, expansion_rom_bar_sizes_and_decodes_with_its_enable_bit)
{
    cfg_write(TEST_DEVFN, PCI_ROM_ADDRESS, 0xFFFFFFFEu, 4);
    cr_assert_eq(cfg_read(TEST_DEVFN, PCI_ROM_ADDRESS, 4), 0xFFFFF000u, "4 KiB ROM");
    cfg_write(TEST_DEVFN, PCI_ROM_ADDRESS, 0xFEC00000u, 4);
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cr_assert_null(mem_find(&m->mem, 0xFEC00000u), "enable bit clear");
    cfg_write(TEST_DEVFN, PCI_ROM_ADDRESS, 0xFEC00001u, 4);
    cr_assert_eq(mem_read(&m->mem, 0xFEC00000u, 2), 0xAA55);
    mem_write(&m->mem, 0xFEC00000u, 0, 2);
    cr_assert_eq(mem_read(&m->mem, 0xFEC00000u, 2), 0xAA55, "read-only");
    cfg_write(TEST_DEVFN, PCI_COMMAND, 0, 2);
    cr_assert_null(mem_find(&m->mem, 0xFEC00000u));
}

Test(pci, bar_left_at_sizing_pattern_decodes_nothing)
{
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    cfg_write(TEST_DEVFN, 0x14, 0xFFFFFFFFu, 4);
    cfg_write(TEST_DEVFN, 0x10, 0xFFFFFFFFu, 4);
    cr_assert_null(mem_find(&m->mem, 0xFFFFF000u));
    cr_assert_eq(tdev->io_reads, 0);
    cr_assert_eq(port_read(&m->io, 0xFFE0, 1), 0xFF);
    cr_assert_eq(tdev->io_reads, 0);
}

Test(pci, ram_wins_over_a_bar_placed_on_it)
{
    m->ram[0x1000] = 0x77;
    cfg_write(TEST_DEVFN, 0x14, 0x1000, 4);
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cr_assert_eq(mem_read(&m->mem, 0x1000, 1), 0x77, "DRAM below top of memory decodes first");
}

Test(pci, machine_reset_unmaps_bars_and_restores_config)
{
    cfg_write(TEST_DEVFN, 0x10, 0xC000, 4);
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
    cfg_write(PIIX_DEVFN_ISA, 0x60, 0x0B, 1);
    cr_assert_eq(port_read(&m->io, 0xC000, 1), 0xA0);
    pci_device_reset(&tdev->pci); /* the test device has no reset handler of its own */
    machine_reset(m);
    cr_assert_eq(port_read(&m->io, 0xCF8, 4), 0, "CONFADD cleared");
    cr_assert_eq(port_read(&m->io, 0xC000, 1), 0xFF);
    cr_assert_eq(cfg_read(TEST_DEVFN, 0x10, 4), 0x1);
    cr_assert_eq(cfg_read(PIIX_DEVFN_ISA, 0x60, 1), 0x80);
}

/* ---- PIRQ routing ---- */

Test(pci, slot_wiring_rotates_pins_across_pirqs)
{
    cr_assert_eq(pci_slot_pirq(1, 1), 0);
    cr_assert_eq(pci_slot_pirq(2, 1), 1);
    cr_assert_eq(pci_slot_pirq(3, 1), 2);
    cr_assert_eq(pci_slot_pirq(3, 2), 3);
    cr_assert_eq(pci_slot_pirq(3, 3), 0);
}

Test(pci, intx_reaches_the_isa_irq_its_pirq_is_routed_to)
{
    /* Slot 3, INTA -> PIRQC (0x62). */
    cfg_write(PIIX_DEVFN_ISA, 0x62, 0x0B, 1);
    pci_set_irq(&tdev->pci, 1);
    cr_assert_eq(sinks[11].level, 1);
    for (int n = 0; n < 16; n++) {
        if (n != 11) {
            cr_assert_eq(sinks[n].level, 0, "IRQ %d", n);
        }
    }
    pci_set_irq(&tdev->pci, 0);
    cr_assert_eq(sinks[11].level, 0);
}

Test(pci, rerouting_moves_an_asserted_interrupt)
{
    cfg_write(PIIX_DEVFN_ISA, 0x62, 0x0A, 1);
    pci_set_irq(&tdev->pci, 1);
    cr_assert_eq(sinks[10].level, 1);
    cfg_write(PIIX_DEVFN_ISA, 0x62, 0x05, 1);
    cr_assert_eq(sinks[10].level, 0);
    cr_assert_eq(sinks[5].level, 1);
    cfg_write(PIIX_DEVFN_ISA, 0x62, 0x85, 1);
    cr_assert_eq(sinks[5].level, 0, "bit 7 disables routing");
}

Test(pci, reserved_irq_values_do_not_route)
{
    static const uint8_t reserved[] = {0, 1, 2, 8, 13};
    pci_set_irq(&tdev->pci, 1);
    for (size_t i = 0; i < sizeof(reserved); i++) {
        cfg_write(PIIX_DEVFN_ISA, 0x62, reserved[i], 1);
        cr_assert_eq(sinks[reserved[i]].level, 0, "IRQ %u", reserved[i]);
    }
}

Test(pci, two_pirqs_on_one_irq_are_wired_or)
{
    static PCIDevice second;
    pci_device_init(&second, "second", 0x1234, 0x0001, 0, 0xFF0000, 0, 1);
    cr_assert_eq(pci_bus_add_device(bus, &second, PCI_DEVFN(4, 0)), 0); /* INTA -> PIRQD */
    cfg_write(PIIX_DEVFN_ISA, 0x62, 0x0B, 1);
    cfg_write(PIIX_DEVFN_ISA, 0x63, 0x0B, 1);
    pci_set_irq(&tdev->pci, 1);
    pci_set_irq(&second, 1);
    pci_set_irq(&tdev->pci, 0);
    cr_assert_eq(sinks[11].level, 1, "still held by the other device");
    pci_set_irq(&second, 0);
    cr_assert_eq(sinks[11].level, 0);
}

/* ---- i440FX ---- */

Test(pci, pam_switches_between_rom_and_shadow_ram)
{
    const uint32_t a = 0xF1234;
    m->ram[a] = 0x11;
    uint8_t romv = rom[a - ROM_BASE];
    cr_assert_eq(mem_read(&m->mem, a, 1), romv, "PAM 0: the ROM");
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0x10, 1);
    cr_assert_eq(mem_read(&m->mem, a, 1), 0x11, "RE: reads come from DRAM");
    mem_write(&m->mem, a, 0x22, 1);
    cr_assert_eq(m->ram[a], 0x11, "RE only: writes do not reach DRAM");
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0x30, 1);
    mem_write(&m->mem, a, 0x33, 1);
    cr_assert_eq(mem_read(&m->mem, a, 1), 0x33, "RE|WE: plain RAM");
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0x00, 1);
    cr_assert_eq(mem_read(&m->mem, a, 1), romv, "back to the ROM");
}

Test(pci, write_only_pam_lets_the_bios_copy_itself_into_shadow)
{
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0x20, 1);
    for (uint32_t a = 0xF0000; a < 0x100000; a += 4) {
        mem_write(&m->mem, a, mem_read(&m->mem, a, 4), 4);
    }
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0x10, 1);
    cr_assert_eq(memcmp(m->ram + 0xF0000, rom + 0x10000, 0x10000), 0);
    cr_assert_eq(mem_read(&m->mem, 0xFFFF0, 4),
                 (uint32_t)rom[0x1FFF0] | (uint32_t)rom[0x1FFF1] << 8 |
                     (uint32_t)rom[0x1FFF2] << 16 | (uint32_t)rom[0x1FFF3] << 24);
}

Test(pci, pam_segments_are_independent)
{
    m->ram[0xC4000] = 0x44;
    m->ram[0xC0000] = 0x40;
    cfg_write(PCI_DEVFN(0, 0), 0x5A, 0x30, 1); /* PAM1 high nibble: 0xC4000-0xC7FFF */
    cr_assert_eq(mem_read(&m->mem, 0xC4000, 1), 0x44);
    cr_assert_eq(mem_read(&m->mem, 0xC0000, 1), 0x40, "nothing there but RAM in this board");
    m->ram[0xEC000] = 0xEC;
    cfg_write(PCI_DEVFN(0, 0), 0x5F, 0x10, 1); /* PAM6 high nibble: 0xEC000 */
    cr_assert_eq(mem_read(&m->mem, 0xEC000, 1), 0xEC);
    cr_assert_eq(mem_read(&m->mem, 0xE8000, 1), rom[0x8000], "PAM6 low nibble still ROM");
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0xFF, 1);
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0x59, 1), 0x30, "PAM0 low nibble is reserved");
}

Test(pci, smram_lock_freezes_d_open)
{
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0x72, 1), 0x02);
    cfg_write(PCI_DEVFN(0, 0), 0x72, 0x4A, 1);
    cr_assert_eq(i440fx_smram(host), 0x4A);
    cfg_write(PCI_DEVFN(0, 0), 0x72, 0x5A, 1); /* D_LCK */
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0x72, 1), 0x1A, "D_LCK clears D_OPEN");
    cfg_write(PCI_DEVFN(0, 0), 0x72, 0x42, 1);
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0x72, 1), 0x1A, "locked until reset");
    machine_reset(m);
    cr_assert_eq(cfg_read(PCI_DEVFN(0, 0), 0x72, 1), 0x02);
}

/* ---- PIIX4 ACPI ---- */

static void enable_pm_io(void)
{
    cfg_write(PIIX_DEVFN_PM, PIIX4_PMBA, PM_BASE | 1, 4);
    cfg_write(PIIX_DEVFN_PM, PIIX4_PMREGMISC, 1, 1);
}

Test(pci, pm_io_block_maps_at_pmba_when_enabled)
{
    cfg_write(PIIX_DEVFN_PM, PIIX4_PMBA, 0xFFFFFFFFu, 4);
    cr_assert_eq(cfg_read(PIIX_DEVFN_PM, PIIX4_PMBA, 4), 0x0000FFC1u, "64-byte I/O block");
    cfg_write(PIIX_DEVFN_PM, PIIX4_PMBA, PM_BASE | 1, 4);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_EN, 2), 0xFFFF, "PMIOSE clear");
    cfg_write(PIIX_DEVFN_PM, PIIX4_PMREGMISC, 1, 1);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_EN, 2), 0);
    cfg_write(PIIX_DEVFN_PM, PIIX4_PMREGMISC, 0, 1);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_EN, 2), 0xFFFF);
}

Test(pci, pm_timer_counts_at_3579545_hz_from_virtual_time)
{
    enable_pm_io();
    uint32_t t0 = port_read(&m->io, PM_BASE + PIIX4_PM_TMR, 4);
    cr_assert_eq(t0, 0);
    advance_ns(1000000000);
    uint32_t t1 = port_read(&m->io, PM_BASE + PIIX4_PM_TMR, 4);
    cr_assert_eq(t1, 3579545u);
    advance_ns(1000);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM_TMR, 4) - t1, 3u, "1 us is 3.58 ticks");
}

Test(pci, pm_timer_wraps_at_24_bits)
{
    enable_pm_io();
    advance_ns(4700000000ll); /* 2^24 ticks is 4.687 s */
    uint32_t v = port_read(&m->io, PM_BASE + PIIX4_PM_TMR, 4);
    cr_assert_lt(v, 0x100000u, "wrapped: 0x%x", v);
    cr_assert_eq(v & 0xFF000000u, 0);
}

Test(pci, pm_timer_msb_toggle_sets_tmr_sts_and_raises_sci)
{
    enable_pm_io();
    port_write(&m->io, PM_BASE + PIIX4_PM1_CNT, PIIX4_PM1_CNT_SCI_EN, 2);
    port_write(&m->io, PM_BASE + PIIX4_PM1_EN, 0x0001, 2);
    advance_ns(2340000000ll); /* 2^23 ticks = 2.3435 s */
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_STS, 2) & 1, 0);
    cr_assert_eq(sinks[9].level, 0);
    advance_ns(5000000);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_STS, 2) & 1, 1);
    cr_assert_eq(sinks[9].level, 1, "SCI on IRQ 9");
    port_write(&m->io, PM_BASE + PIIX4_PM1_STS, 0x0001, 2);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_STS, 2) & 1, 0, "write 1 clears");
    cr_assert_eq(sinks[9].level, 0);
    advance_ns(2343750000ll);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_STS, 2) & 1, 1, "again at the wrap");
}

Test(pci, sci_needs_sci_en_and_the_enable_bit)
{
    enable_pm_io();
    piix_power_button(piix);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_STS, 2) & 0x100, 0x100);
    cr_assert_eq(sinks[9].level, 0);
    port_write(&m->io, PM_BASE + PIIX4_PM1_EN, 0x0100, 2);
    cr_assert_eq(sinks[9].level, 0, "SCI_EN still clear");
    port_write(&m->io, PIIX_APMC_PORT, PIIX_APM_ACPI_ENABLE, 1);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_CNT, 2) & 1, 1, "ACPI_ENABLE via SMI_CMD");
    cr_assert_eq(sinks[9].level, 1);
    port_write(&m->io, PM_BASE + PIIX4_PM1_STS + 1, 0x01, 1); /* byte write, bit 8 */
    cr_assert_eq(sinks[9].level, 0);
}

Test(pci, slp_en_with_s5_powers_the_machine_off_with_status_0)
{
    enable_pm_io();
    port_write(&m->io, PM_BASE + PIIX4_PM1_CNT, (PIIX4_SLP_TYP_S5 << 10), 2);
    cr_assert_eq(m->state, RUN_STATE_RUNNING, "SLP_TYP alone does nothing");
    port_write(&m->io, PM_BASE + PIIX4_PM1_CNT,
               PIIX4_PM1_CNT_SLP_EN | (PIIX4_SLP_TYP_S5 << 10) | PIIX4_PM1_CNT_SCI_EN, 2);
    cr_assert_eq(m->state, RUN_STATE_SHUTDOWN);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_GUEST_POWEROFF);
    cr_assert_eq(m->exit_status, 0);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_CNT, 2) & PIIX4_PM1_CNT_SLP_EN, 0,
                 "SLP_EN is write-only");
}

Test(pci, slp_en_with_another_type_keeps_running)
{
    enable_pm_io();
    port_write(&m->io, PM_BASE + PIIX4_PM1_CNT, PIIX4_PM1_CNT_SLP_EN | (PIIX4_SLP_TYP_S3 << 10),
               2);
    cr_assert_eq(m->state, RUN_STATE_RUNNING);
}

Test(pci, reset_control_register_requests_a_reset)
{
    port_write(&m->io, 0xCF9, 0x02, 1);
    cr_assert_eq(port_read(&m->io, 0xCF9, 1), 0x02);
    cr_assert(!m->reset_requested);
    port_write(&m->io, 0xCF9, 0x06, 1);
    cr_assert(m->reset_requested, "RCPU 0->1 resets");
}

Test(pci, snapshot_restores_pam_pm_base_and_pirq_routes)
{
    enable_pm_io();
    cfg_write(PIIX_DEVFN_ISA, 0x62, 0x0B, 1);
    cfg_write(PCI_DEVFN(0, 0), 0x59, 0x30, 1);
    port_write(&m->io, 0xCF8, 0x80000858u, 4);
    uint8_t *buf = NULL;
    size_t len = 0;
    cr_assert_eq(vmstate_save_buf(&m->vmstate, &buf, &len), 0);
    machine_reset(m);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_EN, 2), 0xFFFF, "reset unmapped PM");
    char err[256];
    cr_assert_eq(vmstate_load_buf(&m->vmstate, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(port_read(&m->io, 0xCF8, 4), 0x80000858u);
    cr_assert_eq(port_read(&m->io, PM_BASE + PIIX4_PM1_EN, 2), 0, "PM block mapped again");
    mem_write(&m->mem, 0xF0000, 0x99, 1);
    cr_assert_eq(m->ram[0xF0000], 0x99, "shadow RAM writable again");
    pci_set_irq(&tdev->pci, 1);
    cr_assert_eq(sinks[11].level, 1);
}

Test(pci, apmc_write_raises_smi_only_with_devactb_apmc_en)
{
    IrqSink smi_sink = {0, 0};
    IRQLine smi;
    irq_init(&smi, sink_handler, &smi_sink, 0);
    piix_set_smi(piix, &smi);
    port_write(&m->io, PIIX_APMC_PORT + 1, 0x5A, 1);
    cr_assert_eq(port_read(&m->io, PIIX_APMC_PORT + 1, 1), 0x5A, "APMS is a scratch byte");
    port_write(&m->io, PIIX_APMC_PORT, 0x00, 1);
    cr_assert_eq(smi_sink.rises, 0);
    cfg_write(PIIX_DEVFN_PM, PIIX4_DEVACTB, PIIX4_DEVACTB_APMC_EN, 4);
    port_write(&m->io, PIIX_APMC_PORT, 0x00, 1);
    cr_assert_eq(smi_sink.rises, 1);
    cr_assert_eq(smi_sink.level, 0, "a pulse");
    cr_assert_eq(port_read(&m->io, PIIX_APMC_PORT, 1), 0x00);
}

Test(pci, random_guest_traffic_keeps_identity_and_never_faults)
{
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1664525u + 1013904223u;
        uint32_t v = x;
        x = x * 1664525u + 1013904223u;
        unsigned size = 1u << (x >> 30);
        if (size > 4) {
            size = 4;
        }
        switch ((x >> 8) & 7) {
        case 0:
            port_write(&m->io, 0xCF8, 0x80000000u | (v & 0x0000FFFCu), 4);
            break;
        case 1:
        case 2:
            port_write(&m->io, (uint16_t)(0xCFC + ((x >> 12) & 3)), v, size);
            break;
        case 3:
            port_read(&m->io, (uint16_t)(0xCFC + ((x >> 12) & 3)), size);
            break;
        case 4:
            port_write(&m->io, (uint16_t)(PM_BASE + ((x >> 12) & 63)), v, size);
            break;
        case 5:
            port_read(&m->io, (uint16_t)(v & 0xFFFF), size);
            break;
        case 6:
            mem_write(&m->mem, 0xC0000 + (v & 0x3FFFF), x, size);
            break;
        default:
            mem_read(&m->mem, 0xC0000 + (v & 0x3FFFF), size);
            break;
        }
    }
    cr_assert_eq(pci_config_read(bus, PCI_DEVFN(0, 0), 0, 4), 0x12378086u);
    cr_assert_eq(pci_config_read(bus, PIIX_DEVFN_ISA, 0, 4), 0x70008086u);
    cr_assert_eq(pci_config_read(bus, PIIX_DEVFN_PM, 0, 4), 0x71138086u);
    cr_assert_eq(pci_config_read(bus, PIIX_DEVFN_PM, PIIX4_PMBA, 4) & 0xFFFF003Fu, 1u);
    cr_assert_eq(pci_config_read(bus, TEST_DEVFN, 0x10, 4) & 0x1F, 1u, "I/O BAR low bits");
}
