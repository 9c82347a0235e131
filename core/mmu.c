/* mmu.c: linear -> physical translation (two-level 32-bit paging, 4 KiB and 4 MiB pages) and
 * the software TLB.
 *
 * Overview: every CPU access goes linear -> TLB. The TLB is direct-mapped on 4 KiB granules,
 * one table for CPL 0-2 (cpu->tlb) and one for CPL 3 (cpu->tlb_user), so an entry holds the
 * rights of one privilege and a hit is a single compare: tag == (lin & ~0xFFF). A miss walks
 * the page tables (setting A and D bits as the hardware does, SDM Vol. 3, 4.8), then looks the
 * physical page up in the MemMap: whole-page RAM gets a host addend, anything else (MMIO, ROM
 * for writes, pages holding translated code for writes) gets a flag bit in the tag so the
 * access takes the slow path. A write tag is only set once the dirty bit is set, so the first
 * write to a clean page walks again and sets D.
 *
 * Example: with paging on, a read of 0xC0001234 at CPL 0 misses, walks PDE[0x300] and
 * PTE[0x001], finds frame 0x00001000 in RAM, and installs tag_read = 0xC0001000 with
 * addend = host(0x1000) - 0xC0001000; the next read of 0xC0001FFC is tag compare plus add.
 */
#include "core/cpu_internal.h"

#include <string.h>

/* Physical loads and stores of page-table entries go through A20 and the memory map. */
static uint32_t pt_read(CPUState *cpu, uint32_t phys)
{
    phys &= cpu->a20_mask;
    uint8_t *p = mem_ram_ptr(cpu->mem, phys, 4, false);
    if (p) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    return (uint32_t)mem_read(cpu->mem, phys, 4);
}

static void pt_write(CPUState *cpu, uint32_t phys, uint32_t v)
{
    cpu_phys_st(cpu, phys & cpu->a20_mask, v, 4);
}

/* WalkResult: what a successful walk grants. */
typedef struct WalkResult {
    uint32_t phys;     /* physical address of lin (A20 applied) */
    bool writable;     /* writes allowed for this privilege and D already set */
    bool global;
    bool large;
} WalkResult;

/* page_walk: translate lin for access by `user`. Returns 0 on success, else the #PF error
 * code with bit 31 set (so that a zero error code is distinguishable). */
