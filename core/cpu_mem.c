/* cpu_mem.c: guest memory as the CPU sees it: segmentation checks, linear accesses through the
 * TLB (RAM by host pointer, MMIO through the MemMap), page-crossing accesses and code fetch.
 *
 * A multi-byte access that crosses a page boundary translates both pages before it writes a
 * byte, so a #PF on the second page leaves memory untouched (SDM Vol. 3, 6.5: faults are
 * restartable).
 */
#include "core/cpu_internal.h"

#include <string.h>

/* --- segmentation --- */

static _Noreturn void seg_fault(CPUState *cpu, int seg)
{
    cpu_raise_exception(cpu, seg == S_SS ? EXC_SS : EXC_GP, true, 0);
}

/* Real mode and V86 (SDM Vol. 3, 20.1.1; INSTRUCTION SET "Real-Address Mode Exceptions"): an
 * operand that does not lie entirely within the limit raises #GP(0), or #SS(0) through SS.
 * In protected mode the type, presence (a null selector leaves P clear) and expand-down rules
 * of SDM Vol. 3, 5.3-5.6 apply as well. */
static inline uint32_t seg_linear(CPUState *cpu, int seg, uint32_t off, unsigned size,
                                  int access)
{
    const SegCache *s = &cpu->seg[seg];
    if (!cpu_pe(cpu) || cpu_v86(cpu)) {
        if (!seg_limit_ok(s, off, size, false)) {
            seg_fault(cpu, seg);
        }
        return s->base + off;
    }
    uint16_t f = s->flags;
    if (!(f & SEGF_P)) {
        seg_fault(cpu, seg);
    }
    if (f & 0x8) {
        /* Code: always executable, readable with R, never writable. */
        if ((access == ACC_WRITE) || (access == ACC_READ && !(f & 0x2))) {
            seg_fault(cpu, seg);
        }
    } else if (access == ACC_WRITE && !(f & 0x2)) {
        seg_fault(cpu, seg);
    }
    if (!seg_limit_ok(s, off, size, true)) {
        seg_fault(cpu, seg);
    }
    return s->base + off;
}

uint32_t cpu_linear(CPUState *cpu, int seg, uint32_t off, unsigned size, int access)
{
    return seg_linear(cpu, seg, off, size, access);
}

/* align_check: #AC(0) for a misaligned data access at CPL 3 with CR0.AM and EFLAGS.AC
 * (SDM Vol. 3, 6.15 "Interrupt 17"). EFLAGS.AC is tested first: it is almost always clear. */
static inline uint32_t align_check(CPUState *cpu, uint32_t lin, unsigned size)
{
    if ((cpu->eflags & EF_AC) && (lin & (size - 1)) && cpu->cpl == 3 &&
        (cpu->cr0 & CR0_AM)) {
        cpu_raise_exception(cpu, EXC_AC, true, 0);
    }
    return lin;
}

/* --- physical accesses --- */

uint32_t cpu_phys_ld(CPUState *cpu, uint32_t phys, unsigned size)
{
    uint8_t *p = mem_ram_ptr(cpu->mem, phys, size, false);
    if (p) {
        uint32_t v = 0;
        memcpy(&v, p, size);
        return v;
    }
    return (uint32_t)mem_read(cpu->mem, phys, size);
}

void cpu_phys_st(CPUState *cpu, uint32_t phys, uint32_t val, unsigned size)
{
    uint8_t *p = mem_ram_ptr(cpu->mem, phys, size, true);
    if (p) {
        memcpy(p, &val, size);
    } else {
        mem_write(cpu->mem, phys, val, size);
    }
    if (code_page_marked(cpu, phys) || code_page_marked(cpu, phys + size - 1)) {
        x86_tcache_invalidate_phys(cpu, phys, size);
    }
}

/* --- linear accesses --- */

/* PageRef: where the bytes of one page-local piece of an access live. */
typedef struct PageRef {
    uint8_t *host;   /* NULL: go through the MemMap at phys */
    uint32_t phys;
    bool code;       /* the frame holds translated code */
    bool watch;      /* the page holds a data breakpoint */
} PageRef;

static inline uint32_t entry_tag(const TLBEntry *e, int access)
{
    return access == ACC_WRITE ? e->tag_write : access == ACC_EXEC ? e->tag_code : e->tag_read;
}

