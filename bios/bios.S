/* bios.S: anyvm's BIOS: POST and the real-mode services (INT 11h-1Ah) for the PC board. */
/*
 * One 64 KiB segment at F000. Data lives in the BDA (0x400) and an EBDA of 1 KiB at 9FC0:
 *   EBDA 0x00 size in KiB, 0x10 hard disk table (4 x 16 bytes: +0 I/O base, +2 drive select
 *   bit, +4 sectors (LBA28), +8 cylinders, +10 heads, +11 sectors/track), 0x60/0x70 the fixed
 *   disk parameter tables of disks 0/1 (INT 41h/46h), 0x1C0 the CD-ROM state (cdrom.S), 0x200
 *   a 512-byte DMA bounce buffer.
 * POST assigns the PCI resources (pci.S) and builds SMBIOS (smbios.S); the board does the
 * PM/PIRQ/ACPI duties (see docs/bios.md); the boot order comes from CMOS
 * 0x3D/0x38 (bios/bios.h).
 */
    .code16
    .text

#define EBDA_SEG 0x9FC0
#define HDT 0x10
#define BOUNCE 0x200
#define COM1 0x3F8

    .globl _start
_start:

/* ---------- POST ---------- */
post:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ss
    movw $0x7000, %sp
    movw %ax, %ds
    movw %ax, %es
    /* zero the IVT, BDA and the first 28 KiB (keeps the state deterministic) */
    xorw %di, %di
    movw $0x3800, %cx
    rep stosw
    /* IVT: everything to the dummy iret, then the real handlers */
    xorw %di, %di
    movw $256, %cx
1:  movw $dummy_iret, %ax
    stosw
    movw $0xF000, %ax
    stosw
    loop 1b
    movw $ivt_table, %si
2:  movw %cs:(%si), %di
    cmpw $0xFFFF, %di
    je 3f
    movw %cs:2(%si), %ax
    shlw $2, %di
    movw %ax, (%di)
    movw $0xF000, 2(%di)
    addw $4, %si
    jmp 2b
3:
    /* EBDA */
    movw $EBDA_SEG, %ax
    movw %ax, %es
    xorw %di, %di
    xorw %ax, %ax
    movw $512, %cx
    rep stosw
    movb $1, %es:0
    /* BDA */
    movw $0x3F8, 0x400
    movw $0x2F8, 0x402
    movw $EBDA_SEG, 0x40E
    movw $639, 0x413
    movw $0x1E, 0x41A
    movw $0x1E, 0x41C
    movw $0x1E, 0x480
    movw $0x3E, 0x482
    movb $3, 0x449
    movw $80, 0x44A
    movw $4096, 0x44C
    movw $0x0607, 0x460
    movw $0x3D4, 0x463
    movb $24, 0x484
    movw $16, 0x485
    /* equipment word: 2 serial ports, 80x25 colour, FPU, floppies from CMOS 0x10 */
    movw $0x0422, %bx
    movb $0x10, %al
    call cmos_read
    xorb %cl, %cl
    testb $0xF0, %al
    jz 4f
    incb %cl
4:  testb $0x0F, %al
    jz 5f
    incb %cl
5:  testb %cl, %cl
    jz 6f
    decb %cl
    shlb $6, %cl
    orb %cl, %bl
    orb $1, %bl
6:  movw %bx, 0x410

    /* A20 on (port 92h) */
    inb $0x92, %al
    orb $2, %al
    andb $0xFE, %al
    outb %al, $0x92

    /* PICs: master at 08h, slave at 70h; IRQ 0, 1, 2, 6 unmasked */
    movb $0x11, %al
    outb %al, $0x20
    outb %al, $0xA0
    movb $0x08, %al
    outb %al, $0x21
    movb $0x70, %al
    outb %al, $0xA1
    movb $4, %al
    outb %al, $0x21
    movb $2, %al
    outb %al, $0xA1
    movb $1, %al
    outb %al, $0x21
    outb %al, $0xA1
    movb $0xB8, %al
    outb %al, $0x21
    movb $0xFF, %al
    outb %al, $0xA1

    /* PIT channel 0: mode 3, divisor 65536 (18.2 Hz) */
    movb $0x36, %al
    outb %al, $0x43
    xorb %al, %al
    outb %al, $0x40
    outb %al, $0x40

    /* COM1: 115200 8N1, FIFO, DTR+RTS, no interrupts */
    movw $COM1 + 3, %dx
    movb $0x80, %al
    outb %al, %dx
    movw $COM1, %dx
    movb $1, %al
    outb %al, %dx
    incw %dx
    xorb %al, %al
    outb %al, %dx
    movw $COM1 + 3, %dx
    movb $3, %al
    outb %al, %dx
    decw %dx
    movb $7, %al
    outb %al, %dx
    addw $2, %dx
    movb $3, %al
    outb %al, %dx
    movw $COM1 + 1, %dx
    xorb %al, %al
    outb %al, %dx

    /* 8042: translation on, keyboard IRQ on, mouse off; keyboard scanning on */
    call kbc_wait
    movb $0x60, %al
    outb %al, $0x64
    call kbc_wait
    movb $0x65, %al
    outb %al, $0x60
    call kbc_wait
    movb $0xF4, %al
    outb %al, $0x60

    /* floppy controller out of reset, DMA and IRQ on */
    movw $0x3F2, %dx
    movb $0x0C, %al
    outb %al, %dx
    /* 8237: master enabled, channel 4 cascade */
    xorb %al, %al
    outb %al, $0x08
    outb %al, $0xD0
    movb $0xC0, %al
    outb %al, $0xD6
    xorb %al, %al
    outb %al, $0xD4

    call pci_post                   /* bios/pci.S: BARs and decoding before option ROMs */
    call smbios_post                /* bios/smbios.S */

    /* option ROMs: the VGA BIOS hooks INT 10h and sets mode 3 */
    call rom_scan
    movw $msg_banner, %si
    call print_str

    call ide_detect

    sti
    int $0x19
    int $0x18
halt_forever:
    cli
    hlt
    jmp halt_forever

/* ---------- helpers (near, CS=F000) ---------- */

/* cmos_read: AL = CMOS register -> AL = value */
cmos_read:
    outb %al, $0x70
    inb $0x71, %al
    ret

kbc_wait:
    pushw %cx
    movw $0xFFFF, %cx
1:  inb $0x64, %al
    testb $2, %al
    loopnz 1b
    popw %cx
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

/* rom_scan: option ROMs at C0000-DFFFF in 2 KiB steps (55AAh, length in 512-byte units at
 * offset 2, bytes summing to zero): far call to offset 3 of each; then the VGA BIOS's shadow
 * (C0000-C7FFF) is made read-only */
rom_scan:
    pushal
    pushw %ds
    pushw %es
    movw $0xC000, %bx
