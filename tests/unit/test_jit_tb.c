/* test_jit_tb.c: the JIT's translation blocks on a bare real-mode CPU: results equal the
 * interpreter's, direct jumps are chained, code written by the running block takes effect at
 * the next instruction, a fault in mid-block leaves exact state and icount, the instruction
 * budget is exact (bare CPU, -icount clock; under a host clock the last block runs whole),
 * interrupts are taken between chained blocks, invalidation and full flushes, and -accel
 * option parsing. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "translate/jit.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000u
#define HANDLER 0x0F00u

typedef struct Rig {
    Logger log;
    MemMap mem;
    PortMap io;
    uint8_t *ram;
    CPUState *cpu;
    int vector;           /* what intr_ack returns */
} Rig;

static int rig_ack(void *opaque)
{
    Rig *r = opaque;
    r->cpu->intr_pending = false;
    return r->vector;
}

/* rig_new: 1 MiB of RAM, real mode, every IVT vector at 0000:0F00 (HLT), code at 0000:1000,
 * stack at 0000:8000; with the JIT when jit (code_size 0: the default buffer). */
static Rig *rig_new(bool jit, size_t code_size, const uint8_t *code, size_t len)
{
    Rig *r = calloc(1, sizeof(*r));
    cr_assert_not_null(r);
    r->ram = calloc(1, RAM_SIZE);
    r->cpu = calloc(1, sizeof(CPUState));
    cr_assert(r->ram && r->cpu);
    log_init(&r->log);
    memmap_init(&r->mem, &r->log);
    portmap_init(&r->io, &r->log);
    cr_assert_geq(mem_map_ram(&r->mem, "ram", 0, RAM_SIZE, r->ram, 0), 0);
    cpu_init(r->cpu, &r->mem, &r->io, &r->log);
    cpu_set_a20(r->cpu, true);
    r->cpu->hooks.intr_ack = rig_ack;
    r->cpu->hooks.opaque = r;
    for (int v = 0; v < 256; v++) {
        r->ram[4 * v] = HANDLER & 0xFF;
        r->ram[4 * v + 1] = HANDLER >> 8;
        r->ram[4 * v + 2] = 0;
        r->ram[4 * v + 3] = 0;
    }
    r->ram[HANDLER] = 0xF4;
    memcpy(r->ram + CODE, code, len);
    for (int s = 0; s < S_NSEG; s++) {
        cpu_set_seg_real(r->cpu, s, 0);
    }
    r->cpu->eip = CODE;
    r->cpu->regs[R_ESP] = 0x8000;
    if (jit) {
        JitOptions o;
        jit_options_default(&o);
        o.verify = false;
        if (code_size) {
            o.code_size = code_size;
        }
        cr_assert_eq(x86_jit_enable(r->cpu, &o), 0);
    }
    return r;
}

/* rig_no_loops: the JIT again, exits to a block's own start leaving it (chained to itself)
 * instead of jumping back inside it. */
static void rig_no_loops(Rig *r)
{
    x86_tcache_free(r->cpu);
    JitOptions o;
    jit_options_default(&o);
    o.verify = false;
    o.no_loops = true;
    cr_assert_eq(x86_jit_enable(r->cpu, &o), 0);
}

static void rig_free(Rig *r)
{
    x86_tcache_free(r->cpu);
    free(r->cpu);
    free(r->ram);
    free(r);
}

/* rig_run: until HLT (or a limit). */
static void rig_run(Rig *r, uint64_t limit)
{
    uint64_t start = r->cpu->icount;
    while (!r->cpu->halted && !r->cpu->shutdown && r->cpu->icount - start < limit) {
        cpu_exec(r->cpu, 1 << 16);
    }
}

/* assert_same: the JIT rig ended in the interpreter rig's state. */
static void assert_same(Rig *a, Rig *b)
{
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(a->cpu->regs[i], b->cpu->regs[i], "reg %d: jit %08x interp %08x", i,
                     a->cpu->regs[i], b->cpu->regs[i]);
    }
    cr_assert_eq(a->cpu->eip, b->cpu->eip);
    cr_assert_eq(cpu_get_eflags(a->cpu), cpu_get_eflags(b->cpu));
    cr_assert_eq(a->cpu->icount, b->cpu->icount, "icount: jit %llu interp %llu",
                 (unsigned long long)a->cpu->icount, (unsigned long long)b->cpu->icount);
    cr_assert_eq(memcmp(a->ram, b->ram, 0x10000), 0, "low 64 KiB differ");
}

static void run_both(const uint8_t *code, size_t len, Rig **jit_out, Rig **int_out)
{
    Rig *j = rig_new(true, 0, code, len);
    Rig *i = rig_new(false, 0, code, len);
    rig_run(j, 10000000);
    rig_run(i, 10000000);
    assert_same(j, i);
    *jit_out = j;
    *int_out = i;
}

/* mov cx,200; l1: mov si,0; l2: add ax,si; xor dx,ax; inc si; cmp si,100; jne l2; loop l1; hlt */
static const uint8_t alu_loop[] = {0xB9, 0xC8, 0x00, 0xBE, 0x00, 0x00, 0x01, 0xF0, 0x31, 0xC2,
                                   0x46, 0x83, 0xFE, 0x64, 0x75, 0xF6, 0xE2, 0xF1, 0xF4};

Test(jit_tb, a_loop_gives_the_interpreters_result_with_chained_blocks)
{
    Rig *j, *i;
    run_both(alu_loop, sizeof(alu_loop), &j, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_not_null(s);
    cr_assert_gt(s->chain_patches, 0);
    /* 200 x 100 iterations: almost every block transition goes through a chained jump. */
    cr_assert_lt(s->block_entries, 1000, "block entries from C: %llu",
                 (unsigned long long)s->block_entries);
    cr_assert_gt(s->insns_inline, 0);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, an_inline_store_into_the_running_block_changes_the_next_instruction)
{
    /* mov byte [0x1008], 0x42; nop; nop; mov al, 0 (its immediate is at 0x1008); hlt */
    static const uint8_t code[] = {0xC6, 0x06, 0x08, 0x10, 0x42, 0x90, 0x90, 0xB0, 0x00, 0xF4};
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFF, 0x42);
    cr_assert_geq(x86_jit_stats(j->cpu)->invalidations, 1);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_helper_store_into_the_running_block_changes_the_next_instruction)
{
    /* mov di,0x1010; mov al,0x42; stosb; 8 x nop; mov ah,0 (immediate at 0x1010); hlt */
    uint8_t code[32];
    size_t n = 0;
    const uint8_t head[] = {0xBF, 0x10, 0x10, 0xB0, 0x42, 0xAA};
    memcpy(code, head, sizeof(head));
    n = sizeof(head);
    while (n < 0x0F) {
        code[n++] = 0x90;
    }
    code[n++] = 0xB4;
    code[n++] = 0x00;
    code[n++] = 0xF4;
    Rig *j, *i;
    run_both(code, n, &j, &i);
    cr_assert_eq((j->cpu->regs[R_EAX] >> 8) & 0xFF, 0x42);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_fault_in_mid_block_leaves_exact_state_and_icount)
{
    /* inc ax; inc ax; mov ax,[0xFFFF] (a word past the DS limit: #GP); hlt */
    static const uint8_t code[] = {0x40, 0x40, 0x8B, 0x06, 0xFF, 0xFF, 0xF4};
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, 2);
    /* The #GP frame holds the faulting instruction's IP: 0x1002. */
    uint16_t sp = (uint16_t)j->cpu->regs[R_ESP];
    cr_assert_eq(j->ram[sp] | (j->ram[sp + 1] << 8), 0x1002);
    /* inc, inc, the faulting mov (counted by cpu_exec), the handler's HLT. */
    cr_assert_eq(j->cpu->icount, 4);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, an_indirect_call_beyond_the_cs_limit_faults_before_pushing)
{
    /* inc ax; mov ebx, 0x12345; call ebx (32-bit operand, target past the real-mode
     * limit: #GP, nothing pushed). */
    static const uint8_t code[] = {0x40, 0x66, 0xBB, 0x45, 0x23, 0x01, 0x00,
                                   0x66, 0xFF, 0xD3, 0xF4};
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i);
    /* The #GP frame (flags, CS, IP) right below the original SP (the call pushed nothing),
     * IP = the call's. */
    cr_assert_eq(j->cpu->regs[R_ESP] & 0xFFFF, 0x8000 - 6);
    cr_assert_eq(j->ram[0x7FFA] | (j->ram[0x7FFB] << 8), 0x1007);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, the_instruction_budget_is_exact)
{
    /* l: inc ax; jmp l */
    static const uint8_t code[] = {0x40, 0xEB, 0xFD};
    Rig *j = rig_new(true, 0, code, sizeof(code));
    cr_assert_eq(cpu_exec(j->cpu, 1001), CPU_EXIT_BUDGET);
    cr_assert_eq(j->cpu->icount, 1001);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, 501);
    cr_assert_eq(cpu_exec(j->cpu, 10), CPU_EXIT_BUDGET);
    cr_assert_eq(j->cpu->icount, 1011);
    rig_free(j);
}

Test(jit_tb, an_interrupt_is_taken_between_chained_blocks)
{
    /* sti; l: inc ax; jmp l. Vector 0x20 -> 0000:0F10: mov bx,0x1234; hlt */
    static const uint8_t code[] = {0xFB, 0x40, 0xEB, 0xFD};
    Rig *j = rig_new(true, 0, code, sizeof(code));
    rig_no_loops(j);
    const uint8_t isr[] = {0xBB, 0x34, 0x12, 0xF4};
    memcpy(j->ram + 0x0F10, isr, sizeof(isr));
    j->ram[4 * 0x20] = 0x10;
    j->ram[4 * 0x20 + 1] = 0x0F;
    j->vector = 0x20;
    cr_assert_eq(cpu_exec(j->cpu, 5001), CPU_EXIT_BUDGET);
    cr_assert_gt(x86_jit_stats(j->cpu)->chain_patches, 0);
    uint64_t before = j->cpu->icount;
    j->cpu->intr_pending = true;
    cr_assert_eq(cpu_exec(j->cpu, 1000000), CPU_EXIT_HALT);
    cr_assert_eq(j->cpu->regs[R_EBX] & 0xFFFF, 0x1234);
    /* Taken at the next block boundary: one delivery, mov, hlt, nothing else. */
    cr_assert_leq(j->cpu->icount - before, 4);
    rig_free(j);
}

Test(jit_tb, invalidating_a_range_drops_its_blocks_and_they_are_translated_again)
{
    Rig *j = rig_new(true, 0, alu_loop, sizeof(alu_loop));
    rig_run(j, 10000000);
    const JitStats *s = x86_jit_stats(j->cpu);
    uint64_t translated = s->blocks_translated, inval = s->invalidations;
    x86_jit_invalidate_phys(j->cpu, CODE, 1);
    cr_assert_eq(s->invalidations, inval + 1);
    j->cpu->halted = false;
    j->cpu->eip = CODE;
    rig_run(j, 10000000);
    cr_assert_gt(s->blocks_translated, translated);
    rig_free(j);
}

Test(jit_tb, code_written_by_dma_is_dropped)
{
    /* mov al,1; hlt; rewritten by a device (DMA through the memory map) to mov al,2; hlt */
    static const uint8_t code[] = {0xB0, 0x01, 0xF4};
    Rig *j = rig_new(true, 0, code, sizeof(code));
    rig_run(j, 100);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFF, 1);
    const uint8_t two = 2;
    mem_write_buf(&j->mem, CODE + 1, &two, 1);
    cr_assert_eq(x86_jit_stats(j->cpu)->ram_writes, 1);
    j->cpu->halted = false;
    j->cpu->eip = CODE;
    rig_run(j, 100);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFF, 2);
    rig_free(j);
}

