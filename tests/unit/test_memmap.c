/* test_memmap.c: the physical memory map: dispatch, priorities, access splitting, fast paths. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/memmap.h"

/* A recording MMIO device backed by a byte array, so reads return what the bytes say. */
typedef struct Access {
    bool write;
    uint64_t addr;
    unsigned size;
    uint64_t val;
} Access;

typedef struct RecDev {
    uint8_t regs[0x1000];
    Access log[64];
    int n;
    uint64_t garbage; /* OR-ed into read results above the access size */
} RecDev;

static uint64_t rec_read(void *opaque, uint64_t addr, unsigned size)
{
    RecDev *d = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)d->regs[(addr + i) % sizeof(d->regs)] << (8 * i);
    }
    if (d->n < 64) {
        d->log[d->n++] = (Access){false, addr, size, v};
    }
    if (size < 8) {
        v |= d->garbage << (8 * size);
    }
    return v;
}

static void rec_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    RecDev *d = opaque;
    for (unsigned i = 0; i < size; i++) {
        d->regs[(addr + i) % sizeof(d->regs)] = (uint8_t)(val >> (8 * i));
    }
    if (d->n < 64) {
        d->log[d->n++] = (Access){true, addr, size, val};
    }
}

static const IOOps rec_ops_default = {.read = rec_read, .write = rec_write};
static const IOOps rec_ops_max1 = {.read = rec_read, .write = rec_write, .max_access = 1};
static const IOOps rec_ops_max4 = {.read = rec_read, .write = rec_write, .max_access = 4};
static const IOOps rec_ops_max8 = {.read = rec_read, .write = rec_write, .max_access = 8};
static const IOOps rec_ops_min4 = {
    .read = rec_read, .write = rec_write, .min_access = 4, .max_access = 4};
static const IOOps null_ops = {0};

static void expect_access(const RecDev *d, int i, bool write, uint64_t addr, unsigned size)
{
    cr_assert_lt(i, d->n, "access %d missing (only %d)", i, d->n);
    cr_expect_eq(d->log[i].write, write, "access %d direction", i);
    cr_expect_eq(d->log[i].addr, addr, "access %d addr 0x%llx, want 0x%llx", i,
                 (unsigned long long)d->log[i].addr, (unsigned long long)addr);
    cr_expect_eq(d->log[i].size, size, "access %d size %u, want %u", i, d->log[i].size, size);
}

/* Log capture: a Logger writing into a memory stream. */
typedef struct LogCap {
    Logger lg;
    char *text;
    size_t len;
} LogCap;

static void logcap_init(LogCap *c, uint32_t mask)
{
    log_init(&c->lg);
    c->lg.mask = mask;
    c->text = NULL;
    c->len = 0;
    c->lg.out = open_memstream(&c->text, &c->len);
    cr_assert_not_null(c->lg.out);
}

static int logcap_lines(LogCap *c)
{
    fflush(c->lg.out);
    int n = 0;
    for (size_t i = 0; i < c->len; i++) {
        n += c->text[i] == '\n';
    }
    return n;
}

static void logcap_fini(LogCap *c)
{
    fclose(c->lg.out);
    free(c->text);
}

static MemMap *new_map(Logger *lg)
{
    MemMap *m = malloc(sizeof(*m));
    cr_assert_not_null(m);
    memmap_init(m, lg);
    return m;
}

Test(memmap, ram_access_is_little_endian_on_host_bytes)
{
    MemMap *m = new_map(NULL);
    uint8_t ram[0x1000] = {0};
    cr_assert_geq(mem_map_ram(m, "ram", 0x1000, sizeof(ram), ram, 0), 0);
    mem_write(m, 0x1010, 0x11223344, 4);
    cr_expect_eq(ram[0x10], 0x44);
    cr_expect_eq(ram[0x13], 0x11);
    cr_expect_eq(mem_read(m, 0x1010, 2), 0x3344);
    cr_expect_eq(mem_read(m, 0x1012, 1), 0x22);
    mem_write(m, 0x1020, 0x0102030405060708ull, 8);
    cr_expect_eq(mem_read(m, 0x1020, 8), 0x0102030405060708ull);
    cr_expect_eq(mem_read(m, 0x1021, 4), 0x04050607);
    mem_write(m, 0x1ffe, 0xbeef, 2);
    cr_expect_eq(ram[0xffe], 0xef);
    cr_expect_eq(ram[0xfff], 0xbe);
    free(m);
}

