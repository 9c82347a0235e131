/* main.c: the anyvm executable: parse the command line, build the machine, attach the host
 * character backends and monitors, run the main loop, and tear everything down. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"
#include "frontend/block.h"
#include "devices/pc/pc.h"
#include "frontend/char.h"
#include "frontend/display_cmds.h"
#include "frontend/display_sdl.h"
#include "frontend/monitor.h"
#include "frontend/net.h"
#include "frontend/options.h"
#include "frontend/qmp.h"

/* The write end of the machine's wake pipe, for the SIGINT/SIGTERM handler. This is the one
 * piece of static mutable state in anyvm: a signal handler receives no argument, so it can
 * reach the machine only through a static, and sig_atomic_t is the only type it may use. */
static volatile sig_atomic_t signal_wake_fd = -1;

static void on_signal(int sig)
{
    int fd = signal_wake_fd;
    if (fd >= 0) {
        unsigned char b = (unsigned char)sig;
        ssize_t r = write(fd, &b, 1);
        (void)r;
    }
}

static void install_signals(Machine *m)
{
    signal_wake_fd = machine_signal_fd(m);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* a vanished socket client must not kill us */
}

static void reset_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_wake_fd = -1;
}

/* Everything main opens, so teardown happens in one place. */
typedef struct Frontend {
    Machine *m;
    MonitorHub *hub;
    CharBackend *serial[MACHINE_MAX_SERIAL];
    CharBackend *mon_chr, *qmp_chr, *debugcon;
    Monitor *mon;
    QmpServer *qmp;
    PCBoard *board;
    NetFrontend *net; /* -netdev backends and pcap dumps */
    DisplayCmds *dcmds;
    SdlDisplay *sdl;
} Frontend;

static void frontend_close(Frontend *fe)
{
    sdl_display_free(fe->sdl);
    qmp_free(fe->qmp);
    monitor_free(fe->mon);
    monitor_hub_free(fe->hub);
    display_cmds_free(fe->dcmds);
    char_close(fe->qmp_chr);
    char_close(fe->mon_chr);
    char_close(fe->debugcon);
    if (fe->m) {
        fe->m->debugcon_chr = NULL;
    }
    for (int i = 0; i < MACHINE_MAX_SERIAL; i++) {
        char_close(fe->serial[i]);
        if (fe->m) {
            fe->m->serial_chr[i] = NULL;
        }
    }
    net_frontend_close(fe->net); /* before the machine: slirp's timers live on its clock */
    if (fe->m) {
        blk_close_drives(fe->m); /* flushes the images */
    }
    machine_free(fe->m);
    pc_board_free(fe->board); /* after the machine, as pc.h asks */
}

