/* test_block.c: raw and qcow2 block backends, checked against an in-memory model and against
 * Debian's qemu-img/qemu-io (images we write are `qemu-img check` clean; images qemu writes,
 * with backing files, compressed and zero clusters, read back right). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frontend/block.h"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/anyvm-blk-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    int r = system(cmd);
    (void)r;
}

TestSuite(block, .init = setup, .fini = teardown);

static const char *path(const char *name)
{
    static __thread char buf[8][512];
    static __thread int slot;
    char *p = buf[slot++ & 7];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

/* sh: run a shell command line; returns its exit status (or -1). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char full[2200];
    snprintf(full, sizeof(full), "cd '%s' && (%s) >/dev/null 2>&1", dir, cmd);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_qemu_img(void)
{
    return system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1") == 0;
}

#define NEED_QEMU()                                                                               \
    do {                                                                                          \
        if (!have_qemu_img()) {                                                                   \
            cr_skip_test("qemu-img/qemu-io not installed (scripts/deps.sh installs them)");       \
        }                                                                                         \
    } while (0)

static BlockBackend *open_ok(const char *file, const char *fmt, unsigned flags)
{
    char err[512] = "";
    BlockBackend *b = blk_open(file, fmt, flags, err, sizeof(err));
    cr_assert_not_null(b, "blk_open %s: %s", file, err);
    return b;
}

static void create_ok(const char *file, const char *fmt, uint64_t size, int version,
                      unsigned cbits, const char *backing, const char *bfmt)
{
    BlockCreateOpts o = {.format = fmt,
                         .size = size,
                         .qcow2_version = version,
                         .cluster_bits = cbits,
                         .backing = backing,
                         .backing_fmt = bfmt};
    char err[512] = "";
    cr_assert_eq(blk_create(file, &o, err, sizeof(err)), 0, "blk_create: %s", err);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* random_writes: n writes of 1..max sectors at random places, mirrored into model. */
static void random_writes(BlockBackend *b, uint8_t *model, uint64_t sectors, int n, uint32_t max,
                          uint64_t seed)
{
    uint8_t *buf = malloc((size_t)max * 512);
    for (int i = 0; i < n; i++) {
        uint32_t cnt = 1 + (uint32_t)(rng_next(&seed) % max);
        uint64_t s = rng_next(&seed) % (sectors - cnt + 1);
        for (size_t k = 0; k < (size_t)cnt * 512; k++) {
            buf[k] = (uint8_t)(rng_next(&seed) >> 13);
        }
        if (rng_next(&seed) % 8 == 0) {
            memset(buf, 0, (size_t)cnt * 512); /* zero data too */
        }
        cr_assert_eq(blk_write(b, s, buf, cnt), 0);
        memcpy(model + s * 512, buf, (size_t)cnt * 512);
    }
    free(buf);
}

static void verify(BlockBackend *b, const uint8_t *model, uint64_t sectors)
{
    uint8_t *buf = malloc(sectors * 512);
    cr_assert_eq(blk_read(b, 0, buf, (uint32_t)sectors), 0);
    for (uint64_t s = 0; s < sectors; s++) {
        cr_assert(memcmp(buf + s * 512, model + s * 512, 512) == 0, "sector %lu differs",
                  (unsigned long)s);
    }
    free(buf);
}

static void file_equals_model(const char *file, const uint8_t *model, size_t len)
{
    FILE *f = fopen(file, "rb");
    cr_assert_not_null(f);
    uint8_t *buf = calloc(1, len);
    size_t n = fread(buf, 1, len, f);
    fclose(f);
    cr_assert_eq(n, len, "%s: %zu bytes, want %zu", file, n, len);
    cr_assert(memcmp(buf, model, len) == 0, "%s differs from the model", file);
    free(buf);
}

