/* display_cmds.h: monitor and QMP commands for the display and input: screendump, sendkey /
 * send-key, input-send-event, and reading the text screen (info screen, x-query-screen-text). */
#ifndef ANYVM_FRONTEND_DISPLAY_CMDS_H
#define ANYVM_FRONTEND_DISPLAY_CMDS_H

#include <stddef.h>
#include <stdint.h>

#include "frontend/monitor.h"

typedef struct DisplayCmds DisplayCmds;

/* display_cmds_new: register the commands on hub; they act on hub->m->display and
 * hub->m->input (and report an error while those are NULL). Returns NULL on failure. Free
 * with display_cmds_free() after monitor_hub_free(). */
DisplayCmds *display_cmds_new(MonitorHub *hub);
void display_cmds_free(DisplayCmds *dc);

/* display_text_rows: the text screen as rows of printable ASCII (other characters become '?',
 * NUL a blank; trailing blanks dropped), one malloc'ed NUL-terminated string of rows * (cols+1)
 * bytes with each row ending in '\n'. Returns NULL (err set) in graphics modes or without a
 * display. */
char *display_text_rows(DisplaySource *src, int *cols, int *rows, char *err, size_t errlen);

#endif
