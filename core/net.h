/* net.h: NetBackend, the link between a NIC model and a host network backend (slirp, a test
 * loopback), with receive backpressure, a bounded receive queue and a frame tap (pcap dump).
 *
 * Directions: the guest transmits with net_send() (NIC -> backend ops->send); the backend hands
 * a frame for the guest to net_receive(), which delivers it at once when the NIC's
 * can_receive() says yes, and otherwise keeps it in a bounded FIFO. The NIC calls
 * net_rx_ready() when room appears (the guest freed ring space) to drain that FIFO. */
#ifndef ANYVM_CORE_NET_H
#define ANYVM_CORE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_FRAME 65536      /* largest frame either side accepts (TSO is cut before) */
#define NET_QUEUE_MAX_FRAMES 256 /* receive FIFO bound while the NIC is full */
#define NET_QUEUE_MAX_BYTES (1u << 20)

typedef struct NetBackend NetBackend;

/* NetNIC: the callbacks a NIC model registers. receive returns true if the frame was taken
 * (stored or deliberately filtered out), false if the NIC has no room (the frame is queued). */
typedef struct NetNIC {
    bool (*can_receive)(void *opaque);
    bool (*receive)(void *opaque, const uint8_t *frame, size_t len);
    void *opaque;
} NetNIC;

/* NetBackendOps: what a host backend implements. send gets a guest frame (the buffer belongs
 * to the caller). close releases the backend's own state (net_backend_free calls it). */
typedef struct NetBackendOps {
    void (*send)(NetBackend *be, const uint8_t *frame, size_t len);
    void (*close)(NetBackend *be);
} NetBackendOps;

/* Direction of a frame seen by the tap. */
enum { NET_DIR_TX = 0, NET_DIR_RX = 1 };

typedef void (*NetTapFn)(void *opaque, int dir, const uint8_t *frame, size_t len);

typedef struct NetQueued {
    struct NetQueued *next;
    size_t len;
    uint8_t data[];
} NetQueued;

/* NetBackend: embedded in (or allocated by) a host backend. */
struct NetBackend {
    char id[32];
    const NetBackendOps *ops;
    void *opaque; /* the backend's own state */
    NetNIC nic;   /* set by net_attach_nic; nic.receive NULL = no NIC */
    NetTapFn tap; /* optional observer of both directions (pcap dump) */
    void *tap_opaque;
    NetQueued *q_head, *q_tail;
    unsigned q_frames;
    size_t q_bytes;
    uint64_t tx_frames, rx_frames, rx_dropped;
    bool draining; /* re-entrancy guard for net_rx_ready */
};

/* net_backend_init: fill be (id copied, truncated) with ops and opaque; no NIC yet. */
void net_backend_init(NetBackend *be, const char *id, const NetBackendOps *ops, void *opaque);

/* net_backend_cleanup: drop queued frames and call ops->close. be itself is the caller's. */
void net_backend_cleanup(NetBackend *be);

/* net_attach_nic: connect a NIC model; replaces any previous one. be may be NULL (a NIC with
 * no backend: its frames go nowhere). */
void net_attach_nic(NetBackend *be, const NetNIC *nic);

/* net_set_tap: observe every frame in both directions (NULL fn removes the tap). */
void net_set_tap(NetBackend *be, NetTapFn fn, void *opaque);

/* net_send: the NIC transmits a frame (len bounded by NET_MAX_FRAME). be may be NULL. */
void net_send(NetBackend *be, const uint8_t *frame, size_t len);

/* net_receive: the backend has a frame for the guest. Delivered now when the FIFO is empty and
 * the NIC can receive, else queued (dropped when the FIFO is full). Returns true if delivered
 * or queued, false if dropped. */
bool net_receive(NetBackend *be, const uint8_t *frame, size_t len);

/* net_rx_ready: the NIC has room again; deliver queued frames while it accepts them. */
void net_rx_ready(NetBackend *be);

/* net_queued_frames: frames waiting for the NIC. */
unsigned net_queued_frames(const NetBackend *be);

/* --- NIC-side helpers --- */

/* NICConf: what a NIC model is created with: its MAC and the backend (NULL = unconnected). */
typedef struct NICConf {
    uint8_t mac[6];
    NetBackend *backend;
} NICConf;

/* net_parse_mac: "52:54:00:12:34:56" (or with '-') into mac. Returns 0 or -EINVAL; a
 * multicast address (bit 0 of the first byte) is rejected. */
int net_parse_mac(const char *s, uint8_t mac[6]) __attribute__((warn_unused_result));

/* net_default_mac: QEMU's default 52:54:00:12:34:56, plus index in the last byte. */
void net_default_mac(unsigned index, uint8_t mac[6]);

/* net_format_mac: "xx:xx:xx:xx:xx:xx" into buf (at least 18 bytes). */
void net_format_mac(const uint8_t mac[6], char *buf, size_t len);

/* net_crc32_le: the Ethernet FCS CRC (reflected 0xEDB88320, init and final xor all-ones). */
uint32_t net_crc32_le(const uint8_t *p, size_t len);

/* net_crc32_be: the same polynomial computed MSB first without reflection and without final
 * inversion, as the DP8390 multicast hash uses (its top 6 bits index MAR0-7). */
uint32_t net_crc32_be(const uint8_t *p, size_t len);

/* net_checksum_add: add len bytes as big-endian 16-bit words to a one's complement sum (an odd
 * tail is padded with zero). net_checksum_fold: fold and complement into the final field. */
uint32_t net_checksum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t net_checksum_fold(uint32_t sum);

#endif
