/* test_vmstate.c: snapshot format round trips, rejection of bad files, atomic file saves. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/vmstate.h"

typedef struct Leaf {
    uint8_t x;
    int64_t y;
} Leaf;

typedef struct Inner {
    uint16_t a;
    uint32_t arr[3];
    bool flag;
    Leaf leaves[2];
    int loaded; /* not saved: set by post_load */
} Inner;

typedef struct Dev {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    int64_t i64;
    bool b;
    uint8_t buf[13];
    Timer timer;
    Inner one;
    Inner many[2];
    uint8_t bytes[5];
    uint16_t words[4];
    uint32_t dwords[3];
    uint64_t quads[2];
    int post_loads; /* not saved */
} Dev;

static const VMStateField leaf_fields[] = {
    VMSTATE_U8(Leaf, x),
    VMSTATE_I64(Leaf, y),
    VMSTATE_END,
};
static const VMStateDesc leaf_desc = {"leaf", 1, leaf_fields, NULL};

static int inner_post_load(void *opaque)
{
    ((Inner *)opaque)->loaded++;
    return 0;
}

static const VMStateField inner_fields[] = {
    VMSTATE_U16(Inner, a),
    VMSTATE_U32_ARRAY(Inner, arr, 3),
    VMSTATE_BOOL(Inner, flag),
    VMSTATE_STRUCT_ARRAY(Inner, leaves, 2, leaf_desc, Leaf),
    VMSTATE_END,
};
static const VMStateDesc inner_desc = {"inner", 2, inner_fields, inner_post_load};

static int dev_post_load(void *opaque)
{
    ((Dev *)opaque)->post_loads++;
    return 0;
}

#define DEV_FIELDS(...)                                                                           \
    {                                                                                             \
        VMSTATE_U8(Dev, u8), VMSTATE_U16(Dev, u16), VMSTATE_U32(Dev, u32), VMSTATE_U64(Dev, u64), \
            VMSTATE_I32(Dev, i32), VMSTATE_I64(Dev, i64), VMSTATE_BOOL(Dev, b), __VA_ARGS__,      \
            VMSTATE_TIMER(Dev, timer), VMSTATE_STRUCT(Dev, one, inner_desc, Inner),               \
            VMSTATE_STRUCT_ARRAY(Dev, many, 2, inner_desc, Inner),                                \
            VMSTATE_U8_ARRAY(Dev, bytes, 5), VMSTATE_U16_ARRAY(Dev, words, 4),                    \
            VMSTATE_U32_ARRAY(Dev, dwords, 3), VMSTATE_U64_ARRAY(Dev, quads, 2), VMSTATE_END,     \
    }

static const VMStateField dev_fields[] = DEV_FIELDS(VMSTATE_BUFFER(Dev, buf));
static const VMStateDesc dev_desc = {"dev", 3, dev_fields, dev_post_load};

static void fill(Dev *d, unsigned seed)
{
    d->u8 = (uint8_t)(0x10 + seed);
    d->u16 = (uint16_t)(0x1234 + seed);
    d->u32 = 0xdeadbeef ^ seed;
    d->u64 = 0x0123456789abcdefull ^ seed;
    d->i32 = -12345 - (int32_t)seed;
    d->i64 = -1234567890123ll - seed;
    d->b = seed & 1;
    for (unsigned i = 0; i < sizeof(d->buf); i++) {
        d->buf[i] = (uint8_t)(seed * 7 + i);
    }
    Inner *in[3] = {&d->one, &d->many[0], &d->many[1]};
    for (unsigned k = 0; k < 3; k++) {
        in[k]->a = (uint16_t)(seed * 100 + k);
        for (unsigned i = 0; i < 3; i++) {
            in[k]->arr[i] = seed * 1000 + k * 10 + i;
        }
        in[k]->flag = (seed + k) & 1;
        for (unsigned i = 0; i < 2; i++) {
            in[k]->leaves[i].x = (uint8_t)(seed + k + i);
            in[k]->leaves[i].y = -(int64_t)(seed * 1000000 + k * 100 + i);
        }
    }
    for (unsigned i = 0; i < 5; i++) {
        d->bytes[i] = (uint8_t)(seed + 0x40 + i);
    }
    for (unsigned i = 0; i < 4; i++) {
        d->words[i] = (uint16_t)(seed * 0x101 + i);
    }
    for (unsigned i = 0; i < 3; i++) {
        d->dwords[i] = seed * 0x01010101u + i;
    }
    for (unsigned i = 0; i < 2; i++) {
        d->quads[i] = 0xfedcba9876543210ull ^ ((uint64_t)seed << 32) ^ i;
    }
}

