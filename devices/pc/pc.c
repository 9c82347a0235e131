/* pc.c: the PC board: an i440FX/PIIX PC with the legacy ISA devices, as anyvm's machine. */
#include "devices/pc/pc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "translate/jit.h"
#include "devices/debugcon.h"
#include "devices/debugexit.h"
#include "devices/fdc.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/i8237.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/ide.h"
#include "devices/mc146818.h"
#include "bios/bios.h"
#include "devices/pc/loader.h"
#include "devices/pci.h"
#include "devices/piix.h"
#include "devices/port80.h"
#include "devices/port92.h"
#include "devices/ps2.h"
#include "devices/serial.h"
#include "devices/e1000.h"
#include "devices/ne2000.h"
#include "devices/vga.h"

/* The PM I/O base the board programs into PIIX4 (as a BIOS would) and describes in the FADT. */
#define PC_PM_BASE 0x600

/* PCI interrupt routing the board programs (PIRQA-D -> ISA IRQ), as firmware would, and
 * describes to the OS in the DSDT's _PRT. */
static const uint8_t pc_pirq_irq[4] = {10, 10, 11, 11};

struct PCBoard {
    Machine *m;
    CPUState *cpu;
    I8259 *pic;
    I8254 *pit;
    MC146818 *rtc;
    I8042 *kbc;
    Port92 *p92;
    Port80 *p80;
    DebugCon *dcon;
    DebugCon *dcon402; /* -debugcon also at 0x402, QEMU's firmware debug port (SeaBIOS) */
    DebugExit *dexit;
    SerialState *com[2];
    PCIBus *pci;
    I440FXState *host;
    PiixState *piix;
    IDEState *ide;   /* storage block: see pc_storage_init */
    I8237 *dma;
    FDCState *fdc;
    int ferr_handle;
    bool a20_kbc, a20_port92;
    uint32_t rsdp;
    /* networking: the NICs of cfg.nics, see pc_nics_new */
    E1000State *e1000[MACHINE_MAX_NICS];
    NE2000State *ne2k[MACHINE_MAX_NICS];
    /* firmware boot (no -kernel): the BIOS image, see pc_bios_init */
    uint8_t *bios;
    size_t bios_size;
    bool bios_is_anyvm; /* -bios FILE is a build of bios/ (e.g. with -DTRACE13) */
    uint8_t *vgabios; /* the VGA BIOS option ROM (bios/vgabios.S) */
    VGAState *vga;
    InputSink input;
};

/* pc_external_bios: true when a -bios image (a third-party BIOS such as SeaBIOS) runs; the
 * board then leaves the chipset, PCI devices and ACPI tables in their reset state for it, as
 * real hardware does, instead of doing the firmware duties below. */
static bool pc_external_bios(const PCBoard *b)
{
    return !b->m->cfg.kernel[0] && b->m->cfg.bios[0] && !b->bios_is_anyvm;
}

/* pc_direct_boot: true for -kernel, where no BIOS runs: the board then assigns the PCI BARs,
 * interrupt lines and decode enables itself (pc_nics_firmware, pc_vga_firmware,
 * pc_storage_reset). With the built-in BIOS its POST does that (bios/pci.S). */
static bool pc_direct_boot(const PCBoard *b)
{
    return b->m->cfg.kernel[0] != 0;
}

/* --- networking: NICs from cfg.nics[] on PCI slots 3.., wired to m->nic_backend[] --- */

#define PC_NIC_SLOT0 3
#define PC_NIC_MMIO_BASE 0xFEB80000u /* 128 KiB per NIC */
#define PC_NIC_IO_BASE 0xC400u       /* 256 ports per NIC */
#define PC_IDE_BM_BASE 0xC000u       /* the PIIX3 IDE bus-master registers (BAR4) */

/* Firmware duty for the NICs on every reset of a direct (-kernel) boot: BARs, interrupt line
 * (PIRQ -> IRQ as pc_firmware_setup routes it), I/O and memory decoding on. With a BIOS, its
 * POST assigns them. */
