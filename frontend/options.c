/* options.c: QEMU-style command line parsing into a MachineConfig (pure: no printing, no
 * exiting; the only side effect is checking that named files exist). */
#include "frontend/options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/char.h"
#include "frontend/net.h"
#include "translate/jit.h"

#ifndef ANYVM_VERSION
#define ANYVM_VERSION "0.0.0"
#endif

#define RAM_MIN (1ull << 20)
#define RAM_MAX (3584ull << 20) /* below the PCI hole of a 32-bit PC without PAE */
#define ICOUNT_SHIFT_MAX 10

/* Parse state threaded through the option handlers. */
typedef struct OptCtx {
    MachineConfig *cfg;
    OptionsAction *action;
    char *err;
    size_t errlen;
    const char *opt;   /* the option as the user spelled it, for messages */
    bool drive_syntax; /* name files as "-drive file=PATH" in messages */
    bool positional_seen;
} OptCtx;

static int opt_fail(OptCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int opt_fail(OptCtx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int copy_str(OptCtx *c, char *dst, size_t dstlen, const char *val)
{
    if (strlen(val) >= dstlen) {
        return opt_fail(c, "%s: value too long (at most %zu characters)", c->opt, dstlen - 1);
    }
    strcpy(dst, val);
    return 0;
}

/* A file the machine will open must exist and be a regular file or a block device. */
static int check_file(OptCtx *c, const char *path)
{
    struct stat st;
    const char *key = c->drive_syntax ? "file=" : "";
    int e = 0;
    if (path[0] == '\0') {
        return opt_fail(c, "%s: empty file name", c->opt);
    }
    if (stat(path, &st) < 0) {
        e = errno;
    } else if (S_ISDIR(st.st_mode)) {
        e = EISDIR;
    } else if (access(path, R_OK) < 0) {
        e = errno;
    }
    if (e) {
        return opt_fail(c, "%s %s%s: %s", c->opt, key, path, strerror(e));
    }
    return 0;
}

static bool parse_uint(const char *s, int base, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+' || *s == ' ') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_onoff(const char *s, bool *out)
{
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false")) {
        *out = false;
        return true;
    }
    return false;
}

int options_parse_size(const char *s, uint64_t *bytes)
{
    char num[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(num)) {
        return -EINVAL;
    }
    strcpy(num, s);
    uint64_t mult = 1ull << 20; /* a bare number is MiB */
    char last = num[n - 1];
    switch (last) {
    case 'k':
    case 'K':
        mult = 1ull << 10;
        break;
    case 'm':
    case 'M':
        mult = 1ull << 20;
        break;
    case 'g':
    case 'G':
        mult = 1ull << 30;
        break;
    default:
        if (last < '0' || last > '9') {
            return -EINVAL;
        }
        n++;
    }
    num[n - 1] = '\0';
    uint64_t v;
    if (!parse_uint(num, 10, &v) || v > (UINT64_MAX >> 30)) {
        return -EINVAL;
    }
    *bytes = v * mult;
    return 0;
}

/* Split "key=value,key=value" in place: returns the next item and advances *rest. */
static char *next_item(char **rest)
{
    char *s = *rest;
    if (!s) {
        return NULL;
    }
    char *comma = strchr(s, ',');
    if (comma) {
        *comma = '\0';
        *rest = comma + 1;
    } else {
        *rest = NULL;
    }
    return s;
}

static int opt_m(OptCtx *c, const char *val)
{
    const char *v = val;
    if (strncmp(v, "size=", 5) == 0) {
        v += 5;
    }
    uint64_t bytes;
    if (options_parse_size(v, &bytes) < 0) {
        return opt_fail(c, "%s %s: invalid RAM size", c->opt, val);
    }
    if (bytes < RAM_MIN || bytes > RAM_MAX) {
        return opt_fail(c, "%s %s: RAM size must be between 1M and %" PRIu64 "M", c->opt, val,
                        (uint64_t)(RAM_MAX >> 20));
    }
    if (bytes & 0xFFF) {
        return opt_fail(c, "%s %s: RAM size must be a multiple of 4K", c->opt, val);
    }
    c->cfg->ram_size = bytes;
    return 0;
}

static int opt_smp(OptCtx *c, const char *val)
{
    const char *v = val;
    if (strncmp(v, "cpus=", 5) == 0) {
        v += 5;
    }
    uint64_t n;
    if (!parse_uint(v, 10, &n) || n == 0) {
        return opt_fail(c, "%s %s: invalid CPU count", c->opt, val);
    }
    if (n != 1) {
        return opt_fail(c, "%s %s: only one CPU is supported", c->opt, val);
    }
    c->cfg->smp = 1;
    return 0;
}

/* The drive slot (iface, index) holds a drive already. */
static int drive_find(const MachineConfig *cfg, DriveIf iface, int index)
{
    for (int i = 0; i < cfg->n_drives; i++) {
        if (cfg->drives[i].iface == iface && cfg->drives[i].index == index) {
            return i;
        }
    }
    return -1;
}

static int drive_max_index(DriveIf iface)
{
    return iface == DRIVE_IF_IDE ? 4 : iface == DRIVE_IF_FLOPPY ? 2 : MACHINE_MAX_DRIVES;
}

static int drive_add(OptCtx *c, const DriveConfig *d)
{
    if (c->cfg->n_drives >= MACHINE_MAX_DRIVES) {
        return opt_fail(c, "%s: too many drives (at most %d)", c->opt, MACHINE_MAX_DRIVES);
    }
    if (d->index >= 0 && drive_find(c->cfg, d->iface, d->index) >= 0) {
        return opt_fail(c, "%s %s: drive with if=%s,index=%d is already in use", c->opt, d->file,
                        d->iface == DRIVE_IF_FLOPPY ? "floppy" : "ide", d->index);
    }
    int rc = check_file(c, d->file);
    if (rc < 0) {
        return rc;
    }
    c->cfg->drives[c->cfg->n_drives++] = *d;
    return 0;
}

static int opt_simple_drive(OptCtx *c, const char *val, DriveIf iface, DriveMedia media, int index)
{
    DriveConfig d;
    memset(&d, 0, sizeof(d));
    d.iface = iface;
    d.media = media;
    d.index = index;
    d.readonly = media == DRIVE_MEDIA_CDROM;
    int rc = copy_str(c, d.file, sizeof(d.file), val);
    return rc < 0 ? rc : drive_add(c, &d);
}

static int opt_drive(OptCtx *c, const char *val)
{
    char buf[1024];
    if (strlen(val) >= sizeof(buf)) {
        return opt_fail(c, "%s: value too long", c->opt);
    }
    strcpy(buf, val);
    DriveConfig d;
    memset(&d, 0, sizeof(d));
    d.iface = DRIVE_IF_IDE;
    d.media = DRIVE_MEDIA_DISK;
    d.index = -1;
    bool have_file = false, have_ro = false;
    char *rest = buf;
    for (char *item = next_item(&rest); item; item = next_item(&rest)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            return opt_fail(c, "%s %s: expected key=value, got '%s'", c->opt, val, item);
        }
        *eq = '\0';
        const char *k = item, *v = eq + 1;
        if (!strcmp(k, "file")) {
            if (copy_str(c, d.file, sizeof(d.file), v) < 0) {
                return -EINVAL;
            }
            have_file = true;
        } else if (!strcmp(k, "format")) {
            if (strcmp(v, "raw") && strcmp(v, "qcow2")) {
                return opt_fail(c, "%s %s: unknown format '%s' (raw or qcow2)", c->opt, val, v);
            }
            strcpy(d.format, v);
        } else if (!strcmp(k, "if")) {
            if (!strcmp(v, "ide")) {
                d.iface = DRIVE_IF_IDE;
            } else if (!strcmp(v, "floppy")) {
                d.iface = DRIVE_IF_FLOPPY;
            } else if (!strcmp(v, "none")) {
                d.iface = DRIVE_IF_NONE;
            } else {
                return opt_fail(c, "%s %s: unsupported interface '%s' (ide or floppy)", c->opt,
                                val, v);
            }
        } else if (!strcmp(k, "media")) {
            if (!strcmp(v, "disk")) {
                d.media = DRIVE_MEDIA_DISK;
            } else if (!strcmp(v, "cdrom")) {
                d.media = DRIVE_MEDIA_CDROM;
            } else {
                return opt_fail(c, "%s %s: bad media '%s' (disk or cdrom)", c->opt, val, v);
            }
        } else if (!strcmp(k, "index")) {
            uint64_t idx;
            if (!parse_uint(v, 10, &idx) || idx >= MACHINE_MAX_DRIVES) {
                return opt_fail(c, "%s %s: bad index '%s'", c->opt, val, v);
            }
            d.index = (int)idx;
        } else if (!strcmp(k, "readonly")) {
            if (!parse_onoff(v, &d.readonly)) {
                return opt_fail(c, "%s %s: readonly expects on or off", c->opt, val);
            }
            have_ro = true;
        } else if (!strcmp(k, "snapshot")) {
            if (!parse_onoff(v, &d.snapshot)) {
                return opt_fail(c, "%s %s: snapshot expects on or off", c->opt, val);
            }
        } else {
            return opt_fail(c, "%s %s: unknown parameter '%s'", c->opt, val, k);
        }
    }
    if (!have_file) {
        return opt_fail(c, "%s %s: missing file=", c->opt, val);
    }
    if (d.index >= drive_max_index(d.iface)) {
        return opt_fail(c, "%s %s: index %d out of range for this interface", c->opt, val,
                        d.index);
    }
    if (d.media == DRIVE_MEDIA_CDROM) {
        if (d.iface == DRIVE_IF_FLOPPY) {
            return opt_fail(c, "%s %s: a floppy cannot have media=cdrom", c->opt, val);
        }
        if (have_ro && !d.readonly) {
            return opt_fail(c, "%s %s: a CD-ROM is read-only", c->opt, val);
        }
        d.readonly = true;
    }
    c->drive_syntax = true;
    int rc = drive_add(c, &d);
    c->drive_syntax = false;
    return rc;
}

static int opt_boot(OptCtx *c, const char *val)
{
    char buf[128];
    if (strlen(val) >= sizeof(buf)) {
        return opt_fail(c, "%s: value too long", c->opt);
    }
    strcpy(buf, val);
    const char *order = NULL;
    if (!strchr(buf, '=')) {
        order = buf;
    } else {
        char *rest = buf;
        for (char *item = next_item(&rest); item; item = next_item(&rest)) {
            if (!strncmp(item, "order=", 6)) {
                order = item + 6;
            } else if (!strncmp(item, "once=", 5)) {
                order = item + 5;
            } else if (!strncmp(item, "menu=", 5)) {
                bool ignored;
                if (!parse_onoff(item + 5, &ignored)) {
                    return opt_fail(c, "%s %s: menu expects on or off", c->opt, val);
                }
            } else {
                return opt_fail(c, "%s %s: unknown parameter '%s'", c->opt, val, item);
            }
        }
    }
    if (!order || !*order) {
        return opt_fail(c, "%s %s: missing boot order", c->opt, val);
    }
    size_t n = strlen(order);
    if (n >= sizeof(c->cfg->boot_order)) {
        return opt_fail(c, "%s %s: boot order too long", c->opt, val);
    }
    for (size_t i = 0; i < n; i++) {
        if (!strchr("abcdn", order[i])) {
            return opt_fail(c, "%s %s: invalid boot device '%c' (a, b, c, d or n)", c->opt, val,
                            order[i]);
        }
        if (memchr(order, order[i], i)) {
            return opt_fail(c, "%s %s: boot device '%c' given twice", c->opt, val, order[i]);
        }
    }
    strcpy(c->cfg->boot_order, order);
    return 0;
}

static int check_chardev(OptCtx *c, const char *val)
{
    CharSpec spec;
    char e[200];
    if (char_spec_parse(val, &spec, e, sizeof(e)) < 0) {
        return opt_fail(c, "%s %s: %s", c->opt, val, e);
    }
    return 0;
}

static int opt_serial(OptCtx *c, const char *val)
{
    if (c->cfg->n_serial >= MACHINE_MAX_SERIAL) {
        return opt_fail(c, "%s: too many serial ports (at most %d)", c->opt, MACHINE_MAX_SERIAL);
    }
    if (check_chardev(c, val) < 0) {
        return -EINVAL;
    }
    if (copy_str(c, c->cfg->serial[c->cfg->n_serial], sizeof(c->cfg->serial[0]), val) < 0) {
        return -EINVAL;
    }
    c->cfg->n_serial++;
    return 0;
}

static int opt_monitor(OptCtx *c, const char *val, char *dst, size_t dstlen)
{
    if (check_chardev(c, val) < 0) {
        return -EINVAL;
    }
    return copy_str(c, dst, dstlen, val);
}

static int opt_display(OptCtx *c, const char *val)
{
    char buf[64];
    if (strlen(val) >= sizeof(buf)) {
        return opt_fail(c, "%s: value too long", c->opt);
    }
    strcpy(buf, val);
    char *comma = strchr(buf, ',');
    if (comma) {
        *comma = '\0'; /* sub-options of a display (e.g. sdl,gl=off) are accepted, ignored */
    }
    if (strcmp(buf, "sdl") && strcmp(buf, "none")) {
        return opt_fail(c, "%s %s: unsupported display (sdl or none)", c->opt, val);
    }
    strcpy(c->cfg->display, buf);
    return 0;
}

static int opt_d(OptCtx *c, const char *val)
{
    if (!strcmp(val, "help") || !strcmp(val, "?")) {
        *c->action = OPTIONS_LOG_HELP;
        return 0;
    }
    Logger scratch;
    log_init(&scratch);
    char e[200];
    if (log_parse_mask(&scratch, val, e, sizeof(e)) < 0) {
        return opt_fail(c, "%s %s: %s", c->opt, val, e);
    }
    return copy_str(c, c->cfg->log_items, sizeof(c->cfg->log_items), val);
}

static int opt_icount(OptCtx *c, const char *val)
{
    char buf[128];
    if (strlen(val) >= sizeof(buf)) {
        return opt_fail(c, "%s: value too long", c->opt);
    }
    strcpy(buf, val);
    int shift = -1;
    bool sleep = true;
    char *rest = buf;
    for (char *item = next_item(&rest); item; item = next_item(&rest)) {
        const char *v = item;
        if (!strncmp(item, "shift=", 6)) {
            v = item + 6;
        } else if (!strncmp(item, "sleep=", 6)) {
            if (!parse_onoff(item + 6, &sleep)) {
                return opt_fail(c, "%s %s: sleep expects on or off", c->opt, val);
            }
            continue;
        } else if (strchr(item, '=')) {
            return opt_fail(c, "%s %s: unknown parameter '%s'", c->opt, val, item);
        }
        uint64_t n;
        if (!parse_uint(v, 10, &n) || n > ICOUNT_SHIFT_MAX) {
            return opt_fail(c, "%s %s: shift must be a number from 0 to %d", c->opt, val,
                            ICOUNT_SHIFT_MAX);
        }
        shift = (int)n;
    }
    if (shift < 0) {
        return opt_fail(c, "%s %s: missing shift", c->opt, val);
    }
    c->cfg->icount_shift = shift;
    c->cfg->icount_nosleep = !sleep;
    return 0;
}

static int opt_accel(OptCtx *c, const char *val)
{
    /* interp, or jit[,verify=on][,tb-size=MiB][,inline=off][,groups=off][,follow=off]
     * [,loops=off][,defer=off] (translate/jit.h). */
    bool use_jit;
    JitOptions jo;
    char err[128];
    if (strlen(val) >= sizeof(c->cfg->accel) ||
        jit_parse_accel(val, &use_jit, &jo, err, sizeof(err)) < 0) {
        return opt_fail(c, "%s %s: unsupported accelerator (interp or jit[,options])", c->opt,
                        val);
    }
    strcpy(c->cfg->accel, val);
    return 0;
}

static int opt_device(OptCtx *c, const char *val)
{
    char buf[256];
    if (strlen(val) >= sizeof(buf)) {
        return opt_fail(c, "%s: value too long", c->opt);
    }
    strcpy(buf, val);
    char *rest = buf;
    char *name = next_item(&rest);
    if (net_opt_is_nic_model(name)) {
        return net_opt_device(c->cfg, c->opt, val, c->err, c->errlen); /* frontend/net.c */
    }
    if (strcmp(name, "isa-debug-exit")) {
        return opt_fail(c, "%s %s: unsupported device '%s' (isa-debug-exit)", c->opt, val, name);
    }
    DebugExitConfig de = {.enabled = true, .iobase = 0x501, .iosize = 2};
    for (char *item = next_item(&rest); item; item = next_item(&rest)) {
        uint64_t n;
        if (!strncmp(item, "iobase=", 7)) {
            if (!parse_uint(item + 7, 0, &n) || n > 0xFFFF) {
                return opt_fail(c, "%s %s: bad iobase", c->opt, val);
            }
            de.iobase = (uint16_t)n;
        } else if (!strncmp(item, "iosize=", 7)) {
            if (!parse_uint(item + 7, 0, &n) || (n != 1 && n != 2 && n != 4)) {
                return opt_fail(c, "%s %s: iosize must be 1, 2 or 4", c->opt, val);
            }
            de.iosize = (uint16_t)n;
        } else {
            return opt_fail(c, "%s %s: unknown parameter '%s'", c->opt, val, item);
        }
    }
    if ((uint32_t)de.iobase + de.iosize > 0x10000) {
        return opt_fail(c, "%s %s: ports beyond 0xFFFF", c->opt, val);
    }
    if (c->cfg->debug_exit.enabled) {
        return opt_fail(c, "%s %s: only one isa-debug-exit device is supported", c->opt, val);
    }
    c->cfg->debug_exit = de;
    return 0;
}

static int opt_file(OptCtx *c, const char *val, char *dst, size_t dstlen)
{
    int rc = copy_str(c, dst, dstlen, val);
    return rc < 0 ? rc : check_file(c, val);
}

/* The option table. Handlers get the value (or NULL for flags). */
typedef enum OptId {
    O_HELP,
    O_VERSION,
    O_M,
    O_SMP,
    O_BIOS,
    O_KERNEL,
    O_INITRD,
    O_APPEND,
    O_HDA,
    O_HDB,
    O_HDC,
    O_HDD,
    O_CDROM,
    O_FDA,
    O_FDB,
    O_DRIVE,
    O_BOOT,
    O_SERIAL,
    O_DISPLAY,
    O_NOGRAPHIC,
    O_MONITOR,
    O_QMP,
    O_DEBUGCON,
    O_D,
    O_DFILE,
    O_ICOUNT,
    O_NO_REBOOT,
    O_SNAPSHOT,
    O_S,
    O_ACCEL,
    O_DEVICE,
    /* networking: handled by frontend/net.c */
    O_NETDEV,
    O_NIC,
    O_OBJECT,
} OptId;

static const struct OptDef {
    const char *name;
    OptId id;
    bool has_arg;
} opt_defs[] = {
    {"h", O_HELP, false},
    {"help", O_HELP, false},
    {"version", O_VERSION, false},
    {"m", O_M, true},
    {"smp", O_SMP, true},
    {"bios", O_BIOS, true},
    {"kernel", O_KERNEL, true},
    {"initrd", O_INITRD, true},
    {"append", O_APPEND, true},
    {"hda", O_HDA, true},
    {"hdb", O_HDB, true},
    {"hdc", O_HDC, true},
    {"hdd", O_HDD, true},
    {"cdrom", O_CDROM, true},
    {"fda", O_FDA, true},
    {"fdb", O_FDB, true},
    {"drive", O_DRIVE, true},
    {"boot", O_BOOT, true},
    {"serial", O_SERIAL, true},
    {"display", O_DISPLAY, true},
    {"nographic", O_NOGRAPHIC, false},
    {"monitor", O_MONITOR, true},
    {"qmp", O_QMP, true},
    {"debugcon", O_DEBUGCON, true},
    {"d", O_D, true},
    {"D", O_DFILE, true},
    {"icount", O_ICOUNT, true},
    {"no-reboot", O_NO_REBOOT, false},
    {"snapshot", O_SNAPSHOT, false},
    {"S", O_S, false},
    {"accel", O_ACCEL, true},
    {"device", O_DEVICE, true},
    /* networking */
    {"netdev", O_NETDEV, true},
    {"nic", O_NIC, true},
    {"object", O_OBJECT, true},
};

static int opt_apply(OptCtx *c, OptId id, const char *val)
{
    MachineConfig *cfg = c->cfg;
    switch (id) {
    case O_HELP:
        *c->action = OPTIONS_HELP;
        return 0;
    case O_VERSION:
        *c->action = OPTIONS_VERSION;
        return 0;
    case O_M:
        return opt_m(c, val);
    case O_SMP:
        return opt_smp(c, val);
    case O_BIOS:
        return opt_file(c, val, cfg->bios, sizeof(cfg->bios));
    case O_KERNEL:
        return opt_file(c, val, cfg->kernel, sizeof(cfg->kernel));
    case O_INITRD:
        return opt_file(c, val, cfg->initrd, sizeof(cfg->initrd));
    case O_APPEND:
        return copy_str(c, cfg->append, sizeof(cfg->append), val);
    case O_HDA:
    case O_HDB:
    case O_HDC:
    case O_HDD:
        return opt_simple_drive(c, val, DRIVE_IF_IDE, DRIVE_MEDIA_DISK, (int)(id - O_HDA));
    case O_CDROM:
        return opt_simple_drive(c, val, DRIVE_IF_IDE, DRIVE_MEDIA_CDROM, 2);
    case O_FDA:
    case O_FDB:
        return opt_simple_drive(c, val, DRIVE_IF_FLOPPY, DRIVE_MEDIA_DISK, (int)(id - O_FDA));
    case O_DRIVE:
        return opt_drive(c, val);
    case O_BOOT:
        return opt_boot(c, val);
    case O_SERIAL:
        return opt_serial(c, val);
    case O_DISPLAY:
        return opt_display(c, val);
    case O_NOGRAPHIC:
        cfg->nographic = true;
        strcpy(cfg->display, "none");
        return 0;
    case O_MONITOR:
        return opt_monitor(c, val, cfg->monitor, sizeof(cfg->monitor));
    case O_QMP:
        return opt_monitor(c, val, cfg->qmp, sizeof(cfg->qmp));
    case O_DEBUGCON:
        return opt_monitor(c, val, cfg->debugcon, sizeof(cfg->debugcon));
    case O_D:
        return opt_d(c, val);
    case O_DFILE:
        return copy_str(c, cfg->log_file, sizeof(cfg->log_file), val);
    case O_ICOUNT:
        return opt_icount(c, val);
    case O_NO_REBOOT:
        cfg->no_reboot = true;
        return 0;
    case O_SNAPSHOT:
        cfg->snapshot = true;
        return 0;
    case O_S:
        cfg->start_paused = true;
        return 0;
    case O_ACCEL:
        return opt_accel(c, val);
    case O_DEVICE:
        return opt_device(c, val);
    /* networking (frontend/net.c) */
    case O_NETDEV:
        return net_opt_netdev(cfg, c->opt, val, c->err, c->errlen);
    case O_NIC:
        return net_opt_nic(cfg, c->opt, val, c->err, c->errlen);
    case O_OBJECT:
        return net_opt_object(cfg, c->opt, val, c->err, c->errlen);
    }
    return opt_fail(c, "%s: internal error", c->opt);
}

/* Give every drive without an index the lowest free slot of its interface. */
static int assign_drive_indexes(OptCtx *c)
{
    MachineConfig *cfg = c->cfg;
    for (int i = 0; i < cfg->n_drives; i++) {
        DriveConfig *d = &cfg->drives[i];
        if (d->index >= 0) {
            continue;
        }
        int max = drive_max_index(d->iface);
        for (int idx = 0; idx < max; idx++) {
            if (drive_find(cfg, d->iface, idx) < 0) {
                d->index = idx;
                break;
            }
        }
        if (d->index < 0) {
            c->opt = "-drive";
            return opt_fail(c, "-drive file=%s: no free %s slot", d->file,
                            d->iface == DRIVE_IF_FLOPPY ? "floppy" : "ide");
        }
    }
    return 0;
}

/* Options that contradict each other. */
static int check_conflicts(OptCtx *c)
{
    MachineConfig *cfg = c->cfg;
    int stdio_users = 0;
    for (int i = 0; i < cfg->n_serial; i++) {
        stdio_users += !strcmp(cfg->serial[i], "stdio");
    }
    stdio_users += !strcmp(cfg->monitor, "stdio");
    stdio_users += !strcmp(cfg->qmp, "stdio");
    stdio_users += !strcmp(cfg->debugcon, "stdio");
    if (stdio_users > 1) {
        return opt_fail(c, "stdio is used by more than one of -serial, -monitor, -qmp and "
                           "-debugcon");
    }
    if ((cfg->initrd[0] || cfg->append[0]) && !cfg->kernel[0]) {
        return opt_fail(c, "%s requires -kernel", cfg->initrd[0] ? "-initrd" : "-append");
    }
    if (cfg->n_serial == 0 && cfg->nographic && stdio_users == 0) {
        /* -nographic sends the first serial port to the terminal, as QEMU does */
        strcpy(cfg->serial[0], "stdio");
        cfg->n_serial = 1;
    }
    return 0;
}

int options_parse(int argc, char *const argv[], MachineConfig *cfg, OptionsAction *action,
                  char *err, size_t errlen)
{
    OptCtx c = {.cfg = cfg, .action = action, .err = err, .errlen = errlen};
    machine_config_defaults(cfg);
    *action = OPTIONS_RUN;
    if (err && errlen) {
        err[0] = '\0';
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            /* A bare image name: the first hard disk, as with QEMU. */
            c.opt = "-hda";
            if (c.positional_seen) {
                return opt_fail(&c, "%s: only one image may be given without an option", arg);
            }
            c.positional_seen = true;
            int rc = opt_simple_drive(&c, arg, DRIVE_IF_IDE, DRIVE_MEDIA_DISK, 0);
            if (rc < 0) {
                return rc;
            }
            continue;
        }
        const char *name = arg + 1;
        if (name[0] == '-') {
            name++; /* --option is the same as -option */
        }
        const struct OptDef *def = NULL;
        for (size_t k = 0; k < sizeof(opt_defs) / sizeof(opt_defs[0]); k++) {
            if (!strcmp(opt_defs[k].name, name)) {
                def = &opt_defs[k];
                break;
            }
        }
        c.opt = arg;
        if (!def) {
            return opt_fail(&c, "%s: invalid option", arg);
        }
        const char *val = NULL;
        if (def->has_arg) {
            if (i + 1 >= argc) {
                return opt_fail(&c, "%s: requires an argument", arg);
            }
            val = argv[++i];
        }
        int rc = opt_apply(&c, def->id, val);
        if (rc < 0) {
            return rc;
        }
        if (*action != OPTIONS_RUN) {
            return 0; /* --help, --version, -d help: the rest does not matter */
        }
    }
    int rc = assign_drive_indexes(&c);
    if (rc < 0) {
        return rc;
    }
    rc = net_opt_check(cfg, err, errlen); /* networking: NICs and dumps name real netdevs */
    if (rc < 0) {
        return rc;
    }
    return check_conflicts(&c);
}

