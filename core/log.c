/* log.c: log mask parsing (-d), log file (-D) and log-once bookkeeping, per machine. */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static const struct {
    const char *name;
    uint32_t bit;
    const char *help;
} log_items[] = {
    {"guest_errors", LOG_GUEST_ERROR, "guest actions the hardware rejects"},
    {"unimp", LOG_UNIMP, "features the guest uses that anyvm does not implement"},
    {"cpu", LOG_CPU, "CPU state before each block"},
    {"in_asm", LOG_IN_ASM, "guest code, disassembled with Capstone"},
    {"out_asm", LOG_OUT_ASM, "generated host code"},
    {"int", LOG_INT, "interrupts and exceptions"},
    {"mmu", LOG_MMU, "page walks and TLB fills"},
    {"io", LOG_IO, "port and MMIO accesses"},
    {"irq", LOG_IRQ, "IRQ line changes"},
    {"jit", LOG_JIT, "translation events"},
    {"stats", LOG_STATS, "execution statistics (guest MIPS) at exit"},
    {"jit-stats", LOG_JIT_STATS, "JIT counters at exit"},
    {"exec", LOG_EXEC, "address of every executed block"},
    {"dev", LOG_DEV, "all device models (dev:NAME for one)"},
};

void log_init(Logger *lg)
{
    memset(lg, 0, sizeof(*lg));
    lg->out = stderr;
}

void log_close(Logger *lg)
{
    if (lg->owns_out && lg->out) {
        fclose(lg->out);
    }
    lg->out = stderr;
    lg->owns_out = false;
}

void log_help(FILE *f)
{
    fprintf(f, "Log items (-d item1,item2,...):\n");
    for (size_t i = 0; i < sizeof(log_items) / sizeof(log_items[0]); i++) {
        fprintf(f, "  %-13s %s\n", log_items[i].name, log_items[i].help);
    }
    fprintf(f, "  %-13s %s\n", "dev:NAME", "one device model, e.g. dev:pic");
}

int log_parse_mask(Logger *lg, const char *list, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(list) >= sizeof(buf)) {
        snprintf(err, errlen, "-d list too long");
        return -EINVAL;
    }
    strcpy(buf, list);
    /* Parse into copies so a bad item leaves the logger exactly as it was. */
    uint32_t mask = 0;
    int n_dev = lg->n_dev_filters;
    char dev[LOG_DEV_FILTER_MAX][32];
    memcpy(dev, lg->dev_filters, sizeof(dev));
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strncmp(tok, "dev:", 4) == 0) {
            if (n_dev >= LOG_DEV_FILTER_MAX || strlen(tok + 4) == 0 ||
                strlen(tok + 4) >= sizeof(dev[0])) {
                snprintf(err, errlen, "bad or too many dev:NAME log items: '%s'", tok);
                return -EINVAL;
            }
            strcpy(dev[n_dev++], tok + 4);
            mask |= LOG_DEV;
            continue;
        }
        bool found = false;
        for (size_t i = 0; i < sizeof(log_items) / sizeof(log_items[0]); i++) {
            if (strcmp(tok, log_items[i].name) == 0) {
                mask |= log_items[i].bit;
                found = true;
                break;
            }
        }
        if (!found) {
            snprintf(err, errlen, "unknown log item '%s' (try -d help)", tok);
            return -EINVAL;
        }
    }
    lg->mask |= mask;
    lg->n_dev_filters = n_dev;
    memcpy(lg->dev_filters, dev, sizeof(dev));
    return 0;
}

int log_set_file(Logger *lg, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return -errno;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    log_close(lg);
    lg->out = f;
    lg->owns_out = true;
    return 0;
}

void log_msg(Logger *lg, uint32_t area, const char *fmt, ...)
{
    if (!lg || !(lg->mask & area)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(lg->out, fmt, ap);
    va_end(ap);
}

bool log_dev_enabled(const Logger *lg, const char *dev)
{
    if (!lg || !(lg->mask & LOG_DEV)) {
        return false;
    }
    if (lg->n_dev_filters == 0) {
        return true;
    }
    for (int i = 0; i < lg->n_dev_filters; i++) {
        if (strcmp(lg->dev_filters[i], dev) == 0) {
            return true;
        }
    }
    return false;
}

/* Insert key into the once-set; returns true if it was not there. When the set is full every
 * further key counts as seen, so a guest cannot make us log without bound. */
static bool once_insert(Logger *lg, const void *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    for (unsigned i = 0; i < LOG_ONCE_SLOTS; i++) {
        unsigned slot = (unsigned)(h + i) % LOG_ONCE_SLOTS;
        if (lg->once[slot] == key) {
            return false;
        }
        if (!lg->once[slot]) {
            if (lg->once_count >= LOG_ONCE_SLOTS * 3 / 4) {
                return false;
            }
            lg->once[slot] = key;
            lg->once_count++;
            return true;
        }
    }
    return false;
}

bool log_once(Logger *lg, uint32_t area, const void *key, const char *fmt, ...)
{
    if (!lg || !(lg->mask & area) || !once_insert(lg, key)) {
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(lg->out, fmt, ap);
    va_end(ap);
    return true;
}
