/* test_qmp.c: the JSON parser/emitter/streamer, QMP dispatch, and the anyvm binary's QMP and
 * human monitors over real unix sockets. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frontend/json.h"
#include "frontend/monitor.h"
#include "frontend/qmp.h"

/* ---- JSON ---- */

Test(json, parses_every_value_kind)
{
    const char *t = " {\"a\": [1, -2.5e1, true, false, null], "
                    "\"s\": \"x\\n\\\"\\u00e9\\ud83d\\ude00\", \"o\": {}, \"e\": []} ";
    char err[128];
    JsonValue *v = json_parse(t, strlen(t), err, sizeof(err));
    cr_assert_not_null(v, "%s", err);
    cr_assert_eq(v->type, JSON_OBJECT);
    JsonValue *a = json_object_get(v, "a");
    cr_assert_eq(a->type, JSON_ARRAY);
    cr_assert_eq(a->n, 5);
    cr_assert(a->items[0]->is_int);
    cr_assert_eq(a->items[0]->integer, 1);
    cr_assert_not(a->items[1]->is_int);
    cr_assert_float_eq(a->items[1]->num, -25.0, 1e-12);
    cr_assert_eq(a->items[2]->type, JSON_BOOL);
    cr_assert(a->items[2]->boolean);
    cr_assert_not(a->items[3]->boolean);
    cr_assert_eq(a->items[4]->type, JSON_NULL);
    cr_assert_str_eq(json_get_string(v, "s"), "x\n\"\xc3\xa9\xf0\x9f\x98\x80");
    cr_assert_eq(json_object_get(v, "o")->type, JSON_OBJECT);
    cr_assert_eq(json_object_get(v, "e")->n, 0);
    json_free(v);
}

Test(json, emits_what_it_parses)
{
    const char *t = "{\"k\": [1, \"a\\\\b\\u0001\", {\"z\": null}], \"t\": true}";
    JsonValue *v = json_parse(t, strlen(t), NULL, 0);
    cr_assert_not_null(v);
    char *s = json_emit(v);
    cr_assert_str_eq(s, t);
    free(s);
    json_free(v);
}

Test(json, rejects_malformed_input)
{
    const char *bad[] = {
        "",          "{",           "{\"a\" 1}",   "{\"a\": }", "[1,]",          "[1 2]",
        "tru",       "01",          "1.",          "-",         "\"abc",         "\"\\x\"",
        "\"\\u12\"", "\"\\ud800\"", "{\"a\":1} x", "{a: 1}",    "\"tab\there\"", "[1]]",
        "nul"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[128] = "";
        JsonValue *v = json_parse(bad[i], strlen(bad[i]), err, sizeof(err));
        cr_assert_null(v, "accepted '%s'", bad[i]);
        cr_assert_neq(err[0], '\0', "no message for '%s'", bad[i]);
    }
}

Test(json, bounds_depth_and_size)
{
    char deep[256];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    char err[128];
    cr_assert_null(json_parse(deep, 200, err, sizeof(err)));
    cr_assert(strstr(err, "nesting"), "%s", err);
    /* exactly at the limit is fine */
    memset(deep, '[', JSON_MAX_DEPTH);
    memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
    JsonValue *v = json_parse(deep, 2 * JSON_MAX_DEPTH, err, sizeof(err));
    cr_assert_not_null(v, "%s", err);
    json_free(v);
    size_t big = JSON_MAX_INPUT + 10;
    char *s = malloc(big);
    memset(s, ' ', big);
    s[0] = '1';
    cr_assert_null(json_parse(s, big, err, sizeof(err)));
    free(s);
}

Test(json, builders_replace_existing_keys)
{
    JsonValue *o = json_object();
    cr_assert_eq(json_object_set(o, "a", json_int(1)), 0);
    cr_assert_eq(json_object_set(o, "a", json_string("two")), 0);
    cr_assert_eq(o->n, 1);
    cr_assert_str_eq(json_get_string(o, "a"), "two");
    cr_assert_eq(json_array_append(o, json_null()), -EINVAL);
    char *s = json_emit(o);
    cr_assert_str_eq(s, "{\"a\": \"two\"}");
    free(s);
    json_free(o);
}

