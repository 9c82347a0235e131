/* ne2000.c: NE2000-compatible PCI card (RTL8029AS) with a DP8390 core and 32 KiB buffer.
 *
 * The guest talks to the DP8390 register pages through CR.PS, moves data to and from the
 * on-card buffer through the remote DMA data port (RSAR/RBCR), transmits from TPSR/TBCR and
 * receives into the ring PSTART..PSTOP, where each frame starts at a page boundary with a
 * 4-byte header (RSR, next page, byte count low/high; the count includes the header). CURR is
 * the next page the card writes, BNRY the page the driver has read up to: the card never lets
 * CURR run onto BNRY (DP8390 datasheet, "Buffer Ring Overflow"), it raises OVW instead and the
 * frame waits in the backend's queue until the driver frees pages.
 *
 * Every address the guest gives (RSAR, TPSR, PSTART/PSTOP/CURR) is bounded to the card's
 * memory: outside 0x4000-0xBFFF reads give the PROM or 0xFF and writes are ignored. */
#include "devices/ne2000.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CR bits. */
#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RD_MASK 0x38
#define CR_RD_READ 0x08
#define CR_RD_WRITE 0x10
#define CR_RD_SEND 0x18
#define CR_RD_ABORT 0x20
#define CR_PS_SHIFT 6

/* ISR / IMR bits. */
#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_RXE 0x04
#define ISR_TXE 0x08
#define ISR_OVW 0x10
#define ISR_CNT 0x20
#define ISR_RDC 0x40
#define ISR_RST 0x80

/* RCR bits. */
#define RCR_SEP 0x01
#define RCR_AR 0x02
#define RCR_AB 0x04
#define RCR_AM 0x08
#define RCR_PRO 0x10
#define RCR_MON 0x20

#define TCR_LB_MASK 0x06
#define DCR_WTS 0x01

/* RSR / TSR bits. */
#define RSR_PRX 0x01
#define RSR_PHY 0x20
#define TSR_PTX 0x01

#define ETH_MIN_FRAME 60
#define ETH_HDR 14
#define PROM_SIZE 32

struct NE2000State {
    PCIDevice pci;
    Machine *m;
    NetBackend *backend;
    uint8_t mac[6];
    char vm_id[24];

    uint8_t cr, isr, imr, rcr, tcr, dcr, tsr, rsr, ncr;
    uint8_t pstart, pstop, bnry, curr, tpsr;
    uint16_t tbcr, rsar, rbcr;
    uint8_t par[6], mar[8];
    uint8_t rnpp, lnpp;
    uint16_t ac;
    uint8_t cntr[3];
    uint8_t prom[PROM_SIZE];
    uint8_t mem[NE2000_MEM_END - NE2000_MEM_START];
};

static int ne2000_post_load(void *opaque);

static const VMStateField ne2000_fields[] = {
    VMSTATE_STRUCT(NE2000State, pci, pci_device_vmstate, PCIDevice),
    VMSTATE_U8(NE2000State, cr),
    VMSTATE_U8(NE2000State, isr),
    VMSTATE_U8(NE2000State, imr),
    VMSTATE_U8(NE2000State, rcr),
    VMSTATE_U8(NE2000State, tcr),
    VMSTATE_U8(NE2000State, dcr),
    VMSTATE_U8(NE2000State, tsr),
    VMSTATE_U8(NE2000State, rsr),
    VMSTATE_U8(NE2000State, ncr),
    VMSTATE_U8(NE2000State, pstart),
    VMSTATE_U8(NE2000State, pstop),
    VMSTATE_U8(NE2000State, bnry),
    VMSTATE_U8(NE2000State, curr),
    VMSTATE_U8(NE2000State, tpsr),
    VMSTATE_U16(NE2000State, tbcr),
    VMSTATE_U16(NE2000State, rsar),
    VMSTATE_U16(NE2000State, rbcr),
    VMSTATE_U8_ARRAY(NE2000State, par, 6),
    VMSTATE_U8_ARRAY(NE2000State, mar, 8),
    VMSTATE_U8(NE2000State, rnpp),
    VMSTATE_U8(NE2000State, lnpp),
    VMSTATE_U16(NE2000State, ac),
    VMSTATE_U8_ARRAY(NE2000State, cntr, 3),
    VMSTATE_BUFFER(NE2000State, prom),
    VMSTATE_BUFFER(NE2000State, mem),
    VMSTATE_END,
};

