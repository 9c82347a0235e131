/* test_cli.c: the command line parser (every option's good and bad forms) and the anyvm
 * binary's exit codes and error lines. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/char.h"
#include "frontend/options.h"

#define IMG ANYVM_SOURCE_DIR "/CMakeLists.txt" /* any existing readable file */

typedef struct Parsed {
    MachineConfig cfg;
    OptionsAction action;
    char err[512];
    int rc;
} Parsed;

/* Parse a NULL-terminated list of arguments (argv[0] is supplied). */
static Parsed *parse_v(const char *first, va_list ap)
{
    static const int max = 32;
    char *argv[32];
    int argc = 0;
    argv[argc++] = "anyvm";
    for (const char *a = first; a && argc < max; a = va_arg(ap, const char *)) {
        argv[argc++] = (char *)a;
    }
    Parsed *p = calloc(1, sizeof(*p));
    cr_assert_not_null(p);
    p->rc = options_parse(argc, argv, &p->cfg, &p->action, p->err, sizeof(p->err));
    return p;
}

static Parsed *parse(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    Parsed *p = parse_v(first, ap);
    va_end(ap);
    return p;
}

/* Expect success. */
static Parsed *ok(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    Parsed *p = parse_v(first, ap);
    va_end(ap);
    cr_assert_eq(p->rc, 0, "unexpected error: %s", p->err);
    return p;
}

/* Expect failure whose message contains needle; the message is one line. */
static void bad(const char *needle, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    Parsed *p = parse_v(first, ap);
    va_end(ap);
    cr_assert_eq(p->rc, -EINVAL, "expected an error containing '%s'", needle);
    cr_assert(strstr(p->err, needle), "message '%s' lacks '%s'", p->err, needle);
    cr_assert_null(strchr(p->err, '\n'), "message must be a single line: '%s'", p->err);
    free(p);
}

Test(cli, no_arguments_give_the_defaults)
{
    Parsed *p = ok(NULL);
    cr_assert_eq(p->action, OPTIONS_RUN);
    cr_assert_eq(p->cfg.ram_size, 128ull << 20);
    cr_assert_eq(p->cfg.smp, 1);
    cr_assert_str_eq(p->cfg.boot_order, "cad");
    cr_assert_eq(p->cfg.icount_shift, -1);
    cr_assert_str_eq(p->cfg.accel, MACHINE_DEFAULT_ACCEL);
    cr_assert_eq(p->cfg.n_drives, 0);
    cr_assert_eq(p->cfg.n_serial, 0);
    cr_assert_not(p->cfg.debug_exit.enabled);
    cr_assert_eq(p->cfg.debug_exit.iobase, 0x501);
    cr_assert_eq(p->cfg.debug_exit.iosize, 2);
    free(p);
}

Test(cli, ram_size_accepts_mib_and_suffixes)
{
    Parsed *p = ok("-m", "256", NULL);
    cr_assert_eq(p->cfg.ram_size, 256ull << 20);
    free(p);
    p = ok("-m", "1G", NULL);
    cr_assert_eq(p->cfg.ram_size, 1ull << 30);
    free(p);
    p = ok("-m", "65536K", NULL);
    cr_assert_eq(p->cfg.ram_size, 64ull << 20);
    free(p);
    p = ok("-m", "size=32M", NULL);
    cr_assert_eq(p->cfg.ram_size, 32ull << 20);
    free(p);
    p = ok("--m", "64m", NULL);
    cr_assert_eq(p->cfg.ram_size, 64ull << 20);
    free(p);
}

Test(cli, ram_size_rejects_garbage_and_out_of_range)
{
    bad("-m 12x: invalid RAM size", "-m", "12x", NULL);
    bad("invalid RAM size", "-m", "", NULL);
    bad("invalid RAM size", "-m", "-5", NULL);
    bad("between 1M", "-m", "0", NULL);
    bad("between 1M", "-m", "8G", NULL);
    bad("multiple of 4K", "-m", "1025K", NULL);
    bad("-m: requires an argument", "-m", NULL);
}

