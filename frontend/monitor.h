/* monitor.h: the monitor command tables (human and QMP) shared by every monitor session of a
 * machine, and the human monitor that runs on a character backend. */
#ifndef ANYVM_FRONTEND_MONITOR_H
#define ANYVM_FRONTEND_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/chardev.h"
#include "core/machine.h"
#include "frontend/json.h"

typedef struct Monitor Monitor;
typedef struct MonitorHub MonitorHub;
typedef struct QmpServer QmpServer;

/* MonitorCmdFn: a human monitor command. args is the rest of the line with surrounding blanks
 * removed ("" when none). Output goes through monitor_printf(). */
typedef void (*MonitorCmdFn)(Monitor *mon, const char *args, void *opaque);

/* QMP error classes, as QMP names them. */
typedef enum QmpErrorClass {
    QMP_OK = 0,
    QMP_ERR_GENERIC,           /* "GenericError" */
    QMP_ERR_COMMAND_NOT_FOUND, /* "CommandNotFound" */
} QmpErrorClass;

/* QmpCmdFn: a QMP command. args is the "arguments" object (an empty object when the client
 * gave none). On success return QMP_OK and optionally set *ret to a new value (ownership passes
 * to the caller; NULL means {}). On failure return an error class and write the description
 * into err. */
typedef QmpErrorClass (*QmpCmdFn)(MonitorHub *hub, const JsonValue *args, JsonValue **ret,
                                  char *err, size_t errlen, void *opaque);

#define MONITOR_MAX_CMDS 64
#define MONITOR_MAX_QMP 4

typedef struct MonitorCmd {
    char name[32];
    char args_help[64];
    char help[128];
    MonitorCmdFn fn;
    void *opaque;
} MonitorCmd;

typedef struct QmpCmd {
    char name[48];
    QmpCmdFn fn;
    void *opaque;
} QmpCmd;

/* MonitorHub: one per machine. Holds the command tables that later subsystems extend and the
 * list of live QMP sessions that hear machine events. */
struct MonitorHub {
    Machine *m;
    MonitorCmd cmds[MONITOR_MAX_CMDS];
    int n_cmds;
    MonitorCmd infos[MONITOR_MAX_CMDS]; /* "info NAME" subcommands */
    int n_infos;
    QmpCmd qmp[MONITOR_MAX_CMDS];
    int n_qmp;
    QmpServer *sessions[MONITOR_MAX_QMP];
    int n_sessions;
};

/* monitor_hub_new: a hub with the built-in commands (help, info status, stop, cont,
 * system_reset, quit; QMP query-status, stop, cont, system_reset, quit, query-commands,
 * query-version, human-monitor-command, which runs any human command and returns its output,
 * so commands registered with monitor_register are reachable over QMP too). It observes m's
 * events until monitor_hub_free(). NULL on failure. */
MonitorHub *monitor_hub_new(Machine *m);

/* monitor_hub_free: free the hub (free its sessions first). NULL is fine. */
void monitor_hub_free(MonitorHub *hub);

/* monitor_register / monitor_register_info: add a human command or an "info" subcommand.
 * Returns 0, -EEXIST (name taken), -ENOSPC or -EINVAL (name too long). */
int monitor_register(MonitorHub *hub, const char *name, const char *args_help, const char *help,
                     MonitorCmdFn fn, void *opaque) __attribute__((warn_unused_result));
int monitor_register_info(MonitorHub *hub, const char *name, const char *help, MonitorCmdFn fn,
                          void *opaque) __attribute__((warn_unused_result));

/* qmp_register: add a QMP command (see QmpCmdFn). Same returns as monitor_register. */
int qmp_register(MonitorHub *hub, const char *name, QmpCmdFn fn, void *opaque)
    __attribute__((warn_unused_result));

/* monitor_new: a human monitor session on chr, a backend from char_open() (it becomes chr's
 * frontend). The banner and prompt go out when a client connects (at once for stdio). Caller
 * frees with monitor_free() before closing chr. */
Monitor *monitor_new(MonitorHub *hub, CharBackend *chr);
void monitor_free(Monitor *mon);

/* monitor_printf: output to the session's client. */
void monitor_printf(Monitor *mon, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* monitor_hub / monitor_machine: what a command handler reaches. */
MonitorHub *monitor_hub(Monitor *mon);
Machine *monitor_machine(Monitor *mon);

/* monitor_handle_line: run one command line as if typed (used by the input path; tests). */
void monitor_handle_line(Monitor *mon, const char *line);

/* monitor_cause_name: the QMP "reason" string of a shutdown/reset cause. */
const char *monitor_cause_name(ShutdownCause cause);

/* monitor_cause_is_guest: whether the guest caused it (QMP's "guest" member). */
bool monitor_cause_is_guest(ShutdownCause cause);

#endif
