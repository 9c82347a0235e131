/* i440fx.c: 82441FX host bridge: identity, PAM shadow RAM switching, SMRAM register. */
#include "devices/i440fx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define PAM_SEGMENTS 13

/* SMRAM register bits (82441FX SMRAM description). */
#define SMRAM_D_OPEN 0x40
#define SMRAM_D_CLS 0x20
#define SMRAM_D_LCK 0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_C_BASE_SEG 0x02 /* hardwired 010: SMRAM at 0xA0000 */

#define ERRSTS 0x91

/* The 13 PAM segments: PAM0[7:4] is 0xF0000-0xFFFFF (PAM0[3:0] reserved); PAM1..PAM6 hold two
 * 16 KiB segments each, low nibble first, from 0xC0000 to 0xEFFFF (82441FX PAM table). */
typedef struct PamSegment {
    uint32_t base;
    uint32_t size;
    uint8_t reg;
    uint8_t shift;
} PamSegment;

static const PamSegment pam_segments[PAM_SEGMENTS] = {
    {0xF0000, 0x10000, 0x59, 4}, {0xC0000, 0x4000, 0x5A, 0}, {0xC4000, 0x4000, 0x5A, 4},
    {0xC8000, 0x4000, 0x5B, 0},  {0xCC000, 0x4000, 0x5B, 4}, {0xD0000, 0x4000, 0x5C, 0},
    {0xD4000, 0x4000, 0x5C, 4},  {0xD8000, 0x4000, 0x5D, 0}, {0xDC000, 0x4000, 0x5D, 4},
    {0xE0000, 0x4000, 0x5E, 0},  {0xE4000, 0x4000, 0x5E, 4}, {0xE8000, 0x4000, 0x5F, 0},
    {0xEC000, 0x4000, 0x5F, 4},
};

struct I440FXState;

typedef struct PamWindow {
    struct I440FXState *owner;
    uint32_t base;
} PamWindow;

struct I440FXState {
    Machine *m;
    PCIDevice pci;
    uint8_t pam_mode[PAM_SEGMENTS]; /* RE/WE bits currently mapped */
    int pam_handle[PAM_SEGMENTS];
    PamWindow window[PAM_SEGMENTS];
};

static int i440fx_post_load(void *opaque);

static const VMStateField i440fx_fields[] = {
    VMSTATE_STRUCT(I440FXState, pci, pci_device_vmstate, PCIDevice),
    VMSTATE_END,
};

static const VMStateDesc i440fx_vmstate = {
    .name = "i440fx",
    .version = 1,
    .fields = i440fx_fields,
    .post_load = i440fx_post_load,
};

static bool i440fx_has_shadow(const I440FXState *s)
{
    return s->m->ram && s->m->cfg.ram_size >= 0x100000;
}

/* Write-only segments (WE=1, RE=0) are how a BIOS shadows itself: it reads each location (the
 * read goes to the ROM on the PCI/ISA side) and writes it back (the write lands in DRAM).
 * Reads therefore look at whatever the map holds below the PAM overlays. */
static uint8_t pam_read_below(I440FXState *s, uint64_t addr)
{
    const MemMap *mm = &s->m->mem;
    const MemRegion *best = NULL;
    for (int i = 0; i < MEMMAP_MAX_REGIONS; i++) {
        const MemRegion *r = &mm->regions[i];
        if (!r->in_use || !r->enabled || r->priority >= I440FX_PAM_PRIORITY || addr < r->base ||
            addr - r->base >= r->size) {
            continue;
        }
        if (!best || r->priority > best->priority) {
            best = r;
        }
    }
    if (!best) {
        return 0xFF;
    }
    if (best->kind == MR_MMIO) {
        return best->ops ? (uint8_t)ioops_read(best->ops, best->opaque, addr - best->base, 1)
                         : 0xFF;
    }
    return best->host ? best->host[addr - best->base] : 0xFF;
}

static uint64_t pam_wo_read(void *opaque, uint64_t addr, unsigned size)
{
    PamWindow *w = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)pam_read_below(w->owner, w->base + addr + i) << (8 * i);
    }
    return v;
}

static void pam_wo_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PamWindow *w = opaque;
    uint8_t *ram = w->owner->m->ram;
    for (unsigned i = 0; i < size; i++) {
        ram[w->base + addr + i] = (uint8_t)(val >> (8 * i));
    }
    /* RAM written by host pointer: translated code from it must go. */
    mem_notify_ram_write(&w->owner->m->mem, w->base + addr, size);
}

static const IOOps pam_wo_ops = {
    .read = pam_wo_read,
    .write = pam_wo_write,
    .min_access = 1,
    .max_access = 4,
};

/* Map segment i as its PAM field says: RE|WE -> RAM, RE -> the RAM read-only (writes go to
 * the PCI side, where the ROM ignores them), WE -> reads below/writes to RAM, none -> nothing
 * (the ROM below shows through). */