static const VMStateDesc ne2000_vmstate = {
    .name = "ne2000",
    .version = 1,
    .fields = ne2000_fields,
    .post_load = ne2000_post_load,
};

static void ne2000_update_irq(NE2000State *s)
{
    pci_set_irq(&s->pci, (s->isr & s->imr & 0x7F) != 0);
}

/* --- card memory --- */

static uint8_t mem_rd(const NE2000State *s, uint32_t addr)
{
    addr &= 0xFFFF;
    if (addr < PROM_SIZE) {
        return s->prom[addr];
    }
    if (addr >= NE2000_MEM_START && addr < NE2000_MEM_END) {
        return s->mem[addr - NE2000_MEM_START];
    }
    return 0xFF;
}

static void mem_wr(NE2000State *s, uint32_t addr, uint8_t v)
{
    addr &= 0xFFFF;
    if (addr >= NE2000_MEM_START && addr < NE2000_MEM_END) {
        s->mem[addr - NE2000_MEM_START] = v;
    }
}

/* The ring is usable when PSTART < PSTOP and both lie in the buffer memory. */
static bool ring_valid(const NE2000State *s)
{
    return s->pstart < s->pstop && s->pstart >= (NE2000_MEM_START >> 8) &&
           s->pstop <= (NE2000_MEM_END >> 8);
}

/* --- receive --- */

/* The card runs until STP is written: drivers write CR without STA (e.g. 0x20 to select page
 * 0) while it keeps running. */
static bool ne2000_running(const NE2000State *s)
{
    return !(s->cr & CR_STP);
}

static bool ne2000_can_receive(void *opaque)
{
    NE2000State *s = opaque;
    return ne2000_running(s) && ring_valid(s);
}

/* Whether the address filter (RCR, PAR, MAR) accepts a frame for dst. */
static bool ne2000_accepts(const NE2000State *s, const uint8_t *dst)
{
    static const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    if (s->rcr & RCR_PRO) {
        return true;
    }
    if (!memcmp(dst, bcast, 6)) {
        return (s->rcr & RCR_AB) != 0;
    }
    if (dst[0] & 1) {
        if (!(s->rcr & RCR_AM)) {
            return false;
        }
        /* The top six bits of the CRC of the destination index the 64-bit MAR filter. */
        unsigned idx = net_crc32_be(dst, 6) >> 26;
        return (s->mar[idx >> 3] >> (idx & 7)) & 1;
    }
    return !memcmp(dst, s->par, 6);
}