Test(jit_tb, a_small_code_buffer_flushes_and_keeps_running_correctly)
{
    /* 3000 x (inc ax; jmp +0): 3000 blocks, far more code than 256 KiB holds. */
    size_t n = 3000 * 3 + 1;
    uint8_t *code = malloc(n);
    for (size_t k = 0; k < 3000; k++) {
        code[3 * k] = 0x40;
        code[3 * k + 1] = 0xEB;
        code[3 * k + 2] = 0x00;
    }
    code[n - 1] = 0xF4;
    Rig *j = rig_new(true, 256u << 10, code, n);
    rig_run(j, 10000000);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, 3000);
    cr_assert_eq(j->cpu->icount, 6001);
    cr_assert_gt(x86_jit_stats(j->cpu)->flushes, 0);
    rig_free(j);
    free(code);
}

Test(jit_tb, lockstep_mode_verifies_blocks_and_agrees_with_the_interpreter)
{
    Rig *j = rig_new(false, 0, alu_loop, sizeof(alu_loop));
    JitOptions o;
    jit_options_default(&o);
    o.verify = true;
    cr_assert_eq(x86_jit_enable(j->cpu, &o), 0);
    Rig *i = rig_new(false, 0, alu_loop, sizeof(alu_loop));
    rig_run(j, 10000000);
    rig_run(i, 10000000);
    assert_same(j, i);
    cr_assert(!x86_jit_verify_failed(j->cpu));
    cr_assert_gt(x86_jit_stats(j->cpu)->verified_blocks, 100);
    rig_free(j);
    rig_free(i);
}

Test(jit_options, accel_values_parse_or_are_rejected)
{
    bool use;
    JitOptions o;
    char err[128];
    cr_assert_eq(jit_parse_accel("interp", &use, &o, err, sizeof(err)), 0);
    cr_assert(!use);
    cr_assert_eq(jit_parse_accel("jit", &use, &o, err, sizeof(err)), 0);
    cr_assert(use);
    cr_assert_eq(o.code_size, JIT_DEFAULT_CODE_SIZE);
    cr_assert_eq(jit_parse_accel("jit,verify=on,tb-size=4,inline=off", &use, &o, err,
                                 sizeof(err)), 0);
    cr_assert(o.verify && o.no_inline && !o.no_groups);
    cr_assert_eq(o.code_size, 4u << 20);
    cr_assert_eq(jit_parse_accel("jit,groups=off", &use, &o, err, sizeof(err)), 0);
    cr_assert(o.no_groups && !o.verify);
    cr_assert_eq(jit_parse_accel("jit,follow=off,loops=off,defer=off", &use, &o, err,
                                 sizeof(err)), 0);
    cr_assert(o.no_follow && o.no_loops && o.no_defer && !o.no_groups);
    cr_assert_eq(jit_parse_accel("jit", &use, &o, err, sizeof(err)), 0);
    cr_assert(!o.no_follow && !o.no_loops && !o.no_defer);
    cr_assert_lt(jit_parse_accel("jit,bogus", &use, &o, err, sizeof(err)), 0);
    cr_assert_lt(jit_parse_accel("kvm", &use, &o, err, sizeof(err)), 0);
    cr_assert_lt(jit_parse_accel("jitter", &use, &o, err, sizeof(err)), 0);
    cr_assert_lt(jit_parse_accel("jit,tb-size=0", &use, &o, err, sizeof(err)), 0);
}

Test(jit_tb, a_call_whose_push_lands_in_a_code_page_still_reaches_its_target)
{
    /* mov sp,0x1100 (the stack in the code's own page); call +3; hlt; hlt; hlt;
     * target: mov bx,0x55AA; hlt */
    static const uint8_t code[] = {0xBC, 0x00, 0x11, 0xE8, 0x03, 0x00, 0xF4, 0xF4, 0xF4,
                                   0xBB, 0xAA, 0x55, 0xF4};
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i);
    cr_assert_eq(j->cpu->regs[R_EBX] & 0xFFFF, 0x55AA);
    cr_assert_eq(j->ram[0x10FE] | (j->ram[0x10FF] << 8), 0x1006);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, push_pop_and_ret_match_the_interpreter)
{
    /* mov ax,0x1234; push ax; pop cx; call f; hlt; f: push cx; pop dx; ret */
    static const uint8_t code[] = {0xB8, 0x34, 0x12, 0x50, 0x59, 0xE8, 0x01, 0x00, 0xF4,
                                   0x51, 0x5A, 0xC3};
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i);
    cr_assert_eq(j->cpu->regs[R_EDX] & 0xFFFF, 0x1234);
    cr_assert_eq(j->cpu->regs[R_ESP] & 0xFFFF, 0x8000);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, flags_at_a_mid_block_fault_are_those_of_the_last_op_before_it)
{
    /* mov ax,0xFFFF; add ax,1 (ZF CF); sub ax,3 (SF CF, no ZF); mov bx,[0xFFFF] (#GP): the
     * FLAGS image the handler's frame holds must be SUB's, as under the interpreter. */
    static const uint8_t code[] = {0xB8, 0xFF, 0xFF, 0x83, 0xC0, 0x01, 0x83, 0xE8, 0x03,
                                   0x8B, 0x1E, 0xFF, 0xFF, 0xF4};
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i); /* compares the stack (low 64 KiB) too */
    uint16_t sp = (uint16_t)j->cpu->regs[R_ESP];
    uint16_t flags = (uint16_t)(j->ram[sp + 4] | (j->ram[sp + 5] << 8));
    cr_assert(flags & EF_CF);
    cr_assert(flags & EF_SF);
    cr_assert(!(flags & EF_ZF));
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_chained_target_rewritten_by_dma_runs_its_new_code_next_slice)
{
    /* 1000: inc ax; jmp 1011 / 1011: mov bx,1; jmp 1000 -- both blocks chain to each other */
    uint8_t code[0x20] = {0};
    code[0x00] = 0x40;
    code[0x01] = 0xEB;
    code[0x02] = 0x0E;
    const uint8_t b[] = {0xBB, 0x01, 0x00, 0xEB, 0xEA};
    memcpy(code + 0x11, b, sizeof(b));
    Rig *j = rig_new(true, 0, code, sizeof(code));
    cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
    cr_assert_eq(j->cpu->regs[R_EBX] & 0xFFFF, 1);
    uint64_t patches = x86_jit_stats(j->cpu)->chain_patches;
    cr_assert_geq(patches, 2);
    /* Chains survive from one execution slice to the next. */
    cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
    cr_assert_eq(x86_jit_stats(j->cpu)->chain_patches, patches);
    const uint8_t two = 2;
    mem_write_buf(&j->mem, CODE + 0x12, &two, 1); /* a DMA transfer: no CPU store */
    cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
    cr_assert_eq(j->cpu->regs[R_EBX] & 0xFFFF, 2);
    rig_free(j);
}

Test(jit_tb, a_memory_map_change_under_translated_code_runs_the_new_memory)
{
    /* mov al,1; hlt at 0x1000; then a second RAM block with mov al,3; hlt is mapped over the
     * frame at a higher priority (as a PAM or BAR change would): the same physical address
     * now holds other bytes and the next run must execute them. */
    static const uint8_t code[] = {0xB0, 0x01, 0xF4};
    Rig *j = rig_new(true, 0, code, sizeof(code));
    rig_run(j, 100);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFF, 1);
    uint8_t *other = calloc(1, 4096);
    cr_assert_not_null(other);
    other[0] = 0xB0;
    other[1] = 0x03;
    other[2] = 0xF4;
    int h = mem_map_ram(&j->mem, "over", CODE, 4096, other, 1);
    cr_assert_geq(h, 0);
    j->cpu->halted = false;
    j->cpu->eip = CODE;
    rig_run(j, 100);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFF, 3);
    mem_unmap(&j->mem, h);
    j->cpu->halted = false;
    j->cpu->eip = CODE;
    rig_run(j, 100);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFF, 1);
    rig_free(j);
    free(other);
}

Test(jit_tb, a_jump_to_another_page_is_linked_behind_a_tlb_check)
{
    /* 1000: inc ax; jmp 2000 / 2000: inc bx; jmp 1000 -- two pages, looping */
    uint8_t code[0x1010] = {0};
    code[0x000] = 0x40;
    code[0x001] = 0xE9; /* jmp rel16 to 0x2000: 0x2000 - 0x1004 = 0x0FFC */
    code[0x002] = 0xFC;
    code[0x003] = 0x0F;
    code[0x1000] = 0x43;
    code[0x1001] = 0xE9; /* 0x1000 - 0x2004 = -0x1004 */
    code[0x1002] = 0xFC;
    code[0x1003] = 0xEF;
    Rig *j = rig_new(true, 0, code, sizeof(code));
    cr_assert_eq(cpu_exec(j->cpu, 100000), CPU_EXIT_BUDGET);
    const JitStats *s = x86_jit_stats(j->cpu);
    /* Both jumps are linked to their blocks: no probe, no C loop after the first round. */
    cr_assert_eq(s->xpage_links, 2);
    cr_assert_lt(s->lookup_hits, 10);
    cr_assert_lt(s->block_entries, 100);
    /* Both counters ran the same number of times, give or take the one in flight. */
    uint16_t ax = (uint16_t)j->cpu->regs[R_EAX], bx = (uint16_t)j->cpu->regs[R_EBX];
    cr_assert_leq((uint16_t)(ax - bx), 1);
    cr_assert_gt(ax, 10000);

    /* Other RAM mapped over the second page (a memory map change, as a PCI BAR move would
     * make): the link's TLB check fails and the jump finds the new page's code,
     * 2000: inc cx; jmp 1000. */
    uint8_t *other = calloc(1, 4096);
    cr_assert_not_null(other);
    other[0] = 0x41;
    other[1] = 0xE9;
    other[2] = 0xFC;
    other[3] = 0xEF;
    int h = mem_map_ram(&j->mem, "over", CODE + 0x1000, 4096, other, 1);
    cr_assert_geq(h, 0);
    uint16_t bx0 = (uint16_t)j->cpu->regs[R_EBX];
    cr_assert_eq(cpu_exec(j->cpu, 100000), CPU_EXIT_BUDGET);
    cr_assert_eq((uint16_t)j->cpu->regs[R_EBX], bx0);
    cr_assert_gt((uint16_t)j->cpu->regs[R_ECX], 10000);
    mem_unmap(&j->mem, h);
    rig_free(j);
    free(other);
}

/* rig_paging: flat 32-bit protected mode at CPL cpl, paging on with a page directory at
 * 0x10000 and one table at 0x11000 mapping the first 1 MiB to itself (P|RW|US). */
static void rig_paging(Rig *r, int cpl)
{
    CPUState *cpu = r->cpu;
    cpu->cr0 |= CR0_PE;
    for (int s = 0; s < S_NSEG; s++) {
        cpu->seg[s].sel = (uint16_t)(s == S_CS ? (0x08 | cpl) : (0x10 | cpl));
        cpu->seg[s].base = 0;
        cpu->seg[s].limit = 0xFFFFFFFFu;
        cpu->seg[s].flags = (uint16_t)(SEGF_P | SEGF_S | SEGF_G | SEGF_DB | (cpl << 5) |
                                       (s == S_CS ? 0xB : 0x3));
    }
    cpu->cpl = cpl;
    uint32_t pde = 0x11000 | 7;
    memcpy(r->ram + 0x10000, &pde, 4);
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t pte = (i << 12) | 7;
        memcpy(r->ram + 0x11000 + 4 * i, &pte, 4);
    }
    cpu->cr3 = 0x10000;
    cpu->cr0 |= CR0_PG;
    tlb_flush(cpu, true);
}

