/* fuzz_case.h: the test-case and result records shared by the fuzz driver (64-bit) and the
 * native runner (32-bit, built with gcc -m32), plus the fixed guest address layout.
 *
 * Both programs see the same bytes in a shared memory file, so every field is a fixed-width
 * integer whose alignment is the same on i386 and x86-64 (no uint64_t, no pointers).
 */
#ifndef ANYVM_TESTS_FUZZ_CASE_H
#define ANYVM_TESTS_FUZZ_CASE_H

#include <stdint.h>

/* Guest (and native) address layout. Each window lies in a region of two mapped 4 KiB pages
 * and straddles the page boundary in its middle, so instructions, data accesses and pushes
 * that cross a page are exercised. */
#define FUZZ_PAGE 4096u
#define FUZZ_REGION_SIZE (2 * FUZZ_PAGE)
#define FUZZ_CODE_REGION 0x00400000u
#define FUZZ_CODE_BASE 0x00400FC0u  /* 64 bytes before the page boundary */
#define FUZZ_CODE_MAX 1024u         /* code bytes including the end stub */
#define FUZZ_END_STUB_LEN 7u        /* native: 36 FF 25 <abs32> = jmp ss:[capture pointer] */
#define FUZZ_DATA_REGION 0x00500000u
#define FUZZ_DATA_BASE 0x00500E00u
#define FUZZ_DATA_SIZE 1024u
#define FUZZ_STACK_REGION 0x00600000u
#define FUZZ_STACK_BASE 0x00600F80u
#define FUZZ_STACK_SIZE 256u
#define FUZZ_CTX_BASE 0x00700000u   /* native runner's private page (entry/capture state) */

/* Edges: the first and last 64 bytes of the data and stack regions, next to the unmapped guard
 * pages around each region (and the code region); page-fault tests reach into them. */
#define FUZZ_EDGE_SIZE 64u
#define FUZZ_NEDGES 4
static const uint32_t fuzz_edge_base[FUZZ_NEDGES] = {
    FUZZ_DATA_REGION, FUZZ_DATA_REGION + FUZZ_REGION_SIZE - FUZZ_EDGE_SIZE,
    FUZZ_STACK_REGION, FUZZ_STACK_REGION + FUZZ_REGION_SIZE - FUZZ_EDGE_SIZE,
};

/* Arithmetic and direction flags: the EFLAGS bits the fuzzer loads and compares. */
enum {
    FZ_CF = 1u << 0, FZ_PF = 1u << 2, FZ_AF = 1u << 4, FZ_ZF = 1u << 6, FZ_SF = 1u << 7,
    FZ_IF = 1u << 9, FZ_DF = 1u << 10, FZ_OF = 1u << 11,
};
#define FZ_ARITH (FZ_CF | FZ_PF | FZ_AF | FZ_ZF | FZ_SF | FZ_OF)
#define FZ_COMPARED (FZ_ARITH | FZ_DF)

/* No exception: the sequence ran to the end stub. */
#define FUZZ_NO_EXC (-1)

/* FuzzCaseIn: one test case. regs in ModRM order (EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI). */
typedef struct FuzzCaseIn {
    uint32_t regs[8];
    uint32_t eflags;          /* arithmetic bits and DF only */
    uint32_t code_len;        /* bytes of code; the end stub goes at CODE_BASE + code_len */
    uint8_t code[FUZZ_CODE_MAX];
    uint8_t data[FUZZ_DATA_SIZE];
    uint8_t stack[FUZZ_STACK_SIZE];
    uint8_t edge[FUZZ_NEDGES][FUZZ_EDGE_SIZE];
} FuzzCaseIn;

/* FuzzCaseOut: the state when the sequence ended or faulted. */
typedef struct FuzzCaseOut {
    uint32_t regs[8];
    uint32_t eip;             /* end stub address, or the faulting (trap: next) instruction */
    uint32_t eflags;
    int32_t vector;           /* exception vector or FUZZ_NO_EXC */
    uint32_t err;             /* error code (native: from the signal context) */
    uint32_t cr2;             /* faulting linear address of a #PF */
    uint8_t data[FUZZ_DATA_SIZE];
    uint8_t stack[FUZZ_STACK_SIZE];
    uint8_t edge[FUZZ_NEDGES][FUZZ_EDGE_SIZE];
} FuzzCaseOut;

/* Shared-memory layout for one batch: FUZZ_BATCH inputs followed by FUZZ_BATCH outputs. The
 * control pipe carries a uint32_t case count each way. */
#define FUZZ_BATCH 4096u
#define FUZZ_SHM_SIZE (FUZZ_BATCH * (sizeof(FuzzCaseIn) + sizeof(FuzzCaseOut)))

#endif
