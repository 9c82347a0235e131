/* smbios.S: the F-segment tables an OS scans for: SMBIOS 2.4 and the $PnP installation check. */
/*
 * Included from bios.S. The structures are assembled here; smbios_post fills in what depends
 * on the machine (the processor's CPUID vendor, signature and feature flags; the RAM size
 * from CMOS 0x30/0x31 and 0x34/0x35) and the two entry point checksums. That works because
 * POST runs from the writable F-segment shadow RAM (PAM0 = 30h when POST starts). Handles:
 * 0000h BIOS (type 0), 0100h system (1), 0300h chassis (3), 0400h processor (4), 1000h memory
 * array (16), 1100h memory device (17), 1300h array mapped address (19), 2000h boot
 * information (32), 7F00h end of table (127).
 * The PnP BIOS installation check structure ($PnP, Plug and Play BIOS Specification 1.0A,
 * 4.4) announces real- and 16-bit protected-mode entry points that answer every function
 * with 82h (FUNCTION_NOT_SUPPORTED): the devices are described by ACPI instead.
 */
    .equ SMBIOS_SEG_BASE, 0xF0000

smbios_post:
    pushal
    pushw %ds
    pushw %cs
    popw %ds
    /* CPUID: vendor string (leaf 0) and signature/features (leaf 1) into type 4 */
    xorl %eax, %eax
    cpuid
    movl %ebx, smb4_vendor
    movl %edx, smb4_vendor + 4
    movl %ecx, smb4_vendor + 8
    movl $1, %eax
    cpuid
    movl %eax, smb4_id
    movl %edx, smb4_id + 4
    /* RAM in KiB: 16 MiB + CMOS 34h/35h x 64 KiB, or 1 MiB + CMOS 30h/31h KiB */
    movb $0x35, %al
    call cmos_read
    movb %al, %ah
    movb $0x34, %al
    call cmos_read
    movzwl %ax, %eax
    testl %eax, %eax
    jz 1f
    shll $6, %eax
    addl $16384, %eax
    jmp 2f
1:  movb $0x31, %al
    call cmos_read
    movb %al, %ah
    movb $0x30, %al
    call cmos_read
    movzwl %ax, %eax
    addl $1024, %eax
2:  movl %eax, smb16_max
    leal -1(%eax), %edx
    movl %edx, smb19_end
    shrl $10, %eax
    movw %ax, smb17_size            /* MiB (below 32 GiB, bit 15 clear) */
    /* checksums: intermediate (_DMI_, 15 bytes), then the whole entry point (31 bytes) */
    movb $0, smbios_ep + 0x15
    movw $smbios_ep + 0x10, %si
    movw $15, %cx
    call smb_sum
    negb %al
    movb %al, smbios_ep + 0x15
    movb $0, smbios_ep + 4
    movw $smbios_ep, %si
    movw $31, %cx
    call smb_sum
    negb %al
    movb %al, smbios_ep + 4
    /* $PnP checksum (33 bytes) */
    movb $0, pnp_check + 8
    movw $pnp_check, %si
    movw $0x21, %cx
    call smb_sum
    negb %al
    movb %al, pnp_check + 8
    popw %ds
    popal
    ret

/* smb_sum: AL = byte sum of CX bytes at DS:SI */
smb_sum:
    xorb %al, %al
1:  addb (%si), %al
    incw %si
    loop 1b
    ret

/* pnp_entry: the PnP BIOS entry (far call, function number on the stack): not supported */
pnp_entry:
    movw $0x82, %ax
    lret

    .balign 16
pnp_check:
    .ascii "$PnP"
    .byte 0x10                      /* version 1.0 */
    .byte 0x21                      /* length */
    .word 0                         /* no event notification */
    .byte 0                         /* checksum */
    .long 0                         /* event notification flag address */
    .word pnp_entry, 0xF000         /* real-mode entry */
    .word pnp_entry                 /* 16-bit protected-mode entry offset */
    .long SMBIOS_SEG_BASE           /* ... and code segment base */
    .long 0                         /* OEM device identifier */
    .word 0xF000                    /* real-mode data segment */
    .long SMBIOS_SEG_BASE           /* protected-mode data segment base */

/* ---- entry point: 16-byte aligned in F0000h-FFFFFh, where the OS scans for "_SM_" ---- */
    .balign 16
smbios_ep:
    .ascii "_SM_"
    .byte 0                         /* checksum */
    .byte 0x1F                      /* length */
    .byte 2, 4                      /* version 2.4 */
    .word smb4_end - smb4           /* largest structure (the processor) */
    .byte 0                         /* entry point revision */
    .byte 0, 0, 0, 0, 0
    .ascii "_DMI_"
    .byte 0                         /* intermediate checksum */
    .word smbios_table_end - smbios_table
    .long SMBIOS_SEG_BASE + smbios_table
    .word 9                         /* structures */
    .byte 0x24                      /* BCD revision */

