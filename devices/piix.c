/* piix.c: PIIX3 ISA bridge (PIRQ routing, reset control, APM ports) and PIIX4 ACPI PM. */
#include "devices/piix.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

/* PIRQRC IRQ field values that route (82371SB PIRQRC description): 3-7, 9-12, 14, 15; the
 * rest are reserved and leave the PIRQ unrouted. */
#define PIRQ_VALID_IRQS 0xDEF8u
#define PIRQRC_DISABLE 0x80

/* Reset Control register at I/O 0xCF9 (82371SB RC description): bit 1 SRST chooses a hard
 * reset, a 0->1 transition of bit 2 RCPU starts the reset. */
#define RC_SRST 0x02
#define RC_RCPU 0x04

#define PM1_STS_MASK                                                                              \
    (PIIX4_PM1_TMR_STS | PIIX4_PM1_BM_STS | PIIX4_PM1_GBL_STS | PIIX4_PM1_PWRBTN_STS |            \
     PIIX4_PM1_RTC_STS | PIIX4_PM1_WAK_STS)
/* Enable bits line up with their status bits: TMR_EN 0, GBL_EN 5, PWRBTN_EN 8, RTC_EN 10. */
#define PM1_EN_MASK 0x0521u
/* PM1_CNT: SCI_EN, BM_RLD, GBL_RLS (write-only), SLP_TYP; SLP_EN is write-only. */
#define PM1_CNT_MASK 0x1C03u
#define PM1_CNT_GBL_RLS 0x0004u

#define PM_TIMER_BITS 24

struct PiixState {
    Machine *m;
    PCIBus *bus;
    PCIDevice isa;
    PCIDevice pm;
    IRQLine *isa_irq[16];
    uint8_t isa_level[16]; /* what we drive on each ISA IRQ now (derived, not saved) */
    uint8_t rc;            /* 0xCF9 reset control */
    uint8_t apmc, apms;
    int apm_handle;
    IRQLine *smi; /* SMI# to the CPU, NULL when SMM is not modelled */

    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe_sts, gpe_en;
    uint8_t pm_regs[PIIX4_PM_IO_SIZE]; /* the other PM I/O registers: storage only */
    Timer pm_timer;                    /* fires when the PM timer's bit 23 toggles */
    int pm_handle;
    uint16_t pm_mapped_base; /* 0 = not mapped */
    uint8_t sci_level;
};

static int piix_post_load(void *opaque);

static const VMStateField piix_fields[] = {
    VMSTATE_STRUCT(PiixState, isa, pci_device_vmstate, PCIDevice),
    VMSTATE_STRUCT(PiixState, pm, pci_device_vmstate, PCIDevice),
    VMSTATE_U8(PiixState, rc),
    VMSTATE_U8(PiixState, apmc),
    VMSTATE_U8(PiixState, apms),
    VMSTATE_U16(PiixState, pm1_sts),
    VMSTATE_U16(PiixState, pm1_en),
    VMSTATE_U16(PiixState, pm1_cnt),
    VMSTATE_U16(PiixState, gpe_sts),
    VMSTATE_U16(PiixState, gpe_en),
    VMSTATE_BUFFER(PiixState, pm_regs),
    VMSTATE_TIMER(PiixState, pm_timer),
    VMSTATE_END,
};

static const VMStateDesc piix_vmstate = {
    .name = "piix",
    .version = 1,
    .fields = piix_fields,
    .post_load = piix_post_load,
};

IRQLine *piix_isa_irq_array(void *opaque, int n)
{
    IRQLine **lines = opaque;
    return (n >= 0 && n < 16) ? lines[n] : NULL;
}

/* ---- ISA IRQ outputs: PIRQ routing and the SCI, wired-OR per ISA IRQ ---- */

static int piix_pirq_target(const PiixState *s, int pirq)
{
    uint8_t r = s->isa.config[PIIX_PIRQRC + pirq];
    unsigned irq = r & 0x0F;
    if ((r & PIRQRC_DISABLE) || !((PIRQ_VALID_IRQS >> irq) & 1)) {
        return -1;
    }
    return (int)irq;
}