static void pc_nics_firmware(void *opaque)
{
    PCBoard *b = opaque;
    if (!pc_direct_boot(b)) {
        return;
    }
    for (int i = 0; i < MACHINE_MAX_NICS; i++) {
        PCIDevice *d = b->e1000[i] ? e1000_pci(b->e1000[i])
                       : b->ne2k[i] ? ne2000_pci(b->ne2k[i]) : NULL;
        if (!d) {
            continue;
        }
        unsigned slot = PC_NIC_SLOT0 + (unsigned)i, devfn = PCI_DEVFN(slot, 0);
        uint32_t io = PC_NIC_IO_BASE + 0x100u * (unsigned)i;
        if (b->e1000[i]) {
            pci_config_write(b->pci, devfn, PCI_BAR0, PC_NIC_MMIO_BASE + 0x20000u * i, 4);
            pci_config_write(b->pci, devfn, PCI_BAR0 + 4, io, 4);
        } else {
            pci_config_write(b->pci, devfn, PCI_BAR0, io, 4);
        }
        pci_config_write(b->pci, devfn, PCI_INTERRUPT_LINE, pc_pirq_irq[pci_slot_pirq(slot, 1)],
                         1);
        pci_config_write(b->pci, devfn, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    }
}

static int pc_nics_new(PCBoard *b, char *err, size_t errlen)
{
    Machine *m = b->m;
    for (int i = 0; i < m->cfg.n_nics && i < MACHINE_MAX_NICS; i++) {
        const NicConfig *nc = &m->cfg.nics[i];
        NICConf conf = {.backend = m->nic_backend[i]};
        if (nc->has_mac) {
            memcpy(conf.mac, nc->mac, 6);
        } else {
            net_default_mac((unsigned)i, conf.mac);
        }
        unsigned devfn = PCI_DEVFN(PC_NIC_SLOT0 + (unsigned)i, 0);
        if (!strcmp(nc->model, "ne2k_pci")) {
            b->ne2k[i] = ne2000_pci_new(m, b->pci, devfn, &conf);
        } else {
            b->e1000[i] = e1000_pci_new(m, b->pci, devfn, &conf);
        }
        if (!b->ne2k[i] && !b->e1000[i]) {
            snprintf(err, errlen, "cannot create NIC %d (%s)", i, nc->model);
            return -1;
        }
    }
    if (m->cfg.n_nics > 0 && machine_add_reset(m, pc_nics_firmware, b) < 0) {
        snprintf(err, errlen, "too many reset handlers");
        return -1;
    }
    return 0;
}

static void pc_nics_free(PCBoard *b)
{
    for (int i = 0; i < MACHINE_MAX_NICS; i++) {
        e1000_free(b->e1000[i]);
        ne2000_free(b->ne2k[i]);
    }
}

/* --- CPU glue --- */

static int pc_cpu_exec(void *opaque, int64_t budget)
{
    CPUState *cpu = opaque;
    CPUExit r = cpu_exec(cpu, budget);
    if (r == CPU_EXIT_SHUTDOWN && x86_jit_verify_failed(cpu)) {
        /* Lockstep found a JIT/interpreter difference (reported in the log): stop with
         * status 1 rather than reset the guest as for a triple fault. */
        PCBoard *b = cpu->hooks.opaque;
        machine_request_shutdown(b->m, SHUTDOWN_FATAL, 1);
    }
    return (int)r;
}

static void pc_cpu_reset(void *opaque)
{
    cpu_reset(opaque);
}

static void pc_cpu_free(void *opaque)
{
    CPUState *cpu = opaque;
    x86_tcache_free(cpu);
    free(cpu);
}

static uint64_t pc_cpu_icount(void *opaque)
{
    return ((CPUState *)opaque)->icount;
}

static const MachineCPUOps pc_cpu_ops = {
    .exec = pc_cpu_exec,
    .reset = pc_cpu_reset,
    .free = pc_cpu_free,
    .icount = pc_cpu_icount,
};

static void pc_intr(void *opaque, int level)
{
    cpu_set_irq(opaque, level);
}

static int pc_intr_ack(void *opaque)
{
    PCBoard *b = opaque;
    return i8259_intr_ack(b->pic);
}

static void pc_triple_fault(void *opaque)
{
    PCBoard *b = opaque;
    machine_request_reset(b->m, SHUTDOWN_TRIPLE_FAULT);
}

/* FERR#: the FPU's error output drives IRQ 13 through the chipset (PC/AT convention). */
static void pc_ferr(void *opaque, int level)
{
    PCBoard *b = opaque;
    irq_set(i8259_irq(b->pic, 13), level);
}

/* Port 0xF0: a write clears the coprocessor error latch (IGNNE#); 0xF1 resets it too. */
static void fpu_latch_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCBoard *b = opaque;
    irq_set(i8259_irq(b->pic, 13), 0);
}

