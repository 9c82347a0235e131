/* pci.c: PCI bus 0: configuration mechanism #1, config space masks, BAR mapping and INTx. */
#include "devices/pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CONFADD (PCI 2.1 section 3.7.4.1, configuration mechanism #1): bit 31 enables CONFDATA,
 * bits 23:16 bus, 15:11 device, 10:8 function, 7:2 register. Bits 30:24 and 1:0 are reserved
 * and read back 0 on the 82441FX (its CONFADD register description). */
#define CONFADD_ENABLE 0x80000000u
#define CONFADD_MASK 0x80FFFFFCu

struct PCIBus {
    Machine *m;
    uint32_t confadd;
    PCIDevice *devs[PCI_MAX_DEVFN];
    PCIPirqFn pirq_fn;
    void *pirq_opaque;
    int pirq_level[4];
    uint8_t (*cf9_read)(void *opaque);
    void (*cf9_write)(void *opaque, uint8_t val);
    void *cf9_opaque;
    int addr_handle, data_handle;
};

static const VMStateField pci_device_fields[] = {
    VMSTATE_BUFFER(PCIDevice, config),
    VMSTATE_U8(PCIDevice, irq_state),
    VMSTATE_END,
};

const VMStateDesc pci_device_vmstate = {
    .name = "pci-device",
    .version = 1,
    .fields = pci_device_fields,
};

static int pci_bus_post_load(void *opaque);

static const VMStateField pci_bus_fields[] = {
    VMSTATE_U32(PCIBus, confadd),
    VMSTATE_END,
};

static const VMStateDesc pci_bus_vmstate = {
    .name = "pci-bus",
    .version = 1,
    .fields = pci_bus_fields,
    .post_load = pci_bus_post_load,
};

int pci_slot_pirq(unsigned slot, unsigned pin)
{
    if (pin < 1 || pin > 4) {
        return 0;
    }
    return (int)((slot + pin - 2) & 3);
}

static int pci_device_pirq(const PCIDevice *d)
{
    return pci_slot_pirq(PCI_SLOT(d->devfn), d->config[PCI_INTERRUPT_PIN]);
}

/* Recompute PIRQ n as the wired-OR of every function whose pin routes there. */
static void pci_bus_update_pirq(PCIBus *b, int pirq)
{
    int level = 0;
    for (unsigned i = 0; i < PCI_MAX_DEVFN && !level; i++) {
        const PCIDevice *d = b->devs[i];
        if (d && d->irq_state && d->config[PCI_INTERRUPT_PIN] >= 1 &&
            d->config[PCI_INTERRUPT_PIN] <= 4 && pci_device_pirq(d) == pirq) {
            level = 1;
        }
    }
    if (level != b->pirq_level[pirq]) {
        b->pirq_level[pirq] = level;
        if (b->pirq_fn) {
            b->pirq_fn(b->pirq_opaque, pirq, level);
        }
    }
}

int pci_bus_pirq_level(const PCIBus *b, int pirq)
{
    return (pirq >= 0 && pirq < 4) ? b->pirq_level[pirq] : 0;
}

void pci_set_irq(PCIDevice *d, int level)
{
    uint8_t pin = d->config[PCI_INTERRUPT_PIN];
    d->irq_state = level ? 1 : 0;
    if (d->bus && pin >= 1 && pin <= 4) {
        pci_bus_update_pirq(d->bus, pci_device_pirq(d));
    }
}

/* ---- BARs ---- */

static uint32_t pci_bar_low_bits(const PCIBar *bar)
{
    if (bar->kind == PCI_BAR_IO) {
        return 0x1;
    }
    return bar->prefetchable ? 0x8 : 0x0; /* type 00: 32-bit, anywhere */
}

