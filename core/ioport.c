/* ioport.c: the 64 KiB x86 I/O port space: port ranges, a 64K index and IOOps dispatch.
 *
 * Every port holds the number of the range that claims it (plus one; 0 = unassigned), so a
 * lookup is one array load. An access that stays inside one range goes to ioops_read/
 * ioops_write (which apply the max_access/min_access rules of core/bus.h); anything else is
 * split into per-range pieces, unassigned bytes reading as 0xFF.
 *
 * Accesses crossing port 0xFFFF: the bytes beyond 0xFFFF are treated as unassigned (read
 * all-ones, writes dropped) rather than wrapped to port 0. A word or dword access at 0xFFFF
 * drives address bit 16 on real hardware, which no 16-bit port decoder claims as 0xFFFF's
 * neighbour; wrapping would instead hand an access to whatever lives at port 0 (the 8237 DMA
 * controller), which is the more surprising outcome. */
#include "core/ioport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void portmap_init(PortMap *p, Logger *log)
{
    memset(p, 0, sizeof(*p));
    p->log = log;
}

int port_map(PortMap *p, const char *name, uint16_t base, uint32_t len, const IOOps *ops,
             void *opaque)
{
    if (len == 0 || len > 0x10000u - base || !ops) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (p->index[base + i]) {
            return -EBUSY;
        }
    }
    int idx = -1;
    for (int i = 0; i < PORTMAP_MAX; i++) {
        if (!p->ranges[i].in_use) {
            idx = i;
            break;
        }
    }
    if (idx < 0) {
        return -ENOSPC;
    }
    PortRange *r = &p->ranges[idx];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
    r->base = base;
    r->len = len;
    r->ops = ops;
    r->opaque = opaque;
    r->in_use = true;
    for (uint32_t i = 0; i < len; i++) {
        p->index[base + i] = (uint16_t)(idx + 1);
    }
    return idx;
}

void port_unmap(PortMap *p, int handle)
{
    if (handle < 0 || handle >= PORTMAP_MAX || !p->ranges[handle].in_use) {
        return;
    }
    PortRange *r = &p->ranges[handle];
    for (uint32_t i = 0; i < r->len; i++) {
        p->index[r->base + i] = 0;
    }
    r->in_use = false;
}

/* All-ones in bytes [at, at+n) of a 32-bit value. */
static inline uint32_t ones_at(unsigned at, unsigned n)
{
    return (uint32_t)(((1ull << (8 * n)) - 1) << (8 * at));
}

/* Walk [port, port+size) range by range; reads fill *val (little-endian), writes take from val.
 * Bytes past 0xFFFF and unassigned ports are all-ones on read and dropped on write; each
 * unassigned port is logged once (the key is its index slot, unique per port and per map). */
static uint32_t port_access_slow(PortMap *p, uint16_t port, uint32_t val, unsigned size,
                                 bool write)
{
    uint32_t out = 0;
    unsigned done = 0;
    while (done < size) {
        uint32_t a = (uint32_t)port + done;
        unsigned rem = size - done;
        unsigned chunk;
        if (a > 0xFFFF) {
            chunk = rem;
            LOG_ONCE(p->log, LOG_UNIMP, "ioport: %u-byte access at 0x%x runs past port 0xffff\n",
                     size, (unsigned)port);
            out |= ones_at(done, chunk);
        } else if (!p->index[a]) {
            chunk = 1;
            while (chunk < rem && a + chunk <= 0xFFFF && !p->index[a + chunk]) {
                chunk++;
            }
            log_once(p->log, LOG_UNIMP, &p->index[a], "ioport: %s unassigned port 0x%x\n",
                     write ? "write to" : "read from", a);
            out |= ones_at(done, chunk);
        } else {
            const PortRange *r = &p->ranges[p->index[a] - 1];
            uint32_t left = r->base + r->len - a;
            chunk = rem < left ? rem : left;
            if (write) {
                ioops_write(r->ops, r->opaque, a - r->base, val >> (8 * done), chunk);
            } else {
                uint64_t v = ioops_read(r->ops, r->opaque, a - r->base, chunk);
                out |= (uint32_t)(v << (8 * done));
            }
        }
        done += chunk;
    }
    return out;
}

uint32_t port_read(PortMap *p, uint16_t port, unsigned size)
{
    if (size - 1u >= 4u) {
        return size == 0 ? 0 : 0xFFFFFFFFu;
    }
    unsigned idx = p->index[port];
    if (idx) {
        const PortRange *r = &p->ranges[idx - 1];
        if ((uint32_t)r->base + r->len - port >= size) {
            return (uint32_t)ioops_read(r->ops, r->opaque, port - r->base, size);
        }
    }
    uint32_t v = port_access_slow(p, port, 0, size, false);
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

void port_write(PortMap *p, uint16_t port, uint32_t val, unsigned size)
{
    if (size - 1u >= 4u) {
        return;
    }
    unsigned idx = p->index[port];
    if (idx) {
        const PortRange *r = &p->ranges[idx - 1];
        if ((uint32_t)r->base + r->len - port >= size) {
            ioops_write(r->ops, r->opaque, port - r->base, val, size);
            return;
        }
    }
    port_access_slow(p, port, val, size, true);
}
