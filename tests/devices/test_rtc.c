/* test_rtc.c: the MC146818A through ports 0x70/0x71 on a deterministic machine: the calendar
 * in BCD/binary and 12/24 hour, UIP, update/alarm/periodic interrupts, CMOS helpers. */
#include <criterion/criterion.h>

#include "devices/mc146818.h"
#include "tests/devices/chipset_harness.h"

#define SEC 1000000000LL

typedef struct RtcFixture {
    Machine *m;
    MC146818 *rtc;
    IRQRecorder irq8;
} RtcFixture;

static void fixture_init(RtcFixture *f)
{
    memset(f, 0, sizeof(*f));
    f->m = th_machine();
    th_irq_init(&f->irq8, f->m);
    f->rtc = mc146818_new(f->m, &f->irq8.line, MC146818_START_HOST);
    cr_assert_not_null(f->rtc);
}

static void fixture_fini(RtcFixture *f)
{
    machine_free(f->m);
    mc146818_free(f->rtc);
}

static uint8_t rd(RtcFixture *f, uint8_t idx)
{
    th_outb(f->m, 0x70, idx);
    return th_inb(f->m, 0x71);
}

static void wr(RtcFixture *f, uint8_t idx, uint8_t val)
{
    th_outb(f->m, 0x70, idx);
    th_outb(f->m, 0x71, val);
}

/* Stop the clock (SET), load a time, restart it. Values are in the current format. */
static void set_time(RtcFixture *f, uint8_t regb, uint8_t year, uint8_t mon, uint8_t mday,
                     uint8_t hour, uint8_t min, uint8_t sec)
{
    wr(f, 0x0B, regb | 0x80);
    wr(f, 0x09, year);
    wr(f, 0x08, mon);
    wr(f, 0x07, mday);
    wr(f, 0x04, hour);
    wr(f, 0x02, min);
    wr(f, 0x00, sec);
    wr(f, 0x0B, regb);
}

Test(rtc, deterministic_machine_starts_at_fixed_epoch_in_bcd)
{
    RtcFixture f;
    fixture_init(&f);
    cr_assert_eq(rd(&f, 0x00), 0x00);
    cr_assert_eq(rd(&f, 0x02), 0x00);
    cr_assert_eq(rd(&f, 0x04), 0x00);
    cr_assert_eq(rd(&f, 0x06), 7, "2000-01-01 was a Saturday");
    cr_assert_eq(rd(&f, 0x07), 0x01);
    cr_assert_eq(rd(&f, 0x08), 0x01);
    cr_assert_eq(rd(&f, 0x09), 0x00);
    cr_assert_eq(rd(&f, 0x32), 0x20, "century byte");
    cr_assert_eq(rd(&f, 0x0B), 0x02, "24-hour BCD");
    th_advance(f.m, 61 * SEC);
    cr_assert_eq(rd(&f, 0x00), 0x01);
    cr_assert_eq(rd(&f, 0x02), 0x01);
    th_advance(f.m, 3600 * SEC);
    cr_assert_eq(rd(&f, 0x04), 0x01);
    fixture_fini(&f);
}

Test(rtc, binary_mode_rolls_over_month_end)
{
    RtcFixture f;
    fixture_init(&f);
    set_time(&f, 0x06, 3, 2, 28, 23, 59, 59);
    th_advance(f.m, SEC);
    cr_assert_eq(rd(&f, 0x00), 0);
    cr_assert_eq(rd(&f, 0x02), 0);
    cr_assert_eq(rd(&f, 0x04), 0);
    cr_assert_eq(rd(&f, 0x07), 1);
    cr_assert_eq(rd(&f, 0x08), 3, "2003 is not a leap year");
    cr_assert_eq(rd(&f, 0x06), 1, "day of week wraps from 7 to 1");
    fixture_fini(&f);
}

Test(rtc, leap_year_february_has_29_days)
{
    RtcFixture f;
    fixture_init(&f);
    set_time(&f, 0x02, 0x04, 0x02, 0x28, 0x23, 0x59, 0x59);
    th_advance(f.m, SEC);
    cr_assert_eq(rd(&f, 0x07), 0x29);
    cr_assert_eq(rd(&f, 0x08), 0x02);
    fixture_fini(&f);
}

Test(rtc, year_99_rolls_to_00)
{
    RtcFixture f;
    fixture_init(&f);
    set_time(&f, 0x02, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59);
    th_advance(f.m, SEC);
    cr_assert_eq(rd(&f, 0x09), 0x00);
    cr_assert_eq(rd(&f, 0x08), 0x01);
    cr_assert_eq(rd(&f, 0x07), 0x01);
    fixture_fini(&f);
}

