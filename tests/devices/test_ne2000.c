/* test_ne2000.c: the NE2000 (RTL8029) PCI card through its I/O BAR with a recording backend:
 * registers, PROM, remote DMA, transmit, ring receive with wrap and overflow, filters, IRQs. */
#include <stdio.h>

#include "devices/ne2000.h"
#include "net_harness.h"

#define IOB 0xC100
#define SLOT 3
#define RX_START 0x4C
#define RX_STOP 0x80
#define TX_PAGE 0x40

static const uint8_t our_mac[6] = {0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

typedef struct Rig {
    Machine *m;
    PCIBus *bus;
    NE2000State *nic;
    TestNet *net;
} Rig;

static int pirq(void)
{
    return pci_slot_pirq(SLOT, 1);
}

static void rig_init(Rig *r)
{
    r->m = th_machine();
    r->bus = pci_bus_new(r->m);
    cr_assert_not_null(r->bus);
    r->net = nh_new();
    pci_bus_set_pirq_handler(r->bus, nh_pirq, r->net);
    NICConf conf = {.backend = &r->net->be};
    memcpy(conf.mac, our_mac, 6);
    r->nic = ne2000_pci_new(r->m, r->bus, PCI_DEVFN(SLOT, 0), &conf);
    cr_assert_not_null(r->nic);
    pci_config_write(r->bus, PCI_DEVFN(SLOT, 0), PCI_BAR0, IOB, 4);
    pci_config_write(r->bus, PCI_DEVFN(SLOT, 0), PCI_COMMAND, PCI_COMMAND_IO, 2);
}

static void rig_fini(Rig *r)
{
    ne2000_free(r->nic);
    machine_free(r->m);
    pci_bus_free(r->bus);
    nh_free(r->net);
}

static uint8_t rd(Rig *r, unsigned reg)
{
    return (uint8_t)port_read(&r->m->io, (uint16_t)(IOB + reg), 1);
}

static void wr(Rig *r, unsigned reg, uint8_t v)
{
    port_write(&r->m->io, (uint16_t)(IOB + reg), v, 1);
}

/* What a Linux-style driver does to bring the card up: stop, word mode, ring, MAC, start. */
static void driver_init(Rig *r, uint8_t rcr)
{
    wr(r, 0x00, 0x21); /* page 0, stop, abort DMA */
    wr(r, 0x0E, 0x49); /* DCR: word transfers, normal, FIFO 8 bytes */
    wr(r, 0x0A, 0);
    wr(r, 0x0B, 0);
    wr(r, 0x0C, rcr);
    wr(r, 0x0D, 0x02); /* internal loopback while setting up */
    wr(r, 0x01, RX_START);
    wr(r, 0x02, RX_STOP);
    wr(r, 0x03, RX_STOP - 1); /* BNRY */
    wr(r, 0x04, TX_PAGE);
    wr(r, 0x07, 0xFF);
    wr(r, 0x0F, 0x3F); /* IMR: everything but RDC */
    wr(r, 0x00, 0x61); /* page 1 */
    for (int i = 0; i < 6; i++) {
        wr(r, 0x01 + i, our_mac[i]);
    }
    wr(r, 0x07, RX_START); /* CURR */
    for (int i = 0; i < 8; i++) {
        wr(r, 0x08 + i, 0);
    }
    wr(r, 0x00, 0x22); /* page 0, start */
    wr(r, 0x0D, 0x00); /* TCR: normal */
}

static void dma_setup(Rig *r, uint16_t addr, uint16_t count, uint8_t cmd)
{
    wr(r, 0x0A, (uint8_t)count);
    wr(r, 0x0B, (uint8_t)(count >> 8));
    wr(r, 0x08, (uint8_t)addr);
    wr(r, 0x09, (uint8_t)(addr >> 8));
    wr(r, 0x00, cmd);
}

/* Remote-write len bytes (even) with 16-bit accesses. */
static void card_write(Rig *r, uint16_t addr, const uint8_t *buf, size_t len)
{
    dma_setup(r, addr, (uint16_t)len, 0x12);
    for (size_t i = 0; i < len; i += 2) {
        uint16_t w = (uint16_t)(buf[i] | (i + 1 < len ? buf[i + 1] << 8 : 0));
        port_write(&r->m->io, IOB + 0x10, w, 2);
    }
}

static void card_read(Rig *r, uint16_t addr, uint8_t *buf, size_t len)
{
    dma_setup(r, addr, (uint16_t)((len + 1) & ~1u), 0x0A);
    for (size_t i = 0; i < len; i += 2) {
        uint16_t w = (uint16_t)port_read(&r->m->io, IOB + 0x10, 2);
        buf[i] = (uint8_t)w;
        if (i + 1 < len) {
            buf[i + 1] = (uint8_t)(w >> 8);
        }
    }
}

static uint8_t get_curr(Rig *r)
{
    wr(r, 0x00, 0x62);
    uint8_t c = rd(r, 0x07);
    wr(r, 0x00, 0x22);
    return c;
}

/* Read the next frame as a driver does: header at BNRY+1, data, then advance BNRY. Returns
 * the frame length (without the header), 0 if the ring is empty. */
static size_t driver_recv(Rig *r, uint8_t *buf, size_t max, uint8_t *rsr)
{
    uint8_t bnry = rd(r, 0x03);
    uint8_t page = (uint8_t)(bnry + 1 >= RX_STOP ? RX_START : bnry + 1);
    if (page == get_curr(r)) {
        return 0;
    }
    uint8_t hdr[4];
    card_read(r, (uint16_t)(page << 8), hdr, 4);
    size_t count = (size_t)(hdr[2] | hdr[3] << 8) - 4;
    cr_assert(count <= max, "frame count %zu", count);
    size_t first = ((size_t)RX_STOP << 8) - ((size_t)page << 8) - 4;
    if (count > first) {
        card_read(r, (uint16_t)((page << 8) + 4), buf, first);
        card_read(r, RX_START << 8, buf + first, count - first);
    } else {
        card_read(r, (uint16_t)((page << 8) + 4), buf, count);
    }
    *rsr = hdr[0];
    uint8_t next = hdr[1];
    wr(r, 0x03, (uint8_t)(next == RX_START ? RX_STOP - 1 : next - 1));
    return count;
}

Test(ne2000, pci_header_is_an_rtl8029_with_a_32_byte_io_bar)
{
    Rig r;
    rig_init(&r);
    unsigned devfn = PCI_DEVFN(SLOT, 0);
    cr_assert_eq(pci_config_read(r.bus, devfn, PCI_VENDOR_ID, 2), 0x10EC);
    cr_assert_eq(pci_config_read(r.bus, devfn, PCI_DEVICE_ID, 2), 0x8029);
    cr_assert_eq(pci_config_read(r.bus, devfn, 0x08, 4) >> 8, 0x020000);
    cr_assert_eq(pci_config_read(r.bus, devfn, PCI_INTERRUPT_PIN, 1), 1);
    pci_config_write(r.bus, devfn, PCI_BAR0, 0xFFFFFFFF, 4);
    cr_assert_eq(pci_config_read(r.bus, devfn, PCI_BAR0, 4), 0xFFFFFFE1);
    rig_fini(&r);
}

Test(ne2000, rtl8029_id_registers_read_p_and_c)
{
    Rig r;
    rig_init(&r);
    wr(&r, 0x00, 0x21);
    cr_assert_eq(rd(&r, 0x0A), 0x50);
    cr_assert_eq(rd(&r, 0x0B), 0x43);
    rig_fini(&r);
}

Test(ne2000, reset_port_stops_the_card_and_sets_isr_rst)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    cr_assert_eq(rd(&r, 0x07) & 0x80, 0, "running card has RST clear");
    (void)rd(&r, 0x1F);
    cr_assert_eq(rd(&r, 0x07) & 0x80, 0x80);
    cr_assert_eq(rd(&r, 0x00) & 0x03, 0x01, "CR.STP after reset");
    rig_fini(&r);
}