1:  cmpw $0xE000, %bx
    jae 9f
    movw %bx, %ds
    cmpw $0xAA55, 0
    jne 5f
    movzbw 2, %cx
    jcxz 5f
    pushw %cx
    xorb %al, %al
2:  xorw %si, %si
3:  addb (%si), %al
    incw %si
    cmpw $512, %si
    jb 3b
    movw %ds, %dx
    addw $0x20, %dx
    movw %dx, %ds
    loop 2b
    popw %cx
    testb %al, %al
    jnz 5f
    pushw %bx
    pushw %cx
    pushw %bx                /* far pointer bx:0003 */
    pushw $3
    movw %sp, %bp
    lcall *(%bp)
    addw $4, %sp
    popw %cx
    popw %bx
    cli
    cld
    shlw $5, %cx             /* paragraphs, rounded up to 2 KiB */
    addw $0x7F, %cx
    andw $0xFF80, %cx
    addw %cx, %bx
    jmp 1b
5:  addw $0x80, %bx
    jmp 1b
9:  movl $0x80000058, %eax  /* i440FX PAM1 (0x5A): C0000-C7FFF shadow read-only */
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFE, %dx
    movb $0x11, %al
    outb %al, %dx
    popw %es
    popw %ds
    popal
    ret

/* print_str: CS:SI, NUL-terminated, through INT 10h teletype */
print_str:
    pushw %ax
    pushw %bx
1:  movb %cs:(%si), %al
    incw %si
    testb %al, %al
    jz 2f
    movb $0x0E, %ah
    xorw %bx, %bx
    int $0x10
    jmp 1b
2:  popw %bx
    popw %ax
    ret

/* print_hex32: EAX in hex */
print_hex32:
    pushl %eax
    pushl %ecx
    pushl %edx
    movl %eax, %edx
    movw $8, %cx
1:  roll $4, %edx
    movb %dl, %al
    andb $0x0F, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 2f
    addb $7, %al
2:  pushw %bx
    movb $0x0E, %ah
    xorw %bx, %bx
    int $0x10
    popw %bx
    loop 1b
    popl %edx
    popl %ecx
    popl %eax
    ret

/* ---------- interrupt handlers ---------- */

dummy_iret:
    iret

irq_master:         /* unhandled master IRQ: EOI */
    pushw %ax
    movb $0x20, %al
    outb %al, $0x20
    popw %ax
    iret

irq_slave:          /* unhandled slave IRQ: EOI both */
    pushw %ax
    movb $0x20, %al
    outb %al, $0xA0
    outb %al, $0x20
    popw %ax
    iret

irq_rtc:            /* IRQ 8: acknowledge register C */
    pushw %ax
    movb $0x0C, %al
    outb %al, $0x70
    inb $0x71, %al
    popw %ax
    jmp irq_slave

irq_ide:            /* IRQ 14/15: read status to acknowledge */
    pushw %ax
    pushw %dx
    movw $0x1F7, %dx
    inb %dx, %al
    movw $0x177, %dx
    inb %dx, %al
    popw %dx
    popw %ax
    jmp irq_slave

irq_floppy:         /* IRQ 6: BDA "interrupt occurred" flag */
    pushw %ds
    pushw %ax
    xorw %ax, %ax
    movw %ax, %ds
    orb $0x80, 0x43E
    popw %ax
    popw %ds
    jmp irq_master

irq_timer:          /* IRQ 0: tick count, midnight flag, INT 1Ch */
    pushw %ds
    pushl %eax
    xorw %ax, %ax
    movw %ax, %ds
    movl 0x46C, %eax
    incl %eax
    cmpl $0x1800B0, %eax
    jb 1f
    xorl %eax, %eax
    movb $1, 0x470
1:  movl %eax, 0x46C
    int $0x1C
    movb $0x20, %al
    outb %al, $0x20
    popl %eax
    popw %ds
    iret

/* IRQ 1: scancode set 1 -> BDA ring buffer */
irq_kbd:
    pushw %ds
    pushw %ax
    pushw %bx
    xorw %ax, %ax
    movw %ax, %ds
    inb $0x60, %al
    movb %al, %ah
    andb $0x7F, %ah
    movb $0x02, %bl          /* left shift */
    cmpb $0x2A, %ah
    je kb_mod
    movb $0x01, %bl          /* right shift */
    cmpb $0x36, %ah
    je kb_mod
    movb $0x04, %bl          /* ctrl */
    cmpb $0x1D, %ah
    je kb_mod
    movb $0x08, %bl          /* alt */
    cmpb $0x38, %ah
    je kb_mod
    testb $0x80, %al
    jnz kb_done
    cmpb $0x58, %al
    ja kb_done
    movb %al, %ah            /* AH = scancode */
    movzbw %al, %bx
    testb $0x03, 0x417
    jnz 1f
    movb %cs:kb_normal(%bx), %al
    jmp 2f
1:  movb %cs:kb_shift(%bx), %al
2:  testb $0x04, 0x417
    jz 3f
    cmpb $'a', %al
    jb 3f
    cmpb $'z', %al
    ja 3f
    andb $0x1F, %al
3:  testb $0x08, 0x417
    jz 4f
    xorb %al, %al
4:  call kb_put
    jmp kb_done
kb_mod:
    testb $0x80, %al
    jnz 1f
    orb %bl, 0x417
    jmp kb_done
1:  notb %bl
    andb %bl, 0x417
kb_done:
    movb $0x20, %al
    outb %al, $0x20
    popw %bx
    popw %ax
    popw %ds
    iret

/* kb_put: AX (scan:ascii) into the BDA buffer (DS = 0); drops it when full */
kb_put:
    pushw %bx
    pushw %si
    movw 0x41C, %bx
    movw %bx, %si
    addw $2, %si
    cmpw 0x482, %si
    jb 1f
    movw 0x480, %si
1:  cmpw 0x41A, %si
    je 2f
    movw %ax, 0x400(%bx)
    movw %si, 0x41C
2:  popw %si
    popw %bx
    ret

/* kb_poll_serial: a byte waiting on COM1 becomes a keystroke (DS = 0) */
kb_poll_serial:
    pushw %ax
    pushw %dx
    pushw %bx
    movw $COM1 + 5, %dx
    inb %dx, %al
    testb $1, %al
    jz 9f
    movw $COM1, %dx
    inb %dx, %al
    cmpb $0x0A, %al
    je 9f                    /* LF after CR: drop */
    movb $0x1C, %ah
    cmpb $0x0D, %al
    je 8f
    movb $0x0E, %ah
    cmpb $0x7F, %al
    jne 1f
    movb $8, %al
1:  cmpb $8, %al
    je 8f
    movb $0x39, %ah
    cmpb $' ', %al
    je 8f
    movb $0x01, %ah
    cmpb $27, %al
    je 8f
    /* printable: find the scancode in the tables */
    movw $0x58, %bx
