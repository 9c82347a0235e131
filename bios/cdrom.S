/* cdrom.S: the BIOS's ATAPI CD-ROM: POST detection, INT 13h (EDD, El Torito 4Bh), CD boot. */
/*
 * Included by bios.S (same segment, same macros). The first ATAPI CD-ROM found at POST is
 * BIOS drive E0h. Its state lives in the EBDA at CD (below); packets go out by PIO with the
 * drive's interrupt masked (nIEN, set by ide_detect), 2048 bytes per DRQ chunk.
 * El Torito (Phoenix/IBM "El Torito" Bootable CD-ROM Format Specification 1.0): the Boot
 * Record Volume Descriptor at sector 17 points at the boot catalog; its validation entry
 * (header 01h, key 55AAh, words summing to 0) is followed by the initial/default entry
 * (88h = bootable, media type, load segment, sector count in 512-byte units, image LBA).
 * No-emulation images and floppy emulation (the image becomes drive 00h) boot; see
 * docs/bios.md.
 */

#define CD        0x1C0      /* EBDA offset of the CD state */
#define CD_DRV    CD + 0     /* byte: BIOS drive number (E0h), 0 = no CD-ROM */
#define CD_MEDIA  CD + 1     /* byte: El Torito media type of the booted image (0 = none) */
#define CD_BASE   CD + 2     /* word: command block I/O base */
#define CD_SEL    CD + 4     /* byte: device register drive bit (00h / 10h) */
#define CD_CTRL   CD + 5     /* byte: controller index (0 primary, 1 secondary) */
#define CD_SLAVE  CD + 6     /* byte: 1 = slave */
#define CD_BOOTED CD + 7     /* byte: 1 = booted from this CD */
#define CD_ILBA   CD + 8     /* dword: boot image LBA */
#define CD_LSEG   CD + 12    /* word: boot image load segment */
#define CD_SCNT   CD + 14    /* word: boot image sectors (512-byte units) */
#define CD_LEFT   CD + 16    /* dword: data-in bytes the caller still wants */
#define CD_PKT    CD + 20    /* 12 bytes: the ATAPI packet */
#define CD_WANT   CD + 32    /* dword: data-in bytes asked for */
#define CD_SKIP   CD + 36    /* dword: data-in bytes to drop before keeping any */
#define CD_EMUL   CD + 40    /* byte: 1 = drive 00h is the floppy image, 2 = 80h the disk */
#define CD_SPT    CD + 41    /* byte: its sectors per track (2 heads, 80 cylinders) */
#define CD_FDTYPE CD + 42    /* byte: its INT 13h 08h drive type */
#define CD_HEADS  CD + 43    /* byte: heads of the emulated drive */
#define CD_VTOTAL CD + 44    /* dword: 512-byte sectors of the emulated drive */
#define CD_CYLS   CD + 48    /* word: its cylinders (at most 1024) */
#define CD_DRIVE_NO 0xE0

/* cd_probe (POST, from ide_detect when a device reads status 0 after reset, as a packet
 * device does, or aborts IDENTIFY DEVICE): DX = status port, BL = probe index (bit 1
 * channel, bit 0 slave), ES = FS = EBDA. Records the first device that answers IDENTIFY
 * PACKET DEVICE as a CD-ROM (absent devices and ATA disks do not). */
cd_probe:
    pushw %ax
    pushw %cx
    pushw %dx
    pushw %di
    cmpb $0, %fs:CD_DRV
    jne 9f
    movb $0xA1, %al          /* IDENTIFY PACKET DEVICE */
    outb %al, %dx
    call ata_wait
    testb $0x01, %al
    jnz 9f
    testb $0x08, %al
    jz 9f
    subw $7, %dx
    movw $BOUNCE, %di
    movw $256, %cx
    rep insw
    movw %fs:BOUNCE, %ax     /* word 0: packet protocol (10b), device type 05h (CD-ROM) */
    andw $0xDF00, %ax
    cmpw $0x8500, %ax
    jne 9f
    movw %dx, %fs:CD_BASE
    movb %bl, %al
    andb $1, %al
    movb %al, %fs:CD_SLAVE
    shlb $4, %al
    movb %al, %fs:CD_SEL
    movb %bl, %al
    shrb $1, %al
    movb %al, %fs:CD_CTRL
    movb $CD_DRIVE_NO, %fs:CD_DRV