Test(ne2000, prom_holds_the_doubled_station_address_and_ww_signature)
{
    Rig r;
    rig_init(&r);
    wr(&r, 0x00, 0x21);
    wr(&r, 0x0E, 0x48); /* byte mode */
    dma_setup(&r, 0, 32, 0x0A);
    uint8_t prom[32];
    for (int i = 0; i < 32; i++) {
        prom[i] = rd(&r, 0x10);
    }
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(prom[2 * i], our_mac[i]);
        cr_assert_eq(prom[2 * i + 1], our_mac[i]);
    }
    cr_assert_eq(prom[28], 0x57);
    cr_assert_eq(prom[30], 0x57);
    cr_assert_eq(rd(&r, 0x07) & 0x40, 0x40, "RDC after the 32 bytes");
    rig_fini(&r);
}

Test(ne2000, byte_reads_in_word_mode_give_one_station_address_byte_each)
{
    /* What ne2k-pci does: DCR word mode, then 32 INs of a byte from the data port. */
    Rig r;
    rig_init(&r);
    wr(&r, 0x00, 0x21);
    wr(&r, 0x0E, 0x49);
    dma_setup(&r, 0, 32, 0x0A);
    uint8_t sa[32];
    for (int i = 0; i < 32; i++) {
        sa[i] = rd(&r, 0x10);
    }
    cr_assert_arr_eq(sa, our_mac, 6);
    cr_assert_eq(sa[14], 0x57);
    cr_assert_eq(sa[15], 0x57);
    rig_fini(&r);
}

