/* mc146818.c: the Motorola MC146818A real-time clock and CMOS RAM.
 *
 * The time registers hold the time in the guest-selected format (BCD or binary, 12 or 24 hour)
 * and are advanced by one second at each update cycle, as the chip does. Update cycles happen
 * once per second of virtual time while the divider runs (register A DV = 010); one timer per
 * second drives them, and every register access first catches up with virtual time, so a late
 * timer never shows a stale clock. The periodic interrupt is computed from the divider phase:
 * its flag is evaluated lazily when register C is read, and a timer is armed for its edges only
 * while PIE is set.
 *
 * References are to the MC146818A datasheet: "Update Cycle", "Register A".."Register D",
 * "Interrupts".
 */
#include "devices/mc146818.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/ioport.h"
#include "core/log.h"
#include "core/vmstate.h"

#define NS_PER_SEC 1000000000LL
#define UIP_WINDOW_NS 244000LL /* UIP is high 244 us before each update ("Register A") */
#define RTC_BASE_HZ 32768

enum {
    RTC_SEC = 0,
    RTC_SEC_ALARM = 1,
    RTC_MIN = 2,
    RTC_MIN_ALARM = 3,
    RTC_HOUR = 4,
    RTC_HOUR_ALARM = 5,
    RTC_DOW = 6,
    RTC_MDAY = 7,
    RTC_MON = 8,
    RTC_YEAR = 9,
    RTC_REG_A = 0x0A,
    RTC_REG_B = 0x0B,
    RTC_REG_C = 0x0C,
    RTC_REG_D = 0x0D,
};

enum {
    REGA_UIP = 0x80,
    REGB_SET = 0x80,
    REGB_PIE = 0x40,
    REGB_AIE = 0x20,
    REGB_UIE = 0x10,
    REGB_SQWE = 0x08,
    REGB_DM = 0x04,
    REGB_24H = 0x02,
    REGB_DSE = 0x01,
    REGC_IRQF = 0x80,
    REGC_PF = 0x40,
    REGC_AF = 0x20,
    REGC_UF = 0x10,
    REGD_VRT = 0x80,
};

struct MC146818 {
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_masked;
    uint8_t irq_level;
    int64_t next_update; /* virtual ns of the next update cycle */
    int64_t div_base;    /* virtual ns at which the divider chain started (periodic phase) */
    int64_t pf_checked;  /* periodic flag evaluated up to this virtual ns */
    Timer update_timer;
    Timer periodic_timer;
    IRQLine *irq;
    Machine *m;
    Logger *log;
    int port;
};

static const VMStateField rtc_fields[] = {
    VMSTATE_BUFFER(MC146818, cmos),          VMSTATE_U8(MC146818, index),
    VMSTATE_BOOL(MC146818, nmi_masked),      VMSTATE_U8(MC146818, irq_level),
    VMSTATE_I64(MC146818, next_update),      VMSTATE_I64(MC146818, div_base),
    VMSTATE_I64(MC146818, pf_checked),       VMSTATE_TIMER(MC146818, update_timer),
    VMSTATE_TIMER(MC146818, periodic_timer), VMSTATE_END,
};

static int rtc_post_load(void *opaque);

static const VMStateDesc rtc_vmstate = {
    .name = "mc146818",
    .version = 1,
    .fields = rtc_fields,
    .post_load = rtc_post_load,
};

/* --- calendar ---------------------------------------------------------------------------- */

typedef struct RTCTime {
    int sec, min, hour; /* hour 0..23 */
    int dow;            /* 1..7, 1 = Sunday */
    int mday, mon;      /* 1..31, 1..12 */
    int year;           /* full year for conversions; the chip keeps year % 100 */
} RTCTime;

/* The chip's leap rule: every year divisible by four ("Update Cycle"; it knows no century). */
static int chip_days_in_month(int yy, int mon)
{
    static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon == 2 && yy % 4 == 0) {
        return 29;
    }
    return dim[(mon - 1) % 12];
}

static bool gregorian_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Break unix seconds (clamped to 1970..9999) into a UTC date. */
static void time_from_unix(int64_t t, RTCTime *o)
{
    if (t < 0) {
        t = 0;
    }
    if (t > 253402300799LL) {
        t = 253402300799LL;
    }
    int64_t days = t / 86400;
    int64_t secs = t % 86400;
    o->hour = (int)(secs / 3600);
    o->min = (int)(secs / 60 % 60);
    o->sec = (int)(secs % 60);
    o->dow = (int)((days + 4) % 7) + 1; /* 1970-01-01 was a Thursday */
    int y = 1970;
    for (;;) {
        int yd = gregorian_leap(y) ? 366 : 365;
        if (days < yd) {
            break;
        }
        days -= yd;
        y++;
    }
    o->year = y;
    int mon = 1;
    for (;;) {
        int dim = chip_days_in_month(gregorian_leap(y) ? 0 : 1, mon);
        if (days < dim) {
            break;
        }
        days -= dim;
        mon++;
    }
    o->mon = mon;
    o->mday = (int)days + 1;
}