static void expect_same_state(const Dev *a, const Dev *b)
{
    cr_expect_eq(a->u8, b->u8);
    cr_expect_eq(a->u16, b->u16);
    cr_expect_eq(a->u32, b->u32);
    cr_expect_eq(a->u64, b->u64);
    cr_expect_eq(a->i32, b->i32);
    cr_expect_eq(a->i64, b->i64);
    cr_expect_eq(a->b, b->b);
    cr_expect_arr_eq(a->buf, b->buf, sizeof(a->buf));
    cr_expect_eq(a->timer.deadline, b->timer.deadline);
    const Inner *ia[3] = {&a->one, &a->many[0], &a->many[1]};
    const Inner *ib[3] = {&b->one, &b->many[0], &b->many[1]};
    for (int k = 0; k < 3; k++) {
        cr_expect_eq(ia[k]->a, ib[k]->a, "inner %d", k);
        cr_expect_arr_eq(ia[k]->arr, ib[k]->arr, sizeof(ia[k]->arr), "inner %d", k);
        cr_expect_eq(ia[k]->flag, ib[k]->flag, "inner %d", k);
        for (int i = 0; i < 2; i++) {
            cr_expect_eq(ia[k]->leaves[i].x, ib[k]->leaves[i].x, "inner %d leaf %d", k, i);
            cr_expect_eq(ia[k]->leaves[i].y, ib[k]->leaves[i].y, "inner %d leaf %d", k, i);
        }
    }
    cr_expect_arr_eq(a->bytes, b->bytes, sizeof(a->bytes));
    cr_expect_arr_eq(a->words, b->words, sizeof(a->words));
    cr_expect_arr_eq(a->dwords, b->dwords, sizeof(a->dwords));
    cr_expect_arr_eq(a->quads, b->quads, sizeof(a->quads));
}

static void timer_noop(void *opaque)
{
}

/* A source machine and a destination machine, each with its own clock and registry. */
typedef struct Fixture {
    Clock src_clock, dst_clock;
    Dev src, dst;
    VMStateRegistry src_reg, dst_reg;
} Fixture;

static Fixture *fixture_new(const VMStateDesc *src_desc, const VMStateDesc *dst_desc)
{
    Fixture *f = calloc(1, sizeof(*f));
    cr_assert_not_null(f);
    clock_init(&f->src_clock, CLOCK_ICOUNT, 0);
    clock_init(&f->dst_clock, CLOCK_ICOUNT, 0);
    fill(&f->src, 1);
    fill(&f->dst, 2);
    timer_init(&f->src.timer, &f->src_clock, timer_noop, &f->src);
    timer_init(&f->dst.timer, &f->dst_clock, timer_noop, &f->dst);
    timer_mod(&f->src.timer, 12345);
    timer_mod(&f->dst.timer, 999);
    vmstate_registry_init(&f->src_reg);
    vmstate_registry_init(&f->dst_reg);
    cr_assert_eq(vmstate_register(&f->src_reg, "dev0", src_desc, &f->src), 0);
    cr_assert_eq(vmstate_register(&f->dst_reg, "dev0", dst_desc, &f->dst), 0);
    return f;
}

static void save(const VMStateRegistry *r, uint8_t **buf, size_t *len)
{
    cr_assert_eq(vmstate_save_buf(r, buf, len), 0);
    cr_assert_not_null(*buf);
    cr_assert_gt(*len, 20);
}