static void piix_update_isa_irqs(PiixState *s)
{
    uint8_t level[16] = {0};
    for (int p = 0; p < 4; p++) {
        int irq = piix_pirq_target(s, p);
        if (irq >= 0 && pci_bus_pirq_level(s->bus, p)) {
            level[irq] = 1;
        }
    }
    if (s->sci_level) {
        level[PIIX4_SCI_IRQ] = 1;
    }
    for (int n = 0; n < 16; n++) {
        if (level[n] != s->isa_level[n]) {
            s->isa_level[n] = level[n];
            irq_set(s->isa_irq[n], level[n]);
        }
    }
}

static void piix_pirq_changed(void *opaque, int pirq, int level)
{
    piix_update_isa_irqs(opaque);
}

/* SCI (ACPI 1.0 section 4.7.2.5): with SCI_EN set, any PM1 or GPE status bit whose enable bit
 * is set holds the (level-triggered) SCI asserted. */
static void piix_update_sci(PiixState *s)
{
    bool pending = (s->pm1_sts & s->pm1_en & PM1_EN_MASK) || (s->gpe_sts & s->gpe_en);
    uint8_t level = (s->pm1_cnt & PIIX4_PM1_CNT_SCI_EN) && pending;
    if (level != s->sci_level) {
        s->sci_level = level;
        piix_update_isa_irqs(s);
    }
}

/* ---- PM timer ---- */

static uint64_t piix_pm_ticks(const PiixState *s)
{
    int64_t now = clock_now(&s->m->clock);
    if (now < 0) {
        now = 0;
    }
    return (uint64_t)((unsigned __int128)(uint64_t)now * PIIX4_PM_TIMER_HZ / 1000000000u);
}

/* Arm the timer for the next toggle of the counter's top bit: TMR_STS is set whenever bit 23
 * changes (ACPI 1.0 section 4.7.3.3), i.e. every 2^23 ticks, about 2.34 s. */
static void piix_pm_timer_arm(PiixState *s)
{
    uint64_t half = 1ull << (PM_TIMER_BITS - 1);
    uint64_t next = (piix_pm_ticks(s) / half + 1) * half;
    unsigned __int128 ns =
        ((unsigned __int128)next * 1000000000u + PIIX4_PM_TIMER_HZ - 1) / PIIX4_PM_TIMER_HZ;
    if (ns >= (unsigned __int128)CLOCK_NEVER) {
        timer_del(&s->pm_timer); /* beyond the end of virtual time */
        return;
    }
    timer_mod(&s->pm_timer, (int64_t)ns);
}

static void piix_pm_timer_cb(void *opaque)
{
    PiixState *s = opaque;
    s->pm1_sts |= PIIX4_PM1_TMR_STS;
    piix_update_sci(s);
    piix_pm_timer_arm(s);
}

/* ---- PM I/O space ---- */

static uint8_t piix_pm_read_byte(PiixState *s, unsigned off)
{
    switch (off) {
    case PIIX4_PM1_STS:
    case PIIX4_PM1_STS + 1:
        return (uint8_t)(s->pm1_sts >> (8 * (off & 1)));
    case PIIX4_PM1_EN:
    case PIIX4_PM1_EN + 1:
        return (uint8_t)(s->pm1_en >> (8 * (off & 1)));
    case PIIX4_PM1_CNT:
    case PIIX4_PM1_CNT + 1:
        return (uint8_t)(s->pm1_cnt >> (8 * (off & 1)));
    case PIIX4_PM_TMR:
    case PIIX4_PM_TMR + 1:
    case PIIX4_PM_TMR + 2:
        return (uint8_t)(piix_pm_ticks(s) >> (8 * (off - PIIX4_PM_TMR)));
    case PIIX4_PM_TMR + 3:
        return 0; /* bits 31:24 of a 24-bit timer read 0 */
    case PIIX4_GPE0_STS:
    case PIIX4_GPE0_STS + 1:
        return (uint8_t)(s->gpe_sts >> (8 * (off & 1)));
    case PIIX4_GPE0_EN:
    case PIIX4_GPE0_EN + 1:
        return (uint8_t)(s->gpe_en >> (8 * (off & 1)));
    default:
        return off < PIIX4_PM_IO_SIZE ? s->pm_regs[off] : 0xFF;
    }
}

