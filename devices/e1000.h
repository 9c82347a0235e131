/* e1000.h: Intel 82540EM Gigabit Ethernet controller (8086:100e), the "e1000" NIC. */
#ifndef ANYVM_DEVICES_E1000_H
#define ANYVM_DEVICES_E1000_H

#include "core/machine.h"
#include "core/net.h"
#include "devices/pci.h"

#define E1000_VENDOR_ID 0x8086
#define E1000_DEVICE_ID 0x100E
#define E1000_MMIO_SIZE 0x20000 /* BAR0 */
#define E1000_IO_SIZE 0x40      /* BAR1: IOADDR at 0, IODATA at 4 */
#define E1000_EEPROM_WORDS 64

typedef struct E1000State E1000State;

/* e1000_pci_new: create the controller at devfn on bus with conf's MAC and backend (may be
 * NULL). Registers reset and vmstate "e1000@SLOT.FN". Returns NULL on failure. Owned by the
 * caller: e1000_free() after machine_free(). */
E1000State *e1000_pci_new(Machine *m, PCIBus *bus, unsigned devfn, const NICConf *conf);
void e1000_free(E1000State *s);

/* e1000_pci: the controller's PCI function. */
PCIDevice *e1000_pci(E1000State *s);

#endif