9:  popw %di
    popw %dx
    popw %cx
    popw %ax
    ret

/* cd_packet: run the packet at FS:CD_PKT; data-in goes to ES:DI, of which CD_LEFT bytes are
 * kept and the rest read and dropped. Returns CF clear and AL = 0, or CF set and AL = the
 * error register (sense key in bits 4-7, never 0). ES:DI end up past the data (normalised). */
cd_packet:
    pushw %cx
    pushw %dx
    pushw %si
    movl %fs:CD_LEFT, %ecx
    movl %ecx, %fs:CD_WANT
    call cd_norm
    movw %fs:CD_BASE, %dx
    addw $7, %dx
    call ata_wait
    decw %dx                 /* device: select the CD */
    movb %fs:CD_SEL, %al
    orb $0xA0, %al
    outb %al, %dx
    incw %dx
    call ata_wait
    subw $6, %dx             /* features: PIO */
    xorb %al, %al
    outb %al, %dx
    addw $3, %dx             /* byte count limit 2048 */
    outb %al, %dx
    incw %dx
    movb $0x08, %al
    outb %al, %dx
    addw $2, %dx
    movb $0xA0, %al          /* PACKET */
    outb %al, %dx
    call ata_wait
    testb $0x01, %al
    jnz 8f
    testb $0x08, %al
    jz 7f
    subw $7, %dx
    pushw %ds
    pushw %fs
    popw %ds
    movw $CD_PKT, %si
    movw $6, %cx
    rep outsw
    popw %ds
    addw $7, %dx
1:  call ata_wait            /* DX = status port */
    testb $0x01, %al
    jnz 8f
    testb $0x08, %al
    jz 6f
    subw $2, %dx             /* byte count of this chunk */
    inb %dx, %al
    movb %al, %ch
    decw %dx
    inb %dx, %al
    movb %al, %cl
    subw $4, %dx             /* data port */
    incw %cx
    shrw $1, %cx
    movzwl %cx, %ecx         /* words in the chunk */
    movl %fs:CD_SKIP, %eax   /* words to drop first */
    shrl $1, %eax
    cmpl %ecx, %eax
    jbe 20f
    movl %ecx, %eax
20: subl %eax, %ecx
    pushw %cx
    movw %ax, %cx
    shll $1, %eax
    subl %eax, %fs:CD_SKIP
    jcxz 22f
21: inw %dx, %ax
    loop 21b
22: popw %cx
    movl %fs:CD_LEFT, %eax
    shrl $1, %eax            /* words still wanted */
    cmpl %ecx, %eax
    jbe 2f
    movl %ecx, %eax
2:  subl %eax, %ecx          /* ECX = words to drop */
    pushw %cx
    movw %ax, %cx
    shll $1, %eax
    subl %eax, %fs:CD_LEFT
    rep insw
    popw %cx
    jcxz 4f
3:  inw %dx, %ax
    loop 3b
4:  call cd_norm
    addw $7, %dx
    jmp 1b
6:  xorb %al, %al
    clc
    jmp 9f
7:  movb $0x04, %al          /* no DRQ for the packet: "aborted" */
    stc
    jmp 9f
8:  subw $6, %dx             /* error register */
    inb %dx, %al
    orb $0x04, %al
    stc
9:  popw %si
    popw %dx
    popw %cx
    ret

/* cd_norm: ES:DI with DI < 16 */
cd_norm:
    pushw %ax
    movw %di, %ax
    shrw $4, %ax
    pushw %bx
    movw %es, %bx
    addw %ax, %bx
    movw %bx, %es
    popw %bx
    andw $15, %di
    popw %ax
    ret

/* cd_pkt_clear: zero the packet, AL = opcode */
cd_pkt_clear:
    movl $0, %fs:CD_PKT + 4
    movl $0, %fs:CD_PKT + 8
    movzbl %al, %eax
    movl %eax, %fs:CD_PKT
    ret

/* cd_read: READ(10) of CX blocks from LBA EAX into ES:DI, keeping CD_LEFT bytes (set by the
 * caller). Retries once after a unit attention. CF/AL as cd_packet; EAX clobbered. */