int pci_register_bar(PCIDevice *d, int n, PCIBarKind kind, uint32_t size, const IOOps *ops,
                     void *opaque, uint8_t *host, bool prefetchable)
{
    if (n < 0 || n >= PCI_NUM_BARS || kind == PCI_BAR_NONE || size == 0 || size > 0x80000000u) {
        return -EINVAL;
    }
    if ((kind == PCI_BAR_IO || kind == PCI_BAR_MMIO) && !ops) {
        return -EINVAL;
    }
    if ((kind == PCI_BAR_RAM || kind == PCI_BAR_ROM) && !host) {
        return -EINVAL;
    }
    uint32_t min = kind == PCI_BAR_IO ? 4 : 16;
    uint32_t sz = min;
    while (sz < size) {
        sz <<= 1;
    }
    if (kind == PCI_BAR_IO && sz > 0x10000) {
        return -EINVAL;
    }
    PCIBar *bar = &d->bars[n];
    memset(bar, 0, sizeof(*bar));
    bar->kind = kind;
    bar->size = sz;
    bar->ops = ops;
    bar->opaque = opaque;
    bar->host = host;
    bar->prefetchable = kind != PCI_BAR_IO && prefetchable;
    bar->handle = -1;
    unsigned off = PCI_BAR0 + 4u * (unsigned)n;
    /* Sizing (PCI 2.1 section 6.2.5.1): the size's low address bits are hardwired to zero,
     * so writing all-ones and reading back gives ~(size - 1) plus the type bits. */
    pci_set_le(
        d->wmask, off,
        ~(sz - 1) & ~pci_bar_low_bits(bar) & (kind == PCI_BAR_IO ? 0xFFFFFFFCu : 0xFFFFFFF0u), 4);
    pci_set_le(d->config, off, pci_bar_low_bits(bar), 4);
    return 0;
}

int pci_register_rom(PCIDevice *d, uint8_t *host, uint32_t size)
{
    if (!host || size == 0 || size > 0x80000000u) {
        return -EINVAL;
    }
    uint32_t sz = 0x800;
    while (sz < size) {
        sz <<= 1;
    }
    PCIBar *bar = &d->bars[PCI_ROM_SLOT];
    memset(bar, 0, sizeof(*bar));
    bar->kind = PCI_BAR_ROM;
    bar->size = sz;
    bar->host = host;
    bar->handle = -1;
    /* Bits 31:11 hold the address (sized like a BAR), bit 0 enables decoding. */
    pci_set_le(d->wmask, PCI_ROM_ADDRESS, (~(sz - 1) & 0xFFFFF800u) | 1u, 4);
    pci_set_le(d->config, PCI_ROM_ADDRESS, 0, 4);
    return 0;
}

static unsigned pci_bar_offset(int n)
{
    return n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BAR0 + 4u * (unsigned)n;
}

static void pci_bar_unmap(PCIDevice *d, PCIBar *bar)
{
    Machine *m = d->bus->m;
    if (!bar->is_mapped) {
        return;
    }
    if (bar->kind == PCI_BAR_IO) {
        port_unmap(&m->io, bar->handle);
    } else {
        mem_unmap(&m->mem, bar->handle);
    }
    bar->is_mapped = false;
    bar->handle = -1;
}

/* Where BAR n should be decoded now, or false if it decodes nothing. Address 0 and ranges that
 * leave the address space count as unprogrammed: firmware sizes BARs by writing all-ones and
 * a BAR left like that must not shadow the BIOS at the top of memory. */
