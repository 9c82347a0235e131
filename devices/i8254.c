/* i8254.c: the Intel 8254 programmable interval timer and port 0x61 (system control port B).
 *
 * Counting is computed from virtual time instead of being stepped: a counter that runs keeps
 * `start`, the input-clock tick at which its count element held the full count N (elapsed e = 0),
 * and the count and OUT at any later tick follow from e = tick - start with the formulas of the
 * six modes (8254 datasheet, "Mode Definitions"). Counter 0 arms one timer for the next rising
 * edge of OUT (IRQ0) only: once per period in modes 2 and 3, once in the one-shot modes. A one
 * clock low pulse of OUT (modes 2, 4, 5) is delivered to the IRQ line as a lower-then-raise at
 * the rising edge.
 *
 * Example: mode 2, N = 4, count written at tick 99.x: the count element is loaded on the next
 * clock (tick 100 = start). Counts at ticks 100..103 are 4 3 2 1, OUT is low at tick 103 and
 * rises at tick 104 (count reloaded to 4): IRQ0 edges at 104, 108, 112...
 */
#include "devices/i8254.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/ioport.h"
#include "core/log.h"
#include "core/vmstate.h"

#define REFRESH_PERIOD_NS 15085 /* port 0x61 bit 4 toggles with each DRAM refresh request */

typedef struct PITCounter {
    uint8_t mode_bits; /* M2..M0 as written (status byte) */
    uint8_t mode;      /* 0..5 */
    uint8_t rw;        /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool write_msb; /* word access: the next write is the MSB */
    uint8_t write_lsb;
    bool read_msb;      /* word access: the next unlatched read is the MSB */
    uint8_t latch_left; /* latched count bytes left to read */
    uint16_t latched;
    bool status_latched;
    uint8_t status;
    bool gate;
    bool null_count;
    int64_t nc_clear;     /* tick at which the written count reaches the count element */
    bool have_count;      /* a count was written since the control word */
    bool running;         /* the count element counts (or is held by GATE in modes 0/4) */
    bool paused;          /* modes 0/4: GATE low holds the count at `frozen` */
    bool out_idle;        /* OUT while not running */
    uint16_t hold;        /* count shown while not running */
    uint16_t reload;      /* the count register as written */
    uint32_t period;      /* N of the running sequence in clocks (1..65536) */
    uint32_t next_period; /* modes 2/3: count written during a cycle, 0 = none */
    int64_t next_start;   /* ... as the sequence start (elapsed 0) it then gets */
    int64_t next_switch;  /* tick at which it takes over */
    int64_t start;
    int64_t frozen;
    bool edge_done;     /* one-shot modes: the rising edge was delivered */
    int64_t armed_edge; /* tick of the edge the timer is armed for, -1 = none */
    uint8_t irq_level;  /* level last driven on the IRQ line */
    Timer timer;
    IRQLine *irq;
    struct I8254 *owner;
} PITCounter;

struct I8254 {
    PITCounter ctr[3];
    uint8_t port61; /* bits 0-3 as written */
    Machine *m;
    Logger *log;
    int ports[2];
};

static const VMStateField pit_counter_fields[] = {
    VMSTATE_U8(PITCounter, mode_bits),
    VMSTATE_U8(PITCounter, mode),
    VMSTATE_U8(PITCounter, rw),
    VMSTATE_BOOL(PITCounter, bcd),
    VMSTATE_BOOL(PITCounter, write_msb),
    VMSTATE_U8(PITCounter, write_lsb),
    VMSTATE_BOOL(PITCounter, read_msb),
    VMSTATE_U8(PITCounter, latch_left),
    VMSTATE_U16(PITCounter, latched),
    VMSTATE_BOOL(PITCounter, status_latched),
    VMSTATE_U8(PITCounter, status),
    VMSTATE_BOOL(PITCounter, gate),
    VMSTATE_BOOL(PITCounter, null_count),
    VMSTATE_I64(PITCounter, nc_clear),
    VMSTATE_BOOL(PITCounter, have_count),
    VMSTATE_BOOL(PITCounter, running),
    VMSTATE_BOOL(PITCounter, paused),
    VMSTATE_BOOL(PITCounter, out_idle),
    VMSTATE_U16(PITCounter, hold),
    VMSTATE_U16(PITCounter, reload),
    VMSTATE_U32(PITCounter, period),
    VMSTATE_U32(PITCounter, next_period),
    VMSTATE_I64(PITCounter, next_start),
    VMSTATE_I64(PITCounter, next_switch),
    VMSTATE_I64(PITCounter, start),
    VMSTATE_I64(PITCounter, frozen),
    VMSTATE_BOOL(PITCounter, edge_done),
    VMSTATE_I64(PITCounter, armed_edge),
    VMSTATE_U8(PITCounter, irq_level),
    VMSTATE_TIMER(PITCounter, timer),
    VMSTATE_END,
};

