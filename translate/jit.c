/* jit.c: the JIT's driver: translation-block cache (hash on physical PC + EIP + mode), block
 * chaining, invalidation of blocks whose code is written, full flushes, the run loop called by
 * cpu_exec, lockstep verification against the interpreter, -d out_asm and -d jit-stats.
 *
 * A block is looked up by the physical address of CS:EIP (through the code TLB), EIP, CS
 * base and limit, the mode bits of TBF_* and the host address of its bytes (a memory-map
 * change can put other RAM or ROM under a physical frame); a per-CPU jump cache indexed by the
 * linear PC answers most lookups before the hash table. Guest bytes are never compared:
 * every write to a frame holding translated code drops the overlapping blocks
 * (x86_jit_invalidate_phys). Stores by the CPU take the TLB slow path (TLB_FLAG_CODE); every
 * other write to RAM (DMA, loaders, the monitor) goes through the MemMap's ram_written hook.
 * If generated code is running, it leaves after the writing instruction (CPUState.jit_stop).
 * A direct jump is chained (its jmp patched to the target's entry) only when the target lies
 * in the same guest page, both virtual and physical, so a change of page mapping can never
 * make a chain go to the wrong code; a jump to another page is patched to the lookup
 * trampoline instead, which checks the mapping through the TLB. Chains stay until their
 * target is dropped (each block lists its incoming jumps) or the buffer flushes.
 */
#define _GNU_SOURCE
#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu_internal.h"
#include "translate/jit_internal.h"

#define CODE_HEADROOM (48u << 10) /* more than the largest block's code */
#define VERIFY_FRAMES_SIZE ((1u << 20) / 8) /* one bit per 4 KiB frame of 4 GiB */

void jit_options_default(JitOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->code_size = JIT_DEFAULT_CODE_SIZE;
    const char *v = getenv("ANYVM_JIT_VERIFY");
    o->verify = v && *v && strcmp(v, "0") != 0;
}