static uint64_t fpu_latch_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0xFF;
}

static const IOOps fpu_latch_ops = {
    .read = fpu_latch_read,
    .write = fpu_latch_write,
    .min_access = 1,
    .max_access = 1,
};

static void pc_set_a20(PCBoard *b)
{
    cpu_set_a20(b->cpu, b->a20_kbc || b->a20_port92);
}

static void pc_kbc_a20(void *opaque, int on)
{
    PCBoard *b = opaque;
    b->a20_kbc = on != 0;
    pc_set_a20(b);
}

static void pc_port92_a20(void *opaque, int on)
{
    PCBoard *b = opaque;
    b->a20_port92 = on != 0;
    pc_set_a20(b);
}

static void pc_request_reset(void *opaque)
{
    PCBoard *b = opaque;
    machine_request_reset(b->m, SHUTDOWN_GUEST_RESET);
}

static IRQLine *pc_isa_irq(void *opaque, int n)
{
    PCBoard *b = opaque;
    return (n >= 0 && n < 16) ? i8259_irq(b->pic, n) : NULL;
}

/* --- firmware duties for direct boot --- */


static void pci_cfg_write(Machine *m, unsigned devfn, unsigned reg, uint32_t val, unsigned size)
{
    port_write(&m->io, 0xCF8, 0x80000000u | (devfn << 8) | (reg & 0xFC), 4);
    port_write(&m->io, (uint16_t)(0xCFC + (reg & 3)), val, size);
}

/* pc_firmware_setup: what a BIOS leaves behind for an OS: shadow RAM readable and writable,
 * the PM block enabled at PC_PM_BASE, PCI interrupts routed (PIRQA-D -> IRQ 10, 10, 11, 11,
 * level-triggered in the ELCR), the ACPI tables, the A20 gate open. */
static void pc_firmware_setup(PCBoard *b)
{
    Machine *m = b->m;
    for (unsigned r = I440FX_PAM0; r <= I440FX_PAM0 + 6; r++) {
        pci_cfg_write(m, PCI_DEVFN(0, 0), r, r == I440FX_PAM0 ? 0x30 : 0x33, 1);
    }
    pci_cfg_write(m, PIIX_DEVFN_PM, PIIX4_PMBA, PC_PM_BASE | 1, 4);
    pci_cfg_write(m, PIIX_DEVFN_PM, PIIX4_PMREGMISC, 1, 1);
    for (unsigned i = 0; i < 4; i++) {
        pci_cfg_write(m, PIIX_DEVFN_ISA, PIIX_PIRQRC + i, pc_pirq_irq[i], 1);
    }
    port_write(&m->io, 0x4D1, (1u << (10 - 8)) | (1u << (11 - 8)), 1);
    AcpiConfig acfg = {
        .pm_base = PC_PM_BASE,
        .sci_irq = PIIX4_SCI_IRQ,
        .s5_slp_typ = PIIX4_SLP_TYP_S5,
        .smi_cmd = PIIX_APMC_PORT,
        .pirq_irq = pc_pirq_irq,
    };
    b->rsdp = pc_build_acpi(&m->mem, &acfg);
    b->a20_port92 = true;
    pc_set_a20(b);
}