smbios_table:
/* type 0: BIOS information */
    .byte 0, 0x18
    .word 0x0000
    .byte 1, 2                      /* vendor, version */
    .word 0xF000                    /* starting segment */
    .byte 3                         /* release date */
    .byte 0                         /* ROM size: 64 KiB */
    .long 0x00080090, 0             /* characteristics: ISA, PCI, EDD (INT 13h 4xh) */
    .byte 0x01, 0x00                /* extension: ACPI */
    .byte 1, 0                      /* BIOS release 1.0 */
    .byte 0xFF, 0xFF                /* no embedded controller */
    .asciz "anyvm"
    .asciz "anyvm BIOS 1.0"
    .asciz "11/21/2026"
    .byte 0
/* type 1: system information */
    .byte 1, 0x1B
    .word 0x0100
    .byte 1, 2, 3, 0                /* manufacturer, product, version, no serial */
    .fill 16, 1, 0                  /* UUID: not set */
    .byte 6                         /* wake-up: power switch */
    .byte 0, 4                      /* no SKU, family */
    .asciz "anyvm"
    .asciz "anyvm PC (i440FX + PIIX)"
    .asciz "1.0"
    .asciz "anyvm"
    .byte 0
/* type 3: system enclosure */
    .byte 3, 0x15
    .word 0x0300
    .byte 1                         /* manufacturer */
    .byte 0x01                      /* type: other */
    .byte 0, 0, 0                   /* no version, serial, asset tag */
    .byte 3, 3, 3                   /* boot-up, power supply, thermal state: safe */
    .byte 2                         /* security: unknown */
    .long 0                         /* OEM */
    .byte 0, 0, 0, 0                /* height, power cords, no contained elements */
    .asciz "anyvm"
    .byte 0
/* type 4: processor */
smb4:
    .byte 4, 0x23
    .word 0x0400
    .byte 1                         /* socket designation */
    .byte 3                         /* central processor */
    .byte 0x01                      /* family: other */
    .byte 2                         /* manufacturer: the CPUID vendor string */
smb4_id:
    .long 0, 0                      /* CPUID 1: EAX, EDX */
    .byte 3                         /* version */
    .byte 0                         /* voltage: not given */
    .word 0                         /* external clock: unknown */
    .word 450, 450                  /* max and current speed, MHz (the TSC rate) */
    .byte 0x41                      /* populated, enabled */
    .byte 0x01                      /* upgrade: other */
    .word 0xFFFF, 0xFFFF, 0xFFFF    /* no cache information */
    .byte 0, 0, 0                   /* no serial, asset tag, part number */
    .asciz "CPU 0"
smb4_vendor:
    .asciz "            "
    .asciz "anyvm x86 CPU"
    .byte 0
smb4_end:
/* type 16: physical memory array */
    .byte 16, 0x0F
    .word 0x1000
    .byte 3, 3, 3                   /* system board, system memory, no error correction */
smb16_max:
    .long 0                         /* maximum capacity, KiB */
    .word 0xFFFE                    /* no error information */
    .word 1                         /* one device */
    .byte 0, 0
/* type 17: memory device */
    .byte 17, 0x1B
    .word 0x1100
    .word 0x1000                    /* array */
    .word 0xFFFE                    /* no error information */
    .word 64, 64                    /* total and data width */
smb17_size:
    .word 0                         /* MiB */
    .byte 0x09                      /* DIMM */
    .byte 0                         /* not in a set */
    .byte 1                         /* locator */
    .byte 0                         /* no bank locator */
    .byte 0x07                      /* RAM */
    .word 0x0002                    /* type detail: unknown */
    .word 0                         /* speed: unknown */
    .byte 0, 0, 0, 0                /* no manufacturer, serial, asset tag, part number */
    .asciz "DIMM 0"
    .byte 0
/* type 19: memory array mapped address */
    .byte 19, 0x0F
    .word 0x1300
    .long 0                         /* start, KiB */
smb19_end:
    .long 0                         /* end, KiB (inclusive) */
    .word 0x1000                    /* array */
    .byte 1                         /* partition width */
    .byte 0, 0
/* type 32: system boot information */
    .byte 32, 0x0B
    .word 0x2000
    .fill 6, 1, 0
    .byte 0                         /* no errors detected */
    .byte 0, 0
/* type 127: end of table */
    .byte 127, 4
    .word 0x7F00
    .byte 0, 0
smbios_table_end:
