/* loader.c: direct kernel boot: the Linux/x86 boot protocol (Documentation/x86/boot.rst) and
 * multiboot v1 (the Multiboot Specification 0.6.96), entered in 32-bit flat protected mode. */
#include "devices/pc/loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

/* Offsets in the bzImage setup header / boot_params (boot.rst, "The real-mode kernel header"
 * and zero-page.rst). */
enum {
    BP_EXT_RAMDISK_IMAGE = 0x0C0,
    BP_EXT_RAMDISK_SIZE = 0x0C4,
    BP_EXT_CMD_LINE_PTR = 0x0C8,
    BP_ACPI_RSDP_ADDR = 0x070,
    BP_ALT_MEM_K = 0x1E0,
    BP_E820_ENTRIES = 0x1E8,
    BP_HDR = 0x1F1,
    BP_E820_TABLE = 0x2D0,
    HDR_SETUP_SECTS = 0x1F1,
    HDR_VID_MODE = 0x1FA,
    HDR_BOOT_FLAG = 0x1FE,
    HDR_JUMP = 0x200,
    HDR_MAGIC = 0x202,
    HDR_VERSION = 0x206,
    HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS = 0x211,
    HDR_CODE32_START = 0x214,
    HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21C,
    HDR_CMD_LINE_PTR = 0x228,
    HDR_INITRD_ADDR_MAX = 0x22C,
    HDR_CMDLINE_SIZE = 0x238,
    HDR_END = 0x268,
    LOADED_HIGH = 0x01,
};

/* Upper bound for files we read whole: a kernel or initrd larger than guest RAM cannot fit. */
#define LOADER_FILE_MAX (1ull << 31)


/* read_file: the whole file into a malloc'd buffer (caller frees). */
static int read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        int e = errno;
        fclose(f);
        snprintf(err, errlen, "%s: cannot seek: %s", path, strerror(e));
        return -e;
    }
    long sz = ftell(f);
    if (sz < 0 || (unsigned long long)sz > LOADER_FILE_MAX) {
        fclose(f);
        snprintf(err, errlen, "%s: file too large or unreadable", path);
        return -EFBIG;
    }
    rewind(f);
    uint8_t *buf = malloc(sz ? (size_t)sz : 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    if (sz && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        int e = ferror(f) ? EIO : EINVAL;
        fclose(f);
        free(buf);
        snprintf(err, errlen, "%s: short read", path);
        return -e;
    }
    fclose(f);
    *data = buf;
    *len = (size_t)sz;
    return 0;
}

int pc_e820_map(uint64_t ram_size, E820Entry *out, int max)
{
    int n = 0;
    E820Entry e[4] = {
        {0, 0x9FC00, E820_RAM},
        {0x9FC00, 0x400, E820_RESERVED},
        {0xE0000, 0x20000, E820_RESERVED},
        {0x100000, ram_size > 0x100000 ? ram_size - 0x100000 : 0, E820_RAM},
    };
    for (int i = 0; i < 4 && n < max; i++) {
        if (e[i].size) {
            out[n++] = e[i];
        }
    }
    return n;
}

/* fits: [addr, addr+len) lies inside guest RAM. */
static bool fits(uint64_t addr, uint64_t len, uint64_t ram_size)
{
    return addr <= ram_size && len <= ram_size - addr;
}

/* enter_flat32: the state both protocols hand over: CS = 0x10 and data = 0x18 in a flat GDT,
 * 32-bit protected mode, paging and interrupts off. */
static void enter_flat32(MemMap *mem, CPUState *cpu, uint32_t entry)
{
    static const uint8_t gdt[32] = {
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
        0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0, /* 0x10: code, base 0, 4 GiB, 32-bit */
        0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0, /* 0x18: data, base 0, 4 GiB, 32-bit */
    };
    mem_write_buf(mem, LOADER_GDT, gdt, sizeof(gdt));
    cpu->gdtr.base = LOADER_GDT;
    cpu->gdtr.limit = sizeof(gdt) - 1;
    cpu->idtr.base = 0;
    cpu->idtr.limit = 0;
    cpu->cr0 |= CR0_PE;
    for (int s = 0; s < S_NSEG; s++) {
        bool code = s == S_CS;
        cpu->seg[s].sel = code ? 0x10 : 0x18;
        cpu->seg[s].base = 0;
        cpu->seg[s].limit = 0xFFFFFFFF;
        cpu->seg[s].flags = (uint16_t)((code ? 0x0B : 0x03) | SEGF_S | SEGF_P | SEGF_DB | SEGF_G);
    }
    cpu_set_eflags(cpu, EF_FIXED1, 0xFFFFFFFF);
    cpu->eip = entry;
    cpu->halted = false;
    cpu_update_mode(cpu);
}

