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

/* ioops_read / ioops_write: perform one access of 1..8 bytes at offset addr of a device, applying
 * the rules above: the access is cut into naturally aligned little-endian pieces no wider than
 * max_access, and a piece narrower than min_access is widened to the aligned min_access unit
 * around it (reads extract the bytes, writes read-modify-write). Used by the memory and port
 * maps; exposed for buses that forward accesses (PCI config, ISA bridges). */
uint64_t ioops_read(const IOOps *ops, void *opaque, uint64_t addr, unsigned size);
void ioops_write(const IOOps *ops, void *opaque, uint64_t addr, uint64_t val, unsigned size);

#endif
