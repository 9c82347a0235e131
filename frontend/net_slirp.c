/* net_slirp.c: -netdev user: a libslirp stack behind a NetBackend, served by the machine loop.
 *
 * libslirp owns host sockets whose set and wanted events change as connections come and go.
 * After every entry into slirp (a guest frame, a timer, a socket event) we ask it for its
 * current descriptors (slirp_pollfds_fill) and mirror them into the machine's poll set with
 * machine_add_fd/machine_set_fd_events/machine_remove_fd; when one becomes ready the machine
 * loop calls us and we hand slirp that descriptor's events (slirp_pollfds_poll). slirp's own
 * timeout (TCP timers) arms a machine-clock Timer, and its timers (timer_new_opaque) are
 * machine-clock Timers too: nothing polls busily. */
#include "frontend/net_slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#ifdef ANYVM_HAVE_SLIRP
#include <slirp/libslirp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_MAX_POLL 64

/* --- parsing --- */

static int parse_addr(const char *s, struct in_addr *a)
{
    return inet_pton(AF_INET, s, a) == 1 ? 0 : -EINVAL;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > 65535) {
        return -EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

/* "[ADDR]:PORT" into addr (INADDR_ANY when empty) and port. */
static int parse_addr_port(char *s, struct in_addr *addr, uint16_t *port)
{
    char *colon = strrchr(s, ':');
    if (!colon) {
        return -EINVAL;
    }
    *colon = '\0';
    addr->s_addr = htonl(INADDR_ANY);
    if (*s && parse_addr(s, addr) < 0) {
        return -EINVAL;
    }
    return parse_port(colon + 1, port);
}

int net_slirp_parse_hostfwd(const char *rule, NetSlirpFwd *fwd)
{
    char buf[128];
    if (strlen(rule) >= sizeof(buf)) {
        return -EINVAL;
    }
    strcpy(buf, rule);
    memset(fwd, 0, sizeof(*fwd));
    char *p = buf;
    if (!strncmp(p, "tcp:", 4)) {
        p += 4;
    } else if (!strncmp(p, "udp:", 4)) {
        fwd->udp = true;
        p += 4;
    } else if (*p == ':') {
        p += 1; /* protocol omitted: tcp */
    } else {
        return -EINVAL;
    }
    char *dash = strchr(p, '-');
    if (!dash) {
        return -EINVAL;
    }
    *dash = '\0';
    if (parse_addr_port(p, &fwd->host_addr, &fwd->host_port) < 0 ||
        parse_addr_port(dash + 1, &fwd->guest_addr, &fwd->guest_port) < 0) {
        return -EINVAL;
    }
    if (fwd->guest_port == 0) {
        return -EINVAL;
    }
    return 0;
}

static int ns_fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (err && errlen) {
        snprintf(err, errlen, fmt, arg);
    }
    return -EINVAL;
}

