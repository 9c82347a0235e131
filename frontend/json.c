/* json.c: JSON parser (RFC 8259, bounded depth and size), builders, emitter and the QMP
 * stream splitter. */
#include "frontend/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- nodes ---- */

static JsonValue *json_node(JsonType t)
{
    JsonValue *v = calloc(1, sizeof(*v));
    if (v) {
        v->type = t;
    }
    return v;
}

void json_free(JsonValue *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys) {
            free(v->keys[i]);
        }
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

JsonValue *json_null(void)
{
    return json_node(JSON_NULL);
}

JsonValue *json_bool(bool b)
{
    JsonValue *v = json_node(JSON_BOOL);
    if (v) {
        v->boolean = b;
    }
    return v;
}

JsonValue *json_int(int64_t i)
{
    JsonValue *v = json_node(JSON_NUMBER);
    if (v) {
        v->integer = i;
        v->num = (double)i;
        v->is_int = true;
    }
    return v;
}

JsonValue *json_number(double d)
{
    JsonValue *v = json_node(JSON_NUMBER);
    if (v) {
        v->num = d;
    }
    return v;
}

JsonValue *json_string_len(const char *s, size_t len)
{
    JsonValue *v = json_node(JSON_STRING);
    if (!v) {
        return NULL;
    }
    v->str = malloc(len + 1);
    if (!v->str) {
        free(v);
        return NULL;
    }
    memcpy(v->str, s, len);
    v->str[len] = '\0';
    v->len = len;
    return v;
}

JsonValue *json_string(const char *s)
{
    return json_string_len(s, strlen(s));
}

JsonValue *json_array(void)
{
    return json_node(JSON_ARRAY);
}

JsonValue *json_object(void)
{
    return json_node(JSON_OBJECT);
}

static int json_grow(JsonValue *c)
{
    if (c->n < c->cap) {
        return 0;
    }
    size_t ncap = c->cap ? c->cap * 2 : 4;
    JsonValue **items = realloc(c->items, ncap * sizeof(*items));
    if (!items) {
        return -ENOMEM;
    }
    c->items = items;
    if (c->type == JSON_OBJECT) {
        char **keys = realloc(c->keys, ncap * sizeof(*keys));
        if (!keys) {
            return -ENOMEM;
        }
        c->keys = keys;
    }
    c->cap = ncap;
    return 0;
}

int json_array_append(JsonValue *arr, JsonValue *item)
{
    if (!item) {
        return -ENOMEM;
    }
    if (!arr || arr->type != JSON_ARRAY) {
        json_free(item);
        return -EINVAL;
    }
    if (json_grow(arr) < 0) {
        json_free(item);
        return -ENOMEM;
    }
    arr->items[arr->n++] = item;
    return 0;
}

int json_object_set(JsonValue *obj, const char *key, JsonValue *item)
{
    if (!item) {
        return -ENOMEM;
    }
    if (!obj || obj->type != JSON_OBJECT) {
        json_free(item);
        return -EINVAL;
    }
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            json_free(obj->items[i]);
            obj->items[i] = item;
            return 0;
        }
    }
    char *k = strdup(key);
    if (!k || json_grow(obj) < 0) {
        free(k);
        json_free(item);
        return -ENOMEM;
    }
    obj->keys[obj->n] = k;
    obj->items[obj->n++] = item;
    return 0;
}

JsonValue *json_object_get(const JsonValue *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT) {
        return NULL;
    }
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            return obj->items[i];
        }
    }
    return NULL;
}

const char *json_get_string(const JsonValue *obj, const char *key)
{
    JsonValue *v = json_object_get(obj, key);
    return (v && v->type == JSON_STRING) ? v->str : NULL;
}

/* ---- parser ---- */

typedef struct JsonParser {
    const char *p, *end;
    char *err;
    size_t errlen;
    bool failed;
} JsonParser;

static void jp_fail(JsonParser *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jp_fail(JsonParser *jp, const char *fmt, ...)
{
    if (jp->failed) {
        return;
    }
    jp->failed = true;
    if (jp->err && jp->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(jp->err, jp->errlen, fmt, ap);
        va_end(ap);
    }
}

static void jp_ws(JsonParser *jp)
{
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')) {
        jp->p++;
    }
}