static bool pci_bar_target(const PCIDevice *d, int n, uint32_t *addr)
{
    const PCIBar *bar = &d->bars[n];
    uint16_t cmd = (uint16_t)pci_get_le(d->config, PCI_COMMAND, 2);
    uint32_t raw = pci_get_le(d->config, pci_bar_offset(n), 4);
    if (n == PCI_ROM_SLOT) {
        uint32_t a = raw & 0xFFFFF800u;
        if (!(cmd & PCI_COMMAND_MEMORY) || !(raw & 1) || a == 0 ||
            (uint64_t)a + bar->size > 0x100000000ull) {
            return false;
        }
        *addr = a;
        return true;
    }
    if (bar->kind == PCI_BAR_IO) {
        uint32_t a = raw & 0xFFFFFFFCu;
        if (!(cmd & PCI_COMMAND_IO) || a == 0 || (uint64_t)a + bar->size > 0x10000) {
            return false;
        }
        *addr = a;
        return true;
    }
    uint32_t a = raw & 0xFFFFFFF0u;
    if (!(cmd & PCI_COMMAND_MEMORY) || a == 0 || (uint64_t)a + bar->size > 0x100000000ull ||
        a == (~(bar->size - 1) & 0xFFFFFFF0u)) {
        return false;
    }
    *addr = a;
    return true;
}

static void pci_update_mappings(PCIDevice *d)
{
    Machine *m = d->bus->m;
    for (int n = 0; n <= PCI_ROM_SLOT; n++) {
        PCIBar *bar = &d->bars[n];
        uint32_t addr = 0;
        if (bar->kind == PCI_BAR_NONE) {
            continue;
        }
        bool want = pci_bar_target(d, n, &addr);
        if (want == bar->is_mapped && (!want || addr == bar->mapped_addr)) {
            continue;
        }
        pci_bar_unmap(d, bar);
        if (!want) {
            continue;
        }
        char name[32];
        if (n == PCI_ROM_SLOT) {
            snprintf(name, sizeof(name), "%s.rom", d->name);
        } else {
            snprintf(name, sizeof(name), "%s.bar%d", d->name, n);
        }
        int h;
        switch (bar->kind) {
        case PCI_BAR_IO:
            h = port_map(&m->io, name, (uint16_t)addr, bar->size, bar->ops, bar->opaque);
            break;
        case PCI_BAR_MMIO:
            h = mem_map_mmio(&m->mem, name, addr, bar->size, bar->ops, bar->opaque,
                             PCI_BAR_PRIORITY);
            break;
        case PCI_BAR_RAM:
            h = mem_map_ram(&m->mem, name, addr, bar->size, bar->host, PCI_BAR_PRIORITY);
            break;
        case PCI_BAR_ROM:
            h = mem_map_rom(&m->mem, name, addr, bar->size, bar->host, PCI_BAR_PRIORITY);
            break;
        default:
            h = -EINVAL;
            break;
        }
        if (h < 0) {
            /* Overlapping BARs are a programming error (PCI 2.1 section 6.2.5.1 leaves the
             * result undefined): the BAR then decodes nothing. */
            log_msg(&m->log, LOG_GUEST_ERROR, "pci: %s BAR%d at 0x%x size 0x%x not mapped (%d)\n",
                    d->name, n, addr, bar->size, h);
            continue;
        }
        bar->handle = h;
        bar->mapped_addr = addr;
        bar->is_mapped = true;
    }
}

/* ---- devices ---- */

void pci_device_init(PCIDevice *d, const char *name, uint16_t vendor, uint16_t device,
                     uint8_t revision, uint32_t class_code, uint8_t header_type, uint8_t pin)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    pci_set_le(d->config, PCI_VENDOR_ID, vendor, 2);
    pci_set_le(d->config, PCI_DEVICE_ID, device, 2);
    d->config[PCI_REVISION_ID] = revision;
    pci_set_le(d->config, PCI_CLASS_PROG, class_code, 3);
    d->config[PCI_HEADER_TYPE] = header_type;
    d->config[PCI_INTERRUPT_PIN] = pin;
    pci_set_le(d->wmask, PCI_COMMAND,
               PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                   PCI_COMMAND_SERR,
               2);
    pci_set_le(d->w1cmask, PCI_STATUS, PCI_STATUS_W1C, 2);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xFF;
    d->wmask[PCI_LATENCY_TIMER] = 0xFF;
    d->wmask[PCI_INTERRUPT_LINE] = 0xFF;
    for (int n = 0; n <= PCI_ROM_SLOT; n++) {
        d->bars[n].handle = -1;
    }
}