/* Store one frame into the ring. Returns false when the ring has no room (OVW raised). */
static bool ne2000_store(NE2000State *s, const uint8_t *frame, size_t len)
{
    uint8_t padded[ETH_MIN_FRAME];
    if (len < ETH_HDR && !(s->rcr & RCR_AR)) {
        return true; /* a runt: dropped unless "accept runt" */
    }
    if (len < ETH_MIN_FRAME) {
        /* The sending MAC pads to the minimum; a short frame from a host backend gets the
         * same padding here. */
        memset(padded, 0, sizeof(padded));
        memcpy(padded, frame, len);
        frame = padded;
        len = ETH_MIN_FRAME;
    }
    if (len >= ETH_HDR || len >= 6) {
        if (!ne2000_accepts(s, frame)) {
            return true;
        }
    }
    if (s->rcr & RCR_MON) {
        s->cntr[2]++; /* monitor mode: checked and counted, not stored */
        return true;
    }
    unsigned ring = (unsigned)(s->pstop - s->pstart);
    size_t total = len + 4;
    /* The card moves to a fresh page after the last byte, so a frame ending exactly on a
     * page boundary still takes one page more: next = this + 1 + (count >> 8), the value
     * DP8390 drivers check the header's next pointer against. */
    unsigned pages = (unsigned)(total >> 8) + 1;
    unsigned curr = s->curr, bnry = s->bnry;
    if (curr < s->pstart || curr >= s->pstop) {
        curr = s->pstart;
    }
    if (bnry < s->pstart || bnry >= s->pstop) {
        bnry = s->pstart;
    }
    unsigned free_pages = (bnry + ring - curr) % ring;
    if (free_pages == 0) {
        free_pages = ring; /* CURR == BNRY: the ring is empty */
    }
    if (pages >= free_pages) {
        s->isr |= ISR_OVW;
        ne2000_update_irq(s);
        return false;
    }
    unsigned next = s->pstart + (curr - s->pstart + pages) % ring;
    uint8_t rsr = RSR_PRX | ((frame[0] & 1) ? RSR_PHY : 0);
    uint32_t addr = (uint32_t)curr << 8;
    uint32_t ring_start = (uint32_t)s->pstart << 8, ring_end = (uint32_t)s->pstop << 8;
    uint8_t hdr[4] = {rsr, (uint8_t)next, (uint8_t)total, (uint8_t)(total >> 8)};
    for (size_t i = 0; i < total; i++) {
        mem_wr(s, addr, i < 4 ? hdr[i] : frame[i - 4]);
        if (++addr >= ring_end) {
            addr = ring_start;
        }
    }
    s->curr = (uint8_t)next;
    s->rsr = rsr;
    s->isr |= ISR_PRX;
    ne2000_update_irq(s);
    return true;
}

static bool ne2000_receive(void *opaque, const uint8_t *frame, size_t len)
{
    NE2000State *s = opaque;
    if (!ne2000_can_receive(s)) {
        return false;
    }
    return ne2000_store(s, frame, len);
}

/* --- transmit --- */

static void ne2000_transmit(NE2000State *s)
{
    uint32_t start = (uint32_t)s->tpsr << 8;
    size_t len = s->tbcr;
    if (start < NE2000_MEM_START || start >= NE2000_MEM_END) {
        LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "ne2000: TPSR 0x%02x outside buffer memory\n",
                 s->tpsr);
        len = 0;
    } else if (start + len > NE2000_MEM_END) {
        len = NE2000_MEM_END - start;
    }
    if (len) {
        const uint8_t *frame = &s->mem[start - NE2000_MEM_START];
        if (s->tcr & TCR_LB_MASK) {
            /* Loopback: the frame comes back to our own receiver, not onto the wire. */
            if (ne2000_can_receive(s)) {
                ne2000_store(s, frame, len);
            }
        } else {
            net_send(s->backend, frame, len);
        }
    }
    s->tsr = TSR_PTX;
    s->cr &= (uint8_t)~CR_TXP;
    s->isr |= ISR_PTX;
    ne2000_update_irq(s);
}

/* --- remote DMA --- */

static void rdma_advance(NE2000State *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        s->rsar++;
        /* Remote DMA wraps from PSTOP to PSTART inside the ring (DP8390 datasheet). */
        if (ring_valid(s) && s->rsar == ((uint16_t)s->pstop << 8)) {
            s->rsar = (uint16_t)s->pstart << 8;
        }
    }
    if (s->rbcr <= n) {
        s->rbcr = 0;
        s->isr |= ISR_RDC;
        ne2000_update_irq(s);
    } else {
        s->rbcr -= (uint16_t)n;
    }
}

/* Bytes one data port access moves: in word mode (DCR.WTS) the card always moves at least a
 * word, so a byte IN returns the low byte of a word and advances by two; this is how
 * NE2000 drivers read the doubled PROM one station address byte per IN. */
static unsigned ne2000_xfer_bytes(const NE2000State *s, unsigned size)
{
    return ((s->dcr & DCR_WTS) && size < 2) ? 2 : size;
}