int net_slirp_parse(const char *spec, NetSlirpConfig *cfg, char *err, size_t errlen)
{
    char buf[1024];
    if (strlen(spec) >= sizeof(buf)) {
        return ns_fail(err, errlen, "%s", "netdev specification too long");
    }
    strcpy(buf, spec);
    memset(cfg, 0, sizeof(*cfg));
    inet_pton(AF_INET, "10.0.2.0", &cfg->net);
    inet_pton(AF_INET, "255.255.255.0", &cfg->mask);
    bool have_host = false, have_dns = false, have_dhcp = false;
    char *rest = buf;
    bool first = true;
    while (rest) {
        char *item = rest;
        char *comma = strchr(rest, ',');
        if (comma) {
            *comma = '\0';
            rest = comma + 1;
        } else {
            rest = NULL;
        }
        if (first) {
            first = false;
            if (!strcmp(item, "user")) {
                continue;
            }
            if (!strchr(item, '=')) {
                return ns_fail(err, errlen, "unsupported netdev type '%s' (user)", item);
            }
        }
        char *eq = strchr(item, '=');
        if (!eq) {
            return ns_fail(err, errlen, "expected key=value, got '%s'", item);
        }
        *eq = '\0';
        const char *k = item, *v = eq + 1;
        if (!strcmp(k, "id")) {
            if (!*v || strlen(v) >= sizeof(cfg->id)) {
                return ns_fail(err, errlen, "bad id '%s'", v);
            }
            strcpy(cfg->id, v);
        } else if (!strcmp(k, "net")) {
            char a[64];
            if (strlen(v) >= sizeof(a)) {
                return ns_fail(err, errlen, "bad net '%s'", v);
            }
            strcpy(a, v);
            char *slash = strchr(a, '/');
            if (slash) {
                *slash = '\0';
                const char *m = slash + 1;
                if (strchr(m, '.')) {
                    if (parse_addr(m, &cfg->mask) < 0) {
                        return ns_fail(err, errlen, "bad netmask '%s'", m);
                    }
                } else {
                    uint16_t bits;
                    if (parse_port(m, &bits) < 0 || bits < 8 || bits > 30) {
                        return ns_fail(err, errlen, "bad prefix length '%s'", m);
                    }
                    cfg->mask.s_addr = htonl(0xFFFFFFFFu << (32 - bits));
                }
            }
            if (parse_addr(a, &cfg->net) < 0) {
                return ns_fail(err, errlen, "bad net address '%s'", a);
            }
            cfg->net.s_addr &= cfg->mask.s_addr;
        } else if (!strcmp(k, "host")) {
            if (parse_addr(v, &cfg->host) < 0) {
                return ns_fail(err, errlen, "bad host address '%s'", v);
            }
            have_host = true;
        } else if (!strcmp(k, "dns")) {
            if (parse_addr(v, &cfg->dns) < 0) {
                return ns_fail(err, errlen, "bad dns address '%s'", v);
            }
            have_dns = true;
        } else if (!strcmp(k, "dhcpstart")) {
            if (parse_addr(v, &cfg->dhcp_start) < 0) {
                return ns_fail(err, errlen, "bad dhcpstart address '%s'", v);
            }
            have_dhcp = true;
        } else if (!strcmp(k, "hostname")) {
            if (strlen(v) >= sizeof(cfg->hostname)) {
                return ns_fail(err, errlen, "hostname too long '%s'", v);
            }
            strcpy(cfg->hostname, v);
        } else if (!strcmp(k, "restrict")) {
            if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "y")) {
                cfg->restricted = true;
            } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "n")) {
                cfg->restricted = false;
            } else {
                return ns_fail(err, errlen, "restrict expects on or off, got '%s'", v);
            }
        } else if (!strcmp(k, "hostfwd")) {
            if (cfg->n_fwd >= NET_SLIRP_MAX_FWD) {
                return ns_fail(err, errlen, "too many hostfwd rules (at most %s)", "16");
            }
            if (net_slirp_parse_hostfwd(v, &cfg->fwd[cfg->n_fwd]) < 0) {
                return ns_fail(err, errlen,
                               "bad hostfwd '%s' (tcp|udp:[HOSTADDR]:PORT-[GUESTADDR]:PORT)", v);
            }
            cfg->n_fwd++;
        } else if (!strcmp(k, "ipv6") || !strcmp(k, "ipv4")) {
            continue; /* IPv4 only; accepted for compatibility */
        } else {
            return ns_fail(err, errlen, "unknown netdev user parameter '%s'", k);
        }
    }
    uint32_t net = ntohl(cfg->net.s_addr), mask = ntohl(cfg->mask.s_addr);
    if (!have_host) {
        cfg->host.s_addr = htonl(net | 2);
    }
    if (!have_dns) {
        cfg->dns.s_addr = htonl(net | 3);
    }
    if (!have_dhcp) {
        cfg->dhcp_start.s_addr = htonl(net | 15);
    }
    const struct in_addr *chk[3] = {&cfg->host, &cfg->dns, &cfg->dhcp_start};
    const char *names[3] = {"host", "dns", "dhcpstart"};
    for (int i = 0; i < 3; i++) {
        if ((ntohl(chk[i]->s_addr) & mask) != net) {
            return ns_fail(err, errlen, "%s address is outside the guest network", names[i]);
        }
    }
    return 0;
}

#ifdef ANYVM_HAVE_SLIRP

