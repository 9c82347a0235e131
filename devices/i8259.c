/* i8259.c: the master/slave Intel 8259A programmable interrupt controllers and the PIIX ELCR.
 *
 * Each chip keeps the datasheet's three registers: IRR (requests), ISR (in service) and IMR
 * (masks). Priority is a rotation of the eight levels: `prio_base` is the IR level with the
 * highest priority (0 after ICW1; "rotate" makes the level just serviced the lowest). The slave's
 * INT output drives the master's IR2. The CPU asks for a vector with i8259_intr_ack().
 *
 * Edge-triggered inputs latch a request on the rising edge and keep it until it is acknowledged,
 * masked away or cleared by ICW1. The 8259A datasheet ("Edge Triggered Mode") asks that the line
 * stay high until the first INTA, but emulated devices pulse their lines instantaneously
 * (irq_pulse), so a falling edge does not drop a latched edge request here. Level-triggered
 * inputs (ICW1 LTIM or the ELCR bit) request for as long as the line is high.
 */
#include "devices/i8259.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/log.h"
#include "core/vmstate.h"

/* One 8259A. */
typedef struct PICChip {
    uint8_t irr, isr, imr;
    uint8_t input;       /* current input pin levels */
    uint8_t elcr;        /* PIIX edge/level control: 1 = level */
    uint8_t elcr_mask;   /* ELCR bits that exist */
    uint8_t vector_base; /* ICW2 & 0xF8 */
    uint8_t icw3;
    uint8_t init_step; /* 0 ready, 1 wants ICW2, 2 wants ICW3, 3 wants ICW4 */
    uint8_t prio_base; /* IR level with the highest priority */
    bool icw4_needed, single, ltim, aeoi, sfnm, upm;
    bool rotate_aeoi;
    bool read_isr;     /* OCW3 RR/RIS: reads of the A0=0 port return ISR */
    bool poll;         /* OCW3 P: the next read is a poll */
    bool special_mask; /* OCW3 ESMM/SMM */
    bool is_master;
    struct I8259 *owner;
} PICChip;

struct I8259 {
    PICChip chip[2];
    IRQLine lines[16];
    uint8_t ext2;       /* level of the external IRQ2 line (ORed with the cascade) */
    uint8_t slave_out;  /* the slave's INT pin */
    uint8_t intr_level; /* the master's INT pin */
    I8259IntrFn intr;
    void *intr_opaque;
    Machine *m;
    Logger *log;
    int ports[3];
};

enum { PIC_CASCADE_IR = 2 };

static const VMStateField pic_chip_fields[] = {
    VMSTATE_U8(PICChip, irr),
    VMSTATE_U8(PICChip, isr),
    VMSTATE_U8(PICChip, imr),
    VMSTATE_U8(PICChip, input),
    VMSTATE_U8(PICChip, elcr),
    VMSTATE_U8(PICChip, vector_base),
    VMSTATE_U8(PICChip, icw3),
    VMSTATE_U8(PICChip, init_step),
    VMSTATE_U8(PICChip, prio_base),
    VMSTATE_BOOL(PICChip, icw4_needed),
    VMSTATE_BOOL(PICChip, single),
    VMSTATE_BOOL(PICChip, ltim),
    VMSTATE_BOOL(PICChip, aeoi),
    VMSTATE_BOOL(PICChip, sfnm),
    VMSTATE_BOOL(PICChip, upm),
    VMSTATE_BOOL(PICChip, rotate_aeoi),
    VMSTATE_BOOL(PICChip, read_isr),
    VMSTATE_BOOL(PICChip, poll),
    VMSTATE_BOOL(PICChip, special_mask),
    VMSTATE_END,
};

static const VMStateDesc pic_chip_vmstate = {
    .name = "i8259-chip",
    .version = 1,
    .fields = pic_chip_fields,
};

static int pic_post_load(void *opaque);

static const VMStateField pic_fields[] = {
    VMSTATE_STRUCT_ARRAY(I8259, chip, 2, pic_chip_vmstate, PICChip),
    VMSTATE_U8(I8259, ext2),
    VMSTATE_U8(I8259, slave_out),
    VMSTATE_U8(I8259, intr_level),
    VMSTATE_END,
};

static const VMStateDesc pic_vmstate = {
    .name = "i8259",
    .version = 1,
    .fields = pic_fields,
    .post_load = pic_post_load,
};

/* Inputs that are level-triggered: all of them with ICW1 LTIM, else those the ELCR selects. */
static uint8_t chip_level_mask(const PICChip *c)
{
    return c->ltim ? 0xFF : c->elcr;
}