/* Runs after every device reset: firmware set-up, then the kernel entry state. */
static void pc_board_reset(void *opaque)
{
    PCBoard *b = opaque;
    const MachineConfig *cfg = &b->m->cfg;
    if (pc_external_bios(b)) {
        return; /* a -bios image sets the chipset up itself, from its reset state */
    }
    pc_firmware_setup(b);
    if (cfg->kernel[0]) {
        char err[256];
        int r = pc_load_kernel(&b->m->mem, b->cpu, cfg->ram_size, cfg->kernel, cfg->initrd,
                               cfg->append, b->rsdp, err, sizeof(err));
        if (r < 0) {
            /* The files were loadable at start-up; if they vanished since, stop cleanly. */
            fprintf(stderr, "anyvm: reboot: %s\n", err);
            machine_request_shutdown(b->m, SHUTDOWN_FATAL, 1);
        }
    }
}

/* --- storage: IDE (00:01.1), the 8237 DMA controllers and the floppy controller --- */

/* Firmware duty on every reset of a direct (-kernel) boot (a BIOS's POST does it otherwise):
 * enable both IDE channels in IDETIM/SIDETIM (bit 15, "IDE decode enable", 82371SB section
 * 2.3.14) as every PC BIOS does; operating systems (Linux's
 * ata_piix) ignore a channel whose enable bit is clear. The PIIX3 resets it to 0. */
static void pc_storage_reset(void *opaque)
{
    PCBoard *b = opaque;
    if (!pc_direct_boot(b)) {
        return;
    }
    pci_config_write(b->pci, PIIX_DEVFN_IDE, 0x40, 0x8000, 2);
    pci_config_write(b->pci, PIIX_DEVFN_IDE, 0x42, 0x8000, 2);
    /* The bus-master block (BAR4, 16 ports) at PC_IDE_BM_BASE and I/O decoding on, as a BIOS
     * leaves it: ata_piix only uses DMA when BAR4 holds an address. */
    pci_config_write(b->pci, PIIX_DEVFN_IDE, PCI_BAR0 + 16, PC_IDE_BM_BASE, 4);
    pci_config_write(b->pci, PIIX_DEVFN_IDE, PCI_COMMAND, PCI_COMMAND_IO, 2);
}

/* pc_storage_init: attach m->cfg.drives (opened by the frontend into m->drive_blk) to the
 * PIIX3 IDE function (hda..hdd, CD-ROMs; ISA IRQ 14/15) and the floppy controller (fda/fdb;
 * IRQ 6, DMA 2), and record the floppy drives in CMOS 0x10/0x14. Returns 0 or -1 with a
 * message in err. */
