/* block.c: opening images (format probing, backing chains, -snapshot overlays), creating
 * them, and attaching the drives of a MachineConfig. */
#include "frontend/block.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/block_int.h"

const char *blk_probe_format(const char *file)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    uint8_t magic[4] = {0};
    ssize_t n = pread(fd, magic, sizeof(magic), 0);
    close(fd);
    if (n < 0) {
        return NULL;
    }
    return (n == 4 && magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I' && magic[3] == 0xFB)
               ? "qcow2"
               : "raw";
}

/* open_overlay: a temporary qcow2 file over `file`, deleted once open (the open descriptor
 * keeps it alive until blk_close). */
static BlockBackend *open_overlay(const char *file, const char *fmt, char *err, size_t errlen)
{
    char abs[PATH_MAX];
    if (!realpath(file, abs)) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }
    BlockBackend *base = blk_open_depth(abs, fmt, BLK_OPEN_RDONLY, 0, err, errlen);
    if (!base) {
        return NULL;
    }
    uint64_t size = base->sectors * BLK_SECTOR_SIZE;
    blk_close(base);
    const char *dir = getenv("TMPDIR");
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/anyvm-snapshot-XXXXXX", dir && dir[0] ? dir : "/var/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "-snapshot: cannot create a temporary file in %s: %s",
                 dir && dir[0] ? dir : "/var/tmp", strerror(errno));
        return NULL;
    }
    close(fd);
    BlockCreateOpts o = {.format = "qcow2", .size = size, .backing = abs, .backing_fmt = fmt};
    int r = qcow2_create(tmp, &o, err, errlen);
    BlockBackend *blk = r < 0 ? NULL : qcow2_open(tmp, false, 0, err, errlen);
    unlink(tmp);
    if (blk) {
        snprintf(blk->name, sizeof(blk->name), "%s", file);
    }
    return blk;
}

BlockBackend *blk_open_depth(const char *file, const char *format, unsigned flags, int depth,
                             char *err, size_t errlen)
{
    const char *fmt = format && format[0] ? format : blk_probe_format(file);
    if (!fmt) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }
    if (strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0) {
        snprintf(err, errlen, "%s: unknown image format '%s' (raw or qcow2)", file, fmt);
        return NULL;
    }
    if (flags & BLK_OPEN_SNAPSHOT) {
        return open_overlay(file, fmt, err, errlen);
    }
    bool ro = (flags & BLK_OPEN_RDONLY) != 0;
    if (!strcmp(fmt, "qcow2")) {
        return qcow2_open(file, ro, depth, err, errlen);
    }
    return raw_open(file, ro, err, errlen);
}

BlockBackend *blk_open(const char *file, const char *format, unsigned flags, char *err,
                       size_t errlen)
{
    return blk_open_depth(file, format, flags, 0, err, errlen);
}

int blk_create(const char *file, const BlockCreateOpts *o, char *err, size_t errlen)
{
    const char *fmt = o->format ? o->format : "raw";
    BlockCreateOpts c = *o;
    if (c.backing && c.size == 0) {
        BlockBackend *b = blk_open(c.backing, c.backing_fmt, BLK_OPEN_RDONLY, err, errlen);
        if (!b) {
            return -EINVAL;
        }
        c.size = b->sectors * BLK_SECTOR_SIZE;
        blk_close(b);
    }
    if (!strcmp(fmt, "qcow2")) {
        return qcow2_create(file, &c, err, errlen);
    }
    if (strcmp(fmt, "raw") != 0) {
        snprintf(err, errlen, "unknown image format '%s' (raw or qcow2)", fmt);
        return -EINVAL;
    }
    if (c.backing) {
        snprintf(err, errlen, "raw images cannot have a backing file");
        return -EINVAL;
    }
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)c.size) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", file, strerror(e));
        if (fd >= 0) {
            close(fd);
        }
        return -e;
    }
    close(fd);
    return 0;
}

int blk_info(const char *file, const char *format, BlockInfo *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    struct stat st;
    if (stat(file, &st) < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -errno;
    }
    const char *fmt = format && format[0] ? format : blk_probe_format(file);
    if (!fmt) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -errno;
    }
    int r = 0;
    if (!strcmp(fmt, "qcow2")) {
        r = qcow2_info(file, info, err, errlen);
    } else {
        snprintf(info->format, sizeof(info->format), "raw");
        info->virtual_size = (uint64_t)st.st_size;
    }
    info->file_size = (uint64_t)st.st_size;
    info->disk_size = (uint64_t)st.st_blocks * 512;
    return r;
}

int blk_check(const char *file, BlockCheck *res, FILE *report, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    const char *fmt = blk_probe_format(file);
    if (!fmt) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -errno;
    }
    if (strcmp(fmt, "qcow2") != 0) {
        return 0;
    }
    return qcow2_check(file, res, report, err, errlen);
}

int blk_open_drives(Machine *m, char *err, size_t errlen)
{
    const MachineConfig *cfg = &m->cfg;
    for (int i = 0; i < cfg->n_drives; i++) {
        const DriveConfig *d = &cfg->drives[i];
        unsigned flags = 0;
        if (d->readonly || d->media == DRIVE_MEDIA_CDROM) {
            flags |= BLK_OPEN_RDONLY;
        }
        if ((cfg->snapshot || d->snapshot) && d->media != DRIVE_MEDIA_CDROM) {
            flags = BLK_OPEN_SNAPSHOT;
        }
        char e[512];
        m->drive_blk[i] = blk_open(d->file, d->format, flags, e, sizeof(e));
        if (!m->drive_blk[i]) {
            snprintf(err, errlen, "drive %s: %s", d->file, e);
            blk_close_drives(m);
            return -1;
        }
        if (d->readonly && (flags & BLK_OPEN_SNAPSHOT)) {
            m->drive_blk[i]->readonly = true; /* readonly=on wins over the overlay */
        }
    }
    return 0;
}

void blk_close_drives(Machine *m)
{
    for (int i = 0; i < MACHINE_MAX_DRIVES; i++) {
        if (m->drive_blk[i]) {
            int r = blk_flush(m->drive_blk[i]);
            (void)r;
            blk_close(m->drive_blk[i]);
            m->drive_blk[i] = NULL;
        }
    }
}