static void fix_crc(uint8_t *buf, size_t len)
{
    uint32_t crc = crc32_ieee(0, buf, len - 4);
    for (int i = 0; i < 4; i++) {
        buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
}

/* Load must fail with -EINVAL, leave dst byte-for-byte unchanged and give a message that
 * contains each of the NULL-terminated substrings. */
static void expect_rejected_msg(Fixture *f, const uint8_t *buf, size_t len, const char *why,
                                const char *const *want)
{
    Dev before;
    memcpy(&before, &f->dst, sizeof(before));
    int64_t next = clock_next_deadline(&f->dst_clock);
    char err[256] = "";
    int ret = vmstate_load_buf(&f->dst_reg, buf, len, err, sizeof(err));
    cr_expect_eq(ret, -EINVAL, "%s: got %d", why, ret);
    cr_expect_neq(err[0], '\0', "%s: no message", why);
    for (; want && *want; want++) {
        cr_expect_not_null(strstr(err, *want), "%s: message '%s' lacks '%s'", why, err, *want);
    }
    cr_expect_eq(memcmp(&before, &f->dst, sizeof(before)), 0, "%s: target changed", why);
    cr_expect_eq(clock_next_deadline(&f->dst_clock), next, "%s: timers changed", why);
}

static void expect_rejected(Fixture *f, const uint8_t *buf, size_t len, const char *why)
{
    expect_rejected_msg(f, buf, len, why, NULL);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(vmstate, crc32_matches_the_ieee_check_value)
{
    cr_expect_eq(crc32_ieee(0, "123456789", 9), 0xCBF43926u);
    cr_expect_eq(crc32_ieee(0, "", 0), 0);
    uint32_t part = crc32_ieee(0, "12345", 5);
    cr_expect_eq(crc32_ieee(part, "6789", 4), 0xCBF43926u, "continues from a previous crc");
    cr_expect_eq(crc32_ieee(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
}

Test(vmstate, round_trip_restores_every_field_type)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    cr_expect_eq(memcmp(buf, "ANYVMSNP", 8), 0);
    char err[256] = "";
    cr_assert_eq(vmstate_load_buf(&f->dst_reg, buf, len, err, sizeof(err)), 0, "%s", err);
    expect_same_state(&f->src, &f->dst);
    cr_expect_eq(f->dst.timer.deadline, 12345);
    cr_expect_eq(clock_next_deadline(&f->dst_clock), 12345, "timer re-armed on its own clock");
    cr_expect_eq(f->dst.timer.clock, &f->dst_clock);
    cr_expect_eq(f->dst.post_loads, 1);
    cr_expect_eq(f->dst.one.loaded, 1);
    cr_expect_eq(f->dst.many[0].loaded, 1);
    cr_expect_eq(f->dst.many[1].loaded, 1);
    /* the source is untouched by saving */
    cr_expect_eq(f->src.post_loads, 0);
    free(buf);
    free(f);
}

Test(vmstate, saving_twice_gives_identical_bytes)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *a, *b;
    size_t la, lb;
    save(&f->src_reg, &a, &la);
    save(&f->src_reg, &b, &lb);
    cr_assert_eq(la, lb);
    cr_expect_eq(memcmp(a, b, la), 0);
    free(a);
    free(b);
    free(f);
}

Test(vmstate, unarmed_timer_in_file_disarms_target_timer)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    timer_del(&f->src.timer);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    cr_assert(timer_pending(&f->dst.timer));
    char err[256];
    cr_assert_eq(vmstate_load_buf(&f->dst_reg, buf, len, err, sizeof(err)), 0, "%s", err);
    cr_expect_not(timer_pending(&f->dst.timer));
    cr_expect_eq(clock_next_deadline(&f->dst_clock), CLOCK_NEVER);
    free(buf);
    free(f);
}

Test(vmstate, every_flipped_byte_is_rejected_and_target_untouched)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        static const uint8_t flips[] = {0x01, 0x80, 0xff};
        for (size_t k = 0; k < sizeof(flips); k++) {
            memcpy(copy, buf, len);
            copy[i] ^= flips[k];
            char why[64];
            snprintf(why, sizeof(why), "byte %zu ^ 0x%02x", i, flips[k]);
            expect_rejected(f, copy, len, why);
        }
    }
    free(copy);
    free(buf);
    free(f);
}

Test(vmstate, truncation_at_every_length_is_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    for (size_t n = 0; n < len; n++) {
        /* exact-size heap copy so ASan catches any read past the end */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, buf, n);
        char why[64];
        snprintf(why, sizeof(why), "truncated to %zu of %zu", n, len);
        expect_rejected(f, copy, n, why);
        free(copy);
    }
    expect_rejected(f, NULL, 0, "NULL buffer");
    free(buf);
    free(f);
}

