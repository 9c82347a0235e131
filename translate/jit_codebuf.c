/* jit_codebuf.c: executable memory for generated code, never writable and executable through
 * the same mapping (W^X): a memfd mapped twice (RW and RX), or one mapping flipped between
 * RW and RX with mprotect where memfd is unavailable. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "translate/jit_internal.h"

int codebuf_init(CodeBuf *cb, size_t size)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    size = (size + page - 1) & ~(page - 1);
    cb->size = size;
    cb->used = 0;
    /* A quarter for the slow paths, so that the block bodies lie close together. */
    cb->cold_start = (size - size / 4) & ~(size_t)63;
    cb->cold_used = cb->cold_start;
    cb->writable = false;
    int fd = memfd_create("anyvm-jit", MFD_CLOEXEC);
    if (fd >= 0) {
        if (ftruncate(fd, (off_t)size) == 0) {
            void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            void *rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
            if (rw != MAP_FAILED && rx != MAP_FAILED) {
                close(fd);
                cb->rw = rw;
                cb->rx = rx;
                cb->dual = true;
                return 0;
            }
            if (rw != MAP_FAILED) {
                munmap(rw, size);
            }
            if (rx != MAP_FAILED) {
                munmap(rx, size);
            }
        }
        close(fd);
    }
    /* Fallback: one private mapping, RX except while written. */
    void *p = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    cb->rw = cb->rx = p;
    cb->dual = false;
    return 0;
}

void codebuf_destroy(CodeBuf *cb)
{
    if (cb->rw) {
        munmap(cb->rw, cb->size);
    }
    if (cb->dual && cb->rx) {
        munmap(cb->rx, cb->size);
    }
    cb->rw = cb->rx = NULL;
}

void codebuf_begin_write(CodeBuf *cb)
{
    if (!cb->dual && !cb->writable) {
        /* Failure leaves the mapping RX: the write that follows would fault, which is an
         * internal error rather than something the guest controls. */
        (void)mprotect(cb->rw, cb->size, PROT_READ | PROT_WRITE);
        cb->writable = true;
    }
}

void codebuf_end_write(CodeBuf *cb)
{
    if (!cb->dual && cb->writable) {
        (void)mprotect(cb->rw, cb->size, PROT_READ | PROT_EXEC);
        cb->writable = false;
    }
    /* x86 keeps instruction fetch coherent with stores through another mapping; a serialising
     * instruction is not needed for cross-modifying code on the same thread. */
}

void codebuf_reset(CodeBuf *cb, size_t keep)
{
    cb->used = keep;
    cb->cold_used = cb->cold_start;
}
