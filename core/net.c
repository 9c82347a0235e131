/* net.c: NetBackend plumbing (delivery, bounded receive FIFO, tap) and NIC helper functions. */
#include "core/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void net_backend_init(NetBackend *be, const char *id, const NetBackendOps *ops, void *opaque)
{
    memset(be, 0, sizeof(*be));
    snprintf(be->id, sizeof(be->id), "%s", id ? id : "");
    be->ops = ops;
    be->opaque = opaque;
}

static void net_queue_flush(NetBackend *be)
{
    NetQueued *q = be->q_head;
    while (q) {
        NetQueued *n = q->next;
        free(q);
        q = n;
    }
    be->q_head = be->q_tail = NULL;
    be->q_frames = 0;
    be->q_bytes = 0;
}

void net_backend_cleanup(NetBackend *be)
{
    if (!be) {
        return;
    }
    net_queue_flush(be);
    if (be->ops && be->ops->close) {
        be->ops->close(be);
    }
}

void net_attach_nic(NetBackend *be, const NetNIC *nic)
{
    if (!be) {
        return;
    }
    if (nic) {
        be->nic = *nic;
    } else {
        memset(&be->nic, 0, sizeof(be->nic));
    }
}

void net_set_tap(NetBackend *be, NetTapFn fn, void *opaque)
{
    be->tap = fn;
    be->tap_opaque = opaque;
}

void net_send(NetBackend *be, const uint8_t *frame, size_t len)
{
    if (!be || len == 0 || len > NET_MAX_FRAME) {
        return;
    }
    be->tx_frames++;
    if (be->tap) {
        be->tap(be->tap_opaque, NET_DIR_TX, frame, len);
    }
    if (be->ops && be->ops->send) {
        be->ops->send(be, frame, len);
    }
}

/* Hand one frame to the NIC; true if it took it. */
static bool net_deliver(NetBackend *be, const uint8_t *frame, size_t len)
{
    if (!be->nic.receive) {
        return true; /* no NIC: the wire ends here */
    }
    if (be->nic.can_receive && !be->nic.can_receive(be->nic.opaque)) {
        return false;
    }
    if (!be->nic.receive(be->nic.opaque, frame, len)) {
        return false;
    }
    be->rx_frames++;
    if (be->tap) {
        be->tap(be->tap_opaque, NET_DIR_RX, frame, len);
    }
    return true;
}

bool net_receive(NetBackend *be, const uint8_t *frame, size_t len)
{
    if (!be || len == 0 || len > NET_MAX_FRAME) {
        return false;
    }
    if (!be->q_head && !be->draining && net_deliver(be, frame, len)) {
        return true;
    }
    if (be->q_frames >= NET_QUEUE_MAX_FRAMES || be->q_bytes + len > NET_QUEUE_MAX_BYTES) {
        be->rx_dropped++;
        return false;
    }
    NetQueued *q = malloc(sizeof(*q) + len);
    if (!q) {
        be->rx_dropped++;
        return false;
    }
    q->next = NULL;
    q->len = len;
    memcpy(q->data, frame, len);
    if (be->q_tail) {
        be->q_tail->next = q;
    } else {
        be->q_head = q;
    }
    be->q_tail = q;
    be->q_frames++;
    be->q_bytes += len;
    return true;
}

void net_rx_ready(NetBackend *be)
{
    if (!be || be->draining) {
        return;
    }
    be->draining = true;
    while (be->q_head) {
        NetQueued *q = be->q_head;
        if (!net_deliver(be, q->data, q->len)) {
            break;
        }
        be->q_head = q->next;
        if (!be->q_head) {
            be->q_tail = NULL;
        }
        be->q_frames--;
        be->q_bytes -= q->len;
        free(q);
    }
    be->draining = false;
}

unsigned net_queued_frames(const NetBackend *be)
{
    return be ? be->q_frames : 0;
}

/* --- helpers --- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t out[6];
    if (!s || strlen(s) != 17) {
        return -EINVAL;
    }
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0) {
            return -EINVAL;
        }
        if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-') {
            return -EINVAL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (out[0] & 1) {
        return -EINVAL;
    }
    memcpy(mac, out, 6);
    return 0;
}

void net_default_mac(unsigned index, uint8_t mac[6])
{
    static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(base[5] + index);
}

void net_format_mac(const uint8_t mac[6], char *buf, size_t len)
{
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

/* The byte-at-a-time table of the reflected CRC-32, computed by the preprocessor: entry n is
 * n pushed through eight shift/xor rounds. */
#define CRC_R(c) (((c) >> 1) ^ (0xEDB88320u & (0u - ((c)&1u))))
#define CRC_T(n) CRC_R(CRC_R(CRC_R(CRC_R(CRC_R(CRC_R(CRC_R(CRC_R((uint32_t)(n)))))))))
#define CRC_T4(n) CRC_T(n), CRC_T((n) + 1), CRC_T((n) + 2), CRC_T((n) + 3)
#define CRC_T16(n) CRC_T4(n), CRC_T4((n) + 4), CRC_T4((n) + 8), CRC_T4((n) + 12)
#define CRC_T64(n) CRC_T16(n), CRC_T16((n) + 16), CRC_T16((n) + 32), CRC_T16((n) + 48)

static const uint32_t crc32_table[256] = {
    CRC_T64(0),
    CRC_T64(64),
    CRC_T64(128),
    CRC_T64(192),
};

uint32_t net_crc32_le(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc = (crc >> 8) ^ crc32_table[(crc ^ p[i]) & 0xFF];
    }
    return ~crc;
}

uint32_t net_crc32_be(const uint8_t *p, size_t len)
{
    /* Bits enter LSB first (the wire order), the register shifts left (DP8390 datasheet,
     * "Multicast Address Registers"). */
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        uint8_t byte = p[i];
        for (int b = 0; b < 8; b++) {
            uint32_t in = (byte >> b) & 1;
            uint32_t top = crc >> 31;
            crc <<= 1;
            if (top ^ in) {
                crc ^= 0x04C11DB7u;
            }
        }
    }
    return crc;
}

uint32_t net_checksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
        if (sum & 0x80000000u) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
    }
    if (i < len) {
        sum += (uint32_t)p[i] << 8;
    }
    return sum;
}

uint16_t net_checksum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return (uint16_t)~sum;
}
