/* test_pc_post.c: what the built-in BIOS's POST leaves behind, read from the host side: the PCI
 * devices' BARs, decode enables and interrupt lines (bios/pci.S), the SMBIOS tables in the F
 * segment (bios/smbios.S). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/cpu.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/pc/pc.h"

static Machine *post_machine(PCBoard **bp)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 48u << 20;
    cfg.icount_shift = 0;
    strcpy(cfg.display, "none");
    cfg.n_nics = 2;
    strcpy(cfg.nics[0].model, "e1000");
    strcpy(cfg.nics[1].model, "ne2k_pci");
    char err[256] = "";
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    *bp = pc_board_new(m, err, sizeof(err));
    cr_assert_not_null(*bp, "%s", err);
    for (int i = 0; i < 200 && !m->cpu->halted; i++) {
        cpu_exec(m->cpu, 10000);
    }
    cr_assert(m->cpu->halted, "POST ends in INT 18h without a boot device");
    return m;
}

static uint32_t cfg32(Machine *m, unsigned devfn, unsigned reg)
{
    port_write(&m->io, 0xCF8, 0x80000000u | devfn << 8 | reg, 4);
    return (uint32_t)port_read(&m->io, 0xCFC, 4);
}

static void cfgw32(Machine *m, unsigned devfn, unsigned reg, uint32_t v)
{
    port_write(&m->io, 0xCF8, 0x80000000u | devfn << 8 | reg, 4);
    port_write(&m->io, 0xCFC, v, 4);
}

typedef struct Range {
    uint32_t base, size;
    bool io;
    unsigned devfn, bar;
} Range;

Test(pc_post, pci_bars_are_sized_assigned_and_decoded)
{
    PCBoard *b;
    Machine *m = post_machine(&b);
    Range r[64];
    int n = 0;
    int devices = 0;
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        uint32_t id = cfg32(m, devfn, 0);
        if ((id & 0xFFFF) == 0xFFFF) {
            continue;
        }
        devices++;
        uint32_t cmd = cfg32(m, devfn, 4) & 0xFFFF;
        bool io_used = false, mem_used = false;
        for (unsigned bar = 0; bar < 6; bar++) {
            unsigned reg = 0x10 + 4 * bar;
            uint32_t v = cfg32(m, devfn, reg);
            /* size it (decoding off meanwhile), then put it back */
            cfgw32(m, devfn, 4, 0);
            cfgw32(m, devfn, reg, 0xFFFFFFFFu);
            uint32_t mask = cfg32(m, devfn, reg);
            cfgw32(m, devfn, reg, v);
            cfgw32(m, devfn, 4, cmd);
            if (!mask) {
                continue;
            }
            bool io = mask & 1;
            uint32_t size = io ? (uint32_t)-((mask & ~3u) | 0xFFFF0000u) : -(mask & ~15u);
            uint32_t base = v & (io ? ~3u : ~15u);
            cr_assert_neq(base, 0, "%02x.%u BAR%u not assigned", devfn >> 3, devfn & 7, bar);
            cr_assert_eq(base & (size - 1), 0, "BAR aligned to its size");
            if (io) {
                cr_assert(base >= 0xC000 && base + size <= 0x10000, "I/O BAR %04x", base);
                io_used = true;
            } else {
                cr_assert(base >= 0xE0000000u && base + size <= 0xFEC00000u, "mem BAR %08x",
                          base);
                mem_used = true;
            }
            cr_assert_lt(n, 64);
            r[n++] = (Range){base, size, io, devfn, bar};
        }
        if (devfn) { /* the host bridge hardwires its command bits */
            cr_assert(!io_used || (cmd & 1), "%02x.%u: I/O decode on", devfn >> 3, devfn & 7);
            cr_assert(!mem_used || (cmd & 2), "%02x.%u: memory decode on", devfn >> 3,
                      devfn & 7);
        }
        uint32_t intr = cfg32(m, devfn, 0x3C);
        unsigned pin = (intr >> 8) & 0xFF;
        if (pin >= 1 && pin <= 4) {
            static const uint8_t pirq_irq[4] = {10, 10, 11, 11};
            unsigned pirq = ((devfn >> 3) + pin - 2) & 3;
            cr_assert_eq(intr & 0xFF, pirq_irq[pirq], "%02x.%u INT%c -> PIRQ%c", devfn >> 3,
                         devfn & 7, 'A' + pin - 1, 'A' + pirq);
        }
    }
    cr_assert_geq(devices, 6, "host bridge, PIIX ISA/IDE/PM, VGA, 2 NICs");
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (r[i].io == r[j].io) {
                cr_assert(r[i].base + r[i].size <= r[j].base ||
                          r[j].base + r[j].size <= r[i].base,
                          "BARs %02x.%u/%u and %02x.%u/%u overlap", r[i].devfn >> 3,
                          r[i].devfn & 7, r[i].bar, r[j].devfn >> 3, r[j].devfn & 7, r[j].bar);
            }
        }
    }
    /* IDE (00:01.1): both channels decoded, bus-master BAR4 assigned, I/O and bus master on */
    cr_assert_eq(cfg32(m, 0x09, 0x40), 0x80008000u, "IDETIM/SIDETIM decode enable");
    uint32_t bm = cfg32(m, 0x09, 0x20) & ~3u;
    cr_assert(bm >= 0xC000 && bm < 0x10000, "BMIBA %04x", bm);
    cr_assert_eq(cfg32(m, 0x09, 4) & 5, 5);
    /* the e1000's registers answer at the memory BAR the BIOS chose */
    uint32_t mmio = cfg32(m, 3u << 3, 0x10) & ~15u;
    cr_assert_eq(mem_read(&m->mem, mmio + 0x8, 4) & 3, 3, "e1000 STATUS: FD, LU");
    machine_free(m);
    pc_board_free(b);
}

