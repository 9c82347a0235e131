/* test_mmu.c: the CPU's memory path without the interpreter: segmentation checks, the page
 * walk (A/D bits, error codes, CR2), the two TLBs, MMIO/ROM/A20 handling, page-crossing
 * accesses, code fetch, descriptor loads, the I/O bitmap and the CPU's snapshot state. */
#include <criterion/criterion.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

#define RAM (8u << 20)
#define PD 0x100000u
#define PT 0x101000u

typedef struct MmioDev {
    int reads, writes;
    uint32_t last_write;
    uint64_t last_addr;
} MmioDev;

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    MmioDev *d = opaque;
    d->reads++;
    return 0xAB000000u | (uint32_t)addr;
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    MmioDev *d = opaque;
    d->writes++;
    d->last_write = (uint32_t)val;
    d->last_addr = addr;
}

static const IOOps mmio_ops = {.read = mmio_read, .write = mmio_write};

static uint8_t *ram;
static uint8_t rom[0x1000];
static MemMap *mem;
static PortMap *io;
static Logger lg;
static CPUState *cpu;
static MmioDev dev;

static void setup(void)
{
    ram = calloc(1, RAM);
    mem = calloc(1, sizeof(*mem));
    io = calloc(1, sizeof(*io));
    cpu = calloc(1, sizeof(*cpu));
    memset(&dev, 0, sizeof(dev));
    memset(rom, 0x5A, sizeof(rom));
    log_init(&lg);
    memmap_init(mem, &lg);
    portmap_init(io, &lg);
    cr_assert_geq(mem_map_ram(mem, "ram", 0, RAM, ram, 0), 0);
    cr_assert_geq(mem_map_mmio(mem, "dev", 0x800000, 0x1000, &mmio_ops, &dev, 0), 0);
    cr_assert_geq(mem_map_rom(mem, "rom", 0x900000, 0x1000, rom, 0), 0);
    cpu_init(cpu, mem, io, &lg);
    for (int s = 0; s < S_NSEG; s++) {
        cpu_set_seg_real(cpu, s, 0);
    }
}

static void teardown(void)
{
    x86_tcache_free(cpu);
    free(cpu);
    free(io);
    free(mem);
    free(ram);
}

TestSuite(mmu, .init = setup, .fini = teardown);

static void put32(uint32_t a, uint32_t v)
{
    memcpy(ram + a, &v, 4);
}

static uint32_t get32(uint32_t a)
{
    uint32_t v;
    memcpy(&v, ram + a, 4);
    return v;
}

/* Flat 32-bit protected mode at CPL 0 (or 3) with base-0, 4 GiB segments. */
static void flat_pm(int cpl)
{
    cpu->cr0 |= CR0_PE;
    for (int s = 0; s < S_NSEG; s++) {
        cpu->seg[s].sel = (uint16_t)(s == S_CS ? (0x08 | cpl) : (0x10 | cpl));
        cpu->seg[s].base = 0;
        cpu->seg[s].limit = 0xFFFFFFFFu;
        cpu->seg[s].flags = (uint16_t)(SEGF_P | SEGF_S | SEGF_G | SEGF_DB | (cpl << 5) |
                                       (s == S_CS ? 0xB : 0x3));
    }
    cpu->cpl = cpl;
}

/* Paging: PDE[0] -> PT with identity PTEs for the first 1 MiB (P|RW|US), PDE[1] -> 4 MiB. */
static void paging_on(void)
{
    memset(ram + PD, 0, 0x2000);
    put32(PD, PT | 7);
    for (uint32_t i = 0; i < 256; i++) {
        put32(PT + 4 * i, (i << 12) | 7);
    }
    cpu->cr3 = PD;
    cpu->cr0 |= CR0_PG;
    tlb_flush(cpu, true);
}

