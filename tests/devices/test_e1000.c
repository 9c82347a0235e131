/* test_e1000.c: the 82540EM through its BARs with rings in guest RAM and a recording backend:
 * EEPROM (Microwire and EERD), PHY, interrupts and ITR, transmit with checksum offload and
 * TSO, receive with filters and ring overflow, statistics, hostile descriptors. */
#include <stdio.h>

#include "devices/e1000.h"
#include "net_harness.h"

#define SLOT 4
#define MMIO 0xFEBC0000u
#define IOB 0xC200
#define RAM_SIZE (1u << 20)

#define RX_RING 0x10000u
#define RX_BUFS 0x20000u
#define TX_RING 0x40000u
#define TX_BUFS 0x50000u

static const uint8_t our_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

typedef struct Rig {
    Machine *m;
    PCIBus *bus;
    E1000State *nic;
    TestNet *net;
    uint32_t tx_n, rx_n, tdt, rdt;
    uint32_t tx_buf_next;
} Rig;

static int pirq(void)
{
    return pci_slot_pirq(SLOT, 1);
}

static uint32_t r32(Rig *r, uint32_t off)
{
    return (uint32_t)mem_read(&r->m->mem, MMIO + off, 4);
}

static void w32(Rig *r, uint32_t off, uint32_t v)
{
    mem_write(&r->m->mem, MMIO + off, v, 4);
}

