/* ne2000.h: NE2000-compatible PCI Ethernet card (Realtek RTL8029AS, 10ec:8029, DP8390 core). */
#ifndef ANYVM_DEVICES_NE2000_H
#define ANYVM_DEVICES_NE2000_H

#include "core/machine.h"
#include "core/net.h"
#include "devices/pci.h"

#define NE2000_VENDOR_ID 0x10EC
#define NE2000_DEVICE_ID 0x8029
#define NE2000_IO_SIZE 32 /* BAR0: DP8390 registers 0x00-0x0F, data 0x10, reset 0x1F */
#define NE2000_DATA_PORT 0x10
#define NE2000_RESET_PORT 0x1F

/* On-card buffer memory: 32 KiB at card addresses 0x4000-0xBFFF (pages 0x40-0xBF); the PROM
 * answers at 0x0000-0x001F. */
#define NE2000_MEM_START 0x4000
#define NE2000_MEM_END 0xC000

typedef struct NE2000State NE2000State;

/* ne2000_pci_new: create the card at devfn on bus with conf's MAC and backend (may be NULL).
 * Registers reset and vmstate "ne2k@SLOT.FN". Returns NULL on failure. Owned by the caller:
 * ne2000_free() after machine_free(). */
NE2000State *ne2000_pci_new(Machine *m, PCIBus *bus, unsigned devfn, const NICConf *conf);
void ne2000_free(NE2000State *s);

/* ne2000_pci: the card's PCI function (tests and the board read its BAR). */
PCIDevice *ne2000_pci(NE2000State *s);

#endif
