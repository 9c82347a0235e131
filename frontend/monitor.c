/* monitor.c: the monitor command tables (MonitorHub), the built-in commands, machine event
 * fan-out to QMP sessions, and the line-oriented human monitor. */
#include "frontend/monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "frontend/char.h"
#include "frontend/qmp.h"

#ifndef ANYVM_VERSION
#define ANYVM_VERSION "0.0.0"
#endif

#define MONITOR_LINE_MAX 1024
#define MONITOR_PROMPT "(anyvm) "

struct Monitor {
    MonitorHub *hub;
    CharBackend *chr;
    char line[MONITOR_LINE_MAX];
    size_t len;
    bool overlong; /* the current line exceeded MONITOR_LINE_MAX: discard it */
    bool last_cr;  /* swallow the \n of a \r\n */
    char *capture; /* human-monitor-command: output collected here instead */
    size_t capture_len;
    bool capture_oom;
};

#define MONITOR_CAPTURE_MAX (64 * 1024)

/* ---- causes ---- */

const char *monitor_cause_name(ShutdownCause cause)
{
    switch (cause) {
    case SHUTDOWN_NONE:
        return "none";
    case SHUTDOWN_HOST_QUIT:
        return "host-qmp-quit";
    case SHUTDOWN_GUEST_POWEROFF:
    case SHUTDOWN_DEBUG_EXIT:
        return "guest-shutdown";
    case SHUTDOWN_GUEST_RESET:
    case SHUTDOWN_TRIPLE_FAULT:
        return "guest-reset";
    case SHUTDOWN_FATAL:
        return "host-error";
    case SHUTDOWN_HOST_RESET:
        return "host-qmp-system-reset";
    case SHUTDOWN_HOST_SIGNAL:
        return "host-signal";
    }
    return "none";
}

bool monitor_cause_is_guest(ShutdownCause cause)
{
    return cause == SHUTDOWN_GUEST_POWEROFF || cause == SHUTDOWN_GUEST_RESET ||
           cause == SHUTDOWN_TRIPLE_FAULT || cause == SHUTDOWN_DEBUG_EXIT;
}

/* ---- tables ---- */

static int table_add(MonitorCmd *tab, int *n, const char *name, const char *args_help,
                     const char *help, MonitorCmdFn fn, void *opaque)
{
    if (!name || !fn || strlen(name) >= sizeof(tab[0].name) || !*name) {
        return -EINVAL;
    }
    for (int i = 0; i < *n; i++) {
        if (!strcmp(tab[i].name, name)) {
            return -EEXIST;
        }
    }
    if (*n >= MONITOR_MAX_CMDS) {
        return -ENOSPC;
    }
    MonitorCmd *c = &tab[(*n)++];
    memset(c, 0, sizeof(*c));
    strcpy(c->name, name);
    snprintf(c->args_help, sizeof(c->args_help), "%s", args_help ? args_help : "");
    snprintf(c->help, sizeof(c->help), "%s", help ? help : "");
    c->fn = fn;
    c->opaque = opaque;
    return 0;
}

int monitor_register(MonitorHub *hub, const char *name, const char *args_help, const char *help,
                     MonitorCmdFn fn, void *opaque)
{
    return table_add(hub->cmds, &hub->n_cmds, name, args_help, help, fn, opaque);
}

int monitor_register_info(MonitorHub *hub, const char *name, const char *help, MonitorCmdFn fn,
                          void *opaque)
{
    return table_add(hub->infos, &hub->n_infos, name, "", help, fn, opaque);
}

int qmp_register(MonitorHub *hub, const char *name, QmpCmdFn fn, void *opaque)
{
    if (!name || !fn || !*name || strlen(name) >= sizeof(hub->qmp[0].name)) {
        return -EINVAL;
    }
    for (int i = 0; i < hub->n_qmp; i++) {
        if (!strcmp(hub->qmp[i].name, name)) {
            return -EEXIST;
        }
    }
    if (hub->n_qmp >= MONITOR_MAX_CMDS) {
        return -ENOSPC;
    }
    QmpCmd *c = &hub->qmp[hub->n_qmp++];
    strcpy(c->name, name);
    c->fn = fn;
    c->opaque = opaque;
    return 0;
}

