/* The guest program of test_jit_codegen.c's jcc_and_setcc_read_the_host_flags_their_alu_op_left
 * (real mode, loaded at 0x1000). Rebuild its bytes with
 *   as --32 -o t.o jit_fuse.s && objcopy -O binary -j .text t.o t.bin */
.code16
    mov $300, %bp
    mov $0x1234, %si
    mov $0x8765, %di
    xor %bx, %bx
    xor %cx, %cx
top:
    imul $13, %si, %si
    add $0x3b1, %si
    rol $3, %di
    xor %si, %di
    mov %si, %ax
    mov %di, %dx
    cmp %dx, %ax
    jb 1f
    inc %bx
1:  cmp %dl, %al
    jl 2f
    add $3, %bx
2:  cmp %dx, %ax
    setg %cl
    add %cl, %bl
    sub %dx, %ax
    jo 3f
    add $5, %bx
3:  add %dl, %al
    jc 4f
    add $7, %bx
4:  and %dx, %ax
    js 5f
    add $11, %bx
5:  test $0x81, %al
    jp 6f
    add $13, %bx
6:  or %si, %dx
    jz 7f
    add $17, %bx
7:  cmp %si, %dx
    sbb %ax, %ax
    add %ax, %bx
    cmp %di, %si
    inc %cx
    jbe 8f
    add $19, %bx
8:  mov %esi, %eax
    shl $7, %eax
    cmp %edx, %eax
    ja 9f
    add $23, %bx
9:  add %eax, %eax
    jc 10f
    add $29, %bx
10: cmp %al, 0x2002
    jne 11f
    add $31, %bx
11: mov %al, 0x2002
    sub $0x40, %al
    jle 12f
    add $37, %bx
12: cmp %ax, %ax
    jne 13f
    add $41, %bx
13: pushf
    pop %ax
    xor %ax, 0x2008
    dec %bp
    jnz top
    mov %bx, 0x2000
    mov %cx, 0x2004
    jmp 14f
14: hlt