static void piix_sleep(PiixState *s, unsigned typ)
{
    if (typ == PIIX4_SLP_TYP_S5) {
        log_msg(&s->m->log, LOG_DEV, "piix4: S5 soft off\n");
        machine_request_shutdown(s->m, SHUTDOWN_GUEST_POWEROFF, 0);
        return;
    }
    /* Suspend states need wake-up logic nobody models yet: stay in S0, as if the sleep
     * request had been aborted. */
    LOG_ONCE(&s->m->log, LOG_UNIMP, "piix4: sleep type %u not implemented\n", typ);
}

static void piix_pm_write_byte(PiixState *s, unsigned off, uint8_t v)
{
    switch (off) {
    case PIIX4_PM1_STS:
    case PIIX4_PM1_STS + 1:
        /* Status bits clear when written with 1 (ACPI 1.0 section 4.7.3.1). */
        s->pm1_sts &= (uint16_t) ~(((uint16_t)v << (8 * (off & 1))) & PM1_STS_MASK);
        piix_update_sci(s);
        break;
    case PIIX4_PM1_EN:
    case PIIX4_PM1_EN + 1: {
        unsigned sh = 8 * (off & 1);
        s->pm1_en = (uint16_t)((s->pm1_en & ~(0xFFu << sh)) | (((unsigned)v << sh) & PM1_EN_MASK));
        piix_update_sci(s);
        break;
    }
    case PIIX4_PM1_CNT:
    case PIIX4_PM1_CNT + 1: {
        unsigned sh = 8 * (off & 1);
        unsigned val = (unsigned)v << sh;
        if (val & PM1_CNT_GBL_RLS) {
            LOG_ONCE(&s->m->log, LOG_UNIMP, "piix4: GBL_RLS (SMI to BIOS) ignored\n");
        }
        s->pm1_cnt = (uint16_t)((s->pm1_cnt & ~(0xFFu << sh)) | (val & PM1_CNT_MASK));
        piix_update_sci(s);
        if (val & PIIX4_PM1_CNT_SLP_EN) {
            piix_sleep(s, (s->pm1_cnt >> 10) & 7);
        }
        break;
    }
    case PIIX4_PM_TMR:
    case PIIX4_PM_TMR + 1:
    case PIIX4_PM_TMR + 2:
    case PIIX4_PM_TMR + 3:
        break; /* read-only */
    case PIIX4_GPE0_STS:
    case PIIX4_GPE0_STS + 1:
        s->gpe_sts &= (uint16_t) ~((uint16_t)v << (8 * (off & 1)));
        piix_update_sci(s);
        break;
    case PIIX4_GPE0_EN:
    case PIIX4_GPE0_EN + 1: {
        unsigned sh = 8 * (off & 1);
        s->gpe_en = (uint16_t)((s->gpe_en & ~(0xFFu << sh)) | ((unsigned)v << sh));
        piix_update_sci(s);
        break;
    }
    default:
        if (off < PIIX4_PM_IO_SIZE) {
            LOG_ONCE(&s->m->log, LOG_UNIMP, "piix4: PM register 0x%02x stored, no effect\n", off);
            s->pm_regs[off] = v;
        }
        break;
    }
}

static uint64_t piix_pm_read(void *opaque, uint64_t addr, unsigned size)
{
    PiixState *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)piix_pm_read_byte(s, (unsigned)(addr + i)) << (8 * i);
    }
    return v;
}

static void piix_pm_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PiixState *s = opaque;
    for (unsigned i = 0; i < size; i++) {
        piix_pm_write_byte(s, (unsigned)(addr + i), (uint8_t)(val >> (8 * i)));
    }
}

static const IOOps piix_pm_ops = {
    .read = piix_pm_read,
    .write = piix_pm_write,
    .min_access = 1,
    .max_access = 4,
};

