/* net_harness.h: a recording NetBackend and a PCI bus with an INTx recorder for the NIC
 * device tests (tests/devices/test_ne2000.c, test_e1000.c). */
#ifndef ANYVM_TESTS_NET_HARNESS_H
#define ANYVM_TESTS_NET_HARNESS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/net.h"
#include "devices/pci.h"
#include "chipset_harness.h"

#define NH_MAX_FRAMES 64

/* TestNet: a backend that keeps the last NH_MAX_FRAMES frames the NIC sent (a ring, so long
 * throughput runs stay bounded) and counts all of them. */
typedef struct TestNet {
    NetBackend be;
    struct {
        uint8_t data[NET_MAX_FRAME];
        size_t len;
    } * frames;
    unsigned n_sent; /* total frames sent */
    int pirq_level[4];
    int pirq_rises[4];
} TestNet;

static inline void nh_send(NetBackend *be, const uint8_t *frame, size_t len)
{
    TestNet *t = be->opaque;
    unsigned slot = t->n_sent % NH_MAX_FRAMES;
    memcpy(t->frames[slot].data, frame, len);
    t->frames[slot].len = len;
    t->n_sent++;
}

static const NetBackendOps nh_ops = {.send = nh_send};

static inline void nh_pirq(void *opaque, int pirq, int level)
{
    TestNet *t = opaque;
    if (pirq >= 0 && pirq < 4) {
        if (level && !t->pirq_level[pirq]) {
            t->pirq_rises[pirq]++;
        }
        t->pirq_level[pirq] = level;
    }
}

static inline TestNet *nh_new(void)
{
    TestNet *t = calloc(1, sizeof(*t));
    cr_assert_not_null(t);
    t->frames = calloc(NH_MAX_FRAMES, sizeof(*t->frames));
    cr_assert_not_null(t->frames);
    net_backend_init(&t->be, "test", &nh_ops, t);
    return t;
}

static inline void nh_free(TestNet *t)
{
    net_backend_cleanup(&t->be);
    free(t->frames);
    free(t);
}

/* The i-th frame sent (0 = first); only the last NH_MAX_FRAMES are kept. */
static inline const uint8_t *nh_frame(TestNet *t, unsigned i, size_t *len)
{
    cr_assert(i < t->n_sent && i + NH_MAX_FRAMES >= t->n_sent, "frame %u not kept", i);
    *len = t->frames[i % NH_MAX_FRAMES].len;
    return t->frames[i % NH_MAX_FRAMES].data;
}

/* Build a frame: dst, src, ethertype, then payload bytes pattern (seed + i). */
static inline size_t nh_make_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6],
                                   uint16_t type, size_t payload, uint8_t seed)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = (uint8_t)(type >> 8);
    buf[13] = (uint8_t)type;
    for (size_t i = 0; i < payload; i++) {
        buf[14 + i] = (uint8_t)(seed + i);
    }
    return 14 + payload;
}

static inline double nh_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