/* ---- human built-ins ---- */

static void hmp_help(Monitor *mon, const char *args, void *opaque)
{
    MonitorHub *hub = mon->hub;
    for (int i = 0; i < hub->n_cmds; i++) {
        const MonitorCmd *c = &hub->cmds[i];
        if (*args && strcmp(args, c->name)) {
            continue;
        }
        monitor_printf(mon, "%s%s%s -- %s\n", c->name, c->args_help[0] ? " " : "", c->args_help,
                       c->help);
    }
}

static void hmp_info(Monitor *mon, const char *args, void *opaque)
{
    MonitorHub *hub = mon->hub;
    char name[64];
    size_t n = strcspn(args, " \t");
    if (n == 0) {
        for (int i = 0; i < hub->n_infos; i++) {
            monitor_printf(mon, "info %s -- %s\n", hub->infos[i].name, hub->infos[i].help);
        }
        return;
    }
    if (n >= sizeof(name)) {
        n = sizeof(name) - 1;
    }
    memcpy(name, args, n);
    name[n] = '\0';
    const char *rest = args + strcspn(args, " \t");
    rest += strspn(rest, " \t");
    for (int i = 0; i < hub->n_infos; i++) {
        if (!strcmp(hub->infos[i].name, name)) {
            hub->infos[i].fn(mon, rest, hub->infos[i].opaque);
            return;
        }
    }
    monitor_printf(mon, "info: unknown item '%s' (try 'info')\n", name);
}

static void hmp_info_status(Monitor *mon, const char *args, void *opaque)
{
    monitor_printf(mon, "VM status: %s\n", machine_run_state_name(monitor_machine(mon)->state));
}

static void hmp_info_registers(Monitor *mon, const char *args, void *opaque)
{
    Machine *m = monitor_machine(mon);
    if (!m->cpu) {
        monitor_printf(mon, "no CPU\n");
        return;
    }
    char state[1024];
    cpu_format_state(m->cpu, state, sizeof(state));
    monitor_printf(mon, "%s", state);
}

static void hmp_stop(Monitor *mon, const char *args, void *opaque)
{
    machine_pause(monitor_machine(mon));
}

static void hmp_cont(Monitor *mon, const char *args, void *opaque)
{
    machine_resume(monitor_machine(mon));
}

static void hmp_system_reset(Monitor *mon, const char *args, void *opaque)
{
    machine_request_reset(monitor_machine(mon), SHUTDOWN_HOST_RESET);
}

static void hmp_quit(Monitor *mon, const char *args, void *opaque)
{
    machine_request_shutdown(monitor_machine(mon), SHUTDOWN_HOST_QUIT, 0);
}

/* ---- QMP built-ins ---- */

static bool qmp_no_args(const JsonValue *args, char *err, size_t errlen)
{
    if (args && args->type == JSON_OBJECT && args->n > 0) {
        snprintf(err, errlen, "Parameter '%s' is unexpected", args->keys[0]);
        return false;
    }
    return true;
}

static QmpErrorClass qmp_query_status(MonitorHub *hub, const JsonValue *args, JsonValue **ret,
                                      char *err, size_t errlen, void *opaque)
{
    if (!qmp_no_args(args, err, errlen)) {
        return QMP_ERR_GENERIC;
    }
    JsonValue *o = json_object();
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return QMP_ERR_GENERIC;
    }
    json_object_set(o, "status", json_string(machine_run_state_name(hub->m->state)));
    json_object_set(o, "singlestep", json_bool(false));
    json_object_set(o, "running", json_bool(hub->m->state == RUN_STATE_RUNNING));
    *ret = o;
    return QMP_OK;
}

static QmpErrorClass qmp_stop(MonitorHub *hub, const JsonValue *args, JsonValue **ret, char *err,
                              size_t errlen, void *opaque)
{
    if (!qmp_no_args(args, err, errlen)) {
        return QMP_ERR_GENERIC;
    }
    machine_pause(hub->m);
    return QMP_OK;
}