Test(jit_tb, x87_double_moves_inline_or_not_leave_the_interpreters_state)
{
    /* Flat 32-bit code: FLD m64 / FSTP m64 of normal, zero, -0, denormal, infinite, quiet
     * and signalling NaN, largest and smallest normal doubles (inline only where exact); FST
     * and FSTP of a rounded sum, of extended values beyond the double's range both ways; a
     * stack overflow (nine loads) and an underflow (FSTP of an empty stack); operands
     * crossing a page; FNSTENV right after an inline FLD and FSTP (the third pair, when the
     * TLB entries are filled: the pointers); at the end FNSAVE, so the memory compare covers
     * the whole FPU state. */
    static const uint8_t code[] = {
        0xDB, 0xE3, 0xDD, 0x05, 0x00, 0x30, 0x00, 0x00, 0xDD, 0x1D, 0x00, 0x31, 0x00, 0x00,
        0xDD, 0x05, 0x08, 0x30, 0x00, 0x00, 0xDD, 0x1D, 0x08, 0x31, 0x00, 0x00, 0xDD, 0x05,
        0x10, 0x30, 0x00, 0x00, 0xD9, 0x35, 0x00, 0x42, 0x00, 0x00, 0xDD, 0x1D, 0x10, 0x31,
        0x00, 0x00, 0xD9, 0x35, 0x00, 0x41, 0x00, 0x00, 0xDD, 0x05, 0x18, 0x30, 0x00, 0x00,
        0xDD, 0x1D, 0x18, 0x31, 0x00, 0x00, 0xDD, 0x05, 0x20, 0x30, 0x00, 0x00, 0xDD, 0x1D,
        0x20, 0x31, 0x00, 0x00, 0xDD, 0x05, 0x28, 0x30, 0x00, 0x00, 0xDD, 0x1D, 0x28, 0x31,
        0x00, 0x00, 0xDD, 0x05, 0x30, 0x30, 0x00, 0x00, 0xDD, 0x1D, 0x30, 0x31, 0x00, 0x00,
        0xDD, 0x05, 0x38, 0x30, 0x00, 0x00, 0xDD, 0x1D, 0x38, 0x31, 0x00, 0x00, 0xDD, 0x05,
        0x40, 0x30, 0x00, 0x00, 0xDD, 0x1D, 0x40, 0x31, 0x00, 0x00, 0xDD, 0x05, 0x48, 0x30,
        0x00, 0x00, 0xDD, 0x1D, 0x48, 0x31, 0x00, 0x00, 0xDD, 0x05, 0x50, 0x30, 0x00, 0x00,
        0xDD, 0x1D, 0x50, 0x31, 0x00, 0x00, 0xDD, 0x05, 0x00, 0x30, 0x00, 0x00, 0xDD, 0x05,
        0x08, 0x30, 0x00, 0x00, 0xDE, 0xC1, 0xDD, 0x15, 0x00, 0x32, 0x00, 0x00, 0xDD, 0x1D,
        0x08, 0x32, 0x00, 0x00, 0xDB, 0x2D, 0x00, 0x34, 0x00, 0x00, 0xDD, 0x1D, 0x10, 0x32,
        0x00, 0x00, 0xDB, 0x2D, 0x0A, 0x34, 0x00, 0x00, 0xDD, 0x1D, 0x18, 0x32, 0x00, 0x00,
        0xDD, 0x05, 0x00, 0x30, 0x00, 0x00, 0xDD, 0x05, 0x08, 0x30, 0x00, 0x00, 0xDD, 0x05,
        0x10, 0x30, 0x00, 0x00, 0xDD, 0x05, 0x18, 0x30, 0x00, 0x00, 0xDD, 0x05, 0x20, 0x30,
        0x00, 0x00, 0xDD, 0x05, 0x28, 0x30, 0x00, 0x00, 0xDD, 0x05, 0x30, 0x30, 0x00, 0x00,
        0xDD, 0x05, 0x38, 0x30, 0x00, 0x00, 0xDD, 0x05, 0x40, 0x30, 0x00, 0x00, 0xDD, 0x1D,
        0x20, 0x32, 0x00, 0x00, 0xDB, 0xE3, 0xDD, 0x1D, 0x28, 0x32, 0x00, 0x00, 0xDD, 0x05,
        0x00, 0x30, 0x00, 0x00, 0xDD, 0x15, 0x30, 0x32, 0x00, 0x00, 0xDD, 0x1D, 0x38, 0x32,
        0x00, 0x00, 0xDD, 0x05, 0xFC, 0x3F, 0x00, 0x00, 0xDD, 0x1D, 0xFC, 0x5F, 0x00, 0x00,
        0xDD, 0x35, 0x00, 0x40, 0x00, 0x00, 0xF4
    };
    static const uint64_t doubles[11] = {
        0x3FF8000000000000ull, 0x3FB999999999999Aull, 0, 0x8000000000000000ull, 1,
        0x7FF0000000000000ull, 0x7FF8000000000000ull, 0x7FF0000000000001ull,
        0x7FEFFFFFFFFFFFFFull, 0x0010000000000000ull, 0xC006000000000000ull,
    };
    /* extended: the largest finite, and 2^-16382 (far below the double's range) */
    static const uint8_t ext[20] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xFE, 0x7F,
                                    0, 0, 0, 0, 0, 0, 0, 0x80, 0x01, 0x00};
    Rig *r[2];
    for (int k = 0; k < 2; k++) {
        r[k] = rig_new(k == 0, 0, code, sizeof(code));
        rig_paging(r[k], 0);
        memcpy(r[k]->ram + 0x3000, doubles, sizeof(doubles));
        memcpy(r[k]->ram + 0x3400, ext, sizeof(ext));
        memcpy(r[k]->ram + 0x3FFC, doubles, 8);
        rig_run(r[k], 100000);
        cr_assert(r[k]->cpu->halted);
    }
    assert_same(r[0], r[1]);
    uint64_t v;
    memcpy(&v, r[0]->ram + 0x3100, 8);
    cr_assert_eq(v, doubles[0], "1.5 moved through ST0");
    memcpy(&v, r[0]->ram + 0x3120, 8);
    cr_assert_eq(v, 1u, "a denormal moved through ST0 (the handler)");
    rig_free(r[0]);
    rig_free(r[1]);
}

Test(jit_tb, x87_register_moves_inline_or_not_leave_the_interpreters_state)
{
    /* Flat 32-bit code, twice: FLD1, FLDZ, FLD m64, FXCH, FLD ST(i), FST ST(i), FNSTSW AX
     * (stored), FNSTENV right after, FSTP ST(i), FXCH, FSTP m64; FXCH of two zeros and of a
     * zero and a one (their tags swap); then the stack faults each of them can raise (the
     * handler's path): FSTP of an empty ST0, FXCH and FLD of an empty register, nine
     * pushes, then FXCH of two zeros again; FNSTENV at the end, and the FPU states (raw
     * tags included) compared. */
    static const uint8_t code[] = {
        0xDB, 0xE3, 0xDD, 0x05, 0x00, 0x30, 0x00, 0x00, 0xDD, 0x1D, 0x00, 0x3F, 0x00, 0x00,
        0xD9, 0xE8, 0xD9, 0xEE, 0xDD, 0x05, 0x00, 0x30, 0x00, 0x00, 0xD9, 0xCA, 0xD9, 0xC1,
        0xDD, 0xD3, 0xDF, 0xE0, 0x66, 0xA3, 0x00, 0x33, 0x00, 0x00, 0xD9, 0x35, 0x00, 0x42,
        0x00, 0x00, 0xDD, 0xD8, 0xDD, 0xD9, 0xD9, 0xC9, 0xDD, 0x1D, 0x00, 0x31, 0x00, 0x00,
        0xDD, 0x1D, 0x08, 0x31, 0x00, 0x00, 0xDF, 0xE0, 0x66, 0xA3, 0x04, 0x33, 0x00, 0x00,
        0xD9, 0xE8, 0xD9, 0xEE, 0xDD, 0x05, 0x00, 0x30, 0x00, 0x00, 0xD9, 0xCA, 0xD9, 0xC1,
        0xDD, 0xD3, 0xDF, 0xE0, 0x66, 0xA3, 0x10, 0x33, 0x00, 0x00, 0xD9, 0x35, 0x20, 0x42,
        0x00, 0x00, 0xDD, 0xD8, 0xDD, 0xD9, 0xD9, 0xC9, 0xDD, 0x1D, 0x20, 0x31, 0x00, 0x00,
        0xDD, 0x1D, 0x28, 0x31, 0x00, 0x00, 0xDF, 0xE0, 0x66, 0xA3, 0x14, 0x33, 0x00, 0x00,
        0xD9, 0xEE, 0xD9, 0xEE, 0xD9, 0xC9, 0xD9, 0xE8, 0xD9, 0xCA, 0xDB, 0xE3, 0xDD, 0xD9,
        0xD9, 0xE8, 0xD9, 0xCB, 0xD9, 0xC3, 0xD9, 0xEE, 0xD9, 0xEE, 0xD9, 0xEE, 0xD9, 0xEE,
        0xD9, 0xEE, 0xD9, 0xEE, 0xD9, 0xEE, 0xD9, 0xEE, 0xD9, 0xEE, 0xD9, 0xC9, 0xDF, 0xE0,
        0x66, 0xA3, 0x20, 0x33, 0x00, 0x00, 0xD9, 0x35, 0x00, 0x40, 0x00, 0x00, 0xF4
    };
    static const uint64_t onehalf = 0x3FF8000000000000ull;
    Rig *r[2];
    for (int k = 0; k < 2; k++) {
        r[k] = rig_new(k == 0, 0, code, sizeof(code));
        rig_paging(r[k], 0);
        memcpy(r[k]->ram + 0x3000, &onehalf, 8);
        rig_run(r[k], 100000);
        cr_assert(r[k]->cpu->halted);
    }
    assert_same(r[0], r[1]);
    /* Field by field: Floatx80's padding is whatever a struct copy left there. */
    const FPUState *fj = &r[0]->cpu->fpu, *fi = &r[1]->cpu->fpu;
    for (int k = 0; k < 8; k++) {
        cr_assert_eq(fj->st[k].sig, fi->st[k].sig, "st[%d]", k);
        cr_assert_eq(fj->st[k].se, fi->st[k].se, "st[%d]", k);
    }
    cr_assert_eq(fj->ftw, fi->ftw, "raw tags: jit %04x interp %04x", fj->ftw, fi->ftw);
    cr_assert(fj->fcw == fi->fcw && fj->fsw == fi->fsw && fj->top == fi->top);
    cr_assert(fj->fop == fi->fop && fj->fip == fi->fip && fj->fdp == fi->fdp);
    cr_assert(fj->fcs == fi->fcs && fj->fds == fi->fds);
    uint64_t v;
    memcpy(&v, r[0]->ram + 0x3100, 8);
    cr_assert_eq(v, 0, "the stack after the moves: 0, 1");
    memcpy(&v, r[0]->ram + 0x3108, 8);
    cr_assert_eq(v, 0x3FF0000000000000ull);
    rig_free(r[0]);
    rig_free(r[1]);
}

Test(jit_tb, a_cross_page_link_follows_a_page_table_change)
{
    for (int cpl = 0; cpl <= 3; cpl += 3) {
        /* 1000: inc eax; jmp 2000 / 2000: inc ebx; jmp 1000; physical 3000 holds
         * inc ecx; jmp 1000 for when linear 2000 is remapped to it. */
        uint8_t code[0x2010] = {0};
        code[0x000] = 0x40;
        code[0x001] = 0xE9; /* rel32 0x2000 - 0x1006 */
        uint32_t rel = 0x2000 - 0x1006;
        memcpy(code + 2, &rel, 4);
        code[0x1000] = 0x43;
        code[0x1001] = 0xE9;
        rel = 0x1000 - 0x2006;
        memcpy(code + 0x1002, &rel, 4);
        code[0x2000] = 0x41;
        code[0x2001] = 0xE9;
        memcpy(code + 0x2002, &rel, 4);
        Rig *j = rig_new(true, 0, code, sizeof(code));
        rig_paging(j, cpl);
        cr_assert_eq(cpu_exec(j->cpu, 100000), CPU_EXIT_BUDGET);
        const JitStats *s = x86_jit_stats(j->cpu);
        cr_assert_eq(s->xpage_links, 2, "cpl %d", cpl);
        cr_assert_lt(s->lookup_hits, 10);
        cr_assert_gt(j->cpu->regs[R_EBX], 10000u);
        /* The page table now maps linear 2000 to physical 3000 (as after a switch of
         * address space, a MOV CR3 flushes the TLB). The link's check sees the new
         * physical page once the TLB entry is refilled and the old block stays unused. */
        uint32_t pte = 0x3000 | 7;
        memcpy(j->ram + 0x11000 + 4 * 2, &pte, 4);
        tlb_flush(j->cpu, true);
        uint32_t ebx0 = j->cpu->regs[R_EBX];
        cr_assert_eq(cpu_exec(j->cpu, 100000), CPU_EXIT_BUDGET);
        cr_assert_eq(j->cpu->regs[R_EBX], ebx0, "cpl %d", cpl);
        cr_assert_gt(j->cpu->regs[R_ECX], 10000u);
        /* And back: the first block is still valid and is linked again or probed. */
        pte = 0x2000 | 7;
        memcpy(j->ram + 0x11000 + 4 * 2, &pte, 4);
        tlb_flush(j->cpu, true);
        uint32_t ecx0 = j->cpu->regs[R_ECX];
        cr_assert_eq(cpu_exec(j->cpu, 100000), CPU_EXIT_BUDGET);
        cr_assert_eq(j->cpu->regs[R_ECX], ecx0);
        cr_assert_gt(j->cpu->regs[R_EBX], ebx0 + 10000u);
        rig_free(j);
    }
}

