/* test_pit.c: the 8254 through ports 0x40-0x43 and 0x61 on a deterministic (icount) machine:
 * the six modes' counts and OUT, latching, read-back, BCD, gates and IRQ0 timing. */
#include <criterion/criterion.h>

#include "devices/i8254.h"
#include "tests/devices/chipset_harness.h"

typedef struct PitFixture {
    Machine *m;
    I8254 *pit;
    IRQRecorder irq0;
} PitFixture;

static void fixture_init(PitFixture *f)
{
    memset(f, 0, sizeof(*f));
    f->m = th_machine();
    th_irq_init(&f->irq0, f->m);
    f->pit = i8254_new(f->m, &f->irq0.line);
    cr_assert_not_null(f->pit);
}

static void fixture_fini(PitFixture *f)
{
    machine_free(f->m);
    i8254_free(f->pit);
}

/* The virtual ns at which input clock tick `tick` begins (1.193182 MHz). */
static int64_t tick_ns(int64_t tick)
{
    return (int64_t)(((unsigned __int128)tick * 1000000000u + I8254_HZ - 1) / I8254_HZ);
}

static int run_to_tick(PitFixture *f, int64_t tick)
{
    return th_run_until(f->m, tick_ns(tick));
}

static void write_count16(PitFixture *f, int ch, uint16_t v)
{
    th_outb(f->m, (uint16_t)(0x40 + ch), (uint8_t)v);
    th_outb(f->m, (uint16_t)(0x40 + ch), (uint8_t)(v >> 8));
}

static uint16_t read_count16(PitFixture *f, int ch)
{
    uint8_t lo = th_inb(f->m, (uint16_t)(0x40 + ch));
    uint8_t hi = th_inb(f->m, (uint16_t)(0x40 + ch));
    return (uint16_t)(lo | (hi << 8));
}

static int out2(PitFixture *f)
{
    return (th_inb(f->m, 0x61) >> 5) & 1;
}

Test(pit, mode0_raises_irq0_count_plus_one_clocks_after_write)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x30); /* counter 0, LSB+MSB, mode 0, binary */
    write_count16(&f, 0, 1000);
    cr_assert_eq(f.irq0.level, 0);
    run_to_tick(&f, 1000);
    cr_assert_eq(f.irq0.level, 0, "one clock loads the count, 1000 more reach zero");
    run_to_tick(&f, 1001);
    cr_assert_eq(f.irq0.level, 1);
    cr_assert_eq(f.irq0.rises, 1);
    cr_assert_eq(f.irq0.last_rise_ns, tick_ns(1001));
    int fired = run_to_tick(&f, 200000);
    cr_assert_eq(f.irq0.rises, 1, "mode 0 interrupts once");
    cr_assert_eq(fired, 0, "no timer after the terminal count");
    /* The count keeps decrementing through zero. */
    th_outb(f.m, 0x43, 0x00);
    uint16_t c = read_count16(&f, 0);
    cr_assert_eq(c, (uint16_t)(1000 - (200000 - 1)));
    fixture_fini(&f);
}

Test(pit, mode2_rate_generator_one_timer_per_period)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x34); /* counter 0, word, mode 2 */
    write_count16(&f, 0, 1193);
    int rises0 = f.irq0.rises;
    int fired = run_to_tick(&f, 1 + 1193 * 10);
    cr_assert_eq(f.irq0.rises - rises0, 10);
    cr_assert_eq(fired, 10, "exactly one timer per period");
    cr_assert_eq(f.irq0.last_rise_ns, tick_ns(1 + 1193 * 10));
    /* Counts N..1 within a period: 3 clocks into the 11th period the count is N-3. */
    run_to_tick(&f, 1 + 1193 * 10 + 3);
    th_outb(f.m, 0x43, 0x00);
    cr_assert_eq(read_count16(&f, 0), 1193 - 3);
    fixture_fini(&f);
}

Test(pit, mode2_count_written_during_cycle_applies_at_cycle_end)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x34);
    write_count16(&f, 0, 100);
    run_to_tick(&f, 50);
    write_count16(&f, 0, 30);
    int rises0 = f.irq0.rises;
    run_to_tick(&f, 101);
    cr_assert_eq(f.irq0.rises - rises0, 1, "the current period of 100 ends first");
    cr_assert_eq(f.irq0.last_rise_ns, tick_ns(101));
    run_to_tick(&f, 161);
    cr_assert_eq(f.irq0.rises - rises0, 3, "then periods of 30");
    cr_assert_eq(f.irq0.last_rise_ns, tick_ns(161));
    fixture_fini(&f);
}