/* Open the -serial, -monitor and -qmp backends. Returns 0 or -1 with a message in err. */
static int frontend_open(Frontend *fe, char *err, size_t errlen)
{
    Machine *m = fe->m;
    const MachineConfig *cfg = &m->cfg;
    char e[256];
    if (blk_open_drives(m, err, errlen) < 0) {
        return -1;
    }
    for (int i = 0; i < cfg->n_serial; i++) {
        fe->serial[i] = char_open(m, cfg->serial[i], CHAR_OPEN_RAW_STDIO, e, sizeof(e));
        if (!fe->serial[i] && e[0]) {
            snprintf(err, errlen, "-serial %.200s: %.200s", cfg->serial[i], e);
            return -1;
        }
        m->serial_chr[i] = fe->serial[i];
    }
    if (cfg->debugcon[0]) {
        fe->debugcon = char_open(m, cfg->debugcon, 0, e, sizeof(e));
        if (!fe->debugcon && e[0]) {
            snprintf(err, errlen, "-debugcon %.200s: %.200s", cfg->debugcon, e);
            return -1;
        }
        m->debugcon_chr = fe->debugcon;
    }
    fe->hub = monitor_hub_new(m);
    if (!fe->hub) {
        snprintf(err, errlen, "cannot create the monitor");
        return -1;
    }
    if (cfg->monitor[0]) {
        fe->mon_chr = char_open(m, cfg->monitor, 0, e, sizeof(e));
        if (!fe->mon_chr && e[0]) {
            snprintf(err, errlen, "-monitor %.200s: %.200s", cfg->monitor, e);
            return -1;
        }
        if (fe->mon_chr && !(fe->mon = monitor_new(fe->hub, fe->mon_chr))) {
            snprintf(err, errlen, "-monitor %s: cannot create the monitor", cfg->monitor);
            return -1;
        }
    }
    if (cfg->qmp[0]) {
        fe->qmp_chr = char_open(m, cfg->qmp, 0, e, sizeof(e));
        if (!fe->qmp_chr && e[0]) {
            snprintf(err, errlen, "-qmp %.200s: %.200s", cfg->qmp, e);
            return -1;
        }
        if (fe->qmp_chr && !(fe->qmp = qmp_new(fe->hub, fe->qmp_chr))) {
            snprintf(err, errlen, "-qmp %s: cannot create the QMP server", cfg->qmp);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    MachineConfig *cfg = malloc(sizeof(*cfg));
    if (!cfg) {
        fprintf(stderr, "anyvm: out of memory\n");
        return 1;
    }
    char err[512];
    OptionsAction action;
    if (options_parse(argc, argv, cfg, &action, err, sizeof(err)) < 0) {
        fprintf(stderr, "anyvm: %s\n", err);
        free(cfg);
        return 1;
    }
    switch (action) {
    case OPTIONS_HELP:
        options_usage(stdout);
        free(cfg);
        return 0;
    case OPTIONS_VERSION:
        options_version(stdout);
        free(cfg);
        return 0;
    case OPTIONS_LOG_HELP:
        log_help(stdout);
        free(cfg);
        return 0;
    case OPTIONS_RUN:
        break;
    }

    Frontend fe;
    memset(&fe, 0, sizeof(fe));
    fe.m = machine_new(cfg, err, sizeof(err));
    free(cfg);
    if (!fe.m) {
        fprintf(stderr, "anyvm: %s\n", err);
        return 1;
    }
    install_signals(fe.m);
    int status = 1;
    if (frontend_open(&fe, err, sizeof(err)) < 0) {
        fprintf(stderr, "anyvm: %s\n", err);
        goto out;
    }
    /* Networking: the backends exist before the board connects its NICs to them. */
    fe.net = net_frontend_open(fe.m, err, sizeof(err));
    if (!fe.net && err[0]) {
        fprintf(stderr, "anyvm: %s\n", err);
        goto out;
    }

    /* The PC board brings the CPU, the devices and the firmware: a direct kernel boot with
     * -kernel, else the built-in BIOS (bios/) or the -bios FILE image. */
    const MachineConfig *c = &fe.m->cfg;
    fe.board = pc_board_new(fe.m, err, sizeof(err));
    if (!fe.board) {
        fprintf(stderr, "anyvm: %s\n", err);
        goto out;
    }
    /* The window (-display sdl, the default) when the board has a display; a host without
     * one (no X server) runs headless with a warning, like -display none. */
    fe.dcmds = display_cmds_new(fe.hub);
    if (fe.m->display && !c->nographic && !strcmp(c->display, "sdl")) {
        fe.sdl = sdl_display_new(fe.m, fe.m->display, fe.m->input, SDL_DISPLAY_DEFAULT_HZ, err,
                                 sizeof(err));
        if (!fe.sdl) {
            fprintf(stderr, "anyvm: warning: no window (%s); running headless\n", err);
        }
    }
    status = machine_run(fe.m);
    if (fe.sdl && log_enabled(&fe.m->log, LOG_STATS)) {
        double secs;
        unsigned long long frames = (unsigned long long)sdl_display_frames(fe.sdl, &secs);
        log_msg(&fe.m->log, LOG_STATS,
                "stats: display: %llu frames presented in %.3f s (%.1f/s)\n", frames, secs,
                secs > 0 ? (double)frames / secs : 0.0);
    }
    if (fe.m->last_signal) {
        fprintf(stderr, "anyvm: terminating on signal %d\n", fe.m->last_signal);
    }
out:
    reset_signals();
    frontend_close(&fe);
    return status;
}