static void rig_init(Rig *r)
{
    memset(r, 0, sizeof(*r));
    r->m = th_machine();
    cr_assert_geq(mem_map_ram(&r->m->mem, "ram", 0, RAM_SIZE, r->m->ram, 0), 0);
    r->bus = pci_bus_new(r->m);
    cr_assert_not_null(r->bus);
    r->net = nh_new();
    pci_bus_set_pirq_handler(r->bus, nh_pirq, r->net);
    NICConf conf = {.backend = &r->net->be};
    memcpy(conf.mac, our_mac, 6);
    r->nic = e1000_pci_new(r->m, r->bus, PCI_DEVFN(SLOT, 0), &conf);
    cr_assert_not_null(r->nic);
    unsigned devfn = PCI_DEVFN(SLOT, 0);
    pci_config_write(r->bus, devfn, PCI_BAR0, MMIO, 4);
    pci_config_write(r->bus, devfn, PCI_BAR0 + 4, IOB, 4);
    pci_config_write(r->bus, devfn, PCI_COMMAND,
                     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static void rig_fini(Rig *r)
{
    machine_free(r->m);
    e1000_free(r->nic);
    pci_bus_free(r->bus);
    nh_free(r->net);
}

static void put_desc(Rig *r, uint64_t addr, const uint8_t d[16])
{
    mem_write_buf(&r->m->mem, addr, d, 16);
}

static uint8_t ram8(Rig *r, uint64_t addr)
{
    return r->m->ram[addr];
}

/* Transmit ring of n descriptors, enabled. */
static void tx_setup(Rig *r, uint32_t n)
{
    r->tx_n = n;
    r->tdt = 0;
    r->tx_buf_next = TX_BUFS;
    w32(r, 0x3800, TX_RING);
    w32(r, 0x3804, 0);
    w32(r, 0x3808, n * 16);
    w32(r, 0x3810, 0);
    w32(r, 0x3818, 0);
    w32(r, 0x0400, 0x0104010A); /* TCTL: EN, PSP, CT, COLD */
}

/* Queue one descriptor (not yet rung). */
static void tx_queue(Rig *r, const uint8_t d[16])
{
    put_desc(r, TX_RING + r->tdt * 16, d);
    r->tdt = (r->tdt + 1) % r->tx_n;
}

static void tx_ring(Rig *r)
{
    w32(r, 0x3818, r->tdt);
}

static uint64_t tx_copy(Rig *r, const uint8_t *data, size_t len)
{
    uint64_t a = r->tx_buf_next;
    mem_write_buf(&r->m->mem, a, data, len);
    r->tx_buf_next += (uint32_t)((len + 15) & ~15u);
    if (r->tx_buf_next > TX_BUFS + 0x80000) {
        r->tx_buf_next = TX_BUFS;
    }
    return a;
}

static void legacy_desc(uint8_t d[16], uint64_t addr, uint16_t len, uint8_t cmd)
{
    memset(d, 0, 16);
    for (int i = 0; i < 8; i++) {
        d[i] = (uint8_t)(addr >> (8 * i));
    }
    d[8] = (uint8_t)len;
    d[9] = (uint8_t)(len >> 8);
    d[11] = cmd;
}

static void data_desc(uint8_t d[16], uint64_t addr, uint32_t len, uint8_t dcmd, uint8_t popts)
{
    memset(d, 0, 16);
    for (int i = 0; i < 8; i++) {
        d[i] = (uint8_t)(addr >> (8 * i));
    }
    uint32_t w = (len & 0xFFFFF) | (1u << 20);
    d[8] = (uint8_t)w;
    d[9] = (uint8_t)(w >> 8);
    d[10] = (uint8_t)(w >> 16);
    d[11] = (uint8_t)(dcmd | 0x20);
    d[13] = popts;
}

static void ctx_desc(uint8_t d[16], uint8_t ipcss, uint8_t ipcso, uint16_t ipcse, uint8_t tucss,
                     uint8_t tucso, uint16_t tucse, uint32_t paylen, uint8_t tucmd, uint8_t hdrlen,
                     uint16_t mss)
{
    memset(d, 0, 16);
    d[0] = ipcss;
    d[1] = ipcso;
    d[2] = (uint8_t)ipcse;
    d[3] = (uint8_t)(ipcse >> 8);
    d[4] = tucss;
    d[5] = tucso;
    d[6] = (uint8_t)tucse;
    d[7] = (uint8_t)(tucse >> 8);
    uint32_t w = paylen & 0xFFFFF;
    d[8] = (uint8_t)w;
    d[9] = (uint8_t)(w >> 8);
    d[10] = (uint8_t)(w >> 16);
    d[11] = (uint8_t)(tucmd | 0x20);
    d[13] = hdrlen;
    d[14] = (uint8_t)mss;
    d[15] = (uint8_t)(mss >> 8);
}

/* Receive ring of n descriptors with bufsize-byte buffers; RCTL as given (EN added). */
static void rx_setup(Rig *r, uint32_t n, uint32_t rctl, uint32_t bufsize)
{
    r->rx_n = n;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t d[16];
        memset(d, 0, 16);
        uint64_t b = RX_BUFS + (uint64_t)i * bufsize;
        for (int k = 0; k < 8; k++) {
            d[k] = (uint8_t)(b >> (8 * k));
        }
        put_desc(r, RX_RING + i * 16, d);
    }
    w32(r, 0x2800, RX_RING);
    w32(r, 0x2804, 0);
    w32(r, 0x2808, n * 16);
    w32(r, 0x2810, 0);
    r->rdt = n - 1;
    w32(r, 0x2818, r->rdt);
    w32(r, 0x0100, rctl | 0x2);
}

/* Give descriptor i back to the card (clear its status, advance RDT past it). */
static void rx_recycle(Rig *r, uint32_t i)
{
    uint8_t z[8] = {0};
    mem_write_buf(&r->m->mem, RX_RING + i * 16 + 8, z, 8);
    r->rdt = (r->rdt + 1) % r->rx_n;
    w32(r, 0x2818, r->rdt);
}

static uint16_t rx_len(Rig *r, uint32_t i)
{
    return (uint16_t)(ram8(r, RX_RING + i * 16 + 8) | ram8(r, RX_RING + i * 16 + 9) << 8);
}

static uint8_t rx_status(Rig *r, uint32_t i)
{
    return ram8(r, RX_RING + i * 16 + 12);
}

/* An Ethernet + IPv4 + TCP frame with payload; TCP checksum seeded with the pseudo-header sum
 * (with length when with_len, as drivers do for plain offload; without for TSO). */
static size_t make_tcp(uint8_t *f, size_t payload, uint32_t seq, uint8_t flags, bool with_len)
{
    memset(f, 0, 54);
    memcpy(f, peer_mac, 6);
    memcpy(f + 6, our_mac, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    uint16_t tot = (uint16_t)(20 + 20 + payload);
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[4] = 0x12;
    ip[5] = 0x34;
    ip[8] = 64;
    ip[9] = 6;
    const uint8_t src[4] = {10, 0, 2, 15}, dst[4] = {10, 0, 2, 2};
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint8_t *tcp = ip + 20;
    tcp[0] = 0x04;
    tcp[1] = 0xD2; /* 1234 */
    tcp[2] = 0x00;
    tcp[3] = 0x50; /* 80 */
    tcp[4] = (uint8_t)(seq >> 24);
    tcp[5] = (uint8_t)(seq >> 16);
    tcp[6] = (uint8_t)(seq >> 8);
    tcp[7] = (uint8_t)seq;
    tcp[12] = 0x50;
    tcp[13] = flags;
    tcp[14] = 0xFF;
    tcp[15] = 0xFF;
    for (size_t i = 0; i < payload; i++) {
        tcp[20 + i] = (uint8_t)(i * 13 + 7);
    }
    uint8_t pseudo[12];
    memcpy(pseudo, src, 4);
    memcpy(pseudo + 4, dst, 4);
    pseudo[8] = 0;
    pseudo[9] = 6;
    uint16_t l4 = with_len ? (uint16_t)(20 + payload) : 0;
    pseudo[10] = (uint8_t)(l4 >> 8);
    pseudo[11] = (uint8_t)l4;
    uint16_t seed = (uint16_t)~net_checksum_fold(net_checksum_add(0, pseudo, 12));
    tcp[16] = (uint8_t)(seed >> 8);
    tcp[17] = (uint8_t)seed;
    return 54 + payload;
}

static bool ip_csum_ok(const uint8_t *f)
{
    return net_checksum_fold(net_checksum_add(0, f + 14, 20)) == 0;
}

static bool tcp_csum_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = ip[9];
    uint16_t l4 = (uint16_t)(len - 34);
    pseudo[10] = (uint8_t)(l4 >> 8);
    pseudo[11] = (uint8_t)l4;
    uint32_t sum = net_checksum_add(0, pseudo, 12);
    sum = net_checksum_add(sum, f + 34, len - 34);
    return net_checksum_fold(sum) == 0;
}

Test(e1000, pci_header_and_bar_sizes)
{
    Rig r;
    rig_init(&r);
    unsigned devfn = PCI_DEVFN(SLOT, 0);
    cr_assert_eq(pci_config_read(r.bus, devfn, PCI_VENDOR_ID, 4), 0x100E8086);
    cr_assert_eq(pci_config_read(r.bus, devfn, 0x08, 4) >> 8, 0x020000);
    pci_config_write(r.bus, devfn, PCI_BAR0, 0xFFFFFFFF, 4);
    cr_assert_eq(pci_config_read(r.bus, devfn, PCI_BAR0, 4), 0xFFFE0000, "128 KiB MMIO");
    pci_config_write(r.bus, devfn, PCI_BAR0 + 4, 0xFFFFFFFF, 4);
    cr_assert_eq(pci_config_read(r.bus, devfn, PCI_BAR0 + 4, 4), 0xFFFFFFC1, "64-byte I/O");
    rig_fini(&r);
}

Test(e1000, status_reports_link_up_full_duplex_gigabit_and_ctrl_rst_resets)
{
    Rig r;
    rig_init(&r);
    uint32_t st = r32(&r, 0x0008);
    cr_assert_eq(st & 0x3, 0x3, "FD and LU");
    cr_assert_eq((st >> 6) & 3, 2, "1000 Mb/s");
    w32(&r, 0x00D0, 0x80);
    w32(&r, 0x0100, 0x8002);
    w32(&r, 0x0000, r32(&r, 0) | (1u << 26));
    cr_assert_eq(r32(&r, 0x00D0), 0, "IMS cleared by reset");
    cr_assert_eq(r32(&r, 0x0100), 0, "RCTL cleared by reset");
    cr_assert_eq(r32(&r, 0x0000) & (1u << 26), 0, "RST self-clears");
    cr_assert_eq(r32(&r, 0x5400), 0x12005452u, "RAL0 from the EEPROM MAC");
    cr_assert_eq(r32(&r, 0x5404), 0x80005634u, "RAH0 with AV");
    rig_fini(&r);
}

/* Read one EEPROM word the way Linux's e1000 driver bit-bangs a Microwire part. */
static uint16_t ee_read(Rig *r, unsigned addr)
{
    uint32_t eecd = r32(r, 0x10) & ~(0x1u | 0x4u);
    eecd |= 0x2; /* CS */
    w32(r, 0x10, eecd);
    uint32_t bits = 0x6u << 6 | (addr & 0x3F); /* 110 + 6 address bits */
    for (int i = 8; i >= 0; i--) {
        eecd &= ~0x4u;
        if ((bits >> i) & 1) {
            eecd |= 0x4;
        }
        w32(r, 0x10, eecd);
        w32(r, 0x10, eecd | 0x1);
        w32(r, 0x10, eecd);
    }
    eecd &= ~0x4u;
    w32(r, 0x10, eecd);
    uint16_t v = 0;
    for (int i = 0; i < 16; i++) {
        w32(r, 0x10, eecd | 0x1);
        v = (uint16_t)(v << 1 | ((r32(r, 0x10) >> 3) & 1));
        w32(r, 0x10, eecd);
    }
    w32(r, 0x10, eecd & ~0x3u); /* standby: CS low */
    return v;
}

Test(e1000, microwire_eeprom_holds_the_mac_and_sums_to_0xbaba)
{
    Rig r;
    rig_init(&r);
    w32(&r, 0x10, 0x40); /* EE_REQ */
    uint32_t eecd = r32(&r, 0x10);
    cr_assert_eq(eecd & 0x80, 0x80, "EE_GNT");
    cr_assert_eq(eecd & 0x100, 0x100, "EE_PRES");
    uint16_t sum = 0;
    uint16_t w[64];
    for (unsigned i = 0; i < 64; i++) {
        w[i] = ee_read(&r, i);
        sum = (uint16_t)(sum + w[i]);
    }
    cr_assert_eq(sum, 0xBABA);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(w[i], our_mac[2 * i] | our_mac[2 * i + 1] << 8, "word %d", i);
    }
    cr_assert_eq(w[0x0E], 0x8086);
    cr_assert_eq(w[0x0D], 0x100E);
    rig_fini(&r);
}