Test(vmstate, truncation_with_recomputed_crc_is_still_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    /* cut the body short but give it a valid trailer: the structural checks must catch it */
    for (size_t n = 16; n < len - 4; n++) {
        uint8_t *copy = malloc(n + 4);
        memcpy(copy, buf, n);
        fix_crc(copy, n + 4);
        char why[64];
        snprintf(why, sizeof(why), "body cut to %zu", n);
        expect_rejected(f, copy, n + 4, why);
        free(copy);
    }
    free(buf);
    free(f);
}

Test(vmstate, trailing_garbage_is_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    uint8_t *big = malloc(len + 3);
    memcpy(big, buf, len - 4);
    memset(big + len - 4, 0, 3);
    fix_crc(big, len + 3);
    expect_rejected(f, big, len + 3, "trailing bytes");
    free(big);
    free(buf);
    free(f);
}

Test(vmstate, wrong_magic_is_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    memcpy(buf, "QEVM\0\0\0\3", 8);
    fix_crc(buf, len);
    expect_rejected_msg(f, buf, len, "bad magic", WANT("magic"));
    free(buf);
    free(f);
}

Test(vmstate, unknown_format_version_is_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    buf[8] = 2;
    fix_crc(buf, len);
    expect_rejected_msg(f, buf, len, "format version", WANT("version"));
    free(buf);
    free(f);
}

Test(vmstate, bad_bool_value_is_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    f->src.b = true;
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    /* find the record of field "b": name length 1, "b", type VMF_BOOL, count 1, size 1, value */
    static const uint8_t pat[] = {1, 0, 'b', VMF_BOOL, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    uint8_t *hit = memmem(buf, len, pat, sizeof(pat));
    cr_assert_not_null(hit);
    hit[sizeof(pat) - 1] = 2;
    fix_crc(buf, len);
    expect_rejected(f, buf, len, "bool = 2");
    free(buf);
    free(f);
}

Test(vmstate, unknown_instance_id_is_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    VMStateRegistry other;
    vmstate_registry_init(&other);
    cr_assert_eq(vmstate_register(&other, "dev1", &dev_desc, &f->src), 0);
    uint8_t *buf;
    size_t len;
    save(&other, &buf, &len);
    expect_rejected_msg(f, buf, len, "unknown id", WANT("dev1"));
    free(buf);
    free(f);
}

Test(vmstate, missing_and_duplicate_instances_are_rejected)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    Dev extra;
    fill(&extra, 9);
    timer_init(&extra.timer, &f->dst_clock, timer_noop, &extra);
    cr_assert_eq(vmstate_register(&f->dst_reg, "dev9", &dev_desc, &extra), 0);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    expect_rejected_msg(f, buf, len, "missing instance", WANT("dev9"));
    free(buf);

    /* the same id twice: a registry that saves "dev0" and "dev9", both renamed to dev0 */
    VMStateRegistry two;
    vmstate_registry_init(&two);
    cr_assert_eq(vmstate_register(&two, "dev0", &dev_desc, &f->src), 0);
    cr_assert_eq(vmstate_register(&two, "devX", &dev_desc, &f->src), 0);
    save(&two, &buf, &len);
    uint8_t *hit = memmem(buf, len, "devX", 4);
    cr_assert_not_null(hit);
    memcpy(hit, "dev0", 4);
    fix_crc(buf, len);
    expect_rejected(f, buf, len, "duplicate instance");
    free(buf);
    free(f);
}

