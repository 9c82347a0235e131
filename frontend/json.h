/* json.h: a small, bounded JSON value tree with a parser, builders and an emitter (for QMP). */
#ifndef ANYVM_FRONTEND_JSON_H
#define ANYVM_FRONTEND_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits a client cannot exceed: nesting depth, and input size per parse call. */
#define JSON_MAX_DEPTH 32
#define JSON_MAX_INPUT (64 * 1024)

typedef enum JsonType {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} JsonType;

/* JsonValue: one node. Strings are NUL-terminated UTF-8 and also carry their length (they may
 * contain "\u0000"). Arrays use items[0..n); objects use keys[i] -> items[i], in input order.
 * Numbers keep a double and, when the text was an integer that fits, an exact int64. */
typedef struct JsonValue {
    JsonType type;
    bool boolean;
    double num;
    int64_t integer;
    bool is_int;
    char *str;
    size_t len;
    struct JsonValue **items;
    char **keys;
    size_t n, cap;
} JsonValue;

/* json_parse: parse exactly one JSON value from text[0..len) (surrounding whitespace allowed).
 * Returns a new tree (free with json_free) or NULL with a message in err. Inputs longer than
 * JSON_MAX_INPUT or nested deeper than JSON_MAX_DEPTH are rejected. */
JsonValue *json_parse(const char *text, size_t len, char *err, size_t errlen);

/* json_free: free a tree. NULL is fine. */
void json_free(JsonValue *v);

/* Builders: each returns a new node, or NULL when out of memory. */
JsonValue *json_null(void);
JsonValue *json_bool(bool b);
JsonValue *json_int(int64_t i);
JsonValue *json_number(double d);
JsonValue *json_string(const char *s);
JsonValue *json_string_len(const char *s, size_t len);
JsonValue *json_array(void);
JsonValue *json_object(void);

/* json_array_append / json_object_set: take ownership of item (freed on failure). Setting an
 * existing key replaces its value. Return 0 or -ENOMEM (-EINVAL for a wrong container). */
int json_array_append(JsonValue *arr, JsonValue *item);
int json_object_set(JsonValue *obj, const char *key, JsonValue *item);

/* json_object_get: the value for key, or NULL (also when obj is not an object). */
JsonValue *json_object_get(const JsonValue *obj, const char *key);

/* json_get_string: the string for key, or NULL when absent or not a string. */
const char *json_get_string(const JsonValue *obj, const char *key);

/* json_emit: serialise compactly (", " and ": " separators, as QMP does). Returns a malloc'ed
 * NUL-terminated string the caller frees, or NULL when out of memory. */
char *json_emit(const JsonValue *v);

/* JsonStreamer: splits a byte stream into complete top-level JSON texts (brace/bracket
 * balance outside strings). A stray scalar at top level ends at a newline. Bounded: a message
 * longer than JSON_MAX_INPUT is discarded and reported as an overflow. */
typedef struct JsonStreamer {
    char *buf;
    size_t len, cap;
    int depth;
    bool in_str, esc, scalar;
    bool overflow;
} JsonStreamer;

typedef enum JsonStreamResult {
    JSON_STREAM_NONE,     /* need more bytes */
    JSON_STREAM_MESSAGE,  /* msg and msglen hold a complete text (valid until the next call) */
    JSON_STREAM_OVERFLOW, /* a too-long message was dropped */
} JsonStreamResult;

void json_streamer_init(JsonStreamer *s);
void json_streamer_reset(JsonStreamer *s);
void json_streamer_free(JsonStreamer *s);

/* json_streamer_feed: consume bytes from *data (advancing *data and *len) until a message is
 * complete, an overflow happens, or the input runs out. */
JsonStreamResult json_streamer_feed(JsonStreamer *s, const uint8_t **data, size_t *len,
                                    const char **msg, size_t *msglen);

#endif
