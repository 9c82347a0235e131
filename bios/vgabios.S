/* vgabios.S: anyvm's VGA BIOS: a 32 KiB option ROM at C000:0000 that owns INT 10h. */
/*
 * The system BIOS's POST finds it by its 55AAh signature and far-calls offset 3 (vga_init),
 * which hooks INT 10h, points INT 43h/1Fh at the 8x8 font and sets mode 3. Services: the
 * standard modes 0-7, 0Dh-13h (register tables below, after the IBM VGA's mode set), cursor,
 * pages, scroll, character and pixel I/O in every memory model (text, CGA 2 and 1 bpp, planar,
 * linear 8 bpp), teletype (also copied to COM1 so -nographic shows the console), palette (10h),
 * fonts (11h), alternate select (12h), write string (13h), display combination (1Ah), state
 * (1Bh) and VBE 3.0 (4Fh) on the Bochs DISPI registers with the linear framebuffer in the VGA's
 * PCI BAR0. The fonts come from bios/mkfont.py at build time; bios/mkrom.py pads the image to
 * 32 KiB and fixes the checksum. State lives in the BDA only (the ROM may be read-only).
 */
    .code16
    .text

#define COM1 0x3F8
#define DISPI_INDEX 0x1CE
#define DISPI_DATA 0x1CF

/* INT 10h frame: DS, ES, then PUSHA */
#define R_DI 0
#define R_SI 2
#define R_BP 4
#define R_BX 8
#define R_BL 8
#define R_BH 9
#define R_DX 10
#define R_DL 10
#define R_DH 11
#define R_CX 12
#define R_CL 12
#define R_CH 13
#define R_AX 14
#define R_AL 14
#define R_AH 15
#define R_ES 16

/* mode table entry */
#define M_NUM 0
#define M_CLASS 1
#define M_COLS 2
#define M_ROWS 3
#define M_CH 4
#define M_SEG 5
#define M_PAGESZ 7
#define M_DAC 9
#define M_MISC 10
#define M_SEQ 11
#define M_CRTC 15
#define M_ATTR 40
#define M_GC 60
#define M_SIZE 69

#define C_TEXT 0
#define C_CGA2 1
#define C_CGA1 2
#define C_PLANAR 3
#define C_LIN8 4

#define D_EGA 0
#define D_256 1
#define D_MONO 2

    .globl _start
_start:
    .byte 0x55, 0xAA, 64            /* 64 x 512 bytes */
    jmp vga_init
    .org 0x18
    .word pci_data                  /* PCI data structure, for firmware that loads the ROM
                                     * from the VGA's expansion ROM BAR (SeaBIOS) */
    .org 0x1E
    .ascii "IBM"                    /* some programs look for it here */
    .org 0x40
    .asciz "anyvm VGA BIOS"
    .balign 4
pci_data:                           /* PCI Firmware Specification 3.0, 5.1.2 */
    .ascii "PCIR"
    .word 0x1234, 0x1111            /* vendor, device: the Bochs-style VGA (devices/vga.c) */
    .word 0                         /* no vital product data */
    .word 0x18                      /* structure length */
    .byte 0                         /* structure revision */
    .byte 0x00, 0x00, 0x03          /* class code 030000h: VGA-compatible controller */
    .word 64                        /* image length, 512-byte units */
    .word 1                         /* code revision */
    .byte 0                         /* code type: x86 PC-AT */
    .byte 0x80                      /* last image */
    .word 0

/* ---------- initialisation (far call from POST) ---------- */
vga_init:
    pushw %ds
    pushw %es
    pushal
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw $int10, 0x40
    movw %cs, 0x42
    movw $font8x8, 0x10C             /* INT 43h: graphics characters */
    movw %cs, 0x10E
    movw $font8x8 + 128 * 8, 0x7C    /* INT 1Fh: upper half of the 8x8 set */
    movw %cs, 0x7E
    movb $0x60, 0x487
    movb $0xF9, 0x488
    movb $0x51, 0x489
    movb $0x08, 0x48A
    andb $0xCF, 0x410
    orb $0x20, 0x410                 /* equipment: 80x25 colour */
    movw $0x0003, %ax
    int $0x10
    popal
    popw %es
    popw %ds
    lret

/* ---------- INT 10h ---------- */
int10:
    sti
    cld
    pushw %ds
    pushw %es
    pusha
    movw %sp, %bp
    xorw %si, %si
    movw %si, %ds
    cmpb $0x4F, %ah
    je vbe
    cmpb $0x1B, %ah
    ja v_out
    movzbw %ah, %si
    shlw $1, %si
    jmp *%cs:v_table(%si)
v_out:
    popa
    popw %es
    popw %ds
    iret

v_table:
    .word v_setmode, v_cursize, v_setcur, v_getcur, v_out, v_page, v_scrollup, v_scrolldn
    .word v_readc, v_writeca, v_writec, v_cgapal, v_wpixel, v_rpixel, v_tty, v_getmode
    .word v_palette, v_font, v_alt, v_string, v_out, v_out, v_out, v_out
    .word v_out, v_out, v_dcc, v_state

/* find_mode: AL mode -> CS:SI entry, CF if unknown */
find_mode:
    movw $mode_table, %si
1:  cmpb $0xFF, %cs:M_NUM(%si)
    je 2f
    cmpb %al, %cs:M_NUM(%si)
    je 3f
    addw $M_SIZE, %si
    jmp 1b
2:  stc
    ret
3:  clc
    ret

/* cur_mode: CS:SI = entry of the current mode (mode 3's when the BDA holds another) */
cur_mode:
    pushw %ax
    movb 0x449, %al
    andb $0x7F, %al
    call find_mode
    jnc 1f
    movb $3, %al
    call find_mode
1:  popw %ax
    ret

/* crtc_port: DX = CRTC index port from the BDA */
crtc_port:
    movw 0x463, %dx
    testw %dx, %dx
    jnz 1f
    movw $0x3D4, %dx
1:  ret

/* ---- AH=00h set mode ---- */
v_setmode:
    movb %al, %bl
    andb $0x7F, %al
    call find_mode
    jc v_out
    /* a VBE mode is left */
    movw $DISPI_INDEX, %dx
    movw $4, %ax
    outw %ax, %dx
    incw %dx
    xorw %ax, %ax
    outw %ax, %dx
    call load_regs
    call load_dac
    /* BDA */
    movb %cs:M_NUM(%si), %al
    movb %al, 0x449
    movb %bl, %al
    andb $0x80, %al
    andb $0x7F, 0x487
    orb %al, 0x487                   /* bit 7: memory not cleared */
    movzbw %cs:M_COLS(%si), %ax
    movw %ax, 0x44A
    movw %cs:M_PAGESZ(%si), %ax
    movw %ax, 0x44C
    movw $0, 0x44E
    movw $0x3D4, 0x463
    testb $1, %cs:M_MISC(%si)
    jnz 2f
    movw $0x3B4, 0x463
2:  movb %cs:M_ROWS(%si), %al
    movb %al, 0x484
    movzbw %cs:M_CH(%si), %ax
    movw %ax, 0x485
    movb $0, 0x462
    xorw %ax, %ax
    movw $0x450, %di
    movw %ax, %es
    movw $8, %cx
    rep stosw
    movw $0x0607, 0x460
    movb $0x29, 0x465
    movb $0x30, 0x466
    andb $0xCF, 0x410
    orb $0x20, 0x410
    cmpb $7, %cs:M_NUM(%si)
    jne 3f
    orb $0x30, 0x410
    movw $0x0B0C, 0x460
3:  /* fonts */
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 4f
    pushw %bx
    movw $font8x16, %bp
    movw $256, %cx
    xorw %dx, %dx
    movw $0x1000, %bx                /* 16 bytes a character, block 0 */
    pushw %cs
    popw %es
    call load_font
    popw %bx
    movw 0x460, %cx
    call set_cursor_shape
    jmp 5f
4:  movw $font8x8, %ax
    cmpb $14, %cs:M_CH(%si)
    jne 41f
    movw $font8x14, %ax
41: cmpb $16, %cs:M_CH(%si)
    jne 42f
    movw $font8x16, %ax
42: movw %ax, 0x10C
    movw %cs, 0x10E
5:  /* clear */
    testb $0x80, %bl
    jnz 9f
    call clear_mem
9:  xorw %dx, %dx
    call hw_cursor
    jmp v_out

/* load_regs: program misc, sequencer, CRTC, attribute and graphics registers from CS:SI */
load_regs:
    pusha
    movw $0x3C4, %dx
    movw $0x0100, %ax                /* synchronous reset */
    outw %ax, %dx
    movb %cs:M_MISC(%si), %al
    movw $0x3C2, %dx
    outb %al, %dx
    movw $0x3C4, %dx
    movb $1, %ah
1:  movb %ah, %al
    outb %al, %dx
    incw %dx
    movzbw %ah, %bx
    movb %cs:M_SEQ - 1(%bx, %si), %al
    outb %al, %dx
    decw %dx
    incb %ah
    cmpb $5, %ah
    jb 1b
    movw $0x0300, %ax
    outw %ax, %dx
    movw $0x3D4, %dx
    testb $1, %cs:M_MISC(%si)
    jnz 2f
    movw $0x3B4, %dx
2:  movw $0x0011, %ax                /* unlock CRTC 0-7 */
    outw %ax, %dx
    xorb %ah, %ah
3:  movb %ah, %al
    outb %al, %dx
    incw %dx
    movzbw %ah, %bx
    movb %cs:M_CRTC(%bx, %si), %al
    outb %al, %dx
    decw %dx
    incb %ah
    cmpb $25, %ah
    jb 3b
    addw $6, %dx                     /* input status 1: attribute flip-flop to index */
    inb %dx, %al
    movw $0x3C0, %dx
    xorb %ah, %ah
4:  movb %ah, %al
    outb %al, %dx
    movzbw %ah, %bx
    movb %cs:M_ATTR(%bx, %si), %al
    outb %al, %dx
    incb %ah
    cmpb $20, %ah
    jb 4b
    movb $0x14, %al
    outb %al, %dx
    xorb %al, %al
    outb %al, %dx
    movw $0x3CE, %dx
    xorb %ah, %ah
5:  movb %ah, %al
    outb %al, %dx
    incw %dx
    movzbw %ah, %bx
    movb %cs:M_GC(%bx, %si), %al
    outb %al, %dx
    decw %dx
    incb %ah
    cmpb $9, %ah
    jb 5b
    call video_on
    popa
    ret

/* video_on: attribute controller palette address source on (the screen shows) */
video_on:
    pushw %ax
    pushw %dx
    call crtc_port
    addw $6, %dx
    inb %dx, %al
    movw $0x3C0, %dx
    movb $0x20, %al
    outb %al, %dx
    popw %dx
    popw %ax
    ret

/* load_dac: the DAC for the mode at CS:SI (64 EGA colours, the 256-colour set, or mono) */
load_dac:
    pusha
    movw $0x3C6, %dx
    movb $0xFF, %al
    outb %al, %dx
    movw $0x3C8, %dx
    xorb %al, %al
    outb %al, %dx
    incw %dx
    movb %cs:M_DAC(%si), %ah
    cmpb $D_256, %ah
    je 5f
    xorw %bx, %bx
1:  cmpb $D_MONO, %ah
    jne 2f
    call mono_level
    outb %al, %dx
    outb %al, %dx
    outb %al, %dx
    jmp 3f
