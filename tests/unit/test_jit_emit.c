/* test_jit_emit.c: the JIT's x86-64 emitter and code buffer: every form the backend uses
 * decodes (Capstone, x86-64) to the intended instruction, rel32 patches land where asked,
 * the buffer is W^X and the emitted code runs. */
#include <capstone/capstone.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "translate/jit_internal.h"

static uint8_t buf[4096];

/* disasm_one: the single instruction in buf[0..n) as "mnemonic op_str"; fails the test if
 * Capstone does not consume exactly n bytes in one instruction. */
static void disasm_one(size_t n, char *out, size_t outlen)
{
    csh h;
    cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
    cs_insn *insn;
    size_t count = cs_disasm(h, buf, n, 0x1000, 0, &insn);
    cr_assert_eq(count, 1, "expected one instruction in %zu bytes, got %zu", n, count);
    cr_assert_eq(insn[0].size, n, "instruction is %u bytes, emitted %zu", insn[0].size, n);
    snprintf(out, outlen, "%.31s%s%.90s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
             insn[0].op_str);
    cs_free(insn, count);
    cs_close(&h);
}

#define CHECK_EMIT(expect, ...)                                                              \
    do {                                                                                     \
        X64Emit e;                                                                           \
        memset(buf, 0, sizeof(buf));                                                         \
        x64_init(&e, buf, buf, 0, sizeof(buf));                                              \
        __VA_ARGS__;                                                                         \
        cr_assert(!e.overflow);                                                              \
        char got[128];                                                                       \
        disasm_one(e.pos, got, sizeof(got));                                                 \
        cr_assert_str_eq(got, expect);                                                       \
    } while (0)

Test(jit_emit, loads_and_stores_decode_to_the_intended_instruction)
{
    CHECK_EMIT("mov eax, dword ptr [rbx + 0x40]", x64_load(&e, 4, X_RAX, X_RBX, 0x40));
    CHECK_EMIT("mov rax, qword ptr [r12]", x64_load(&e, 8, X_RAX, X_R12, 0));
    CHECK_EMIT("movzx ecx, byte ptr [rsp + 8]", x64_load(&e, 1, X_RCX, X_RSP, 8));
    CHECK_EMIT("movzx eax, word ptr [rbp]", x64_load(&e, 2, X_RAX, X_RBP, 0));
    CHECK_EMIT("mov r9d, dword ptr [r13 + 0x12345]", x64_load(&e, 4, X_R9, X_R13, 0x12345));
    CHECK_EMIT("mov word ptr [rbx + 0x100], ax", x64_store(&e, 2, X_RBX, 0x100, X_RAX));
    CHECK_EMIT("mov byte ptr [r13], sil", x64_store(&e, 1, X_R13, 0, X_RSI));
    CHECK_EMIT("mov qword ptr [rsp - 8], r15", x64_store(&e, 8, X_RSP, -8, X_R15));
    CHECK_EMIT("mov dword ptr [rbx + 0x20], 0x8000",
               x64_store_imm(&e, 4, X_RBX, 0x20, 0x8000));
    CHECK_EMIT("mov word ptr [rbx + 2], 0x1234", x64_store_imm(&e, 2, X_RBX, 2, 0x1234));
    CHECK_EMIT("mov byte ptr [r12 + 8], 1", x64_store_imm(&e, 1, X_R12, 8, 1));
}

Test(jit_emit, alu_forms_decode_to_the_intended_instruction)
{
    CHECK_EMIT("add qword ptr [rbx + 0x1d8], 1", x64_alu_mi(&e, 8, XA_ADD, X_RBX, 0x1d8, 1));
    CHECK_EMIT("cmp byte ptr [r12 + 8], 0", x64_alu_mi(&e, 1, XA_CMP, X_R12, 8, 0));
    CHECK_EMIT("cmp dword ptr [rbx + 0x20], 0x12345678",
               x64_alu_mi(&e, 4, XA_CMP, X_RBX, 0x20, 0x12345678));
    CHECK_EMIT("cmp rax, qword ptr [r12]", x64_alu_rm(&e, 8, XA_CMP, X_RAX, X_R12, 0));
    CHECK_EMIT("sub eax, dword ptr [rsp + 0x10]", x64_alu_rm(&e, 4, XA_SUB, X_RAX, X_RSP, 16));
    CHECK_EMIT("sub rsp, 0x208", x64_alu_ri(&e, 8, XA_SUB, X_RSP, 0x208));
    CHECK_EMIT("and eax, 0xffff00ff", x64_alu_ri(&e, 4, XA_AND, X_RAX, (int32_t)0xFFFF00FF));
    CHECK_EMIT("add rax, 2", x64_alu_ri(&e, 8, XA_ADD, X_RAX, 2));
    CHECK_EMIT("xor eax, eax", x64_alu_rr(&e, 4, XA_XOR, X_RAX, X_RAX));
    CHECK_EMIT("or r8, rdx", x64_alu_rr(&e, 8, XA_OR, X_R8, X_RDX));
    CHECK_EMIT("test byte ptr [rbx + 0x1b9], 1", x64_test_mi(&e, 1, X_RBX, 0x1b9, 1));
    CHECK_EMIT("test dword ptr [rbx + 0x24], 0x200", x64_test_mi(&e, 4, X_RBX, 0x24, 0x200));
    CHECK_EMIT("test eax, eax", x64_test_rr(&e, 4, X_RAX, X_RAX));
    CHECK_EMIT("shl eax, 2", x64_shift_ri(&e, 4, 4, X_RAX, 2));
    CHECK_EMIT("setne sil", x64_setcc(&e, XC_NE, X_RSI));
    CHECK_EMIT("lea rdi, [rsp + 0x18]", x64_lea(&e, X_RDI, X_RSP, 0x18));
}

