/* test_machine.c: the Machine object and machine_run: reset order, timers driven by a fake
 * CPU in icount mode, idling when halted, pause/resume, shutdown causes and exit status. */
#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/machine.h"

/* ---- helpers ---- */

static Machine *new_machine(void (*tweak)(MachineConfig *))
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    if (tweak) {
        tweak(&cfg);
    }
    char err[256];
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "machine_new: %s", err);
    return m;
}

static void cfg_icount0(MachineConfig *c)
{
    c->icount_shift = 0;
}

static void cfg_icount2_nosleep(MachineConfig *c)
{
    c->icount_shift = 2;
    c->icount_nosleep = true;
}

static void cfg_icount0_sleep(MachineConfig *c)
{
    c->icount_shift = 0;
}

static void cfg_no_reboot(MachineConfig *c)
{
    c->no_reboot = true;
}

static void cfg_paused(MachineConfig *c)
{
    c->start_paused = true;
}

/* A fake CPU: "executes" its budget (or halts), counts, and can run a hook per exec. */
typedef struct FakeCPU {
    Machine *m;
    uint64_t icount;
    int execs;
    int resets;
    bool halt;                       /* return CPU_EXIT_HALT without executing */
    int exit_code;                   /* returned after executing the budget */
    void (*hook)(struct FakeCPU *f); /* called at the start of every exec */
    int64_t max_budget;
    int stop_after; /* request shutdown (status 99) after this many execs */
    int *order;     /* reset order log */
    int *order_n;
    bool *freed;
} FakeCPU;

static int fake_exec(void *opaque, int64_t budget)
{
    FakeCPU *f = opaque;
    f->execs++;
    if (budget > f->max_budget) {
        f->max_budget = budget;
    }
    if (f->hook) {
        f->hook(f);
    }
    if (f->stop_after && f->execs >= f->stop_after) {
        machine_request_shutdown(f->m, SHUTDOWN_FATAL, 99);
    }
    if (f->halt) {
        return CPU_EXIT_HALT;
    }
    f->icount += (uint64_t)budget;
    return f->exit_code;
}

static void fake_reset(void *opaque)
{
    FakeCPU *f = opaque;
    f->resets++;
    if (f->order) {
        f->order[(*f->order_n)++] = 0;
    }
}

static void fake_free(void *opaque)
{
    FakeCPU *f = opaque;
    if (f->freed) {
        *f->freed = true;
    }
}

static uint64_t fake_icount(void *opaque)
{
    return ((FakeCPU *)opaque)->icount;
}

static const MachineCPUOps fake_ops = {
    .exec = fake_exec,
    .reset = fake_reset,
    .free = fake_free,
    .icount = fake_icount,
};

typedef struct EventLog {
    MachineEvent ev[16];
    ShutdownCause cause[16];
    int n;
} EventLog;

static void log_event(void *opaque, MachineEvent ev, ShutdownCause cause)
{
    EventLog *l = opaque;
    if (l->n < 16) {
        l->ev[l->n] = ev;
        l->cause[l->n] = cause;
        l->n++;
    }
}

/* ---- tests ---- */

Test(machine, defaults_match_the_documented_ones)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cr_assert_eq(cfg.ram_size, 128ull << 20);
    cr_assert_eq(cfg.smp, 1);
    cr_assert_str_eq(cfg.boot_order, "cad");
    cr_assert_eq(cfg.icount_shift, -1);
    cr_assert_str_eq(cfg.accel, MACHINE_DEFAULT_ACCEL);
#if defined(__x86_64__)
    cr_assert_str_eq(cfg.accel, "jit");
#endif
    cr_assert_eq(cfg.debug_exit.iobase, 0x501);
    cr_assert_eq(cfg.debug_exit.iosize, 2);
}

Test(machine, new_allocates_zeroed_ram_and_a_nonblocking_wake_pipe)
{
    Machine *m = new_machine(NULL);
    for (size_t i = 0; i < m->cfg.ram_size; i += 4096) {
        cr_assert_eq(m->ram[i], 0);
    }
    cr_assert_eq(m->state, RUN_STATE_RUNNING);
    cr_assert_eq(m->clock.mode, CLOCK_HOST);
    /* Filling the pipe must not block (a signal handler writes into it). */
    for (int i = 0; i < 100000; i++) {
        machine_wake(m);
    }
    machine_free(m);
}