static bool jp_lit(JsonParser *jp, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) >= n && memcmp(jp->p, word, n) == 0) {
        jp->p += n;
        return true;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool jp_hex4(JsonParser *jp, unsigned *out)
{
    if (jp->end - jp->p < 4) {
        return false;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(jp->p[i]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | (unsigned)h;
    }
    jp->p += 4;
    *out = v;
    return true;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parse a string at jp->p (which is at the opening quote) into a malloc'ed buffer. The decoded
 * form is never longer than the source, so one allocation of the remaining length suffices. */
static char *jp_string(JsonParser *jp, size_t *outlen)
{
    jp->p++; /* opening quote */
    const char *q = jp->p;
    while (q < jp->end && *q != '"') {
        q += (*q == '\\' && q + 1 < jp->end) ? 2 : 1;
    }
    if (q >= jp->end) {
        jp_fail(jp, "unterminated string");
        return NULL;
    }
    char *buf = malloc((size_t)(q - jp->p) + 1);
    if (!buf) {
        jp_fail(jp, "out of memory");
        return NULL;
    }
    size_t n = 0;
    while (jp->p < jp->end && *jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c < 0x20) {
            jp_fail(jp, "control character in string");
            goto fail;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            jp->p++;
            continue;
        }
        jp->p++;
        if (jp->p >= jp->end) {
            jp_fail(jp, "unterminated escape");
            goto fail;
        }
        char e = *jp->p++;
        switch (e) {
        case '"':
            buf[n++] = '"';
            break;
        case '\\':
            buf[n++] = '\\';
            break;
        case '/':
            buf[n++] = '/';
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (!jp_hex4(jp, &cp)) {
                jp_fail(jp, "bad \\u escape");
                goto fail;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (jp->end - jp->p >= 6 && jp->p[0] == '\\' && jp->p[1] == 'u') {
                    jp->p += 2;
                    if (!jp_hex4(jp, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                        jp_fail(jp, "bad surrogate pair");
                        goto fail;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    jp_fail(jp, "lone surrogate");
                    goto fail;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                jp_fail(jp, "lone surrogate");
                goto fail;
            }
            /* "\uXXXX" is 6 source bytes, "\uD83D\uDE00" 12: UTF-8 is never longer. */
            n += utf8_put(buf + n, cp);
            break;
        }
        default:
            jp_fail(jp, "bad escape '\\%c'", e);
            goto fail;
        }
    }
    jp->p++; /* closing quote */
    buf[n] = '\0';
    *outlen = n;
    return buf;
fail:
    free(buf);
    return NULL;
}

static JsonValue *jp_number(JsonParser *jp)
{
    const char *s = jp->p;
    const char *q = s;
    bool is_int = true;
    if (q < jp->end && *q == '-') {
        q++;
    }
    if (q >= jp->end || *q < '0' || *q > '9') {
        jp_fail(jp, "bad number");
        return NULL;
    }
    if (*q == '0') {
        q++;
    } else {
        while (q < jp->end && *q >= '0' && *q <= '9') {
            q++;
        }
    }
    if (q < jp->end && *q == '.') {
        is_int = false;
        q++;
        if (q >= jp->end || *q < '0' || *q > '9') {
            jp_fail(jp, "bad number");
            return NULL;
        }
        while (q < jp->end && *q >= '0' && *q <= '9') {
            q++;
        }
    }
    if (q < jp->end && (*q == 'e' || *q == 'E')) {
        is_int = false;
        q++;
        if (q < jp->end && (*q == '+' || *q == '-')) {
            q++;
        }
        if (q >= jp->end || *q < '0' || *q > '9') {
            jp_fail(jp, "bad number");
            return NULL;
        }
        while (q < jp->end && *q >= '0' && *q <= '9') {
            q++;
        }
    }
    char tmp[64];
    size_t n = (size_t)(q - s);
    if (n >= sizeof(tmp)) {
        jp_fail(jp, "number too long");
        return NULL;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    jp->p = q;
    JsonValue *v = json_node(JSON_NUMBER);
    if (!v) {
        jp_fail(jp, "out of memory");
        return NULL;
    }
    v->num = strtod(tmp, NULL);
    if (is_int) {
        errno = 0;
        long long ll = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            v->integer = ll;
            v->is_int = true;
        }
    }
    return v;
}

static JsonValue *jp_value(JsonParser *jp, int depth);

static JsonValue *jp_container(JsonParser *jp, int depth, bool is_obj)
{
    if (depth >= JSON_MAX_DEPTH) {
        jp_fail(jp, "nesting deeper than %d", JSON_MAX_DEPTH);
        return NULL;
    }
    jp->p++; /* { or [ */
    JsonValue *c = json_node(is_obj ? JSON_OBJECT : JSON_ARRAY);
    if (!c) {
        jp_fail(jp, "out of memory");
        return NULL;
    }
    char close = is_obj ? '}' : ']';
    jp_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return c;
    }
    for (;;) {
        jp_ws(jp);
        char *key = NULL;
        if (is_obj) {
            size_t klen;
            if (jp->p >= jp->end || *jp->p != '"') {
                jp_fail(jp, "expected a string key");
                goto fail;
            }
            key = jp_string(jp, &klen);
            if (!key) {
                goto fail;
            }
            jp_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':') {
                free(key);
                jp_fail(jp, "expected ':'");
                goto fail;
            }
            jp->p++;
        }
        JsonValue *item = jp_value(jp, depth + 1);
        if (!item) {
            free(key);
            goto fail;
        }
        int rc = is_obj ? json_object_set(c, key, item) : json_array_append(c, item);
        free(key);
        if (rc < 0) {
            jp_fail(jp, "out of memory");
            goto fail;
        }
        jp_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
            return c;
        }
        jp_fail(jp, "expected ',' or '%c'", close);
        goto fail;
    }
fail:
    json_free(c);
    return NULL;
}

static JsonValue *jp_value(JsonParser *jp, int depth)
{
    jp_ws(jp);
    if (jp->p >= jp->end) {
        jp_fail(jp, "unexpected end of input");
        return NULL;
    }
    char c = *jp->p;
    JsonValue *v = NULL;
    if (c == '{' || c == '[') {
        return jp_container(jp, depth, c == '{');
    }
    if (c == '"') {
        size_t len;
        char *s = jp_string(jp, &len);
        if (!s) {
            return NULL;
        }
        v = json_node(JSON_STRING);
        if (!v) {
            free(s);
            jp_fail(jp, "out of memory");
            return NULL;
        }
        v->str = s;
        v->len = len;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return jp_number(jp);
    }
    if (jp_lit(jp, "true")) {
        v = json_bool(true);
    } else if (jp_lit(jp, "false")) {
        v = json_bool(false);
    } else if (jp_lit(jp, "null")) {
        v = json_null();
    } else {
        jp_fail(jp, "unexpected character '%c'", (c >= 0x20 && c < 0x7F) ? c : '?');
        return NULL;
    }
    if (!v) {
        jp_fail(jp, "out of memory");
    }
    return v;
}

JsonValue *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    JsonParser jp = {.p = text, .end = text + len, .err = err, .errlen = errlen};
    if (len > JSON_MAX_INPUT) {
        jp_fail(&jp, "input longer than %d bytes", JSON_MAX_INPUT);
        return NULL;
    }
    JsonValue *v = jp_value(&jp, 0);
    if (!v) {
        return NULL;
    }
    jp_ws(&jp);
    if (jp.p != jp.end) {
        json_free(v);
        jp_fail(&jp, "trailing characters after the value");
        return NULL;
    }
    return v;
}

