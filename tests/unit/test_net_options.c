/* test_net_options.c: -netdev, -device e1000|ne2k_pci, -nic and -object filter-dump as the
 * command line parser takes them, and the errors it gives. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/options.h"

typedef struct Parsed {
    MachineConfig cfg;
    OptionsAction action;
    char err[512];
    int rc;
} Parsed;

static Parsed *parse(const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "anyvm";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 32; a = va_arg(ap, const char *)) {
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    Parsed *p = calloc(1, sizeof(*p));
    cr_assert_not_null(p);
    p->rc = options_parse(argc, argv, &p->cfg, &p->action, p->err, sizeof(p->err));
    return p;
}

Test(net_options, netdev_and_device_make_a_connected_nic)
{
    Parsed *p = parse("-netdev", "user,id=n0,hostfwd=tcp::5555-:22,restrict=on", "-device",
                      "ne2k_pci,netdev=n0,mac=52:54:00:aa:bb:cc", NULL);
    cr_assert_eq(p->rc, 0, "%s", p->err);
    cr_assert_eq(p->cfg.n_netdevs, 1);
    cr_assert_str_eq(p->cfg.netdevs[0].id, "n0");
    cr_assert_eq(p->cfg.n_nics, 1);
    cr_assert_str_eq(p->cfg.nics[0].model, "ne2k_pci");
    cr_assert_str_eq(p->cfg.nics[0].netdev, "n0");
    cr_assert(p->cfg.nics[0].has_mac);
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC};
    cr_assert_arr_eq(p->cfg.nics[0].mac, mac, 6);
    free(p);
}

Test(net_options, nic_shorthand_creates_netdev_and_e1000_by_default)
{
    Parsed *p =
        parse("-nic", "user,hostfwd=tcp:127.0.0.1:2222-:22", "-nic", "user,model=ne2k_pci", NULL);
    cr_assert_eq(p->rc, 0, "%s", p->err);
    cr_assert_eq(p->cfg.n_nics, 2);
    cr_assert_eq(p->cfg.n_netdevs, 2);
    cr_assert_str_eq(p->cfg.nics[0].model, "e1000");
    cr_assert_str_eq(p->cfg.nics[1].model, "ne2k_pci");
    cr_assert_str_eq(p->cfg.nics[0].netdev, p->cfg.netdevs[0].id);
    cr_assert_neq(strstr(p->cfg.netdevs[0].spec, "hostfwd=tcp:127.0.0.1:2222-:22"), NULL);
    free(p);
    p = parse("-nic", "none", NULL);
    cr_assert_eq(p->rc, 0);
    cr_assert_eq(p->cfg.n_nics, 0);
    free(p);
}

Test(net_options, filter_dump_object_names_a_netdev_and_file)
{
    Parsed *p = parse("-netdev", "user,id=n0", "-device", "e1000,netdev=n0", "-object",
                      "filter-dump,id=f0,netdev=n0,file=/tmp/x.pcap,maxlen=128", NULL);
    cr_assert_eq(p->rc, 0, "%s", p->err);
    cr_assert_eq(p->cfg.n_net_dumps, 1);
    cr_assert_str_eq(p->cfg.net_dumps[0].file, "/tmp/x.pcap");
    cr_assert_eq(p->cfg.net_dumps[0].maxlen, 128);
    free(p);
}

Test(net_options, bad_network_options_are_refused_with_a_reason)
{
    static const struct {
        const char *opt, *val, *msg;
    } bad[] = {
        {"-netdev", "tap,id=t0", "unsupported netdev type"},
        {"-netdev", "user", "missing id="},
        {"-netdev", "user,id=n0,hostfwd=tcp:22", "bad hostfwd"},
        {"-netdev", "user,id=n0,restrict=maybe", "restrict expects"},
        {"-netdev", "user,id=n0,dns=10.1.1.1", "outside the guest network"},
        {"-device", "rtl8139,netdev=n0", "unsupported device"},
        {"-device", "e1000,mac=01:00:00:00:00:01", "bad MAC"},
        {"-device", "e1000,netdev=nowhere", "not found"},
        {"-nic", "user,model=virtio", "unsupported model"},
        {"-object", "filter-dump,id=f0,netdev=n0", "needs netdev= and file="},
        {"-object", "memory-backend-ram,id=m", "unsupported object"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Parsed *p = parse(bad[i].opt, bad[i].val, NULL);
        cr_assert_neq(p->rc, 0, "%s %s accepted", bad[i].opt, bad[i].val);
        cr_assert_neq(strstr(p->err, bad[i].msg), NULL, "%s %s: '%s'", bad[i].opt, bad[i].val,
                      p->err);
        free(p);
    }
    Parsed *p = parse("-netdev", "user,id=n0", "-device", "e1000,netdev=n0", "-device",
                      "ne2k_pci,netdev=n0", NULL);
    cr_assert_neq(p->rc, 0);
    cr_assert_neq(strstr(p->err, "more than one NIC"), NULL, "%s", p->err);
    free(p);
    p = parse("-netdev", "user,id=n0", "-netdev", "user,id=n0", NULL);
    cr_assert_neq(strstr(p->err, "duplicate netdev id"), NULL, "%s", p->err);
    free(p);
}
