/* piix.h: PIIX3 ISA bridge (00:01.0, PIRQ routing) and PIIX4 ACPI PM function (00:01.3). */
#ifndef ANYVM_DEVICES_PIIX_H
#define ANYVM_DEVICES_PIIX_H

#include <stdint.h>

#include "core/irq.h"
#include "core/machine.h"
#include "devices/pci.h"

#define PIIX3_ISA_DEVICE_ID 0x7000
#define PIIX4_PM_DEVICE_ID 0x7113
#define PIIX_DEVFN_ISA PCI_DEVFN(1, 0)
#define PIIX_DEVFN_PM PCI_DEVFN(1, 3)

/* ISA bridge config registers (82371SB datasheet, PCI-to-ISA bridge configuration). */
#define PIIX_PIRQRC 0x60 /* PIRQRC[A:D] at 0x60..0x63: bit 7 disables, bits 3:0 IRQ */
#define PIIX_TOM 0x69

/* PM function config registers (82371AB datasheet, power management configuration). */
#define PIIX4_PMBA 0x40 /* PM I/O base, 64 bytes, bits 15:6 */
#define PIIX4_DEVACTA 0x54
#define PIIX4_DEVACTB 0x58
#define PIIX4_DEVACTB_APMC_EN (1u << 25) /* APMC writes raise SMI */
#define PIIX4_PMREGMISC 0x80             /* bit 0 PMIOSE enables the PM I/O space */
#define PIIX4_SMBBA 0x90
#define PIIX4_SMBHSTCFG 0xD2

/* PM I/O registers, offsets from PMBA (ACPI 1.0 section 4.7.3; 82371AB PM I/O registers).
 * The FADT describes: PM1a_EVT_BLK = PMBA+0 (4 bytes), PM1a_CNT_BLK = PMBA+4 (2 bytes),
 * PM_TMR_BLK = PMBA+8 (4 bytes, 24-bit timer), GPE0_BLK = PMBA+0x0C (4 bytes), SCI_INT = 9. */
#define PIIX4_PM1_STS 0x00
#define PIIX4_PM1_EN 0x02
#define PIIX4_PM1_CNT 0x04
#define PIIX4_PM_TMR 0x08
#define PIIX4_GPE0_STS 0x0C
#define PIIX4_GPE0_EN 0x0E
#define PIIX4_PM_IO_SIZE 64

#define PIIX4_PM1_TMR_STS 0x0001
#define PIIX4_PM1_BM_STS 0x0010
#define PIIX4_PM1_GBL_STS 0x0020
#define PIIX4_PM1_PWRBTN_STS 0x0100
#define PIIX4_PM1_RTC_STS 0x0400
#define PIIX4_PM1_WAK_STS 0x8000
#define PIIX4_PM1_CNT_SCI_EN 0x0001
#define PIIX4_PM1_CNT_SLP_EN 0x2000

/* SLP_TYP values (PM1_CNT bits 12:10) as PIIX4 decodes them (82371AB PMCNTRL SUS_TYP):
 * 0 = soft off, 1 = suspend to RAM. The DSDT's \_S5 package must be {0, 0}. */
#define PIIX4_SLP_TYP_S5 0
#define PIIX4_SLP_TYP_S3 1

/* The PM timer: 3.579545 MHz, 24 bits (ACPI 1.0 section 4.7.3.3). */
#define PIIX4_PM_TIMER_HZ 3579545

/* The SCI is wired to ISA IRQ 9. */
#define PIIX4_SCI_IRQ 9

/* APM control/status ports of the ISA bridge (82371SB APMC/APMS). A real BIOS's SMI handler
 * answers the FADT's SMI_CMD; with no SMM, writing ACPI_ENABLE/ACPI_DISABLE to APMC sets or
 * clears SCI_EN directly. The FADT: SMI_CMD = 0xB2, ACPI_ENABLE = 0xF1, ACPI_DISABLE = 0xF0. */
#define PIIX_APMC_PORT 0xB2
#define PIIX_APM_ACPI_ENABLE 0xF1
#define PIIX_APM_ACPI_DISABLE 0xF0

typedef IRQLine *(*PiixIsaIrqFn)(void *opaque, int n);

typedef struct PiixState PiixState;

/* piix_new: the ISA bridge at 00:01.0 and the PM function at 00:01.3 on bus. isa_irq(opaque,
 * n) gives the PIC input line for ISA IRQ n (0..15, NULL if none); it is called here, so the
 * PIC must exist. Also claims 0xCF9 (reset control) and 0xB2-0xB3 (APM). Registers reset and
 * vmstate "piix". Returns NULL on failure. Owned by the caller: piix_free() after
 * machine_free(). */
PiixState *piix_new(Machine *m, PCIBus *bus, PiixIsaIrqFn isa_irq, void *irq_opaque);
void piix_free(PiixState *s);

/* piix_isa_irq_array: a PiixIsaIrqFn for boards that hold IRQLine *lines[16]; pass the array
 * as irq_opaque. */
IRQLine *piix_isa_irq_array(void *opaque, int n);

/* piix_set_smi: the CPU's SMI# input; an APMC write pulses it when DEVACTB.APMC_EN is set. */
void piix_set_smi(PiixState *s, IRQLine *smi);

/* piix_power_button: the power button was pressed (monitor system_powerdown): sets
 * PWRBTN_STS, which raises an SCI when enabled. */
void piix_power_button(PiixState *s);

#endif
