/* char.h: host character backends (stdio, file, null, unix/tcp server sockets) behind the
 * CharBackend interface of core/chardev.h, all driven from the machine loop. */
#ifndef ANYVM_FRONTEND_CHAR_H
#define ANYVM_FRONTEND_CHAR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/chardev.h"
#include "core/machine.h"

typedef enum CharSpecKind {
    CHAR_SPEC_NONE, /* "none": no backend at all */
    CHAR_SPEC_NULL, /* "null": swallow output, never any input */
    CHAR_SPEC_STDIO,
    CHAR_SPEC_FILE, /* file:PATH (output only) */
    CHAR_SPEC_UNIX, /* unix:PATH,server[,nowait] */
    CHAR_SPEC_TCP,  /* tcp:[HOST]:PORT,server[,nowait] */
} CharSpecKind;

/* CharSpec: a parsed -serial/-monitor/-qmp argument. */
typedef struct CharSpec {
    CharSpecKind kind;
    char path[256]; /* file or socket path */
    char host[128]; /* tcp: empty = all interfaces */
    int port;       /* tcp */
    bool server;
    bool nowait; /* server: do not wait for the first client before starting */
} CharSpec;

/* char_spec_parse: parse spec into out. Returns 0, or -EINVAL with a message in err. Pure:
 * touches no files or sockets. Client-mode sockets (no "server") are rejected. */
int char_spec_parse(const char *spec, CharSpec *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* CharOpenFlags: how the opener uses the backend. */
enum {
    CHAR_OPEN_RAW_STDIO = 1 << 0, /* stdio in raw mode with Ctrl-A escapes (serial console) */
};

/* char_open: create a backend for spec, registered on m's main loop. Returns NULL with a
 * message in err on failure; for "none" returns NULL with err set to "" (not an error).
 * The caller owns the result and frees it with char_close() before machine_free(). A server
 * socket without nowait blocks here until the first client connects. */
CharBackend *char_open(Machine *m, const char *spec, unsigned flags, char *err, size_t errlen);

/* char_close: close a backend (restores the terminal for stdio). NULL is fine. */
void char_close(CharBackend *cb);

/* char_is_connected: whether a socket backend has a client now (always true for others). */
bool char_is_connected(const CharBackend *cb);

/* char_unix_path: the socket path a unix backend listens on, or NULL. */
const char *char_unix_path(const CharBackend *cb);

/* char_tcp_port: the port a tcp backend listens on (useful with port 0), or -1. */
int char_tcp_port(const CharBackend *cb);

#endif
