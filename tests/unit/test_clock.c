/* test_clock.c: virtual time in host and icount modes, and timer ordering and re-arming. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/clock.h"

/* A fake host clock the test moves by hand. */
typedef struct FakeHost {
    int64_t now;
} FakeHost;

static int64_t fake_now(void *opaque)
{
    return ((FakeHost *)opaque)->now;
}

static void use_fake_host(Clock *c, FakeHost *h)
{
    c->host_now = fake_now;
    c->host_now_opaque = h;
}

/* Records the order timers fire in. */
typedef struct Trace {
    int ids[64];
    int64_t at[64];
    int n;
    Clock *clock;
} Trace;

typedef struct TTimer {
    Timer t;
    int id;
    Trace *trace;
    int64_t period; /* > 0: re-arm at next + period from the callback */
    int64_t next;   /* the deadline a periodic timer was last armed for */
    int rearm_left;
    Timer *other; /* arm this one from the callback, if set */
    int64_t other_deadline;
    Timer *kill; /* delete this one from the callback, if set */
} TTimer;

static void tt_cb(void *opaque)
{
    TTimer *tt = opaque;
    Trace *tr = tt->trace;
    if (tr->n < 64) {
        tr->ids[tr->n] = tt->id;
        tr->at[tr->n] = clock_now(tr->clock);
        tr->n++;
    }
    if (tt->period > 0 && tt->rearm_left > 0) {
        tt->rearm_left--;
        tt->next += tt->period;
        timer_mod(&tt->t, tt->next);
    }
    if (tt->other) {
        timer_mod(tt->other, tt->other_deadline);
        tt->other = NULL;
    }
    if (tt->kill) {
        timer_del(tt->kill);
    }
}

static void tt_init(TTimer *tt, Clock *c, Trace *tr, int id)
{
    memset(tt, 0, sizeof(*tt));
    tt->id = id;
    tt->trace = tr;
    timer_init(&tt->t, c, tt_cb, tt);
}

Test(clock, host_mode_time_frozen_while_stopped)
{
    Clock c;
    FakeHost h = {.now = 1000000};
    clock_init(&c, CLOCK_HOST, 0);
    use_fake_host(&c, &h);
    cr_expect_eq(clock_now(&c), 0, "a new clock is stopped at 0");
    h.now += 500;
    cr_expect_eq(clock_now(&c), 0);
    clock_start(&c);
    cr_expect_eq(clock_now(&c), 0);
    h.now += 700;
    cr_expect_eq(clock_now(&c), 700);
    clock_stop(&c);
    h.now += 100000;
    cr_expect_eq(clock_now(&c), 700, "frozen while stopped");
    clock_start(&c);
    cr_expect_eq(clock_now(&c), 700, "resumes where it stopped");
    h.now += 50;
    cr_expect_eq(clock_now(&c), 750);
    clock_start(&c); /* starting twice changes nothing */
    cr_expect_eq(clock_now(&c), 750);
    clock_stop(&c);
    clock_stop(&c);
    cr_expect_eq(clock_now(&c), 750);
}

Test(clock, host_mode_default_source_is_monotonic)
{
    Clock c;
    clock_init(&c, CLOCK_HOST, 0);
    clock_start(&c);
    int64_t a = clock_now(&c);
    int64_t b = clock_now(&c);
    cr_expect_geq(a, 0);
    cr_expect_geq(b, a);
    cr_expect_gt(host_monotonic_ns(NULL), 0);
}

Test(clock, icount_mode_time_is_count_shifted)
{
    Clock c;
    clock_init(&c, CLOCK_ICOUNT, 3);
    cr_expect_eq(clock_now(&c), 0);
    clock_advance_icount(&c, 10);
    cr_expect_eq(clock_now(&c), 80);
    clock_advance_icount(&c, 1);
    cr_expect_eq(clock_now(&c), 88);
    /* absurd counts saturate rather than wrap negative */
    c.icount = UINT64_MAX / 2;
    cr_expect_gt(clock_now(&c), 0);
}

