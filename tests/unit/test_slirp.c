/* test_slirp.c: -netdev user through its NetBackend with a fake guest written here: DHCP
 * DISCOVER/REQUEST get OFFER/ACK, a host TCP client reaches a guest responder through
 * hostfwd, restrict=on keeps the guest away from the host, and the pcap dump is valid. All
 * sockets are on 127.0.0.1 and every wait is bounded. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/net.h"
#include "frontend/net.h"
#include "frontend/net_slirp.h"

#define MAX_RX 256

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t bcast_mac[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/* The fake guest: frames slirp sent, a tiny ARP/TCP responder. */
typedef struct Guest {
    Machine *m;
    NetSlirp *ns;
    NetBackend *be;
    struct {
        uint8_t data[2048];
        size_t len;
    } rx[MAX_RX];
    unsigned n_rx;   /* frames received in total */
    unsigned n_seen; /* frames the responder has looked at */
    uint8_t gw_mac[6];
    uint32_t ip; /* host order */
    /* TCP responder on port 8080. */
    bool syn_seen, established, fin_seen;
    uint32_t snd_nxt, rcv_nxt;
    uint16_t peer_port;
    uint32_t peer_ip;
    char got[256];
    size_t got_len;
    bool replied;
    /* Outgoing connection (restrict tests): SYN sent, what came back. */
    bool rst_seen, synack_seen;
} Guest;

static bool g_can_receive(void *opaque)
{
    return true;
}

static bool g_receive(void *opaque, const uint8_t *frame, size_t len)
{
    Guest *g = opaque;
    if (len > sizeof(g->rx[0].data)) {
        return true;
    }
    unsigned slot = g->n_rx % MAX_RX;
    memcpy(g->rx[slot].data, frame, len);
    g->rx[slot].len = len;
    g->n_rx++;
    memcpy(g->gw_mac, frame + 6, 6);
    return true;
}

static Machine *host_machine(void)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    strcpy(cfg.display, "none");
    char err[256] = "";
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "machine_new: %s", err);
    clock_start(&m->clock);
    return m;
}

static void guest_init(Guest *g, const char *spec)
{
    memset(g, 0, sizeof(*g));
    g->m = host_machine();
    NetSlirpConfig sc;
    char err[256];
    cr_assert_eq(net_slirp_parse(spec, &sc, err, sizeof(err)), 0, "%s", err);
    g->ns = net_slirp_new(g->m, &sc, err, sizeof(err));
    cr_assert_not_null(g->ns, "%s", err);
    g->be = net_slirp_backend(g->ns);
    NetNIC nic = {.can_receive = g_can_receive, .receive = g_receive, .opaque = g};
    net_attach_nic(g->be, &nic);
    g->ip = 0x0A00020F; /* 10.0.2.15 */
    g->snd_nxt = 1000;
}

static void guest_fini(Guest *g)
{
    net_slirp_free(g->ns);
    machine_free(g->m);
}

/* One turn of the machine loop: host sockets (up to wait_ms), then due timers. */
static void pump(Guest *g, int wait_ms)
{
    machine_poll(g->m, (int64_t)wait_ms * 1000000);
    clock_run_timers(&g->m->clock);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Ethernet + IPv4 header (20 bytes) for an l4len-byte payload; returns the payload pointer. */
static uint8_t *ip_frame(uint8_t *f, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                         uint8_t proto, size_t l4len)
{
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + l4len));
    put16(ip + 4, 0x4242);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, net_checksum_fold(net_checksum_add(0, ip, 20)));
    return ip + 20;
}

static uint16_t l4_csum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *l4, size_t len)
{
    uint8_t ph[12];
    put32(ph, src);
    put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)len);
    return net_checksum_fold(net_checksum_add(net_checksum_add(0, ph, 12), l4, len));
}

/* --- DHCP --- */

static size_t dhcp_frame(uint8_t *f, uint8_t type, uint32_t req_ip, uint32_t server)
{
    const size_t bootp_len = 236 + 312; /* fixed part + the 312-byte options area */
    uint8_t *udp = ip_frame(f, bcast_mac, 0, 0xFFFFFFFF, 17, 8 + bootp_len);
    memset(udp, 0, 8 + bootp_len);
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, (uint16_t)(8 + bootp_len));
    uint8_t *bp = udp + 8;
    bp[0] = 1; /* BOOTREQUEST */
    bp[1] = 1;
    bp[2] = 6;
    put32(bp + 4, 0x12345678); /* xid */
    put16(bp + 10, 0x8000);    /* broadcast reply */
    memcpy(bp + 28, guest_mac, 6);
    uint8_t *o = bp + 236;
    put32(o, 0x63825363); /* magic cookie */
    o += 4;
    *o++ = 53;
    *o++ = 1;
    *o++ = type;
    if (req_ip) {
        *o++ = 50;
        *o++ = 4;
        put32(o, req_ip);
        o += 4;
    }
    if (server) {
        *o++ = 54;
        *o++ = 4;
        put32(o, server);
        o += 4;
    }
    *o++ = 255;
    return 14 + 20 + 8 + bootp_len;
}

/* Find a DHCP reply among the received frames; returns its BOOTP part or NULL. */
static const uint8_t *find_dhcp(Guest *g, unsigned from, uint8_t want_type, size_t *bplen)
{
    for (unsigned i = from; i < g->n_rx; i++) {
        const uint8_t *f = g->rx[i % MAX_RX].data;
        size_t len = g->rx[i % MAX_RX].len;
        if (len < 14 + 20 + 8 + 240 || get16(f + 12) != 0x0800 || f[23] != 17) {
            continue;
        }
        const uint8_t *udp = f + 14 + (f[14] & 0xF) * 4;
        if (get16(udp) != 67 || get16(udp + 2) != 68) {
            continue;
        }
        const uint8_t *bp = udp + 8;
        size_t n = len - (size_t)(bp - f);
        const uint8_t *o = bp + 240;
        while (o + 2 <= bp + n && *o != 255) {
            if (*o == 0) {
                o++;
                continue;
            }
            if (o[0] == 53 && o[1] == 1 && o[2] == want_type) {
                *bplen = n;
                return bp;
            }
            o += 2 + o[1];
        }
    }
    return NULL;
}

/* The value of DHCP option code in a BOOTP reply (4-byte options), or 0. */
static uint32_t dhcp_opt32(const uint8_t *bp, size_t n, uint8_t code)
{
    const uint8_t *o = bp + 240;
    while (o + 2 <= bp + n && *o != 255) {
        if (*o == 0) {
            o++;
            continue;
        }
        if (o[0] == code && o[1] >= 4 && o + 6 <= bp + n) {
            return get32(o + 2);
        }
        o += 2 + o[1];
    }
    return 0;
}

Test(slirp, dhcp_discover_gets_an_offer_and_request_gets_an_ack)
{
    Guest g;
    guest_init(&g, "user,id=n0");
    uint8_t f[1024];
    size_t len = dhcp_frame(f, 1, 0, 0);
    net_send(g.be, f, len);
    const uint8_t *bp = NULL;
    size_t n = 0;
    for (int i = 0; i < 50 && !(bp = find_dhcp(&g, 0, 2, &n)); i++) {
        pump(&g, 10);
    }
    cr_assert_not_null(bp, "DHCPOFFER");
    cr_assert_eq(bp[0], 2, "BOOTREPLY");
    cr_assert_eq(get32(bp + 4), 0x12345678, "xid echoed");
    cr_assert_eq(get32(bp + 16), 0x0A00020F, "yiaddr 10.0.2.15");
    cr_assert_arr_eq(bp + 28, guest_mac, 6);
    cr_assert_eq(dhcp_opt32(bp, n, 54), 0x0A000202, "server id 10.0.2.2");
    cr_assert_eq(dhcp_opt32(bp, n, 3), 0x0A000202, "router 10.0.2.2");
    cr_assert_eq(dhcp_opt32(bp, n, 6), 0x0A000203, "DNS 10.0.2.3");
    cr_assert_eq(dhcp_opt32(bp, n, 1), 0xFFFFFF00, "netmask /24");

    unsigned mark = g.n_rx;
    len = dhcp_frame(f, 3, 0x0A00020F, 0x0A000202);
    net_send(g.be, f, len);
    bp = NULL;
    for (int i = 0; i < 50 && !(bp = find_dhcp(&g, mark, 5, &n)); i++) {
        pump(&g, 10);
    }
    cr_assert_not_null(bp, "DHCPACK");
    cr_assert_eq(get32(bp + 16), 0x0A00020F);
    cr_assert_gt(dhcp_opt32(bp, n, 51), 0, "a lease time");
    guest_fini(&g);
}

Test(slirp, custom_network_addresses_are_used_by_dhcp)
{
    Guest g;
    guest_init(&g, "user,id=n0,net=192.168.76.0/24,host=192.168.76.1,dns=192.168.76.53,"
                   "dhcpstart=192.168.76.100");
    uint8_t f[1024];
    size_t len = dhcp_frame(f, 1, 0, 0);
    net_send(g.be, f, len);
    const uint8_t *bp = NULL;
    size_t n = 0;
    for (int i = 0; i < 50 && !(bp = find_dhcp(&g, 0, 2, &n)); i++) {
        pump(&g, 10);
    }
    cr_assert_not_null(bp);
    cr_assert_eq(get32(bp + 16), 0xC0A84C64);
    cr_assert_eq(dhcp_opt32(bp, n, 3), 0xC0A84C01);
    cr_assert_eq(dhcp_opt32(bp, n, 6), 0xC0A84C35);
    guest_fini(&g);
}

/* --- the TCP responder --- */