static bool rtc_bcd(const MC146818 *rtc)
{
    return !(rtc->cmos[RTC_REG_B] & REGB_DM);
}

static uint8_t to_reg(const MC146818 *rtc, int v)
{
    return rtc_bcd(rtc) ? (uint8_t)(((v / 10) << 4) | (v % 10)) : (uint8_t)v;
}

/* Register value to binary, clamped to [lo, hi]. Invalid BCD digits are weighted as is. */
static int from_reg(const MC146818 *rtc, uint8_t r, int lo, int hi)
{
    int v = rtc_bcd(rtc) ? (r >> 4) * 10 + (r & 0xF) : r;
    return v < lo ? lo : v > hi ? hi : v;
}

static uint8_t hour_to_reg(const MC146818 *rtc, int h)
{
    if (rtc->cmos[RTC_REG_B] & REGB_24H) {
        return to_reg(rtc, h);
    }
    int h12 = h % 12 == 0 ? 12 : h % 12;
    return (uint8_t)(to_reg(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static int hour_from_reg(const MC146818 *rtc, uint8_t r)
{
    if (rtc->cmos[RTC_REG_B] & REGB_24H) {
        return from_reg(rtc, r, 0, 23);
    }
    int h12 = from_reg(rtc, r & 0x7F, 1, 12);
    return h12 % 12 + ((r & 0x80) ? 12 : 0);
}

static void rtc_read_time(const MC146818 *rtc, RTCTime *t)
{
    const uint8_t *c = rtc->cmos;
    t->sec = from_reg(rtc, c[RTC_SEC], 0, 59);
    t->min = from_reg(rtc, c[RTC_MIN], 0, 59);
    t->hour = hour_from_reg(rtc, c[RTC_HOUR]);
    t->dow = from_reg(rtc, c[RTC_DOW], 1, 7);
    t->year = from_reg(rtc, c[RTC_YEAR], 0, 99);
    t->mon = from_reg(rtc, c[RTC_MON], 1, 12);
    t->mday = from_reg(rtc, c[RTC_MDAY], 1, chip_days_in_month(t->year, t->mon));
}

static void rtc_write_time(MC146818 *rtc, const RTCTime *t)
{
    uint8_t *c = rtc->cmos;
    c[RTC_SEC] = to_reg(rtc, t->sec);
    c[RTC_MIN] = to_reg(rtc, t->min);
    c[RTC_HOUR] = hour_to_reg(rtc, t->hour);
    c[RTC_DOW] = to_reg(rtc, t->dow);
    c[RTC_MDAY] = to_reg(rtc, t->mday);
    c[RTC_MON] = to_reg(rtc, t->mon);
    c[RTC_YEAR] = to_reg(rtc, t->year % 100);
}

/* Advance the time registers by secs seconds with the chip's calendar. */
static void rtc_advance(MC146818 *rtc, int64_t secs)
{
    RTCTime t;
    rtc_read_time(rtc, &t);
    int64_t total = (int64_t)t.sec + t.min * 60 + t.hour * 3600 + secs;
    int64_t days = total / 86400;
    total %= 86400;
    t.hour = (int)(total / 3600);
    t.min = (int)(total / 60 % 60);
    t.sec = (int)(total % 60);
    /* The chip's calendar repeats every 100 years of 36525 days. */
    days %= 36525;
    t.dow = (int)((t.dow - 1 + days) % 7) + 1;
    while (days > 0) {
        int dim = chip_days_in_month(t.year, t.mon);
        if (t.mday + days <= dim) {
            t.mday += (int)days;
            break;
        }
        days -= dim - t.mday + 1;
        t.mday = 1;
        if (++t.mon > 12) {
            t.mon = 1;
            t.year = (t.year + 1) % 100;
        }
    }
    rtc_write_time(rtc, &t);
}

static bool rtc_alarm_matches(const MC146818 *rtc)
{
    static const uint8_t pairs[3][2] = {
        {RTC_SEC_ALARM, RTC_SEC}, {RTC_MIN_ALARM, RTC_MIN}, {RTC_HOUR_ALARM, RTC_HOUR}};
    for (int i = 0; i < 3; i++) {
        uint8_t alarm = rtc->cmos[pairs[i][0]];
        /* 11xxxxxx is "don't care" ("Alarm"). */
        if ((alarm & 0xC0) != 0xC0 && alarm != rtc->cmos[pairs[i][1]]) {
            return false;
        }
    }
    return true;
}

/* --- timing ------------------------------------------------------------------------------ */

static int64_t rtc_now(const MC146818 *rtc)
{
    return clock_now(&rtc->m->clock);
}

/* The divider runs with the 32.768 kHz time base selected (DV2-0 = 010). */
static bool rtc_running(const MC146818 *rtc)
{
    return ((rtc->cmos[RTC_REG_A] >> 4) & 7) == 2;
}

/* Periodic interrupt period in 32.768 kHz cycles from RS3-0, 0 when off ("Register A",
 * periodic interrupt rate table: rates 1 and 2 repeat 8 and 9). */
static uint32_t rtc_period_cycles(const MC146818 *rtc)
{
    unsigned rs = rtc->cmos[RTC_REG_A] & 0x0F;
    if (rs == 0) {
        return 0;
    }
    if (rs <= 2) {
        rs += 7;
    }
    return 1u << (rs - 1);
}

/* Periodic edges since the divider started, up to virtual time t. */
static int64_t rtc_pf_edges(const MC146818 *rtc, int64_t t, uint32_t period)
{
    int64_t d = t - rtc->div_base;
    if (d < 0 || period == 0) {
        return 0;
    }
    return (int64_t)(((unsigned __int128)d * RTC_BASE_HZ) / ((uint64_t)period * NS_PER_SEC));
}

static int64_t rtc_pf_edge_ns(const MC146818 *rtc, int64_t k, uint32_t period)
{
    unsigned __int128 num = (unsigned __int128)k * period * NS_PER_SEC;
    return rtc->div_base + (int64_t)((num + RTC_BASE_HZ - 1) / RTC_BASE_HZ);
}

static void rtc_update_irq(MC146818 *rtc)
{
    uint8_t *c = rtc->cmos;
    uint8_t pending = c[RTC_REG_C] & c[RTC_REG_B] & (REGC_PF | REGC_AF | REGC_UF);
    if (pending) {
        c[RTC_REG_C] |= REGC_IRQF;
    } else {
        c[RTC_REG_C] &= ~REGC_IRQF;
    }
    uint8_t level = pending ? 1 : 0;
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        irq_set(rtc->irq, level);
    }
}

/* Set PF if a periodic edge passed since the last check. */
static void rtc_sync_pf(MC146818 *rtc, int64_t now)
{
    uint32_t period = rtc_period_cycles(rtc);
    if (rtc_running(rtc) && period && now > rtc->pf_checked &&
        rtc_pf_edges(rtc, now, period) > rtc_pf_edges(rtc, rtc->pf_checked, period)) {
        rtc->cmos[RTC_REG_C] |= REGC_PF;
    }
    if (now > rtc->pf_checked) {
        rtc->pf_checked = now;
    }
}

/* Run every update cycle due by now. */
static void rtc_sync_updates(MC146818 *rtc, int64_t now)
{
    if (!rtc_running(rtc) || now < rtc->next_update) {
        return;
    }
    int64_t due = (now - rtc->next_update) / NS_PER_SEC + 1;
    rtc->next_update += due * NS_PER_SEC;
    /* SET inhibits the transfer of the update ("Register B", SET). */
    if (rtc->cmos[RTC_REG_B] & REGB_SET) {
        return;
    }
    /* Cycles missed by a late timer are applied at once; only the last one is checked against
     * the alarm. */
    if (due > 1) {
        rtc_advance(rtc, due - 1);
    }
    rtc_advance(rtc, 1);
    rtc->cmos[RTC_REG_C] |= REGC_UF;
    if (rtc_alarm_matches(rtc)) {
        rtc->cmos[RTC_REG_C] |= REGC_AF;
    }
}

static void rtc_rearm(MC146818 *rtc, int64_t now)
{
    if (rtc_running(rtc)) {
        timer_mod(&rtc->update_timer, rtc->next_update);
    } else {
        timer_del(&rtc->update_timer);
    }
    uint32_t period = rtc_period_cycles(rtc);
    if (rtc_running(rtc) && period && (rtc->cmos[RTC_REG_B] & REGB_PIE)) {
        int64_t k = rtc_pf_edges(rtc, now, period) + 1;
        timer_mod(&rtc->periodic_timer, rtc_pf_edge_ns(rtc, k, period));
    } else {
        timer_del(&rtc->periodic_timer);
    }
}

/* Bring the chip up to virtual time now: update cycles, flags, IRQ, timers. */
static void rtc_sync(MC146818 *rtc)
{
    int64_t now = rtc_now(rtc);
    rtc_sync_updates(rtc, now);
    rtc_sync_pf(rtc, now);
    rtc_update_irq(rtc);
    rtc_rearm(rtc, now);
}

static void rtc_timer_cb(void *opaque)
{
    rtc_sync(opaque);
}

static bool rtc_uip(const MC146818 *rtc, int64_t now)
{
    return rtc_running(rtc) && !(rtc->cmos[RTC_REG_B] & REGB_SET) &&
           now >= rtc->next_update - UIP_WINDOW_NS && now < rtc->next_update;
}

/* --- registers --------------------------------------------------------------------------- */

static uint8_t rtc_reg_read(MC146818 *rtc, unsigned idx)
{
    if (idx > RTC_REG_D) {
        return rtc->cmos[idx];
    }
    rtc_sync(rtc);
    switch (idx) {
    case RTC_REG_A:
        return (uint8_t)((rtc->cmos[RTC_REG_A] & 0x7F) |
                         (rtc_uip(rtc, rtc_now(rtc)) ? REGA_UIP : 0));
    case RTC_REG_C: {
        /* Reading C clears all its flags and the IRQ ("Register C"). */
        uint8_t v = rtc->cmos[RTC_REG_C];
        rtc->cmos[RTC_REG_C] = 0;
        rtc_update_irq(rtc);
        return v;
    }
    case RTC_REG_D:
        return REGD_VRT;
    default:
        return rtc->cmos[idx];
    }
}

static void rtc_reg_write(MC146818 *rtc, unsigned idx, uint8_t val)
{
    if (idx > RTC_REG_D) {
        rtc->cmos[idx] = val;
        return;
    }
    rtc_sync(rtc);
    int64_t now = rtc_now(rtc);
    if (idx >= RTC_REG_A && log_dev_enabled(rtc->log, "rtc")) {
        log_msg(rtc->log, LOG_DEV, "rtc: register %c = 0x%02x\n", 'A' + (idx - RTC_REG_A), val);
    }
    switch (idx) {
    case RTC_REG_A: {
        bool was_running = rtc_running(rtc);
        rtc->cmos[RTC_REG_A] = val & 0x7F;
        bool running = rtc_running(rtc);
        unsigned dv = (val >> 4) & 7;
        if (dv != 2 && dv < 6) {
            LOG_ONCE(rtc->log, LOG_UNIMP, "rtc: divider 0x%x unsupported, clock stopped\n", dv);
        }
        if (running && !was_running) {
            /* Leaving divider reset: the first update is half a second later
             * ("Register A", DV2-DV0). */
            rtc->div_base = now;
            rtc->next_update = now + NS_PER_SEC / 2;
        }
        rtc->pf_checked = now;
        break;
    }
    case RTC_REG_B:
        if (val & REGB_SET) {
            /* Setting SET clears UIE ("Register B", SET). */
            val &= ~REGB_UIE;
        }
        if (val & REGB_DSE) {
            LOG_ONCE(rtc->log, LOG_UNIMP, "rtc: daylight saving (DSE) ignored\n");
        }
        rtc->cmos[RTC_REG_B] = val;
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        rtc->cmos[idx] = val;
        break;
    }
    rtc_update_irq(rtc);
    rtc_rearm(rtc, now);
}

static uint64_t rtc_io_read(void *opaque, uint64_t addr, unsigned size)
{
    MC146818 *rtc = opaque;
    if (addr == 0) {
        return 0xFF; /* the index register is write-only */
    }
    return rtc_reg_read(rtc, rtc->index);
}

static void rtc_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    MC146818 *rtc = opaque;
    if (addr == 0) {
        rtc->index = (uint8_t)(val & 0x7F);
        rtc->nmi_masked = (val & 0x80) != 0;
    } else {
        rtc_reg_write(rtc, rtc->index, (uint8_t)val);
    }
}

static const IOOps rtc_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
    .min_access = 1,
    .max_access = 1,
};

