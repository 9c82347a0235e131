/* loader.h: direct kernel boot (Linux/x86 boot protocol, multiboot v1) and the ACPI tables a
 * directly booted kernel needs to power off. */
#ifndef ANYVM_DEVICES_PC_LOADER_H
#define ANYVM_DEVICES_PC_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "core/cpu.h"
#include "core/memmap.h"

/* Fixed guest-physical layout used by the direct boot path. */
enum {
    LOADER_BOOT_PARAMS = 0x00010000, /* Linux zero page / multiboot info */
    LOADER_CMDLINE = 0x00020000,     /* command line, up to LOADER_CMDLINE_MAX bytes */
    LOADER_CMDLINE_MAX = 0x00010000,
    LOADER_GDT = 0x00030000,         /* the flat GDT we enter the kernel with */
    LOADER_MB_MODS = 0x00031000,     /* multiboot module list and strings */
    LOADER_ACPI_BASE = 0x000E0000,   /* RSDP and tables (reserved in E820) */
    LOADER_ACPI_SIZE = 0x00010000,
    LOADER_KERNEL_HIGH = 0x00100000, /* 32-bit kernel entry for bzImage */
};

/* E820 entry types. */
enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };

typedef struct E820Entry {
    uint64_t addr, size;
    uint32_t type;
} E820Entry;

#define E820_MAX 16

/* pc_e820_map: the memory map a PC with ram_size bytes of RAM reports: conventional memory,
 * the EBDA and BIOS areas reserved, extended memory. Returns the entry count. */
int pc_e820_map(uint64_t ram_size, E820Entry *out, int max);

/* AcpiConfig: what the tables describe. */
typedef struct AcpiConfig {
    uint16_t pm_base;     /* PIIX4 PM I/O base (PM1a_EVT at +0, PM1a_CNT at +4, PM_TMR at +8) */
    uint8_t sci_irq;      /* usually 9 */
    uint8_t s5_slp_typ;   /* SLP_TYP value for soft-off that the PM device recognises */
    uint16_t smi_cmd;     /* 0: ACPI is always enabled (no SMM handshake) */
    const uint8_t *pirq_irq; /* ISA IRQ of PIRQA..D (4 entries), for the PCI root's _PRT */
} AcpiConfig;

/* pc_build_acpi: write RSDP, RSDT, FADT, FACS and a DSDT (\_S5, and the PCI root bridge
 * \_SB.PCI0 with a static _PRT) at LOADER_ACPI_BASE.
 * Returns the RSDP address. */
uint32_t pc_build_acpi(MemMap *mem, const AcpiConfig *cfg);

/* pc_load_kernel: load a bzImage (boot protocol >= 2.02) or a multiboot v1 kernel (ELF or with
 * address fields) from `kernel`, an optional initrd, and the command line into guest memory,
 * and put the CPU in the 32-bit entry state (flat protected mode, paging off). ram_size bounds
 * every placement; rsdp is passed to Linux in boot_params. Returns 0, or -errno/-EINVAL with a
 * one-line message in err. Never trusts sizes or offsets in the files. */
int pc_load_kernel(MemMap *mem, CPUState *cpu, uint64_t ram_size, const char *kernel,
                   const char *initrd, const char *cmdline, uint32_t rsdp, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

#endif
