/* cpu_internal.h: helpers shared by the core/cpu*.c and core/mmu.c files only. */
#ifndef ANYVM_CORE_CPU_INTERNAL_H
#define ANYVM_CORE_CPU_INTERNAL_H

#include "core/cpu.h"

#define PAGE_MASK_4K 0xFFFFF000u

/* Every EFLAGS bit a P6 implements (bit 1 reads as one). */
#define EF_ALL_DEFINED 0x003F7FD7u

/* Page-table entry bits (SDM Vol. 3, 4.3). */
enum {
    PTE_P = 1u << 0, PTE_RW = 1u << 1, PTE_US = 1u << 2, PTE_PWT = 1u << 3, PTE_PCD = 1u << 4,
    PTE_A = 1u << 5, PTE_D = 1u << 6, PTE_PS = 1u << 7, PTE_G = 1u << 8,
};

/* #PF error code bits. */
enum { PFEC_P = 1u << 0, PFEC_W = 1u << 1, PFEC_U = 1u << 2, PFEC_RSVD = 1u << 3 };

/* tlb_table: the TLB that serves accesses with the given privilege. */
static inline TLBEntry *tlb_table(CPUState *cpu, bool user)
{
    return user ? cpu->tlb_user : cpu->tlb;
}

static inline unsigned tlb_index(uint32_t lin)
{
    return (lin >> 12) & (TLB_SIZE - 1);
}

/* tlb_fill: walk the page tables for an access at lin and install the result in the TLB for
 * `user`. Returns the entry; on a fault raises #PF (raise) or returns NULL. */
TLBEntry *tlb_fill(CPUState *cpu, uint32_t lin, int access, bool user, bool raise);

/* cpu_phys_ld / cpu_phys_st: one physical access of 1, 2 or 4 bytes (RAM fast, else MMIO);
 * the store invalidates translated code. */
uint32_t cpu_phys_ld(CPUState *cpu, uint32_t phys, unsigned size);
void cpu_phys_st(CPUState *cpu, uint32_t phys, uint32_t val, unsigned size);

static inline bool code_page_marked(const CPUState *cpu, uint32_t phys)
{
    uint32_t f = phys >> 12;
    return (cpu->code_pages[f >> 3] >> (f & 7)) & 1;
}

/* Descriptor fields from the two dwords of a segment descriptor. */
static inline uint32_t desc_base(uint32_t lo, uint32_t hi)
{
    return (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
}

static inline uint32_t desc_limit(uint32_t lo, uint32_t hi)
{
    uint32_t l = (lo & 0xFFFF) | (hi & 0x000F0000u);
    if (hi & (1u << 23)) {
        l = (l << 12) | 0xFFF;
    }
    return l;
}

static inline uint16_t desc_flags(uint32_t hi)
{
    return (uint16_t)((hi >> 8) & 0xF0FF);
}

/* seg_limit_ok: whether [off, off+size) lies inside the segment (expand-down data in protected
 * mode counts from limit+1 up to FFFFh or FFFFFFFFh by the B bit; SDM Vol. 3, 5.3). */
static inline bool seg_limit_ok(const SegCache *s, uint32_t off, unsigned size, bool prot)
{
    uint32_t last = off + (size - 1);
    if (last < off) {
        return false;
    }
    if (prot && (s->flags & 0x1C) == 0x14) {
        uint32_t upper = (s->flags & SEGF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
        return off > s->limit && last <= upper;
    }
    return last <= s->limit;
}

/* Linear accesses with an explicit privilege (user = CPL 3 rules). */
uint32_t cpu_ld_lin_priv(CPUState *cpu, uint32_t lin, unsigned size, bool user);
void cpu_st_lin_priv(CPUState *cpu, uint32_t lin, uint32_t val, unsigned size, bool user);

/* cpu_load_seg_cs_real: CS in real mode (selector and base) or V86 (and the V86 attributes). */
void cpu_load_seg_cs_real(CPUState *cpu, uint16_t sel);

/* Protected-mode and V86 delivery of an interrupt or exception (core/cpu_xfer.c). */
void cpu_do_interrupt_prot(CPUState *cpu, int vector, bool is_soft, bool has_err, uint32_t err,
                           uint32_t next_eip);

/* cpu_deliver_event: the exception path of the execution loop: deliver cpu->exc_vector with
 * the double-fault rules. Used by cpu_exec after a longjmp. */
void cpu_deliver_exception(CPUState *cpu);

#endif