/* RESET clears PIE, AIE, UIE, SQWE and the flags of register C; time and RAM are kept
 * ("RESET"). */
static void rtc_reset(void *opaque)
{
    MC146818 *rtc = opaque;
    rtc_sync(rtc);
    rtc->cmos[RTC_REG_B] &= ~(REGB_PIE | REGB_AIE | REGB_UIE | REGB_SQWE);
    rtc->cmos[RTC_REG_C] = 0;
    rtc->nmi_masked = false;
    rtc_update_irq(rtc);
    rtc_rearm(rtc, rtc_now(rtc));
}

static int rtc_post_load(void *opaque)
{
    MC146818 *rtc = opaque;
    rtc->index &= 0x7F;
    rtc->cmos[RTC_REG_A] &= 0x7F;
    return 0;
}

/* --- public ------------------------------------------------------------------------------ */

bool mc146818_nmi_masked(const MC146818 *rtc)
{
    return rtc->nmi_masked;
}

uint8_t mc146818_cmos_get(const MC146818 *rtc, unsigned idx)
{
    return rtc->cmos[idx & 0x7F];
}

void mc146818_cmos_set(MC146818 *rtc, unsigned idx, uint8_t val)
{
    rtc->cmos[idx & 0x7F] = val;
}

void mc146818_update_checksum(MC146818 *rtc)
{
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2D; i++) {
        sum += rtc->cmos[i];
    }
    rtc->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
    rtc->cmos[CMOS_CHECKSUM_LO] = (uint8_t)sum;
}