static int pc_storage_init(PCBoard *b, char *err, size_t errlen)
{
    Machine *m = b->m;
    const MachineConfig *cfg = &m->cfg;
    IDEDriveConfig ide[4];
    BlockBackend *fd[2] = {NULL, NULL};
    memset(ide, 0, sizeof(ide));
    for (int i = 0; i < cfg->n_drives && i < MACHINE_MAX_DRIVES; i++) {
        const DriveConfig *d = &cfg->drives[i];
        bool cd = d->media == DRIVE_MEDIA_CDROM;
        if (d->iface == DRIVE_IF_IDE && d->index >= 0 && d->index < 4 &&
            (m->drive_blk[i] || cd)) {
            ide[d->index].blk = m->drive_blk[i];
            ide[d->index].present = true;
            ide[d->index].cdrom = cd;
        } else if (d->iface == DRIVE_IF_FLOPPY && d->index >= 0 && d->index < 2) {
            fd[d->index] = m->drive_blk[i];
            if (fd[d->index] &&
                !fdc_geometry_for_size(fd[d->index]->sectors * BLK_SECTOR_SIZE)) {
                snprintf(err, errlen, "floppy %s: %llu bytes is no floppy format (360K, 720K, "
                         "1.2M, 1.44M, 2.88M)", d->file,
                         (unsigned long long)(fd[d->index]->sectors * BLK_SECTOR_SIZE));
                return -1;
            }
        }
    }
    b->ide = ide_new(m, b->pci, i8259_irq(b->pic, IDE_PRIMARY_IRQ),
                     i8259_irq(b->pic, IDE_SECONDARY_IRQ), ide);
    b->dma = i8237_new(m);
    b->fdc = b->dma ? fdc_new(m, i8259_irq(b->pic, FDC_IRQ), b->dma, fd) : NULL;
    if (!b->ide || !b->dma || !b->fdc || machine_add_reset(m, pc_storage_reset, b) < 0) {
        snprintf(err, errlen, "cannot create the storage controllers (resource conflict)");
        return -1;
    }
    uint8_t t0 = fdc_cmos_type(b->fdc, 0), t1 = fdc_cmos_type(b->fdc, 1);
    mc146818_cmos_set(b->rtc, 0x10, (uint8_t)(t0 << 4 | t1));
    int nfd = (t0 != 0) + (t1 != 0);
    uint8_t equip = mc146818_cmos_get(b->rtc, 0x14) & 0x3E;
    if (nfd) {
        equip |= (uint8_t)(0x01 | (nfd - 1) << 6);
    }
    mc146818_cmos_set(b->rtc, 0x14, equip);
    mc146818_update_checksum(b->rtc);
    return 0;
}

static void pc_storage_free(PCBoard *b)
{
    fdc_free(b->fdc);
    i8237_free(b->dma);
    ide_free(b->ide);
}

/* --- end of the storage block --- */

/* --- firmware boot: the BIOS image (built-in bios/ or -bios FILE) when there is no -kernel --- */

/* On every reset, for the built-in BIOS, the image is put into the F-segment shadow RAM
 * (pc_firmware_setup has 0xF0000 reading DRAM, as after a BIOS shadowed itself) and the VGA
 * BIOS option ROM (bios/vgabios.S) into the C-segment shadow RAM at 0xC0000 (where the BIOS's
 * option ROM scan finds it); a third-party -bios image shadows itself from the ROMs (PAM all
 * 0 at reset). The boot order goes into CMOS 0x3D/0x38 (bios/bios.h) in both cases. The ROMs
 * sit at the top of 4 GiB (reset alias; the whole image) and below the PAM overlays at
 * 0xC0000 and 0x100000 minus at most 128 KiB. */
static void pc_bios_reset(void *opaque)
{
    PCBoard *b = opaque;
    Machine *m = b->m;
    if (!pc_external_bios(b)) { /* a third-party BIOS shadows itself and option ROMs */
        memcpy(m->ram + 0x100000 - b->bios_size, b->bios, b->bios_size);
        mem_notify_ram_write(&m->mem, 0x100000 - b->bios_size, b->bios_size);
        memcpy(m->ram + VGABIOS_ADDR, b->vgabios, anyvm_vgabios_size);
        mem_notify_ram_write(&m->mem, VGABIOS_ADDR, anyvm_vgabios_size);
    }
    uint8_t code[3] = {0, 0, 0};
    int n = 0;
    for (const char *p = m->cfg.boot_order; *p && n < 3; p++) {
        uint8_t c = *p == 'a' ? 1 : *p == 'c' ? 2 : *p == 'd' ? 3 : 0;
        if (c) {
            code[n++] = c;
        }
    }
    if (!n) { /* default "cad" */
        code[0] = 2;
        code[1] = 1;
        code[2] = 3;
    }
    mc146818_cmos_set(b->rtc, BIOS_CMOS_BOOT_ORDER, (uint8_t)(code[0] | code[1] << 4));
    mc146818_cmos_set(b->rtc, BIOS_CMOS_BOOT_ORDER3,
                      (uint8_t)((mc146818_cmos_get(b->rtc, BIOS_CMOS_BOOT_ORDER3) & 0x0F) |
                                code[2] << 4));
    mc146818_update_checksum(b->rtc);
}

