/* e1000.c: Intel 82540EM Gigabit Ethernet controller: registers, EEPROM, PHY, descriptor rings
 * with checksum offload and TCP segmentation, address filters, interrupt throttling.
 *
 * References are to the "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual" (8254x SDM). The guest hands the card rings of 16-byte descriptors in
 * its RAM: receive descriptors point at buffers the card fills (RDH is the card's next,
 * RDT one past the software's last free one), transmit descriptors point at data the card
 * sends (TDH the card's next, TDT one past the last ready one). Every DMA goes only to guest
 * RAM (never to MMIO, so a descriptor cannot point the card at its own registers), is bounded
 * by the descriptor's length, and every ring walk is bounded by the ring size, so a hostile
 * ring cannot make the card read outside guest memory, loop or allocate without bound. */
#include "devices/e1000.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Register offsets (SDM section 13). */
enum {
    R_CTRL = 0x0000,
    R_STATUS = 0x0008,
    R_EECD = 0x0010,
    R_EERD = 0x0014,
    R_CTRL_EXT = 0x0018,
    R_MDIC = 0x0020,
    R_ICR = 0x00C0,
    R_ITR = 0x00C4,
    R_ICS = 0x00C8,
    R_IMS = 0x00D0,
    R_IMC = 0x00D8,
    R_RCTL = 0x0100,
    R_TCTL = 0x0400,
    R_RDBAL = 0x2800,
    R_RDBAH = 0x2804,
    R_RDLEN = 0x2808,
    R_RDH = 0x2810,
    R_RDT = 0x2818,
    R_TDBAL = 0x3800,
    R_TDBAH = 0x3804,
    R_TDLEN = 0x3808,
    R_TDH = 0x3810,
    R_TDT = 0x3818,
    R_STATS = 0x4000,
    R_STATS_END = 0x4100,
    R_RXCSUM = 0x5000,
    R_MTA = 0x5200,
    R_VFTA = 0x5600,
    R_RA = 0x5400,
    R_VET = 0x0038,
    R_PBA = 0x1000,
    R_RDTR = 0x2820,
    R_RADV = 0x282C,
    R_TIDV = 0x3820,
    R_TADV = 0x382C,
};

/* Statistics registers used (offsets from 0x4000). */
enum {
    S_MPC = 0x10,
    S_GPRC = 0x74,
    S_BPRC = 0x78,
    S_MPRC = 0x7C,
    S_GPTC = 0x80,
    S_GORCL = 0x88,
    S_GORCH = 0x8C,
    S_GOTCL = 0x90,
    S_GOTCH = 0x94,
    S_RNBC = 0xA0,
    S_TORL = 0xC0,
    S_TORH = 0xC4,
    S_TOTL = 0xC8,
    S_TOTH = 0xCC,
    S_TPR = 0xD0,
    S_TPT = 0xD4,
    S_MPTC = 0xF0,
    S_BPTC = 0xF4,
    S_TSCTC = 0xF8,
};

#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define CTRL_VME (1u << 30)
#define CTRL_PHY_RST (1u << 31)
#define STATUS_FD 0x01u
#define STATUS_LU 0x02u
#define STATUS_SPEED_1000 0x80u

#define EECD_SK 0x01u
#define EECD_CS 0x02u
#define EECD_DI 0x04u
#define EECD_DO 0x08u
#define EECD_REQ 0x40u
#define EECD_GNT 0x80u
#define EECD_PRES 0x100u

#define EERD_START 0x01u
#define EERD_DONE 0x10u

#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ (2u << 26)
#define MDIC_READY (1u << 28)
#define MDIC_INT (1u << 29)
#define MDIC_ERROR (1u << 30)

/* Interrupt causes (ICR). */
#define ICR_TXDW 0x01u
#define ICR_TXQE 0x02u
#define ICR_LSC 0x04u
#define ICR_RXDMT0 0x10u
#define ICR_RXO 0x40u
#define ICR_RXT0 0x80u
#define ICR_MDAC 0x200u

#define RCTL_EN (1u << 1)
#define RCTL_SBP (1u << 2)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LBM_MASK (3u << 6)
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT 12
#define RCTL_BAM (1u << 15)
#define RCTL_BSIZE_SHIFT 16
#define RCTL_BSEX (1u << 25)
#define RCTL_VFE (1u << 18)
#define RCTL_SECRC (1u << 26)

#define TCTL_EN (1u << 1)

/* Descriptor bits. */
#define RXD_STAT_DD 0x01u
#define RXD_STAT_EOP 0x02u
#define RXD_STAT_IXSM 0x04u
#define RXD_STAT_VP 0x08u
#define RXD_STAT_TCPCS 0x20u
#define RXD_STAT_IPCS 0x40u
#define RXD_ERR_TCPE 0x20u
#define RXD_ERR_IPE 0x40u
#define RXCSUM_IPOFL (1u << 8)
#define RXCSUM_TUOFL (1u << 9)
#define TXD_CMD_EOP 0x01u
#define TXD_CMD_IFCS 0x02u
#define TXD_CMD_IC 0x04u
#define TXD_CMD_TSE 0x04u
#define TXD_CMD_RS 0x08u
#define TXD_CMD_DEXT 0x20u
#define TXD_CMD_VLE 0x40u
#define TXD_CMD_IDE 0x80u
#define RDTR_FPD (1u << 31)
#define DELAY_UNIT_NS 1024 /* RDTR, RADV, TIDV, TADV count 1.024 us units (SDM 13.4.31) */
#define TXD_STAT_DD 0x01u
#define TXD_DTYP_CTX 0x0u
#define TXD_DTYP_DATA 0x1u
#define TXD_POPTS_IXSM 0x01u
#define TXD_POPTS_TXSM 0x02u
#define TUCMD_TCP 0x01u
#define TUCMD_IP 0x02u

#define PHY_ADDR 1
#define N_REGS (E1000_MMIO_SIZE / 4)
#define TX_BUF_MAX (NET_MAX_FRAME)
#define MIN_FRAME 60
#define MAX_RX_DESC_PER_FRAME 512
/* Work per transmit doorbell before the rest continues from a timer (1 us later), so a huge
 * ring of huge descriptors cannot stall the machine loop inside one register write. */
#define TX_BUDGET_DESCS 512
#define TX_BUDGET_BYTES (1u << 20)
#define TX_CONTINUE_NS 1000
#define TSO_MIN_MSS 64

/* Transmit offload context (SDM 3.3.6). */
typedef struct E1000TxCtx {
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint32_t paylen;
    uint8_t tucmd, hdr_len;
    uint16_t mss;
} E1000TxCtx;

struct E1000State {
    PCIDevice pci;
    Machine *m;
    NetBackend *backend;
    uint8_t mac[6];
    char vm_id[24];

    uint32_t regs[N_REGS];
    uint16_t eeprom[E1000_EEPROM_WORDS];
    uint16_t phy[32];
    uint32_t ioaddr;