Test(machine, new_rejects_a_bad_log_list)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    strcpy(cfg.log_items, "bogus");
    char err[256] = "";
    cr_assert_null(machine_new(&cfg, err, sizeof(err)));
    cr_assert(strstr(err, "bogus"), "got '%s'", err);
}

typedef struct ResetProbe {
    int id;
    int *order;
    int *n;
} ResetProbe;

static void probe_reset(void *opaque)
{
    ResetProbe *p = opaque;
    p->order[(*p->n)++] = p->id;
}

Test(machine, reset_runs_cpu_then_handlers_in_registration_order)
{
    Machine *m = new_machine(NULL);
    int order[8], n = 0;
    bool freed = false;
    FakeCPU f = {.m = m, .order = order, .order_n = &n, .freed = &freed};
    machine_set_cpu(m, &fake_ops, &f);
    ResetProbe p[3] = {{3, order, &n}, {1, order, &n}, {2, order, &n}};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(machine_add_reset(m, probe_reset, &p[i]), 0);
    }
    machine_reset(m);
    cr_assert_eq(n, 4);
    cr_assert_eq(order[0], 0, "the CPU resets first");
    cr_assert_eq(order[1], 3);
    cr_assert_eq(order[2], 1);
    cr_assert_eq(order[3], 2);
    machine_free(m);
    cr_assert(freed, "machine_free releases the CPU through its ops");
}

Test(machine, reset_table_is_bounded)
{
    Machine *m = new_machine(NULL);
    int order[1], n = 0;
    ResetProbe p = {0, order, &n};
    for (int i = 0; i < MACHINE_MAX_RESET; i++) {
        cr_assert_eq(machine_add_reset(m, probe_reset, &p), 0);
    }
    cr_assert_eq(machine_add_reset(m, probe_reset, &p), -ENOSPC);
    machine_free(m);
}

/* Timer test state: fires at 10k, 20k, 30k virtual ns, then shuts down with status 5. */
typedef struct TickState {
    Machine *m;
    Timer t;
    int64_t fired_at[8];
    int n;
    int64_t period;
    int limit;
} TickState;

static void tick(void *opaque)
{
    TickState *s = opaque;
    s->fired_at[s->n++] = clock_now(&s->m->clock);
    if (s->n >= s->limit) {
        machine_request_shutdown(s->m, SHUTDOWN_DEBUG_EXIT, 5);
    } else {
        timer_mod(&s->t, s->period * (s->n + 1)); /* the first deadline is one period */
    }
}

Test(machine, icount_timers_fire_exactly_at_their_deadline_from_machine_run)
{
    Machine *m = new_machine(cfg_icount0);
    FakeCPU f = {.m = m, .exit_code = CPU_EXIT_BUDGET};
    machine_set_cpu(m, &fake_ops, &f);
    TickState s = {.m = m, .period = 10000, .limit = 3};
    timer_init(&s.t, &m->clock, tick, &s);
    timer_mod(&s.t, 10000);
    EventLog ev = {0};
    cr_assert_eq(machine_add_observer(m, log_event, &ev), 0);

    int status = machine_run(m);
    cr_assert_eq(status, 5);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.fired_at[0], 10000);
    cr_assert_eq(s.fired_at[1], 20000);
    cr_assert_eq(s.fired_at[2], 30000);
    cr_assert_eq(m->clock.icount, f.icount, "the clock counts exactly what the CPU ran");
    cr_assert_eq(f.icount, 30000);
    cr_assert_eq(m->state, RUN_STATE_SHUTDOWN);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_DEBUG_EXIT);
    cr_assert_eq(ev.n, 1);
    cr_assert_eq(ev.ev[0], MACHINE_EVENT_SHUTDOWN);
    cr_assert_eq(ev.cause[0], SHUTDOWN_DEBUG_EXIT);
    machine_free(m);
}