Test(clock, timers_fire_in_deadline_order_only_when_due)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer t[4];
    clock_init(&c, CLOCK_ICOUNT, 0);
    for (int i = 0; i < 4; i++) {
        tt_init(&t[i], &c, &tr, i);
    }
    timer_mod(&t[0].t, 300);
    timer_mod(&t[1].t, 100);
    timer_mod(&t[2].t, 400);
    timer_mod(&t[3].t, 200);
    cr_expect_eq(clock_next_deadline(&c), 100);
    cr_expect_eq(clock_run_timers(&c), 0);
    clock_advance_icount(&c, 250);
    cr_expect_eq(clock_run_timers(&c), 2);
    cr_assert_eq(tr.n, 2);
    cr_expect_eq(tr.ids[0], 1);
    cr_expect_eq(tr.ids[1], 3);
    cr_expect_not(timer_pending(&t[1].t));
    cr_expect(timer_pending(&t[0].t));
    cr_expect_eq(clock_next_deadline(&c), 300);
    clock_advance_icount(&c, 1000);
    cr_expect_eq(clock_run_timers(&c), 2);
    cr_expect_eq(tr.ids[2], 0);
    cr_expect_eq(tr.ids[3], 2);
    cr_expect_eq(clock_next_deadline(&c), CLOCK_NEVER);
}

Test(clock, equal_deadlines_fire_in_arming_order)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer t[6];
    clock_init(&c, CLOCK_ICOUNT, 0);
    for (int i = 0; i < 6; i++) {
        tt_init(&t[i], &c, &tr, i);
    }
    int order[6] = {3, 1, 5, 0, 4, 2};
    for (int i = 0; i < 6; i++) {
        timer_mod(&t[order[i]].t, 50);
    }
    /* re-arming moves a timer to the back of its deadline's queue */
    timer_mod(&t[3].t, 50);
    clock_advance_icount(&c, 50);
    cr_expect_eq(clock_run_timers(&c), 6);
    int want[6] = {1, 5, 0, 4, 2, 3};
    for (int i = 0; i < 6; i++) {
        cr_expect_eq(tr.ids[i], want[i], "position %d", i);
    }
}

Test(clock, timer_del_disarms_and_is_harmless_twice)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer a, b;
    clock_init(&c, CLOCK_ICOUNT, 0);
    tt_init(&a, &c, &tr, 1);
    tt_init(&b, &c, &tr, 2);
    timer_del(&a.t);
    timer_mod(&a.t, 10);
    timer_mod(&b.t, 20);
    timer_del(&a.t);
    timer_del(&a.t);
    cr_expect_not(timer_pending(&a.t));
    cr_expect_eq(clock_next_deadline(&c), 20);
    timer_mod(&b.t, CLOCK_NEVER);
    cr_expect_not(timer_pending(&b.t));
    clock_advance_icount(&c, 100);
    cr_expect_eq(clock_run_timers(&c), 0);
}

Test(clock, periodic_callback_rearms_itself_without_skip_or_double_fire)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer p;
    clock_init(&c, CLOCK_ICOUNT, 0);
    tt_init(&p, &c, &tr, 7);
    p.period = 100;
    p.rearm_left = 1000;
    p.next = 100;
    timer_mod(&p.t, 100);
    for (int step = 0; step < 10; step++) {
        clock_advance_icount(&c, 100);
        cr_expect_eq(clock_run_timers(&c), 1, "step %d", step);
    }
    cr_assert_eq(tr.n, 10);
    for (int i = 0; i < 10; i++) {
        cr_expect_eq(tr.at[i], (i + 1) * 100);
    }
    cr_expect_eq(clock_next_deadline(&c), 1100);
}

typedef struct SelfRearm {
    Timer t;
    int count;
} SelfRearm;

static void rearm_now_cb(void *opaque)
{
    SelfRearm *s = opaque;
    s->count++;
    if (s->count < 100) { /* bounded, so a broken clock_run_timers fails instead of hanging */
        timer_mod(&s->t, clock_now(s->t.clock)); /* due immediately again */
    }
}