2:  cmpb %cs:kb_normal(%bx), %al
    je 3f
    cmpb %cs:kb_shift(%bx), %al
    je 3f
    decw %bx
    jnz 2b
3:  movb %bl, %ah
8:  call kb_put
9:  popw %bx
    popw %dx
    popw %ax
    ret

/* INT 16h: keyboard */
int16:
    sti
#ifdef TRACE13
    pushw %ax
    movb $'K', %al
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    popw %ax
#endif
    pushw %ds
    pushw %bx
    xorw %bx, %bx
    movw %bx, %ds
    cmpb $0x00, %ah
    je k_get
    cmpb $0x10, %ah
    je k_get
    cmpb $0x01, %ah
    je k_peek
    cmpb $0x11, %ah
    je k_peek
    cmpb $0x02, %ah
    je k_flags
    cmpb $0x12, %ah
    je k_flags
    cmpb $0x05, %ah
    je k_store
    jmp k_out
k_get:
    call kb_poll_serial
    movw 0x41A, %bx
    cmpw 0x41C, %bx
    jne 1f
    hlt
    jmp k_get
1:  movw 0x400(%bx), %ax
    addw $2, %bx
    cmpw 0x482, %bx
    jb 2f
    movw 0x480, %bx
2:  movw %bx, 0x41A
    jmp k_out
k_peek:
    call kb_poll_serial
    movw 0x41A, %bx
    cmpw 0x41C, %bx
    je 1f
    movw 0x400(%bx), %ax
1:  popw %bx
    popw %ds
    lret $2                  /* ZF from the compare */
k_flags:
    cmpb $0x12, %ah
    jne 1f
    xorb %ah, %ah            /* 12h: no left/right modifier or SysRq state kept */
1:  movb 0x417, %al
    jmp k_out
k_store:
    movw %cx, %ax
    call kb_put
    xorb %al, %al
k_out:
    popw %bx
    popw %ds
    iret

/* ---------- frame-based handlers: DS, ES, FS, then PUSHAL ---------- */
#define F_DI 0
#define F_SI 4
#define F_BP 8
#define F_BX 16
#define F_DX 20
#define F_CX 24
#define F_AX 28
#define F_AH 29
#define F_FS 32
#define F_ES 34
#define F_DS 36
#define F_FL 42

#define ENTER  sti; cld; pushw %ds; pushw %es; pushw %fs; pushal; movw %sp, %bp; \
    pushw %ax; xorw %ax, %ax; movw %ax, %ds; movw $EBDA_SEG, %ax; movw %ax, %fs; popw %ax

/* frame_ok / frame_err: return with CF clear / set (AH in the frame as it is) */
frame_ok:
    andw $0xFFFE, F_FL(%bp)
    jmp frame_ret
frame_err:
    orw $1, F_FL(%bp)
frame_ret:
    popal
    popw %fs
    popw %es
    popw %ds
    iret
/* frame_status: AH is the status: into the frame, CF = (AH != 0) */
frame_status:
    movb %ah, F_AH(%bp)
    testb %ah, %ah
    jnz frame_err
    jmp frame_ok

/* INT 11h / 12h */
int11:
    pushw %ds
    xorw %ax, %ax
    movw %ax, %ds
    movw 0x410, %ax
    popw %ds
    iret
int12:
    pushw %ds
    xorw %ax, %ax
    movw %ax, %ds
    movw 0x413, %ax
    popw %ds
    iret

/* INT 17h: no printer (time-out status) */
int17:
    movb $0x01, %ah
    iret

/* INT 14h: serial ports by DX from the BDA */
int14:
    ENTER
#ifdef TRACE13
    pushw %ax
    movb $'S', %al
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    popw %ax
#endif
    cmpw $3, %dx
    ja s_bad
    movw %dx, %si
    shlw $1, %si
    movw 0x400(%si), %dx
    testw %dx, %dx
    jz s_bad
    cmpb $1, %ah
    je s_send
    cmpb $2, %ah
    je s_recv
s_stat:                     /* 00h init, 03h status */
    addw $5, %dx
    inb %dx, %al
    movb %al, %ah
    incw %dx
    inb %dx, %al
    movw %ax, F_AX(%bp)
    jmp frame_ok
s_send:
    movb %al, %bl
    addw $5, %dx
    movl $0x100000, %ecx
1:  inb %dx, %al
    testb $0x20, %al
    jnz 2f
    loopl 1b
    movb $0x80, F_AH(%bp)
    jmp frame_ok
2:  subw $5, %dx
    movb %bl, %al
    outb %al, %dx
    addw $5, %dx
    inb %dx, %al
    movb %al, F_AH(%bp)
    jmp frame_ok
s_recv:
    addw $5, %dx
    movl $0x100000, %ecx
1:  inb %dx, %al
    testb $1, %al
    jnz 2f
    loopl 1b
    movb $0x80, F_AH(%bp)
    jmp frame_ok
2:  movb %al, F_AH(%bp)
    andb $0x1E, F_AH(%bp)
    subw $5, %dx
    inb %dx, %al
    movb %al, F_AX(%bp)
    jmp frame_ok
s_bad:
    movb $0x80, F_AH(%bp)
    jmp frame_ok

/* INT 18h: nothing to boot */
int18:
    movw $msg_noboot, %si
    call print_str
    jmp halt_forever

/* INT 1Ah: time of day, RTC, PCI BIOS */
int1a:
    ENTER
#ifdef TRACE13
    pushw %ax
    movb $'T', %al
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    popw %ax
#endif
    cmpb $0x00, %ah
    je t_get
    cmpb $0x01, %ah
    je t_set
    cmpb $0x02, %ah
    je t_rtc_time
    cmpb $0x04, %ah
    je t_rtc_date
    cmpb $0x03, %ah
    je t_ok
    cmpb $0x05, %ah
    je t_ok
    cmpb $0xB1, %ah
    je pci_bios
    jmp frame_err
t_get:
    cli
    movw 0x46C, %dx
    movw 0x46E, %cx
    movb 0x470, %al
    movb $0, 0x470
    movw %dx, F_DX(%bp)
    movw %cx, F_CX(%bp)
    movb %al, F_AX(%bp)
    jmp frame_ok
t_set:
    cli
    movw %dx, 0x46C
    movw %cx, 0x46E
    movb $0, 0x470
    jmp frame_ok
t_rtc_time:
    movb $4, %al
    call cmos_read
    movb %al, F_CX+1(%bp)
    movb $2, %al
    call cmos_read
    movb %al, F_CX(%bp)
    xorb %al, %al
    call cmos_read
    movb %al, F_DX+1(%bp)
    movb $0, F_DX(%bp)
    movb $0, F_AH(%bp)
    jmp frame_ok
