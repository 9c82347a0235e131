/* qmp.c: QMP sessions: greeting, capabilities negotiation, command dispatch, events.
 *
 * Wire format (one JSON text per line, "\r\n" terminated, as QEMU sends them):
 *   S: {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": ...},
 *      "capabilities": []}}
 *   C: {"execute": "qmp_capabilities"}            S: {"return": {}}
 *   C: {"execute": "stop", "id": 7}               S: {"return": {}, "id": 7}
 *                                                 S: {"timestamp": {...}, "event": "STOP"}
 * Events raised while a command runs are queued and sent after its response. */
#define _GNU_SOURCE
#include "frontend/qmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/char.h"

#ifndef ANYVM_VERSION
#define ANYVM_VERSION "0.0.0"
#endif

#define QMP_PENDING_MAX (64 * 1024)

struct QmpServer {
    MonitorHub *hub;
    CharBackend *chr;
    JsonStreamer js;
    bool connected;
    bool negotiated;
    bool busy;     /* inside a command: queue events */
    char *pending; /* queued event lines */
    size_t pending_len;
};

static const char *qmp_class_name(QmpErrorClass c)
{
    return c == QMP_ERR_COMMAND_NOT_FOUND ? "CommandNotFound" : "GenericError";
}

static void qmp_write(QmpServer *q, const char *s)
{
    chr_write(q->chr, (const uint8_t *)s, strlen(s));
}

/* Serialise v followed by "\r\n"; frees v. */
static char *qmp_line(JsonValue *v)
{
    char *s = v ? json_emit(v) : NULL;
    json_free(v);
    if (!s) {
        return NULL;
    }
    size_t n = strlen(s);
    char *line = realloc(s, n + 3);
    if (!line) {
        free(s);
        return NULL;
    }
    memcpy(line + n, "\r\n", 3);
    return line;
}

static char *qmp_error_line(QmpErrorClass cls, const char *desc, const JsonValue *id)
{
    JsonValue *r = json_object(), *e = json_object();
    if (!r || !e) {
        json_free(r);
        json_free(e);
        return NULL;
    }
    json_object_set(e, "class", json_string(qmp_class_name(cls)));
    json_object_set(e, "desc", json_string(desc));
    json_object_set(r, "error", e);
    if (id) {
        char *ids = json_emit(id);
        JsonValue *copy = ids ? json_parse(ids, strlen(ids), NULL, 0) : NULL;
        free(ids);
        if (copy) {
            json_object_set(r, "id", copy);
        }
    }
    return qmp_line(r);
}

static char *qmp_return_line(JsonValue *ret, const JsonValue *id)
{
    JsonValue *r = json_object();
    if (!r) {
        json_free(ret);
        return NULL;
    }
    json_object_set(r, "return", ret ? ret : json_object());
    if (id) {
        char *ids = json_emit(id);
        JsonValue *copy = ids ? json_parse(ids, strlen(ids), NULL, 0) : NULL;
        free(ids);
        if (copy) {
            json_object_set(r, "id", copy);
        }
    }
    return qmp_line(r);
}

static void qmp_send_greeting(QmpServer *q)
{
    int major = 0, minor = 0, micro = 0;
    if (sscanf(ANYVM_VERSION, "%d.%d.%d", &major, &minor, &micro) < 1) {
        major = minor = micro = 0;
    }
    JsonValue *g = json_object(), *qmp = json_object(), *ver = json_object(),
              *qemu = json_object();
    if (!g || !qmp || !ver || !qemu) {
        json_free(g);
        json_free(qmp);
        json_free(ver);
        json_free(qemu);
        return;
    }
    json_object_set(qemu, "micro", json_int(micro));
    json_object_set(qemu, "minor", json_int(minor));
    json_object_set(qemu, "major", json_int(major));
    json_object_set(ver, "qemu", qemu);
    json_object_set(ver, "package", json_string("anyvm " ANYVM_VERSION));
    json_object_set(qmp, "version", ver);
    json_object_set(qmp, "capabilities", json_array());
    json_object_set(g, "QMP", qmp);
    char *line = qmp_line(g);
    if (line) {
        qmp_write(q, line);
        free(line);
    }
}