Test(machine, icount_slices_are_bounded_without_timers)
{
    Machine *m = new_machine(cfg_icount0);
    FakeCPU f = {.m = m, .exit_code = CPU_EXIT_BUDGET, .stop_after = 5};
    machine_set_cpu(m, &fake_ops, &f);
    cr_assert_eq(machine_run(m), 99);
    cr_assert_eq(f.execs, 5);
    cr_assert_eq(f.max_budget, MACHINE_ICOUNT_SLICE);
    machine_free(m);
}

Test(machine, halted_cpu_in_icount_mode_warps_to_the_next_deadline)
{
    Machine *m = new_machine(cfg_icount2_nosleep);
    FakeCPU f = {.m = m, .halt = true};
    machine_set_cpu(m, &fake_ops, &f);
    TickState s = {.m = m, .period = 1000000000, .limit = 3}; /* one virtual second apart */
    timer_init(&s.t, &m->clock, tick, &s);
    timer_mod(&s.t, 1000000000);
    int64_t t0 = host_monotonic_ns(NULL);
    cr_assert_eq(machine_run(m), 5);
    int64_t host = host_monotonic_ns(NULL) - t0;
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.fired_at[0], 1000000000);
    cr_assert_eq(s.fired_at[2], 3000000000);
    cr_assert_lt(host, 1000000000, "sleep=off: three idle virtual seconds take no host time");
    cr_assert_eq(f.icount, 0, "the CPU itself ran nothing");
    cr_assert_lt(f.execs, 10, "a halted CPU is not spun");
    machine_free(m);
}

Test(machine, halted_cpu_in_icount_mode_waits_out_the_gap_by_default)
{
    Machine *m = new_machine(cfg_icount0_sleep);
    FakeCPU f = {.m = m, .halt = true};
    machine_set_cpu(m, &fake_ops, &f);
    TickState s = {.m = m, .period = 20000000, .limit = 2}; /* 20 ms */
    timer_init(&s.t, &m->clock, tick, &s);
    timer_mod(&s.t, 20000000);
    int64_t t0 = host_monotonic_ns(NULL);
    cr_assert_eq(machine_run(m), 5);
    int64_t host = host_monotonic_ns(NULL) - t0;
    cr_assert_eq(s.fired_at[1], 40000000);
    cr_assert_geq(host, 40000000, "idle virtual time is paced by the host clock");
    cr_assert_lt(f.execs, 10);
    machine_free(m);
}

Test(machine, halted_cpu_in_host_mode_sleeps_until_the_timer)
{
    Machine *m = new_machine(NULL);
    FakeCPU f = {.m = m, .halt = true};
    machine_set_cpu(m, &fake_ops, &f);
    TickState s = {.m = m, .period = 30000000, .limit = 1};
    timer_init(&s.t, &m->clock, tick, &s);
    timer_mod(&s.t, 30000000); /* 30 ms of host time */
    int64_t t0 = host_monotonic_ns(NULL);
    cr_assert_eq(machine_run(m), 5);
    int64_t host = host_monotonic_ns(NULL) - t0;
    cr_assert_geq(host, 30000000);
    cr_assert_geq(s.fired_at[0], 30000000);
    cr_assert_lt(f.execs, 10, "halted: the loop blocked instead of spinning (%d execs)", f.execs);
    machine_free(m);
}

static void request_reset_once(FakeCPU *f)
{
    if (f->execs == 2) {
        machine_request_reset(f->m, SHUTDOWN_GUEST_RESET);
    }
}

Test(machine, reset_request_runs_handlers_from_the_loop_and_reports_it)
{
    Machine *m = new_machine(NULL);
    FakeCPU f = {
        .m = m, .exit_code = CPU_EXIT_BUDGET, .hook = request_reset_once, .stop_after = 4};
    machine_set_cpu(m, &fake_ops, &f);
    EventLog ev = {0};
    cr_assert_eq(machine_add_observer(m, log_event, &ev), 0);
    cr_assert_eq(machine_run(m), 99);
    cr_assert_eq(f.resets, 1);
    cr_assert_eq(ev.n, 2);
    cr_assert_eq(ev.ev[0], MACHINE_EVENT_RESET);
    cr_assert_eq(ev.cause[0], SHUTDOWN_GUEST_RESET);
    cr_assert_eq(ev.ev[1], MACHINE_EVENT_SHUTDOWN);
    cr_assert_eq(ev.cause[1], SHUTDOWN_FATAL);
    machine_free(m);
}