int jit_parse_accel(const char *val, bool *use_jit, JitOptions *o, char *err, size_t errlen)
{
    jit_options_default(o);
    if (strcmp(val, "interp") == 0) {
        *use_jit = false;
        return 0;
    }
    if (strncmp(val, "jit", 3) != 0 || (val[3] != '\0' && val[3] != ',')) {
        snprintf(err, errlen, "unsupported accelerator '%s' (interp or jit)", val);
        return -EINVAL;
    }
    *use_jit = true;
    const char *p = val + 3;
    while (*p == ',') {
        p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[64];
        if (n >= sizeof(item)) {
            snprintf(err, errlen, "jit option too long");
            return -EINVAL;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (strcmp(item, "verify=on") == 0) {
            o->verify = true;
        } else if (strcmp(item, "verify=off") == 0) {
            o->verify = false;
        } else if (strcmp(item, "inline=off") == 0) {
            o->no_inline = true;
        } else if (strcmp(item, "inline=on") == 0) {
            o->no_inline = false;
        } else if (strcmp(item, "groups=off") == 0) {
            o->no_groups = true;
        } else if (strcmp(item, "groups=on") == 0) {
            o->no_groups = false;
        } else if (strcmp(item, "follow=off") == 0) {
            o->no_follow = true;
        } else if (strcmp(item, "follow=on") == 0) {
            o->no_follow = false;
        } else if (strcmp(item, "loops=off") == 0) {
            o->no_loops = true;
        } else if (strcmp(item, "loops=on") == 0) {
            o->no_loops = false;
        } else if (strcmp(item, "defer=off") == 0) {
            o->no_defer = true;
        } else if (strcmp(item, "defer=on") == 0) {
            o->no_defer = false;
        } else if (strncmp(item, "tb-size=", 8) == 0) {
            char *e;
            unsigned long mb = strtoul(item + 8, &e, 10);
            if (*e || mb < 1 || mb > 1024) {
                snprintf(err, errlen, "tb-size: 1..1024 (MiB)");
                return -EINVAL;
            }
            o->code_size = (size_t)mb << 20;
        } else {
            snprintf(err, errlen, "unknown jit option '%s'", item);
            return -EINVAL;
        }
        p += n;
    }
    return 0;
}

/* exec_totals: fold the entry counters of the blocks in the pool into execs_flushed. */
static void exec_totals(const JitState *j, uint64_t out[3])
{
    out[0] = j->execs_flushed[0];
    out[1] = j->execs_flushed[1];
    out[2] = j->execs_flushed[2];
    for (size_t k = 0; k < j->ntbs; k++) {
        const TranslationBlock *tb = &j->tbs[k];
        out[0] += tb->execs;
        out[1] += tb->execs * tb->n_inline;
        out[2] += tb->execs * (uint64_t)(tb->ninsns - tb->n_inline);
    }
}

static void jc_clear(JitState *j)
{
    for (size_t k = 0; k < sizeof(j->jc) / sizeof(j->jc[0]); k++) {
        j->jc[k].flags = JC_EMPTY;
        j->jc[k].tb = NULL;
    }
}

static void jit_flush_all(JitState *j, CPUState *cpu)
{
    if (j->count_execs) {
        exec_totals(j, j->execs_flushed);
    }
    memset(j->hash, 0, sizeof(j->hash));
    jc_clear(j);
    memset(j->pages, 0, sizeof(j->pages));
    j->ntbs = 0;
    j->npages = 0;
    j->arena_used = 0;
    codebuf_reset(&j->cb, j->tramp_size);
    /* No frame holds translated code any more; TLB entries keep TLB_FLAG_CODE until they are
     * refilled, which only costs slow-path stores. */
    memset(cpu->code_pages, j->opt.verify ? 0xFF : 0, sizeof(cpu->code_pages));
    if (j->verify_frames) {
        memset(j->verify_frames, 0, VERIFY_FRAMES_SIZE);
    }
    cpu->jit_stop = 1;
}

/* jit_ram_written: the MemMap's ram_written hook: something other than the CPU's stores
 * wrote guest RAM; drop the blocks translated from it. */
static void jit_ram_written(void *opaque, uint64_t addr, uint64_t len)
{
    CPUState *cpu = opaque;
    JitState *j = cpu->jit;
    if (!j || addr >= (1ull << 32)) {
        return;
    }
    uint64_t end = addr + len > (1ull << 32) ? (1ull << 32) : addr + len;
    for (uint64_t fr = addr >> 12; fr <= (end - 1) >> 12; fr++) {
        if (code_page_marked(cpu, (uint32_t)(fr << 12))) {
            uint64_t lo = fr << 12 > addr ? fr << 12 : addr;
            uint64_t hi = (fr + 1) << 12 < end ? (fr + 1) << 12 : end;
            uint64_t before = j->stats.invalidations;
            x86_jit_invalidate_phys(cpu, (uint32_t)lo, (uint32_t)(hi - lo));
            if (j->stats.invalidations != before) {
                j->stats.ram_writes++;
            }
        }
    }
}

int x86_jit_enable(CPUState *cpu, const JitOptions *o)
{
    if (cpu->jit) {
        return 0;
    }
#if !defined(__x86_64__)
    (void)o;
    return -ENOTSUP; /* the backend emits x86-64 code */
#endif
    JitState *j = calloc(1, sizeof(*j));
    if (!j) {
        return -ENOMEM;
    }
    j->opt = *o;
    if (j->opt.code_size < JIT_MIN_CODE_SIZE) {
        j->opt.code_size = JIT_MIN_CODE_SIZE;
    }
    int r = codebuf_init(&j->cb, j->opt.code_size);
    if (r < 0) {
        free(j);
        return r;
    }
    j->max_tbs = j->cb.size / 128;
    j->tbs = calloc(j->max_tbs, sizeof(*j->tbs));
    j->page_pool = calloc(j->max_tbs, sizeof(*j->page_pool));
    /* DecodedInsn and guest-byte copies: about half a block's code size, so that the code
     * buffer, not the arena, decides when to flush. */
    j->arena_size = j->cb.size / 2 + (1u << 20);
    j->arena = malloc(j->arena_size);
    if (!j->tbs || !j->page_pool || !j->arena) {
        free(j->tbs);
        free(j->page_pool);
        free(j->arena);
        codebuf_destroy(&j->cb);
        free(j);
        return -ENOMEM;
    }
    x86_interp_table_init(j->table);
    jit_gen_trampolines(j);
    jc_clear(j);
    cpu->jit = j;
    if (cpu->mem) {
        cpu->mem->ram_written = jit_ram_written;
        cpu->mem->ram_written_opaque = cpu;
    }
    if (j->opt.verify) {
        j->verify_frames = calloc(1, VERIFY_FRAMES_SIZE);
        if (!j->verify_frames) {
            x86_jit_free(cpu);
            return -ENOMEM;
        }
        /* Every frame counts as code so that every store reaches the journal. */
        memset(cpu->code_pages, 0xFF, sizeof(cpu->code_pages));
        tlb_flush(cpu, true);
    }
    return 0;
}

void x86_jit_free(CPUState *cpu)
{
    JitState *j = cpu->jit;
    if (!j) {
        return;
    }
    if (cpu->log && log_enabled(cpu->log, LOG_JIT_STATS)) {
        x86_jit_print_stats(cpu, cpu->log->out ? cpu->log->out : stderr);
    }
    if (j->dis) {
        x86_disasm_free(j->dis);
    }
    if (j->cs64_open) {
        cs_close(&j->cs64);
    }
    if (cpu->mem && cpu->mem->ram_written_opaque == cpu) {
        cpu->mem->ram_written = NULL;
        cpu->mem->ram_written_opaque = NULL;
    }
    free(j->verify_copy);
    free(j->verify_frames);
    jit_backend_free(j);
    free(j->tbs);
    free(j->page_pool);
    free(j->arena);
    codebuf_destroy(&j->cb);
    free(j);
    cpu->jit = NULL;
}

const JitStats *x86_jit_stats(const CPUState *cpu)
{
    const JitState *j = cpu->jit;
    return j ? &j->stats : NULL;
}

bool x86_jit_verify_failed(const CPUState *cpu)
{
    const JitState *j = cpu->jit;
    return j && j->verify_failed;
}

void x86_jit_print_stats(const CPUState *cpu, FILE *f)
{
    const JitState *j = cpu->jit;
    if (!j) {
        return;
    }
    const JitStats *s = &j->stats;
    uint64_t tot = s->insns_inline + s->insns_helper;
    fprintf(f,
            "jit: %llu blocks translated, %llu bytes generated (%llu of them slow paths in the "
            "cold region), %llu flushes, "
            "%llu invalidations (%llu by device/loader RAM writes)\n"
            "jit: guest insns translated inline %llu (%.1f%%), as helper calls %llu\n"
            "jit: %llu block entries from C, %llu chain patches, %llu cross-page links behind "
            "a TLB check, %llu cross-page jumps via lookup, %llu interpreter steps, %llu blocks verified\n"
            "jit: %llu indirect lookups from generated code (%llu answered in C), jump cache "
            "%llu hits / %llu misses\n",
            (unsigned long long)s->blocks_translated, (unsigned long long)s->bytes_generated,
            (unsigned long long)s->bytes_cold, (unsigned long long)s->flushes, (unsigned long long)s->invalidations,
            (unsigned long long)s->ram_writes,
            (unsigned long long)s->insns_inline, tot ? 100.0 * (double)s->insns_inline / tot : 0,
            (unsigned long long)s->insns_helper, (unsigned long long)s->block_entries,
            (unsigned long long)s->chain_patches, (unsigned long long)s->xpage_links,
            (unsigned long long)s->lookup_links,
            (unsigned long long)s->interp_steps, (unsigned long long)s->verified_blocks,
            (unsigned long long)s->lookup_hits, (unsigned long long)s->lookup_c_hits,
            (unsigned long long)s->jc_hits,
            (unsigned long long)s->jc_misses);
    fprintf(f,
            "jit: %llu blocks with page groups, %llu accesses in groups, %llu group misses "
            "(%llu TLB fills, the rest interpreted), %llu blocks translated again with a group "
            "split at a page boundary, %llu without groups; %llu conditions through cpu_cond; "
            "%llu calls translated with their callee; %llu blocks that followed a Jcc back; "
            "%llu back edges inside blocks; "
            "%llu instructions across a page end; "
            "%llu flag tests fused with their ALU op; %llu flag updates deferred to slow "
            "paths and side exits (%llu results renamed for them); %llu rotates' flags made by slow paths only (%llu "
            "translations again without); %llu loads forwarded from stores\n",
            (unsigned long long)s->group_blocks, (unsigned long long)s->group_accesses,
            (unsigned long long)s->group_misses, (unsigned long long)s->group_fills,
            (unsigned long long)s->group_splits, (unsigned long long)s->group_drops,
            (unsigned long long)s->cond_helpers, (unsigned long long)s->calls_inlined,
            (unsigned long long)s->jcc_followed, (unsigned long long)s->loop_edges,
            (unsigned long long)s->insns_cross, (unsigned long long)s->flags_fused,
            (unsigned long long)s->flags_deferred, (unsigned long long)s->defer_renames,
            (unsigned long long)s->rot_flags_cold,
            (unsigned long long)s->rotpend_retries,
            (unsigned long long)s->stores_forwarded);
    if (j->opt.verify) {
        fprintf(f,
                "jit verify: %llu blocks (%llu guest insns) compared with the interpreter, "
                "%s; run under the JIT alone: %llu with port I/O, %llu with MMIO, "
                "%llu with too many stores; TLBs copied for %llu\n",
                (unsigned long long)s->verified_blocks, (unsigned long long)s->verified_insns,
                j->verify_failed ? "a MISMATCH" : "no mismatch",
                (unsigned long long)s->verify_skipped_io,
                (unsigned long long)s->verify_skipped_mmio,
                (unsigned long long)s->verify_skipped_overflow,
                (unsigned long long)s->verify_tlb_copies);
    }
    if (j->count_execs) {
        /* Entries counted by the blocks themselves: from C, from the lookup, or chained. */
        uint64_t ex[3];
        exec_totals(j, ex);
        uint64_t chained = ex[0] - (ex[0] < s->block_entries + s->lookup_hits
                                        ? ex[0]
                                        : s->block_entries + s->lookup_hits);
        uint64_t run = ex[1] + ex[2];
        fprintf(f,
                "jit: %llu block executions (%llu entered by a chained jump or a back edge); "
                "guest insns executed (upper bound: a block may leave early) inline %llu "
                "(%.1f%%), "
                "through helpers %llu\n",
                (unsigned long long)ex[0], (unsigned long long)chained,
                (unsigned long long)ex[1], run ? 100.0 * (double)ex[1] / (double)run : 0,
                (unsigned long long)ex[2]);
    }
}

void x86_jit_flush(CPUState *cpu)
{
    JitState *j = cpu->jit;
    if (j) {
        jit_flush_all(j, cpu);
        j->stats.flushes++;
    }
}

/* ---- block cache ---- */

/* tb_flat_segs: ES, SS and DS all have base 0 and limit FFFFFFFFh and, in protected mode
 * outside V86, pass gen_mem's type checks for reads and writes (TBF_FLAT). */
static bool tb_flat_segs(const CPUState *cpu)
{
    static const int segs[] = {S_ES, S_SS, S_DS};
    bool prot = (cpu->cr0 & CR0_PE) && !(cpu->eflags & EF_VM);
    for (unsigned k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
        const SegCache *s = &cpu->seg[segs[k]];
        if (s->base != 0 || s->limit != 0xFFFFFFFFu ||
            (prot && (s->flags & TBF_FLAT_MASK) != TBF_FLAT_WANT)) {
            return false;
        }
    }
    return true;
}

/* tb_mode_flags: the TBF_* bits of the current state. gen_lookup_fast (jit_backend.c)
 * computes the same value in host code: keep the two in step. Every instruction that can
 * change one of these inputs ends its block, and chained jumps link only blocks with equal
 * bits, so a block runs only in the mode it was translated for. */
static uint32_t tb_mode_flags(const CPUState *cpu)
{
    uint32_t f = 0;
    if (cpu_code32(cpu)) {
        f |= TBF_CODE32;
    }
    if (cpu_stack32(cpu)) {
        f |= TBF_STACK32;
    }
    f |= (uint32_t)(cpu->cpl & 3) << TBF_CPL_SHIFT;
    if (cpu->cr0 & CR0_PE) {
        f |= TBF_PE;
    }
    if (cpu->eflags & EF_VM) {
        f |= TBF_VM;
    }
    if (cpu->cr0 & CR0_PG) {
        f |= TBF_PG;
    }
    if (tb_flat_segs(cpu)) {
        f |= TBF_FLAT;
    }
    if (cpu->cpl == 3 && (cpu->cr0 & CR0_AM) && (cpu->eflags & EF_AC)) {
        f |= TBF_AC;
    }
    return f;
}

/* The byte of CPUState.exit_word that holds intr_pending: it stops execution only with IF. */
#define EXIT_WORD_INTR ((uint64_t)0xFF << (8 * (offsetof(CPUState, intr_pending) - \
                                               offsetof(CPUState, exit_word))))