typedef struct NetSlirpTimer {
    Timer t;
    NetSlirp *ns;
    SlirpTimerId id;
    void *cb_opaque;
    SlirpTimerCb cb; /* for the old timer_new interface */
    struct NetSlirpTimer *next;
} NetSlirpTimer;

struct NetSlirp {
    NetBackend be;
    Machine *m;
    Slirp *slirp;
    NetSlirpConfig cfg;
    NetSlirpTimer *timers;
    Timer poll_timer; /* slirp's TCP timeout, and deferred work after notify() */
    /* The descriptors of the last fill, in slirp's index order. */
    struct pollfd pfd[NS_MAX_POLL];
    int n_pfd;
    bool pfd_overflow;
    /* The descriptors registered with the machine. */
    int reg_fd[NS_MAX_POLL];
    int n_reg;
    /* During a dispatch: the descriptor that fired and its events. */
    int cur_fd;
    short cur_revents;
    bool in_slirp;
};

/* --- the poll set --- */

static short slirp_to_poll(int ev)
{
    short p = 0;
    if (ev & SLIRP_POLL_IN) {
        p |= POLLIN;
    }
    if (ev & SLIRP_POLL_OUT) {
        p |= POLLOUT;
    }
    if (ev & SLIRP_POLL_PRI) {
        p |= POLLPRI;
    }
    return p;
}

static int poll_to_slirp(short p)
{
    int ev = 0;
    if (p & POLLIN) {
        ev |= SLIRP_POLL_IN;
    }
    if (p & POLLOUT) {
        ev |= SLIRP_POLL_OUT;
    }
    if (p & POLLPRI) {
        ev |= SLIRP_POLL_PRI;
    }
    if (p & (POLLERR | POLLNVAL)) {
        ev |= SLIRP_POLL_ERR;
    }
    if (p & POLLHUP) {
        ev |= SLIRP_POLL_HUP;
    }
    return ev;
}

static int ns_add_poll(int fd, int events, void *opaque)
{
    NetSlirp *ns = opaque;
    if (ns->n_pfd >= NS_MAX_POLL) {
        ns->pfd_overflow = true;
        return -1;
    }
    ns->pfd[ns->n_pfd].fd = fd;
    ns->pfd[ns->n_pfd].events = slirp_to_poll(events);
    ns->pfd[ns->n_pfd].revents = 0;
    return ns->n_pfd++;
}

static int ns_get_revents(int idx, void *opaque)
{
    NetSlirp *ns = opaque;
    if (idx < 0 || idx >= ns->n_pfd || ns->pfd[idx].fd != ns->cur_fd) {
        return 0;
    }
    return poll_to_slirp(ns->cur_revents);
}

static void ns_fd_ready(void *opaque, int fd, short revents);

/* Mirror slirp's current descriptors into the machine loop and arm its timeout. */
static void ns_sync(NetSlirp *ns)
{
    uint32_t timeout = UINT32_MAX;
    ns->n_pfd = 0;
    slirp_pollfds_fill(ns->slirp, &timeout, ns_add_poll, ns);
    if (ns->pfd_overflow) {
        LOG_ONCE(&ns->m->log, LOG_UNIMP, "slirp: more than %d sockets; some are not served\n",
                 NS_MAX_POLL);
        ns->pfd_overflow = false;
    }
    /* Drop registrations slirp no longer has. */
    for (int i = 0; i < ns->n_reg;) {
        bool keep = false;
        for (int k = 0; k < ns->n_pfd; k++) {
            keep |= ns->pfd[k].fd == ns->reg_fd[i];
        }
        if (!keep) {
            machine_remove_fd(ns->m, ns->reg_fd[i]);
            ns->reg_fd[i] = ns->reg_fd[--ns->n_reg];
        } else {
            i++;
        }
    }
    for (int k = 0; k < ns->n_pfd; k++) {
        bool known = false;
        for (int i = 0; i < ns->n_reg; i++) {
            known |= ns->reg_fd[i] == ns->pfd[k].fd;
        }
        if (known) {
            machine_set_fd_events(ns->m, ns->pfd[k].fd, ns->pfd[k].events);
        } else if (ns->n_reg < NS_MAX_POLL &&
                   machine_add_fd(ns->m, ns->pfd[k].fd, ns->pfd[k].events, ns_fd_ready, ns) == 0) {
            ns->reg_fd[ns->n_reg++] = ns->pfd[k].fd;
        } else {
            LOG_ONCE(&ns->m->log, LOG_UNIMP, "slirp: machine poll set full\n");
        }
    }
    if (timeout != UINT32_MAX) {
        timer_mod(&ns->poll_timer, clock_now(&ns->m->clock) + (int64_t)timeout * 1000000);
    } else {
        timer_del(&ns->poll_timer);
    }
}