Test(memmap, rom_reads_backing_and_ignores_writes_logging_once)
{
    LogCap lc;
    logcap_init(&lc, LOG_GUEST_ERROR);
    MemMap *m = new_map(&lc.lg);
    uint8_t rom[16] = {0xaa, 0xbb, 0xcc, 0xdd};
    cr_assert_geq(mem_map_rom(m, "bios", 0xf0000, sizeof(rom), rom, 0), 0);
    cr_expect_eq(mem_read(m, 0xf0000, 4), 0xddccbbaa);
    mem_write(m, 0xf0000, 0x12345678, 4);
    mem_write(m, 0xf0001, 0x12, 1);
    uint8_t b[4] = {1, 2, 3, 4};
    mem_write_buf(m, 0xf0000, b, 4);
    cr_expect_eq(rom[0], 0xaa);
    cr_expect_eq(rom[1], 0xbb);
    cr_expect_eq(mem_read(m, 0xf0000, 4), 0xddccbbaa);
    cr_expect_eq(logcap_lines(&lc), 1, "ROM writes must be logged once, got:\n%s", lc.text);
    cr_expect_not_null(strstr(lc.text, "bios"));
    free(m);
    logcap_fini(&lc);
}

Test(memmap, mmio_gets_region_offset_and_access_size)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(mem_map_mmio(m, "dev", 0xfee00000, 0x1000, &rec_ops_default, d, 0), 0);
    mem_write(m, 0xfee00020, 0xcafef00d, 4);
    expect_access(d, 0, true, 0x20, 4);
    cr_expect_eq(d->log[0].val, 0xcafef00d);
    cr_expect_eq(mem_read(m, 0xfee00020, 4), 0xcafef00d);
    expect_access(d, 1, false, 0x20, 4);
    cr_expect_eq(mem_read(m, 0xfee00021, 1), 0xf0);
    expect_access(d, 2, false, 0x21, 1);
    cr_expect_eq(d->n, 3);
    free(d);
    free(m);
}

Test(memmap, device_garbage_above_access_size_is_masked)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    d->garbage = 0xdeadbeefdeadbeefull;
    d->regs[0] = 0x5a;
    cr_assert_geq(mem_map_mmio(m, "dev", 0x1000, 0x100, &rec_ops_default, d, 0), 0);
    cr_expect_eq(mem_read(m, 0x1000, 1), 0x5a);
    cr_expect_eq(mem_read(m, 0x1000, 2), 0x005a);
    free(d);
    free(m);
}

Test(memmap, unassigned_reads_all_ones_and_writes_vanish)
{
    MemMap *m = new_map(NULL);
    cr_expect_eq(mem_read(m, 0x1234, 1), 0xff);
    cr_expect_eq(mem_read(m, 0x1234, 2), 0xffff);
    cr_expect_eq(mem_read(m, 0x1234, 4), 0xffffffffu);
    cr_expect_eq(mem_read(m, 0x1234, 8), ~0ull);
    mem_write(m, 0x1234, 0, 4);
    cr_expect_eq(mem_read(m, 0x1234, 4), 0xffffffffu);
    cr_expect_null(mem_find(m, 0x1234));
    free(m);
}

Test(memmap, unassigned_accesses_log_once_per_call_site_not_per_access)
{
    LogCap lc;
    logcap_init(&lc, LOG_UNIMP);
    MemMap *m = new_map(&lc.lg);
    for (uint64_t a = 0; a < 1000; a++) {
        (void)mem_read(m, 0x100000 + a * 4, 4);
        mem_write(m, 0x200000 + a * 4, a, 4);
    }
    /* one line for the read site, one for the write site, however many accesses */
    cr_expect_eq(logcap_lines(&lc), 2, "got:\n%s", lc.text);
    free(m);
    logcap_fini(&lc);
}

