/* test_nic_board.c: the PC board creates the configured NICs on PCI slots 3.., the BIOS's POST
 * (bios/pci.S) programs their BARs and interrupt lines, and they connect to m->nic_backend[]. */
#include "core/cpu.h"
#include "devices/pc/pc.h"
#include "net_harness.h"

/* Run the built-in BIOS's POST; with no boot device it ends halted in INT 18h. */
static void run_post(Machine *m)
{
    for (int i = 0; i < 200 && !m->cpu->halted; i++) {
        cpu_exec(m->cpu, 10000);
    }
    cr_assert(m->cpu->halted, "POST did not finish");
}

static uint32_t cfg32(Machine *m, unsigned devfn, unsigned reg)
{
    port_write(&m->io, 0xCF8, 0x80000000u | devfn << 8 | reg, 4);
    return (uint32_t)port_read(&m->io, 0xCFC, 4);
}

Test(nic_board, configured_nics_are_on_the_bus_with_bars_and_irqs)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 16u << 20;
    strcpy(cfg.display, "none");
    cfg.n_nics = 2;
    strcpy(cfg.nics[0].model, "e1000");
    strcpy(cfg.nics[1].model, "ne2k_pci");
    cfg.nics[1].has_mac = true;
    const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x01, 0x02, 0x03};
    memcpy(cfg.nics[1].mac, mac1, 6);
    char err[256] = "";
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    TestNet *net = nh_new();
    m->nic_backend[0] = &net->be;
    PCBoard *b = pc_board_new(m, err, sizeof(err));
    cr_assert_not_null(b, "%s", err);
    run_post(m);
    uint32_t mmio = cfg32(m, 3u << 3, 0x10);
    cr_assert_eq(mmio & 0xF, 0, "e1000 BAR0: 32-bit memory");
    cr_assert(mmio >= 0xE0000000u && mmio < 0xFEC00000u && !(mmio & 0x1FFFF),
              "e1000 BAR0 %08x in the PCI memory window, 128 KiB aligned", mmio);
    cr_assert_eq(cfg32(m, 3u << 3, 0x04) & 7, 7, "e1000: I/O, memory, bus master on");

    /* 00:03.0 e1000, 00:04.0 ne2k_pci, read through CONFADD/CONFDATA. */
    port_write(&m->io, 0xCF8, 0x80000000u | (3u << 11), 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0x100E8086);
    port_write(&m->io, 0xCF8, 0x80000000u | (3u << 11) | 0x3C, 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 1), 11, "slot 3 INTA -> PIRQC -> IRQ 11");
    port_write(&m->io, 0xCF8, 0x80000000u | (4u << 11), 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0x802910EC);
    port_write(&m->io, 0xCF8, 0x80000000u | (4u << 11) | 0x10, 4);
    uint32_t io = port_read(&m->io, 0xCFC, 4) & ~3u;
    cr_assert(io >= 0xC000 && io < 0x10000 && !(io & 0x1F), "ne2k I/O BAR %04x", io);
    port_write(&m->io, 0xCF8, 0x80000000u | (4u << 11) | 0x3C, 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 1), 11, "slot 4 INTA -> PIRQD -> IRQ 11");

    /* The e1000's registers answer at its BAR, with the default MAC in RAL0. */
    cr_assert_eq(mem_read(&m->mem, mmio + 0x8, 4) & 3, 3, "STATUS: FD, LU");
    cr_assert_eq(mem_read(&m->mem, mmio + 0x5400, 4), 0x12005452u);
    /* The NE2000's ID registers and PROM (its configured MAC) answer at its I/O BAR. */
    port_write(&m->io, (uint16_t)io, 0x21, 1);
    cr_assert_eq(port_read(&m->io, (uint16_t)(io + 0x0A), 1), 0x50);
    port_write(&m->io, (uint16_t)(io + 0x0E), 0x48, 1);
    port_write(&m->io, (uint16_t)(io + 0x0A), 12, 1);
    port_write(&m->io, (uint16_t)(io + 0x0B), 0, 1);
    port_write(&m->io, (uint16_t)(io + 0x08), 0, 1);
    port_write(&m->io, (uint16_t)(io + 0x09), 0, 1);
    port_write(&m->io, (uint16_t)io, 0x0A, 1);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(port_read(&m->io, (uint16_t)(io + 0x10), 1), mac1[i]);
        (void)port_read(&m->io, (uint16_t)(io + 0x10), 1);
    }
    /* NIC 0 is attached to its backend. */
    cr_assert_not_null(net->be.nic.receive);

    /* A system reset clears the BARs; POST programs them again. */
    machine_reset(m);
    cr_assert_eq(cfg32(m, 3u << 3, 0x10), 0, "BAR0 after reset");
    run_post(m);
    cr_assert_eq(cfg32(m, 3u << 3, 0x10), mmio);
    cr_assert_eq(mem_read(&m->mem, mmio + 0x8, 4) & 3, 3);
    machine_free(m);
    pc_board_free(b);
    nh_free(net);
}