cd_read:
    pushl %ebx
    pushl %edx
    pushw %si
    movl %fs:CD_LEFT, %edx
    movw %di, %si
    movl %eax, %ebx
    movb $0x28, %al
    call cd_pkt_clear
    movl %ebx, %eax
    xchgb %ah, %al           /* LBA big-endian in bytes 2-5 */
    roll $16, %eax
    xchgb %ah, %al
    movl %eax, %fs:CD_PKT + 2
    movb %ch, %fs:CD_PKT + 7
    movb %cl, %fs:CD_PKT + 8
    movw %es, %bx
    call cd_packet
    jnc 1f
    movb %al, %ah
    andb $0xF0, %ah
    cmpb $0x60, %ah          /* UNIT ATTENTION (medium may have changed): once more */
    jne 2f
    movw %bx, %es
    movw %si, %di
    movl %edx, %fs:CD_LEFT
    call cd_packet
    jnc 1f
2:  stc
1:  popw %si
    popl %edx
    popl %ebx
    ret

/* cd_ready: TEST UNIT READY until it passes (REQUEST SENSE after each failure, which also
 * clears a fresh unit attention); CF when the unit never gets ready. */
cd_ready:
    pushw %cx
    pushw %es
    pushw %di
    movw $8, %cx
1:  movb $0x00, %al          /* TEST UNIT READY */
    call cd_pkt_clear
    movl $0, %fs:CD_LEFT
    call cd_packet
    jnc 9f
    movb $0x03, %al          /* REQUEST SENSE, 18 bytes into the bounce buffer */
    call cd_pkt_clear
    movb $18, %fs:CD_PKT + 4
    movl $18, %fs:CD_LEFT
    pushw %fs
    popw %es
    movw $BOUNCE, %di
    call cd_packet
    loop 1b
    stc
9:  popw %di
    popw %es
    popw %cx
    ret

/* ---------- INT 13h for drive E0h (frame from ENTER, DS = 0, FS = EBDA) ---------- */
cd_int13:
    cmpb $CD_DRIVE_NO, %fs:CD_DRV
    jne d_bad
    cmpb $0x42, %ah
    je cd_ext_read
    cmpb $0x4B, %ah
    je cd_eltorito
    cmpb $0x41, %ah
    je hd_edd_check
    cmpb $0x48, %ah
    je cd_edd_params
    cmpb $0x01, %ah
    je hd_status
    cmpb $0x03, %ah
    je cd_wprot
    cmpb $0x43, %ah
    je cd_wprot
    cmpb $0x00, %ah          /* reset, verify, seek, ready, recalibrate: nothing to do */
    je d_ok
    cmpb $0x04, %ah
    je d_ok
    cmpb $0x0C, %ah
    je d_ok
    cmpb $0x0D, %ah
    je d_ok
    cmpb $0x10, %ah
    je d_ok
    cmpb $0x44, %ah
    je d_ok
    cmpb $0x47, %ah
    je d_ok
    jmp d_bad
cd_wprot:
    movb $0x03, %ah
    jmp d_status

cd_ext_read:                /* DS:SI packet: size, count (2048-byte blocks), buffer, LBA */
    pushw %ds
    movw F_DS(%bp), %ds
    movw F_SI(%bp), %si
    movw 2(%si), %cx
    movw 4(%si), %di
    movw 6(%si), %es
    movl 8(%si), %eax
    movl 12(%si), %edx
    movw $0, 2(%si)
    popw %ds
    testl %edx, %edx
    jnz d_bad
    testw %cx, %cx
    jz d_ok
    movzwl %cx, %edx
    shll $11, %edx
    movl %edx, %fs:CD_LEFT
    call cd_read
    setc %bl
    movl %fs:CD_WANT, %edx   /* blocks moved: (asked - left) / 2048 */
    subl %fs:CD_LEFT, %edx
    shrl $11, %edx
    movb $0, %ah
    testb %bl, %bl
    jz 1f
    movb $0x0C, %ah          /* unsupported track / media error... */
    andb $0xF0, %al
    cmpb $0x20, %al          /* NOT READY: "drive not ready" */
    jne 1f
    movb $0xAA, %ah
1:  pushw %ds
    movw F_DS(%bp), %ds
    movw F_SI(%bp), %si
    movw %dx, 2(%si)
    popw %ds
    jmp d_status

