/* vga_bootsect.S: a boot floppy for system/vga-mode13-sdl: checks the VGA BIOS's INT 10h
 * services (modes, pixels, fonts, palette, VBE) and reports "OK name" / "FAIL name" through
 * teletype output (mirrored to COM1), then draws moving frames in mode 13h forever, writing
 * "F" to COM1 after every 16th frame. */
    .code16
    .text
    .globl _start
_start:
    ljmp $0, $1f
1:  xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7C00, %sp
    cld
    /* the rest of the program: sectors 2-8 of the floppy to 0x7E00 */
    movw $0x0207, %ax
    movw $0x7E00, %bx
    movw $0x0002, %cx
    xorb %dh, %dh
    int $0x13
    jnc main
    movw $msg_diskerr, %si
    call puts
    cli
    hlt

/* puts: DS:SI, NUL-terminated, teletype */
puts:
    pusha
1:  lodsb
    testb %al, %al
    jz 2f
    movb $0x0E, %ah
    movw $0x0007, %bx
    int $0x10
    jmp 1b
2:  popa
    ret

/* check: ZF set = pass; SI the name */
check:
    pushf
    pusha
    movw $msg_ok, %di
    jz 1f
    movw $msg_fail, %di
1:  xchgw %si, %di
    call puts
    movw %di, %si
    call puts
    movw $msg_crlf, %si
    call puts
    popa
    popf
    ret

msg_diskerr: .asciz "VGA-TEST disk error\r\n"
msg_ok:   .asciz "OK "
msg_fail: .asciz "FAIL "
msg_crlf: .asciz "\r\n"

    .org 510
    .byte 0x55, 0xAA

main:
    /* mode 3 as POST left it; 0Fh */
    movb $0x0F, %ah
    int $0x10
    cmpw $0x5003, %ax
    movw $n_getmode, %si
    call check
    /* 1A00h: VGA colour */
    movw $0x1A00, %ax
    int $0x10
    cmpb $0x1A, %al
    jne 1f
    cmpb $0x08, %bl
1:  movw $n_dcc, %si
    call check
    /* 1130h BH=6: the 8x16 font, 16 lines, 25 rows; its 'A' has pixels, ' ' none */
    pushw %es
    movw $0x1130, %ax
    movb $6, %bh
    int $0x10
    cmpw $16, %cx
    jne 2f
    cmpb $24, %dl
    jne 2f
    xorb %al, %al
    xorb %ah, %ah
    movw $16, %cx
    movw %bp, %di
    addw $32 * 16, %di
1:  orb %es:(%di), %ah
    orb %es:(65 - 32) * 16(%di), %al
    incw %di
    loop 1b
    testb %ah, %ah
    jnz 2f
    testb %al, %al
    jz 3f
    cmpb %al, %al
    jmp 2f
3:  cmpb $1, %al
2:  popw %es
    movw $n_font, %si
    call check
    /* 02h/03h cursor */
    movb $0x02, %ah
    xorb %bh, %bh
    movw $0x0A05, %dx
    int $0x10
    movb $0x03, %ah
    int $0x10
    cmpw $0x0A05, %dx
    movw $n_cursor, %si
    call check
    /* 09h then 08h at (10, 70); 06h scrolls it to (9, 70); nothing printed in between */
    movb $0x02, %ah
    xorb %bh, %bh
    movw $0x0A46, %dx
    int $0x10
    movw $0x0941, %ax
    movw $0x001E, %bx
    movw $1, %cx
    int $0x10
    movb $0x08, %ah
    int $0x10
    movw %ax, res_readc
    movw $0x0601, %ax
    movb $0x07, %bh
    xorw %cx, %cx
    movw $0x184F, %dx
    int $0x10
    movb $0x02, %ah
    xorb %bh, %bh
    movw $0x0946, %dx
    int $0x10
    movb $0x08, %ah
    int $0x10
    movw %ax, res_scroll
    movb $0x02, %ah
    movw $0x1200, %dx
    int $0x10
    cmpw $0x1E41, res_readc
    movw $n_readc, %si
    call check
    cmpw $0x1E41, res_scroll
    movw $n_scroll, %si
    call check
    /* 1010h/1015h DAC */
    movw $0x1010, %ax
    movw $0x00F0, %bx
    movw $0x1122, %cx
    movb $0x33, %dh
    int $0x10
    xorw %cx, %cx
    xorb %dh, %dh
    movw $0x1015, %ax
    movw $0x00F0, %bx
    int $0x10
    cmpw $0x1122, %cx
    jne 1f
    cmpb $0x33, %dh
