/* The guest program of test_jit_tb.c's a_rotates_flags_seen_only_by_a_fault_are_exact_there
 * (flat 32-bit, loaded at 0x1000, ESP 0x9000). Rebuild its bytes with
 *   as --32 -o t.o jit_rotpend.s && objcopy -O binary -j .text t.o t.bin
 * Each rotate's CF and OF are replaced by the next flag update with only register ops and
 * loads between (the last one reading memory too): the JIT computes them only on the loads'
 * slow paths (IR_ROTPEND), which a page fault takes. ESI and EBP (their starts patched in by
 * the test, the immediates at bytes 6 and 11) walk 8 bytes a round towards page 7 (absent in
 * some runs): the fault comes at the MOV or the ADD after ROL, or at the MOVZX after ROR,
 * depending on where they start. */
    .code32
    .text
    .globl _start
_start:
    mov $200, %ecx
    mov $0x6E00, %esi
    mov $0x6000, %ebp
    mov $0x12345678, %eax
    mov $0x9E3779B9, %ebx
    xor %edx, %edx
top:
    add %ebx, %eax
    rol $5, %eax
    lea 1(%eax), %edi
    mov (%esi), %edx
    add 4(%esi), %edi
    xor %edi, %ebx
    sub %ecx, %eax
    ror $3, %ebx
    movzbl (%ebp), %edi
    cmpl $0x6000, (%esi)
    lea 8(%esi), %esi
    lea 8(%ebp), %ebp
    adc %edx, %eax
    dec %ecx
    jnz top
    hlt