Test(cli, smp_accepts_only_one_cpu)
{
    Parsed *p = ok("-smp", "1", NULL);
    cr_assert_eq(p->cfg.smp, 1);
    free(p);
    free(ok("-smp", "cpus=1", NULL));
    bad("only one CPU", "-smp", "2", NULL);
    bad("invalid CPU count", "-smp", "two", NULL);
    bad("invalid CPU count", "-smp", "0", NULL);
}

Test(cli, files_must_exist)
{
    Parsed *p = ok("-bios", IMG, "-kernel", IMG, "-initrd", IMG, "-append", "console=ttyS0", NULL);
    cr_assert_str_eq(p->cfg.bios, IMG);
    cr_assert_str_eq(p->cfg.kernel, IMG);
    cr_assert_str_eq(p->cfg.initrd, IMG);
    cr_assert_str_eq(p->cfg.append, "console=ttyS0");
    free(p);
    bad("-bios /missing.bin: No such file or directory", "-bios", "/missing.bin", NULL);
    bad("-kernel /missing: No such file or directory", "-kernel", "/missing", NULL);
    bad("-initrd /missing: No such file", "-kernel", IMG, "-initrd", "/missing", NULL);
    bad("-kernel /tmp: Is a directory", "-kernel", "/tmp", NULL);
    bad("-initrd requires -kernel", "-initrd", IMG, NULL);
    bad("-append requires -kernel", "-append", "x", NULL);
}

Test(cli, hd_cdrom_and_floppy_shortcuts_fill_drive_slots)
{
    Parsed *p =
        ok("-hda", IMG, "-hdb", IMG, "-cdrom", IMG, "-hdd", IMG, "-fda", IMG, "-fdb", IMG, NULL);
    cr_assert_eq(p->cfg.n_drives, 6);
    cr_assert_eq(p->cfg.drives[0].iface, DRIVE_IF_IDE);
    cr_assert_eq(p->cfg.drives[0].index, 0);
    cr_assert_eq(p->cfg.drives[1].index, 1);
    cr_assert_eq(p->cfg.drives[2].index, 2);
    cr_assert_eq(p->cfg.drives[2].media, DRIVE_MEDIA_CDROM);
    cr_assert(p->cfg.drives[2].readonly);
    cr_assert_eq(p->cfg.drives[3].index, 3);
    cr_assert_eq(p->cfg.drives[4].iface, DRIVE_IF_FLOPPY);
    cr_assert_eq(p->cfg.drives[4].index, 0);
    cr_assert_eq(p->cfg.drives[5].index, 1);
    cr_assert_str_eq(p->cfg.drives[0].file, IMG);
    free(p);
    bad("-hda /missing.img: No such file or directory", "-hda", "/missing.img", NULL);
    bad("-cdrom /missing.iso: No such file", "-cdrom", "/missing.iso", NULL);
    bad("-fda /missing: No such file", "-fda", "/missing", NULL);
    bad("already in use", "-hdc", IMG, "-cdrom", IMG, NULL);
    bad("-hdb: requires an argument", "-hdb", NULL);
}

Test(cli, bare_image_is_the_first_hard_disk)
{
    Parsed *p = ok(IMG, "-m", "64", NULL);
    cr_assert_eq(p->cfg.n_drives, 1);
    cr_assert_eq(p->cfg.drives[0].iface, DRIVE_IF_IDE);
    cr_assert_eq(p->cfg.drives[0].index, 0);
    cr_assert_eq(p->cfg.drives[0].media, DRIVE_MEDIA_DISK);
    free(p);
    bad("-hda /missing.img: No such file or directory", "/missing.img", NULL);
    bad("only one image", IMG, IMG, NULL);
    bad("already in use", IMG, "-hda", IMG, NULL);
}