Test(clock, callback_rearming_for_now_does_not_loop_forever)
{
    SelfRearm s = {0};
    Clock c;
    clock_init(&c, CLOCK_ICOUNT, 0);
    timer_init(&s.t, &c, rearm_now_cb, &s);
    timer_mod(&s.t, 0);
    cr_expect_eq(clock_run_timers(&c), 1);
    cr_expect_eq(s.count, 1);
    cr_expect(timer_pending(&s.t), "re-armed, fires on the next run");
    cr_expect_eq(clock_icount_budget(&c, 1000), 1, "overdue: run timers at once");
    cr_expect_eq(clock_run_timers(&c), 1);
    cr_expect_eq(s.count, 2);
}

Test(clock, periodic_timer_behind_by_several_periods_catches_up_one_per_run)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer p;
    clock_init(&c, CLOCK_ICOUNT, 0);
    tt_init(&p, &c, &tr, 7);
    p.period = 100;
    p.rearm_left = 1000;
    p.next = 100;
    timer_mod(&p.t, 100);
    clock_advance_icount(&c, 450);
    int total = 0;
    for (int i = 0; i < 10; i++) {
        total += clock_run_timers(&c);
    }
    cr_expect_eq(total, 4, "expiries at 100, 200, 300, 400: none skipped, none twice");
    cr_expect_eq(clock_next_deadline(&c), 500);
}

Test(clock, callback_arms_another_timer_earlier_than_pending_ones)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer a, b, late;
    clock_init(&c, CLOCK_ICOUNT, 0);
    tt_init(&a, &c, &tr, 1);
    tt_init(&b, &c, &tr, 2);
    tt_init(&late, &c, &tr, 3);
    timer_mod(&a.t, 10);
    timer_mod(&late.t, 500);
    a.other = &b.t;
    a.other_deadline = 200;
    clock_advance_icount(&c, 100);
    cr_expect_eq(clock_run_timers(&c), 1);
    cr_expect_eq(clock_next_deadline(&c), 200);
    clock_advance_icount(&c, 1000);
    cr_expect_eq(clock_run_timers(&c), 2);
    cr_assert_eq(tr.n, 3);
    cr_expect_eq(tr.ids[1], 2);
    cr_expect_eq(tr.ids[2], 3);
}

Test(clock, callback_deleting_a_due_timer_prevents_it_firing)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer a, b, d;
    clock_init(&c, CLOCK_ICOUNT, 0);
    tt_init(&a, &c, &tr, 1);
    tt_init(&b, &c, &tr, 2);
    tt_init(&d, &c, &tr, 3);
    timer_mod(&a.t, 10);
    timer_mod(&b.t, 20);
    timer_mod(&d.t, 30);
    a.kill = &b.t;
    clock_advance_icount(&c, 100);
    cr_expect_eq(clock_run_timers(&c), 2);
    cr_assert_eq(tr.n, 2);
    cr_expect_eq(tr.ids[0], 1);
    cr_expect_eq(tr.ids[1], 3);
}

Test(clock, callback_moving_a_due_timer_later_defers_it)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer a, b;
    clock_init(&c, CLOCK_ICOUNT, 0);
    tt_init(&a, &c, &tr, 1);
    tt_init(&b, &c, &tr, 2);
    timer_mod(&a.t, 10);
    timer_mod(&b.t, 20);
    a.other = &b.t;
    a.other_deadline = 1000;
    clock_advance_icount(&c, 100);
    cr_expect_eq(clock_run_timers(&c), 1);
    cr_expect_eq(b.t.deadline, 1000);
    clock_advance_icount(&c, 900);
    cr_expect_eq(clock_run_timers(&c), 1);
    cr_expect_eq(tr.ids[1], 2);
}