static const VMStateDesc pit_counter_vmstate = {
    .name = "i8254-counter",
    .version = 1,
    .fields = pit_counter_fields,
};

static int pit_post_load(void *opaque);

static const VMStateField pit_fields[] = {
    VMSTATE_STRUCT_ARRAY(I8254, ctr, 3, pit_counter_vmstate, PITCounter),
    VMSTATE_U8(I8254, port61),
    VMSTATE_END,
};

static const VMStateDesc pit_vmstate = {
    .name = "i8254",
    .version = 1,
    .fields = pit_fields,
    .post_load = pit_post_load,
};

/* --- time ------------------------------------------------------------------------------- */

/* The input-clock tick in progress at virtual time ns. */
static int64_t tick_of_ns(int64_t ns)
{
    if (ns <= 0) {
        return 0;
    }
    return (int64_t)(((unsigned __int128)ns * I8254_HZ) / 1000000000u);
}

/* The first virtual ns at which tick has begun. */
static int64_t ns_of_tick(int64_t tick)
{
    if (tick <= 0) {
        return 0;
    }
    return (int64_t)(((unsigned __int128)tick * 1000000000u + I8254_HZ - 1) / I8254_HZ);
}

static int64_t pit_now_tick(const I8254 *pit)
{
    return tick_of_ns(clock_now(&pit->m->clock));
}

/* --- counting ---------------------------------------------------------------------------- */

static uint32_t ctr_modulus(const PITCounter *c)
{
    return c->bcd ? 10000 : 65536;
}

/* N in clocks for a count register value: 0 is the largest count (2^16 binary, 10^4 BCD). */
static uint32_t ctr_count_of(const PITCounter *c, uint16_t raw)
{
    uint32_t n = raw;
    if (c->bcd) {
        /* Digits above 9 are undefined in BCD; they are weighted like valid ones. */
        n = (raw >> 12) * 1000u + ((raw >> 8) & 0xF) * 100u + ((raw >> 4) & 0xF) * 10u +
            (raw & 0xF);
    }
    return n ? n : ctr_modulus(c);
}

static uint16_t ctr_to_reg(const PITCounter *c, uint32_t v)
{
    v %= ctr_modulus(c);
    if (!c->bcd) {
        return (uint16_t)v;
    }
    return (uint16_t)(((v / 1000) << 12) | (((v / 100) % 10) << 8) | (((v / 10) % 10) << 4) |
                      (v % 10));
}

/* Apply a count written during a mode 2/3 cycle once its cycle has ended. */
static void ctr_sync(PITCounter *c, int64_t t)
{
    if (c->next_period && t >= c->next_switch) {
        c->start = c->next_start;
        c->period = c->next_period;
        c->next_period = 0;
    }
    if (c->null_count && t >= c->nc_clear) {
        c->null_count = false;
    }
}

static int64_t ctr_elapsed(const PITCounter *c, int64_t t)
{
    return c->paused ? c->frozen : t - c->start;
}