Test(rtc, twelve_hour_mode_am_pm)
{
    RtcFixture f;
    fixture_init(&f);
    set_time(&f, 0x00, 0x00, 0x01, 0x01, 0x11, 0x59, 0x59);
    th_advance(f.m, SEC);
    cr_assert_eq(rd(&f, 0x04), 0x92, "11:59:59 AM + 1 s = 12 PM");
    set_time(&f, 0x00, 0x00, 0x01, 0x01, 0x91, 0x59, 0x59);
    th_advance(f.m, SEC);
    cr_assert_eq(rd(&f, 0x04), 0x12, "11:59:59 PM + 1 s = 12 AM");
    cr_assert_eq(rd(&f, 0x07), 0x02);
    fixture_fini(&f);
}

Test(rtc, uip_is_set_244us_before_each_update)
{
    RtcFixture f;
    fixture_init(&f);
    th_run_until(f.m, SEC - 244000 - 1);
    cr_assert_eq(rd(&f, 0x0A), 0x26);
    cr_assert_eq(rd(&f, 0x00), 0x00);
    th_run_until(f.m, SEC - 244000);
    cr_assert_eq(rd(&f, 0x0A), 0xA6);
    th_run_until(f.m, SEC - 1);
    cr_assert_eq(rd(&f, 0x0A) & 0x80, 0x80);
    cr_assert_eq(rd(&f, 0x00), 0x00, "the time changes only at the update");
    th_run_until(f.m, SEC);
    cr_assert_eq(rd(&f, 0x0A), 0x26);
    cr_assert_eq(rd(&f, 0x00), 0x01);
    fixture_fini(&f);
}

/* Run for `span` ns, acknowledging every IRQ8 by reading register C; returns the number of
 * interrupts whose register C had all of `flags`. */
static int count_irqs(RtcFixture *f, int64_t span, uint8_t flags)
{
    int64_t end = clock_now(&f->m->clock) + span;
    int n = 0;
    for (;;) {
        int64_t next = clock_next_deadline(&f->m->clock);
        if (next > end) {
            th_run_until(f->m, end);
            break;
        }
        th_run_until(f->m, next);
        if (f->irq8.level) {
            uint8_t c = rd(f, 0x0C);
            cr_assert(c & 0x80, "IRQ8 high means IRQF");
            if ((c & flags) == flags) {
                n++;
            }
            cr_assert_eq(f->irq8.level, 0, "reading C drops IRQ8");
        }
    }
    return n;
}

Test(rtc, periodic_interrupt_1024hz)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x0B, 0x42);
    cr_assert_eq(count_irqs(&f, SEC, 0xC0), 1024);
    cr_assert_eq(f.irq8.rises, 1024);
    fixture_fini(&f);
}

Test(rtc, periodic_interrupt_rate_from_register_a)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x0A, 0x2F); /* 2 Hz */
    wr(&f, 0x0B, 0x42);
    cr_assert_eq(count_irqs(&f, 3 * SEC, 0xC0), 6);
    wr(&f, 0x0A, 0x23); /* 8192 Hz */
    cr_assert_eq(count_irqs(&f, SEC / 8, 0xC0), 1024);
    fixture_fini(&f);
}

Test(rtc, periodic_flag_set_without_pie_and_no_irq)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x0A, 0x2F);
    th_run_until(f.m, SEC / 4);
    cr_assert_eq(rd(&f, 0x0C), 0x00);
    th_run_until(f.m, SEC * 6 / 10);
    cr_assert_eq(f.irq8.rises, 0);
    cr_assert_eq(rd(&f, 0x0C), 0x40, "PF without IRQF");
    cr_assert_eq(rd(&f, 0x0C), 0x00, "reading C clears it");
    fixture_fini(&f);
}

Test(rtc, update_ended_interrupt_each_second)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x0B, 0x12);
    cr_assert_eq(count_irqs(&f, 5 * SEC, 0x90), 5);
    fixture_fini(&f);
}

Test(rtc, alarm_interrupt_at_matching_second)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x01, 0x05);
    wr(&f, 0x03, 0x00);
    wr(&f, 0x05, 0x00);
    wr(&f, 0x0B, 0x22);
    th_run_until(f.m, 5 * SEC - 1);
    cr_assert_eq(f.irq8.rises, 0);
    th_run_until(f.m, 5 * SEC);
    cr_assert_eq(f.irq8.rises, 1);
    cr_assert_eq(rd(&f, 0x0C) & 0xB0, 0xB0, "IRQF, AF and UF");
    fixture_fini(&f);
}

Test(rtc, alarm_dont_care_bytes_match_every_minute)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x01, 0x03);
    wr(&f, 0x03, 0xC0);
    wr(&f, 0x05, 0xFF);
    wr(&f, 0x0B, 0x22);
    cr_assert_eq(count_irqs(&f, 180 * SEC, 0xA0), 3);
    fixture_fini(&f);
}

