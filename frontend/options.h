/* options.h: QEMU-style command line parsing into a MachineConfig. */
#ifndef ANYVM_FRONTEND_OPTIONS_H
#define ANYVM_FRONTEND_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "core/machine.h"

/* What main should do after a successful parse. */
typedef enum OptionsAction {
    OPTIONS_RUN,      /* start the machine described by the config */
    OPTIONS_HELP,     /* print options_usage() and exit 0 */
    OPTIONS_VERSION,  /* print options_version() and exit 0 */
    OPTIONS_LOG_HELP, /* -d help: print log_help() and exit 0 */
} OptionsAction;

/* options_parse: fill cfg (starting from machine_config_defaults) from argv[1..argc).
 * Returns 0 with *action set, or -EINVAL with exactly one line (no "anyvm: " prefix, no
 * newline) in err, e.g. "-hda /missing.img: No such file or directory". It does not print or
 * exit; besides reading argv it only checks that image, kernel and BIOS files exist. */
int options_parse(int argc, char *const argv[], MachineConfig *cfg, OptionsAction *action,
                  char *err, size_t errlen) __attribute__((warn_unused_result));

/* options_usage: the --help text. */
void options_usage(FILE *f);

/* options_version: the --version line. */
void options_version(FILE *f);

/* options_parse_size: a -m value ("128", "128M", "1G", "65536K"; plain numbers are MiB) in
 * bytes. Returns 0 or -EINVAL. */
int options_parse_size(const char *s, uint64_t *bytes) __attribute__((warn_unused_result));

#endif