/* Run an access and catch a fault: returns the vector, or -1. */
#define CATCH(stmt)                                                                            \
    ({                                                                                         \
        volatile int v_ = -1;                                                                  \
        if (setjmp(cpu->jmp_env) == 0) {                                                       \
            stmt;                                                                              \
        } else {                                                                               \
            v_ = cpu->exc_vector;                                                              \
        }                                                                                      \
        v_;                                                                                    \
    })

Test(mmu, reset_state_is_pentium_ii)
{
    cpu_reset(cpu);
    cr_assert_eq(cpu->seg[S_CS].sel, 0xF000);
    cr_assert_eq(cpu->seg[S_CS].base, 0xFFFF0000u);
    cr_assert_eq(cpu->eip, 0xFFF0);
    cr_assert_eq(cpu->regs[R_EDX], CPU_SIGNATURE_P2);
    cr_assert_eq(cpu->cr0, 0x60000010u);
    cr_assert_eq(cpu_get_eflags(cpu), 2);
    cr_assert_eq(cpu->idtr.limit, 0xFFFF);
    cr_assert_eq(cpu->dr[6], 0xFFFF0FF0u);
    cr_assert_eq(cpu->dr[7], 0x400);
    cr_assert_eq(cpu->a20_mask, 0xFFFFFFFFu);
    cr_assert_eq(cpu->fpu.fcw, 0x0040);
}

Test(mmu, ram_round_trip_and_tlb_fast_path)
{
    cpu_st32(cpu, S_DS, 0x1234, 0xDEADBEEF);
    cr_assert_eq(get32(0x1234), 0xDEADBEEF);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x1234), 0xDEADBEEF);
    const TLBEntry *e = &cpu->tlb[1];
    cr_assert_eq(e->tag_read, 0x1000);
    cr_assert_eq(e->tag_write, 0x1000);
    /* A later direct RAM change is seen through the host pointer. */
    put32(0x1238, 0x11223344);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x1238), 0x11223344);
}

Test(mmu, mmio_is_never_cached)
{
    cpu_set_seg_real(cpu, S_DS, 0);
    cpu->cr0 |= CR0_PE;
    flat_pm(0);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x800010), 0xAB000010u);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x800010), 0xAB000010u);
    cr_assert_eq(dev.reads, 2);
    cpu_st16(cpu, S_DS, 0x800020, 0x4567);
    cr_assert_eq(dev.writes, 1);
    cr_assert_eq(dev.last_write, 0x4567);
    cr_assert_eq(dev.last_addr, 0x20);
}

Test(mmu, rom_reads_but_ignores_writes)
{
    flat_pm(0);
    cr_assert_eq(cpu_ld8(cpu, S_DS, 0x900010), 0x5A);
    cpu_st8(cpu, S_DS, 0x900010, 0x00);
    cr_assert_eq(rom[0x10], 0x5A);
    cr_assert_eq(cpu_ld8(cpu, S_DS, 0x900010), 0x5A);
}

Test(mmu, a20_off_wraps_at_one_mib)
{
    cpu_set_seg_real(cpu, S_DS, 0xFFFF);
    cpu_st8(cpu, S_DS, 0x0010, 0x77);        /* linear 0x100000 */
    cr_assert_eq(ram[0x100000], 0x77);
    cpu_set_a20(cpu, false);
    cpu_st8(cpu, S_DS, 0x0010, 0x66);        /* wraps to 0 */
    cr_assert_eq(ram[0], 0x66);
    cr_assert_eq(ram[0x100000], 0x77);
    cpu_set_a20(cpu, true);
    cr_assert_eq(cpu_ld8(cpu, S_DS, 0x0010), 0x77);
}

Test(mmu, real_mode_word_at_ffff_faults)
{
    cr_assert_eq(CATCH(cpu_ld16(cpu, S_DS, 0xFFFF)), EXC_GP);
    cr_assert_eq(cpu->exc_err, 0);
    cr_assert_eq(CATCH(cpu_st16(cpu, S_SS, 0xFFFF, 1)), EXC_SS);
    cr_assert_eq(CATCH(cpu_ld16(cpu, S_DS, 0xFFFE)), -1);
}