Test(memmap, higher_priority_hides_lower_which_shows_through_around_it)
{
    MemMap *m = new_map(NULL);
    uint8_t *ram = calloc(1, 0x10000);
    RecDev *d = calloc(1, sizeof(*d));
    memset(ram, 0x11, 0x10000);
    memset(d->regs, 0x22, sizeof(d->regs));
    int r = mem_map_ram(m, "ram", 0, 0x10000, ram, 0);
    int v = mem_map_mmio(m, "vga", 0x4000, 0x1000, &rec_ops_default, d, 1);
    cr_assert_geq(r, 0);
    cr_assert_geq(v, 0);
    cr_expect_eq(mem_read(m, 0x3fff, 1), 0x11);
    cr_expect_eq(mem_read(m, 0x4000, 1), 0x22);
    cr_expect_eq(mem_read(m, 0x4fff, 1), 0x22);
    cr_expect_eq(mem_read(m, 0x5000, 1), 0x11);
    cr_expect_str_eq(mem_find(m, 0x4800)->name, "vga");
    cr_expect_str_eq(mem_find(m, 0x5000)->name, "ram");
    cr_expect_str_eq(mem_find(m, 0x0)->name, "ram");
    /* a write to the hidden part goes to the device, not the RAM underneath */
    mem_write(m, 0x4010, 0x33, 1);
    cr_expect_eq(ram[0x4010], 0x11);
    cr_expect_eq(d->regs[0x10], 0x33);
    /* a 4-byte read straddling the top edge mixes both */
    cr_expect_eq(mem_read(m, 0x4ffe, 4), 0x11112222);
    /* remove the window: RAM shows through everywhere again */
    mem_unmap(m, v);
    cr_expect_eq(mem_read(m, 0x4010, 1), 0x11);
    cr_expect_str_eq(mem_find(m, 0x4800)->name, "ram");
    free(d);
    free(ram);
    free(m);
}

Test(memmap, lower_priority_added_later_is_still_hidden)
{
    MemMap *m = new_map(NULL);
    uint8_t hi[0x100], lo[0x1000];
    memset(hi, 0xaa, sizeof(hi));
    memset(lo, 0xbb, sizeof(lo));
    cr_assert_geq(mem_map_ram(m, "hi", 0x800, sizeof(hi), hi, 5), 0);
    cr_assert_geq(mem_map_ram(m, "lo", 0x0, sizeof(lo), lo, -1), 0);
    cr_expect_eq(mem_read(m, 0x7ff, 1), 0xbb);
    cr_expect_eq(mem_read(m, 0x800, 1), 0xaa);
    cr_expect_eq(mem_read(m, 0x8ff, 1), 0xaa);
    cr_expect_eq(mem_read(m, 0x900, 1), 0xbb);
    free(m);
}

Test(memmap, three_stacked_priorities_pick_the_highest_covering)
{
    MemMap *m = new_map(NULL);
    uint8_t a[0x1000], b[0x800], c[0x100];
    memset(a, 1, sizeof(a));
    memset(b, 2, sizeof(b));
    memset(c, 3, sizeof(c));
    cr_assert_geq(mem_map_ram(m, "a", 0, sizeof(a), a, 0), 0);
    cr_assert_geq(mem_map_ram(m, "c", 0x700, sizeof(c), c, 2), 0);
    cr_assert_geq(mem_map_ram(m, "b", 0x400, sizeof(b), b, 1), 0);
    const uint8_t want[][2] = {{0x3, 1}, {0x4, 2}, {0x6, 2}, {0x7, 3},
                               {0x8, 2}, {0xb, 2}, {0xc, 1}, {0xf, 1}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        uint64_t addr = (uint64_t)want[i][0] << 8;
        cr_expect_eq(mem_read(m, addr, 1), want[i][1], "at 0x%llx", (unsigned long long)addr);
    }
    cr_expect_leq(m->n_spans, 5);
    free(m);
}

