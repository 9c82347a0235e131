/* chardev.h: CharBackend, the byte-stream interface devices (UARTs, debug console) and the
 * monitor see; frontend/char.c implements it for stdio, files, sockets and null. */
#ifndef ANYVM_CORE_CHARDEV_H
#define ANYVM_CORE_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

typedef struct CharBackend CharBackend;

/* CharFrontend: the device side. The backend calls can_receive to ask how many bytes the device
 * accepts now and receive to hand them over; both run from the machine loop. */
typedef struct CharFrontend {
    int (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
    /* event (optional): a socket client connected (CHR_EVENT_OPENED) or went away
     * (CHR_EVENT_CLOSED). Backends without connections never send events: always open. */
    void (*event)(void *opaque, int event);
} CharFrontend;

enum { CHR_EVENT_OPENED = 1, CHR_EVENT_CLOSED = 2 };

/* CharBackendOps: what a backend kind implements. write never blocks the guest: a backend that
 * cannot take bytes now drops them (as a UART with nothing attached would). */
typedef struct CharBackendOps {
    size_t (*write)(CharBackend *cb, const uint8_t *buf, size_t len);
    void (*close)(CharBackend *cb);
    void (*accept_input)(CharBackend *cb); /* the frontend can take input again */
} CharBackendOps;

struct CharBackend {
    const CharBackendOps *ops;
    CharFrontend fe;
    char label[64];
    void *priv;        /* backend kind's own state */
};

/* chr_write: send bytes to the host side. Returns bytes taken. A NULL backend takes all. */
static inline size_t chr_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    return (cb && cb->ops && cb->ops->write) ? cb->ops->write(cb, buf, len) : len;
}

/* chr_set_frontend: attach the device that receives input. */
static inline void chr_set_frontend(CharBackend *cb, const CharFrontend *fe)
{
    if (cb) {
        cb->fe = *fe;
    }
}

/* chr_accept_input: the device drained its receive buffer and can take more bytes. */
static inline void chr_accept_input(CharBackend *cb)
{
    if (cb && cb->ops && cb->ops->accept_input) {
        cb->ops->accept_input(cb);
    }
}

#endif
