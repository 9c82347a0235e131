/* clock.h: virtual time and timers. Host-clock mode, or deterministic mode where virtual time
 * is derived from the executed instruction count (-icount SHIFT: 2^SHIFT ns per instruction). */
#ifndef ANYVM_CORE_CLOCK_H
#define ANYVM_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_NEVER INT64_MAX

typedef void (*TimerCB)(void *opaque);

/* Timer: embedded in device state. Armed timers form a list sorted by deadline; equal
 * deadlines fire in the order they were armed. */
typedef struct Timer {
    int64_t deadline;     /* virtual ns; CLOCK_NEVER when not armed */
    TimerCB cb;
    void *opaque;
    uint64_t seq;         /* arming order, for stable ordering */
    struct Timer *next;
    struct Clock *clock;
} Timer;

typedef enum ClockMode { CLOCK_HOST, CLOCK_ICOUNT } ClockMode;

/* Clock: one per machine. */
typedef struct Clock {
    ClockMode mode;
    int icount_shift;      /* ns per instruction = 1 << shift (CLOCK_ICOUNT) */
    uint64_t icount;       /* instructions retired, advanced by the CPU loop */
    int64_t host_base_ns;  /* host monotonic time at virtual 0 (CLOCK_HOST) */
    int64_t paused_ns;     /* virtual time frozen while stopped (CLOCK_HOST) */
    bool running;
    Timer *active;         /* sorted by deadline */
    uint64_t next_seq;
    int64_t (*host_now)(void *opaque); /* monotonic ns source; injectable for tests */
    void *host_now_opaque;
    /* -d stats: timers fired, and how late (virtual ns after their deadline). */
    uint64_t fired;
    uint64_t late_total_ns;
    int64_t late_max_ns;
} Clock;

/* clock_init: a stopped clock at virtual time 0. */
void clock_init(Clock *c, ClockMode mode, int icount_shift);

/* clock_start / clock_stop: virtual time advances only while running (host mode). */
void clock_start(Clock *c);
void clock_stop(Clock *c);

/* clock_now: current virtual time in ns. */
int64_t clock_now(const Clock *c);

/* clock_advance_icount: the CPU retired n instructions (both modes keep the count). */
static inline void clock_advance_icount(Clock *c, uint64_t n)
{
    c->icount += n;
}

/* clock_icount_budget: in icount mode, how many instructions run until the next deadline
 * (at least 1, at most limit); in host mode, limit. */
int64_t clock_icount_budget(const Clock *c, int64_t limit);

/* clock_next_deadline: the earliest armed deadline, or CLOCK_NEVER. */
int64_t clock_next_deadline(const Clock *c);

/* clock_run_timers: fire every timer whose deadline <= now, in order. A callback may re-arm
 * its own or other timers. Returns how many fired. */
int clock_run_timers(Clock *c);

/* timer_init: attach to a clock; not armed. */
void timer_init(Timer *t, Clock *c, TimerCB cb, void *opaque);

/* timer_mod: arm (or re-arm) for an absolute virtual deadline in ns. */
void timer_mod(Timer *t, int64_t deadline_ns);

/* timer_del: disarm; harmless when not armed. */
void timer_del(Timer *t);

static inline bool timer_pending(const Timer *t)
{
    return t->deadline != CLOCK_NEVER;
}

/* host_monotonic_ns: CLOCK_MONOTONIC in ns. */
int64_t host_monotonic_ns(void *unused);

#endif