/* exit_wanted: something in exit_word needs the C loop (an interrupt only with IF set). */
static inline bool exit_wanted(const CPUState *cpu)
{
    uint64_t w = cpu->exit_word;
    return w && ((w & ~EXIT_WORD_INTR) || (cpu->eflags & EF_IF));
}

static inline bool keep_running(const CPUState *cpu, uint64_t end, unsigned gen)
{
    return cpu->icount < end && !exit_wanted(cpu) && !cpu->pending_db &&
           !(cpu->eflags & (EF_TF | EF_RF)) && !(cpu->dr[7] & 0xFF) &&
           cpu->mem->generation == gen;
}

static inline unsigned tb_hash(uint32_t phys, uint32_t eip, uint32_t flags)
{
    uint32_t h = phys * 0x9E3779B1u ^ eip * 0x85EBCA77u ^ flags;
    return (h ^ (h >> 15)) & ((1u << TB_HASH_BITS) - 1);
}

static inline unsigned jc_hash(uint32_t lin)
{
    /* Neighbouring PCs of one page spread over neighbouring slots. */
    return (lin ^ (lin >> TB_JC_BITS)) & ((1u << TB_JC_BITS) - 1);
}

static inline void jc_fill(JitState *j, TranslationBlock *tb)
{
    JitJcEntry *e = &j->jc[jc_hash(tb->cs_base + tb->eip)];
    e->eip = tb->eip;
    e->cs_base = tb->cs_base;
    e->phys = tb->phys_pc;
    e->cs_limit = tb->cs_limit;
    e->flags = (uint16_t)tb->flags;
    e->ninsns = tb->ninsns;
    e->host_src = tb->host_src;
    e->tb = tb;
    e->code = tb->host_code;
}

static inline unsigned page_hash(uint32_t frame)
{
    return (frame * 0x9E3779B1u >> 20) & ((1u << TB_PAGE_HASH_BITS) - 1);
}