2:  movw $2, %cx                     /* red: bits 2 and 5 */
    call ega_level
    outb %al, %dx
    movw $1, %cx                     /* green: bits 1 and 4 */
    call ega_level
    outb %al, %dx
    xorw %cx, %cx                    /* blue: bits 0 and 3 */
    call ega_level
    outb %al, %dx
3:  incw %bx
    cmpw $64, %bx
    jb 1b
    xorb %al, %al                    /* the rest black */
    movw $192 * 3, %cx
4:  outb %al, %dx
    loop 4b
    popa
    ret
5:  /* 0-15 the 16 text colours, 16-31 grey, 32-247 nine hue wheels, 248-255 black */
    xorw %di, %di
6:  movb %cs:cga_to_ega(%di), %bl
    xorb %bh, %bh
    movw $2, %cx
    call ega_level
    outb %al, %dx
    movw $1, %cx
    call ega_level
    outb %al, %dx
    xorw %cx, %cx
    call ega_level
    outb %al, %dx
    incw %di
    cmpw $16, %di
    jb 6b
    xorw %di, %di
7:  movb %cs:grey_ramp(%di), %al
    outb %al, %dx
    outb %al, %dx
    outb %al, %dx
    incw %di
    cmpw $16, %di
    jb 7b
    movw $default_hues, %si          /* 32-247: the hue wheels */
    movw $216 * 3, %cx
8:  movb %cs:(%si), %al
    outb %al, %dx
    incw %si
    loop 8b
    xorb %al, %al
    movw $24, %cx
9:  outb %al, %dx
    loop 9b
    popa
    ret

/* ega_level: BL colour (rgbRGB), CL component bit -> AL 6-bit DAC level */
ega_level:
    xorb %al, %al
    btw %cx, %bx
    jnc 1f
    addb $0x2A, %al
1:  addb $3, %cl
    btw %cx, %bx
    jnc 2f
    addb $0x15, %al
2:  ret
/* mono_level: BL -> AL: bit 3 video, bit 4 intensity */
mono_level:
    xorb %al, %al
    testb $0x08, %bl
    jz 1f
    movb $0x2A, %al
1:  testb $0x10, %bl
    jz 2f
    addb $0x15, %al
2:  ret

/* clear_mem: blank the whole video memory of the mode at CS:SI */
clear_mem:
    pusha
    pushw %es
    movw %cs:M_SEG(%si), %es
    xorw %di, %di
    movb %cs:M_CLASS(%si), %bl
    cmpb $C_TEXT, %bl
    jne 1f
    movw $0x0720, %ax
    movw $0x4000, %cx
    rep stosw
    jmp 9f
1:  movw $0x8000, %cx                /* A000: 64 KiB */
    cmpb $C_PLANAR, %bl
    jne 2f
    movw $0x3C4, %dx
    movw $0x0F02, %ax
    outw %ax, %dx
2:  cmpw $0xA000, %cs:M_SEG(%si)
    je 3f
    movw $0x4000, %cx                /* B800: 32 KiB (the ROM follows at C000) */
3:  xorw %ax, %ax
    rep stosw
9:  popw %es
    popa
    ret

/* load_font: ES:BP glyphs, CX count, DX first character, BL block, BH bytes a character:
 * into plane 2 (32-byte slots; block n at 16 KiB steps of 8 KiB blocks as the VGA maps them) */
load_font:
    pusha
    pushw %ds
    pushw %es
    pushw %dx
    movw $0x3C4, %dx
    movw $0x0100, %ax
    outw %ax, %dx
    movw $0x0402, %ax                /* plane 2 only */
    outw %ax, %dx
    movw $0x0704, %ax                /* sequential, extended memory */
    outw %ax, %dx
    movw $0x0300, %ax
    outw %ax, %dx
    movw $0x3CE, %dx
    movw $0x0204, %ax                /* read plane 2 */
    outw %ax, %dx
    movw $0x0005, %ax
    outw %ax, %dx
    movw $0x0406, %ax                /* A0000, 64 KiB, graphics */
    outw %ax, %dx
    popw %dx
    /* destination: block BL: (BL & 3) * 16 KiB + (BL >> 2) * 8 KiB, + DX * 32 */
    movb %bl, %al
    andb $3, %al
    shlb $1, %al
    movb %bl, %ah
    shrb $2, %ah
    andb $1, %ah
    orb %ah, %al                     /* AL = 8 KiB units */
    xorb %ah, %ah
    shlw $13, %ax
    movw %ax, %di
    shlw $5, %dx
    addw %dx, %di
    movw %es, %ax
    movw %ax, %ds
    movw %bp, %si
    movw $0xA000, %ax
    movw %ax, %es
    movzbw %bh, %dx
    cmpw $32, %dx
    jbe 1f
    movw $32, %dx
1:  jcxz 3f
2:  pushw %cx
    pushw %di
    movw %dx, %cx
    rep movsb
    movw $32, %cx
    subw %dx, %cx
    xorb %al, %al
    rep stosb
    popw %di
    popw %cx
    addw $32, %di
    loop 2b
3:  movw $0x3C4, %dx
    movw $0x0100, %ax
    outw %ax, %dx
    movw $0x0302, %ax
    outw %ax, %dx
    movw $0x0304, %ax
    outw %ax, %dx
    movw $0x0300, %ax
    outw %ax, %dx
    movw $0x3CE, %dx
    movw $0x0004, %ax
    outw %ax, %dx
    movw $0x1005, %ax
    outw %ax, %dx
    movw $0x0E06, %ax                /* B8000, odd/even */
    xorw %bx, %bx
    movw %bx, %ds
    cmpw $0x3B4, 0x463
    jne 4f
    movw $0x0A06, %ax                /* B0000 for mode 7 */
4:  outw %ax, %dx
    popw %es
    popw %ds
    popa
    ret

/* ---- AH=01h cursor shape ---- */
v_cursize:
    movw %cx, 0x460
    call set_cursor_shape
    jmp v_out

/* set_cursor_shape: CX (CGA-style scan lines, scaled to the character height) to the CRTC */
set_cursor_shape:
    pusha
    movb 0x485, %bl                  /* character height */
    cmpb $8, %bl
    jbe 1f
    cmpb $7, %ch
    ja 1f
    cmpb $7, %cl
    ja 1f
    subb $8, %bl
    testb %ch, %ch
    jz 2f
    addb %bl, %ch
2:  addb %bl, %cl
1:  call crtc_port
    movb $0x0A, %al
    movb %ch, %ah
    outw %ax, %dx
    movb $0x0B, %al
    movb %cl, %ah
    andb $0x1F, %ah
    outw %ax, %dx
    popa
    ret

/* ---- AH=02h/03h cursor position ---- */
v_setcur:
    movzbw %bh, %bx
    andb $7, %bl
    shlw $1, %bx
    movw %dx, 0x450(%bx)
    shrw $1, %bx
    cmpb 0x462, %bl
    jne v_out
    call hw_cursor
    jmp v_out
v_getcur:
    movzbw %bh, %bx
    andb $7, %bl
    shlw $1, %bx
    movw 0x450(%bx), %ax
    movw %ax, R_DX(%bp)
    movw 0x460, %ax
    movw %ax, R_CX(%bp)
    jmp v_out

/* hw_cursor: the CRTC cursor location from the active page's BDA position */
hw_cursor:
    pusha
    movzbw 0x462, %bx
    shlw $1, %bx
    movw 0x450(%bx), %dx
    movb %dh, %al
    mulb 0x44A
    xorb %dh, %dh
    addw %dx, %ax
    movw 0x44E, %bx
    shrw $1, %bx
    addw %ax, %bx
    call crtc_port
    movb $0x0E, %al
    movb %bh, %ah
    outw %ax, %dx
    movb $0x0F, %al
    movb %bl, %ah
    outw %ax, %dx
    popa
    ret

/* ---- AH=05h active page ---- */
v_page:
    call cur_mode
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne v_out
    andb $7, %al
    movb %al, 0x462
    xorb %ah, %ah
    mulw 0x44C
    movw %ax, 0x44E
    movw %ax, %bx
    shrw $1, %bx
    call crtc_port
    movb $0x0C, %al
    movb %bh, %ah
    outw %ax, %dx
    movb $0x0D, %al
    movb %bl, %ah
    outw %ax, %dx
    call hw_cursor
    jmp v_out

/* ---- AH=06h/07h scroll the active page ---- */
v_scrollup:
    xorb %ah, %ah
    call scroll
    jmp v_out
v_scrolldn:
    movb $1, %ah
    call scroll
    jmp v_out

/* scroll: AL lines (0 = clear), AH 0 up / 1 down, BH fill, window CH,CL..DH,DL */
scroll:
    pusha
    pushw %es
    call cur_mode
    movb 0x484, %bl                  /* clip to the screen */
    cmpb %bl, %dh
    jbe 1f
    movb %bl, %dh
1:  movb 0x44A, %bl
    decb %bl
    cmpb %bl, %dl
    jbe 2f
    movb %bl, %dl
2:  cmpb %dh, %ch
    ja 9f
    cmpb %dl, %cl
    ja 9f
    movb %dh, %bl
    subb %ch, %bl
    incb %bl                         /* BL = rows in the window */
    testb %al, %al
    jz 3f
    cmpb %bl, %al
    jbe 4f
3:  movb %bl, %al
4:  movb %dl, %bl
    subb %cl, %bl
    incb %bl                         /* BL = width */
    /* loop over destination rows: up from CH, down from DH */
    testb %ah, %ah
    jnz 6f
    movb %ch, %ah                    /* AH = destination row */
5:  cmpb %dh, %ah
    ja 9f
    pushw %ax
    addb %ah, %al                    /* AL = source row */
    jc 51f
    cmpb %dh, %al
    ja 51f
    call row_copy
    jmp 52f
51: call row_fill
52: popw %ax
    incb %ah
    jmp 5b
6:  movb %dh, %ah
7:  pushw %ax
    negb %al
    addb %ah, %al                    /* AL = AH - lines */
    jnc 71f                          /* borrow: above the screen */
    cmpb %ch, %al
    jb 71f
    call row_copy
    jmp 72f
71: call row_fill
72: popw %ax
    cmpb %ch, %ah
    je 9f
    decb %ah
    jmp 7b
9:  popw %es
    popa
    ret

/* row_copy: row AH := row AL, columns CL.. (BL wide); row_fill: row AH := BH blanks.
 * CS:SI = mode entry. Text uses the active page; graphics page 0. */
row_copy:
    pusha
    pushw %ds
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 5f
    pushw %ax
    call text_row_addr               /* row AL */
    movw %di, %dx
    popw %ax
    movb %ah, %al
    call text_row_addr
    movzbw %bl, %cx
    movw %es, %ax
    movw %ax, %ds
    movw %dx, %si
    rep movsw
    popw %ds
    popa
    ret
5:  /* graphics: every scan line of the character row */
    call gfx_setup_copy
    movzbw 0x485, %dx                /* scan lines a row */
    pushw %ax
    mulb %dl
    movw %ax, %bp                    /* BP = first source line */
    popw %ax
    movb %ah, %al
    mulb %dl
    movw %ax, %di                    /* DI = first destination line */
