/* net.h: the networking options (-netdev, -nic, -device NIC, -object filter-dump) and the
 * host network backends they open for a machine. */
#ifndef ANYVM_FRONTEND_NET_H
#define ANYVM_FRONTEND_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/machine.h"
#include "core/net.h"

/* Option handlers for options.c: each parses one value into cfg. Return 0, or -EINVAL with one
 * line in err (starting with opt and the value, as other option errors do). */
int net_opt_netdev(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int net_opt_nic(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int net_opt_object(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* net_opt_is_nic_model: whether -device NAME is a NIC this file handles. */
bool net_opt_is_nic_model(const char *name);
int net_opt_device(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* net_opt_check: after all options: every NIC's netdev exists, every netdev has one NIC,
 * every dump names a netdev. Returns 0 or -EINVAL with a message. */
int net_opt_check(MachineConfig *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* net_opt_usage: the networking part of --help. */
void net_opt_usage(FILE *f);

typedef struct NetFrontend NetFrontend;

/* net_frontend_open: start every -netdev of m->cfg, open the pcap dumps, and fill
 * m->nic_backend[] for the board. Returns NULL with a message in err on failure (also when
 * nothing was configured: then err is empty and that is not an error). */
NetFrontend *net_frontend_open(Machine *m, char *err, size_t errlen);

/* net_frontend_close: stop the backends and close dumps; call before machine_free(). After it
 * the NICs must not run (the board is freed next). NULL is fine. */
void net_frontend_close(NetFrontend *nf);

/* NetPcap: a pcap capture of a backend's frames (both directions). */
typedef struct NetPcap NetPcap;

/* net_pcap_open: write a pcap file (LINKTYPE_ETHERNET, snaplen maxlen) of every frame through
 * be. Returns NULL with a message in err. */
NetPcap *net_pcap_open(NetBackend *be, const char *path, uint32_t maxlen, char *err,
                       size_t errlen);
void net_pcap_close(NetPcap *p);

#endif