Test(vmstate, desc_version_mismatch_is_rejected)
{
    VMStateDesc v4 = dev_desc;
    v4.version = 4;
    Fixture *f = fixture_new(&v4, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    expect_rejected_msg(f, buf, len, "desc version", WANT("version"));
    free(buf);
    free(f);
}

Test(vmstate, nested_desc_version_mismatch_is_rejected)
{
    static const VMStateDesc leaf_v2 = {"leaf", 2, leaf_fields, NULL};
    static const VMStateField inner2_fields[] = {
        VMSTATE_U16(Inner, a),
        VMSTATE_U32_ARRAY(Inner, arr, 3),
        VMSTATE_BOOL(Inner, flag),
        VMSTATE_STRUCT_ARRAY(Inner, leaves, 2, leaf_v2, Leaf),
        VMSTATE_END,
    };
    static const VMStateDesc inner2 = {"inner", 2, inner2_fields, NULL};
    static const VMStateField fields[] = {VMSTATE_U8(Dev, u8),
                                          VMSTATE_STRUCT(Dev, one, inner2, Inner), VMSTATE_END};
    static const VMStateField fields_ref[] = {
        VMSTATE_U8(Dev, u8), VMSTATE_STRUCT(Dev, one, inner_desc, Inner), VMSTATE_END};
    static const VMStateDesc d_new = {"dev", 3, fields, NULL};
    static const VMStateDesc d_ref = {"dev", 3, fields_ref, NULL};
    Fixture *f = fixture_new(&d_new, &d_ref);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    expect_rejected_msg(f, buf, len, "nested version", WANT("dev0.one[0].leaves[0]"));
    free(buf);
    free(f);
}

Test(vmstate, desc_name_mismatch_is_rejected)
{
    VMStateDesc other = dev_desc;
    other.name = "devv";
    Fixture *f = fixture_new(&other, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    expect_rejected(f, buf, len, "desc name");
    free(buf);
    free(f);
}

Test(vmstate, wrong_field_size_is_rejected)
{
    /* the same device, but its buffer field is one byte shorter */
    static const VMStateField short_buf[] = DEV_FIELDS(
        {"buf", VMF_BUFFER, offsetof(Dev, buf), sizeof(((Dev *)0)->buf) - 1, 1, 0, NULL});
    static const VMStateDesc d_short = {"dev", 3, short_buf, NULL};
    Fixture *f = fixture_new(&d_short, &dev_desc);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    expect_rejected_msg(f, buf, len, "field size", WANT("size", "buf"));
    free(buf);
    free(f);
}

Test(vmstate, wrong_field_type_name_count_or_array_length_is_rejected)
{
    static const VMStateField ref[] = {VMSTATE_U32(Dev, u32), VMSTATE_U16_ARRAY(Dev, words, 4),
                                       VMSTATE_END};
    static const VMStateField type[] = {VMSTATE_I32(Dev, u32), VMSTATE_U16_ARRAY(Dev, words, 4),
                                        VMSTATE_END};
    static const VMStateField name[] = {{"u33", VMF_U32, offsetof(Dev, u32), 4, 1, 0, NULL},
                                        VMSTATE_U16_ARRAY(Dev, words, 4),
                                        VMSTATE_END};
    static const VMStateField fewer[] = {VMSTATE_U32(Dev, u32), VMSTATE_END};
    static const VMStateField shorter[] = {VMSTATE_U32(Dev, u32), VMSTATE_U16_ARRAY(Dev, words, 3),
                                           VMSTATE_END};
    static const VMStateDesc d_ref = {"dev", 3, ref, NULL};
    static const VMStateDesc variants[] = {
        {"dev", 3, type, NULL},
        {"dev", 3, name, NULL},
        {"dev", 3, fewer, NULL},
        {"dev", 3, shorter, NULL},
    };
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        Fixture *f = fixture_new(&variants[i], &d_ref);
        uint8_t *buf;
        size_t len;
        save(&f->src_reg, &buf, &len);
        char why[32];
        snprintf(why, sizeof(why), "variant %zu", i);
        expect_rejected(f, buf, len, why);
        free(buf);
        free(f);
    }
}

static int failing_post_load(void *opaque)
{
    return -EIO;
}

Test(vmstate, post_load_error_is_reported)
{
    VMStateDesc failing = dev_desc;
    failing.post_load = failing_post_load;
    Fixture *f = fixture_new(&dev_desc, &failing);
    uint8_t *buf;
    size_t len;
    save(&f->src_reg, &buf, &len);
    char err[256] = "";
    cr_expect_eq(vmstate_load_buf(&f->dst_reg, buf, len, err, sizeof(err)), -EIO);
    cr_expect_not_null(strstr(err, "dev0"), "%s", err);
    free(buf);
    free(f);
}

Test(vmstate, registration_rules)
{
    VMStateRegistry *r = malloc(sizeof(*r));
    Dev d;
    vmstate_registry_init(r);
    cr_expect_eq(vmstate_register(r, "a", &dev_desc, &d), 0);
    cr_expect_eq(vmstate_register(r, "a", &dev_desc, &d), -EEXIST);
    cr_expect_eq(vmstate_register(r, "", &dev_desc, &d), -EINVAL);
    cr_expect_eq(vmstate_register(r, NULL, &dev_desc, &d), -EINVAL);
    cr_expect_eq(vmstate_register(r, "b", NULL, &d), -EINVAL);
    char longid[64];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[63] = '\0';
    cr_expect_eq(vmstate_register(r, longid, &dev_desc, &d), -EINVAL);
    for (int i = 1; i < VMSTATE_MAX_ENTRIES; i++) {
        char id[16];
        snprintf(id, sizeof(id), "d%d", i);
        cr_assert_eq(vmstate_register(r, id, &dev_desc, &d), 0);
    }
    cr_expect_eq(vmstate_register(r, "full", &dev_desc, &d), -ENOSPC);
    free(r);
}

Test(vmstate, invalid_description_fails_to_save)
{
    static const VMStateField bad[] = {{"s", VMF_STRUCT, 0, 4, 1, 4, NULL}, VMSTATE_END};
    static const VMStateDesc d_bad = {"bad", 1, bad, NULL};
    VMStateRegistry r;
    Dev d;
    vmstate_registry_init(&r);
    cr_assert_eq(vmstate_register(&r, "x", &d_bad, &d), 0);
    uint8_t *buf = (uint8_t *)1;
    size_t len = 1;
    cr_expect_eq(vmstate_save_buf(&r, &buf, &len), -EINVAL);
    cr_expect_null(buf);
    cr_expect_eq(len, 0);
}

/* ---- files ---- */

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/anyvm-vmstate-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    return strdup(dir);
}

