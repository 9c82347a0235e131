/* char.c: host character backends (stdio, file, null, unix/tcp server sockets) for serial
 * ports and monitors, driven by the machine loop's fd polling.
 *
 * Input flows backend -> frontend only as fast as the frontend's can_receive allows; when it
 * says 0 the backend stops polling its input fd until the frontend calls chr_accept_input().
 * Output to stdio and files is written directly; output to a socket goes straight out when the
 * socket can take it and is otherwise queued (bounded) and flushed on POLLOUT. A socket backend
 * serves one client at a time; further clients wait in the listen backlog. With no client,
 * output is dropped, as a serial line with nothing attached would. */
#define _GNU_SOURCE
#include "frontend/char.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define CHAR_OUT_QUEUE (256 * 1024) /* socket output queued at most */
#define CHAR_READ_CHUNK 4096
#define CTRL_A 0x01

typedef struct CharState {
    CharBackend cb; /* first: cb.priv points back here */
    Machine *m;
    CharSpec spec;
    unsigned flags;
    int in_fd;         /* watched for input (stdin or the socket client), -1 = none */
    int out_fd;        /* stdout or the file, for direct writes */
    int listen_fd;     /* socket server */
    int client_fd;     /* connected client, -1 = none */
    bool input_paused; /* frontend full: not polling in_fd for input */
    bool in_watched;   /* in_fd is registered with the machine loop */
    uint8_t *oq;       /* socket output queue */
    size_t oq_len;
    /* stdio */
    bool tty;
    bool raw_set;
    struct termios saved;
    bool escape; /* the previous byte was Ctrl-A */
    int bound_port;
} CharState;

static CharState *cs_of(CharBackend *cb)
{
    return (CharState *)cb->priv;
}

/* ---- spec parsing ---- */

static int spec_fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s", msg);
    }
    return -EINVAL;
}

/* Parse ",server,nowait,..." socket options. */
static int parse_socket_opts(char *opts, CharSpec *out, char *err, size_t errlen)
{
    out->server = false;
    out->nowait = false;
    char *save = NULL;
    for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
        if (!strcmp(o, "server") || !strcmp(o, "server=on")) {
            out->server = true;
        } else if (!strcmp(o, "server=off")) {
            out->server = false;
        } else if (!strcmp(o, "nowait") || !strcmp(o, "wait=off")) {
            out->nowait = true;
        } else if (!strcmp(o, "wait") || !strcmp(o, "wait=on")) {
            out->nowait = false;
        } else {
            if (err && errlen) {
                snprintf(err, errlen, "unknown socket option '%s'", o);
            }
            return -EINVAL;
        }
    }
    if (!out->server) {
        return spec_fail(err, errlen, "only server sockets are supported (add ,server,nowait)");
    }
    return 0;
}