static void i440fx_map_segment(I440FXState *s, int i, uint8_t mode)
{
    MemMap *mm = &s->m->mem;
    const PamSegment *seg = &pam_segments[i];
    if (s->pam_mode[i] == mode) {
        return;
    }
    if (s->pam_handle[i] >= 0) {
        mem_unmap(mm, s->pam_handle[i]);
        s->pam_handle[i] = -1;
    }
    s->pam_mode[i] = 0;
    if (mode == 0) {
        return;
    }
    if (!i440fx_has_shadow(s)) {
        LOG_ONCE(&s->m->log, LOG_UNIMP, "i440fx: no shadow RAM below 1 MiB of RAM\n");
        return;
    }
    char name[32];
    snprintf(name, sizeof(name), "pam-%05x", seg->base);
    uint8_t *host = s->m->ram + seg->base;
    int h;
    if (mode == (I440FX_PAM_RE | I440FX_PAM_WE)) {
        h = mem_map_ram(mm, name, seg->base, seg->size, host, I440FX_PAM_PRIORITY);
    } else if (mode == I440FX_PAM_RE) {
        h = mem_map_rom(mm, name, seg->base, seg->size, host, I440FX_PAM_PRIORITY);
    } else {
        h = mem_map_mmio(mm, name, seg->base, seg->size, &pam_wo_ops, &s->window[i],
                         I440FX_PAM_PRIORITY);
    }
    if (h < 0) {
        log_msg(&s->m->log, LOG_GUEST_ERROR, "i440fx: cannot map %s (%d)\n", name, h);
        return;
    }
    s->pam_handle[i] = h;
    s->pam_mode[i] = mode;
}

static void i440fx_update_pam(I440FXState *s)
{
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        const PamSegment *seg = &pam_segments[i];
        uint8_t mode = (s->pci.config[seg->reg] >> seg->shift) & (I440FX_PAM_RE | I440FX_PAM_WE);
        i440fx_map_segment(s, i, mode);
    }
}

/* SMRAM (82441FX SMRAM description): once D_LCK is set, D_OPEN is cleared and D_LCK and
 * G_SMRAME become read-only until reset; only D_CLS stays writable. */
static void i440fx_update_smram(I440FXState *s)
{
    uint8_t v = s->pci.config[I440FX_SMRAM];
    if (v & SMRAM_D_LCK) {
        v &= (uint8_t)~SMRAM_D_OPEN;
        s->pci.config[I440FX_SMRAM] = v;
        s->pci.wmask[I440FX_SMRAM] = SMRAM_D_CLS;
    } else {
        s->pci.wmask[I440FX_SMRAM] = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME;
    }
}

static void i440fx_config_written(void *opaque, PCIDevice *d, unsigned addr, uint32_t val,
                                  unsigned size)
{
    I440FXState *s = opaque;
    unsigned end = addr + size;
    if (addr < I440FX_PAM0 + 7 && end > I440FX_PAM0) {
        i440fx_update_pam(s);
    }
    if (addr <= I440FX_SMRAM && end > I440FX_SMRAM) {
        i440fx_update_smram(s);
        if (s->pci.config[I440FX_SMRAM] & (SMRAM_D_OPEN | SMRAM_G_SMRAME)) {
            LOG_ONCE(&s->m->log, LOG_UNIMP, "i440fx: SMRAM enabled (0x%02x), no SMM\n",
                     s->pci.config[I440FX_SMRAM]);
        }
    }
}

static void i440fx_reset(void *opaque)
{
    I440FXState *s = opaque;
    pci_device_reset(&s->pci);
    i440fx_update_smram(s);
    i440fx_update_pam(s);
}

static int i440fx_post_load(void *opaque)
{
    I440FXState *s = opaque;
    i440fx_update_smram(s);
    i440fx_update_pam(s);
    return pci_device_post_load(&s->pci);
}

uint8_t i440fx_smram(const I440FXState *s)
{
    return s->pci.config[I440FX_SMRAM];
}

I440FXState *i440fx_new(Machine *m, PCIBus *bus)
{
    I440FXState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->m = m;
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        s->pam_handle[i] = -1;
        s->window[i].owner = s;
        s->window[i].base = pam_segments[i].base;
    }
    PCIDevice *d = &s->pci;
    pci_device_init(d, "i440fx", I440FX_VENDOR_ID, I440FX_DEVICE_ID, 0x02, 0x060000, 0x00, 0);
    /* Memory access and bus master are hardwired on in a host bridge; parity and SERR
     * reporting are the writable command bits. */
    pci_set_le(d->config, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    pci_set_le(d->wmask, PCI_COMMAND, PCI_COMMAND_PARITY | PCI_COMMAND_SERR, 2);
    pci_set_le(d->config, PCI_STATUS, 0x0280, 2); /* fast back-to-back, medium DEVSEL */
    d->wmask[PCI_INTERRUPT_LINE] = 0;
    /* Chipset registers the BIOS programs: PMCCFG..DRAMT, PAM, DRB, FDHC, MTT, CLT, ERRCMD,
     * TRC. They hold what is written; only PAM and SMRAM change how the machine decodes. */
    static const struct {
        uint8_t off, len, wmask;
    } rw[] = {
        {0x50, 9, 0xFF}, /* PMCCFG, DETURBO, DBC, AXC, DRAMR, DRAMC, DRAMT */
        {0x59, 1, 0x30}, /* PAM0: only the high nibble (0xF0000) exists */
        {0x5A, 6, 0x33}, /* PAM1..PAM6 */
        {0x60, 8, 0xFF}, /* DRB0..7 */
        {0x68, 1, 0xFF}, /* FDHC */
        {0x70, 2, 0xFF}, /* MTT, CLT */
        {0x90, 1, 0xFF}, /* ERRCMD */
        {0x93, 1, 0xFF}, /* TRC */
    };
    for (size_t i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
        memset(&d->wmask[rw[i].off], rw[i].wmask, rw[i].len);
    }
    d->w1cmask[ERRSTS] = 0xFF;
    d->config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    d->config_written = i440fx_config_written;
    d->opaque = s;
    i440fx_update_smram(s);
    if (pci_bus_add_device(bus, d, PCI_DEVFN(0, 0)) < 0 ||
        machine_add_reset(m, i440fx_reset, s) < 0 ||
        vmstate_register(&m->vmstate, "i440fx", &i440fx_vmstate, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void i440fx_free(I440FXState *s)
{
    free(s);
}