/* Map the PM I/O block at PMBA when PMREGMISC.PMIOSE is set (82371AB PMREGMISC). */
static void piix_update_pm_io(PiixState *s)
{
    uint16_t base = (uint16_t)(pci_get_le(s->pm.config, PIIX4_PMBA, 4) & 0xFFC0);
    if (!(s->pm.config[PIIX4_PMREGMISC] & 1)) {
        base = 0;
    }
    if (base == s->pm_mapped_base) {
        return;
    }
    if (s->pm_mapped_base) {
        port_unmap(&s->m->io, s->pm_handle);
        s->pm_mapped_base = 0;
        s->pm_handle = -1;
    }
    if (base) {
        int h = port_map(&s->m->io, "piix4-pm", base, PIIX4_PM_IO_SIZE, &piix_pm_ops, s);
        if (h < 0) {
            log_msg(&s->m->log, LOG_GUEST_ERROR, "piix4: PM I/O at 0x%x not mapped (%d)\n", base,
                    h);
            return;
        }
        s->pm_handle = h;
        s->pm_mapped_base = base;
    }
}

static void piix_pm_config_written(void *opaque, PCIDevice *d, unsigned addr, uint32_t val,
                                   unsigned size)
{
    PiixState *s = opaque;
    unsigned end = addr + size;
    if ((addr < PIIX4_PMBA + 4 && end > PIIX4_PMBA) ||
        (addr <= PIIX4_PMREGMISC && end > PIIX4_PMREGMISC)) {
        piix_update_pm_io(s);
    }
    if (addr < PIIX4_DEVACTB + 4 && end > PIIX4_DEVACTA &&
        (pci_get_le(d->config, PIIX4_DEVACTA, 4) ||
         (pci_get_le(d->config, PIIX4_DEVACTB, 4) & ~PIIX4_DEVACTB_APMC_EN))) {
        /* Only APMC_EN has an effect; the activity monitors and their SMIs are absent. */
        LOG_ONCE(&s->m->log, LOG_UNIMP, "piix4: device activity monitors (DEVACTA/B) absent\n");
    }
    if ((addr < PIIX4_SMBBA + 4 && end > PIIX4_SMBBA && val) ||
        (addr <= PIIX4_SMBHSTCFG && end > PIIX4_SMBHSTCFG && (d->config[PIIX4_SMBHSTCFG] & 1))) {
        LOG_ONCE(&s->m->log, LOG_UNIMP, "piix4: SMBus host controller absent\n");
    }
}

/* ---- ISA bridge: config, reset control, APM ---- */

static void piix_isa_config_written(void *opaque, PCIDevice *d, unsigned addr, uint32_t val,
                                    unsigned size)
{
    PiixState *s = opaque;
    unsigned end = addr + size;
    if (addr < PIIX_PIRQRC + 4 && end > PIIX_PIRQRC) {
        piix_update_isa_irqs(s);
    }
    if (addr < 0x72 && end > 0x70 && ((d->config[0x70] | d->config[0x71]) & 0x80) != 0x80) {
        LOG_ONCE(&s->m->log, LOG_UNIMP, "piix3: motherboard device IRQ routing ignored\n");
    }
    if (addr <= 0x80 && end > 0x80 && d->config[0x80]) {
        LOG_ONCE(&s->m->log, LOG_UNIMP, "piix3: APIC chip select ignored (no I/O APIC)\n");
    }
}

static uint8_t piix_rc_read(void *opaque)
{
    PiixState *s = opaque;
    return s->rc;
}

static void piix_rc_write(void *opaque, uint8_t val)
{
    PiixState *s = opaque;
    bool start = !(s->rc & RC_RCPU) && (val & RC_RCPU);
    s->rc = val & RC_SRST;
    if (start) {
        machine_request_reset(s->m, SHUTDOWN_GUEST_RESET);
    }
}

static uint64_t piix_apm_read(void *opaque, uint64_t addr, unsigned size)
{
    PiixState *s = opaque;
    return addr == 0 ? s->apmc : s->apms;
}