Test(pit, mode3_square_wave_on_out2_through_port61)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x01); /* gate 2 on, speaker data off */
    th_outb(f.m, 0x43, 0xB6); /* counter 2, word, mode 3 */
    write_count16(&f, 2, 100);
    run_to_tick(&f, 11);
    cr_assert_eq(out2(&f), 1);
    th_outb(f.m, 0x43, 0x80);
    cr_assert_eq(read_count16(&f, 2), 80, "mode 3 counts down by two");
    run_to_tick(&f, 51);
    cr_assert_eq(out2(&f), 0, "second half of the period is low");
    run_to_tick(&f, 101);
    cr_assert_eq(out2(&f), 1);
    uint32_t div = 0;
    cr_assert_eq(i8254_speaker(f.pit, &div), 0, "speaker data bit off");
    th_outb(f.m, 0x61, 0x03);
    cr_assert_eq(i8254_speaker(f.pit, &div), 1);
    cr_assert_eq(div, 100);
    fixture_fini(&f);
}

Test(pit, mode3_odd_count_high_half_is_longer)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x01);
    th_outb(f.m, 0x43, 0xB6);
    write_count16(&f, 2, 5); /* high for 3 clocks, low for 2 */
    run_to_tick(&f, 1 + 2);
    cr_assert_eq(out2(&f), 1);
    run_to_tick(&f, 1 + 3);
    cr_assert_eq(out2(&f), 0);
    run_to_tick(&f, 1 + 4);
    cr_assert_eq(out2(&f), 0);
    run_to_tick(&f, 1 + 5);
    cr_assert_eq(out2(&f), 1);
    fixture_fini(&f);
}

Test(pit, counter_latch_freezes_value_until_read)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x34);
    write_count16(&f, 0, 0); /* 65536 */
    run_to_tick(&f, 101);
    th_outb(f.m, 0x43, 0x00);
    run_to_tick(&f, 151);
    th_outb(f.m, 0x43, 0x00); /* a second latch is ignored while the first is unread */
    cr_assert_eq(read_count16(&f, 0), 65536 - 100);
    cr_assert_eq(read_count16(&f, 0), 65536 - 150, "unlatched reads follow the counter");
    fixture_fini(&f);
}

Test(pit, read_back_returns_status_then_count)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x30);
    th_outb(f.m, 0x40, 0x10); /* LSB only so far */
    th_outb(f.m, 0x43, 0xE2); /* read-back: status of counter 0 */
    cr_assert_eq(th_inb(f.m, 0x40), 0x70, "OUT low, null count, word access, mode 0");
    th_outb(f.m, 0x40, 0x00); /* MSB: count 16 */
    th_outb(f.m, 0x43, 0xE2);
    cr_assert_eq(th_inb(f.m, 0x40), 0x70, "null count until the next clock loads it");
    run_to_tick(&f, 5);
    th_outb(f.m, 0x43, 0xC2); /* status and count */
    cr_assert_eq(th_inb(f.m, 0x40), 0x30);
    cr_assert_eq(read_count16(&f, 0), 12);
    run_to_tick(&f, 20);
    th_outb(f.m, 0x43, 0xE2);
    cr_assert_eq(th_inb(f.m, 0x40), 0xB0, "OUT high after the terminal count");
    fixture_fini(&f);
}

Test(pit, bcd_counting)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x35); /* mode 2, BCD */
    write_count16(&f, 0, 0x0100);
    run_to_tick(&f, 11);
    th_outb(f.m, 0x43, 0x00);
    cr_assert_eq(read_count16(&f, 0), 0x0090);
    int rises0 = f.irq0.rises;
    run_to_tick(&f, 201);
    cr_assert_eq(f.irq0.rises - rises0, 2, "BCD 0100 is a period of 100 clocks");
    fixture_fini(&f);
}

Test(pit, bcd_zero_is_ten_thousand)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x31); /* mode 0, BCD */
    write_count16(&f, 0, 0x0000);
    run_to_tick(&f, 10000);
    cr_assert_eq(f.irq0.level, 0);
    run_to_tick(&f, 10001);
    cr_assert_eq(f.irq0.level, 1);
    fixture_fini(&f);
}