1:  movw $n_dac, %si
    call check

    /* 1112h: the 8x8 font makes 50 rows (1130h reports them), and the CRTC follows */
    pushw %es
    pushw %bp
    movw $0x1112, %ax
    xorb %bl, %bl
    int $0x10
    movw $0x1130, %ax
    xorb %bh, %bh
    int $0x10
    popw %bp
    popw %es
    cmpb $49, %dl
    jne 1f
    cmpw $8, %cx
    jne 1f
    movw $0x3D4, %dx
    movb $0x09, %al
    outb %al, %dx
    incw %dx
    inb %dx, %al
    andb $0x1F, %al
    cmpb $7, %al
1:  movw $n_font8x8, %si
    call check

    /* text modes 1 (40 columns) and 7 (monochrome at B000): 0Fh, then a character written at
     * (3, 39) and read back, and found in the right place in video memory */
    movw $text_modes, %bx
30: movb (%bx), %al
    testb %al, %al
    jz 35f
    pushw %bx
    xorb %ah, %ah
    int $0x10
    movb $0x0F, %ah
    int $0x10
    popw %bx
    pushw %bx
    cmpb (%bx), %al
    jne 34f
    cmpb 1(%bx), %ah
    jne 34f
    movb $0x02, %ah
    xorb %bh, %bh
    movw $0x0327, %dx
    int $0x10
    movw $0x095A, %ax
    movw $0x0007, %bx
    movw $1, %cx
    int $0x10
    movb $0x08, %ah
    int $0x10
    cmpw $0x075A, %ax
    jne 34f
    popw %bx
    pushw %bx
    pushw %es
    movw 2(%bx), %es
    movw 4(%bx), %di
    cmpw $0x075A, %es:(%di)
    popw %es
34: popw %bx
    movw 6(%bx), %si
    call check
    addw $8, %bx
    jmp 30b
35: movw $0x0003, %ax
    int $0x10

    /* pixels in every graphics memory model */
    movw $gfx_modes, %bx
4:  movb (%bx), %al
    testb %al, %al
    jz 5f
    pushw %bx
    xorb %ah, %ah
    int $0x10
    movb $0x0F, %ah
    int $0x10
    popw %bx
    pushw %bx
    cmpb (%bx), %al
    jne 6f
    movb 1(%bx), %al
    movb $0x0C, %ah
    xorb %bh, %bh
    movw $101, %cx
    movw $57, %dx
    int $0x10
    movw $0x0D00, %ax
    int $0x10
    popw %bx
    pushw %bx
    cmpb 1(%bx), %al
    jne 6f
    /* the neighbour stayed background */
    movw $0x0D00, %ax
    movw $102, %cx
    movw $57, %dx
    int $0x10
    cmpb $0, %al
    jne 6f
    /* a character (colour 1..): pixels appear in its cell */
    movw $0x0948, %ax
    popw %bx
    pushw %bx
    movb 1(%bx), %bl
    xorb %bh, %bh
    movw $1, %cx
    int $0x10
    xorw %si, %si                    /* count lit pixels of cell (0, 0) */
    xorw %dx, %dx
7:  xorw %cx, %cx
8:  movw $0x0D00, %ax
    xorb %bh, %bh
    int $0x10
    testb %al, %al
    jz 9f
    incw %si
9:  incw %cx
    cmpw $8, %cx
    jb 8b
    incw %dx
    cmpw $8, %dx
    jb 7b
    movb $0x08, %ah                  /* 08h reads it back from the pixels */
    xorb %bh, %bh
    int $0x10
    cmpb $0x48, %al
    jne 6f
    cmpw $10, %si
    jb 6f
    cmpw $60, %si
    ja 6f
    cmpb %al, %al
