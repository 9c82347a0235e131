/* vmstate.c: saving and loading every registered VMStateDesc instance (the snapshot format).
 *
 * The file, all integers little-endian, strings as u16 length + bytes (no NUL):
 *
 *     "ANYVMSNP"  u32 format_version (1)  u32 n_entries
 *     entry:   str id, record
 *     record:  str desc_name, u32 desc_version, u32 n_fields, field * n_fields
 *     field:   str name, u8 type, u32 count, u32 elem_bytes, payload
 *              payload = count * elem_bytes bytes, or for VMF_STRUCT count nested records
 *              (elem_bytes 0)
 *     u32 CRC-32 (IEEE) of every byte before it
 *
 * Element encodings: integers at their width; VMF_BOOL one byte 0/1; VMF_BUFFER raw bytes;
 * VMF_TIMER the i64 deadline (CLOCK_NEVER when not armed), re-armed with timer_mod on load.
 *
 * Example: a desc "pit" version 2 with one field VMSTATE_U16(PIT, count) saved as id "pit0":
 *     41 4e 59 56 4d 53 4e 50 | 01 00 00 00 | 01 00 00 00            magic, version, 1 entry
 *     04 00 "pit0" | 03 00 "pit" | 02 00 00 00 | 01 00 00 00          id, desc, version, 1 field
 *     05 00 "count" | 01 | 01 00 00 00 | 02 00 00 00 | 34 12          U16, 1 x 2 bytes: 0x1234
 *     xx xx xx xx                                                     CRC-32
 *
 * Loading walks the buffer twice against the registered descriptions: first to validate every
 * byte (magic, version, CRC, lengths, ids, names, types, sizes, bool values) without touching
 * any object, then to copy the values in. So a bad file is rejected with the state untouched. */
#include "core/vmstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"

#define VMSTATE_MAGIC "ANYVMSNP"
#define VMSTATE_FORMAT_VERSION 1u
#define VMSTATE_MAX_DEPTH 16
#define VMSTATE_MAX_FILE (1u << 30)

/* ---- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) ----
 * A 16-entry table, one entry per nibble, computed by the compiler from the polynomial. */
#define CRC_STEP(c) (((c) >> 1) ^ (0xEDB88320u & (0u - ((c)&1u))))
#define CRC_NIBBLE(n) CRC_STEP(CRC_STEP(CRC_STEP(CRC_STEP((uint32_t)(n)))))

static const uint32_t crc_nibble[16] = {
    CRC_NIBBLE(0),  CRC_NIBBLE(1),  CRC_NIBBLE(2),  CRC_NIBBLE(3),  CRC_NIBBLE(4),  CRC_NIBBLE(5),
    CRC_NIBBLE(6),  CRC_NIBBLE(7),  CRC_NIBBLE(8),  CRC_NIBBLE(9),  CRC_NIBBLE(10), CRC_NIBBLE(11),
    CRC_NIBBLE(12), CRC_NIBBLE(13), CRC_NIBBLE(14), CRC_NIBBLE(15),
};

uint32_t crc32_ieee(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
    }
    return ~crc;
}

/* ---- registry ---- */

void vmstate_registry_init(VMStateRegistry *r)
{
    memset(r, 0, sizeof(*r));
}

int vmstate_register(VMStateRegistry *r, const char *id, const VMStateDesc *desc, void *opaque)
{
    if (!id || !id[0] || strlen(id) >= sizeof(r->entries[0].id) || !desc || !desc->name ||
        !desc->fields) {
        return -EINVAL;
    }
    for (int i = 0; i < r->n; i++) {
        if (strcmp(r->entries[i].id, id) == 0) {
            return -EEXIST;
        }
    }
    if (r->n >= VMSTATE_MAX_ENTRIES) {
        return -ENOSPC;
    }
    struct VMStateEntry *e = &r->entries[r->n++];
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->desc = desc;
    e->opaque = opaque;
    return 0;
}

/* ---- field geometry ---- */

static uint32_t field_count(const VMStateField *f)
{
    return f->count ? f->count : 1;
}

/* Bytes one element occupies in the file (0 for VMF_STRUCT: nested records), or -1 if the
 * field description is invalid. */
