/* test_loader.c: direct kernel boot (Linux boot protocol, multiboot v1) and ACPI tables. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/memmap.h"
#include "devices/pc/loader.h"

#define RAM_SIZE (32u << 20)

typedef struct Env {
    Logger log;
    MemMap mem;
    PortMap io;
    CPUState *cpu;
    uint8_t *ram;
    char dir[64];
} Env;

static Env *env_new(void)
{
    Env *e = calloc(1, sizeof(*e));
    log_init(&e->log);
    memmap_init(&e->mem, &e->log);
    portmap_init(&e->io, &e->log);
    e->ram = calloc(1, RAM_SIZE);
    cr_assert(mem_map_ram(&e->mem, "ram", 0, RAM_SIZE, e->ram, 0) >= 0);
    e->cpu = calloc(1, sizeof(CPUState));
    cpu_init(e->cpu, &e->mem, &e->io, &e->log);
    strcpy(e->dir, "/tmp/anyvm-loader-XXXXXX");
    cr_assert_not_null(mkdtemp(e->dir));
    return e;
}

static void env_free(Env *e)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
    cr_assert_eq(system(cmd), 0);
    x86_tcache_free(e->cpu);
    free(e->cpu);
    free(e->ram);
    free(e);
}

static char *write_file(Env *e, const char *name, const void *data, size_t len)
{
    static const size_t max = 128;
    char *path = malloc(max);
    snprintf(path, max, "%s/%s", e->dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* A minimal bzImage: 4 setup sectors + boot sector, then a protected-mode payload. */
static uint8_t *fake_bzimage(size_t *len, size_t payload)
{
    size_t setup = 5 * 512;
    uint8_t *k = calloc(1, setup + payload);
    k[0x1F1] = 4;
    k[0x1FE] = 0x55;
    k[0x1FF] = 0xAA;
    k[0x201] = 0x66;                     /* header ends at 0x268 */
    memcpy(k + 0x202, "HdrS", 4);
    k[0x206] = 0x0F;                     /* version 2.15 */
    k[0x207] = 0x02;
    k[0x211] = 0x01;                     /* LOADED_HIGH */
    k[0x214] = 0x00; k[0x215] = 0x00; k[0x216] = 0x10; /* code32_start 0x100000 */
    k[0x22C] = 0xFF; k[0x22D] = 0xFF; k[0x22E] = 0xFF; k[0x22F] = 0x7F; /* initrd_addr_max */
    k[0x238] = 0xFF; k[0x239] = 0x07;    /* cmdline_size 2047 */
    for (size_t i = 0; i < payload; i++) {
        k[setup + i] = (uint8_t)(i * 7 + 1);
    }
    *len = setup + payload;
    return k;
}

Test(loader, bzimage_places_kernel_initrd_cmdline_and_enters_flat32)
{
    Env *e = env_new();
    size_t klen;
    uint8_t *k = fake_bzimage(&klen, 8192);
    char *kp = write_file(e, "bzImage", k, klen);
    uint8_t initrd[5000];
    memset(initrd, 0xA5, sizeof(initrd));
    char *ip = write_file(e, "initrd", initrd, sizeof(initrd));
    char err[256] = "";
    int r = pc_load_kernel(&e->mem, e->cpu, RAM_SIZE, kp, ip, "console=ttyS0 quiet", 0xE0000,
                           err, sizeof(err));
    cr_assert_eq(r, 0, "%s", err);

    cr_assert_eq(memcmp(e->ram + 0x100000, k + 5 * 512, 8192), 0, "payload at 1 MiB");
    const uint8_t *bp = e->ram + LOADER_BOOT_PARAMS;
    cr_assert_eq(rd32(bp + 0x202), 0x53726448u, "setup header copied");
    cr_assert_eq(bp[0x210], 0xFF, "type_of_loader");
    uint32_t cmd = rd32(bp + 0x228);
    cr_assert_str_eq((const char *)e->ram + cmd, "console=ttyS0 quiet");
    uint32_t ird = rd32(bp + 0x218), irs = rd32(bp + 0x21C);
    cr_assert_eq(irs, sizeof(initrd));
    cr_assert_eq(ird & 0xFFF, 0, "initrd page aligned");
    cr_assert(ird + irs <= RAM_SIZE && ird >= 0x100000 + 8192);
    cr_assert_eq(memcmp(e->ram + ird, initrd, sizeof(initrd)), 0);
    cr_assert_eq(rd32(bp + 0x070), 0xE0000u, "RSDP address");
    int n = bp[0x1E8];
    cr_assert_eq(n, 4);
    const uint8_t *last = bp + 0x2D0 + 20 * (n - 1);
    cr_assert_eq(rd32(last), 0x100000u);
    cr_assert_eq(rd32(last + 8), RAM_SIZE - 0x100000u);
    cr_assert_eq(rd32(last + 16), (uint32_t)E820_RAM);

    cr_assert(e->cpu->cr0 & CR0_PE);
    cr_assert_eq(e->cpu->eip, 0x100000u);
    cr_assert_eq(e->cpu->regs[R_ESI], (uint32_t)LOADER_BOOT_PARAMS);
    cr_assert_eq(e->cpu->seg[S_CS].sel, 0x10);
    cr_assert_eq(e->cpu->seg[S_DS].sel, 0x18);
    cr_assert(e->cpu->seg[S_CS].flags & SEGF_DB);
    cr_assert_eq(e->cpu->seg[S_SS].limit, 0xFFFFFFFFu);
    cr_assert_eq(cpu_get_eflags(e->cpu) & EF_IF, 0u);
    free(k);
    free(kp);
    free(ip);
    env_free(e);
}