/* ---- emitter ---- */

typedef struct StrBuf {
    char *s;
    size_t len, cap;
    bool oom;
} StrBuf;

static void sb_put(StrBuf *b, const char *s, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 64;
        while (ncap < b->len + n + 1) {
            ncap *= 2;
        }
        char *ns = realloc(b->s, ncap);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(StrBuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void emit_string(StrBuf *b, const char *s, size_t len)
{
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"':
            sb_put(b, "\\\"", 2);
            break;
        case '\\':
            sb_put(b, "\\\\", 2);
            break;
        case '\n':
            sb_put(b, "\\n", 2);
            break;
        case '\r':
            sb_put(b, "\\r", 2);
            break;
        case '\t':
            sb_put(b, "\\t", 2);
            break;
        case '\b':
            sb_put(b, "\\b", 2);
            break;
        case '\f':
            sb_put(b, "\\f", 2);
            break;
        default:
            if (c < 0x20 || c == 0x7F) {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                sb_puts(b, esc);
            } else {
                sb_put(b, (const char *)&s[i], 1);
            }
        }
    }
    sb_put(b, "\"", 1);
}

static void emit_value(StrBuf *b, const JsonValue *v)
{
    char num[64];
    switch (v->type) {
    case JSON_NULL:
        sb_puts(b, "null");
        break;
    case JSON_BOOL:
        sb_puts(b, v->boolean ? "true" : "false");
        break;
    case JSON_NUMBER:
        if (v->is_int) {
            snprintf(num, sizeof(num), "%lld", (long long)v->integer);
        } else if (isfinite(v->num)) {
            snprintf(num, sizeof(num), "%.17g", v->num);
        } else {
            snprintf(num, sizeof(num), "null"); /* JSON has no inf/nan */
        }
        sb_puts(b, num);
        break;
    case JSON_STRING:
        emit_string(b, v->str, v->len);
        break;
    case JSON_ARRAY:
        sb_put(b, "[", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i) {
                sb_put(b, ", ", 2);
            }
            emit_value(b, v->items[i]);
        }
        sb_put(b, "]", 1);
        break;
    case JSON_OBJECT:
        sb_put(b, "{", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i) {
                sb_put(b, ", ", 2);
            }
            emit_string(b, v->keys[i], strlen(v->keys[i]));
            sb_put(b, ": ", 2);
            emit_value(b, v->items[i]);
        }
        sb_put(b, "}", 1);
        break;
    }
}