6:  pusha
    movw %bp, %ax
    call gfx_line_addr
    movw %ax, %bp
    movw %di, %ax
    call gfx_line_addr
    movw %ax, %di
    call gfx_col_bytes               /* CL column, BL width -> AX offset, CX bytes */
    addw %ax, %di
    addw %ax, %bp
    pushw %ds
    movw %es, %ax
    movw %ax, %ds
    movw %bp, %si
    rep movsb
    popw %ds
    popa
    incw %di
    incw %bp
    decw %dx
    jnz 6b
    call gfx_end
    popw %ds
    popa
    ret

row_fill:
    pusha
    pushw %ds
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 5f
    movb %ah, %al
    call text_row_addr
    movzbw %bl, %cx
    movb %bh, %ah
    movb $0x20, %al
    rep stosw
    popw %ds
    popa
    ret
5:  call gfx_setup_fill              /* BH colour */
    movzbw 0x485, %dx
    movb %ah, %al
    mulb %dl
    movw %ax, %di                    /* first line */
6:  pushw %di
    pushw %cx
    pushw %bx
    movw %di, %ax
    call gfx_line_addr
    movw %ax, %di
    call gfx_col_bytes
    addw %ax, %di
    movb %bh, %al
    cmpb $C_PLANAR, %cs:M_CLASS(%si)
    jne 7f
    movb $0xFF, %al
7:  cmpb $C_LIN8, %cs:M_CLASS(%si)
    je 8f
    cmpb $C_PLANAR, %cs:M_CLASS(%si)
    je 8f
    xorb %al, %al                    /* CGA modes: background colour 0 */
8:  rep stosb
    popw %bx
    popw %cx
    popw %di
    incw %di
    decw %dx
    jnz 6b
    call gfx_end
    popw %ds
    popa
    ret

/* text_row_addr: AL row, CL column -> ES:DI in the active page (DS = 0) */
text_row_addr:
    pushw %ax
    pushw %dx
    movw %cs:M_SEG(%si), %es
    mulb 0x44A
    addb %cl, %al
    adcb $0, %ah
    shlw $1, %ax
    addw 0x44E, %ax
    movw %ax, %di
    popw %dx
    popw %ax
    ret

/* gfx_line_addr: AX scan line -> AX byte offset of its start (mode at CS:SI, DS = 0) */
gfx_line_addr:
    pushw %dx
    movb %cs:M_CLASS(%si), %dl
    cmpb $C_CGA2, %dl
    je 1f
    cmpb $C_CGA1, %dl
    je 1f
    cmpb $C_LIN8, %dl
    je 2f
    mulw 0x44A                       /* planar: a byte per 8 pixels = the columns */
    popw %dx
    ret
1:  shrw $1, %ax                     /* CGA: odd lines at +2000h */
    pushf
    movw $80, %dx
    mulw %dx
    popf
    jnc 3f
    addw $0x2000, %ax
3:  popw %dx
    ret
2:  movw $320, %dx
    mulw %dx
    popw %dx
    ret

/* gfx_col_bytes: CL column, BL width -> AX byte offset of the column, CX bytes */
gfx_col_bytes:
    pushw %dx
    movb %cs:M_CLASS(%si), %dl
    movb $1, %dh
    cmpb $C_CGA2, %dl
    jne 1f
    movb $2, %dh
1:  cmpb $C_LIN8, %dl
    jne 2f
    movb $8, %dh
2:  movb %cl, %al
    mulb %dh
    pushw %ax
    movb %bl, %al
    mulb %dh
    movw %ax, %cx
    popw %ax
    popw %dx
    ret

/* gfx_setup_copy / gfx_setup_fill (BH colour) / gfx_end: planar write modes; ES = segment */
gfx_setup_copy:
    pushw %ax
    pushw %dx
    movw %cs:M_SEG(%si), %es
    cmpb $C_PLANAR, %cs:M_CLASS(%si)
    jne 1f
    movw $0x3C4, %dx
    movw $0x0F02, %ax
    outw %ax, %dx
    movw $0x3CE, %dx
    movw $0x0105, %ax                /* write mode 1: latches */
    outw %ax, %dx
1:  popw %dx
    popw %ax
    ret
gfx_setup_fill:
    pushw %ax
    pushw %dx
    movw %cs:M_SEG(%si), %es
    cmpb $C_PLANAR, %cs:M_CLASS(%si)
    jne 1f
    movw $0x3C4, %dx
    movw $0x0F02, %ax
    outw %ax, %dx
    movw $0x3CE, %dx
    movw $0x0005, %ax
    outw %ax, %dx
    movb $0, %al
    movb %bh, %ah
    outw %ax, %dx                    /* set/reset = colour */
    movw $0x0F01, %ax
    outw %ax, %dx
    movw $0xFF08, %ax
    outw %ax, %dx
    movw $0x0003, %ax
    outw %ax, %dx
1:  popw %dx
    popw %ax
    ret
gfx_end:
    pushw %ax
    pushw %dx
    cmpb $C_PLANAR, %cs:M_CLASS(%si)
    jne 1f
    movw $0x3CE, %dx
    movw $0x0005, %ax
    outw %ax, %dx
    movw $0x0000, %ax
    outw %ax, %dx
    movw $0x0001, %ax
    outw %ax, %dx
    movw $0x0003, %ax
    outw %ax, %dx
    movw $0xFF08, %ax
    outw %ax, %dx
1:  popw %dx
    popw %ax
    ret

/* ---- AH=08h read character and attribute at the cursor of page BH ---- */
v_readc:
    call cur_mode
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 5f
    call page_cell
    movw %es:(%di), %ax
    movw %ax, R_AX(%bp)
    jmp v_out
5:  call gfx_readc
    movw %ax, R_AX(%bp)
    jmp v_out

/* page_cell: BH page -> ES:DI = text cell of its cursor (text modes; DS = 0) */
page_cell:
    pushw %ax
    pushw %bx
    pushw %dx
    movzbw %bh, %bx
    andb $7, %bl
    movw %bx, %ax
    mulw 0x44C
    movw %ax, %di
    shlw $1, %bx
    movw 0x450(%bx), %dx
    movb %dh, %al
    mulb 0x44A
    xorb %dh, %dh
    addw %dx, %ax
    shlw $1, %ax
    addw %ax, %di
    movw %cs:M_SEG(%si), %es
    popw %dx
    popw %bx
    popw %ax
    ret

/* ---- AH=09h/0Ah write character (and attribute) CX times at the cursor of page BH ---- */
v_writeca:
    call cur_mode
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 5f
    call page_cell
    movb %bl, %ah
    rep stosw
    jmp v_out
v_writec:
    call cur_mode
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 5f
    call page_cell
1:  testw %cx, %cx
    jz v_out
    stosb
    incw %di
    decw %cx
    jmp 1b
5:  movzbw 0x450, %dx                /* graphics: page 0's cursor; DL column */
    movb 0x451, %dh
1:  testw %cx, %cx
    jz v_out
    call gfx_char
    incb %dl
    cmpb 0x44A, %dl
    jae v_out
    decw %cx
    jmp 1b

/* gfx_char: AL character, BL colour (bit 7: XOR), DL column, DH row; mode at CS:SI */
gfx_char:
    pusha
    pushw %es
    pushw %ds
    /* font: DS:BP -> glyph */
    movzbw 0x485, %cx                /* height */
    movb %al, %ah
    movb %cl, %al
    mulb %ah                         /* AX = char * height */
    lesw 0x10C, %bp                  /* INT 43h vector: ES:BP font */
    addw %ax, %bp
    pushw %es
    popw %ds                         /* DS:BP glyph */
    pushw %dx
    movb %dh, %al
    mulb %cl
    movw %ax, %di                    /* DI = first scan line */
    popw %dx
    movw %cs:M_SEG(%si), %es
    movb %cs:M_CLASS(%si), %bh
1:  pushw %cx
    pushw %di
    pushw %dx
    movw %di, %ax
    pushw %ds
    xorw %cx, %cx
    movw %cx, %ds
    call gfx_line_addr
    popw %ds
    movw %ax, %di
    movb %ds:(%bp), %ch              /* glyph row */
    incw %bp
    movb %dl, %al
    xorb %ah, %ah
    cmpb $C_LIN8, %bh
    je 4f
    cmpb $C_CGA2, %bh
    je 3f
    addw %ax, %di                    /* planar / CGA1: a byte a column */
    cmpb $C_CGA1, %bh
    je 2f
    call planar_glyph_row
    jmp 8f
2:  movb %ch, %al                    /* CGA 1 bpp */
    testb $1, %bl
    jnz 21f
    xorb %al, %al
21: testb $0x80, %bl
    jz 22f
    xorb %es:(%di), %al
22: movb %al, %es:(%di)
    jmp 8f
3:  shlw $1, %ax                     /* CGA 2 bpp: two bytes a column */
    addw %ax, %di
    pushw %bx
    movb %bl, %dl
    andb $3, %dl
    xorw %ax, %ax
    movb $8, %bh
31: shlw $2, %ax
    shlb $1, %ch
    jnc 32f
    orb %dl, %al
32: decb %bh
    jnz 31b
    xchgb %al, %ah                   /* the left pixels in the first byte */
    testb $0x80, %bl
    jz 33f
    xorw %es:(%di), %ax
33: movw %ax, %es:(%di)
    popw %bx
    jmp 8f
4:  shlw $3, %ax                     /* 8 bpp: eight bytes a column */
    addw %ax, %di
    movw $8, %dx
41: xorb %al, %al
    shlb $1, %ch
    jnc 42f
    movb %bl, %al
    andb $0x7F, %al
42: testb $0x80, %bl
    jz 43f
    xorb %es:(%di), %al
43: stosb
    decw %dx
    jnz 41b
8:  popw %dx
    popw %di
    popw %cx
    incw %di
    decw %cx
    jnz 1b
    popw %ds
    popw %es
    popa
    ret

/* planar_glyph_row: CH glyph bits at ES:DI, BL colour (bit 7 XOR) */
planar_glyph_row:
    pusha
    movw $0x3CE, %dx
    movw $0x0F01, %ax                /* set/reset on every plane */
    outw %ax, %dx
    testb $0x80, %bl
    jnz 1f
    movw $0x0000, %ax                /* background: colour 0 where the glyph is clear */
    outw %ax, %dx
    movb $0x08, %al
    movb %ch, %ah
    notb %ah
    outw %ax, %dx
    movb %es:(%di), %al
    movb %al, %es:(%di)
    movw $0x0003, %ax
    jmp 2f
1:  movw $0x1803, %ax                /* XOR */
2:  outw %ax, %dx
    xorb %al, %al
    movb %bl, %ah
    andb $0x0F, %ah
    outw %ax, %dx
    movb $0x08, %al
    movb %ch, %ah
    outw %ax, %dx
    movb %es:(%di), %al
    movb %al, %es:(%di)
    movw $0x0001, %ax
    outw %ax, %dx
    movw $0x0003, %ax
    outw %ax, %dx
    movw $0x0000, %ax
    outw %ax, %dx
    movw $0xFF08, %ax
    outw %ax, %dx
    popa
    ret

/* gfx_readc: the character at page 0's cursor, matched against the INT 43h font: the cell's
 * pixels that are not colour 0 form the pattern -> AX (AH 0; AL 0 when nothing matches) */