Test(loader, rejects_missing_truncated_and_oversized_input)
{
    Env *e = env_new();
    char err[256] = "";
    cr_assert_lt(pc_load_kernel(&e->mem, e->cpu, RAM_SIZE, "/nonexistent/bzImage", NULL, "", 0,
                                err, sizeof(err)), 0);
    cr_assert(strstr(err, "/nonexistent/bzImage") != NULL);

    size_t klen;
    uint8_t *k = fake_bzimage(&klen, 1024);
    char *trunc = write_file(e, "trunc", k, 0x300);
    cr_assert_lt(pc_load_kernel(&e->mem, e->cpu, RAM_SIZE, trunc, NULL, "", 0, err,
                                sizeof(err)), 0);

    char *junk = write_file(e, "junk", "hello world, not a kernel", 25);
    cr_assert_lt(pc_load_kernel(&e->mem, e->cpu, RAM_SIZE, junk, NULL, "", 0, err, sizeof(err)),
                 0);
    cr_assert(strstr(err, "not a Linux bzImage") != NULL, "%s", err);

    char *kp = write_file(e, "bz", k, klen);
    char longcmd[3000];
    memset(longcmd, 'x', sizeof(longcmd) - 1);
    longcmd[sizeof(longcmd) - 1] = 0;
    cr_assert_lt(pc_load_kernel(&e->mem, e->cpu, RAM_SIZE, kp, NULL, longcmd, 0, err,
                                sizeof(err)), 0, "command line over cmdline_size");

    size_t big = RAM_SIZE;
    uint8_t *bigbuf = calloc(1, big);
    char *bigp = write_file(e, "bigrd", bigbuf, big);
    cr_assert_lt(pc_load_kernel(&e->mem, e->cpu, RAM_SIZE, kp, bigp, "", 0, err, sizeof(err)),
                 0, "initrd as large as RAM");
    free(bigbuf);
    free(k);
    free(trunc);
    free(junk);
    free(kp);
    free(bigp);
    env_free(e);
}

Test(loader, multiboot_aout_kludge_with_module)
{
    Env *e = env_new();
    uint8_t img[4096];
    memset(img, 0x90, sizeof(img));
    /* Header at offset 64: magic, flags (bit 16: address fields), checksum, then
     * header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr. */
    uint32_t hdr[8] = {0x1BADB002, 0x00010000, 0, 0x200040, 0x200000, 0x201000, 0x202000,
                       0x200100};
    hdr[2] = (uint32_t)-(hdr[0] + hdr[1]);
    memcpy(img + 64, hdr, sizeof(hdr));
    char *kp = write_file(e, "mb", img, sizeof(img));
    char *mp = write_file(e, "mod", "MODULE", 6);
    memset(e->ram + 0x201000, 0xEE, 0x1000);
    char err[256] = "";
    cr_assert_eq(pc_load_kernel(&e->mem, e->cpu, RAM_SIZE, kp, mp, "root=x", 0, err,
                                sizeof(err)), 0, "%s", err);
    cr_assert_eq(e->cpu->eip, 0x200100u);
    cr_assert_eq(e->cpu->regs[R_EAX], 0x2BADB002u);
    uint32_t mbi = e->cpu->regs[R_EBX];
    cr_assert_eq(memcmp(e->ram + 0x200000, img, 4096), 0);
    cr_assert_eq(e->ram[0x201800], 0, "bss zeroed");
    uint32_t flags = rd32(e->ram + mbi);
    cr_assert(flags & (1u << 3), "module present");
    cr_assert_str_eq((const char *)e->ram + rd32(e->ram + mbi + 16), "root=x");
    uint32_t mods = rd32(e->ram + mbi + 24);
    uint32_t mstart = rd32(e->ram + mods), mend = rd32(e->ram + mods + 4);
    cr_assert_eq(mend - mstart, 6u);
    cr_assert_eq(memcmp(e->ram + mstart, "MODULE", 6), 0);
    free(kp);
    free(mp);
    env_free(e);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++) {
        s = (uint8_t)(s + p[i]);
    }
    return s;
}