Test(cli, drive_parses_every_key)
{
    Parsed *p =
        ok("-drive", "file=" IMG ",format=raw,if=ide,media=cdrom,index=3", "-drive",
           "file=" IMG ",if=floppy,readonly=on", "-drive", "file=" IMG ",format=qcow2", NULL);
    cr_assert_eq(p->cfg.n_drives, 3);
    const DriveConfig *d = &p->cfg.drives[0];
    cr_assert_str_eq(d->format, "raw");
    cr_assert_eq(d->iface, DRIVE_IF_IDE);
    cr_assert_eq(d->media, DRIVE_MEDIA_CDROM);
    cr_assert_eq(d->index, 3);
    cr_assert(d->readonly);
    d = &p->cfg.drives[1];
    cr_assert_eq(d->iface, DRIVE_IF_FLOPPY);
    cr_assert_eq(d->index, 0);
    cr_assert(d->readonly);
    d = &p->cfg.drives[2];
    cr_assert_str_eq(d->format, "qcow2");
    cr_assert_eq(d->index, 0, "the lowest free IDE slot");
    cr_assert_not(d->readonly);
    free(p);
}

Test(cli, drive_without_index_takes_the_next_free_slot)
{
    Parsed *p = ok("-drive", "file=" IMG, "-hda", IMG, "-drive", "file=" IMG, NULL);
    cr_assert_eq(p->cfg.drives[0].index, 1);
    cr_assert_eq(p->cfg.drives[1].index, 0);
    cr_assert_eq(p->cfg.drives[2].index, 2);
    free(p);
}

Test(cli, drive_rejects_bad_forms)
{
    bad("missing file=", "-drive", "if=ide", NULL);
    bad("-drive file=/missing.img: No such file", "-drive", "file=/missing.img", NULL);
    bad("unknown format 'vmdk'", "-drive", "file=" IMG ",format=vmdk", NULL);
    bad("unsupported interface 'scsi'", "-drive", "file=" IMG ",if=scsi", NULL);
    bad("bad media 'tape'", "-drive", "file=" IMG ",media=tape", NULL);
    bad("bad index", "-drive", "file=" IMG ",index=x", NULL);
    bad("out of range", "-drive", "file=" IMG ",index=4", NULL);
    bad("out of range", "-drive", "file=" IMG ",if=floppy,index=2", NULL);
    bad("readonly expects on or off", "-drive", "file=" IMG ",readonly=maybe", NULL);
    bad("unknown parameter 'cache'", "-drive", "file=" IMG ",cache=none", NULL);
    bad("expected key=value", "-drive", "file=" IMG ",bogus", NULL);
    bad("CD-ROM is read-only", "-drive", "file=" IMG ",media=cdrom,readonly=off", NULL);
    bad("floppy cannot have media=cdrom", "-drive", "file=" IMG ",if=floppy,media=cdrom", NULL);
}

Test(cli, boot_order_forms)
{
    Parsed *p = ok("-boot", "d", NULL);
    cr_assert_str_eq(p->cfg.boot_order, "d");
    free(p);
    p = ok("-boot", "order=cdn,menu=off", NULL);
    cr_assert_str_eq(p->cfg.boot_order, "cdn");
    free(p);
    bad("invalid boot device 'z'", "-boot", "z", NULL);
    bad("given twice", "-boot", "cc", NULL);
    bad("missing boot order", "-boot", "order=", NULL);
    bad("unknown parameter", "-boot", "order=c,splash=x", NULL);
}

Test(cli, serial_is_repeatable_and_validated)
{
    Parsed *p = ok("-serial", "stdio", "-serial", "file:/tmp/x.log", "-serial", "null", "-serial",
                   "unix:/tmp/s.sock,server,nowait", NULL);
    cr_assert_eq(p->cfg.n_serial, 4);
    cr_assert_str_eq(p->cfg.serial[0], "stdio");
    cr_assert_str_eq(p->cfg.serial[1], "file:/tmp/x.log");
    cr_assert_str_eq(p->cfg.serial[3], "unix:/tmp/s.sock,server,nowait");
    free(p);
    free(ok("-serial", "tcp::4555,server,nowait", "-serial", "tcp:127.0.0.1:0,server", NULL));
    free(ok("-serial", "none", NULL));
    bad("too many serial ports", "-serial", "null", "-serial", "null", "-serial", "null",
        "-serial", "null", "-serial", "null", NULL);
    bad("unsupported character device", "-serial", "vc", NULL);
    bad("only server sockets", "-serial", "unix:/tmp/x.sock", NULL);
    bad("bad TCP port", "-serial", "tcp::99999,server", NULL);
    bad("unknown socket option 'foo'", "-serial", "tcp::1,server,foo", NULL);
    bad("file: needs a path", "-serial", "file:", NULL);
    bad("not supported", "-serial", "mon:stdio", NULL);
}