Test(memmap, equal_priority_overlap_is_rejected_with_ebusy)
{
    MemMap *m = new_map(NULL);
    uint8_t a[0x1000], b[0x1000];
    cr_assert_geq(mem_map_ram(m, "a", 0x1000, 0x1000, a, 0), 0);
    unsigned gen = m->generation;
    cr_expect_eq(mem_map_ram(m, "b", 0x1800, 0x1000, b, 0), -EBUSY);
    cr_expect_eq(mem_map_ram(m, "b", 0x0, 0x1001, b, 0), -EBUSY);
    cr_expect_eq(mem_map_ram(m, "b", 0x1fff, 1, b, 0), -EBUSY);
    cr_expect_eq(m->generation, gen, "a rejected map must not change the map");
    /* touching but not overlapping is fine, and so is a different priority */
    cr_expect_geq(mem_map_ram(m, "b", 0x2000, 0x1000, b, 0), 0);
    cr_expect_geq(mem_map_ram(m, "c", 0x0, 0x1001, b, 1), 0);
    free(m);
}

Test(memmap, bad_arguments_are_rejected)
{
    MemMap *m = new_map(NULL);
    uint8_t a[16];
    RecDev d;
    cr_expect_eq(mem_map_ram(m, "a", 0, 0, a, 0), -EINVAL);
    cr_expect_eq(mem_map_ram(m, "a", 0, 16, NULL, 0), -EINVAL);
    cr_expect_eq(mem_map_rom(m, "a", 0, 16, NULL, 0), -EINVAL);
    cr_expect_eq(mem_map_mmio(m, "a", 0, 16, NULL, &d, 0), -EINVAL);
    cr_expect_eq(mem_map_ram(m, "a", UINT64_MAX - 15, 16, a, 0), -EINVAL, "end wraps");
    cr_expect_eq(mem_map_ram(m, "a", 0x10, UINT64_MAX, a, 0), -EINVAL, "size overflows");
    cr_expect_geq(mem_map_ram(m, "a", UINT64_MAX - 16, 16, a, 0), 0, "just below the top");
    free(m);
}

Test(memmap, region_table_full_gives_enospc)
{
    MemMap *m = new_map(NULL);
    uint8_t a[1];
    for (int i = 0; i < MEMMAP_MAX_REGIONS; i++) {
        cr_assert_geq(mem_map_ram(m, "r", (uint64_t)i * 0x1000, 1, a, 0), 0);
    }
    cr_expect_eq(mem_map_ram(m, "r", 0x10000000, 1, a, 0), -ENOSPC);
    /* every region is a separate span, all found */
    cr_expect_eq(m->n_spans, MEMMAP_MAX_REGIONS);
    for (int i = 0; i < MEMMAP_MAX_REGIONS; i++) {
        cr_expect_not_null(mem_find(m, (uint64_t)i * 0x1000));
        cr_expect_null(mem_find(m, (uint64_t)i * 0x1000 + 1));
    }
    free(m);
}

Test(memmap, worst_case_nesting_fits_the_span_table)
{
    MemMap *m = new_map(NULL);
    static uint8_t buf[4096];
    /* 128 nested regions, each one higher priority and narrower: 255 spans */
    for (int i = 0; i < MEMMAP_MAX_REGIONS; i++) {
        cr_assert_geq(mem_map_ram(m, "n", (uint64_t)i * 8, 4096 - (uint64_t)i * 16, buf, i), 0);
    }
    cr_expect_eq(m->n_spans, 2 * MEMMAP_MAX_REGIONS - 1);
    cr_expect_eq(mem_find(m, 0)->priority, 0);
    cr_expect_eq(mem_find(m, 127 * 8)->priority, 127);
    cr_expect_eq(mem_find(m, 4095)->priority, 0);
    free(m);
}

Test(memmap, generation_bumps_on_every_change)
{
    MemMap *m = new_map(NULL);
    uint8_t a[16];
    unsigned g0 = m->generation;
    int h = mem_map_ram(m, "a", 0, 16, a, 0);
    cr_assert_geq(h, 0);
    unsigned g1 = m->generation;
    cr_expect_neq(g1, g0);
    cr_assert_eq(mem_move(m, h, 0x100, true), 0);
    unsigned g2 = m->generation;
    cr_expect_neq(g2, g1);
    mem_unmap(m, h);
    cr_expect_neq(m->generation, g2);
    free(m);
}

