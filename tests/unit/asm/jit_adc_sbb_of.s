/* The guest program of test_jit_codegen.c's signed_conditions_after_adc_and_sbb_run_inline_and_match_the_interpreter
 * (real mode, loaded at 0x1000). Rebuild its bytes with
 *   as --32 -o t.o jit_adc_sbb_of.s && objcopy -O binary -j .text t.o t.bin */
.code16
    mov $250, %bp
    mov $0x1234, %si
    mov $0x9876, %di
    xor %bx, %bx
top:
    imul $0x3b, %si, %si
    add $0x4321, %si
    rol $5, %di
    xor %si, %di
    mov %si, %ax
    mov %di, %dx
    cmp %ax, %dx
    mov %si, %cx
    sbb %di, %cx
    jl 1f
    inc %bx
1:  cmp %dx, %ax
    mov %di, %cx
    sbb %si, %cx
    jge 2f
    add $3, %bx
2:  cmp %ax, %dx
    mov %si, %cx
    sbb %di, %cx
    jle 3f
    add $5, %bx
3:  stc
    mov %di, %cx
    sbb %si, %cx
    jg 4f
    add $7, %bx
4:  cmp %dx, %ax
    mov %si, %cx
    sbb %di, %cx
    jo 5f
    add $11, %bx
5:  cmp %ax, %dx
    mov %di, %cx
    sbb %si, %cx
    jno 6f
    add $13, %bx
6:  add %ax, %dx
    mov %si, %cx
    adc %di, %cx
    jo 7f
    add $17, %bx
7:  add %dx, %ax
    mov %di, %cx
    adc %si, %cx
    setl %cl
    add %cl, %bl
    add %dx, %ax
    mov %si, %cx
    adc %di, %cx
    setg %cl
    add %cl, %bh
    cmp %dl, %al
    mov %ah, %cl
    sbb %dh, %cl
    jl 8f
    add $19, %bx
8:  cmp %dl, %al
    mov %dh, %cl
    adc %ah, %cl
    jle 9f
    add $23, %bx
9:  mov %esi, %eax
    shl $13, %eax
    xor %edi, %eax
    mov %edi, %edx
    ror $7, %edx
    cmp %eax, %edx
    mov %esi, %ecx
    sbb %edx, %ecx
    cmovge %ecx, %ebx
    cmp %edx, %eax
    adc %eax, %ecx
    jg 10f
    add $29, %bx
10: cmp %ax, %ax
    mov %si, %cx
    sbb %si, %cx
    jg 12f
    add $31, %bx
12: dec %bp
    jnz top
    mov %bx, 0x2000
    jmp 11f
11: hlt