/* The count element at tick t, in clocks (not yet reduced modulo 2^16 / 10^4). */
static uint32_t ctr_count_at(const PITCounter *c, int64_t t)
{
    if (!c->running) {
        return c->hold;
    }
    int64_t e = ctr_elapsed(c, t);
    uint32_t n = c->period;
    if (e < 0) {
        return n;
    }
    uint32_t mod = ctr_modulus(c);
    switch (c->mode) {
    case 2:
        return n - (uint32_t)(e % n);
    case 3: {
        /* Mode 3 counts down by two; an odd N spends one extra clock in the high half
         * (8254 datasheet, "Mode 3: Square Wave Mode"). */
        uint32_t p = (uint32_t)(e % n);
        if ((n & 1) == 0) {
            return p < n / 2 ? n - 2 * p : n - 2 * (p - n / 2);
        }
        uint32_t h = (n + 1) / 2;
        if (p < h) {
            return p == 0 ? n : n + 1 - 2 * p;
        }
        uint32_t q = p - h;
        return q == 0 ? n : n - 1 - 2 * q;
    }
    default: /* 0, 1, 4, 5: count down through zero and wrap */
        return (uint32_t)(((int64_t)n - e % mod + mod) % mod);
    }
}

static int ctr_out_at(const PITCounter *c, int64_t t)
{
    if (!c->running) {
        return c->out_idle;
    }
    int64_t e = ctr_elapsed(c, t);
    int64_t n = c->period;
    switch (c->mode) {
    case 0:
        return e >= n;
    case 1:
        return e < 0 || e >= n;
    case 2:
        return e < 0 || (e % n) != n - 1;
    case 3:
        return e < 0 || (e % n) < (n + 1) / 2;
    default: /* 4, 5: low for the one clock at which the count reaches zero */
        return e != n;
    }
}

/* The tick of the next rising edge of OUT strictly after tick t, or -1. */
static int64_t ctr_next_edge(const PITCounter *c, int64_t t)
{
    if (!c->running || c->paused) {
        return -1;
    }
    int64_t n = c->period;
    switch (c->mode) {
    case 0:
    case 1:
        return c->edge_done ? -1 : c->start + n;
    case 2:
    case 3: {
        if (c->next_period) {
            /* A switch at the end of a low half is itself the rising edge; one in mid
             * period (mode 3, end of a high half) is followed by the new low half. */
            return c->next_switch == c->next_start ? c->next_switch
                                                   : c->next_start + c->next_period;
        }
        int64_t e = t - c->start;
        int64_t k = e < 0 ? 1 : e / n + 1;
        return c->start + k * n;
    }
    default:
        return c->edge_done ? -1 : c->start + n + 1;
    }
}

static void ctr_drive_irq(PITCounter *c, int level)
{
    if (c->irq && c->irq_level != level) {
        c->irq_level = (uint8_t)level;
        irq_set(c->irq, level);
    }
}

/* Re-arm the IRQ timer after a state change (only a counter with an IRQ line has one). */
static void ctr_rearm(PITCounter *c, int64_t t)
{
    if (!c->irq) {
        return;
    }
    int64_t edge = ctr_next_edge(c, t);
    c->armed_edge = edge;
    if (edge < 0) {
        timer_del(&c->timer);
    } else {
        timer_mod(&c->timer, ns_of_tick(edge));
    }
}

static void ctr_timer_cb(void *opaque)
{
    PITCounter *c = opaque;
    int64_t t = pit_now_tick(c->owner);
    ctr_sync(c, t);
    int64_t edge = c->armed_edge;
    if (edge >= 0 && edge <= t) {
        switch (c->mode) {
        case 0:
        case 1:
            c->edge_done = true;
            ctr_drive_irq(c, 1);
            break;
        case 4:
        case 5:
            c->edge_done = true;
            /* OUT was low for one clock: pulse like the periodic modes. */
            __attribute__((fallthrough));
        default:
            if (c->irq) {
                c->irq_level = 0;
                irq_set(c->irq, 0);
            }
            ctr_drive_irq(c, 1);
            break;
        }
    }
    ctr_rearm(c, t);
}

/* Stop counting, keeping the current count visible. */
static void ctr_stop(PITCounter *c, int64_t t, int out)
{
    c->hold = ctr_to_reg(c, ctr_count_at(c, t));
    c->running = false;
    c->paused = false;
    c->next_period = 0;
    c->out_idle = (uint8_t)out;
}

/* Start a sequence with the count register loaded on the next clock after tick t. */
static void ctr_start(PITCounter *c, int64_t t)
{
    c->running = true;
    c->paused = false;
    c->start = t + 1;
    c->period = ctr_count_of(c, c->reload);
    c->next_period = 0;
    c->edge_done = false;
    if (c->null_count) {
        c->nc_clear = t + 1;
    }
}