static QmpErrorClass qmp_cont(MonitorHub *hub, const JsonValue *args, JsonValue **ret, char *err,
                              size_t errlen, void *opaque)
{
    if (!qmp_no_args(args, err, errlen)) {
        return QMP_ERR_GENERIC;
    }
    machine_resume(hub->m);
    return QMP_OK;
}

static QmpErrorClass qmp_system_reset(MonitorHub *hub, const JsonValue *args, JsonValue **ret,
                                      char *err, size_t errlen, void *opaque)
{
    if (!qmp_no_args(args, err, errlen)) {
        return QMP_ERR_GENERIC;
    }
    machine_request_reset(hub->m, SHUTDOWN_HOST_RESET);
    return QMP_OK;
}

static QmpErrorClass qmp_quit(MonitorHub *hub, const JsonValue *args, JsonValue **ret, char *err,
                              size_t errlen, void *opaque)
{
    if (!qmp_no_args(args, err, errlen)) {
        return QMP_ERR_GENERIC;
    }
    machine_request_shutdown(hub->m, SHUTDOWN_HOST_QUIT, 0);
    return QMP_OK;
}

static QmpErrorClass qmp_query_commands(MonitorHub *hub, const JsonValue *args, JsonValue **ret,
                                        char *err, size_t errlen, void *opaque)
{
    if (!qmp_no_args(args, err, errlen)) {
        return QMP_ERR_GENERIC;
    }
    JsonValue *a = json_array();
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return QMP_ERR_GENERIC;
    }
    JsonValue *caps = json_object();
    if (caps && json_object_set(caps, "name", json_string("qmp_capabilities")) == 0) {
        json_array_append(a, caps);
    } else {
        json_free(caps);
    }
    for (int i = 0; i < hub->n_qmp; i++) {
        JsonValue *o = json_object();
        if (o && json_object_set(o, "name", json_string(hub->qmp[i].name)) == 0) {
            json_array_append(a, o);
        } else {
            json_free(o);
        }
    }
    *ret = a;
    return QMP_OK;
}

static QmpErrorClass qmp_query_version(MonitorHub *hub, const JsonValue *args, JsonValue **ret,
                                       char *err, size_t errlen, void *opaque)
{
    if (!qmp_no_args(args, err, errlen)) {
        return QMP_ERR_GENERIC;
    }
    int major = 0, minor = 0, micro = 0;
    if (sscanf(ANYVM_VERSION, "%d.%d.%d", &major, &minor, &micro) < 1) {
        major = minor = micro = 0;
    }
    JsonValue *v = json_object(), *q = json_object();
    if (!v || !q) {
        json_free(v);
        json_free(q);
        snprintf(err, errlen, "out of memory");
        return QMP_ERR_GENERIC;
    }
    json_object_set(q, "micro", json_int(micro));
    json_object_set(q, "minor", json_int(minor));
    json_object_set(q, "major", json_int(major));
    json_object_set(v, "qemu", q);
    json_object_set(v, "package", json_string("anyvm " ANYVM_VERSION));
    *ret = v;
    return QMP_OK;
}

/* human-monitor-command: run a human monitor line and return its output as a string. */
static QmpErrorClass qmp_hmp(MonitorHub *hub, const JsonValue *args, JsonValue **ret, char *err,
                             size_t errlen, void *opaque)
{
    const JsonValue *cl = json_object_get(args, "command-line");
    for (size_t i = 0; i < args->n; i++) {
        if (strcmp(args->keys[i], "command-line") && strcmp(args->keys[i], "cpu-index")) {
            snprintf(err, errlen, "Parameter '%.64s' is unexpected", args->keys[i]);
            return QMP_ERR_GENERIC;
        }
    }
    if (!cl || cl->type != JSON_STRING) {
        snprintf(err, errlen, "Parameter 'command-line' is missing or not a string");
        return QMP_ERR_GENERIC;
    }
    if (strlen(cl->str) != cl->len || cl->len >= MONITOR_LINE_MAX) {
        snprintf(err, errlen, "Parameter 'command-line' is too long or contains NUL");
        return QMP_ERR_GENERIC;
    }
    Monitor tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.hub = hub;
    tmp.capture = calloc(1, 1);
    if (!tmp.capture) {
        snprintf(err, errlen, "out of memory");
        return QMP_ERR_GENERIC;
    }
    monitor_handle_line(&tmp, cl->str);
    *ret = json_string(tmp.capture);
    free(tmp.capture);
    if (!*ret) {
        snprintf(err, errlen, "out of memory");
        return QMP_ERR_GENERIC;
    }
    return QMP_OK;
}