/* Hand slirp the events of one descriptor (or none: cur_fd -1 runs its timers only). */
static void ns_dispatch(NetSlirp *ns, int fd, short revents)
{
    if (ns->in_slirp) {
        return;
    }
    ns->in_slirp = true;
    ns->cur_fd = fd;
    ns->cur_revents = revents;
    slirp_pollfds_poll(ns->slirp, 0, ns_get_revents, ns);
    ns->cur_fd = -1;
    ns->in_slirp = false;
    ns_sync(ns);
}

static void ns_fd_ready(void *opaque, int fd, short revents)
{
    ns_dispatch(opaque, fd, revents);
}

static void ns_poll_timer(void *opaque)
{
    ns_dispatch(opaque, -1, 0);
}

/* --- slirp callbacks --- */

static ssize_t ns_send_packet(const void *buf, size_t len, void *opaque)
{
    NetSlirp *ns = opaque;
    net_receive(&ns->be, buf, len);
    return (ssize_t)len;
}

static void ns_guest_error(const char *msg, void *opaque)
{
    NetSlirp *ns = opaque;
    LOG_ONCE(&ns->m->log, LOG_GUEST_ERROR, "slirp: %s\n", msg);
}

static int64_t ns_clock_get_ns(void *opaque)
{
    NetSlirp *ns = opaque;
    return clock_now(&ns->m->clock);
}

static void ns_timer_fire(void *opaque)
{
    NetSlirpTimer *t = opaque;
    NetSlirp *ns = t->ns;
    if (t->cb) {
        t->cb(t->cb_opaque);
    } else {
        slirp_handle_timer(ns->slirp, t->id, t->cb_opaque);
    }
    if (!ns->in_slirp) {
        ns_sync(ns);
    }
}

static NetSlirpTimer *ns_timer_alloc(NetSlirp *ns)
{
    NetSlirpTimer *t = calloc(1, sizeof(*t));
    if (!t) {
        return NULL;
    }
    t->ns = ns;
    timer_init(&t->t, &ns->m->clock, ns_timer_fire, t);
    t->next = ns->timers;
    ns->timers = t;
    return t;
}

static void *ns_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    NetSlirpTimer *t = ns_timer_alloc(opaque);
    if (t) {
        t->id = id;
        t->cb_opaque = cb_opaque;
    }
    return t;
}

static void *ns_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    NetSlirpTimer *t = ns_timer_alloc(opaque);
    if (t) {
        t->cb = cb;
        t->cb_opaque = cb_opaque;
    }
    return t;
}

static void ns_timer_free(void *timer, void *opaque)
{
    NetSlirp *ns = opaque;
    NetSlirpTimer *t = timer;
    if (!t) {
        return;
    }
    timer_del(&t->t);
    for (NetSlirpTimer **pp = &ns->timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    free(t);
}

static void ns_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    NetSlirpTimer *t = timer;
    if (t) {
        timer_mod(&t->t, expire_ms * 1000000);
    }
}

static void ns_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque; /* the poll set is mirrored after every entry instead (ns_sync) */
}

static void ns_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void ns_notify(void *opaque)
{
    NetSlirp *ns = opaque;
    /* A moment later, not now: a timer re-armed for "now" from its own callback would keep
     * clock_run_timers busy. */
    timer_mod(&ns->poll_timer, clock_now(&ns->m->clock) + 1000);
}