    /* Microwire EEPROM interface state (EECD bit-banging). */
    uint32_t ee_bits_in; /* bits shifted in since CS went high */
    uint32_t ee_shift;   /* opcode and address being shifted in */
    int32_t ee_out_bit;  /* next data bit index to present on DO, -1 none */
    uint16_t ee_out_word;
    bool ee_do;

    /* Transmit state across descriptors. */
    E1000TxCtx ctx;
    bool tso_frame; /* the frame being gathered uses TSE */
    uint8_t popts;
    bool tx_vlan; /* insert an 802.1Q tag (VLE with CTRL.VME) */
    uint16_t tx_vlan_tci;
    uint32_t tx_len;   /* bytes gathered of the current frame or TSO segment */
    uint32_t tso_sent; /* TSO payload bytes already sent in earlier segments */
    uint32_t tso_segs;
    bool tx_truncated;
    uint8_t tx_hdr[256]; /* TSO: the prototype header */
    uint8_t tx_buf[TX_BUF_MAX + 256];
    uint8_t rx_wire[NET_MAX_FRAME + MIN_FRAME + 4]; /* scratch: the frame as received */

    Timer tx_timer; /* continues a transmit pass that ran out of budget */
    /* Interrupt delay timers: packet (RDTR, TIDV) and absolute (RADV, TADV). */
    Timer rdtr_timer, radv_timer, tidv_timer, tadv_timer;
    uint32_t tx_budget_used; /* bytes fetched in this pass (not state: reset per pass) */

    /* Interrupt throttling (ITR): the line may not rise again before itr_next. */
    Timer itr_timer;
    int64_t itr_next;
    bool irq_level;
};

static int e1000_post_load(void *opaque);

static const VMStateField e1000_ctx_fields[] = {
    VMSTATE_U8(E1000TxCtx, ipcss),
    VMSTATE_U8(E1000TxCtx, ipcso),
    VMSTATE_U8(E1000TxCtx, tucss),
    VMSTATE_U8(E1000TxCtx, tucso),
    VMSTATE_U16(E1000TxCtx, ipcse),
    VMSTATE_U16(E1000TxCtx, tucse),
    VMSTATE_U32(E1000TxCtx, paylen),
    VMSTATE_U8(E1000TxCtx, tucmd),
    VMSTATE_U8(E1000TxCtx, hdr_len),
    VMSTATE_U16(E1000TxCtx, mss),
    VMSTATE_END,
};

static const VMStateDesc e1000_ctx_vmstate = {
    .name = "e1000-txctx",
    .version = 1,
    .fields = e1000_ctx_fields,
};

static const VMStateField e1000_fields[] = {
    VMSTATE_STRUCT(E1000State, pci, pci_device_vmstate, PCIDevice),
    VMSTATE_U32_ARRAY(E1000State, regs, N_REGS),
    VMSTATE_U16_ARRAY(E1000State, eeprom, E1000_EEPROM_WORDS),
    VMSTATE_U16_ARRAY(E1000State, phy, 32),
    VMSTATE_U32(E1000State, ioaddr),
    VMSTATE_U32(E1000State, ee_bits_in),
    VMSTATE_U32(E1000State, ee_shift),
    VMSTATE_I32(E1000State, ee_out_bit),
    VMSTATE_U16(E1000State, ee_out_word),
    VMSTATE_BOOL(E1000State, ee_do),
    VMSTATE_STRUCT(E1000State, ctx, e1000_ctx_vmstate, E1000TxCtx),
    VMSTATE_BOOL(E1000State, tso_frame),
    VMSTATE_U8(E1000State, popts),
    VMSTATE_BOOL(E1000State, tx_vlan),
    VMSTATE_U16(E1000State, tx_vlan_tci),
    VMSTATE_U32(E1000State, tx_len),
    VMSTATE_U32(E1000State, tso_sent),
    VMSTATE_U32(E1000State, tso_segs),
    VMSTATE_BOOL(E1000State, tx_truncated),
    VMSTATE_BUFFER(E1000State, tx_hdr),
    VMSTATE_BUFFER(E1000State, tx_buf),
    VMSTATE_TIMER(E1000State, itr_timer),
    VMSTATE_TIMER(E1000State, tx_timer),
    VMSTATE_TIMER(E1000State, rdtr_timer),
    VMSTATE_TIMER(E1000State, radv_timer),
    VMSTATE_TIMER(E1000State, tidv_timer),
    VMSTATE_TIMER(E1000State, tadv_timer),
    VMSTATE_I64(E1000State, itr_next),
    VMSTATE_BOOL(E1000State, irq_level),
    VMSTATE_END,
};

static const VMStateDesc e1000_vmstate = {
    .name = "e1000",
    .version = 1,
    .fields = e1000_fields,
    .post_load = e1000_post_load,
};

static inline uint32_t *reg(E1000State *s, uint32_t off)
{
    return &s->regs[(off & (E1000_MMIO_SIZE - 1)) >> 2];
}

static void stat_add(E1000State *s, unsigned off, uint32_t n)
{
    uint32_t *r = reg(s, R_STATS + off);
    *r = (*r + n < *r) ? 0xFFFFFFFFu : *r + n; /* counters saturate */
}

static void stat_add64(E1000State *s, unsigned lo, uint64_t n)
{
    uint64_t v = (uint64_t)*reg(s, R_STATS + lo) | (uint64_t)*reg(s, R_STATS + lo + 4) << 32;
    v += n;
    *reg(s, R_STATS + lo) = (uint32_t)v;
    *reg(s, R_STATS + lo + 4) = (uint32_t)(v >> 32);
}

/* --- DMA: guest RAM only --- */

static bool dma_allowed(E1000State *s)
{
    if (!(s->pci.config[PCI_COMMAND] & PCI_COMMAND_MASTER)) {
        LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "e1000: DMA without bus mastering enabled\n");
        return false;
    }
    return true;
}

/* Copy guest RAM at addr into buf; bytes that are not RAM read as zero. */
static void dma_read(E1000State *s, uint64_t addr, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        size_t piece = 0x1000 - (addr & 0xFFF);
        if (piece > len) {
            piece = len;
        }
        if (mem_ram_ptr(&s->m->mem, addr, piece, false)) {
            mem_read_buf(&s->m->mem, addr, p, piece);
        } else {
            LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "e1000: DMA read outside RAM\n");
            memset(p, 0, piece);
        }
        addr += piece;
        p += piece;
        len -= piece;
    }
}

/* Copy buf into guest RAM at addr; bytes aimed outside RAM are dropped. */
static void dma_write(E1000State *s, uint64_t addr, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        size_t piece = 0x1000 - (addr & 0xFFF);
        if (piece > len) {
            piece = len;
        }
        if (mem_ram_ptr(&s->m->mem, addr, piece, true)) {
            mem_write_buf(&s->m->mem, addr, p, piece);
        } else {
            LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "e1000: DMA write outside RAM\n");
        }
        addr += piece;
        p += piece;
        len -= piece;
    }
}

/* --- interrupts --- */

static void e1000_drive_irq(E1000State *s, bool level)
{
    s->irq_level = level;
    pci_set_irq(&s->pci, level);
}

