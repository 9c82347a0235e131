/* machine.c: the Machine object and its main loop (CPU slices, timers, host fds, idling).
 *
 * One iteration of machine_run:
 *   - a pending reset runs the reset handlers (CPU first) and tells observers;
 *   - running with a CPU that is not halted: exec a slice (icount mode: up to the next timer
 *     deadline; host mode: MACHINE_HOST_SLICE instructions), advance the clock's instruction
 *     count, fire due timers, poll host fds without blocking (host mode: when the slice
 *     ended early or MACHINE_POLL_NS have passed since the last poll);
 *   - otherwise (halted, paused, no CPU): block in ppoll() until the next timer deadline or a
 *     host event, so an idle guest costs no host CPU. In icount mode virtual time does not
 *     move by itself: after waiting out the gap (or at once with sleep=off) the instruction
 *     count is warped to the deadline, which keeps virtual time a function of the inputs.
 */
#define _GNU_SOURCE
#include "core/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/cpu.h"

void machine_config_defaults(MachineConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_size = 128ull << 20;
    cfg->smp = 1;
    strcpy(cfg->boot_order, "cad");
    strcpy(cfg->display, "sdl");
    cfg->icount_shift = -1;
    strcpy(cfg->accel, MACHINE_DEFAULT_ACCEL);
    cfg->debug_exit.enabled = false;
    cfg->debug_exit.iobase = 0x501;
    cfg->debug_exit.iosize = 2;
}

const char *machine_run_state_name(RunState s)
{
    switch (s) {
    case RUN_STATE_PAUSED:
        return "paused";
    case RUN_STATE_RUNNING:
        return "running";
    case RUN_STATE_SHUTDOWN:
        return "shutdown";
    }
    return "unknown";
}

/* Guest RAM: anonymous zeroed memory, 2 MiB aligned and marked for transparent huge pages
 * where the host has them: every guest access goes through a host TLB entry, and with 4 KiB
 * pages a guest's working set of a few dozen MiB misses the host TLB all the time. */
#define RAM_ALIGN (2u << 20)

