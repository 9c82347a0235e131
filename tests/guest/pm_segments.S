/* pm_segments.S: protected-mode segmentation: null selectors, table limits, type and
 * privilege checks on segment loads (#GP, #NP, #SS with the selector as error code), limit
 * and expand-down checks on accesses, read-only and execute-only segments, the accessed bit,
 * LAR/LSL/VERR/VERW/ARPL, SGDT/SIDT, CPUID, MSRs, RDTSC. */
#include "guest.h"

#define SEL_RO 0x48        /* read-only data, base 0x100000, limit 0xFFF */
#define SEL_XO 0x50        /* execute-only code */
#define SEL_NP 0x58        /* data, not present */
#define SEL_ED 0x60        /* expand-down data, limit 0xFFF, B=1 */
#define SEL_D3 0x68        /* data DPL 3 */
#define SEL_SMALL 0x70     /* writable data, base 0x100000, limit 0xFFF, byte granular */
#define SEL_LDTDESC 0x78   /* an LDT of two entries */

    .code32
    .text
    .globl test_main
test_main:
    movl $SEL_RO, %eax
    movl $0x100000, %ebx
    movl $0xFFF, %ecx
    movw $0x0090, %dx      /* P, S, type 0: read-only, not accessed */
    call set_seg_desc
    movl $SEL_XO, %eax
    xorl %ebx, %ebx
    movl $0xFFFFF, %ecx
    movw $0xC098, %dx      /* execute-only code */
    call set_seg_desc
    movl $SEL_NP, %eax
    movl $0xFFFFF, %ecx
    movw $0xC012, %dx      /* data, P = 0 */
    call set_seg_desc
    movl $SEL_ED, %eax
    xorl %ebx, %ebx
    movl $0xFFF, %ecx
    movw $0x4096, %dx      /* expand-down writable, B = 1 */
    call set_seg_desc
    movl $SEL_D3, %eax
    movl $0xFFFFF, %ecx
    movw $0xC0F2, %dx
    call set_seg_desc
    movl $SEL_SMALL, %eax
    movl $0x100000, %ebx
    movl $0xFFF, %ecx
    movw $0x0092, %dx
    call set_seg_desc

    /* A null selector loads into DS but any access through it is #GP(0). */
    xorl %eax, %eax
    movw %ax, %fs
    EXPECT_FAULT 13, 1f
    movl %fs:0, %eax
    jmp no_fault
1:  CHECK_EQ last_err, 0, "null FS access error code"
    /* A null SS is #GP(0). */
    EXPECT_FAULT 13, 1f
    movw %ax, %ss
    jmp no_fault
1:  CHECK_EQ last_err, 0, "null SS error code"

    /* Beyond the GDT limit: #GP(selector). */
    movw $0x1F8, %ax
    EXPECT_FAULT 13, 1f
    movw %ax, %ds
    jmp no_fault
1:  CHECK_EQ last_err, 0x1F8, "GDT limit error code"

    /* Not present: #NP(selector); as SS: #SS(selector) needs writable data, and a read-only
     * segment in SS is #GP(selector). */
    movw $SEL_NP, %ax
    EXPECT_FAULT 11, 1f
    movw %ax, %ds
    jmp no_fault
1:  CHECK_EQ last_err, SEL_NP, "#NP error code"
    movw $SEL_RO, %ax
    EXPECT_FAULT 13, 1f
    movw %ax, %ss
    jmp no_fault
1:  CHECK_EQ last_err, SEL_RO, "read-only SS error code"
    /* DPL 3 data in SS at CPL 0: #GP(selector). */
    movw $SEL_D3 | 3, %ax
    EXPECT_FAULT 13, 1f
    movw %ax, %ss
    jmp no_fault
1:  CHECK_EQ last_err, SEL_D3, "DPL 3 SS error code"
    /* Execute-only code cannot go into a data segment register. */
    movw $SEL_XO, %ax
    EXPECT_FAULT 13, 1f
    movw %ax, %es
    jmp no_fault
1:  CHECK_EQ last_err, SEL_XO, "execute-only in ES error code"

    /* The accessed bit is written back on a load. */
    testb $1, gdt + SEL_RO + 5
    jnz bad_accessed
    movw $SEL_RO, %ax
    movw %ax, %fs
    testb $1, gdt + SEL_RO + 5
    jz bad_accessed

    /* Read-only: reads work, writes are #GP(0). */
    movl $0x11223344, 0x100000
    CHECK_EQ %fs:0, 0x11223344, "read through a read-only segment"
    EXPECT_FAULT 13, 1f
    movl $0, %fs:0
    jmp no_fault
