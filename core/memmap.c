/* memmap.c: the guest physical memory map (RAM, ROM, MMIO with priorities) and IOOps dispatch.
 *
 * Regions live in a fixed table. After every change the table is flattened into a sorted list
 * of spans, each naming the one region visible over [start, end); a lookup is a binary search
 * over that list. Example: RAM [0, 1 MiB) at priority 0 and VGA MMIO [0xA0000, 0xC0000) at
 * priority 1 give three spans:
 *     [0, 0xA0000) -> RAM,  [0xA0000, 0xC0000) -> VGA,  [0xC0000, 0x100000) -> RAM
 * Gaps between spans are unassigned: reads return all-ones, writes are dropped.
 *
 * An access that fits inside one span takes the fast path (a load/store on host memory for
 * RAM/ROM, one ioops_read/ioops_write for MMIO). Anything else (crossing spans, unassigned
 * bytes, odd sizes) goes through mem_access_bytes, which walks span by span.
 *
 * Region ends are exclusive and must not wrap, so the very last byte of the 64-bit space
 * (0xFFFF_FFFF_FFFF_FFFF) cannot be mapped; no PC needs it. */
#include "core/memmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- IOOps access rules (declared in core/bus.h) ---- */

static inline uint64_t ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Largest power of two <= v (v in 1..8). */
static inline unsigned pow2_floor(unsigned v)
{
    return v >= 8 ? 8 : v >= 4 ? 4 : v >= 2 ? 2 : 1;
}

/* max_access normalised to a power of two in 1..8. */
static inline unsigned ops_max(const IOOps *ops)
{
    unsigned m = ops->max_access ? ops->max_access : 4;
    return pow2_floor(m);
}

/* min_access normalised to a power of two in 1..max. */
static inline unsigned ops_min(const IOOps *ops, unsigned max)
{
    unsigned m = ops->min_access ? ops->min_access : 1;
    unsigned p = 1;
    while (p < m && p < max) {
        p <<= 1;
    }
    return p;
}

/* One aligned unit of exactly `size` bytes, size within [min, max]. */
static inline uint64_t unit_read(const IOOps *ops, void *opaque, uint64_t addr, unsigned size)
{
    if (!ops->read) {
        return ones(size);
    }
    return ops->read(opaque, addr, size) & ones(size);
}

/* One naturally aligned power-of-two piece of p <= max bytes, widened when p < min. */
static uint64_t piece_read(const IOOps *ops, void *opaque, uint64_t addr, unsigned p, unsigned min)
{
    if (p >= min) {
        return unit_read(ops, opaque, addr, p);
    }
    uint64_t wbase = addr & ~(uint64_t)(min - 1);
    uint64_t wide = unit_read(ops, opaque, wbase, min);
    return (wide >> (8 * (addr - wbase))) & ones(p);
}

static void piece_write(const IOOps *ops, void *opaque, uint64_t addr, uint64_t val, unsigned p,
                        unsigned min)
{
    if (!ops->write) {
        return;
    }
    if (p >= min) {
        ops->write(opaque, addr, val & ones(p), p);
        return;
    }
    uint64_t wbase = addr & ~(uint64_t)(min - 1);
    unsigned shift = 8 * (unsigned)(addr - wbase);
    uint64_t wide = unit_read(ops, opaque, wbase, min);
    wide = (wide & ~(ones(p) << shift)) | ((val & ones(p)) << shift);
    ops->write(opaque, wbase, wide, min);
}

/* Size of the next piece at addr with rem bytes left: the largest naturally aligned power of
 * two that fits in rem and max. This mirrors how the x86 bus breaks a misaligned access into
 * aligned cycles, so a device only ever sees aligned accesses of its supported widths. */
static inline unsigned next_piece(uint64_t addr, unsigned rem, unsigned max)
{
    unsigned p = pow2_floor(rem < max ? rem : max);
    while (addr & (p - 1)) {
        p >>= 1;
    }
    return p;
}

