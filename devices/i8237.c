/* i8237.c: the PC's two 8237A DMA controllers and the 74LS612 page registers.
 *
 * Register map (Intel 8237A datasheet, "Register Codes"): per controller, address and count
 * of channels 0-3 at offsets 0-7 (two byte accesses through a flip-flop), then status/command
 * (8), request (9), single mask (10), mode (11), clear flip-flop (12), temporary/master clear
 * (13), clear mask (14), all mask (15). Controller 2 decodes every other port (0xC0 + 2*reg)
 * and counts 16-bit words: its address register holds A16:A1 and its page register A23:A17.
 * Devices do not assert DREQ; they call i8237_write_memory()/i8237_read_memory() when their
 * data is ready and the whole block moves at once.
 */
#include "devices/i8237.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vmstate.h"

#define MODE_TYPE(m) (((m) >> 2) & 3) /* 0 verify, 1 write (to memory), 2 read */
#define MODE_AUTOINIT 0x10
#define MODE_DECREMENT 0x20

typedef struct DMAChannel {
    uint16_t base_addr, base_count;
    uint16_t cur_addr, cur_count;
    uint8_t mode;
} DMAChannel;

typedef struct DMAController {
    DMAChannel ch[4];
    uint8_t command, status, mask, request, temp;
    bool flipflop;
} DMAController;

struct I8237 {
    Machine *m;
    DMAController c[2];
    uint8_t pages[16]; /* 0x80-0x8F as written; the channel pages live here too */
    int handles[3];
};

/* Page register port offset (from 0x80) of each channel (IBM PC/AT technical reference). */
static const uint8_t page_port[8] = {0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA};

static const VMStateField dma_channel_fields[] = {
    VMSTATE_U16(DMAChannel, base_addr), VMSTATE_U16(DMAChannel, base_count),
    VMSTATE_U16(DMAChannel, cur_addr),  VMSTATE_U16(DMAChannel, cur_count),
    VMSTATE_U8(DMAChannel, mode),       VMSTATE_END,
};

static const VMStateDesc dma_channel_vmstate = {
    .name = "dma-channel",
    .version = 1,
    .fields = dma_channel_fields,
};

static const VMStateField dma_ctrl_fields[] = {
    VMSTATE_STRUCT_ARRAY(DMAController, ch, 4, dma_channel_vmstate, DMAChannel),
    VMSTATE_U8(DMAController, command),
    VMSTATE_U8(DMAController, status),
    VMSTATE_U8(DMAController, mask),
    VMSTATE_U8(DMAController, request),
    VMSTATE_U8(DMAController, temp),
    VMSTATE_BOOL(DMAController, flipflop),
    VMSTATE_END,
};

static const VMStateDesc dma_ctrl_vmstate = {
    .name = "dma-controller",
    .version = 1,
    .fields = dma_ctrl_fields,
};

static const VMStateField dma_fields[] = {
    VMSTATE_STRUCT_ARRAY(I8237, c, 2, dma_ctrl_vmstate, DMAController),
    VMSTATE_BUFFER(I8237, pages),
    VMSTATE_END,
};

static const VMStateDesc dma_vmstate = {
    .name = "dma",
    .version = 1,
    .fields = dma_fields,
};

static void master_clear(DMAController *c)
{
    c->command = 0;
    c->status = 0;
    c->request = 0;
    c->temp = 0;
    c->flipflop = false;
    c->mask = 0x0F;
}

static uint64_t ctrl_read(DMAController *c, unsigned reg)
{
    if (reg < 8) {
        DMAChannel *ch = &c->ch[reg >> 1];
        uint16_t v = (reg & 1) ? ch->cur_count : ch->cur_addr;
        bool high = c->flipflop;
        c->flipflop = !c->flipflop;
        return high ? (uint8_t)(v >> 8) : (uint8_t)v;
    }
    switch (reg) {
    case 8: {
        uint8_t v = c->status;
        c->status &= 0xF0; /* reading clears the TC bits */
        return v;
    }
    case 13:
        return c->temp;
    case 15:
        return 0xF0 | c->mask;
    default:
        return 0xFF;
    }
}