/* Re-evaluate INTA: ICR & IMS, held back by the ITR interval after each assertion. */
static void e1000_update_irq(E1000State *s)
{
    bool pending = (*reg(s, R_ICR) & *reg(s, R_IMS)) != 0;
    if (!pending) {
        if (s->irq_level) {
            e1000_drive_irq(s, false);
        }
        return;
    }
    if (s->irq_level) {
        return;
    }
    uint32_t itr = *reg(s, R_ITR) & 0xFFFF;
    int64_t now = clock_now(&s->m->clock);
    if (itr && now < s->itr_next) {
        if (!timer_pending(&s->itr_timer)) {
            timer_mod(&s->itr_timer, s->itr_next);
        }
        return;
    }
    if (itr) {
        s->itr_next = now + (int64_t)itr * 256; /* ITR counts 256 ns units (SDM 13.4.18) */
    }
    e1000_drive_irq(s, true);
}

static void e1000_itr_expired(void *opaque)
{
    E1000State *s = opaque;
    e1000_update_irq(s);
}

static void e1000_raise(E1000State *s, uint32_t causes)
{
    *reg(s, R_ICR) |= causes;
    e1000_update_irq(s);
}

/* A delayed cause (RXT0 or TXDW): the packet timer restarts with every event, the absolute
 * timer runs from the first one; whichever expires first raises the cause (SDM 3.2.7, 3.4). */
static void e1000_delay_cause(E1000State *s, Timer *pkt, uint32_t pkt_reg, Timer *abs,
                              uint32_t abs_reg, uint32_t cause)
{
    uint32_t pd = *reg(s, pkt_reg) & 0xFFFF, ad = *reg(s, abs_reg) & 0xFFFF;
    if (pd == 0) {
        e1000_raise(s, cause);
        return;
    }
    int64_t now = clock_now(&s->m->clock);
    timer_mod(pkt, now + (int64_t)pd * DELAY_UNIT_NS);
    if (ad && !timer_pending(abs)) {
        timer_mod(abs, now + (int64_t)ad * DELAY_UNIT_NS);
    }
}

static void e1000_rx_delay_expired(void *opaque)
{
    E1000State *s = opaque;
    timer_del(&s->rdtr_timer);
    timer_del(&s->radv_timer);
    e1000_raise(s, ICR_RXT0);
}

static void e1000_tx_delay_expired(void *opaque)
{
    E1000State *s = opaque;
    timer_del(&s->tidv_timer);
    timer_del(&s->tadv_timer);
    e1000_raise(s, ICR_TXDW);
}

/* --- EEPROM --- */

static void e1000_eeprom_init(E1000State *s)
{
    static const uint16_t tmpl[E1000_EEPROM_WORDS] = {
        [3] = 0x0000,
        [4] = 0xFFFF,
        [5] = 0x1040,
        [6] = 0xFFFF,
        [7] = 0xFFFF,
        [8] = 0x3040,
        [9] = 0x0001,    /* PBA number */
        [0x0A] = 0x6402, /* initialization control 1 */
        [0x0B] = 0x001E, /* subsystem ID */
        [0x0C] = 0x8086, /* subsystem vendor */
        [0x0D] = E1000_DEVICE_ID,
        [0x0E] = E1000_VENDOR_ID,
        [0x0F] = 0x3040, /* initialization control 2 */
        [0x14] = 0x0008,
        [0x1A] = 0xFFFF,
    };
    memcpy(s->eeprom, tmpl, sizeof(tmpl));
    for (int i = 0; i < 3; i++) {
        s->eeprom[i] = (uint16_t)(s->mac[2 * i] | s->mac[2 * i + 1] << 8);
    }
    uint16_t sum = 0;
    for (int i = 0; i < E1000_EEPROM_WORDS - 1; i++) {
        sum = (uint16_t)(sum + s->eeprom[i]);
    }
    /* Words 0x00-0x3F add up to 0xBABA (SDM 5.6.16). */
    s->eeprom[E1000_EEPROM_WORDS - 1] = (uint16_t)(0xBABA - sum);
}

/* EECD write: a Microwire (93C46) READ: start bit, opcode 10b, 6 address bits on DI clocked
 * by SK rising edges; then a dummy 0 and 16 data bits, MSB first, on DO. */
static void e1000_eecd_write(E1000State *s, uint32_t val)
{
    uint32_t old = *reg(s, R_EECD);
    uint32_t keep = EECD_SK | EECD_CS | EECD_DI | EECD_REQ;
    *reg(s, R_EECD) = (old & ~keep) | (val & keep);
    if (!(val & EECD_CS)) {
        s->ee_bits_in = 0;
        s->ee_shift = 0;
        s->ee_out_bit = -1;
        s->ee_do = false;
        return;
    }
    bool rising = (val & EECD_SK) && !(old & EECD_SK);
    if (!rising) {
        return;
    }
    if (s->ee_out_bit >= 0) {
        s->ee_do = (s->ee_out_word >> s->ee_out_bit) & 1;
        s->ee_out_bit--;
        if (s->ee_out_bit < 0) {
            s->ee_bits_in = 0; /* sequential reads are not modelled: start over */
            s->ee_shift = 0;
        }
        return;
    }
    if (s->ee_bits_in == 0 && !(val & EECD_DI)) {
        return; /* waiting for the start bit */
    }
    s->ee_shift = (s->ee_shift << 1) | ((val & EECD_DI) ? 1 : 0);
    s->ee_bits_in++;
    if (s->ee_bits_in == 9) {
        if (((s->ee_shift >> 6) & 7) == 6) { /* start bit + READ */
            s->ee_out_word = s->eeprom[s->ee_shift & 0x3F];
            s->ee_out_bit = 15;
            s->ee_do = false; /* the dummy zero */
        } else {
            LOG_ONCE(&s->m->log, LOG_UNIMP, "e1000: EEPROM opcode other than READ\n");
            s->ee_bits_in = 0;
            s->ee_shift = 0;
        }
    }
}

static uint32_t e1000_eecd_read(E1000State *s)
{
    uint32_t v = *reg(s, R_EECD) & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ);
    v |= EECD_PRES;
    if (v & EECD_REQ) {
        v |= EECD_GNT;
    }
    if (s->ee_do) {
        v |= EECD_DO;
    }
    return v;
}

/* --- PHY (Marvell 88E1011, SDM 13.4.6 and the PHY register map) --- */

static void e1000_phy_reset(E1000State *s)
{
    memset(s->phy, 0, sizeof(s->phy));
    s->phy[0] = 0x1140; /* control: autonegotiation on, full duplex, 1000 Mb/s */
    s->phy[1] = 0x796D; /* status: link up, autonegotiation complete */
    s->phy[2] = 0x0141; /* PHY identifier: Marvell */
    s->phy[3] = 0x0C20; /* 88E1011 */
    s->phy[4] = 0x0DE1; /* autonegotiation advertisement */
    s->phy[5] = 0x45E1; /* link partner ability */
    s->phy[6] = 0x0001;
    s->phy[9] = 0x0E00;  /* 1000BASE-T control */
    s->phy[10] = 0x3C00; /* 1000BASE-T status: partner full/half duplex, local/remote OK */
    s->phy[15] = 0x3000;
    s->phy[16] = 0x0360; /* PHY specific control */
    s->phy[17] = 0xAC00; /* PHY specific status: 1000 Mb/s, full duplex, resolved, link */
    s->phy[20] = 0x0C60;
}