Test(memmap, reads_wider_than_max_access_split_into_le_pieces)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    for (int i = 0; i < 16; i++) {
        d->regs[i] = (uint8_t)(0x10 + i);
    }
    cr_assert_geq(mem_map_mmio(m, "b", 0x1000, 0x100, &rec_ops_max1, d, 0), 0);
    cr_expect_eq(mem_read(m, 0x1000, 4), 0x13121110);
    cr_assert_eq(d->n, 4);
    for (int i = 0; i < 4; i++) {
        expect_access(d, i, false, (uint64_t)i, 1);
    }
    d->n = 0;
    mem_write(m, 0x1004, 0xa1b2c3d4, 4);
    cr_assert_eq(d->n, 4);
    for (int i = 0; i < 4; i++) {
        expect_access(d, i, true, 4 + (uint64_t)i, 1);
    }
    cr_expect_eq(d->log[0].val, 0xd4);
    cr_expect_eq(d->log[3].val, 0xa1);
    free(d);
    free(m);
}

Test(memmap, eight_byte_access_to_default_device_becomes_two_dwords)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(mem_map_mmio(m, "d", 0x1000, 0x100, &rec_ops_max4, d, 0), 0);
    mem_write(m, 0x1008, 0x1122334455667788ull, 8);
    cr_assert_eq(d->n, 2);
    expect_access(d, 0, true, 8, 4);
    expect_access(d, 1, true, 12, 4);
    cr_expect_eq(d->log[0].val, 0x55667788);
    cr_expect_eq(d->log[1].val, 0x11223344);
    cr_expect_eq(mem_read(m, 0x1008, 8), 0x1122334455667788ull);
    free(d);
    free(m);
}

Test(memmap, eight_byte_access_to_max8_device_is_one_access)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(mem_map_mmio(m, "d", 0x1000, 0x100, &rec_ops_max8, d, 0), 0);
    mem_write(m, 0x1008, 0x1122334455667788ull, 8);
    cr_assert_eq(d->n, 1);
    expect_access(d, 0, true, 8, 8);
    free(d);
    free(m);
}

Test(memmap, misaligned_mmio_access_splits_into_aligned_pieces)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    for (int i = 0; i < 16; i++) {
        d->regs[i] = (uint8_t)(0x10 + i);
    }
    cr_assert_geq(mem_map_mmio(m, "d", 0x1000, 0x100, &rec_ops_max4, d, 0), 0);
    cr_expect_eq(mem_read(m, 0x1001, 4), 0x14131211);
    cr_assert_eq(d->n, 3);
    expect_access(d, 0, false, 1, 1);
    expect_access(d, 1, false, 2, 2);
    expect_access(d, 2, false, 4, 1);
    free(d);
    free(m);
}

Test(memmap, narrow_read_below_min_access_is_widened_and_extracted)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    d->regs[4] = 0x44;
    d->regs[5] = 0x55;
    d->regs[6] = 0x66;
    d->regs[7] = 0x77;
    cr_assert_geq(mem_map_mmio(m, "d", 0x1000, 0x100, &rec_ops_min4, d, 0), 0);
    cr_expect_eq(mem_read(m, 0x1006, 1), 0x66);
    cr_assert_eq(d->n, 1);
    expect_access(d, 0, false, 4, 4);
    cr_expect_eq(mem_read(m, 0x1006, 2), 0x7766);
    expect_access(d, 1, false, 4, 4);
    free(d);
    free(m);
}

Test(memmap, narrow_write_below_min_access_does_read_modify_write)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    d->regs[4] = 0x44;
    d->regs[5] = 0x55;
    d->regs[6] = 0x66;
    d->regs[7] = 0x77;
    cr_assert_geq(mem_map_mmio(m, "d", 0x1000, 0x100, &rec_ops_min4, d, 0), 0);
    mem_write(m, 0x1005, 0xab, 1);
    cr_assert_eq(d->n, 2);
    expect_access(d, 0, false, 4, 4);
    expect_access(d, 1, true, 4, 4);
    cr_expect_eq(d->log[1].val, 0x7766ab44);
    mem_write(m, 0x1006, 0xcdef, 2);
    cr_expect_eq(d->log[3].val, 0xcdefab44);
    free(d);
    free(m);
}

