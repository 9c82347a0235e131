/* i440fx.h: Intel 82441FX PMC, the host bridge at 00:00.0 with PAM shadow RAM control. */
#ifndef ANYVM_DEVICES_I440FX_H
#define ANYVM_DEVICES_I440FX_H

#include "core/machine.h"
#include "devices/pci.h"

#define I440FX_VENDOR_ID 0x8086
#define I440FX_DEVICE_ID 0x1237

/* Config registers the firmware programs (82441FX datasheet, PMC configuration registers). */
#define I440FX_PAM0 0x59 /* PAM0..PAM6 at 0x59..0x5F */
#define I440FX_SMRAM 0x72

/* PAM attribute bits per 4-bit field. */
#define I440FX_PAM_RE 0x1 /* reads go to DRAM */
#define I440FX_PAM_WE 0x2 /* writes go to DRAM */

/* Priority of the shadow RAM overlays in the MemMap. The board maps RAM (from 0) at priority
 * 0 and the BIOS and option ROMs in 0xC0000-0xFFFFF above that but below this value; when a
 * segment's PAM field is 0 nothing of ours is mapped there and the ROM (the "PCI side") shows
 * through. Shadow RAM is the guest RAM at the same address (m->ram + address). */
#define I440FX_PAM_PRIORITY 8

typedef struct I440FXState I440FXState;

/* i440fx_new: create the host bridge at 00:00.0 on bus. Registers reset and vmstate
 * "i440fx". Returns NULL on failure. Owned by the caller: i440fx_free() after machine_free(). */
I440FXState *i440fx_new(Machine *m, PCIBus *bus);
void i440fx_free(I440FXState *s);

/* i440fx_smram: the SMRAM register as the guest last wrote it (SMM itself is not modelled). */
uint8_t i440fx_smram(const I440FXState *s);

#endif