static void e1000_mdic_write(E1000State *s, uint32_t val)
{
    unsigned phy_addr = (val >> 21) & 0x1F, r = (val >> 16) & 0x1F;
    uint32_t op = val & (3u << 26);
    uint32_t out = val & ~(MDIC_READY | MDIC_ERROR);
    if (phy_addr != PHY_ADDR) {
        out |= MDIC_ERROR; /* nothing answers at other PHY addresses */
    } else if (op == MDIC_OP_READ) {
        out = (out & 0xFFFF0000u) | s->phy[r];
    } else if (op == MDIC_OP_WRITE) {
        uint16_t v = (uint16_t)val;
        switch (r) {
        case 0:
            if (v & 0x8000) {
                e1000_phy_reset(s); /* self-clearing reset */
            } else {
                s->phy[0] = v & (uint16_t)~0x0200; /* restart autoneg completes at once */
            }
            break;
        case 1:
        case 2:
        case 3:
        case 5:
        case 6:
        case 10:
        case 15:
        case 17:
            break; /* read-only */
        default:
            s->phy[r] = v;
            break;
        }
    } else {
        out |= MDIC_ERROR;
    }
    *reg(s, R_MDIC) = out | MDIC_READY;
    if (val & MDIC_INT) {
        e1000_raise(s, ICR_MDAC);
    }
}

/* --- receive --- */

static uint32_t rx_buf_size(E1000State *s)
{
    uint32_t rctl = *reg(s, R_RCTL);
    unsigned bs = (rctl >> RCTL_BSIZE_SHIFT) & 3;
    if (rctl & RCTL_BSEX) {
        static const uint32_t ext[4] = {2048, 16384, 8192, 4096};
        return ext[bs];
    }
    static const uint32_t norm[4] = {2048, 1024, 512, 256};
    return norm[bs];
}

static uint32_t ring_count(E1000State *s, uint32_t len_reg)
{
    return (*reg(s, len_reg) & 0xFFF80u) / 16; /* RDLEN/TDLEN: 128-byte multiples, 20 bits */
}

static uint32_t rx_free_descs(E1000State *s)
{
    uint32_t n = ring_count(s, R_RDLEN);
    uint32_t h = *reg(s, R_RDH), t = *reg(s, R_RDT);
    if (n == 0 || h >= n || t >= n) {
        return 0;
    }
    return (t + n - h) % n;
}

static bool e1000_accepts(E1000State *s, const uint8_t *dst, bool *bcast, bool *mcast)
{
    static const uint8_t bc[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint32_t rctl = *reg(s, R_RCTL);
    *bcast = !memcmp(dst, bc, 6);
    *mcast = !*bcast && (dst[0] & 1);
    if (*bcast) {
        return (rctl & RCTL_BAM) || (rctl & RCTL_MPE);
    }
    if (*mcast) {
        if (rctl & RCTL_MPE) {
            return true;
        }
        /* The 12-bit MTA index comes from destination bits selected by RCTL.MO
         * (SDM 13.4.22 / 13.5.1). */
        static const unsigned shift[4] = {4, 3, 2, 0};
        unsigned mo = (rctl >> RCTL_MO_SHIFT) & 3;
        unsigned hash =
            ((unsigned)dst[4] >> shift[mo] | (unsigned)dst[5] << (8 - shift[mo])) & 0xFFF;
        return (*reg(s, R_MTA + (hash >> 5) * 4) >> (hash & 31)) & 1;
    }
    if (rctl & RCTL_UPE) {
        return true;
    }
    for (int i = 0; i < 16; i++) {
        uint32_t lo = *reg(s, R_RA + i * 8), hi = *reg(s, R_RA + i * 8 + 4);
        if (!(hi & (1u << 31))) {
            continue;
        }
        uint8_t a[6] = {(uint8_t)lo,         (uint8_t)(lo >> 8), (uint8_t)(lo >> 16),
                        (uint8_t)(lo >> 24), (uint8_t)hi,        (uint8_t)(hi >> 8)};
        if (!memcmp(a, dst, 6)) {
            return true;
        }
    }
    return false;
}

/* Receive checksum offload (RXCSUM, SDM 3.2.9): for an untagged IPv4 frame, check the header
 * checksum (IPOFL) and the TCP/UDP checksum of an unfragmented datagram (TUOFL). Returns the
 * status bits and sets *err; IXSM ("ignore the checksum bits") when nothing was checked. */
static uint8_t e1000_rx_csum(E1000State *s, const uint8_t *f, size_t len, uint8_t *err)
{
    uint32_t rxcsum = *reg(s, R_RXCSUM);
    *err = 0;
    if (!(rxcsum & (RXCSUM_IPOFL | RXCSUM_TUOFL)) || len < 14 + 20 || f[12] != 0x08 ||
        f[13] != 0x00 || (f[14] >> 4) != 4) {
        return RXD_STAT_IXSM;
    }
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 0xF) * 4;
    size_t tot = (size_t)ip[2] << 8 | ip[3];
    if (ihl < 20 || tot < ihl || 14 + tot > len) {
        return RXD_STAT_IXSM;
    }
    uint8_t st = 0;
    if (rxcsum & RXCSUM_IPOFL) {
        st |= RXD_STAT_IPCS;
        if (net_checksum_fold(net_checksum_add(0, ip, ihl)) != 0) {
            *err |= RXD_ERR_IPE;
        }
    }
    bool frag = ((ip[6] & 0x3F) | ip[7]) != 0;
    uint8_t proto = ip[9];
    if ((rxcsum & RXCSUM_TUOFL) && !frag && (proto == 6 || proto == 17)) {
        const uint8_t *l4 = ip + ihl;
        size_t l4len = tot - ihl;
        if (l4len >= (proto == 6 ? 20u : 8u)) {
            st |= RXD_STAT_TCPCS;
            bool udp_none = proto == 17 && l4[6] == 0 && l4[7] == 0;
            uint8_t ph[12];
            memcpy(ph, ip + 12, 8);
            ph[8] = 0;
            ph[9] = proto;
            ph[10] = (uint8_t)(l4len >> 8);
            ph[11] = (uint8_t)l4len;
            uint32_t sum = net_checksum_add(net_checksum_add(0, ph, 12), l4, l4len);
            if (!udp_none && net_checksum_fold(sum) != 0) {
                *err |= RXD_ERR_TCPE;
            }
        }
    }
    return st;
}

static bool e1000_can_receive(void *opaque)
{
    E1000State *s = opaque;
    return (*reg(s, R_RCTL) & RCTL_EN) && (*reg(s, R_STATUS) & STATUS_LU);
}

