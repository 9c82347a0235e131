/* net.c: networking options (QEMU's -netdev/-nic/-device/-object filter-dump syntax), the
 * backends they open, and pcap capture. */
#include "frontend/net.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "frontend/net_slirp.h"

static int net_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int net_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int find_netdev(const MachineConfig *cfg, const char *id)
{
    for (int i = 0; i < cfg->n_netdevs; i++) {
        if (!strcmp(cfg->netdevs[i].id, id)) {
            return i;
        }
    }
    return -1;
}

static int add_netdev(MachineConfig *cfg, const char *opt, const char *val, const char *spec,
                      const char *id, char *err, size_t errlen)
{
    if (cfg->n_netdevs >= MACHINE_MAX_NETDEVS) {
        return net_fail(err, errlen, "%s %s: too many netdevs (at most %d)", opt, val,
                        MACHINE_MAX_NETDEVS);
    }
    if (find_netdev(cfg, id) >= 0) {
        return net_fail(err, errlen, "%s %s: duplicate netdev id '%s'", opt, val, id);
    }
    if (strlen(spec) >= sizeof(cfg->netdevs[0].spec)) {
        return net_fail(err, errlen, "%s: value too long", opt);
    }
    NetdevConfig *nd = &cfg->netdevs[cfg->n_netdevs++];
    snprintf(nd->id, sizeof(nd->id), "%s", id);
    strcpy(nd->spec, spec);
    return 0;
}