static JitPage *page_find(JitState *j, uint32_t frame)
{
    for (JitPage *p = j->pages[page_hash(frame)]; p; p = p->next) {
        if (p->frame == frame) {
            return p;
        }
    }
    return NULL;
}


/* page_get: frame's JitPage, created empty when missing (tb_translate keeps two free). */
static JitPage *page_get(JitState *j, uint32_t frame)
{
    JitPage *pg = page_find(j, frame);
    if (!pg) {
        pg = &j->page_pool[j->npages++];
        pg->frame = frame;
        pg->first = NULL;
        pg->first2 = NULL;
        unsigned ph = page_hash(frame);
        pg->next = j->pages[ph];
        j->pages[ph] = pg;
    }
    return pg;
}

/* code_frame_mark: the frame holding paddr has translated code (writes to it are checked). */
static void code_frame_mark(JitState *j, CPUState *cpu, uint32_t paddr)
{
    cpu_code_page_mark(cpu, paddr);
    if (j->verify_frames) {
        j->verify_frames[paddr >> 15] |= (uint8_t)(1u << ((paddr >> 12) & 7));
    }
}

static void patch_jmp(JitState *j, TranslationBlock *src, int slot, const uint8_t *target)
{
    size_t field = src->jmp_field[slot];
    size_t to = target ? (size_t)(target - j->cb.rx) : field + 4;
    codebuf_begin_write(&j->cb);
    x64_patch_rel32(j->cb.rw, field, to);
    codebuf_end_write(&j->cb);
}

/* tb_unlink_in: remove (src, slot) from dest's incoming list. */
static void tb_unlink_in(TranslationBlock *dest, TranslationBlock *src, int slot)
{
    uintptr_t want = (uintptr_t)src | (uintptr_t)slot;
    uintptr_t *pp = &dest->jmp_in;
    while (*pp) {
        TranslationBlock *t = (TranslationBlock *)(*pp & ~(uintptr_t)TB_TAG_MASK);
        int s = (int)(*pp & TB_TAG_MASK);
        if (*pp == want) {
            *pp = t->jmp_in_next[s];
            return;
        }
        pp = &t->jmp_in_next[s];
    }
}

/* page_list_remove: tb out of the list of its own frame (JitPage.first), or of its inlined
 * callee's (second: JitPage.first2); a frame left without blocks is no longer code. */
static void page_list_remove(JitState *j, CPUState *cpu, TranslationBlock *tb, bool second)
{
    uint32_t paddr = second ? tb->phys2 : tb->phys_pc;
    JitPage *pg = page_find(j, paddr >> 12);
    if (!pg) {
        return;
    }
    TranslationBlock **q = second ? &pg->first2 : &pg->first;
    while (*q && *q != tb) {
        q = second ? &(*q)->page2_next : &(*q)->page_next;
    }
    if (*q) {
        *q = second ? tb->page2_next : tb->page_next;
    }
    if (!pg->first && !pg->first2 && !j->opt.verify) {
        cpu_code_page_unmark(cpu, paddr);
    }
}

static void tb_invalidate(JitState *j, CPUState *cpu, TranslationBlock *tb)
{
    if (!tb->valid) {
        return;
    }
    tb->valid = false;
    j->stats.invalidations++;
    cpu->jit_stop = 1;
    JitJcEntry *jc = &j->jc[jc_hash(tb->cs_base + tb->eip)];
    if (jc->tb == tb) {
        jc->flags = JC_EMPTY;
        jc->tb = NULL;
    }
    /* Out of the hash chain. */
    TranslationBlock **pp = &j->hash[tb_hash(tb->phys_pc, tb->eip, tb->flags)];
    while (*pp && *pp != tb) {
        pp = &(*pp)->hash_next;
    }
    if (*pp) {
        *pp = tb->hash_next;
    }
    /* Out of its page lists; an empty page is no longer code. */
    page_list_remove(j, cpu, tb, false);
    if (tb->size2 && (tb->phys2 >> 12) != (tb->phys_pc >> 12)) {
        page_list_remove(j, cpu, tb, true);
    }
    /* Jumps into it go back to their exits. */
    uintptr_t in = tb->jmp_in;
    while (in) {
        TranslationBlock *src = (TranslationBlock *)(in & ~(uintptr_t)TB_TAG_MASK);
        int s = (int)(in & TB_TAG_MASK);
        patch_jmp(j, src, s, NULL);
        src->jmp_dest[s] = NULL;
        in = src->jmp_in_next[s];
    }
    tb->jmp_in = 0;
    for (int s = 0; s < TB_SLOTS; s++) {
        if (tb->jmp_dest[s]) {
            tb_unlink_in(tb->jmp_dest[s], tb, s);
            tb->jmp_dest[s] = NULL;
        }
    }
}

/* invalidate_range: drop the blocks translated from [paddr, paddr + len). */
static __attribute__((noinline)) void invalidate_range(JitState *j, CPUState *cpu,
                                                       uint32_t paddr, uint32_t len)
{
    const uint8_t *vf = j->verify_frames;
    uint64_t endp = (uint64_t)paddr + len;
    for (uint64_t fr = paddr >> 12; fr <= (endp - 1) >> 12; fr++) {
        if (vf && !((vf[fr >> 3] >> (fr & 7)) & 1)) {
            continue; /* verify mode: a frame without blocks */
        }
        JitPage *pg = page_find(j, (uint32_t)fr);
        if (!pg) {
            continue;
        }
        for (int list = 0; list < 2; list++) {
            TranslationBlock *tb = list ? pg->first2 : pg->first;
            while (tb) {
                TranslationBlock *nx = list ? tb->page2_next : tb->page_next;
                if ((tb->phys_pc < endp && paddr < (uint64_t)tb->phys_pc + tb->size) ||
                    (tb->size2 && tb->phys2 < endp &&
                     paddr < (uint64_t)tb->phys2 + tb->size2)) {
                    tb_invalidate(j, cpu, tb);
                }
                tb = nx;
            }
        }
    }
}

void x86_jit_invalidate_phys(CPUState *cpu, uint32_t paddr, uint32_t len)
{
    JitState *j = cpu->jit;
    if (!j || len == 0) {
        return;
    }
    const uint8_t *vf = j->verify_frames;
    if (vf && len <= 4096) {
        /* Verify mode marks every frame as code: most writes hit frames without blocks. */
        uint32_t f0 = paddr >> 12, f1 = (uint32_t)(((uint64_t)paddr + len - 1) >> 12) & 0xFFFFF;
        if (!((vf[f0 >> 3] >> (f0 & 7)) & 1) && !((vf[f1 >> 3] >> (f1 & 7)) & 1)) {
            return;
        }
    }
    invalidate_range(j, cpu, paddr, len);
}

