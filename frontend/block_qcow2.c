/* block_qcow2.c: qcow2 images, versions 2 and 3: read/write with cluster allocation and
 * refcounts, backing files, zero clusters, zlib-compressed clusters (read), creation and a
 * consistency check.
 *
 * Layout (all fields big-endian; the qcow2 specification, docs/interop/qcow2.txt of the format):
 *   header (cluster 0) -> L1 table -> L2 tables -> data clusters
 *   header -> refcount table -> refcount blocks (one refcount per host cluster)
 * A guest offset splits into L1 index | L2 index | offset in cluster. Example with 64 KiB
 * clusters (cluster_bits 16, 8192 entries per L2 table): guest byte 0x12345678 is cluster
 * 0x1234, L1 index 0x1234 / 8192 = 0, L2 index 0x1234, offset 0x5678.
 *
 * Crash consistency. A process killed at any point must leave an image whose only damage is
 * leaked clusters (refcount > 0, no reference). So a cluster's refcount is written before any
 * table points at it, data is written before the L2 entry that maps it, a new L2 table is
 * written before the L1 entry that points at it, and a reference is dropped before the
 * refcount that counts it. The metadata caches are write-through, so the order of pwrite()s
 * is the order on disk after a kill; for power loss, barrier() (fdatasync) separates a
 * refcount increment from the first reference to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "frontend/block_int.h"

#define QCOW2_MAGIC 0x514649FBu
#define QCOW2_V2_HEADER_LEN 72u
#define QCOW2_V3_HEADER_LEN 104u

#define L1E_OFFSET_MASK 0x00FFFFFFFFFFFE00ull
#define L2E_OFFSET_MASK 0x00FFFFFFFFFFFE00ull
#define QCOW_OFLAG_COPIED (1ull << 63)
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO 1ull
#define REFT_OFFSET_MASK 0xFFFFFFFFFFFFFE00ull

/* Incompatible feature bits (header offset 72). */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)

#define QCOW2_EXT_END 0u
#define QCOW2_EXT_BACKING_FMT 0xE2792ACAu

/* Limits that keep a hostile header from making us allocate absurd amounts of memory. */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_SIZE (1ull << 55)

#define L2_CACHE_SLOTS 16
#define RB_CACHE_SLOTS 8

typedef struct CacheSlot {
    uint64_t offset; /* host offset of the cached cluster, 0 = empty */
    uint64_t lru;
    uint8_t *data; /* one cluster, as on disk */
} CacheSlot;

typedef struct Qcow2 {
    int fd;
    bool readonly;
    bool barriers;
    char path[1024];
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint64_t size; /* virtual bytes */
    uint32_t header_length;
    uint64_t incompat, compat, autoclear;
    uint32_t refcount_order;
    uint32_t refcount_bits;
    uint64_t rb_entries; /* refcounts per refcount block */
    uint64_t l2_entries; /* entries per L2 table */
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *l1; /* host byte order */
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t rt_entries;
    uint64_t *rt; /* host byte order */
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t file_end;  /* end of the last cluster in the file (or allocated) */
    uint64_t free_hint; /* first cluster index that may be free */
    uint64_t resv_next; /* reserved clusters: refcount 1 on disk, not yet used */
    uint64_t resv_count;
    uint64_t resv_size; /* length of the next reservation run */
    char backing_name[1024];
    char backing_fmt[16];
    BlockBackend *backing;
    CacheSlot l2c[L2_CACHE_SLOTS];
    CacheSlot rbc[RB_CACHE_SLOTS];
    uint64_t lru_clock;
    uint8_t *cbuf;       /* a cluster of scratch space for copy-on-write */
    uint8_t *zbuf;       /* compressed input */
    uint8_t *dbuf;       /* the last decompressed cluster */
    uint64_t dbuf_entry; /* its L2 entry, 0 = none */
} Qcow2;

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int barrier(Qcow2 *q)
{
    if (q->barriers && fdatasync(q->fd) < 0) {
        return -errno;
    }
    return 0;
}

static bool offset_ok(const Qcow2 *q, uint64_t off)
{
    /* A metadata or data cluster: aligned, past the header, not absurdly far. */
    return off >= q->cluster_size && (off & (q->cluster_size - 1)) == 0 && off < QCOW2_MAX_SIZE;
}

/* --- metadata caches (write-through) --- */

static CacheSlot *cache_get(Qcow2 *q, CacheSlot *slots, int n, uint64_t off, bool load, int *err)
{
    CacheSlot *victim = &slots[0];
    for (int i = 0; i < n; i++) {
        if (slots[i].offset == off) {
            slots[i].lru = ++q->lru_clock;
            return &slots[i];
        }
        if (slots[i].lru < victim->lru) {
            victim = &slots[i];
        }
    }
    if (!victim->data) {
        victim->data = malloc(q->cluster_size);
        if (!victim->data) {
            *err = -ENOMEM;
            return NULL;
        }
    }
    victim->offset = 0;
    if (load) {
        int r = blk_full_pread(q->fd, victim->data, q->cluster_size, off);
        if (r < 0) {
            *err = r;
            return NULL;
        }
    } else {
        memset(victim->data, 0, q->cluster_size);
    }
    victim->offset = off;
    victim->lru = ++q->lru_clock;
    return victim;
}

static void cache_drop(CacheSlot *slots, int n, uint64_t off)
{
    for (int i = 0; i < n; i++) {
        if (slots[i].offset == off) {
            slots[i].offset = 0;
            slots[i].lru = 0;
        }
    }
}

/* --- refcounts --- */