Test(memmap, null_callbacks_read_ones_and_ignore_writes)
{
    MemMap *m = new_map(NULL);
    cr_assert_geq(mem_map_mmio(m, "n", 0x1000, 0x100, &null_ops, NULL, 0), 0);
    cr_expect_eq(mem_read(m, 0x1000, 4), 0xffffffffu);
    cr_expect_eq(mem_read(m, 0x1000, 8), ~0ull);
    mem_write(m, 0x1000, 0, 4);
    cr_expect_eq(mem_read(m, 0x1000, 2), 0xffff);
    free(m);
}

Test(memmap, access_crossing_ram_into_mmio_is_split_at_the_boundary)
{
    MemMap *m = new_map(NULL);
    uint8_t ram[0x1000] = {0};
    RecDev *d = calloc(1, sizeof(*d));
    ram[0xffe] = 0x11;
    ram[0xfff] = 0x22;
    d->regs[0] = 0x33;
    d->regs[1] = 0x44;
    cr_assert_geq(mem_map_ram(m, "ram", 0, 0x1000, ram, 0), 0);
    cr_assert_geq(mem_map_mmio(m, "d", 0x1000, 0x100, &rec_ops_default, d, 0), 0);
    cr_expect_eq(mem_read(m, 0xffe, 4), 0x44332211);
    cr_assert_eq(d->n, 1);
    expect_access(d, 0, false, 0, 2);
    mem_write(m, 0xfff, 0xa1b2c3d4, 4);
    cr_expect_eq(ram[0xfff], 0xd4);
    cr_assert_eq(d->n, 3);
    /* bytes 1..3 of the write land at device offsets 0..2: a 2-byte and a 1-byte piece */
    expect_access(d, 1, true, 0, 2);
    expect_access(d, 2, true, 2, 1);
    cr_expect_eq(d->log[1].val, 0xb2c3);
    cr_expect_eq(d->log[2].val, 0xa1);
    free(d);
    free(m);
}

Test(memmap, unaligned_access_spanning_two_ram_regions)
{
    MemMap *m = new_map(NULL);
    uint8_t a[0x10] = {0}, b[0x10] = {0};
    cr_assert_geq(mem_map_ram(m, "a", 0x100, 0x10, a, 0), 0);
    cr_assert_geq(mem_map_ram(m, "b", 0x110, 0x10, b, 0), 0);
    mem_write(m, 0x10d, 0x8877665544332211ull, 8);
    cr_expect_eq(a[0xd], 0x11);
    cr_expect_eq(a[0xf], 0x33);
    cr_expect_eq(b[0x0], 0x44);
    cr_expect_eq(b[0x4], 0x88);
    cr_expect_eq(mem_read(m, 0x10d, 8), 0x8877665544332211ull);
    cr_expect_eq(mem_read(m, 0x10f, 2), 0x4433);
    free(m);
}

Test(memmap, access_running_off_ram_into_unassigned_reads_ones_there)
{
    MemMap *m = new_map(NULL);
    uint8_t ram[0x10] = {0};
    ram[0xe] = 0x12;
    ram[0xf] = 0x34;
    cr_assert_geq(mem_map_ram(m, "ram", 0, 0x10, ram, 0), 0);
    cr_expect_eq(mem_read(m, 0xe, 4), 0xffff3412);
    mem_write(m, 0xe, 0, 4);
    cr_expect_eq(ram[0xe], 0);
    cr_expect_eq(ram[0xf], 0);
    /* and from unassigned into RAM */
    uint8_t hi[0x10] = {0x56};
    cr_assert_geq(mem_map_ram(m, "hi", 0x20, 0x10, hi, 0), 0);
    cr_expect_eq(mem_read(m, 0x1f, 2), 0x56ff);
    free(m);
}

Test(memmap, access_at_top_of_address_space_wraps_without_crashing)
{
    MemMap *m = new_map(NULL);
    uint8_t low[4] = {0xa0, 0xa1, 0xa2, 0xa3};
    cr_assert_geq(mem_map_ram(m, "low", 0, 4, low, 0), 0);
    cr_expect_eq(mem_read(m, UINT64_MAX - 1, 4), 0xa1a0ffffu);
    mem_write(m, UINT64_MAX, 0x11223344, 4);
    cr_expect_eq(low[0], 0x33);
    cr_expect_eq(low[2], 0x11);
    free(m);
}