/* Priority (0 = highest) of the best request in mask, 8 when mask is empty. */
static int chip_priority(const PICChip *c, uint8_t mask)
{
    for (int p = 0; p < 8; p++) {
        if (mask & (1u << ((p + c->prio_base) & 7))) {
            return p;
        }
    }
    return 8;
}

/* The IR level the chip would present to INTA now, or -1. */
static int chip_pending_irq(const PICChip *c)
{
    uint8_t req = c->irr & ~c->imr;
    int prio = chip_priority(c, req);
    if (prio == 8) {
        return -1;
    }
    uint8_t in_service = c->isr;
    /* Special mask mode: a masked level in service does not hold off other levels (8259A
     * datasheet, "Special Mask Mode"). */
    if (c->special_mask) {
        in_service &= ~c->imr;
    }
    /* Special fully nested mode: the master lets a higher-priority request of the slave through
     * while the cascade level is in service (8259A datasheet, "Special Fully Nested Mode"). */
    if (c->is_master && c->sfnm) {
        in_service &= ~c->icw3;
    }
    if (prio < chip_priority(c, in_service)) {
        return (prio + c->prio_base) & 7;
    }
    return -1;
}

static bool chip_is_cascade(const PICChip *c, int irq)
{
    return c->is_master && !c->single && (c->icw3 & (1u << irq));
}

static void pic_update(I8259 *pic);

/* Drive input pin `bit` of a chip. Returns nothing; the caller runs pic_update. */
static void chip_set_input(PICChip *c, int bit, int level)
{
    uint8_t mask = (uint8_t)(1u << bit);
    if (level) {
        if (!(c->input & mask) || (chip_level_mask(c) & mask)) {
            c->irr |= mask;
        }
        c->input |= mask;
    } else {
        c->input &= ~mask;
        if (chip_level_mask(c) & mask) {
            c->irr &= ~mask;
        }
    }
}

/* Acknowledge level irq on a chip (INTA or poll). */
static void chip_ack(PICChip *c, int irq)
{
    uint8_t mask = (uint8_t)(1u << irq);
    if (c->aeoi) {
        /* Rotate in automatic EOI mode (OCW2 R=1 SL=0 EOI=0). */
        if (c->rotate_aeoi) {
            c->prio_base = (uint8_t)((irq + 1) & 7);
        }
    } else {
        c->isr |= mask;
    }
    /* An edge request is consumed; a level request stays while the line is high. */
    if (!(chip_level_mask(c) & mask)) {
        c->irr &= ~mask;
    }
}

static void pic_set_master_ir2(I8259 *pic)
{
    chip_set_input(&pic->chip[0], PIC_CASCADE_IR, pic->slave_out | pic->ext2);
}

static void pic_update(I8259 *pic)
{
    uint8_t out = chip_pending_irq(&pic->chip[1]) >= 0;
    if (out != pic->slave_out) {
        pic->slave_out = out;
        pic_set_master_ir2(pic);
    }
    uint8_t intr = chip_pending_irq(&pic->chip[0]) >= 0;
    if (intr != pic->intr_level) {
        pic->intr_level = intr;
        if (log_enabled(pic->log, LOG_IRQ)) {
            log_msg(pic->log, LOG_IRQ, "pic: INTR %d\n", intr);
        }
        if (pic->intr) {
            pic->intr(pic->intr_opaque, intr);
        }
    }
}

static void pic_irq_handler(void *opaque, int n, int level)
{
    I8259 *pic = opaque;
    if (n < 0 || n > 15) {
        return;
    }
    if (n == PIC_CASCADE_IR) {
        pic->ext2 = level ? 1 : 0;
        pic_set_master_ir2(pic);
    } else {
        chip_set_input(&pic->chip[n >> 3], n & 7, level);
    }
    pic_update(pic);
}

int i8259_intr_ack(void *opaque)
{
    I8259 *pic = opaque;
    PICChip *master = &pic->chip[0];
    PICChip *slave = &pic->chip[1];
    int vector;
    int irq = chip_pending_irq(master);
    if (irq < 0) {
        /* The request went away before INTA: the master answers with IR7 and sets no ISR bit
         * (8259A datasheet, "Interrupt Sequence", note on the default IR7). */
        vector = master->vector_base + 7;
    } else {
        chip_ack(master, irq);
        if (chip_is_cascade(master, irq)) {
            int irq2 = chip_pending_irq(slave);
            if (irq2 >= 0) {
                chip_ack(slave, irq2);
                vector = slave->vector_base + irq2;
            } else {
                /* Spurious on the slave: vector base+7 there, while the master has already
                 * put IR2 in service. */
                vector = slave->vector_base + 7;
            }
            /* The slave's INT is still asserted for another request: the master sees it as a
             * new request on IR2 once the first one is taken. */
            if (chip_pending_irq(slave) >= 0) {
                pic->slave_out = 1;
                master->irr |= 1u << PIC_CASCADE_IR;
            }
        } else {
            vector = master->vector_base + irq;
        }
    }
    pic_update(pic);
    if (log_enabled(pic->log, LOG_IRQ)) {
        log_msg(pic->log, LOG_IRQ, "pic: INTA vector 0x%02x\n", vector);
    }
    return vector & 0xFF;
}