static int64_t field_ser_size(const VMStateField *f)
{
    switch (f->type) {
    case VMF_U8:
    case VMF_BOOL:
        return 1;
    case VMF_U16:
        return 2;
    case VMF_U32:
    case VMF_I32:
        return 4;
    case VMF_U64:
    case VMF_I64:
    case VMF_TIMER:
        return 8;
    case VMF_BUFFER:
        return f->size <= UINT32_MAX ? (int64_t)f->size : -1;
    case VMF_STRUCT:
        return f->sub ? 0 : -1;
    }
    return -1;
}

/* Distance between array elements in the owner's memory. */
static size_t field_stride(const VMStateField *f)
{
    if (f->elem_size) {
        return f->elem_size;
    }
    switch (f->type) {
    case VMF_BOOL:
        return sizeof(bool);
    case VMF_TIMER:
        return sizeof(Timer);
    case VMF_BUFFER:
    case VMF_STRUCT:
        return f->size;
    default:
        return (size_t)field_ser_size(f);
    }
}

static uint32_t desc_nfields(const VMStateDesc *d)
{
    uint32_t n = 0;
    while (d->fields[n].name) {
        n++;
    }
    return n;
}

/* ---- writer ---- */

typedef struct Writer {
    uint8_t *p;
    size_t len, cap;
    int err;
} Writer;

static void w_bytes(Writer *w, const void *src, size_t n)
{
    if (w->err) {
        return;
    }
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 4096;
        while (n > cap - w->len) {
            if (cap > SIZE_MAX / 2) {
                w->err = -ENOMEM;
                return;
            }
            cap *= 2;
        }
        uint8_t *np = realloc(w->p, cap);
        if (!np) {
            w->err = -ENOMEM;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    if (n) {
        memcpy(w->p + w->len, src, n);
    }
    w->len += n;
}

static void w_le(Writer *w, uint64_t v, unsigned n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    w_bytes(w, b, n);
}

static void w_str(Writer *w, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT16_MAX) {
        w->err = w->err ? w->err : -EINVAL;
        return;
    }
    w_le(w, n, 2);
    w_bytes(w, s, n);
}

static void save_record(Writer *w, const VMStateDesc *d, const uint8_t *base, int depth)
{
    if (depth > VMSTATE_MAX_DEPTH || !d || !d->name || !d->fields) {
        w->err = w->err ? w->err : -EINVAL;
        return;
    }
    w_str(w, d->name);
    w_le(w, d->version, 4);
    w_le(w, desc_nfields(d), 4);
    for (const VMStateField *f = d->fields; f->name && !w->err; f++) {
        int64_t ser = field_ser_size(f);
        if (ser < 0) {
            w->err = -EINVAL;
            return;
        }
        uint32_t count = field_count(f);
        size_t stride = field_stride(f);
        w_str(w, f->name);
        w_le(w, (uint64_t)f->type, 1);
        w_le(w, count, 4);
        w_le(w, (uint64_t)ser, 4);
        for (uint32_t i = 0; i < count && !w->err; i++) {
            const uint8_t *p = base + f->offset + (size_t)i * stride;
            switch (f->type) {
            case VMF_U8:
                w_le(w, *p, 1);
                break;
            case VMF_U16: {
                uint16_t v;
                memcpy(&v, p, 2);
                w_le(w, v, 2);
                break;
            }
            case VMF_U32:
            case VMF_I32: {
                uint32_t v;
                memcpy(&v, p, 4);
                w_le(w, v, 4);
                break;
            }
            case VMF_U64:
            case VMF_I64: {
                uint64_t v;
                memcpy(&v, p, 8);
                w_le(w, v, 8);
                break;
            }
            case VMF_BOOL: {
                bool v;
                memcpy(&v, p, sizeof(v));
                w_le(w, v ? 1 : 0, 1);
                break;
            }
            case VMF_BUFFER:
                w_bytes(w, p, f->size);
                break;
            case VMF_TIMER: {
                const Timer *t = (const Timer *)p;
                w_le(w, (uint64_t)t->deadline, 8);
                break;
            }
            case VMF_STRUCT:
                save_record(w, f->sub, p, depth + 1);
                break;
            }
        }
    }
}