Test(mmu, protected_mode_segment_rights)
{
    flat_pm(0);
    cpu->seg[S_ES].flags = SEGF_P | SEGF_S | 0x1;            /* read-only */
    cr_assert_eq(CATCH(cpu_st8(cpu, S_ES, 0, 1)), EXC_GP);
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_ES, 0)), -1);
    cpu->seg[S_FS].flags = SEGF_P | SEGF_S | 0x8;            /* execute-only code */
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_FS, 0)), EXC_GP);
    cpu->seg[S_GS].flags = 0;                                /* null */
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_GS, 0)), EXC_GP);
    /* Expand-down, B = 0: valid offsets limit+1 .. FFFFh. */
    cpu->seg[S_SS].flags = SEGF_P | SEGF_S | 0x7;
    cpu->seg[S_SS].limit = 0x0FFF;
    cr_assert_eq(CATCH(cpu_ld16(cpu, S_SS, 0x0FFF)), EXC_SS);
    cr_assert_eq(CATCH(cpu_ld16(cpu, S_SS, 0x1000)), -1);
    cr_assert_eq(CATCH(cpu_ld16(cpu, S_SS, 0xFFFE)), -1);
    cr_assert_eq(CATCH(cpu_ld16(cpu, S_SS, 0xFFFF)), EXC_SS);
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_SS, 0x10000)), EXC_SS);
}

Test(mmu, page_walk_sets_accessed_then_dirty)
{
    flat_pm(0);
    paging_on();
    uint32_t phys;
    cr_assert(mmu_translate(cpu, 0x5123, ACC_READ, false, &phys, true));
    cr_assert_eq(phys, 0x5123);
    cr_assert_eq(get32(PT + 5 * 4) & 0x60, 0x20);
    cr_assert_eq(get32(PD) & 0x20, 0x20);
    /* A read fill leaves the write tag empty so the first write walks again and sets D. */
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x6000), 0);
    cr_assert_eq(cpu->tlb[6].tag_write, TLB_INVALID);
    cpu_st32(cpu, S_DS, 0x6000, 5);
    cr_assert_eq(get32(PT + 6 * 4) & 0x60, 0x60);
    cr_assert_eq(cpu->tlb[6].tag_write, 0x6000);
}

Test(mmu, page_fault_error_codes_and_cr2)
{
    flat_pm(0);
    paging_on();
    put32(PT + 0x10 * 4, 0);                     /* 0x10000 not present */
    put32(PT + 0x11 * 4, 0x11000 | 5);           /* read-only, user */
    put32(PT + 0x12 * 4, 0x12000 | 3);           /* supervisor RW */
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_DS, 0x10004)), EXC_PF);
    cr_assert_eq(cpu->exc_err, 0);
    cr_assert_eq(cpu->cr2, 0x10004);
    cr_assert_eq(CATCH(cpu_st8(cpu, S_DS, 0x10008, 1)), EXC_PF);
    cr_assert_eq(cpu->exc_err, 2);
    /* WP = 0: supervisor writes to read-only pages succeed; WP = 1: P|W. */
    cr_assert_eq(CATCH(cpu_st8(cpu, S_DS, 0x11000, 1)), -1);
    cpu->cr0 |= CR0_WP;
    tlb_flush(cpu, true);
    cr_assert_eq(CATCH(cpu_st8(cpu, S_DS, 0x11000, 1)), EXC_PF);
    cr_assert_eq(cpu->exc_err, 3);
    /* User: supervisor page -> P|U, read-only write -> P|W|U. */
    flat_pm(3);
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_DS, 0x12000)), EXC_PF);
    cr_assert_eq(cpu->exc_err, 5);
    cr_assert_eq(CATCH(cpu_st8(cpu, S_DS, 0x11000, 1)), EXC_PF);
    cr_assert_eq(cpu->exc_err, 7);
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_DS, 0x11000)), -1);
}

