/* interp.c: the reference interpreter's driver: fetch, decoded-instruction cache, dispatch.
 *
 * x86_interp_step() executes one instruction at CS:EIP:
 *   1. If the code TLB entry for CS.base + EIP is valid and all 15 possible bytes lie inside
 *      the CS limit, the bytes are read straight from host memory (TLBEntry.addend); else
 *      cpu_code_ptr() resolves the page (filling the TLB, raising #PF/#GP for the first
 *      byte).
 *   2. The decoded-instruction cache is a direct-mapped table whose slot is picked by the
 *      host address of the instruction. A slot holds the bytes it was decoded from, the code
 *      size and the handler; it is used only if those bytes still equal the bytes in memory
 *      (two 8-byte compares). Decoding depends on nothing else, so self-modifying code, DMA
 *      into code pages and memory-map changes can never run a stale decoding, and writes
 *      need no invalidation here (x86_tcache_invalidate_phys only forwards to the JIT, which
 *      marks the frames it translates with cpu_code_page_mark; without it stores keep their
 *      fast path).
 *   3. Where no host pointer exists (MMIO, ROM behind callbacks) the bytes are fetched with
 *      cpu_fetch_code(), which faults exactly as the hardware would, and decoded uncached.
 *   4. cpu->eip is set past the instruction and the handler from the dispatch table runs.
 * Instructions that straddle a page or the limit are never cached.
 * Example: a loop body at 0000:1006 in real mode hashes its host pointer to slot s; the first
 * pass decodes "01 F0" (ADD AX, SI) into slot s; later passes compare the 2 bytes at the host
 * pointer with the slot's and call op_alu directly.
 */
#include <stdlib.h>
#include <string.h>

#include "translate/interp.h"
#include "translate/jit.h"

#define TC_BITS 14
#define TC_SIZE (1u << TC_BITS)

/* TCEntry: one decoded instruction and the bytes it was decoded from (one cache line). The
 * decoding depends only on the bytes and the code size, so an entry is valid for any address
 * whose bytes match; the host address only picks the slot. d.len == 0 marks an empty slot. */
typedef struct TCEntry {
    uint64_t bytes[2];     /* the instruction bytes, zero-padded to 16 */
    InterpFn fn;
    DecodedInsn d;
    bool code32;
} __attribute__((aligned(64))) TCEntry;

/* Interp: translate/'s per-CPU data (cpu->tcache). */
typedef struct Interp {
    InterpFn table[OP_COUNT];
    TCEntry tc[TC_SIZE];
    uint64_t misses;
} Interp;

void interp_unimpl(CPUState *cpu, const DecodedInsn *d)
{
    if (d->flags & (DI_MMX | DI_SSE)) {
        /* CPUID does not advertise MMX or SSE: every such encoding is #UD. */
        cpu_raise_ud(cpu);
    }
    LOG_ONCE(cpu->log, LOG_UNIMP, "interp: unimplemented opcode %03x at %04x:%08x\n", d->op,
             cpu->seg[S_CS].sel, cpu->insn_eip);
    cpu_raise_ud(cpu);
}

void x86_interp_table_init(InterpFn table[OP_COUNT])
{
    for (int i = 0; i < OP_COUNT; i++) {
        table[i] = interp_unimpl;
    }
    interp_alu_register(table);
    interp_ctl_register(table);
    interp_str_register(table);
    x86_interp_sys_register(table);
    x86_interp_fpu_register(table);
    x86_interp_mmx_register(table);
}

void interp_jump(CPUState *cpu, uint32_t target, unsigned opsize)
{
    if (opsize == 2) {
        target &= 0xFFFF;
    }
    if (target > cpu->seg[S_CS].limit) {
        cpu_raise_gp(cpu, 0);
    }
    cpu->eip = target;
}

void interp_probe_write(CPUState *cpu, uint32_t lin, unsigned size)
{
    if (!(cpu->cr0 & CR0_PG)) {
        return;
    }
    bool user = cpu->cpl == 3;
    const TLBEntry *tab = user ? cpu->tlb_user : cpu->tlb;
    uint32_t last = lin + size - 1;
    uint32_t page[2] = {lin, last & ~0xFFFu}; /* CR2 = the first byte in each page */
    int n = ((lin ^ last) & ~0xFFFu) ? 2 : 1;
    for (int i = 0; i < n; i++) {
        const TLBEntry *te = &tab[(page[i] >> 12) & (TLB_SIZE - 1)];
        if (te->tag_write != TLB_INVALID && ((te->tag_write ^ page[i]) & ~0xFFFu) == 0) {
            continue; /* a valid write entry: writable at this privilege */
        }
        uint32_t phys;
        (void)mmu_translate(cpu, page[i], ACC_WRITE, user, &phys, true);
    }
}

static Interp *interp_get(CPUState *cpu)
{
    Interp *ip = cpu->tcache;
    if (!ip) {
        ip = aligned_alloc(64, sizeof(*ip)); /* sizeof is a multiple of the 64-byte alignment */
        if (ip) {
            memset(ip, 0, sizeof(*ip));
        }
        if (!ip) {
            /* Out of host memory at start-up: nothing sensible can continue. */
            abort();
        }
        x86_interp_table_init(ip->table);
        cpu->tcache = ip;
    }
    return ip;
}