gfx_readc:
    pushw %bx
    pushw %cx
    pushw %dx
    pushw %si
    pushw %di
    pushw %bp
    pushw %ds
    pushw %es
    subw $16, %sp
    movw %sp, %bp                    /* SS:BP: the pattern, a byte a line */
    movzbw 0x485, %cx
    cmpw $16, %cx
    jbe 1f
    movw $16, %cx
1:  movb 0x451, %al                  /* first scan line: row * height */
    mulb %cl
    movw %ax, %di
    movzbw 0x450, %dx                /* DX = column */
    movw %cs:M_SEG(%si), %es
    xorw %bx, %bx                    /* BX = line */
2:  pushw %cx
    pushw %di
    movw %di, %ax
    addw %bx, %ax
    call gfx_line_addr
    movw %ax, %di
    movb %cs:M_CLASS(%si), %ah
    movw %dx, %ax
    cmpb $C_LIN8, %cs:M_CLASS(%si)
    je 5f
    cmpb $C_CGA2, %cs:M_CLASS(%si)
    je 4f
    addw %ax, %di                    /* planar / CGA1: a byte a column */
    movb %es:(%di), %al
    cmpb $C_PLANAR, %cs:M_CLASS(%si)
    jne 8f
    pushw %dx                        /* planar: the planes ORed */
    movw $0x3CE, %dx
    xorb %ch, %ch
    movb $3, %ah
3:  movb $0x04, %al
    outw %ax, %dx
    orb %es:(%di), %ch
    decb %ah
    jns 3b
    movw $0x0004, %ax
    outw %ax, %dx
    movb %ch, %al
    popw %dx
    jmp 8f
4:  shlw $1, %ax                     /* CGA 2 bpp: a pixel is set when its 2 bits are */
    addw %ax, %di
    movw %es:(%di), %cx
    xchgb %cl, %ch
    xorb %al, %al
    pushw %dx
    movb $8, %dl
41: shlb $1, %al
    testw $0xC000, %cx
    jz 42f
    orb $1, %al
42: shlw $2, %cx
    decb %dl
    jnz 41b
    popw %dx
    jmp 8f
5:  shlw $3, %ax                     /* 8 bpp: eight bytes */
    addw %ax, %di
    xorb %al, %al
    movw $8, %cx
51: shlb $1, %al
    cmpb $0, %es:(%di)
    je 52f
    orb $1, %al
52: incw %di
    loop 51b
8:  pushw %bp
    addw %bx, %bp
    movb %al, (%bp)                  /* SS:BP + line */
    popw %bp
    popw %di
    popw %cx
    incw %bx
    cmpw %cx, %bx
    jb 2b
    /* compare with the font: CX lines a glyph */
    lesw 0x10C, %si                  /* ES:SI the font */
    xorw %ax, %ax                    /* AL = candidate */
6:  xorw %bx, %bx
61: movb %es:(%bx, %si), %dl
    pushw %bp
    addw %bx, %bp
    cmpb %dl, (%bp)
    popw %bp
    jne 62f
    incw %bx
    cmpw %cx, %bx
    jb 61b
    jmp 7f                           /* found */
62: addw %cx, %si
    incb %al
    jnz 6b
7:  xorb %ah, %ah
    addw $16, %sp
    popw %es
    popw %ds
    popw %bp
    popw %di
    popw %si
    popw %dx
    popw %cx
    popw %bx
    ret

/* ---- AH=0Bh CGA palette ---- */
v_cgapal:
    call crtc_port
    addw $6, %dx
    inb %dx, %al
    movw $0x3C0, %dx
    testb %bh, %bh
    jnz 2f
    movb $0x11, %al                  /* border */
    outb %al, %dx
    movb %bl, %al
    andb $0x0F, %al
    outb %al, %dx
    call cur_mode
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    je 9f
    xorb %al, %al                    /* background of the CGA graphics modes */
    outb %al, %dx
    movb %bl, %al
    andb $0x0F, %al
    outb %al, %dx
    jmp 9f
2:  movb $1, %ah                     /* palette 0: 2,4,6; 1: 3,5,7 */
    movb %bl, %cl
    andb $1, %cl
1:  movb %ah, %al
    outb %al, %dx
    movb %ah, %al
    shlb $1, %al
    orb %cl, %al
    orb $0x10, %al
    outb %al, %dx
    incb %ah
    cmpb $4, %ah
    jb 1b
9:  movb $0x20, %al
    outb %al, %dx
    jmp v_out

/* ---- AH=0Ch/0Dh pixels: AL colour, CX x, DX y ---- */
v_wpixel:
    call cur_mode
    call pixel_addr                  /* ES:DI, AH bit mask / shift in CL */
    jc v_out
    movb R_AL(%bp), %bl
    movb %cs:M_CLASS(%si), %bh
    cmpb $C_LIN8, %bh
    jne 2f
    testb $0x80, %bl
    jz 1f
    xorb %es:(%di), %bl
1:  movb %bl, %es:(%di)
    jmp v_out
2:  cmpb $C_PLANAR, %bh
    jne 3f
    movw $0x3CE, %dx
    movb $0x08, %al
    outw %ax, %dx
    xorb %al, %al
    movb %bl, %ah
    andb $0x0F, %ah
    outw %ax, %dx
    movw $0x0F01, %ax
    outw %ax, %dx
    movw $0x0003, %ax
    testb $0x80, %bl
    jz 21f
    movb $0x18, %ah
21: outw %ax, %dx
    movb %es:(%di), %al
    movb %al, %es:(%di)
    movw $0x0001, %ax
    outw %ax, %dx
    movw $0x0003, %ax
    outw %ax, %dx
    movw $0xFF08, %ax
    outw %ax, %dx
    jmp v_out
3:  /* CGA: AH value mask, CL shift */
    movb %bl, %al
    andb %ah, %al
    shlb %cl, %al
    testb $0x80, %bl
    jnz 31f
    shlb %cl, %ah
    notb %ah
    andb %es:(%di), %ah
    orb %ah, %al
    movb %al, %es:(%di)
    jmp v_out
31: xorb %al, %es:(%di)
    jmp v_out

v_rpixel:
    call cur_mode
    call pixel_addr
    jc v_out
    movb %cs:M_CLASS(%si), %bh
    cmpb $C_LIN8, %bh
    jne 2f
    movb %es:(%di), %al
    jmp 9f
2:  cmpb $C_PLANAR, %bh
    jne 3f
    movw $0x3CE, %dx
    movb %ah, %bl                    /* bit mask */
    xorb %bh, %bh                    /* colour */
    movb $3, %ah
1:  movb $0x04, %al
    outw %ax, %dx
    shlb $1, %bh
    testb %bl, %es:(%di)
    jz 11f
    orb $1, %bh
11: decb %ah
    jns 1b
    movw $0x0004, %ax
    outw %ax, %dx
    movb %bh, %al
    jmp 9f
3:  movb %es:(%di), %al
    shrb %cl, %al
    andb %ah, %al
9:  movb %al, R_AL(%bp)
    jmp v_out

/* pixel_addr: CX x, DX y -> ES:DI byte; planar: AH bit mask; CGA: CL shift, AH value mask.
 * CF when the point is off the screen. */
pixel_addr:
    pushw %bx
    movw %cs:M_SEG(%si), %es
    movb %cs:M_CLASS(%si), %bl
    cmpb $C_TEXT, %bl
    je 8f
    movw %dx, %ax
    pushw %cx
    pushw %dx
    call gfx_line_addr
    popw %dx
    popw %cx
    movw %ax, %di
    cmpb $C_LIN8, %bl
    jne 1f
    cmpw $320, %cx
    jae 8f
    addw %cx, %di
    jmp 9f
1:  cmpb $C_CGA2, %bl
    jne 2f
    movw %cx, %ax
    shrw $2, %ax
    addw %ax, %di
    notb %cl
    andb $3, %cl
    shlb $1, %cl
    movb $3, %ah
    jmp 9f
2:  movw %cx, %ax
    shrw $3, %ax
    addw %ax, %di
    notb %cl
    andb $7, %cl
    movb $1, %ah
    cmpb $C_CGA1, %bl
    je 9f
    shlb %cl, %ah                    /* planar: the bit mask */
9:  popw %bx
    clc
    ret
8:  popw %bx
    stc
    ret

/* ---- AH=0Eh teletype: AL character, BL colour in graphics modes ---- */
v_tty:
    call tty_char
    call hw_cursor
    jmp v_out

/* tty_char: AL with teletype semantics at the active page's cursor, also to COM1 (DS = 0) */
tty_char:
    pusha
    pushw %es
    call serial_out
    call cur_mode
    movzbw 0x462, %di
    shlw $1, %di
    movw 0x450(%di), %dx             /* DH row, DL column */
    cmpb $0x07, %al
    je 9f
    cmpb $0x08, %al
    jne 1f
    testb %dl, %dl
    jz 9f
    decb %dl
    jmp 8f
1:  cmpb $0x0D, %al
    jne 2f
    xorb %dl, %dl
    jmp 8f
2:  cmpb $0x0A, %al
    je 3f
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 21f
    pushw %di
    pushw %dx
    movb 0x462, %bh
    movw %dx, 0x450(%di)
    call page_cell
    stosb
    popw %dx
    popw %di
    jmp 22f
21: call gfx_char
22: incb %dl
    cmpb 0x44A, %dl
    jb 8f
    xorb %dl, %dl
3:  incb %dh
    cmpb 0x484, %dh
    jbe 8f
    movb 0x484, %dh
    pusha
    xorb %bh, %bh                    /* graphics: background 0 */
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 4f
    /* text: the attribute under the cursor */
    movb 0x462, %bh
    movw %dx, 0x450(%di)
    call page_cell
    movb %es:1(%di), %bh
4:  movw $0x0001, %ax
    xorw %cx, %cx
    movb 0x484, %dh
    movb 0x44A, %dl
    decb %dl
    call scroll
    popa
8:  movw %dx, 0x450(%di)
9:  popw %es
    popa
    ret

/* serial_out: AL to COM1 (bounded wait for the transmitter) */
serial_out:
    pushw %dx
    pushw %cx
    pushw %ax
    movw $COM1 + 5, %dx
    movw $0xFFFF, %cx
1:  inb %dx, %al
    testb $0x20, %al
    loopz 1b
    popw %ax
    movw $COM1, %dx
    outb %al, %dx
    popw %cx
    popw %dx
    ret

/* ---- AH=0Fh current mode ---- */
v_getmode:
    movb 0x449, %al
    movb 0x487, %ah
    andb $0x80, %ah
    orb %ah, %al
    movb 0x44A, %ah
    movw %ax, R_AX(%bp)
    movb 0x462, %al
    movb %al, R_BH(%bp)
    jmp v_out

/* ---- AH=10h palette registers and DAC ---- */
v_palette:
    cmpb $0x00, %al
    je p_set1
    cmpb $0x01, %al
    je p_overscan
    cmpb $0x02, %al
    je p_setall
    cmpb $0x03, %al
    je p_blink
    cmpb $0x07, %al
    je p_get1
    cmpb $0x08, %al
    je p_getover
    cmpb $0x09, %al
    je p_getall
    cmpb $0x10, %al
    je p_dac1
    cmpb $0x12, %al
    je p_dacblock
    cmpb $0x13, %al
    je p_page
    cmpb $0x15, %al
    je p_getdac1
    cmpb $0x17, %al
    je p_getblock
    cmpb $0x18, %al
    je p_setmask
    cmpb $0x19, %al
    je p_getmask
    cmpb $0x1A, %al
    je p_getpage
    cmpb $0x1B, %al
    je p_grey
    jmp v_out