cd_edd_params:              /* DS:SI result buffer; capacity from READ CAPACITY */
    movb $0x25, %al
    call cd_pkt_clear
    movl $8, %fs:CD_LEFT
    pushw %fs
    popw %es
    movw $BOUNCE, %di
    call cd_packet
    movl $0, %ebx
    jc 1f
    movl %fs:BOUNCE, %ebx    /* last LBA, big-endian */
    xchgb %bh, %bl
    roll $16, %ebx
    xchgb %bh, %bl
    incl %ebx
1:  movw F_DS(%bp), %es
    movw F_SI(%bp), %di
    cmpw $26, %es:(%di)
    jb d_bad
    movw $26, %es:(%di)
    movw $0x0014, %es:2(%di)  /* removable, change line */
    movl $0, %es:4(%di)
    movl $0, %es:8(%di)
    movl $0, %es:12(%di)
    movl %ebx, %es:16(%di)
    movl $0, %es:20(%di)
    movw $2048, %es:24(%di)
    jmp d_ok

cd_eltorito:                /* 4B00h terminate / 4B01h status: specification packet at DS:SI */
    cmpb $0x01, %al
    ja d_bad
    cmpb $0, %fs:CD_BOOTED
    je d_bad
    movw F_DS(%bp), %es
    movw F_SI(%bp), %di
    movb $0x13, %es:(%di)
    movb %fs:CD_MEDIA, %al
    movb %al, %es:1(%di)
    movb %fs:CD_DRV, %al
    movb %al, %es:2(%di)
    movb %fs:CD_CTRL, %al
    movb %al, %es:3(%di)
    movl %fs:CD_ILBA, %eax
    movl %eax, %es:4(%di)
    movzbw %fs:CD_SLAVE, %ax
    movw %ax, %es:8(%di)
    movw $0, %es:10(%di)
    movw %fs:CD_LSEG, %ax
    movw %ax, %es:12(%di)
    movw %fs:CD_SCNT, %ax
    movw %ax, %es:14(%di)
    movw $0, %es:16(%di)
    movb $0, %es:18(%di)
    jmp d_ok

/* ---------- INT 13h drive 00h while it is an El Torito floppy image ---------- */
cd_fd13:
    cmpb $0, %fs:CD_EMUL
    je fd_entry
    cmpb $0x02, %ah
    je cd_fd_read
    cmpb $0x08, %ah
    je cd_fd_params
    cmpb $0x15, %ah
    je cd_fd_type
    cmpb $0x01, %ah
    je fd_status
    cmpb $0x03, %ah
    je cd_wprot
    cmpb $0x05, %ah
    je cd_wprot
    cmpb $0x00, %ah          /* reset, verify, change line (never changed), media type */
    je d_ok
    cmpb $0x04, %ah
    je d_ok
    cmpb $0x16, %ah
    je d_ok
    cmpb $0x17, %ah
    je d_ok
    cmpb $0x18, %ah
    je d_ok
    jmp d_bad
cd_fd_type:
    movb $0x01, F_AH(%bp)    /* a floppy drive without change line */
    jmp frame_ok
cd_fd_params:
    movzbw %fs:CD_FDTYPE, %ax
    movw %ax, F_BX(%bp)
    movb %fs:CD_SPT, %cl
    movb $79, %ch
    movw %cx, F_CX(%bp)
    movw $0x0101, F_DX(%bp)  /* last head 1, one drive */
    movw $diskette_param, F_DI(%bp)
    movw $0xF000, F_ES(%bp)
    movw $0, F_AX(%bp)
    jmp frame_ok
cd_fd_read:                 /* AL sectors at CHS CH/CL/DH to ES:BX, one 512-byte sector each */
    movzbw %al, %si          /* SI = sectors asked */
    movzbl %ch, %eax         /* LBA = (C * 2 + H) * spt + S - 1 */
    shll $1, %eax
    movzbl %dh, %edx
    andb $1, %dl
    addl %edx, %eax
    movzbl %fs:CD_SPT, %edx
    imull %edx, %eax
    andl $0x3F, %ecx
    jz d_bad
    decl %ecx
    cmpb %fs:CD_SPT, %cl
    jae d_bad
    addl %ecx, %eax
    movw %bx, %di
    call cd_vread
    movb %bl, F_AX(%bp)
    jmp d_status