t_rtc_date:
    movb $0x32, %al
    call cmos_read
    movb %al, F_CX+1(%bp)
    movb $9, %al
    call cmos_read
    movb %al, F_CX(%bp)
    movb $8, %al
    call cmos_read
    movb %al, F_DX+1(%bp)
    movb $7, %al
    call cmos_read
    movb %al, F_DX(%bp)
    movb $0, F_AH(%bp)
    jmp frame_ok
t_ok:
    movb $0, F_AH(%bp)
    jmp frame_ok

/* PCI BIOS 2.1 (configuration mechanism #1, bus 0 only) */
pci_bios:
    cmpb $0x01, %al
    je p_check
    cmpb $0x02, %al
    je p_find
    cmpb $0x08, %al
    jb p_bad
    cmpb $0x0D, %al
    ja p_bad
    /* EAX = 80000000 | bus << 16 | devfn << 8 | reg */
    movb %al, %cl
    movzwl %bx, %eax
    shll $8, %eax
    movw %di, %dx
    andb $0xFC, %dl
    movb %dl, %al
    orl $0x80000000, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw %di, %dx
    andw $3, %dx
    addw $0xCFC, %dx
    movl F_CX(%bp), %eax
    cmpb $0x08, %cl
    je 1f
    cmpb $0x09, %cl
    je 2f
    cmpb $0x0A, %cl
    je 3f
    cmpb $0x0B, %cl
    je 4f
    cmpb $0x0C, %cl
    je 5f
    outl %eax, %dx
    jmp p_done
1:  inb %dx, %al
    movb %al, F_CX(%bp)
    jmp p_done
2:  inw %dx, %ax
    movw %ax, F_CX(%bp)
    jmp p_done
3:  inl %dx, %eax
    movl %eax, F_CX(%bp)
    jmp p_done
4:  outb %al, %dx
    jmp p_done
5:  outw %ax, %dx
p_done:
    movb $0, F_AH(%bp)
    jmp frame_ok
p_check:
    movw $0x0001, F_AX(%bp)
    movw $0x0210, F_BX(%bp)
    movb $0, F_CX(%bp)
    movl $0x20494350, F_DX(%bp)
    movl $0, F_DI(%bp)
    jmp frame_ok
p_find:                     /* CX device, DX vendor, SI index -> BX */
    movw %dx, %bx
    shll $16, %ecx
    movw %bx, %cx            /* ECX = device:vendor */
    xorw %bx, %bx
1:  movzwl %bx, %eax
    shll $8, %eax
    orl $0x80000000, %eax
    movw $0xCF8, %dx
    outl %eax, %dx
    movw $0xCFC, %dx
    inl %dx, %eax
    cmpl %ecx, %eax
    jne 2f
    testw %si, %si
    jz 3f
    decw %si
2:  incb %bl
    jnz 1b
    movb $0x86, F_AH(%bp)
    jmp frame_err
3:  movw %bx, F_BX(%bp)
    jmp p_done
p_bad:
    movb $0x81, F_AH(%bp)
    jmp frame_err

/* INT 15h: system services */
int15:
    ENTER
#ifdef TRACE13
    pushw %ax
    movb $'F', %al
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    popw %ax
#endif
    cmpw $0xE820, %ax
    je m_e820
    cmpw $0xE801, %ax
    je m_e801
    cmpb $0x88, %ah
    je m_88
    cmpb $0x24, %ah
    je m_a20
    cmpb $0xC0, %ah
    je m_config
    cmpb $0xC1, %ah
    je m_ebda
    cmpb $0x86, %ah
    je m_wait
    cmpb $0x4F, %ah
    je frame_err             /* keyboard intercept: keep the key */
    cmpb $0x90, %ah
    je m_zero
    cmpb $0x91, %ah
    je m_zero
    movb $0x86, F_AH(%bp)    /* unsupported (APM 53h included: not present) */
    jmp frame_err
m_zero:
    movb $0, F_AH(%bp)
    jmp frame_ok
m_ebda:
    movw $EBDA_SEG, F_ES(%bp)
    jmp frame_ok
m_config:
    movw $config_table, F_BX(%bp)
    movw $0xF000, F_ES(%bp)
    movb $0, F_AH(%bp)
    jmp frame_ok
m_88:
    movb $0x31, %al
    call cmos_read
    movb %al, %ah
    movb $0x30, %al
    call cmos_read
    movw %ax, F_AX(%bp)
    jmp frame_ok
/* ext_kib: EAX = KiB above 1 MiB (0x34/0x35 in 64 KiB units when the memory passes 16 MiB) */
ext_kib:
    movb $0x35, %al
    call cmos_read
    movb %al, %ah
    movb $0x34, %al
    call cmos_read
    movzwl %ax, %eax
    testl %eax, %eax
    jz 1f
    shll $6, %eax
    addl $15 * 1024, %eax
    ret
1:  movb $0x31, %al
    call cmos_read
    movb %al, %ah
    movb $0x30, %al
    call cmos_read
    movzwl %ax, %eax
    ret
m_e801:
    movb $0x35, %al
    call cmos_read
    movb %al, %ah
    movb $0x34, %al
    call cmos_read
    movw %ax, F_BX(%bp)
    movw %ax, F_DX(%bp)
    call ext_kib
    cmpl $0x3C00, %eax
    jbe 1f
    movl $0x3C00, %eax
1:  movw %ax, F_AX(%bp)
    movw %ax, F_CX(%bp)
    jmp frame_ok
m_e820:                     /* EBX index, ES:DI 20-byte entry; the map of pc_e820_map */
    cmpl $0x534D4150, %edx
    jne m_e820_bad
    cmpl $4, %ebx
    jae m_e820_bad
    movw %bx, %si
    shlw $4, %si
    addw $e820_table, %si
    movl %cs:(%si), %eax
    movl %eax, %es:(%di)
    movl $0, %es:4(%di)
    movl %cs:4(%si), %eax
    cmpw $3, %bx
    jne 1f
    call ext_kib
    shll $10, %eax
1:  movl %eax, %es:8(%di)
    movl $0, %es:12(%di)
    movl %cs:8(%si), %eax
    movl %eax, %es:16(%di)
    incl %ebx
    cmpl $4, %ebx
    jb 2f
    xorl %ebx, %ebx
2:  movl %ebx, F_BX(%bp)
    movl $0x534D4150, F_AX(%bp)
    movl $20, F_CX(%bp)
    jmp frame_ok
m_e820_bad:
    movb $0x86, F_AH(%bp)
    jmp frame_err
m_a20:
    cmpb $3, %al
    je 3f
    cmpb $2, %al
    je 2f
    ja m_e820_bad
    movb %al, %bl
    shlb $1, %bl
    inb $0x92, %al
    andb $0xFC, %al
    orb %bl, %al
    outb %al, $0x92
    movb $0, F_AH(%bp)
    jmp frame_ok
