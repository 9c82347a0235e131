/* interp.c: the reference interpreter's driver: fetch, decoded-instruction cache, dispatch.
 *
 * x86_interp_step() executes one instruction at CS:EIP:
 *   1. If the code TLB entry for CS.base + EIP is valid and all 15 possible bytes lie inside
 *      the CS limit, the bytes are read straight from host memory (TLBEntry.addend) and looked
 *      up in the decoded-instruction cache, a direct-mapped table keyed by the host address
 *      of the instruction and the code size. An entry is used only if the cached bytes still
 *      equal the bytes in memory, so self-modifying code, DMA into code pages and memory-map
 *      changes can never run stale decodings, and no invalidation is needed for correctness.
 *   2. Otherwise (TLB miss, near the CS limit, MMIO) the bytes are fetched with
 *      cpu_fetch_code(), which faults exactly as the hardware would, and decoded uncached.
 *   3. cpu->eip is set past the instruction and the handler from the dispatch table runs.
 * Instructions that straddle a page are never cached (they depend on two pages).
 */
#include <stdlib.h>
#include <string.h>

#include "translate/interp.h"

#define TC_BITS 14
#define TC_SIZE (1u << TC_BITS)

/* TCEntry: one decoded instruction and the bytes it was decoded from. */
typedef struct TCEntry {
    const uint8_t *host;   /* host address of the first byte, NULL when empty */
    uint64_t bytes[2];     /* the instruction bytes, zero-padded to 16 */
    InterpFn fn;
    DecodedInsn d;
    bool code32;
} TCEntry;

/* Interp: translate/'s per-CPU data (cpu->tcache). */
typedef struct Interp {
    InterpFn table[OP_COUNT];
    TCEntry tc[TC_SIZE];
    uint64_t hits, misses;
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

/* x87 escape: #NM when CR0.EM or CR0.TS (SDM Vol. 3 2.5, Table 2-2). The FPU itself is a
 * later issue: until then, the instructions are logged once and raise #UD. */
static void op_x87(CPUState *cpu, const DecodedInsn *d)
{
    if (cpu->cr0 & (CR0_EM | CR0_TS)) {
        cpu_raise_exception(cpu, EXC_NM, false, 0);
    }
    LOG_ONCE(cpu->log, LOG_UNIMP, "interp: x87 instructions are not implemented yet\n");
    cpu_raise_ud(cpu);
}

/* WAIT/FWAIT: #NM if CR0.MP and CR0.TS; no x87 exceptions can be pending yet. */
static void op_wait(CPUState *cpu, const DecodedInsn *d)
{
    if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) {
        cpu_raise_exception(cpu, EXC_NM, false, 0);
    }
}

void x86_interp_table_init(InterpFn table[OP_COUNT])
{
    for (int i = 0; i < OP_COUNT; i++) {
        table[i] = interp_unimpl;
    }
    for (int i = 0xD8; i <= 0xDF; i++) {
        table[i] = op_x87;
    }
    table[0x9B] = op_wait;
    interp_alu_register(table);
    interp_ctl_register(table);
    interp_str_register(table);
    x86_interp_sys_register(table);
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

static Interp *interp_get(CPUState *cpu)
{
    Interp *ip = cpu->tcache;
    if (!ip) {
        ip = calloc(1, sizeof(*ip));
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
    free(cpu->tcache);
    cpu->tcache = NULL;
}

void x86_tcache_invalidate_phys(CPUState *cpu, uint32_t paddr, uint32_t len)
{
    /* Cache entries are validated against the bytes in memory on every hit (see the file
     * comment), so a write needs no invalidation here. The JIT will track pages. */
    (void)cpu;
    (void)paddr;
    (void)len;
}

static inline unsigned tc_hash(const uint8_t *host)
{
    uintptr_t h = (uintptr_t)host;
    return (unsigned)((h ^ (h >> TC_BITS)) & (TC_SIZE - 1));
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
        uint64_t m0 = len >= 8 ? ~0ull : ((1ull << (8 * len)) - 1);
        uint64_t m1 = len <= 8 ? 0 : len >= 16 ? ~0ull : ((1ull << (8 * (len - 8))) - 1);
        return ((a & m0) == e->bytes[0]) && ((b & m1) == e->bytes[1]);
    }
    return memcmp(e->bytes, host, len) == 0;
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
    return len;
}

void x86_interp_step(CPUState *cpu)
{
    Interp *ip = interp_get(cpu);
    uint32_t eip = cpu->eip;
    bool code32 = cpu_code32(cpu);
    const SegCache *cs = &cpu->seg[S_CS];
    uint32_t lin = cs->base + eip;
    const TLBEntry *te = &cpu->tlb[(lin >> 12) & (TLB_SIZE - 1)];

    cpu->insn_eip = eip;
    cpu->insn_esp = cpu->regs[R_ESP];

    if (te->tag_code == (lin & ~0xFFFu) && eip <= cs->limit &&
        cs->limit - eip >= X86_MAX_INSN_LEN - 1) {
        const uint8_t *host = (const uint8_t *)(te->addend + lin);
        unsigned off = lin & 0xFFF;
        TCEntry *e = &ip->tc[tc_hash(host)];
        if (e->host == host && e->code32 == code32 && tc_bytes_equal(e, host, off)) {
            ip->hits++;
            uint32_t next = eip + e->d.len;
            cpu->eip = code32 ? next : (next & 0xFFFF);
            e->fn(cpu, &e->d);
            return;
        }
        ip->misses++;
        uint8_t buf[16] = {0};
        unsigned n = 4096 - off < X86_MAX_INSN_LEN ? 4096 - off : X86_MAX_INSN_LEN;
        memcpy(buf, host, n);
        DecodedInsn d;
        int len = interp_decode(cpu, buf, n, eip, code32, &d);
        if (off + (unsigned)len <= 4096) {
            e->host = host;
            e->code32 = code32;
            memset(buf + len, 0, sizeof(buf) - (size_t)len);
            memcpy(e->bytes, buf, 16);
            e->d = d;
            e->fn = ip->table[d.op & (OP_COUNT - 1)];
            uint32_t next = eip + (uint32_t)len;
            cpu->eip = code32 ? next : (next & 0xFFFF);
            e->fn(cpu, &e->d);
            return;
        }
        uint32_t next = eip + (uint32_t)len;
        cpu->eip = code32 ? next : (next & 0xFFFF);
        ip->table[d.op & (OP_COUNT - 1)](cpu, &d);
        return;
    }

    uint8_t buf[16] = {0};
    unsigned n = cpu_fetch_code(cpu, eip, buf, X86_MAX_INSN_LEN);
    DecodedInsn d;
    int len = interp_decode(cpu, buf, n, eip, code32, &d);
    uint32_t next = eip + (uint32_t)len;
    cpu->eip = code32 ? next : (next & 0xFFFF);
    ip->table[d.op & (OP_COUNT - 1)](cpu, &d);
}
