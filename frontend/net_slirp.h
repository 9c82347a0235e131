/* net_slirp.h: user-mode networking (-netdev user) on libslirp, as a NetBackend. */
#ifndef ANYVM_FRONTEND_NET_SLIRP_H
#define ANYVM_FRONTEND_NET_SLIRP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"
#include "core/net.h"

#define NET_SLIRP_MAX_FWD 16

/* NetSlirpFwd: one hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT rule. */
typedef struct NetSlirpFwd {
    bool udp;
    struct in_addr host_addr; /* INADDR_ANY when empty */
    uint16_t host_port;
    struct in_addr guest_addr; /* 0 = the first DHCP address */
    uint16_t guest_port;
} NetSlirpFwd;

/* NetSlirpConfig: a parsed "-netdev user,..." (defaults as in QEMU: 10.0.2.0/24, host .2,
 * DNS .3, DHCP from .15). */
typedef struct NetSlirpConfig {
    char id[32];
    struct in_addr net, mask, host, dns, dhcp_start;
    bool restricted; /* restrict=on: the guest reaches nothing outside */
    char hostname[64];
    NetSlirpFwd fwd[NET_SLIRP_MAX_FWD];
    int n_fwd;
} NetSlirpConfig;

/* net_slirp_parse: parse "user,id=ID[,net=A/M][,host=A][,dns=A][,dhcpstart=A][,hostname=H]
 * [,hostfwd=RULE]...[,restrict=on|off]" (spec may start with or without "user,"). Pure.
 * Returns 0, or -EINVAL with a message in err. */
int net_slirp_parse(const char *spec, NetSlirpConfig *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* net_slirp_parse_hostfwd: one rule ("tcp::5555-:22"). Returns 0 or -EINVAL. */
int net_slirp_parse_hostfwd(const char *rule, NetSlirpFwd *fwd)
    __attribute__((warn_unused_result));

typedef struct NetSlirp NetSlirp;

/* net_slirp_new: start a slirp stack on m: its sockets are served from the machine loop
 * (machine_add_fd) and its timers run on m's clock; nothing polls busily. Returns NULL with a
 * message in err (bad config, hostfwd port in use). Free with net_slirp_free() before
 * machine_free(). */
NetSlirp *net_slirp_new(Machine *m, const NetSlirpConfig *cfg, char *err, size_t errlen);
void net_slirp_free(NetSlirp *ns);

/* net_slirp_backend: the NetBackend a NIC attaches to (owned by ns). */
NetBackend *net_slirp_backend(NetSlirp *ns);

#endif