static int load_initrd(const char *initrd, MemMap *mem, uint64_t ram_size, uint64_t max_addr,
                       uint64_t min_addr, uint32_t *addr, uint32_t *size, char *err,
                       size_t errlen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int r = read_file(initrd, &data, &len, err, errlen);
    if (r < 0) {
        return r;
    }
    /* Highest 4 KiB-aligned place below both the end of RAM and initrd_addr_max, above the
     * kernel. */
    uint64_t top = ram_size < max_addr + 1 ? ram_size : max_addr + 1;
    if (len > top || ((top - len) & ~0xFFFull) < min_addr) {
        free(data);
        snprintf(err, errlen, "%s: initrd of %zu bytes does not fit in guest RAM", initrd, len);
        return -ENOSPC;
    }
    uint64_t at = (top - len) & ~0xFFFull;
    mem_write_buf(mem, at, data, len);
    free(data);
    *addr = (uint32_t)at;
    *size = (uint32_t)len;
    return 0;
}

static int load_bzimage(MemMap *mem, CPUState *cpu, uint64_t ram_size, const uint8_t *k,
                        size_t klen, const char *initrd, const char *cmdline, uint32_t rsdp,
                        char *err, size_t errlen)
{
    uint16_t version = le16_get(k + HDR_VERSION);
    if (version < 0x0202 || !(k[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "kernel: boot protocol %x.%02x without LOADED_HIGH is not supported",
                 version >> 8, version & 0xFF);
        return -EINVAL;
    }
    unsigned setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    size_t setup_len = (size_t)(setup_sects + 1) * 512;
    if (setup_len >= klen) {
        snprintf(err, errlen, "kernel: truncated bzImage (setup %zu bytes, file %zu)", setup_len,
                 klen);
        return -EINVAL;
    }
    size_t pm_len = klen - setup_len;
    if (!fits(LOADER_KERNEL_HIGH, pm_len, ram_size)) {
        snprintf(err, errlen, "kernel: %zu bytes do not fit in guest RAM", pm_len);
        return -ENOSPC;
    }
    mem_write_buf(mem, LOADER_KERNEL_HIGH, k + setup_len, pm_len);

    /* The zero page: a copy of the setup header (from 0x1F1 to its end, whose length is given by
     * the byte at 0x201 for 2.x kernels), then what a boot loader fills in. */
    uint8_t bp[4096];
    memset(bp, 0, sizeof(bp));
    size_t hdr_end = 0x202 + k[0x201];
    if (hdr_end > sizeof(bp) || hdr_end > klen || hdr_end < HDR_END) {
        hdr_end = HDR_END < klen ? HDR_END : klen;
    }
    memcpy(bp + BP_HDR, k + BP_HDR, hdr_end - BP_HDR);
    le16_put(bp + HDR_VID_MODE, 0xFFFF);           /* "normal" */
    bp[HDR_TYPE_OF_LOADER] = 0xFF;             /* undefined loader */
    bp[HDR_LOADFLAGS] = (uint8_t)(bp[HDR_LOADFLAGS] & ~0x20); /* QUIET off */

    size_t cmax = version >= 0x0206 ? le32_get(k + HDR_CMDLINE_SIZE) : 255;
    if (cmax > LOADER_CMDLINE_MAX - 1) {
        cmax = LOADER_CMDLINE_MAX - 1;
    }
    size_t clen = strlen(cmdline);
    if (clen > cmax) {
        snprintf(err, errlen, "-append: command line of %zu bytes exceeds the kernel's %zu", clen,
                 cmax);
        return -E2BIG;
    }
    mem_write_buf(mem, LOADER_CMDLINE, cmdline, clen + 1);
    le32_put(bp + HDR_CMD_LINE_PTR, LOADER_CMDLINE);

    if (initrd && *initrd) {
        uint32_t max = version >= 0x0203 ? le32_get(k + HDR_INITRD_ADDR_MAX) : 0x37FFFFFF;
        uint32_t addr, size;
        int r = load_initrd(initrd, mem, ram_size, max, LOADER_KERNEL_HIGH + pm_len, &addr, &size,
                            err, errlen);
        if (r < 0) {
            return r;
        }
        le32_put(bp + HDR_RAMDISK_IMAGE, addr);
        le32_put(bp + HDR_RAMDISK_SIZE, size);
    }

    E820Entry e820[E820_MAX];
    int n = pc_e820_map(ram_size, e820, E820_MAX);
    for (int i = 0; i < n; i++) {
        uint8_t *p = bp + BP_E820_TABLE + 20 * i;
        le64_put(p, e820[i].addr);
        le64_put(p + 8, e820[i].size);
        le32_put(p + 16, e820[i].type);
    }
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    le32_put(bp + BP_ALT_MEM_K, ram_size > 0x100000 ? (uint32_t)((ram_size - 0x100000) >> 10) : 0);
    if (rsdp) {
        le64_put(bp + BP_ACPI_RSDP_ADDR, rsdp);
    }
    mem_write_buf(mem, LOADER_BOOT_PARAMS, bp, sizeof(bp));

    enter_flat32(mem, cpu, LOADER_KERNEL_HIGH);
    for (int r = 0; r < 8; r++) {
        cpu->regs[r] = 0;
    }
    cpu->regs[R_ESI] = LOADER_BOOT_PARAMS;
    return 0;
}

/* Multiboot v1 (spec 3.1): header within the first 8192 bytes, 4-byte aligned. */
enum {
    MB_MAGIC = 0x1BADB002, MB_BOOT_MAGIC = 0x2BADB002, MB_FLAG_AOUT = 1u << 16,
    MB_FLAG_VIDEO = 1u << 2, MB_INFO_MEM = 1u << 0, MB_INFO_CMDLINE = 1u << 2,
    MB_INFO_MODS = 1u << 3, MB_INFO_MMAP = 1u << 6,
};

static long find_multiboot(const uint8_t *k, size_t klen)
{
    size_t lim = klen < 8192 ? klen : 8192;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = le32_get(k + off), flags = le32_get(k + off + 4), sum = le32_get(k + off + 8);
        if (magic == MB_MAGIC && (uint32_t)(magic + flags + sum) == 0) {
            return (long)off;
        }
    }
    return -1;
}