static uint32_t ne2000_data_read(NE2000State *s, unsigned size)
{
    if ((s->cr & CR_RD_MASK) != CR_RD_READ && (s->cr & CR_RD_MASK) != CR_RD_SEND) {
        LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "ne2000: data port read without remote read\n");
    }
    if (s->dcr & DCR_WTS) {
        s->rsar &= 0xFFFE; /* word transfers keep the address even */
    }
    unsigned n = ne2000_xfer_bytes(s, size);
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint32_t)mem_rd(s, s->rsar) << (8 * i);
        rdma_advance(s, 1);
    }
    return v;
}

static void ne2000_data_write(NE2000State *s, uint32_t val, unsigned size)
{
    if ((s->cr & CR_RD_MASK) != CR_RD_WRITE) {
        LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "ne2000: data port write without remote write\n");
    }
    if (s->dcr & DCR_WTS) {
        s->rsar &= 0xFFFE;
    }
    unsigned n = ne2000_xfer_bytes(s, size);
    for (unsigned i = 0; i < n; i++) {
        mem_wr(s, s->rsar, (uint8_t)(i < size ? val >> (8 * i) : 0));
        rdma_advance(s, 1);
    }
}

/* --- registers --- */

static void ne2000_soft_reset(NE2000State *s)
{
    s->isr = ISR_RST;
    s->cr = CR_STP | CR_RD_ABORT;
    s->imr = 0;
    s->dcr = 0;
    s->tcr = 0;
    s->rcr = 0;
    s->rbcr = 0;
    s->rsar = 0;
    ne2000_update_irq(s);
}

static void ne2000_write_cr(NE2000State *s, uint8_t v)
{
    uint8_t old = s->cr;
    /* TXP is only set by software, cleared by the card when the frame is sent. */
    s->cr = (uint8_t)((v & ~CR_TXP) | (old & CR_TXP));
    if ((v & CR_RD_MASK) == 0) {
        s->cr |= CR_RD_ABORT; /* "not allowed": treated as abort */
    }
    if (v & CR_STP) {
        s->cr &= (uint8_t)~CR_STA;
        s->isr |= ISR_RST;
    } else if (v & CR_STA) {
        s->isr &= (uint8_t)~ISR_RST;
    }
    if ((v & CR_RD_MASK) == CR_RD_SEND) {
        /* "Send packet": remote read of the frame at BNRY, its length from its header. */
        s->rsar = (uint16_t)s->bnry << 8;
        s->rbcr = (uint16_t)(mem_rd(s, s->rsar + 2u) | mem_rd(s, s->rsar + 3u) << 8);
    }
    if ((v & CR_RD_MASK) == CR_RD_READ || (v & CR_RD_MASK) == CR_RD_WRITE) {
        if (s->rbcr == 0) {
            s->isr |= ISR_RDC; /* a zero-length transfer completes at once */
        }
    }
    if ((v & CR_TXP) && !(v & CR_STP)) {
        s->cr |= CR_TXP;
        ne2000_transmit(s);
    }
    ne2000_update_irq(s);
    if (ne2000_running(s)) {
        net_rx_ready(s->backend);
    }
}

static uint8_t ne2000_reg_read(NE2000State *s, unsigned reg)
{
    unsigned page = s->cr >> CR_PS_SHIFT;
    if (reg == 0) {
        return s->cr;
    }
    switch (page) {
    case 0:
        switch (reg) {
        case 0x01:
            return 0; /* CLDA0: local DMA always sits at a page boundary (CURR << 8) */
        case 0x02:
            return s->curr;
        case 0x03:
            return s->bnry;
        case 0x04:
            return s->tsr;
        case 0x05:
            return s->ncr;
        case 0x06:
            return 0; /* FIFO */
        case 0x07:
            return s->isr;
        case 0x08:
            return (uint8_t)s->rsar; /* CRDA */
        case 0x09:
            return (uint8_t)(s->rsar >> 8);
        case 0x0A:
            return 0x50; /* RTL8029 ID0 'P' */
        case 0x0B:
            return 0x43; /* RTL8029 ID1 'C' */
        case 0x0C:
            return s->rsr;
        case 0x0D:
        case 0x0E:
        case 0x0F:
            return s->cntr[reg - 0x0D];
        }
        break;
    case 1:
        if (reg <= 6) {
            return s->par[reg - 1];
        }
        if (reg == 7) {
            return s->curr;
        }
        return s->mar[reg - 8];
    case 2:
        switch (reg) {
        case 0x01:
            return s->pstart;
        case 0x02:
            return s->pstop;
        case 0x03:
            return s->rnpp;
        case 0x04:
            return s->tpsr;
        case 0x05:
            return s->lnpp;
        case 0x06:
            return (uint8_t)(s->ac >> 8);
        case 0x07:
            return (uint8_t)s->ac;
        case 0x0C:
            return s->rcr;
        case 0x0D:
            return s->tcr;
        case 0x0E:
            return s->dcr;
        case 0x0F:
            return s->imr;
        }
        break;
    default:
        LOG_ONCE(&s->m->log, LOG_UNIMP, "ne2000: RTL8029 page 3 registers\n");
        return 0;
    }
    return 0xFF;
}

