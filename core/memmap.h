/* memmap.h: the guest physical memory map: RAM, ROM and MMIO regions with priorities. */
#ifndef ANYVM_CORE_MEMMAP_H
#define ANYVM_CORE_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/log.h"

typedef enum MemRegionKind { MR_RAM, MR_ROM, MR_MMIO } MemRegionKind;

/* MemRegion: one mapping. RAM and ROM point at host memory owned by the caller; MMIO calls ops.
 * Regions of equal priority may not overlap; a higher priority region hides lower ones where
 * they overlap (e.g. the VGA window over low RAM, a PCI BAR over nothing). */
typedef struct MemRegion {
    char name[32];
    MemRegionKind kind;
    uint64_t base, size;
    int priority;
    uint8_t *host;          /* RAM/ROM backing, size bytes */
    const IOOps *ops;       /* MMIO */
    void *opaque;
    bool enabled;
    bool in_use;
} MemRegion;

#define MEMMAP_MAX_REGIONS 128

/* MemMap: the region table plus a flattened, sorted view rebuilt after each change. */
typedef struct MemMap {
    MemRegion regions[MEMMAP_MAX_REGIONS];
    struct MemSpan {
        uint64_t start, end; /* [start, end) */
        int region;          /* index into regions */
    } spans[2 * MEMMAP_MAX_REGIONS + 1];
    int n_spans;
    int hot_span;            /* the span mem_ram_ptr found last (a cache: page walks and TLB
                                fills land in the same RAM span nearly every time) */
    unsigned generation;     /* bumped on every change: TLBs and TBs flush on mismatch */
    Logger *log;
    /* ram_written: called after anything but the CPU's own stores wrote guest RAM (DMA,
     * loaders, the monitor, mem_write of RAM): the JIT drops the blocks translated from it.
     * NULL when nothing caches code. */
    void (*ram_written)(void *opaque, uint64_t addr, uint64_t len);
    void *ram_written_opaque;
} MemMap;

/* memmap_init: an empty map (every address unassigned). log may be NULL. */
void memmap_init(MemMap *m, Logger *log);

/* mem_map_ram / mem_map_rom / mem_map_mmio: add a region. Return its handle (>= 0) or
 * -EBUSY (overlaps an equal-priority region), -EINVAL (bad size/range), -ENOSPC. */
int mem_map_ram(MemMap *m, const char *name, uint64_t base, uint64_t size, uint8_t *host,
                int priority) __attribute__((warn_unused_result));
int mem_map_rom(MemMap *m, const char *name, uint64_t base, uint64_t size, uint8_t *host,
                int priority) __attribute__((warn_unused_result));
int mem_map_mmio(MemMap *m, const char *name, uint64_t base, uint64_t size, const IOOps *ops,
                 void *opaque, int priority) __attribute__((warn_unused_result));

/* mem_unmap: remove a region by handle. */
void mem_unmap(MemMap *m, int handle);

/* mem_move: change a region's base (PCI BAR programming) and/or enable it. Returns 0 or
 * -EBUSY/-EINVAL; on error the region is left disabled. */
int mem_move(MemMap *m, int handle, uint64_t new_base, bool enabled)
    __attribute__((warn_unused_result));

/* mem_find: the region visible at addr, or NULL if unassigned. */
const MemRegion *mem_find(const MemMap *m, uint64_t addr);

/* mem_read / mem_write: one access of size 1, 2, 4 or 8 bytes, little-endian, split across
 * region boundaries and per IOOps limits. Unassigned reads return all-ones (logged once). */
uint64_t mem_read(MemMap *m, uint64_t addr, unsigned size);
void mem_write(MemMap *m, uint64_t addr, uint64_t val, unsigned size);

/* mem_rw: copy len bytes between guest physical memory and buf (DMA, loaders). Writes to
 * RAM call the ram_written hook. */
void mem_read_buf(MemMap *m, uint64_t addr, void *buf, size_t len);
void mem_write_buf(MemMap *m, uint64_t addr, const void *buf, size_t len);

/* mem_notify_ram_write: [addr, addr+len) of RAM was written behind the memory map's back
 * (a device holding a host pointer into RAM): tell the ram_written hook. mem_write,
 * mem_write_buf and every device DMA path that goes through them do this already. */
void mem_notify_ram_write(MemMap *m, uint64_t addr, uint64_t len);

/* mem_ram_ptr: host pointer for [addr, addr+len) if it lies entirely in one RAM region
 * (writable) or ROM region (writable == false only), else NULL. The fast path for the CPU. */
uint8_t *mem_ram_ptr(MemMap *m, uint64_t addr, size_t len, bool writable);

#endif
