/* x87.S: the FPU from a protected-mode kernel's point of view: lazy FPU switching through #NM
 * (CR0.TS, the handler does CLTS and returns to re-execute the instruction), an unmasked
 * exception delivered as #MF at the next waiting instruction with CR0.NE (the handler clears
 * it with FNCLEX and returns), exact results (sqrt(pi) to the last bit), FXSAVE/FXRSTOR
 * across a "task switch", and MMX with EMMS. */
#include "guest.h"

    .code32
    .text
    .globl test_main
test_main:
    movl $7, %eax
    movl $nm_handler, %ebx
    movl $ATTR_INTGATE0, %ecx
    call set_gate
    movl $16, %eax
    movl $mf_handler, %ebx
    call set_gate

    /* CPUID says FPU, MMX and FXSR. */
    movl $1, %eax
    cpuid
    movl %edx, %eax
    andl $0x01800001, %eax
    CHECK_EQ %eax, 0x01800001, "CPUID.1:EDX lacks FPU/MMX/FXSR"

    /* Lazy switching: TS set, the first FPU instruction faults, the handler clears TS and the
     * instruction runs again. */
    movl %cr0, %eax
    orl $0x0000000A, %eax       /* MP | TS */
    andl $~0x00000004, %eax     /* EM off */
    movl %eax, %cr0
    fninit                      /* #NM: it is an x87 instruction too */
    CHECK_EQ nm_count, 1, "#NM for FNINIT with CR0.TS"
    fldpi
    fsqrt
    fstpt result
    CHECK_EQ nm_count, 1, "only one #NM after CLTS"
    CHECK_EQ result, 0xa77b553d, "sqrt(pi) low dword"
    CHECK_EQ result+4, 0xe2dfc48d, "sqrt(pi) high dword"
    movzwl result+8, %eax
    CHECK_EQ %eax, 0x3fff, "sqrt(pi) exponent"

    /* WAIT with MP and TS also gives #NM. */
    movl %cr0, %eax
    orl $0x8, %eax
    movl %eax, %cr0
    fwait
    CHECK_EQ nm_count, 2, "#NM for FWAIT with MP and TS"

    /* #MF: CR0.NE, zero-divide unmasked, the next waiting instruction faults. */
    movl %cr0, %eax
    orl $0x20, %eax
    movl %eax, %cr0
    fninit
    fldcw cw_ze_unmasked
    fld1
    fldz
    fdivrp                      /* ST(1) = ST(1) / ST(0) = 1 / 0: #Z pending */
    CHECK_EQ mf_count, 0, "#MF before a waiting instruction"
    fwait
    CHECK_EQ mf_count, 1, "#MF at FWAIT"
    movzwl mf_status, %eax
    andl $0x0084, %eax
    CHECK_EQ %eax, 0x0084, "FSW in the #MF handler shows ZE and ES"
    fstp %st(0)                 /* the destination kept its 1.0 */
    fld1
    fcompp
    fnstsw %ax
    andl $0x4500, %eax
    CHECK_EQ %eax, 0x4000, "1.0 unchanged by the unmasked divide"

    /* FXSAVE / FXRSTOR round trip. */
    fninit
    fldl2e
    fldln2
    fxsave fxarea
    fninit
    fld1
    fxrstor fxarea
    fmulp                       /* log2(e) * ln(2) */
    fld1
    fsubrp
    fabs
    fldl eps
    fcompp
    fnstsw %ax
    andl $0x4500, %eax
    CHECK_EQ %eax, 0x0000, "log2(e) * ln(2) within 1e-18 of 1 after FXRSTOR"

    /* MMX: saturating add, EMMS. */
    movq mmx_a, %mm0
    paddusb mmx_b, %mm0
    movq %mm0, mmx_r
    emms
    CHECK_EQ mmx_r, 0xFFFF0302, "PADDUSB low"
    CHECK_EQ mmx_r+4, 0x80FF7F10, "PADDUSB high"
    fnstenv fxarea
    movzwl fxarea+8, %eax
    CHECK_EQ %eax, 0xFFFF, "EMMS empties the tag word"
    PUTS "x87: #NM, #MF, FXSAVE and MMX ok"
    ret

nm_handler:
    clts
    incl nm_count
    iret

mf_handler:
    fnstsw mf_status
    fnclex
    incl mf_count
    iret

    .data
    .align 16
fxarea: .fill 512, 1, 0
result: .fill 16, 1, 0
cw_ze_unmasked: .word 0x037B
eps: .double 1e-18
mmx_a: .byte 0x01, 0x02, 0xF0, 0x80, 0x08, 0x70, 0xFF, 0x40
mmx_b: .byte 0x01, 0x01, 0x20, 0x7F, 0x08, 0x0F, 0x01, 0x40
mmx_r: .quad 0
nm_count: .long 0
mf_count: .long 0
mf_status: .long 0