static bool e1000_receive(void *opaque, const uint8_t *frame, size_t len)
{
    E1000State *s = opaque;
    if (!e1000_can_receive(s)) {
        return false;
    }
    if (len < 14) {
        return true; /* runt: dropped */
    }
    bool bcast, mcast;
    if (!e1000_accepts(s, frame, &bcast, &mcast)) {
        return true;
    }
    /* 802.1Q: VFTA filtering with RCTL.VFE, tag stripping into the descriptor with CTRL.VME
     * (SDM 3.2.6 and 9.3). */
    bool vp = false;
    uint16_t tci = 0;
    uint8_t *w = s->rx_wire;
    if (len >= 18 && (uint32_t)(frame[12] << 8 | frame[13]) == (*reg(s, R_VET) & 0xFFFF)) {
        tci = (uint16_t)(frame[14] << 8 | frame[15]);
        unsigned vid = tci & 0xFFF;
        if ((*reg(s, R_RCTL) & RCTL_VFE) &&
            !((*reg(s, R_VFTA + (vid >> 5) * 4) >> (vid & 31)) & 1)) {
            return true;
        }
        if (*reg(s, R_CTRL) & CTRL_VME) {
            vp = true;
            memcpy(w, frame, 12);
            memcpy(w + 12, frame + 16, len - 16);
            len -= 4;
            frame = w;
        }
    }
    /* The frame as the wire carries it: padded to 60 bytes, plus the FCS unless RCTL.SECRC
     * strips it. */
    size_t body = len < MIN_FRAME ? MIN_FRAME : len;
    size_t total = body + ((*reg(s, R_RCTL) & RCTL_SECRC) ? 0 : 4);
    uint32_t bufsz = rx_buf_size(s);
    uint32_t need = (uint32_t)((total + bufsz - 1) / bufsz);
    uint32_t free_descs = rx_free_descs(s);
    if (need > MAX_RX_DESC_PER_FRAME || !dma_allowed(s)) {
        return true;
    }
    if (need > free_descs) {
        /* No room: the frame waits in the backend queue; RXO tells the driver. */
        stat_add(s, S_RNBC, 1);
        e1000_raise(s, ICR_RXO);
        return false;
    }
    if (frame != w) {
        memcpy(w, frame, len);
    }
    if (len < body) {
        memset(w + len, 0, body - len);
    }
    uint32_t fcs = net_crc32_le(w, body);
    for (int i = 0; i < 4; i++) {
        w[body + i] = (uint8_t)(fcs >> (8 * i));
    }
    uint8_t csum_err;
    uint8_t csum_st = e1000_rx_csum(s, w, body, &csum_err);
    uint32_t n = ring_count(s, R_RDLEN);
    uint64_t base = (uint64_t)*reg(s, R_RDBAH) << 32 | (*reg(s, R_RDBAL) & ~0xFu);
    size_t done = 0;
    for (uint32_t d = 0; d < need; d++) {
        uint32_t h = *reg(s, R_RDH);
        uint64_t daddr = base + (uint64_t)h * 16;
        uint8_t desc[16];
        dma_read(s, daddr, desc, 16);
        uint64_t buf = 0;
        for (int i = 0; i < 8; i++) {
            buf |= (uint64_t)desc[i] << (8 * i);
        }
        size_t piece = total - done < bufsz ? total - done : bufsz;
        if (buf) {
            dma_write(s, buf, w + done, piece);
        }
        done += piece;
        /* Write back length, checksum, status (DD, EOP, checksum results), errors. */
        desc[8] = (uint8_t)piece;
        desc[9] = (uint8_t)(piece >> 8);
        desc[10] = desc[11] = 0;
        desc[12] =
            RXD_STAT_DD | csum_st | (done == total ? RXD_STAT_EOP : 0) | (vp ? RXD_STAT_VP : 0);
        desc[13] = done == total ? csum_err : 0;
        desc[14] = (uint8_t)(vp ? tci : 0);
        desc[15] = (uint8_t)(vp ? tci >> 8 : 0);
        dma_write(s, daddr + 8, desc + 8, 8);
        *reg(s, R_RDH) = (h + 1) % n;
    }
    stat_add(s, S_GPRC, 1);
    stat_add(s, S_TPR, 1);
    stat_add64(s, S_GORCL, total);
    stat_add64(s, S_TORL, total);
    if (bcast) {
        stat_add(s, S_BPRC, 1);
    } else if (mcast) {
        stat_add(s, S_MPRC, 1);
    }
    uint32_t causes = 0;
    e1000_delay_cause(s, &s->rdtr_timer, R_RDTR, &s->radv_timer, R_RADV, ICR_RXT0);
    /* RXDMT0 when the free descriptors fall to 1/2, 1/4 or 1/8 of the ring (RCTL.RDMTS). */
    unsigned rdmts = (*reg(s, R_RCTL) >> RCTL_RDMTS_SHIFT) & 3;
    if (rdmts < 3 && rx_free_descs(s) <= (n >> (rdmts + 1))) {
        causes |= ICR_RXDMT0;
    }
    if (causes) {
        e1000_raise(s, causes);
    }
    return true;
}

/* --- transmit --- */