void options_usage(FILE *f)
{
    fprintf(f, "usage: anyvm [options] [disk_image]\n"
               "\n"
               "Machine:\n"
               "  -m SIZE                 RAM size in MiB, or with a K/M/G suffix (default 128)\n"
               "  -smp 1                  number of CPUs (only 1)\n"
               "  -accel interp|jit[,verify=on][,tb-size=MiB][,inline=off][,groups=off]\n"
               "                    [,follow=off][,loops=off][,defer=off]\n"
               "                          execution engine (default: jit on x86-64 hosts)\n"
               "  -bios FILE              firmware image instead of the built-in BIOS\n"
               "  -kernel FILE            boot a Linux kernel directly\n"
               "  -initrd FILE            initial ram disk for -kernel\n"
               "  -append CMDLINE         kernel command line for -kernel\n"
               "  -device isa-debug-exit[,iobase=0x501][,iosize=2]\n"
               "                          a port that ends the emulator with status (v << 1) | 1\n"
               "Disks:\n"
               "  -hda/-hdb/-hdc/-hdd FILE   IDE disk 0..3\n"
               "  -cdrom FILE             IDE CD-ROM (secondary master)\n"
               "  -fda/-fdb FILE          floppy disk 0/1\n"
               "  -drive file=F[,format=raw|qcow2][,if=ide|floppy][,media=disk|cdrom]\n"
               "         [,index=N][,readonly=on][,snapshot=on]\n"
               "  -snapshot               write to temporary overlays, never to the images\n"
               "  -boot [order=]DRIVES    boot order: a, b (floppy), c (disk), d (CD-ROM), n\n"
               "Display and character devices:\n"
               "  -display sdl|none       the window, or no window\n"
               "  -nographic              no window; first serial port on the terminal\n"
               "  -serial DEV             a serial port (repeatable): stdio, null, none,\n"
               "                          file:PATH, unix:PATH,server[,nowait],\n"
               "                          tcp:[HOST]:PORT,server[,nowait]\n"
               "  -monitor DEV            human monitor on DEV (stdio, unix:..., tcp:...)\n"
               "  -qmp DEV                QMP (JSON) monitor on DEV\n"
               "  -debugcon DEV           debug console (ports 0xE9 and 0x402) output to DEV\n");
    net_opt_usage(f); /* networking options, frontend/net.c */
    fprintf(f, "Debugging:\n"
               "  -d ITEM,...             log items (-d help lists them)\n"
               "  -D FILE                 log to FILE instead of stderr\n"
               "  -icount [shift=]N[,sleep=on|off]  deterministic time: 2^N ns per instruction\n"
               "  -S                      start paused (use the monitor's cont)\n"
               "  -no-reboot              exit instead of rebooting\n"
               "  -h, --help              this text\n"
               "  --version               version information\n"
               "\n"
               "With -serial stdio, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n");
}

void options_version(FILE *f)
{
    fprintf(f, "anyvm version %s\n", ANYVM_VERSION);
}