/* page_ref: resolve lin for access through the TLB, filling it on a miss. Returns false only
 * when raise is false and the page faults. */
static bool page_ref(CPUState *cpu, uint32_t lin, int access, bool user, bool raise,
                     PageRef *r)
{
    TLBEntry *e = &tlb_table(cpu, user)[tlb_index(lin)];
    uint32_t tag = entry_tag(e, access);
    if (tag == TLB_INVALID || ((tag ^ lin) & PAGE_MASK_4K) != 0) {
        e = tlb_fill(cpu, lin, access, user, raise);
        if (!e) {
            *r = (PageRef){0};
            return false;
        }
        tag = entry_tag(e, access);
    }
    r->phys = e->paddr | (lin & 0xFFF);
    r->host = (tag & TLB_FLAG_MMIO) ? NULL : (uint8_t *)(e->addend + lin);
    r->code = (tag & TLB_FLAG_CODE) != 0;
    r->watch = (tag & TLB_FLAG_WATCH) != 0;
    return true;
}

static uint32_t ref_load(CPUState *cpu, const PageRef *r, unsigned n)
{
    uint32_t v = 0;
    if (r->host) {
        if (n == 4) {
            memcpy(&v, r->host, 4); /* the common sizes without a library call */
        } else if (n == 2) {
            memcpy(&v, r->host, 2);
        } else {
            memcpy(&v, r->host, n);
        }
        return v;
    }
    if (__builtin_expect(cpu->store_hook != NULL, 0)) {
        cpu->store_hook(cpu, NULL, r->phys, 0); /* lockstep: an MMIO load is not replayable */
    }
    if (n == 3) {
        v = (uint32_t)mem_read(cpu->mem, r->phys, 2);
        v |= (uint32_t)mem_read(cpu->mem, r->phys + 2, 1) << 16;
    } else {
        v = (uint32_t)mem_read(cpu->mem, r->phys, n);
    }
    return v;
}

static void ref_store(CPUState *cpu, const PageRef *r, uint32_t v, unsigned n)
{
    if (__builtin_expect(cpu->store_hook != NULL, 0)) {
        /* JIT lockstep mode journals the bytes about to be overwritten. */
        cpu->store_hook(cpu, r->host, r->phys, n);
    }
    if (r->host) {
        if (n == 4) {
            memcpy(r->host, &v, 4); /* the common sizes without a library call */
        } else if (n == 2) {
            memcpy(r->host, &v, 2);
        } else {
            memcpy(r->host, &v, n);
        }
    } else if (n == 3) {
        mem_write(cpu->mem, r->phys, v & 0xFFFF, 2);
        mem_write(cpu->mem, r->phys + 2, (v >> 16) & 0xFF, 1);
    } else {
        mem_write(cpu->mem, r->phys, v, n);
    }
    if (r->code) {
        x86_tcache_invalidate_phys(cpu, r->phys, n);
    }
}

static uint32_t ld_slow(CPUState *cpu, uint32_t lin, unsigned size, bool user)
{
    unsigned n1 = 0x1000 - (lin & 0xFFF);
    PageRef a, b;
    uint32_t v;
    page_ref(cpu, lin, ACC_READ, user, true, &a);
    bool watch = a.watch;
    if (n1 >= size) {
        v = ref_load(cpu, &a, size);
    } else {
        uint32_t lo = ref_load(cpu, &a, n1);
        page_ref(cpu, lin + n1, ACC_READ, user, true, &b);
        watch |= b.watch;
        uint32_t hi = ref_load(cpu, &b, size - n1);
        v = lo | (hi << (8 * n1));
    }
    if (watch) {
        dbg_check_data(cpu, lin, size, false);
    }
    return v;
}

static void st_slow(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size, bool user)
{
    unsigned n1 = 0x1000 - (lin & 0xFFF);
    PageRef a, b;
    bool watch;
    if (n1 >= size) {
        page_ref(cpu, lin, ACC_WRITE, user, true, &a);
        ref_store(cpu, &a, val, size);
        watch = a.watch;
    } else {
        /* Both pages first: a fault on the second must not leave the first half written. */
        page_ref(cpu, lin, ACC_WRITE, user, true, &a);
        page_ref(cpu, lin + n1, ACC_WRITE, user, true, &b);
        ref_store(cpu, &a, val, n1);
        ref_store(cpu, &b, val >> (8 * n1), size - n1);
        watch = a.watch || b.watch;
    }
    if (watch) {
        dbg_check_data(cpu, lin, size, true);
    }
}

