/* machine.h: Machine (everything one emulated PC owns) and MachineConfig (what the user asked
 * for). There is no global mutable state: every subsystem hangs off a Machine. */
#ifndef ANYVM_CORE_MACHINE_H
#define ANYVM_CORE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/display.h"
#include "core/ioport.h"
#include "core/irq.h"
#include "core/log.h"
#include "core/memmap.h"
#include "core/vmstate.h"

#define MACHINE_MAX_DRIVES 8
#define MACHINE_MAX_SERIAL 4
#define MACHINE_MAX_DEVICES 16

typedef enum DriveIf { DRIVE_IF_IDE, DRIVE_IF_FLOPPY, DRIVE_IF_NONE } DriveIf;
typedef enum DriveMedia { DRIVE_MEDIA_DISK, DRIVE_MEDIA_CDROM } DriveMedia;

typedef struct DriveConfig {
    char file[512];
    char format[16];    /* "raw", "qcow2" or "" (probe) */
    DriveIf iface;
    DriveMedia media;
    int index;          /* IDE 0..3 (hda..hdd), floppy 0..1; -1 = next free */
    bool readonly;
    bool snapshot;
} DriveConfig;

typedef struct DebugExitConfig {
    bool enabled;
    uint16_t iobase;    /* QEMU's isa-debug-exit: default 0x501 */
    uint16_t iosize;    /* default 2 */
} DebugExitConfig;

/* Networking (-netdev, -nic, -device NIC, -object filter-dump). */
#define MACHINE_MAX_NICS 4
#define MACHINE_MAX_NETDEVS 4

typedef struct NetdevConfig {
    char id[32];
    char spec[1024];            /* the whole -netdev value, e.g. "user,id=n0,restrict=on" */
} NetdevConfig;

typedef struct NicConfig {
    char model[16];             /* "e1000" or "ne2k_pci" */
    char netdev[32];            /* id of the backend, "" = not connected */
    uint8_t mac[6];
    bool has_mac;               /* else 52:54:00:12:34:56 + NIC index */
} NicConfig;

typedef struct NetDumpConfig {
    char netdev[32];
    char file[512];
    uint32_t maxlen;            /* bytes kept per frame (pcap snaplen) */
} NetDumpConfig;

/* The execution engine without -accel: the JIT on x86-64 hosts (the only ones it generates
 * code for), the interpreter elsewhere. */
#if defined(__x86_64__)
#define MACHINE_DEFAULT_ACCEL "jit"
#else
#define MACHINE_DEFAULT_ACCEL "interp"
#endif

typedef struct MachineConfig {
    uint64_t ram_size;          /* bytes (-m, default 128 MiB) */
    int smp;                    /* only 1 is supported */
    char bios[512];             /* -bios FILE, empty = built-in */
    char kernel[512];           /* -kernel */
    char initrd[512];           /* -initrd */
    char append[4096];          /* -append */
    DriveConfig drives[MACHINE_MAX_DRIVES];
    int n_drives;
    char boot_order[8];         /* -boot order=, e.g. "cda"; default "cad" */
    char serial[MACHINE_MAX_SERIAL][256]; /* -serial specs, "" = none */
    int n_serial;
    char display[32];           /* "sdl", "none" */
    bool nographic;
    char monitor[256];          /* -monitor spec, "" = none */
    char debugcon[256];         /* -debugcon spec for port 0xE9, "" = none */
    char qmp[256];              /* -qmp spec */
    char log_items[256];        /* -d */
    char log_file[512];         /* -D */
    int icount_shift;           /* -icount shift=N; -1 = host clock */
    bool icount_nosleep;        /* -icount ...,sleep=off: skip idle time instead of waiting */
    bool no_reboot;
    bool snapshot;              /* -snapshot: every drive writes to a temporary overlay */
    bool start_paused;          /* -S */
    char accel[32];             /* MACHINE_DEFAULT_ACCEL unless -accel */
    DebugExitConfig debug_exit;
    NetdevConfig netdevs[MACHINE_MAX_NETDEVS];
    int n_netdevs;
    NicConfig nics[MACHINE_MAX_NICS];
    int n_nics;
    NetDumpConfig net_dumps[MACHINE_MAX_NETDEVS];
    int n_net_dumps;
} MachineConfig;

/* machine_config_defaults: the defaults a bare `anyvm` gets. */
void machine_config_defaults(MachineConfig *cfg);