int vmstate_save_buf(const VMStateRegistry *r, uint8_t **buf, size_t *len)
{
    Writer w = {0};
    w_bytes(&w, VMSTATE_MAGIC, 8);
    w_le(&w, VMSTATE_FORMAT_VERSION, 4);
    w_le(&w, (uint64_t)r->n, 4);
    for (int i = 0; i < r->n && !w.err; i++) {
        w_str(&w, r->entries[i].id);
        save_record(&w, r->entries[i].desc, r->entries[i].opaque, 0);
    }
    if (!w.err) {
        w_le(&w, crc32_ieee(0, w.p, w.len), 4);
    }
    if (w.err) {
        free(w.p);
        *buf = NULL;
        *len = 0;
        return w.err;
    }
    *buf = w.p;
    *len = w.len;
    return 0;
}

/* ---- reader ---- */

typedef struct Reader {
    const uint8_t *p;
    size_t len, pos;
    bool apply; /* false: validate only; true: write into the objects */
    char *err;
    size_t errlen;
} Reader;

static int fail(Reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(Reader *rd, const char *fmt, ...)
{
    if (rd->err && rd->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rd->err, rd->errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool r_need(Reader *rd, size_t n)
{
    return n <= rd->len - rd->pos;
}

static uint64_t r_le_at(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* Read an n-byte little-endian integer; false if the buffer ends first. */
static bool r_le(Reader *rd, unsigned n, uint64_t *v)
{
    if (!r_need(rd, n)) {
        return false;
    }
    *v = r_le_at(rd->p + rd->pos, n);
    rd->pos += n;
    return true;
}

/* Read a string and compare it with want; returns 0, or -EINVAL with a message naming what. */
static int r_expect_str(Reader *rd, const char *want, const char *what, const char *ctx)
{
    uint64_t n;
    if (!r_le(rd, 2, &n) || !r_need(rd, (size_t)n)) {
        return fail(rd, "snapshot truncated in %s of %s", what, ctx);
    }
    const char *s = (const char *)rd->p + rd->pos;
    rd->pos += (size_t)n;
    if (strlen(want) != n || memcmp(s, want, (size_t)n) != 0) {
        return fail(rd, "%s mismatch in %s: file has '%.*s', expected '%s'", what, ctx,
                    (int)(n > 64 ? 64 : n), s, want);
    }
    return 0;
}

static int load_record(Reader *rd, const VMStateDesc *d, uint8_t *base, const char *ctx,
                       int depth);

static int load_field(Reader *rd, const VMStateField *f, uint8_t *base, const char *ctx, int depth)
{
    char fctx[160];
    snprintf(fctx, sizeof(fctx), "%s.%s", ctx, f->name);
    int ret = r_expect_str(rd, f->name, "field name", ctx);
    if (ret) {
        return ret;
    }
    uint64_t type, count, ser;
    if (!r_le(rd, 1, &type) || !r_le(rd, 4, &count) || !r_le(rd, 4, &ser)) {
        return fail(rd, "snapshot truncated in field header of %s", fctx);
    }
    int64_t want_ser = field_ser_size(f);
    if (want_ser < 0) {
        return fail(rd, "bad field description %s", fctx);
    }
    if (type != (uint64_t)f->type) {
        return fail(rd, "type mismatch in %s: file has %u, expected %u", fctx, (unsigned)type,
                    (unsigned)f->type);
    }
    if (count != field_count(f)) {
        return fail(rd, "array length mismatch in %s: file has %llu, expected %u", fctx,
                    (unsigned long long)count, field_count(f));
    }
    if (ser != (uint64_t)want_ser) {
        return fail(rd, "size mismatch in %s: file has %llu bytes, expected %lld", fctx,
                    (unsigned long long)ser, (long long)want_ser);
    }
    size_t stride = field_stride(f);
    if (f->type == VMF_STRUCT) {
        for (uint32_t i = 0; i < count; i++) {
            char ectx[200];
            snprintf(ectx, sizeof(ectx), "%s[%u]", fctx, i);
            uint8_t *elem = rd->apply ? base + f->offset + (size_t)i * stride : NULL;
            ret = load_record(rd, f->sub, elem, ectx, depth + 1);
            if (ret) {
                return ret;
            }
        }
        return 0;
    }
    if (ser != 0 && count > (rd->len - rd->pos) / ser) {
        return fail(rd, "snapshot truncated in data of %s", fctx);
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *src = rd->p + rd->pos;
        rd->pos += (size_t)ser;
        if (f->type == VMF_BOOL && *src > 1) {
            return fail(rd, "bad boolean value %u in %s", *src, fctx);
        }
        if (!rd->apply) {
            continue;
        }
        uint8_t *p = base + f->offset + (size_t)i * stride;
        uint64_t v = f->type == VMF_BUFFER ? 0 : r_le_at(src, (unsigned)ser);
        switch (f->type) {
        case VMF_U8:
            *p = (uint8_t)v;
            break;
        case VMF_U16: {
            uint16_t x = (uint16_t)v;
            memcpy(p, &x, 2);
            break;
        }
        case VMF_U32:
        case VMF_I32: {
            uint32_t x = (uint32_t)v;
            memcpy(p, &x, 4);
            break;
        }
        case VMF_U64:
        case VMF_I64:
            memcpy(p, &v, 8);
            break;
        case VMF_BOOL: {
            bool x = v != 0;
            memcpy(p, &x, sizeof(x));
            break;
        }
        case VMF_BUFFER:
            memcpy(p, src, f->size);
            break;
        case VMF_TIMER: {
            Timer *t = (Timer *)p;
            int64_t deadline = (int64_t)v;
            if (deadline == CLOCK_NEVER) {
                timer_del(t);
            } else {
                timer_mod(t, deadline);
            }
            break;
        }
        case VMF_STRUCT:
            break;
        }
    }
    return 0;
}

static int load_record(Reader *rd, const VMStateDesc *d, uint8_t *base, const char *ctx, int depth)
{
    if (depth > VMSTATE_MAX_DEPTH || !d || !d->name || !d->fields) {
        return fail(rd, "bad state description for %s", ctx);
    }
    int ret = r_expect_str(rd, d->name, "description name", ctx);
    if (ret) {
        return ret;
    }
    uint64_t version, nfields;
    if (!r_le(rd, 4, &version) || !r_le(rd, 4, &nfields)) {
        return fail(rd, "snapshot truncated in header of %s", ctx);
    }
    if (version != d->version) {
        return fail(rd, "version mismatch for %s (%s): file has %llu, expected %u", ctx, d->name,
                    (unsigned long long)version, d->version);
    }
    if (nfields != desc_nfields(d)) {
        return fail(rd, "field count mismatch for %s (%s): file has %llu, expected %u", ctx,
                    d->name, (unsigned long long)nfields, desc_nfields(d));
    }
    for (const VMStateField *f = d->fields; f->name; f++) {
        ret = load_field(rd, f, base, ctx, depth);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

/* One pass over the entries. Validation also checks that every id is registered, appears once,
 * and that every registered instance is present. */
static int load_entries(Reader *rd, VMStateRegistry *r, uint32_t n)
{
    bool seen[VMSTATE_MAX_ENTRIES] = {false};
    for (uint32_t i = 0; i < n; i++) {
        uint64_t idlen;
        if (!r_le(rd, 2, &idlen) || !r_need(rd, (size_t)idlen)) {
            return fail(rd, "snapshot truncated in the id of entry %u", i);
        }
        const char *id = (const char *)rd->p + rd->pos;
        rd->pos += (size_t)idlen;
        int k = -1;
        for (int j = 0; j < r->n; j++) {
            if (strlen(r->entries[j].id) == idlen && memcmp(r->entries[j].id, id, idlen) == 0) {
                k = j;
                break;
            }
        }
        if (k < 0) {
            return fail(rd, "snapshot has state for unknown instance '%.*s'",
                        (int)(idlen > 64 ? 64 : idlen), id);
        }
        if (seen[k]) {
            return fail(rd, "snapshot has state for '%s' twice", r->entries[k].id);
        }
        seen[k] = true;
        struct VMStateEntry *e = &r->entries[k];
        int ret = load_record(rd, e->desc, rd->apply ? e->opaque : NULL, e->id, 0);
        if (ret) {
            return ret;
        }
    }
    for (int j = 0; j < r->n; j++) {
        if (!seen[j]) {
            return fail(rd, "snapshot lacks state for '%s'", r->entries[j].id);
        }
    }
    if (rd->pos != rd->len) {
        return fail(rd, "snapshot has %zu unexpected trailing bytes", rd->len - rd->pos);
    }
    return 0;
}

/* Run post_load hooks, nested structs first, then the owner. */
static int run_post_load(const VMStateDesc *d, uint8_t *base)
{
    for (const VMStateField *f = d->fields; f->name; f++) {
        if (f->type != VMF_STRUCT) {
            continue;
        }
        size_t stride = field_stride(f);
        for (uint32_t i = 0; i < field_count(f); i++) {
            int ret = run_post_load(f->sub, base + f->offset + (size_t)i * stride);
            if (ret) {
                return ret;
            }
        }
    }
    return d->post_load ? d->post_load(base) : 0;
}

int vmstate_load_buf(VMStateRegistry *r, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    Reader rd = {.p = buf, .len = len, .err = err, .errlen = errlen};
    const size_t head = 8 + 4 + 4, tail = 4;
    if (err && errlen) {
        err[0] = '\0';
    }
    if (buf && len >= 8 && memcmp(buf, VMSTATE_MAGIC, 8) != 0) {
        return fail(&rd, "not an anyvm snapshot (bad magic)");
    }
    if (!buf || len < head + tail) {
        return fail(&rd, "snapshot truncated (%zu bytes)", len);
    }
    uint32_t version = (uint32_t)r_le_at(buf + 8, 4);
    if (version != VMSTATE_FORMAT_VERSION) {
        return fail(&rd, "unsupported snapshot format version %u (expected %u)", version,
                    VMSTATE_FORMAT_VERSION);
    }
    uint32_t crc = (uint32_t)r_le_at(buf + len - tail, 4);
    if (crc32_ieee(0, buf, len - tail) != crc) {
        return fail(&rd, "snapshot CRC mismatch (corrupt or truncated file)");
    }
    uint32_t n = (uint32_t)r_le_at(buf + 12, 4);
    if (n > VMSTATE_MAX_ENTRIES) {
        return fail(&rd, "snapshot has %u entries, at most %d allowed", n, VMSTATE_MAX_ENTRIES);
    }
    rd.len = len - tail;
    for (int pass = 0; pass < 2; pass++) {
        rd.pos = head;
        rd.apply = pass == 1;
        int ret = load_entries(&rd, r, n);
        if (ret) {
            return ret; /* only pass 0 can fail: pass 1 walks the same validated bytes */
        }
    }
    for (int j = 0; j < r->n; j++) {
        int ret = run_post_load(r->entries[j].desc, r->entries[j].opaque);
        if (ret) {
            if (err && errlen) {
                snprintf(err, errlen, "post_load of '%s' failed (%d)", r->entries[j].id, ret);
            }
            return ret < 0 ? ret : -EINVAL;
        }
    }
    return 0;
}

/* ---- files ---- */

static int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return ret;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int vmstate_save_file(const VMStateRegistry *r, const char *path, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int ret = vmstate_save_buf(r, &buf, &len);
    if (ret) {
        return set_err(err, errlen, ret, "cannot serialise machine state: %s", strerror(-ret));
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        free(buf);
        return set_err(err, errlen, -ENOMEM, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ret = -errno;
        set_err(err, errlen, ret, "cannot create %s: %s", tmp, strerror(-ret));
        goto out;
    }
    ret = write_all(fd, buf, len);
    if (!ret && fsync(fd) < 0) {
        ret = -errno;
    }
    if (close(fd) < 0 && !ret) {
        ret = -errno;
    }
    if (ret) {
        set_err(err, errlen, ret, "cannot write %s: %s", tmp, strerror(-ret));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) < 0) {
        ret = -errno;
        set_err(err, errlen, ret, "cannot rename %s to %s: %s", tmp, path, strerror(-ret));
        unlink(tmp);
        goto out;
    }
    /* Make the rename itself durable; failure here does not lose the snapshot, so ignore it. */
    char *slash = strrchr(tmp, '/');
    if (slash) {
        *slash = '\0';
    }
    int dfd = open(slash ? (slash == tmp ? "/" : tmp) : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
out:
    free(tmp);
    free(buf);
    return ret;
}

int vmstate_load_file(VMStateRegistry *r, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int ret = -errno;
        return set_err(err, errlen, ret, "cannot open %s: %s", path, strerror(-ret));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int ret = -errno;
        close(fd);
        return set_err(err, errlen, ret, "cannot stat %s: %s", path, strerror(-ret));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)VMSTATE_MAX_FILE) {
        close(fd);
        return set_err(err, errlen, -EINVAL, "%s is not a snapshot file of sane size", path);
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        return set_err(err, errlen, -ENOMEM, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, buf + got, len - got);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    int ret = vmstate_load_buf(r, buf, got, err, errlen);
    if (ret && err && errlen) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", err);
        snprintf(err, errlen, "%s: %s", path, msg);
    }
    free(buf);
    return ret;
}