static void cmos_set16(MC146818 *rtc, unsigned lo, uint64_t v)
{
    if (v > 0xFFFF) {
        v = 0xFFFF;
    }
    rtc->cmos[lo] = (uint8_t)v;
    rtc->cmos[lo + 1] = (uint8_t)(v >> 8);
}

void mc146818_setup_pc(MC146818 *rtc, uint64_t ram_size, uint8_t equipment)
{
    const uint64_t mib = 1024 * 1024;
    rtc->cmos[CMOS_EQUIPMENT] = equipment;
    cmos_set16(rtc, CMOS_BASE_MEM_LO, 640);
    uint64_t ext_kib = ram_size > mib ? (ram_size - mib) / 1024 : 0;
    cmos_set16(rtc, CMOS_EXT_MEM_LO, ext_kib);
    cmos_set16(rtc, CMOS_EXT_MEM2_LO, ext_kib);
    uint64_t above16 = ram_size > 16 * mib ? (ram_size - 16 * mib) / 65536 : 0;
    cmos_set16(rtc, CMOS_MEM_16M_LO, above16);
    mc146818_update_checksum(rtc);
}

MC146818 *mc146818_new(Machine *m, IRQLine *irq8, int64_t start_unix)
{
    MC146818 *rtc = calloc(1, sizeof(*rtc));
    if (!rtc) {
        return NULL;
    }
    rtc->m = m;
    rtc->log = &m->log;
    rtc->irq = irq8;
    timer_init(&rtc->update_timer, &m->clock, rtc_timer_cb, rtc);
    timer_init(&rtc->periodic_timer, &m->clock, rtc_timer_cb, rtc);
    if (start_unix < 0) {
        start_unix =
            m->clock.mode == CLOCK_ICOUNT ? MC146818_DETERMINISTIC_EPOCH : (int64_t)time(NULL);
    }
    /* Power-on defaults a PC BIOS leaves: 32.768 kHz divider, 1024 Hz periodic rate, 24-hour
     * BCD, valid RAM. */
    rtc->cmos[RTC_REG_A] = 0x26;
    rtc->cmos[RTC_REG_B] = REGB_24H;
    rtc->cmos[RTC_REG_D] = REGD_VRT;
    RTCTime t;
    time_from_unix(start_unix, &t);
    rtc_write_time(rtc, &t);
    rtc->cmos[CMOS_CENTURY] = to_reg(rtc, t.year / 100);
    int64_t now = rtc_now(rtc);
    rtc->div_base = now;
    rtc->pf_checked = now;
    rtc->next_update = now + NS_PER_SEC;
    rtc_rearm(rtc, now);
    rtc->port = port_map(&m->io, "rtc", 0x70, 2, &rtc_ops, rtc);
    if (rtc->port < 0) {
        timer_del(&rtc->update_timer);
        free(rtc);
        return NULL;
    }
    /* Registration cannot be undone: on failure the object stays allocated. */
    if (vmstate_register(&m->vmstate, "rtc", &rtc_vmstate, rtc) < 0 ||
        machine_add_reset(m, rtc_reset, rtc) < 0) {
        return NULL;
    }
    return rtc;
}

void mc146818_free(MC146818 *rtc)
{
    free(rtc);
}