typedef enum RunState {
    RUN_STATE_PAUSED,    /* -S or monitor `stop` */
    RUN_STATE_RUNNING,
    RUN_STATE_SHUTDOWN,  /* quit, poweroff, or -no-reboot on reset: the loop returns */
} RunState;

typedef enum ShutdownCause {
    SHUTDOWN_NONE,
    SHUTDOWN_HOST_QUIT,      /* monitor quit, SIGINT/SIGTERM */
    SHUTDOWN_GUEST_POWEROFF, /* ACPI S5 */
    SHUTDOWN_GUEST_RESET,    /* with -no-reboot */
    SHUTDOWN_TRIPLE_FAULT,   /* with -no-reboot */
    SHUTDOWN_DEBUG_EXIT,     /* isa-debug-exit write */
    SHUTDOWN_FATAL,          /* an internal error; exit status 1 */
    SHUTDOWN_HOST_RESET,     /* monitor system_reset (a reset cause, never a shutdown) */
    SHUTDOWN_HOST_SIGNAL,    /* SIGINT/SIGTERM */
} ShutdownCause;

/* MachineEvent: what observers (QMP) hear about. */
typedef enum MachineEvent {
    MACHINE_EVENT_STOP,      /* running -> paused */
    MACHINE_EVENT_RESUME,    /* paused -> running */
    MACHINE_EVENT_RESET,     /* the reset handlers ran; cause says why */
    MACHINE_EVENT_SHUTDOWN,  /* the state became RUN_STATE_SHUTDOWN; cause says why */
} MachineEvent;

typedef void (*MachineEventFn)(void *opaque, MachineEvent ev, ShutdownCause cause);

/* MachineCPUOps: how the loop drives a CPU without core/machine.c depending on a CPU model.
 * exec runs up to budget instructions and returns a CPUExit (core/cpu.h). icount (optional)
 * returns the CPU's retired-instruction counter, so the loop can advance the clock by what
 * really ran; without it a CPU_EXIT_BUDGET counts as the whole budget and other exits as 0. */
typedef struct MachineCPUOps {
    int (*exec)(void *cpu, int64_t budget);
    void (*reset)(void *cpu);
    void (*free)(void *cpu);
    uint64_t (*icount)(void *cpu);
} MachineCPUOps;

typedef void (*MachineResetFn)(void *opaque);
typedef void (*FdHandler)(void *opaque, int fd, short revents);

#define MACHINE_MAX_RESET 64
#define MACHINE_MAX_FDS 32
#define MACHINE_MAX_OBSERVERS 8

/* Instructions per slice in host-clock mode between timer and host-fd checks. */
#define MACHINE_HOST_SLICE 20000
/* Host-clock mode: host fds are polled after a slice once this much host time has passed
 * since the last poll (a slice is ~10-40 us; a ppoll per slice cost ~3% of the run). */
#define MACHINE_POLL_NS 200000
/* Upper bound of one slice in icount mode (the next deadline usually comes first). */
#define MACHINE_ICOUNT_SLICE 100000

/* Bytes written to the wake pipe: MACHINE_WAKE_BYTE only wakes the loop; a signal handler
 * writes the signal number (1..255), which makes the loop shut down (SHUTDOWN_HOST_SIGNAL). */
#define MACHINE_WAKE_BYTE 0

typedef struct CharBackend CharBackend;
typedef struct BlockBackend BlockBackend;

typedef struct CPUState CPUState;

/* Machine: one emulated PC. Create with machine_new(); devices register themselves on its
 * maps, clock, reset list and vmstate registry. */