/* cd_vread: SI 512-byte sectors of the emulated drive from sector EAX to ES:DI, one READ(10)
 * each (keeping the right quarter of the CD block). Returns BX = sectors done, AH = status. */
cd_vread:
    xorw %bx, %bx            /* BX = sectors done */
1:  cmpw %si, %bx
    jae 3f
    cmpl %fs:CD_VTOTAL, %eax /* past the image? */
    jae 2f
    pushl %eax
    movl %eax, %edx
    andl $3, %edx
    shll $9, %edx
    movl %edx, %fs:CD_SKIP
    movl $512, %fs:CD_LEFT
    shrl $2, %eax
    addl %fs:CD_ILBA, %eax
    movw $1, %cx
    call cd_read
    movl $0, %fs:CD_SKIP
    popl %eax
    jc 2f
    incl %eax
    incw %bx
    jmp 1b
2:  movb $0x04, %ah          /* sector not found / read error */
    ret
3:  xorb %ah, %ah
    ret

/* ---------- INT 13h drive 80h while it is an El Torito hard disk image ---------- */
/* cd_hd13: DL >= 80h. Without hard disk emulation the disks; with it 80h is the image and
 * 81h.. are the IDE disks 80h.. */
cd_hd13:
    cmpb $2, %fs:CD_EMUL
    jne hd_entry
    cmpb $0x80, %dl
    je 1f
    decb %dl
    jmp hd_entry
1:  cmpb $0x02, %ah
    je cd_hd_chs
    cmpb $0x42, %ah
    je cd_hd_ext
    cmpb $0x41, %ah
    je hd_edd_check
    cmpb $0x08, %ah
    je cd_hd_params
    cmpb $0x48, %ah
    je cd_hd_edd
    cmpb $0x15, %ah
    je cd_hd_type
    cmpb $0x01, %ah
    je hd_status
    cmpb $0x03, %ah
    je cd_wprot
    cmpb $0x43, %ah
    je cd_wprot
    cmpb $0x00, %ah
    je d_ok
    cmpb $0x04, %ah
    je d_ok
    cmpb $0x0C, %ah
    jb d_bad
    cmpb $0x14, %ah
    jbe d_ok
    cmpb $0x44, %ah
    je d_ok
    cmpb $0x47, %ah
    je d_ok
    jmp d_bad
cd_hd_type:
    movl %fs:CD_VTOTAL, %eax
    movw %ax, F_DX(%bp)
    shrl $16, %eax
    movw %ax, F_CX(%bp)
    movb $0x03, F_AH(%bp)
    jmp frame_ok
cd_hd_params:
    movw %fs:CD_CYLS, %ax
    decw %ax
    movb %al, %ch
    movb %fs:CD_SPT, %cl
    shlb $6, %ah
    orb %ah, %cl
    movw %cx, F_CX(%bp)
    movb %fs:CD_HEADS, %dh
    decb %dh
    movb 0x475, %dl
    incb %dl
    movw %dx, F_DX(%bp)
    movw $0, F_AX(%bp)
    jmp frame_ok
cd_hd_edd:
    movw F_DS(%bp), %es
    movw F_SI(%bp), %di
    cmpw $26, %es:(%di)
    jb d_bad
    movw $26, %es:(%di)
    movw $0x0002, %es:2(%di)
    movzwl %fs:CD_CYLS, %eax
    movl %eax, %es:4(%di)
    movzbl %fs:CD_HEADS, %eax
    movl %eax, %es:8(%di)
    movzbl %fs:CD_SPT, %eax
    movl %eax, %es:12(%di)
    movl %fs:CD_VTOTAL, %eax
    movl %eax, %es:16(%di)
    movl $0, %es:20(%di)
    movw $512, %es:24(%di)
    jmp d_ok
cd_hd_chs:                  /* LBA = (C * heads + H) * spt + S - 1 */
    movzbw %al, %si
    movb %cl, %ah
    shrb $6, %ah
    movb %ch, %al
    movzwl %ax, %eax
    movzbl %fs:CD_HEADS, %ebx
    mull %ebx
    movzbl F_DX + 1(%bp), %ebx   /* head (the MUL cleared DH) */
    addl %ebx, %eax
    movzbl %fs:CD_SPT, %ebx
    mull %ebx
    andl $0x3F, %ecx
    jz d_bad
    decl %ecx
    addl %ecx, %eax
    movw F_BX(%bp), %di
    call cd_vread
    movb %bl, F_AX(%bp)
    jmp d_status