void x86_tcache_free(CPUState *cpu)
{
    x86_jit_free(cpu); /* the JIT's blocks, if -accel jit */
    free(cpu->tcache);
    cpu->tcache = NULL;
}

void x86_tcache_invalidate_phys(CPUState *cpu, uint32_t paddr, uint32_t len)
{
    /* Cache entries are validated against the bytes in memory on every hit (see the file
     * comment), so a write needs no invalidation here; the JIT tracks pages. */
    x86_jit_invalidate_phys(cpu, paddr, len);
}

static inline unsigned tc_hash(const uint8_t *host)
{
    uintptr_t h = (uintptr_t)host;
    return (unsigned)((h ^ (h >> TC_BITS)) & (TC_SIZE - 1));
}

/* tc_mask: the byte masks of the first and second 8 bytes of an instruction of length n. */
#define M(n) ((n) >= 8 ? ~0ull : ((1ull << (8 * (n))) - 1))
static const uint64_t tc_mask[16][2] = {
    {M(0), 0}, {M(1), 0}, {M(2), 0}, {M(3), 0}, {M(4), 0}, {M(5), 0}, {M(6), 0}, {M(7), 0},
    {M(8), 0}, {M(8), M(1)}, {M(8), M(2)}, {M(8), M(3)}, {M(8), M(4)}, {M(8), M(5)},
    {M(8), M(6)}, {M(8), M(7)},
};
#undef M

/* tc_bytes_equal_tail: byte-wise compare near the end of a page (kept out of line). */
static __attribute__((noinline)) bool tc_bytes_equal_tail(const TCEntry *e,
                                                           const uint8_t *host, unsigned len)
{
    const uint8_t *b = (const uint8_t *)e->bytes;
    for (unsigned i = 0; i < len; i++) {
        if (b[i] != host[i]) {
            return false;
        }
    }
    return true;
}

/* tc_bytes_equal: do the len cached bytes still match memory at host? host..host+15 lie in
 * one page when off <= 4080; otherwise compare exactly len bytes. */
static inline bool tc_bytes_equal(const TCEntry *e, const uint8_t *host, unsigned off)
{
    unsigned len = e->d.len;
    if (off <= 4096 - 16) {
        uint64_t a, b;
        memcpy(&a, host, 8);
        memcpy(&b, host + 8, 8);
        return ((a & tc_mask[len][0]) == e->bytes[0]) && ((b & tc_mask[len][1]) == e->bytes[1]);
    }
    return tc_bytes_equal_tail(e, host, len);
}

/* interp_log_in_asm: -d in_asm: an instruction as it is decoded (a decoded-instruction cache
 * miss: new or changed code, the interpreter's equivalent of QEMU's per-translation log). */
static __attribute__((noinline)) void interp_log_in_asm(CPUState *cpu, const uint8_t *buf,
                                                       unsigned len, uint32_t eip, bool code32)
{
    char text[128], hex[3 * X86_MAX_INSN_LEN + 1];
    x86_disasm(buf, len, eip, code32, text, sizeof(text));
    for (unsigned i = 0; i < len; i++) {
        snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", buf[i]);
    }
    log_msg(cpu->log, LOG_IN_ASM, "in_asm: %04x:%08x  %-30s %s\n", cpu->seg[S_CS].sel, eip, hex,
            text);
}

static inline int interp_decode(CPUState *cpu, uint8_t *buf, unsigned n, uint32_t eip,
                                bool code32, DecodedInsn *d)
{
    DecodeEnv env = {.bytes = buf, .avail = n, .code32 = code32};
    int len = x86_decode(&env, d);
    while (len == -DECODE_NEED_MORE && n < X86_MAX_INSN_LEN) {
        /* The next byte is on another page or past the limit: this fetch faults if the
         * hardware would. */
        unsigned got = cpu_fetch_code(cpu, eip + n, buf + n, X86_MAX_INSN_LEN - n);
        if (got == 0) {
            cpu_raise_gp(cpu, 0);
        }
        n += got;
        env.avail = n;
        len = x86_decode(&env, d);
    }
    if (len == -DECODE_NEED_MORE || len == -DECODE_TOO_LONG) {
        cpu_raise_gp(cpu, 0);
    }
    if (len < 0) {
        cpu_raise_ud(cpu);
    }
    if (__builtin_expect(log_enabled(cpu->log, LOG_IN_ASM), 0)) {
        interp_log_in_asm(cpu, buf, (unsigned)len, eip, code32);
    }
    return len;
}

/* interp_miss: decode at a host pointer (caching the result when the instruction lies in the
 * page and the limit) and run it. Kept out of line so the hit path stays small. */