/* attr_write: AL index, AH value; attr_read: AL index -> AH */
attr_write:
    pushw %dx
    pushw %ax
    call crtc_port
    addw $6, %dx
    inb %dx, %al
    popw %ax
    movw $0x3C0, %dx
    outb %al, %dx
    xchgb %al, %ah
    outb %al, %dx
    xchgb %al, %ah
    pushw %ax
    movb $0x20, %al
    outb %al, %dx
    popw %ax
    popw %dx
    ret
attr_read:
    pushw %dx
    pushw %ax
    call crtc_port
    addw $6, %dx
    inb %dx, %al
    popw %ax
    movw $0x3C0, %dx
    outb %al, %dx
    incw %dx
    xchgb %al, %ah
    inb %dx, %al
    xchgb %al, %ah
    decw %dx
    pushw %ax
    movb $0x20, %al
    outb %al, %dx
    popw %ax
    popw %dx
    ret
p_set1:
    cmpb $0x14, %bl
    ja v_out
    movb %bl, %al
    movb %bh, %ah
    call attr_write
    jmp v_out
p_overscan:
    movb $0x11, %al
    movb %bh, %ah
    call attr_write
    jmp v_out
p_setall:                            /* ES:DX: 16 palette registers and the border */
    movw R_DX(%bp), %di
    xorb %al, %al
1:  movb %es:(%di), %ah
    call attr_write
    incw %di
    incb %al
    cmpb $16, %al
    jb 1b
    movb $0x11, %al
    movb %es:(%di), %ah
    call attr_write
    jmp v_out
p_blink:
    movb $0x10, %al
    call attr_read
    andb $0xF7, %ah
    testb %bl, %bl
    jz 1f
    orb $0x08, %ah
1:  call attr_write
    jmp v_out
p_get1:
    movb %bl, %al
    call attr_read
    movb %ah, R_BH(%bp)
    jmp v_out
p_getover:
    movb $0x11, %al
    call attr_read
    movb %ah, R_BH(%bp)
    jmp v_out
p_getall:
    movw R_DX(%bp), %di
    xorb %al, %al
1:  call attr_read
    movb %ah, %es:(%di)
    incw %di
    incb %al
    cmpb $16, %al
    jb 1b
    movb $0x11, %al
    call attr_read
    movb %ah, %es:(%di)
    jmp v_out
p_dac1:
    movw $0x3C8, %dx
    movb %bl, %al
    outb %al, %dx
    incw %dx
    movb %dh, %al
    movb R_DH(%bp), %al
    outb %al, %dx
    movb %ch, %al
    outb %al, %dx
    movb %cl, %al
    outb %al, %dx
    jmp v_out
p_dacblock:                          /* BX first, CX count, ES:DX table */
    movw R_DX(%bp), %si
    movw $0x3C8, %dx
    movb %bl, %al
    outb %al, %dx
    incw %dx
    movw %cx, %ax
    shlw $1, %cx
    addw %ax, %cx
    testw %cx, %cx
    jz v_out
1:  movb %es:(%si), %al
    outb %al, %dx
    incw %si
    loop 1b
    jmp v_out
p_page:                              /* BL 0: BH mode bit; BL 1: BH page */
    testb %bl, %bl
    jnz 1f
    movb $0x10, %al
    call attr_read
    andb $0x7F, %ah
    testb %bh, %bh
    jz 2f
    orb $0x80, %ah
2:  call attr_write
    jmp v_out
1:  movb $0x14, %al
    movb %bh, %ah
    call attr_write
    jmp v_out
p_getdac1:
    movw $0x3C7, %dx
    movb %bl, %al
    outb %al, %dx
    addw $2, %dx
    inb %dx, %al
    movb %al, R_DH(%bp)
    inb %dx, %al
    movb %al, R_CH(%bp)
    inb %dx, %al
    movb %al, R_CL(%bp)
    jmp v_out
p_getblock:
    movw R_DX(%bp), %di
    movw $0x3C7, %dx
    movb %bl, %al
    outb %al, %dx
    addw $2, %dx
    movw %cx, %ax
    shlw $1, %cx
    addw %ax, %cx
    testw %cx, %cx
    jz v_out
1:  inb %dx, %al
    stosb
    loop 1b
    jmp v_out
p_setmask:
    movw $0x3C6, %dx
    movb %bl, %al
    outb %al, %dx
    jmp v_out
p_getmask:
    movw $0x3C6, %dx
    inb %dx, %al
    movb %al, R_BL(%bp)
    jmp v_out
p_getpage:
    movb $0x10, %al
    call attr_read
    shrb $7, %ah
    movb %ah, R_BL(%bp)
    movb $0x14, %al
    call attr_read
    movb %ah, R_BH(%bp)
    jmp v_out
p_grey:                              /* BX first, CX count: grey = (77R + 151G + 28B) / 256 */
    testw %cx, %cx
    jz v_out
1:  movw $0x3C7, %dx
    movb %bl, %al
    outb %al, %dx
    addw $2, %dx
    inb %dx, %al
    movb $77, %ah
    mulb %ah
    movw %ax, %si
    inb %dx, %al
    movb $151, %ah
    mulb %ah
    addw %ax, %si
    inb %dx, %al
    movb $28, %ah
    mulb %ah
    addw %si, %ax
    movb %ah, %al
    movw $0x3C8, %dx
    xchgb %al, %bl
    outb %al, %dx
    xchgb %al, %bl
    incw %dx
    outb %al, %dx
    outb %al, %dx
    outb %al, %dx
    incw %bx
    loop 1b
    jmp v_out

/* ---- AH=11h character generator ---- */
v_font:
    movb %al, %ah
    andb $0x0F, %ah
    cmpb $0x30, %al
    je f_info
    cmpb $0x20, %al
    jae f_gfx
    cmpb $0x03, %ah
    je f_block
    cmpb $0x00, %ah
    je f_user
    pushw %cs
    popw %es
    movw $font8x14, %bp
    movb $14, %bh
    cmpb $0x01, %ah
    je f_rom
    movw $font8x8, %bp
    movb $8, %bh
    cmpb $0x02, %ah
    je f_rom
    movw $font8x16, %bp
    movb $16, %bh
    cmpb $0x04, %ah
    je f_rom
    jmp v_out
f_rom:
    movw $256, %cx
    xorw %dx, %dx
f_user:                              /* ES:BP, CX count, DX first, BL block, BH height */
    call load_font
    testb $0x10, %al
    jz v_out
    /* 1xh: the text rows follow the new height */
    movzbw %bh, %ax
    testw %ax, %ax
    jz v_out
    movw %ax, 0x485
    pushw %ax
    call crtc_port
    movb $0x09, %al
    outb %al, %dx
    incw %dx
    inb %dx, %al
    andb $0xE0, %al
    popw %cx
    pushw %cx
    decb %cl
    orb %cl, %al
    outb %al, %dx
    decw %dx
    popw %cx
    movw $400, %ax                   /* the rows of a 400-line screen */
    xorw %dx, %dx
    divw %cx
    decb %al
    movb %al, 0x484
    incb %al
    mulb 0x44A
    shlw $1, %ax
    addw $0x00FF, %ax
    xorb %al, %al
    movw %ax, 0x44C
    movw 0x460, %cx
    call set_cursor_shape
    jmp v_out
f_block:
    movw $0x3C4, %dx
    movb $0x03, %al
    movb %bl, %ah
    outw %ax, %dx
    jmp v_out
f_gfx:
    cmpb $0x20, %al
    jne 1f
    movw %bp, 0x7C                   /* INT 1Fh */
    movw %es, 0x7E
    jmp v_out
1:  movw $8, %cx
    pushw %cs
    popw %es
    cmpb $0x21, %al
    jne 2f
    movw R_ES(%bp), %es
    movw R_BP(%bp), %si
    movw R_CX(%bp), %cx
    jmp 5f
2:  movw $font8x14, %si
    movw $14, %cx
    cmpb $0x22, %al
    je 5f
    movw $font8x8, %si
    movw $8, %cx
    cmpb $0x23, %al
    je 5f
    movw $font8x16, %si
    movw $16, %cx
    cmpb $0x24, %al
    jne v_out
5:  movw %si, 0x10C                  /* INT 43h */
    movw %es, 0x10E
    movw %cx, 0x485
    jmp v_out
f_info:                              /* BH which -> ES:BP, CX height, DL rows - 1 */
    pushw %cs
    popw %es
    movw $font8x8 + 128 * 8, %si
    cmpb $0x00, %bh
    jne 1f
    lesw 0x7C, %si
1:  cmpb $0x01, %bh
    jne 2f
    lesw 0x10C, %si
2:  cmpb $0x02, %bh
    jne 3f
    movw $font8x14, %si
3:  cmpb $0x03, %bh
    jne 4f
    movw $font8x8, %si
4:  cmpb $0x05, %bh
    jne 5f
    movw $font8x14, %si
5:  cmpb $0x06, %bh
    jb 6f
    movw $font8x16, %si
6:  movw %es, R_ES(%bp)
    movw %si, R_BP(%bp)
    movw 0x485, %ax
    movw %ax, R_CX(%bp)
    movb 0x484, %al
    movb %al, R_DL(%bp)
    jmp v_out

/* ---- AH=12h alternate select ---- */
v_alt:
    cmpb $0x10, %bl
    jne 1f
    movw $0x0003, R_BX(%bp)          /* colour, 256 KiB */
    movw $0x0009, R_CX(%bp)
    jmp v_out
1:  cmpb $0x30, %bl                  /* 30h-36h: accepted */
    jb v_out
    cmpb $0x36, %bl
    ja v_out
    movb $0x12, R_AL(%bp)
    jne v_out
    movb %al, %ah                    /* 36h: AL 0 screen on, 1 off (clocking mode bit 5) */
    movw $0x3C4, %dx
    movb $0x01, %al
    outb %al, %dx
    incw %dx
    inb %dx, %al
    andb $0xDF, %al
    testb $1, %ah
    jz 2f
    orb $0x20, %al
2:  outb %al, %dx
    jmp v_out

/* ---- AH=13h write string: ES:BP, CX length, DX position, BH page, BL attribute;
 * AL bit 0: move the cursor, bit 1: the string alternates characters and attributes ---- */
v_string:
    movzbw %bh, %di
    andw $7, %di
    shlw $1, %di
    pushw 0x450(%di)
    movw %dx, 0x450(%di)
    movb 0x462, %ah
    pushw %ax
    movb %bh, 0x462
    movw %bp, %si
1:  jcxz 2f
    movb %es:(%si), %al
    incw %si
    testb $2, R_AL(%bp)
    jz 11f
    movb %es:(%si), %bl
    incw %si
11: pushw %es
    pushw %si
    pushw %di
    cmpb $0x20, %al
    jb 12f
    /* printable: write with the attribute, then advance */
    pushw %cx
    pushw %bx
    pushw %ax
    call cur_mode
    cmpb $C_TEXT, %cs:M_CLASS(%si)
    jne 13f
    movb 0x462, %bh
    call page_cell
    movb %bl, %es:1(%di)
13: popw %ax
    popw %bx
    popw %cx
12: call tty_char
    popw %di
    popw %si
    popw %es
    decw %cx
    jmp 1b