void tb_disasm(JitState *j, const TranslationBlock *tb, TbLineFn line, void *ctx)
{
    if (!j->dis) {
        j->dis = x86_disasm_new();
    }
    for (int part = 0; part < 2 && j->dis; part++) {
        unsigned off = part ? tb->size + tb->tail2 : 0u;
        unsigned end = part ? off + (tb->followed ? tb->size2 : 0u) : tb->size + tb->tail2;
        uint32_t eip = part ? tb->follow_eip : tb->eip;
        while (off < end) {
            char text[128];
            int n = x86_disasm_with(j->dis, tb->guest_copy + off, end - off, eip,
                                    (tb->flags & TBF_CODE32) != 0, text, sizeof(text));
            if (n <= 0) {
                break;
            }
            line(ctx, eip, tb->guest_copy + off, n, text);
            off += (unsigned)n;
            eip += (uint32_t)n;
        }
    }
}

static void in_asm_line(void *ctx, uint32_t eip, const uint8_t *bytes, int n, const char *text)
{
    CPUState *cpu = ctx;
    char hex[3 * X86_MAX_INSN_LEN + 1] = "";
    for (int i = 0; i < n && i < X86_MAX_INSN_LEN; i++) {
        snprintf(hex + 3 * i, sizeof(hex) - 3 * (size_t)i, "%02x ", bytes[i]);
    }
    log_msg(cpu->log, LOG_IN_ASM, "in_asm: %04x:%08x  %-30s %s\n", cpu->seg[S_CS].sel, eip,
            hex, text);
}

/* log_in_asm: -d in_asm: the guest instructions of a new block, one line each, in the
 * interpreter's format (translation is the JIT's equivalent of a decode-cache miss). */
static void log_in_asm(JitState *j, CPUState *cpu, const TranslationBlock *tb)
{
    tb_disasm(j, tb, in_asm_line, cpu);
}

static void out_asm_line(void *ctx, uint32_t eip, const uint8_t *bytes, int n, const char *text)
{
    (void)bytes;
    (void)n;
    log_msg(ctx, LOG_OUT_ASM, "  guest %08x: %s\n", eip, text);
}

static void log_out_asm(JitState *j, CPUState *cpu, const TranslationBlock *tb)
{
    Logger *lg = cpu->log;
    if (!j->dis) {
        j->dis = x86_disasm_new();
    }
    log_msg(lg, LOG_OUT_ASM, "OUT: [%04x:%08x phys %08x, %u guest insns, %u bytes]\n",
            cpu->seg[S_CS].sel, tb->eip, tb->phys_pc, tb->ninsns, tb->host_size);
    if (!j->dis) {
        return;
    }
    /* The guest instructions, then the host code (Capstone, x86-64). */
    tb_disasm(j, tb, out_asm_line, lg);
    if (!j->cs64_open) {
        if (cs_open(CS_ARCH_X86, CS_MODE_64, &j->cs64) != CS_ERR_OK) {
            return;
        }
        j->cs64_open = true;
    }
    for (int part = 0; part < 2; part++) {
        const uint8_t *code = part ? tb->cold_code : tb->host_code;
        uint32_t size = part ? tb->cold_size : tb->host_size;
        if (part && size) {
            log_msg(lg, LOG_OUT_ASM, "  cold: %u bytes\n", size);
        }
        cs_insn *insn;
        size_t count = size ? cs_disasm(j->cs64, code, size, (uint64_t)(uintptr_t)code, 0,
                                        &insn) : 0;
        for (size_t k = 0; k < count; k++) {
            log_msg(lg, LOG_OUT_ASM, "  %012llx: %s %s\n", (unsigned long long)insn[k].address,
                    insn[k].mnemonic, insn[k].op_str);
        }
        if (count) {
            cs_free(insn, count);
        }
    }
}

/* tb_start: a fresh block for the current CS:EIP in the pool slot after the last one. */
static TranslationBlock *tb_start(JitState *j, CPUState *cpu, uint32_t phys, uint32_t flags,
                                  const uint8_t *code)
{
    TranslationBlock *tb = &j->tbs[j->ntbs];
    memset(tb, 0, sizeof(*tb));
    tb->phys_pc = phys;
    tb->eip = cpu->eip;
    tb->cs_base = cpu->seg[S_CS].base;
    tb->cs_limit = cpu->seg[S_CS].limit;
    tb->flags = flags;
    tb->host_src = code;
    return tb;
}

static TranslationBlock *tb_translate(JitState *j, CPUState *cpu, uint32_t phys, uint32_t flags,
                                      const uint8_t *code, unsigned avail)
{
    size_t need_arena = TB_MAX_INSNS * sizeof(DecodedInsn) + 2 * 4096 + 16;
    if (j->ntbs >= j->max_tbs || j->npages + 2 > j->max_tbs ||
        j->arena_used + need_arena > j->arena_size || j->cb.used + CODE_HEADROOM > j->cb.cold_start ||
        j->cb.cold_used + CODE_HEADROOM > j->cb.size) {
        jit_flush_all(j, cpu);
        j->stats.flushes++;
    }
    TranslationBlock *tb = tb_start(j, cpu, phys, flags, code);
    size_t arena_mark = j->arena_used;
    uint64_t inline_before = j->stats.insns_inline;
    if (jit_frontend(j, cpu, tb, code, avail) == 0 || j->ir.overflow) {
        j->arena_used = arena_mark; /* nothing of a failed translation stays */
        return NULL;
    }
    if (!jit_backend(j, tb, &j->ir)) {
        /* The buffer filled up after all: flush, translate again into the empty buffer. */
        jit_flush_all(j, cpu);
        j->stats.flushes++;
        tb = tb_start(j, cpu, phys, flags, code);
        inline_before = j->stats.insns_inline;
        if (jit_frontend(j, cpu, tb, code, avail) == 0 || j->ir.overflow ||
            !jit_backend(j, tb, &j->ir)) {
            return NULL;
        }
    }
    tb->n_inline = (uint16_t)(j->stats.insns_inline - inline_before);
    j->ntbs++;
    tb->valid = true;
    unsigned h = tb_hash(phys, tb->eip, flags);
    tb->hash_next = j->hash[h];
    j->hash[h] = tb;
    jc_fill(j, tb);
    JitPage *pg = page_get(j, phys >> 12);
    tb->page_next = pg->first;
    pg->first = tb;
    code_frame_mark(j, cpu, phys);
    tb->page2_next = NULL;
    if (tb->size2 && (tb->phys2 >> 12) != (phys >> 12)) {
        /* An inlined callee in another frame: writes there drop the block too. */
        JitPage *pg2 = page_get(j, tb->phys2 >> 12);
        tb->page2_next = pg2->first2;
        pg2->first2 = tb;
        code_frame_mark(j, cpu, tb->phys2);
    }
    j->stats.blocks_translated++;
    if (log_enabled(cpu->log, LOG_JIT)) {
        log_msg(cpu->log, LOG_JIT, "jit: block %04x:%08x phys %08x: %u insns, %u IR ops\n",
                cpu->seg[S_CS].sel, tb->eip, tb->phys_pc, tb->ninsns, j->ir.n);
        ir_dump(&j->ir, cpu->log->out ? cpu->log->out : stderr);
    }
    if (log_enabled(cpu->log, LOG_IN_ASM)) {
        log_in_asm(j, cpu, tb);
    }
    if (log_enabled(cpu->log, LOG_OUT_ASM)) {
        log_out_asm(j, cpu, tb);
    }
    return tb;
}

