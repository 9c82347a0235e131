/* ioport.h: the 64 KiB x86 I/O port space, dispatched through IOOps like MMIO. */
#ifndef ANYVM_CORE_IOPORT_H
#define ANYVM_CORE_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/log.h"

#define PORTMAP_MAX 256

typedef struct PortRange {
    char name[32];
    uint16_t base;
    uint32_t len;     /* ports [base, base+len) */
    const IOOps *ops;
    void *opaque;
    bool in_use;
} PortRange;

/* PortMap: ranges plus a 64K-entry index (range number + 1, 0 = unassigned). */
typedef struct PortMap {
    PortRange ranges[PORTMAP_MAX];
    uint16_t index[65536];
    Logger *log;
} PortMap;

void portmap_init(PortMap *p, Logger *log);

/* port_map: claim ports [base, base+len). Returns a handle (>= 0), -EBUSY on overlap,
 * -EINVAL or -ENOSPC. The ops' `addr` is the offset from base. */
int port_map(PortMap *p, const char *name, uint16_t base, uint32_t len, const IOOps *ops,
             void *opaque) __attribute__((warn_unused_result));
void port_unmap(PortMap *p, int handle);

/* port_read / port_write: one access of 1, 2 or 4 bytes. Unassigned ports read all-ones and
 * ignore writes (logged once per port under LOG_UNIMP). Split as for memory. */
uint32_t port_read(PortMap *p, uint16_t port, unsigned size);
void port_write(PortMap *p, uint16_t port, uint32_t val, unsigned size);

#endif