typedef struct Machine {
    MachineConfig cfg;
    Logger log;
    MemMap mem;
    PortMap io;
    Clock clock;
    VMStateRegistry vmstate;
    uint8_t *ram;               /* cfg.ram_size bytes, owned (mmap, see ram_alloc) */
    size_t ram_mapped;
    CPUState *cpu;              /* owned; NULL until a CPU model is attached */
    const MachineCPUOps *cpu_ops; /* how machine_run drives the CPU; NULL = no CPU */
    void *cpu_opaque;           /* passed to cpu_ops; freed with cpu_ops->free if set */
    bool cpu_halted;            /* the last exec returned CPU_EXIT_HALT */
    uint64_t n_slices, n_polls; /* -d stats: CPU slices run, host fd polls */
    int64_t last_poll_ns;       /* clock time of the last poll after a slice (host mode) */
    int last_signal;            /* the host signal that ended the run, 0 if none */

    RunState state;
    ShutdownCause shutdown_cause;
    int exit_status;            /* process exit status when state becomes SHUTDOWN */
    bool reset_requested;
    ShutdownCause reset_cause;  /* why the pending reset was requested */

    struct { MachineResetFn fn; void *opaque; } reset[MACHINE_MAX_RESET];
    int n_reset;

    struct { int fd; short events; FdHandler fn; void *opaque; } fds[MACHINE_MAX_FDS];
    int n_fds;
    int wake_pipe[2];           /* written by signal handlers/other threads to end a poll */

    struct { MachineEventFn fn; void *opaque; } observers[MACHINE_MAX_OBSERVERS];
    int n_observers;

    /* Host backends for the serial ports (-serial), opened and owned by the frontend; the
     * board connects its UARTs to them. NULL = nothing attached. */
    CharBackend *serial_chr[MACHINE_MAX_SERIAL];
    CharBackend *debugcon_chr;     /* port 0xE9 console output (-debugcon), NULL = dropped */
    /* Host network backends for cfg.nics[i], opened and owned by the frontend (they must
     * outlive every use by the NICs); NULL = the NIC is not connected. */
    struct NetBackend *nic_backend[MACHINE_MAX_NICS];

    /* The opened media of cfg.drives[i] (same index), opened and owned by the frontend
     * (frontend/block.h blk_open_drives); the board attaches them to IDE and the FDC. */
    BlockBackend *drive_blk[MACHINE_MAX_DRIVES];

    /* The board's display adapter and input devices, for the display frontend and the
     * monitor (screendump, sendkey). Owned by the board; NULL = none. */
    DisplaySource *display;
    InputSink *input;
} Machine;

/* machine_new: allocate RAM, init maps, clock and logging from cfg (copied). Returns NULL with
 * a message in err on failure (bad -d list, cannot open -D file, RAM allocation). */
Machine *machine_new(const MachineConfig *cfg, char *err, size_t errlen);

/* machine_free: release everything the machine owns. NULL is fine. */
void machine_free(Machine *m);

/* machine_add_reset: fn(opaque) runs on every system reset, in registration order. */
int machine_add_reset(Machine *m, MachineResetFn fn, void *opaque)
    __attribute__((warn_unused_result));

/* machine_reset: run every reset handler now (CPU, then devices in order). */
void machine_reset(Machine *m);

/* machine_request_reset: reset at the next loop iteration, or shut down with -no-reboot. */
void machine_request_reset(Machine *m, ShutdownCause why);

/* machine_request_shutdown: leave machine_run with exit status `status`. */
void machine_request_shutdown(Machine *m, ShutdownCause why, int status);

/* machine_pause / machine_resume: monitor stop/cont. */
void machine_pause(Machine *m);
void machine_resume(Machine *m);

/* machine_add_fd / machine_remove_fd: watch a host fd from the main loop (poll events). */
int machine_add_fd(Machine *m, int fd, short events, FdHandler fn, void *opaque)
    __attribute__((warn_unused_result));
void machine_remove_fd(Machine *m, int fd);
void machine_set_fd_events(Machine *m, int fd, short events);

/* machine_wake: make a blocked machine_poll return early (async-signal-safe). */
void machine_wake(Machine *m);

/* machine_poll: wait up to timeout_ns for host fds and dispatch their handlers. */
void machine_poll(Machine *m, int64_t timeout_ns);

/* machine_add_observer: fn(opaque, event, cause) is called on stop/resume/reset/shutdown. */
int machine_add_observer(Machine *m, MachineEventFn fn, void *opaque)
    __attribute__((warn_unused_result));

/* machine_remove_observer: undo machine_add_observer (same fn and opaque). */
void machine_remove_observer(Machine *m, MachineEventFn fn, void *opaque);

/* machine_set_cpu: attach the CPU the loop runs (ops must outlive the machine). */
void machine_set_cpu(Machine *m, const MachineCPUOps *ops, void *cpu);

/* machine_signal_fd: the wake pipe's write end, for a signal handler to write the signal
 * number into (see MACHINE_WAKE_BYTE). */
int machine_signal_fd(const Machine *m);

/* machine_run_state_name: "running", "paused" or "shutdown". */
const char *machine_run_state_name(RunState s);

/* machine_run: the main loop: run the CPU with a budget up to the next timer deadline, fire
 * timers, service host fds; sleep when paused or halted. Returns the exit status once the
 * state becomes RUN_STATE_SHUTDOWN. */
int machine_run(Machine *m);

#endif