Test(mmu, supervisor_tlb_entry_does_not_serve_user_accesses)
{
    flat_pm(0);
    paging_on();
    put32(PT + 0x20 * 4, 0x20000 | 3);           /* supervisor only */
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_DS, 0x20000)), -1);
    cr_assert_eq(cpu->tlb[0x20].tag_read, 0x20000);
    cpu->cpl = 3;
    cr_assert_eq(CATCH(cpu_ld8(cpu, S_DS, 0x20000)), EXC_PF);
    cr_assert_eq(cpu->exc_err, 5);
}

Test(mmu, mmu_translate_can_probe_without_faulting)
{
    flat_pm(0);
    paging_on();
    put32(PT + 0x30 * 4, 0);
    uint32_t phys = 0x1234;
    uint32_t cr2 = cpu->cr2;
    cr_assert_not(mmu_translate(cpu, 0x30000, ACC_READ, false, &phys, false));
    cr_assert_eq(phys, 0x1234);
    cr_assert_eq(cpu->cr2, cr2);
}

Test(mmu, crossing_store_faults_before_writing_the_first_page)
{
    flat_pm(0);
    paging_on();
    put32(PT + 0x41 * 4, 0);                     /* 0x41000 absent */
    put32(0x40FFC, 0x11111111);
    cr_assert_eq(CATCH(cpu_st32(cpu, S_DS, 0x40FFE, 0x22222222)), EXC_PF);
    cr_assert_eq(cpu->cr2, 0x41000);
    cr_assert_eq(get32(0x40FFC), 0x11111111);
    /* A crossing load between two present pages assembles the bytes. */
    put32(0x42FFC, 0x44332211);
    put32(0x43000, 0x88776655);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x42FFE), 0x66554433);
    cpu_st32(cpu, S_DS, 0x43FFD, 0xAABBCCDD);
    cr_assert_eq(ram[0x43FFD], 0xDD);
    cr_assert_eq(ram[0x44000], 0xAA);
}

Test(mmu, large_pages_and_invlpg)
{
    flat_pm(0);
    paging_on();
    cpu->cr4 |= CR4_PSE;
    put32(PD + 4, 0x000000 | 0x83);              /* 4 MiB at 0x400000 -> phys 0 */
    put32(0x1234, 0xCAFE);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x401234), 0xCAFE);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x5FF000), 0);
    /* Remap the large page; INVLPG of any address in it drops every piece. */
    put32(PD + 4, 0x00400000u | 0x83);
    put32(0x401234, 0xBEEF);
    tlb_flush_page(cpu, 0x7FFFFF);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x401234), 0xBEEF);
}

Test(mmu, global_entries_survive_a_non_global_flush)
{
    flat_pm(0);
    paging_on();
    cpu->cr4 |= CR4_PGE;
    put32(PT + 0x50 * 4, 0x50000 | 0x103);       /* global */
    put32(PT + 0x51 * 4, 0x51000 | 0x3);
    put32(0x50000, 1);
    put32(0x51000, 2);
    put32(0x52000, 3);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x50000), 1);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x51000), 2);
    put32(PT + 0x50 * 4, 0x52000 | 0x103);
    put32(PT + 0x51 * 4, 0x52000 | 0x3);
    tlb_flush(cpu, false);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x50000), 1);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x51000), 3);
    tlb_flush(cpu, true);
    cr_assert_eq(cpu_ld32(cpu, S_DS, 0x50000), 3);
}

/* remap_all_to: point the 256 identity PTEs of paging_on at frame (flags P|RW). */
static void remap_all_to(uint32_t frame)
{
    for (uint32_t i = 0; i < 256; i++) {
        put32(PT + 4 * i, frame | 0x3);
    }
}