Test(memmap, ram_ptr_only_for_one_visible_ram_or_readonly_rom_span)
{
    MemMap *m = new_map(NULL);
    uint8_t *ram = calloc(1, 0x10000);
    uint8_t rom[0x100];
    RecDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(mem_map_ram(m, "ram", 0, 0x10000, ram, 0), 0);
    cr_assert_geq(mem_map_mmio(m, "vga", 0x8000, 0x1000, &rec_ops_default, d, 1), 0);
    cr_assert_geq(mem_map_rom(m, "rom", 0x20000, sizeof(rom), rom, 0), 0);

    cr_expect_eq(mem_ram_ptr(m, 0x100, 0x1000, true), ram + 0x100);
    cr_expect_eq(mem_ram_ptr(m, 0x100, 0x1000, false), ram + 0x100);
    cr_expect_eq(mem_ram_ptr(m, 0x7000, 0x1000, true), ram + 0x7000, "ends exactly at window");
    cr_expect_null(mem_ram_ptr(m, 0x7000, 0x1001, true), "runs into the MMIO window");
    cr_expect_null(mem_ram_ptr(m, 0x8000, 1, false), "MMIO has no host pointer");
    cr_expect_eq(mem_ram_ptr(m, 0x9000, 0x7000, true), ram + 0x9000);
    cr_expect_null(mem_ram_ptr(m, 0xffff, 2, true), "runs off the end of RAM");
    cr_expect_null(mem_ram_ptr(m, 0x10000, 1, false), "unassigned");
    cr_expect_null(mem_ram_ptr(m, 0x20000, 4, true), "ROM is not writable");
    cr_expect_eq(mem_ram_ptr(m, 0x20010, 4, false), rom + 0x10);
    free(d);
    free(ram);
    free(m);
}

Test(memmap, ram_ptr_follows_map_changes_after_repeated_hits)
{
    MemMap *m = new_map(NULL);
    uint8_t *ram = calloc(1, 0x10000);
    RecDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(mem_map_ram(m, "ram", 0, 0x10000, ram, 0), 0);
    for (int k = 0; k < 3; k++) {
        cr_expect_eq(mem_ram_ptr(m, 0x5000 + 0x10 * k, 4, true), ram + 0x5000 + 0x10 * k);
    }
    /* A window over the span hit last: the next lookup must not use it any more. */
    int h = mem_map_mmio(m, "win", 0x4000, 0x2000, &rec_ops_default, d, 1);
    cr_assert_geq(h, 0);
    cr_expect_null(mem_ram_ptr(m, 0x5000, 4, true), "now MMIO");
    cr_expect_eq(mem_ram_ptr(m, 0x7000, 4, true), ram + 0x7000);
    cr_expect_eq(mem_ram_ptr(m, 0x1000, 4, true), ram + 0x1000, "below the window");
    cr_expect_null(mem_ram_ptr(m, 0x3ffe, 4, true), "runs into the window");
    cr_assert_eq(mem_move(m, h, 0x4000, false), 0);
    cr_expect_eq(mem_ram_ptr(m, 0x5000, 4, true), ram + 0x5000, "RAM again");
    cr_expect_null(mem_ram_ptr(m, 0x10000, 1, true), "unassigned after a hit");
    free(d);
    free(ram);
    free(m);
}

Test(memmap, move_relocates_a_bar_and_disable_unmaps_it)
{
    MemMap *m = new_map(NULL);
    RecDev *d = calloc(1, sizeof(*d));
    d->regs[0] = 0x5a;
    int h = mem_map_mmio(m, "bar0", 0xe0000000, 0x1000, &rec_ops_default, d, 0);
    cr_assert_geq(h, 0);
    cr_expect_eq(mem_read(m, 0xe0000000, 1), 0x5a);
    cr_assert_eq(mem_move(m, h, 0xf0000000, true), 0);
    cr_expect_eq(mem_read(m, 0xe0000000, 1), 0xff);
    cr_expect_eq(mem_read(m, 0xf0000000, 1), 0x5a);
    cr_expect_eq(m->regions[h].base, 0xf0000000);
    cr_assert_eq(mem_move(m, h, 0xf0000000, false), 0);
    cr_expect_eq(mem_read(m, 0xf0000000, 1), 0xff);
    cr_expect_null(mem_find(m, 0xf0000000));
    cr_assert_eq(mem_move(m, h, 0xd0000000, true), 0);
    cr_expect_eq(mem_read(m, 0xd0000000, 1), 0x5a);
    free(d);
    free(m);
}