Test(machine, no_reboot_turns_a_reset_into_a_shutdown)
{
    Machine *m = new_machine(cfg_no_reboot);
    FakeCPU f = {.m = m, .exit_code = CPU_EXIT_BUDGET, .hook = request_reset_once};
    machine_set_cpu(m, &fake_ops, &f);
    cr_assert_eq(machine_run(m), 0);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_GUEST_RESET);
    cr_assert_eq(f.resets, 0);
    cr_assert_eq(f.execs, 2);
    machine_free(m);
}

Test(machine, triple_fault_exit_resets_or_shuts_down_with_no_reboot)
{
    Machine *m = new_machine(cfg_no_reboot);
    FakeCPU f = {.m = m, .exit_code = CPU_EXIT_SHUTDOWN};
    machine_set_cpu(m, &fake_ops, &f);
    cr_assert_eq(machine_run(m), 0);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_TRIPLE_FAULT);
    cr_assert_eq(f.execs, 1);
    machine_free(m);

    m = new_machine(NULL);
    FakeCPU g = {.m = m, .exit_code = CPU_EXIT_SHUTDOWN, .stop_after = 3};
    machine_set_cpu(m, &fake_ops, &g);
    cr_assert_eq(machine_run(m), 99);
    cr_assert_eq(g.resets, 2, "each triple fault resets the machine");
    machine_free(m);
}

Test(machine, first_shutdown_cause_and_status_win)
{
    Machine *m = new_machine(NULL);
    machine_request_shutdown(m, SHUTDOWN_GUEST_POWEROFF, 3);
    machine_request_shutdown(m, SHUTDOWN_HOST_QUIT, 0);
    cr_assert_eq(machine_run(m), 3);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_GUEST_POWEROFF);
    machine_free(m);
}

typedef struct ResumeOnFd {
    Machine *m;
    int fd;
    RunState state_seen;
} ResumeOnFd;

static void resume_handler(void *opaque, int fd, short revents)
{
    ResumeOnFd *r = opaque;
    char b;
    cr_assert_eq(read(fd, &b, 1), 1);
    r->state_seen = r->m->state;
    machine_remove_fd(r->m, fd);
    machine_resume(r->m);
}

static void record_state(FakeCPU *f)
{
    cr_assert_eq(f->m->state, RUN_STATE_RUNNING, "exec only while running");
}

Test(machine, paused_machine_runs_no_cpu_until_a_host_event_resumes_it)
{
    Machine *m = new_machine(cfg_paused);
    cr_assert_eq(m->state, RUN_STATE_PAUSED);
    FakeCPU f = {.m = m, .exit_code = CPU_EXIT_BUDGET, .hook = record_state, .stop_after = 1};
    machine_set_cpu(m, &fake_ops, &f);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    ResumeOnFd r = {.m = m, .fd = p[0]};
    cr_assert_eq(machine_add_fd(m, p[0], POLLIN, resume_handler, &r), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    EventLog ev = {0};
    cr_assert_eq(machine_add_observer(m, log_event, &ev), 0);
    cr_assert_eq(machine_run(m), 99);
    cr_assert_eq(r.state_seen, RUN_STATE_PAUSED);
    cr_assert_eq(f.execs, 1);
    cr_assert_eq(ev.ev[0], MACHINE_EVENT_RESUME);
    close(p[0]);
    close(p[1]);
    machine_free(m);
}

Test(machine, pause_and_resume_report_events_once)
{
    Machine *m = new_machine(NULL);
    EventLog ev = {0};
    cr_assert_eq(machine_add_observer(m, log_event, &ev), 0);
    machine_pause(m);
    machine_pause(m);
    cr_assert_eq(m->state, RUN_STATE_PAUSED);
    machine_resume(m);
    machine_resume(m);
    cr_assert_eq(m->state, RUN_STATE_RUNNING);
    cr_assert_eq(ev.n, 2);
    cr_assert_eq(ev.ev[0], MACHINE_EVENT_STOP);
    cr_assert_eq(ev.ev[1], MACHINE_EVENT_RESUME);
    machine_remove_observer(m, log_event, &ev);
    machine_pause(m);
    cr_assert_eq(ev.n, 2, "a removed observer hears nothing");
    machine_free(m);
}

Test(machine, signal_number_in_the_wake_pipe_shuts_down)
{
    Machine *m = new_machine(NULL); /* no CPU: the loop idles in poll */
    unsigned char b = SIGTERM;
    cr_assert_eq(write(machine_signal_fd(m), &b, 1), 1);
    cr_assert_eq(machine_run(m), 0);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_HOST_SIGNAL);
    cr_assert_eq(m->last_signal, SIGTERM);
    machine_free(m);
}