static void send_tcp(Guest *g, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
                     uint32_t ack, uint8_t flags, const void *data, size_t dlen)
{
    uint8_t f[1600];
    uint8_t *tcp = ip_frame(f, g->gw_mac, g->ip, dst, 6, 20 + dlen);
    memset(tcp, 0, 20);
    put16(tcp, sport);
    put16(tcp + 2, dport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 0x50;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (dlen) {
        memcpy(tcp + 20, data, dlen);
    }
    put16(tcp + 16, l4_csum(g->ip, dst, 6, tcp, 20 + dlen));
    net_send(g->be, f, 14 + 20 + 20 + dlen);
}

static void answer_arp(Guest *g, const uint8_t *f, size_t len)
{
    if (len < 42 || get16(f + 20) != 1 || get32(f + 38) != g->ip) {
        return;
    }
    uint8_t r[60];
    memset(r, 0, sizeof(r));
    memcpy(r, f + 6, 6);
    memcpy(r + 6, guest_mac, 6);
    put16(r + 12, 0x0806);
    put16(r + 14, 1);
    put16(r + 16, 0x0800);
    r[18] = 6;
    r[19] = 4;
    put16(r + 20, 2);
    memcpy(r + 22, guest_mac, 6);
    put32(r + 28, g->ip);
    memcpy(r + 32, f + 22, 6);
    memcpy(r + 38, f + 28, 4);
    net_send(g->be, r, sizeof(r));
}

/* Look at new frames: answer ARP, run the port-8080 responder ("ping" -> "pong:ping"). */
static void guest_step(Guest *g)
{
    while (g->n_seen < g->n_rx) {
        const uint8_t *f = g->rx[g->n_seen % MAX_RX].data;
        size_t len = g->rx[g->n_seen % MAX_RX].len;
        g->n_seen++;
        if (len >= 42 && get16(f + 12) == 0x0806) {
            answer_arp(g, f, len);
            continue;
        }
        if (len < 54 || get16(f + 12) != 0x0800 || f[23] != 6) {
            continue;
        }
        const uint8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 0xF) * 4;
        size_t tot = get16(ip + 2);
        const uint8_t *tcp = ip + ihl;
        size_t thl = (size_t)(tcp[12] >> 4) * 4;
        if (tot < ihl + thl || 14 + tot > len) {
            continue;
        }
        cr_assert_eq(l4_csum(get32(ip + 12), get32(ip + 16), 6, tcp, tot - ihl), 0,
                     "slirp's TCP checksum");
        uint32_t src = get32(ip + 12);
        uint16_t sport = get16(tcp), dport = get16(tcp + 2);
        uint32_t seq = get32(tcp + 4);
        uint8_t flags = tcp[13];
        const uint8_t *data = tcp + thl;
        size_t dlen = tot - ihl - thl;
        if (flags & 0x04) {
            g->rst_seen = true;
            continue;
        }
        if (dport != 8080) {
            if ((flags & 0x12) == 0x12) {
                g->synack_seen = true;
            }
            continue;
        }
        if (flags & 0x02) { /* SYN: answer SYN+ACK */
            g->syn_seen = true;
            g->peer_ip = src;
            g->peer_port = sport;
            g->rcv_nxt = seq + 1;
            send_tcp(g, src, 8080, sport, g->snd_nxt, g->rcv_nxt, 0x12, NULL, 0);
            g->snd_nxt++;
            continue;
        }
        if (flags & 0x10) {
            g->established = true;
        }
        if (dlen && seq == g->rcv_nxt && g->got_len + dlen < sizeof(g->got)) {
            memcpy(g->got + g->got_len, data, dlen);
            g->got_len += dlen;
            g->rcv_nxt += (uint32_t)dlen;
            send_tcp(g, src, 8080, sport, g->snd_nxt, g->rcv_nxt, 0x10, NULL, 0);
            if (!g->replied && g->got_len >= 4) {
                char reply[300];
                int rl = snprintf(reply, sizeof(reply), "pong:%.*s", (int)g->got_len, g->got);
                send_tcp(g, src, 8080, sport, g->snd_nxt, g->rcv_nxt, 0x18, reply, (size_t)rl);
                g->snd_nxt += (uint32_t)rl;
                g->replied = true;
            }
        }
        if (flags & 0x01) {
            g->fin_seen = true;
            g->rcv_nxt++;
            send_tcp(g, src, 8080, sport, g->snd_nxt, g->rcv_nxt, 0x11, NULL, 0);
            g->snd_nxt++;
        }
    }
}

/* A free TCP port on 127.0.0.1 (bound and released). */
static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    return ntohs(a.sin_port);
}