cd_hd_ext:                  /* DS:SI packet: size, count, offset, segment, LBA */
    pushw %ds
    movw F_DS(%bp), %ds
    movw F_SI(%bp), %bx
    movw 2(%bx), %si
    movw 4(%bx), %di
    movw 6(%bx), %es
    movl 8(%bx), %eax
    movl 12(%bx), %edx
    popw %ds
    testl %edx, %edx
    jnz d_bad
    cmpw $127, %si
    ja d_bad
    call cd_vread
    pushw %ds
    movw F_DS(%bp), %ds
    movw F_SI(%bp), %si
    movw %bx, 2(%si)
    popw %ds
    jmp d_status

/* ---------- El Torito boot (from INT 19h: DS = ES = 0, BX/CX the boot order loop) ---------- */
cd_boot:
    pushw %bx
    pushw %cx
    movw $EBDA_SEG, %ax
    movw %ax, %fs
    movw $msg_cdnone, %si
    cmpb $CD_DRIVE_NO, %fs:CD_DRV
    jne cb_fail
    movw $msg_cdnotready, %si
    call cd_ready
    jc cb_fail
    movw $msg_cdnoboot, %si
    movl $17, %eax           /* Boot Record Volume Descriptor */
    call cd_read_7c00
    jc cb_fail
    movw $cd_brvd, %bx       /* 00h "CD001" 01h "EL TORITO SPECIFICATION" */
    movw $0x7C00, %di
    movw $0x1E, %cx
1:  movb %cs:(%bx), %al
    cmpb %al, (%di)
    jne cb_fail
    incw %bx
    incw %di
    loop 1b
    movl 0x7C47, %eax        /* boot catalog LBA */
    call cd_read_7c00
    jc cb_fail
    cmpb $0x01, 0x7C00       /* validation entry: header, key, checksum */
    jne cb_fail
    cmpw $0xAA55, 0x7C1E
    jne cb_fail
    xorw %ax, %ax
    movw $0x7C00, %di
    movw $16, %cx
2:  addw (%di), %ax
    addw $2, %di
    loop 2b
    testw %ax, %ax
    jnz cb_fail
    cmpb $0x88, 0x7C20       /* initial/default entry: bootable */
    jne cb_fail
    movw $msg_cdemul, %si
    movb 0x7C21, %al
    andb $0x0F, %al
    cmpb $4, %al
    ja cb_fail
    movb %al, %fs:CD_MEDIA
    movb $2, %fs:CD_HEADS
    movzbw %al, %bx
    movb %cs:cd_fd_spts(%bx), %ah
    movb %ah, %fs:CD_SPT
    movb %cs:cd_fd_types(%bx), %ah
    movb %ah, %fs:CD_FDTYPE
    movw 0x7C22, %ax
    testw %ax, %ax
    jnz 3f
    movw $0x07C0, %ax
3:  movw %ax, %fs:CD_LSEG
    movw 0x7C26, %ax
    testw %ax, %ax
    jnz 4f
    movw $4, %ax             /* no count: one CD block */
4:  movw %ax, %fs:CD_SCNT
    movl 0x7C28, %eax
    movl %eax, %fs:CD_ILBA
    movzwl %fs:CD_SCNT, %ecx /* load: count * 512 bytes of ceil(count / 4) blocks */
    shll $9, %ecx
    movl %ecx, %fs:CD_LEFT
    movw %fs:CD_SCNT, %cx
    addw $3, %cx
    shrw $2, %cx
    movw %fs:CD_LSEG, %es
    xorw %di, %di
    movw $msg_cdnoboot, %si
    call cd_read
    jc cb_fail
    movb $1, %fs:CD_BOOTED
    xorw %ax, %ax
    movw %ax, %es
    movl $CD_DRIVE_NO, %edx
    cmpb $0, %fs:CD_MEDIA
    je 5f
    cmpb $4, %fs:CD_MEDIA
    je 6f
    movb $1, %fs:CD_EMUL     /* floppy image as drive 00h; the equipment word shows a floppy */
    orw $1, 0x410
    movzbl %fs:CD_SPT, %eax
    imull $160, %eax
    movl %eax, %fs:CD_VTOTAL
    movw $80, %fs:CD_CYLS
    xorl %edx, %edx
    jmp 5f