Test(mmu, a_flush_clears_every_filled_entry_through_the_log_and_after_its_overflow)
{
    flat_pm(0);
    paging_on();
    put32(0x60000, 0xAAAA);
    for (uint32_t p = 0; p < 256; p++) {
        (void)cpu_ld32(cpu, S_DS, p << 12);
    }
    cr_assert(cpu->tlb_log_ok);
    cr_assert_eq(cpu->tlb_log_n, 256);
    remap_all_to(0x60000);
    tlb_flush(cpu, false); /* the logged entries only */
    for (uint32_t p = 0; p < 256; p++) {
        cr_assert_eq(cpu_ld32(cpu, S_DS, p << 12), 0xAAAA, "page %x after a logged flush", p);
    }
    /* More fills than the log holds (each page filled, dropped by INVLPG, filled again):
     * the next flush scans both tables. */
    for (int r = 0; r < 5; r++) {
        for (uint32_t p = 0; p < 256; p++) {
            (void)cpu_ld32(cpu, S_DS, p << 12);
            tlb_flush_page(cpu, p << 12);
        }
    }
    for (uint32_t p = 0; p < 256; p++) {
        (void)cpu_ld32(cpu, S_DS, p << 12);
    }
    cr_assert_not(cpu->tlb_log_ok);
    put32(0x61000, 0xBBBB);
    remap_all_to(0x61000);
    tlb_flush(cpu, false);
    cr_assert(cpu->tlb_log_ok);
    for (uint32_t p = 0; p < 256; p++) {
        cr_assert_eq(cpu_ld32(cpu, S_DS, p << 12), 0xBBBB, "page %x after a full flush", p);
    }
}

Test(mmu, code_pages_force_slow_writes)
{
    flat_pm(0);
    cpu_st8(cpu, S_DS, 0x7000, 1);
    cr_assert_eq(cpu->tlb[7].tag_write, 0x7000);
    cpu_code_page_mark(cpu, 0x7000);
    cr_assert_eq(cpu->tlb[7].tag_write, 0x7000 | TLB_FLAG_CODE);
    cpu_st8(cpu, S_DS, 0x7001, 2);
    cr_assert_eq(ram[0x7001], 2);
}

Test(mmu, fetch_stops_at_a_faulting_second_page)
{
    flat_pm(0);
    paging_on();
    put32(PT + 0x61 * 4, 0);
    memset(ram + 0x60FF8, 0x90, 8);
    uint8_t buf[16];
    cr_assert_eq(cpu_fetch_code(cpu, 0x60FFA, buf, 15), 6);
    cr_assert_eq(buf[5], 0x90);
    cr_assert_eq(CATCH(cpu_fetch_code(cpu, 0x61000, buf, 15)), EXC_PF);
    /* The CS limit bounds the fetch; beyond it is #GP(0). */
    cpu->seg[S_CS].limit = 0x60FFB;
    cr_assert_eq(cpu_fetch_code(cpu, 0x60FFA, buf, 15), 2);
    cr_assert_eq(CATCH(cpu_fetch_code(cpu, 0x60FFC, buf, 15)), EXC_GP);
    unsigned avail;
    uint32_t phys;
    const uint8_t *p = cpu_code_ptr(cpu, 0x60FF8, &avail, &phys);
    cr_assert_not_null(p);
    cr_assert_eq(avail, 4);
    cr_assert_eq(phys, 0x60FF8);
}

/* A GDT at 0x3000 for the descriptor-load tests. */
static void gdt_setup(void)
{
    flat_pm(0);
    static const uint64_t gdt[] = {
        0,
        0x00CF9A000000FFFFull, /* 08 code */
        0x00CF92000000FFFFull, /* 10 data, not accessed */
        0x00CF12000000FFFFull, /* 18 data, not present */
        0x00CF90000000FFFFull, /* 20 read-only data */
        0x00CFF2000000FFFFull, /* 28 data DPL 3 */
        0x00CF9E000000FFFFull, /* 30 conforming readable code DPL 0 */
        0x00CF98000000FFFFull, /* 38 execute-only code */
    };
    memcpy(ram + 0x3000, gdt, sizeof(gdt));
    cpu->gdtr.base = 0x3000;
    cpu->gdtr.limit = sizeof(gdt) - 1;
}