static void e1000_put_frame(E1000State *s, uint8_t *frame, size_t len)
{
    static const uint8_t bc[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    if (s->tx_vlan && (*reg(s, R_CTRL) & CTRL_VME) && frame == s->tx_buf && len >= 12 &&
        len + 4 <= sizeof(s->tx_buf)) {
        /* Insert the 802.1Q tag after the addresses, in place: tx_buf has room behind. */
        memmove(frame + 16, frame + 12, len - 12);
        uint16_t vet = (uint16_t)*reg(s, R_VET);
        frame[12] = (uint8_t)(vet >> 8);
        frame[13] = (uint8_t)vet;
        frame[14] = (uint8_t)(s->tx_vlan_tci >> 8);
        frame[15] = (uint8_t)s->tx_vlan_tci;
        len += 4;
    }
    stat_add(s, S_GPTC, 1);
    stat_add(s, S_TPT, 1);
    stat_add64(s, S_GOTCL, len);
    stat_add64(s, S_TOTL, len);
    if (len >= 6 && !memcmp(frame, bc, 6)) {
        stat_add(s, S_BPTC, 1);
    } else if (len >= 1 && (frame[0] & 1)) {
        stat_add(s, S_MPTC, 1);
    }
    if ((*reg(s, R_RCTL) & RCTL_LBM_MASK) == (1u << 6)) {
        e1000_receive(s, frame, len); /* MAC loopback: back to our own receiver */
        return;
    }
    net_send(s->backend, frame, len);
}

static void put16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16be(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Insert the one's complement sum of [css, cse] (cse 0 = to the end) at cso. `extra` is added
 * to the sum (the TCP/UDP length for TSO, whose pseudo-header seed lacks it). */
static void insert_csum(uint8_t *p, size_t len, unsigned css, unsigned cso, unsigned cse,
                        uint32_t extra)
{
    if (css >= len || cso + 2 > len) {
        return;
    }
    size_t end = (cse == 0 || cse >= len) ? len : (size_t)cse + 1;
    if (end <= css) {
        return;
    }
    uint32_t sum = net_checksum_add(extra, p + css, end - css);
    put16be(p + cso, net_checksum_fold(sum));
}

/* Send a non-TSO frame with the offloads POPTS asks for. */
static void e1000_tx_plain(E1000State *s, uint8_t *p, size_t len)
{
    if (s->popts & TXD_POPTS_IXSM) {
        insert_csum(p, len, s->ctx.ipcss, s->ctx.ipcso, s->ctx.ipcse, 0);
    }
    if (s->popts & TXD_POPTS_TXSM) {
        insert_csum(p, len, s->ctx.tucss, s->ctx.tucso, s->ctx.tucse, 0);
    }
    e1000_put_frame(s, p, len);
}

/* Send one TSO segment: tx_hdr plus tx_buf[hdr_len..tx_len) of payload (SDM 3.5). */
static void e1000_tso_segment(E1000State *s, bool last)
{
    unsigned hl = s->ctx.hdr_len;
    uint8_t *p = s->tx_buf;
    size_t len = s->tx_len;
    size_t payload = len - hl;
    memcpy(p, s->tx_hdr, hl);
    unsigned ip = s->ctx.ipcss, tu = s->ctx.tucss;
    if (s->ctx.tucmd & TUCMD_IP) {
        if (ip + 20 <= hl) {
            put16be(p + ip + 2, (uint16_t)(len - ip));                          /* total len */
            put16be(p + ip + 4, (uint16_t)(get16be(p + ip + 4) + s->tso_segs)); /* ID */
        }
    } else if (ip + 40 <= hl) {
        put16be(p + ip + 4, (uint16_t)(len - ip - 40)); /* IPv6 payload length */
    }
    uint32_t l4len = (uint32_t)(len - tu);
    if (s->ctx.tucmd & TUCMD_TCP) {
        if (tu + 20 <= hl) {
            uint32_t seq = (uint32_t)get16be(p + tu + 4) << 16 | get16be(p + tu + 6);
            seq += s->tso_sent;
            put16be(p + tu + 4, (uint16_t)(seq >> 16));
            put16be(p + tu + 6, (uint16_t)seq);
            if (!last) {
                p[tu + 13] &= (uint8_t)~0x09; /* FIN and PSH only on the last segment */
            }
        }
    } else if (tu + 8 <= hl) {
        put16be(p + tu + 4, (uint16_t)l4len); /* UDP length */
    }
    if (s->popts & TXD_POPTS_IXSM && (s->ctx.tucmd & TUCMD_IP)) {
        if ((unsigned)s->ctx.ipcso + 2 <= hl) {
            put16be(p + s->ctx.ipcso, 0);
        }
        insert_csum(p, len, ip, s->ctx.ipcso, s->ctx.ipcse, 0);
    }
    if (s->popts & TXD_POPTS_TXSM) {
        /* The driver seeded the field with the pseudo-header sum without the length. */
        insert_csum(p, len, tu, s->ctx.tucso, 0, l4len);
    }
    e1000_put_frame(s, p, len);
    s->tso_sent += (uint32_t)payload;
    s->tso_segs++;
    stat_add(s, S_TSCTC, 1);
    s->tx_len = hl;
}

/* Append descriptor data to the frame (or TSO segments) being gathered. */
static void e1000_tx_data(E1000State *s, uint64_t addr, uint32_t len)
{
    s->tx_budget_used += len;
    if (!s->tso_frame) {
        if (s->tx_len + len > TX_BUF_MAX) {
            if (!s->tx_truncated) {
                LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "e1000: transmit frame over 64 KiB\n");
            }
            s->tx_truncated = true;
            len = TX_BUF_MAX - s->tx_len;
        }
        dma_read(s, addr, s->tx_buf + s->tx_len, len);
        s->tx_len += len;
        return;
    }
    unsigned hl = s->ctx.hdr_len;
    uint32_t mss = s->ctx.mss;
    while (len) {
        uint32_t room;
        if (s->tx_len < hl) {
            room = hl - s->tx_len;
        } else {
            room = hl + mss - s->tx_len;
        }
        uint32_t piece = len < room ? len : room;
        dma_read(s, addr, s->tx_buf + s->tx_len, piece);
        if (s->tx_len < hl) {
            memcpy(s->tx_hdr + s->tx_len, s->tx_buf + s->tx_len, piece);
        }
        s->tx_len += piece;
        addr += piece;
        len -= piece;
        if (s->tx_len == hl + mss) {
            bool last = s->tso_sent + mss >= s->ctx.paylen;
            e1000_tso_segment(s, last);
        }
    }
}

static void e1000_tx_end_frame(E1000State *s)
{
    if (s->tso_frame) {
        if (s->tx_len > s->ctx.hdr_len || s->tso_segs == 0) {
            if (s->tx_len >= s->ctx.hdr_len) {
                e1000_tso_segment(s, true);
            }
        }
    } else if (s->tx_len) {
        e1000_tx_plain(s, s->tx_buf, s->tx_len);
    }
    s->tx_len = 0;
    s->tso_sent = 0;
    s->tso_segs = 0;
    s->tso_frame = false;
    s->tx_truncated = false;
    s->tx_vlan = false;
    s->popts = 0;
}

/* Process one transmit descriptor. Returns whether it asked for a status write-back (RS). */
static bool e1000_tx_desc(E1000State *s, const uint8_t *d)
{
    uint64_t addr = 0;
    for (int i = 0; i < 8; i++) {
        addr |= (uint64_t)d[i] << (8 * i);
    }
    uint32_t w2 =
        (uint32_t)d[8] | (uint32_t)d[9] << 8 | (uint32_t)d[10] << 16 | (uint32_t)d[11] << 24;
    uint8_t cmd = d[11];
    if (!(cmd & TXD_CMD_DEXT)) {
        /* Legacy descriptor: length, CSO, CMD, CSS (SDM 3.3.3). */
        uint32_t len = w2 & 0xFFFF;
        if (s->tso_frame) {
            e1000_tx_end_frame(s); /* a legacy descriptor cannot continue a TSO frame */
        }
        size_t start = s->tx_len;
        e1000_tx_data(s, addr, len);
        if (cmd & TXD_CMD_VLE) {
            s->tx_vlan = true;
            s->tx_vlan_tci = (uint16_t)(d[14] | d[15] << 8);
        }
        if (cmd & TXD_CMD_EOP) {
            if ((cmd & TXD_CMD_IC) && s->tx_len > start) {
                unsigned cso = d[10], css = d[13];
                insert_csum(s->tx_buf, s->tx_len, css, cso, 0, 0);
            }
            e1000_put_frame(s, s->tx_buf, s->tx_len);
            s->tx_len = 0;
            s->tx_truncated = false;
            s->tx_vlan = false;
        }
        return (cmd & TXD_CMD_RS) != 0;
    }
    unsigned dtyp = (w2 >> 20) & 0xF;
    if (dtyp == TXD_DTYP_CTX) {
        s->ctx.ipcss = d[0];
        s->ctx.ipcso = d[1];
        s->ctx.ipcse = (uint16_t)(d[2] | d[3] << 8);
        s->ctx.tucss = d[4];
        s->ctx.tucso = d[5];
        s->ctx.tucse = (uint16_t)(d[6] | d[7] << 8);
        s->ctx.paylen = w2 & 0xFFFFF;
        s->ctx.tucmd = cmd;
        s->ctx.hdr_len = d[13];
        s->ctx.mss = (uint16_t)(d[14] | d[15] << 8);
        return (cmd & TXD_CMD_RS) != 0;
    }
    if (dtyp != TXD_DTYP_DATA) {
        LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "e1000: transmit descriptor type %u\n", dtyp);
        return (cmd & TXD_CMD_RS) != 0;
    }
    uint32_t len = w2 & 0xFFFFF;
    if (s->tx_len == 0 && s->tso_segs == 0) {
        /* The first descriptor of a frame decides TSE and the checksum options. */
        s->popts = d[13];
        bool tse = (cmd & TXD_CMD_TSE) != 0;
        if (tse && (s->ctx.mss < TSO_MIN_MSS || s->ctx.hdr_len == 0 ||
                    s->ctx.tucss >= s->ctx.hdr_len || s->ctx.ipcss >= s->ctx.hdr_len)) {
            LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "e1000: TSO with an unusable context\n");
            tse = false;
        }
        s->tso_frame = tse;
    }
    if (cmd & TXD_CMD_VLE) {
        s->tx_vlan = true;
        s->tx_vlan_tci = (uint16_t)(d[14] | d[15] << 8);
    }
    e1000_tx_data(s, addr, len);
    if (cmd & TXD_CMD_EOP) {
        e1000_tx_end_frame(s);
    }
    return (cmd & TXD_CMD_RS) != 0;
}