6:  call cd_hd_geometry      /* hard disk image as drive 80h, the IDE disks move up one */
    movb $2, %fs:CD_EMUL
    movl $0x80, %edx
5:  movw $msg_boot, %si
    call print_str
    movl %edx, %eax
    call print_hex32
    movw $msg_tsc, %si
    call print_str
    pushl %edx               /* the boot drive (RDTSC writes EDX) */
    rdtsc
    call print_hex32
    popl %edx
    movw $msg_crlf, %si
    call print_str
    cli
    xorw %ax, %ax
    movw %ax, %ss
    movw $0x7C00, %sp
    movw %ax, %ds
    movw %ax, %es
    pushw %fs:CD_LSEG
    pushw %ax
    movzbw %dl, %dx
    xorl %ebx, %ebx
    xorw %si, %si
    xorw %di, %di
    sti
    lret
cb_fail:
    call print_str
    popw %cx
    popw %bx
    jmp b_step

/* cd_hd_geometry: the emulated disk's geometry from the partition table of its MBR (loaded
 * at CD_LSEG:0): heads and sectors per track from the first entry's end CHS (else 16/63), size
 * the highest partition end (at least one cylinder), cylinders = size / (heads * spt) */
cd_hd_geometry:
    pushw %es
    movw %fs:CD_LSEG, %es
    movb $16, %fs:CD_HEADS
    movb $63, %fs:CD_SPT
    movl $0, %fs:CD_VTOTAL
    movw $0x1BE, %di
1:  cmpb $0, %es:4(%di)      /* partition type */
    je 3f
    movb %es:5(%di), %al     /* end head */
    movb %es:6(%di), %ah     /* end sector */
    andb $0x3F, %ah
    jz 2f
    incb %al
    jz 2f
    cmpw $0x1BE, %di
    jne 2f
    movb %al, %fs:CD_HEADS
    movb %ah, %fs:CD_SPT
2:  movl %es:8(%di), %eax    /* start + count */
    addl %es:12(%di), %eax
    jc 3f
    cmpl %fs:CD_VTOTAL, %eax
    jbe 3f
    movl %eax, %fs:CD_VTOTAL
3:  addw $16, %di
    cmpw $0x1FE, %di
    jb 1b
    movzbl %fs:CD_HEADS, %ecx
    movzbl %fs:CD_SPT, %eax
    imull %eax, %ecx         /* ECX = sectors per cylinder */
    movl %fs:CD_VTOTAL, %eax
    cmpl %ecx, %eax
    jae 4f
    movl %ecx, %eax
    movl %eax, %fs:CD_VTOTAL
4:  xorl %edx, %edx
    divl %ecx
    cmpl $1024, %eax
    jbe 5f
    movl $1024, %eax
5:  movw %ax, %fs:CD_CYLS
    popw %es
    ret

/* cd_read_7c00: one block at LBA EAX into 0000:7C00 (ES = 0 after) */
cd_read_7c00:
    pushw %cx
    xorw %cx, %cx
    movw %cx, %es
    movw $0x7C00, %di
    movl $2048, %fs:CD_LEFT
    incw %cx
    call cd_read
    movw $0, %cx             /* keep CF */
    movw %cx, %es
    popw %cx
    ret

/* El Torito media types 0-4: sectors per track, INT 13h 08h drive type */
cd_fd_spts:     .byte 0, 15, 18, 36, 0
cd_fd_types:    .byte 0, 2, 4, 6, 0
cd_brvd:        .byte 0
                .ascii "CD001"
                .byte 1
                .ascii "EL TORITO SPECIFICATION"
msg_cdnone:     .asciz "No CD-ROM drive.\r\n"
msg_cdnotready: .asciz "CD-ROM: not ready.\r\n"
msg_cdnoboot:   .asciz "CD-ROM: no bootable El Torito image.\r\n"
msg_cdemul:     .asciz "CD-ROM: unknown El Torito media type.\r\n"
