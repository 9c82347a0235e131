/* pci.S: POST's PCI enumeration for bios.S: sizes and assigns every BAR on bus 0, turns on
 * decoding, programs interrupt lines from the PIIX PIRQ routing and the IDE decode enables. */
/*
 * Included from bios.S (16-bit code, 386 instructions). Windows: I/O from 0xC000 up to
 * 0xFFFF, 32-bit memory (prefetchable or not) from 0xE0000000 (the end of the largest RAM the
 * board allows, so above every E820 RAM range) up to 0xFEC00000 (the I/O APIC and the BIOS
 * above). Every BAR is aligned to its size, in bus/device/function/BAR order. A BAR that does
 * not fit stays 0 and its device gets no decoding of that kind. Bridges are not walked (the
 * board has none); their own BARs are assigned like any other.
 */
    .equ PCI_IO_START, 0xC000
    .equ PCI_IO_END, 0x10000
    .equ PCI_MEM_START, 0xE0000000
    .equ PCI_MEM_END, 0xFEC00000
    .equ PIIX_ISA_DEVFN, 0x08       /* 00:01.0, PIRQRC[A-D] at 0x60-0x63 */

/* pci_sel: select register DI of device BX (bus << 8 | devfn) in CONFADD; DX = the CONFDATA
 * port of that register's byte lane. Clobbers EAX. */
pci_sel:
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
    ret

/* pci_rd32/16/8: EAX/AX/AL = register DI of device BX. pci_wr32/16/8: write ECX/CX/CL. */
pci_rd32:
    call pci_sel
    inl %dx, %eax
    ret
pci_rd16:
    call pci_sel
    inw %dx, %ax
    ret
pci_rd8:
    call pci_sel
    inb %dx, %al
    ret
pci_wr32:
    call pci_sel
    movl %ecx, %eax
    outl %eax, %dx
    ret
pci_wr16:
    call pci_sel
    movw %cx, %ax
    outw %ax, %dx
    ret
pci_wr8:
    call pci_sel
    movb %cl, %al
    outb %al, %dx
    ret

/* pci_post: enumerate bus 0. Keeps the next free I/O address in ESI and memory address in EBP;
 * the enables to turn on for the current function collect in the high word of EBX. */
pci_post:
    pushal
    movl $PCI_IO_START, %esi
    movl $PCI_MEM_START, %ebp
    xorl %ebx, %ebx                 /* BH = bus 0, BL = devfn */
pp_fn:
    andl $0xFFFF, %ebx
    xorw %di, %di
    call pci_rd16
    cmpw $0xFFFF, %ax
    jne pp_present
    testb $7, %bl                   /* no function 0: skip the whole device */
    jnz pp_next
    orb $7, %bl
    jmp pp_next
pp_present:
    /* decoding off while the BARs are sized */
    movw $4, %di
    xorw %cx, %cx
    call pci_wr16
    movw $0x0E, %di
    call pci_rd8
    movb %al, %ch                   /* CH = header type */
    movb $6, %cl                    /* CL = BAR count */
    andb $0x7F, %al
    jz 1f
    movb $2, %cl                    /* PCI-PCI bridge: 2 BARs */
    cmpb $1, %al
    je 1f
    xorb %cl, %cl                   /* CardBus or unknown: none */
1:  pushw %cx
    movw $0x10, %di
pp_bar:
    popw %cx
    testb %cl, %cl
    jz pp_bars_done
    decb %cl
    pushw %cx
    movl $0xFFFFFFFF, %ecx
    call pci_wr32
    call pci_rd32
    movl %eax, %ecx
    testl %ecx, %ecx
    jz pp_bar_next                  /* unimplemented BAR */
    testb $1, %cl
    jz pp_mem
    /* I/O BAR: size from the writable bits of the low 16 */
    andl $0xFFFC, %ecx
    orl $0xFFFF0000, %ecx
    negl %ecx                       /* ECX = size */
    leal -1(%esi,%ecx), %eax
    notl %ecx
    incl %ecx                       /* ECX = -size = alignment mask */
    andl %ecx, %eax                 /* EAX = aligned base */
    negl %ecx                       /* ECX = size */
    leal (%eax,%ecx), %edx
    cmpl $PCI_IO_END, %edx
    ja pp_bar_zero
    movl %edx, %esi
    movl %eax, %ecx
    call pci_wr32
    orl $0x10000, %ebx              /* I/O decode wanted */
    jmp pp_bar_next
