/* block.c: the device-facing half of BlockBackend: range and read-only checks, statistics and
 * the synchronous completion of asynchronous requests. */
#include "core/block.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

BlockBackend *blk_new(const BlockOps *ops, void *opaque, uint64_t sectors, bool readonly,
                      const char *name)
{
    BlockBackend *blk = calloc(1, sizeof(*blk));
    if (!blk) {
        if (ops->close) {
            ops->close(opaque);
        }
        return NULL;
    }
    blk->ops = ops;
    blk->opaque = opaque;
    blk->sectors = sectors;
    blk->readonly = readonly;
    snprintf(blk->name, sizeof(blk->name), "%s", name ? name : "");
    return blk;
}

void blk_close(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    if (blk->ops->close) {
        blk->ops->close(blk->opaque);
    }
    free(blk);
}

static bool blk_range_ok(const BlockBackend *blk, uint64_t sector, uint32_t count)
{
    return sector <= blk->sectors && count <= blk->sectors - sector;
}

int blk_read(BlockBackend *blk, uint64_t sector, void *buf, uint32_t count)
{
    if (!blk_range_ok(blk, sector, count)) {
        return -EINVAL;
    }
    if (count == 0) {
        return 0;
    }
    int r = blk->ops->pread(blk->opaque, sector << BLK_SECTOR_BITS, buf,
                            (size_t)count << BLK_SECTOR_BITS);
    if (r == 0) {
        blk->rd_bytes += (uint64_t)count << BLK_SECTOR_BITS;
    }
    return r;
}

int blk_write(BlockBackend *blk, uint64_t sector, const void *buf, uint32_t count)
{
    if (blk->readonly || !blk->ops->pwrite) {
        return -EROFS;
    }
    if (!blk_range_ok(blk, sector, count)) {
        return -EINVAL;
    }
    if (count == 0) {
        return 0;
    }
    int r = blk->ops->pwrite(blk->opaque, sector << BLK_SECTOR_BITS, buf,
                             (size_t)count << BLK_SECTOR_BITS);
    if (r == 0) {
        blk->wr_bytes += (uint64_t)count << BLK_SECTOR_BITS;
    }
    return r;
}

int blk_flush(BlockBackend *blk)
{
    blk->flushes++;
    if (blk->readonly || !blk->ops->flush) {
        return 0;
    }
    return blk->ops->flush(blk->opaque);
}

void blk_submit(BlockBackend *blk, BlockRequest *req)
{
    int r;
    switch (req->type) {
    case BLK_REQ_READ:
        r = blk_read(blk, req->sector, req->buf, req->count);
        break;
    case BLK_REQ_WRITE:
        r = blk_write(blk, req->sector, req->buf, req->count);
        break;
    case BLK_REQ_FLUSH:
        r = blk_flush(blk);
        break;
    default:
        r = -EINVAL;
        break;
    }
    if (req->done) {
        req->done(req->opaque, req, r);
    }
}

int blk_pread(BlockBackend *blk, uint64_t offset, void *buf, size_t len)
{
    if ((offset | len) & (BLK_SECTOR_SIZE - 1) || len >> BLK_SECTOR_BITS > UINT32_MAX) {
        return -EINVAL;
    }
    return blk_read(blk, offset >> BLK_SECTOR_BITS, buf, (uint32_t)(len >> BLK_SECTOR_BITS));
}
