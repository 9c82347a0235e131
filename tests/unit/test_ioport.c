/* test_ioport.c: the I/O port map: claiming ranges, dispatch, splitting, unassigned ports. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"

typedef struct Access {
    bool write;
    uint64_t addr;
    unsigned size;
    uint64_t val;
} Access;

typedef struct PortDev {
    uint8_t regs[256];
    Access log[64];
    int n;
} PortDev;

static uint64_t pd_read(void *opaque, uint64_t addr, unsigned size)
{
    PortDev *d = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)d->regs[(addr + i) & 0xff] << (8 * i);
    }
    if (d->n < 64) {
        d->log[d->n++] = (Access){false, addr, size, v};
    }
    return v;
}

static void pd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PortDev *d = opaque;
    for (unsigned i = 0; i < size; i++) {
        d->regs[(addr + i) & 0xff] = (uint8_t)(val >> (8 * i));
    }
    if (d->n < 64) {
        d->log[d->n++] = (Access){true, addr, size, val};
    }
}

static const IOOps pd_ops = {.read = pd_read, .write = pd_write};
static const IOOps pd_ops_byte = {.read = pd_read, .write = pd_write, .max_access = 1};
static const IOOps pd_ops_min2 = {
    .read = pd_read, .write = pd_write, .min_access = 2, .max_access = 2};

static PortMap *new_map(Logger *lg)
{
    PortMap *p = malloc(sizeof(*p));
    cr_assert_not_null(p);
    portmap_init(p, lg);
    return p;
}

static void expect_access(const PortDev *d, int i, bool write, uint64_t addr, unsigned size)
{
    cr_assert_lt(i, d->n, "access %d missing (only %d)", i, d->n);
    cr_expect_eq(d->log[i].write, write, "access %d direction", i);
    cr_expect_eq(d->log[i].addr, addr, "access %d addr %llu, want %llu", i,
                 (unsigned long long)d->log[i].addr, (unsigned long long)addr);
    cr_expect_eq(d->log[i].size, size, "access %d size %u, want %u", i, d->log[i].size, size);
}

Test(ioport, access_reaches_device_with_offset_from_base)
{
    PortMap *p = new_map(NULL);
    PortDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(port_map(p, "uart", 0x3f8, 8, &pd_ops, d), 0);
    port_write(p, 0x3fb, 0x83, 1);
    expect_access(d, 0, true, 3, 1);
    cr_expect_eq(d->regs[3], 0x83);
    cr_expect_eq(port_read(p, 0x3fb, 1), 0x83);
    expect_access(d, 1, false, 3, 1);
    port_write(p, 0x3f8, 0x11223344, 4);
    expect_access(d, 2, true, 0, 4);
    cr_expect_eq(port_read(p, 0x3f8, 2), 0x3344);
    free(d);
    free(p);
}

Test(ioport, unassigned_ports_read_all_ones_and_ignore_writes)
{
    PortMap *p = new_map(NULL);
    cr_expect_eq(port_read(p, 0x80, 1), 0xff);
    cr_expect_eq(port_read(p, 0x80, 2), 0xffff);
    cr_expect_eq(port_read(p, 0x80, 4), 0xffffffffu);
    port_write(p, 0x80, 0x12, 1);
    cr_expect_eq(port_read(p, 0x80, 1), 0xff);
    free(p);
}

Test(ioport, unassigned_port_is_logged_once_per_port)
{
    Logger lg;
    char *text = NULL;
    size_t len = 0;
    log_init(&lg);
    lg.mask = LOG_UNIMP;
    lg.out = open_memstream(&text, &len);
    PortMap *p = new_map(&lg);
    for (int i = 0; i < 100; i++) {
        (void)port_read(p, 0x1234, 1);
        port_write(p, 0x1234, 0, 1);
        (void)port_read(p, 0x4321, 1);
    }
    fflush(lg.out);
    int lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += text[i] == '\n';
    }
    cr_expect_eq(lines, 2, "got:\n%s", text);
    cr_expect_not_null(strstr(text, "0x1234"));
    cr_expect_not_null(strstr(text, "0x4321"));
    fclose(lg.out);
    free(text);
    free(p);
}

Test(ioport, overlapping_claims_are_rejected)
{
    PortMap *p = new_map(NULL);
    PortDev d;
    cr_assert_geq(port_map(p, "a", 0x60, 1, &pd_ops, &d), 0);
    cr_assert_geq(port_map(p, "b", 0x64, 1, &pd_ops, &d), 0);
    cr_expect_eq(port_map(p, "c", 0x60, 1, &pd_ops, &d), -EBUSY);
    cr_expect_eq(port_map(p, "c", 0x5f, 2, &pd_ops, &d), -EBUSY);
    cr_expect_eq(port_map(p, "c", 0x61, 4, &pd_ops, &d), -EBUSY);
    cr_expect_geq(port_map(p, "c", 0x61, 3, &pd_ops, &d), 0);
    free(p);
}

Test(ioport, bad_ranges_are_rejected)
{
    PortMap *p = new_map(NULL);
    PortDev d;
    cr_expect_eq(port_map(p, "z", 0x10, 0, &pd_ops, &d), -EINVAL);
    cr_expect_eq(port_map(p, "z", 0xfff0, 0x11, &pd_ops, &d), -EINVAL);
    cr_expect_eq(port_map(p, "z", 0, 0x10001, &pd_ops, &d), -EINVAL);
    cr_expect_eq(port_map(p, "z", 0x10, 1, NULL, &d), -EINVAL);
    cr_expect_geq(port_map(p, "top", 0xfff0, 0x10, &pd_ops, &d), 0);
    free(p);
}

Test(ioport, whole_space_claim_and_range_table_limit)
{
    PortMap *p = new_map(NULL);
    PortDev d;
    int h = port_map(p, "all", 0, 0x10000, &pd_ops, &d);
    cr_assert_geq(h, 0);
    cr_expect_eq(port_map(p, "x", 0xffff, 1, &pd_ops, &d), -EBUSY);
    port_unmap(p, h);
    for (int i = 0; i < PORTMAP_MAX; i++) {
        cr_assert_geq(port_map(p, "r", (uint16_t)(i * 2), 1, &pd_ops, &d), 0);
    }
    cr_expect_eq(port_map(p, "r", 0x8000, 1, &pd_ops, &d), -ENOSPC);
    free(p);
}

Test(ioport, unmap_frees_the_ports)
{
    PortMap *p = new_map(NULL);
    PortDev *d = calloc(1, sizeof(*d));
    d->regs[0] = 0x42;
    int h = port_map(p, "a", 0x70, 2, &pd_ops, d);
    cr_assert_geq(h, 0);
    cr_expect_eq(port_read(p, 0x70, 1), 0x42);
    port_unmap(p, h);
    cr_expect_eq(port_read(p, 0x70, 1), 0xff);
    port_unmap(p, h);    /* twice is harmless */
    port_unmap(p, 1000); /* so is nonsense */
    cr_expect_geq(port_map(p, "b", 0x70, 2, &pd_ops, d), 0);
    free(d);
    free(p);
}