1:  CHECK_EQ last_err, 0, "write to read-only error code"

    /* Byte-granular limit FFFh: a dword at FFCh fits, at FFDh it does not. */
    movw $SEL_SMALL, %ax
    movw %ax, %gs
    movl %gs:0xFFC, %eax
    EXPECT_FAULT 13, 1f
    movl %gs:0xFFD, %eax
    jmp no_fault
1:  CHECK_EQ last_err, 0, "limit violation error code"

    /* Expand-down, limit FFFh, B = 1: offsets 0..FFFh fault, 1000h..FFFFFFFFh are valid. */
    movw $SEL_ED, %ax
    movw %ax, %gs
    movl %gs:0x100000, %eax
    EXPECT_FAULT 13, 1f
    movl %gs:0x800, %eax
    jmp no_fault
1:  EXPECT_FAULT 13, 1f
    movl %gs:0xFFE, %eax
    jmp no_fault
1:
    /* The same expand-down segment as a stack: a fault there is #SS(0). */
    movl %esp, %edi
    movw %ss, %si
    movw $SEL_ED, %ax
    movw %ax, %ss
    movl $0x1100, %esp      /* room for the exception handler above the limit */
    EXPECT_FAULT 12, 1f
    movl -0x200(%esp), %eax
    jmp no_fault
1:  movw %si, %ss
    movl %edi, %esp
    CHECK_EQ last_err, 0, "#SS error code"

    /* Execute-only code: reads through CS are #GP(0); through a readable CS they work. */
    movl %cs:test_main, %eax
    ljmp $SEL_XO, $1f
1:  EXPECT_FAULT 13, 2f
    movl %cs:test_main, %eax
    jmp no_fault
2:  ljmp $SEL_CODE0, $1f
1:
    /* LAR / LSL / VERR / VERW. */
    movl $SEL_RO, %eax
    larl %eax, %ebx
    jnz bad_lar
    CHECK_EQ %ebx, 0x00009100, "LAR of the read-only segment"
    lsll %eax, %ebx
    jnz bad_lar
    CHECK_EQ %ebx, 0xFFF, "LSL of the read-only segment"
    movl $SEL_XO, %eax
    lsll %eax, %ebx
    CHECK_EQ %ebx, 0xFFFFFFFF, "LSL with 4 KiB granularity"
    verr %ax
    jz bad_verr
    movl $SEL_RO, %eax
    verr %ax
    jnz bad_verr
    verw %ax
    jz bad_verr
    movl $SEL_SMALL, %eax
    verw %ax
    jnz bad_verr
    movl $0x1F8, %eax
    larl %eax, %ebx
    jz bad_lar
    movl $0x08, %eax        /* interrupt gates are not LAR-visible */
    movl $SEL_FREE0, %eax
    lsll %eax, %ebx
    jz bad_lar

    /* ARPL raises the RPL of the destination. */
    movw $0x10, %ax
    movw $0x23, %bx
    arpl %bx, %ax
    jnz bad_arpl
    CHECK_EQ %eax, 0x13, "ARPL result"

    /* SGDT / SIDT store what LGDT / LIDT loaded. */
    sgdt scratch
    movzwl scratch, %eax
    CHECK_EQ %eax, 0x7F, "SGDT limit"
    movl $gdt, %ebx
    cmpl %ebx, scratch + 2
    jne bad_sgdt
    sidt scratch
    movzwl scratch, %eax
    CHECK_EQ %eax, 0x7FF, "SIDT limit"
    CHECK_EQ scratch + 2, IDT_BASE, "SIDT base"
    str %ax
    movzwl %ax, %eax
    CHECK_EQ %eax, SEL_TSS, "STR"
    /* LTR marked the TSS busy (type 0xB). */
    movzbl gdt + SEL_TSS + 5, %eax
    CHECK_EQ %eax, 0x8B, "TSS busy after LTR"

    /* CPUID: GenuineIntel, family 6; FPU DE PSE TSC MSR CX8 SEP PGE CMOV MMX FXSR. */
    xorl %eax, %eax
    cpuid
    CHECK_EQ %ebx, 0x756E6547, "CPUID vendor"
    movl $1, %eax
    cpuid
    CHECK_EQ %eax, 0x652, "CPUID signature"
    CHECK_EQ %edx, 0x0180A93D, "CPUID features"

    /* MSRs: SYSENTER_CS round trip; an unknown MSR is #GP(0); TSC write is seen by RDTSC. */
    movl $0x174, %ecx
    movl $0x1234, %eax
    xorl %edx, %edx
    wrmsr
    xorl %eax, %eax
    rdmsr
    CHECK_EQ %eax, 0x1234, "SYSENTER_CS MSR"
    movl $0x12345, %ecx
    EXPECT_FAULT 13, 1f
    rdmsr
    jmp no_fault