Test(cli, char_spec_parse_splits_tcp_host_and_port)
{
    CharSpec s;
    char err[128];
    cr_assert_eq(char_spec_parse("tcp:[::1]:4444,server,nowait", &s, err, sizeof(err)), 0);
    cr_assert_eq(s.kind, CHAR_SPEC_TCP);
    cr_assert_str_eq(s.host, "::1");
    cr_assert_eq(s.port, 4444);
    cr_assert(s.server);
    cr_assert(s.nowait);
    cr_assert_eq(char_spec_parse("tcp:localhost:23,server", &s, err, sizeof(err)), 0);
    cr_assert_str_eq(s.host, "localhost");
    cr_assert_not(s.nowait);
    cr_assert_eq(char_spec_parse("unix:/tmp/q,server=on,wait=off", &s, err, sizeof(err)), 0);
    cr_assert_eq(s.kind, CHAR_SPEC_UNIX);
    cr_assert_str_eq(s.path, "/tmp/q");
    cr_assert(s.nowait);
}

Test(cli, display_and_nographic)
{
    Parsed *p = ok("-display", "none", NULL);
    cr_assert_str_eq(p->cfg.display, "none");
    cr_assert_eq(p->cfg.n_serial, 0);
    free(p);
    p = ok("-display", "sdl", NULL);
    cr_assert_str_eq(p->cfg.display, "sdl");
    free(p);
    p = ok("-nographic", NULL);
    cr_assert(p->cfg.nographic);
    cr_assert_str_eq(p->cfg.display, "none");
    cr_assert_eq(p->cfg.n_serial, 1, "-nographic puts the first serial port on stdio");
    cr_assert_str_eq(p->cfg.serial[0], "stdio");
    free(p);
    p = ok("-nographic", "-serial", "null", NULL);
    cr_assert_eq(p->cfg.n_serial, 1);
    cr_assert_str_eq(p->cfg.serial[0], "null");
    free(p);
    p = ok("-nographic", "-monitor", "stdio", NULL);
    cr_assert_eq(p->cfg.n_serial, 0, "stdio is the monitor's, not the serial port's");
    free(p);
    bad("unsupported display", "-display", "gtk", NULL);
}

Test(cli, monitor_and_qmp_specs)
{
    Parsed *p = ok("-monitor", "unix:/tmp/m.sock,server,nowait", "-qmp",
                   "tcp:127.0.0.1:4444,server,nowait", NULL);
    cr_assert_str_eq(p->cfg.monitor, "unix:/tmp/m.sock,server,nowait");
    cr_assert_str_eq(p->cfg.qmp, "tcp:127.0.0.1:4444,server,nowait");
    free(p);
    free(ok("-monitor", "stdio", NULL));
    bad("-qmp unix:/tmp/q.sock: only server sockets", "-qmp", "unix:/tmp/q.sock", NULL);
    bad("stdio is used by more than one", "-serial", "stdio", "-monitor", "stdio", NULL);
    bad("stdio is used by more than one", "-qmp", "stdio", "-monitor", "stdio", NULL);
}

Test(cli, debugcon_spec)
{
    Parsed *p = ok("-debugcon", "file:/tmp/e9.log", NULL);
    cr_assert_str_eq(p->cfg.debugcon, "file:/tmp/e9.log");
    free(p);
    p = ok("-nographic", "-debugcon", "stdio", NULL);
    cr_assert_eq(p->cfg.n_serial, 0, "stdio already taken by -debugcon");
    free(p);
    bad("-debugcon vc: unsupported character device", "-debugcon", "vc", NULL);
    bad("stdio is used by more than one", "-debugcon", "stdio", "-serial", "stdio", NULL);
}