6:  popw %bx
    movw 2(%bx), %si
    call check
    addw $4, %bx
    jmp 4b
5:
    /* teletype scrolling in graphics modes: rows + 1 lines of "X" leave an X in row 0 and an
     * empty last row */
    movw $scroll_modes, %bx
20: movb (%bx), %al
    testb %al, %al
    jz 25f
    pushw %bx
    xorb %ah, %ah
    int $0x10
    pushw %ds
    xorw %ax, %ax
    movw %ax, %ds
    movzbw 0x484, %cx
    popw %ds
    addw $2, %cx
21: movw $0x0E58, %ax
    movw $0x000F, %bx
    int $0x10
    movw $0x0E0D, %ax
    int $0x10
    movw $0x0E0A, %ax
    int $0x10
    loop 21b
    movb $0x02, %ah
    xorw %bx, %bx
    xorw %dx, %dx
    int $0x10
    movb $0x08, %ah
    int $0x10
    cmpb $0x58, %al
    jne 22f
    pushw %ds
    xorw %ax, %ax
    movw %ax, %ds
    movb 0x484, %dh
    popw %ds
    xorb %dl, %dl
    movb $0x02, %ah
    int $0x10
    movb $0x08, %ah
    int $0x10
    cmpb $0, %al
22: popw %bx
    movw 2(%bx), %si
    call check
    addw $4, %bx
    jmp 20b
25:
    /* VBE */
    movw $vbe_buf, %di
    movl $0x32454256, (%di)          /* "VBE2" */
    movw $0x4F00, %ax
    int $0x10
    cmpw $0x004F, %ax
    jne 1f
    cmpl $0x41534556, vbe_buf
    jne 1f
    cmpw $0x0300, vbe_buf + 4
1:  movw $n_vbeinfo, %si
    call check
    movw $0x4F01, %ax
    movw $0x0112, %cx
    movw $vbe_buf, %di
    int $0x10
    cmpw $0x004F, %ax
    jne 1f
    cmpw $640, vbe_buf + 18
    jne 1f
    cmpw $480, vbe_buf + 20
    jne 1f
    cmpb $24, vbe_buf + 25
    jne 1f
    cmpl $0, vbe_buf + 40
    je 2f
    cmpw %ax, %ax
    jmp 1f
2:  cmpw $1, %ax
1:  movw $n_vbemode, %si
    call check
    movw $0x4F02, %ax
    movw $0x4112, %bx
    int $0x10
    cmpw $0x004F, %ax
    jne 1f
    movw $0x4F03, %ax
    int $0x10
    cmpw $0x4112, %bx
1:  movw $n_vbeset, %si
    call check
    /* 4F06h: 640 pixels = 1920 bytes a line; 03h: the maximum is wider */
    movw $0x4F06, %ax
    movb $0x01, %bl
    int $0x10
    cmpw $0x004F, %ax
    jne 1f
    cmpw $1920, %bx
    jne 1f
    cmpw $640, %cx
    jne 1f
    movw $0x4F06, %ax
    movb $0x03, %bl
    int $0x10
    cmpw $640, %cx
    jbe 2f
    cmpw $0x004F, %ax
    jmp 1f
2:  cmpw $1, %ax
1:  movw $n_vbeline, %si
    call check
    /* banked access: window A at bank 1 reaches byte 64 KiB of the LFB */
    movw $0x4F05, %ax
    xorw %bx, %bx
    movw $1, %dx
    int $0x10
    pushw %es
    movw $0xA000, %ax
    movw %ax, %es
    movb $0x5A, %es:0x10
    movw $0x4F05, %ax
    movw $0x0100, %bx
    int $0x10
    cmpw $1, %dx
    jne 1f
    movw $0x4F05, %ax
    xorw %bx, %bx
    xorw %dx, %dx
    int $0x10
    cmpb $0x5A, %es:0x10
    je 2f
    movw $0x4F05, %ax
    xorw %bx, %bx
    movw $1, %dx
    int $0x10
    cmpb $0x5A, %es:0x10
    jmp 1f