static uint64_t rb_get(const Qcow2 *q, const uint8_t *blk, uint64_t i)
{
    uint32_t bits = q->refcount_bits;
    if (bits >= 8) {
        uint32_t bytes = bits / 8;
        uint64_t v = 0;
        for (uint32_t k = 0; k < bytes; k++) {
            v = v << 8 | blk[i * bytes + k];
        }
        return v;
    }
    uint64_t bit = i * bits;
    return (blk[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
}

static void rb_set(const Qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v)
{
    uint32_t bits = q->refcount_bits;
    if (bits >= 8) {
        uint32_t bytes = bits / 8;
        for (int k = (int)bytes - 1; k >= 0; k--) {
            blk[i * bytes + (uint32_t)k] = (uint8_t)v;
            v >>= 8;
        }
        return;
    }
    uint64_t bit = i * bits;
    uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
    blk[bit / 8] = (uint8_t)((blk[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
}

static uint64_t refcount_max(const Qcow2 *q)
{
    return q->refcount_bits == 64 ? UINT64_MAX : (1ull << q->refcount_bits) - 1;
}

/* get_refcount: the refcount of host cluster idx into *rc. */
static int get_refcount(Qcow2 *q, uint64_t idx, uint64_t *rc)
{
    uint64_t ti = idx / q->rb_entries;
    if (ti >= q->rt_entries || q->rt[ti] == 0) {
        *rc = 0;
        return 0;
    }
    int err = 0;
    CacheSlot *s = cache_get(q, q->rbc, RB_CACHE_SLOTS, q->rt[ti], true, &err);
    if (!s) {
        return err;
    }
    *rc = rb_get(q, s->data, idx % q->rb_entries);
    return 0;
}

/* write_rb_entry: write the bytes of one refcount entry of a cached block back to disk. */
static int write_rb_entry(Qcow2 *q, CacheSlot *s, uint64_t i)
{
    uint64_t byte = i * q->refcount_bits / 8;
    size_t len = q->refcount_bits >= 8 ? q->refcount_bits / 8 : 1;
    return blk_full_pwrite(q->fd, s->data + byte, len, s->offset + byte);
}

static int write_header_rt(Qcow2 *q)
{
    uint8_t b[12];
    put_be64(b, q->rt_offset);
    put_be32(b + 8, q->rt_clusters);
    return blk_full_pwrite(q->fd, b, sizeof(b), 48);
}

static int set_refcount(Qcow2 *q, uint64_t idx, uint64_t rc, uint64_t avoid);

/* grow_refcount_table: make the refcount table hold at least `need` entries. The new table and
 * the refcount blocks for its own clusters go past every cluster in use (and past `avoid`, the
 * cluster being allocated), the header switches to it in one write, then the old table is
 * freed. */
static int grow_refcount_table(Qcow2 *q, uint64_t need, uint64_t avoid)
{
    uint64_t cs = q->cluster_size;
    uint64_t new_entries = q->rt_entries * 2;
    if (new_entries < need + 1) {
        new_entries = need + 1;
    }
    uint64_t tc = (new_entries * 8 + cs - 1) / cs;
    if (tc * cs > QCOW2_MAX_RT_BYTES) {
        return -EFBIG;
    }
    new_entries = tc * cs / 8;
    uint64_t start = q->file_end / cs;
    if (start <= avoid) {
        start = avoid + 1;
    }
    /* Blocks for [start, start + tc + nb) that the table does not have yet, at start + tc. */
    uint64_t nb = 0;
    for (int iter = 0; iter < 8; iter++) {
        uint64_t end = start + tc + nb;
        uint64_t want = 0;
        for (uint64_t ti = start / q->rb_entries; ti <= (end - 1) / q->rb_entries; ti++) {
            if (ti >= q->rt_entries || q->rt[ti] == 0) {
                want++;
            }
        }
        if (want == nb) {
            break;
        }
        nb = want;
    }
    uint64_t *nt = calloc(new_entries, 8);
    uint8_t *blk = calloc(1, cs);
    if (!nt || !blk) {
        free(nt);
        free(blk);
        return -ENOMEM;
    }
    memcpy(nt, q->rt, q->rt_entries * 8);
    uint64_t end = start + tc + nb;
    uint64_t bi = start + tc;
    int r = 0;
    for (uint64_t ti = start / q->rb_entries; ti <= (end - 1) / q->rb_entries && r == 0; ti++) {
        if (ti < q->rt_entries && q->rt[ti] != 0) {
            continue;
        }
        if (ti >= new_entries) {
            r = -EFBIG;
            break;
        }
        memset(blk, 0, cs);
        for (uint64_t c = start; c < end; c++) {
            if (c / q->rb_entries == ti) {
                rb_set(q, blk, c % q->rb_entries, 1);
            }
        }
        r = blk_full_pwrite(q->fd, blk, cs, bi * cs);
        nt[ti] = bi * cs;
        bi++;
    }
    /* Clusters of the new area that fall in blocks the old table already has. */
    for (uint64_t c = start; c < end && r == 0; c++) {
        uint64_t ti = c / q->rb_entries;
        if (ti < q->rt_entries && q->rt[ti] != 0) {
            r = set_refcount(q, c, 1, avoid);
        }
    }
    if (r == 0) {
        uint8_t *raw = (uint8_t *)calloc(tc, cs);
        if (!raw) {
            r = -ENOMEM;
        } else {
            for (uint64_t i = 0; i < new_entries; i++) {
                put_be64(raw + i * 8, nt[i]);
            }
            r = blk_full_pwrite(q->fd, raw, tc * cs, start * cs);
            free(raw);
        }
    }
    if (r == 0) {
        r = barrier(q);
    }
    uint64_t old_off = q->rt_offset, old_clusters = q->rt_clusters;
    if (r == 0) {
        q->rt_offset = start * cs;
        q->rt_clusters = (uint32_t)tc;
        r = write_header_rt(q);
        if (r == 0) {
            r = barrier(q);
        }
    }
    if (r < 0) {
        q->rt_offset = old_off;
        q->rt_clusters = (uint32_t)old_clusters;
        free(nt);
        free(blk);
        return r;
    }
    free(q->rt);
    q->rt = nt;
    q->rt_entries = new_entries;
    free(blk);
    if (end * cs > q->file_end) {
        q->file_end = end * cs;
    }
    for (uint64_t c = 0; c < old_clusters && r == 0; c++) {
        r = set_refcount(q, old_off / cs + c, 0, avoid);
    }
    return r;
}

/* set_refcount: store rc for host cluster idx, creating the refcount block (inside the range
 * it covers, never at `avoid`) or growing the table when needed. */
static int set_refcount(Qcow2 *q, uint64_t idx, uint64_t rc, uint64_t avoid)
{
    uint64_t cs = q->cluster_size;
    uint64_t ti = idx / q->rb_entries;
    int r;
    if (ti >= q->rt_entries) {
        if (rc == 0) {
            return 0;
        }
        r = grow_refcount_table(q, ti, idx);
        if (r < 0) {
            return r;
        }
    }
    if (q->rt[ti] == 0) {
        if (rc == 0) {
            return 0;
        }
        /* A new block in its own range: every cluster there is free, as no block counted it. */
        uint64_t b = ti * q->rb_entries;
        while (b == idx || b == avoid || b == 0) {
            b++;
        }
        int err = 0;
        CacheSlot *s = cache_get(q, q->rbc, RB_CACHE_SLOTS, b * cs, false, &err);
        if (!s) {
            return err;
        }
        rb_set(q, s->data, b % q->rb_entries, 1);
        r = blk_full_pwrite(q->fd, s->data, cs, b * cs);
        if (r == 0) {
            r = barrier(q);
        }
        if (r < 0) {
            cache_drop(q->rbc, RB_CACHE_SLOTS, b * cs);
            return r;
        }
        uint8_t e[8];
        put_be64(e, b * cs);
        r = blk_full_pwrite(q->fd, e, 8, q->rt_offset + ti * 8);
        if (r < 0) {
            return r;
        }
        q->rt[ti] = b * cs;
        if ((b + 1) * cs > q->file_end) {
            q->file_end = (b + 1) * cs;
        }
    }
    if (!offset_ok(q, q->rt[ti])) {
        return -EIO;
    }
    int err = 0;
    CacheSlot *s = cache_get(q, q->rbc, RB_CACHE_SLOTS, q->rt[ti], true, &err);
    if (!s) {
        return err;
    }
    uint64_t i = idx % q->rb_entries;
    rb_set(q, s->data, i, rc);
    r = write_rb_entry(q, s, i);
    if (r < 0) {
        cache_drop(q->rbc, RB_CACHE_SLOTS, s->offset);
        return r;
    }
    if (rc == 0 && idx < q->free_hint) {
        q->free_hint = idx;
    }
    return 0;
}

/* update_refcount: add delta (+1 or -1) to cluster idx. */
static int update_refcount(Qcow2 *q, uint64_t idx, int delta)
{
    uint64_t rc = 0;
    int r = get_refcount(q, idx, &rc);
    if (r < 0) {
        return r;
    }
    if ((delta < 0 && rc == 0) || (delta > 0 && rc == refcount_max(q))) {
        return -EIO; /* the image's refcounts are already wrong: do not make it worse */
    }
    return set_refcount(q, idx, delta < 0 ? rc - 1 : rc + 1, UINT64_MAX);
}

#define RESERVE_MIN 16
#define RESERVE_MAX 1024

/* reserve_clusters: give the next run of free clusters refcount 1, then one barrier: every
 * later reference to them is safe without a barrier of its own. Runs double from RESERVE_MIN
 * to RESERVE_MAX as a session keeps allocating (one fdatasync per 64 MiB of new 64 KiB
 * clusters: 120 -> 800 MB/s for sequential allocating writes). Close gives back what was not
 * used; after a crash, the unused part lies past the end of the file and the next writable
 * open reclaims it (see reclaim_past_eof). */
static int reserve_clusters(Qcow2 *q)
{
    uint64_t idx = q->free_hint ? q->free_hint : 1;
    for (;; idx++) {
        uint64_t rc = 0;
        int r = get_refcount(q, idx, &rc);
        if (r < 0) {
            return r;
        }
        if (rc == 0) {
            break;
        }
        /* Every cluster in use lies inside the file (or was reserved by us, which moved
         * file_end): refcounts claiming more are corrupt, and scanning them could take
         * hours. */
        if (idx > (q->file_end >> q->cluster_bits) + 1) {
            return -EIO;
        }
    }
    uint64_t n = 0;
    q->resv_size = q->resv_size < RESERVE_MIN   ? RESERVE_MIN
                   : q->resv_size < RESERVE_MAX ? q->resv_size * 2
                                                : RESERVE_MAX;
    for (uint64_t c = idx; n < q->resv_size; c++) {
        uint64_t rc = 0;
        int r = get_refcount(q, c, &rc);
        if (r < 0) {
            return r;
        }
        if (rc != 0) {
            break; /* a refcount block just placed itself here */
        }
        r = set_refcount(q, c, 1, UINT64_MAX);
        if (r < 0) {
            return r;
        }
        n++;
        if ((c + 1) * q->cluster_size > q->file_end) {
            q->file_end = (c + 1) * q->cluster_size;
        }
    }
    q->resv_next = idx;
    q->resv_count = n;
    q->free_hint = idx + n;
    return barrier(q);
}

/* alloc_cluster: a free host cluster with refcount 1 (on disk), its offset in *off. */
static int alloc_cluster(Qcow2 *q, uint64_t *off)
{
    if (q->resv_count == 0) {
        int r = reserve_clusters(q);
        if (r < 0) {
            return r;
        }
        if (q->resv_count == 0) {
            return -ENOSPC;
        }
    }
    *off = q->resv_next * q->cluster_size;
    q->resv_next++;
    q->resv_count--;
    return 0;
}

/* reclaim_past_eof: a cluster past the end of the file with a refcount was reserved by a
 * writer that died before using it (everything used is written, which extends the file):
 * give it back. Only the refcount blocks that cover the end of the file are looked at. */
static int reclaim_past_eof(Qcow2 *q)
{
    uint64_t first = q->file_end >> q->cluster_bits;
    uint64_t ti = first / q->rb_entries;
    uint64_t end_ti = (first + RESERVE_MAX) / q->rb_entries;
    for (; ti <= end_ti && ti < q->rt_entries; ti++) {
        if (q->rt[ti] == 0 || q->rt[ti] >= q->file_end) {
            continue;
        }
        uint64_t from = ti * q->rb_entries > first ? ti * q->rb_entries : first;
        for (uint64_t c = from; c < (ti + 1) * q->rb_entries; c++) {
            uint64_t rc = 0;
            int r = get_refcount(q, c, &rc);
            if (r == 0 && rc != 0) {
                r = set_refcount(q, c, 0, UINT64_MAX);
            }
            if (r < 0) {
                return r;
            }
        }
    }
    q->free_hint = 1;
    return 0;
}

/* release_reserved: clusters reserved but never used go back to refcount 0. */
static int release_reserved(Qcow2 *q)
{
    int r = 0;
    while (q->resv_count && r == 0) {
        r = set_refcount(q, q->resv_next, 0, UINT64_MAX);
        q->resv_next++;
        q->resv_count--;
    }
    return r;
}

/* free_compressed: drop the references a compressed cluster descriptor holds. */
static void compressed_span(const Qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len)
{
    unsigned x = 62 - (q->cluster_bits - 8);
    *off = entry & ((1ull << x) - 1);
    uint64_t nsec = (entry >> x) & ((1ull << (q->cluster_bits - 8)) - 1);
    *len = (nsec + 1) * 512 - (*off & 511);
}

static int drop_data_ref(Qcow2 *q, uint64_t entry)
{
    if (entry & QCOW_OFLAG_COMPRESSED) {
        uint64_t off, len;
        compressed_span(q, entry, &off, &len);
        uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;
        for (uint64_t c = first; c <= last; c++) {
            int r = update_refcount(q, c, -1);
            if (r < 0) {
                return r;
            }
        }
        return 0;
    }
    uint64_t off = entry & L2E_OFFSET_MASK;
    return off ? update_refcount(q, off >> q->cluster_bits, -1) : 0;
}

/* --- L2 tables --- */

static int l2_load(Qcow2 *q, uint64_t l2_off, CacheSlot **out)
{
    if (!offset_ok(q, l2_off)) {
        return -EIO;
    }
    int err = 0;
    CacheSlot *s = cache_get(q, q->l2c, L2_CACHE_SLOTS, l2_off, true, &err);
    if (!s) {
        return err;
    }
    *out = s;
    return 0;
}

static int write_l1_entry(Qcow2 *q, uint64_t i)
{
    uint8_t e[8];
    put_be64(e, q->l1[i]);
    return blk_full_pwrite(q->fd, e, 8, q->l1_offset + i * 8);
}

/* l2_for_write: the L2 table for l1 index i, allocated or copied (when shared) as needed. */
static int l2_for_write(Qcow2 *q, uint64_t i, CacheSlot **out)
{
    uint64_t l1e = q->l1[i];
    uint64_t old = l1e & L1E_OFFSET_MASK;
    if (old && (l1e & QCOW_OFLAG_COPIED)) {
        return l2_load(q, old, out);
    }
    if (old) {
        uint64_t rc = 0;
        int r = get_refcount(q, old >> q->cluster_bits, &rc);
        if (r < 0) {
            return r;
        }
        if (rc == 1) { /* the flag was stale: the table is ours alone */
            q->l1[i] = old | QCOW_OFLAG_COPIED;
            r = write_l1_entry(q, i);
            return r < 0 ? r : l2_load(q, old, out);
        }
    }
    uint64_t noff;
    int r = alloc_cluster(q, &noff);
    if (r < 0) {
        return r;
    }
    int err = 0;
    CacheSlot *s = NULL;
    if (old) {
        CacheSlot *src = NULL;
        r = l2_load(q, old, &src);
        if (r < 0) {
            return r;
        }
        memcpy(q->cbuf, src->data, q->cluster_size);
        /* Data clusters the old table shared now gain a reference from the copy too. */
        for (uint64_t k = 0; k < q->l2_entries; k++) {
            uint64_t e = be64(q->cbuf + k * 8);
            if ((e & QCOW_OFLAG_COMPRESSED) || (e & L2E_OFFSET_MASK)) {
                if (e & QCOW_OFLAG_COMPRESSED) {
                    uint64_t o, l;
                    compressed_span(q, e, &o, &l);
                    for (uint64_t c = o >> q->cluster_bits;
                         c <= (o + l - 1) >> q->cluster_bits && r == 0; c++) {
                        r = update_refcount(q, c, +1);
                    }
                } else {
                    r = update_refcount(q, (e & L2E_OFFSET_MASK) >> q->cluster_bits, +1);
                    put_be64(q->cbuf + k * 8, e & ~QCOW_OFLAG_COPIED);
                }
                if (r < 0) {
                    return r;
                }
            }
        }
        s = cache_get(q, q->l2c, L2_CACHE_SLOTS, noff, false, &err);
        if (!s) {
            return err;
        }
        memcpy(s->data, q->cbuf, q->cluster_size);
    } else {
        s = cache_get(q, q->l2c, L2_CACHE_SLOTS, noff, false, &err);
        if (!s) {
            return err;
        }
    }
    r = blk_full_pwrite(q->fd, s->data, q->cluster_size, noff);
    if (r == 0) {
        r = barrier(q);
    }
    if (r < 0) {
        cache_drop(q->l2c, L2_CACHE_SLOTS, noff);
        return r;
    }
    q->l1[i] = noff | QCOW_OFLAG_COPIED;
    r = write_l1_entry(q, i);
    if (r < 0) {
        return r;
    }
    if (old) {
        r = update_refcount(q, old >> q->cluster_bits, -1);
        if (r < 0) {
            return r;
        }
    }
    *out = s;
    return 0;
}

/* --- reading --- */

static int read_compressed(Qcow2 *q, uint64_t entry)
{
    if (q->dbuf_entry == entry) {
        return 0;
    }
    uint64_t off, len;
    compressed_span(q, entry, &off, &len);
    if (len > 2 * q->cluster_size || off < q->cluster_size) {
        return -EIO;
    }
    int r = blk_full_pread(q->fd, q->zbuf, len, off);
    if (r < 0) {
        return r;
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -12) != Z_OK) {
        return -ENOMEM;
    }
    zs.next_in = q->zbuf;
    zs.avail_in = (uInt)len;
    zs.next_out = q->dbuf;
    zs.avail_out = (uInt)q->cluster_size;
    int zr = inflate(&zs, Z_FINISH);
    bool ok = (zr == Z_STREAM_END || zr == Z_BUF_ERROR) && zs.avail_out == 0;
    inflateEnd(&zs);
    if (!ok) {
        q->dbuf_entry = 0;
        return -EIO;
    }
    q->dbuf_entry = entry;
    return 0;
}

/* lookup: the L2 entry for guest cluster gc (0 when unallocated). */
static int lookup(Qcow2 *q, uint64_t gc, uint64_t *entry)
{
    uint64_t i = gc / q->l2_entries;
    *entry = 0;
    if (i >= q->l1_size) {
        return 0;
    }
    uint64_t l2_off = q->l1[i] & L1E_OFFSET_MASK;
    if (!l2_off) {
        return 0;
    }
    CacheSlot *s = NULL;
    int r = l2_load(q, l2_off, &s);
    if (r < 0) {
        return r;
    }
    *entry = be64(s->data + (gc % q->l2_entries) * 8);
    return 0;
}

/* read_chunk: len bytes at guest offset off, all inside one cluster whose entry is given. */
static int read_chunk(Qcow2 *q, uint64_t entry, uint64_t off, uint8_t *buf, size_t len)
{
    uint64_t in = off & (q->cluster_size - 1);
    if (entry & QCOW_OFLAG_COMPRESSED) {
        int r = read_compressed(q, entry);
        if (r == 0) {
            memcpy(buf, q->dbuf + in, len);
        }
        return r;
    }
    if (q->version >= 3 && (entry & QCOW_OFLAG_ZERO)) {
        memset(buf, 0, len);
        return 0;
    }
    uint64_t host = entry & L2E_OFFSET_MASK;
    if (host) {
        if (!offset_ok(q, host)) {
            return -EIO;
        }
        return blk_full_pread(q->fd, buf, len, host + in);
    }
    if (q->backing) {
        uint64_t bsize = q->backing->sectors * BLK_SECTOR_SIZE;
        size_t n = off >= bsize ? 0 : (size_t)(bsize - off < len ? bsize - off : len);
        if (n > 0) {
            int r = blk_pread(q->backing, off, buf, n);
            if (r < 0) {
                return r;
            }
        }
        memset(buf + n, 0, len - n);
        return 0;
    }
    memset(buf, 0, len);
    return 0;
}

static int qcow2_pread(void *opaque, uint64_t offset, void *buf, size_t len)
{
    Qcow2 *q = opaque;
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t in = offset & (q->cluster_size - 1);
        size_t n = (size_t)(q->cluster_size - in < len ? q->cluster_size - in : len);
        uint64_t entry;
        int r = lookup(q, offset >> q->cluster_bits, &entry);
        if (r == 0) {
            r = read_chunk(q, entry, offset, p, n);
        }
        if (r < 0) {
            return r;
        }
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}

/* --- writing --- */

static int write_chunk(Qcow2 *q, uint64_t off, const uint8_t *buf, size_t len)
{
    uint64_t gc = off >> q->cluster_bits;
    uint64_t i = gc / q->l2_entries, k = gc % q->l2_entries;
    uint64_t in = off & (q->cluster_size - 1);
    if (i >= q->l1_size) {
        return -EIO;
    }
    CacheSlot *s = NULL;
    int r = l2_for_write(q, i, &s);
    if (r < 0) {
        return r;
    }
    uint64_t entry = be64(s->data + k * 8);
    uint64_t host = entry & L2E_OFFSET_MASK;
    bool plain = !(entry & QCOW_OFLAG_COMPRESSED) && !(q->version >= 3 && (entry & 1));
    if (plain && host && (entry & QCOW_OFLAG_COPIED)) {
        if (!offset_ok(q, host)) {
            return -EIO;
        }
        return blk_full_pwrite(q->fd, buf, len, host + in); /* in place */
    }
    /* A new cluster: the old contents (backing, zeros, compressed or shared) around the
     * written part, then the L2 entry, then the old reference goes. */
    if (len < q->cluster_size) {
        r = read_chunk(q, entry, off - in, q->cbuf, q->cluster_size);
        if (r < 0) {
            return r;
        }
    }
    memcpy(q->cbuf + in, buf, len);
    uint64_t noff;
    bool reuse = !(entry & QCOW_OFLAG_COMPRESSED) && host && (entry & QCOW_OFLAG_COPIED);
    if (reuse) {
        noff = host; /* a preallocated zero cluster of ours: fill it, then clear the flag */
        if (!offset_ok(q, host)) {
            return -EIO;
        }
    } else {
        r = alloc_cluster(q, &noff);
        if (r < 0) {
            return r;
        }
    }
    /* No barrier before the L2 entry: the cluster's refcount was made durable when it was
     * reserved, and data not yet flushed may be lost anyway until the guest flushes. */
    r = blk_full_pwrite(q->fd, q->cbuf, q->cluster_size, noff);
    if (r < 0) {
        return r;
    }
    /* The L2 slot may have been evicted by allocations above: fetch it again. */
    r = l2_load(q, q->l1[i] & L1E_OFFSET_MASK, &s);
    if (r < 0) {
        return r;
    }
    put_be64(s->data + k * 8, noff | QCOW_OFLAG_COPIED);
    r = blk_full_pwrite(q->fd, s->data + k * 8, 8, s->offset + k * 8);
    if (r < 0) {
        cache_drop(q->l2c, L2_CACHE_SLOTS, s->offset);
        return r;
    }
    if (!reuse && (host || (entry & QCOW_OFLAG_COMPRESSED))) {
        if (q->dbuf_entry == entry) {
            q->dbuf_entry = 0;
        }
        r = drop_data_ref(q, entry);
    }
    return r;
}

static int qcow2_pwrite(void *opaque, uint64_t offset, const void *buf, size_t len)
{
    Qcow2 *q = opaque;
    const uint8_t *p = buf;
    while (len > 0) {
        uint64_t in = offset & (q->cluster_size - 1);
        size_t n = (size_t)(q->cluster_size - in < len ? q->cluster_size - in : len);
        int r = write_chunk(q, offset, p, n);
        if (r < 0) {
            return r;
        }
        p += n;
        offset += n;
        len -= n;
    }
    return 0;
}

static int qcow2_flush(void *opaque)
{
    Qcow2 *q = opaque;
    return fsync(q->fd) < 0 ? -errno : 0;
}

static void qcow2_free(Qcow2 *q)
{
    if (!q) {
        return;
    }
    if (q->fd >= 0) {
        close(q->fd);
    }
    blk_close(q->backing);
    for (int i = 0; i < L2_CACHE_SLOTS; i++) {
        free(q->l2c[i].data);
    }
    for (int i = 0; i < RB_CACHE_SLOTS; i++) {
        free(q->rbc[i].data);
    }
    free(q->l1);
    free(q->rt);
    free(q->cbuf);
    free(q->zbuf);
    free(q->dbuf);
    free(q);
}

static void qcow2_close(void *opaque)
{
    Qcow2 *q = opaque;
    if (!q->readonly) {
        int r = release_reserved(q);
        (void)r; /* on failure the clusters stay leaked, which is harmless */
    }
    qcow2_free(q);
}

static const BlockOps qcow2_ops = {
    .pread = qcow2_pread,
    .pwrite = qcow2_pwrite,
    .flush = qcow2_flush,
    .close = qcow2_close,
};

/* --- opening --- */

/* load_header: parse and validate everything up to the tables. */
static int load_header(Qcow2 *q, bool readonly, char *err, size_t errlen)
{
    const char *f = q->path;
    struct stat st;
    if (fstat(q->fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", f, strerror(errno));
        return -errno;
    }
    uint64_t fsize = (uint64_t)st.st_size;
    uint8_t h[QCOW2_V3_HEADER_LEN + 8];
    memset(h, 0, sizeof(h));
    if (fsize < QCOW2_V2_HEADER_LEN) {
        snprintf(err, errlen, "%s: not a qcow2 image (file too short for a header)", f);
        return -EINVAL;
    }
    int r = blk_full_pread(q->fd, h, sizeof(h), 0);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", f, strerror(-r));
        return r;
    }
    if (be32(h) != QCOW2_MAGIC) {
        snprintf(err, errlen, "%s: not a qcow2 image (bad magic)", f);
        return -EINVAL;
    }
    q->version = be32(h + 4);
    if (q->version != 2 && q->version != 3) {
        snprintf(err, errlen, "%s: unsupported qcow2 version %u", f, q->version);
        return -ENOTSUP;
    }
    uint64_t backing_off = be64(h + 8);
    uint32_t backing_len = be32(h + 16);
    q->cluster_bits = be32(h + 20);
    q->size = be64(h + 24);
    uint32_t crypt = be32(h + 32);
    q->l1_size = be32(h + 36);
    q->l1_offset = be64(h + 40);
    q->rt_offset = be64(h + 48);
    q->rt_clusters = be32(h + 56);
    q->nb_snapshots = be32(h + 60);
    q->snapshots_offset = be64(h + 64);
    if (q->cluster_bits < 9 || q->cluster_bits > 21) {
        snprintf(err, errlen, "%s: corrupt qcow2 header: cluster_bits %u (9..21)", f,
                 q->cluster_bits);
        return -EINVAL;
    }
    q->cluster_size = 1ull << q->cluster_bits;
    if (crypt != 0) {
        snprintf(err, errlen, "%s: encrypted qcow2 images are not supported", f);
        return -ENOTSUP;
    }
    if (q->version == 3) {
        q->incompat = be64(h + 72);
        q->compat = be64(h + 80);
        q->autoclear = be64(h + 88);
        q->refcount_order = be32(h + 96);
        q->header_length = be32(h + 100);
        if (fsize < QCOW2_V3_HEADER_LEN) {
            snprintf(err, errlen, "%s: not a qcow2 image (file too short for a header)", f);
            return -EINVAL;
        }
        if (q->header_length < QCOW2_V3_HEADER_LEN || q->header_length > q->cluster_size ||
            (q->header_length & 7)) {
            snprintf(err, errlen, "%s: corrupt qcow2 header: header length %u", f,
                     q->header_length);
            return -EINVAL;
        }
        if (q->header_length > 104 && h[104] != 0) {
            snprintf(err, errlen, "%s: unsupported qcow2 compression type %u (only zlib)", f,
                     h[104]);
            return -ENOTSUP;
        }
    } else {
        q->refcount_order = 4;
        q->header_length = QCOW2_V2_HEADER_LEN;
    }
    uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION;
    if (q->incompat & ~known) {
        const char *what = (q->incompat & QCOW2_INCOMPAT_DATA_FILE) ? " (external data file)"
                           : (q->incompat & QCOW2_INCOMPAT_EXTL2)   ? " (extended L2 entries)"
                                                                    : "";
        snprintf(err, errlen, "%s: unsupported qcow2 incompatible features 0x%" PRIx64 "%s", f,
                 q->incompat & ~known, what);
        return -ENOTSUP;
    }
    if ((q->incompat & QCOW2_INCOMPAT_COMPRESSION) && (q->header_length <= 104 || h[104] != 0)) {
        snprintf(err, errlen, "%s: unsupported qcow2 compression type", f);
        return -ENOTSUP;
    }
    if (!readonly && (q->incompat & QCOW2_INCOMPAT_CORRUPT)) {
        snprintf(err, errlen, "%s: the image is marked corrupt; open it read-only or repair it",
                 f);
        return -EROFS;
    }
    if (!readonly && (q->incompat & QCOW2_INCOMPAT_DIRTY)) {
        snprintf(err, errlen,
                 "%s: the image is dirty (lazy refcounts); repair it with "
                 "`qemu-img check -r all` before writing",
                 f);
        return -EROFS;
    }
    if (q->refcount_order > 6) {
        snprintf(err, errlen, "%s: corrupt qcow2 header: refcount order %u", f, q->refcount_order);
        return -EINVAL;
    }
    q->refcount_bits = 1u << q->refcount_order;
    q->rb_entries = q->cluster_size * 8 / q->refcount_bits;
    q->l2_entries = q->cluster_size / 8;
    if (q->size > QCOW2_MAX_SIZE) {
        snprintf(err, errlen, "%s: corrupt qcow2 header: absurd virtual size %" PRIu64, f,
                 q->size);
        return -EINVAL;
    }
    uint64_t need_l1 =
        (q->size + q->cluster_size * q->l2_entries - 1) / (q->cluster_size * q->l2_entries);
    if (q->l1_size < need_l1 || (uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        snprintf(err, errlen, "%s: corrupt qcow2 header: L1 size %u for a %" PRIu64 "-byte disk",
                 f, q->l1_size, q->size);
        return -EINVAL;
    }
    if (q->l1_size &&
        (!offset_ok(q, q->l1_offset) || q->l1_offset + (uint64_t)q->l1_size * 8 > fsize)) {
        snprintf(err, errlen,
                 "%s: corrupt qcow2 image: the L1 table (offset 0x%" PRIx64
                 ") overlaps the header or lies beyond the end of the file",
                 f, q->l1_offset);
        return -EINVAL;
    }
    if (q->rt_clusters == 0 || (uint64_t)q->rt_clusters * q->cluster_size > QCOW2_MAX_RT_BYTES ||
        !offset_ok(q, q->rt_offset) ||
        q->rt_offset + (uint64_t)q->rt_clusters * q->cluster_size > fsize) {
        snprintf(err, errlen,
                 "%s: corrupt qcow2 image: bad refcount table (offset 0x%" PRIx64 ", %u clusters)",
                 f, q->rt_offset, q->rt_clusters);
        return -EINVAL;
    }
    if (backing_off) {
        if (backing_len == 0 || backing_len >= sizeof(q->backing_name) ||
            backing_off + backing_len > q->cluster_size) {
            snprintf(err, errlen, "%s: corrupt qcow2 header: bad backing file name", f);
            return -EINVAL;
        }
        r = blk_full_pread(q->fd, q->backing_name, backing_len, backing_off);
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", f, strerror(-r));
            return r;
        }
        q->backing_name[backing_len] = 0;
    }
    /* Header extensions: after the header, up to the backing file name or the cluster end. */
    uint64_t end = backing_off ? backing_off : q->cluster_size;
    uint64_t pos = q->header_length;
    while (pos + 8 <= end) {
        uint8_t eh[8];
        r = blk_full_pread(q->fd, eh, 8, pos);
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", f, strerror(-r));
            return r;
        }
        uint32_t type = be32(eh), len = be32(eh + 4);
        if (type == QCOW2_EXT_END) {
            break;
        }
        if (len > end - pos - 8) {
            snprintf(err, errlen, "%s: corrupt qcow2 header extension 0x%x", f, type);
            return -EINVAL;
        }
        if (type == QCOW2_EXT_BACKING_FMT) {
            if (len >= sizeof(q->backing_fmt)) {
                snprintf(err, errlen, "%s: bad backing format name", f);
                return -EINVAL;
            }
            r = blk_full_pread(q->fd, q->backing_fmt, len, pos + 8);
            if (r < 0) {
                return r;
            }
            q->backing_fmt[len] = 0;
        }
        pos += 8 + ((len + 7u) & ~7u);
    }
    q->file_end = (fsize + q->cluster_size - 1) & ~(q->cluster_size - 1);
    return 0;
}

static int load_tables(Qcow2 *q, char *err, size_t errlen)
{
    const char *f = q->path;
    q->l1 = calloc(q->l1_size ? q->l1_size : 1, 8);
    q->rt_entries = (uint64_t)q->rt_clusters * q->cluster_size / 8;
    q->rt = calloc(q->rt_entries, 8);
    q->cbuf = malloc(q->cluster_size);
    q->zbuf = malloc(2 * q->cluster_size);
    q->dbuf = malloc(q->cluster_size);
    uint8_t *raw = malloc(q->rt_entries * 8 > (uint64_t)q->l1_size * 8 ? q->rt_entries * 8
                                                                       : (uint64_t)q->l1_size * 8);
    if (!q->l1 || !q->rt || !q->cbuf || !q->zbuf || !q->dbuf || !raw) {
        free(raw);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int r = blk_full_pread(q->fd, raw, (size_t)q->l1_size * 8, q->l1_offset);
    for (uint32_t i = 0; r == 0 && i < q->l1_size; i++) {
        q->l1[i] = be64(raw + i * 8);
        uint64_t o = q->l1[i] & L1E_OFFSET_MASK;
        if (o && !offset_ok(q, o)) {
            snprintf(err, errlen, "%s: corrupt qcow2 image: L1 entry %u points to 0x%" PRIx64, f,
                     i, o);
            free(raw);
            return -EINVAL;
        }
    }
    if (r == 0) {
        r = blk_full_pread(q->fd, raw, q->rt_entries * 8, q->rt_offset);
    }
    for (uint64_t i = 0; r == 0 && i < q->rt_entries; i++) {
        q->rt[i] = be64(raw + i * 8) & REFT_OFFSET_MASK;
        if (q->rt[i] && !offset_ok(q, q->rt[i])) {
            snprintf(err, errlen,
                     "%s: corrupt qcow2 image: refcount block %" PRIu64 " at 0x%" PRIx64, f, i,
                     q->rt[i]);
            free(raw);
            return -EINVAL;
        }
    }
    free(raw);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", f, strerror(-r));
    }
    return r;
}

/* backing_path: the backing file name as given, or relative to the overlay's directory. */
static void backing_path(const Qcow2 *q, char *out, size_t outlen)
{
    if (q->backing_name[0] == '/' || !strchr(q->path, '/')) {
        snprintf(out, outlen, "%s", q->backing_name);
        return;
    }
    const char *slash = strrchr(q->path, '/');
    snprintf(out, outlen, "%.*s/%s", (int)(slash - q->path), q->path, q->backing_name);
}

static Qcow2 *qcow2_load(const char *file, bool readonly, int depth, bool with_backing, char *err,
                         size_t errlen)
{
    Qcow2 *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->barriers = true;
    q->readonly = readonly;
    snprintf(q->path, sizeof(q->path), "%s", file);
    q->fd = open(file, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (q->fd < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        qcow2_free(q);
        return NULL;
    }
    if (load_header(q, readonly, err, errlen) < 0 || load_tables(q, err, errlen) < 0) {
        qcow2_free(q);
        return NULL;
    }
    q->free_hint = 1;
    if (with_backing && q->backing_name[0]) {
        if (depth + 1 >= BLK_MAX_BACKING_DEPTH) {
            snprintf(err, errlen, "%s: backing chain deeper than %d", file, BLK_MAX_BACKING_DEPTH);
            qcow2_free(q);
            return NULL;
        }
        char path[2048];
        backing_path(q, path, sizeof(path));
        char e[512];
        q->backing =
            blk_open_depth(path, q->backing_fmt, BLK_OPEN_RDONLY, depth + 1, e, sizeof(e));
        if (!q->backing) {
            if (depth == 0) {
                snprintf(err, errlen, "%s: cannot open backing file: %s", file, e);
            } else {
                snprintf(err, errlen, "%s", e); /* the innermost reason, once */
            }
            qcow2_free(q);
            return NULL;
        }
    }
    return q;
}

BlockBackend *qcow2_open(const char *file, bool readonly, int depth, char *err, size_t errlen)
{
    Qcow2 *q = qcow2_load(file, readonly, depth, true, err, errlen);
    if (!q) {
        return NULL;
    }
    if (!readonly && reclaim_past_eof(q) < 0) {
        snprintf(err, errlen, "%s: cannot update the refcounts", file);
        qcow2_free(q);
        return NULL;
    }
    BlockBackend *blk = blk_new(&qcow2_ops, q, (q->size + 511) / 512, readonly, file);
    if (!blk) {
        snprintf(err, errlen, "out of memory");
    }
    return blk;
}

/* --- creation --- */

int qcow2_create(const char *file, const BlockCreateOpts *o, char *err, size_t errlen)
{
    unsigned cb = o->cluster_bits ? o->cluster_bits : 16;
    int version = o->qcow2_version ? o->qcow2_version : 3;
    if (cb < 9 || cb > 21) {
        snprintf(err, errlen, "cluster size must be a power of two between 512 and 2M");
        return -EINVAL;
    }
    if (version != 2 && version != 3) {
        snprintf(err, errlen, "qcow2 version must be 2 or 3");
        return -EINVAL;
    }
    uint64_t cs = 1ull << cb;
    if (o->size > QCOW2_MAX_SIZE) {
        snprintf(err, errlen, "image size too large");
        return -EINVAL;
    }
    size_t blen = o->backing ? strlen(o->backing) : 0;
    size_t flen = o->backing_fmt ? strlen(o->backing_fmt) : 0;
    uint32_t hlen = version == 3 ? QCOW2_V3_HEADER_LEN : QCOW2_V2_HEADER_LEN;
    uint64_t ext_len = (flen ? 8 + ((flen + 7) & ~7u) : 0) + 8;
    if (blen > 1023 || hlen + ext_len + blen > cs) {
        snprintf(err, errlen, "backing file name too long for the cluster size");
        return -EINVAL;
    }
    uint64_t l2_entries = cs / 8;
    uint64_t l1_size = (o->size + cs * l2_entries - 1) / (cs * l2_entries);
    if (l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        snprintf(err, errlen, "image too large for this cluster size");
        return -EINVAL;
    }
    uint64_t l1c = (l1_size * 8 + cs - 1) / cs;
    if (l1c == 0) {
        l1c = 1;
    }
    uint64_t rb_entries = cs * 8 / 16;
    /* Layout: header, refcount table (rtc), refcount blocks (nrb), L1 table. */
    uint64_t rtc = 1, nrb = 1;
    for (int i = 0; i < 16; i++) {
        uint64_t total = 1 + rtc + nrb + l1c;
        uint64_t nnrb = (total + rb_entries - 1) / rb_entries;
        uint64_t nrtc = (nnrb * 8 + cs - 1) / cs;
        if (nnrb == nrb && nrtc == rtc) {
            break;
        }
        nrb = nnrb;
        rtc = nrtc;
    }
    uint64_t total = 1 + rtc + nrb + l1c;
    uint8_t *img = calloc(total, cs);
    if (!img) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    uint8_t *h = img;
    put_be32(h, QCOW2_MAGIC);
    put_be32(h + 4, (uint32_t)version);
    put_be32(h + 20, cb);
    put_be64(h + 24, o->size);
    put_be32(h + 36, (uint32_t)l1_size);
    put_be64(h + 40, (1 + rtc + nrb) * cs);
    put_be64(h + 48, cs);
    put_be32(h + 56, (uint32_t)rtc);
    if (version == 3) {
        put_be32(h + 96, 4);
        put_be32(h + 100, hlen);
    }
    uint64_t pos = hlen;
    if (flen) {
        put_be32(h + pos, QCOW2_EXT_BACKING_FMT);
        put_be32(h + pos + 4, (uint32_t)flen);
        memcpy(h + pos + 8, o->backing_fmt, flen);
        pos += 8 + ((flen + 7) & ~7u);
    }
    pos += 8; /* end of extensions */
    if (blen) {
        memcpy(h + pos, o->backing, blen);
        put_be64(h + 8, pos);
        put_be32(h + 16, (uint32_t)blen);
    }
    for (uint64_t b = 0; b < nrb; b++) {
        put_be64(img + cs + b * 8, (1 + rtc + b) * cs);
    }
    for (uint64_t c = 0; c < total; c++) { /* 16-bit refcounts of 1 for the metadata */
        uint8_t *blk = img + (1 + rtc + c / rb_entries) * cs;
        blk[(c % rb_entries) * 2 + 1] = 1;
    }
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        free(img);
        return -errno;
    }
    int r = blk_full_pwrite(fd, img, total * cs, 0);
    if (r == 0 && fsync(fd) < 0) {
        r = -errno;
    }
    close(fd);
    free(img);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(-r));
    }
    return r;
}

/* --- info and check --- */

int qcow2_info(const char *file, BlockInfo *info, char *err, size_t errlen)
{
    Qcow2 *q = qcow2_load(file, true, 0, false, err, errlen);
    if (!q) {
        return -EINVAL;
    }
    snprintf(info->format, sizeof(info->format), "qcow2");
    info->virtual_size = q->size;
    info->qcow2_version = (int)q->version;
    info->cluster_size = (uint32_t)q->cluster_size;
    info->refcount_bits = (int)q->refcount_bits;
    snprintf(info->backing, sizeof(info->backing), "%s", q->backing_name);
    snprintf(info->backing_fmt, sizeof(info->backing_fmt), "%s", q->backing_fmt);
    info->nb_snapshots = q->nb_snapshots;
    info->dirty = (q->incompat & QCOW2_INCOMPAT_DIRTY) != 0;
    info->corrupt = (q->incompat & QCOW2_INCOMPAT_CORRUPT) != 0;
    info->compressed_zlib = true;
    qcow2_free(q);
    return 0;
}

typedef struct CheckCtx {
    Qcow2 *q;
    uint64_t nclusters; /* clusters the reference array covers */
    uint32_t *ref;      /* references found per host cluster */
    BlockCheck *res;
    FILE *rep;
} CheckCtx;

/* add_ref: count one reference to [off, off+len); off must lie in the file. */
static void add_ref(CheckCtx *c, uint64_t off, uint64_t len, const char *what)
{
    uint64_t first = off >> c->q->cluster_bits;
    uint64_t last = (off + len - 1) >> c->q->cluster_bits;
    for (uint64_t k = first; k <= last; k++) {
        if (k >= c->nclusters) {
            if (c->rep) {
                fprintf(c->rep,
                        "ERROR %s at offset 0x%" PRIx64 " is beyond the end of the "
                        "image file\n",
                        what, k << c->q->cluster_bits);
            }
            c->res->corruptions++;
            continue;
        }
        c->ref[k]++;
        uint64_t e = (k + 1) << c->q->cluster_bits;
        if (e > c->res->image_end) {
            c->res->image_end = e;
        }
    }
}

static bool check_offset(CheckCtx *c, uint64_t off, const char *what)
{
    if ((off & (c->q->cluster_size - 1)) || off < c->q->cluster_size) {
        if (c->rep) {
            fprintf(c->rep,
                    "ERROR %s offset=0x%" PRIx64 ": not cluster aligned or overlaps "
                    "the header\n",
                    what, off);
        }
        c->res->corruptions++;
        return false;
    }
    return true;
}

int qcow2_check(const char *file, BlockCheck *res, FILE *report, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    Qcow2 *q = qcow2_load(file, true, 0, false, err, errlen);
    if (!q) {
        return -EINVAL;
    }
    if (q->nb_snapshots) {
        snprintf(err, errlen, "%s: images with internal snapshots are not checked", file);
        qcow2_free(q);
        return -ENOTSUP;
    }
    CheckCtx c = {.q = q, .res = res, .rep = report};
    uint64_t cs = q->cluster_size;
    c.nclusters = q->file_end / cs;
    c.ref = calloc(c.nclusters ? c.nclusters : 1, sizeof(uint32_t));
    uint8_t *l2 = malloc(cs);
    if (!c.ref || !l2) {
        free(c.ref);
        free(l2);
        qcow2_free(q);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    res->total_clusters = (q->size + cs - 1) / cs;
    add_ref(&c, 0, cs, "header");
    if (q->l1_size) {
        add_ref(&c, q->l1_offset, (uint64_t)q->l1_size * 8, "L1 table");
    }
    add_ref(&c, q->rt_offset, (uint64_t)q->rt_clusters * cs, "refcount table");
    for (uint64_t i = 0; i < q->rt_entries; i++) {
        if (q->rt[i]) {
            add_ref(&c, q->rt[i], cs, "refcount block");
        }
    }
    /* Data clusters are counted after the L2 pass, as COPIED checks need the refcounts. */
    int r = 0;
    for (uint32_t i = 0; i < q->l1_size && r == 0; i++) {
        uint64_t l2off = q->l1[i] & L1E_OFFSET_MASK;
        if (!l2off || !check_offset(&c, l2off, "L2 table")) {
            continue;
        }
        add_ref(&c, l2off, cs, "L2 table");
        if (l2off >= q->file_end) {
            continue;
        }
        r = blk_full_pread(q->fd, l2, cs, l2off);
        for (uint64_t k = 0; r == 0 && k < q->l2_entries; k++) {
            uint64_t e = be64(l2 + k * 8);
            if (e & QCOW_OFLAG_COMPRESSED) {
                uint64_t off, len;
                compressed_span(q, e, &off, &len);
                add_ref(&c, off, len, "compressed cluster");
                res->allocated_clusters++;
                continue;
            }
            uint64_t off = e & L2E_OFFSET_MASK;
            if (off && check_offset(&c, off, "data cluster")) {
                add_ref(&c, off, cs, "data cluster");
            }
            if (off || (q->version >= 3 && (e & 1))) {
                res->allocated_clusters++;
            }
        }
    }
    /* Compare with the stored refcounts, including the COPIED flags. */
    /* Like qemu-img, only clusters inside the file are compared: refcounts past its end
     * (clusters reserved by a writer that was killed before using them) are invisible. */
    uint64_t limit = c.nclusters;
    for (uint64_t k = 0; k < limit && r == 0; k++) {
        uint64_t rc = 0;
        if (k / q->rb_entries < q->rt_entries && q->rt[k / q->rb_entries] &&
            q->rt[k / q->rb_entries] >= q->file_end) {
            rc = 0; /* block beyond the end of the file: reported above */
        } else {
            r = get_refcount(q, k, &rc);
            if (r < 0) {
                break;
            }
        }
        uint64_t found = k < c.nclusters ? c.ref[k] : 0;
        if (rc == found) {
            continue;
        }
        if (rc > found) { /* as qemu-img counts it: a leak, even when partly referenced */
            if (report) {
                fprintf(report,
                        "Leaked cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
                        k, rc, found);
            }
            res->leaks++;
        } else {
            if (report) {
                fprintf(report,
                        "ERROR cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
                        k, rc, found);
            }
            res->corruptions++;
        }
    }
    /* COPIED flags: set exactly when the refcount is 1. */
    for (uint32_t i = 0; i < q->l1_size && r == 0; i++) {
        uint64_t l2off = q->l1[i] & L1E_OFFSET_MASK;
        if (!l2off || (l2off & (cs - 1)) || l2off < cs || l2off >= q->file_end) {
            continue;
        }
        uint64_t rc = 0;
        r = get_refcount(q, l2off / cs, &rc);
        if (r == 0 && ((rc == 1) != ((q->l1[i] & QCOW_OFLAG_COPIED) != 0))) {
            if (report) {
                fprintf(report,
                        "ERROR OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%" PRIx64
                        " refcount=%" PRIu64 "\n",
                        i, q->l1[i], rc);
            }
            res->corruptions++;
        }
        if (r == 0) {
            r = blk_full_pread(q->fd, l2, cs, l2off);
        }
        for (uint64_t k = 0; r == 0 && k < q->l2_entries; k++) {
            uint64_t e = be64(l2 + k * 8);
            uint64_t off = e & L2E_OFFSET_MASK;
            if ((e & QCOW_OFLAG_COMPRESSED) || !off || (off & (cs - 1)) || off >= q->file_end) {
                continue;
            }
            r = get_refcount(q, off / cs, &rc);
            if (r == 0 && ((rc == 1) != ((e & QCOW_OFLAG_COPIED) != 0))) {
                if (report) {
                    fprintf(report,
                            "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64
                            " refcount=%" PRIu64 "\n",
                            e, rc);
                }
                res->corruptions++;
            }
        }
    }
    free(l2);
    free(c.ref);
    qcow2_free(q);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(-r));
    }
    return r;
}