static void e1000_start_xmit(E1000State *s)
{
    if (!(*reg(s, R_TCTL) & TCTL_EN) || !dma_allowed(s)) {
        return;
    }
    uint32_t n = ring_count(s, R_TDLEN);
    if (n == 0) {
        return;
    }
    uint64_t base = (uint64_t)*reg(s, R_TDBAH) << 32 | (*reg(s, R_TDBAL) & ~0xFu);
    uint32_t causes = 0;
    s->tx_budget_used = 0;
    bool more = false;
    for (uint32_t i = 0;; i++) {
        uint32_t h = *reg(s, R_TDH), t = *reg(s, R_TDT);
        if (h >= n || t >= n) {
            LOG_ONCE(&s->m->log, LOG_GUEST_ERROR, "e1000: TDH/TDT beyond the ring\n");
            break;
        }
        if (h == t) {
            break;
        }
        if (i >= TX_BUDGET_DESCS || s->tx_budget_used >= TX_BUDGET_BYTES) {
            more = true;
            break;
        }
        uint8_t d[16];
        uint64_t daddr = base + (uint64_t)h * 16;
        dma_read(s, daddr, d, 16);
        if (e1000_tx_desc(s, d)) {
            uint8_t sta = (uint8_t)(d[12] | TXD_STAT_DD);
            dma_write(s, daddr + 12, &sta, 1);
            if (d[11] & TXD_CMD_IDE) {
                e1000_delay_cause(s, &s->tidv_timer, R_TIDV, &s->tadv_timer, R_TADV, ICR_TXDW);
            } else {
                causes |= ICR_TXDW;
            }
        }
        *reg(s, R_TDH) = (h + 1) % n;
    }
    if (more) {
        timer_mod(&s->tx_timer, clock_now(&s->m->clock) + TX_CONTINUE_NS);
    } else if (*reg(s, R_TDH) == *reg(s, R_TDT)) {
        causes |= ICR_TXQE;
    }
    if (causes) {
        e1000_raise(s, causes);
    }
}

static void e1000_tx_continue(void *opaque)
{
    e1000_start_xmit(opaque);
}

/* --- registers --- */

static void e1000_soft_reset(E1000State *s)
{
    timer_del(&s->itr_timer);
    timer_del(&s->tx_timer);
    timer_del(&s->rdtr_timer);
    timer_del(&s->radv_timer);
    timer_del(&s->tidv_timer);
    timer_del(&s->tadv_timer);
    s->itr_next = 0;
    memset(s->regs, 0, sizeof(s->regs));
    *reg(s, R_CTRL) = (1u << 0) | (1u << 5) | (2u << 8); /* FD, ASDE, speed 1000 */
    *reg(s, R_STATUS) = STATUS_FD | STATUS_SPEED_1000 | STATUS_LU;
    *reg(s, R_EECD) = 0;
    *reg(s, R_PBA) = 0x00100030u;
    *reg(s, R_VET) = 0x8100;
    *reg(s, R_ITR) = 0;
    /* Receive address 0 comes from the EEPROM (SDM 5.6.1). */
    *reg(s, R_RA) = (uint32_t)s->mac[0] | (uint32_t)s->mac[1] << 8 | (uint32_t)s->mac[2] << 16 |
                    (uint32_t)s->mac[3] << 24;
    *reg(s, R_RA + 4) = (uint32_t)s->mac[4] | (uint32_t)s->mac[5] << 8 | (1u << 31);
    s->ee_bits_in = 0;
    s->ee_shift = 0;
    s->ee_out_bit = -1;
    s->ee_do = false;
    s->tx_len = 0;
    s->tso_sent = 0;
    s->tso_segs = 0;
    s->tso_frame = false;
    s->tx_vlan = false;
    s->tx_truncated = false;
    s->popts = 0;
    memset(&s->ctx, 0, sizeof(s->ctx));
    e1000_phy_reset(s);
    if (s->irq_level) {
        e1000_drive_irq(s, false);
    }
}

static uint32_t e1000_reg_read(E1000State *s, uint32_t off)
{
    off &= (E1000_MMIO_SIZE - 1) & ~3u;
    switch (off) {
    case R_EECD:
        return e1000_eecd_read(s);
    case R_ICR: {
        uint32_t v = *reg(s, R_ICR);
        *reg(s, R_ICR) = 0; /* read to clear (SDM 13.4.17) */
        e1000_update_irq(s);
        return v;
    }
    case R_ICS:
    case R_IMC:
        return 0; /* write-only */
    default:
        break;
    }
    if (off >= R_STATS && off < R_STATS_END) {
        uint32_t v = *reg(s, off);
        *reg(s, off) = 0; /* statistics clear on read */
        return v;
    }
    return *reg(s, off);
}