Test(ne2000, writing_cr_without_sta_keeps_the_card_running)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    wr(&r, 0x00, 0x20); /* page 0, no DMA: what Linux writes before reading ISR */
    uint8_t f[100], g[1600], rsr;
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 50, 0);
    cr_assert(net_receive(&r.net->be, f, len));
    cr_assert_eq(net_queued_frames(&r.net->be), 0);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    rig_fini(&r);
}

Test(ne2000, remote_dma_word_and_byte_transfers_round_trip_and_crda_follows)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t out[64], in[64];
    for (int i = 0; i < 64; i++) {
        out[i] = (uint8_t)(i * 7 + 1);
    }
    wr(&r, 0x07, 0x40);
    card_write(&r, 0x5000, out, 64);
    cr_assert_eq(rd(&r, 0x07) & 0x40, 0x40, "RDC when the count reaches zero");
    cr_assert_eq(rd(&r, 0x08) | rd(&r, 0x09) << 8, 0x5040, "CRDA after the transfer");
    card_read(&r, 0x5000, in, 64);
    cr_assert_arr_eq(in, out, 64);
    /* Byte mode reads the same memory a byte at a time. */
    wr(&r, 0x0E, 0x48);
    dma_setup(&r, 0x5001, 3, 0x0A);
    cr_assert_eq(rd(&r, 0x10), out[1]);
    cr_assert_eq(rd(&r, 0x10), out[2]);
    cr_assert_eq(rd(&r, 0x10), out[3]);
    rig_fini(&r);
}

Test(ne2000, transmit_sends_tbcr_bytes_from_tpsr_and_raises_ptx)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[100];
    size_t len = nh_make_frame(f, peer_mac, our_mac, 0x0800, 86, 3);
    card_write(&r, TX_PAGE << 8, f, len);
    wr(&r, 0x07, 0xFF);
    wr(&r, 0x04, TX_PAGE);
    wr(&r, 0x05, (uint8_t)len);
    wr(&r, 0x06, 0);
    wr(&r, 0x00, 0x26); /* start + TXP */
    cr_assert_eq(r.net->n_sent, 1);
    size_t got;
    const uint8_t *g = nh_frame(r.net, 0, &got);
    cr_assert_eq(got, len);
    cr_assert_arr_eq(g, f, len);
    cr_assert_eq(rd(&r, 0x07) & 0x02, 0x02, "ISR.PTX");
    cr_assert_eq(rd(&r, 0x04) & 0x01, 0x01, "TSR.PTX");
    cr_assert_eq(rd(&r, 0x00) & 0x04, 0, "TXP clears when done");
    cr_assert_eq(r.net->pirq_level[pirq()], 1, "INTA with PTX unmasked");
    wr(&r, 0x07, 0x02);
    cr_assert_eq(r.net->pirq_level[pirq()], 0, "INTA drops when ISR is acknowledged");
    rig_fini(&r);
}

Test(ne2000, receive_writes_header_and_frame_and_advances_curr)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[400], g[1600];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 300, 9);
    cr_assert(net_receive(&r.net->be, f, len));
    cr_assert_eq(rd(&r, 0x07) & 0x01, 0x01, "ISR.PRX");
    cr_assert_eq(r.net->pirq_level[pirq()], 1);
    uint8_t hdr[4];
    card_read(&r, RX_START << 8, hdr, 4);
    cr_assert_eq(hdr[0] & 0x01, 0x01, "RSR.PRX in the header");
    cr_assert_eq(hdr[2] | hdr[3] << 8, len + 4, "count includes the header");
    cr_assert_eq(hdr[1], RX_START + 2, "318 bytes need two pages");
    cr_assert_eq(get_curr(&r), RX_START + 2);
    uint8_t rsr;
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    cr_assert_arr_eq(g, f, len);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 0, "ring empty afterwards");
    rig_fini(&r);
}

