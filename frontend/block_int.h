/* block_int.h: what the host block backends share inside frontend/ (not for devices). */
#ifndef ANYVM_FRONTEND_BLOCK_INT_H
#define ANYVM_FRONTEND_BLOCK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frontend/block.h"

#define BLK_MAX_BACKING_DEPTH 16

/* raw_open: a raw image file; O_RDONLY when readonly. */
BlockBackend *raw_open(const char *file, bool readonly, char *err, size_t errlen);

/* qcow2_open: a qcow2 image; depth counts the backing chain so far. */
BlockBackend *qcow2_open(const char *file, bool readonly, int depth, char *err, size_t errlen);

/* qcow2_create: write a fresh qcow2 image (see BlockCreateOpts). */
int qcow2_create(const char *file, const BlockCreateOpts *o, char *err, size_t errlen);

/* qcow2_info / qcow2_check: back ends of blk_info and blk_check. */
int qcow2_info(const char *file, BlockInfo *info, char *err, size_t errlen);
int qcow2_check(const char *file, BlockCheck *res, FILE *report, char *err, size_t errlen);

/* blk_open_depth: blk_open for backing files (read-only, chain depth bounded). */
BlockBackend *blk_open_depth(const char *file, const char *format, unsigned flags, int depth,
                             char *err, size_t errlen);

/* Full-length pread/pwrite that retry on EINTR and short transfers. pread zero-fills past the
 * end of the file. Return 0 or -errno. */
int blk_full_pread(int fd, void *buf, size_t len, uint64_t off);
int blk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off);

#endif