Test(e1000, eerd_reads_a_word_and_sets_done)
{
    Rig r;
    rig_init(&r);
    w32(&r, 0x14, (1u << 8) | 1);
    uint32_t v = r32(&r, 0x14);
    cr_assert_eq(v & 0x10, 0x10);
    cr_assert_eq(v >> 16, our_mac[2] | our_mac[3] << 8);
    rig_fini(&r);
}

static uint32_t mdic(Rig *r, unsigned phy, unsigned reg, bool write, uint16_t val)
{
    w32(r, 0x20, (uint32_t)val | reg << 16 | phy << 21 | (write ? 1u : 2u) << 26);
    uint32_t v = r32(r, 0x20);
    cr_assert(v & (1u << 28), "MDIC ready");
    return v;
}

Test(e1000, mdic_reads_the_m88e1011_phy_with_link_and_autoneg_complete)
{
    Rig r;
    rig_init(&r);
    cr_assert_eq(mdic(&r, 1, 2, false, 0) & 0xFFFF, 0x0141);
    cr_assert_eq(mdic(&r, 1, 3, false, 0) & 0xFFF0, 0x0C20);
    uint16_t bmsr = (uint16_t)mdic(&r, 1, 1, false, 0);
    cr_assert_eq(bmsr & 0x24, 0x24, "link status and autonegotiation complete");
    mdic(&r, 1, 4, true, 0x01E1);
    cr_assert_eq(mdic(&r, 1, 4, false, 0) & 0xFFFF, 0x01E1, "ANAR writable");
    mdic(&r, 1, 0, true, 0x1340); /* restart autonegotiation */
    cr_assert_eq(mdic(&r, 1, 0, false, 0) & 0x0200, 0, "restart completes at once");
    cr_assert(mdic(&r, 2, 2, false, 0) & (1u << 30), "no PHY at address 2: error");
    rig_fini(&r);
}

Test(e1000, ics_ims_imc_and_read_to_clear_icr_drive_inta)
{
    Rig r;
    rig_init(&r);
    w32(&r, 0x00C8, 0x04); /* ICS: LSC */
    cr_assert_eq(r.net->pirq_level[pirq()], 0, "masked");
    w32(&r, 0x00D0, 0x04);
    cr_assert_eq(r32(&r, 0x00D0), 0x04);
    cr_assert_eq(r.net->pirq_level[pirq()], 1);
    cr_assert_eq(r32(&r, 0x00C0), 0x04, "ICR shows the cause");
    cr_assert_eq(r.net->pirq_level[pirq()], 0, "reading ICR clears it");
    cr_assert_eq(r32(&r, 0x00C0), 0);
    w32(&r, 0x00C8, 0x04);
    w32(&r, 0x00D8, 0x04);
    cr_assert_eq(r.net->pirq_level[pirq()], 0, "IMC masks");
    cr_assert_eq(r32(&r, 0x00D0), 0);
    rig_fini(&r);
}