Test(ne2000, a_frame_ending_on_a_page_boundary_still_advances_to_a_fresh_page)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[600], g[1600], rsr;
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 512 - 4 - 14, 1);
    net_receive(&r.net->be, f, len);
    uint8_t hdr[4];
    card_read(&r, RX_START << 8, hdr, 4);
    cr_assert_eq(hdr[2] | hdr[3] << 8, 512);
    cr_assert_eq(hdr[1], RX_START + 1 + (512 >> 8), "next = this + 1 + (count >> 8)");
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    rig_fini(&r);
}

Test(ne2000, short_frames_are_padded_to_60_bytes)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[64], g[1600], rsr;
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0806, 28, 0);
    cr_assert(net_receive(&r.net->be, f, len));
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 60);
    cr_assert_arr_eq(g, f, len);
    cr_assert_eq(g[59], 0);
    rig_fini(&r);
}

Test(ne2000, frames_wrap_from_pstop_to_pstart)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[1600], g[1600], rsr;
    /* 1000-byte frames take 4 pages; after 12 frames CURR is 0x7C, the 13th wraps. */
    for (int k = 0; k < 20; k++) {
        size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 986, (uint8_t)k);
        cr_assert(net_receive(&r.net->be, f, len));
        cr_assert_eq(net_queued_frames(&r.net->be), 0);
        memset(g, 0, sizeof(g));
        cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len, "frame %d", k);
        cr_assert_arr_eq(g, f, len, "frame %d", k);
    }
    cr_assert_eq(get_curr(&r), RX_START + (20 * 4) % (RX_STOP - RX_START));
    rig_fini(&r);
}

Test(ne2000, a_full_ring_raises_ovw_and_the_frame_waits_until_bnry_moves)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[1600], g[1600], rsr;
    /* The ring has 52 pages; 1500-byte frames take 6: eight fit (48 pages), a ninth not. */
    for (int k = 0; k < 8; k++) {
        size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 1486, (uint8_t)k);
        net_receive(&r.net->be, f, len);
    }
    cr_assert_eq(rd(&r, 0x07) & 0x10, 0, "no overflow yet");
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 1486, 8);
    cr_assert(net_receive(&r.net->be, f, len), "queued, not dropped");
    cr_assert_eq(rd(&r, 0x07) & 0x10, 0x10, "ISR.OVW");
    cr_assert_eq(net_queued_frames(&r.net->be), 1);
    /* Reading one frame frees six pages: BNRY moves and the waiting frame lands. */
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 1500);
    cr_assert_eq(g[14], 0);
    cr_assert_eq(net_queued_frames(&r.net->be), 0);
    for (int k = 1; k <= 8; k++) {
        cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 1500, "frame %d", k);
        cr_assert_eq(g[14], (uint8_t)k, "frame %d in order", k);
    }
    rig_fini(&r);
}