static __attribute__((noinline)) void interp_miss(CPUState *cpu, Interp *ip, TCEntry *e,
                                                  const uint8_t *host, unsigned avail,
                                                  uint32_t eip)
{
    bool code32 = cpu_code32(cpu);
    ip->misses++;
    uint8_t buf[16] = {0};
    unsigned n = avail < X86_MAX_INSN_LEN ? avail : X86_MAX_INSN_LEN;
    memcpy(buf, host, n);
    DecodedInsn d;
    int len = interp_decode(cpu, buf, n, eip, code32, &d);
    uint32_t next = eip + (uint32_t)len;
    if ((unsigned)len <= avail) {
        /* The whole instruction lies in this page and inside the limit: cache it. */
        e->code32 = code32;
        memset(buf + len, 0, sizeof(buf) - (size_t)len);
        memcpy(e->bytes, buf, 16);
        e->d = d;
        e->fn = ip->table[d.op & (OP_COUNT - 1)];
        cpu->eip = code32 ? next : (next & 0xFFFF);
        e->fn(cpu, &e->d);
        return;
    }
    cpu->eip = code32 ? next : (next & 0xFFFF);
    ip->table[d.op & (OP_COUNT - 1)](cpu, &d);
}

/* interp_slow: no host pointer for the code (MMIO): fetch byte-wise, decode, run uncached. */
static __attribute__((noinline)) void interp_slow(CPUState *cpu, Interp *ip, uint32_t eip,
                                                  bool code32)
{
    uint8_t buf[16] = {0};
    unsigned n = cpu_fetch_code(cpu, eip, buf, X86_MAX_INSN_LEN);
    DecodedInsn d;
    int len = interp_decode(cpu, buf, n, eip, code32, &d);
    uint32_t next = eip + (uint32_t)len;
    cpu->eip = code32 ? next : (next & 0xFFFF);
    ip->table[d.op & (OP_COUNT - 1)](cpu, &d);
}

/* interp_step_ptr: the step when the inline TLB check fails or the instruction may run into
 * the CS limit: resolve the code page through cpu_code_ptr() (which faults as a fetch would),
 * then look up the cache as usual. */
static __attribute__((noinline)) void interp_step_ptr(CPUState *cpu, Interp *ip, uint32_t eip)
{
    bool code32 = cpu_code32(cpu);
    unsigned avail;
    uint32_t phys;
    const uint8_t *host = cpu_code_ptr(cpu, eip, &avail, &phys);
    if (!host) {
        interp_slow(cpu, ip, eip, code32);
        return;
    }
    unsigned off = (cpu->seg[S_CS].base + eip) & 0xFFF;
    TCEntry *e = &ip->tc[tc_hash(host)];
    if (e->d.len != 0 && e->d.len <= avail && e->code32 == code32 &&
        tc_bytes_equal(e, host, off)) {
        uint32_t next = eip + e->d.len;
        cpu->eip = code32 ? next : (next & 0xFFFF);
        e->fn(cpu, &e->d);
        return;
    }
    interp_miss(cpu, ip, e, host, avail, eip);
}

/* interp_step_first: the first step of a CPU allocates translate/'s data. */
static __attribute__((noinline)) void interp_step_first(CPUState *cpu)
{
    interp_get(cpu);
    x86_interp_step(cpu);
}

/* x86_interp_step: the hot path is written so that every exit is a tail call (the handler,
 * or one of the out-of-line paths) and needs no stack frame. */
void x86_interp_step(CPUState *cpu)
{
    Interp *ip = cpu->tcache;
    if (__builtin_expect(ip == NULL, 0)) {
        interp_step_first(cpu);
        return;
    }
    uint32_t eip = cpu->eip;
    const SegCache *cs = &cpu->seg[S_CS];
    uint32_t lin = cs->base + eip;
    const TLBEntry *te = &(cpu->cpl == 3 ? cpu->tlb_user : cpu->tlb)[(lin >> 12) & (TLB_SIZE - 1)];

    cpu->insn_eip = eip;
    cpu->insn_esp = cpu->regs[R_ESP];

    if (__builtin_expect(te->tag_code != (lin & ~0xFFFu) || eip > cs->limit ||
                         cs->limit - eip < X86_MAX_INSN_LEN - 1 ||
                         (lin & 0xFFF) > 4096 - 16, 0)) {
        /* TLB miss, near the CS limit, or within 16 bytes of the page end. */
        interp_step_ptr(cpu, ip, eip);
        return;
    }
    /* Inline TLB hit with 15 bytes inside the limit. */
    const uint8_t *host = (const uint8_t *)(te->addend + lin);
    unsigned off = lin & 0xFFF;
    bool code32 = cpu_code32(cpu);
    TCEntry *e = &ip->tc[tc_hash(host)];
    unsigned len = e->d.len;
    uint64_t x;
    if (__builtin_expect(len == 0 || e->code32 != code32, 0)) {
        goto miss;
    }
    memcpy(&x, host, 8);
    if (__builtin_expect((x & tc_mask[len][0]) != e->bytes[0], 0)) {
        goto miss;
    }
    memcpy(&x, host + 8, 8);
    if (__builtin_expect((x & tc_mask[len][1]) != e->bytes[1], 0)) {
        goto miss;
    }
    uint32_t next = eip + len;
    cpu->eip = code32 ? next : (next & 0xFFFF);
    e->fn(cpu, &e->d);
    return;
miss:
    interp_miss(cpu, ip, e, host, 4096 - off, eip);
}