Test(acpi, tables_are_linked_checksummed_and_describe_pm_block)
{
    Env *e = env_new();
    static const uint8_t pirq[4] = {10, 10, 11, 11};
    AcpiConfig cfg = {.pm_base = 0x600, .sci_irq = 9, .s5_slp_typ = 0, .smi_cmd = 0,
                      .pirq_irq = pirq};
    uint32_t rsdp = pc_build_acpi(&e->mem, &cfg);
    cr_assert_eq(rsdp & 0xF, 0u, "RSDP on a 16-byte boundary");
    cr_assert(rsdp >= 0xE0000 && rsdp < 0x100000);
    const uint8_t *p = e->ram + rsdp;
    cr_assert_eq(memcmp(p, "RSD PTR ", 8), 0);
    cr_assert_eq(sum(p, 20), 0);
    const uint8_t *rsdt = e->ram + rd32(p + 16);
    cr_assert_eq(memcmp(rsdt, "RSDT", 4), 0);
    cr_assert_eq(sum(rsdt, rd32(rsdt + 4)), 0);
    const uint8_t *fadt = e->ram + rd32(rsdt + 36);
    cr_assert_eq(memcmp(fadt, "FACP", 4), 0);
    cr_assert_eq(sum(fadt, rd32(fadt + 4)), 0);
    cr_assert_eq(rd32(fadt + 64), 0x604u, "PM1a_CNT_BLK");
    cr_assert_eq(rd32(fadt + 76), 0x608u, "PM_TMR_BLK");
    cr_assert_eq(fadt[46], 9);
    const uint8_t *facs = e->ram + rd32(fadt + 36);
    cr_assert_eq(memcmp(facs, "FACS", 4), 0);
    cr_assert_eq(rd32(fadt + 36) & 63, 0u, "FACS 64-byte aligned");
    const uint8_t *dsdt = e->ram + rd32(fadt + 40);
    cr_assert_eq(memcmp(dsdt, "DSDT", 4), 0);
    cr_assert_eq(sum(dsdt, rd32(dsdt + 4)), 0);
    cr_assert(memmem(dsdt, rd32(dsdt + 4), "_S5_", 4) != NULL);
    /* The PCI root bridge with its routing table: Device (PCI0) {_HID PNP0A03 ... _PRT}. */
    const uint8_t *pci0 = memmem(dsdt, rd32(dsdt + 4), "PCI0", 4);
    cr_assert_not_null(pci0);
    static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03};
    cr_assert(memmem(pci0, rd32(dsdt + 4) - (size_t)(pci0 - dsdt), hid, sizeof(hid)) != NULL);
    const uint8_t *prt = memmem(dsdt, rd32(dsdt + 4), "_PRT", 4);
    cr_assert_not_null(prt);
    cr_assert_eq(prt[4], 0x12, "_PRT is a package");
    /* Slot 3 INTA routes through PIRQ (3 + 1 - 2) & 3 = C -> IRQ 11. */
    static const uint8_t slot3a[] = {0x0C, 0xFF, 0xFF, 0x03, 0x00, 0x00, 0x00, 0x0A, 11};
    cr_assert(memmem(prt, rd32(dsdt + 4) - (size_t)(prt - dsdt), slot3a, sizeof(slot3a)) != NULL);
    /* Regression: without a _CRS Linux gave the root bus no I/O or memory window and claimed
     * no BAR (ata_piix: "BAR 0 not assigned; can't enable device"). The windows: Word I/O
     * descriptors 0-0xCF7 and 0xD00-0xFFFF, DWord memory 0xE0000000-0xFEBFFFFF. */
    const uint8_t *crs = memmem(dsdt, rd32(dsdt + 4), "_CRS", 4);
    cr_assert_not_null(crs);
    cr_assert_eq(crs[4], 0x11, "_CRS is a buffer");
    size_t left = rd32(dsdt + 4) - (size_t)(crs - dsdt);
    static const uint8_t io_lo[] = {0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0, 0, 0x00, 0x00,
                                    0xF7, 0x0C, 0, 0, 0xF8, 0x0C};
    static const uint8_t io_hi[] = {0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0, 0, 0x00, 0x0D,
                                    0xFF, 0xFF, 0, 0, 0x00, 0xF3};
    static const uint8_t mem[] = {0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0, 0, 0, 0,
                                  0x00, 0x00, 0x00, 0xE0, 0xFF, 0xFF, 0xBF, 0xFE};
    cr_assert(memmem(crs, left, io_lo, sizeof(io_lo)) != NULL, "I/O window 0-0xCF7");
    cr_assert(memmem(crs, left, io_hi, sizeof(io_hi)) != NULL, "I/O window 0xD00-0xFFFF");
    cr_assert(memmem(crs, left, mem, sizeof(mem)) != NULL, "memory window");
    env_free(e);
}