Test(block, raw_read_write_round_trip_and_bounds)
{
    create_ok(path("d.raw"), "raw", 1 << 20, 0, 0, NULL, NULL);
    BlockBackend *b = open_ok(path("d.raw"), NULL, 0);
    cr_assert_eq(b->sectors, 2048);
    uint8_t *model = calloc(1, 1 << 20);
    random_writes(b, model, 2048, 200, 64, 1);
    verify(b, model, 2048);
    uint8_t sec[512];
    cr_assert_eq(blk_read(b, 2048, sec, 1), -EINVAL, "a read past the end is refused");
    cr_assert_eq(blk_write(b, 2047, sec, 2), -EINVAL, "a write crossing the end is refused");
    cr_assert_eq(blk_read(b, UINT64_MAX, sec, 2), -EINVAL, "sector overflow is refused");
    cr_assert_eq(blk_flush(b), 0);
    blk_close(b);
    file_equals_model(path("d.raw"), model, 1 << 20);
    free(model);
}

Test(block, raw_readonly_opens_o_rdonly_and_refuses_writes)
{
    create_ok(path("ro.raw"), "raw", 65536, 0, 0, NULL, NULL);
    cr_assert_eq(chmod(path("ro.raw"), 0444), 0);
    BlockBackend *b = open_ok(path("ro.raw"), "raw", BLK_OPEN_RDONLY);
    uint8_t sec[512] = {1};
    cr_assert(b->readonly);
    cr_assert_eq(blk_write(b, 0, sec, 1), -EROFS);
    cr_assert_eq(blk_read(b, 0, sec, 1), 0);
    cr_assert_eq(sec[0], 0);
    blk_close(b);
}

/* Random writes through our qcow2 code: the data reads back (before and after a reopen),
 * qemu-img check is clean, and qemu-img's own conversion to raw gives the same bytes. */