int char_spec_parse(const char *spec, CharSpec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->port = -1;
    if (!strcmp(spec, "none")) {
        out->kind = CHAR_SPEC_NONE;
        return 0;
    }
    if (!strcmp(spec, "null")) {
        out->kind = CHAR_SPEC_NULL;
        return 0;
    }
    if (!strcmp(spec, "stdio")) {
        out->kind = CHAR_SPEC_STDIO;
        return 0;
    }
    if (!strncmp(spec, "file:", 5)) {
        out->kind = CHAR_SPEC_FILE;
        if (!spec[5]) {
            return spec_fail(err, errlen, "file: needs a path");
        }
        if (strlen(spec + 5) >= sizeof(out->path)) {
            return spec_fail(err, errlen, "path too long");
        }
        strcpy(out->path, spec + 5);
        return 0;
    }
    char buf[512];
    if (strlen(spec) >= sizeof(buf)) {
        return spec_fail(err, errlen, "specification too long");
    }
    strcpy(buf, spec);
    if (!strncmp(buf, "unix:", 5)) {
        out->kind = CHAR_SPEC_UNIX;
        char *path = buf + 5;
        char *comma = strchr(path, ',');
        if (comma) {
            *comma = '\0';
        }
        if (!*path) {
            return spec_fail(err, errlen, "unix: needs a socket path");
        }
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            return spec_fail(err, errlen, "socket path too long");
        }
        strcpy(out->path, path);
        return parse_socket_opts(comma ? comma + 1 : NULL, out, err, errlen);
    }
    if (!strncmp(buf, "tcp:", 4)) {
        out->kind = CHAR_SPEC_TCP;
        char *addr = buf + 4;
        char *comma = strchr(addr, ',');
        if (comma) {
            *comma = '\0';
        }
        char *colon = strrchr(addr, ':');
        if (!colon) {
            return spec_fail(err, errlen, "tcp: needs [HOST]:PORT");
        }
        *colon = '\0';
        const char *host = addr;
        size_t hl = strlen(host);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
            addr[hl - 1] = '\0';
            host = addr + 1;
        }
        if (strlen(host) >= sizeof(out->host)) {
            return spec_fail(err, errlen, "host name too long");
        }
        strcpy(out->host, host);
        const char *port = colon + 1;
        char *end;
        errno = 0;
        long p = strtol(port, &end, 10);
        if (!*port || *end || errno || p < 0 || p > 65535) {
            return spec_fail(err, errlen, "bad TCP port");
        }
        out->port = (int)p;
        return parse_socket_opts(comma ? comma + 1 : NULL, out, err, errlen);
    }
    if (!strncmp(spec, "mon:", 4)) {
        return spec_fail(err, errlen,
                         "monitor multiplexing (mon:) is not supported; use -monitor separately");
    }
    return spec_fail(err, errlen,
                     "unsupported character device (stdio, null, none, file:, unix:, tcp:)");
}

/* ---- fd watching ---- */

static void cs_fd_handler(void *opaque, int fd, short revents);

/* Recompute what the loop should watch on in_fd. */
static void cs_update_events(CharState *st)
{
    if (st->in_fd < 0 || !st->in_watched) {
        return;
    }
    short ev = st->input_paused ? 0 : POLLIN;
    if (st->oq_len && st->in_fd == st->client_fd) {
        ev |= POLLOUT;
    }
    machine_set_fd_events(st->m, st->in_fd, ev);
}

static void cs_watch_input(CharState *st, int fd)
{
    st->in_fd = fd;
    st->input_paused = false;
    st->in_watched = machine_add_fd(st->m, fd, POLLIN, cs_fd_handler, st) == 0;
}

static void cs_unwatch_input(CharState *st)
{
    if (st->in_fd >= 0 && st->in_watched) {
        machine_remove_fd(st->m, st->in_fd);
    }
    st->in_watched = false;
    st->in_fd = -1;
}

static void cs_listen_handler(void *opaque, int fd, short revents);

static void cs_disconnect(CharState *st)
{
    if (st->client_fd < 0) {
        return;
    }
    cs_unwatch_input(st);
    close(st->client_fd);
    st->client_fd = -1;
    st->oq_len = 0;
    st->escape = false;
    if (st->listen_fd >= 0) {
        machine_set_fd_events(st->m, st->listen_fd, POLLIN);
    }
    if (st->cb.fe.event) {
        st->cb.fe.event(st->cb.fe.opaque, CHR_EVENT_CLOSED);
    }
}

static void cs_connected(CharState *st, int fd)
{
    st->client_fd = fd;
    st->oq_len = 0;
    cs_watch_input(st, fd);
    if (!st->in_watched) {
        close(fd);
        st->client_fd = -1;
        st->in_fd = -1;
        return;
    }
    /* One client at a time: the next one waits in the backlog until this one leaves. */
    machine_set_fd_events(st->m, st->listen_fd, 0);
    if (st->cb.fe.event) {
        st->cb.fe.event(st->cb.fe.opaque, CHR_EVENT_OPENED);
    }
}

static void cs_listen_handler(void *opaque, int fd, short revents)
{
    CharState *st = opaque;
    if (st->client_fd >= 0) {
        machine_set_fd_events(st->m, st->listen_fd, 0);
        return;
    }
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
        return; /* EAGAIN or a client that gave up: keep listening */
    }
    cs_connected(st, c);
}