Test(e1000, itr_holds_interrupts_apart_by_the_interval)
{
    Rig r;
    rig_init(&r);
    w32(&r, 0x00C4, 1000); /* 256 us */
    w32(&r, 0x00D0, 0x80);
    w32(&r, 0x00C8, 0x80);
    cr_assert_eq(r.net->pirq_level[pirq()], 1, "first interrupt at once");
    int64_t t0 = clock_now(&r.m->clock);
    (void)r32(&r, 0x00C0);
    cr_assert_eq(r.net->pirq_level[pirq()], 0);
    w32(&r, 0x00C8, 0x80);
    cr_assert_eq(r.net->pirq_level[pirq()], 0, "held back");
    th_advance(r.m, 255000);
    cr_assert_eq(r.net->pirq_level[pirq()], 0, "still inside the interval");
    th_run_until(r.m, t0 + 256000);
    cr_assert_eq(r.net->pirq_level[pirq()], 1, "raised when the interval ends");
    rig_fini(&r);
}

Test(e1000, rdtr_and_radv_delay_rxt0_and_ide_with_tidv_delays_txdw)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 16, 0x8000, 2048);
    tx_setup(&r, 8);
    w32(&r, 0x00D0, 0x81);
    w32(&r, 0x2820, 100); /* RDTR: 102.4 us after the last frame */
    w32(&r, 0x282C, 250); /* RADV: 256 us after the first */
    uint8_t f[100];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 50, 0);
    int64_t t0 = clock_now(&r.m->clock);
    for (int k = 0; k < 4; k++) {
        net_receive(&r.net->be, f, len);
        cr_assert_eq(r.net->pirq_level[pirq()], 0, "RXT0 held by the packet timer");
        th_advance(r.m, 80000);
    }
    /* Frames every 80 us keep restarting RDTR; RADV ends it 256 us after the first. */
    cr_assert_eq(r.net->pirq_level[pirq()], 1);
    cr_assert_lt(r.net->pirq_rises[pirq()], 2);
    cr_assert_geq(clock_now(&r.m->clock) - t0, 256000);
    cr_assert_eq(r32(&r, 0x00C0) & 0x80, 0x80);
    /* Transmit with IDE: TXDW waits TIDV (8 units); without IDE it is immediate. */
    w32(&r, 0x3820, 8);
    uint8_t d[16];
    len = nh_make_frame(f, peer_mac, our_mac, 0x0800, 50, 0);
    legacy_desc(d, tx_copy(&r, f, len), (uint16_t)len, 0x8B); /* IDE RS IFCS EOP */
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r32(&r, 0x00C0) & 0x01, 0, "TXDW delayed");
    th_advance(r.m, 8 * 1024);
    cr_assert_eq(r32(&r, 0x00C0) & 0x01, 0x01, "TXDW after TIDV");
    legacy_desc(d, tx_copy(&r, f, len), (uint16_t)len, 0x0B);
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r32(&r, 0x00C0) & 0x01, 0x01, "immediate without IDE");
    rig_fini(&r);
}

Test(e1000, legacy_transmit_sends_the_frame_writes_back_dd_and_raises_txdw)
{
    Rig r;
    rig_init(&r);
    tx_setup(&r, 8);
    w32(&r, 0x00D0, 0x03);
    uint8_t f[200], d[16];
    size_t len = nh_make_frame(f, peer_mac, our_mac, 0x0800, 150, 1);
    legacy_desc(d, tx_copy(&r, f, len), (uint16_t)len, 0x0B); /* EOP IFCS RS */
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent, 1);
    size_t got;
    const uint8_t *g = nh_frame(r.net, 0, &got);
    cr_assert_eq(got, len);
    cr_assert_arr_eq(g, f, len);
    cr_assert_eq(ram8(&r, TX_RING + 12) & 1, 1, "DD written back");
    cr_assert_eq(r32(&r, 0x3810), 1, "TDH advanced");
    cr_assert_eq(r.net->pirq_level[pirq()], 1);
    cr_assert_eq(r32(&r, 0x00C0) & 0x03, 0x03, "TXDW and TXQE");
    rig_fini(&r);
}

Test(e1000, a_frame_gathers_across_descriptors_and_legacy_ic_inserts_a_checksum)
{
    Rig r;
    rig_init(&r);
    tx_setup(&r, 8);
    uint8_t f[300], d[16];
    size_t len = make_tcp(f, 100, 1, 0x18, true);
    /* Three pieces, the checksum offset and start in the last (legacy) descriptor. */
    legacy_desc(d, tx_copy(&r, f, 10), 10, 0x00);
    tx_queue(&r, d);
    legacy_desc(d, tx_copy(&r, f + 10, 40), 40, 0x00);
    tx_queue(&r, d);
    legacy_desc(d, tx_copy(&r, f + 50, len - 50), (uint16_t)(len - 50), 0x0D); /* EOP IC RS */
    d[10] = 34 + 16; /* CSO: TCP checksum */
    d[13] = 34;      /* CSS: TCP header */
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent, 1);
    size_t got;
    const uint8_t *g = nh_frame(r.net, 0, &got);
    cr_assert_eq(got, len);
    cr_assert(tcp_csum_ok(g, got));
    cr_assert_arr_eq(g + 54, f + 54, 100);
    rig_fini(&r);
}