/* pc_bios_init: load the firmware (cfg.bios, 64/128/256 KiB, or the built-in image) and map it.
 * Returns 0 or -1 with a message in err. */
static int pc_bios_init(PCBoard *b, char *err, size_t errlen)
{
    Machine *m = b->m;
    const char *file = m->cfg.bios;
    if (file[0]) {
        FILE *f = fopen(file, "rb");
        if (!f) {
            snprintf(err, errlen, "-bios %s: %s", file, strerror(errno));
            return -1;
        }
        b->bios = malloc(0x40000);
        size_t got = b->bios ? fread(b->bios, 1, 0x40000, f) : 0;
        int extra = fgetc(f);
        fclose(f);
        if (!b->bios || (got != 0x10000 && got != 0x20000 && got != 0x40000) || extra != EOF) {
            snprintf(err, errlen, "-bios %s: the image must be 64, 128 or 256 KiB", file);
            return -1;
        }
        b->bios_size = got;
        /* a build of bios/ (say with -DTRACE13) is treated like the built-in image */
        static const char banner[] = "anyvm BIOS\r\n";
        for (size_t i = 0; got == 0x10000 && i + sizeof(banner) - 1 <= got; i++) {
            if (!memcmp(b->bios + i, banner, sizeof(banner) - 1)) {
                b->bios_is_anyvm = true;
                break;
            }
        }
    } else {
        b->bios = malloc(anyvm_bios_size);
        if (!b->bios) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(b->bios, anyvm_bios_image, anyvm_bios_size);
        b->bios_size = anyvm_bios_size;
    }
    b->vgabios = malloc(anyvm_vgabios_size);
    if (!b->vgabios) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(b->vgabios, anyvm_vgabios_image, anyvm_vgabios_size);
    /* The whole image ends at 4 GiB; its last 128 KiB (at most) also ends at 1 MiB. */
    uint64_t sz = b->bios_size, low = sz > 0x20000 ? 0x20000 : sz;
    if (mem_map_rom(&m->mem, "bios-high", 0x100000000ull - sz, sz, b->bios, 0) < 0 ||
        mem_map_rom(&m->mem, "bios", 0x100000 - low, low, b->bios + (sz - low), 1) < 0 ||
        mem_map_rom(&m->mem, "vgabios", VGABIOS_ADDR, anyvm_vgabios_size, b->vgabios, 1) < 0 ||
        machine_add_reset(m, pc_bios_reset, b) < 0) {
        snprintf(err, errlen, "cannot map the BIOS");
        return -1;
    }
    return 0;
}

/* --- end of the firmware boot block --- */

/* --- display and input (VGA on PCI slot 2, host input into the 8042's PS/2 devices) --- */

static void pc_input_key(void *opaque, uint16_t set2_code, bool down)
{
    PCBoard *b = opaque;
    ps2_kbd_key(i8042_kbd(b->kbc), set2_code, down);
}

static void pc_input_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    PCBoard *b = opaque;
    ps2_mouse_move(i8042_mouse(b->kbc), dx, dy, dz, buttons);
}

#define PC_VGA_DEVFN PCI_DEVFN(2, 0)
#define PC_VGA_LFB 0xFD000000u /* where PC firmware customarily puts the Bochs VGA's LFB */

/* Firmware duty on every reset of a direct (-kernel) boot: the LFB BAR and decoding on (with
 * the built-in BIOS, bios/pci.S assigns the BAR from its memory window). */