Test(cli, log_items_and_log_file)
{
    Parsed *p = ok("-d", "int,in_asm,dev:pic", "-D", "/tmp/anyvm.log", NULL);
    cr_assert_str_eq(p->cfg.log_items, "int,in_asm,dev:pic");
    cr_assert_str_eq(p->cfg.log_file, "/tmp/anyvm.log");
    free(p);
    p = ok("-d", "help", NULL);
    cr_assert_eq(p->action, OPTIONS_LOG_HELP);
    free(p);
    bad("-d nonsense: unknown log item 'nonsense'", "-d", "nonsense", NULL);
    bad("-D: requires an argument", "-D", NULL);
}

Test(cli, icount_forms)
{
    Parsed *p = ok("-icount", "shift=3", NULL);
    cr_assert_eq(p->cfg.icount_shift, 3);
    cr_assert_not(p->cfg.icount_nosleep);
    free(p);
    p = ok("-icount", "0", NULL);
    cr_assert_eq(p->cfg.icount_shift, 0);
    free(p);
    p = ok("-icount", "shift=5,sleep=off", NULL);
    cr_assert_eq(p->cfg.icount_shift, 5);
    cr_assert(p->cfg.icount_nosleep);
    free(p);
    bad("shift must be a number from 0 to 10", "-icount", "shift=auto", NULL);
    bad("shift must be a number from 0 to 10", "-icount", "11", NULL);
    bad("missing shift", "-icount", "sleep=off", NULL);
    bad("unknown parameter", "-icount", "shift=1,align=on", NULL);
}

Test(cli, flags)
{
    Parsed *p = ok("-no-reboot", "-snapshot", "-S", NULL);
    cr_assert(p->cfg.no_reboot);
    cr_assert(p->cfg.snapshot);
    cr_assert(p->cfg.start_paused);
    free(p);
}

Test(cli, accel)
{
    Parsed *p = ok("-accel", "jit", NULL);
    cr_assert_str_eq(p->cfg.accel, "jit");
    free(p);
    p = ok("-accel", "interp", NULL);
    cr_assert_str_eq(p->cfg.accel, "interp");
    free(p);
    bad("unsupported accelerator", "-accel", "kvm", NULL);
}

Test(cli, isa_debug_exit_device)
{
    Parsed *p = ok("-device", "isa-debug-exit", NULL);
    cr_assert(p->cfg.debug_exit.enabled);
    cr_assert_eq(p->cfg.debug_exit.iobase, 0x501);
    cr_assert_eq(p->cfg.debug_exit.iosize, 2);
    free(p);
    p = ok("-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL);
    cr_assert_eq(p->cfg.debug_exit.iobase, 0xf4);
    cr_assert_eq(p->cfg.debug_exit.iosize, 4);
    free(p);
    bad("unsupported device 'rtl8139'", "-device", "rtl8139", NULL); /* e1000 is a NIC now */
    bad("bad iobase", "-device", "isa-debug-exit,iobase=0x10000", NULL);
    bad("iosize must be 1, 2 or 4", "-device", "isa-debug-exit,iosize=3", NULL);
    bad("unknown parameter", "-device", "isa-debug-exit,irq=3", NULL);
    bad("ports beyond 0xFFFF", "-device", "isa-debug-exit,iobase=0xffff,iosize=2", NULL);
    bad("only one", "-device", "isa-debug-exit", "-device", "isa-debug-exit", NULL);
}

Test(cli, help_and_version_actions)
{
    Parsed *p = ok("--help", NULL);
    cr_assert_eq(p->action, OPTIONS_HELP);
    free(p);
    p = ok("-h", NULL);
    cr_assert_eq(p->action, OPTIONS_HELP);
    free(p);
    p = ok("--version", NULL);
    cr_assert_eq(p->action, OPTIONS_VERSION);
    free(p);
    p = ok("-version", "-nosuchoption", NULL);
    cr_assert_eq(p->action, OPTIONS_VERSION, "parsing stops at --version");
    free(p);
}

Test(cli, unknown_option_is_named)
{
    bad("-nosuchoption: invalid option", "-nosuchoption", NULL);
    bad("--frobnicate: invalid option", "-m", "64", "--frobnicate", NULL);
    Parsed *p = parse("-x", NULL);
    cr_assert_eq(p->rc, -EINVAL);
    free(p);
}

Test(cli, size_parser)
{
    uint64_t b;
    cr_assert_eq(options_parse_size("2", &b), 0);
    cr_assert_eq(b, 2ull << 20);
    cr_assert_eq(options_parse_size("3g", &b), 0);
    cr_assert_eq(b, 3ull << 30);
    cr_assert_eq(options_parse_size("M", &b), -EINVAL);
    cr_assert_eq(options_parse_size("1.5G", &b), -EINVAL);
    cr_assert_eq(options_parse_size("99999999999999999999", &b), -EINVAL);
}

/* ---- the binary ---- */

typedef struct RunResult {
    int status; /* exit status, or -signal */
    char out[8192];
    char err[8192];
} RunResult;

static void read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0) {
        n += (size_t)r;
    }
    buf[n] = '\0';
}