static int stream_all(JsonStreamer *js, const char *in, char out[][256], int max)
{
    const uint8_t *p = (const uint8_t *)in;
    size_t len = strlen(in);
    int n = 0;
    while (len > 0 && n < max) {
        const char *msg;
        size_t ml;
        JsonStreamResult r = json_streamer_feed(js, &p, &len, &msg, &ml);
        if (r == JSON_STREAM_MESSAGE) {
            snprintf(out[n++], 256, "%.*s", (int)ml, msg);
        } else if (r == JSON_STREAM_OVERFLOW) {
            snprintf(out[n++], 256, "<overflow>");
        }
    }
    return n;
}

Test(json, streamer_splits_messages_across_and_within_reads)
{
    JsonStreamer js;
    json_streamer_init(&js);
    char out[8][256];
    int n = stream_all(&js, "{\"a\": \"}{\"}\n  {\"b\"", out, 8);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(out[0], "{\"a\": \"}{\"}");
    n = stream_all(&js, ": [1, {}]}{\"c\":1}oops\n", out, 8);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(out[0], "{\"b\": [1, {}]}");
    cr_assert_str_eq(out[1], "{\"c\":1}");
    cr_assert_str_eq(out[2], "oops\n");
    json_streamer_free(&js);
}

Test(json, streamer_drops_overlong_messages_and_resynchronises)
{
    JsonStreamer js;
    json_streamer_init(&js);
    size_t big = JSON_MAX_INPUT + 100;
    char *s = malloc(big + 32);
    s[0] = '[';
    memset(s + 1, '1', big);
    strcpy(s + big, "\n{\"ok\":1}");
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s);
    const char *msg;
    size_t ml;
    cr_assert_eq(json_streamer_feed(&js, &p, &len, &msg, &ml), JSON_STREAM_OVERFLOW);
    cr_assert_eq(json_streamer_feed(&js, &p, &len, &msg, &ml), JSON_STREAM_MESSAGE);
    cr_assert_eq(ml, 8);
    cr_assert_eq(strncmp(msg, "{\"ok\":1}", 8), 0);
    free(s);
    json_streamer_free(&js);
}

/* ---- QMP dispatch without sockets ---- */

static Machine *qmp_machine(void)
{
    MachineConfig cfg;
    machine_config_defaults(&cfg);
    cfg.ram_size = 1 << 20;
    char err[128];
    Machine *m = machine_new(&cfg, err, sizeof(err));
    cr_assert_not_null(m, "%s", err);
    return m;
}

static char *qmp_do(QmpServer *q, const char *text)
{
    char *r = qmp_handle_text(q, text, strlen(text));
    cr_assert_not_null(r);
    cr_assert_eq(strcmp(r + strlen(r) - 2, "\r\n"), 0, "responses end with CRLF");
    return r;
}

static QmpErrorClass qmp_echo(MonitorHub *hub, const JsonValue *args, JsonValue **ret, char *err,
                              size_t errlen, void *opaque)
{
    const char *s = json_get_string(args, "text");
    if (!s) {
        snprintf(err, errlen, "Parameter 'text' is missing");
        return QMP_ERR_GENERIC;
    }
    *ret = json_string(s);
    ++*(int *)opaque;
    return QMP_OK;
}