Test(machine, plain_wake_does_not_shut_down)
{
    Machine *m = new_machine(cfg_icount0);
    machine_wake(m);
    TickState s = {.m = m, .period = 1000, .limit = 1};
    timer_init(&s.t, &m->clock, tick, &s);
    timer_mod(&s.t, 1000);
    cr_assert_eq(machine_run(m), 5, "the timer, not the wake byte, ended the run");
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_DEBUG_EXIT);
    machine_free(m);
}

static void noop_fd(void *opaque, int fd, short revents)
{
}

Test(machine, fd_table_rejects_duplicates_and_overflow)
{
    Machine *m = new_machine(NULL);
    int fds[MACHINE_MAX_FDS + 1][2];
    for (int i = 0; i <= MACHINE_MAX_FDS; i++) {
        cr_assert_eq(pipe(fds[i]), 0);
    }
    for (int i = 0; i < MACHINE_MAX_FDS; i++) {
        cr_assert_eq(machine_add_fd(m, fds[i][0], POLLIN, noop_fd, NULL), 0);
    }
    cr_assert_eq(machine_add_fd(m, fds[0][0], POLLIN, noop_fd, NULL), -EEXIST);
    cr_assert_eq(machine_add_fd(m, fds[MACHINE_MAX_FDS][0], POLLIN, noop_fd, NULL), -ENOSPC);
    machine_remove_fd(m, fds[3][0]);
    cr_assert_eq(machine_add_fd(m, fds[MACHINE_MAX_FDS][0], POLLIN, noop_fd, NULL), 0);
    cr_assert_eq(m->n_fds, MACHINE_MAX_FDS);
    for (int i = 0; i <= MACHINE_MAX_FDS; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
    machine_free(m);
}

/* A per-process log path, so parallel test runs do not collide. */
static void stats_path(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/anyvm-stats-%d.log", (int)getpid());
}

static void cfg_stats(MachineConfig *c)
{
    c->icount_shift = 0;
    strcpy(c->log_items, "stats");
    stats_path(c->log_file, sizeof(c->log_file));
}

Test(machine, stats_log_reports_the_instructions_run)
{
    char path[64];
    stats_path(path, sizeof(path));
    Machine *m = new_machine(cfg_stats);
    FakeCPU f = {.m = m, .exit_code = CPU_EXIT_BUDGET};
    machine_set_cpu(m, &fake_ops, &f);
    TickState s = {.m = m, .period = 10000, .limit = 3};
    timer_init(&s.t, &m->clock, tick, &s);
    timer_mod(&s.t, 10000);
    cr_assert_eq(machine_run(m), 5);
    machine_free(m); /* closes the log */
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp);
    char line[256] = "";
    cr_assert_not_null(fgets(line, sizeof(line), fp));
    fclose(fp);
    unlink(path);
    cr_assert(strstr(line, "stats: 30000 instructions in "), "%s", line);
    cr_assert(strstr(line, "virtual time 0.000 s"), "%s", line);
}