char *qmp_handle_text(QmpServer *q, const char *text, size_t len)
{
    char perr[160];
    JsonValue *req = json_parse(text, len, perr, sizeof(perr));
    if (!req) {
        char desc[200];
        snprintf(desc, sizeof(desc), "JSON parse error, %s", perr);
        return qmp_error_line(QMP_ERR_GENERIC, desc, NULL);
    }
    char *out = NULL;
    if (req->type != JSON_OBJECT) {
        out = qmp_error_line(QMP_ERR_GENERIC, "QMP input must be a JSON object", NULL);
        goto done;
    }
    const JsonValue *id = json_object_get(req, "id");
    const JsonValue *exec = json_object_get(req, "execute");
    const JsonValue *args = json_object_get(req, "arguments");
    for (size_t i = 0; i < req->n; i++) {
        const char *k = req->keys[i];
        if (strcmp(k, "execute") && strcmp(k, "arguments") && strcmp(k, "id")) {
            char desc[160];
            snprintf(desc, sizeof(desc), "QMP input member '%.64s' is unexpected", k);
            out = qmp_error_line(QMP_ERR_GENERIC, desc, id);
            goto done;
        }
    }
    if (!exec) {
        out = qmp_error_line(QMP_ERR_GENERIC, "QMP input lacks member 'execute'", id);
        goto done;
    }
    if (exec->type != JSON_STRING) {
        out = qmp_error_line(QMP_ERR_GENERIC, "QMP input member 'execute' must be a string", id);
        goto done;
    }
    if (args && args->type != JSON_OBJECT) {
        out =
            qmp_error_line(QMP_ERR_GENERIC, "QMP input member 'arguments' must be an object", id);
        goto done;
    }
    const char *name = exec->str;
    if (!strcmp(name, "qmp_capabilities")) {
        if (q->negotiated) {
            out = qmp_error_line(QMP_ERR_COMMAND_NOT_FOUND,
                                 "Capabilities negotiation is already complete, command ignored",
                                 id);
        } else if (args && args->n > 0 &&
                   !(args->n == 1 && !strcmp(args->keys[0], "enable") &&
                     args->items[0]->type == JSON_ARRAY && args->items[0]->n == 0)) {
            out = qmp_error_line(QMP_ERR_GENERIC, "no QMP capabilities are supported", id);
        } else {
            q->negotiated = true;
            out = qmp_return_line(NULL, id);
        }
        goto done;
    }
    if (!q->negotiated) {
        out = qmp_error_line(QMP_ERR_COMMAND_NOT_FOUND,
                             "Expecting capabilities negotiation with 'qmp_capabilities'", id);
        goto done;
    }
    MonitorHub *hub = q->hub;
    for (int i = 0; i < hub->n_qmp; i++) {
        if (strcmp(hub->qmp[i].name, name)) {
            continue;
        }
        JsonValue *empty = NULL;
        if (!args) {
            empty = json_object();
            args = empty;
        }
        JsonValue *ret = NULL;
        char desc[256] = "";
        const QmpCmd *cmd = &hub->qmp[i];
        QmpErrorClass cls = cmd->fn(hub, args, &ret, desc, sizeof(desc), cmd->opaque);
        json_free(empty);
        if (cls == QMP_OK) {
            out = qmp_return_line(ret, id);
        } else {
            json_free(ret);
            out = qmp_error_line(cls, desc[0] ? desc : "command failed", id);
        }
        goto done;
    }
    char desc[160];
    snprintf(desc, sizeof(desc), "The command %.64s has not been found", name);
    out = qmp_error_line(QMP_ERR_COMMAND_NOT_FOUND, desc, id);
done:
    json_free(req);
    return out;
}

static void qmp_flush_pending(QmpServer *q)
{
    if (q->pending_len) {
        chr_write(q->chr, (const uint8_t *)q->pending, q->pending_len);
        q->pending_len = 0;
    }
}

