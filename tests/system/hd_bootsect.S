/* hd_bootsect.S: the boot sector of the BIOS hard-disk test: prints through INT 10h, checks
 * INT 13h extensions (41h, 48h) and reads sectors 1..3 with 42h, then reports on the screen
 * (COM1 mirror) and leaves through isa-debug-exit (port 0xF4: 0x10 = success). */
    .code16
    .text
    .globl _start
_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7C00, %sp
    sti
    movb %dl, drive
    movw $m_hello, %si
    call print
    /* EDD installation check */
    movb $0x41, %ah
    movw $0x55AA, %bx
    movb drive, %dl
    int $0x13
    jc fail
    cmpw $0xAA55, %bx
    jne fail
    testb $1, %cl
    jz fail
    /* drive parameters: 64 sectors */
    movb $0x48, %ah
    movb drive, %dl
    movw $params, %si
    int $0x13
    jc fail
    cmpl $64, params + 16
    jne fail
    /* read sectors 1..3 to 0000:8000 */
    movb $0x42, %ah
    movb drive, %dl
    movw $dap, %si
    int $0x13
    jc fail
    cmpw $3, dap + 2
    jne fail
    /* each sector starts with "SECTOR" and its number */
    movw $0x8000, %di
    movb $1, %bl
1:  cmpl $0x54434553, (%di)      /* "SECT" */
    jne fail
    cmpb %bl, 6(%di)
    jne fail
    addw $512, %di
    incb %bl
    cmpb $4, %bl
    jb 1b
    /* a CHS read (02h) of sector 2 must match too */
    movw $0x0201, %ax
    movw $0x0003, %cx
    xorb %dh, %dh
    movb drive, %dl
    movw $0x9000, %bx
    int $0x13
    jc fail
    cmpb $2, 0x9006
    jne fail
    movw $m_ok, %si
    call print
    movb $0x10, %al
    outb %al, $0xF4
    jmp .
fail:
    movw $m_fail, %si
    call print
    movb $0x11, %al
    outb %al, $0xF4
    jmp .

print:
    lodsb
    testb %al, %al
    jz 2f
    movb $0x0E, %ah
    xorw %bx, %bx
    int $0x10
    jmp print
2:  ret

drive:  .byte 0
m_hello: .asciz "HD boot sector running\r\n"
m_ok:   .asciz "HDBOOT-OK\r\n"
m_fail: .asciz "HDBOOT-FAIL\r\n"
    .balign 4
dap:    .byte 16, 0
        .word 3, 0x8000, 0
        .long 1, 0
params: .word 30
        .fill 28, 1, 0
    .org 510
    .byte 0x55, 0xAA