Test(qmp, negotiation_dispatch_errors_and_ids)
{
    Machine *m = qmp_machine();
    MonitorHub *hub = monitor_hub_new(m);
    cr_assert_not_null(hub);
    int calls = 0;
    cr_assert_eq(qmp_register(hub, "x-echo", qmp_echo, &calls), 0);
    cr_assert_eq(qmp_register(hub, "x-echo", qmp_echo, &calls), -EEXIST);
    QmpServer *q = qmp_new(hub, NULL);
    cr_assert_not_null(q);

    char *r = qmp_do(q, "{\"execute\": \"query-status\"}");
    cr_assert(strstr(r, "\"class\": \"CommandNotFound\""), "%s", r);
    cr_assert(strstr(r, "qmp_capabilities"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"execute\": \"qmp_capabilities\", \"id\": 1}");
    cr_assert_str_eq(r, "{\"return\": {}, \"id\": 1}\r\n");
    free(r);
    r = qmp_do(q, "{\"execute\": \"qmp_capabilities\"}");
    cr_assert(strstr(r, "CommandNotFound"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"execute\": \"x-echo\", \"arguments\": {\"text\": \"hi\"}, \"id\": \"q\"}");
    cr_assert_str_eq(r, "{\"return\": \"hi\", \"id\": \"q\"}\r\n");
    cr_assert_eq(calls, 1);
    free(r);
    r = qmp_do(q, "{\"execute\": \"x-echo\"}");
    cr_assert_str_eq(r, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'text' "
                        "is missing\"}}\r\n");
    free(r);
    r = qmp_do(q, "{\"execute\": \"stop\", \"arguments\": {\"now\": true}}");
    cr_assert(strstr(r, "Parameter 'now' is unexpected"), "%s", r);
    cr_assert_eq(m->state, RUN_STATE_RUNNING);
    free(r);
    r = qmp_do(q, "{\"execute\": \"stop\", \"bogus\": 1, \"id\": {\"n\": [1]}}");
    cr_assert(strstr(r, "'bogus' is unexpected"), "%s", r);
    cr_assert(strstr(r, "\"id\": {\"n\": [1]}"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"execute\": 42}");
    cr_assert(strstr(r, "must be a string"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"execute\": \"stop\", \"arguments\": []}");
    cr_assert(strstr(r, "'arguments' must be an object"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"arguments\": {}}");
    cr_assert(strstr(r, "lacks member 'execute'"), "%s", r);
    free(r);
    r = qmp_do(q, "\"just a string\"");
    cr_assert(strstr(r, "must be a JSON object"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"execute\": \"nope\", \"id\": null}");
    cr_assert_str_eq(r, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
                        "nope has not been found\"}, \"id\": null}\r\n");
    free(r);
    r = qmp_do(q, "{\"execute\": \"stop\"}");
    cr_assert_str_eq(r, "{\"return\": {}}\r\n");
    cr_assert_eq(m->state, RUN_STATE_PAUSED);
    free(r);
    r = qmp_do(q, "{\"execute\": \"query-status\"}");
    cr_assert_str_eq(r, "{\"return\": {\"status\": \"paused\", \"singlestep\": false, "
                        "\"running\": false}}\r\n");
    free(r);
    r = qmp_do(q, "{\"execute\": \"human-monitor-command\", "
                  "\"arguments\": {\"command-line\": \"info status\"}}");
    cr_assert_str_eq(r, "{\"return\": \"VM status: paused\\n\"}\r\n");
    free(r);
    r = qmp_do(q, "{\"execute\": \"human-monitor-command\", \"arguments\": {}}");
    cr_assert(strstr(r, "'command-line' is missing"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"execute\": \"query-commands\"}");
    cr_assert(strstr(r, "{\"name\": \"x-echo\"}"), "%s", r);
    cr_assert(strstr(r, "{\"name\": \"query-version\"}"), "%s", r);
    free(r);
    r = qmp_do(q, "{\"execute\": \"quit\"}");
    cr_assert_eq(m->state, RUN_STATE_SHUTDOWN);
    cr_assert_eq(m->shutdown_cause, SHUTDOWN_HOST_QUIT);
    free(r);
    qmp_free(q);
    monitor_hub_free(hub);
    machine_free(m);
}

static void hmp_x(Monitor *mon, const char *args, void *opaque)
{
    snprintf(opaque, 64, "[%s]", args);
}

Test(monitor, registered_commands_get_trimmed_arguments)
{
    Machine *m = qmp_machine();
    MonitorHub *hub = monitor_hub_new(m);
    char seen[64] = "";
    cr_assert_eq(monitor_register(hub, "xcmd", "ARG", "test", hmp_x, seen), 0);
    cr_assert_eq(monitor_register(hub, "xcmd", "", "", hmp_x, seen), -EEXIST);
    cr_assert_eq(monitor_register_info(hub, "xinfo", "test", hmp_x, seen), 0);
    Monitor *mon = monitor_new(hub, NULL);
    monitor_handle_line(mon, "   xcmd   a b  ");
    cr_assert_str_eq(seen, "[a b]");
    monitor_handle_line(mon, "info xinfo  z ");
    cr_assert_str_eq(seen, "[z]");
    monitor_handle_line(mon, "stop");
    cr_assert_eq(m->state, RUN_STATE_PAUSED);
    monitor_handle_line(mon, "c");
    cr_assert_eq(m->state, RUN_STATE_RUNNING);
    monitor_handle_line(mon, "system_reset");
    cr_assert(m->reset_requested);
    cr_assert_eq(m->reset_cause, SHUTDOWN_HOST_RESET);
    monitor_handle_line(mon, "quit");
    cr_assert_eq(m->state, RUN_STATE_SHUTDOWN);
    monitor_free(mon);
    monitor_hub_free(hub);
    machine_free(m);
}

/* ---- the binary over real sockets ---- */

typedef struct Child {
    pid_t pid;
    char dir[64];
    char qmp_path[128];
    char mon_path[128];
} Child;

static void start_anyvm(Child *c, bool with_monitor, const char *extra)
{
    strcpy(c->dir, "/tmp/anyvm-qmp-XXXXXX");
    cr_assert_not_null(mkdtemp(c->dir));
    snprintf(c->qmp_path, sizeof(c->qmp_path), "%s/qmp.sock", c->dir);
    snprintf(c->mon_path, sizeof(c->mon_path), "%s/mon.sock", c->dir);
    char qmp_spec[200], mon_spec[200];
    snprintf(qmp_spec, sizeof(qmp_spec), "unix:%s,server,nowait", c->qmp_path);
    snprintf(mon_spec, sizeof(mon_spec), "unix:%s,server,nowait", c->mon_path);
    c->pid = fork();
    cr_assert_neq(c->pid, -1);
    if (c->pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        char *argv[12];
        int n = 0;
        argv[n++] = ANYVM_BINARY_DIR "/frontend/anyvm";
        argv[n++] = "-display";
        argv[n++] = "none";
        argv[n++] = "-qmp";
        argv[n++] = qmp_spec;
        if (with_monitor) {
            argv[n++] = "-monitor";
            argv[n++] = mon_spec;
        }
        if (extra) {
            argv[n++] = (char *)extra;
        }
        argv[n] = NULL;
        execv(argv[0], argv);
        _exit(127);
    }
}

static int connect_unix(const char *path)
{
    for (int tries = 0; tries < 500; tries++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        cr_assert_geq(fd, 0);
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            return fd;
        }
        close(fd);
        usleep(10000);
    }
    cr_assert_fail("cannot connect to %s", path);
    return -1;
}

/* Read one "\r\n"-terminated line (at most 5 s). Returns a malloc'ed line without CRLF. */
static char *read_line(int fd)
{
    char buf[8192];
    size_t n = 0;
    while (n + 1 < sizeof(buf)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        cr_assert_eq(poll(&p, 1, 5000), 1, "timed out waiting for a line (have '%.*s')", (int)n,
                     buf);
        ssize_t r = read(fd, buf + n, 1);
        cr_assert_eq(r, 1, "connection closed (have '%.*s')", (int)n, buf);
        n++;
        if (n >= 2 && buf[n - 2] == '\r' && buf[n - 1] == '\n') {
            buf[n - 2] = '\0';
            return strdup(buf);
        }
    }
    cr_assert_fail("line too long");
    return NULL;
}

static void send_str(int fd, const char *s)
{
    cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Send a command and return its response, collecting events that arrive on the way. */
static char *command(int fd, const char *cmd, char **events, int *n_events)
{
    send_str(fd, cmd);
    for (;;) {
        char *l = read_line(fd);
        if (strstr(l, "\"event\"")) {
            cr_assert_not_null(events, "unexpected event %s", l);
            events[(*n_events)++] = l;
            continue;
        }
        return l;
    }
}

static int wait_exit(pid_t pid)
{
    for (int i = 0; i < 500; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_assert_fail("anyvm did not exit");
    return -1;
}

static void cleanup(Child *c)
{
    unlink(c->qmp_path);
    unlink(c->mon_path);
    rmdir(c->dir);
}

Test(qmp_binary, full_session_over_a_unix_socket)
{
    Child c;
    start_anyvm(&c, false, NULL);
    int fd = connect_unix(c.qmp_path);
    char *events[8];
    int ne = 0;

    char *l = read_line(fd);
    cr_assert(strncmp(l, "{\"QMP\": {\"version\": {\"qemu\": {", 30) == 0, "greeting: %s", l);
    cr_assert(strstr(l, "\"capabilities\": []}}"), "greeting: %s", l);
    free(l);

    l = command(fd, "{\"execute\": \"qmp_capabilities\"}", NULL, NULL);
    cr_assert_str_eq(l, "{\"return\": {}}");
    free(l);

    l = command(fd, "{\"execute\": \"query-status\", \"id\": 7}", NULL, NULL);
    cr_assert_str_eq(l, "{\"return\": {\"status\": \"running\", \"singlestep\": false, "
                        "\"running\": true}, \"id\": 7}");
    free(l);

    l = command(fd, "{\"execute\": \"stop\"}", events, &ne);
    cr_assert_str_eq(l, "{\"return\": {}}");
    free(l);
    if (ne == 0) {
        events[ne++] = read_line(fd);
    }
    cr_assert(strstr(events[0], "\"event\": \"STOP\""), "%s", events[0]);
    cr_assert(strstr(events[0], "\"timestamp\": {\"seconds\": "), "%s", events[0]);
    cr_assert(strstr(events[0], "\"microseconds\": "), "%s", events[0]);

    l = command(fd, "{\"execute\": \"query-status\"}", NULL, NULL);
    cr_assert(strstr(l, "\"status\": \"paused\""), "%s", l);
    cr_assert(strstr(l, "\"running\": false"), "%s", l);
    free(l);

    l = command(fd, "{\"execute\": \"cont\"}", events, &ne);
    cr_assert_str_eq(l, "{\"return\": {}}");
    free(l);
    if (ne == 1) {
        events[ne++] = read_line(fd);
    }
    cr_assert(strstr(events[1], "\"event\": \"RESUME\""), "%s", events[1]);

    l = command(fd, "{\"execute\": \"no-such-command\", \"id\": \"x\"}", NULL, NULL);
    cr_assert(strstr(l, "\"class\": \"CommandNotFound\""), "%s", l);
    cr_assert(strstr(l, "\"id\": \"x\""), "%s", l);
    free(l);

    /* malformed JSON: an error, and the session carries on */
    l = command(fd, "{\"execute\": \"query-status\",, }\n", NULL, NULL);
    cr_assert(strstr(l, "\"class\": \"GenericError\""), "%s", l);
    cr_assert(strstr(l, "JSON parse error"), "%s", l);
    free(l);
    l = command(fd, "}\n", NULL, NULL);
    cr_assert(strstr(l, "GenericError"), "%s", l);
    free(l);
    l = command(fd, "{\"execute\": \"query-status\"}", NULL, NULL);
    cr_assert(strstr(l, "\"status\": \"running\""), "%s", l);
    free(l);

    l = command(fd, "{\"execute\": \"system_reset\"}", events, &ne);
    cr_assert_str_eq(l, "{\"return\": {}}");
    free(l);
    if (ne == 2) {
        events[ne++] = read_line(fd);
    }
    cr_assert(strstr(events[2], "\"event\": \"RESET\""), "%s", events[2]);
    cr_assert(strstr(events[2], "\"reason\": \"host-qmp-system-reset\""), "%s", events[2]);

    l = command(fd, "{\"execute\": \"quit\"}", events, &ne);
    cr_assert_str_eq(l, "{\"return\": {}}");
    free(l);
    if (ne == 3) {
        events[ne++] = read_line(fd);
    }
    cr_assert(strstr(events[3], "\"event\": \"SHUTDOWN\""), "%s", events[3]);
    cr_assert(strstr(events[3], "\"guest\": false"), "%s", events[3]);
    cr_assert_eq(wait_exit(c.pid), 0, "quit exits with status 0");
    for (int i = 0; i < ne; i++) {
        free(events[i]);
    }
    close(fd);
    cleanup(&c);
}

Test(qmp_binary, reconnecting_client_gets_a_fresh_session)
{
    Child c;
    start_anyvm(&c, false, "-S");
    int fd = connect_unix(c.qmp_path);
    free(read_line(fd));
    free(command(fd, "{\"execute\": \"qmp_capabilities\"}", NULL, NULL));
    char *l = command(fd, "{\"execute\": \"query-status\"}", NULL, NULL);
    cr_assert(strstr(l, "\"status\": \"paused\""), "-S starts paused: %s", l);
    free(l);
    close(fd);

    fd = connect_unix(c.qmp_path);
    l = read_line(fd);
    cr_assert(strstr(l, "\"QMP\""), "a new greeting: %s", l);
    free(l);
    l = command(fd, "{\"execute\": \"query-status\"}", NULL, NULL);
    cr_assert(strstr(l, "CommandNotFound"), "negotiation starts over: %s", l);
    free(l);
    close(fd);
    kill(c.pid, SIGTERM);
    cr_assert_eq(wait_exit(c.pid), 0, "SIGTERM stops the machine cleanly");
    cleanup(&c);
}

Test(qmp_binary, hostile_input_gets_errors_and_the_session_survives)
{
    Child c;
    start_anyvm(&c, false, NULL);
    int fd = connect_unix(c.qmp_path);
    free(read_line(fd));
    free(command(fd, "{\"execute\": \"qmp_capabilities\"}", NULL, NULL));

    /* nesting far beyond the parser's depth limit */
    char deep[2 * 200 + 2];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    deep[400] = '\n';
    deep[401] = '\0';
    char *l = command(fd, deep, NULL, NULL);
    cr_assert(strstr(l, "GenericError"), "%s", l);
    free(l);

    /* a message longer than the limit: one error, then resynchronisation at a newline */
    size_t big = JSON_MAX_INPUT * 2;
    char *s = malloc(big + 64);
    s[0] = '[';
    memset(s + 1, '"', 1);
    memset(s + 2, 'A', big - 2);
    strcpy(s + big, "\n");
    l = command(fd, s, NULL, NULL);
    cr_assert(strstr(l, "input too long"), "%s", l);
    free(l);
    free(s);

    /* binary garbage and a bare newline-terminated scalar */
    const char garbage[] = "\x01\x02\xff\xfe nonsense\n";
    l = command(fd, garbage, NULL, NULL);
    cr_assert(strstr(l, "JSON parse error"), "%s", l);
    free(l);

    l = command(fd, "{\"execute\": \"query-status\"}", NULL, NULL);
    cr_assert(strstr(l, "\"status\": \"running\""), "still serving: %s", l);
    free(l);
    free(command(fd, "{\"execute\": \"quit\"}", NULL, NULL));
    cr_assert_eq(wait_exit(c.pid), 0);
    close(fd);
    cleanup(&c);
}

/* Read human monitor output until the prompt, at most 5 s. */
static void read_until_prompt(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    while (n + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        cr_assert_eq(poll(&p, 1, 5000), 1, "timed out; have '%s'", buf);
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        cr_assert_gt(r, 0);
        n += (size_t)r;
        buf[n] = '\0';
        if (n >= 8 && strcmp(buf + n - 8, "(anyvm) ") == 0) {
            return;
        }
    }
}

Test(qmp_binary, human_monitor_and_qmp_side_by_side)
{
    Child c;
    start_anyvm(&c, true, NULL);
    int q = connect_unix(c.qmp_path);
    free(read_line(q));
    free(command(q, "{\"execute\": \"qmp_capabilities\"}", NULL, NULL));
    int m = connect_unix(c.mon_path);
    char buf[4096];
    read_until_prompt(m, buf, sizeof(buf));
    cr_assert(strstr(buf, "monitor"), "%s", buf);
    send_str(m, "info status\n");
    read_until_prompt(m, buf, sizeof(buf));
    cr_assert(strstr(buf, "VM status: running"), "%s", buf);
    send_str(m, "stop\r\n");
    read_until_prompt(m, buf, sizeof(buf));
    char *ev = read_line(q);
    cr_assert(strstr(ev, "\"event\": \"STOP\""), "QMP hears the monitor's stop: %s", ev);
    free(ev);
    send_str(m, "info status\n");
    read_until_prompt(m, buf, sizeof(buf));
    cr_assert(strstr(buf, "VM status: paused"), "%s", buf);
    /* info registers: the register dump, identical twice while the guest is paused. */
    send_str(m, "info registers\n");
    read_until_prompt(m, buf, sizeof(buf));
    char regs[4096];
    snprintf(regs, sizeof(regs), "%s", buf);
    cr_assert(strstr(regs, "EAX=") && strstr(regs, "EIP=") && strstr(regs, "CS =") &&
              strstr(regs, "CR0=") && strstr(regs, "ICOUNT="), "%s", regs);
    cr_assert(strstr(regs, "ICOUNT=0\n") == NULL, "the guest has run: %s", regs);
    send_str(m, "info registers\n");
    read_until_prompt(m, buf, sizeof(buf));
    cr_assert_str_eq(buf, regs, "a paused CPU does not move");
    send_str(m, "frobnicate\n");
    read_until_prompt(m, buf, sizeof(buf));
    cr_assert(strstr(buf, "unknown command: 'frobnicate'"), "%s", buf);
    send_str(m, "help\n");
    read_until_prompt(m, buf, sizeof(buf));
    cr_assert(strstr(buf, "system_reset"), "%s", buf);
    send_str(m, "quit\n");
    cr_assert_eq(wait_exit(c.pid), 0);
    close(q);
    close(m);
    cleanup(&c);
}