/* ---- machine events -> QMP ---- */

typedef struct CauseData {
    ShutdownCause cause;
} CauseData;

static JsonValue *build_cause(void *opaque)
{
    const CauseData *cd = opaque;
    JsonValue *d = json_object();
    if (d) {
        json_object_set(d, "guest", json_bool(monitor_cause_is_guest(cd->cause)));
        json_object_set(d, "reason", json_string(monitor_cause_name(cd->cause)));
    }
    return d;
}

static void hub_on_event(void *opaque, MachineEvent ev, ShutdownCause cause)
{
    MonitorHub *hub = opaque;
    CauseData cd = {cause};
    switch (ev) {
    case MACHINE_EVENT_STOP:
        qmp_broadcast_event(hub, "STOP", NULL, NULL);
        break;
    case MACHINE_EVENT_RESUME:
        qmp_broadcast_event(hub, "RESUME", NULL, NULL);
        break;
    case MACHINE_EVENT_RESET:
        qmp_broadcast_event(hub, "RESET", build_cause, &cd);
        break;
    case MACHINE_EVENT_SHUTDOWN:
        qmp_broadcast_event(hub, "SHUTDOWN", build_cause, &cd);
        break;
    }
}

MonitorHub *monitor_hub_new(Machine *m)
{
    MonitorHub *hub = calloc(1, sizeof(*hub));
    if (!hub) {
        return NULL;
    }
    hub->m = m;
    int rc = 0;
    rc |= monitor_register(hub, "help", "[cmd]", "show the commands, or one command", hmp_help,
                           NULL);
    rc |= monitor_register(hub, "info", "[item]",
                           "show machine information (info alone lists "
                           "the items)",
                           hmp_info, NULL);
    rc |= monitor_register(hub, "stop", "", "pause the guest", hmp_stop, NULL);
    rc |= monitor_register(hub, "cont", "", "resume the guest", hmp_cont, NULL);
    rc |= monitor_register(hub, "c", "", "resume the guest (short for cont)", hmp_cont, NULL);
    rc |= monitor_register(hub, "system_reset", "", "reset the machine", hmp_system_reset, NULL);
    rc |= monitor_register(hub, "quit", "", "quit anyvm", hmp_quit, NULL);
    rc |= monitor_register(hub, "q", "", "quit anyvm (short for quit)", hmp_quit, NULL);
    rc |= monitor_register_info(hub, "status", "whether the guest runs or is paused",
                                hmp_info_status, NULL);
    rc |= monitor_register_info(hub, "registers", "the CPU's registers",
                                hmp_info_registers, NULL);
    rc |= qmp_register(hub, "query-status", qmp_query_status, NULL);
    rc |= qmp_register(hub, "stop", qmp_stop, NULL);
    rc |= qmp_register(hub, "cont", qmp_cont, NULL);
    rc |= qmp_register(hub, "system_reset", qmp_system_reset, NULL);
    rc |= qmp_register(hub, "quit", qmp_quit, NULL);
    rc |= qmp_register(hub, "query-commands", qmp_query_commands, NULL);
    rc |= qmp_register(hub, "query-version", qmp_query_version, NULL);
    rc |= qmp_register(hub, "human-monitor-command", qmp_hmp, NULL);
    if (rc != 0 || machine_add_observer(m, hub_on_event, hub) < 0) {
        free(hub);
        return NULL;
    }
    return hub;
}

void monitor_hub_free(MonitorHub *hub)
{
    if (!hub) {
        return;
    }
    machine_remove_observer(hub->m, hub_on_event, hub);
    free(hub);
}

/* ---- human monitor sessions ---- */

