/* The guest program of test_jit_tb.c's a_block_follows_a_jcc_back_and_is_dropped_when_that_code_changes
 * (flat 32-bit, loaded at 0x1000). Rebuild its bytes with
 *   as --32 -o t.o jit_follow.s && objcopy -O binary -j .text t.o t.bin
 * The block at mid follows the JNZ back to top; at ECX = 300 the loop rewrites the ADD at top
 * into a SUB, which must drop that block. */
    .code32
    .text
    .globl _start
_start:
    mov $600, %ecx
    xor %eax, %eax
    xor %ebx, %ebx
    jmp mid
top:
    add %ecx, %eax
    test $3, %cl
    jnz mid
    xor %eax, %ebx
    cmp $300, %ecx
    jne mid
    movb $0x29, 0x1000 + (top - _start)
mid:
    inc %ebx
    dec %ecx
    jnz top
    hlt
