/* qmp.h: a QMP (QEMU Machine Protocol) session on a character backend: greeting, capability
 * negotiation, command dispatch through the MonitorHub table, asynchronous events. */
#ifndef ANYVM_FRONTEND_QMP_H
#define ANYVM_FRONTEND_QMP_H

#include <stddef.h>

#include "core/chardev.h"
#include "frontend/monitor.h"

/* qmp_new: a session on chr (becomes chr's frontend), registered with hub for events. The
 * greeting goes out when a client connects (at once for always-open backends). NULL on
 * failure. Free with qmp_free() before closing chr and before monitor_hub_free(). */
QmpServer *qmp_new(MonitorHub *hub, CharBackend *chr);
void qmp_free(QmpServer *q);

/* qmp_handle_text: process one complete JSON text from the client and return the response
 * line (malloc'ed, ends with "\r\n", caller frees), or NULL when out of memory. Exposed for
 * tests; the input path uses it too. */
char *qmp_handle_text(QmpServer *q, const char *text, size_t len);

/* qmp_send_event: emit {"event": name, "data": data, "timestamp": ...} to a negotiated client
 * (takes ownership of data, which may be NULL). */
void qmp_send_event(QmpServer *q, const char *name, JsonValue *data);

/* qmp_broadcast_event: qmp_send_event to every session of hub (data is copied per session via
 * a fresh build: pass a builder). */
void qmp_broadcast_event(MonitorHub *hub, const char *name, JsonValue *(*build)(void *opaque),
                         void *opaque);

#endif
