/* bus.h: IOOps, the one callback table type for MMIO regions and I/O ports. */
#ifndef ANYVM_CORE_BUS_H
#define ANYVM_CORE_BUS_H

#include <stdint.h>

/* IOOps: how a device answers accesses. `addr` is the offset inside the region (or port range);
 * `size` is in bytes (1, 2, 4 or 8). Accesses wider than max_access are split into several
 * little-endian pieces; narrower than min_access are widened (reads extract, writes do
 * read-modify-write). A NULL read returns all-ones; a NULL write ignores the access. */
typedef struct IOOps {
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t val, unsigned size);
    unsigned min_access; /* 0 means 1 */
    unsigned max_access; /* 0 means 4 */
} IOOps;

#endif