2:  inb $0x92, %al
    shrb $1, %al
    andb $1, %al
    movw %ax, F_AX(%bp)
    movb $0, F_AH(%bp)
    jmp frame_ok
3:  movw $0x0002, F_BX(%bp)
    movb $0, F_AH(%bp)
    jmp frame_ok
m_wait:                     /* CX:DX microseconds: port 61h bit 4 toggles every 15.085 us */
    shll $16, %ecx
    movw %dx, %cx
    movl %ecx, %eax
    xorl %edx, %edx
    movl $15, %ecx
    divl %ecx
    movl %eax, %ecx
    inb $0x61, %al
    andb $0x10, %al
    movb %al, %ah
    jecxz 3f
1:  inb $0x61, %al
    andb $0x10, %al
    cmpb %ah, %al
    je 1b
    movb %al, %ah
    loopl 1b
3:  movb $0, F_AH(%bp)
    jmp frame_ok

/* ---------- INT 13h ---------- */
#define D_C 0x80
#define D_H 0x81
#define D_R 0x82
#define D_DRV 0x83
#define D_CNT 0x84
#define D_DONE 0x85
#define D_OP 0x86
#define D_SPT 0x87

int13:
    ENTER
#ifdef TRACE13
    pushw %ax
    movb $'D', %al
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    popw %ax
    pushw %ax
    outb %al, $0xE9
    movb %dl, %al
    outb %al, $0xE9
    movb %ch, %al
    outb %al, $0xE9
    movb %cl, %al
    outb %al, $0xE9
    movb %dh, %al
    outb %al, $0xE9
    movw %es, %ax
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    movb %bl, %al
    outb %al, $0xE9
    movb %bh, %al
    outb %al, $0xE9
    movw %ss, %ax
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    movw %sp, %ax
    outb %al, $0xE9
    movb %ah, %al
    outb %al, $0xE9
    popw %ax
#endif
    cmpb $0xE0, %dl
    je cd_int13              /* the CD-ROM (cdrom.S) */
    testb %dl, %dl
    jz cd_fd13               /* 00h: an El Torito floppy image, else back at fd_entry */
    testb $0x80, %dl
    jnz cd_hd13              /* 80h: an El Torito hard disk image, else on to hd_entry */
fd_entry:                   /* floppy */
    cmpb $0x00, %ah
    je d_ok
    cmpb $0x01, %ah
    je fd_status
    cmpb $0x08, %ah
    je fd_params
    cmpb $0x15, %ah
    je fd_type
    cmpb $0x16, %ah
    je d_ok
    cmpb $0x17, %ah
    je d_ok
    cmpb $0x18, %ah
    je d_ok
    cmpb $0x02, %ah
    jb d_bad
    cmpb $0x04, %ah
    jbe fd_rw
d_bad:
    movb $0x01, %ah
d_status:
    testb $0x80, F_DX(%bp)
    jnz 1f
    movb %ah, 0x441
    jmp frame_status
1:  movb %ah, 0x474
    jmp frame_status
d_ok:
    xorb %ah, %ah
    jmp d_status
fd_status:
    movb 0x441, %al
    movb %al, F_AX(%bp)
    xorb %ah, %ah
    jmp frame_status

/* fd_kind: DL drive -> BX = CMOS type (0 = none), CF on a bad drive */
fd_kind:
    cmpb $1, %dl
    ja 2f
    movb $0x10, %al
    call cmos_read
    testb %dl, %dl
    jnz 1f
    shrb $4, %al
1:  andb $0x0F, %al
    cmpb $5, %al
    ja 2f
    movzbw %al, %bx
    clc
    ret
2:  xorw %bx, %bx
    stc
    ret

fd_type:
    call fd_kind
    xorb %ah, %ah
    testw %bx, %bx
    jz 1f
    movb $0x01, %ah
1:  movb %ah, F_AH(%bp)
    jmp frame_ok

fd_params:
    call fd_kind
    testw %bx, %bx
    jz d_bad
    movb %bl, F_BX(%bp)
    movb %cs:fd_spt(%bx), %cl
    movb %cs:fd_cyls(%bx), %ch
    decb %ch
    movw %cx, F_CX(%bp)
    movb $0x10, %al
    call cmos_read
    xorb %dl, %dl
    testb $0xF0, %al
    jz 1f
    incb %dl
1:  testb $0x0F, %al
    jz 2f
    incb %dl
2:  movb $1, %dh
    movw %dx, F_DX(%bp)
    movw $diskette_param, F_DI(%bp)
    movw $0xF000, F_ES(%bp)
    movw $0, F_AX(%bp)
    jmp frame_ok

fdc_out:                    /* AL -> FDC FIFO */
    pushw %dx
    pushw %cx
    pushw %ax
    movw $0x3F4, %dx
    movw $0xFFFF, %cx
1:  inb %dx, %al
    andb $0xC0, %al
    cmpb $0x80, %al
    loopne 1b
    popw %ax
    incw %dx
    outb %al, %dx
    popw %cx
    popw %dx
    ret
fdc_in:                     /* FDC FIFO -> AL */
    pushw %dx
    pushw %cx
    movw $0x3F4, %dx
    movw $0xFFFF, %cx
1:  inb %dx, %al
    andb $0xC0, %al
    cmpb $0xC0, %al
    loopne 1b
    incw %dx
    inb %dx, %al
    popw %cx
    popw %dx
    ret

fd_rw:
    movb %ah, %fs:D_OP
    movb %al, %fs:D_CNT
    call fd_kind
    movb $0x80, %ah
    testw %bx, %bx
    jz d_status
    movb %cs:fd_spt(%bx), %bl
    movb %bl, %fs:D_SPT
    movb %dl, %fs:D_DRV
    movb %dh, %fs:D_H
    movb %ch, %fs:D_C
    andb $0x3F, %cl
    movb %cl, %fs:D_R
    movb $0, %fs:D_DONE
    /* ES:BX normalised: ES += BX >> 4, BX &= 15 */
    movw %bx, %ax
    movw F_BX(%bp), %bx
    movw %bx, %ax
    shrw $4, %ax
    movw %es, %cx
    addw %ax, %cx
    movw %cx, %es
    andw $15, %bx
fd_loop:
#ifdef TRACE13
    movb $'L', %al
    outb %al, $0xE9
    movb %fs:D_DONE, %al
    outb %al, $0xE9
    movb %fs:D_CNT, %al
    outb %al, $0xE9
    movw %sp, %ax
    outb %al, $0xE9
    movw %bp, %ax
    outb %al, $0xE9
