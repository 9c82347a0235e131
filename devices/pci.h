/* pci.h: PCI bus 0 with configuration mechanism #1, generic config space, BARs and INTx.
 *
 * How a board puts the chipset together (RAM at priority 0 and the BIOS ROM above it first,
 * the PIC before the PIIX so its input lines exist):
 *
 *     PCIBus *bus = pci_bus_new(m);
 *     I440FXState *host = i440fx_new(m, bus);           // 00:00.0, PAM shadow RAM
 *     PiixState *piix = piix_new(m, bus, pic_line, pic); // 00:01.0 ISA, 00:01.3 ACPI PM
 *     SerialState *com1 = serial_new(m, SERIAL_COM1_BASE, pic_line(pic, 4), chr);
 *
 * where pic_line(opaque, n) returns the PIC's IRQLine for ISA IRQ n. A PCI device embeds a
 * PCIDevice, fills it with pci_device_init() and pci_register_bar(), adds it with
 * pci_bus_add_device(), calls pci_device_reset() from its reset handler, and raises INTx with
 * pci_set_irq(); the PIIX routes it through PIRQA-D (pci_slot_pirq) to the ISA IRQ the BIOS
 * programmed. */
#ifndef ANYVM_DEVICES_PCI_H
#define ANYVM_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/irq.h"
#include "core/machine.h"
#include "core/vmstate.h"

/* Configuration space layout (PCI Local Bus Spec 2.1, section 6.1). */
enum {
    PCI_VENDOR_ID = 0x00,
    PCI_DEVICE_ID = 0x02,
    PCI_COMMAND = 0x04,
    PCI_STATUS = 0x06,
    PCI_REVISION_ID = 0x08,
    PCI_CLASS_PROG = 0x09,
    PCI_CACHE_LINE_SIZE = 0x0C,
    PCI_LATENCY_TIMER = 0x0D,
    PCI_HEADER_TYPE = 0x0E,
    PCI_BAR0 = 0x10,
    PCI_SUBSYSTEM_VENDOR_ID = 0x2C,
    PCI_ROM_ADDRESS = 0x30,
    PCI_INTERRUPT_LINE = 0x3C,
    PCI_INTERRUPT_PIN = 0x3D,
};

#define PCI_COMMAND_IO 0x0001u
#define PCI_COMMAND_MEMORY 0x0002u
#define PCI_COMMAND_MASTER 0x0004u
#define PCI_COMMAND_PARITY 0x0040u
#define PCI_COMMAND_SERR 0x0100u
/* Status bits that software clears by writing 1 (spec 6.2.3): DPE, SSE, RMA, RTA, STA, MDPE. */
#define PCI_STATUS_W1C 0xF900u

#define PCI_HEADER_MULTI_FUNCTION 0x80u
#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6 /* bars[6] is the expansion ROM BAR at 0x30 */
#define PCI_DEVFN(slot, fn) ((unsigned)(((slot)&0x1F) << 3 | ((fn)&7)))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1F)
#define PCI_FUNC(devfn) ((devfn)&7)
#define PCI_MAX_DEVFN 256

/* Priority of memory BARs in the MemMap: below RAM and ROM (priority 0 and up), because the
 * i440FX decodes DRAM below top of memory before it forwards a cycle to PCI. */
#define PCI_BAR_PRIORITY (-1)

typedef enum PCIBarKind {
    PCI_BAR_NONE = 0,
    PCI_BAR_IO,   /* I/O space, bit 0 = 1 */
    PCI_BAR_MMIO, /* 32-bit memory, callbacks */
    PCI_BAR_RAM,  /* 32-bit memory backed by host memory (framebuffers) */
    PCI_BAR_ROM,  /* 32-bit memory backed by read-only host memory */
} PCIBarKind;

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

/* PCIBar: one base address register. The address lives in config space; `mapped` says where
 * the region currently is (so a config write only remaps what changed). */
typedef struct PCIBar {
    PCIBarKind kind;
    bool prefetchable;
    uint32_t size;    /* power of two: >= 4 for I/O, >= 16 for memory */
    const IOOps *ops; /* PCI_BAR_IO / PCI_BAR_MMIO */
    void *opaque;
    uint8_t *host; /* PCI_BAR_RAM / PCI_BAR_ROM */
    bool is_mapped;
    uint32_t mapped_addr;
    int handle;
} PCIBar;

/* PCIDevice: one function on bus 0, embedded in the device's own state struct. The generic code
 * keeps config space; the device fills IDs, masks and BARs before pci_bus_add_device(). */
struct PCIDevice {
    char name[24];
    PCIBus *bus;
    unsigned devfn;
    uint8_t config[256];
    uint8_t wmask[256];            /* bits software may write */
    uint8_t w1cmask[256];          /* bits software clears by writing 1 */
    uint8_t reset_config[256];     /* config space as it was when added: restored on reset */
    PCIBar bars[PCI_NUM_BARS + 1]; /* BAR0-5, then the expansion ROM */
    uint8_t irq_state;             /* INTx level the function drives (0/1) */
    /* Called after every config write has been applied (addr/size as written, val aligned to
     * addr). The device reacts to its own registers here (PAM, PIRQ, PMBA...). */
    void (*config_written)(void *opaque, PCIDevice *d, unsigned addr, uint32_t val, unsigned size);
    void *opaque;
};

/* The VMStateDesc of the generic part: embed with VMSTATE_STRUCT(..., pci_device_vmstate,
 * PCIDevice) and call pci_device_post_load() from the owner's post_load. */