/* Flush as much of the socket output queue as the socket takes now. */
static void cs_flush(CharState *st)
{
    while (st->oq_len && st->client_fd >= 0) {
        ssize_t n = send(st->client_fd, st->oq, st->oq_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                st->oq_len = 0; /* the client is gone; the read side will notice */
            }
            break;
        }
        memmove(st->oq, st->oq + n, st->oq_len - (size_t)n);
        st->oq_len -= (size_t)n;
    }
    cs_update_events(st);
}

/* Deliver input to the frontend; stdio in raw mode interprets the Ctrl-A escapes. */
static void cs_deliver(CharState *st, const uint8_t *buf, size_t n)
{
    uint8_t out[CHAR_READ_CHUNK];
    size_t k = 0;
    if (st->flags & CHAR_OPEN_RAW_STDIO) {
        for (size_t i = 0; i < n; i++) {
            uint8_t c = buf[i];
            if (!st->escape) {
                if (c == CTRL_A) {
                    st->escape = true;
                } else {
                    out[k++] = c;
                }
                continue;
            }
            st->escape = false;
            if (c == CTRL_A) {
                out[k++] = CTRL_A;
            } else if (c == 'x' || c == 'X') {
                static const char msg[] = "\r\nanyvm: terminated by Ctrl-A x\r\n";
                ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
                (void)w;
                machine_request_shutdown(st->m, SHUTDOWN_HOST_QUIT, 0);
            } else if (c == 'h' || c == 'H' || c == '?') {
                static const char help[] =
                    "\r\nCtrl-A x  quit anyvm\r\nCtrl-A Ctrl-A  send Ctrl-A\r\n"
                    "Ctrl-A h  this help\r\n";
                ssize_t w = write(STDERR_FILENO, help, sizeof(help) - 1);
                (void)w;
            }
            /* other escapes are ignored */
        }
        buf = out;
        n = k;
    }
    if (n && st->cb.fe.receive) {
        st->cb.fe.receive(st->cb.fe.opaque, buf, n);
    }
}

static void cs_fd_handler(void *opaque, int fd, short revents)
{
    CharState *st = opaque;
    if ((revents & POLLOUT) && fd == st->client_fd) {
        cs_flush(st);
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR))) {
        return;
    }
    size_t room = CHAR_READ_CHUNK;
    if (st->cb.fe.can_receive && st->cb.fe.receive) {
        int r = st->cb.fe.can_receive(st->cb.fe.opaque);
        if (r <= 0) {
            if (fd == st->client_fd && (revents & (POLLHUP | POLLERR)) && !(revents & POLLIN)) {
                cs_disconnect(st); /* gone while we were full: poll would keep saying so */
                return;
            }
            /* Stop polling for input until chr_accept_input(). */
            st->input_paused = true;
            cs_update_events(st);
            return;
        }
        if ((size_t)r < room) {
            room = (size_t)r;
        }
    }
    uint8_t buf[CHAR_READ_CHUNK];
    ssize_t n = read(fd, buf, room);
    if (n > 0) {
        cs_deliver(st, buf, (size_t)n);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    /* EOF or error */
    if (fd == st->client_fd) {
        cs_disconnect(st);
    } else {
        cs_unwatch_input(st); /* stdin closed: no more input, output still works */
    }
}

/* ---- ops ---- */

static size_t cs_write_fd(int fd, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                (void)poll(&p, 1, 100);
                continue;
            }
            break;
        }
        done += (size_t)n;
    }
    return done;
}