Test(jit_tb, ret_between_pages_hits_the_jump_cache_exactly_and_sees_a_remap)
{
    /* 1000: inc ax; push 2000; ret / 2000: inc bx; push 1000; ret -- indirect exits only,
     * found by the lookup trampoline's jump-cache path: the budget stays exact, and a memory
     * map change over the second page is seen by the next lookup. */
    uint8_t code[0x1010] = {0};
    static const uint8_t a[] = {0x40, 0x68, 0x00, 0x20, 0xC3};
    static const uint8_t b[] = {0x43, 0x68, 0x00, 0x10, 0xC3};
    memcpy(code, a, sizeof(a));
    memcpy(code + 0x1000, b, sizeof(b));
    Rig *j = rig_new(true, 0, code, sizeof(code));
    uint64_t ic = j->cpu->icount;
    cr_assert_eq(cpu_exec(j->cpu, 6000), CPU_EXIT_BUDGET);
    cr_assert_eq(j->cpu->icount - ic, 6000);
    cr_assert_eq(j->cpu->eip, CODE);
    cr_assert_eq((uint16_t)j->cpu->regs[R_EAX], 1000);
    cr_assert_eq((uint16_t)j->cpu->regs[R_EBX], 1000);
    cr_assert_gt(x86_jit_stats(j->cpu)->lookup_hits, 1000);
    uint8_t *other = calloc(1, 4096);
    cr_assert_not_null(other);
    static const uint8_t c[] = {0x41, 0x68, 0x00, 0x10, 0xC3}; /* inc cx instead */
    memcpy(other, c, sizeof(c));
    int h = mem_map_ram(&j->mem, "over", CODE + 0x1000, 4096, other, 1);
    cr_assert_geq(h, 0);
    cr_assert_eq(cpu_exec(j->cpu, 6000), CPU_EXIT_BUDGET);
    cr_assert_eq((uint16_t)j->cpu->regs[R_EAX], 2000);
    cr_assert_eq((uint16_t)j->cpu->regs[R_EBX], 1000);
    cr_assert_eq((uint16_t)j->cpu->regs[R_ECX], 1000);
    mem_unmap(&j->mem, h);
    rig_free(j);
    free(other);
}

/* interrupt_in_loop: 1000: inc ax; jmp 1000 with IF set and INTR raised after the loop runs
 * (chained to itself, or jumping back inside its block when loops): the C loop takes it
 * before it enters the block again (handler: HLT at 0F00). */
static void interrupt_in_loop(bool loops)
{
    static const uint8_t code[] = {0xFB, 0x40, 0xEB, 0xFD};
    Rig *j = rig_new(true, 0, code, sizeof(code));
    if (!loops) {
        rig_no_loops(j);
    }
    j->vector = 0x20;
    cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_geq(loops ? s->loop_edges : s->chain_patches, 1);
    j->cpu->intr_pending = true;
    CPUExit e = cpu_exec(j->cpu, 1000);
    cr_assert(e == CPU_EXIT_HALT || e == CPU_EXIT_BUDGET);
    cr_assert_eq(j->cpu->eip, HANDLER + 1);
    /* With IF clear the pending line does not stop the loop. */
    j->cpu->halted = false;
    j->cpu->eip = CODE + 1;
    j->cpu->eflags &= ~EF_IF;
    j->cpu->intr_pending = true;
    uint16_t ax = (uint16_t)j->cpu->regs[R_EAX];
    cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
    cr_assert_eq((uint16_t)((uint16_t)j->cpu->regs[R_EAX] - ax), 500);
    rig_free(j);
}

Test(jit_tb, an_interrupt_raised_while_chained_blocks_loop_is_taken)
{
    interrupt_in_loop(false);
}

Test(jit_tb, an_interrupt_raised_while_a_block_loops_inside_itself_is_taken)
{
    interrupt_in_loop(true);
}

Test(jit_tb, jit_stats_count_executed_instructions_and_chained_entries)
{
    /* 1000: inc ax; jmp 1000 -- one block, chained to itself or jumping back inside itself:
     * 500 executions in 1000 insns, each with one inline INC and one inline JMP. */
    static const uint8_t code[] = {0x40, 0xEB, 0xFD};
    for (int loops = 0; loops < 2; loops++) {
        Rig *j = rig_new(true, 0, code, sizeof(code));
        if (!loops) {
            rig_no_loops(j);
        }
        j->log.mask |= LOG_JIT_STATS;
        cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        cr_assert_not_null(f);
        x86_jit_print_stats(j->cpu, f);
        fclose(f);
        cr_assert(strstr(text, "500 block executions") != NULL, "%s", text);
        cr_assert(strstr(text, "inline 1000 (100.0%)") != NULL, "%s", text);
        cr_assert_eq(x86_jit_stats(j->cpu)->loop_edges, loops ? 1u : 0u);
        free(text);
        j->log.mask = 0;
        rig_free(j);
    }
}

Test(jit_tb, device_writes_to_data_pages_drop_nothing)
{
    /* A loop at 0x1000; DMA into 0x5000 (no code there) leaves its block and chain alone. */
    static const uint8_t code[] = {0x40, 0xEB, 0xFD};
    Rig *j = rig_new(true, 0, code, sizeof(code));
    cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
    const JitStats *s = x86_jit_stats(j->cpu);
    uint64_t translated = s->blocks_translated;
    uint8_t buf[4096];
    memset(buf, 0x90, sizeof(buf));
    mem_write_buf(&j->mem, 0x5000, buf, sizeof(buf));
    cr_assert_eq(cpu_exec(j->cpu, 1000), CPU_EXIT_BUDGET);
    cr_assert_eq(s->ram_writes, 0);
    cr_assert_eq(s->invalidations, 0);
    cr_assert_eq(s->blocks_translated, translated);
    rig_free(j);
}

Test(jit_tb, an_instruction_crossing_a_page_runs_in_generated_code_not_the_c_loop)
{
    /* 1000: jmp 1FFA / 1FFA: mov cx,1000 / 1FFD: inc ax / 1FFE: add ax,1234h (crosses into
     * the page at 2000) / 2001: loop 1FFD / 2003: hlt */
    uint8_t code[0x1010] = {0};
    static const uint8_t tail[] = {0xB9, 0xE8, 0x03, 0x40, 0x05, 0x34, 0x12, 0xE2, 0xFA, 0xF4};
    code[0x000] = 0xE9; /* 0x1FFA - 0x1003 = 0x0FF7 */
    code[0x001] = 0xF7;
    code[0x002] = 0x0F;
    memcpy(code + 0xFFA, tail, sizeof(tail));
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i);
    cr_assert_eq((uint16_t)j->cpu->regs[R_EAX], (uint16_t)(1000 * 0x1235));
    const JitStats *s = x86_jit_stats(j->cpu);
    /* The crossing instruction is a block of its own that calls the interpreter's step and
     * looks its successor up in generated code: the C loop sees it a handful of times. */
    cr_assert_lt(s->interp_steps, 10, "interpreter steps from C: %llu",
                 (unsigned long long)s->interp_steps);
    cr_assert_lt(s->block_entries, 20, "block entries from C: %llu",
                 (unsigned long long)s->block_entries);
    cr_assert_gt(s->insns_helper, 0);
    rig_free(j);
    rig_free(i);
}

/* l: inc ax x10; jmp l -- one 11-instruction block chained to itself. */
static const uint8_t inc10_loop[] = {0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40,
                                     0x40, 0x40, 0xEB, 0xF4};

Test(jit_tb, under_a_host_clock_the_last_block_of_a_budget_runs_whole)
{
    Rig *j = rig_new(true, 0, inc10_loop, sizeof(inc10_loop));
    Clock clk;
    clock_init(&clk, CLOCK_HOST, 0);
    clock_start(&clk);
    j->cpu->clock = &clk;
    for (int64_t budget = 1; budget < 200; budget += 7) {
        uint64_t before = j->cpu->icount;
        cr_assert_eq(cpu_exec(j->cpu, budget), CPU_EXIT_BUDGET);
        uint64_t ran = j->cpu->icount - before;
        cr_assert_geq(ran, (uint64_t)budget);
        cr_assert_lt(ran, (uint64_t)budget + 64, "overshoot %llu", (unsigned long long)ran);
        cr_assert_eq(ran % 11, 0, "whole blocks only: %llu", (unsigned long long)ran);
    }
    cr_assert_eq(x86_jit_stats(j->cpu)->interp_steps, 0);
    rig_free(j);
}

Test(jit_tb, under_an_icount_clock_the_budget_is_exact_and_the_tail_interpreted)
{
    Rig *j = rig_new(true, 0, inc10_loop, sizeof(inc10_loop));
    Clock clk;
    clock_init(&clk, CLOCK_ICOUNT, 0);
    j->cpu->clock = &clk;
    /* Five blocks, then a 9-instruction tail run by the interpreter with no translation at
     * each of its EIPs. */
    cr_assert_eq(cpu_exec(j->cpu, 64), CPU_EXIT_BUDGET);
    cr_assert_eq(j->cpu->icount, 64);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_eq(s->interp_steps, 9);
    cr_assert_eq(s->blocks_translated, 1);
    uint64_t total = 64;
    for (int64_t budget = 1; budget < 200; budget += 7) {
        cr_assert_eq(cpu_exec(j->cpu, budget), CPU_EXIT_BUDGET);
        total += (uint64_t)budget;
        cr_assert_eq(j->cpu->icount, total);
    }
    /* 10 incs per 11 instructions: AX follows the exact count. */
    uint64_t incs = total / 11 * 10 + (total % 11 < 10 ? total % 11 : 10);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, incs & 0xFFFF);
    rig_free(j);
}

/* l: inc ax; jmp a; a: inc ax; jmp b; b: inc ax; jmp l -- three 2-instruction blocks, two
 * chained forward and one back. */
static const uint8_t fwd_loop[] = {0x40, 0xEB, 0x01, 0xF4, 0x40, 0xEB, 0x01, 0xF4,
                                   0x40, 0xEB, 0xF5};

Test(jit_tb, under_a_host_clock_forward_chained_jumps_skip_the_budget_check)
{
    Rig *j = rig_new(true, 0, fwd_loop, sizeof(fwd_loop));
    Clock clk;
    clock_init(&clk, CLOCK_HOST, 0);
    clock_start(&clk);
    j->cpu->clock = &clk;
    /* Until the three jumps are chained and a slice has ended at l. */
    for (int k = 0; k < 100 && (x86_jit_stats(j->cpu)->chain_patches < 3 || j->cpu->eip != CODE);
         k++) {
        cr_assert_eq(cpu_exec(j->cpu, 50), CPU_EXIT_BUDGET);
    }
    cr_assert_eq(x86_jit_stats(j->cpu)->chain_patches, 3);
    for (int64_t budget = 1; budget < 300; budget += 5) {
        uint64_t before = j->cpu->icount;
        cr_assert_eq(cpu_exec(j->cpu, budget), CPU_EXIT_BUDGET);
        uint64_t ran = j->cpu->icount - before;
        cr_assert_geq(ran, (uint64_t)budget);
        cr_assert_lt(ran, (uint64_t)budget + 64 + 4, "overshoot %llu", (unsigned long long)ran);
        /* Only the jump back to l checks: every slice ends at l, after whole rounds. */
        cr_assert_eq(ran % 6, 0, "ran %llu", (unsigned long long)ran);
        cr_assert_eq(j->cpu->eip, CODE);
    }
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, (j->cpu->icount / 2) & 0xFFFF);
    rig_free(j);
}