static void ctr_write_count(PITCounter *c, uint16_t raw, int64_t t)
{
    c->reload = raw;
    if (log_dev_enabled(c->owner->log, "pit")) {
        log_msg(c->owner->log, LOG_DEV, "pit: counter %d mode %d count 0x%04x%s\n",
                (int)(c - c->owner->ctr), c->mode, raw, c->bcd ? " (BCD)" : "");
    }
    c->have_count = true;
    c->null_count = true;
    c->nc_clear = INT64_MAX;
    switch (c->mode) {
    case 0:
    case 4:
        ctr_start(c, t);
        if (c->mode == 0) {
            ctr_drive_irq(c, 0);
        }
        if (!c->gate) {
            /* Loaded on the next clock, but counting waits for GATE. */
            c->paused = true;
            c->frozen = 0;
        }
        break;
    case 1:
    case 5:
        /* Used at the next trigger (rising edge of GATE). */
        break;
    default: /* 2, 3 */
        if (c->running && t - c->start >= 0) {
            /* The current cycle finishes first: mode 2 loads a new count at the end of the
             * period, mode 3 at the end of the current half-cycle ("Mode 2: Rate Generator",
             * "Mode 3: Square Wave Mode"). Ending a high half, the new count starts in its
             * low half: its sequence start lies half a new period before the switch. */
            uint32_t n = c->period;
            uint32_t n_new = ctr_count_of(c, raw);
            int64_t e = t - c->start;
            int64_t period_start = c->start + e - e % n;
            uint32_t high = (n + 1) / 2;
            if (c->mode == 3 && e % n < high) {
                c->next_switch = period_start + high;
                c->next_start = c->next_switch - (n_new + 1) / 2;
            } else {
                c->next_switch = period_start + n;
                c->next_start = c->next_switch;
            }
            c->next_period = n_new;
            c->nc_clear = c->next_switch;
        } else if (c->gate) {
            ctr_start(c, t);
        }
        break;
    }
    ctr_rearm(c, t);
}

static void ctr_control(PITCounter *c, uint8_t val, int64_t t)
{
    uint8_t rw = (val >> 4) & 3;
    if (rw == 0) {
        /* Counter latch command: ignored while an earlier latch is unread. */
        if (c->latch_left == 0) {
            c->latched = ctr_to_reg(c, ctr_count_at(c, t));
            c->latch_left = c->rw == 3 ? 2 : 1;
        }
        return;
    }
    c->rw = rw;
    c->mode_bits = (val >> 1) & 7;
    /* M2 is "don't care" for modes 2 and 3: 110 and 111 select them too. */
    c->mode = c->mode_bits >= 6 ? c->mode_bits - 4 : c->mode_bits;
    c->bcd = val & 1;
    c->write_msb = false;
    c->read_msb = false;
    c->latch_left = 0;
    c->status_latched = false;
    c->null_count = true;
    c->nc_clear = INT64_MAX;
    c->have_count = false;
    /* A control word resets the counter's logic; OUT goes low in mode 0 and high in the others
     * (8254 datasheet, "Mode Definitions"). */
    int out = c->mode == 0 ? 0 : 1;
    ctr_stop(c, t, out);
    ctr_drive_irq(c, out);
    ctr_rearm(c, t);
}

static void ctr_set_gate(PITCounter *c, int level, int64_t t)
{
    ctr_sync(c, t);
    if (level == c->gate) {
        return;
    }
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4:
        /* GATE low holds the count; counting resumes on the clock after GATE rises. */
        if (!c->running) {
            break;
        }
        if (!level) {
            int64_t e = t - c->start;
            c->frozen = e < 0 ? 0 : e;
            c->paused = true;
        } else if (c->paused) {
            c->start = t - c->frozen;
            c->paused = false;
        }
        break;
    case 1:
    case 5:
        /* A rising edge triggers: load N on the next clock; mode 1 drives OUT low. */
        if (level && c->have_count) {
            ctr_start(c, t);
            if (c->mode == 1) {
                ctr_drive_irq(c, 0);
            }
        }
        break;
    default: /* 2, 3: GATE low stops counting and forces OUT high; rising edge reloads */
        if (!level) {
            if (c->running) {
                ctr_stop(c, t, 1);
                ctr_drive_irq(c, 1);
            }
        } else if (c->have_count) {
            ctr_start(c, t);
        }
        break;
    }
    ctr_rearm(c, t);
}