static RunResult *run_anyvm(const char *const args[])
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = ANYVM_BINARY_DIR "/frontend/anyvm";
    for (int i = 0; args[i] && argc < 15; i++) {
        argv[argc++] = (char *)args[i];
    }
    argv[argc] = NULL;
    int po[2], pe[2];
    cr_assert_eq(pipe(po), 0);
    cr_assert_eq(pipe(pe), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    RunResult *r = calloc(1, sizeof(*r));
    read_all(po[0], r->out, sizeof(r->out));
    read_all(pe[0], r->err, sizeof(r->err));
    close(po[0]);
    close(pe[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return r;
}

Test(cli_binary, unknown_option_exits_nonzero_with_one_line)
{
    const char *args[] = {"-nosuchoption", NULL};
    RunResult *r = run_anyvm(args);
    cr_assert_neq(r->status, 0);
    cr_assert(r->status > 0, "must exit, not crash");
    cr_assert_str_eq(r->err, "anyvm: -nosuchoption: invalid option\n");
    free(r);
}

Test(cli_binary, missing_disk_exits_nonzero_with_one_line)
{
    const char *args[] = {"-hda", "/missing.img", NULL};
    RunResult *r = run_anyvm(args);
    cr_assert_eq(r->status, 1);
    cr_assert_str_eq(r->err, "anyvm: -hda /missing.img: No such file or directory\n");
    free(r);
}

Test(cli_binary, missing_argument_exits_nonzero)
{
    const char *args[] = {"-m", NULL};
    RunResult *r = run_anyvm(args);
    cr_assert_eq(r->status, 1);
    cr_assert_str_eq(r->err, "anyvm: -m: requires an argument\n");
    free(r);
}

Test(cli_binary, help_prints_usage_and_exits_zero)
{
    const char *args[] = {"--help", NULL};
    RunResult *r = run_anyvm(args);
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "usage: anyvm"));
    cr_assert(strstr(r->out, "-hda"));
    cr_assert(strstr(r->out, "-qmp"));
    cr_assert_str_eq(r->err, "");
    free(r);
}

Test(cli_binary, version_prints_one_line_and_exits_zero)
{
    const char *args[] = {"--version", NULL};
    RunResult *r = run_anyvm(args);
    cr_assert_eq(r->status, 0);
    cr_assert(strncmp(r->out, "anyvm version ", 14) == 0, "got '%s'", r->out);
    cr_assert_eq(strchr(r->out, '\n'), r->out + strlen(r->out) - 1, "exactly one line");
    free(r);
}

Test(cli_binary, log_help_lists_items)
{
    const char *args[] = {"-d", "help", NULL};
    RunResult *r = run_anyvm(args);
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "in_asm"));
    cr_assert(strstr(r->out, "guest_errors"));
    free(r);
}

Test(cli_binary, unwritable_log_file_is_reported)
{
    const char *args[] = {"-D", "/nonexistent-dir/x.log", "-display", "none", NULL};
    RunResult *r = run_anyvm(args);
    cr_assert_eq(r->status, 1);
    cr_assert_str_eq(r->err, "anyvm: -D /nonexistent-dir/x.log: No such file or directory\n");
    free(r);
}