uint64_t ioops_read(const IOOps *ops, void *opaque, uint64_t addr, unsigned size)
{
    if (size == 0) {
        return 0;
    }
    if (size > 8) {
        size = 8;
    }
    unsigned max = ops_max(ops);
    unsigned min = ops_min(ops, max);
    if (size >= min && size <= max && (size & (size - 1)) == 0 && (addr & (size - 1)) == 0) {
        return unit_read(ops, opaque, addr, size);
    }
    uint64_t val = 0;
    for (unsigned done = 0; done < size;) {
        unsigned p = next_piece(addr + done, size - done, max);
        val |= piece_read(ops, opaque, addr + done, p, min) << (8 * done);
        done += p;
    }
    return val;
}

void ioops_write(const IOOps *ops, void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    if (size == 0 || !ops->write) {
        return;
    }
    if (size > 8) {
        size = 8;
    }
    unsigned max = ops_max(ops);
    unsigned min = ops_min(ops, max);
    if (size >= min && size <= max && (size & (size - 1)) == 0 && (addr & (size - 1)) == 0) {
        ops->write(opaque, addr, val & ones(size), size);
        return;
    }
    for (unsigned done = 0; done < size;) {
        unsigned p = next_piece(addr + done, size - done, max);
        piece_write(ops, opaque, addr + done, val >> (8 * done), p, min);
        done += p;
    }
}

/* ---- little-endian host memory helpers ---- */

static inline uint64_t load_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    switch (size) {
    case 1:
        return p[0];
    case 2: {
        uint16_t x;
        memcpy(&x, p, 2);
        return x;
    }
    case 4: {
        uint32_t x;
        memcpy(&x, p, 4);
        return x;
    }
    case 8:
        memcpy(&v, p, 8);
        return v;
    default:
        break;
    }
#endif
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static inline void store_le(uint8_t *p, uint64_t v, unsigned size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    switch (size) {
    case 1:
        p[0] = (uint8_t)v;
        return;
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
        return;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
        return;
    }
    case 8:
        memcpy(p, &v, 8);
        return;
    default:
        break;
    }