static void qmp_queue(QmpServer *q, const char *line)
{
    size_t n = strlen(line);
    if (q->pending_len + n > QMP_PENDING_MAX) {
        return; /* a flood of events while one command runs: drop the excess */
    }
    char *p = realloc(q->pending, q->pending_len + n);
    if (!p) {
        return;
    }
    q->pending = p;
    memcpy(q->pending + q->pending_len, line, n);
    q->pending_len += n;
}

void qmp_send_event(QmpServer *q, const char *name, JsonValue *data)
{
    if (!q->connected || !q->negotiated) {
        json_free(data);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    JsonValue *ev = json_object(), *t = json_object();
    if (!ev || !t) {
        json_free(ev);
        json_free(t);
        json_free(data);
        return;
    }
    json_object_set(t, "seconds", json_int((int64_t)ts.tv_sec));
    json_object_set(t, "microseconds", json_int((int64_t)(ts.tv_nsec / 1000)));
    json_object_set(ev, "timestamp", t);
    json_object_set(ev, "event", json_string(name));
    if (data) {
        json_object_set(ev, "data", data);
    }
    char *line = qmp_line(ev);
    if (!line) {
        return;
    }
    if (q->busy) {
        qmp_queue(q, line);
    } else {
        qmp_write(q, line);
    }
    free(line);
}

void qmp_broadcast_event(MonitorHub *hub, const char *name, JsonValue *(*build)(void *opaque),
                         void *opaque)
{
    for (int i = 0; i < hub->n_sessions; i++) {
        qmp_send_event(hub->sessions[i], name, build ? build(opaque) : NULL);
    }
}

static int qmp_can_receive(void *opaque)
{
    return 4096;
}

static void qmp_receive(void *opaque, const uint8_t *buf, size_t len)
{
    QmpServer *q = opaque;
    while (len > 0) {
        const char *msg;
        size_t msglen;
        JsonStreamResult r = json_streamer_feed(&q->js, &buf, &len, &msg, &msglen);
        char *out = NULL;
        if (r == JSON_STREAM_NONE) {
            break;
        }
        q->busy = true;
        if (r == JSON_STREAM_OVERFLOW) {
            out = qmp_error_line(QMP_ERR_GENERIC, "JSON parse error, input too long", NULL);
        } else {
            out = qmp_handle_text(q, msg, msglen);
        }
        q->busy = false;
        if (out) {
            qmp_write(q, out);
            free(out);
        }
        qmp_flush_pending(q);
    }
}

static void qmp_event(void *opaque, int event)
{
    QmpServer *q = opaque;
    json_streamer_reset(&q->js);
    q->negotiated = false;
    q->pending_len = 0;
    q->connected = event == CHR_EVENT_OPENED;
    if (q->connected) {
        qmp_send_greeting(q);
    }
}

QmpServer *qmp_new(MonitorHub *hub, CharBackend *chr)
{
    if (hub->n_sessions >= MONITOR_MAX_QMP) {
        return NULL;
    }
    QmpServer *q = calloc(1, sizeof(*q));
    if (!q) {
        return NULL;
    }
    q->hub = hub;
    q->chr = chr;
    json_streamer_init(&q->js);
    hub->sessions[hub->n_sessions++] = q;
    CharFrontend fe = {
        .can_receive = qmp_can_receive,
        .receive = qmp_receive,
        .opaque = q,
        .event = qmp_event,
    };
    chr_set_frontend(chr, &fe);
    if (chr && char_is_connected(chr)) {
        q->connected = true;
        qmp_send_greeting(q);
    }
    return q;
}

void qmp_free(QmpServer *q)
{
    if (!q) {
        return;
    }
    MonitorHub *hub = q->hub;
    for (int i = 0; i < hub->n_sessions; i++) {
        if (hub->sessions[i] == q) {
            memmove(&hub->sessions[i], &hub->sessions[i + 1],
                    (size_t)(hub->n_sessions - i - 1) * sizeof(hub->sessions[0]));
            hub->n_sessions--;
            break;
        }
    }
    if (q->chr) {
        CharFrontend none = {0};
        chr_set_frontend(q->chr, &none);
    }
    json_streamer_free(&q->js);
    free(q->pending);
    free(q);
}
