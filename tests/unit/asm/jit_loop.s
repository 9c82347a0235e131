/* The guest program of test_jit_tb.c's a_loop_inside_a_block_keeps_state_exact_at_every_budget
 * (flat 32-bit, loaded at 0x1000, ESP 0x9000). Rebuild its bytes with
 *   as --32 -o t.o jit_loop.s && objcopy -O binary -j .text t.o t.bin
 * The block at top ends with a JNZ back to its own start: a back edge inside the block. Its
 * ESP accesses form a page group; EBP walks bytes from 0x6F00 up into page 7 (absent in one
 * run: a page fault in the 65th round). It uses all eight registers, one more than the
 * register cache holds: ESI, written once, is the one the loop head does not keep. */
    .code32
    .text
    .globl _start
_start:
    mov $300, %ecx
    sub $16, %esp
    movl $7, (%esp)
    movl $1, 4(%esp)
    xor %eax, %eax
    xor %ebx, %ebx
    mov $0x6F00, %ebp
    jmp top
top:
    mov 4(%esp), %edx
    add %ecx, %edx
    mov %edx, 4(%esp)
    add %edx, %eax
    movzbl (%ebp), %edi
    add $4, %ebp
    xor %edi, %ebx
    lea (%esp,%ecx), %edi
    xor %edi, %eax
    lea 1(%ecx), %esi
    rol $3, %ebx
    addl %ebx, (%esp)
    dec %ecx
    jnz top
    mov (%esp), %edx
    hlt