Test(e1000, context_offload_fills_ip_and_tcp_checksums)
{
    Rig r;
    rig_init(&r);
    tx_setup(&r, 8);
    uint8_t f[1600], d[16];
    size_t len = make_tcp(f, 1000, 77, 0x18, true);
    /* The IP checksum field is zero, as the SDM asks of software (3.3.6). */
    /* Context: IP checksum 14..33 at 24, TCP from 34 to the end at 50. */
    ctx_desc(d, 14, 24, 33, 34, 50, 0, 0, 0x03, 0, 0);
    tx_queue(&r, d);
    data_desc(d, tx_copy(&r, f, len), (uint32_t)len, 0x0B, 0x03); /* EOP IFCS RS; IXSM TXSM */
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent, 1);
    size_t got;
    const uint8_t *g = nh_frame(r.net, 0, &got);
    cr_assert_eq(got, len);
    cr_assert(ip_csum_ok(g), "IP header checksum");
    cr_assert(tcp_csum_ok(g, got), "TCP checksum");
    rig_fini(&r);
}

Test(e1000, tso_cuts_a_large_send_into_mss_segments_with_fixed_headers)
{
    Rig r;
    rig_init(&r);
    tx_setup(&r, 16);
    uint8_t f[4000];
    const size_t payload = 3500, mss = 1000;
    make_tcp(f, payload, 0x10000000u, 0x19, false); /* PSH ACK FIN */
    uint8_t d[16];
    ctx_desc(d, 14, 24, 33, 34, 50, 0, (uint32_t)payload, 0x07 /* TCP IP TSE */, 54,
             (uint16_t)mss);
    tx_queue(&r, d);
    /* Header in one descriptor, the payload split unevenly over two more. */
    data_desc(d, tx_copy(&r, f, 54), 54, 0x04, 0x03);
    tx_queue(&r, d);
    data_desc(d, tx_copy(&r, f + 54, 1700), 1700, 0x04, 0x03);
    tx_queue(&r, d);
    data_desc(d, tx_copy(&r, f + 54 + 1700, payload - 1700), (uint32_t)(payload - 1700), 0x0D,
              0x03); /* TSE EOP RS */
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent, 4, "3500 bytes at MSS 1000: four segments");
    size_t off = 0;
    for (unsigned k = 0; k < 4; k++) {
        size_t got;
        const uint8_t *g = nh_frame(r.net, k, &got);
        size_t seg = payload - off < mss ? payload - off : mss;
        cr_assert_eq(got, 54 + seg, "segment %u length", k);
        cr_assert_eq(g[16] << 8 | g[17], 40 + seg, "IP total length %u", k);
        cr_assert_eq(g[18] << 8 | g[19], 0x1234 + k, "IP ID increments");
        uint32_t seq = (uint32_t)g[38] << 24 | g[39] << 16 | g[40] << 8 | g[41];
        cr_assert_eq(seq, 0x10000000u + off, "sequence number %u", k);
        cr_assert_eq(g[47] & 0x09, k == 3 ? 0x09 : 0, "FIN/PSH only on the last");
        cr_assert(ip_csum_ok(g), "IP checksum %u", k);
        cr_assert(tcp_csum_ok(g, got), "TCP checksum %u", k);
        cr_assert_arr_eq(g + 54, f + 54 + off, seg, "payload %u", k);
        off += seg;
    }
    cr_assert_eq(r32(&r, 0x40F8), 4, "TSCTC counts the TSO segments");
    rig_fini(&r);
}

Test(e1000, received_frames_fill_descriptors_with_fcs_and_raise_rxt0)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 8, 0x8000, 2048); /* BAM, 2048-byte buffers */
    w32(&r, 0x00D0, 0x80);
    uint8_t f[1600];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 1000, 4);
    cr_assert(net_receive(&r.net->be, f, len));
    cr_assert_eq(rx_len(&r, 0), len + 4, "length includes the FCS");
    cr_assert_eq(rx_status(&r, 0) & 0x03, 0x03, "DD and EOP");
    cr_assert_arr_eq(&r.m->ram[RX_BUFS], f, len);
    uint32_t fcs = net_crc32_le(f, len);
    cr_assert_eq(ram8(&r, RX_BUFS + len), (uint8_t)fcs);
    cr_assert_eq(ram8(&r, RX_BUFS + len + 3), (uint8_t)(fcs >> 24));
    cr_assert_eq(r32(&r, 0x2810), 1, "RDH advanced");
    cr_assert_eq(r.net->pirq_level[pirq()], 1);
    cr_assert_eq(r32(&r, 0x00C0) & 0x80, 0x80, "RXT0");
    /* SECRC strips the FCS; a short frame is padded to 60. */
    w32(&r, 0x0100, 0x8002 | (1u << 26));
    len = nh_make_frame(f, our_mac, peer_mac, 0x0806, 28, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(rx_len(&r, 1), 60);
    rig_fini(&r);
}

Test(e1000, rxcsum_reports_good_and_bad_ip_and_tcp_checksums)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 8, 0x8000, 2048);
    uint8_t f[400];
    size_t len = make_tcp(f, 100, 5, 0x18, true);
    memcpy(f, our_mac, 6);
    /* Finish the checksums as a sender would: IP header, then TCP over the seeded field. */
    uint16_t ipc = net_checksum_fold(net_checksum_add(0, f + 14, 20));
    f[24] = (uint8_t)(ipc >> 8);
    f[25] = (uint8_t)ipc;
    uint16_t tc = net_checksum_fold(net_checksum_add(0, f + 34, len - 34));
    f[50] = (uint8_t)(tc >> 8);
    f[51] = (uint8_t)tc;
    cr_assert(ip_csum_ok(f) && tcp_csum_ok(f, len));
    net_receive(&r.net->be, f, len);
    cr_assert_eq(rx_status(&r, 0) & 0x64, 0x04, "RXCSUM off: IXSM");
    w32(&r, 0x5000, 3u << 8); /* IPOFL, TUOFL */
    net_receive(&r.net->be, f, len);
    cr_assert_eq(rx_status(&r, 1) & 0x64, 0x60, "IPCS and TCPCS");
    cr_assert_eq(ram8(&r, RX_RING + 16 + 13), 0, "no errors");
    f[60] ^= 0xFF; /* corrupt the payload */
    net_receive(&r.net->be, f, len);
    cr_assert_eq(ram8(&r, RX_RING + 32 + 13), 0x20, "TCPE");
    f[60] ^= 0xFF;
    f[22] ^= 1; /* corrupt the TTL */
    net_receive(&r.net->be, f, len);
    cr_assert_eq(ram8(&r, RX_RING + 48 + 13) & 0x40, 0x40, "IPE");
    rig_fini(&r);
}