Test(clock, icount_budget_reaches_next_deadline)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer a;
    clock_init(&c, CLOCK_ICOUNT, 2); /* 4 ns per instruction */
    tt_init(&a, &c, &tr, 1);
    cr_expect_eq(clock_icount_budget(&c, 5000), 5000, "no timer: the limit");
    timer_mod(&a.t, 400);
    cr_expect_eq(clock_icount_budget(&c, 5000), 100);
    cr_expect_eq(clock_icount_budget(&c, 30), 30, "capped at the limit");
    clock_advance_icount(&c, 99);
    cr_expect_eq(clock_icount_budget(&c, 5000), 1);
    timer_mod(&a.t, 401 + 99 * 4);
    /* 401 ns away at 4 ns each: rounds up so the deadline is reached */
    cr_expect_eq(clock_icount_budget(&c, 5000), 101);
    clock_advance_icount(&c, 101);
    cr_expect_geq(clock_now(&c), a.t.deadline);
    cr_expect_eq(clock_icount_budget(&c, 5000), 1, "overdue: at least 1");
    cr_expect_eq(clock_icount_budget(&c, 0), 1, "never below 1");
}

Test(clock, host_mode_budget_is_the_limit)
{
    Clock c;
    Trace tr = {.clock = &c};
    TTimer a;
    clock_init(&c, CLOCK_HOST, 0);
    tt_init(&a, &c, &tr, 1);
    timer_mod(&a.t, 1);
    cr_expect_eq(clock_icount_budget(&c, 777), 777);
}

Test(clock, host_mode_timers_follow_the_injected_clock)
{
    Clock c;
    FakeHost h = {.now = 5000};
    Trace tr = {.clock = &c};
    TTimer a;
    clock_init(&c, CLOCK_HOST, 0);
    use_fake_host(&c, &h);
    tt_init(&a, &c, &tr, 1);
    clock_start(&c);
    timer_mod(&a.t, 1000);
    h.now += 999;
    cr_expect_eq(clock_run_timers(&c), 0);
    clock_stop(&c);
    h.now += 1000000;
    cr_expect_eq(clock_run_timers(&c), 0, "stopped: virtual time does not pass");
    clock_start(&c);
    h.now += 1;
    cr_expect_eq(clock_run_timers(&c), 1);
    cr_expect_eq(tr.at[0], 1000);
}

/* A small deterministic "machine": timers re-arm each other at offsets derived from the
 * current time; the CPU advances by the budget. Two runs must give the same trace. */
typedef struct Sim {
    Clock c;
    Trace tr;
    TTimer t[3];
} Sim;

static void sim_cb(void *opaque)
{
    TTimer *tt = opaque;
    Trace *tr = tt->trace;
    int64_t now = clock_now(tr->clock);
    if (tr->n < 64) {
        tr->ids[tr->n] = tt->id;
        tr->at[tr->n] = now;
        tr->n++;
    }
    timer_mod(&tt->t, now + 37 * (tt->id + 1) + (now % 11));
}

static void sim_run(Sim *s)
{
    memset(s, 0, sizeof(*s));
    clock_init(&s->c, CLOCK_ICOUNT, 1);
    s->tr.clock = &s->c;
    for (int i = 0; i < 3; i++) {
        memset(&s->t[i], 0, sizeof(s->t[i]));
        s->t[i].id = i;
        s->t[i].trace = &s->tr;
        timer_init(&s->t[i].t, &s->c, sim_cb, &s->t[i]);
        timer_mod(&s->t[i].t, 10 * (i + 1));
    }
    while (s->tr.n < 60) {
        int64_t budget = clock_icount_budget(&s->c, 13);
        clock_advance_icount(&s->c, (uint64_t)budget);
        clock_run_timers(&s->c);
    }
}

Test(clock, icount_mode_is_deterministic_across_runs)
{
    Sim *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    sim_run(a);
    sim_run(b);
    cr_assert_eq(a->tr.n, b->tr.n);
    for (int i = 0; i < a->tr.n; i++) {
        cr_expect_eq(a->tr.ids[i], b->tr.ids[i], "event %d", i);
        cr_expect_eq(a->tr.at[i], b->tr.at[i], "event %d", i);
    }
    /* and time never runs backwards through the trace */
    for (int i = 1; i < a->tr.n; i++) {
        cr_expect_geq(a->tr.at[i], a->tr.at[i - 1]);
    }
    free(a);
    free(b);
}