int pci_bus_add_device(PCIBus *b, PCIDevice *d, unsigned devfn)
{
    if (!b || !d || devfn >= PCI_MAX_DEVFN) {
        return -EINVAL;
    }
    if (b->devs[devfn]) {
        return -EBUSY;
    }
    d->bus = b;
    d->devfn = devfn;
    memcpy(d->reset_config, d->config, sizeof(d->config));
    b->devs[devfn] = d;
    return 0;
}

PCIDevice *pci_bus_find(const PCIBus *b, unsigned devfn)
{
    return devfn < PCI_MAX_DEVFN ? b->devs[devfn] : NULL;
}

void pci_device_reset(PCIDevice *d)
{
    memcpy(d->config, d->reset_config, sizeof(d->config));
    if (d->bus) {
        pci_update_mappings(d);
    }
    pci_set_irq(d, 0);
}

int pci_device_post_load(PCIDevice *d)
{
    if (d->bus) {
        pci_update_mappings(d);
        uint8_t pin = d->config[PCI_INTERRUPT_PIN];
        if (pin >= 1 && pin <= 4) {
            pci_bus_update_pirq(d->bus, pci_device_pirq(d));
        }
    }
    return 0;
}

/* ---- config accesses ---- */

static uint32_t pci_device_config_read(PCIDevice *d, unsigned addr, unsigned size)
{
    return pci_get_le(d->config, addr, size);
}

static void pci_device_config_write(PCIDevice *d, unsigned addr, uint32_t val, unsigned size)
{
    bool remap = false;
    for (unsigned i = 0; i < size && addr + i < 256; i++) {
        unsigned a = addr + i;
        uint8_t v = (uint8_t)(val >> (8 * i));
        uint8_t old = d->config[a];
        uint8_t nv = (uint8_t)((old & ~d->wmask[a]) | (v & d->wmask[a]));
        nv &= (uint8_t) ~(v & d->w1cmask[a]);
        d->config[a] = nv;
        if (nv != old && (a == PCI_COMMAND || (a >= PCI_BAR0 && a < PCI_BAR0 + 24) ||
                          (a >= PCI_ROM_ADDRESS && a < PCI_ROM_ADDRESS + 4))) {
            remap = true;
        }
    }
    if (remap) {
        pci_update_mappings(d);
    }
    if (d->config_written) {
        d->config_written(d->opaque, d, addr, val, size);
    }
}

uint32_t pci_config_read(PCIBus *b, unsigned devfn, unsigned addr, unsigned size)
{
    uint32_t ones = size >= 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1);
    if (devfn >= PCI_MAX_DEVFN || addr > 255 || size == 0 || size > 4 || (addr & 3) + size > 4) {
        return ones;
    }
    PCIDevice *d = b->devs[devfn];
    /* A missing function ends the cycle with master abort, which reads all-ones. */
    if (!d) {
        return ones;
    }
    return pci_device_config_read(d, addr, size);
}

void pci_config_write(PCIBus *b, unsigned devfn, unsigned addr, uint32_t val, unsigned size)
{
    if (devfn >= PCI_MAX_DEVFN || addr > 255 || size == 0 || size > 4 || (addr & 3) + size > 4) {
        return;
    }
    PCIDevice *d = b->devs[devfn];
    if (d) {
        pci_device_config_write(d, addr, val, size);
    }
}

/* ---- mechanism #1 ports ---- */

static uint64_t pci_confadd_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIBus *b = opaque;
    /* Only a dword access at 0xCF8 is CONFADD (PCI 2.1 section 3.7.4.1); other accesses pass
     * through as ordinary I/O. 0xCF9 is the chipset's reset control byte. */
    if (addr == 0 && size == 4) {
        return b->confadd;
    }
    if (addr == 1 && size == 1 && b->cf9_read) {
        return b->cf9_read(b->cf9_opaque);
    }
    return size >= 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1);
}