static inline bool tb_key_match(const TranslationBlock *tb, uint32_t phys, uint32_t eip,
                                uint32_t flags, const SegCache *cs)
{
    return tb->phys_pc == phys && tb->eip == eip && tb->flags == flags &&
           tb->cs_base == cs->base && tb->cs_limit == cs->limit;
}

/* tb_lookup: the jump-cache slot of the translated block for CS:EIP when the code TLB
 * already maps the page: the jump cache first, then the hash table (which refills the slot).
 * NULL on a TLB miss, a block not translated yet, or one translated from other memory than
 * the frame holds now (see tb_find). */
static JitJcEntry *tb_lookup(JitState *j, CPUState *cpu)
{
    uint32_t eip = cpu->eip;
    const SegCache *cs = &cpu->seg[S_CS];
    uint32_t lin = cs->base + eip;
    const TLBEntry *te = &(cpu->cpl == 3 ? cpu->tlb_user : cpu->tlb)[(lin >> 12) & (TLB_SIZE - 1)];
    if (te->tag_code != (lin & ~0xFFFu) || eip > cs->limit) {
        return NULL;
    }
    const uint8_t *host = (const uint8_t *)(te->addend + lin);
    uint32_t phys = te->paddr | (lin & 0xFFF);
    uint32_t flags = tb_mode_flags(cpu);
    JitJcEntry *jc = &j->jc[jc_hash(lin)];
    if (jc->eip == eip && jc->cs_base == cs->base && jc->flags == flags &&
        jc->host_src == host && jc->phys == phys && jc->cs_limit == cs->limit) {
        j->stats.jc_hits++;
        return jc;
    }
    j->stats.jc_misses++;
    for (TranslationBlock *tb = j->hash[tb_hash(phys, eip, flags)]; tb; tb = tb->hash_next) {
        if (tb_key_match(tb, phys, eip, flags, cs)) {
            if (tb->host_src != host) {
                return NULL;
            }
            jc_fill(j, tb);
            return jc;
        }
    }
    return NULL;
}

/* tb_find: the block for CS:EIP, translated if needed; NULL when the interpreter must run
 * the next instruction (code outside RAM, an instruction crossing the page or the limit).
 * May raise #PF/#GP for the fetch, as the interpreter would. */
static TranslationBlock *tb_find(JitState *j, CPUState *cpu)
{
    const JitJcEntry *jc = tb_lookup(j, cpu);
    if (jc) {
        return jc->tb;
    }
    TranslationBlock *tb;
    uint32_t eip = cpu->eip;
    const SegCache *cs = &cpu->seg[S_CS];
    unsigned avail;
    uint32_t phys;
    const uint8_t *host = cpu_code_ptr(cpu, eip, &avail, &phys);
    if (!host) {
        return NULL;
    }
    uint32_t flags = tb_mode_flags(cpu);
    for (tb = j->hash[tb_hash(phys, eip, flags)]; tb; tb = tb->hash_next) {
        if (tb_key_match(tb, phys, eip, flags, cs)) {
            if (tb->host_src == host && tb->size <= avail) {
                jc_fill(j, tb);
                return tb;
            }
            /* Translated from the memory this frame held before a memory-map change. */
            tb_invalidate(j, cpu, tb);
            break;
        }
    }
    return tb_translate(j, cpu, phys, flags, host, avail);
}

/* jit_helper_lookup: called by generated code (the lookup trampoline) at an indirect exit
 * (RET, a helper that branched or changed the mode) and at a direct jump to another page:
 * the host code of the block for the current state when it is already translated and
 * nothing needs the C loop; NULL sends the block back to C. */
const void *jit_helper_lookup(CPUState *cpu)
{
    JitState *j = cpu->jit;
    if (exit_wanted(cpu) || j->opt.verify || cpu->mem->generation != cpu->mem_generation ||
        cpu->pending_db || (cpu->eflags & (EF_TF | EF_RF)) || (cpu->dr[7] & 0xFF)) {
        return NULL;
    }
    const JitJcEntry *jc = tb_lookup(j, cpu);
    if (!jc || jc->ninsns > j->end - cpu->icount) {
        return NULL;
    }
    j->stats.lookup_hits++;
    j->stats.lookup_c_hits++;
    return jc->code;
}

/* tb_chain: patch src's exit slot to go straight to dest when both lie in one guest page
 * (virtual and physical) and mode; a jump elsewhere goes to the lookup trampoline, which
 * finds its target through the TLB and the jump cache without returning to C. */