static void ne2000_reg_write(NE2000State *s, unsigned reg, uint8_t v)
{
    unsigned page = s->cr >> CR_PS_SHIFT;
    if (reg == 0) {
        ne2000_write_cr(s, v);
        return;
    }
    switch (page) {
    case 0:
        switch (reg) {
        case 0x01:
            s->pstart = v;
            break;
        case 0x02:
            s->pstop = v;
            break;
        case 0x03:
            s->bnry = v;
            net_rx_ready(s->backend); /* the driver freed ring pages */
            break;
        case 0x04:
            s->tpsr = v;
            break;
        case 0x05:
            s->tbcr = (uint16_t)((s->tbcr & 0xFF00) | v);
            break;
        case 0x06:
            s->tbcr = (uint16_t)((s->tbcr & 0x00FF) | v << 8);
            break;
        case 0x07:
            s->isr &= (uint8_t) ~(v & 0x7F); /* write 1 to clear; RST is status only */
            ne2000_update_irq(s);
            if (v & ISR_OVW) {
                net_rx_ready(s->backend);
            }
            break;
        case 0x08:
            s->rsar = (uint16_t)((s->rsar & 0xFF00) | v);
            break;
        case 0x09:
            s->rsar = (uint16_t)((s->rsar & 0x00FF) | v << 8);
            break;
        case 0x0A:
            s->rbcr = (uint16_t)((s->rbcr & 0xFF00) | v);
            break;
        case 0x0B:
            s->rbcr = (uint16_t)((s->rbcr & 0x00FF) | v << 8);
            break;
        case 0x0C:
            s->rcr = v & 0x3F;
            break;
        case 0x0D:
            s->tcr = v & 0x1F;
            break;
        case 0x0E:
            s->dcr = v & 0x7F;
            break;
        case 0x0F:
            s->imr = v & 0x7F;
            ne2000_update_irq(s);
            break;
        }
        break;
    case 1:
        if (reg <= 6) {
            s->par[reg - 1] = v;
        } else if (reg == 7) {
            s->curr = v;
            net_rx_ready(s->backend);
        } else {
            s->mar[reg - 8] = v;
        }
        break;
    case 2:
        switch (reg) {
        case 0x01:
            s->pstart = v; /* page 2 is for diagnostics; these are writable there too */
            break;
        case 0x02:
            s->pstop = v;
            break;
        case 0x03:
            s->rnpp = v;
            break;
        case 0x05:
            s->lnpp = v;
            break;
        case 0x06:
            s->ac = (uint16_t)((s->ac & 0x00FF) | v << 8);
            break;
        case 0x07:
            s->ac = (uint16_t)((s->ac & 0xFF00) | v);
            break;
        default:
            break;
        }
        break;
    default:
        LOG_ONCE(&s->m->log, LOG_UNIMP, "ne2000: RTL8029 page 3 register write\n");
        break;
    }
}