/* load_elf32: copy PT_LOAD segments; returns the entry point or 0 with err set. */
static uint32_t load_elf32(MemMap *mem, uint64_t ram_size, const uint8_t *k, size_t klen,
                           uint32_t *end, char *err, size_t errlen)
{
    if (klen < 52 || memcmp(k, "\x7f" "ELF", 4) != 0 || k[4] != 1 || k[5] != 1 ||
        le16_get(k + 18) != 3) {
        snprintf(err, errlen, "kernel: multiboot image is neither a.out-kludge nor ELF32 i386");
        return 0;
    }
    uint32_t phoff = le32_get(k + 28);
    uint16_t phentsize = le16_get(k + 42), phnum = le16_get(k + 44);
    if (phentsize < 32 || phoff > klen || (uint64_t)phnum * phentsize > klen - phoff) {
        snprintf(err, errlen, "kernel: bad ELF program headers");
        return 0;
    }
    *end = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = k + phoff + (size_t)i * phentsize;
        if (le32_get(ph) != 1) { /* PT_LOAD */
            continue;
        }
        uint32_t off = le32_get(ph + 4), paddr = le32_get(ph + 12), filesz = le32_get(ph + 16),
                 memsz = le32_get(ph + 20);
        if (filesz > memsz || off > klen || filesz > klen - off || !fits(paddr, memsz, ram_size)) {
            snprintf(err, errlen, "kernel: ELF segment %u lies outside the file or guest RAM", i);
            return 0;
        }
        mem_write_buf(mem, paddr, k + off, filesz);
        for (uint32_t z = filesz; z < memsz; z++) {
            mem_write(mem, (uint64_t)paddr + z, 0, 1);
        }
        if (paddr + memsz > *end) {
            *end = paddr + memsz;
        }
    }
    uint32_t entry = le32_get(k + 24);
    if (!entry) {
        snprintf(err, errlen, "kernel: ELF entry point is 0");
    }
    return entry;
}