pp_mem:
    movb %cl, %dl
    andb $6, %dl
    pushw %dx                       /* DL = type: 4 means 64-bit */
    andl $0xFFFFFFF0, %ecx
    negl %ecx                       /* ECX = size */
    leal -1(%ebp,%ecx), %eax
    negl %ecx
    andl %ecx, %eax
    negl %ecx
    leal (%eax,%ecx), %edx
    cmpl %eax, %edx                 /* wrapped */
    jb 2f
    cmpl $PCI_MEM_END, %edx
    ja 2f
    movl %edx, %ebp
    movl %eax, %ecx
    call pci_wr32
    orl $0x20000, %ebx              /* memory decode wanted */
    jmp 3f
2:  xorl %ecx, %ecx
    call pci_wr32
3:  popw %dx
    cmpb $4, %dl
    jne pp_bar_next
    /* 64-bit BAR: the upper half is 0 (below 4 GiB) and takes the next slot */
    addw $4, %di
    xorl %ecx, %ecx
    call pci_wr32
    popw %cx
    testb %cl, %cl
    jz pp_bars_done
    decb %cl
    pushw %cx
    jmp pp_bar_next
pp_bar_zero:
    xorl %ecx, %ecx
    call pci_wr32
pp_bar_next:
    addw $4, %di
    jmp pp_bar
pp_bars_done:
    /* interrupt line from INTx# pin: PIRQ (slot + pin - 2) & 3 -> PIIX PIRQRC */
    movw $0x3D, %di
    call pci_rd8
    testb %al, %al
    jz pp_irq_done
    cmpb $4, %al
    ja pp_irq_done
    movb %bl, %cl
    shrb $3, %cl                    /* slot */
    addb %al, %cl
    subb $2, %cl
    andb $3, %cl
    pushw %bx
    movw $PIIX_ISA_DEVFN, %bx
    movzbw %cl, %di
    addw $0x60, %di
    call pci_rd8
    popw %bx
    movb %al, %cl
    testb $0x80, %cl                /* routing disabled: no IRQ */
    jz 1f
    movb $0xFF, %cl
1:  movw $0x3C, %di
    call pci_wr8
pp_irq_done:
    /* IDE (class 0101h): legacy (compatibility) mode on both channels, decode enabled */
    movw $0x0A, %di
    call pci_rd16
    cmpw $0x0101, %ax
    jne 1f
    movw $0x09, %di
    call pci_rd8
    andb $0xFA, %al
    movb %al, %cl
    call pci_wr8
    movw $0x8000, %cx
    movw $0x40, %di
    call pci_wr16
    movw $0x42, %di
    call pci_wr16
1:  /* decoding on: I/O and memory as assigned (VGA and IDE decode legacy I/O anyway), bus
     * master for DMA */
    movl %ebx, %ecx
    shrl $16, %ecx
    orw $4, %cx
    movw $0x0A, %di
    call pci_rd16
    cmpw $0x0300, %ax               /* VGA: legacy I/O and memory ranges */
    je 2f
    cmpw $0x0101, %ax               /* IDE: legacy ports */
    jne 3f
2:  orw $3, %cx
3:  movw $4, %di
    call pci_wr16
    /* a single-function device has nothing at functions 1..7 */
    testb $7, %bl
    jnz pp_next
    movw $0x0E, %di
    call pci_rd8
    testb $0x80, %al
    jnz pp_next
    orb $7, %bl
pp_next:
    incb %bl
    jnz pp_fn
    popal
    ret