static inline uint32_t ld_lin_priv(CPUState *cpu, uint32_t lin, unsigned size, bool user)
{
    const TLBEntry *e = &tlb_table(cpu, user)[tlb_index(lin)];
    if (e->tag_read == (lin & PAGE_MASK_4K) && (lin & 0xFFF) <= 0x1000u - size) {
        uint32_t v = 0;
        memcpy(&v, (const void *)(e->addend + lin), size);
        return v;
    }
    return ld_slow(cpu, lin, size, user);
}

static inline void st_lin_priv(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size,
                               bool user)
{
    const TLBEntry *e = &tlb_table(cpu, user)[tlb_index(lin)];
    if (e->tag_write == (lin & PAGE_MASK_4K) && (lin & 0xFFF) <= 0x1000u - size) {
        memcpy((void *)(e->addend + lin), &val, size);
        return;
    }
    st_slow(cpu, lin, val, size, user);
}

uint32_t cpu_ld_lin_priv(CPUState *cpu, uint32_t lin, unsigned size, bool user)
{
    return ld_lin_priv(cpu, lin, size, user);
}

void cpu_st_lin_priv(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size, bool user)
{
    st_lin_priv(cpu, lin, val, size, user);
}

uint32_t cpu_ld_lin(CPUState *cpu, uint32_t lin, unsigned size)
{
    return ld_lin_priv(cpu, lin, size, cpu->cpl == 3);
}

void cpu_st_lin(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size)
{
    st_lin_priv(cpu, lin, val, size, cpu->cpl == 3);
}

uint32_t cpu_ld_sys(CPUState *cpu, uint32_t lin, unsigned size)
{
    return ld_lin_priv(cpu, lin, size, false);
}

void cpu_st_sys(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size)
{
    st_lin_priv(cpu, lin, val, size, false);
}

/* --- segmented accesses --- */

uint8_t cpu_ld8(CPUState *cpu, int seg, uint32_t off)
{
    return (uint8_t)cpu_ld_lin(cpu, seg_linear(cpu, seg, off, 1, ACC_READ), 1);
}

uint16_t cpu_ld16(CPUState *cpu, int seg, uint32_t off)
{
    uint32_t lin = align_check(cpu, seg_linear(cpu, seg, off, 2, ACC_READ), 2);
    return (uint16_t)cpu_ld_lin(cpu, lin, 2);
}

uint32_t cpu_ld32(CPUState *cpu, int seg, uint32_t off)
{
    uint32_t lin = align_check(cpu, seg_linear(cpu, seg, off, 4, ACC_READ), 4);
    return cpu_ld_lin(cpu, lin, 4);
}

void cpu_st8(CPUState *cpu, int seg, uint32_t off, uint8_t val)
{
    cpu_st_lin(cpu, seg_linear(cpu, seg, off, 1, ACC_WRITE), val, 1);
}

void cpu_st16(CPUState *cpu, int seg, uint32_t off, uint16_t val)
{
    uint32_t lin = align_check(cpu, seg_linear(cpu, seg, off, 2, ACC_WRITE), 2);
    cpu_st_lin(cpu, lin, val, 2);
}

void cpu_st32(CPUState *cpu, int seg, uint32_t off, uint32_t val)
{
    uint32_t lin = align_check(cpu, seg_linear(cpu, seg, off, 4, ACC_WRITE), 4);
    cpu_st_lin(cpu, lin, val, 4);
}