int net_opt_netdev(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
{
    NetSlirpConfig sc;
    char e[200];
    if (strncmp(val, "user", 4) || (val[4] != ',' && val[4] != '\0')) {
        return net_fail(err, errlen, "%s %s: unsupported netdev type (user)", opt, val);
    }
    if (net_slirp_parse(val, &sc, e, sizeof(e)) < 0) {
        return net_fail(err, errlen, "%s %s: %s", opt, val, e);
    }
    if (!sc.id[0]) {
        return net_fail(err, errlen, "%s %s: missing id=", opt, val);
    }
    return add_netdev(cfg, opt, val, val, sc.id, err, errlen);
}

bool net_opt_is_nic_model(const char *name)
{
    return !strcmp(name, "e1000") || !strcmp(name, "ne2k_pci");
}

static int add_nic(MachineConfig *cfg, const char *opt, const char *val, const NicConfig *nic,
                   char *err, size_t errlen)
{
    if (cfg->n_nics >= MACHINE_MAX_NICS) {
        return net_fail(err, errlen, "%s %s: too many NICs (at most %d)", opt, val,
                        MACHINE_MAX_NICS);
    }
    cfg->nics[cfg->n_nics++] = *nic;
    return 0;
}

/* Parse "MODEL,netdev=ID,mac=M[,id=X]" (the -device form). */
int net_opt_device(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(val) >= sizeof(buf)) {
        return net_fail(err, errlen, "%s: value too long", opt);
    }
    strcpy(buf, val);
    NicConfig nic;
    memset(&nic, 0, sizeof(nic));
    char *save = NULL;
    char *model = strtok_r(buf, ",", &save);
    if (!model || !net_opt_is_nic_model(model)) {
        return net_fail(err, errlen, "%s %s: unsupported NIC model (e1000 or ne2k_pci)", opt, val);
    }
    snprintf(nic.model, sizeof(nic.model), "%s", model);
    for (char *item = strtok_r(NULL, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (!strncmp(item, "netdev=", 7)) {
            if (strlen(item + 7) >= sizeof(nic.netdev)) {
                return net_fail(err, errlen, "%s %s: netdev id too long", opt, val);
            }
            strcpy(nic.netdev, item + 7);
        } else if (!strncmp(item, "mac=", 4)) {
            if (net_parse_mac(item + 4, nic.mac) < 0) {
                return net_fail(err, errlen, "%s %s: bad MAC address '%s'", opt, val, item + 4);
            }
            nic.has_mac = true;
        } else if (!strncmp(item, "id=", 3)) {
            continue;
        } else {
            return net_fail(err, errlen, "%s %s: unknown parameter '%s'", opt, val, item);
        }
    }
    return add_nic(cfg, opt, val, &nic, err, errlen);
}

/* "-nic user[,model=M][,mac=X][,id=..][,user options...]" or "-nic none". */
int net_opt_nic(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
{
    if (!strcmp(val, "none")) {
        return 0;
    }
    char buf[1024], spec[1024];
    if (strlen(val) >= sizeof(buf)) {
        return net_fail(err, errlen, "%s: value too long", opt);
    }
    strcpy(buf, val);
    NicConfig nic;
    memset(&nic, 0, sizeof(nic));
    strcpy(nic.model, "e1000");
    char *save = NULL;
    char *type = strtok_r(buf, ",", &save);
    if (!type || strcmp(type, "user")) {
        return net_fail(err, errlen, "%s %s: unsupported backend (user or none)", opt, val);
    }
    char id[32];
    snprintf(id, sizeof(id), "__nic%d", cfg->n_nics);
    size_t n = (size_t)snprintf(spec, sizeof(spec), "user,id=%s", id);
    for (char *item = strtok_r(NULL, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (!strncmp(item, "model=", 6)) {
            if (!net_opt_is_nic_model(item + 6)) {
                return net_fail(err, errlen, "%s %s: unsupported model '%s' (e1000, ne2k_pci)",
                                opt, val, item + 6);
            }
            snprintf(nic.model, sizeof(nic.model), "%s", item + 6);
        } else if (!strncmp(item, "mac=", 4)) {
            if (net_parse_mac(item + 4, nic.mac) < 0) {
                return net_fail(err, errlen, "%s %s: bad MAC address '%s'", opt, val, item + 4);
            }
            nic.has_mac = true;
        } else if (!strncmp(item, "id=", 3)) {
            continue;
        } else {
            n += (size_t)snprintf(spec + n, n < sizeof(spec) ? sizeof(spec) - n : 0, ",%s", item);
            if (n >= sizeof(spec)) {
                return net_fail(err, errlen, "%s: value too long", opt);
            }
        }
    }
    NetSlirpConfig sc;
    char e[200];
    if (net_slirp_parse(spec, &sc, e, sizeof(e)) < 0) {
        return net_fail(err, errlen, "%s %s: %s", opt, val, e);
    }
    if (cfg->n_nics >= MACHINE_MAX_NICS) {
        return net_fail(err, errlen, "%s %s: too many NICs (at most %d)", opt, val,
                        MACHINE_MAX_NICS);
    }
    int rc = add_netdev(cfg, opt, val, spec, id, err, errlen);
    if (rc < 0) {
        return rc;
    }
    strcpy(nic.netdev, id);
    return add_nic(cfg, opt, val, &nic, err, errlen);
}

/* "-object filter-dump,id=F,netdev=N,file=PATH[,maxlen=BYTES]". */
int net_opt_object(MachineConfig *cfg, const char *opt, const char *val, char *err, size_t errlen)
{
    char buf[1024];
    if (strlen(val) >= sizeof(buf)) {
        return net_fail(err, errlen, "%s: value too long", opt);
    }
    strcpy(buf, val);
    char *save = NULL;
    char *type = strtok_r(buf, ",", &save);
    if (!type || strcmp(type, "filter-dump")) {
        return net_fail(err, errlen, "%s %s: unsupported object (filter-dump)", opt, val);
    }
    if (cfg->n_net_dumps >= MACHINE_MAX_NETDEVS) {
        return net_fail(err, errlen, "%s %s: too many dumps", opt, val);
    }
    NetDumpConfig d;
    memset(&d, 0, sizeof(d));
    d.maxlen = 65536;
    for (char *item = strtok_r(NULL, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (!strncmp(item, "netdev=", 7)) {
            snprintf(d.netdev, sizeof(d.netdev), "%s", item + 7);
        } else if (!strncmp(item, "file=", 5)) {
            if (strlen(item + 5) >= sizeof(d.file) || !item[5]) {
                return net_fail(err, errlen, "%s %s: bad file name", opt, val);
            }
            strcpy(d.file, item + 5);
        } else if (!strncmp(item, "maxlen=", 7)) {
            char *end;
            unsigned long v = strtoul(item + 7, &end, 10);
            if (*end || v < 14 || v > 65536) {
                return net_fail(err, errlen, "%s %s: maxlen must be 14..65536", opt, val);
            }
            d.maxlen = (uint32_t)v;
        } else if (!strncmp(item, "id=", 3)) {
            continue;
        } else {
            return net_fail(err, errlen, "%s %s: unknown parameter '%s'", opt, val, item);
        }
    }
    if (!d.netdev[0] || !d.file[0]) {
        return net_fail(err, errlen, "%s %s: needs netdev= and file=", opt, val);
    }
    cfg->net_dumps[cfg->n_net_dumps++] = d;
    return 0;
}

int net_opt_check(MachineConfig *cfg, char *err, size_t errlen)
{
    int users[MACHINE_MAX_NETDEVS] = {0};
    for (int i = 0; i < cfg->n_nics; i++) {
        if (!cfg->nics[i].netdev[0]) {
            continue;
        }
        int nd = find_netdev(cfg, cfg->nics[i].netdev);
        if (nd < 0) {
            return net_fail(err, errlen, "-device %s: netdev '%s' not found", cfg->nics[i].model,
                            cfg->nics[i].netdev);
        }
        if (++users[nd] > 1) {
            return net_fail(err, errlen, "netdev '%s' is used by more than one NIC",
                            cfg->nics[i].netdev);
        }
    }
    for (int i = 0; i < cfg->n_net_dumps; i++) {
        if (find_netdev(cfg, cfg->net_dumps[i].netdev) < 0) {
            return net_fail(err, errlen, "-object filter-dump: netdev '%s' not found",
                            cfg->net_dumps[i].netdev);
        }
    }
    return 0;
}

void net_opt_usage(FILE *f)
{
    fprintf(f, "Network:\n"
               "  -netdev user,id=ID[,net=ADDR/MASK][,host=ADDR][,dns=ADDR][,dhcpstart=ADDR]\n"
               "          [,hostname=NAME][,restrict=on|off]\n"
               "          [,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...\n"
               "                          user-mode networking (slirp), 10.0.2.0/24 by default\n"
               "  -device e1000|ne2k_pci,netdev=ID[,mac=52:54:00:12:34:56]\n"
               "                          an Intel 82540EM or an NE2000 (RTL8029) PCI NIC\n"
               "  -nic user[,model=e1000|ne2k_pci][,mac=MAC][,user options]  both at once\n"
               "  -object filter-dump,id=F,netdev=ID,file=PATH[,maxlen=BYTES]\n"
               "                          capture the netdev's frames into a pcap file\n");
}

/* --- pcap --- */

struct NetPcap {
    FILE *f;
    uint32_t maxlen;
    NetBackend *be;
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* pcap files are in the writer's byte order; the magic says which */
}

static void pcap_tap(void *opaque, int dir, const uint8_t *frame, size_t len)
{
    NetPcap *p = opaque;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint32_t incl = len < p->maxlen ? (uint32_t)len : p->maxlen;
    uint8_t hdr[16];
    put32(hdr, (uint32_t)tv.tv_sec);
    put32(hdr + 4, (uint32_t)tv.tv_usec);
    put32(hdr + 8, incl);
    put32(hdr + 12, (uint32_t)len);
    if (fwrite(hdr, 1, 16, p->f) != 16 || fwrite(frame, 1, incl, p->f) != incl) {
        return;
    }
    fflush(p->f);
}

NetPcap *net_pcap_open(NetBackend *be, const char *path, uint32_t maxlen, char *err, size_t errlen)
{
    NetPcap *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->f = fopen(path, "wb");
    if (!p->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(p);
        return NULL;
    }
    p->maxlen = maxlen;
    p->be = be;
    uint8_t hdr[24];
    put32(hdr, 0xA1B2C3D4u);
    uint16_t major = 2, minor = 4;
    memcpy(hdr + 4, &major, 2);
    memcpy(hdr + 6, &minor, 2);
    put32(hdr + 8, 0);       /* thiszone */
    put32(hdr + 12, 0);      /* sigfigs */
    put32(hdr + 16, maxlen); /* snaplen */
    put32(hdr + 20, 1);      /* LINKTYPE_ETHERNET */
    if (fwrite(hdr, 1, sizeof(hdr), p->f) != sizeof(hdr) || fflush(p->f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        fclose(p->f);
        free(p);
        return NULL;
    }
    net_set_tap(be, pcap_tap, p);
    return p;
}

void net_pcap_close(NetPcap *p)
{
    if (!p) {
        return;
    }
    net_set_tap(p->be, NULL, NULL);
    fclose(p->f);
    free(p);
}

/* --- opening the configured backends --- */

struct NetFrontend {
    NetSlirp *slirp[MACHINE_MAX_NETDEVS];
    NetPcap *dump[MACHINE_MAX_NETDEVS];
    Machine *m;
};

NetFrontend *net_frontend_open(Machine *m, char *err, size_t errlen)
{
    const MachineConfig *cfg = &m->cfg;
    err[0] = '\0';
    if (cfg->n_netdevs == 0 && cfg->n_nics == 0) {
        return NULL;
    }
    NetFrontend *nf = calloc(1, sizeof(*nf));
    if (!nf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    nf->m = m;
    for (int i = 0; i < cfg->n_netdevs; i++) {
        NetSlirpConfig sc;
        char e[200];
        if (net_slirp_parse(cfg->netdevs[i].spec, &sc, e, sizeof(e)) < 0) {
            snprintf(err, errlen, "-netdev %s: %s", cfg->netdevs[i].spec, e);
            net_frontend_close(nf);
            return NULL;
        }
        nf->slirp[i] = net_slirp_new(m, &sc, err, errlen);
        if (!nf->slirp[i]) {
            net_frontend_close(nf);
            return NULL;
        }
    }
    for (int i = 0; i < cfg->n_nics; i++) {
        m->nic_backend[i] = NULL;
        int nd = find_netdev(cfg, cfg->nics[i].netdev);
        if (nd >= 0) {
            m->nic_backend[i] = net_slirp_backend(nf->slirp[nd]);
        }
    }
    for (int i = 0; i < cfg->n_net_dumps; i++) {
        int nd = find_netdev(cfg, cfg->net_dumps[i].netdev);
        if (nd < 0) {
            continue;
        }
        nf->dump[i] = net_pcap_open(net_slirp_backend(nf->slirp[nd]), cfg->net_dumps[i].file,
                                    cfg->net_dumps[i].maxlen, err, errlen);
        if (!nf->dump[i]) {
            net_frontend_close(nf);
            return NULL;
        }
    }
    return nf;
}

void net_frontend_close(NetFrontend *nf)
{
    if (!nf) {
        return;
    }
    for (int i = 0; i < MACHINE_MAX_NETDEVS; i++) {
        net_pcap_close(nf->dump[i]);
    }
    for (int i = 0; i < MACHINE_MAX_NETDEVS; i++) {
        net_slirp_free(nf->slirp[i]);
    }
    for (int i = 0; i < MACHINE_MAX_NICS; i++) {
        nf->m->nic_backend[i] = NULL;
    }
    free(nf);
}