int i8259_intr_level(const I8259 *pic)
{
    return pic->intr_level;
}

IRQLine *i8259_irq(I8259 *pic, int n)
{
    if (!pic || n < 0 || n > 15) {
        return NULL;
    }
    return &pic->lines[n];
}

/* Poll command (OCW3 P=1): the read is an interrupt acknowledge; returns I (bit 7) and the
 * level W2-W0 (8259A datasheet, "The Poll Command"). */
static uint8_t chip_poll(PICChip *c)
{
    I8259 *pic = c->owner;
    c->poll = false;
    int irq = chip_pending_irq(c);
    if (irq < 0) {
        return 0x00;
    }
    chip_ack(c, irq);
    pic_update(pic);
    return (uint8_t)(0x80 | irq);
}

static void chip_icw1(PICChip *c, uint8_t val)
{
    /* ICW1 resets the edge sense circuit, clears IMR, gives IR7 the lowest priority, clears
     * special mask mode and selects IRR for status reads; without IC4 the ICW4 functions are
     * zero (8259A datasheet, "Initialization Command Words"). In-service bits are dropped too,
     * so a re-initialising OS is not stuck behind the firmware's forgotten EOI. */
    c->icw4_needed = val & 0x01;
    c->single = val & 0x02;
    c->ltim = val & 0x08;
    c->imr = 0;
    c->isr = 0;
    c->irr = c->input & chip_level_mask(c);
    c->prio_base = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    c->aeoi = false;
    c->sfnm = false;
    c->upm = false;
    c->init_step = 1;
    if (val & 0x04) {
        LOG_ONCE(c->owner->log, LOG_UNIMP, "pic: ICW1 ADI (8080 call interval) ignored\n");
    }
}

static void chip_ocw2(PICChip *c, uint8_t val)
{
    int level = val & 7;
    int cmd = (val >> 5) & 7;
    switch (cmd) {
    case 0: /* clear rotate in AEOI */
        c->rotate_aeoi = false;
        break;
    case 4: /* set rotate in AEOI */
        c->rotate_aeoi = true;
        break;
    case 1:   /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        int prio = chip_priority(c, c->isr);
        if (prio < 8) {
            int irq = (prio + c->prio_base) & 7;
            c->isr &= ~(1u << irq);
            if (cmd == 5) {
                c->prio_base = (uint8_t)((irq + 1) & 7);
            }
        }
        break;
    }
    case 3: /* specific EOI */
        c->isr &= ~(1u << level);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        c->prio_base = (uint8_t)((level + 1) & 7);
        break;
    case 6: /* set priority: `level` becomes the lowest */
        c->prio_base = (uint8_t)((level + 1) & 7);
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_ocw3(PICChip *c, uint8_t val)
{
    if (val & 0x40) {
        c->special_mask = (val & 0x20) != 0;
    }
    if (val & 0x04) {
        c->poll = true;
    }
    if (val & 0x02) {
        c->read_isr = (val & 0x01) != 0;
    }
}

static void chip_write(PICChip *c, unsigned a0, uint8_t val)
{
    if (a0 == 0) {
        if (val & 0x10) {
            chip_icw1(c, val);
        } else if (val & 0x08) {
            chip_ocw3(c, val);
        } else {
            chip_ocw2(c, val);
        }
    } else {
        switch (c->init_step) {
        case 1: /* ICW2 */
            c->vector_base = val & 0xF8;
            if (log_dev_enabled(c->owner->log, "pic")) {
                log_msg(c->owner->log, LOG_DEV, "pic: %s vector base 0x%02x\n",
                        c->is_master ? "master" : "slave", c->vector_base);
            }
            c->init_step = c->single ? (c->icw4_needed ? 3 : 0) : 2;
            break;
        case 2: /* ICW3 */
            c->icw3 = val;
            c->init_step = c->icw4_needed ? 3 : 0;
            break;
        case 3: /* ICW4 */
            c->upm = val & 0x01;
            c->aeoi = val & 0x02;
            c->sfnm = val & 0x10;
            c->init_step = 0;
            if (!c->upm) {
                LOG_ONCE(c->owner->log, LOG_UNIMP, "pic: ICW4 8080/8085 mode unsupported\n");
            }
            break;
        default: /* OCW1 */
            c->imr = val;
            break;
        }
    }
    pic_update(c->owner);
}

static uint8_t chip_read(PICChip *c, unsigned a0)
{
    if (c->poll) {
        return chip_poll(c);
    }
    if (a0) {
        return c->imr;
    }
    return c->read_isr ? c->isr : c->irr;
}

static uint64_t pic_io_read(void *opaque, uint64_t addr, unsigned size)
{
    return chip_read(opaque, (unsigned)(addr & 1));
}

static void pic_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    chip_write(opaque, (unsigned)(addr & 1), (uint8_t)val);
}

