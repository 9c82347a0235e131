/* test_char.c: host character backends: null, file, unix/tcp sockets (one client at a time,
 * backpressure, dropped output without a client) and stdio on a pseudo-terminal (raw mode,
 * Ctrl-A escapes, terminal restored on close). */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "frontend/char.h"

static Machine *new_machine(void)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    char err[128];
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    return m;
}

/* A device-side sink with a limited receive buffer. */
typedef struct Sink {
    uint8_t buf[8192];
    size_t len;
    size_t room; /* what can_receive reports */
    int opened, closed;
} Sink;

static int sink_can_receive(void *opaque)
{
    Sink *s = opaque;
    return (int)s->room;
}

static void sink_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Sink *s = opaque;
    cr_assert_leq(len, s->room, "backend delivered more than can_receive allowed");
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    s->room -= len;
}

static void sink_event(void *opaque, int ev)
{
    Sink *s = opaque;
    if (ev == CHR_EVENT_OPENED) {
        s->opened++;
    } else if (ev == CHR_EVENT_CLOSED) {
        s->closed++;
    }
}

static void attach(CharBackend *cb, Sink *s)
{
    CharFrontend fe = {.can_receive = sink_can_receive,
                       .receive = sink_receive,
                       .opaque = s,
                       .event = sink_event};
    chr_set_frontend(cb, &fe);
}

/* Run the machine loop's fd polling a few times. */
static void pump(Machine *m, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        machine_poll(m, 20 * 1000000);
    }
}

Test(char, null_swallows_output_and_none_is_no_backend)
{
    Machine *m = new_machine();
    char err[128];
    CharBackend *cb = char_open(m, "null", 0, err, sizeof(err));
    cr_assert_not_null(cb, "%s", err);
    cr_assert_eq(chr_write(cb, (const uint8_t *)"abc", 3), 3);
    char_close(cb);
    cr_assert_null(char_open(m, "none", 0, err, sizeof(err)));
    cr_assert_str_eq(err, "");
    cr_assert_null(char_open(m, "vc", 0, err, sizeof(err)));
    cr_assert_neq(err[0], '\0');
    machine_free(m);
}

Test(char, file_backend_writes_the_bytes)
{
    Machine *m = new_machine();
    char path[] = "/tmp/anyvm-char-XXXXXX";
    int tfd = mkstemp(path);
    cr_assert_geq(tfd, 0);
    close(tfd);
    char spec[64];
    snprintf(spec, sizeof(spec), "file:%s", path);
    char err[128];
    CharBackend *cb = char_open(m, spec, 0, err, sizeof(err));
    cr_assert_not_null(cb, "%s", err);
    cr_assert_eq(chr_write(cb, (const uint8_t *)"hello\n", 6), 6);
    char_close(cb);
    FILE *f = fopen(path, "r");
    char line[32] = "";
    cr_assert_not_null(fgets(line, sizeof(line), f));
    fclose(f);
    cr_assert_str_eq(line, "hello\n");
    unlink(path);
    cr_assert_null(char_open(m, "file:/nonexistent-dir/x", 0, err, sizeof(err)));
    cr_assert(strstr(err, "No such file"), "%s", err);
    machine_free(m);
}

static int connect_path(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
    return fd;
}

static ssize_t read_avail(int fd, char *buf, size_t cap, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1) {
        return 0;
    }
    return read(fd, buf, cap);
}

Test(char, unix_socket_serves_one_client_at_a_time_with_backpressure)
{
    Machine *m = new_machine();
    char dir[] = "/tmp/anyvm-chr-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], spec[160], err[128];
    snprintf(path, sizeof(path), "%s/s.sock", dir);
    snprintf(spec, sizeof(spec), "unix:%s,server,nowait", path);
    CharBackend *cb = char_open(m, spec, 0, err, sizeof(err));
    cr_assert_not_null(cb, "%s", err);
    Sink s = {.room = 3};
    attach(cb, &s);
    cr_assert_not(char_is_connected(cb));
    cr_assert_str_eq(char_unix_path(cb), path);

    /* no client: output is dropped, not queued */
    cr_assert_eq(chr_write(cb, (const uint8_t *)"lost", 4), 4);

    int c1 = connect_path(path);
    pump(m, 2);
    cr_assert_eq(s.opened, 1);
    cr_assert(char_is_connected(cb));
    cr_assert_eq(write(c1, "abcdef", 6), 6);
    pump(m, 3);
    cr_assert_eq(s.len, 3, "only as much as can_receive allowed");
    cr_assert_eq(memcmp(s.buf, "abc", 3), 0);
    s.room = 100;
    chr_accept_input(cb);
    pump(m, 3);
    cr_assert_eq(s.len, 6);
    cr_assert_eq(memcmp(s.buf, "abcdef", 6), 0);

    cr_assert_eq(chr_write(cb, (const uint8_t *)"out", 3), 3);
    char buf[64];
    cr_assert_eq(read_avail(c1, buf, sizeof(buf), 1000), 3);
    cr_assert_eq(memcmp(buf, "out", 3), 0, "the dropped bytes never arrive");

    /* a second client waits in the backlog until the first leaves */
    int c2 = connect_path(path);
    cr_assert_eq(write(c2, "zz", 2), 2);
    pump(m, 2);
    cr_assert_eq(s.opened, 1);
    cr_assert_eq(s.len, 6);
    close(c1);
    pump(m, 4);
    cr_assert_eq(s.closed, 1);
    cr_assert_eq(s.opened, 2);
    cr_assert_eq(s.len, 8);
    cr_assert_eq(memcmp(s.buf + 6, "zz", 2), 0);
    close(c2);
    pump(m, 2);
    cr_assert_eq(s.closed, 2);
    char_close(cb);
    cr_assert_neq(access(path, F_OK), 0, "the socket file is removed on close");
    rmdir(dir);
    machine_free(m);
}