static void piix_apm_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PiixState *s = opaque;
    if (addr != 0) {
        s->apms = (uint8_t)val;
        return;
    }
    s->apmc = (uint8_t)val;
    /* Stand-in for the BIOS SMI handler behind the FADT's SMI_CMD port. */
    if (s->apmc == PIIX_APM_ACPI_ENABLE) {
        s->pm1_cnt |= PIIX4_PM1_CNT_SCI_EN;
    } else if (s->apmc == PIIX_APM_ACPI_DISABLE) {
        s->pm1_cnt &= (uint16_t)~PIIX4_PM1_CNT_SCI_EN;
    }
    piix_update_sci(s);
    /* DEVACTB bit 25 (APMC_EN) makes an APMC write an SMI (82371AB DEVACTB description). */
    if (pci_get_le(s->pm.config, PIIX4_DEVACTB, 4) & PIIX4_DEVACTB_APMC_EN) {
        if (s->smi) {
            irq_pulse(s->smi);
        } else {
            LOG_ONCE(&s->m->log, LOG_UNIMP, "piix4: APMC write 0x%02x: SMI not wired\n", s->apmc);
        }
    }
}

static const IOOps piix_apm_ops = {
    .read = piix_apm_read,
    .write = piix_apm_write,
    .min_access = 1,
    .max_access = 1,
};

void piix_set_smi(PiixState *s, IRQLine *smi)
{
    s->smi = smi;
}

void piix_power_button(PiixState *s)
{
    s->pm1_sts |= PIIX4_PM1_PWRBTN_STS;
    piix_update_sci(s);
}

/* ---- lifecycle ---- */

static void piix_reset(void *opaque)
{
    PiixState *s = opaque;
    pci_device_reset(&s->isa);
    pci_device_reset(&s->pm);
    s->rc = 0;
    s->apmc = 0;
    s->apms = 0;
    s->pm1_sts = 0;
    s->pm1_en = 0;
    s->pm1_cnt = 0;
    s->gpe_sts = 0;
    s->gpe_en = 0;
    memset(s->pm_regs, 0, sizeof(s->pm_regs));
    s->sci_level = 0;
    piix_update_pm_io(s);
    piix_update_isa_irqs(s);
    piix_pm_timer_arm(s);
}

static int piix_post_load(void *opaque)
{
    PiixState *s = opaque;
    pci_device_post_load(&s->isa);
    pci_device_post_load(&s->pm);
    piix_update_pm_io(s);
    s->sci_level = 0;
    piix_update_sci(s);
    piix_update_isa_irqs(s);
    if (!timer_pending(&s->pm_timer)) {
        piix_pm_timer_arm(s);
    }
    return 0;
}

static void piix_init_isa(PiixState *s)
{
    PCIDevice *d = &s->isa;
    /* 82371SB function 0: PCI-to-ISA bridge, multi-function (IDE, USB, PM follow). */
    pci_device_init(d, "piix3-isa", 0x8086, PIIX3_ISA_DEVICE_ID, 0x00, 0x060100,
                    PCI_HEADER_MULTI_FUNCTION, 0);
    pci_set_le(d->config, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
               2);
    pci_set_le(d->wmask, PCI_COMMAND, 0x0008, 2); /* special cycle enable */
    pci_set_le(d->config, PCI_STATUS, 0x0200, 2); /* medium DEVSEL */
    d->wmask[PCI_CACHE_LINE_SIZE] = 0;
    d->wmask[PCI_INTERRUPT_LINE] = 0;
    /* Registers with their reset values (82371SB register summary). */
    static const struct {
        uint8_t off, def, wmask;
    } regs[] = {
        {0x4C, 0x4D, 0xFF},                     /* IORT */
        {0x4E, 0x03, 0xFF},                     /* XBCS */
        {0x4F, 0x00, 0xFF}, {0x60, 0x80, 0x8F}, /* PIRQRCA..D */
        {0x61, 0x80, 0x8F}, {0x62, 0x80, 0x8F}, {0x63, 0x80, 0x8F}, {0x69, 0x02, 0xFF}, /* TOM */
        {0x6A, 0x00, 0xFF},                                                             /* MSTAT */
        {0x6B, 0x00, 0xFF}, {0x70, 0x80, 0xCF}, /* MBIRQ0 */
        {0x71, 0x80, 0xCF},                     /* MBIRQ1 */
        {0x76, 0x04, 0x87},                     /* MBDMA0 */
        {0x77, 0x04, 0x87},                     /* MBDMA1 */
        {0x78, 0x02, 0xFF},                     /* PCSC */
        {0x79, 0x00, 0xFF}, {0x80, 0x00, 0x7F}, /* APICBASE */
        {0x82, 0x00, 0x0F},                     /* DLC */
        {0xA0, 0x08, 0x1F},                     /* SMICNTL */
        {0xA2, 0x00, 0xFF},                     /* SMIEN */
        {0xA3, 0x00, 0xFF}, {0xA4, 0x00, 0xFF}, /* SEE */
        {0xA5, 0x00, 0xFF}, {0xA6, 0x00, 0xFF}, {0xA7, 0x00, 0xFF}, {0xA8, 0x0F, 0xFF}, /* FTMR */
        {0xAA, 0x00, 0xFF},                     /* SMIREQ */
        {0xAB, 0x00, 0xFF}, {0xAC, 0x00, 0xFF}, /* CTLTMR */
        {0xAE, 0x00, 0xFF},                     /* CTHTMR */
    };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        d->config[regs[i].off] = regs[i].def;
        d->wmask[regs[i].off] = regs[i].wmask;
    }
    d->config_written = piix_isa_config_written;
    d->opaque = s;
}