static uint32_t page_walk_ad(CPUState *cpu, uint32_t lin, int access, bool user, WalkResult *r,
                             bool set_ad)
{
    bool write = access == ACC_WRITE;
    uint32_t ec = (write ? PFEC_W : 0) | (user ? PFEC_U : 0);

    if (!(cpu->cr0 & CR0_PG)) {
        r->phys = lin & cpu->a20_mask;
        r->writable = true;
        r->global = false;
        r->large = false;
        return 0;
    }

    uint32_t pde_addr = (cpu->cr3 & PAGE_MASK_4K) + ((lin >> 22) << 2);
    uint32_t pde = pt_read(cpu, pde_addr);
    if (!(pde & PTE_P)) {
        return 0x80000000u | ec;
    }
    bool wp = (cpu->cr0 & CR0_WP) != 0;
    if ((pde & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
        /* 4 MiB page (SDM Vol. 3, 4.3): bits 21:13 are reserved without PSE-36. */
        if (pde & 0x003FE000u) {
            return 0x80000000u | ec | PFEC_P | PFEC_RSVD;
        }
        if (user && !(pde & PTE_US)) {
            return 0x80000000u | ec | PFEC_P;
        }
        bool can_write = (pde & PTE_RW) || (!user && !wp);
        if (write && !can_write) {
            return 0x80000000u | ec | PFEC_P;
        }
        uint32_t npde = pde | PTE_A | (write ? PTE_D : 0);
        if (npde != pde && set_ad) {
            pt_write(cpu, pde_addr, npde);
        }
        r->phys = ((pde & 0xFFC00000u) | (lin & 0x003FFFFFu)) & cpu->a20_mask;
        r->writable = can_write && (npde & PTE_D);
        r->global = (pde & PTE_G) && (cpu->cr4 & CR4_PGE);
        r->large = true;
        return 0;
    }

    uint32_t pte_addr = (pde & PAGE_MASK_4K) + (((lin >> 12) & 0x3FF) << 2);
    uint32_t pte = pt_read(cpu, pte_addr);
    if (!(pte & PTE_P)) {
        return 0x80000000u | ec;
    }
    /* Combined rights of the two levels (SDM Vol. 3, 4.6). */
    uint32_t both = pde & pte;
    if (user && !(both & PTE_US)) {
        return 0x80000000u | ec | PFEC_P;
    }
    bool can_write = (both & PTE_RW) || (!user && !wp);
    if (write && !can_write) {
        return 0x80000000u | ec | PFEC_P;
    }
    uint32_t npte = pte | PTE_A | (write ? PTE_D : 0);
    if (set_ad) {
        if (!(pde & PTE_A)) {
            pt_write(cpu, pde_addr, pde | PTE_A);
        }
        if (npte != pte) {
            pt_write(cpu, pte_addr, npte);
        }
    }
    r->phys = ((pte & PAGE_MASK_4K) | (lin & 0xFFF)) & cpu->a20_mask;
    r->writable = can_write && (npte & PTE_D);
    r->global = (pte & PTE_G) && (cpu->cr4 & CR4_PGE);
    r->large = false;
    return 0;
}

static uint32_t page_walk(CPUState *cpu, uint32_t lin, int access, bool user, WalkResult *r)
{
    return page_walk_ad(cpu, lin, access, user, r, true);
}

static _Noreturn void raise_pf(CPUState *cpu, uint32_t lin, uint32_t ec)
{
    cpu->cr2 = lin;
    if (log_enabled(cpu->log, LOG_MMU)) {
        log_msg(cpu->log, LOG_MMU, "mmu: #PF lin=%08x ec=%x eip=%08x\n", lin, ec & 0x1F,
                cpu->insn_eip);
    }
    cpu_raise_exception(cpu, EXC_PF, true, ec & 0x7FFFFFFFu);
}

bool mmu_translate(CPUState *cpu, uint32_t lin, int access, bool user, uint32_t *phys,
                   bool raise_fault)
{
    WalkResult r;
    uint32_t ec = page_walk(cpu, lin, access, user, &r);
    if (ec) {
        if (raise_fault) {
            raise_pf(cpu, lin, ec);
        }
        return false;
    }
    *phys = r.phys;
    return true;
}

/* tlb_log_add: note a filled entry for the next flush (or give the log up when full). */
static inline void tlb_log_add(CPUState *cpu, unsigned ref)
{
    if (!cpu->tlb_log_ok) {
        return;
    }
    if (cpu->tlb_log_n < TLB_LOG_SIZE) {
        cpu->tlb_log[cpu->tlb_log_n++] = (uint16_t)ref;
    } else {
        cpu->tlb_log_ok = false;
    }
}

static TLBEntry *tlb_log_entry(CPUState *cpu, unsigned ref)
{
    return &tlb_table(cpu, (ref & TLB_LOG_USER) != 0)[ref & (TLB_SIZE - 1)];
}

TLBEntry *tlb_fill(CPUState *cpu, uint32_t lin, int access, bool user, bool raise)
{
    if (cpu->mem_generation != cpu->mem->generation) {
        tlb_flush(cpu, true);
        cpu->mem_generation = cpu->mem->generation;
    }
    WalkResult r;
    uint32_t ec = page_walk(cpu, lin, access, user, &r);
    if (ec) {
        if (!raise) {
            return NULL;
        }
        raise_pf(cpu, lin, ec);
    }
    uint32_t page = lin & PAGE_MASK_4K;
    uint32_t ppage = r.phys & PAGE_MASK_4K;
    TLBEntry *e = &tlb_table(cpu, user)[tlb_index(lin)];
    if (__builtin_expect(cpu->tlb_hook != NULL, 0)) {
        cpu->tlb_hook(cpu, e);
    }

    uint8_t *host = mem_ram_ptr(cpu->mem, ppage, 4096, true);
    bool ram = host != NULL;
    if (!host) {
        host = mem_ram_ptr(cpu->mem, ppage, 4096, false); /* ROM: reads and fetches only */
    }
    if (host) {
        e->addend = (uintptr_t)host - (uintptr_t)page;
        e->tag_read = page;
        e->tag_code = page;
        if (!r.writable) {
            e->tag_write = TLB_INVALID;
        } else if (!ram) {
            e->tag_write = page | TLB_FLAG_MMIO;
        } else {
            e->tag_write = page | (code_page_marked(cpu, ppage) ? TLB_FLAG_CODE : 0);
        }
    } else {
        e->addend = 0;
        e->tag_read = page | TLB_FLAG_MMIO;
        e->tag_code = page | TLB_FLAG_MMIO;
        e->tag_write = r.writable ? (page | TLB_FLAG_MMIO) : TLB_INVALID;
    }
    /* tag_write == page implies tag_read == page (the JIT's page-group check relies on it):
     * both come from this walk, a read watchpoint flags both tags (dbg_watch_flags) and
     * cpu_code_page_mark flags only the write tag. */
    if (cpu->dr[7] & 0xFF) {
        uint32_t wr_flag, rd_flag;
        dbg_watch_flags(cpu, page, &rd_flag, &wr_flag);
        if (e->tag_read != TLB_INVALID) {
            e->tag_read |= rd_flag;
        }
        if (e->tag_write != TLB_INVALID) {
            e->tag_write |= wr_flag;
        }
    }
    e->paddr = ppage;
    e->global = r.global;
    e->user = user;
    e->large = r.large;
    if (r.large) {
        cpu->tlb_has_large = true;
    }
    if (!r.global) {
        tlb_log_add(cpu, tlb_index(lin) | (user ? TLB_LOG_USER : 0));
    }
    return e;
}

static void tlb_entry_clear(TLBEntry *e)
{
    e->tag_read = e->tag_write = e->tag_code = TLB_INVALID;
    e->global = false;
    e->large = false;
}

void tlb_flush(CPUState *cpu, bool include_global)
{
    if (__builtin_expect(cpu->tlb_hook != NULL, 0)) {
        cpu->tlb_hook(cpu, NULL);
    }
    if (cpu->tlb_log_ok && !include_global) {
        /* Only the logged entries can be valid non-global ones. */
        for (unsigned k = 0; k < cpu->tlb_log_n; k++) {
            TLBEntry *e = tlb_log_entry(cpu, cpu->tlb_log[k]);
            if (!e->global) {
                tlb_entry_clear(e);
            }
        }
    } else {
        for (int t = 0; t < 2; t++) {
            TLBEntry *tab = tlb_table(cpu, t != 0);
            for (unsigned i = 0; i < TLB_SIZE; i++) {
                if (include_global || !tab[i].global) {
                    tlb_entry_clear(&tab[i]);
                }
            }
        }
    }
    cpu->tlb_log_n = 0;
    cpu->tlb_log_ok = true;
    if (include_global) {
        cpu->tlb_has_large = false;
    }
}

void tlb_flush_page(CPUState *cpu, uint32_t lin)
{
    if (__builtin_expect(cpu->tlb_hook != NULL, 0)) {
        cpu->tlb_hook(cpu, NULL);
    }
    uint32_t page = lin & PAGE_MASK_4K;
    for (int t = 0; t < 2; t++) {
        TLBEntry *tab = tlb_table(cpu, t != 0);
        TLBEntry *e = &tab[tlb_index(lin)];
        if (e->tag_read != TLB_INVALID && (e->tag_read & PAGE_MASK_4K) == page) {
            tlb_entry_clear(e);
        }
        if (cpu->tlb_has_large) {
            /* The 4 KiB pieces of a large page sit at other indexes: drop them all. */
            for (unsigned i = 0; i < TLB_SIZE; i++) {
                if (tab[i].large && tab[i].tag_read != TLB_INVALID &&
                    ((tab[i].tag_read ^ lin) & 0xFFC00000u) == 0) {
                    tlb_entry_clear(&tab[i]);
                }
            }
        }
    }
}

void cpu_code_page_mark(CPUState *cpu, uint32_t paddr)
{
    uint32_t f = paddr >> 12;
    uint8_t bit = (uint8_t)(1u << (f & 7));
    if (cpu->code_pages[f >> 3] & bit) {
        /* Already code: the TLB entries that map it writably were flagged then, and every
         * fill since flags it itself (code_page_marked), so there is nothing to scan. */
        return;
    }
    cpu->code_pages[f >> 3] |= bit;
    uint32_t ppage = paddr & PAGE_MASK_4K;
    for (int t = 0; t < 2; t++) {
        TLBEntry *tab = tlb_table(cpu, t != 0);
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            if (tab[i].tag_write != TLB_INVALID && tab[i].paddr == ppage) {
                tab[i].tag_write |= TLB_FLAG_CODE;
            }
        }
    }
}

void cpu_code_page_unmark(CPUState *cpu, uint32_t paddr)
{
    uint32_t f = paddr >> 12;
    cpu->code_pages[f >> 3] &= (uint8_t)~(1u << (f & 7));
    /* Entries keep TLB_FLAG_CODE until refilled; that only costs a slow write. */
}

int cpu_debug_rw(CPUState *cpu, uint32_t lin, void *buf, size_t len, bool write)
{
    uint8_t *p = buf;
    while (len > 0) {
        WalkResult r;
        if (page_walk_ad(cpu, lin, ACC_READ, false, &r, false)) {
            return -1;
        }
        size_t n = 0x1000 - (lin & 0xFFF);
        if (n > len) {
            n = len;
        }
        if (write) {
            mem_write_buf(cpu->mem, r.phys, p, n);
            x86_tcache_invalidate_phys(cpu, r.phys, (uint32_t)n);
        } else {
            mem_read_buf(cpu->mem, r.phys, p, n);
        }
        p += n;
        lin += (uint32_t)n;
        len -= n;
    }
    return 0;
}
