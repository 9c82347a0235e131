/* block_raw.c: raw image files: sector i of the medium is bytes 512*i of the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/block_int.h"

typedef struct RawImage {
    int fd;
} RawImage;

int blk_full_pread(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            memset(p, 0, len); /* past the end of the file reads as zeros */
            return 0;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int blk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -EIO;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int raw_pread(void *opaque, uint64_t offset, void *buf, size_t len)
{
    RawImage *r = opaque;
    return blk_full_pread(r->fd, buf, len, offset);
}

static int raw_pwrite(void *opaque, uint64_t offset, const void *buf, size_t len)
{
    RawImage *r = opaque;
    return blk_full_pwrite(r->fd, buf, len, offset);
}

static int raw_flush(void *opaque)
{
    RawImage *r = opaque;
    return fsync(r->fd) < 0 ? -errno : 0;
}

static void raw_close(void *opaque)
{
    RawImage *r = opaque;
    close(r->fd);
    free(r);
}

static const BlockOps raw_ops = {
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .close = raw_close,
};

BlockBackend *raw_open(const char *file, bool readonly, char *err, size_t errlen)
{
    int fd = open(file, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }
    struct stat st;
    off_t size;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        close(fd);
        return NULL;
    }
    if (S_ISBLK(st.st_mode)) {
        size = lseek(fd, 0, SEEK_END);
    } else {
        size = st.st_size;
    }
    if (size < 0) {
        snprintf(err, errlen, "%s: cannot find its size", file);
        close(fd);
        return NULL;
    }
    RawImage *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    r->fd = fd;
    /* A trailing partial sector is part of the medium (it reads as zero-padded). */
    uint64_t sectors = ((uint64_t)size + BLK_SECTOR_SIZE - 1) / BLK_SECTOR_SIZE;
    BlockBackend *blk = blk_new(&raw_ops, r, sectors, readonly, file);
    if (!blk) {
        snprintf(err, errlen, "out of memory");
    }
    return blk;
}