2:  popw %ax
    movb %ah, 0x462
    popw %ax
    testb $1, R_AL(%bp)
    jnz 3f
    movw %ax, 0x450(%di)
3:  call hw_cursor
    jmp v_out

/* ---- AH=1Ah display combination ---- */
v_dcc:
    testb %al, %al
    jnz 1f
    movw $0x0008, R_BX(%bp)          /* VGA with colour display, no alternate */
1:  movb $0x1A, R_AL(%bp)
    jmp v_out

/* ---- AH=1Bh state information to ES:DI (64 bytes) ---- */
v_state:
    movw $functionality, %es:(%di)
    movw %cs, %es:2(%di)
    addw $4, %di
    movw $0x449, %si
    movw $30, %cx
    rep movsb                        /* 0449h-0466h */
    movb 0x484, %al
    incb %al
    stosb                            /* rows */
    movw 0x485, %ax
    stosw
    movw $0x0008, %ax
    stosw                            /* active / alternate display */
    call cur_mode
    movw $16, %ax
    cmpb $C_LIN8, %cs:M_CLASS(%si)
    jne 1f
    movw $256, %ax
1:  stosw                            /* colours */
    movb $8, %al
    stosb                            /* pages */
    movb $2, %al
    stosb                            /* 400 scan lines */
    xorb %al, %al
    movw $21, %cx
    rep stosb                        /* font blocks and the rest: zero */
    movb $0x1B, R_AL(%bp)
    jmp v_out

/* ---------- VBE ---------- */
#define VBE_OK movw $0x004F, R_AX(%bp); jmp v_out
#define VBE_FAIL movw $0x014F, R_AX(%bp); jmp v_out

vbe:
    cmpb $0x00, %al
    je vbe_info
    cmpb $0x01, %al
    je vbe_modeinfo
    cmpb $0x02, %al
    je vbe_setmode
    cmpb $0x03, %al
    je vbe_getmode
    cmpb $0x04, %al
    je vbe_state
    cmpb $0x05, %al
    je vbe_window
    cmpb $0x06, %al
    je vbe_scanline
    cmpb $0x07, %al
    je vbe_start
    cmpb $0x08, %al
    je vbe_dacfmt
    cmpb $0x09, %al
    je vbe_palette
    cmpb $0x0A, %al
    je vbe_pmi
    movw $0x0100, R_AX(%bp)
    jmp v_out

/* dispi_get: AL index -> AX; dispi_set: AL index, BX value */
dispi_get:
    pushw %dx
    movw $DISPI_INDEX, %dx
    xorb %ah, %ah
    outw %ax, %dx
    incw %dx
    inw %dx, %ax
    popw %dx
    ret
dispi_set:
    pushw %dx
    pushw %ax
    movw $DISPI_INDEX, %dx
    xorb %ah, %ah
    outw %ax, %dx
    incw %dx
    movw %bx, %ax
    outw %ax, %dx
    popw %ax
    popw %dx
    ret

/* vbe_find: CX mode number (bits 0-8) -> CS:SI entry (mode, x, y, bpp), CF if unknown */
vbe_find:
    pushw %cx
    andw $0x1FF, %cx
    movw $vbe_modes, %si
1:  cmpw $0xFFFF, %cs:(%si)
    je 2f
    cmpw %cx, %cs:(%si)
    je 3f
    addw $8, %si
    jmp 1b
2:  popw %cx
    stc
    ret
3:  popw %cx
    clc
    ret

/* vbe_current: the DISPI registers' mode -> CS:SI entry, CF if VBE is off or no entry fits */
vbe_current:
    pushw %ax
    pushw %bx
    pushw %cx
    movb $4, %al
    call dispi_get
    testb $1, %al
    jz 8f
    movb $1, %al
    call dispi_get
    movw %ax, %bx
    movb $2, %al
    call dispi_get
    movw %ax, %cx
    movb $3, %al
    call dispi_get
    movw $vbe_modes, %si
1:  cmpw $0xFFFF, %cs:(%si)
    je 8f
    cmpw %bx, %cs:2(%si)
    jne 2f
    cmpw %cx, %cs:4(%si)
    jne 2f
    cmpb %al, %cs:6(%si)
    je 9f
2:  addw $8, %si
    jmp 1b
8:  popw %cx
    popw %bx
    popw %ax
    stc
    ret
9:  popw %cx
    popw %bx
    popw %ax
    clc
    ret

/* bytes_pp: AL bits per pixel -> AX bytes per pixel */
bytes_pp:
    addb $7, %al
    shrb $3, %al
    xorb %ah, %ah
    ret

/* lfb_addr: EAX = the VGA's BAR0 (memory, type bits clear), 0 when not found */
lfb_addr:
    pushw %dx
    pushl %ecx
    movl $0x80000000, %ecx           /* bus 0, device 0, function 0 */
1:  movl %ecx, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    inl %dx, %eax
    cmpl $0x11111234, %eax
    je 2f
    addl $0x800, %ecx
    cmpl $0x80010000, %ecx
    jb 1b
    xorl %eax, %eax
    jmp 3f
2:  leal 0x10(%ecx), %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    inl %dx, %eax
    andl $0xFFFFFFF0, %eax
3:  popl %ecx
    popw %dx
    ret

vbe_info:                            /* ES:DI: controller information */
    movl %es:(%di), %eax
    pushl %eax
    movl $0x41534556, %es:(%di)      /* "VESA" */
    movw $0x0300, %es:4(%di)
    movw $oem_string, %es:6(%di)
    movw %cs, %es:8(%di)
    movl $1, %es:10(%di)             /* DAC width switchable */
    movw $vbe_mode_list, %es:14(%di)
    movw %cs, %es:16(%di)
    movb $10, %al
    call dispi_get
    movw %ax, %es:18(%di)            /* 64 KiB blocks */
    popl %eax
    cmpl $0x32454256, %eax           /* "VBE2": the VBE 2.0+ fields */
    jne 1f
    movw $0x0001, %es:20(%di)
    movw $oem_vendor, %es:22(%di)
    movw %cs, %es:24(%di)
    movw $oem_product, %es:26(%di)
    movw %cs, %es:28(%di)
    movw $oem_rev, %es:30(%di)
    movw %cs, %es:32(%di)
1:  VBE_OK

vbe_modeinfo:                        /* CX mode -> ES:DI 256 bytes */
    call vbe_find
    jnc 1f
    VBE_FAIL
1:  pushw %di
    xorb %al, %al
    movw $256, %cx
    rep stosb
    popw %di
    movw $0x009B, %es:(%di)          /* supported, colour, graphics, LFB */
    movb $0x07, %es:2(%di)           /* window A: exists, readable, writable */
    movw $64, %es:4(%di)
    movw $64, %es:6(%di)
    movw $0xA000, %es:8(%di)
    movw $vbe_bank_far, %es:12(%di)
    movw %cs, %es:14(%di)
    movb %cs:6(%si), %al
    call bytes_pp
    mulw %cs:2(%si)                  /* AX = bytes per line */
    movw %ax, %es:16(%di)
    movw %ax, %es:50(%di)
    movw %ax, %bx
    movw %cs:2(%si), %ax
    movw %ax, %es:18(%di)
    movw %cs:4(%si), %ax
    movw %ax, %es:20(%di)
    movb $8, %es:22(%di)
    movb $16, %es:23(%di)
    movb $1, %es:24(%di)
    movb %cs:6(%si), %al
    movb %al, %es:25(%di)
    movb $1, %es:26(%di)
    movb $4, %es:27(%di)             /* packed pixel */
    cmpb $8, %al
    je 2f
    movb $6, %es:27(%di)             /* direct colour */
2:  /* image pages: 16 MiB / (pitch * height) - 1, at most 255 */
    movw %cs:4(%si), %ax
    mulw %bx                         /* DX:AX = bytes a page */
    movw %dx, %cx
    movw %ax, %bx
    movl $0x01000000, %eax
    pushl %edx
    xorl %edx, %edx
    shll $16, %ecx
    movw %bx, %cx
    divl %ecx
    popl %edx
    decl %eax
    cmpl $255, %eax
    jbe 3f
    movb $255, %al
3:  movb %al, %es:29(%di)
    movb %al, %es:52(%di)
    movb %al, %es:53(%di)
    movb $1, %es:30(%di)
    /* colour layout */
    movb %cs:6(%si), %al
    movw $vbe_layout15, %bx
    cmpb $15, %al
    je 4f
    movw $vbe_layout16, %bx
    cmpb $16, %al
    je 4f
    movw $vbe_layout24, %bx
    cmpb $24, %al
    je 4f
    movw $vbe_layout32, %bx
    cmpb $32, %al
    jne 5f
4:  movl %cs:(%bx), %eax
    movl %eax, %es:31(%di)
    movl %eax, %es:54(%di)
    movl %cs:4(%bx), %eax
    movl %eax, %es:35(%di)
    movl %eax, %es:58(%di)
5:  call lfb_addr
    movl %eax, %es:40(%di)
    movl $25000000 * 10, %es:62(%di) /* max pixel clock (any: the display is virtual) */
    VBE_OK

vbe_setmode:                         /* BX mode; bit 14 LFB, bit 15 keep memory */
    movw %bx, %cx
    andw $0x1FF, %cx
    cmpw $0x100, %cx
    jae 1f
    movb %bl, %al                    /* a VGA mode */
    andb $0x7F, %al
    testw $0x8000, %bx
    jz 0f
    orb $0x80, %al
0:  xorb %ah, %ah
    int $0x10
    VBE_OK
1:  call vbe_find
    jnc 2f
    VBE_FAIL
2:  movw %bx, %di                    /* flags */
    movb $4, %al
    xorw %bx, %bx
    call dispi_set
    /* the VGA side: graphics, chain-4 window at A0000 (banked access) */
    pushw %si
    movb $0x13, %al
    call find_mode
    call load_regs
    popw %si
    movb $3, %al
    movzbw %cs:6(%si), %bx
    call dispi_set
    movb $1, %al
    movw %cs:2(%si), %bx
    call dispi_set
    movb $2, %al
    movw %cs:4(%si), %bx
    call dispi_set
    movb $5, %al
    xorw %bx, %bx
    call dispi_set
    movw $0x0001, %bx
    testw $0x4000, %di
    jz 3f
    orw $0x0040, %bx
3:  testw $0x8000, %di
    jz 4f
    orw $0x0080, %bx
4:  movb $4, %al
    call dispi_set
    cmpb $8, %cs:6(%si)
    jne 5f
    pushw %si
    movb $0x13, %al
    call find_mode
    call load_dac
    popw %si
5:  movb $0x62, 0x449                /* not a VGA mode */
    VBE_OK

vbe_getmode:
    call vbe_current
    jc 1f
    movw %cs:(%si), %bx
    movb $4, %al
    call dispi_get
    testb $0x40, %al
    jz 2f
    orw $0x4000, %bx
2:  movw %bx, R_BX(%bp)
    VBE_OK
1:  movzbw 0x449, %bx
    movw %bx, R_BX(%bp)
    VBE_OK

vbe_state:                           /* DL 0 size, 1 save, 2 restore; CX bit 3 DISPI state */
    cmpb $0, %dl
    jne 1f
    movw $1, R_BX(%bp)               /* one 64-byte block */
    VBE_OK
1:  movw %bx, %di
    cmpb $1, %dl
    jne 3f
    movb $1, %al                     /* save registers 1-9 */