static const SlirpCb ns_callbacks = {
    .send_packet = ns_send_packet,
    .guest_error = ns_guest_error,
    .clock_get_ns = ns_clock_get_ns,
    .timer_new = ns_timer_new,
    .timer_free = ns_timer_free,
    .timer_mod = ns_timer_mod,
    .register_poll_fd = ns_register_poll_fd,
    .unregister_poll_fd = ns_unregister_poll_fd,
    .notify = ns_notify,
    .timer_new_opaque = ns_timer_new_opaque,
};

/* --- the backend --- */

static void ns_be_send(NetBackend *be, const uint8_t *frame, size_t len)
{
    NetSlirp *ns = be->opaque;
    if (ns->in_slirp || len > 65535) {
        return;
    }
    ns->in_slirp = true;
    slirp_input(ns->slirp, frame, (int)len);
    ns->in_slirp = false;
    ns_sync(ns);
}

static const NetBackendOps ns_be_ops = {
    .send = ns_be_send,
};

NetSlirp *net_slirp_new(Machine *m, const NetSlirpConfig *cfg, char *err, size_t errlen)
{
    NetSlirp *ns = calloc(1, sizeof(*ns));
    if (!ns) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ns->m = m;
    ns->cfg = *cfg;
    ns->cur_fd = -1;
    net_backend_init(&ns->be, cfg->id, &ns_be_ops, ns);
    timer_init(&ns->poll_timer, &m->clock, ns_poll_timer, ns);
    SlirpConfig sc;
    memset(&sc, 0, sizeof(sc));
    sc.version = 4;
    sc.restricted = cfg->restricted;
    sc.in_enabled = true;
    sc.vnetwork = cfg->net;
    sc.vnetmask = cfg->mask;
    sc.vhost = cfg->host;
    sc.in6_enabled = false;
    sc.vhostname = cfg->hostname[0] ? ns->cfg.hostname : NULL;
    sc.vdhcp_start = cfg->dhcp_start;
    sc.vnameserver = cfg->dns;
    sc.disable_host_loopback = cfg->restricted;
    sc.enable_emu = false;
    ns->slirp = slirp_new(&sc, &ns_callbacks, ns);
    if (!ns->slirp) {
        snprintf(err, errlen, "netdev %s: cannot start user networking", cfg->id);
        net_slirp_free(ns);
        return NULL;
    }
    for (int i = 0; i < cfg->n_fwd; i++) {
        const NetSlirpFwd *f = &cfg->fwd[i];
        struct in_addr guest = f->guest_addr.s_addr ? f->guest_addr : cfg->dhcp_start;
        if (slirp_add_hostfwd(ns->slirp, f->udp, f->host_addr, f->host_port, guest,
                              f->guest_port) < 0) {
            snprintf(err, errlen, "netdev %s: cannot forward host %s port %u (in use?)", cfg->id,
                     f->udp ? "udp" : "tcp", f->host_port);
            net_slirp_free(ns);
            return NULL;
        }
    }
    ns_sync(ns);
    return ns;
}

NetBackend *net_slirp_backend(NetSlirp *ns)
{
    return &ns->be;
}

void net_slirp_free(NetSlirp *ns)
{
    if (!ns) {
        return;
    }
    if (ns->slirp) {
        slirp_cleanup(ns->slirp); /* frees its timers through ns_timer_free */
    }
    for (int i = 0; i < ns->n_reg; i++) {
        machine_remove_fd(ns->m, ns->reg_fd[i]);
    }
    while (ns->timers) {
        NetSlirpTimer *t = ns->timers;
        ns->timers = t->next;
        timer_del(&t->t);
        free(t);
    }
    timer_del(&ns->poll_timer);
    net_backend_cleanup(&ns->be);
    free(ns);
}

#else /* !ANYVM_HAVE_SLIRP */

NetSlirp *net_slirp_new(Machine *m, const NetSlirpConfig *cfg, char *err, size_t errlen)
{
    (void)m;
    snprintf(err, errlen, "netdev %s: anyvm was built without libslirp", cfg->id);
    return NULL;
}

void net_slirp_free(NetSlirp *ns)
{
    (void)ns;
}

NetBackend *net_slirp_backend(NetSlirp *ns)
{
    (void)ns;
    return NULL;
}

#endif