static void cleanup_dir(const char *dir, const char *path)
{
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%.500s.tmp", path);
    unlink(path);
    rmdir(tmp);
    unlink(tmp);
    rmdir(dir);
}

Test(vmstate, file_round_trip)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    char *dir = make_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/snap.anyvm", dir);
    char err[256] = "";
    cr_assert_eq(vmstate_save_file(&f->src_reg, path, err, sizeof(err)), 0, "%s", err);
    char tmp[520];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    cr_expect_neq(access(tmp, F_OK), 0, "temporary file renamed away");
    cr_assert_eq(vmstate_load_file(&f->dst_reg, path, err, sizeof(err)), 0, "%s", err);
    expect_same_state(&f->src, &f->dst);
    cleanup_dir(dir, path);
    free(dir);
    free(f);
}

Test(vmstate, failed_save_leaves_existing_file_intact)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    char *dir = make_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/snap.anyvm", dir);
    char err[256] = "";
    cr_assert_eq(vmstate_save_file(&f->src_reg, path, err, sizeof(err)), 0, "%s", err);
    Dev saved = f->src;

    /* make the temporary file impossible to create: a directory is in its place */
    char tmp[520];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    cr_assert_eq(mkdir(tmp, 0700), 0);
    fill(&f->src, 7);
    err[0] = '\0';
    int ret = vmstate_save_file(&f->src_reg, path, err, sizeof(err));
    cr_expect_lt(ret, 0);
    cr_expect_neq(err[0], '\0');

    /* an unserialisable registry fails before touching the file at all */
    static const VMStateField bad[] = {{"s", VMF_STRUCT, 0, 4, 1, 4, NULL}, VMSTATE_END};
    static const VMStateDesc d_bad = {"bad", 1, bad, NULL};
    VMStateRegistry r;
    vmstate_registry_init(&r);
    cr_assert_eq(vmstate_register(&r, "x", &d_bad, &saved), 0);
    rmdir(tmp);
    cr_expect_eq(vmstate_save_file(&r, path, err, sizeof(err)), -EINVAL);
    cr_expect_neq(access(tmp, F_OK), 0, "no temporary left behind");

    cr_assert_eq(vmstate_load_file(&f->dst_reg, path, err, sizeof(err)), 0, "%s", err);
    expect_same_state(&saved, &f->dst);
    cleanup_dir(dir, path);
    free(dir);
    free(f);
}