Test(memmap, move_into_equal_priority_region_fails_and_leaves_it_disabled)
{
    MemMap *m = new_map(NULL);
    uint8_t ram[0x1000] = {0};
    RecDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(mem_map_ram(m, "ram", 0, sizeof(ram), ram, 0), 0);
    int h = mem_map_mmio(m, "bar", 0x10000, 0x100, &rec_ops_default, d, 0);
    cr_assert_geq(h, 0);
    cr_expect_eq(mem_move(m, h, 0x800, true), -EBUSY);
    cr_expect_not(m->regions[h].enabled);
    cr_expect_null(mem_find(m, 0x10000), "old place no longer mapped");
    cr_expect_str_eq(mem_find(m, 0x800)->name, "ram");
    cr_expect_eq(mem_move(m, h, UINT64_MAX - 0x10, true), -EINVAL);
    cr_expect_not(m->regions[h].enabled);
    cr_expect_eq(mem_move(m, 99, 0, true), -EINVAL, "unused handle");
    cr_expect_eq(mem_move(m, -1, 0, true), -EINVAL);
    /* a disabled region does not block an equal-priority map at its place */
    uint8_t x[16];
    cr_expect_geq(mem_map_ram(m, "x", 0x10000, 16, x, 0), 0);
    free(d);
    free(m);
}

Test(memmap, dma_buffers_cross_ram_mmio_rom_and_holes)
{
    MemMap *m = new_map(NULL);
    uint8_t ram[0x10], rom[0x10];
    RecDev *d = calloc(1, sizeof(*d));
    memset(ram, 0x01, sizeof(ram));
    memset(rom, 0x02, sizeof(rom));
    memset(d->regs, 0x03, 0x10);
    cr_assert_geq(mem_map_ram(m, "ram", 0x00, 0x10, ram, 0), 0);
    cr_assert_geq(mem_map_mmio(m, "d", 0x10, 0x10, &rec_ops_default, d, 0), 0);
    cr_assert_geq(mem_map_rom(m, "rom", 0x20, 0x10, rom, 0), 0);
    /* 0x30..0x3f is a hole */
    uint8_t buf[0x40];
    mem_read_buf(m, 0, buf, sizeof(buf));
    for (int i = 0; i < 0x40; i++) {
        uint8_t want = i < 0x10 ? 1 : i < 0x20 ? 3 : i < 0x30 ? 2 : 0xff;
        cr_expect_eq(buf[i], want, "byte 0x%x", i);
    }
    for (int i = 0; i < 0x40; i++) {
        buf[i] = (uint8_t)(0x80 + i);
    }
    mem_write_buf(m, 0x8, buf, 0x30);
    cr_expect_eq(ram[0x7], 0x01);
    cr_expect_eq(ram[0x8], 0x80);
    cr_expect_eq(ram[0xf], 0x87);
    cr_expect_eq(d->regs[0], 0x88);
    cr_expect_eq(d->regs[0xf], 0x97);
    cr_expect_eq(rom[0], 0x02, "ROM is read-only to DMA too");
    /* MMIO pieces are at most 8 bytes (then the device's own limits) */
    for (int i = 0; i < d->n; i++) {
        cr_expect_leq(d->log[i].size, 4);
    }
    free(d);
    free(m);
}

Test(memmap, mem_find_on_empty_and_boundaries)
{
    MemMap *m = new_map(NULL);
    cr_expect_null(mem_find(m, 0));
    cr_expect_null(mem_find(m, UINT64_MAX));
    uint8_t a[0x100];
    cr_assert_geq(mem_map_ram(m, "a", 0x100, 0x100, a, 0), 0);
    cr_expect_null(mem_find(m, 0xff));
    cr_expect_not_null(mem_find(m, 0x100));
    cr_expect_not_null(mem_find(m, 0x1ff));
    cr_expect_null(mem_find(m, 0x200));
    free(m);
}