static uint8_t ctr_read(PITCounter *c, int64_t t)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latch_left) {
        uint8_t v;
        if (c->rw == 2 || (c->rw == 3 && c->latch_left == 1)) {
            v = (uint8_t)(c->latched >> 8);
        } else {
            v = (uint8_t)c->latched;
        }
        c->latch_left = (c->rw == 3 && c->latch_left == 2) ? 1 : 0;
        return v;
    }
    uint16_t count = ctr_to_reg(c, ctr_count_at(c, t));
    switch (c->rw) {
    case 1:
        return (uint8_t)count;
    case 2:
        return (uint8_t)(count >> 8);
    default:
        c->read_msb = !c->read_msb;
        return c->read_msb ? (uint8_t)count : (uint8_t)(count >> 8);
    }
}

static void ctr_write(PITCounter *c, uint8_t val, int64_t t)
{
    switch (c->rw) {
    case 1:
        ctr_write_count(c, val, t);
        break;
    case 2:
        ctr_write_count(c, (uint16_t)(val << 8), t);
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = val;
            c->write_msb = true;
            /* Mode 0: writing the first byte stops counting and drives OUT low
             * ("Mode 0: Interrupt on Terminal Count"). */
            if (c->mode == 0) {
                ctr_stop(c, t, 0);
                ctr_drive_irq(c, 0);
                ctr_rearm(c, t);
            }
        } else {
            c->write_msb = false;
            ctr_write_count(c, (uint16_t)(c->write_lsb | (val << 8)), t);
        }
        break;
    }
}

static uint8_t ctr_status(PITCounter *c, int64_t t)
{
    return (uint8_t)((ctr_out_at(c, t) << 7) | (c->null_count << 6) | (c->rw << 4) |
                     (c->mode_bits << 1) | c->bcd);
}

/* --- ports ------------------------------------------------------------------------------- */

static uint64_t pit_io_read(void *opaque, uint64_t addr, unsigned size)
{
    I8254 *pit = opaque;
    if (addr >= 3) {
        return 0xFF; /* the control word register is write-only */
    }
    PITCounter *c = &pit->ctr[addr];
    int64_t t = pit_now_tick(pit);
    ctr_sync(c, t);
    return ctr_read(c, t);
}

static void pit_read_back(I8254 *pit, uint8_t val, int64_t t)
{
    for (int i = 0; i < 3; i++) {
        if (!(val & (2u << i))) {
            continue;
        }
        PITCounter *c = &pit->ctr[i];
        ctr_sync(c, t);
        if (!(val & 0x20) && c->latch_left == 0) {
            c->latched = ctr_to_reg(c, ctr_count_at(c, t));
            c->latch_left = c->rw == 3 ? 2 : 1;
        }
        if (!(val & 0x10) && !c->status_latched) {
            c->status = ctr_status(c, t);
            c->status_latched = true;
        }
    }
}

static void pit_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8254 *pit = opaque;
    int64_t t = pit_now_tick(pit);
    uint8_t v = (uint8_t)val;
    if (addr < 3) {
        PITCounter *c = &pit->ctr[addr];
        ctr_sync(c, t);
        ctr_write(c, v, t);
        return;
    }
    int sc = v >> 6;
    if (sc == 3) {
        pit_read_back(pit, v, t);
        return;
    }
    PITCounter *c = &pit->ctr[sc];
    ctr_sync(c, t);
    ctr_control(c, v, t);
}

static const IOOps pit_ops = {
    .read = pit_io_read,
    .write = pit_io_write,
    .min_access = 1,
    .max_access = 1,
};

/* Port 0x61 (IBM PC/AT Technical Reference, "System Control Port B"): bit 0 timer 2 gate,
 * bit 1 speaker data, bits 2-3 parity/channel check enables (read back), bit 4 refresh request
 * toggle, bit 5 OUT2; bits 6-7 (parity and channel check status) never set here. */
