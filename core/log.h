/* log.h: the per-machine log mask (-d LIST, -D FILE) and log-once for guest-triggered events. */
#ifndef ANYVM_CORE_LOG_H
#define ANYVM_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Log areas, one bit each. Names (for -d) are in log.c's table. */
enum {
    LOG_GUEST_ERROR = 1u << 0,  /* the guest did something the hardware rejects */
    LOG_UNIMP = 1u << 1,        /* the guest used something anyvm does not implement */
    LOG_CPU = 1u << 2,          /* CPU state per block/instruction */
    LOG_IN_ASM = 1u << 3,       /* guest code disassembled with Capstone */
    LOG_OUT_ASM = 1u << 4,      /* generated host code */
    LOG_INT = 1u << 5,          /* interrupts and exceptions */
    LOG_MMU = 1u << 6,          /* page walks and TLB */
    LOG_IO = 1u << 7,           /* port and MMIO accesses */
    LOG_IRQ = 1u << 8,          /* IRQ line changes */
    LOG_JIT = 1u << 9,          /* translation events */
    LOG_STATS = 1u << 10,       /* execution statistics (MIPS) at exit */
    LOG_JIT_STATS = 1u << 11,   /* JIT counters at exit */
    LOG_DEV = 1u << 12,         /* device models (dev:NAME narrows it) */
    LOG_EXEC = 1u << 13,        /* every executed block/instruction address */
};

#define LOG_ONCE_SLOTS 256
#define LOG_DEV_FILTER_MAX 8

/* Logger: per-machine log state. Zero-initialise, then log_init(). */
typedef struct Logger {
    uint32_t mask;               /* areas enabled by -d */
    FILE *out;                   /* -D FILE or stderr; owned when owns_out */
    bool owns_out;
    int n_dev_filters;           /* dev:NAME entries; none means every device */
    char dev_filters[LOG_DEV_FILTER_MAX][32];
    const void *once[LOG_ONCE_SLOTS]; /* open-addressed set of keys already logged once */
    unsigned once_count;
} Logger;

/* log_init: default state, everything off, output to stderr. */
void log_init(Logger *lg);

/* log_close: close the -D file if one was opened. */
void log_close(Logger *lg);

/* log_parse_mask: parse a -d list ("in_asm,int,dev:pic") into lg; the caller handles "help".
 * All or nothing: on error lg is unchanged.
 * Returns 0, or -EINVAL with a message naming the bad item in err (errlen bytes). */
int log_parse_mask(Logger *lg, const char *list, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* log_set_file: send the log to path (-D). Returns 0 or -errno. */
int log_set_file(Logger *lg, const char *path) __attribute__((warn_unused_result));

/* log_help: print the list of area names to f. */
void log_help(FILE *f);

static inline bool log_enabled(const Logger *lg, uint32_t area)
{
    return (lg->mask & area) != 0;
}

/* log_msg: print a formatted message if area is enabled. */
void log_msg(Logger *lg, uint32_t area, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* log_dev_enabled: whether dev:NAME logging is on for this device name. */
bool log_dev_enabled(const Logger *lg, const char *dev);

/* log_once: print the message the first time `key` is seen on this logger (key is usually the
 * format string or a static marker), if area is enabled. Returns true if it printed. */
bool log_once(Logger *lg, uint32_t area, const void *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Convenience: log once per call site with the format string as the key. */
#define LOG_ONCE(lg, area, ...) log_once((lg), (area), __FILE__ ":" ANYVM_STR(__LINE__), __VA_ARGS__)
#define ANYVM_STR2(x) #x
#define ANYVM_STR(x) ANYVM_STR2(x)

#endif