#endif
    for (unsigned i = 0; i < size; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* ---- region table and spans ---- */

void memmap_init(MemMap *m, Logger *log)
{
    memset(m, 0, sizeof(*m));
    m->log = log;
    m->generation = 1;
}

static bool regions_overlap(const MemRegion *a, const MemRegion *b)
{
    return a->base < b->base + b->size && b->base < a->base + a->size;
}

/* Whether region idx (enabled, in use) collides with another live region of equal priority. */
static bool conflicts(const MemMap *m, int idx)
{
    const MemRegion *r = &m->regions[idx];
    for (int i = 0; i < MEMMAP_MAX_REGIONS; i++) {
        const MemRegion *o = &m->regions[i];
        if (i != idx && o->in_use && o->enabled && o->priority == r->priority &&
            regions_overlap(r, o)) {
            return true;
        }
    }
    return false;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Recompute the span list from the region table and bump the generation. With n live regions
 * there are at most 2n distinct boundaries and hence at most 2n - 1 spans, which fits. */
static void rebuild(MemMap *m)
{
    uint64_t bounds[2 * MEMMAP_MAX_REGIONS];
    int nb = 0;
    for (int i = 0; i < MEMMAP_MAX_REGIONS; i++) {
        const MemRegion *r = &m->regions[i];
        if (r->in_use && r->enabled) {
            bounds[nb++] = r->base;
            bounds[nb++] = r->base + r->size;
        }
    }
    qsort(bounds, (size_t)nb, sizeof(bounds[0]), cmp_u64);
    int nu = 0;
    for (int i = 0; i < nb; i++) {
        if (nu == 0 || bounds[nu - 1] != bounds[i]) {
            bounds[nu++] = bounds[i];
        }
    }
    m->n_spans = 0;
    m->hot_span = 0;
    for (int i = 0; i + 1 < nu; i++) {
        uint64_t s = bounds[i], e = bounds[i + 1];
        int best = -1;
        for (int j = 0; j < MEMMAP_MAX_REGIONS; j++) {
            const MemRegion *r = &m->regions[j];
            if (r->in_use && r->enabled && r->base <= s && e <= r->base + r->size &&
                (best < 0 || r->priority > m->regions[best].priority)) {
                best = j;
            }
        }
        if (best < 0) {
            continue;
        }
        struct MemSpan *prev = m->n_spans ? &m->spans[m->n_spans - 1] : NULL;
        if (prev && prev->region == best && prev->end == s) {
            prev->end = e;
        } else {
            m->spans[m->n_spans++] = (struct MemSpan){s, e, best};
        }
    }
    m->generation++;
}

static int map_region(MemMap *m, const char *name, MemRegionKind kind, uint64_t base,
                      uint64_t size, uint8_t *host, const IOOps *ops, void *opaque, int priority)
{
    if (size == 0 || base > UINT64_MAX - size) {
        return -EINVAL;
    }
    if ((kind == MR_MMIO && !ops) || (kind != MR_MMIO && !host)) {
        return -EINVAL;
    }
    int idx = -1;
    for (int i = 0; i < MEMMAP_MAX_REGIONS; i++) {
        if (!m->regions[i].in_use) {
            idx = i;
            break;
        }
    }
    if (idx < 0) {
        return -ENOSPC;
    }
    MemRegion *r = &m->regions[idx];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
    r->kind = kind;
    r->base = base;
    r->size = size;
    r->priority = priority;
    r->host = host;
    r->ops = ops;
    r->opaque = opaque;
    r->enabled = true;
    r->in_use = true;
    if (conflicts(m, idx)) {
        r->in_use = false;
        return -EBUSY;
    }
    rebuild(m);
    return idx;
}

int mem_map_ram(MemMap *m, const char *name, uint64_t base, uint64_t size, uint8_t *host,
                int priority)
{
    return map_region(m, name, MR_RAM, base, size, host, NULL, NULL, priority);
}

int mem_map_rom(MemMap *m, const char *name, uint64_t base, uint64_t size, uint8_t *host,
                int priority)
{
    return map_region(m, name, MR_ROM, base, size, host, NULL, NULL, priority);
}

int mem_map_mmio(MemMap *m, const char *name, uint64_t base, uint64_t size, const IOOps *ops,
                 void *opaque, int priority)
{
    return map_region(m, name, MR_MMIO, base, size, NULL, ops, opaque, priority);
}

void mem_unmap(MemMap *m, int handle)
{
    if (handle < 0 || handle >= MEMMAP_MAX_REGIONS || !m->regions[handle].in_use) {
        return;
    }
    m->regions[handle].in_use = false;
    m->regions[handle].enabled = false;
    rebuild(m);
}

int mem_move(MemMap *m, int handle, uint64_t new_base, bool enabled)
{
    if (handle < 0 || handle >= MEMMAP_MAX_REGIONS || !m->regions[handle].in_use) {
        return -EINVAL;
    }
    MemRegion *r = &m->regions[handle];
    int ret = 0;
    r->enabled = false;
    if (new_base > UINT64_MAX - r->size) {
        ret = -EINVAL;
    } else {
        r->base = new_base;
        if (enabled) {
            r->enabled = true;
            if (conflicts(m, handle)) {
                r->enabled = false;
                ret = -EBUSY;
            }
        }
    }
    rebuild(m);
    return ret;
}

/* Index of the span containing addr, or -1. *next gets the index of the first span starting
 * above addr (n_spans if none), for measuring an unassigned gap. */
static inline int span_find(const MemMap *m, uint64_t addr, int *next)
{
    int lo = 0, hi = m->n_spans;
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (m->spans[mid].start <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* lo = first span with start > addr */
    if (next) {
        *next = lo;
    }
    if (lo > 0 && addr < m->spans[lo - 1].end) {
        return lo - 1;
    }
    return -1;
}

const MemRegion *mem_find(const MemMap *m, uint64_t addr)
{
    int s = span_find(m, addr, NULL);
    return s < 0 ? NULL : &m->regions[m->spans[s].region];
}

/* Copy len bytes between guest physical memory and buf, span by span. The general path for
 * DMA, loaders and every access the fast paths decline. Addresses wrap at 2^64. */
static void mem_access_bytes(MemMap *m, uint64_t addr, uint8_t *buf, size_t len, bool write)
{
    while (len > 0) {
        int next;
        int si = span_find(m, addr, &next);
        uint64_t chunk;
        if (si < 0) {
            /* Unassigned up to the next span or the top of the address space. */
            uint64_t gap = next < m->n_spans ? m->spans[next].start - addr : 0 - addr;
            chunk = (gap == 0 || gap > len) ? len : gap;
            if (write) {
                LOG_ONCE(m->log, LOG_UNIMP, "memmap: write to unassigned address 0x%llx ignored\n",
                         (unsigned long long)addr);
            } else {
                memset(buf, 0xff, (size_t)chunk);
                LOG_ONCE(m->log, LOG_UNIMP,
                         "memmap: read from unassigned address 0x%llx returns all-ones\n",
                         (unsigned long long)addr);
            }
        } else {
            const struct MemSpan *s = &m->spans[si];
            const MemRegion *r = &m->regions[s->region];
            uint64_t off = addr - r->base;
            chunk = s->end - addr;
            if (chunk > len) {
                chunk = len;
            }
            if (r->kind == MR_MMIO) {
                for (uint64_t done = 0; done < chunk;) {
                    unsigned n = chunk - done > 8 ? 8 : (unsigned)(chunk - done);
                    if (write) {
                        ioops_write(r->ops, r->opaque, off + done, load_le(buf + done, n), n);
                    } else {
                        store_le(buf + done, ioops_read(r->ops, r->opaque, off + done, n), n);
                    }
                    done += n;
                }
            } else if (!write) {
                memcpy(buf, r->host + off, (size_t)chunk);
            } else if (r->kind == MR_RAM) {
                memcpy(r->host + off, buf, (size_t)chunk);
                mem_notify_ram_write(m, addr, chunk);
            } else {
                LOG_ONCE(m->log, LOG_GUEST_ERROR, "memmap: write to ROM '%s' at 0x%llx ignored\n",
                         r->name, (unsigned long long)addr);
            }
        }
        addr += chunk;
        buf += chunk;
        len -= (size_t)chunk;
    }
}

uint64_t mem_read(MemMap *m, uint64_t addr, unsigned size)
{
    if (size - 1u >= 8u) {
        return size == 0 ? 0 : ~0ull;
    }
    int si = span_find(m, addr, NULL);
    if (si >= 0 && m->spans[si].end - addr >= size) {
        const MemRegion *r = &m->regions[m->spans[si].region];
        if (r->kind != MR_MMIO) {
            return load_le(r->host + (addr - r->base), size);
        }
        return ioops_read(r->ops, r->opaque, addr - r->base, size);
    }
    uint8_t b[8];
    mem_access_bytes(m, addr, b, size, false);
    return load_le(b, size);
}

void mem_write(MemMap *m, uint64_t addr, uint64_t val, unsigned size)
{
    if (size - 1u >= 8u) {
        return;
    }
    int si = span_find(m, addr, NULL);
    if (si >= 0 && m->spans[si].end - addr >= size) {
        const MemRegion *r = &m->regions[m->spans[si].region];
        if (r->kind == MR_RAM) {
            store_le(r->host + (addr - r->base), val, size);
            mem_notify_ram_write(m, addr, size);
            return;
        }
        if (r->kind == MR_MMIO) {
            ioops_write(r->ops, r->opaque, addr - r->base, val, size);
            return;
        }
    }
    uint8_t b[8];
    store_le(b, val, size);
    mem_access_bytes(m, addr, b, size, true);
}

void mem_read_buf(MemMap *m, uint64_t addr, void *buf, size_t len)
{
    mem_access_bytes(m, addr, buf, len, false);
}

void mem_write_buf(MemMap *m, uint64_t addr, const void *buf, size_t len)
{
    /* The write path only reads from buf; the cast keeps one walker for both directions. */
    mem_access_bytes(m, addr, (uint8_t *)buf, len, true);
}

void mem_notify_ram_write(MemMap *m, uint64_t addr, uint64_t len)
{
    if (m->ram_written && len) {
        m->ram_written(m->ram_written_opaque, addr, len);
    }
}

uint8_t *mem_ram_ptr(MemMap *m, uint64_t addr, size_t len, bool writable)
{
    int si = m->hot_span;
    if (si >= m->n_spans || addr < m->spans[si].start || addr >= m->spans[si].end) {
        si = span_find(m, addr, NULL);
        if (si < 0) {
            return NULL;
        }
        m->hot_span = si;
    }
    if (m->spans[si].end - addr < len) {
        return NULL;
    }
    MemRegion *r = &m->regions[m->spans[si].region];
    if (r->kind == MR_RAM || (r->kind == MR_ROM && !writable)) {
        return r->host + (addr - r->base);
    }
    return NULL;
}