Test(e1000, vlan_tags_are_inserted_on_transmit_and_stripped_and_filtered_on_receive)
{
    Rig r;
    rig_init(&r);
    tx_setup(&r, 8);
    rx_setup(&r, 8, 0x8000, 2048);
    w32(&r, 0x0000, r32(&r, 0) | (1u << 30)); /* CTRL.VME */
    uint8_t f[200], d[16];
    size_t len = nh_make_frame(f, peer_mac, our_mac, 0x0800, 80, 3);
    legacy_desc(d, tx_copy(&r, f, len), (uint16_t)len, 0x4B); /* VLE RS IFCS EOP */
    d[14] = 0x2A;                                             /* TCI 0x602A: PCP 3, VID 42 */
    d[15] = 0x60;
    tx_queue(&r, d);
    tx_ring(&r);
    size_t got;
    const uint8_t *g = nh_frame(r.net, 0, &got);
    cr_assert_eq(got, len + 4);
    cr_assert_arr_eq(g, f, 12);
    cr_assert_eq(g[12] << 8 | g[13], 0x8100);
    cr_assert_eq(g[14] << 8 | g[15], 0x602A);
    cr_assert_arr_eq(g + 16, f + 12, len - 12);
    /* Receive: the tag goes to the descriptor's special field, VP set. */
    uint8_t t[200];
    memcpy(t, our_mac, 6);
    memcpy(t + 6, peer_mac, 6);
    t[12] = 0x81;
    t[13] = 0x00;
    t[14] = 0x00;
    t[15] = 0x07; /* VID 7 */
    memcpy(t + 16, f + 12, len - 12);
    net_receive(&r.net->be, t, len + 4);
    cr_assert_eq(rx_status(&r, 0) & 0x08, 0x08, "VP");
    cr_assert_eq(ram8(&r, RX_RING + 14), 7);
    cr_assert_eq(rx_len(&r, 0), len + 4, "stripped frame plus FCS");
    cr_assert_arr_eq(&r.m->ram[RX_BUFS + 12], f + 12, len - 12);
    /* VFE: VID 7 is not in the VFTA, so the frame is dropped until its bit is set. */
    w32(&r, 0x0100, r32(&r, 0x0100) | (1u << 18));
    net_receive(&r.net->be, t, len + 4);
    cr_assert_eq(r32(&r, 0x2810), 1, "filtered");
    w32(&r, 0x5600, 1u << 7);
    net_receive(&r.net->be, t, len + 4);
    cr_assert_eq(r32(&r, 0x2810), 2, "VFTA bit set: accepted");
    rig_fini(&r);
}

Test(e1000, a_large_frame_spans_several_small_buffers_with_eop_on_the_last)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 16, 0x8000 | (3u << 16), 256); /* BSIZE 256 */
    uint8_t f[1600];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 1000, 9);
    net_receive(&r.net->be, f, len);
    /* 1014 + 4 bytes in 256-byte buffers: 4 descriptors. */
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(rx_status(&r, i) & 0x01, 0x01);
        cr_assert_eq(rx_status(&r, i) & 0x02, i == 3 ? 0x02 : 0, "EOP on the last only");
        cr_assert_eq(rx_len(&r, i), i < 3 ? 256 : 1018 - 768);
    }
    cr_assert_arr_eq(&r.m->ram[RX_BUFS], f, len);
    rig_fini(&r);
}

Test(e1000, without_free_descriptors_frames_wait_and_rxo_is_raised)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 8, 0x8000, 2048);
    uint8_t f[200];
    for (int k = 0; k < 10; k++) {
        size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 100, (uint8_t)k);
        cr_assert(net_receive(&r.net->be, f, len));
    }
    /* RDT = 7 leaves 7 usable descriptors. */
    cr_assert_eq(net_queued_frames(&r.net->be), 3);
    cr_assert_eq(r32(&r, 0x00C0) & 0x40, 0x40, "RXO");
    cr_assert_eq(r32(&r, 0x40A0), 1, "RNBC counted");
    for (uint32_t i = 0; i < 3; i++) {
        rx_recycle(&r, i);
    }
    cr_assert_eq(net_queued_frames(&r.net->be), 0, "RDT writes drain the queue");
    /* Frames 7, 8, 9 went to descriptors 7, 0, 1 in order. */
    cr_assert_eq(ram8(&r, RX_BUFS + 7 * 2048 + 14), 7);
    cr_assert_eq(ram8(&r, RX_BUFS + 0 * 2048 + 14), 8);
    cr_assert_eq(ram8(&r, RX_BUFS + 1 * 2048 + 14), 9);
    rig_fini(&r);
}

Test(e1000, rxdmt0_when_free_descriptors_reach_the_threshold)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 16, 0x8000, 2048); /* RDMTS 0: half the ring */
    uint8_t f[100];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 50, 0);
    for (int k = 0; k < 6; k++) {
        net_receive(&r.net->be, f, len);
    }
    cr_assert_eq(r32(&r, 0x00C0) & 0x10, 0, "9 of 16 free: above half");
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r32(&r, 0x00C0) & 0x10, 0x10, "8 of 16 free: RXDMT0");
    rig_fini(&r);
}