Test(vmstate, loading_missing_or_corrupt_files_fails_cleanly)
{
    Fixture *f = fixture_new(&dev_desc, &dev_desc);
    char *dir = make_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/snap.anyvm", dir);
    char err[256] = "";
    cr_expect_eq(vmstate_load_file(&f->dst_reg, path, err, sizeof(err)), -ENOENT);
    cr_expect_not_null(strstr(err, path), "%s", err);

    cr_assert_eq(vmstate_save_file(&f->src_reg, path, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(truncate(path, 40), 0);
    Dev before = f->dst;
    cr_expect_eq(vmstate_load_file(&f->dst_reg, path, err, sizeof(err)), -EINVAL);
    cr_expect_not_null(strstr(err, path), "%s", err);
    cr_expect_eq(memcmp(&before, &f->dst, sizeof(before)), 0);

    cr_expect_eq(vmstate_load_file(&f->dst_reg, dir, err, sizeof(err)), -EINVAL,
                 "a directory is not a snapshot");
    cleanup_dir(dir, path);
    free(dir);
    free(f);
}

typedef struct Small {
    uint32_t v;
    int post_loads;
} Small;

static int small_post_load(void *opaque)
{
    ((Small *)opaque)->post_loads++;
    return 0;
}

static const VMStateField small_fields[] = {VMSTATE_U32(Small, v), VMSTATE_END};
static const VMStateDesc small_desc = {"small", 1, small_fields, small_post_load};

Test(vmstate, entries_are_matched_by_id_not_by_position)
{
    Small a = {.v = 1}, b = {.v = 2}, a2 = {0}, b2 = {0};
    VMStateRegistry src, dst;
    vmstate_registry_init(&src);
    vmstate_registry_init(&dst);
    cr_assert_eq(vmstate_register(&src, "a", &small_desc, &a), 0);
    cr_assert_eq(vmstate_register(&src, "b", &small_desc, &b), 0);
    cr_assert_eq(vmstate_register(&dst, "b", &small_desc, &b2), 0);
    cr_assert_eq(vmstate_register(&dst, "a", &small_desc, &a2), 0);
    uint8_t *buf;
    size_t len;
    save(&src, &buf, &len);
    char err[256] = "";
    cr_assert_eq(vmstate_load_buf(&dst, buf, len, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(a2.v, 1);
    cr_expect_eq(b2.v, 2);
    cr_expect_eq(a2.post_loads, 1);
    cr_expect_eq(b2.post_loads, 1);
    free(buf);
}

Test(vmstate, empty_registry_round_trips)
{
    VMStateRegistry r;
    vmstate_registry_init(&r);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(vmstate_save_buf(&r, &buf, &len), 0);
    cr_expect_eq(len, 8 + 4 + 4 + 4);
    char err[256] = "";
    cr_expect_eq(vmstate_load_buf(&r, buf, len, err, sizeof(err)), 0, "%s", err);
    free(buf);
}

typedef struct Pit {
    uint16_t count;
} Pit;

Test(vmstate, file_layout_matches_the_documented_example)
{
    static const VMStateField pit_fields[] = {VMSTATE_U16(Pit, count), VMSTATE_END};
    static const VMStateDesc pit_desc = {"pit", 2, pit_fields, NULL};
    Pit pit = {.count = 0x1234};
    VMStateRegistry r;
    vmstate_registry_init(&r);
    cr_assert_eq(vmstate_register(&r, "pit0", &pit_desc, &pit), 0);
    uint8_t *buf;
    size_t len;
    save(&r, &buf, &len);
    /* clang-format off */
    static const uint8_t want[] = {
        'A', 'N', 'Y', 'V', 'M', 'S', 'N', 'P', 1, 0, 0, 0, 1, 0, 0, 0,  /* header */
        4, 0, 'p', 'i', 't', '0',                                         /* id */
        3, 0, 'p', 'i', 't', 2, 0, 0, 0, 1, 0, 0, 0,                      /* desc, 1 field */
        5, 0, 'c', 'o', 'u', 'n', 't', VMF_U16, 1, 0, 0, 0, 2, 0, 0, 0,   /* field header */
        0x34, 0x12,                                                       /* value */
    };
    /* clang-format on */
    cr_assert_eq(len, sizeof(want) + 4);
    cr_expect_arr_eq(buf, want, sizeof(want));
    uint32_t crc = crc32_ieee(0, want, sizeof(want));
    cr_expect_eq(
        buf[len - 4] | buf[len - 3] << 8 | buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24, crc);
    free(buf);
}