1:  movl $0x10, %ecx
    xorl %eax, %eax
    movl $5, %edx
    wrmsr
    rdtsc
    CHECK_EQ %edx, 5, "TSC high after WRMSR"
    movl %eax, %ebx
    rdtsc
    cmpl %ebx, %eax
    jbe bad_tsc
    /* RDPMC: no counters. */
    xorl %ecx, %ecx
    EXPECT_FAULT 13, 1f
    rdpmc
    jmp no_fault
1:  /* CR4: PAE is not supported, so setting it is #GP(0). */
    movl %cr4, %eax
    orl $0x20, %eax
    EXPECT_FAULT 13, 1f
    movl %eax, %cr4
    jmp no_fault
1:  /* PG without PE is #GP(0). */
    movl %cr0, %eax
    andl $~1, %eax
    orl $0x80000000, %eax
    EXPECT_FAULT 13, 1f
    movl %eax, %cr0
    jmp no_fault
1:  /* LLDT: a selector with TI = 1 is looked up in the LDT; with a null LDTR it is #GP. */
    movl $0x0000FFFF, ldt_table + 8
    movl $0x00CF9200, ldt_table + 12
    movl $SEL_LDTDESC, %eax
    movl $ldt_table, %ebx
    movl $15, %ecx
    movw $0x0082, %dx
    call set_seg_desc
    movw $SEL_LDTDESC, %ax
    lldt %ax
    movw $0x0F, %ax             /* LDT entry 1, RPL 3: DPL 0 data at CPL 0 with RPL 3 */
    EXPECT_FAULT 13, 1f
    movw %ax, %fs
    movl $msg_nofault, %esi
    jmp fail
1:  CHECK_EQ last_err, 0x0C, "#GP error code for an LDT selector"
    movw $0x0C, %ax
    movw %ax, %fs
    movl %fs:0x8000, %eax
    xorl %eax, %eax
    lldt %ax
    movw $0x0C, %ax
    EXPECT_FAULT 13, 1f
    movw %ax, %fs
    movl $msg_nofault, %esi
    jmp fail
1:  CHECK_EQ last_err, 0x0C, "#GP for an LDT selector with a null LDTR"
    /* LLDT of something that is not an LDT descriptor: #GP(selector). */
    movw $SEL_DATA0, %ax
    EXPECT_FAULT 13, 1f
    lldt %ax
    movl $msg_nofault, %esi
    jmp fail
1:  CHECK_EQ last_err, SEL_DATA0, "#GP error code of LLDT with a data descriptor"

    /* LMSW sets TS but cannot clear PE; SMSW reads the low word of CR0. */
    movw $0x0008, %ax
    lmsw %ax
    movl %cr0, %eax
    andl $9, %eax
    CHECK_EQ %eax, 9, "LMSW set TS and kept PE"
    smsw %ax
    movzwl %ax, %eax
    andl $0xF, %eax
    CHECK_EQ %eax, 9, "SMSW"
    clts
    PUTS "pm_segments ok"
    ret

no_fault:
    movl last_vector, %eax
    movl $msg_nofault, %esi
    jmp fail
bad_accessed:
    movl $msg_accessed, %esi
    jmp fail
bad_lar:
    movl $msg_lar, %esi
    jmp fail
bad_verr:
    movl $msg_verr, %esi
    jmp fail
bad_arpl:
    movl $msg_arpl, %esi
    jmp fail
bad_sgdt:
    movl scratch + 2, %eax
    movl $msg_sgdt, %esi
    jmp fail
bad_tsc:
    movl $msg_tsc, %esi
    jmp fail

    .section .rodata
msg_nofault: .asciz "expected fault did not happen"
msg_accessed: .asciz "accessed bit"
msg_lar: .asciz "LAR/LSL flags"
msg_verr: .asciz "VERR/VERW"
msg_arpl: .asciz "ARPL flags"
msg_sgdt: .asciz "SGDT base"
msg_tsc: .asciz "TSC does not advance"
    .data
scratch: .fill 8, 1, 0
    .align 8
ldt_table: .fill 16, 1, 0
