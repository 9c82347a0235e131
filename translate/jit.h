/* jit.h: the dynamic binary translator's public interface (x86-64 hosts): enabling it on a
 * CPU, options, statistics, invalidation. The execution loop (core/cpu_exec.c) calls
 * x86_jit_run() where the interpreter would run instructions back to back. */
#ifndef ANYVM_TRANSLATE_JIT_H
#define ANYVM_TRANSLATE_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cpu.h"

#define JIT_DEFAULT_CODE_SIZE (128u << 20)
#define JIT_MIN_CODE_SIZE (256u << 10)

/* JitOptions: -accel jit[,tb-size=MiB][,verify=on|off][,inline=on|off][,groups=on|off]. */
typedef struct JitOptions {
    size_t code_size;    /* bytes of generated code before a full flush */
    bool verify;         /* lockstep: re-run every block under the interpreter and compare */
    bool no_inline;      /* every instruction as a helper call (debugging the backend) */
    bool no_groups;      /* no page groups (jit_opt_mem_groups): every access checks its TLB */
    bool no_follow;      /* blocks end at backward Jcc instead of going on at their target */
    bool no_loops;       /* exits to a block's own start leave it (no back edges inside) */
    bool no_defer;       /* lazy-flag stores where their op is, never deferred */
} JitOptions;

/* JitStats: the -d jit-stats counters. */
typedef struct JitStats {
    uint64_t blocks_translated;
    uint64_t bytes_generated;
    uint64_t bytes_cold;        /* ... of them in the cold region (slow paths) */
    uint64_t insns_inline;      /* guest instructions translated inline */
    uint64_t insns_helper;      /* guest instructions translated as helper calls */
    uint64_t chain_patches;     /* direct jumps patched to go block to block */
    uint64_t block_entries;     /* blocks entered from the C loop */
    uint64_t interp_steps;      /* instructions the C loop ran under the interpreter */
    uint64_t flushes;           /* full code-buffer flushes */
    uint64_t invalidations;     /* blocks dropped because their code was written */
    uint64_t verified_blocks;   /* blocks compared in lockstep mode */
    uint64_t verified_insns;    /* guest instructions they ran */
    uint64_t verify_skipped_io;       /* lockstep blocks run under the JIT alone: port I/O */
    uint64_t verify_skipped_mmio;     /* ... an MMIO load or store */
    uint64_t verify_skipped_overflow; /* ... more stores than the journal holds */
    uint64_t verify_tlb_copies; /* lockstep blocks whose TLBs were copied (flush, many fills) */
    uint64_t lookup_hits;       /* indirect exits that found their block from generated code */
    uint64_t lookup_c_hits;     /* of those, found by the C helper (jump-cache probe in host
                                   code missed: a new slot, or a hash-table hit) */
    uint64_t jc_hits;           /* lookups answered by the jump cache */
    uint64_t jc_misses;         /* lookups that went to the hash table */
    uint64_t lookup_links;      /* cross-page direct jumps sent to the lookup trampoline */
    uint64_t xpage_links;       /* cross-page direct jumps linked behind a TLB check */
    uint64_t ram_writes;        /* non-CPU RAM writes that dropped translated code */
    uint64_t cond_helpers;      /* conditions (Jcc, SETcc, CMOVcc) translated as a call of
                                   cpu_cond: their flags' producer unknown at translation */
    uint64_t calls_inlined;     /* CALLs translated together with their callee (a PIC thunk,
                                   jit_frontend.c's call_inline) */
    uint64_t jcc_followed;      /* blocks that went on at a backward Jcc's target */
    uint64_t loop_edges;        /* exits to a block's own start translated as back edges */
    uint64_t flags_deferred;    /* lazy-flag updates stored only on slow paths and side exits */
    uint64_t defer_renames;     /* results written to a fresh temp so that a deferred flag
                                   update keeps its operands (jit_backend.c's defer_rename) */
    uint64_t rot_flags_cold;    /* ROL/ROR whose flags only the slow paths of loads make,
                                   before the next flag update replaces them (IR_ROTPEND) */
    uint64_t rotpend_retries;   /* translations done again with every rotate's flags inline
                                   (jit_opt_rotpend refused a window) */
    uint64_t insns_cross;       /* instructions across a page end translated with the bytes
                                   of both pages (jit_frontend.c's cross_decode) */
    uint64_t flags_fused;       /* Jcc/SETcc tests that read the host flags their ALU op
                                   left (jit_opt_fuse_flags) instead of redoing it */
    uint64_t stores_forwarded;  /* page-group loads replaced by the constant a store of the
                                   block put there (jit_opt_forward_stores) */
    uint64_t group_blocks;      /* blocks translated with page groups */
    uint64_t group_accesses;    /* loads and stores they make without a TLB check */
    uint64_t group_misses;      /* entries whose group check failed (the block ran under the
                                   interpreter instead, or after group_fills) */
    uint64_t group_fills;       /* ... of them, TLB misses filled ahead (the block entered
                                   again) */
    uint64_t group_splits;      /* blocks translated again with a straddling group split */
    uint64_t group_drops;       /* blocks translated again without groups after misses */
} JitStats;

/* jit_options_default: the defaults (128 MiB, no verification, inline translation on). The
 * environment variable ANYVM_JIT_VERIFY=1 turns verification on (for test runs). */
void jit_options_default(JitOptions *o);

/* jit_parse_accel: parse an -accel value. Sets *use_jit and fills o (defaults first).
 * Returns 0, or -EINVAL with a message in err. */
int jit_parse_accel(const char *val, bool *use_jit, JitOptions *o, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* x86_jit_enable: attach a JIT to cpu (cpu->jit). Returns 0 or -errno (no executable memory). */
int x86_jit_enable(CPUState *cpu, const JitOptions *o) __attribute__((warn_unused_result));

/* x86_jit_free: detach and release the JIT of cpu (no-op without one); prints the counters
 * when -d jit-stats is on. */
void x86_jit_free(CPUState *cpu);

/* x86_jit_invalidate_phys: guest code at [paddr, paddr+len) was written: drop the blocks
 * translated from it. */
void x86_jit_invalidate_phys(CPUState *cpu, uint32_t paddr, uint32_t len);

/* x86_jit_flush: drop every translated block (memory map change, tests). */
void x86_jit_flush(CPUState *cpu);

/* x86_jit_stats: the counters of cpu's JIT, or NULL without one. */
const JitStats *x86_jit_stats(const CPUState *cpu);

/* x86_jit_print_stats: the counters as text. */
void x86_jit_print_stats(const CPUState *cpu, FILE *f);

/* x86_jit_verify_failed: lockstep mode found a difference (the report went to the log);
 * execution stopped with a shutdown. */
bool x86_jit_verify_failed(const CPUState *cpu);

#endif