char *json_emit(const JsonValue *v)
{
    StrBuf b = {0};
    emit_value(&b, v);
    if (b.oom || !b.s) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- stream splitter ---- */

void json_streamer_init(JsonStreamer *s)
{
    memset(s, 0, sizeof(*s));
}

void json_streamer_reset(JsonStreamer *s)
{
    s->len = 0;
    s->depth = 0;
    s->in_str = s->esc = s->scalar = s->overflow = false;
}

void json_streamer_free(JsonStreamer *s)
{
    free(s->buf);
    memset(s, 0, sizeof(*s));
}

static bool streamer_push(JsonStreamer *s, char c)
{
    if (s->len + 1 >= JSON_MAX_INPUT) {
        return false;
    }
    if (s->len + 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        if (ncap > JSON_MAX_INPUT) {
            ncap = JSON_MAX_INPUT;
        }
        char *nb = realloc(s->buf, ncap);
        if (!nb) {
            return false;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    s->buf[s->len++] = c;
    s->buf[s->len] = '\0';
    return true;
}

JsonStreamResult json_streamer_feed(JsonStreamer *s, const uint8_t **data, size_t *len,
                                    const char **msg, size_t *msglen)
{
    while (*len > 0) {
        char c = (char)**data;
        (*data)++;
        (*len)--;
        if (s->overflow) {
            /* Skip the rest of an overlong message: resynchronise at a newline at top level
             * (we cannot trust the balance of what we dropped). */
            if (c == '\n') {
                json_streamer_reset(s);
            }
            continue;
        }
        bool top = s->len == 0 || (s->depth == 0 && !s->in_str && !s->scalar);
        if (top && s->len == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            continue;
        }
        if (!streamer_push(s, c)) {
            s->overflow = true;
            s->len = 0;
            return JSON_STREAM_OVERFLOW;
        }
        bool done = false;
        if (s->in_str) {
            if (s->esc) {
                s->esc = false;
            } else if (c == '\\') {
                s->esc = true;
            } else if (c == '"') {
                s->in_str = false;
            }
            if (!s->in_str && s->scalar && s->depth == 0) {
                /* a bare string at top level: complete at its closing quote */
                done = !s->in_str && c == '"';
            }
        } else if (c == '"') {
            s->in_str = true;
            if (s->depth == 0) {
                s->scalar = true;
            }
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if (c == '}' || c == ']') {
            s->depth--;
            if (s->depth <= 0) {
                done = true;
            }
        } else if (s->depth == 0) {
            if (c == '\n') {
                done = true;
            } else {
                s->scalar = true;
            }
        }
        if (done) {
            *msg = s->buf;
            *msglen = s->len;
            s->len = 0;
            s->depth = 0;
            s->in_str = s->esc = s->scalar = false;
            return JSON_STREAM_MESSAGE;
        }
    }
    return JSON_STREAM_NONE;
}