Test(e1000, receive_filters_unicast_broadcast_multicast_and_promiscuous_modes)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 32, 0, 2048);
    uint8_t f[100];
    const uint8_t other[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    const uint8_t mcast[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB};
    size_t len = nh_make_frame(f, other, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    len = nh_make_frame(f, bcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    len = nh_make_frame(f, mcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r32(&r, 0x2810), 0, "none accepted without BAM/MTA/UPE");
    len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r32(&r, 0x2810), 1, "our RAL0/RAH0 address");
    /* A second receive address. */
    w32(&r, 0x5408, 0x33221102);
    w32(&r, 0x540C, 0x80005544);
    len = nh_make_frame(f, other, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r32(&r, 0x2810), 2, "RAL1/RAH1 with AV");
    w32(&r, 0x0100, 0x8002);
    len = nh_make_frame(f, bcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r32(&r, 0x2810), 3, "broadcast with BAM");
    /* MO = 0: the MTA index is destination bits 47:36: (dst[4] >> 4) | (dst[5] << 4). */
    unsigned hash = ((mcast[4] >> 4) | (mcast[5] << 4)) & 0xFFF;
    w32(&r, 0x5200 + (hash >> 5) * 4, 1u << (hash & 31));
    len = nh_make_frame(f, mcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r32(&r, 0x2810), 4, "multicast via the MTA");
    cr_assert_eq(r32(&r, 0x407C), 1, "MPRC");
    cr_assert_eq(r32(&r, 0x4078), 1, "BPRC");
    w32(&r, 0x0100, 0x0002 | (1u << 3)); /* UPE */
    const uint8_t stranger[6] = {0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F};
    len = nh_make_frame(f, stranger, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r32(&r, 0x2810), 5, "unicast promiscuous");
    cr_assert_eq(r32(&r, 0x4074), 5, "GPRC");
    cr_assert_eq(r32(&r, 0x4074), 0, "statistics clear on read");
    rig_fini(&r);
}

Test(e1000, io_bar_reaches_registers_through_ioaddr_and_iodata)
{
    Rig r;
    rig_init(&r);
    port_write(&r.m->io, IOB, 0x0008, 4);
    cr_assert_eq(port_read(&r.m->io, IOB + 4, 4) & 0x3, 0x3, "STATUS via IODATA");
    port_write(&r.m->io, IOB, 0x00D0, 4);
    port_write(&r.m->io, IOB + 4, 0x84, 4);
    cr_assert_eq(r32(&r, 0x00D0), 0x84);
    rig_fini(&r);
}

Test(e1000, hostile_rings_and_descriptors_stay_bounded)
{
    Rig r;
    rig_init(&r);
    uint8_t d[16];
    /* TDH beyond the ring; zero-length ring. */
    tx_setup(&r, 8);
    w32(&r, 0x3810, 100);
    w32(&r, 0x3818, 3);
    cr_assert_eq(r.net->n_sent, 0);
    w32(&r, 0x3808, 0);
    w32(&r, 0x3818, 5);
    cr_assert_eq(r.net->n_sent, 0);
    /* A descriptor whose buffer is the card's own register BAR, one past the end of RAM, and
     * one with the maximum length at the top of RAM: no recursion, no stray reads. */
    tx_setup(&r, 8);
    legacy_desc(d, MMIO + 0x3818, 64, 0x09);
    tx_queue(&r, d);
    legacy_desc(d, 0xFFFFFFFFFFFFFFF0ull, 0xFFFF, 0x09);
    tx_queue(&r, d);
    legacy_desc(d, RAM_SIZE - 16, 0xFFFF, 0x09);
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent, 3);
    size_t got;
    const uint8_t *g = nh_frame(r.net, 0, &got);
    cr_assert_eq(got, 64);
    for (size_t i = 0; i < got; i++) {
        cr_assert_eq(g[i], 0, "MMIO is not DMA-able: zeros");
    }
    /* A 64K-descriptor ring of zeroed memory partly outside RAM: one bounded pass. */
    w32(&r, 0x3800, RAM_SIZE - 0x8000);
    w32(&r, 0x3808, 0xFFF80);
    w32(&r, 0x3810, 0);
    w32(&r, 0x3818, 0xFFF7);
    cr_assert_lt(r32(&r, 0x3810), 0xFFF7, "one doorbell does a bounded amount of work");
    th_advance(r.m, 1000000);
    cr_assert_eq(r32(&r, 0x3810), 0xFFF7, "and the rest continues from a timer");
    /* TSO with a context that makes no sense, and with MSS 1: sent as plain frames. */
    tx_setup(&r, 8);
    ctx_desc(d, 200, 250, 0, 250, 255, 0, 1000, 0x07, 10, 1000);
    tx_queue(&r, d);
    data_desc(d, TX_BUFS, 300, 0x0D, 0x03);
    tx_queue(&r, d);
    ctx_desc(d, 14, 24, 33, 34, 50, 0, 300, 0x07, 54, 1);
    tx_queue(&r, d);
    data_desc(d, TX_BUFS, 354, 0x0D, 0x03);
    tx_queue(&r, d);
    unsigned before = r.net->n_sent;
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent - before, 2);
    /* A TSO frame with 1 MiB data descriptors: the doorbell stops after its byte budget. */
    tx_setup(&r, 8);
    ctx_desc(d, 14, 24, 33, 34, 50, 0, 0xFFFFF, 0x07, 54, 64);
    tx_queue(&r, d);
    for (int k = 0; k < 5; k++) {
        data_desc(d, 0, 0xFFFFF, k == 4 ? 0x0D : 0x04, 0x03);
        tx_queue(&r, d);
    }
    before = r.net->n_sent;
    tx_ring(&r);
    cr_assert_lt(r32(&r, 0x3810), 6, "stopped early");
    th_advance(r.m, 100000);
    cr_assert_eq(r32(&r, 0x3810), 6);
    cr_assert_gt(r.net->n_sent - before, 16000, "64-byte segments of the payload");
    /* Receive ring outside RAM, and RDT beyond RDLEN. */
    rx_setup(&r, 8, 0x8000, 2048);
    w32(&r, 0x2800, 0xF0000000u);
    uint8_t f[100];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 50, 0);
    cr_assert(net_receive(&r.net->be, f, len));
    w32(&r, 0x2818, 0xFFFF);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(net_queued_frames(&r.net->be), 1, "no usable descriptors: waits");
    /* Bus mastering off: no DMA at all. */
    pci_config_write(r.bus, PCI_DEVFN(SLOT, 0), PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    tx_setup(&r, 8);
    legacy_desc(d, TX_BUFS, 60, 0x09);
    tx_queue(&r, d);
    before = r.net->n_sent;
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent, before);
    rig_fini(&r);
}