static uint8_t sum(Machine *m, uint32_t at, unsigned len)
{
    uint8_t s = 0;
    for (unsigned i = 0; i < len; i++) {
        s = (uint8_t)(s + mem_read(&m->mem, at + i, 1));
    }
    return s;
}

/* the string number idx of the structure at p (formatted length len) */
static void smb_string(Machine *m, uint32_t p, unsigned len, unsigned idx, char *out, size_t n)
{
    uint32_t s = p + len;
    out[0] = 0;
    for (unsigned k = 1; k < idx; k++) {
        while (mem_read(&m->mem, s, 1)) {
            s++;
        }
        s++;
    }
    size_t i = 0;
    for (; i + 1 < n; i++) {
        uint8_t c = (uint8_t)mem_read(&m->mem, s + (uint32_t)i, 1);
        if (!c) {
            break;
        }
        out[i] = (char)c;
    }
    out[i] = 0;
}

Test(pc_post, smbios_entry_point_and_tables_in_the_f_segment)
{
    PCBoard *b;
    Machine *m = post_machine(&b);
    /* the scan an OS does: "_SM_" on a 16-byte boundary in F0000h-FFFFFh, valid checksums */
    uint32_t ep = 0;
    for (uint32_t a = 0xF0000; a < 0x100000; a += 16) {
        if (mem_read(&m->mem, a, 4) == 0x5F4D535Fu && sum(m, a, mem_read(&m->mem, a + 5, 1))
            == 0) {
            ep = a;
            break;
        }
    }
    cr_assert_neq(ep, 0, "no SMBIOS entry point");
    cr_assert_eq(mem_read(&m->mem, ep + 5, 1), 0x1F);
    cr_assert_eq(mem_read(&m->mem, ep + 6, 2), 0x0402, "version 2.4");
    cr_assert_eq(mem_read(&m->mem, ep + 0x10, 4), 0x494D445Fu, "_DMI");
    cr_assert_eq(sum(m, ep + 0x10, 15), 0, "intermediate checksum");
    uint32_t len = (uint32_t)mem_read(&m->mem, ep + 0x16, 2);
    uint32_t tab = (uint32_t)mem_read(&m->mem, ep + 0x18, 4);
    unsigned count = (unsigned)mem_read(&m->mem, ep + 0x1C, 2);
    unsigned maxsz = (unsigned)mem_read(&m->mem, ep + 8, 2);
    cr_assert(tab >= 0xF0000 && tab + len <= 0x100000);
    static const uint8_t want[] = {0, 1, 3, 4, 16, 17, 19, 32, 127};
    cr_assert_eq(count, sizeof(want));
    uint32_t p = tab;
    unsigned biggest = 0;
    char str[64];
    for (unsigned i = 0; i < count; i++) {
        unsigned type = (unsigned)mem_read(&m->mem, p, 1);
        unsigned flen = (unsigned)mem_read(&m->mem, p + 1, 1);
        cr_assert_eq(type, want[i], "structure %u is type %u", i, type);
        cr_assert_geq(flen, 4);
        uint32_t e = p + flen;
        while (mem_read(&m->mem, e, 2) != 0) {
            e++;
            cr_assert_lt(e, tab + len, "unterminated strings in type %u", type);
        }
        e += 2;
        if (e - p > biggest) {
            biggest = e - p;
        }
        switch (type) {
        case 1:
            smb_string(m, p, flen, (unsigned)mem_read(&m->mem, p + 4, 1), str, sizeof(str));
            cr_assert_str_eq(str, "anyvm", "sys_vendor");
            smb_string(m, p, flen, (unsigned)mem_read(&m->mem, p + 5, 1), str, sizeof(str));
            cr_assert(strstr(str, "anyvm") != NULL, "product_name %s", str);
            break;
        case 4:
            /* the processor ID is CPUID leaf 1, the manufacturer the leaf-0 vendor */
            cr_assert_eq(mem_read(&m->mem, p + 8, 4), m->cpu->cpuid_signature);
            cr_assert_neq(mem_read(&m->mem, p + 12, 4) & 1, 0, "CPUID 1 EDX: FPU");
            smb_string(m, p, flen, (unsigned)mem_read(&m->mem, p + 7, 1), str, sizeof(str));
            cr_assert_str_eq(str, "GenuineIntel", "the CPUID vendor string");
            break;
        case 17:
            cr_assert_eq(mem_read(&m->mem, p + 0x0C, 2), 48, "DIMM size in MiB");
            break;
        case 19:
            cr_assert_eq(mem_read(&m->mem, p + 8, 4), 48u * 1024 - 1, "end address, KiB");
            break;
        default:
            break;
        }
        p = e;
    }
    cr_assert_eq(p, tab + len, "table length");
    cr_assert_eq(maxsz, biggest, "largest structure");
    machine_free(m);
    pc_board_free(b);
}