Test(pit, lsb_only_and_msb_only_access)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x14); /* counter 0, LSB only, mode 2 */
    th_outb(f.m, 0x40, 50);
    run_to_tick(&f, 6);
    cr_assert_eq(th_inb(f.m, 0x40), 45);
    cr_assert_eq(th_inb(f.m, 0x40), 45, "every read is the LSB");
    th_outb(f.m, 0x43, 0x64); /* counter 1, MSB only, mode 2 */
    th_outb(f.m, 0x41, 0x02); /* 512 */
    run_to_tick(&f, 6 + 1 + 256);
    cr_assert_eq(th_inb(f.m, 0x41), 0x01, "MSB of 256");
    fixture_fini(&f);
}

Test(pit, mode0_gate_low_holds_count)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x00);
    th_outb(f.m, 0x43, 0xB0); /* counter 2, mode 0 */
    write_count16(&f, 2, 100);
    run_to_tick(&f, 500);
    th_outb(f.m, 0x43, 0x80);
    cr_assert_eq(read_count16(&f, 2), 100);
    cr_assert_eq(out2(&f), 0);
    th_outb(f.m, 0x61, 0x01);
    run_to_tick(&f, 599);
    cr_assert_eq(out2(&f), 0);
    run_to_tick(&f, 600);
    cr_assert_eq(out2(&f), 1);
    fixture_fini(&f);
}

Test(pit, mode1_one_shot_triggered_by_gate)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x00);
    th_outb(f.m, 0x43, 0xB2); /* counter 2, mode 1 */
    write_count16(&f, 2, 50);
    run_to_tick(&f, 10);
    cr_assert_eq(out2(&f), 1, "mode 1 waits for a trigger with OUT high");
    th_outb(f.m, 0x61, 0x01);
    run_to_tick(&f, 11);
    cr_assert_eq(out2(&f), 0);
    run_to_tick(&f, 60);
    cr_assert_eq(out2(&f), 0);
    run_to_tick(&f, 61);
    cr_assert_eq(out2(&f), 1);
    fixture_fini(&f);
}

Test(pit, mode2_gate_low_stops_and_forces_out_high)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x01);
    th_outb(f.m, 0x43, 0xB4); /* counter 2, mode 2 */
    write_count16(&f, 2, 10);
    run_to_tick(&f, 10); /* count 1: OUT low */
    cr_assert_eq(out2(&f), 0);
    th_outb(f.m, 0x61, 0x00);
    cr_assert_eq(out2(&f), 1);
    run_to_tick(&f, 40);
    th_outb(f.m, 0x43, 0x80);
    cr_assert_eq(read_count16(&f, 2), 1, "the count holds while GATE is low");
    th_outb(f.m, 0x61, 0x01); /* rising edge reloads on the next clock */
    run_to_tick(&f, 43);
    th_outb(f.m, 0x43, 0x80);
    cr_assert_eq(read_count16(&f, 2), 8);
    fixture_fini(&f);
}

Test(pit, mode4_strobe_pulses_irq0_once)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x38); /* counter 0, mode 4 */
    write_count16(&f, 0, 20);
    int rises0 = f.irq0.rises;
    cr_assert_eq(i8254_get_out(f.pit, 0), 1);
    run_to_tick(&f, 21);
    cr_assert_eq(i8254_get_out(f.pit, 0), 0, "OUT low for the clock the count hits zero");
    cr_assert_eq(f.irq0.rises - rises0, 0);
    run_to_tick(&f, 22);
    cr_assert_eq(i8254_get_out(f.pit, 0), 1);
    cr_assert_eq(f.irq0.rises - rises0, 1);
    run_to_tick(&f, 100000);
    cr_assert_eq(f.irq0.rises - rises0, 1);
    fixture_fini(&f);
}

Test(pit, mode0_first_byte_of_new_count_stops_counting)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x30);
    write_count16(&f, 0, 30);
    run_to_tick(&f, 10);
    th_outb(f.m, 0x40, 0x50); /* LSB only */
    run_to_tick(&f, 100);
    cr_assert_eq(f.irq0.level, 0, "counting stopped: no terminal count");
    th_outb(f.m, 0x40, 0x00); /* MSB: count 0x50 from here */
    run_to_tick(&f, 100 + 1 + 0x50);
    cr_assert_eq(f.irq0.level, 1);
    cr_assert_eq(f.irq0.last_rise_ns, tick_ns(101 + 0x50));
    fixture_fini(&f);
}