extern const VMStateDesc pci_device_vmstate;

/* PIRQ callback: the bus's PIRQ line n (0..3 = PIRQA..D) changed to level. */
typedef void (*PCIPirqFn)(void *opaque, int pirq, int level);

/* pci_bus_new: bus 0 with CONFADD at 0xCF8 and CONFDATA at 0xCFC-0xCFF mapped on m->io.
 * Returns NULL on failure (ports taken, no memory). Free with pci_bus_free() after
 * machine_free(); the devices stay owned by their creators. */
PCIBus *pci_bus_new(Machine *m);
void pci_bus_free(PCIBus *b);

/* pci_bus_machine: the machine the bus lives on. */
Machine *pci_bus_machine(PCIBus *b);

/* pci_bus_set_pirq_handler: who receives PIRQA-D (the PIIX). Only one. */
void pci_bus_set_pirq_handler(PCIBus *b, PCIPirqFn fn, void *opaque);

/* pci_bus_set_port_cf9: an 8-bit register the chipset claims at 0xCF9, inside CONFADD's dword
 * (PIIX3 Reset Control register). Byte accesses to 0xCF9 go to these hooks. */
void pci_bus_set_port_cf9(PCIBus *b, uint8_t (*read)(void *opaque),
                          void (*write)(void *opaque, uint8_t val), void *opaque);

/* pci_bus_pirq_level: the wired-OR level of PIRQ n (0..3) now. */
int pci_bus_pirq_level(const PCIBus *b, int pirq);

/* pci_slot_pirq: board wiring of INTx pins to PIRQA-D on bus 0. pin is 1..4 (INTA..INTD);
 * returns 0..3. The rotation is (slot - 1 + pin - 1) mod 4, the wiring of QEMU's PC and what
 * SeaBIOS and our own BIOS's $PIR/_PRT tables describe. */
int pci_slot_pirq(unsigned slot, unsigned pin);

/* pci_device_init: clear d and fill the header: IDs, revision, 24-bit class code, header
 * type, interrupt pin (0 = none, 1..4 = INTA..INTD), default write masks (command I/O, memory,
 * master, parity, SERR; cache line, latency timer, interrupt line) and W1C status bits. */
void pci_device_init(PCIDevice *d, const char *name, uint16_t vendor, uint16_t device,
                     uint8_t revision, uint32_t class_code, uint8_t header_type, uint8_t pin);

/* pci_register_bar: declare BAR n (0..5) of the given kind and size (rounded up to a power of
 * two, at least 4 for I/O and 16 for memory). ops/opaque for I/O and MMIO, host for RAM/ROM.
 * Returns 0 or -EINVAL. Call before pci_bus_add_device(). */
int pci_register_bar(PCIDevice *d, int n, PCIBarKind kind, uint32_t size, const IOOps *ops,
                     void *opaque, uint8_t *host, bool prefetchable)
    __attribute__((warn_unused_result));

/* pci_register_rom: give d an expansion ROM BAR (0x30) over host (size bytes, rounded up to a
 * power of two of at least 2 KiB; the caller keeps host alive and sized to that). It decodes
 * when its enable bit (bit 0) and command.memory are set (PCI 2.1 section 6.2.5.2). Returns 0
 * or -EINVAL. Call before pci_bus_add_device(). */
int pci_register_rom(PCIDevice *d, uint8_t *host, uint32_t size)
    __attribute__((warn_unused_result));

/* pci_bus_add_device: place d at devfn on the bus; the current config space becomes its reset
 * state. Returns 0, -EBUSY (devfn taken) or -EINVAL. */
int pci_bus_add_device(PCIBus *b, PCIDevice *d, unsigned devfn)
    __attribute__((warn_unused_result));

/* pci_bus_find: the function at devfn, or NULL. */
PCIDevice *pci_bus_find(const PCIBus *b, unsigned devfn);

/* pci_device_reset: config space back to its reset state, BARs unmapped, INTx deasserted. */
void pci_device_reset(PCIDevice *d);

/* pci_device_post_load: after a snapshot load, remap BARs from config space and re-drive INTx
 * routing. Returns 0. */
int pci_device_post_load(PCIDevice *d);

/* pci_set_irq: drive this function's INTx pin (its interrupt pin register) to level. */
void pci_set_irq(PCIDevice *d, int level);

/* pci_config_read / pci_config_write: a configuration access to bus 0 (what CONFDATA does
 * after decoding CONFADD), for firmware and tests. addr is 0..255, size 1, 2 or 4, and the
 * access must not cross a dword. A missing function reads all-ones and ignores writes. */
uint32_t pci_config_read(PCIBus *b, unsigned devfn, unsigned addr, unsigned size);
void pci_config_write(PCIBus *b, unsigned devfn, unsigned addr, uint32_t val, unsigned size);

/* pci_get_byte/word/long, pci_set_*: little-endian helpers on config arrays (no masks). */
static inline uint32_t pci_get_le(const uint8_t *cfg, unsigned addr, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && addr + i < 256; i++) {
        v |= (uint32_t)cfg[addr + i] << (8 * i);
    }
    return v;
}

static inline void pci_set_le(uint8_t *cfg, unsigned addr, uint32_t val, unsigned size)
{
    for (unsigned i = 0; i < size && addr + i < 256; i++) {
        cfg[addr + i] = (uint8_t)(val >> (8 * i));
    }
}

#endif