static uint64_t ne2000_io_read(void *opaque, uint64_t addr, unsigned size)
{
    NE2000State *s = opaque;
    if (addr >= NE2000_DATA_PORT && addr < NE2000_DATA_PORT + 8) {
        return ne2000_data_read(s, size);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        uint8_t b = 0xFF;
        if (a < 0x10) {
            b = ne2000_reg_read(s, (unsigned)a);
        } else if (a >= 0x18 && a < NE2000_IO_SIZE) {
            ne2000_soft_reset(s); /* reading the reset port resets the card */
            b = 0;
        }
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void ne2000_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    NE2000State *s = opaque;
    if (addr >= NE2000_DATA_PORT && addr < NE2000_DATA_PORT + 8) {
        ne2000_data_write(s, (uint32_t)val, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;
        if (a < 0x10) {
            ne2000_reg_write(s, (unsigned)a, (uint8_t)(val >> (8 * i)));
        } else if (a >= 0x18 && a < NE2000_IO_SIZE) {
            ne2000_soft_reset(s);
        }
    }
}

static const IOOps ne2000_io_ops = {
    .read = ne2000_io_read,
    .write = ne2000_io_write,
    .min_access = 1,
    .max_access = 4,
};

/* --- lifecycle --- */

static void ne2000_build_prom(NE2000State *s)
{
    /* 16 PROM words, each byte doubled as a 16-bit card presents it: the station address in
     * words 0-5 and the NE2000 signature 0x57 ('W') in words 14 and 15. */
    uint8_t words[16];
    memset(words, 0, sizeof(words));
    memcpy(words, s->mac, 6);
    words[14] = words[15] = 0x57;
    for (int i = 0; i < 16; i++) {
        s->prom[2 * i] = s->prom[2 * i + 1] = words[i];
    }
}

static void ne2000_reset(void *opaque)
{
    NE2000State *s = opaque;
    pci_device_reset(&s->pci);
    ne2000_soft_reset(s);
    s->pstart = s->pstop = s->bnry = s->curr = s->tpsr = 0;
    s->tbcr = 0;
    s->tsr = s->rsr = s->ncr = 0;
    memset(s->par, 0, sizeof(s->par));
    memset(s->mar, 0, sizeof(s->mar));
    memset(s->cntr, 0, sizeof(s->cntr));
    ne2000_build_prom(s);
}

static int ne2000_post_load(void *opaque)
{
    NE2000State *s = opaque;
    int r = pci_device_post_load(&s->pci);
    ne2000_update_irq(s);
    return r;
}

PCIDevice *ne2000_pci(NE2000State *s)
{
    return &s->pci;
}

NE2000State *ne2000_pci_new(Machine *m, PCIBus *bus, unsigned devfn, const NICConf *conf)
{
    NE2000State *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->m = m;
    s->backend = conf ? conf->backend : NULL;
    if (conf) {
        memcpy(s->mac, conf->mac, 6);
    } else {
        net_default_mac(0, s->mac);
    }
    PCIDevice *d = &s->pci;
    pci_device_init(d, "ne2k_pci", NE2000_VENDOR_ID, NE2000_DEVICE_ID, 0x00, 0x020000, 0x00, 1);
    pci_set_le(d->config, PCI_SUBSYSTEM_VENDOR_ID, NE2000_VENDOR_ID, 2);
    pci_set_le(d->config, PCI_SUBSYSTEM_VENDOR_ID + 2, NE2000_DEVICE_ID, 2);
    snprintf(s->vm_id, sizeof(s->vm_id), "ne2k@%u.%u", PCI_SLOT(devfn), PCI_FUNC(devfn));
    if (pci_register_bar(d, 0, PCI_BAR_IO, NE2000_IO_SIZE, &ne2000_io_ops, s, NULL, false) < 0 ||
        pci_bus_add_device(bus, d, devfn) < 0 || machine_add_reset(m, ne2000_reset, s) < 0 ||
        vmstate_register(&m->vmstate, s->vm_id, &ne2000_vmstate, s) < 0) {
        free(s);
        return NULL;
    }
    ne2000_reset(s);
    NetNIC nic = {.can_receive = ne2000_can_receive, .receive = ne2000_receive, .opaque = s};
    net_attach_nic(s->backend, &nic);
    return s;
}

void ne2000_free(NE2000State *s)
{
    /* The backend may be gone by now: it is not touched. */
    free(s);
}