static int load_multiboot(MemMap *mem, CPUState *cpu, uint64_t ram_size, const uint8_t *k,
                          size_t klen, long hoff, const char *initrd, const char *cmdline,
                          char *err, size_t errlen)
{
    uint32_t flags = le32_get(k + hoff + 4);
    uint32_t entry, end;
    if (flags & MB_FLAG_AOUT) {
        if ((size_t)hoff + 32 > klen) {
            snprintf(err, errlen, "kernel: truncated multiboot header");
            return -EINVAL;
        }
        uint32_t header_addr = le32_get(k + hoff + 12), load_addr = le32_get(k + hoff + 16);
        uint32_t load_end = le32_get(k + hoff + 20), bss_end = le32_get(k + hoff + 24);
        entry = le32_get(k + hoff + 28);
        if (load_addr > header_addr || header_addr - load_addr > (uint32_t)hoff) {
            snprintf(err, errlen, "kernel: inconsistent multiboot load addresses");
            return -EINVAL;
        }
        size_t file_off = (size_t)hoff - (header_addr - load_addr);
        size_t len = load_end ? (size_t)(load_end - load_addr) : klen - file_off;
        if (load_end && load_end < load_addr) {
            snprintf(err, errlen, "kernel: multiboot load_end_addr below load_addr");
            return -EINVAL;
        }
        if (len > klen - file_off || !fits(load_addr, len, ram_size)) {
            snprintf(err, errlen, "kernel: multiboot image does not fit in the file or RAM");
            return -EINVAL;
        }
        mem_write_buf(mem, load_addr, k + file_off, len);
        end = load_addr + (uint32_t)len;
        if (bss_end > end) {
            if (!fits(end, bss_end - end, ram_size)) {
                snprintf(err, errlen, "kernel: multiboot bss does not fit in RAM");
                return -EINVAL;
            }
            for (uint32_t a = end; a < bss_end; a++) {
                mem_write(mem, a, 0, 1);
            }
            end = bss_end;
        }
    } else {
        entry = load_elf32(mem, ram_size, k, klen, &end, err, errlen);
        if (!entry) {
            return -EINVAL;
        }
    }

    /* Multiboot information structure (spec 3.3). */
    uint8_t mbi[88];
    memset(mbi, 0, sizeof(mbi));
    uint32_t mflags = MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP;
    le32_put(mbi + 4, 640);
    le32_put(mbi + 8, ram_size > 0x100000 ? (uint32_t)((ram_size - 0x100000) >> 10) : 0);
    size_t clen = strlen(cmdline);
    if (clen >= LOADER_CMDLINE_MAX) {
        snprintf(err, errlen, "-append: command line too long");
        return -E2BIG;
    }
    mem_write_buf(mem, LOADER_CMDLINE, cmdline, clen + 1);
    le32_put(mbi + 16, LOADER_CMDLINE);
    if (initrd && *initrd) {
        uint32_t addr, size;
        int r = load_initrd(initrd, mem, ram_size, 0xFFFFFFFF, end, &addr, &size, err, errlen);
        if (r < 0) {
            return r;
        }
        uint8_t mod[16];
        const char *name = initrd;
        size_t nlen = strlen(name);
        if (nlen > 255) {
            name += nlen - 255;
            nlen = 255;
        }
        le32_put(mod, addr);
        le32_put(mod + 4, addr + size);
        le32_put(mod + 8, LOADER_MB_MODS + 16);
        le32_put(mod + 12, 0);
        mem_write_buf(mem, LOADER_MB_MODS, mod, sizeof(mod));
        mem_write_buf(mem, LOADER_MB_MODS + 16, name, nlen + 1);
        mflags |= MB_INFO_MODS;
        le32_put(mbi + 20, 1);
        le32_put(mbi + 24, LOADER_MB_MODS);
    }
    E820Entry e820[E820_MAX];
    int n = pc_e820_map(ram_size, e820, E820_MAX);
    uint32_t mmap_addr = LOADER_BOOT_PARAMS + 0x100;
    for (int i = 0; i < n; i++) {
        uint8_t ent[24];
        le32_put(ent, 20);
        le64_put(ent + 4, e820[i].addr);
        le64_put(ent + 12, e820[i].size);
        le32_put(ent + 20, e820[i].type);
        mem_write_buf(mem, mmap_addr + 24 * i, ent, sizeof(ent));
    }
    le32_put(mbi + 44, (uint32_t)(24 * n));
    le32_put(mbi + 48, mmap_addr);
    le32_put(mbi, mflags);
    mem_write_buf(mem, LOADER_BOOT_PARAMS, mbi, sizeof(mbi));

    enter_flat32(mem, cpu, entry);
    for (int r = 0; r < 8; r++) {
        cpu->regs[r] = 0;
    }
    cpu->regs[R_EAX] = MB_BOOT_MAGIC;
    cpu->regs[R_EBX] = LOADER_BOOT_PARAMS;
    return 0;
}

int pc_load_kernel(MemMap *mem, CPUState *cpu, uint64_t ram_size, const char *kernel,
                   const char *initrd, const char *cmdline, uint32_t rsdp, char *err,
                   size_t errlen)
{
    uint8_t *k = NULL;
    size_t klen = 0;
    int r = read_file(kernel, &k, &klen, err, errlen);
    if (r < 0) {
        return r;
    }
    if (!cmdline) {
        cmdline = "";
    }
    long mb = find_multiboot(k, klen);
    if (klen >= HDR_END && le32_get(k + HDR_MAGIC) == 0x53726448 /* "HdrS" */ &&
        le16_get(k + HDR_BOOT_FLAG) == 0xAA55) {
        r = load_bzimage(mem, cpu, ram_size, k, klen, initrd, cmdline, rsdp, err, errlen);
    } else if (mb >= 0) {
        r = load_multiboot(mem, cpu, ram_size, k, klen, mb, initrd, cmdline, err, errlen);
    } else {
        snprintf(err, errlen, "%s: not a Linux bzImage or multiboot kernel", kernel);
        r = -EINVAL;
    }
    free(k);
    return r;
}