static uint8_t *ram_alloc(size_t size, size_t *mapped)
{
    size_t len = size + RAM_ALIGN;
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    uint8_t *ram = (uint8_t *)(((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
    if (ram > p) {
        munmap(p, (size_t)(ram - p));
    }
    size_t tail = (size_t)(p + len - (ram + size));
    if (tail) {
        munmap(ram + size, tail);
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(ram, size, MADV_HUGEPAGE); /* a hint: without THP the pages stay small */
#endif
    *mapped = size;
    return ram;
}

Machine *machine_new(const MachineConfig *cfg, char *err, size_t errlen)
{
    Machine *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->wake_pipe[0] = m->wake_pipe[1] = -1;
    log_init(&m->log);
    if (cfg->log_items[0] && log_parse_mask(&m->log, cfg->log_items, err, errlen) < 0) {
        goto fail;
    }
    if (cfg->log_file[0]) {
        int rc = log_set_file(&m->log, cfg->log_file);
        if (rc < 0) {
            snprintf(err, errlen, "-D %s: %s", cfg->log_file, strerror(-rc));
            goto fail;
        }
    }
    if (cfg->ram_size == 0) {
        snprintf(err, errlen, "RAM size is zero");
        goto fail;
    }
    m->ram = ram_alloc(cfg->ram_size, &m->ram_mapped);
    if (!m->ram) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
                 (unsigned long long)(cfg->ram_size >> 20));
        goto fail;
    }
    if (pipe2(m->wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "wake pipe: %s", strerror(errno));
        goto fail;
    }
    memmap_init(&m->mem, &m->log);
    portmap_init(&m->io, &m->log);
    if (cfg->icount_shift >= 0) {
        clock_init(&m->clock, CLOCK_ICOUNT, cfg->icount_shift);
    } else {
        clock_init(&m->clock, CLOCK_HOST, 0);
    }
    vmstate_registry_init(&m->vmstate);
    m->state = cfg->start_paused ? RUN_STATE_PAUSED : RUN_STATE_RUNNING;
    m->shutdown_cause = SHUTDOWN_NONE;
    return m;
fail:
    machine_free(m);
    return NULL;
}

void machine_free(Machine *m)
{
    if (!m) {
        return;
    }
    if (m->cpu_ops && m->cpu_ops->free && m->cpu_opaque) {
        m->cpu_ops->free(m->cpu_opaque);
    }
    if (m->ram) {
        munmap(m->ram, m->ram_mapped);
    }
    for (int i = 0; i < 2; i++) {
        if (m->wake_pipe[i] >= 0) {
            close(m->wake_pipe[i]);
        }
    }
    log_close(&m->log);
    free(m);
}

void machine_set_cpu(Machine *m, const MachineCPUOps *ops, void *cpu)
{
    m->cpu_ops = ops;
    m->cpu_opaque = cpu;
    m->cpu_halted = false;
}

int machine_add_reset(Machine *m, MachineResetFn fn, void *opaque)
{
    if (m->n_reset >= MACHINE_MAX_RESET) {
        return -ENOSPC;
    }
    m->reset[m->n_reset].fn = fn;
    m->reset[m->n_reset].opaque = opaque;
    m->n_reset++;
    return 0;
}

int machine_add_observer(Machine *m, MachineEventFn fn, void *opaque)
{
    if (m->n_observers >= MACHINE_MAX_OBSERVERS) {
        return -ENOSPC;
    }
    m->observers[m->n_observers].fn = fn;
    m->observers[m->n_observers].opaque = opaque;
    m->n_observers++;
    return 0;
}

void machine_remove_observer(Machine *m, MachineEventFn fn, void *opaque)
{
    for (int i = 0; i < m->n_observers; i++) {
        if (m->observers[i].fn == fn && m->observers[i].opaque == opaque) {
            memmove(&m->observers[i], &m->observers[i + 1],
                    (size_t)(m->n_observers - i - 1) * sizeof(m->observers[0]));
            m->n_observers--;
            return;
        }
    }
}

static void machine_notify(Machine *m, MachineEvent ev, ShutdownCause cause)
{
    for (int i = 0; i < m->n_observers; i++) {
        m->observers[i].fn(m->observers[i].opaque, ev, cause);
    }
}

void machine_reset(Machine *m)
{
    if (m->cpu_ops && m->cpu_ops->reset && m->cpu_opaque) {
        m->cpu_ops->reset(m->cpu_opaque);
    }
    for (int i = 0; i < m->n_reset; i++) {
        m->reset[i].fn(m->reset[i].opaque);
    }
    m->cpu_halted = false;
}

void machine_wake(Machine *m)
{
    uint8_t b = MACHINE_WAKE_BYTE;
    /* A full pipe already guarantees a wake-up, so a failed write is fine. */
    ssize_t r = write(m->wake_pipe[1], &b, 1);
    (void)r;
}

int machine_signal_fd(const Machine *m)
{
    return m->wake_pipe[1];
}

void machine_request_shutdown(Machine *m, ShutdownCause why, int status)
{
    if (m->state == RUN_STATE_SHUTDOWN) {
        return; /* the first cause wins */
    }
    m->state = RUN_STATE_SHUTDOWN;
    m->shutdown_cause = why;
    m->exit_status = status;
    clock_stop(&m->clock);
    machine_notify(m, MACHINE_EVENT_SHUTDOWN, why);
    machine_wake(m);
}

void machine_request_reset(Machine *m, ShutdownCause why)
{
    if (m->cfg.no_reboot) {
        machine_request_shutdown(m, why, 0);
        return;
    }
    m->reset_requested = true;
    m->reset_cause = why;
    machine_wake(m);
}

void machine_pause(Machine *m)
{
    if (m->state != RUN_STATE_RUNNING) {
        return;
    }
    m->state = RUN_STATE_PAUSED;
    clock_stop(&m->clock);
    machine_notify(m, MACHINE_EVENT_STOP, SHUTDOWN_NONE);
    machine_wake(m);
}

void machine_resume(Machine *m)
{
    if (m->state != RUN_STATE_PAUSED) {
        return;
    }
    m->state = RUN_STATE_RUNNING;
    clock_start(&m->clock);
    machine_notify(m, MACHINE_EVENT_RESUME, SHUTDOWN_NONE);
    machine_wake(m);
}

int machine_add_fd(Machine *m, int fd, short events, FdHandler fn, void *opaque)
{
    if (fd < 0 || !fn) {
        return -EINVAL;
    }
    for (int i = 0; i < m->n_fds; i++) {
        if (m->fds[i].fd == fd) {
            return -EEXIST;
        }
    }
    if (m->n_fds >= MACHINE_MAX_FDS) {
        return -ENOSPC;
    }
    m->fds[m->n_fds].fd = fd;
    m->fds[m->n_fds].events = events;
    m->fds[m->n_fds].fn = fn;
    m->fds[m->n_fds].opaque = opaque;
    m->n_fds++;
    return 0;
}

void machine_remove_fd(Machine *m, int fd)
{
    for (int i = 0; i < m->n_fds; i++) {
        if (m->fds[i].fd == fd) {
            memmove(&m->fds[i], &m->fds[i + 1], (size_t)(m->n_fds - i - 1) * sizeof(m->fds[0]));
            m->n_fds--;
            return;
        }
    }
}

void machine_set_fd_events(Machine *m, int fd, short events)
{
    for (int i = 0; i < m->n_fds; i++) {
        if (m->fds[i].fd == fd) {
            m->fds[i].events = events;
            return;
        }
    }
}

/* Drain the wake pipe; a non-zero byte is a host signal number. */
static void machine_drain_wake(Machine *m)
{
    uint8_t buf[64];
    ssize_t n;
    while ((n = read(m->wake_pipe[0], buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != MACHINE_WAKE_BYTE) {
                m->last_signal = buf[i];
                machine_request_shutdown(m, SHUTDOWN_HOST_SIGNAL, 0);
            }
        }
    }
}

/* Wait up to timeout_ns (< 0: forever) and dispatch. Returns how many host fds had events
 * (the wake pipe not counted) or 0 on timeout/EINTR. */
static int machine_poll_count(Machine *m, int64_t timeout_ns)
{
    struct pollfd pfd[MACHINE_MAX_FDS + 1];
    int n = 0;
    pfd[n].fd = m->wake_pipe[0];
    pfd[n].events = POLLIN;
    pfd[n].revents = 0;
    n++;
    for (int i = 0; i < m->n_fds; i++) {
        /* An fd with no wanted events is left out: POLLHUP would otherwise spin the loop. */
        pfd[n].fd = m->fds[i].events ? m->fds[i].fd : -1;
        pfd[n].events = m->fds[i].events;
        pfd[n].revents = 0;
        n++;
    }
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    m->n_polls++;
    int r = ppoll(pfd, (nfds_t)n, tsp, NULL);
    if (r <= 0) {
        return 0;
    }
    int dispatched = 0;
    if (pfd[0].revents) {
        machine_drain_wake(m);
    }
    for (int i = 1; i < n; i++) {
        if (!pfd[i].revents || pfd[i].fd < 0) {
            continue;
        }
        /* Look the fd up again: an earlier handler may have removed or replaced it. */
        for (int k = 0; k < m->n_fds; k++) {
            if (m->fds[k].fd == pfd[i].fd) {
                m->fds[k].fn(m->fds[k].opaque, pfd[i].fd, pfd[i].revents);
                dispatched++;
                break;
            }
        }
    }
    return dispatched;
}

void machine_poll(Machine *m, int64_t timeout_ns)
{
    (void)machine_poll_count(m, timeout_ns);
}

/* One slice of guest execution. */
static void machine_exec_slice(Machine *m)
{
    int64_t budget = m->clock.mode == CLOCK_ICOUNT
                         ? clock_icount_budget(&m->clock, MACHINE_ICOUNT_SLICE)
                         : MACHINE_HOST_SLICE;
    if (budget < 1) {
        budget = 1;
    }
    m->n_slices++;
    uint64_t before = m->cpu_ops->icount ? m->cpu_ops->icount(m->cpu_opaque) : 0;
    int ex = m->cpu_ops->exec(m->cpu_opaque, budget);
    uint64_t ran;
    if (m->cpu_ops->icount) {
        ran = m->cpu_ops->icount(m->cpu_opaque) - before;
    } else {
        ran = ex == CPU_EXIT_BUDGET ? (uint64_t)budget : 0;
    }
    clock_advance_icount(&m->clock, ran);
    switch (ex) {
    case CPU_EXIT_HALT:
        m->cpu_halted = true;
        break;
    case CPU_EXIT_SHUTDOWN:
        if (!m->reset_requested) {
            machine_request_reset(m, SHUTDOWN_TRIPLE_FAULT);
        }
        break;
    case CPU_EXIT_DEBUG:
        machine_pause(m);
        break;
    default:
        break;
    }
    int fired = clock_run_timers(&m->clock);
    int events = 0;
    int64_t now = m->clock.mode == CLOCK_HOST ? clock_now(&m->clock) : 0;
    if (m->clock.mode != CLOCK_HOST || ex != CPU_EXIT_BUDGET ||
        now - m->last_poll_ns >= MACHINE_POLL_NS || now < m->last_poll_ns) {
        events = machine_poll_count(m, 0);
        m->last_poll_ns = now;
    }
    if (fired > 0 || events > 0) {
        m->cpu_halted = false; /* a timer or host event may have raised an interrupt */
    }
}

/* Nothing to execute: wait for the next deadline or a host event. */
static void machine_idle(Machine *m)
{
    if (m->state != RUN_STATE_RUNNING) {
        (void)machine_poll_count(m, -1);
        return;
    }
    int fired = clock_run_timers(&m->clock);
    if (fired > 0 && m->cpu_ops && m->cpu_halted) {
        m->cpu_halted = false;
        return;
    }
    int64_t deadline = clock_next_deadline(&m->clock);
    int64_t gap = -1;
    if (deadline != CLOCK_NEVER) {
        gap = deadline - clock_now(&m->clock);
        if (gap < 0) {
            gap = 0;
        }
    }
    int64_t wait = gap;
    if (m->clock.mode == CLOCK_ICOUNT && m->cfg.icount_nosleep && gap >= 0) {
        wait = 0;
    }
    int events = machine_poll_count(m, wait);
    if (m->state != RUN_STATE_RUNNING || m->reset_requested) {
        return;
    }
    if (m->clock.mode == CLOCK_ICOUNT && gap > 0 && events == 0) {
        /* Warp: the idle CPU "executes" up to the deadline. */
        int64_t ns_per = (int64_t)1 << m->clock.icount_shift;
        int64_t now_gap = deadline - clock_now(&m->clock);
        if (now_gap > 0) {
            clock_advance_icount(&m->clock, (uint64_t)((now_gap + ns_per - 1) / ns_per));
        }
    }
    fired = clock_run_timers(&m->clock);
    if (fired > 0 || events > 0) {
        m->cpu_halted = false;
    }
}

/* -d stats: what the run executed and how fast. */
static void machine_log_stats(Machine *m, int64_t host_ns, uint64_t insns)
{
    double secs = (double)host_ns / 1e9;
    log_msg(&m->log, LOG_STATS,
            "stats: %llu instructions in %.3f s host time (%.2f MIPS), virtual time %.3f s\n",
            (unsigned long long)insns, secs, secs > 0 ? (double)insns / secs / 1e6 : 0.0,
            (double)clock_now(&m->clock) / 1e9);
    const Clock *c = &m->clock;
    log_msg(&m->log, LOG_STATS,
            "stats: %llu CPU slices, %llu host polls; %llu timers fired, %.1f us late on "
            "average, %.1f us at most\n",
            (unsigned long long)m->n_slices, (unsigned long long)m->n_polls,
            (unsigned long long)c->fired,
            c->fired ? (double)c->late_total_ns / (double)c->fired / 1e3 : 0.0,
            (double)c->late_max_ns / 1e3);
}

int machine_run(Machine *m)
{
    int64_t t0 = host_monotonic_ns(NULL);
    uint64_t icount0 = m->clock.icount;
    if (m->state == RUN_STATE_RUNNING) {
        clock_start(&m->clock);
    }
    while (m->state != RUN_STATE_SHUTDOWN) {
        if (m->reset_requested) {
            ShutdownCause why = m->reset_cause;
            m->reset_requested = false;
            machine_reset(m);
            machine_notify(m, MACHINE_EVENT_RESET, why);
            continue;
        }
        if (m->state == RUN_STATE_RUNNING && m->cpu_ops && m->cpu_ops->exec && !m->cpu_halted) {
            machine_exec_slice(m);
        } else {
            machine_idle(m);
        }
    }
    clock_stop(&m->clock);
    if (log_enabled(&m->log, LOG_STATS)) {
        machine_log_stats(m, host_monotonic_ns(NULL) - t0, m->clock.icount - icount0);
    }
    return m->exit_status;
}