Test(jit_emit, moves_calls_and_stack_ops_decode_to_the_intended_instruction)
{
    CHECK_EMIT("movabs rsi, 0x123456789a", x64_mov_ri64(&e, X_RSI, 0x123456789aull));
    CHECK_EMIT("mov eax, 5", x64_mov_ri64(&e, X_RAX, 5));
    CHECK_EMIT("mov r10d, 0xffffffff", x64_mov_ri32(&e, X_R10, 0xFFFFFFFFu));
    CHECK_EMIT("mov rbx, rdi", x64_mov_rr(&e, 8, X_RBX, X_RDI));
    CHECK_EMIT("mov r12, rsi", x64_mov_rr(&e, 8, X_R12, X_RSI));
    CHECK_EMIT("push r12", x64_push(&e, X_R12));
    CHECK_EMIT("push rbp", x64_push(&e, X_RBP));
    CHECK_EMIT("pop r15", x64_pop(&e, X_R15));
    CHECK_EMIT("call rax", x64_call_r(&e, X_RAX));
    CHECK_EMIT("jmp rdx", x64_jmp_r(&e, X_RDX));
    CHECK_EMIT("ret", x64_ret(&e));
}

Test(jit_emit, rel32_branches_are_patched_to_their_targets)
{
    X64Emit e;
    x64_init(&e, buf, buf, 0, sizeof(buf));
    size_t j = x64_jmp_rel32(&e);
    size_t c = x64_jcc_rel32(&e, XC_A);
    x64_patch_rel32(buf, j, 0x200);
    x64_patch_rel32(buf, c, 0x10);
    csh h;
    cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
    cs_insn *insn;
    size_t count = cs_disasm(h, buf, e.pos, 0, 0, &insn);
    cr_assert_eq(count, 2);
    cr_assert_str_eq(insn[0].mnemonic, "jmp");
    cr_assert_str_eq(insn[0].op_str, "0x200");
    cr_assert_str_eq(insn[1].mnemonic, "ja");
    cr_assert_str_eq(insn[1].op_str, "0x10");
    cs_free(insn, count);
    cs_close(&h);
}

Test(jit_emit, emission_past_the_end_sets_overflow_and_writes_nothing_beyond)
{
    uint8_t small[8] = {0};
    X64Emit e;
    x64_init(&e, small, small, 0, 4);
    x64_mov_ri64(&e, X_RSI, 0x123456789aull);
    cr_assert(e.overflow);
    cr_assert_eq(e.pos, 4);
    cr_assert_eq(small[4], 0);
}

/* perms_of: the permission string of the /proc/self/maps line containing addr. */
static bool perms_of(const void *addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) {
        return false;
    }
    char line[512];
    bool found = false;
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && (uintptr_t)addr >= lo &&
            (uintptr_t)addr < hi) {
            memcpy(perms, p, 5);
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

Test(jit_codebuf, no_mapping_is_ever_writable_and_executable)
{
    CodeBuf cb;
    cr_assert_eq(codebuf_init(&cb, 1u << 16), 0);
    char p[5];
    codebuf_begin_write(&cb);
    cr_assert(perms_of(cb.rw, p));
    cr_assert_eq(p[1], 'w');
    cr_assert_neq(p[2], 'x', "writable view is executable: %s", p);
    codebuf_end_write(&cb);
    cr_assert(perms_of(cb.rx, p));
    cr_assert_eq(p[2], 'x');
    cr_assert_neq(p[1], 'w', "executable view is writable: %s", p);
    codebuf_destroy(&cb);
}

Test(jit_codebuf, emitted_code_runs_from_the_executable_view)
{
    CodeBuf cb;
    cr_assert_eq(codebuf_init(&cb, 1u << 16), 0);
    codebuf_begin_write(&cb);
    X64Emit e;
    x64_init(&e, cb.rw, cb.rx, 0, cb.size);
    /* int f(int x) { return x * 4 + 0x1234; }: lea-free, with the forms the backend uses. */
    x64_mov_rr(&e, 4, X_RAX, X_RDI);
    x64_shift_ri(&e, 4, 4, X_RAX, 2);
    x64_alu_ri(&e, 4, XA_ADD, X_RAX, 0x1234);
    x64_ret(&e);
    codebuf_end_write(&cb);
    cr_assert(!e.overflow);
    int (*fn)(int) = (int (*)(int))(uintptr_t)cb.rx;
    cr_assert_eq(fn(5), 5 * 4 + 0x1234);
    /* Patch through the write view: the executable view sees it. */
    codebuf_begin_write(&cb);
    x64_init(&e, cb.rw, cb.rx, 0, cb.size);
    x64_mov_ri32(&e, X_RAX, 77);
    x64_ret(&e);
    codebuf_end_write(&cb);
    cr_assert_eq(fn(5), 77);
    codebuf_destroy(&cb);
}
