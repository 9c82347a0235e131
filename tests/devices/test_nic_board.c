/* test_nic_board.c: the PC board creates the configured NICs on PCI slots 3.., programs their
 * BARs and interrupt lines as firmware would, and connects them to m->nic_backend[]. */
#include "devices/pc/pc.h"
#include "net_harness.h"

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

    /* 00:03.0 e1000, 00:04.0 ne2k_pci, read through CONFADD/CONFDATA. */
    port_write(&m->io, 0xCF8, 0x80000000u | (3u << 11), 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0x100E8086);
    port_write(&m->io, 0xCF8, 0x80000000u | (3u << 11) | 0x3C, 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 1), 11, "slot 3 INTA -> PIRQC -> IRQ 11");
    port_write(&m->io, 0xCF8, 0x80000000u | (4u << 11), 4);
    cr_assert_eq(port_read(&m->io, 0xCFC, 4), 0x802910EC);
    port_write(&m->io, 0xCF8, 0x80000000u | (4u << 11) | 0x10, 4);
    uint32_t io = port_read(&m->io, 0xCFC, 4) & ~3u;
    cr_assert_eq(io, 0xC500);

    /* The e1000's registers answer at its BAR, with the default MAC in RAL0. */
    cr_assert_eq(mem_read(&m->mem, 0xFEB80000u + 0x8, 4) & 3, 3, "STATUS: FD, LU");
    cr_assert_eq(mem_read(&m->mem, 0xFEB80000u + 0x5400, 4), 0x12005452u);
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

    /* A system reset programs the BARs again. */
    machine_reset(m);
    cr_assert_eq(mem_read(&m->mem, 0xFEB80000u + 0x8, 4) & 3, 3);
    machine_free(m);
    pc_board_free(b);
    nh_free(net);
}