static void e1000_reg_write(E1000State *s, uint32_t off, uint32_t val)
{
    off &= (E1000_MMIO_SIZE - 1) & ~3u;
    switch (off) {
    case R_CTRL: {
        if (val & CTRL_RST) {
            e1000_soft_reset(s); /* self-clearing; PCI state is kept */
            return;
        }
        uint32_t old = *reg(s, R_CTRL);
        *reg(s, R_CTRL) = val & ~(CTRL_RST | CTRL_PHY_RST);
        if (val & CTRL_PHY_RST) {
            e1000_phy_reset(s);
        }
        if ((val & CTRL_SLU) && !(old & CTRL_SLU)) {
            /* Set link up: the (always present) link is reported once more. */
            e1000_raise(s, ICR_LSC);
        }
        return;
    }
    case R_STATUS:
        return; /* read-only */
    case R_EECD:
        e1000_eecd_write(s, val);
        return;
    case R_EERD:
        if (val & EERD_START) {
            unsigned a = (val >> 8) & 0xFF;
            uint16_t data = a < E1000_EEPROM_WORDS ? s->eeprom[a] : 0xFFFF;
            *reg(s, R_EERD) = (val & 0xFF00u) | EERD_DONE | (uint32_t)data << 16;
        }
        return;
    case R_MDIC:
        e1000_mdic_write(s, val);
        return;
    case R_ICR:
        *reg(s, R_ICR) &= ~val; /* writing 1s clears too */
        e1000_update_irq(s);
        return;
    case R_ICS:
        e1000_raise(s, val & 0x1FFFFu);
        return;
    case R_IMS:
        *reg(s, R_IMS) |= val & 0x1FFFFu;
        e1000_update_irq(s);
        return;
    case R_IMC:
        *reg(s, R_IMS) &= ~val;
        e1000_update_irq(s);
        return;
    case R_RDTR:
        *reg(s, R_RDTR) = val & 0xFFFF;
        if ((val & RDTR_FPD) && timer_pending(&s->rdtr_timer)) {
            e1000_rx_delay_expired(s); /* flush partial descriptor block: fire now */
        }
        return;
    case R_ITR:
        *reg(s, R_ITR) = val & 0xFFFF;
        return;
    case R_RCTL: {
        *reg(s, R_RCTL) = val;
        if (val & RCTL_EN) {
            net_rx_ready(s->backend);
        }
        return;
    }
    case R_TCTL:
        *reg(s, R_TCTL) = val;
        e1000_start_xmit(s);
        return;
    case R_RDLEN:
    case R_TDLEN:
        *reg(s, off) = val & 0xFFF80u;
        return;
    case R_RDBAL:
    case R_TDBAL:
        *reg(s, off) = val & ~0xFu;
        return;
    case R_RDH:
    case R_TDH:
        *reg(s, off) = val & 0xFFFF;
        return;
    case R_RDT:
        *reg(s, R_RDT) = val & 0xFFFF;
        net_rx_ready(s->backend); /* new buffers: frames waiting in the backend come in */
        return;
    case R_TDT:
        *reg(s, R_TDT) = val & 0xFFFF;
        e1000_start_xmit(s);
        return;
    default:
        break;
    }
    if (off >= R_STATS && off < R_STATS_END) {
        return; /* read-only counters */
    }
    *reg(s, off) = val;
}

static uint64_t e1000_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    return e1000_reg_read(opaque, (uint32_t)addr);
}

static void e1000_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    e1000_reg_write(opaque, (uint32_t)addr, (uint32_t)val);
}

static const IOOps e1000_mmio_ops = {
    .read = e1000_mmio_read,
    .write = e1000_mmio_write,
    .min_access = 4,
    .max_access = 4,
};

/* I/O BAR: IOADDR (0) selects a register, IODATA (4) accesses it (SDM 13.2.2). */
static uint64_t e1000_io_read(void *opaque, uint64_t addr, unsigned size)
{
    E1000State *s = opaque;
    if (addr == 0) {
        return s->ioaddr;
    }
    if (addr == 4) {
        return e1000_reg_read(s, s->ioaddr & 0x1FFFC);
    }
    return 0xFFFFFFFFu;
}

static void e1000_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    E1000State *s = opaque;
    if (addr == 0) {
        s->ioaddr = (uint32_t)val & 0x1FFFC;
    } else if (addr == 4) {
        e1000_reg_write(s, s->ioaddr, (uint32_t)val);
    }
}

static const IOOps e1000_io_ops = {
    .read = e1000_io_read,
    .write = e1000_io_write,
    .min_access = 4,
    .max_access = 4,
};

/* --- lifecycle --- */

static void e1000_reset(void *opaque)
{
    E1000State *s = opaque;
    pci_device_reset(&s->pci);
    s->irq_level = false;
    e1000_soft_reset(s);
    s->ioaddr = 0;
}

static int e1000_post_load(void *opaque)
{
    E1000State *s = opaque;
    int r = pci_device_post_load(&s->pci);
    pci_set_irq(&s->pci, s->irq_level);
    return r;
}

PCIDevice *e1000_pci(E1000State *s)
{
    return &s->pci;
}

E1000State *e1000_pci_new(Machine *m, PCIBus *bus, unsigned devfn, const NICConf *conf)
{
    E1000State *s = calloc(1, sizeof(*s));
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
    e1000_eeprom_init(s);
    timer_init(&s->itr_timer, &m->clock, e1000_itr_expired, s);
    timer_init(&s->tx_timer, &m->clock, e1000_tx_continue, s);
    timer_init(&s->rdtr_timer, &m->clock, e1000_rx_delay_expired, s);
    timer_init(&s->radv_timer, &m->clock, e1000_rx_delay_expired, s);
    timer_init(&s->tidv_timer, &m->clock, e1000_tx_delay_expired, s);
    timer_init(&s->tadv_timer, &m->clock, e1000_tx_delay_expired, s);
    PCIDevice *d = &s->pci;
    pci_device_init(d, "e1000", E1000_VENDOR_ID, E1000_DEVICE_ID, 0x03, 0x020000, 0x00, 1);
    pci_set_le(d->config, PCI_SUBSYSTEM_VENDOR_ID, 0x8086, 2);
    pci_set_le(d->config, PCI_SUBSYSTEM_VENDOR_ID + 2, 0x001E, 2);
    snprintf(s->vm_id, sizeof(s->vm_id), "e1000@%u.%u", PCI_SLOT(devfn), PCI_FUNC(devfn));
    if (pci_register_bar(d, 0, PCI_BAR_MMIO, E1000_MMIO_SIZE, &e1000_mmio_ops, s, NULL, false) <
            0 ||
        pci_register_bar(d, 1, PCI_BAR_IO, E1000_IO_SIZE, &e1000_io_ops, s, NULL, false) < 0 ||
        pci_bus_add_device(bus, d, devfn) < 0 || machine_add_reset(m, e1000_reset, s) < 0 ||
        vmstate_register(&m->vmstate, s->vm_id, &e1000_vmstate, s) < 0) {
        free(s);
        return NULL;
    }
    e1000_reset(s);
    NetNIC nic = {.can_receive = e1000_can_receive, .receive = e1000_receive, .opaque = s};
    net_attach_nic(s->backend, &nic);
    return s;
}

void e1000_free(E1000State *s)
{
    /* The machine (and its clock) and the backend may be gone by now: neither is touched. */
    free(s);
}