/* bytes_move: cpu_ld_bytes (write false: memory to buf) or cpu_st_bytes (buf to memory). */
static void bytes_move(CPUState *cpu, int seg, uint32_t off, uint8_t *buf, unsigned len,
                       bool write)
{
    if (len == 0 || len > 0x1000) {
        return;
    }
    int access = write ? ACC_WRITE : ACC_READ;
    bool user = cpu->cpl == 3;
    uint32_t lin = seg_linear(cpu, seg, off, len, access);
    unsigned n1 = 0x1000 - (lin & 0xFFF);
    n1 = n1 < len ? n1 : len;
    /* Both pages before a byte moves: a fault on the second leaves the first untouched. */
    PageRef r[2];
    page_ref(cpu, lin, access, user, true, &r[0]);
    if (n1 < len) {
        page_ref(cpu, lin + n1, access, user, true, &r[1]);
    }
    bool watch = false;
    for (unsigned p = 0, done = 0; done < len; p++) {
        unsigned n = p == 0 ? n1 : len - n1;
        uint8_t *b = buf + done;
        if (r[p].host && !(write && cpu->store_hook)) {
            if (!write) {
                memcpy(b, r[p].host, n);
            } else {
                memcpy(r[p].host, b, n);
                if (r[p].code) {
                    x86_tcache_invalidate_phys(cpu, r[p].phys, n);
                }
            }
        } else {
            /* MMIO (loads byte by byte), or lockstep's journal, which records up to 4 bytes
             * a store: piecewise. */
            unsigned step = write ? 4 : 1;
            for (unsigned k = 0; k < n; k += step) {
                unsigned m = n - k < step ? n - k : step;
                PageRef one = r[p];
                one.phys += k;
                one.host = one.host ? one.host + k : NULL;
                uint32_t v = 0;
                if (write) {
                    memcpy(&v, b + k, m);
                    ref_store(cpu, &one, v, m);
                } else {
                    v = ref_load(cpu, &one, m);
                    memcpy(b + k, &v, m);
                }
            }
        }
        watch |= r[p].watch;
        done += n;
    }
    if (watch) {
        dbg_check_data(cpu, lin, len, write);
    }
}

void cpu_ld_bytes(CPUState *cpu, int seg, uint32_t off, void *buf, unsigned len)
{
    bytes_move(cpu, seg, off, buf, len, false);
}

void cpu_st_bytes(CPUState *cpu, int seg, uint32_t off, const void *buf, unsigned len)
{
    bytes_move(cpu, seg, off, (uint8_t *)(uintptr_t)buf, len, true);
}

/* --- code fetch --- */

/* fetch_limit: how many bytes at CS:eip lie within the CS limit (capped at want); raises
 * #GP(0) when not even the first does. */
static unsigned fetch_limit(CPUState *cpu, uint32_t eip, unsigned want)
{
    const SegCache *cs = &cpu->seg[S_CS];
    if (eip > cs->limit) {
        cpu_raise_exception(cpu, EXC_GP, true, 0);
    }
    uint64_t room = (uint64_t)cs->limit - eip + 1;
    return room < want ? (unsigned)room : want;
}

unsigned cpu_fetch_code(CPUState *cpu, uint32_t eip, uint8_t *buf, unsigned len)
{
    if (len == 0) {
        return 0;
    }
    len = fetch_limit(cpu, eip, len);
    bool user = cpu->cpl == 3;
    uint32_t lin = cpu->seg[S_CS].base + eip;
    unsigned done = 0;
    while (done < len) {
        uint32_t a = lin + done;
        unsigned n = 0x1000 - (a & 0xFFF);
        if (n > len - done) {
            n = len - done;
        }
        PageRef r;
        if (!page_ref(cpu, a, ACC_EXEC, user, done == 0, &r)) {
            break;
        }
        if (r.host) {
            memcpy(buf + done, r.host, n);
        } else {
            for (unsigned i = 0; i < n; i++) {
                buf[done + i] = (uint8_t)mem_read(cpu->mem, r.phys + i, 1);
            }
        }
        done += n;
    }
    return done;
}

const uint8_t *cpu_code_ptr(CPUState *cpu, uint32_t eip, unsigned *avail, uint32_t *phys)
{
    unsigned lim = fetch_limit(cpu, eip, 0x1000);
    uint32_t lin = cpu->seg[S_CS].base + eip;
    PageRef r;
    page_ref(cpu, lin, ACC_EXEC, cpu->cpl == 3, true, &r);
    *phys = r.phys;
    if (!r.host) {
        *avail = 0;
        return NULL;
    }
    unsigned n = 0x1000 - (lin & 0xFFF);
    *avail = n < lim ? n : lim;
    return r.host;
}