2:  pushw %ax
    call dispi_get
    stosw
    popw %ax
    incb %al
    cmpb $10, %al
    jb 2b
    VBE_OK
3:  cmpb $2, %dl
    jne 6f
    movb $4, %al
    xorw %bx, %bx
    call dispi_set
#define RESTORE(i, off) movb $i, %al; movw %es:off(%di), %bx; call dispi_set
    RESTORE(1, 0)
    RESTORE(2, 2)
    RESTORE(3, 4)
    movb $4, %al
    movw %es:6(%di), %bx
    orw $0x0080, %bx                 /* keep the picture */
    call dispi_set
    RESTORE(5, 8)
    RESTORE(6, 10)
    RESTORE(8, 14)
    RESTORE(9, 16)
    VBE_OK
6:  VBE_FAIL

vbe_window:                          /* BH 0 set DX, 1 get */
    cmpb $1, %bh
    je 1f
    movb $5, %al
    movw %dx, %bx
    call dispi_set
    VBE_OK
1:  movb $5, %al
    call dispi_get
    movw %ax, R_DX(%bp)
    VBE_OK

/* vbe_bank_far: the window function (far call): BH 0 set bank DX, 1 get into DX */
vbe_bank_far:
    pushw %ax
    pushw %bx
    cmpb $1, %bh
    je 1f
    movb $5, %al
    movw %dx, %bx
    call dispi_set
    jmp 2f
1:  movb $5, %al
    call dispi_get
    movw %ax, %dx
2:  popw %bx
    popw %ax
    movw $0x004F, %ax
    lret

vbe_scanline:                        /* BL 0 set CX pixels, 1 get, 2 set CX bytes, 3 max */
    call vbe_current
    jnc 1f
    movw $0x034F, R_AX(%bp)
    jmp v_out
1:  movb %cs:6(%si), %al
    call bytes_pp
    movw %ax, %si                    /* SI = bytes per pixel */
    cmpb $0x01, %bl
    je 4f
    cmpb $0x03, %bl
    je 3f
    movw %cx, %ax
    cmpb $0x02, %bl
    jne 2f
    xorw %dx, %dx
    divw %si
2:  movw %ax, %bx
    movb $6, %al
    call dispi_set
    jmp 4f
3:  movb $2, %al                     /* maximum: the widest line that fits yres lines in VRAM */
    call dispi_get
    movzwl %ax, %ecx
    movl $0x1000000, %eax
    xorl %edx, %edx
    divl %ecx
    cmpl $0xFFFF, %eax
    jbe 31f
    movw $0xFFFF, %ax
31: xorw %dx, %dx
    divw %si
    movw %ax, R_CX(%bp)
    mulw %si
    movw %ax, R_BX(%bp)
    movb $2, %al
    call dispi_get
    movw %ax, R_DX(%bp)
    VBE_OK
4:  movb $6, %al
    call dispi_get
    movw %ax, R_CX(%bp)
    mulw %si
    movw %ax, R_BX(%bp)
    movb $7, %al
    call dispi_get
    movw %ax, R_DX(%bp)
    VBE_OK

vbe_start:                           /* BL 0/80h set CX, DX; 1 get */
    cmpb $0x01, %bl
    je 1f
    movb $8, %al
    movw %cx, %bx
    call dispi_set
    movb $9, %al
    movw %dx, %bx
    call dispi_set
    VBE_OK
1:  movb $8, %al
    call dispi_get
    movw %ax, R_CX(%bp)
    movb $9, %al
    call dispi_get
    movw %ax, R_DX(%bp)
    movw $0, R_BX(%bp)
    VBE_OK

vbe_dacfmt:                          /* BL 0 set BH bits, 1 get */
    movb $4, %al
    call dispi_get
    cmpb $0x01, %bl
    je 2f
    andw $0xFFDF, %ax
    cmpb $8, %bh
    jb 1f
    orw $0x0020, %ax
1:  orw $0x0080, %ax                 /* keep the picture */
    movw %ax, %bx
    movb $4, %al
    call dispi_set
    movb $4, %al
    call dispi_get
2:  movb $6, R_BH(%bp)
    testb $0x20, %al
    jz 3f
    movb $8, R_BH(%bp)
3:  VBE_OK

vbe_palette:                         /* BL 0/80h set, 1 get; CX count, DX first, ES:DI */
    testb $0x7F, %bl
    jz 1f
    cmpb $1, %bl
    je 3f
    VBE_FAIL
1:  movw $0x3C8, %bx
    xchgw %bx, %dx
    movb %bl, %al
    outb %al, %dx
    incw %dx
    jcxz 9f
2:  movb %es:2(%di), %al
    outb %al, %dx
    movb %es:1(%di), %al
    outb %al, %dx
    movb %es:(%di), %al
    outb %al, %dx
    addw $4, %di
    loop 2b
    VBE_OK
3:  movw $0x3C7, %bx
    xchgw %bx, %dx
    movb %bl, %al
    outb %al, %dx
    addw $2, %dx
    jcxz 9f
4:  inb %dx, %al
    movb %al, %es:2(%di)
    inb %dx, %al
    movb %al, %es:1(%di)
    inb %dx, %al
    movb %al, %es:(%di)
    movb $0, %es:3(%di)
    addw $4, %di
    loop 4b
9:  VBE_OK

vbe_pmi:                             /* BL 0: ES:DI table, CX length */
    testb %bl, %bl
    jz 1f
    VBE_FAIL
1:  movw %cs, R_ES(%bp)
    movw $pmi_table, R_DI(%bp)
    movw $pmi_end - pmi_table, R_CX(%bp)
    VBE_OK

/* The protected-mode interface (4F0Ah): offsets from pmi_table of the window (05h), display
 * start (07h) and palette (09h) functions, then the I/O ports they use. Each is position
 * independent 32-bit code ending in RET. */
    .balign 2
pmi_table:
    .word pmi_window - pmi_table, pmi_start - pmi_table, pmi_palette - pmi_table
    .word pmi_ports - pmi_table
    .code32
pmi_window:                          /* BL 0: DX bank */
    pushl %eax
    pushl %edx
    movw %dx, %ax
    pushw %ax
    movw $DISPI_INDEX, %dx
    movw $5, %ax
    outw %ax, %dx
    incw %dx
    popw %ax
    outw %ax, %dx
    popl %edx
    popl %eax
    movw $0x004F, %ax
    ret
pmi_start:                           /* BL 0/80h: CX first pixel, DX line */
    pushl %eax
    pushl %edx
    pushl %edx
    movw $DISPI_INDEX, %dx
    movw $8, %ax
    outw %ax, %dx
    incw %dx
    movw %cx, %ax
    outw %ax, %dx
    decw %dx
    movw $9, %ax
    outw %ax, %dx
    incw %dx
    popl %eax
    outw %ax, %dx
    popl %edx
    popl %eax
    movw $0x004F, %ax
    ret
pmi_palette:                         /* BL 0/80h: CX entries from DX, ES:EDI (B, G, R, -) */
    pushl %eax
    pushl %ecx
    pushl %edx
    pushl %edi
    movb %dl, %al
    movw $0x3C8, %dx
    outb %al, %dx
    incw %dx
    movzwl %cx, %ecx
    jecxz 2f
1:  movb %es:2(%edi), %al
    outb %al, %dx
    movb %es:1(%edi), %al
    outb %al, %dx
    movb %es:(%edi), %al
    outb %al, %dx
    addl $4, %edi
    loop 1b
2:  popl %edi
    popl %edx
    popl %ecx
    popl %eax
    movw $0x004F, %ax
    ret
    .code16
pmi_ports:
    .word DISPI_INDEX, DISPI_DATA, 0x3C8, 0x3C9, 0xFFFF, 0xFFFF
pmi_end:

/* ---------- tables ---------- */
functionality:                       /* 1Bh static functionality: modes 0-7, 0Dh-13h */
    .byte 0xFF, 0xE0, 0x0F, 0, 0, 0, 0, 0x07, 0x02, 0x08, 0xFF, 0x0E, 0, 0, 0, 0

cga_to_ega: .byte 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07
            .byte 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F
grey_ramp:  .byte 0, 5, 8, 11, 14, 17, 20, 24, 28, 32, 36, 40, 45, 50, 56, 63
/* The default 256-colour DAC's entries 32-247: 24 hues (blue, magenta, red, yellow, green,
 * cyan, back towards blue, four steps between each) for three intensities (63, 28, 16) times
 * three saturations, each wheel running between a low and a high level. */
default_hues:
    .byte 0, 0, 63, 16, 0, 63, 31, 0, 63, 47, 0, 63
    .byte 63, 0, 63, 63, 0, 47, 63, 0, 31, 63, 0, 16
    .byte 63, 0, 0, 63, 16, 0, 63, 31, 0, 63, 47, 0
    .byte 63, 63, 0, 47, 63, 0, 31, 63, 0, 16, 63, 0
    .byte 0, 63, 0, 0, 63, 16, 0, 63, 31, 0, 63, 47
    .byte 0, 63, 63, 0, 47, 63, 0, 31, 63, 0, 16, 63
    .byte 31, 31, 63, 39, 31, 63, 47, 31, 63, 55, 31, 63
    .byte 63, 31, 63, 63, 31, 55, 63, 31, 47, 63, 31, 39
    .byte 63, 31, 31, 63, 39, 31, 63, 47, 31, 63, 55, 31
    .byte 63, 63, 31, 55, 63, 31, 47, 63, 31, 39, 63, 31
    .byte 31, 63, 31, 31, 63, 39, 31, 63, 47, 31, 63, 55
    .byte 31, 63, 63, 31, 55, 63, 31, 47, 63, 31, 39, 63
    .byte 45, 45, 63, 49, 45, 63, 54, 45, 63, 58, 45, 63
    .byte 63, 45, 63, 63, 45, 58, 63, 45, 54, 63, 45, 49
    .byte 63, 45, 45, 63, 49, 45, 63, 54, 45, 63, 58, 45
    .byte 63, 63, 45, 58, 63, 45, 54, 63, 45, 49, 63, 45
    .byte 45, 63, 45, 45, 63, 49, 45, 63, 54, 45, 63, 58
    .byte 45, 63, 63, 45, 58, 63, 45, 54, 63, 45, 49, 63
    .byte 0, 0, 28, 7, 0, 28, 14, 0, 28, 21, 0, 28
    .byte 28, 0, 28, 28, 0, 21, 28, 0, 14, 28, 0, 7
    .byte 28, 0, 0, 28, 7, 0, 28, 14, 0, 28, 21, 0
    .byte 28, 28, 0, 21, 28, 0, 14, 28, 0, 7, 28, 0
    .byte 0, 28, 0, 0, 28, 7, 0, 28, 14, 0, 28, 21
    .byte 0, 28, 28, 0, 21, 28, 0, 14, 28, 0, 7, 28
    .byte 14, 14, 28, 17, 14, 28, 21, 14, 28, 24, 14, 28
    .byte 28, 14, 28, 28, 14, 24, 28, 14, 21, 28, 14, 17
    .byte 28, 14, 14, 28, 17, 14, 28, 21, 14, 28, 24, 14
    .byte 28, 28, 14, 24, 28, 14, 21, 28, 14, 17, 28, 14
    .byte 14, 28, 14, 14, 28, 17, 14, 28, 21, 14, 28, 24
    .byte 14, 28, 28, 14, 24, 28, 14, 21, 28, 14, 17, 28
    .byte 20, 20, 28, 22, 20, 28, 24, 20, 28, 26, 20, 28
    .byte 28, 20, 28, 28, 20, 26, 28, 20, 24, 28, 20, 22
    .byte 28, 20, 20, 28, 22, 20, 28, 24, 20, 28, 26, 20
    .byte 28, 28, 20, 26, 28, 20, 24, 28, 20, 22, 28, 20
    .byte 20, 28, 20, 20, 28, 22, 20, 28, 24, 20, 28, 26
    .byte 20, 28, 28, 20, 26, 28, 20, 24, 28, 20, 22, 28
    .byte 0, 0, 16, 4, 0, 16, 8, 0, 16, 12, 0, 16
    .byte 16, 0, 16, 16, 0, 12, 16, 0, 8, 16, 0, 4
    .byte 16, 0, 0, 16, 4, 0, 16, 8, 0, 16, 12, 0
    .byte 16, 16, 0, 12, 16, 0, 8, 16, 0, 4, 16, 0
    .byte 0, 16, 0, 0, 16, 4, 0, 16, 8, 0, 16, 12
    .byte 0, 16, 16, 0, 12, 16, 0, 8, 16, 0, 4, 16
    .byte 8, 8, 16, 10, 8, 16, 12, 8, 16, 14, 8, 16
    .byte 16, 8, 16, 16, 8, 14, 16, 8, 12, 16, 8, 10
    .byte 16, 8, 8, 16, 10, 8, 16, 12, 8, 16, 14, 8
    .byte 16, 16, 8, 14, 16, 8, 12, 16, 8, 10, 16, 8
    .byte 8, 16, 8, 8, 16, 10, 8, 16, 12, 8, 16, 14
    .byte 8, 16, 16, 8, 14, 16, 8, 12, 16, 8, 10, 16
    .byte 11, 11, 16, 12, 11, 16, 13, 11, 16, 15, 11, 16
    .byte 16, 11, 16, 16, 11, 15, 16, 11, 13, 16, 11, 12
    .byte 16, 11, 11, 16, 12, 11, 16, 13, 11, 16, 15, 11
    .byte 16, 16, 11, 15, 16, 11, 13, 16, 11, 12, 16, 11
    .byte 11, 16, 11, 11, 16, 12, 11, 16, 13, 11, 16, 15
    .byte 11, 16, 16, 11, 15, 16, 11, 13, 16, 11, 12, 16