Test(mmu, descriptor_loads_check_everything)
{
    gdt_setup();
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_DS, 0x10)), -1);
    cr_assert_eq(cpu->seg[S_DS].limit, 0xFFFFFFFFu);
    cr_assert(ram[0x3000 + 0x10 + 5] & 1, "accessed bit written back");
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_DS, 0x40)), EXC_GP);
    cr_assert_eq(cpu->exc_err, 0x40);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_DS, 0x18)), EXC_NP);
    cr_assert_eq(cpu->exc_err, 0x18);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_SS, 0x18)), EXC_SS);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_SS, 0x20)), EXC_GP);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_SS, 0)), EXC_GP);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_ES, 0x38)), EXC_GP);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_ES, 0)), -1);
    cr_assert_eq(cpu->seg[S_ES].flags & SEGF_P, 0);
    /* CPL 3: DPL 0 data is refused, conforming code is not, DPL 3 data is fine. */
    cpu->cpl = 3;
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_DS, 0x13)), EXC_GP);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_DS, 0x33)), -1);
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_DS, 0x2B)), -1);
    /* RPL 3 for a DPL 0 segment at CPL 0 is refused too. */
    cpu->cpl = 0;
    cr_assert_eq(CATCH(cpu_load_seg(cpu, S_DS, 0x13)), EXC_GP);
}

Test(mmu, io_bitmap_checks_every_byte_of_the_access)
{
    gdt_setup();
    /* 32-bit TSS at 0x4000, bitmap at +0x68 covering ports 0..0x3FF. */
    memset(ram + 0x4000, 0, 0x68 + 0x81);
    ram[0x4000 + 0x66] = 0x68;
    ram[0x4000 + 0x68 + 0x80 / 8] = 0x01;        /* port 0x80 denied */
    cpu->tr.sel = 0x48;
    cpu->tr.base = 0x4000;
    cpu->tr.limit = 0x68 + 0x80;                 /* ports >= 0x400 beyond the limit */
    cpu->tr.flags = SEGF_P | 0xB;
    flat_pm(3);
    cr_assert(cpu_io_allowed(cpu, 0x7E, 2));
    cr_assert_not(cpu_io_allowed(cpu, 0x7F, 2));
    cr_assert_not(cpu_io_allowed(cpu, 0x80, 1));
    cr_assert(cpu_io_allowed(cpu, 0x81, 4));
    cr_assert_not(cpu_io_allowed(cpu, 0x400, 1));
    /* CPL <= IOPL needs no bitmap; V86 always does. */
    cpu->eflags |= EF_IOPL;
    cr_assert(cpu_io_allowed(cpu, 0x80, 1));
    cpu->eflags |= EF_VM;
    cr_assert_not(cpu_io_allowed(cpu, 0x80, 1));
}