2:  cmpb $0, %al                     /* bank 0 must not show it */
    cmpw $1, %ax
1:  popw %es
    movw $n_vbebank, %si
    call check

    /* mode 13h: a title through teletype, then frames forever */
    movw $0x0013, %ax
    int $0x10
    /* the default palette: 32 blue, 40 red, 20 grey 14 */
    movw $0x1015, %ax
    movw $32, %bx
    int $0x10
    cmpw $0x003F, %cx
    jne 1f
    cmpb $0, %dh
    jne 1f
    movw $0x1015, %ax
    movw $40, %bx
    int $0x10
    cmpw $0x0000, %cx
    jne 1f
    cmpb $63, %dh
    jne 1f
    movw $0x1015, %ax
    movw $20, %bx
    int $0x10
    cmpw $0x0E0E, %cx
    jne 1f
    cmpb $14, %dh
1:  movw $n_palette, %si
    call check
    movw $msg_title, %si
    call puts
    movw $msg_drawing, %si
    call puts
    movw $0xA000, %ax
    movw %ax, %es
    xorb %bl, %bl                    /* frame counter */
10: movw $16 * 320, %di
    xorw %dx, %dx                    /* y */
11: xorw %cx, %cx                    /* x */
12: movb %cl, %al
    addb %dl, %al
    addb %bl, %al
    stosb
    incw %cx
    cmpw $320, %cx
    jb 12b
    incw %dx
    cmpw $184, %dx
    jb 11b
    incb %bl
    testb $15, %bl                   /* every 16th frame: "F" straight to COM1 */
    jnz 10b
    movw $0x3F8, %dx
    movb $'F', %al
    outb %al, %dx
    jmp 10b

gfx_modes:
    .byte 0x04, 3
    .word n_mode04
    .byte 0x06, 1
    .word n_mode06
    .byte 0x0D, 9
    .word n_mode0d
    .byte 0x12, 14
    .word n_mode12
    .byte 0x13, 0x2A
    .word n_mode13
    .byte 0

text_modes:                          /* mode, columns, segment, offset of (3, 39), name */
    .byte 0x01, 40
    .word 0xB800, (3 * 40 + 39) * 2, n_text01
    .byte 0x07, 80
    .word 0xB000, (3 * 80 + 39) * 2, n_text07
    .byte 0

n_text01: .asciz "mode01-40x25"
n_text07: .asciz "mode07-mono"

scroll_modes:
    .byte 0x12, 0
    .word n_scroll12
    .byte 0x04, 0
    .word n_scroll04
    .byte 0x13, 0
    .word n_scroll13
    .byte 0

n_scroll12: .asciz "mode12-tty-scroll"
n_scroll04: .asciz "mode04-tty-scroll"
n_scroll13: .asciz "mode13-tty-scroll"
n_getmode: .asciz "getmode"
n_dcc:     .asciz "dcc"
n_font:    .asciz "font8x16"
n_cursor:  .asciz "cursor"
n_readc:   .asciz "readchar"
n_scroll:  .asciz "scroll"
n_dac:     .asciz "dac"
n_mode04:  .asciz "mode04-pixel-char"
n_mode06:  .asciz "mode06-pixel-char"
n_mode0d:  .asciz "mode0d-pixel-char"
n_mode12:  .asciz "mode12-pixel-char"
n_mode13:  .asciz "mode13-pixel-char"
n_vbeinfo: .asciz "vbe-info"
n_vbemode: .asciz "vbe-modeinfo"
n_vbeset:  .asciz "vbe-setmode"
n_vbebank: .asciz "vbe-bank"
n_palette: .asciz "mode13-default-palette"
n_font8x8: .asciz "font-1112h-50-rows"
n_vbeline: .asciz "vbe-scanline"
msg_title: .asciz "anyvm 13h\r\n"
msg_drawing: .asciz "VGA-TEST-DRAWING\r\n"

res_readc: .word 0
res_scroll: .word 0
    .balign 16
vbe_buf:
    .fill 512, 1, 0
    .org 512 * 8