Test(slirp, hostfwd_carries_a_host_tcp_connection_to_the_guest_and_back)
{
    uint16_t port = free_port();
    char spec[128];
    snprintf(spec, sizeof(spec), "user,id=n0,hostfwd=tcp:127.0.0.1:%u-:8080", port);
    Guest g;
    guest_init(&g, spec);
    /* slirp learns the guest's MAC from its DHCP exchange, as with a real guest. */
    uint8_t f[1024];
    net_send(g.be, f, dhcp_frame(f, 1, 0, 0));
    net_send(g.be, f, dhcp_frame(f, 3, 0x0A00020F, 0x0A000202));

    int c = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(c, 0);
    fcntl(c, F_SETFL, O_NONBLOCK);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int r = connect(c, (struct sockaddr *)&a, sizeof(a));
    cr_assert(r == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
    bool sent = false;
    char buf[64];
    size_t got = 0;
    for (int i = 0; i < 500 && got < 9; i++) {
        pump(&g, 10);
        guest_step(&g);
        if (!sent && g.established) {
            struct pollfd p = {.fd = c, .events = POLLOUT};
            if (poll(&p, 1, 0) == 1 && write(c, "ping", 4) == 4) {
                sent = true;
            }
        }
        ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
        if (n > 0) {
            got += (size_t)n;
        }
    }
    cr_assert(g.syn_seen, "the guest saw the forwarded SYN");
    cr_assert_eq(g.peer_ip, 0x0A000202, "from the virtual host address");
    cr_assert(sent, "connection established from the host side");
    cr_assert_eq(got, 9, "reply length");
    buf[got] = '\0';
    cr_assert_str_eq(buf, "pong:ping");
    cr_assert_eq(g.got_len, 4);
    cr_assert_eq(memcmp(g.got, "ping", 4), 0);
    close(c);
    for (int i = 0; i < 100 && !g.fin_seen; i++) {
        pump(&g, 10);
        guest_step(&g);
    }
    cr_assert(g.fin_seen, "the host's close reaches the guest as FIN");
    guest_fini(&g);
}

/* The guest opens a connection to the host's loopback through 10.0.2.2; returns whether the
 * host listener accepted it. */
static bool guest_reaches_host(const char *extra, Guest *g)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(l, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &al), 0);
    cr_assert_eq(listen(l, 1), 0);
    fcntl(l, F_SETFL, O_NONBLOCK);
    char spec[128];
    snprintf(spec, sizeof(spec), "user,id=n0%s", extra);
    guest_init(g, spec);
    uint8_t f[1024];
    net_send(g->be, f, dhcp_frame(f, 1, 0, 0));
    pump(g, 1);
    guest_step(g);
    send_tcp(g, 0x0A000202, 40000, ntohs(a.sin_port), 5000, 0, 0x02, NULL, 0);
    bool accepted = false;
    for (int i = 0; i < 100 && !accepted && !g->rst_seen; i++) {
        pump(g, 10);
        guest_step(g);
        int s = accept(l, NULL, NULL);
        if (s >= 0) {
            accepted = true;
            close(s);
        }
    }
    close(l);
    return accepted;
}

Test(slirp, restrict_off_lets_the_guest_reach_the_host)
{
    Guest g;
    cr_assert(guest_reaches_host("", &g), "10.0.2.2 is the host's loopback");
    cr_assert(g.synack_seen, "and the guest gets SYN+ACK");
    guest_fini(&g);
}

Test(slirp, restrict_on_isolates_the_guest_from_the_host)
{
    Guest g;
    cr_assert_not(guest_reaches_host(",restrict=on", &g), "no connection to the host");
    cr_assert_not(g.synack_seen);
    guest_fini(&g);
}

Test(slirp, filter_dump_writes_a_valid_pcap_of_both_directions)
{
    Guest g;
    guest_init(&g, "user,id=n0");
    char path[] = "/tmp/anyvm-pcap-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char err[256];
    NetPcap *p = net_pcap_open(g.be, path, 65536, err, sizeof(err));
    cr_assert_not_null(p, "%s", err);
    uint8_t f[1024];
    size_t len = dhcp_frame(f, 1, 0, 0);
    net_send(g.be, f, len);
    size_t n;
    for (int i = 0; i < 50 && !find_dhcp(&g, 0, 2, &n); i++) {
        pump(&g, 10);
    }
    net_pcap_close(p);
    FILE *in = fopen(path, "rb");
    cr_assert_not_null(in);
    uint8_t hdr[24];
    cr_assert_eq(fread(hdr, 1, 24, in), 24);
    uint32_t magic, snap, link;
    uint16_t major, minor;
    memcpy(&magic, hdr, 4);
    memcpy(&major, hdr + 4, 2);
    memcpy(&minor, hdr + 6, 2);
    memcpy(&snap, hdr + 16, 4);
    memcpy(&link, hdr + 20, 4);
    cr_assert_eq(magic, 0xA1B2C3D4u);
    cr_assert_eq(major, 2);
    cr_assert_eq(minor, 4);
    cr_assert_eq(snap, 65536);
    cr_assert_eq(link, 1, "LINKTYPE_ETHERNET");
    int records = 0;
    bool saw_discover = false;
    uint8_t rec[16], data[2048];
    while (fread(rec, 1, 16, in) == 16) {
        uint32_t incl, orig;
        memcpy(&incl, rec + 8, 4);
        memcpy(&orig, rec + 12, 4);
        cr_assert_eq(incl, orig);
        cr_assert_leq(incl, sizeof(data));
        cr_assert_eq(fread(data, 1, incl, in), incl);
        if (incl == len && !memcmp(data, f, len)) {
            saw_discover = true;
        }
        records++;
    }
    fclose(in);
    unlink(path);
    cr_assert(saw_discover, "the guest's DISCOVER is in the capture");
    cr_assert_geq(records, 2, "and slirp's OFFER");
    guest_fini(&g);
}

