/* block.h: BlockBackend, what a disk device sees of its medium: 512-byte sectors, a size, a
 * read-only flag, and read/write/flush requests (synchronous now, asynchronous-capable). */
#ifndef ANYVM_CORE_BLOCK_H
#define ANYVM_CORE_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_SECTOR_SIZE 512u
#define BLK_SECTOR_BITS 9

typedef struct BlockBackend BlockBackend;

/* BlockOps: what an image format implements. Offsets and lengths are in bytes, always whole
 * sectors and inside the medium (blk_* checks before calling). Each returns 0 or -errno.
 * close releases the opaque state (and any backing chain it owns). */
typedef struct BlockOps {
    int (*pread)(void *opaque, uint64_t offset, void *buf, size_t len);
    int (*pwrite)(void *opaque, uint64_t offset, const void *buf, size_t len);
    int (*flush)(void *opaque);
    void (*close)(void *opaque);
} BlockOps;

/* BlockBackend: one opened medium. Created by a host backend (frontend/block.h) or by a test
 * with blk_new(); the device that uses it never frees it. */
struct BlockBackend {
    const BlockOps *ops;
    void *opaque;
    uint64_t sectors; /* medium size in 512-byte sectors */
    bool readonly;
    char name[64];                        /* for messages: the file name */
    uint64_t rd_bytes, wr_bytes, flushes; /* statistics */
};

typedef enum BlockReqType { BLK_REQ_READ, BLK_REQ_WRITE, BLK_REQ_FLUSH } BlockReqType;

/* BlockRequest: an asynchronous request. The completion runs once with 0 or -errno; today it
 * runs before blk_submit returns, later backends may complete from the main loop. The caller
 * keeps req and buf alive until the completion ran. */
typedef struct BlockRequest {
    BlockReqType type;
    uint64_t sector;
    uint32_t count; /* sectors */
    void *buf;
    void (*done)(void *opaque, struct BlockRequest *req, int ret);
    void *opaque;
} BlockRequest;

/* blk_new: wrap ops/opaque (sectors, readonly, name) into a malloc'ed BlockBackend; NULL on
 * out of memory (ops->close is then called on opaque). */
BlockBackend *blk_new(const BlockOps *ops, void *opaque, uint64_t sectors, bool readonly,
                      const char *name);

/* blk_close: close the image and free blk. NULL is fine. */
void blk_close(BlockBackend *blk);

/* blk_read / blk_write: count sectors at sector. Return 0, -EINVAL (out of range or overflow),
 * -EROFS (write to read-only media) or the backend's -errno. */
int blk_read(BlockBackend *blk, uint64_t sector, void *buf, uint32_t count)
    __attribute__((warn_unused_result));
int blk_write(BlockBackend *blk, uint64_t sector, const void *buf, uint32_t count)
    __attribute__((warn_unused_result));

/* blk_flush: make every completed write durable on the host (fsync). Returns 0 or -errno. */
int blk_flush(BlockBackend *blk) __attribute__((warn_unused_result));

/* blk_submit: start req; its completion reports the result (see BlockRequest). */
void blk_submit(BlockBackend *blk, BlockRequest *req);

/* blk_pread: a byte-addressed read for the formats' own code (backing files, tools): offset
 * and len must be sector multiples. Returns 0 or -errno. */
int blk_pread(BlockBackend *blk, uint64_t offset, void *buf, size_t len)
    __attribute__((warn_unused_result));

#endif