Test(mmu, cpu_state_survives_a_snapshot)
{
    VMStateRegistry reg;
    vmstate_registry_init(&reg);
    cr_assert_eq(vmstate_register(&reg, "cpu0", &cpu_vmstate, cpu), 0);
    flat_pm(0);
    paging_on();
    cpu->regs[R_EBX] = 0x12345678;
    cpu->dr[0] = 0x4000;
    cpu->fpu.st[3].sig = 0x8000000000000001ull;
    cpu_set_a20(cpu, false);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(vmstate_save_buf(&reg, &buf, &len), 0);
    CPUState saved = {0};
    memcpy(&saved.regs, cpu->regs, sizeof(saved.regs));
    cpu_reset(cpu);
    char err[128];
    cr_assert_eq(vmstate_load_buf(&reg, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
    cr_assert_eq(cpu->regs[R_EBX], 0x12345678);
    cr_assert_eq(cpu->cr3, PD);
    cr_assert(cpu->cr0 & CR0_PG);
    cr_assert_eq(cpu->seg[S_CS].limit, 0xFFFFFFFFu);
    cr_assert_eq(cpu->dr[0], 0x4000);
    cr_assert_eq(cpu->fpu.st[3].sig, 0x8000000000000001ull);
    cr_assert_eq(cpu->a20_mask, ~(1u << 20));
}

Test(mmu, debug_access_has_no_side_effects)
{
    flat_pm(0);
    paging_on();
    put32(PT + 0x70 * 4, 0x71000 | 3);           /* 0x70000 -> 0x71000, A clear */
    put32(PT + 0x71 * 4, 0);                     /* 0x71000 absent */
    put32(0x71FFC, 0x12345678);
    uint32_t v = 0;
    cr_assert_eq(cpu_debug_rw(cpu, 0x70FFC, &v, 4, false), 0);
    cr_assert_eq(v, 0x12345678);
    cr_assert_eq(get32(PT + 0x70 * 4) & 0x60, 0, "no A/D bits from a debugger read");
    v = 0xCAFE;
    cr_assert_eq(cpu_debug_rw(cpu, 0x70000, &v, 4, true), 0);
    cr_assert_eq(get32(0x71000), 0xCAFE);
    uint8_t buf[8];
    uint32_t cr2 = cpu->cr2;
    cr_assert_eq(cpu_debug_rw(cpu, 0x70FFC, buf, 8, false), -1);
    cr_assert_eq(cpu->cr2, cr2);
}

Test(mmu, byte_blocks_cross_pages_whole_or_not_at_all_and_reach_devices)
{
    flat_pm(0);
    paging_on();
    uint8_t buf[64], back[64];
    for (unsigned k = 0; k < sizeof(buf); k++) {
        buf[k] = (uint8_t)(0xA0 + k);
    }
    /* Across two present pages: the bytes land on both sides of the boundary. */
    cpu_st_bytes(cpu, S_DS, 0x42FE0, buf, 64);
    cr_assert_eq(memcmp(ram + 0x42FE0, buf, 64), 0);
    memset(back, 0, sizeof(back));
    cpu_ld_bytes(cpu, S_DS, 0x42FE0, back, 64);
    cr_assert_eq(memcmp(back, buf, 64), 0);
    /* The second page absent: #PF at its start, and the first page keeps its bytes. */
    put32(PT + 0x41 * 4, 0);
    memset(ram + 0x40FE0, 0x11, 0x20);
    cr_assert_eq(CATCH(cpu_st_bytes(cpu, S_DS, 0x40FE0, buf, 64)), EXC_PF);
    cr_assert_eq(cpu->cr2, 0x41000);
    for (unsigned k = 0; k < 0x20; k++) {
        cr_assert_eq(ram[0x40FE0 + k], 0x11, "byte %u written", k);
    }
    cr_assert_eq(CATCH(cpu_ld_bytes(cpu, S_DS, 0x40FE0, back, 64)), EXC_PF);
    /* Past the segment limit: #GP before anything moves. */
    cpu->seg[S_DS].limit = 0x42FFF;
    cr_assert_eq(CATCH(cpu_st_bytes(cpu, S_DS, 0x42FE0, buf, 64)), EXC_GP);
    cpu->seg[S_DS].limit = 0xFFFFFFFFu;
    /* A device: every byte reaches it, in pieces. */
    put32(PD + 4 * 2, 0x800000 | 0x83);          /* 8 MiB: a 4 MiB page onto the device */
    cpu->cr4 |= CR4_PSE;
    tlb_flush(cpu, true);
    cpu_st_bytes(cpu, S_DS, 0x800010, buf, 10);
    cr_assert_eq(dev.writes, 3, "4 + 4 + 2 bytes: %u", dev.writes);
    cr_assert_eq(dev.last_addr, 0x18);
    cr_assert_eq(dev.last_write, 0xA9A8);
    cpu_ld_bytes(cpu, S_DS, 0x800010, back, 3);
    cr_assert_eq(dev.reads, 3);
    cr_assert_eq(back[0], 0x10);
}