static void qcow2_random_case(int version, unsigned cbits, uint64_t size, int nwrites,
                              uint32_t max, uint64_t seed)
{
    NEED_QEMU();
    create_ok(path("r.qcow2"), "qcow2", size, version, cbits, NULL, NULL);
    cr_assert_eq(sh("qemu-img check r.qcow2"), 0, "fresh image is clean");
    uint64_t sectors = size / 512;
    uint8_t *model = calloc(1, size);
    BlockBackend *b = open_ok(path("r.qcow2"), NULL, 0);
    cr_assert_eq(b->sectors, sectors);
    random_writes(b, model, sectors, nwrites, max, seed);
    verify(b, model, sectors);
    blk_close(b);
    cr_assert_eq(sh("qemu-img check r.qcow2"), 0, "qemu-img check after random writes");
    BlockCheck res;
    char err[256];
    cr_assert_eq(blk_check(path("r.qcow2"), &res, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(res.corruptions + res.leaks, 0);
    b = open_ok(path("r.qcow2"), "qcow2", BLK_OPEN_RDONLY);
    verify(b, model, sectors);
    blk_close(b);
    cr_assert_eq(sh("qemu-img convert -f qcow2 -O raw r.qcow2 r.raw"), 0);
    file_equals_model(path("r.raw"), model, size);
    free(model);
}

Test(block, qcow2_v3_64k_random_writes_are_qemu_img_check_clean)
{
    qcow2_random_case(3, 16, 8 << 20, 300, 300, 7);
}

Test(block, qcow2_v2_4k_random_writes_are_qemu_img_check_clean)
{
    qcow2_random_case(2, 12, 4 << 20, 300, 40, 11);
}

Test(block, qcow2_512b_clusters_grow_the_refcount_table)
{
    /* 512-byte clusters: a refcount table cluster covers 64 blocks x 256 clusters = 8 MiB,
     * so writing most of 12 MiB forces the table to move. */
    qcow2_random_case(3, 9, 12 << 20, 400, 128, 3);
    BlockInfo info;
    char err[256];
    cr_assert_eq(blk_info(path("r.qcow2"), NULL, &info, err, sizeof(err)), 0);
    cr_assert_eq(info.cluster_size, 512);
}

/* An image qemu-img creates and qemu-io fills (plain, zero and compressed clusters, over a
 * backing chain) reads back exactly as qemu-img converts it. */
Test(block, reads_qemu_written_chain_with_zero_and_compressed_clusters)
{
    NEED_QEMU();
    cr_assert_eq(sh("qemu-img create -f raw base.raw 4M && "
                    "qemu-io -f raw -c 'write -P 0x11 0 4M' base.raw && "
                    "qemu-img create -f qcow2 -b base.raw -F raw mid.qcow2 && "
                    "qemu-io -f qcow2 -c 'write -P 0x22 64k 128k' -c 'write -c -P 0x33 1M 64k' "
                    "  -c 'write -z 2M 64k' mid.qcow2 && "
                    "qemu-img create -f qcow2 -o compat=0.10 -b mid.qcow2 -F qcow2 top.qcow2 && "
                    "qemu-io -f qcow2 -c 'write -P 0x44 100k 3000' -c 'write -z 3M 64k' "
                    "  top.qcow2 && qemu-img convert -O raw top.qcow2 top.raw"),
                 0);
    BlockBackend *b = open_ok(path("top.qcow2"), NULL, BLK_OPEN_RDONLY);
    cr_assert_eq(b->sectors, 8192);
    uint8_t *want = malloc(4 << 20);
    FILE *f = fopen(path("top.raw"), "rb");
    cr_assert_eq(fread(want, 1, 4 << 20, f), (size_t)(4 << 20));
    fclose(f);
    verify(b, want, 8192);
    cr_assert_eq(want[1 << 20], 0x33, "compressed cluster decompressed");
    cr_assert_eq(want[2 << 20], 0, "zero cluster in the middle image");
    cr_assert_eq(want[100 << 10], 0x44);
    blk_close(b);
    free(want);
}

/* Writing into a qemu-made overlay: copy-on-write from the backing file keeps the rest of the
 * cluster; the backing file is untouched; qemu-img agrees. */
Test(block, writes_to_qemu_overlay_copy_on_write)
{
    NEED_QEMU();
    cr_assert_eq(sh("qemu-img create -f qcow2 base.qcow2 2M && "
                    "qemu-io -c 'write -P 0x5a 0 2M' base.qcow2 && "
                    "qemu-img create -f qcow2 -b base.qcow2 -F qcow2 ov.qcow2 && "
                    "md5sum base.qcow2 > base.md5"),
                 0);
    BlockBackend *b = open_ok(path("ov.qcow2"), NULL, 0);
    uint8_t *model = malloc(2 << 20);
    memset(model, 0x5a, 2 << 20);
    random_writes(b, model, 4096, 50, 16, 5);
    verify(b, model, 4096);
    blk_close(b);
    cr_assert_eq(sh("qemu-img check ov.qcow2"), 0);
    cr_assert_eq(sh("md5sum -c base.md5"), 0, "backing file unchanged");
    cr_assert_eq(sh("qemu-img convert -O raw ov.qcow2 ov.raw"), 0);
    file_equals_model(path("ov.raw"), model, 2 << 20);
    free(model);
}

/* Overwriting compressed and zero clusters made by qemu allocates fresh clusters and drops the
 * old references: still check clean. */
Test(block, overwrite_compressed_and_zero_clusters_stays_clean)
{
    NEED_QEMU();
    cr_assert_eq(sh("qemu-img create -f qcow2 c.qcow2 1M && "
                    "qemu-io -c 'write -c -P 0x61 0 64k' -c 'write -c -P 0x62 64k 64k' "
                    "  -c 'write -P 0x63 128k 64k' -c 'write -z 128k 64k' c.qcow2"),
                 0);
    BlockBackend *b = open_ok(path("c.qcow2"), NULL, 0);
    uint8_t *model = calloc(1, 1 << 20);
    memset(model, 0x61, 65536);
    memset(model + 65536, 0x62, 65536);
    verify(b, model, 2048);
    uint8_t sec[512];
    memset(sec, 0x77, sizeof(sec));
    cr_assert_eq(blk_write(b, 10, sec, 1), 0);
    cr_assert_eq(blk_write(b, 128 + 3, sec, 1), 0);
    cr_assert_eq(blk_write(b, 256 + 5, sec, 1), 0);
    memcpy(model + 10 * 512, sec, 512);
    memcpy(model + 131 * 512, sec, 512);
    memcpy(model + 261 * 512, sec, 512);
    verify(b, model, 2048);
    blk_close(b);
    cr_assert_eq(sh("qemu-img check c.qcow2"), 0);
    cr_assert_eq(sh("qemu-img convert -O raw c.qcow2 c.raw"), 0);
    file_equals_model(path("c.raw"), model, 1 << 20);
    free(model);
}

Test(block, snapshot_writes_go_to_a_temporary_overlay)
{
    create_ok(path("s.raw"), "raw", 1 << 20, 0, 0, NULL, NULL);
    int fd = open(path("s.raw"), O_WRONLY);
    uint8_t pat[4096];
    memset(pat, 0xAB, sizeof(pat));
    cr_assert_eq(pwrite(fd, pat, sizeof(pat), 8192), (ssize_t)sizeof(pat));
    close(fd);
    setenv("TMPDIR", dir, 1);
    BlockBackend *b = open_ok(path("s.raw"), NULL, BLK_OPEN_SNAPSHOT);
    uint8_t sec[512], got[512];
    memset(sec, 0xCD, sizeof(sec));
    cr_assert_eq(blk_write(b, 16, sec, 1), 0);
    cr_assert_eq(blk_read(b, 16, got, 1), 0);
    cr_assert_eq(got[0], 0xCD);
    cr_assert_eq(blk_read(b, 17, got, 1), 0);
    cr_assert_eq(got[0], 0xAB, "the rest comes from the image");
    blk_close(b);
    unsetenv("TMPDIR");
    uint8_t *model = calloc(1, 1 << 20);
    memset(model + 8192, 0xAB, 4096);
    file_equals_model(path("s.raw"), model, 1 << 20);
    free(model);
    cr_assert_eq(sh("ls anyvm-snapshot-* 2>/dev/null | grep -q ."), 1, "the overlay file is gone");
}

/* --- hostile images --- */

static void put_be32_at(const char *file, off_t off, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    int fd = open(file, O_WRONLY);
    cr_assert_eq(pwrite(fd, b, 4, off), 4);
    close(fd);
}

static void put_be64_at(const char *file, off_t off, uint64_t v)
{
    put_be32_at(file, off, (uint32_t)(v >> 32));
    put_be32_at(file, off + 4, (uint32_t)v);
}

static void expect_refused(const char *file, const char *needle)
{
    char err[512] = "";
    BlockBackend *b = blk_open(file, "qcow2", 0, err, sizeof(err));
    cr_assert_null(b, "a bad image was accepted (%s)", needle);
    cr_assert(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
}

Test(block, corrupt_headers_are_refused_with_a_message)
{
    const char *f = path("bad.qcow2");
    struct {
        off_t off;
        int width;
        uint64_t val;
        const char *msg;
    } cases[] = {
        {0, 4, 0x12345678, "bad magic"},
        {4, 4, 7, "version 7"},
        {20, 4, 40, "cluster_bits"},
        {32, 4, 1, "encrypted"},
        {24, 8, 1ull << 62, "absurd virtual size"},
        {40, 8, 0, "L1 table"},
        {40, 8, 1ull << 40, "L1 table"},
        {36, 4, 0, "L1 size"},
        {48, 8, 0, "refcount table"},
        {56, 4, 100000, "refcount table"},
        {72, 8, 1ull << 5, "incompatible features"},
        {72, 8, 1ull << 2, "external data file"},
        {72, 8, 1ull << 1, "corrupt"},
        {96, 4, 9, "refcount order"},
        {100, 4, 50, "header length"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        create_ok(f, "qcow2", 16 << 20, 3, 16, NULL, NULL);
        if (cases[i].width == 4) {
            put_be32_at(f, cases[i].off, (uint32_t)cases[i].val);
        } else {
            put_be64_at(f, cases[i].off, cases[i].val);
        }
        expect_refused(f, cases[i].msg);
    }
    create_ok(f, "qcow2", 16 << 20, 3, 16, NULL, NULL);
    cr_assert_eq(truncate(f, 100), 0);
    expect_refused(f, "too short");
    cr_assert_eq(truncate(f, 20), 0);
    expect_refused(f, "too short");
}

/* L1/L2 entries pointing into the header or at unaligned offsets fail the request with -EIO;
 * nothing crashes and nothing is written there. */
Test(block, bad_table_entries_fail_requests_not_the_process)
{
    const char *f = path("l2.qcow2");
    create_ok(f, "qcow2", 1 << 20, 3, 16, NULL, NULL);
    BlockBackend *b = open_ok(f, NULL, 0);
    uint8_t sec[512] = {9};
    cr_assert_eq(blk_write(b, 0, sec, 1), 0);
    blk_close(b);
    /* The L1 table is cluster 3: its first entry points to the L2 table; make the L2 table's
     * first entry point at the header (offset 0x200, unaligned and inside cluster 0). */
    int fd = open(f, O_RDWR);
    uint8_t e[8];
    cr_assert_eq(pread(fd, e, 8, 3 * 65536), 8);
    uint64_t l2 = 0;
    for (int i = 0; i < 8; i++) {
        l2 = l2 << 8 | e[i];
    }
    l2 &= 0x00FFFFFFFFFFFE00ull;
    close(fd);
    put_be64_at(f, (off_t)l2, (1ull << 63) | 0x200);
    b = open_ok(f, NULL, 0);
    cr_assert_eq(blk_read(b, 0, sec, 1), -EIO);
    cr_assert_eq(blk_write(b, 0, sec, 1), -EIO);
    blk_close(b);
    put_be64_at(f, 3 * 65536, 0x8000000000000200ull); /* L1 entry into the header */
    char err[256] = "";
    cr_assert_null(blk_open(f, NULL, 0, err, sizeof(err)));
    cr_assert(strstr(err, "L1 entry") != NULL, "%s", err);
}

Test(block, backing_chain_loops_are_refused)
{
    create_ok(path("loop.qcow2"), "qcow2", 1 << 20, 3, 16, "loop.qcow2", "qcow2");
    char err[512] = "";
    cr_assert_null(blk_open(path("loop.qcow2"), NULL, 0, err, sizeof(err)));
    cr_assert(strstr(err, "backing chain deeper") != NULL, "%s", err);
}

/* --- anyvm-img against qemu-img --- */

#define IMG ANYVM_BINARY_DIR "/tools/anyvm-img"

Test(block, anyvm_img_check_exit_codes_match_qemu_img)
{
    NEED_QEMU();
    cr_assert_eq(sh(IMG " create -f qcow2 k.qcow2 4M"), 0);
    cr_assert_eq(sh(IMG " check k.qcow2"), 0);
    BlockBackend *b = open_ok(path("k.qcow2"), NULL, 0);
    uint8_t sec[512] = {1};
    cr_assert_eq(blk_write(b, 0, sec, 1), 0);
    blk_close(b);
    /* A leak: one more cluster at the end of the file (clusters 0-5 are header, refcount
     * table, refcount block, L1, L2, data) with a refcount (16-bit refcounts in the block at
     * cluster 2) but no reference. */
    cr_assert_eq(truncate(path("k.qcow2"), 7 * 65536), 0);
    int fd = open(path("k.qcow2"), O_RDWR);
    uint8_t one[2] = {0, 1};
    cr_assert_eq(pwrite(fd, one, 2, 2 * 65536 + 6 * 2), 2);
    close(fd);
    cr_assert_eq(sh("qemu-img check k.qcow2"), 3);
    cr_assert_eq(sh(IMG " check k.qcow2"), 3);
    /* A corruption: the data cluster (the first one allocated: cluster 4 is the L2 table,
     * cluster 5 the data) loses its refcount. */
    fd = open(path("k.qcow2"), O_RDWR);
    uint8_t zero[2] = {0, 0};
    cr_assert_eq(pwrite(fd, zero, 2, 2 * 65536 + 5 * 2), 2);
    close(fd);
    cr_assert_eq(sh("qemu-img check k.qcow2"), 2);
    cr_assert_eq(sh(IMG " check k.qcow2"), 2);
}

Test(block, anyvm_img_convert_round_trip_and_backing_create)
{
    NEED_QEMU();
    cr_assert_eq(sh("head -c 3000000 /dev/urandom > in.raw && truncate -s 4M in.raw && " IMG
                    " convert -O qcow2 in.raw mid.qcow2 && qemu-img check mid.qcow2 && "
                    "qemu-img compare -f raw -F qcow2 in.raw mid.qcow2 && " IMG
                    " convert -f qcow2 -O raw mid.qcow2 out.raw && cmp in.raw out.raw"),
                 0);
    cr_assert_eq(sh(IMG " create -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 && "
                        "qemu-img info top.qcow2 | grep -q 'backing file: mid.qcow2' && "
                        "qemu-img info top.qcow2 | grep -q 'virtual size: 4 MiB' && "
                        "qemu-img compare top.qcow2 in.raw && " IMG " info top.qcow2 | "
                        "grep -q 'backing file format: qcow2'"),
                 0);
    cr_assert_eq(sh(IMG
                    " create -f qcow2 -o compat=0.10 v2.qcow2 1G && "
                    "qemu-img info v2.qcow2 | grep -q 'compat: 0.10' && qemu-img check v2.qcow2"),
                 0);
}

/* --- fault injection --- */

/* A child writes random data until SIGKILL arrives at a random moment; every time, qemu-img
 * check finds at worst leaked clusters (exit 0 or 3), never corruption, and our check
 * agrees. */
Test(block, killed_writer_leaves_at_worst_leaks)
{
    NEED_QEMU();
    const char *f = path("kill.qcow2");
    uint64_t seed = 12345;
    uint64_t written_rounds = 0;
    for (int round = 0; round < 6; round++) {
        create_ok(f, "qcow2", 16 << 20, round & 1 ? 2 : 3, round < 3 ? 9 : 16, NULL, NULL);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            char err[256];
            BlockBackend *b = blk_open(f, NULL, 0, err, sizeof(err));
            if (!b) {
                _exit(1);
            }
            uint8_t buf[64 * 512];
            uint64_t s = (uint64_t)round * 77 + 1;
            for (;;) {
                uint32_t cnt = 1 + (uint32_t)(rng_next(&s) % 64);
                uint64_t sec = rng_next(&s) % (32768 - cnt);
                memset(buf, (int)(s & 0xFF), sizeof(buf));
                if (blk_write(b, sec, buf, cnt) < 0) {
                    _exit(2);
                }
            }
        }
        struct timespec ts = {0, (long)(20000000 + rng_next(&seed) % 150000000)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        cr_assert(WIFSIGNALED(st), "the writer died by itself (status %d)", st);
        int q = sh("qemu-img check kill.qcow2");
        cr_assert(q == 0 || q == 3, "round %d: qemu-img check exit %d", round, q);
        BlockCheck res;
        char err[256];
        cr_assert_eq(blk_check(f, &res, NULL, err, sizeof(err)), 0, "%s", err);
        cr_assert_eq(res.corruptions, 0, "round %d", round);
        cr_assert_eq(res.leaks == 0, q == 0, "round %d: leaks %lu, qemu-img %d", round,
                     (unsigned long)res.leaks, q);
        written_rounds += res.allocated_clusters > 0;
    }
    cr_assert_geq(written_rounds, 4, "the writer was killed mid-stream, not before it began");
}

/* Simulated torn writes: cut the file at every cluster boundary of a written image; a
 * shorter file reads as zeros past its end or fails cleanly, and never crashes. */
Test(block, truncated_images_fail_cleanly)
{
    const char *f = path("t.qcow2");
    create_ok(f, "qcow2", 1 << 20, 3, 12, NULL, NULL);
    BlockBackend *b = open_ok(f, NULL, 0);
    uint8_t *model = calloc(1, 1 << 20);
    random_writes(b, model, 2048, 40, 16, 99);
    blk_close(b);
    struct stat st;
    cr_assert_eq(stat(f, &st), 0);
    uint8_t *buf = malloc(1 << 20);
    for (off_t len = st.st_size; len >= 0; len -= 4096) {
        cr_assert_eq(truncate(f, len), 0);
        char err[256];
        b = blk_open(f, "qcow2", BLK_OPEN_RDONLY, err, sizeof(err));
        if (b) {
            int r = blk_read(b, 0, buf, 2048);
            cr_assert(r == 0 || r == -EIO, "truncated at %ld: read returned %d", (long)len, r);
            blk_close(b);
        } else {
            cr_assert(err[0] != 0);
        }
    }
    free(buf);
    free(model);
}

/* refcount_at: the 16-bit refcount of cluster idx of a fresh 64 KiB-cluster image (refcount
 * block at cluster 2). */
static unsigned refcount_at(const char *file, unsigned idx)
{
    int fd = open(file, O_RDONLY);
    uint8_t b[2] = {0, 0};
    cr_assert_eq(pread(fd, b, 2, 2 * 65536 + idx * 2), 2);
    close(fd);
    return (unsigned)b[0] << 8 | b[1];
}

/* A writer that dies after reserving clusters leaves refcounts past the end of the file; the
 * next writable open gives them back, and the image is clean either way. */
Test(block, reopen_reclaims_clusters_reserved_past_eof)
{
    NEED_QEMU();
    const char *f = path("resv.qcow2");
    create_ok(f, "qcow2", 16 << 20, 3, 16, NULL, NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char err[256];
        BlockBackend *b = blk_open(f, NULL, 0, err, sizeof(err));
        uint8_t sec[512] = {1};
        _exit(b && blk_write(b, 0, sec, 1) == 0 ? 0 : 1); /* no close: as if killed */
    }
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct stat sb;
    cr_assert_eq(stat(f, &sb), 0);
    unsigned end = (unsigned)(sb.st_size / 65536);
    cr_assert_eq(refcount_at(f, end), 1, "a reserved, unused cluster past the end");
    cr_assert_eq(sh("qemu-img check resv.qcow2"), 0);
    BlockBackend *b = open_ok(f, NULL, 0);
    blk_close(b);
    cr_assert_eq(refcount_at(f, end), 0, "reclaimed");
    cr_assert_eq(refcount_at(f, end - 1), 1, "the data cluster stays");
    cr_assert_eq(sh("qemu-img check resv.qcow2"), 0);
}

/* Random damage to the metadata clusters of a written image: opening may fail and requests
 * may fail, but nothing crashes, hangs or writes outside the file (run under the asan
 * preset for the memory checks). */
Test(block, damaged_metadata_never_crashes)
{
    const char *good = path("good.qcow2");
    const char *f = path("dmg.qcow2");
    create_ok(good, "qcow2", 4 << 20, 3, 12, NULL, NULL);
    BlockBackend *b = open_ok(good, NULL, 0);
    uint8_t *model = calloc(1, 4 << 20);
    random_writes(b, model, 8192, 60, 64, 21);
    blk_close(b);
    struct stat st;
    cr_assert_eq(stat(good, &st), 0);
    uint8_t *orig = malloc((size_t)st.st_size);
    FILE *in = fopen(good, "rb");
    cr_assert_eq(fread(orig, 1, (size_t)st.st_size, in), (size_t)st.st_size);
    fclose(in);
    uint8_t *buf = malloc(4 << 20);
    uint64_t seed = 777;
    int opened = 0;
    for (int round = 0; round < 150; round++) {
        FILE *out = fopen(f, "wb");
        cr_assert_eq(fwrite(orig, 1, (size_t)st.st_size, out), (size_t)st.st_size);
        fclose(out);
        int fd = open(f, O_RDWR);
        /* Header, refcount table, refcount block, L1 and the first L2 tables: 8 clusters. */
        int flips = 1 + (int)(rng_next(&seed) % 8);
        for (int k = 0; k < flips; k++) {
            off_t at = (off_t)(rng_next(&seed) % (8 * 4096));
            uint8_t v = (uint8_t)rng_next(&seed);
            cr_assert_eq(pwrite(fd, &v, 1, at), 1);
        }
        close(fd);
        char err[512];
        b = blk_open(f, "qcow2", 0, err, sizeof(err));
        if (!b) {
            cr_assert(err[0] != 0, "a refusal says why");
            continue;
        }
        opened++;
        uint64_t n = b->sectors < 8192 ? b->sectors : 8192;
        int r = blk_read(b, 0, buf, (uint32_t)n);
        (void)r;
        for (int k = 0; k < 8; k++) {
            uint64_t s = rng_next(&seed) % (n ? n : 1);
            r = blk_write(b, s, buf, 1);
        }
        blk_close(b);
        BlockCheck res;
        r = blk_check(f, &res, NULL, err, sizeof(err));
    }
    cr_assert_gt(opened, 10, "most single-byte damage still opens");
    free(buf);
    free(orig);
    free(model);
}

/* Refcount widths other than 16 bits (qemu-img's refcount_bits=1, 8 and 64) are read and
 * updated correctly: our writes leave qemu-img check clean. */
Test(block, other_refcount_widths_stay_consistent)
{
    NEED_QEMU();
    static const int widths[] = {1, 8, 64};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sh("rm -f w.qcow2 && qemu-img create -f qcow2 -o refcount_bits=%d,"
                        "cluster_size=4096 w.qcow2 4M",
                        widths[i]),
                     0);
        BlockBackend *b = open_ok(path("w.qcow2"), NULL, 0);
        uint8_t *model = calloc(1, 4 << 20);
        random_writes(b, model, 8192, 80, 32, (uint64_t)widths[i] * 7 + 1);
        verify(b, model, 8192);
        blk_close(b);
        cr_assert_eq(sh("qemu-img check w.qcow2"), 0, "refcount_bits=%d", widths[i]);
        cr_assert_eq(sh("qemu-img convert -O raw w.qcow2 w.raw"), 0);
        file_equals_model(path("w.raw"), model, 4 << 20);
        free(model);
    }
}

static void on_done(void *opaque, BlockRequest *req, int ret)
{
    int *slot = opaque;
    *slot = ret + 1000 * (int)req->type;
}

/* The asynchronous entry point completes each request exactly once with its result. */
Test(block, submit_completes_requests_with_their_result)
{
    create_ok(path("a.raw"), "raw", 8192, 0, 0, NULL, NULL);
    BlockBackend *b = open_ok(path("a.raw"), NULL, 0);
    uint8_t buf[1024];
    memset(buf, 0x3C, sizeof(buf));
    int got = -1;
    BlockRequest w = {.type = BLK_REQ_WRITE,
                      .sector = 2,
                      .count = 2,
                      .buf = buf,
                      .done = on_done,
                      .opaque = &got};
    blk_submit(b, &w);
    cr_assert_eq(got, 1000 * BLK_REQ_WRITE);
    memset(buf, 0, sizeof(buf));
    BlockRequest r = {.type = BLK_REQ_READ,
                      .sector = 2,
                      .count = 2,
                      .buf = buf,
                      .done = on_done,
                      .opaque = &got};
    blk_submit(b, &r);
    cr_assert_eq(got, 0);
    cr_assert_eq(buf[1023], 0x3C);
    BlockRequest bad = {.type = BLK_REQ_READ,
                        .sector = 15,
                        .count = 2,
                        .buf = buf,
                        .done = on_done,
                        .opaque = &got};
    blk_submit(b, &bad);
    cr_assert_eq(got, -EINVAL);
    BlockRequest fl = {.type = BLK_REQ_FLUSH, .done = on_done, .opaque = &got};
    blk_submit(b, &fl);
    cr_assert_eq(got, 1000 * BLK_REQ_FLUSH);
    cr_assert_eq(b->flushes, 1);
    cr_assert_eq(b->wr_bytes, 1024);
    blk_close(b);
}