Test(ne2000, rcr_filters_unicast_broadcast_multicast_and_promiscuous)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x00); /* only our unicast address */
    uint8_t f[100], g[1600], rsr;
    const uint8_t other[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    const uint8_t mcast[6] = {0x01, 0x00, 0x5E, 0x00, 0x00, 0x01};
    size_t len = nh_make_frame(f, other, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    len = nh_make_frame(f, bcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    len = nh_make_frame(f, mcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 0, "nothing accepted");

    wr(&r, 0x0C, 0x04); /* AB */
    len = nh_make_frame(f, bcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    cr_assert_eq(rsr & 0x20, 0x20, "RSR.PHY for a broadcast");

    /* Multicast: AM plus the hash bit (top 6 bits of the CRC) set in MAR. */
    wr(&r, 0x0C, 0x08);
    len = nh_make_frame(f, mcast, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 0, "hash bit clear");
    unsigned idx = net_crc32_be(mcast, 6) >> 26;
    wr(&r, 0x00, 0x62);
    wr(&r, 0x08 + (idx >> 3), (uint8_t)(1u << (idx & 7)));
    wr(&r, 0x00, 0x22);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len, "hash bit set");

    wr(&r, 0x0C, 0x10); /* PRO */
    len = nh_make_frame(f, other, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    cr_assert_arr_eq(g, other, 6);
    rig_fini(&r);
}

Test(ne2000, multicast_hash_crc_is_the_unreflected_ethernet_crc)
{
    /* The DP8390 hash CRC is the Ethernet CRC register before the final inversion, read MSB
     * first: the bit reversal of the complemented reflected CRC. */
    const uint8_t addrs[3][6] = {{0x01, 0x00, 0x5E, 0x00, 0x00, 0x01},
                                 {0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
                                 {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}};
    for (int i = 0; i < 3; i++) {
        uint32_t le = ~net_crc32_le(addrs[i], 6), rev = 0;
        for (int b = 0; b < 32; b++) {
            rev |= ((le >> b) & 1u) << (31 - b);
        }
        cr_assert_eq(net_crc32_be(addrs[i], 6), rev, "address %d", i);
    }
    /* And the reflected CRC is the standard one: CRC-32 of "123456789" is 0xCBF43926. */
    cr_assert_eq(net_crc32_le((const uint8_t *)"123456789", 9), 0xCBF43926u);
}

Test(ne2000, runts_are_dropped_unless_rcr_ar)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x10);
    uint8_t f[10] = {0}, g[1600], rsr;
    net_receive(&r.net->be, f, sizeof(f));
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 0);
    wr(&r, 0x0C, 0x12);
    net_receive(&r.net->be, f, sizeof(f));
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), 60);
    rig_fini(&r);
}

Test(ne2000, interrupts_follow_isr_and_imr)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    wr(&r, 0x0F, 0x00);
    uint8_t f[100];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(r.net->pirq_level[pirq()], 0, "PRX masked");
    wr(&r, 0x0F, 0x01);
    cr_assert_eq(r.net->pirq_level[pirq()], 1, "unmasking a pending PRX raises INTA");
    cr_assert_eq(rd(&r, 0x00) >> 6, 0);
    wr(&r, 0x00, 0xA2); /* page 2 */
    cr_assert_eq(rd(&r, 0x0F), 0x01, "IMR readable on page 2");
    cr_assert_eq(rd(&r, 0x01), RX_START);
    cr_assert_eq(rd(&r, 0x02), RX_STOP);
    wr(&r, 0x00, 0x22);
    wr(&r, 0x07, 0x01);
    cr_assert_eq(r.net->pirq_level[pirq()], 0);
    rig_fini(&r);
}

Test(ne2000, loopback_mode_receives_our_own_frame)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    wr(&r, 0x0D, 0x02);
    uint8_t f[100], g[1600], rsr;
    size_t len = nh_make_frame(f, our_mac, our_mac, 0x0800, 60, 5);
    card_write(&r, TX_PAGE << 8, f, len);
    wr(&r, 0x04, TX_PAGE);
    wr(&r, 0x05, (uint8_t)len);
    wr(&r, 0x06, 0);
    wr(&r, 0x00, 0x26);
    cr_assert_eq(r.net->n_sent, 0, "nothing on the wire");
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    cr_assert_arr_eq(g, f, len);
    rig_fini(&r);
}

Test(ne2000, hostile_addresses_and_counts_stay_inside_the_card)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    /* Transmit from beyond the buffer, and a length running off its end. */
    wr(&r, 0x04, 0xF0);
    wr(&r, 0x05, 0xFF);
    wr(&r, 0x06, 0xFF);
    wr(&r, 0x00, 0x26);
    cr_assert_eq(r.net->n_sent, 0);
    wr(&r, 0x04, 0xBF);
    wr(&r, 0x00, 0x26);
    cr_assert_eq(r.net->n_sent, 1);
    size_t got;
    nh_frame(r.net, 0, &got);
    cr_assert_eq(got, 256, "clipped at the end of the buffer");
    /* Remote DMA across the whole 64 KiB address space with a 64K count. */
    dma_setup(&r, 0xFFF0, 0xFFFF, 0x12);
    for (int i = 0; i < 0x9000; i++) {
        port_write(&r.m->io, IOB + 0x10, 0xA5A5, 2);
    }
    /* A ring outside the memory, PSTART >= PSTOP, CURR outside: frames are not stored. */
    wr(&r, 0x00, 0x21);
    wr(&r, 0x01, 0xF0);
    wr(&r, 0x02, 0x10);
    wr(&r, 0x00, 0x22);
    uint8_t f[100];
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 50, 0);
    net_receive(&r.net->be, f, len);
    cr_assert_eq(rd(&r, 0x07) & 0x01, 0);
    wr(&r, 0x00, 0x21);
    wr(&r, 0x01, RX_START);
    wr(&r, 0x02, RX_STOP);
    wr(&r, 0x00, 0x62);
    wr(&r, 0x07, 0xFE); /* CURR far outside the ring */
    wr(&r, 0x00, 0x22);
    net_rx_ready(&r.net->be);
    cr_assert_eq(rd(&r, 0x07) & 0x01, 0x01, "the queued frame lands at PSTART");
    rig_fini(&r);
}

