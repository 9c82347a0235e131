/* clock.c: virtual time (host-clock or instruction-count driven) and deadline-ordered timers.
 *
 * Armed timers form one singly linked list sorted by (deadline, seq). seq is a counter taken at
 * every timer_mod, so timers with equal deadlines fire in the order they were armed.
 *
 * clock_run_timers fires only timers armed before it started (seq below the counter at entry)
 * whose deadline has passed. A callback that re-arms a timer for a deadline that is already due
 * (a periodic timer catching up, or one armed "now") is therefore fired by the next call, not
 * this one: each call is bounded by the number of timers armed at entry, so a callback can
 * never make it loop forever, and no expiry is skipped or delivered twice. In icount mode the
 * next call comes at once, since clock_icount_budget returns 1 while a deadline is overdue. */
#include "core/clock.h"

#include <stddef.h>
#include <time.h>

int64_t host_monotonic_ns(void *unused)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void clock_init(Clock *c, ClockMode mode, int icount_shift)
{
    c->mode = mode;
    /* 2^62 ns is ~146 years per instruction; anything larger is nonsense. */
    c->icount_shift = icount_shift < 0 ? 0 : icount_shift > 62 ? 62 : icount_shift;
    c->icount = 0;
    c->host_base_ns = 0;
    c->paused_ns = 0;
    c->running = false;
    c->active = NULL;
    c->next_seq = 0;
    c->host_now = host_monotonic_ns;
    c->host_now_opaque = NULL;
    c->fired = 0;
    c->late_total_ns = 0;
    c->late_max_ns = 0;
}

void clock_start(Clock *c)
{
    if (c->running) {
        return;
    }
    if (c->mode == CLOCK_HOST) {
        c->host_base_ns = c->host_now(c->host_now_opaque) - c->paused_ns;
    }
    c->running = true;
}

void clock_stop(Clock *c)
{
    if (!c->running) {
        return;
    }
    if (c->mode == CLOCK_HOST) {
        c->paused_ns = c->host_now(c->host_now_opaque) - c->host_base_ns;
    }
    c->running = false;
}

int64_t clock_now(const Clock *c)
{
    if (c->mode == CLOCK_ICOUNT) {
        /* Saturate instead of overflowing after an absurd instruction count. */
        if (c->icount > ((uint64_t)INT64_MAX >> c->icount_shift)) {
            return INT64_MAX - 1;
        }
        return (int64_t)(c->icount << c->icount_shift);
    }
    if (!c->running) {
        return c->paused_ns;
    }
    return c->host_now(c->host_now_opaque) - c->host_base_ns;
}

int64_t clock_next_deadline(const Clock *c)
{
    return c->active ? c->active->deadline : CLOCK_NEVER;
}

int64_t clock_icount_budget(const Clock *c, int64_t limit)
{
    if (limit < 1) {
        limit = 1;
    }
    if (c->mode != CLOCK_ICOUNT) {
        return limit;
    }
    int64_t deadline = clock_next_deadline(c);
    if (deadline == CLOCK_NEVER) {
        return limit;
    }
    int64_t now = clock_now(c);
    if (deadline <= now) {
        return 1;
    }
    /* Round up: the deadline is reached once icount << shift >= deadline. */
    uint64_t ns = (uint64_t)(deadline - now);
    uint64_t unit = 1ull << c->icount_shift;
    uint64_t n = ns / unit + (ns % unit != 0);
    return n >= (uint64_t)limit ? limit : (int64_t)n;
}

void timer_init(Timer *t, Clock *c, TimerCB cb, void *opaque)
{
    t->deadline = CLOCK_NEVER;
    t->cb = cb;
    t->opaque = opaque;
    t->seq = 0;
    t->next = NULL;
    t->clock = c;
}

/* Unlink t from its clock's active list if it is there. */
static void timer_unlink(Timer *t)
{
    if (!t->clock) {
        return;
    }
    for (Timer **pp = &t->clock->active; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
}

void timer_del(Timer *t)
{
    if (t->deadline != CLOCK_NEVER) {
        timer_unlink(t);
    }
    t->deadline = CLOCK_NEVER;
}

void timer_mod(Timer *t, int64_t deadline_ns)
{
    timer_del(t);
    if (deadline_ns == CLOCK_NEVER) {
        return;
    }
    t->deadline = deadline_ns;
    if (!t->clock) {
        return;
    }
    Clock *c = t->clock;
    t->seq = c->next_seq++;
    /* After every timer with deadline <= ours: equal deadlines keep arming order. */
    Timer **pp = &c->active;
    while (*pp && (*pp)->deadline <= deadline_ns) {
        pp = &(*pp)->next;
    }
    t->next = *pp;
    *pp = t;
}

int clock_run_timers(Clock *c)
{
    int64_t now = clock_now(c);
    uint64_t limit_seq = c->next_seq;
    int fired = 0;
    for (;;) {
        Timer *t = c->active;
        while (t && t->deadline <= now && t->seq >= limit_seq) {
            t = t->next;
        }
        if (!t || t->deadline > now) {
            break;
        }
        timer_unlink(t);
        int64_t late = now - t->deadline;
        c->late_total_ns += (uint64_t)late;
        if (late > c->late_max_ns) {
            c->late_max_ns = late;
        }
        t->deadline = CLOCK_NEVER;
        fired++;
        if (t->cb) {
            t->cb(t->opaque);
        }
    }
    c->fired += (uint64_t)fired;
    return fired;
}