Test(jit_tb, under_an_icount_clock_forward_chained_jumps_keep_the_budget_exact)
{
    Rig *j = rig_new(true, 0, fwd_loop, sizeof(fwd_loop));
    Clock clk;
    clock_init(&clk, CLOCK_ICOUNT, 0);
    j->cpu->clock = &clk;
    uint64_t total = 0;
    for (int64_t budget = 1; budget < 300; budget += 5) {
        cr_assert_eq(cpu_exec(j->cpu, budget), CPU_EXIT_BUDGET);
        total += (uint64_t)budget;
        cr_assert_eq(j->cpu->icount, total);
    }
    cr_assert_gt(x86_jit_stats(j->cpu)->chain_patches, 0);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, ((total + 1) / 2) & 0xFFFF);
    rig_free(j);
}

/* rig_idt: for rig_paging at CPL 0: a GDT (flat code 08h, data 10h) at 12000h and an IDT at
 * 12100h whose 32 gates all go to HANDLER (HLT) through 32-bit interrupt gates. */
static void rig_idt(Rig *r)
{
    static const uint64_t gdt[3] = {0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull};
    memcpy(r->ram + 0x12000, gdt, sizeof(gdt));
    r->cpu->gdtr.base = 0x12000;
    r->cpu->gdtr.limit = sizeof(gdt) - 1;
    for (int v = 0; v < 32; v++) {
        uint32_t lo = (0x08u << 16) | (HANDLER & 0xFFFF), hi = (HANDLER & 0xFFFF0000u) | 0x8E00;
        memcpy(r->ram + 0x12100 + 8 * v, &lo, 4);
        memcpy(r->ram + 0x12100 + 8 * v + 4, &hi, 4);
    }
    r->cpu->idtr.base = 0x12100;
    r->cpu->idtr.limit = 32 * 8 - 1;
}

/* flat_rig_new: a rig for run_flat_both, not started (jit: with the JIT, without page
 * groups when no_groups). */
static Rig *flat_rig_new(const uint8_t *code, size_t len, uint32_t pte7, bool jit,
                         bool no_groups)
{
    Rig *r = rig_new(jit, 0, code, len);
    if (jit && no_groups) {
        x86_tcache_free(r->cpu);
        JitOptions o;
        jit_options_default(&o);
        o.verify = false;
        o.no_groups = true;
        cr_assert_eq(x86_jit_enable(r->cpu, &o), 0);
    }
    rig_paging(r, 0);
    rig_idt(r);
    memcpy(r->ram + 0x11000 + 4 * 7, &pte7, 4);
    r->cpu->cr0 |= CR0_WP;
    r->cpu->regs[R_ESP] = 0x9000; /* the exception frame: not in page 7 */
    for (uint32_t a = 0x7000; a < 0x8000; a += 4) {
        memcpy(r->ram + a, &a, 4);
    }
    return r;
}

/* run_flat_both: code at 1000h in flat 32-bit protected mode with paging at CPL 0 (rig_idt's
 * tables, ESP 9000h), under the JIT and the interpreter, with page 7 (linear 7000h) mapped by
 * pte7 and holding its own addresses;
 * both must halt in the same state. Returns the JIT rig; the interpreter's in *int_out. */
static Rig *run_flat_both_opts(const uint8_t *code, size_t len, uint32_t pte7, bool no_groups,
                               Rig **int_out)
{
    Rig *r[2];
    for (int k = 0; k < 2; k++) {
        r[k] = flat_rig_new(code, len, pte7, k == 0, no_groups);
        rig_run(r[k], 1000000);
        cr_assert(r[k]->cpu->halted, "%s rig halted", k ? "interpreter" : "jit");
    }
    assert_same(r[0], r[1]);
    cr_assert_eq(r[0]->cpu->cr2, r[1]->cpu->cr2);
    *int_out = r[1];
    return r[0];
}

static Rig *run_flat_both(const uint8_t *code, size_t len, uint32_t pte7, Rig **int_out)
{
    return run_flat_both_opts(code, len, pte7, false, int_out);
}

/* run_frame_loop: mov esp, ESP; mov ecx, 300; l: push ecx; push ebx; mov eax, [esp+4];
 * add ebx, eax; call f; pop edx; pop edx; dec ecx; jnz l; hlt
 * f: push ebp; mov ebp, esp; mov eax, [ebp+8]; add eax, [ebp+0Ch]; mov [ebp-4], eax;
 *    xor ebx, [ebp-4]; pop ebp; ret
 * under run_flat_both. */
static Rig *run_frame_loop(uint32_t esp, Rig **int_out)
{
    uint8_t code[] = {
        0xBC, 0x00, 0x00, 0x00, 0x00, 0xB9, 0x2C, 0x01, 0x00, 0x00, 0x51, 0x53, 0x8B, 0x44,
        0x24, 0x04, 0x01, 0xC3, 0xE8, 0x06, 0x00, 0x00, 0x00, 0x5A, 0x5A, 0x49, 0x75, 0xEE,
        0xF4, 0x55, 0x89, 0xE5, 0x8B, 0x45, 0x08, 0x03, 0x45, 0x0C, 0x89, 0x45, 0xFC, 0x33,
        0x5D, 0xFC, 0x5D, 0xC3,
    };
    memcpy(code + 1, &esp, 4);
    return run_flat_both(code, sizeof(code), 0x7000 | 3, int_out);
}