static void pci_confadd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCIBus *b = opaque;
    if (addr == 0 && size == 4) {
        b->confadd = (uint32_t)val & CONFADD_MASK;
    } else if (addr == 1 && size == 1 && b->cf9_write) {
        b->cf9_write(b->cf9_opaque, (uint8_t)val);
    }
}

static const IOOps pci_confadd_ops = {
    .read = pci_confadd_read,
    .write = pci_confadd_write,
    .min_access = 1,
    .max_access = 4,
};

/* Decode CONFADD for an access at CONFDATA offset off. Returns the devfn or -1 when the cycle
 * is not a type 0 configuration cycle on bus 0 (enable off, other bus). */
static int pci_confdata_target(const PCIBus *b, unsigned *reg, uint64_t off)
{
    if (!(b->confadd & CONFADD_ENABLE)) {
        return -1;
    }
    if ((b->confadd >> 16) & 0xFF) {
        return -1; /* no PCI-to-PCI bridges: other buses have nothing */
    }
    *reg = (b->confadd & 0xFC) + (unsigned)(off & 3);
    return (int)((b->confadd >> 8) & 0xFF);
}

static uint64_t pci_confdata_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIBus *b = opaque;
    unsigned reg = 0;
    uint32_t ones = size >= 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1);
    if (addr + size > 4) {
        return ones;
    }
    int devfn = pci_confdata_target(b, &reg, addr);
    if (devfn < 0) {
        return ones;
    }
    return pci_config_read(b, (unsigned)devfn, reg, size);
}

static void pci_confdata_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCIBus *b = opaque;
    unsigned reg = 0;
    if (addr + size > 4) {
        return;
    }
    int devfn = pci_confdata_target(b, &reg, addr);
    if (devfn >= 0) {
        pci_config_write(b, (unsigned)devfn, reg, (uint32_t)val, size);
    }
}

static const IOOps pci_confdata_ops = {
    .read = pci_confdata_read,
    .write = pci_confdata_write,
    .min_access = 1,
    .max_access = 4,
};

static void pci_bus_reset(void *opaque)
{
    PCIBus *b = opaque;
    b->confadd = 0;
}

static int pci_bus_post_load(void *opaque)
{
    PCIBus *b = opaque;
    b->confadd &= CONFADD_MASK;
    return 0;
}

PCIBus *pci_bus_new(Machine *m)
{
    PCIBus *b = calloc(1, sizeof(*b));
    if (!b) {
        return NULL;
    }
    b->m = m;
    b->addr_handle = port_map(&m->io, "pci-confadd", 0xCF8, 4, &pci_confadd_ops, b);
    b->data_handle = port_map(&m->io, "pci-confdata", 0xCFC, 4, &pci_confdata_ops, b);
    if (b->addr_handle < 0 || b->data_handle < 0 || machine_add_reset(m, pci_bus_reset, b) < 0 ||
        vmstate_register(&m->vmstate, "pci-bus0", &pci_bus_vmstate, b) < 0) {
        if (b->addr_handle >= 0) {
            port_unmap(&m->io, b->addr_handle);
        }
        if (b->data_handle >= 0) {
            port_unmap(&m->io, b->data_handle);
        }
        free(b);
        return NULL;
    }
    return b;
}

void pci_bus_free(PCIBus *b)
{
    free(b);
}

Machine *pci_bus_machine(PCIBus *b)
{
    return b->m;
}

void pci_bus_set_pirq_handler(PCIBus *b, PCIPirqFn fn, void *opaque)
{
    b->pirq_fn = fn;
    b->pirq_opaque = opaque;
}

void pci_bus_set_port_cf9(PCIBus *b, uint8_t (*read)(void *opaque),
                          void (*write)(void *opaque, uint8_t val), void *opaque)
{
    b->cf9_read = read;
    b->cf9_write = write;
    b->cf9_opaque = opaque;
}