Test(char, tcp_socket_on_an_ephemeral_port)
{
    Machine *m = new_machine();
    char err[128];
    CharBackend *cb = char_open(m, "tcp:127.0.0.1:0,server,nowait", 0, err, sizeof(err));
    cr_assert_not_null(cb, "%s", err);
    Sink s = {.room = 100};
    attach(cb, &s);
    int port = char_tcp_port(cb);
    cr_assert_gt(port, 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    pump(m, 2);
    cr_assert_eq(s.opened, 1);
    cr_assert_eq(write(fd, "ping", 4), 4);
    pump(m, 2);
    cr_assert_eq(s.len, 4);
    chr_write(cb, (const uint8_t *)"pong", 4);
    char buf[16];
    cr_assert_eq(read_avail(fd, buf, sizeof(buf), 1000), 4);
    cr_assert_eq(memcmp(buf, "pong", 4), 0);
    close(fd);
    char_close(cb);
    machine_free(m);
}

Test(char, stdio_on_a_terminal_is_raw_with_ctrl_a_escapes)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0);
    cr_assert_eq(grantpt(master), 0);
    cr_assert_eq(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    cr_assert_geq(slave, 0);
    int saved_in = dup(0);
    cr_assert_eq(dup2(slave, 0), 0);

    Machine *m = new_machine();
    char err[128];
    CharBackend *cb = char_open(m, "stdio", CHAR_OPEN_RAW_STDIO, err, sizeof(err));
    cr_assert_not_null(cb, "%s", err);
    struct termios t;
    cr_assert_eq(tcgetattr(0, &t), 0);
    cr_assert_eq(t.c_lflag & (ICANON | ECHO | ISIG), 0, "raw mode while running");
    Sink s = {.room = 100};
    attach(cb, &s);

    cr_assert_eq(write(master,
                       "ab\x01\x01"
                       "c\x01x",
                       7),
                 7);
    pump(m, 3);
    cr_assert_eq(s.len, 4);
    cr_assert_eq(memcmp(s.buf,
                        "ab\x01"
                        "c",
                        4),
                 0, "Ctrl-A Ctrl-A sends one Ctrl-A");
    cr_assert_eq(m->state, RUN_STATE_SHUTDOWN, "Ctrl-A x quits");
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_HOST_QUIT);

    char_close(cb);
    cr_assert_eq(tcgetattr(0, &t), 0);
    cr_assert_neq(t.c_lflag & ICANON, 0, "the terminal is restored on close");
    machine_free(m);
    dup2(saved_in, 0);
    close(saved_in);
    close(slave);
    close(master);
}

Test(char, stdio_from_a_pipe_passes_bytes_unchanged)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    int saved_in = dup(0);
    cr_assert_eq(dup2(p[0], 0), 0);
    Machine *m = new_machine();
    char err[128];
    CharBackend *cb = char_open(m, "stdio", CHAR_OPEN_RAW_STDIO, err, sizeof(err));
    cr_assert_not_null(cb, "%s", err);
    Sink s = {.room = 100};
    attach(cb, &s);
    cr_assert_eq(write(p[1], "a\x01x", 3), 3);
    pump(m, 2);
    cr_assert_eq(s.len, 3);
    cr_assert_eq(memcmp(s.buf, "a\x01x", 3), 0);
    cr_assert_eq(m->state, RUN_STATE_RUNNING, "no escapes without a terminal");
    close(p[1]);
    pump(m, 2); /* EOF: input stops, nothing breaks */
    char_close(cb);
    machine_free(m);
    dup2(saved_in, 0);
    close(saved_in);
    close(p[0]);
}

Test(char, input_held_back_by_a_full_device_survives_the_writer_closing)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    int saved_in = dup(0);
    cr_assert_eq(dup2(p[0], 0), 0);
    Machine *m = new_machine();
    char err[128];
    CharBackend *cb = char_open(m, "stdio", 0, err, sizeof(err));
    cr_assert_not_null(cb, "%s", err);
    Sink s = {.room = 2};
    attach(cb, &s);
    cr_assert_eq(write(p[1], "abcd", 4), 4);
    close(p[1]);
    pump(m, 3);
    cr_assert_eq(s.len, 2);
    s.room = 10;
    chr_accept_input(cb);
    pump(m, 3);
    cr_assert_eq(s.len, 4, "the bytes after the hang-up are not lost");
    cr_assert_eq(memcmp(s.buf, "abcd", 4), 0);
    char_close(cb);
    machine_free(m);
    dup2(saved_in, 0);
    close(saved_in);
    close(p[0]);
}