Test(pit, port61_refresh_bit_toggles_and_keeps_written_bits)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x0E);
    uint8_t a = th_inb(f.m, 0x61);
    th_advance(f.m, 15085);
    uint8_t b = th_inb(f.m, 0x61);
    cr_assert_eq(a & 0x0F, 0x0E);
    cr_assert_neq(a & 0x10, b & 0x10);
    fixture_fini(&f);
}

Test(pit, snapshot_restores_running_counter)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x34);
    write_count16(&f, 0, 1000);
    run_to_tick(&f, 100);
    uint8_t *buf = NULL;
    size_t len = 0;
    cr_assert_eq(vmstate_save_buf(&f.m->vmstate, &buf, &len), 0);
    th_outb(f.m, 0x43, 0x30);
    write_count16(&f, 0, 5);
    char err[128];
    cr_assert_eq(vmstate_load_buf(&f.m->vmstate, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    th_outb(f.m, 0x43, 0x00);
    cr_assert_eq(read_count16(&f, 0), 1000 - 99);
    int rises0 = f.irq0.rises;
    run_to_tick(&f, 1001);
    cr_assert_eq(f.irq0.rises - rises0, 1, "the restored timer fires at the period end");
    fixture_fini(&f);
}

Test(pit, mode5_gate_triggered_strobe_on_out2)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x00);
    th_outb(f.m, 0x43, 0xBA); /* counter 2, mode 5 */
    write_count16(&f, 2, 8);
    run_to_tick(&f, 30);
    cr_assert_eq(out2(&f), 1, "nothing happens before the trigger");
    th_outb(f.m, 0x61, 0x01); /* trigger at tick 30: count loaded at 31 */
    run_to_tick(&f, 38);
    cr_assert_eq(out2(&f), 1);
    run_to_tick(&f, 39);
    cr_assert_eq(out2(&f), 0, "low for the clock the count reaches zero");
    run_to_tick(&f, 40);
    cr_assert_eq(out2(&f), 1);
    th_outb(f.m, 0x61, 0x00);
    th_outb(f.m, 0x61, 0x01); /* retrigger at tick 40 */
    run_to_tick(&f, 49);
    cr_assert_eq(out2(&f), 0);
    fixture_fini(&f);
}

Test(pit, mode3_count_written_in_high_half_applies_at_half_cycle_end)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x61, 0x01);
    th_outb(f.m, 0x43, 0xB6);
    write_count16(&f, 2, 100);
    run_to_tick(&f, 20);
    write_count16(&f, 2, 40);
    run_to_tick(&f, 50);
    cr_assert_eq(out2(&f), 1, "the high half of 50 clocks completes");
    run_to_tick(&f, 51);
    cr_assert_eq(out2(&f), 0, "then the new count's low half of 20 clocks");
    th_outb(f.m, 0x43, 0x80);
    cr_assert_eq(read_count16(&f, 2), 40, "reloaded with the new count");
    run_to_tick(&f, 70);
    cr_assert_eq(out2(&f), 0);
    run_to_tick(&f, 71);
    cr_assert_eq(out2(&f), 1);
    run_to_tick(&f, 91);
    cr_assert_eq(out2(&f), 0);
    fixture_fini(&f);
}

Test(pit, mode3_irq0_edges_follow_half_cycle_reload)
{
    PitFixture f;
    fixture_init(&f);
    th_outb(f.m, 0x43, 0x36); /* counter 0, mode 3 */
    write_count16(&f, 0, 100);
    run_to_tick(&f, 60); /* low half */
    write_count16(&f, 0, 10);
    int rises0 = f.irq0.rises;
    run_to_tick(&f, 101);
    cr_assert_eq(f.irq0.rises - rises0, 1, "the low half ends the period at 101");
    run_to_tick(&f, 121);
    cr_assert_eq(f.irq0.rises - rises0, 3, "then every 10 clocks");
    cr_assert_eq(f.irq0.last_rise_ns, tick_ns(121));
    fixture_fini(&f);
}
