/* anyvm_img.c: anyvm-img, the image tool: create, info, check and convert raw/qcow2 images
 * (a subset of qemu-img with the same exit codes for check). */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend/block.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: anyvm-img create [-f raw|qcow2] [-o compat=0.10|1.1,cluster_size=N] "
               "[-b BACKING [-F FMT]] FILE [SIZE]\n"
               "       anyvm-img info [-f FMT] FILE\n"
               "       anyvm-img check FILE      (exit 0 clean, 2 corrupt, 3 leaks, 1 error)\n"
               "       anyvm-img convert [-f FMT] [-O raw|qcow2] IN OUT\n"
               "       anyvm-img bench [-w] [-f FMT] [-s BUFSIZE] [-n MiB] FILE   (sequential "
               "MB/s)\n");
}

/* parse_size: "10G", "512M", "64K", "1048576" (bytes). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) {
        return -EINVAL;
    }
    unsigned shift = 0;
    switch (*end) {
    case 0:
        break;
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    case 't':
    case 'T':
        shift = 40;
        end++;
        break;
    default:
        return -EINVAL;
    }
    if (*end || (shift && v > (UINT64_MAX >> shift))) {
        return -EINVAL;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_create_opts(const char *s, BlockCreateOpts *o)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            return -EINVAL;
        }
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(tok, "compat")) {
            o->qcow2_version = !strcmp(v, "0.10") ? 2 : !strcmp(v, "1.1") ? 3 : -1;
            if (o->qcow2_version < 0) {
                return -EINVAL;
            }
        } else if (!strcmp(tok, "cluster_size")) {
            uint64_t cs;
            if (parse_size(v, &cs) < 0 || cs == 0 || (cs & (cs - 1))) {
                return -EINVAL;
            }
            o->cluster_bits = (unsigned)__builtin_ctzll(cs);
        } else {
            return -EINVAL;
        }
    }
    return 0;
}

static int cmd_create(int argc, char **argv)
{
    BlockCreateOpts o = {.format = "raw"};
    int c;
    while ((c = getopt(argc, argv, "f:o:b:F:")) != -1) {
        switch (c) {
        case 'f':
            o.format = optarg;
            break;
        case 'b':
            o.backing = optarg;
            break;
        case 'F':
            o.backing_fmt = optarg;
            break;
        case 'o':
            if (parse_create_opts(optarg, &o) < 0) {
                fprintf(stderr, "anyvm-img: bad -o %s\n", optarg);
                return 1;
            }
            break;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    const char *file = argv[optind];
    if (optind + 1 < argc && parse_size(argv[optind + 1], &o.size) < 0) {
        fprintf(stderr, "anyvm-img: bad size '%s'\n", argv[optind + 1]);
        return 1;
    }
    if (optind + 1 >= argc && !o.backing) {
        fprintf(stderr, "anyvm-img: create needs a size (or -b)\n");
        return 1;
    }
    char err[512];
    if (blk_create(file, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "anyvm-img: %s\n", err);
        return 1;
    }
    printf("Formatting '%s', fmt=%s size=%" PRIu64 "\n", file, o.format, o.size);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    const char *fmt = NULL;
    int c;
    while ((c = getopt(argc, argv, "f:")) != -1) {
        if (c == 'f') {
            fmt = optarg;
        } else {
            usage(stderr);
            return 1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    BlockInfo info;
    char err[512];
    if (blk_info(argv[optind], fmt, &info, err, sizeof(err)) < 0) {
        fprintf(stderr, "anyvm-img: %s\n", err);
        return 1;
    }
    printf("image: %s\n", argv[optind]);
    printf("file format: %s\n", info.format);
    printf("virtual size: %" PRIu64 " bytes\n", info.virtual_size);
    printf("disk size: %" PRIu64 " bytes\n", info.disk_size);
    if (!strcmp(info.format, "qcow2")) {
        printf("cluster_size: %u\n", info.cluster_size);
        if (info.backing[0]) {
            printf("backing file: %s\n", info.backing);
            if (info.backing_fmt[0]) {
                printf("backing file format: %s\n", info.backing_fmt);
            }
        }
        printf("Format specific information:\n");
        printf("    compat: %s\n", info.qcow2_version == 2 ? "0.10" : "1.1");
        printf("    refcount bits: %d\n", info.refcount_bits);
        printf("    snapshots: %u\n", info.nb_snapshots);
        printf("    corrupt: %s\n", info.corrupt ? "true" : "false");
        printf("    dirty: %s\n", info.dirty ? "true" : "false");
    }
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *file = argv[argc - 1];
    BlockCheck res;
    char err[512];
    if (blk_check(file, &res, stdout, err, sizeof(err)) < 0) {
        fprintf(stderr, "anyvm-img: %s\n", err);
        return 1;
    }
    if (res.corruptions) {
        printf("\n%" PRIu64 " errors were found on the image.\n"
               "Data may be corrupted, or further writes to the image may corrupt it.\n",
               res.corruptions);
    }
    if (res.leaks) {
        printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
               "This means waste of disk space, but no harm to data.\n",
               res.leaks);
    }
    if (!res.corruptions && !res.leaks) {
        printf("No errors were found on the image.\n");
    }
    if (res.total_clusters) {
        printf("%" PRIu64 "/%" PRIu64 " = %.2f%% allocated\n", res.allocated_clusters,
               res.total_clusters,
               100.0 * (double)res.allocated_clusters / (double)res.total_clusters);
        printf("Image end offset: %" PRIu64 "\n", res.image_end);
    }
    return res.corruptions ? 2 : res.leaks ? 3 : 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

static int cmd_convert(int argc, char **argv)
{
    const char *in_fmt = NULL;
    BlockCreateOpts o = {.format = "raw"};
    int c;
    while ((c = getopt(argc, argv, "f:O:o:")) != -1) {
        switch (c) {
        case 'f':
            in_fmt = optarg;
            break;
        case 'O':
            o.format = optarg;
            break;
        case 'o':
            if (parse_create_opts(optarg, &o) < 0) {
                fprintf(stderr, "anyvm-img: bad -o %s\n", optarg);
                return 1;
            }
            break;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind + 2 != argc) {
        usage(stderr);
        return 1;
    }
    char err[512];
    BlockBackend *in = blk_open(argv[optind], in_fmt, BLK_OPEN_RDONLY, err, sizeof(err));
    if (!in) {
        fprintf(stderr, "anyvm-img: %s\n", err);
        return 1;
    }
    o.size = in->sectors * BLK_SECTOR_SIZE;
    const char *out_file = argv[optind + 1];
    BlockBackend *out = NULL;
    if (blk_create(out_file, &o, err, sizeof(err)) < 0 ||
        !(out = blk_open(out_file, o.format, 0, err, sizeof(err)))) {
        fprintf(stderr, "anyvm-img: %s\n", err);
        blk_close(in);
        return 1;
    }
    enum { CHUNK = 2048 }; /* sectors: 1 MiB */
    uint8_t *buf = malloc((size_t)CHUNK * BLK_SECTOR_SIZE);
    int rc = buf ? 0 : 1;
    for (uint64_t s = 0; rc == 0 && s < in->sectors; s += CHUNK) {
        uint32_t n = (uint32_t)(in->sectors - s < CHUNK ? in->sectors - s : CHUNK);
        int r = blk_read(in, s, buf, n);
        /* Zero runs stay unallocated: sparse in raw files, unmapped in qcow2. */
        for (uint32_t k = 0; r == 0 && k < n; k += 128) {
            uint32_t m = n - k < 128 ? n - k : 128;
            uint8_t *p = buf + (size_t)k * BLK_SECTOR_SIZE;
            if (!all_zero(p, (size_t)m * BLK_SECTOR_SIZE)) {
                r = blk_write(out, s + k, p, m);
            }
        }
        if (r < 0) {
            fprintf(stderr, "anyvm-img: convert: %s\n", strerror(-r));
            rc = 1;
        }
    }
    if (rc == 0 && blk_flush(out) < 0) {
        rc = 1;
    }
    free(buf);
    blk_close(out);
    blk_close(in);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cmd_bench: sequential reads or writes of BUFSIZE requests over the first MiB of FILE,
 * then a flush; prints MB/s. */