Test(pc_post, pnp_installation_check_structure)
{
    PCBoard *b;
    Machine *m = post_machine(&b);
    uint32_t at = 0;
    for (uint32_t a = 0xF0000; a < 0x100000; a += 16) {
        if (mem_read(&m->mem, a, 4) == 0x506E5024u) { /* "$PnP" */
            at = a;
            break;
        }
    }
    cr_assert_neq(at, 0, "no $PnP structure on a 16-byte boundary");
    cr_assert_eq(mem_read(&m->mem, at + 4, 1), 0x10, "version 1.0");
    cr_assert_eq(mem_read(&m->mem, at + 5, 1), 0x21, "length");
    cr_assert_eq(sum(m, at, 0x21), 0, "checksum");
    cr_assert_eq(mem_read(&m->mem, at + 0x0F, 2), 0xF000, "real-mode entry segment");
    cr_assert_eq(mem_read(&m->mem, at + 0x13, 4), 0xF0000, "protected-mode code base");
    /* the entry answers FUNCTION_NOT_SUPPORTED: MOV AX, 82h; RETF */
    uint32_t entry = 0xF0000 + (uint32_t)mem_read(&m->mem, at + 0x0D, 2);
    cr_assert_eq(mem_read(&m->mem, entry, 4), 0xCB0082B8u);
    machine_free(m);
    pc_board_free(b);
}
