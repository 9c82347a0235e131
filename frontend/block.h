/* block.h: host block backends (raw files and qcow2 v2/v3 images), image creation and
 * checking, and opening the drives of a MachineConfig. */
#ifndef ANYVM_FRONTEND_BLOCK_H
#define ANYVM_FRONTEND_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/block.h"
#include "core/machine.h"

#define BLK_OPEN_RDONLY 0x1u   /* open the image read-only (O_RDONLY) */
#define BLK_OPEN_SNAPSHOT 0x2u /* write to a temporary qcow2 overlay; the image stays as is */

/* blk_open: open file as format "raw", "qcow2" or ""/NULL (probe the qcow2 magic). Returns a
 * BlockBackend (free with blk_close) or NULL with a one-line message in err. A corrupt,
 * truncated, encrypted or unsupported qcow2 image is refused here. */
BlockBackend *blk_open(const char *file, const char *format, unsigned flags, char *err,
                       size_t errlen);

/* blk_probe_format: "qcow2" if file starts with the qcow2 magic, else "raw"; NULL if it cannot
 * be read. */
const char *blk_probe_format(const char *file);

/* BlockCreateOpts: what `anyvm-img create` and -snapshot ask for. */
typedef struct BlockCreateOpts {
    const char *format;      /* "raw" or "qcow2" */
    uint64_t size;           /* bytes; 0 with a backing file = the backing file's size */
    const char *backing;     /* qcow2 only, NULL = none */
    const char *backing_fmt; /* NULL = probe when the overlay is opened */
    int qcow2_version;       /* 2 or 3 (default 3) */
    unsigned cluster_bits;   /* 9..21 (default 16) */
} BlockCreateOpts;

/* blk_create: create (or truncate) an image. Returns 0 or -errno with a message in err. */
int blk_create(const char *file, const BlockCreateOpts *o, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* BlockInfo: what `anyvm-img info` prints. */
typedef struct BlockInfo {
    char format[16];
    uint64_t virtual_size;
    uint64_t disk_size; /* bytes allocated on the host */
    uint64_t file_size;
    int qcow2_version;
    uint32_t cluster_size;
    int refcount_bits;
    char backing[1024];
    char backing_fmt[16];
    uint32_t nb_snapshots;
    bool dirty, corrupt, compressed_zlib;
} BlockInfo;

/* blk_info: describe file (format probed when format is NULL or ""). Returns 0 or -errno. */
int blk_info(const char *file, const char *format, BlockInfo *info, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* BlockCheck: the result of a consistency check, counted like `qemu-img check`. */
typedef struct BlockCheck {
    uint64_t corruptions; /* refcount too low, bad offsets, wrong COPIED flags */
    uint64_t leaks;       /* clusters with a refcount but no reference */
    uint64_t allocated_clusters;
    uint64_t total_clusters; /* virtual size in clusters */
    uint64_t image_end;      /* offset of the end of the last used cluster */
} BlockCheck;

/* blk_check: check a qcow2 image (raw images have nothing to check and report clean). Each
 * problem is printed to report (may be NULL). Returns 0 when the check ran (see res) or -errno
 * when the image cannot be opened or read. */
int blk_check(const char *file, BlockCheck *res, FILE *report, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* blk_open_drives: open every drive of m->cfg into m->drive_blk[] (same index as
 * cfg.drives[]), honouring readonly=, format=, media=cdrom (read-only) and -snapshot /
 * snapshot=on. Returns 0 or -1 with a message naming the drive in err; on failure the drives
 * opened so far are closed again. */
int blk_open_drives(Machine *m, char *err, size_t errlen) __attribute__((warn_unused_result));

/* blk_close_drives: flush and close m->drive_blk[]. */
void blk_close_drives(Machine *m);

#endif