Test(slirp, hostfwd_rules_parse_as_qemu_spells_them)
{
    NetSlirpFwd fw;
    cr_assert_eq(net_slirp_parse_hostfwd("tcp::5555-:22", &fw), 0);
    cr_assert_not(fw.udp);
    cr_assert_eq(fw.host_port, 5555);
    cr_assert_eq(fw.host_addr.s_addr, htonl(INADDR_ANY));
    cr_assert_eq(fw.guest_port, 22);
    cr_assert_eq(fw.guest_addr.s_addr, 0);
    cr_assert_eq(net_slirp_parse_hostfwd("udp:127.0.0.1:6000-10.0.2.20:7000", &fw), 0);
    cr_assert(fw.udp);
    cr_assert_eq(fw.host_addr.s_addr, htonl(0x7F000001));
    cr_assert_eq(fw.guest_addr.s_addr, htonl(0x0A000214));
    cr_assert_eq(fw.guest_port, 7000);
    cr_assert_neq(net_slirp_parse_hostfwd("tcp:5555-22", &fw), 0);
    cr_assert_neq(net_slirp_parse_hostfwd("sctp::1-:2", &fw), 0);
    cr_assert_neq(net_slirp_parse_hostfwd("tcp::70000-:22", &fw), 0);
    NetSlirpConfig c;
    char err[128];
    cr_assert_eq(net_slirp_parse("user,id=a,net=10.9.0.0/255.255.0.0", &c, err, sizeof(err)), 0);
    cr_assert_eq(c.host.s_addr, htonl(0x0A090002));
    cr_assert_eq(c.dhcp_start.s_addr, htonl(0x0A09000F));
    cr_assert_neq(net_slirp_parse("user,id=a,host=10.0.3.2", &c, err, sizeof(err)), 0);
    cr_assert_neq(net_slirp_parse("user,id=a,bogus=1", &c, err, sizeof(err)), 0);
}

Test(slirp, an_idle_stack_wakes_rarely_and_polls_only_its_listeners)
{
    uint16_t p1 = free_port(), p2 = free_port();
    char spec[160];
    snprintf(spec, sizeof(spec),
             "user,id=n0,hostfwd=tcp:127.0.0.1:%u-:22,hostfwd=tcp:127.0.0.1:%u-:80", p1, p2);
    Guest g;
    guest_init(&g, spec);
    cr_assert_eq(g.m->n_fds, 2, "one listening socket per rule in the machine's poll set");
    /* libslirp asks to be polled about twice a second (its slow TCP timer); no more. */
    int64_t gap = clock_next_deadline(&g.m->clock) - clock_now(&g.m->clock);
    cr_assert_gt(gap, 400 * 1000000ll, "no busy polling (next wake-up in %lld ns)",
                 (long long)gap);
    net_slirp_free(g.ns);
    cr_assert_eq(g.m->n_fds, 0, "freeing the stack leaves the poll set");
    machine_free(g.m);
}