Test(ne2000, snapshot_round_trip_keeps_ring_and_registers)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[200], g[1600], rsr;
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 150, 1);
    net_receive(&r.net->be, f, len);
    uint8_t *buf;
    size_t blen;
    cr_assert_eq(vmstate_save_buf(&r.m->vmstate, &buf, &blen), 0);
    (void)rd(&r, 0x1F); /* reset, then clobber the ring */
    card_write(&r, RX_START << 8, g, 256);
    char err[128];
    cr_assert_eq(vmstate_load_buf(&r.m->vmstate, buf, blen, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    cr_assert_arr_eq(g, f, len);
    rig_fini(&r);
}

Test(ne2000, throughput_of_frames_through_the_device_model)
{
    Rig r;
    rig_init(&r);
    driver_init(&r, 0x04);
    uint8_t f[1600], g[1600], rsr;
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 1000, 0);
    const int n = 4000;
    double t0 = nh_seconds();
    for (int k = 0; k < n; k++) {
        net_receive(&r.net->be, f, len);
        cr_assert_eq(driver_recv(&r, g, sizeof(g), &rsr), len);
    }
    double t1 = nh_seconds();
    for (int k = 0; k < n; k++) {
        card_write(&r, TX_PAGE << 8, f, len);
        wr(&r, 0x04, TX_PAGE);
        wr(&r, 0x05, (uint8_t)len);
        wr(&r, 0x06, (uint8_t)(len >> 8));
        wr(&r, 0x00, 0x26);
    }
    double t2 = nh_seconds();
    cr_assert_eq(r.net->n_sent, (unsigned)n);
    fprintf(stderr, "ne2000: %zu-byte frames: rx %.0f frames/s, tx %.0f frames/s\n", len,
            n / (t1 - t0), n / (t2 - t1));
    rig_fini(&r);
}

static uint32_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

Test(ne2000, random_register_storm_stays_bounded_and_the_card_recovers)
{
    Rig r;
    rig_init(&r);
    uint64_t seed = 0xC0FFEEu;
    uint8_t f[1600], g[1600], rsr;
    for (int k = 0; k < 50000; k++) {
        unsigned port = lcg(&seed) % NE2000_IO_SIZE;
        unsigned size = 1u << (lcg(&seed) % 3);
        if (port + size > NE2000_IO_SIZE) {
            size = 1;
        }
        uint32_t v = lcg(&seed);
        if (lcg(&seed) & 1) {
            port_write(&r.m->io, (uint16_t)(IOB + port), v, size);
        } else {
            (void)port_read(&r.m->io, (uint16_t)(IOB + port), size);
        }
        if ((k & 31) == 0) {
            size_t len = 1 + lcg(&seed) % 1514;
            for (size_t i = 0; i < len; i++) {
                f[i] = (uint8_t)lcg(&seed);
            }
            net_receive(&r.net->be, f, len);
        }
    }
    (void)rd(&r, 0x1F);
    driver_init(&r, 0x04);
    /* Frames left waiting from the storm drain first; then ours arrives. */
    size_t len = nh_make_frame(f, our_mac, peer_mac, 0x0800, 200, 42);
    size_t got = 0;
    for (int k = 0; k < 300 && got != len; k++) {
        net_receive(&r.net->be, f, len);
        got = driver_recv(&r, g, sizeof(g), &rsr);
        while (got && got != len) {
            got = driver_recv(&r, g, sizeof(g), &rsr);
        }
    }
    cr_assert_eq(got, len);
    cr_assert_arr_eq(g, f, len);
    rig_fini(&r);
}