Test(e1000, snapshot_round_trip_keeps_registers_and_eeprom)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 8, 0x8000, 2048);
    w32(&r, 0x00D0, 0x9D);
    uint8_t *buf;
    size_t blen;
    cr_assert_eq(vmstate_save_buf(&r.m->vmstate, &buf, &blen), 0);
    w32(&r, 0x0000, 1u << 26);
    cr_assert_eq(r32(&r, 0x00D0), 0);
    char err[128];
    cr_assert_eq(vmstate_load_buf(&r.m->vmstate, buf, blen, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(r32(&r, 0x00D0), 0x9D);
    cr_assert_eq(r32(&r, 0x0100), 0x8002);
    cr_assert_eq(ee_read(&r, 1), our_mac[2] | our_mac[3] << 8);
    rig_fini(&r);
}

Test(e1000, throughput_of_frames_through_the_device_model)
{
    Rig r;
    rig_init(&r);
    rx_setup(&r, 256, 0x8000 | (1u << 26), 2048);
    tx_setup(&r, 256);
    uint8_t f[1600], d[16];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 1000, 0);
    const int n = 20000;
    double t0 = nh_seconds();
    for (int k = 0; k < n; k++) {
        net_receive(&r.net->be, f, len);
        rx_recycle(&r, (uint32_t)k % 256);
    }
    double t1 = nh_seconds();
    cr_assert_eq(r32(&r, 0x4074), (uint32_t)n, "all received");
    uint64_t a = tx_copy(&r, f, len);
    for (int k = 0; k < n; k++) {
        legacy_desc(d, a, (uint16_t)len, 0x0B);
        tx_queue(&r, d);
        tx_ring(&r);
    }
    double t2 = nh_seconds();
    cr_assert_eq(r.net->n_sent, (unsigned)n);
    fprintf(stderr, "e1000: %zu-byte frames: rx %.0f frames/s, tx %.0f frames/s\n", len,
            n / (t1 - t0), n / (t2 - t1));
    rig_fini(&r);
}

/* A small deterministic generator for the register storm below. */
static uint32_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

Test(e1000, random_register_storm_with_garbage_rings_stays_bounded)
{
    Rig r;
    rig_init(&r);
    uint64_t seed = 0x5EEDu;
    /* Garbage everywhere in RAM, so every ring and descriptor the storm points at is random. */
    for (uint32_t i = 0; i < RAM_SIZE; i += 4) {
        uint32_t v = lcg(&seed);
        memcpy(&r.m->ram[i], &v, 4);
    }
    static const uint32_t hot[] = {0x0000, 0x0010, 0x0014, 0x0020, 0x00C0, 0x00C4, 0x00C8,
                                   0x00D0, 0x00D8, 0x0100, 0x0400, 0x2800, 0x2804, 0x2808,
                                   0x2810, 0x2818, 0x3800, 0x3804, 0x3808, 0x3810, 0x3818,
                                   0x5200, 0x5400, 0x5404, 0x4074};
    uint8_t f[1600];
    for (int k = 0; k < 20000; k++) {
        uint32_t pick = lcg(&seed);
        uint32_t off =
            (pick & 3) ? hot[pick % (sizeof(hot) / sizeof(hot[0]))] : (lcg(&seed) & 0x1FFFC);
        uint32_t v = lcg(&seed);
        if (off == 0x2800 || off == 0x3800) {
            v &= RAM_SIZE - 1; /* keep some rings inside RAM so they are walked */
        } else if (off == 0x2808 || off == 0x3808) {
            v &= 0x3FF80;
        } else if (off == 0x0000) {
            v &= ~(1u << 26) | ((pick >> 8) & 1u) << 26;
        }
        if (lcg(&seed) & 1) {
            w32(&r, off, v);
        } else {
            (void)r32(&r, off);
        }
        if ((k & 63) == 0) {
            size_t len = 14 + (lcg(&seed) % 1500);
            for (size_t i = 0; i < len; i++) {
                f[i] = (uint8_t)lcg(&seed);
            }
            memcpy(f, (k & 128) ? our_mac : bcast, 6);
            net_receive(&r.net->be, f, len);
        }
        if ((k & 255) == 0) {
            th_advance(r.m, 10000);
        }
    }
    th_advance(r.m, 10000000);
    /* Still a working card afterwards. */
    w32(&r, 0x0000, 1u << 26);
    rx_setup(&r, 8, 0x8000, 2048);
    tx_setup(&r, 8);
    unsigned before = r.net->n_sent;
    uint8_t d[16];
    size_t len = nh_make_frame(f, peer_mac, our_mac, 0x0800, 100, 1);
    legacy_desc(d, tx_copy(&r, f, len), (uint16_t)len, 0x0B);
    tx_queue(&r, d);
    tx_ring(&r);
    cr_assert_eq(r.net->n_sent, before + 1);
    rig_fini(&r);
}