static const IOOps pic_ops = {
    .read = pic_io_read,
    .write = pic_io_write,
    .min_access = 1,
    .max_access = 1,
};

/* ELCR at 0x4D0 (IRQ 0-7) and 0x4D1 (IRQ 8-15); IRQ 0, 1, 2, 8 and 13 are always edge
 * (Intel PIIX3 datasheet, ELCR1/ELCR2). */
static uint64_t elcr_io_read(void *opaque, uint64_t addr, unsigned size)
{
    I8259 *pic = opaque;
    return pic->chip[addr & 1].elcr;
}

static void elcr_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8259 *pic = opaque;
    PICChip *c = &pic->chip[addr & 1];
    uint8_t old_level = chip_level_mask(c);
    c->elcr = (uint8_t)val & c->elcr_mask;
    uint8_t now_level = chip_level_mask(c);
    /* Inputs that became level-triggered request exactly while their line is high. */
    uint8_t changed = (uint8_t)(now_level & ~old_level);
    c->irr = (uint8_t)((c->irr & ~changed) | (c->input & changed));
    pic_update(pic);
}

static const IOOps elcr_ops = {
    .read = elcr_io_read,
    .write = elcr_io_write,
    .min_access = 1,
    .max_access = 1,
};

static void chip_reset(PICChip *c, bool master)
{
    uint8_t input = c->input;
    I8259 *owner = c->owner;
    memset(c, 0, sizeof(*c));
    c->owner = owner;
    c->input = input;
    c->is_master = master;
    c->elcr_mask = master ? 0xF8 : 0xDE;
    /* Until the firmware initialises the pair, wire them as a PC does. */
    c->icw3 = master ? (1u << PIC_CASCADE_IR) : PIC_CASCADE_IR;
    c->upm = true;
}

static void pic_reset(void *opaque)
{
    I8259 *pic = opaque;
    chip_reset(&pic->chip[0], true);
    chip_reset(&pic->chip[1], false);
    pic->slave_out = 0;
    pic_update(pic);
}

static int pic_post_load(void *opaque)
{
    I8259 *pic = opaque;
    for (int i = 0; i < 2; i++) {
        pic->chip[i].elcr &= pic->chip[i].elcr_mask;
        if (pic->chip[i].init_step > 3) {
            pic->chip[i].init_step = 0;
        }
        pic->chip[i].prio_base &= 7;
    }
    /* Re-announce the restored INT level to the CPU. */
    uint8_t level = pic->intr_level;
    pic->intr_level = !level;
    pic->slave_out = chip_pending_irq(&pic->chip[1]) >= 0;
    pic_update(pic);
    return 0;
}

I8259 *i8259_new(Machine *m, I8259IntrFn intr, void *opaque)
{
    I8259 *pic = calloc(1, sizeof(*pic));
    if (!pic) {
        return NULL;
    }
    pic->m = m;
    pic->log = &m->log;
    pic->intr = intr;
    pic->intr_opaque = opaque;
    for (int i = 0; i < 2; i++) {
        pic->chip[i].owner = pic;
    }
    for (int n = 0; n < 16; n++) {
        irq_init(&pic->lines[n], pic_irq_handler, pic, n);
    }
    pic_reset(pic);
    pic->ports[0] = port_map(&m->io, "pic-master", 0x20, 2, &pic_ops, &pic->chip[0]);
    pic->ports[1] = port_map(&m->io, "pic-slave", 0xA0, 2, &pic_ops, &pic->chip[1]);
    pic->ports[2] = port_map(&m->io, "elcr", 0x4D0, 2, &elcr_ops, pic);
    if (pic->ports[0] < 0 || pic->ports[1] < 0 || pic->ports[2] < 0) {
        for (int i = 0; i < 3; i++) {
            if (pic->ports[i] >= 0) {
                port_unmap(&m->io, pic->ports[i]);
            }
        }
        free(pic);
        return NULL;
    }
    /* Registration cannot be undone: on failure the object stays allocated (the machine is
     * unusable anyway) rather than leave a dangling pointer behind. */
    if (vmstate_register(&m->vmstate, "pic", &pic_vmstate, pic) < 0 ||
        machine_add_reset(m, pic_reset, pic) < 0) {
        return NULL;
    }
    return pic;
}

void i8259_free(I8259 *pic)
{
    free(pic);
}