#endif
    movb %fs:D_DONE, %al
    cmpb %fs:D_CNT, %al
    jae fd_done
    cmpb $0x03, %fs:D_OP
    jne 1f
    /* write: caller's sector into the bounce buffer */
    pushw %ds
    pushw %es
    pushw %es
    popw %ds
    movw %bx, %si
    pushw %fs
    popw %es
    movw $BOUNCE, %di
    movw $256, %cx
    rep movsw
    popw %es
    popw %ds
1:  /* DMA channel 2 at the bounce buffer (physical 9FE00h), 512 bytes */
    movb $0x06, %al
    outb %al, $0x0A
    outb %al, $0x0C
    movb $0x46, %al
    cmpb $0x03, %fs:D_OP
    jne 2f
    movb $0x4A, %al
2:  outb %al, $0x0B
    outb %al, $0x0C
    xorb %al, %al
    outb %al, $0x04
    movb $0xFE, %al
    outb %al, $0x04
    movb $0x09, %al
    outb %al, $0x81
    outb %al, $0x0C
    movb $0xFF, %al
    outb %al, $0x05
    movb $0x01, %al
    outb %al, $0x05
    movb $0x02, %al
    outb %al, $0x0A
    /* motor on, then READ DATA (E6h) or WRITE DATA (C5h) */
    movb %fs:D_DRV, %cl
    movb $0x10, %al
    shlb %cl, %al
    orb $0x0C, %al
    orb %cl, %al
    movw $0x3F2, %dx
    outb %al, %dx
    movb $0xE6, %al
    cmpb $0x03, %fs:D_OP
    jne 3f
    movb $0xC5, %al
3:  call fdc_out
    movb %fs:D_H, %al
    shlb $2, %al
    orb %fs:D_DRV, %al
    call fdc_out
    movb %fs:D_C, %al
    call fdc_out
    movb %fs:D_H, %al
    call fdc_out
    movb %fs:D_R, %al
    call fdc_out
    movb $2, %al
    call fdc_out
    movb %fs:D_SPT, %al
    call fdc_out
    movb $0x1B, %al
    call fdc_out
    movb $0xFF, %al
    call fdc_out
    call fdc_in              /* ST0 */
    movb %al, %dl
    call fdc_in              /* ST1 */
    movb %al, %dh
    movw $5, %cx
4:  call fdc_in
    loop 4b
    andb $0x7F, 0x43E
    testb $0xC0, %dl
    jz 5f
    movb $0x04, %ah          /* sector not found */
    testb $0x02, %dh
    jz fd_fail
    movb $0x03, %ah          /* write protected */
    jmp fd_fail
5:  cmpb $0x02, %fs:D_OP
    jne 6f
    pushw %ds
    pushw %fs
    popw %ds
    movw $BOUNCE, %si
    movw %bx, %di
    movw $256, %cx
    rep movsw
    popw %ds
6:  movw %es, %ax
    addw $0x20, %ax
    movw %ax, %es
    incb %fs:D_DONE
    incb %fs:D_R
    movb %fs:D_R, %al
    cmpb %fs:D_SPT, %al
    jbe fd_loop
    movb $1, %fs:D_R
    incb %fs:D_H
    cmpb $1, %fs:D_H
    jbe fd_loop
    movb $0, %fs:D_H
    incb %fs:D_C
    jmp fd_loop
fd_done:
    xorb %ah, %ah
fd_fail:
    movb %fs:D_DONE, %al
    movb %al, F_AX(%bp)
    jmp d_status

/* --- hard disks (IDE, LBA28 PIO) --- */
hd_entry:
    movzbw %dl, %si
    subw $0x80, %si
    movzbw 0x475, %di
    cmpw %di, %si
    jae d_bad
    shlw $4, %si
    addw $HDT, %si           /* FS:SI = disk entry */
    cmpb $0x02, %ah
    je hd_chs
    cmpb $0x03, %ah
    je hd_chs
    cmpb $0x04, %ah
    je d_ok
    cmpb $0x08, %ah
    je hd_params
    cmpb $0x15, %ah
    je hd_type
    cmpb $0x41, %ah
    je hd_edd_check
    cmpb $0x42, %ah
    je hd_ext
    cmpb $0x43, %ah
    je hd_ext
    cmpb $0x48, %ah
    je hd_edd_params
    cmpb $0x01, %ah
    je hd_status
    cmpb $0x00, %ah
    je d_ok
    cmpb $0x0C, %ah
    jb d_bad
    cmpb $0x47, %ah
    je d_ok
    cmpb $0x44, %ah
    je d_ok
    cmpb $0x14, %ah
    jbe d_ok
    jmp d_bad
hd_status:
    movb 0x474, %al
    movb %al, F_AX(%bp)
    xorb %ah, %ah
    jmp frame_status
hd_type:
    movzwl %fs:8(%si), %eax
    movzbl %fs:10(%si), %ecx
    mull %ecx
    movb %fs:11(%si), %cl
    mull %ecx
    movw %ax, F_DX(%bp)
    shrl $16, %eax
    movw %ax, F_CX(%bp)
    movb $0x03, F_AH(%bp)
    jmp frame_ok
hd_params:
    movw %fs:8(%si), %ax
    decw %ax
    movb %al, %ch
    movb %fs:11(%si), %cl
    shlb $6, %ah
    orb %ah, %cl
    movw %cx, F_CX(%bp)
    movb %fs:10(%si), %dh
    decb %dh
    movb 0x475, %dl
    movw %dx, F_DX(%bp)
    movw $0, F_AX(%bp)
    jmp frame_ok
hd_edd_check:
    cmpw $0x55AA, %bx
    jne d_bad
    movw $0xAA55, F_BX(%bp)
    movw $0x0001, F_CX(%bp)
    movb $0x21, F_AH(%bp)
    jmp frame_ok
hd_edd_params:              /* DS:SI result buffer */
    movw F_DS(%bp), %es
    movw F_SI(%bp), %di
    cmpw $26, %es:(%di)
    jb d_bad
    movw $26, %es:(%di)
    movw $0x0002, %es:2(%di)
    movzwl %fs:8(%si), %eax
    movl %eax, %es:4(%di)
    movzbl %fs:10(%si), %eax
    movl %eax, %es:8(%di)
    movzbl %fs:11(%si), %eax
    movl %eax, %es:12(%di)
    movl %fs:4(%si), %eax
    movl %eax, %es:16(%di)
    movl $0, %es:20(%di)
    movw $512, %es:24(%di)
    jmp d_ok
hd_chs:                     /* LBA = (C * heads + H) * spt + S - 1 */
    movb %ah, %fs:D_OP
    movzbw %al, %di          /* count */
    movb %cl, %ah
    shrb $6, %ah
    movb %ch, %al            /* AX = cylinder (bits 8-9 from CL 6-7) */
    movzwl %ax, %eax
    movzbl %fs:10(%si), %ebx
    mull %ebx
    movzbl F_DX + 1(%bp), %ebx   /* head (the MUL cleared DH) */
    addl %ebx, %eax
    movzbl %fs:11(%si), %ebx
    mull %ebx
    movzbl %cl, %ebx
    andb $0x3F, %bl
    jz d_bad
    decl %ebx
    addl %ebx, %eax
    movw F_BX(%bp), %bx
    movw %di, %cx
    call ata_rw
    movb %cl, F_AX(%bp)
    jmp d_status