static uint64_t port61_read(void *opaque, uint64_t addr, unsigned size)
{
    I8254 *pit = opaque;
    int64_t now = clock_now(&pit->m->clock);
    int refresh = (int)((now < 0 ? 0 : now / REFRESH_PERIOD_NS) & 1);
    return (uint64_t)((pit->port61 & 0x0F) | (refresh << 4) | (i8254_get_out(pit, 2) << 5));
}

static void port61_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8254 *pit = opaque;
    pit->port61 = (uint8_t)(val & 0x0F);
    i8254_set_gate(pit, 2, (int)(val & 1));
}

static const IOOps port61_ops = {
    .read = port61_read,
    .write = port61_write,
    .min_access = 1,
    .max_access = 1,
};

/* --- public ------------------------------------------------------------------------------ */

void i8254_set_gate(I8254 *pit, int ch, int level)
{
    if (!pit || ch < 0 || ch > 2) {
        return;
    }
    ctr_set_gate(&pit->ctr[ch], level ? 1 : 0, pit_now_tick(pit));
}

int i8254_get_out(I8254 *pit, int ch)
{
    if (!pit || ch < 0 || ch > 2) {
        return 0;
    }
    PITCounter *c = &pit->ctr[ch];
    int64_t t = pit_now_tick(pit);
    ctr_sync(c, t);
    return ctr_out_at(c, t);
}

int i8254_speaker(I8254 *pit, uint32_t *divisor)
{
    PITCounter *c = &pit->ctr[2];
    if (divisor) {
        *divisor = c->running ? c->period : 0;
    }
    return (pit->port61 & 3) == 3;
}

static void pit_reset(void *opaque)
{
    I8254 *pit = opaque;
    int64_t t = pit_now_tick(pit);
    for (int i = 0; i < 3; i++) {
        PITCounter *c = &pit->ctr[i];
        timer_del(&c->timer);
        c->armed_edge = -1;
        c->mode_bits = c->mode = 0;
        c->rw = 3;
        c->bcd = false;
        c->write_msb = c->read_msb = false;
        c->latch_left = 0;
        c->status_latched = false;
        c->null_count = true;
        c->nc_clear = INT64_MAX;
        c->have_count = false;
        c->reload = 0;
        c->hold = 0;
        c->gate = i != 2;
        ctr_stop(c, t, 0);
        ctr_drive_irq(c, 0);
    }
    pit->port61 = 0;
}

static int pit_post_load(void *opaque)
{
    I8254 *pit = opaque;
    for (int i = 0; i < 3; i++) {
        PITCounter *c = &pit->ctr[i];
        /* Keep guest-restorable values inside what the formulas accept. */
        c->mode %= 6;
        c->mode_bits &= 7;
        c->rw = (c->rw & 3) ? (c->rw & 3) : 3;
        if (c->latch_left > 2) {
            c->latch_left = 2;
        }
        if (c->period == 0 || c->period > 65536) {
            c->period = 65536;
        }
        if (c->next_period > 65536) {
            c->next_period = 65536;
        }
    }
    return 0;
}

I8254 *i8254_new(Machine *m, IRQLine *irq0)
{
    I8254 *pit = calloc(1, sizeof(*pit));
    if (!pit) {
        return NULL;
    }
    pit->m = m;
    pit->log = &m->log;
    for (int i = 0; i < 3; i++) {
        PITCounter *c = &pit->ctr[i];
        c->owner = pit;
        c->irq = i == 0 ? irq0 : NULL;
        c->irq_level = 1; /* so reset drives the line low once */
        timer_init(&c->timer, &m->clock, ctr_timer_cb, c);
    }
    pit_reset(pit);
    pit->ports[0] = port_map(&m->io, "pit", 0x40, 4, &pit_ops, pit);
    pit->ports[1] = port_map(&m->io, "port61", 0x61, 1, &port61_ops, pit);
    if (pit->ports[0] < 0 || pit->ports[1] < 0) {
        for (int i = 0; i < 2; i++) {
            if (pit->ports[i] >= 0) {
                port_unmap(&m->io, pit->ports[i]);
            }
        }
        free(pit);
        return NULL;
    }
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, "pit", &pit_vmstate, pit) < 0 ||
        machine_add_reset(m, pit_reset, pit) < 0) {
        return NULL;
    }
    return pit;
}

void i8254_free(I8254 *pit)
{
    free(pit);
}