/* VBE colour layouts: red size/position, green, blue, reserved */
vbe_layout15: .byte 5, 10, 5, 5, 5, 0, 1, 15
vbe_layout16: .byte 5, 11, 6, 5, 5, 0, 0, 0
vbe_layout24: .byte 8, 16, 8, 8, 8, 0, 0, 0
vbe_layout32: .byte 8, 16, 8, 8, 8, 0, 8, 24

#define VBEMODE(n, x, y, b) .word n, x, y; .byte b, 0
    .balign 2
vbe_modes:
    VBEMODE(0x100, 640, 400, 8)
    VBEMODE(0x101, 640, 480, 8)
    VBEMODE(0x103, 800, 600, 8)
    VBEMODE(0x105, 1024, 768, 8)
    VBEMODE(0x107, 1280, 1024, 8)
    VBEMODE(0x10D, 320, 200, 15)
    VBEMODE(0x10E, 320, 200, 16)
    VBEMODE(0x10F, 320, 200, 24)
    VBEMODE(0x110, 640, 480, 15)
    VBEMODE(0x111, 640, 480, 16)
    VBEMODE(0x112, 640, 480, 24)
    VBEMODE(0x113, 800, 600, 15)
    VBEMODE(0x114, 800, 600, 16)
    VBEMODE(0x115, 800, 600, 24)
    VBEMODE(0x116, 1024, 768, 15)
    VBEMODE(0x117, 1024, 768, 16)
    VBEMODE(0x118, 1024, 768, 24)
    VBEMODE(0x119, 1280, 1024, 15)
    VBEMODE(0x11A, 1280, 1024, 16)
    VBEMODE(0x11B, 1280, 1024, 24)
    VBEMODE(0x140, 320, 200, 32)
    VBEMODE(0x141, 640, 480, 32)
    VBEMODE(0x142, 800, 600, 32)
    VBEMODE(0x143, 1024, 768, 32)
    VBEMODE(0x144, 1280, 1024, 32)
    VBEMODE(0x145, 1280, 720, 16)
    VBEMODE(0x146, 1280, 720, 32)
    VBEMODE(0x147, 1920, 1080, 8)
    VBEMODE(0x148, 1920, 1080, 16)
    VBEMODE(0x149, 1920, 1080, 24)
    VBEMODE(0x14A, 1920, 1080, 32)
    .word 0xFFFF
vbe_mode_list:
    .word 0x100, 0x101, 0x103, 0x105, 0x107, 0x10D, 0x10E, 0x10F, 0x110, 0x111, 0x112
    .word 0x113, 0x114, 0x115, 0x116, 0x117, 0x118, 0x119, 0x11A, 0x11B
    .word 0x140, 0x141, 0x142, 0x143, 0x144, 0x145, 0x146, 0x147, 0x148, 0x149, 0x14A
    .word 0xFFFF

oem_string:  .asciz "anyvm VGA BIOS"
oem_vendor:  .asciz "anyvm"
oem_product: .asciz "anyvm Bochs-DISPI VGA"
oem_rev:     .asciz "1.0"

/* The VGA mode tables: number, memory model, columns, rows - 1, character height, segment,
 * page size; DAC set; misc output; sequencer 1-4; CRTC 0-18h; attribute 0-13h; graphics 0-8.
 * The register values are the IBM VGA's for each mode (VGA Technical Reference). */
#define ATTR_TEXT .byte 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, \
    0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08
#define ATTR_EGA .byte 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, \
    0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00
#define ATTR_16 .byte 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, \
    0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x0F, 0x00
#define GC_TEXT .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF
#define GC_PLANAR .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF
#define CRTC_TEXT80 .byte 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, \
    0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF
#define CRTC_TEXT40 .byte 0x2D, 0x27, 0x28, 0x90, 0x2B, 0xA0, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, \
    0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x1F, 0x96, 0xB9, 0xA3, 0xFF

mode_table:
    /* 0, 1: 40x25 text */
    .byte 0x00, C_TEXT, 40, 24, 16
    .word 0xB800, 0x0800
    .byte D_EGA, 0x67, 0x08, 0x03, 0x00, 0x02
    CRTC_TEXT40
    ATTR_TEXT
    GC_TEXT
    .byte 0x01, C_TEXT, 40, 24, 16
    .word 0xB800, 0x0800
    .byte D_EGA, 0x67, 0x08, 0x03, 0x00, 0x02
    CRTC_TEXT40
    ATTR_TEXT
    GC_TEXT
    /* 2, 3: 80x25 text */
    .byte 0x02, C_TEXT, 80, 24, 16
    .word 0xB800, 0x1000
    .byte D_EGA, 0x67, 0x00, 0x03, 0x00, 0x02
    CRTC_TEXT80
    ATTR_TEXT
    GC_TEXT
    .byte 0x03, C_TEXT, 80, 24, 16
    .word 0xB800, 0x1000
    .byte D_EGA, 0x67, 0x00, 0x03, 0x00, 0x02
    CRTC_TEXT80
    ATTR_TEXT
    GC_TEXT
    /* 4, 5: 320x200 4 colours (CGA) */
    .byte 0x04, C_CGA2, 40, 24, 8
    .word 0xB800, 0x4000
    .byte D_EGA, 0x63, 0x09, 0x03, 0x00, 0x02
    .byte 0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF
    .byte 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14
    .byte 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00
    .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x00, 0xFF
    .byte 0x05, C_CGA2, 40, 24, 8
    .word 0xB800, 0x4000
    .byte D_EGA, 0x63, 0x09, 0x03, 0x00, 0x02
    .byte 0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF
    .byte 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14
    .byte 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00
    .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x00, 0xFF
    /* 6: 640x200 2 colours */
    .byte 0x06, C_CGA1, 80, 24, 8
    .word 0xB800, 0x4000
    .byte D_EGA, 0x63, 0x01, 0x01, 0x00, 0x06
    .byte 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x00, 0x96, 0xB9, 0xC2, 0xFF
    .byte 0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17
    .byte 0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00
    .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x00, 0xFF
    /* 7: 80x25 monochrome text */
    .byte 0x07, C_TEXT, 80, 24, 16
    .word 0xB000, 0x1000
    .byte D_MONO, 0x66, 0x00, 0x03, 0x00, 0x02
    .byte 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00
    .byte 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x0F, 0x96, 0xB9, 0xA3, 0xFF
    .byte 0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x10, 0x18, 0x18, 0x18, 0x18
    .byte 0x18, 0x18, 0x18, 0x0E, 0x00, 0x0F, 0x08
    .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0A, 0x00, 0xFF
    /* 0Dh: 320x200 16 colours */
    .byte 0x0D, C_PLANAR, 40, 24, 8
    .word 0xA000, 0x2000
    .byte D_EGA, 0x63, 0x09, 0x0F, 0x00, 0x06
    .byte 0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC0, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xE3, 0xFF
    ATTR_16
    GC_PLANAR
    /* 0Eh: 640x200 16 colours */
    .byte 0x0E, C_PLANAR, 80, 24, 8
    .word 0xA000, 0x4000
    .byte D_EGA, 0x63, 0x01, 0x0F, 0x00, 0x06
    .byte 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0xC0, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x00, 0x96, 0xB9, 0xE3, 0xFF
    ATTR_16
    GC_PLANAR
    /* 10h: 640x350 16 colours */
    .byte 0x10, C_PLANAR, 80, 24, 14
    .word 0xA000, 0x8000
    .byte D_EGA, 0xA3, 0x01, 0x0F, 0x00, 0x06
    .byte 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x40, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0x83, 0x85, 0x5D, 0x28, 0x0F, 0x63, 0xBA, 0xE3, 0xFF
    ATTR_EGA
    GC_PLANAR
    /* 11h: 640x480 2 colours */
    .byte 0x11, C_PLANAR, 80, 29, 16
    .word 0xA000, 0x0000
    .byte D_EGA, 0xE3, 0x01, 0x0F, 0x00, 0x06
    .byte 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xC3, 0xFF
    .byte 0x00, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F
    .byte 0x3F, 0x3F, 0x3F, 0x01, 0x00, 0x0F, 0x00
    GC_PLANAR
    /* 12h: 640x480 16 colours */
    .byte 0x12, C_PLANAR, 80, 29, 16
    .word 0xA000, 0x0000
    .byte D_EGA, 0xE3, 0x01, 0x0F, 0x00, 0x06
    .byte 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF
    ATTR_EGA
    GC_PLANAR
    /* 13h: 320x200 256 colours */
    .byte 0x13, C_LIN8, 40, 24, 8
    .word 0xA000, 0x0000
    .byte D_256, 0x63, 0x01, 0x0F, 0x00, 0x0E
    .byte 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00
    .byte 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF
    .byte 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C
    .byte 0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00
    .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF
    .byte 0xFF

/* the fonts (bios/mkfont.py, generated at build time) */
#include "vgafont.inc"