static void tb_chain(JitState *j, TranslationBlock *src, int slot, TranslationBlock *dest)
{
    if (!src->valid || !dest->valid || src->jmp_dest[slot] ||
        src->jmp_field[slot] == TB_NO_SLOT) {
        return;
    }
    /* A jump forward (to a higher EIP, in the same mode, so the same CS base) may enter
     * after dest's budget and event checks: a run of such jumps, host calls forward and the
     * host returns that undo calls cannot go on forever without a jump back (at the lowest
     * call depth reached, each block lies above the one before), and jumps back, lookups
     * and entries from C all pass the checks. Only under a host clock, where a slice may end
     * late (x86_jit_run); events set inside a block are caught by its own stop checks. */
    const uint8_t *dest_code =
        dest->host_code + (j->fwd_unchecked && dest->eip > src->eip ? dest->body_off : 0);
    const bool same_mode = src->flags == dest->flags && src->cs_base == dest->cs_base &&
                           src->cs_limit == dest->cs_limit;
    if (same_mode && src->jmp_xlink[slot] != TB_NO_SLOT) {
        /* Another page: the link checks at each use that the TLB entry of dest's linear page
         * still maps it to the same physical page and host memory (gen_slot_stubs). */
        size_t xs = src->jmp_xlink[slot];
        uint32_t lin = dest->cs_base + dest->eip;
        uint64_t addend = (uint64_t)(uintptr_t)dest->host_src - (lin & ~0xFFFu);
        codebuf_begin_write(&j->cb);
        x64_patch_u32(j->cb.rw, xs + TB_XLINK_PHYS, dest->phys_pc & ~0xFFFu);
        x64_patch_u64(j->cb.rw, xs + TB_XLINK_ADDEND, addend - (lin & 0xFFFu));
        x64_patch_rel32(j->cb.rw, xs + TB_XLINK_JMP, (size_t)(dest_code - j->cb.rx));
        codebuf_end_write(&j->cb);
        patch_jmp(j, src, slot, j->cb.rx + xs);
        j->stats.xpage_links++;
    } else if ((src->phys_pc >> 12) != (dest->phys_pc >> 12) ||
               ((src->cs_base + src->eip) >> 12) != ((dest->cs_base + dest->eip) >> 12) ||
               !same_mode) {
        /* Straight-line code cannot change the mode: the slot passes its block's bits in
         * r8d to the probe entry that does not recompute them. */
        patch_jmp(j, src, slot, j->cb.rx + src->jmp_stub[slot]);
        j->stats.lookup_links++;
        return;
    } else {
        patch_jmp(j, src, slot, dest_code);
        j->stats.chain_patches++;
    }
    src->jmp_dest[slot] = dest;
    src->jmp_in_next[slot] = dest->jmp_in;
    dest->jmp_in = (uintptr_t)src | (uintptr_t)slot;
}

/* ---- run loop ---- */

/* run_tail: the next block does not fit the exact budget (-icount, a bare CPU): interpret up
 * to the budget directly, with no block lookup per instruction. The tail is shorter than the
 * block (< TB_MAX_INSNS instructions), so this costs well under a microsecond per slice, far
 * less than translating a block cut to the remaining count, which would rarely run twice. */
static void run_tail(JitState *j, CPUState *cpu, uint64_t end, unsigned gen)
{
    do {
        cpu->insn_eip = cpu->eip;
        cpu->insn_esp = cpu->regs[R_ESP];
        j->stats.interp_steps++;
        x86_interp_step(cpu);
        cpu->icount++;
    } while (keep_running(cpu, end, gen));
}

/* group_for_good: whether page group grp of a block fails its entry check for a reason
 * running the block once under the interpreter does not cure: its bytes straddle two pages,
 * or the TLB maps the page with a flag bit (MMIO, code, watchpoint). Else the entry was just
 * not filled for the access (yet). */
static bool group_for_good(CPUState *cpu, const TranslationBlock *tb, const IRGroup *grp)
{
    uint32_t lo = cpu->regs[grp->reg] + (uint32_t)grp->lo;
    uint32_t hi = lo + grp->span - 1;
    if ((lo ^ hi) & ~0xFFFu) {
        return true;
    }
    uint32_t page = lo & ~0xFFFu;
    const TLBEntry *e = &tlb_table(cpu, ((tb->flags >> TBF_CPL_SHIFT) & 3) == 3)
                            [(lo >> 12) & (TLB_SIZE - 1)];
    bool flagged = e->tag_read != TLB_INVALID && (e->tag_read & ~0xFFFu) == page &&
                   e->tag_read != page;
    if (grp->write) {
        flagged = flagged || (e->tag_write != TLB_INVALID &&
                              (e->tag_write & ~0xFFFu) == page && e->tag_write != page);
    }
    return flagged;
}

/* group_fill: page group grp missed its TLB entry (not for good): fill it for reading (when
 * fill), as a processor may walk the page tables ahead of an access (setting accessed bits,
 * never dirty ones). Whether the group now hits. A write group on a page not yet dirty still
 * misses: only the write itself may set the dirty bit. */
static bool group_fill(CPUState *cpu, const TranslationBlock *tb, const IRGroup *grp,
                       bool fill)
{
    uint32_t lo = cpu->regs[grp->reg] + (uint32_t)grp->lo;
    uint32_t page = lo & ~0xFFFu;
    bool user = ((tb->flags >> TBF_CPL_SHIFT) & 3) == 3;
    const TLBEntry *e = &tlb_table(cpu, user)[(lo >> 12) & (TLB_SIZE - 1)];
    if (fill && e->tag_read != page && !tlb_fill(cpu, lo, ACC_READ, user, false)) {
        return false;
    }
    return e->tag_read == page && (!grp->write || e->tag_write == page);
}

/* group_straddle: the first group of tb whose bytes straddle two pages now, or NULL. */
static const IRGroup *group_straddle(const CPUState *cpu, const TranslationBlock *tb)
{
    for (unsigned g = 0; g < tb->ngroups && g < IR_MAX_GROUPS; g++) {
        uint32_t lo = cpu->regs[tb->group[g].reg] + (uint32_t)tb->group[g].lo;
        if ((lo ^ (lo + tb->group[g].span - 1)) & ~0xFFFu) {
            return &tb->group[g];
        }
    }
    return NULL;
}

/* group_miss: tb's page-group check failed on entry: its instructions run under the
 * interpreter, which fills the TLB or takes the fault (or, for a TLB miss, the entries are
 * filled and the block entered again). A group straddling two pages gets the block
 * translated again with that group split where the page begins (the same call path usually
 * comes back with the same stack depth; another process, with its stack elsewhere, moves the
 * split, up to JIT_GROUP_SPLIT_LIMIT times); a block that keeps missing for good (see
 * JIT_GROUP_MISS_LIMIT) is dropped, its address noted, and translated again without
 * groups. */