static int cmd_bench(int argc, char **argv)
{
    const char *fmt = NULL;
    bool write = false;
    uint64_t bufsize = 64 * 1024, total = 256ull << 20;
    int c;
    while ((c = getopt(argc, argv, "wf:s:n:")) != -1) {
        switch (c) {
        case 'w':
            write = true;
            break;
        case 'f':
            fmt = optarg;
            break;
        case 's':
            if (parse_size(optarg, &bufsize) < 0 || bufsize == 0 || bufsize % 512 ||
                bufsize > (64u << 20)) {
                fprintf(stderr, "anyvm-img: bad -s %s\n", optarg);
                return 1;
            }
            break;
        case 'n':
            if (parse_size(optarg, &total) < 0) {
                return 1;
            }
            total <<= 20;
            break;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    char err[512];
    BlockBackend *b = blk_open(argv[optind], fmt, write ? 0 : BLK_OPEN_RDONLY, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "anyvm-img: %s\n", err);
        return 1;
    }
    uint64_t size = b->sectors * BLK_SECTOR_SIZE;
    if (total > size - size % bufsize) {
        total = size - size % bufsize;
    }
    uint8_t *buf = malloc(bufsize);
    if (!buf) {
        blk_close(b);
        return 1;
    }
    for (uint64_t i = 0; i < bufsize; i++) {
        buf[i] = (uint8_t)(i * 31 + 7);
    }
    double t0 = now_s();
    int rc = 0;
    for (uint64_t off = 0; off < total && rc == 0; off += bufsize) {
        uint32_t n = (uint32_t)(bufsize / 512);
        int r = write ? blk_write(b, off / 512, buf, n) : blk_read(b, off / 512, buf, n);
        if (r < 0) {
            fprintf(stderr, "anyvm-img: bench: %s\n", strerror(-r));
            rc = 1;
        }
    }
    if (rc == 0 && blk_flush(b) < 0) {
        rc = 1;
    }
    double dt = now_s() - t0;
    if (rc == 0) {
        printf("%s %" PRIu64 " MiB in %" PRIu64 "-byte requests: %.3f s, %.1f MB/s\n",
               write ? "wrote" : "read", total >> 20, bufsize, dt,
               (double)total / 1e6 / (dt > 0 ? dt : 1e-9));
    }
    free(buf);
    blk_close(b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    const char *cmd = argv[1];
    argc--;
    argv++;
    optind = 1;
    if (!strcmp(cmd, "create")) {
        return cmd_create(argc, argv);
    }
    if (!strcmp(cmd, "info")) {
        return cmd_info(argc, argv);
    }
    if (!strcmp(cmd, "check")) {
        return cmd_check(argc, argv);
    }
    if (!strcmp(cmd, "convert")) {
        return cmd_convert(argc, argv);
    }
    if (!strcmp(cmd, "bench")) {
        return cmd_bench(argc, argv);
    }
    fprintf(stderr, "anyvm-img: unknown command '%s'\n", cmd);
    usage(stderr);
    return 1;
}