static void pc_vga_firmware(void *opaque)
{
    PCBoard *b = opaque;
    if (!pc_direct_boot(b)) {
        return;
    }
    pci_config_write(b->pci, PC_VGA_DEVFN, PCI_BAR0, PC_VGA_LFB, 4);
    pci_config_write(b->pci, PC_VGA_DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
}

static int pc_display_init(PCBoard *b)
{
    /* The VGA BIOS also sits behind the VGA's expansion ROM BAR, for firmware (-bios) that
     * loads option ROMs from PCI devices; the built-in BIOS finds the copy at 0xC0000. */
    b->vga = vga_new_with_rom(b->m, b->pci, PC_VGA_DEVFN, anyvm_vgabios_image,
                              anyvm_vgabios_size);
    if (!b->vga || machine_add_reset(b->m, pc_vga_firmware, b) < 0) {
        return -1;
    }
    b->m->display = vga_display_source(b->vga);
    b->input.key = pc_input_key;
    b->input.mouse = pc_input_mouse;
    b->input.opaque = b;
    b->m->input = &b->input;
    return 0;
}

PCBoard *pc_board_new(Machine *m, char *err, size_t errlen)
{
    const MachineConfig *cfg = &m->cfg;
    PCBoard *b = calloc(1, sizeof(*b));
    CPUState *cpu = calloc(1, sizeof(*cpu));
    if (!b || !cpu) {
        free(b);
        free(cpu);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->m = m;
    b->cpu = cpu;
    b->ferr_handle = -1;

    /* Memory: conventional RAM below the VGA window; the 0xC0000-0xFFFFF shadow area is the
     * i440FX's (PAM); extended RAM from 1 MiB. */
    uint64_t ram = cfg->ram_size;
    if (ram < (2u << 20) || ram > 0xE0000000ull) {
        snprintf(err, errlen, "-m: RAM must be between 2 MiB and 3584 MiB");
        goto fail;
    }
    if (mem_map_ram(&m->mem, "ram-low", 0, 0xA0000, m->ram, 0) < 0 ||
        mem_map_ram(&m->mem, "ram-high", 0x100000, ram - 0x100000, m->ram + 0x100000, 0) < 0) {
        snprintf(err, errlen, "cannot map guest RAM");
        goto fail;
    }

    cpu_init(cpu, &m->mem, &m->io, &m->log);
    cpu->clock = &m->clock;
    cpu_set_tsc(cpu, 0);
    if (vmstate_register(&m->vmstate, "cpu0", &cpu_vmstate, cpu) < 0) {
        snprintf(err, errlen, "cannot register the CPU state");
        free(cpu);
        free(b);
        return NULL;
    }
    {
        /* -accel jit[,options]: attach the JIT (translate/jit.c); interp needs nothing. */
        bool use_jit;
        JitOptions jo;
        if (jit_parse_accel(cfg->accel, &use_jit, &jo, err, errlen) < 0) {
            goto fail;
        }
        if (use_jit && x86_jit_enable(cpu, &jo) < 0) {
            snprintf(err, errlen, "-accel jit: %s",
#if defined(__x86_64__)
                     "cannot allocate executable memory"
#else
                     "the JIT generates x86-64 code only (use -accel interp)"
#endif
            );
            goto fail;
        }
    }
    cpu->hooks.intr_ack = pc_intr_ack;
    cpu->hooks.triple_fault = pc_triple_fault;
    cpu->hooks.ferr = pc_ferr;
    cpu->hooks.opaque = b;
    m->cpu = cpu;
    m->cpu_ops = &pc_cpu_ops;
    m->cpu_opaque = cpu;

    b->pic = i8259_new(m, pc_intr, cpu);
    if (!b->pic) {
        snprintf(err, errlen, "cannot create the interrupt controllers");
        goto fail;
    }
    b->pit = i8254_new(m, i8259_irq(b->pic, 0));
    b->rtc = mc146818_new(m, i8259_irq(b->pic, 8),
                          cfg->icount_shift >= 0 ? MC146818_DETERMINISTIC_EPOCH
                                                 : MC146818_START_HOST);
    I8042Hooks kh = {.reset = pc_request_reset, .set_a20 = pc_kbc_a20, .opaque = b};
    b->kbc = i8042_new(m, i8259_irq(b->pic, 1), i8259_irq(b->pic, 12), &kh);
    Port92Hooks ph = {.reset = pc_request_reset, .set_a20 = pc_port92_a20, .opaque = b};
    b->p92 = port92_new(m, &ph);
    b->p80 = port80_new(m);
    b->dcon = debugcon_new(m, 0xE9, m->debugcon_chr);
    if (m->debugcon_chr) {
        b->dcon402 = debugcon_new(m, 0x402, m->debugcon_chr);
    }
    if (cfg->debug_exit.enabled) {
        b->dexit = debugexit_new(m, cfg->debug_exit.iobase, cfg->debug_exit.iosize);
    }
    b->com[0] = serial_new(m, SERIAL_COM1_BASE, i8259_irq(b->pic, SERIAL_COM1_IRQ),
                           m->serial_chr[0]);
    b->com[1] = serial_new(m, SERIAL_COM2_BASE, i8259_irq(b->pic, SERIAL_COM2_IRQ),
                           m->serial_chr[1]);
    b->pci = pci_bus_new(m);
    b->host = b->pci ? i440fx_new(m, b->pci) : NULL;
    b->piix = b->pci ? piix_new(m, b->pci, pc_isa_irq, b) : NULL;
    b->ferr_handle = port_map(&m->io, "fpu-latch", 0xF0, 2, &fpu_latch_ops, b);
    if (!b->pit || !b->rtc || !b->kbc || !b->p92 || !b->p80 || !b->dcon || !b->com[0] ||
        !b->com[1] || !b->pci || !b->host || !b->piix || b->ferr_handle < 0 ||
        (cfg->debug_exit.enabled && !b->dexit)) {
        snprintf(err, errlen, "cannot create the PC devices (port or resource conflict)");
        goto fail;
    }
    if (pc_nics_new(b, err, errlen) < 0) { /* networking */
        goto fail;
    }
    if (pc_display_init(b) < 0) {
        snprintf(err, errlen, "cannot create the VGA adapter");
        goto fail;
    }
    mc146818_setup_pc(b->rtc, ram, 0x06); /* equipment: FPU present, VGA/EGA */
    if (pc_storage_init(b, err, errlen) < 0) {
        goto fail;
    }
    if (!cfg->kernel[0] && pc_bios_init(b, err, errlen) < 0) { /* firmware boot */
        goto fail;
    }
    if (machine_add_reset(m, pc_board_reset, b) < 0) {
        snprintf(err, errlen, "too many reset handlers");
        goto fail;
    }

    /* Check the kernel once now, so a bad file is a start-up error and not a reboot loop. */
    machine_reset(m);
    if (cfg->kernel[0]) {
        int r = pc_load_kernel(&m->mem, cpu, ram, cfg->kernel, cfg->initrd, cfg->append,
                               b->rsdp, err, errlen);
        if (r < 0) {
            goto fail;
        }
    }
    return b;

fail:
    if (m->cpu == cpu) {
        m->cpu = NULL;
        m->cpu_ops = NULL;
        m->cpu_opaque = NULL;
        pc_cpu_free(cpu);
    } else {
        free(cpu);
    }
    b->cpu = NULL;
    pc_board_free(b);
    return NULL;
}

VGAState *pc_board_vga(PCBoard *b)
{
    return b->vga;
}

void pc_board_free(PCBoard *b)
{
    if (!b) {
        return;
    }
    pc_nics_free(b); /* networking */
    pc_storage_free(b);
    vga_free(b->vga); /* the machine (and its display/input pointers) is already gone */
    piix_free(b->piix);
    i440fx_free(b->host);
    pci_bus_free(b->pci);
    serial_free(b->com[0]);
    serial_free(b->com[1]);
    debugexit_free(b->dexit);
    debugcon_free(b->dcon);
    debugcon_free(b->dcon402);
    port80_free(b->p80);
    port92_free(b->p92);
    i8042_free(b->kbc);
    mc146818_free(b->rtc);
    i8254_free(b->pit);
    i8259_free(b->pic);
    free(b->bios);
    free(b->vgabios);
    free(b);
}