static void group_miss(JitState *j, CPUState *cpu, TranslationBlock *tb)
{
    j->stats.group_misses++;
    uint32_t start = tb->eip, size = tb->size;
    unsigned n = tb->ninsns;
    GroupHint *h = &j->ghint[jit_nogroup_slot(tb->phys_pc)];
    bool hinted = h->phys1 == tb->phys_pc + 1;
    bool for_good = false;
    for (unsigned g = 0; g < tb->ngroups && g < IR_MAX_GROUPS; g++) {
        for_good = for_good || group_for_good(cpu, tb, &tb->group[g]);
    }
    const IRGroup *st = for_good ? group_straddle(cpu, tb) : NULL;
    bool drop = false;
    if (!tb->valid) {
        /* dropped meanwhile: just run it */
    } else if (st && (!hinted || (!h->none && h->splits < JIT_GROUP_SPLIT_LIMIT))) {
        /* Split (again: a new process has its stack, so the page boundary, elsewhere). */
        uint32_t lo = cpu->regs[st->reg] + (uint32_t)st->lo;
        h->splits = hinted ? h->splits + 1 : 0;
        h->phys1 = tb->phys_pc + 1;
        h->none = false;
        h->split_reg = st->reg;
        h->split = st->lo + (int32_t)(0x1000u - (lo & 0xFFFu));
        tb_invalidate(j, cpu, tb);
        j->stats.group_splits++;
    } else if (for_good) {
        drop = ++tb->group_misses >= JIT_GROUP_MISS_LIMIT;
    } else {
        /* A TLB miss. Only those in quick succession count (an entry evicted again every
         * time); one per new address space or after a flush is expected. */
        if (cpu->icount - tb->tlb_miss_icount > JIT_GROUP_TLB_WINDOW) {
            tb->tlb_misses = 0;
        }
        tb->tlb_miss_icount = cpu->icount;
        drop = ++tb->tlb_misses >= JIT_GROUP_TLB_MISS_LIMIT;
        if (!drop) {
            /* Fill the entries and enter the block again, unless filling one evicted
             * another's or a page is absent (the interpreter takes the fault where it
             * belongs) or clean for a store (the store sets the dirty bit). */
            bool hit = true;
            for (unsigned g = 0; g < tb->ngroups && g < IR_MAX_GROUPS && hit; g++) {
                hit = group_fill(cpu, tb, &tb->group[g], true);
            }
            for (unsigned g = 0; g < tb->ngroups && g < IR_MAX_GROUPS && hit; g++) {
                hit = group_fill(cpu, tb, &tb->group[g], false);
            }
            if (hit) {
                j->stats.group_fills++;
                return;
            }
        }
    }
    if (drop) {
        h->phys1 = tb->phys_pc + 1;
        h->none = true;
        tb_invalidate(j, cpu, tb);
        j->stats.group_drops++;
    }
    for (unsigned k = 0; k < n && cpu->eip - start < size; k++) {
        cpu->insn_eip = cpu->eip;
        cpu->insn_esp = cpu->regs[R_ESP];
        j->stats.interp_steps++;
        x86_interp_step(cpu);
        cpu->icount++;
    }
}

void x86_jit_run(CPUState *cpu, uint64_t end)
{
    JitState *j = cpu->jit;
    const unsigned gen = cpu->mem_generation;
    /* Under a host clock nothing observes the exact instruction count of a slice (virtual
     * time is the host's), so blocks may run up to TB_MAX_INSNS - 1 instructions past end
     * and a block never has to be cut short: limit is what generated code and the lookups
     * test (icount + ninsns <= limit); end still stops the loop here. With -icount or a bare
     * CPU the budget is exact. */
    const bool exact = !cpu->clock || cpu->clock->mode != CLOCK_HOST;
    const uint64_t limit = exact ? end : end + TB_MAX_INSNS - 1;
    j->end = limit;
    j->fwd_unchecked = !exact;
    j->count_execs = log_enabled(cpu->log, LOG_JIT_STATS);
    cpu->jit_stop = 0;
    if (cpu->nmi_pending || (cpu->intr_pending && (cpu->eflags & EF_IF))) {
        /* Entered in an interrupt shadow (after STI, MOV SS, POP SS): exactly one
         * instruction runs before the event, as in the interpreter's loop. */
        cpu->insn_eip = cpu->eip;
        cpu->insn_esp = cpu->regs[R_ESP];
        j->stats.interp_steps++;
        x86_interp_step(cpu);
        cpu->icount++;
        if (!keep_running(cpu, end, gen)) {
            return;
        }
    }
    TranslationBlock *last = NULL;
    int last_slot = 0;
    do {
        cpu->insn_eip = cpu->eip;
        cpu->insn_esp = cpu->regs[R_ESP];
        uint64_t flushes_before = j->stats.flushes;
        TranslationBlock *tb = tb_find(j, cpu);
        if (j->stats.flushes != flushes_before) {
            last = NULL; /* flushed: last's code is gone */
        }
        if (tb && last && !j->opt.verify) {
            tb_chain(j, last, last_slot, tb);
        }
        last = NULL;
        cpu->jit_stop = 0; /* invalidations by the lookup itself concern no running code */
        if (!tb) {
            j->stats.interp_steps++;
            x86_interp_step(cpu);
            cpu->icount++;
            continue;
        }
        if (tb->ninsns > limit - cpu->icount) {
            run_tail(j, cpu, end, gen);
            return;
        }
        j->stats.block_entries++;
        if (j->opt.verify) {
            if (!jit_verify_block(j, cpu, tb)) {
                return;
            }
            cpu->jit_stop = 0;
            if ((j->verify_exit & TB_TAG_MASK) == TB_EXIT_GROUP_MISS) {
                /* A page-group miss ran nothing (both sides agreed on that). */
                group_miss(j, cpu, tb);
                cpu->jit_stop = 0;
            }
            continue;
        }
        uintptr_t r = j->enter(cpu, j, tb->host_code);
        cpu->jit_stop = 0;
        if ((r & TB_TAG_MASK) == TB_EXIT_GROUP_MISS) {
            group_miss(j, cpu, (TranslationBlock *)(r & ~(uintptr_t)TB_TAG_MASK));
            cpu->jit_stop = 0; /* what it dropped is not running */
        } else if (r & TB_TAG_MASK) {
            last = (TranslationBlock *)(r & ~(uintptr_t)TB_TAG_MASK);
            last_slot = (int)(r & TB_TAG_MASK) - 1;
            if (!last->valid) {
                last = NULL;
            }
        }
    } while (keep_running(cpu, end, gen));
}