Test(rtc, set_bit_inhibits_updates)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x0B, 0x92); /* SET with UIE: UIE is cleared */
    cr_assert_eq(rd(&f, 0x0B), 0x82);
    th_advance(f.m, 3 * SEC);
    cr_assert_eq(rd(&f, 0x00), 0x00);
    cr_assert_eq(rd(&f, 0x0A) & 0x80, 0, "no UIP while SET");
    wr(&f, 0x0B, 0x02);
    th_advance(f.m, SEC);
    cr_assert_eq(rd(&f, 0x00), 0x01);
    fixture_fini(&f);
}

Test(rtc, divider_reset_delays_first_update_half_second)
{
    RtcFixture f;
    fixture_init(&f);
    th_run_until(f.m, SEC / 5);
    wr(&f, 0x0A, 0x76);
    th_run_until(f.m, 2 * SEC + SEC / 5);
    cr_assert_eq(rd(&f, 0x00), 0x00, "no updates while the divider is held");
    wr(&f, 0x0A, 0x26);
    th_run_until(f.m, 2 * SEC + SEC / 5 + SEC / 2 - 1);
    cr_assert_eq(rd(&f, 0x00), 0x00);
    th_run_until(f.m, 2 * SEC + SEC / 5 + SEC / 2);
    cr_assert_eq(rd(&f, 0x00), 0x01);
    fixture_fini(&f);
}

Test(rtc, register_d_valid_ram_and_read_only_registers)
{
    RtcFixture f;
    fixture_init(&f);
    cr_assert_eq(rd(&f, 0x0D), 0x80);
    wr(&f, 0x0D, 0x00);
    cr_assert_eq(rd(&f, 0x0D), 0x80);
    wr(&f, 0x0C, 0xFF);
    cr_assert_eq(rd(&f, 0x0C), 0x00);
    wr(&f, 0x0A, 0xA6);
    cr_assert_eq(rd(&f, 0x0A) & 0x80, 0, "UIP is read-only");
    fixture_fini(&f);
}

Test(rtc, nmi_mask_bit_of_index_port)
{
    RtcFixture f;
    fixture_init(&f);
    cr_assert_eq(mc146818_nmi_masked(f.rtc), false);
    th_outb(f.m, 0x70, 0x8F);
    cr_assert_eq(mc146818_nmi_masked(f.rtc), true);
    wr(&f, 0x40, 0x5A); /* writes index 0x40 with the NMI bit clear */
    cr_assert_eq(mc146818_nmi_masked(f.rtc), false);
    th_outb(f.m, 0x70, 0xC0);
    cr_assert_eq(th_inb(f.m, 0x71), 0x5A, "the index ignores the NMI bit");
    fixture_fini(&f);
}

Test(rtc, pc_cmos_memory_layout_and_checksum)
{
    RtcFixture f;
    fixture_init(&f);
    mc146818_setup_pc(f.rtc, 32ull << 20, 0x06);
    cr_assert_eq(rd(&f, 0x14), 0x06);
    cr_assert_eq(rd(&f, 0x15) | (rd(&f, 0x16) << 8), 640);
    cr_assert_eq(rd(&f, 0x17) | (rd(&f, 0x18) << 8), 31 * 1024);
    cr_assert_eq(rd(&f, 0x30) | (rd(&f, 0x31) << 8), 31 * 1024);
    cr_assert_eq(rd(&f, 0x34) | (rd(&f, 0x35) << 8), 16 * 16, "64 KiB blocks above 16 MiB");
    unsigned sum = 0;
    for (uint8_t i = 0x10; i <= 0x2D; i++) {
        sum += rd(&f, i);
    }
    cr_assert_eq(rd(&f, 0x2E), (sum >> 8) & 0xFF);
    cr_assert_eq(rd(&f, 0x2F), sum & 0xFF);
    mc146818_setup_pc(f.rtc, 512ull << 20, 0x06);
    cr_assert_eq(rd(&f, 0x17) | (rd(&f, 0x18) << 8), 0xFFFF, "capped at 64 MiB - 1 KiB");
    cr_assert_eq(rd(&f, 0x34) | (rd(&f, 0x35) << 8), (512 - 16) * 16);
    fixture_fini(&f);
}

Test(rtc, reset_clears_interrupt_enables_and_flags)
{
    RtcFixture f;
    fixture_init(&f);
    wr(&f, 0x0B, 0x7A);
    th_advance(f.m, SEC);
    cr_assert_eq(f.irq8.level, 1);
    machine_reset(f.m);
    cr_assert_eq(f.irq8.level, 0);
    cr_assert_eq(rd(&f, 0x0B), 0x02);
    cr_assert_eq(rd(&f, 0x0C), 0x00);
    cr_assert_eq(rd(&f, 0x00), 0x01, "the time survives reset");
    fixture_fini(&f);
}