Test(ioport, dword_to_byte_device_is_split_into_le_bytes)
{
    PortMap *p = new_map(NULL);
    PortDev *d = calloc(1, sizeof(*d));
    cr_assert_geq(port_map(p, "b", 0x100, 4, &pd_ops_byte, d), 0);
    port_write(p, 0x100, 0xa1b2c3d4, 4);
    cr_assert_eq(d->n, 4);
    for (int i = 0; i < 4; i++) {
        expect_access(d, i, true, (uint64_t)i, 1);
    }
    cr_expect_eq(d->log[0].val, 0xd4);
    cr_expect_eq(d->log[3].val, 0xa1);
    cr_expect_eq(port_read(p, 0x100, 4), 0xa1b2c3d4);
    cr_expect_eq(port_read(p, 0x101, 2), 0xb2c3);
    free(d);
    free(p);
}

Test(ioport, byte_to_min2_device_is_widened)
{
    PortMap *p = new_map(NULL);
    PortDev *d = calloc(1, sizeof(*d));
    d->regs[2] = 0x22;
    d->regs[3] = 0x33;
    cr_assert_geq(port_map(p, "w", 0x1f0, 8, &pd_ops_min2, d), 0);
    cr_expect_eq(port_read(p, 0x1f3, 1), 0x33);
    expect_access(d, 0, false, 2, 2);
    port_write(p, 0x1f2, 0x99, 1);
    expect_access(d, 1, false, 2, 2);
    expect_access(d, 2, true, 2, 2);
    cr_expect_eq(d->log[2].val, 0x3399);
    free(d);
    free(p);
}

Test(ioport, access_spanning_two_devices_and_a_hole_is_split)
{
    PortMap *p = new_map(NULL);
    PortDev *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    a->regs[0] = 0xaa;
    b->regs[0] = 0xbb;
    cr_assert_geq(port_map(p, "a", 0x10, 1, &pd_ops, a), 0);
    cr_assert_geq(port_map(p, "b", 0x12, 1, &pd_ops, b), 0);
    /* 0x10 = a, 0x11 = hole, 0x12 = b, 0x13 = hole */
    cr_expect_eq(port_read(p, 0x10, 4), 0xffbbffaa);
    port_write(p, 0x10, 0x04030201, 4);
    cr_expect_eq(a->regs[0], 0x01);
    cr_expect_eq(b->regs[0], 0x03);
    cr_expect_eq(a->n, 2);
    cr_expect_eq(b->n, 2);
    /* a word starting in a hole */
    cr_expect_eq(port_read(p, 0x11, 2), 0x03ff);
    free(a);
    free(b);
    free(p);
}

Test(ioport, access_crossing_ffff_does_not_wrap_to_port_zero)
{
    PortMap *p = new_map(NULL);
    PortDev *top = calloc(1, sizeof(*top)), *zero = calloc(1, sizeof(*zero));
    top->regs[0] = 0x7e;
    zero->regs[0] = 0x55;
    cr_assert_geq(port_map(p, "top", 0xffff, 1, &pd_ops, top), 0);
    cr_assert_geq(port_map(p, "zero", 0, 4, &pd_ops, zero), 0);
    cr_expect_eq(port_read(p, 0xffff, 2), 0xff7e);
    cr_expect_eq(port_read(p, 0xffff, 4), 0xffffff7e);
    port_write(p, 0xfffe, 0x12345678, 4);
    cr_expect_eq(top->regs[0], 0x56);
    cr_expect_eq(zero->n, 0, "port 0 must not see bytes beyond 0xffff");
    cr_expect_eq(zero->regs[0], 0x55);
    free(top);
    free(zero);
    free(p);
}

Test(ioport, access_running_past_range_end_splits_there)
{
    PortMap *p = new_map(NULL);
    PortDev *d = calloc(1, sizeof(*d));
    d->regs[0] = 0x01;
    d->regs[1] = 0x02;
    cr_assert_geq(port_map(p, "d", 0xcfe, 2, &pd_ops, d), 0);
    cr_expect_eq(port_read(p, 0xcfe, 4), 0xffff0201);
    cr_assert_eq(d->n, 1);
    expect_access(d, 0, false, 0, 2);
    free(d);
    free(p);
}