static size_t cs_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    CharState *st = cs_of(cb);
    switch (st->spec.kind) {
    case CHAR_SPEC_STDIO:
    case CHAR_SPEC_FILE:
        return st->out_fd >= 0 ? cs_write_fd(st->out_fd, buf, len) : len;
    case CHAR_SPEC_UNIX:
    case CHAR_SPEC_TCP:
        if (st->client_fd < 0) {
            return len; /* nobody listening: dropped */
        }
        if (st->oq_len == 0) {
            ssize_t n = send(st->client_fd, buf, len, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    return len; /* broken: the read side disconnects */
                }
                n = 0;
            }
            buf += n;
            len -= (size_t)n;
            if (len == 0) {
                return (size_t)n;
            }
        }
        {
            size_t take = len;
            if (st->oq_len + take > CHAR_OUT_QUEUE) {
                take = CHAR_OUT_QUEUE - st->oq_len; /* overflow: the rest is dropped */
            }
            memcpy(st->oq + st->oq_len, buf, take);
            st->oq_len += take;
            cs_update_events(st);
        }
        return len;
    default:
        return len;
    }
}

static void cs_accept_input(CharBackend *cb)
{
    CharState *st = cs_of(cb);
    if (st->input_paused) {
        st->input_paused = false;
        cs_update_events(st);
    }
}