hd_ext:                     /* DS:SI packet: size, count, offset, segment, LBA */
    movb %ah, %fs:D_OP
    pushw %ds
    movw F_DS(%bp), %ds
    movw F_SI(%bp), %di
    movw 2(%di), %cx
    movw 4(%di), %bx
    movw 6(%di), %es
    movl 8(%di), %eax
    movl 12(%di), %edx
    popw %ds
    testl %edx, %edx
    jnz d_bad
    cmpw $127, %cx
    ja d_bad
    call ata_rw
    pushw %ds
    movw F_DS(%bp), %ds
    movw F_SI(%bp), %di
    movw %cx, 2(%di)
    popw %ds
    jmp d_status

/* ata_rw: FS:SI disk, EAX LBA, CX count, ES:BX buffer, D_OP 02h/42h read else write.
 * Returns AH status and CX = sectors moved. */
ata_rw:
    pushw %di
    pushw %dx
    movw %bx, %dx            /* normalise ES:BX */
    shrw $4, %dx
    movw %es, %di
    addw %dx, %di
    movw %di, %es
    andw $15, %bx
    movw %cx, %fs:0x88       /* wanted */
    movw $0, %fs:0x8A        /* done */
1:  movw %fs:0x8A, %cx
    cmpw %fs:0x88, %cx
    jae 8f
    movl %eax, %ecx
    addl $1, %ecx
    movl %fs:4(%si), %edx
    cmpl %edx, %ecx
    ja 7f                    /* past the end */
    call ata_sector
    testb %dl, %dl           /* status (kept out of AH: EAX is the LBA) */
    jz 6f
    movb %dl, %ah
    jmp 9f
6:  incl %eax
    movw %es, %dx
    addw $0x20, %dx
    movw %dx, %es
    incw %fs:0x8A
    jmp 1b
7:  movb $0x04, %ah
    jmp 9f
8:  xorb %ah, %ah
9:  movw %fs:0x8A, %cx
    popw %dx
    popw %di
    ret

/* ata_wait: DX = status port; wait for BSY clear; AL = status (bounded) */
ata_wait:
    pushl %ecx
    movl $0x100000, %ecx
1:  inb %dx, %al
    testb $0x80, %al
    jz 2f
    loopl 1b
2:  popl %ecx
    ret

/* ata_sector: one sector at LBA EAX to/from ES:BX; AH = status */
ata_sector:
    pushl %eax
    pushw %cx
    pushw %di
    pushl %eax
    movw %fs:(%si), %dx
    addw $7, %dx
    call ata_wait
    subw $1, %dx             /* device/head */
    popl %eax
    pushl %eax
    shrl $24, %eax
    andb $0x0F, %al
    orb %fs:2(%si), %al
    orb $0xE0, %al
    outb %al, %dx
    subw $4, %dx             /* sector count */
    movb $1, %al
    outb %al, %dx
    popl %eax
    incw %dx
    outb %al, %dx
    incw %dx
    movb %ah, %al
    outb %al, %dx
    incw %dx
    shrl $16, %eax
    outb %al, %dx
    addw $2, %dx
    movb $0x20, %al
    movb %fs:D_OP, %ah
    cmpb $0x02, %ah
    je 1f
    cmpb $0x42, %ah
    je 1f
    movb $0x30, %al
1:  outb %al, %dx
    call ata_wait
    testb $0x01, %al
    jnz 8f
    testb $0x08, %al
    jz 8f
    subw $7, %dx
    movw $256, %cx
    movb %fs:D_OP, %ah
    cmpb $0x02, %ah
    je 2f
    cmpb $0x42, %ah
    je 2f
    pushw %ds
    pushw %es
    popw %ds
    pushw %si
    movw %bx, %si
    rep outsw
    popw %si
    popw %ds
    addw $7, %dx
    call ata_wait
    testb $0x01, %al
    jnz 8f
    jmp 3f
2:  movw %bx, %di
    rep insw
3:  xorb %ah, %ah
    jmp 9f
8:  movb $0x04, %ah
9:  movb %ah, %dl
    popw %di
    popw %cx
    popl %eax
    ret

/* ---------- IDE detection (POST) ---------- */
ide_detect:
    pushw %es
    movw $EBDA_SEG, %ax
    movw %ax, %fs
    movw %ax, %es
    xorw %bx, %bx            /* BX = probe 0..3 */
1:  movw %bx, %si
    shrw $1, %si
    shlw $1, %si
    movw %cs:ide_bases(%si), %dx
    /* nIEN in the device control register */
    pushw %dx
    addw $0x206, %dx
    movb $0x02, %al
    outb %al, %dx
    popw %dx
    addw $6, %dx
    movb $0xA0, %al
    testb $1, %bl
    jz 2f
    movb $0xB0, %al
2:  outb %al, %dx
    incw %dx
    inb %dx, %al
    cmpb $0xFF, %al
    je 9f
    testb %al, %al
    jz 10f                   /* status 0: a packet device after reset? */
    movb $0xEC, %al          /* IDENTIFY DEVICE */
    outb %al, %dx
    call ata_wait
    testb $0x01, %al
    jz 11f
10: call cd_probe            /* ATAPI CD-ROM (cdrom.S) */
    jmp 9f
11:
    testb $0x08, %al
    jz 9f
    subw $7, %dx
    movw $BOUNCE, %di
    movw $256, %cx
    rep insw
    /* new entry */
    movzbw 0x475, %di
    cmpw $4, %di
    jae 9f
    shlw $4, %di
    addw $HDT, %di
    movw %dx, %fs:(%di)
    movb $0, %fs:2(%di)
    testb $1, %bl
    jz 3f
    movb $0x10, %fs:2(%di)
3:  movl %fs:BOUNCE + 120, %eax
    movl %eax, %fs:4(%di)
    movw %fs:BOUNCE + 2, %ax      /* cylinders */
    movw %fs:BOUNCE + 6, %cx      /* heads */
    movw %fs:BOUNCE + 12, %dx     /* sectors per track */
    testw %dx, %dx
    jz 9f
4:  cmpw $1024, %ax
    jbe 5f
    cmpw $64, %cx
    ja 5f
    shrw $1, %ax
    shlw $1, %cx
    jmp 4b
5:  cmpw $1024, %ax
    jbe 6f
    movw $1024, %ax
