/* SPDX-License-Identifier: MIT */
/* The command line: a QEMU-compatible subset of qemu-system-i386's options. */
#ifndef BT386_MONITOR_OPTIONS_H
#define BT386_MONITOR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where the guest's COM1 goes. */
enum serial_kind {
    SERIAL_STDIO, /* the terminal (also "mon:stdio") */
    SERIAL_FILE,  /* output written to serial_path */
    SERIAL_NULL,  /* a port whose output is discarded */
    SERIAL_NONE   /* no serial port at all */
};

/* IDE drive positions: -hda/index=0 is the primary master. */
#define OPT_DRIVES 4
#define OPT_PATH_MAX 4096

/* One -hda/-drive: a raw image file. */
struct drive_option {
    bool present;
    bool readonly;                 /* readonly=on */
    char file[OPT_PATH_MAX];
};

struct bt_options {
    const char *kernel;      /* -kernel FILE (required for now) */
    const char *initrd;      /* -initrd FILE[,FILE...] */
    const char *append;      /* -append STR */
    uint32_t ram_mb;         /* -m, default 128 */
    bool nographic;          /* -nographic */
    bool display_none;       /* -display none */
    enum serial_kind serial; /* -serial; default stdio */
    const char *serial_path; /* for SERIAL_FILE */
    bool serial_mux;         /* mon:stdio: Ctrl-A keys, as -nographic */
    bool no_reboot;          /* -no-reboot */
    bool no_acpi;            /* -no-acpi */
    bool debug_exit;         /* -device isa-debug-exit[,...] */
    uint16_t debug_exit_base, debug_exit_size; /* QEMU defaults 0x501, 2 */
    bool stats;                                /* --stats */
    struct drive_option drives[OPT_DRIVES];    /* -hda..-hdd, -drive */
};

/* RAM limits for -m, in MiB. */
#define OPT_RAM_DEFAULT_MB 128
#define OPT_RAM_MIN_MB     2
#define OPT_RAM_MAX_MB     3072

enum opt_result { OPT_RUN, OPT_EXIT_OK, OPT_ERROR };

/*
 * Parse argv into *o (which it first sets to defaults). Strings in *o point
 * into argv. Returns OPT_RUN when the guest should start; OPT_EXIT_OK after
 * printing --help or --version to stdout; OPT_ERROR with a one-line message
 * (no "bt386: " prefix, no newline) in err, truncated to errlen bytes. Never
 * fails on NULL argv, NULL entries (taken as the end) or a NULL err.
 */
enum opt_result options_parse(int argc, char **argv, struct bt_options *o,
                              char *err, size_t errlen);

/* Print the manual (--help) to f. */
void options_print_help(FILE *f);

/* Print "bt386 VERSION" and a one-line description (--version) to f. */
void options_print_version(FILE *f);

#endif