static void cs_close(CharBackend *cb)
{
    CharState *st = cs_of(cb);
    if (st->client_fd >= 0) {
        /* Best effort to get queued replies (a QMP SHUTDOWN event) out before closing. */
        int fl = fcntl(st->client_fd, F_GETFL);
        if (fl >= 0 && fcntl(st->client_fd, F_SETFL, fl & ~O_NONBLOCK) == 0 && st->oq_len) {
            struct timeval tv = {.tv_sec = 1};
            setsockopt(st->client_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            (void)send(st->client_fd, st->oq, st->oq_len, MSG_NOSIGNAL);
        }
        cs_unwatch_input(st);
        close(st->client_fd);
        st->client_fd = -1;
    } else {
        cs_unwatch_input(st);
    }
    if (st->listen_fd >= 0) {
        machine_remove_fd(st->m, st->listen_fd);
        close(st->listen_fd);
        if (st->spec.kind == CHAR_SPEC_UNIX) {
            unlink(st->spec.path);
        }
    }
    if (st->raw_set) {
        tcsetattr(STDIN_FILENO, TCSANOW, &st->saved);
    }
    if (st->spec.kind == CHAR_SPEC_FILE && st->out_fd >= 0) {
        close(st->out_fd);
    }
    free(st->oq);
    free(st);
}

static const CharBackendOps char_ops = {
    .write = cs_write,
    .close = cs_close,
    .accept_input = cs_accept_input,
};

/* ---- opening ---- */

static int open_unix_listener(CharState *st, char *err, size_t errlen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, st->spec.path); /* length checked by char_spec_parse */
    struct stat sb;
    if (lstat(st->spec.path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
        unlink(st->spec.path); /* a stale socket from an earlier run */
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        snprintf(err, errlen, "unix:%s: %s", st->spec.path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int open_tcp_listener(CharState *st, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof(port), "%d", st->spec.port);
    int rc = getaddrinfo(st->spec.host[0] ? st->spec.host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "tcp:%s:%d: %s", st->spec.host, st->spec.port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, last_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0) {
            break;
        }
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "tcp:%s:%d: %s", st->spec.host, st->spec.port, strerror(last_errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            st->bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            st->bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    return fd;
}

/* Block until the first client connects (a server socket without nowait). A host signal that
 * arrives meanwhile (written to the machine's wake pipe) aborts the wait. */
static int wait_first_client(CharState *st, const char *spec, char *err, size_t errlen)
{
    fprintf(stderr, "anyvm: waiting for a connection on %s\n", spec);
    for (;;) {
        struct pollfd p[2] = {{.fd = st->listen_fd, .events = POLLIN},
                              {.fd = st->m->wake_pipe[0], .events = POLLIN}};
        int r = poll(p, 2, -1);
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "%s: %s", spec, strerror(errno));
            return -1;
        }
        if (r > 0 && p[1].revents) {
            snprintf(err, errlen, "%s: interrupted while waiting for a connection", spec);
            return -1;
        }
        if (r > 0 && p[0].revents) {
            int c = accept4(st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c >= 0) {
                cs_connected(st, c);
                return 0;
            }
        }
    }
}

CharBackend *char_open(Machine *m, const char *spec, unsigned flags, char *err, size_t errlen)
{
    CharSpec cs;
    if (char_spec_parse(spec, &cs, err, errlen) < 0) {
        return NULL;
    }
    if (cs.kind == CHAR_SPEC_NONE) {
        if (err && errlen) {
            err[0] = '\0';
        }
        return NULL;
    }
    CharState *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->cb.ops = &char_ops;
    st->cb.priv = st;
    snprintf(st->cb.label, sizeof(st->cb.label), "%s", spec);
    st->m = m;
    st->spec = cs;
    st->flags = flags;
    st->in_fd = st->out_fd = st->listen_fd = st->client_fd = -1;
    st->bound_port = -1;

    switch (cs.kind) {
    case CHAR_SPEC_NULL:
        break;
    case CHAR_SPEC_STDIO:
        st->out_fd = STDOUT_FILENO;
        st->tty = isatty(STDIN_FILENO);
        if (!st->tty) {
            st->flags &= ~CHAR_OPEN_RAW_STDIO; /* not a terminal: bytes pass unchanged */
        }
        if (st->tty && (st->flags & CHAR_OPEN_RAW_STDIO) &&
            tcgetattr(STDIN_FILENO, &st->saved) == 0) {
            struct termios raw = st->saved;
            raw.c_iflag &=
                ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
            raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
            raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
            raw.c_cflag |= CS8;
            raw.c_cc[VMIN] = 1;
            raw.c_cc[VTIME] = 0;
            if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
                st->raw_set = true;
            }
        }
        cs_watch_input(st, STDIN_FILENO);
        break;
    case CHAR_SPEC_FILE:
        st->out_fd = open(cs.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (st->out_fd < 0) {
            snprintf(err, errlen, "file:%s: %s", cs.path, strerror(errno));
            free(st);
            return NULL;
        }
        break;
    case CHAR_SPEC_UNIX:
    case CHAR_SPEC_TCP:
        st->oq = malloc(CHAR_OUT_QUEUE);
        st->listen_fd = cs.kind == CHAR_SPEC_UNIX ? open_unix_listener(st, err, errlen)
                                                  : open_tcp_listener(st, err, errlen);
        if (!st->oq || st->listen_fd < 0) {
            if (!st->oq) {
                snprintf(err, errlen, "out of memory");
            }
            if (st->listen_fd >= 0) {
                close(st->listen_fd);
            }
            free(st->oq);
            free(st);
            return NULL;
        }
        if (machine_add_fd(m, st->listen_fd, POLLIN, cs_listen_handler, st) < 0) {
            snprintf(err, errlen, "%s: too many host file descriptors", spec);
            close(st->listen_fd);
            free(st->oq);
            free(st);
            return NULL;
        }
        if (!cs.nowait && wait_first_client(st, spec, err, errlen) < 0) {
            cs_close(&st->cb);
            return NULL;
        }
        break;
    case CHAR_SPEC_NONE:
        break;
    }
    return &st->cb;
}

void char_close(CharBackend *cb)
{
    if (cb && cb->ops && cb->ops->close) {
        cb->ops->close(cb);
    }
}

bool char_is_connected(const CharBackend *cb)
{
    if (!cb) {
        return false;
    }
    const CharState *st = cb->priv;
    if (st->spec.kind == CHAR_SPEC_UNIX || st->spec.kind == CHAR_SPEC_TCP) {
        return st->client_fd >= 0;
    }
    return true;
}

const char *char_unix_path(const CharBackend *cb)
{
    const CharState *st = cb ? cb->priv : NULL;
    return (st && st->spec.kind == CHAR_SPEC_UNIX) ? st->spec.path : NULL;
}

int char_tcp_port(const CharBackend *cb)
{
    const CharState *st = cb ? cb->priv : NULL;
    return (st && st->spec.kind == CHAR_SPEC_TCP) ? st->bound_port : -1;
}