static void piix_init_pm(PiixState *s)
{
    PCIDevice *d = &s->pm;
    /* 82371AB function 3: power management, class "other bridge". */
    pci_device_init(d, "piix4-pm", 0x8086, PIIX4_PM_DEVICE_ID, 0x03, 0x068000, 0x00, 1);
    pci_set_le(d->wmask, PCI_COMMAND, PCI_COMMAND_IO, 2); /* IOSE gates SMBus I/O only */
    pci_set_le(d->config, PCI_STATUS, 0x0280, 2);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0;
    d->wmask[PCI_LATENCY_TIMER] = 0;
    pci_set_le(d->config, PIIX4_PMBA, 0x00000001, 4); /* bit 0: I/O space indicator */
    pci_set_le(d->wmask, PIIX4_PMBA, 0x0000FFC0, 4);
    memset(&d->wmask[0x44], 0xFF, 0x80 - 0x44); /* CNTA..DEVRESJ: stored only */
    d->wmask[PIIX4_PMREGMISC] = 0x01;
    pci_set_le(d->config, PIIX4_SMBBA, 0x00000001, 4);
    pci_set_le(d->wmask, PIIX4_SMBBA, 0x0000FFF0, 4);
    d->wmask[PIIX4_SMBHSTCFG] = 0x0F;
    d->config_written = piix_pm_config_written;
    d->opaque = s;
}

PiixState *piix_new(Machine *m, PCIBus *bus, PiixIsaIrqFn isa_irq, void *irq_opaque)
{
    PiixState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->m = m;
    s->bus = bus;
    s->pm_handle = -1;
    for (int n = 0; n < 16; n++) {
        s->isa_irq[n] = isa_irq ? isa_irq(irq_opaque, n) : NULL;
    }
    timer_init(&s->pm_timer, &m->clock, piix_pm_timer_cb, s);
    piix_init_isa(s);
    piix_init_pm(s);
    if (pci_bus_add_device(bus, &s->isa, PIIX_DEVFN_ISA) < 0) {
        free(s);
        return NULL;
    }
    if (pci_bus_add_device(bus, &s->pm, PIIX_DEVFN_PM) < 0) {
        free(s);
        return NULL;
    }
    s->apm_handle = port_map(&m->io, "piix3-apm", PIIX_APMC_PORT, 2, &piix_apm_ops, s);
    if (s->apm_handle < 0 || machine_add_reset(m, piix_reset, s) < 0 ||
        vmstate_register(&m->vmstate, "piix", &piix_vmstate, s) < 0) {
        free(s);
        return NULL;
    }
    pci_bus_set_pirq_handler(bus, piix_pirq_changed, s);
    pci_bus_set_port_cf9(bus, piix_rc_read, piix_rc_write, s);
    piix_pm_timer_arm(s);
    return s;
}

void piix_free(PiixState *s)
{
    free(s);
}