Test(jit_tb, page_groups_serve_stack_and_frame_accesses_and_match_the_interpreter)
{
    Rig *i;
    Rig *j = run_frame_loop(0x7F00, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_geq(s->group_blocks, 2);
    cr_assert_geq(s->group_accesses, 8);
    cr_assert_leq(s->group_misses, 3, "only until the TLB holds the stack page: %llu",
                  (unsigned long long)s->group_misses);
    cr_assert_eq(s->group_drops, 0);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_page_group_straddling_two_pages_is_split_where_the_page_begins)
{
    /* ESP = 8002h: the frames straddle pages 7 and 8 (a push even crosses the boundary
     * itself). Each block is translated again once with the group split at 8000h and runs
     * grouped from then on. */
    Rig *i;
    Rig *j = run_frame_loop(0x8002, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_geq(s->group_splits, 2);
    cr_assert_eq(s->group_drops, 0);
    cr_assert_lt(s->group_misses, 16, "then no more misses: %llu",
                 (unsigned long long)s->group_misses);
    cr_assert_gt(s->group_blocks, s->group_splits, "the split blocks have groups");
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_page_group_in_a_code_page_misses_until_its_block_goes_without_groups)
{
    /* mov esp, 1F00h (the code's page); mov ecx, 100; l: push ecx; mov eax, [esp];
     * pop edx; dec ecx; jnz l; hlt: the stack page's write entry is flagged (translated
     * code), so the loop block's check fails for good; after JIT_GROUP_MISS_LIMIT misses it
     * is translated without groups. */
    static const uint8_t code[] = {
        0xBC, 0x00, 0x1F, 0x00, 0x00, 0xB9, 0x64, 0x00, 0x00, 0x00, 0x51, 0x8B, 0x04, 0x24,
        0x5A, 0x49, 0x75, 0xF8, 0xF4,
    };
    Rig *i;
    Rig *j = run_flat_both(code, sizeof(code), 0x7000 | 3, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_geq(s->group_drops, 1);
    cr_assert_geq(s->group_misses, 4 * s->group_drops, "JIT_GROUP_MISS_LIMIT misses each");
    cr_assert_lt(s->group_misses, 20, "then no more misses: %llu",
                 (unsigned long long)s->group_misses);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, page_group_accesses_fault_and_modify_code_as_under_the_interpreter)
{
    /* A frame in a page that is not present: mov ebp, 7F00h; jmp $+2;
     * mov eax, [ebp+4]; mov ebx, [ebp+8]; hlt: #PF at the first load. */
    static const uint8_t absent[] = {0xBD, 0x00, 0x7F, 0x00, 0x00, 0xEB, 0x00, 0x8B, 0x45,
                                     0x04, 0x8B, 0x5D, 0x08, 0xF4};
    Rig *i;
    Rig *j = run_flat_both(absent, sizeof(absent), 0x7000 | 2, &i);
    cr_assert_eq(j->cpu->cr2, 0x7F04);
    cr_assert_eq(j->cpu->eip, HANDLER + 1);
    rig_free(j);
    rig_free(i);
    /* A read-only frame (CR0.WP), in the TLB for reading: mov ebp, 7F00h; mov eax, [ebp+10h];
     * jmp $+2; mov eax, [ebp+4]; mov [ebp+8], ebx: the load is done, the store faults. */
    static const uint8_t ro[] = {0xBD, 0x00, 0x7F, 0x00, 0x00, 0x8B, 0x45, 0x10, 0xEB, 0x00,
                                 0x8B, 0x45, 0x04, 0x89, 0x5D, 0x08, 0xF4};
    j = run_flat_both(ro, sizeof(ro), 0x7000 | 1, &i);
    cr_assert_eq(j->cpu->regs[R_EAX], 0x7F04);
    cr_assert_eq(j->cpu->cr2, 0x7F08);
    rig_free(j);
    rig_free(i);
    /* The stack in the code's page: mov esp, 1014h; jmp $+2; mov ebx, [esp+10h];
     * push 90404040h (onto the next instruction); mov al, 7; nop; nop; hlt: the pushed
     * INC EAX x3 run instead. */
    static const uint8_t smc[] = {0xBC, 0x14, 0x10, 0x00, 0x00, 0xEB, 0x00, 0x8B, 0x5C, 0x24,
                                  0x10, 0x68, 0x40, 0x40, 0x40, 0x90, 0xB0, 0x07, 0x90, 0x90,
                                  0xF4};
    j = run_flat_both(smc, sizeof(smc), 0x7000 | 3, &i);
    cr_assert_eq(j->cpu->regs[R_EAX], 3);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, guest_calls_returning_normally_or_not_match_the_interpreter)
{
    /* mov esp, 9000h; mov ecx, 200; l: mov eax, 12; call fib; add ebx, eax;
     * call skip (returns 2 bytes past its return address); inc esi; inc esi; add ebx, 1;
     * call $+5; pop ebp (a call never returned from); dec ecx; jnz l;
     * mov edi, 3000; call deep (recursion deeper than host calls may nest); hlt
     * fib: recursive Fibonacci of EAX; skip: add dword [esp], 2; ret;
     * deep: test edi, edi; jz r; dec edi; call deep; inc ebp; r: ret */
    static const uint8_t code[] = {
        0xBC, 0x00, 0x90, 0x00, 0x00, 0xB9, 0xC8, 0x00, 0x00, 0x00, 0xB8, 0x0C, 0x00, 0x00,
        0x00, 0xE8, 0x24, 0x00, 0x00, 0x00, 0x01, 0xC3, 0xE8, 0x37, 0x00, 0x00, 0x00, 0x46,
        0x46, 0x83, 0xC3, 0x01, 0xE8, 0x00, 0x00, 0x00, 0x00, 0x5D, 0x49, 0x0F, 0x85, 0xDD,
        0xFF, 0xFF, 0xFF, 0xBF, 0xB8, 0x0B, 0x00, 0x00, 0xE8, 0x20, 0x00, 0x00, 0x00, 0xF4,
        0x83, 0xF8, 0x02, 0x72, 0x14, 0x50, 0x48, 0xE8, 0xF4, 0xFF, 0xFF, 0xFF, 0x5A, 0x50,
        0x8D, 0x42, 0xFE, 0xE8, 0xEA, 0xFF, 0xFF, 0xFF, 0x5A, 0x01, 0xD0, 0xC3, 0x83, 0x04,
        0x24, 0x02, 0xC3, 0x85, 0xFF, 0x74, 0x07, 0x4F, 0xE8, 0xF6, 0xFF, 0xFF, 0xFF, 0x45,
        0xC3,
    };
    Rig *i;
    Rig *j = run_flat_both(code, sizeof(code), 0x7000 | 3, &i);
    cr_assert_eq(j->cpu->regs[R_EBX], 200u * (144 + 1));
    cr_assert_eq(j->cpu->regs[R_ESI], 0, "the skipped INCs never ran");
    cr_assert_eq(j->cpu->regs[R_ESP], 0x9000);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, returns_to_their_callers_take_no_lookup)
{
    /* mov esp, 9000h; mov ecx, 10000; l: call f; dec ecx; jnz l; hlt; f: inc eax; ret */
    static const uint8_t code[] = {
        0xBC, 0x00, 0x90, 0x00, 0x00, 0xB9, 0x10, 0x27, 0x00, 0x00, 0xE8, 0x04, 0x00, 0x00,
        0x00, 0x49, 0x75, 0xF8, 0xF4, 0x40, 0xC3,
    };
    Rig *i;
    Rig *j = run_flat_both(code, sizeof(code), 0x7000 | 3, &i);
    cr_assert_eq(j->cpu->regs[R_EAX], 10000);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_lt(s->lookup_hits + s->block_entries, 200,
                 "10000 RETs: %llu lookups, %llu entries from C",
                 (unsigned long long)s->lookup_hits, (unsigned long long)s->block_entries);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_return_into_a_page_remapped_meanwhile_runs_the_new_code)
{
    /* 1000: mov ecx, 100; l: call 2000h; dec ecx; jnz l; mov eax, 11h; hlt
     * 2000: xor eax, eax; cmp ecx, 1; sete al; shl eax, 13; add eax, 1007h;
     *       mov [11004h], eax (the PTE of linear 1000h: physical 3000h when ECX = 1);
     *       mov eax, [401000h] (a page with the same TLB index: the entry of linear 1000h
     *       goes, and with it the old translation); ret
     * Physical 3000h holds mov eax, 33h; hlt at the return address. The last return matches its
     * call's host frame without generated code leaving to C; the code it returns to must be
     * the new page's, as the interpreter's next fetch walks the page tables again. */
    static const uint8_t main_code[] = {
        0xB9, 0x64, 0x00, 0x00, 0x00, 0xE8, 0xF6, 0x0F, 0x00, 0x00, 0x49, 0x75, 0xF8, 0xB8,
        0x11, 0x00, 0x00, 0x00, 0xF4,
    };
    static const uint8_t f_code[] = {
        0x31, 0xC0, 0x83, 0xF9, 0x01, 0x0F, 0x94, 0xC0, 0xC1, 0xE0, 0x0D, 0x05, 0x07, 0x10,
        0x00, 0x00, 0xA3, 0x04, 0x10, 0x01, 0x00, 0xA1, 0x00, 0x10, 0x40, 0x00, 0xC3,
    };
    Rig *r[2];
    for (int k = 0; k < 2; k++) {
        r[k] = rig_new(k == 0, 0, main_code, sizeof(main_code));
        rig_paging(r[k], 0);
        rig_idt(r[k]);
        uint32_t pde1 = 0x11000 | 7; /* 4 MiB up: the same table */
        memcpy(r[k]->ram + 0x10004, &pde1, 4);
        r[k]->cpu->regs[R_ESP] = 0x9000;
        memcpy(r[k]->ram + 0x2000, f_code, sizeof(f_code));
        static const uint8_t new_tail[] = {0xB8, 0x33, 0x00, 0x00, 0x00, 0xF4};
        memcpy(r[k]->ram + 0x3000, main_code, sizeof(main_code));
        memcpy(r[k]->ram + 0x300A, new_tail, sizeof(new_tail));
        rig_run(r[k], 100000);
        cr_assert(r[k]->cpu->halted);
    }
    assert_same(r[0], r[1]);
    cr_assert_eq(r[0]->cpu->regs[R_EAX], 0x33);
    cr_assert_eq(r[0]->cpu->regs[R_ECX], 1);
    rig_free(r[0]);
    rig_free(r[1]);
}

Test(jit_tb, returns_from_indirect_calls_take_no_lookup_either)
{
    /* mov esp, 9000h; mov ecx, 10000; mov esi, f; mov [3000h], esi;
     * l: call esi; call [3000h]; dec ecx; jnz l; hlt; f: inc eax; ret
     * Each indirect call finds its target through the lookup; each return goes back
     * through its host call. */
    static const uint8_t code[] = {
        0xBC, 0x00, 0x90, 0x00, 0x00, 0xB9, 0x10, 0x27, 0x00, 0x00, 0xBE, 0x21, 0x10, 0x00,
        0x00, 0x89, 0x35, 0x00, 0x30, 0x00, 0x00, 0xFF, 0xD6, 0xFF, 0x15, 0x00, 0x30, 0x00,
        0x00, 0x49, 0x75, 0xF5, 0xF4, 0x40, 0xC3,
    };
    Rig *i;
    Rig *j = run_flat_both(code, sizeof(code), 0x7000 | 3, &i);
    cr_assert_eq(j->cpu->regs[R_EAX], 20000);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_lt(s->lookup_hits + s->block_entries, 20000 + 200,
                 "20000 calls and RETs: %llu lookups, %llu entries from C",
                 (unsigned long long)s->lookup_hits, (unsigned long long)s->block_entries);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, side_exits_inside_a_block_keep_the_count_and_state_exact_at_every_budget)
{
    /* mov cx, 300; l: inc ax; test al, 1; jz a (a side exit); inc bx; a: test al, 2;
     * jnz b (another); add dx, ax; b: cmp ax, 100; jb c (one more: the block ends);
     * add si, ax; c: loop l; hlt
     * Run in slices of 1..13 instructions next to the interpreter: every slice ends in the
     * same state, whichever exit the block left by. */
    static const uint8_t code[] = {
        0xB9, 0x2C, 0x01, 0x40, 0xA8, 0x01, 0x74, 0x01, 0x43, 0xA8, 0x02, 0x75, 0x02, 0x01,
        0xC2, 0x83, 0xF8, 0x64, 0x72, 0x02, 0x01, 0xC6, 0xE2, 0xEB, 0xF4,
    };
    Rig *j = rig_new(true, 0, code, sizeof(code));
    Rig *i = rig_new(false, 0, code, sizeof(code));
    for (unsigned slice = 1; !i->cpu->halted && slice < 100000; slice++) {
        cpu_exec(j->cpu, 1 + slice % 13);
        cpu_exec(i->cpu, 1 + slice % 13);
        assert_same(j, i);
    }
    cr_assert(j->cpu->halted);
    cr_assert_eq((uint16_t)j->cpu->regs[R_EAX], 300);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_split_moves_when_the_same_blocks_run_with_the_stack_elsewhere)
{
    /* mov esp, 8002h; call run; mov esp, 800Ah; call run; hlt
     * run: the frame loop of run_frame_loop, 300 rounds; ret
     * The second pass straddles the page boundary at another offset from the frames: the
     * split moves (as for a new process) instead of the groups being dropped. */
    static const uint8_t code[] = {
        0xBC, 0x02, 0x80, 0x00, 0x00, 0xE8, 0x0B, 0x00, 0x00, 0x00, 0xBC, 0x0A, 0x80, 0x00,
        0x00, 0xE8, 0x01, 0x00, 0x00, 0x00, 0xF4, 0xB9, 0x2C, 0x01, 0x00, 0x00, 0x51, 0x53,
        0x8B, 0x44, 0x24, 0x04, 0x01, 0xC3, 0xE8, 0x06, 0x00, 0x00, 0x00, 0x5A, 0x5A, 0x49,
        0x75, 0xEE, 0xC3, 0x55, 0x89, 0xE5, 0x8B, 0x45, 0x08, 0x03, 0x45, 0x0C, 0x89, 0x45,
        0xFC, 0x33, 0x5D, 0xFC, 0x5D, 0xC3,
    };
    Rig *i;
    Rig *j = run_flat_both(code, sizeof(code), 0x7000 | 3, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_eq(s->group_drops, 0, "%llu splits, %llu drops",
                 (unsigned long long)s->group_splits, (unsigned long long)s->group_drops);
    cr_assert_geq(s->group_splits, 3);
    cr_assert_lt(s->group_misses, 30, "%llu misses", (unsigned long long)s->group_misses);
    rig_free(j);
    rig_free(i);
}

/* thunk_program: the prefix at 1000h, NOPs up to 3000h, the far thunk (mov eax, [esp]; ret)
 * there and, at 4000h, mov eax, 11111111h; ret. The prefix: mov esp, 7F00h; call far (its
 * code TLB entry filled before the loop is translated); xor ebx, ebx; xor esi, esi;
 * mov ecx, 40; l: call near; add esi, ebx; call far; add esi, eax; cmp ecx, 20; jne skip;
 * <change>; skip: dec ecx; jnz l; hlt; near: mov ebx, [esp]; ret. */
static uint8_t *thunk_program(const uint8_t *prefix, size_t n, size_t *len)
{
    *len = 0x3006;
    uint8_t *code = malloc(*len);
    cr_assert_not_null(code);
    memset(code, 0x90, *len);
    memcpy(code, prefix, n);
    static const uint8_t far[] = {0x8B, 0x04, 0x24, 0xC3};
    static const uint8_t other[] = {0xB8, 0x11, 0x11, 0x11, 0x11, 0xC3};
    memcpy(code + 0x2000, far, sizeof(far));
    memcpy(code + 0x3000, other, sizeof(other));
    return code;
}

Test(jit_tb, a_call_of_a_pic_thunk_runs_inline_and_sees_the_thunk_rewritten)
{
    /* <change>: mov dword [3000h], 345678B8h; mov word [3004h], 0C312h (the far thunk
     * becomes mov eax, 12345678h; ret: the loop's block, which inlined it, is dropped). */
    static const uint8_t prefix[] = {
        0xBC, 0x00, 0x7F, 0x00, 0x00, 0xE8, 0xF6, 0x1F, 0x00, 0x00, 0x31, 0xDB, 0x31, 0xF6,
        0xB9, 0x28, 0x00, 0x00, 0x00, 0xE8, 0x29, 0x00, 0x00, 0x00, 0x01, 0xDE, 0xE8, 0xE1,
        0x1F, 0x00, 0x00, 0x01, 0xC6, 0x83, 0xF9, 0x14, 0x75, 0x13, 0xC7, 0x05, 0x00, 0x30,
        0x00, 0x00, 0xB8, 0x78, 0x56, 0x34, 0x66, 0xC7, 0x05, 0x04, 0x30, 0x00, 0x00, 0x12,
        0xC3, 0x49, 0x0F, 0x85, 0xD3, 0xFF, 0xFF, 0xFF, 0xF4, 0x8B, 0x1C, 0x24, 0xC3,
    };
    size_t len;
    uint8_t *code = thunk_program(prefix, sizeof(prefix), &len);
    Rig *i;
    Rig *j = run_flat_both(code, len, 0x7000 | 3, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_geq(s->calls_inlined, 3, "near and far, and near again after the rewrite: %llu",
                  (unsigned long long)s->calls_inlined);
    cr_assert_geq(s->stores_forwarded, 2 * s->calls_inlined,
                  "each thunk's MOV and RET read the pushed address as a constant: %llu",
                  (unsigned long long)s->stores_forwarded);
    /* The near call returns to 1018h, the far one to 101Fh until the rewrite after the 21st
     * round, then gives 12345678h 19 times. */
    uint32_t want = 40u * (CODE + 0x18) + 21u * (CODE + 0x1F) + 19u * 0x12345678u;
    cr_assert_eq(j->cpu->regs[R_ESI], want, "esi %08x", j->cpu->regs[R_ESI]);
    rig_free(j);
    rig_free(i);
    free(code);
}

Test(jit_tb, an_inlined_thunk_whose_page_is_remapped_runs_the_new_code)
{
    /* <change>: mov dword [1100Ch], 4007h; invlpg [3000h] (linear 3000h now maps the frame
     * holding mov eax, 11111111h; ret). */
    static const uint8_t prefix[] = {
        0xBC, 0x00, 0x7F, 0x00, 0x00, 0xE8, 0xF6, 0x1F, 0x00, 0x00, 0x31, 0xDB, 0x31, 0xF6,
        0xB9, 0x28, 0x00, 0x00, 0x00, 0xE8, 0x27, 0x00, 0x00, 0x00, 0x01, 0xDE, 0xE8, 0xE1,
        0x1F, 0x00, 0x00, 0x01, 0xC6, 0x83, 0xF9, 0x14, 0x75, 0x11, 0xC7, 0x05, 0x0C, 0x10,
        0x01, 0x00, 0x07, 0x40, 0x00, 0x00, 0x0F, 0x01, 0x3D, 0x00, 0x30, 0x00, 0x00, 0x49,
        0x0F, 0x85, 0xD5, 0xFF, 0xFF, 0xFF, 0xF4, 0x8B, 0x1C, 0x24, 0xC3,
    };
    size_t len;
    uint8_t *code = thunk_program(prefix, sizeof(prefix), &len);
    Rig *i;
    Rig *j = run_flat_both(code, len, 0x7000 | 3, &i);
    cr_assert_geq(x86_jit_stats(j->cpu)->calls_inlined, 2);
    uint32_t want = 40u * (CODE + 0x18) + 21u * (CODE + 0x1F) + 19u * 0x11111111u;
    cr_assert_eq(j->cpu->regs[R_ESI], want, "esi %08x", j->cpu->regs[R_ESI]);
    rig_free(j);
    rig_free(i);
    free(code);
}

Test(jit_tb, an_inlined_thunk_returning_elsewhere_leaves_with_the_popped_address)
{
    /* mov esp, 7F00h; call near; hlt; near: mov ebx, [esp]; ret -- with the stack page
     * mapped to an unassigned physical address: the push is dropped, both loads read all
     * ones, so the RET goes to FFFFFFFFh (not mapped: #PF there). Without page groups, so
     * that generated code runs the block (a group there would miss: not RAM). */
    static const uint8_t code[] = {0xBC, 0x00, 0x7F, 0x00, 0x00, 0xE8, 0x01, 0x00,
                                   0x00, 0x00, 0xF4, 0x8B, 0x1C, 0x24, 0xC3};
    Rig *i;
    Rig *j = run_flat_both_opts(code, sizeof(code), 0x200000 | 3, true, &i);
    cr_assert_eq(j->cpu->regs[R_EBX], 0xFFFFFFFFu);
    cr_assert_eq(j->cpu->cr2, 0xFFFFFFFFu);
    cr_assert_geq(x86_jit_stats(j->cpu)->calls_inlined, 1);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, an_instruction_across_a_page_end_runs_inline_and_sees_both_pages_change)
{
    /* mov esp, 7F00h; xor esi, esi; mov ecx, 40
     * l: test cl, 1; jz a; jmp 2FF8h; a: jmp 2FFDh
     * back: add esi, eax; cmp ecx, 30; jne b; mov byte [3001h], 55h
     * b: cmp ecx, 20; jne c; mov dword [1100Ch], 4007h; invlpg [3000h]
     * c: dec ecx; jnz l; hlt
     * 2FF8h: add esi, 1; nop; nop; mov eax, 44332211h (2FFDh-3001h, across the page end);
     * jmp back -- entered in the middle of its block and at the MOV itself, in turns. The
     * MOV's last two bytes are rewritten after round 30 (the blocks are dropped) and page
     * 3000h maps frame 4000h (77h 66h there) from round 20 on (the next-page check fails). */
    static const uint8_t prefix[] = {
        0xBC, 0x00, 0x7F, 0x00, 0x00, 0x31, 0xF6, 0xB9, 0x28, 0x00, 0x00, 0x00, 0xF6, 0xC1,
        0x01, 0x74, 0x05, 0xE9, 0xE2, 0x1F, 0x00, 0x00, 0xE9, 0xE2, 0x1F, 0x00, 0x00, 0x01,
        0xC6, 0x83, 0xF9, 0x1E, 0x75, 0x07, 0xC6, 0x05, 0x01, 0x30, 0x00, 0x00, 0x55, 0x83,
        0xF9, 0x14, 0x75, 0x11, 0xC7, 0x05, 0x0C, 0x10, 0x01, 0x00, 0x07, 0x40, 0x00, 0x00,
        0x0F, 0x01, 0x3D, 0x00, 0x30, 0x00, 0x00, 0x49, 0x75, 0xCA, 0xF4,
    };
    static const uint8_t end2[] = {0x83, 0xC6, 0x01, 0x90, 0x90, 0xB8, 0x11, 0x22};
    static const uint8_t page3[] = {0x33, 0x44, 0xE9, 0x14, 0xE0, 0xFF, 0xFF};
    static const uint8_t frame4[] = {0x77, 0x66, 0xE9, 0x14, 0xE0, 0xFF, 0xFF};
    size_t len = 0x3000 + sizeof(frame4);
    uint8_t *code = calloc(1, len);
    cr_assert_not_null(code);
    memcpy(code, prefix, sizeof(prefix));
    memcpy(code + 0x1FF8, end2, sizeof(end2));
    memcpy(code + 0x2000, page3, sizeof(page3));
    memcpy(code + 0x3000, frame4, sizeof(frame4));
    Rig *i;
    Rig *j = run_flat_both(code, len, 0x7000 | 3, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_geq(s->insns_cross, 4, "in the middle and at the start, before and after the "
                  "rewrite: %llu", (unsigned long long)s->insns_cross);
    uint32_t want = 11u * 0x44332211u + 10u * 0x55332211u + 19u * 0x66772211u + 20u;
    cr_assert_eq(j->cpu->regs[R_ESI], want, "esi %08x want %08x", j->cpu->regs[R_ESI], want);
    rig_free(j);
    rig_free(i);
    free(code);
}

Test(jit_tb, rep_stos_and_rep_movs_run_inline_within_a_page_and_through_the_handler_else)
{
    /* Flat code, 30 rounds (EBP = 30..1) of REP STOSD/STOSB/STOSW of 5, 37 and 3 elements per
     * round (the bytes from 5F80h cross into the next page from round 3 on: the handler),
     * REP MOVSD, an overlapping REP MOVSB one byte up (the pattern spreads), a REP MOVSB from
     * across a page end, an overlapping REP MOVSW, a zero count, and a REP STOSB with DF set;
     * then REP STOSD of 5000 elements (more than a page: the handler, in chunks) and a REP
     * STOSB onto a routine called before and after (mov eax, 1 becomes mov eax, 7); last a
     * REP STOSD of 40000001h elements from FFFF0h (its page just written: in the TLB), whose
     * byte count wraps to 4 (the handler: #PF at 100000h, not mapped). EDI, ESI and ECX after each round are summed in EBX. */
    static const uint8_t prefix[] = {
        0xBC, 0x00, 0x7F, 0x00, 0x00, 0xFC, 0x31, 0xDB, 0xBD, 0x1E, 0x00, 0x00, 0x00, 0x89,
        0xE8, 0x69, 0xC0, 0x01, 0x01, 0x01, 0x01, 0x8D, 0x3C, 0xAD, 0x00, 0x50, 0x00, 0x00,
        0x8D, 0x4C, 0xAD, 0x00, 0xF3, 0xAB, 0x01, 0xCB, 0xBF, 0x80, 0x5F, 0x00, 0x00, 0x6B,
        0xCD, 0x25, 0xF3, 0xAA, 0xBF, 0x00, 0x61, 0x00, 0x00, 0x6B, 0xCD, 0x03, 0x66, 0xF3,
        0xAB, 0xBE, 0x00, 0x50, 0x00, 0x00, 0xBF, 0x00, 0x64, 0x00, 0x00, 0x6B, 0xCD, 0x03,
        0xF3, 0xA5, 0xBE, 0x80, 0x5F, 0x00, 0x00, 0xBF, 0x81, 0x5F, 0x00, 0x00, 0x89, 0xE9,
        0xF3, 0xA4, 0xBE, 0xF0, 0x5F, 0x00, 0x00, 0xBF, 0x00, 0x68, 0x00, 0x00, 0xB9, 0x28,
        0x00, 0x00, 0x00, 0xF3, 0xA4, 0xBE, 0x00, 0x6C, 0x00, 0x00, 0xBF, 0x02, 0x6C, 0x00,
        0x00, 0xB9, 0x09, 0x00, 0x00, 0x00, 0x66, 0xF3, 0xA5, 0x31, 0xC9, 0xF3, 0xAB, 0xFD,
        0xBF, 0x00, 0x6A, 0x00, 0x00, 0xB9, 0x08, 0x00, 0x00, 0x00, 0xF3, 0xAA, 0xFC, 0x01,
        0xFB, 0x01, 0xF3, 0x01, 0xCB, 0x4D, 0x0F, 0x85, 0x75, 0xFF, 0xFF, 0xFF, 0xBF, 0x00,
        0x80, 0x00, 0x00, 0xB9, 0x88, 0x13, 0x00, 0x00, 0xB8, 0x78, 0x56, 0x34, 0x12, 0xF3,
        0xAB, 0x01, 0xFB, 0xE8, 0x50, 0x1F, 0x00, 0x00, 0x01, 0xC3, 0xBF, 0x01, 0x30, 0x00,
        0x00, 0xB9, 0x01, 0x00, 0x00, 0x00, 0xB0, 0x07, 0xF3, 0xAA, 0xE8, 0x3B, 0x1F, 0x00,
        0x00, 0x01, 0xC3, 0xBF, 0xF0, 0xFF, 0x0F, 0x00, 0x89, 0x07, 0xB9, 0x01, 0x00, 0x00,
        0x40, 0xF3, 0xAB, 0xF4,
    };
    static const uint8_t routine[] = {0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3};
    size_t len = 0x2000 + sizeof(routine);
    uint8_t *code = calloc(1, len);
    cr_assert_not_null(code);
    memcpy(code, prefix, sizeof(prefix));
    memcpy(code + 0x2000, routine, sizeof(routine));
    Rig *i;
    Rig *j = run_flat_both(code, len, 0x7000 | 3, &i);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_eq(s->insns_helper, 2, "only the HLTs (the end's and the #PF handler's) "
                 "through a helper: %llu", (unsigned long long)s->insns_helper);
    cr_assert_eq(j->ram[0x3001], 7);
    cr_assert_eq(j->cpu->cr2, 0x100000u);
    uint32_t w;
    memcpy(&w, j->ram + 0x8000 + 4 * 4999, 4);
    cr_assert_eq(w, 0x12345678u);
    rig_free(j);
    rig_free(i);
    free(code);
}

Test(jit_tb, nops_and_hint_nops_are_translated_inline)
{
    /* mov cx, 100; l: nop; xchg eax, eax (66 90); nop [bx+si] (0F 1F 00); pause (F3 90);
     * prefetchnta [bx+di+5] (0F 18 41 05, nothing accessed); inc ax; loop l; hlt */
    static const uint8_t code[] = {0xB9, 0x64, 0x00, 0x90, 0x66, 0x90, 0x0F, 0x1F, 0x00,
                                   0xF3, 0x90, 0x0F, 0x18, 0x41, 0x05, 0x40, 0xE2, 0xF1,
                                   0xF4};
    Rig *j, *i;
    run_both(code, sizeof(code), &j, &i);
    cr_assert_eq(j->cpu->regs[R_EAX] & 0xFFFF, 100);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_leq(s->insns_helper, 1, "only HLT through a helper: %llu",
                  (unsigned long long)s->insns_helper);
    rig_free(j);
    rig_free(i);
}

Test(jit_tb, a_slow_path_between_page_group_accesses_gives_the_group_its_address_back)
{
    /* mov ecx, 200; xor ebx, ebx; l: push ecx; push ebx; mov eax, [7010h];
     * add eax, [esp+4]; mov edx, [407010h]; add edx, [esp]; mov [407030h], eax;
     * add edx, [esp+4]; add ebx, eax; add ebx, edx; pop edx; pop ecx; dec ecx; jnz l; hlt
     * Linear 407000h maps frame 7 too (a second page directory entry) and shares its TLB
     * slot with 7000h, so every absolute access misses and runs its slow path (a helper
     * call) between accesses of the stack's page group, which the host keeps at one address
     * in a register across flat accesses. */
    static const uint8_t code[] = {
        0xB9, 0xC8, 0x00, 0x00, 0x00, 0x31, 0xDB, 0x51, 0x53, 0xA1, 0x10, 0x70, 0x00, 0x00,
        0x03, 0x44, 0x24, 0x04, 0x8B, 0x15, 0x20, 0x70, 0x40, 0x00, 0x03, 0x14, 0x24, 0xA3,
        0x30, 0x70, 0x40, 0x00, 0x03, 0x54, 0x24, 0x04, 0x01, 0xC3, 0x01, 0xD3, 0x5A, 0x59,
        0x49, 0x75, 0xDA, 0xF4,
    };
    Rig *r[2];
    for (int k = 0; k < 2; k++) {
        r[k] = rig_new(k == 0, 0, code, sizeof(code));
        rig_paging(r[k], 0);
        rig_idt(r[k]);
        uint32_t pde1 = 0x11000 | 7;
        memcpy(r[k]->ram + 0x10000 + 4, &pde1, 4);
        r[k]->cpu->regs[R_ESP] = 0x9000;
        for (uint32_t a = 0x7000; a < 0x8000; a += 4) {
            memcpy(r[k]->ram + a, &a, 4);
        }
        rig_run(r[k], 1000000);
        cr_assert(r[k]->cpu->halted, "%s rig halted", k ? "interpreter" : "jit");
        cr_assert_eq(r[k]->cpu->eip, 0x1000 + sizeof(code), "%s: hlt at the end",
                     k ? "interpreter" : "jit");
    }
    assert_same(r[0], r[1]);
    cr_assert_eq(r[0]->cpu->regs[R_ECX], 0);
    const JitStats *s = x86_jit_stats(r[0]->cpu);
    cr_assert_geq(s->group_accesses, 6);
    rig_free(r[0]);
    rig_free(r[1]);
}

Test(jit_tb, a_block_follows_a_jcc_back_and_is_dropped_when_that_code_changes)
{
    /* tests/unit/asm/jit_follow.s: the block at the loop's bottom goes on at the JNZ's
     * target (top, before its start) instead of ending there; the fall-through (HLT) is its
     * side exit. At ECX = 300 the loop rewrites the ADD at top into a SUB: the block that
     * followed the branch holds those bytes and is dropped and translated again. */
    static const uint8_t code[] = {
        0xB9, 0x58, 0x02, 0x00, 0x00, 0x31, 0xC0, 0x31, 0xDB, 0xEB, 0x18, 0x01, 0xC8, 0xF6,
        0xC1, 0x03, 0x75, 0x11, 0x31, 0xC3, 0x81, 0xF9, 0x2C, 0x01, 0x00, 0x00, 0x75, 0x07,
        0xC6, 0x05, 0x0B, 0x10, 0x00, 0x00, 0x29, 0x43, 0x49, 0x75, 0xE4, 0xF4,
    };
    Rig *i;
    Rig *j = run_flat_both(code, sizeof(code), 0x7000 | 3, &i);
    uint32_t eax = 0, ebx = 0, ecx = 600;
    bool sub = false;
    for (;;) {
        ebx++;
        if (--ecx == 0) {
            break;
        }
        eax = sub ? eax - ecx : eax + ecx;
        if (ecx & 3) {
            continue;
        }
        ebx ^= eax;
        sub = sub || ecx == 300;
    }
    cr_assert_eq(j->cpu->regs[R_EAX], eax, "eax %08x, want %08x", j->cpu->regs[R_EAX], eax);
    cr_assert_eq(j->cpu->regs[R_EBX], ebx, "ebx %08x, want %08x", j->cpu->regs[R_EBX], ebx);
    const JitStats *s = x86_jit_stats(j->cpu);
    cr_assert_geq(s->jcc_followed, 2, "before and after the rewrite: %llu",
                  (unsigned long long)s->jcc_followed);
    cr_assert_geq(s->invalidations, 1);
    rig_free(j);
    rig_free(i);
}

/* run_sliced: code under run_flat_both's set-up, under the JIT (without page groups when
 * no_groups) and the interpreter side by side in slices of 1..13 instructions (64 + 1..13
 * when big), in the same state and count after every slice, until the interpreter halts;
 * the JIT's rig must have halted too. Returns it; the interpreter's in *int_out. */
static Rig *run_sliced(const uint8_t *code, size_t len, uint32_t pte7, bool no_groups,
                       bool big, Rig **int_out)
{
    Rig *j = flat_rig_new(code, len, pte7, true, no_groups);
    Rig *i = flat_rig_new(code, len, pte7, false, false);
    for (unsigned slice = 1; !i->cpu->halted && slice < 100000; slice++) {
        uint64_t n = (big ? 64 : 0) + 1 + slice % 13;
        cpu_exec(j->cpu, n);
        cpu_exec(i->cpu, n);
        assert_same(j, i);
        cr_assert_eq(j->cpu->cr2, i->cpu->cr2);
    }
    cr_assert(j->cpu->halted);
    *int_out = i;
    return j;
}

Test(jit_tb, a_loop_inside_a_block_keeps_state_exact_at_every_budget)
{
    /* tests/unit/asm/jit_loop.s: a block whose JNZ goes back to its own start, with page-group
     * loads and stores through ESP, a byte load through EBP walking into page 7 and all eight
     * registers in use (ESI, written once, is not kept by the loop head: the back edge writes
     * it back). Run in
     * slices of 1..13 and of 64 + 1..13 instructions next to the interpreter, with page 7
     * present and absent (a page fault in the 65th round): every slice ends in the same
     * state and count, however many rounds the block went inside itself. */
    static const uint8_t code[] = {
        0xB9, 0x2C, 0x01, 0x00, 0x00, 0x83, 0xEC, 0x10, 0xC7, 0x04, 0x24, 0x07, 0x00, 0x00,
        0x00, 0xC7, 0x44, 0x24, 0x04, 0x01, 0x00, 0x00, 0x00, 0x31, 0xC0, 0x31, 0xDB, 0xBD,
        0x00, 0x6F, 0x00, 0x00, 0xEB, 0x00, 0x8B, 0x54, 0x24, 0x04, 0x01, 0xCA, 0x89, 0x54,
        0x24, 0x04, 0x01, 0xD0, 0x0F, 0xB6, 0x7D, 0x00, 0x83, 0xC5, 0x04, 0x31, 0xFB, 0x8D,
        0x3C, 0x0C, 0x31, 0xF8, 0x8D, 0x71, 0x01, 0xC1, 0xC3, 0x03, 0x01, 0x1C, 0x24, 0x49,
        0x75, 0xDA, 0x8B, 0x14, 0x24, 0xF4,
    };
    static const uint32_t pte7[] = {0x7000 | 3, 0};
    for (int p = 0; p < 2; p++) {
        for (int big = 0; big < 2; big++) {
            Rig *i;
            Rig *j = run_sliced(code, sizeof(code), pte7[p], false, big, &i);
            const JitStats *s = x86_jit_stats(j->cpu);
            cr_assert_geq(s->loop_edges, 1);
            cr_assert_geq(s->group_blocks, 1);
            /* ADD EDX's flags, replaced by ADD EBP's after the load through EBP: stored only
             * by that load's slow path (the page fault pushes them). */
            cr_assert_geq(s->flags_deferred, 1);
            /* Temps recycled inside a deferred update's window: written to fresh ones
             * (defer_rename) rather than storing the flags there. */
            cr_assert_geq(s->defer_renames, 1);
            if (p == 0) {
                cr_assert_eq(j->cpu->regs[R_ECX], 0);
            } else {
                cr_assert_eq(j->cpu->cr2, 0x7000);
            }
            rig_free(j);
            rig_free(i);
        }
    }
}

Test(jit_tb, a_rotates_flags_seen_only_by_a_fault_are_exact_there)
{
    /* tests/unit/asm/jit_rotpend.s: ROL and ROR whose CF and OF only a page fault of the
     * loads before the next flag update could see; the JIT makes them on those loads' slow
     * paths only. ESI and EBP start so that page 7 (absent, or present in the last case)
     * faults at the MOV or the ADD after ROL, or at the MOVZX after ROR, in one of several
     * rounds (whose CF and OF differ): the exception frame (EFLAGS pushed) and every slice of 1..13 and 64 + 1..13 instructions match the
     * interpreter, with page groups and without (then every load has a slow path). */
    uint8_t code[] = {
        0xB9, 0xC8, 0x00, 0x00, 0x00, 0xBE, 0x00, 0x6E, 0x00, 0x00, 0xBD, 0x00, 0x60, 0x00,
        0x00, 0xB8, 0x78, 0x56, 0x34, 0x12, 0xBB, 0xB9, 0x79, 0x37, 0x9E, 0x31, 0xD2, 0x01,
        0xD8, 0xC1, 0xC0, 0x05, 0x8D, 0x78, 0x01, 0x8B, 0x16, 0x03, 0x7E, 0x04, 0x31, 0xFB,
        0x29, 0xC8, 0xC1, 0xCB, 0x03, 0x0F, 0xB6, 0x7D, 0x00, 0x81, 0x3E, 0x00, 0x60, 0x00,
        0x00, 0x8D, 0x76, 0x08, 0x8D, 0x6D, 0x08, 0x11, 0xD0, 0x49, 0x75, 0xD7, 0xF4,
    };
    static const struct {
        uint32_t esi, ebp, pte7, fault_eip;
    } cases[] = {
        /* MOV EDX, [ESI] after ROL, in the 65th, 64th, ... 61st round */
        {0x6E00, 0x6000, 0, 0x1023}, {0x6E08, 0x6000, 0, 0x1023}, {0x6E10, 0x6000, 0, 0x1023},
        {0x6E18, 0x6000, 0, 0x1023}, {0x6E20, 0x6000, 0, 0x1023},
        /* ADD EDI, [ESI + 4] after ROL, in the 60th, 59th, 58th round */
        {0x6E24, 0x6000, 0, 0x1025}, {0x6E2C, 0x6000, 0, 0x1025}, {0x6E34, 0x6000, 0, 0x1025},
        /* MOVZX EDI, byte [EBP] after ROR, in the 65th ... 61st round */
        {0x6000, 0x6E00, 0, 0x102F}, {0x6000, 0x6E08, 0, 0x102F}, {0x6000, 0x6E10, 0, 0x102F},
        {0x6000, 0x6E18, 0, 0x102F}, {0x6000, 0x6E20, 0, 0x102F},
        {0x6E00, 0x6E00, 0x7000 | 3, 0}, /* no fault: 200 rounds */
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memcpy(code + 6, &cases[c].esi, 4);
        memcpy(code + 11, &cases[c].ebp, 4);
        for (int groups = 0; groups < 2; groups++) {
            for (int big = 0; big < 2; big++) {
                Rig *i;
                Rig *j = run_sliced(code, sizeof(code), cases[c].pte7, !groups, big, &i);
                const JitStats *s = x86_jit_stats(j->cpu);
                /* Without groups both rotates' flags go to slow paths; with them ROL's loads
                 * through ESI are grouped (no slow path: nothing to make) and ROR's through
                 * EBP is not. */
                cr_assert_geq(s->rot_flags_cold, groups ? 1 : 2);
                cr_assert_eq(s->rotpend_retries, 0);
                if (cases[c].pte7) {
                    cr_assert_eq(j->cpu->regs[R_ECX], 0);
                } else {
                    /* #PF's frame: error code, EIP, CS, EFLAGS */
                    uint32_t sp = j->cpu->regs[R_ESP], eip;
                    memcpy(&eip, j->ram + sp + 4, 4);
                    cr_assert_eq(j->cpu->cr2, 0x7000);
                    cr_assert_eq(eip, cases[c].fault_eip, "case %u: fault at %08x", c, eip);
                }
                rig_free(j);
                rig_free(i);
            }
        }
    }
}