static void ctrl_write(DMAController *c, unsigned reg, uint8_t v)
{
    if (reg < 8) {
        DMAChannel *ch = &c->ch[reg >> 1];
        uint16_t *base = (reg & 1) ? &ch->base_count : &ch->base_addr;
        uint16_t *cur = (reg & 1) ? &ch->cur_count : &ch->cur_addr;
        if (c->flipflop) {
            *base = (uint16_t)((*base & 0x00FF) | v << 8);
        } else {
            *base = (uint16_t)((*base & 0xFF00) | v);
        }
        *cur = *base;
        c->flipflop = !c->flipflop;
        return;
    }
    switch (reg) {
    case 8:
        c->command = v;
        break;
    case 9:
        if (v & 4) {
            c->request |= (uint8_t)(1u << (v & 3));
        } else {
            c->request &= (uint8_t) ~(1u << (v & 3));
        }
        break;
    case 10:
        if (v & 4) {
            c->mask |= (uint8_t)(1u << (v & 3));
        } else {
            c->mask &= (uint8_t) ~(1u << (v & 3));
        }
        break;
    case 11:
        c->ch[v & 3].mode = v;
        break;
    case 12:
        c->flipflop = false;
        break;
    case 13:
        master_clear(c);
        break;
    case 14:
        c->mask = 0;
        break;
    case 15:
        c->mask = v & 0x0F;
        break;
    default:
        break;
    }
}

static uint64_t dma1_read(void *opaque, uint64_t addr, unsigned size)
{
    I8237 *d = opaque;
    return ctrl_read(&d->c[0], (unsigned)addr);
}

static void dma1_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8237 *d = opaque;
    ctrl_write(&d->c[0], (unsigned)addr, (uint8_t)val);
}

static uint64_t dma2_read(void *opaque, uint64_t addr, unsigned size)
{
    I8237 *d = opaque;
    return (addr & 1) ? 0xFF : ctrl_read(&d->c[1], (unsigned)addr >> 1);
}

static void dma2_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8237 *d = opaque;
    if (!(addr & 1)) {
        ctrl_write(&d->c[1], (unsigned)addr >> 1, (uint8_t)val);
    }
}

/* Page registers 0x81-0x8F: addr is the offset from 0x81. */
static uint64_t page_read(void *opaque, uint64_t addr, unsigned size)
{
    I8237 *d = opaque;
    return d->pages[(addr + 1) & 15];
}

static void page_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8237 *d = opaque;
    d->pages[(addr + 1) & 15] = (uint8_t)val;
}

static const IOOps dma1_ops = {
    .read = dma1_read, .write = dma1_write, .min_access = 1, .max_access = 1};
static const IOOps dma2_ops = {
    .read = dma2_read, .write = dma2_write, .min_access = 1, .max_access = 1};
static const IOOps page_ops = {
    .read = page_read, .write = page_write, .min_access = 1, .max_access = 1};

bool i8237_channel_ready(const I8237 *d, int ch)
{
    if (ch < 0 || ch > 7) {
        return false;
    }
    const DMAController *c = &d->c[ch >> 2];
    return !(c->mask & (1u << (ch & 3))) && !(c->command & 0x04);
}