MonitorHub *monitor_hub(Monitor *mon)
{
    return mon->hub;
}

Machine *monitor_machine(Monitor *mon)
{
    return mon->hub->m;
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    if (mon->capture || mon->capture_oom) {
        if (mon->capture_oom || mon->capture_len + len > MONITOR_CAPTURE_MAX) {
            return; /* output beyond the cap is cut off */
        }
        char *p = realloc(mon->capture, mon->capture_len + len + 1);
        if (!p) {
            mon->capture_oom = true;
            return;
        }
        memcpy(p + mon->capture_len, buf, len);
        mon->capture = p;
        mon->capture_len += len;
        p[mon->capture_len] = '\0';
        return;
    }
    chr_write(mon->chr, (const uint8_t *)buf, len);
}

void monitor_handle_line(Monitor *mon, const char *line)
{
    line += strspn(line, " \t");
    size_t n = strcspn(line, " \t");
    if (n == 0) {
        return;
    }
    char name[64];
    if (n >= sizeof(name)) {
        monitor_printf(mon, "unknown command: '%.*s...'\n", 20, line);
        return;
    }
    memcpy(name, line, n);
    name[n] = '\0';
    char args[MONITOR_LINE_MAX];
    const char *a = line + n;
    a += strspn(a, " \t");
    snprintf(args, sizeof(args), "%s", a);
    size_t al = strlen(args);
    while (al && (args[al - 1] == ' ' || args[al - 1] == '\t')) {
        args[--al] = '\0';
    }
    MonitorHub *hub = mon->hub;
    for (int i = 0; i < hub->n_cmds; i++) {
        if (!strcmp(hub->cmds[i].name, name)) {
            hub->cmds[i].fn(mon, args, hub->cmds[i].opaque);
            return;
        }
    }
    monitor_printf(mon, "unknown command: '%s' (try 'help')\n", name);
}

static int mon_can_receive(void *opaque)
{
    return MONITOR_LINE_MAX;
}

static void mon_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Monitor *mon = opaque;
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (c == '\n' && mon->last_cr) {
            mon->last_cr = false;
            continue;
        }
        mon->last_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            if (mon->overlong) {
                monitor_printf(mon, "line too long (at most %d characters)\n",
                               MONITOR_LINE_MAX - 1);
            } else {
                mon->line[mon->len] = '\0';
                monitor_handle_line(mon, mon->line);
            }
            mon->len = 0;
            mon->overlong = false;
            if (monitor_machine(mon)->state != RUN_STATE_SHUTDOWN) {
                monitor_printf(mon, "%s", MONITOR_PROMPT);
            }
            continue;
        }
        if (mon->len + 1 >= MONITOR_LINE_MAX) {
            mon->overlong = true;
            continue;
        }
        mon->line[mon->len++] = c;
    }
}

static void mon_greet(Monitor *mon)
{
    monitor_printf(mon, "anyvm %s monitor - type 'help' for more information\n%s", ANYVM_VERSION,
                   MONITOR_PROMPT);
}

static void mon_event(void *opaque, int event)
{
    Monitor *mon = opaque;
    mon->len = 0;
    mon->overlong = false;
    mon->last_cr = false;
    if (event == CHR_EVENT_OPENED) {
        mon_greet(mon);
    }
}

Monitor *monitor_new(MonitorHub *hub, CharBackend *chr)
{
    Monitor *mon = calloc(1, sizeof(*mon));
    if (!mon) {
        return NULL;
    }
    mon->hub = hub;
    mon->chr = chr;
    CharFrontend fe = {
        .can_receive = mon_can_receive,
        .receive = mon_receive,
        .opaque = mon,
        .event = mon_event,
    };
    chr_set_frontend(chr, &fe);
    if (chr && char_is_connected(chr)) {
        mon_greet(mon); /* stdio, or a client that connected while char_open waited */
    }
    return mon;
}

void monitor_free(Monitor *mon)
{
    if (!mon) {
        return;
    }
    if (mon->chr) {
        CharFrontend none = {0};
        chr_set_frontend(mon->chr, &none);
    }
    free(mon);
}