6:  movw %ax, %fs:8(%di)
    movb %cl, %fs:10(%di)
    movb %dl, %fs:11(%di)
    /* fixed disk parameter table for disks 0 and 1 (INT 41h / 46h) */
    movzbw 0x475, %si
    cmpw $2, %si
    jae 7f
    pushw %di
    movw %si, %di
    shlw $4, %di
    addw $0x60, %di
    movw %ax, %fs:(%di)
    movb %cl, %fs:2(%di)
    movb %dl, %fs:14(%di)
    movw $0xFFFF, %fs:5(%di)
    shlw $2, %si
    movw %di, 0x41 * 4(%si)
    movw $EBDA_SEG, 0x41 * 4 + 2(%si)
    cmpw $0, %si
    je 8f
    movw %di, 0x46 * 4
    movw $EBDA_SEG, 0x46 * 4 + 2
    movw $0, 0x41 * 4 + 4
    movw $0, 0x41 * 4 + 6
8:  popw %di
7:  incb 0x475
9:  incw %bx
    cmpw $4, %bx
    jb 1b
    popw %es
    ret

/* ---------- INT 19h: boot loader ---------- */
int19:
    sti
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movb $0x3D, %al
    call cmos_read
    movb %al, %bl
    movb $0x38, %al
    call cmos_read
    shrb $4, %al
    movb %al, %bh
    testb %bl, %bl
    jnz 1f
    movw $0x0312, %bx        /* default: hard disk, floppy, CD-ROM */
1:  movw $3, %cx
b_next:
    movb %bl, %al
    andb $0x0F, %al
    shrw $4, %bx
    cmpb $1, %al
    je b_floppy
    cmpb $2, %al
    je b_disk
    cmpb $3, %al
    je b_cd
b_step:
    loop b_next
    int $0x18
b_cd:
    jmp cd_boot              /* El Torito (cdrom.S); back at b_step when it cannot boot */
b_floppy:
    movb $0x10, %al
    call cmos_read
    testb $0xF0, %al
    jz b_step
    xorb %dl, %dl
    jmp b_try
b_disk:
    cmpb $0, 0x475
    je b_step
    movb $0x80, %dl
b_try:
    pushw %bx
    pushw %cx
    movw $3, %di
1:  movw $0x0201, %ax
    movw $0x0001, %cx
    xorb %dh, %dh
    movw $0x7C00, %bx
    int $0x13
    jnc 2f
    xorb %ah, %ah
    int $0x13
    decw %di
    jnz 1b
    jmp b_fail
2:  testb $0x80, %dl
    jz b_go
    cmpw $0xAA55, 0x7DFE
    je b_go
b_fail:
    popw %cx
    popw %bx
    jmp b_step
b_go:
    movw $msg_boot, %si
    call print_str
    movb %dl, %al
    movzbl %al, %eax
    call print_hex32
    movw $msg_tsc, %si
    call print_str
    pushw %dx
    rdtsc
    call print_hex32
    movw $msg_crlf, %si
    call print_str
    popw %dx
    cli
    xorw %ax, %ax
    movw %ax, %ss
    movw $0x7C00, %sp
    movw %ax, %ds
    movw %ax, %es
    xorl %ebx, %ebx
    xorw %si, %si
    xorw %di, %di
    xorb %dh, %dh
    sti
    ljmp $0, $0x7C00

/* ---------- POST parts in their own files ---------- */
    .include "pci.S"
    .include "smbios.S"
#include "cdrom.S"

/* ---------- tables ---------- */
ide_bases:  .word 0x1F0, 0x170

/* VGA mode 3 registers: sequencer, CRTC, graphics controller, attribute controller */
vga_seq:    .byte 0x03, 0x00, 0x03, 0x00, 0x02
vga_crtc:   .byte 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E
            .byte 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3
            .byte 0xFF
vga_gc:     .byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF
vga_ac:     .byte 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07
            .byte 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F
            .byte 0x0C, 0x00, 0x0F, 0x08, 0x00

fd_spt:     .byte 0, 9, 15, 9, 18, 36
fd_cyls:    .byte 0, 40, 80, 80, 80, 80

/* INT 1Eh: diskette parameters (1.44M) */
diskette_param:
    .byte 0xDF, 0x02, 0x25, 0x02, 0x12, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08

/* INT 15h C0h: configuration table (AT-class, EBDA, INT 16h 09h no, 2nd PIC, RTC) */
config_table:
    .word 8
    .byte 0xFC, 0x01, 0x00, 0x74, 0x40, 0x00, 0x00, 0x00

/* E820: base, length (index 3: from CMOS), type; as devices/pc/loader.c pc_e820_map */
    .balign 4
e820_table:
    .long 0x00000, 0x9FC00, 1, 0
    .long 0x9FC00, 0x00400, 2, 0
    .long 0xE0000, 0x20000, 2, 0
    .long 0x100000, 0, 1, 0

kb_normal:
    .byte 0, 27
    .ascii "1234567890-="
    .byte 8, 9
    .ascii "qwertyuiop[]"
    .byte 13, 0
    .ascii "asdfghjkl;'`"
    .byte 0
    .ascii "\\zxcvbnm,./"
    .byte 0, '*', 0, ' '
    .fill 0x59 - 0x3A, 1, 0
kb_shift:
    .byte 0, 27
    .ascii "!@#$%^&*()_+"
    .byte 8, 0
    .ascii "QWERTYUIOP{}"
    .byte 13, 0
    .ascii "ASDFGHJKL:\"~"
    .byte 0
    .ascii "|ZXCVBNM<>?"
    .byte 0, '*', 0, ' '
    .fill 0x59 - 0x3A, 1, 0

/* vector, handler pairs; FFFFh ends */
ivt_table:
    .word 0x08, irq_timer, 0x09, irq_kbd, 0x0A, irq_master, 0x0B, irq_master
    .word 0x0C, irq_master, 0x0D, irq_master, 0x0E, irq_floppy, 0x0F, irq_master
    .word 0x70, irq_rtc, 0x71, irq_slave, 0x72, irq_slave, 0x73, irq_slave
    .word 0x74, irq_slave, 0x75, irq_slave, 0x76, irq_ide, 0x77, irq_ide
    .word 0x11, int11, 0x12, int12, 0x13, int13, 0x14, int14
    .word 0x15, int15, 0x16, int16, 0x17, int17, 0x18, int18, 0x19, int19
    .word 0x1A, int1a, 0x1E, diskette_param
    .word 0xFFFF

msg_banner: .asciz "anyvm BIOS\r\n"
msg_noboot: .asciz "No bootable device.\r\n"
msg_boot:   .asciz "Booting from drive "
msg_tsc:    .asciz ", TSC "
msg_crlf:   .asciz "\r\n"

/* ---------- reset vector ---------- */
    .org 0xFFF0
    ljmp $0xF000, $post
    .ascii "11/21/26"
    .byte 0, 0xFC, 0