/* transfer: the common engine; to_mem says the device writes memory. */
static size_t transfer(I8237 *d, int ch, uint8_t *buf, size_t len, bool to_mem, bool *tc)
{
    if (tc) {
        *tc = false;
    }
    if (!i8237_channel_ready(d, ch)) {
        return 0;
    }
    DMAController *c = &d->c[ch >> 2];
    DMAChannel *chn = &c->ch[ch & 3];
    unsigned type = MODE_TYPE(chn->mode);
    if ((type == 1 && !to_mem) || (type == 2 && to_mem) || type == 3) {
        LOG_ONCE(&d->m->log, LOG_GUEST_ERROR,
                 "dma: channel %d mode 0x%02x does not match "
                 "the device's direction\n",
                 ch, chn->mode);
        return 0;
    }
    bool word = ch >= 4;
    unsigned unit = word ? 2 : 1;
    uint8_t page = d->pages[page_port[ch]];
    size_t moved = 0;
    bool done = false;
    while (moved + unit <= len && !done) {
        uint64_t phys = word ? ((uint64_t)(page & 0xFE) << 16) | ((uint64_t)chn->cur_addr << 1)
                             : ((uint64_t)page << 16) | chn->cur_addr;
        /* A run up to the end of the 64 KiB (128 KiB) window or the count, whichever first. */
        size_t units = (size_t)chn->cur_count + 1;
        if (!(chn->mode & MODE_DECREMENT)) {
            size_t to_wrap = 0x10000u - chn->cur_addr;
            if (units > to_wrap) {
                units = to_wrap;
            }
        } else {
            units = 1;
        }
        if (units > (len - moved) / unit) {
            units = (len - moved) / unit;
        }
        size_t bytes = units * unit;
        if (type != 0) {
            if (to_mem) {
                mem_write_buf(&d->m->mem, phys, buf + moved, bytes);
            } else {
                mem_read_buf(&d->m->mem, phys, buf + moved, bytes);
            }
        }
        moved += bytes;
        if (chn->mode & MODE_DECREMENT) {
            chn->cur_addr = (uint16_t)(chn->cur_addr - units);
        } else {
            chn->cur_addr = (uint16_t)(chn->cur_addr + units);
        }
        if (units > chn->cur_count) {
            /* Terminal count: the count rolled over from 0 to 0xFFFF. */
            c->status |= (uint8_t)(1u << (ch & 3));
            if (tc) {
                *tc = true;
            }
            if (chn->mode & MODE_AUTOINIT) {
                chn->cur_addr = chn->base_addr;
                chn->cur_count = chn->base_count;
            } else {
                chn->cur_count = 0xFFFF;
                c->mask |= (uint8_t)(1u << (ch & 3));
            }
            done = true;
        } else {
            chn->cur_count = (uint16_t)(chn->cur_count - units);
        }
    }
    return moved;
}

size_t i8237_write_memory(I8237 *d, int ch, const uint8_t *buf, size_t len, bool *tc)
{
    return transfer(d, ch, (uint8_t *)buf, len, true, tc);
}

size_t i8237_read_memory(I8237 *d, int ch, uint8_t *buf, size_t len, bool *tc)
{
    return transfer(d, ch, buf, len, false, tc);
}

static void dma_reset(void *opaque)
{
    I8237 *d = opaque;
    for (int i = 0; i < 2; i++) {
        master_clear(&d->c[i]);
    }
}

I8237 *i8237_new(Machine *m)
{
    I8237 *d = calloc(1, sizeof(*d));
    if (!d) {
        return NULL;
    }
    d->m = m;
    d->handles[0] = port_map(&m->io, "dma1", 0x00, 16, &dma1_ops, d);
    d->handles[1] = port_map(&m->io, "dma2", 0xC0, 32, &dma2_ops, d);
    d->handles[2] = port_map(&m->io, "dma-page", 0x81, 15, &page_ops, d);
    if (d->handles[0] < 0 || d->handles[1] < 0 || d->handles[2] < 0 ||
        machine_add_reset(m, dma_reset, d) < 0 ||
        vmstate_register(&m->vmstate, "dma", &dma_vmstate, d) < 0) {
        for (int i = 0; i < 3; i++) {
            if (d->handles[i] >= 0) {
                port_unmap(&m->io, d->handles[i]);
            }
        }
        free(d);
        return NULL;
    }
    dma_reset(d);
    return d;
}

void i8237_free(I8237 *d)
{
    free(d);
}
