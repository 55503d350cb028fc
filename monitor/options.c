/* SPDX-License-Identifier: MIT */
/* Command-line parsing: the qemu-system-i386 options bt386 implements. */
#include "monitor/options.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#ifndef BT386_VERSION
#define BT386_VERSION "unknown"
#endif

#define MIB             0x100000ull
#define PORT_SPACE      0x10000u /* x86 I/O ports are 0 to 0xffff */
#define DEBUG_EXIT_BASE 0x501u   /* QEMU's isa-debug-exit defaults */
#define DEBUG_EXIT_SIZE 2u
#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))

/* Parser state: the words still to read and where an error goes. */
struct parser {
    int argc;
    char **argv;
    int next; /* index of the next word to read */
    struct bt_options *o;
    char *err;
    size_t errlen;
    bool serial_given; /* a -serial was seen (there is only COM1) */
};

/* One option bt386 implements, named without its dashes. */
struct option_spec {
    const char *name;
    bool has_arg;
    enum opt_result (*handle)(struct parser *p, const char *arg);
};

/* A piece of a comma-separated value such as "iobase=0xf4": [s, s + len). */
struct span {
    const char *s;
    size_t len;
};

/*
 * qemu-system-i386 options bt386 does not implement yet. They are rejected
 * by name, so a lab Makefile that needs one fails loudly instead of booting
 * a different machine than it asked for.
 */
static const char *const options_later[] = {
    "cdrom",    "fda",        "fdb",      "blockdev",    "mtdblock",
    "sd",       "pflash",     "snapshot", "boot",        "bios",
    "L",        "option-rom", "fw_cfg",   "smp",         "cpu",
    "machine",  "M",          "accel",    "enable-kvm",  "numa",
    "netdev",   "net",        "nic",      "vga",         "sdl",
    "curses",   "vnc",        "spice",    "full-screen", "k",
    "monitor",  "qmp",        "mon",      "chardev",     "parallel",
    "debugcon", "s",          "S",        "gdb",         "d",
    "D",        "icount",     "trace",    "usb",         "usbdevice",
    "soundhw",  "audiodev",   "audio",    "rtc",         "name",
    "uuid",     "global",     "object",   "no-shutdown", "daemonize",
    "pidfile",  "loadvm",     "incoming", "watchdog",    "virtfs",
    "fsdev",    "nodefaults", "no-hpet",  "mem-path",
    "plugin",   "runas",      "sandbox",  "readconfig",  "semihosting",
};

/* -display back ends of QEMU that bt386 may grow. */
static const char *const displays_later[] = {
    "sdl",       "gtk",  "curses", "vnc",     "egl-headless",
    "spice-app", "dbus", "cocoa",  "default",
};

static enum opt_result fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Put a message in the caller's buffer (if any); returns OPT_ERROR. */
static enum opt_result fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    if (p->err && p->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return OPT_ERROR;
}

/* Whether s[0..len) is one of the n words in list. */
static bool word_in(const char *s, size_t len, const char *const *list,
                    size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
            return true;
    return false;
}

static bool span_is(struct span a, const char *word)
{
    return word_in(a.s, a.len, &word, 1);
}

/* Take the next comma-separated item of *rest; false when none is left. */
static bool span_next(const char **rest, struct span *item)
{
    const char *comma;

    if (*rest == NULL)
        return false;
    comma = strchr(*rest, ',');
    item->s = *rest;
    item->len = comma ? (size_t)(comma - *rest) : strlen(*rest);
    *rest = comma ? comma + 1 : NULL;
    return true;
}

/*
 * Split "key=value". Returns whether there was an '='; without one, key is
 * the whole item and value is empty.
 */
static bool span_split(struct span item, struct span *key, struct span *val)
{
    const char *eq = memchr(item.s, '=', item.len);

    key->s = item.s;
    key->len = eq ? (size_t)(eq - item.s) : item.len;
    val->s = eq ? eq + 1 : item.s + item.len;
    val->len = item.len - key->len - (eq != NULL);
    return eq != NULL;
}

/* -------------------------------------------------------------- -m --- */

/* Bytes per unit of a size suffix; none means MiB (QEMU's -m); 0 if bad. */
static uint64_t size_unit(struct span suffix)
{
    static const char units[] = "BKMGTPE";
    const char *u;

    if (suffix.len == 0)
        return MIB;
    if (suffix.len != 1 || suffix.s[0] == '\0')
        return 0;
    u = strchr(units, toupper((unsigned char)suffix.s[0]));
    return u ? 1ull << (10 * (u - units)) : 0;
}

enum size_status { SIZE_OK, SIZE_BAD, SIZE_HUGE };

/*
 * Parse a size (digits, then an optional suffix B K M G T P E in either
 * case) into MiB, rounded up. SIZE_HUGE when the bytes overflow 64 bits.
 */
static enum size_status size_parse_mib(struct span v, uint64_t *mib)
{
    uint64_t n = 0, unit, bytes;
    bool huge = false;
    size_t i;

    for (i = 0; i < v.len && isdigit((unsigned char)v.s[i]); i++) {
        unsigned d = (unsigned)(v.s[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            huge = true;
        else
            n = n * 10 + d;
    }
    unit = size_unit((struct span){v.s + i, v.len - i});
    if (i == 0 || unit == 0)
        return SIZE_BAD;
    if (huge || n > UINT64_MAX / unit)
        return SIZE_HUGE;
    bytes = n * unit;
    *mib = bytes / MIB + (bytes % MIB != 0);
    return SIZE_OK;
}

/* Check a -m size and store it. */
static enum opt_result memory_set(struct parser *p, struct span v)
{
    uint64_t mib = 0;

    switch (size_parse_mib(v, &mib)) {
    case SIZE_BAD:
        return fail(p, "-m: invalid size '%.*s'", (int)v.len, v.s);
    case SIZE_HUGE:
        return fail(p, "-m: '%.*s' is out of range (%d to %d MiB)", (int)v.len,
                    v.s, OPT_RAM_MIN_MB, OPT_RAM_MAX_MB);
    case SIZE_OK:
        break;
    }
    if (mib == 0) /* QEMU keeps "-m 0" as "the default size" */
        mib = OPT_RAM_DEFAULT_MB;
    if (mib < OPT_RAM_MIN_MB || mib > OPT_RAM_MAX_MB)
        return fail(p, "-m: %" PRIu64 " MiB is out of range (%d to %d MiB)",
                    mib, OPT_RAM_MIN_MB, OPT_RAM_MAX_MB);
    p->o->ram_mb = (uint32_t)mib;
    return OPT_RUN;
}

/* -m [size=]SIZE: QEMU's first item may omit "size="; slots/maxmem are out. */
static enum opt_result opt_memory(struct parser *p, const char *arg)
{
    const char *rest = arg;
    struct span item, key, val;
    bool first = true;

    while (span_next(&rest, &item)) {
        bool has_val = span_split(item, &key, &val);
        if (first && !has_val)
            val = item;
        else if (!has_val || !span_is(key, "size"))
            return fail(p, "-m: '%.*s' is not supported (only a size is)",
                        (int)key.len, key.s);
        first = false;
        if (memory_set(p, val) != OPT_RUN)
            return OPT_ERROR;
    }
    return OPT_RUN;
}

/* ------------------------------------------------- -serial, -display --- */

/* -serial DEV: COM1's back end. QEMU would add COM2 for a second one. */
static enum opt_result opt_serial(struct parser *p, const char *arg)
{
    struct bt_options *o = p->o;

    if (p->serial_given)
        return fail(p, "-serial: only one serial port (COM1) is supported");
    p->serial_given = true;
    if (strcmp(arg, "stdio") == 0 || strcmp(arg, "mon:stdio") == 0) {
        o->serial = SERIAL_STDIO; /* no monitor, but its Ctrl-A keys */
        o->serial_mux = arg[0] == 'm';
    } else if (strcmp(arg, "null") == 0)
        o->serial = SERIAL_NULL;
    else if (strcmp(arg, "none") == 0)
        o->serial = SERIAL_NONE;
    else if (strcmp(arg, "file:") == 0)
        return fail(p, "-serial: 'file:' needs a file name");
    else if (strncmp(arg, "file:", 5) == 0) {
        o->serial = SERIAL_FILE;
        o->serial_path = arg + 5;
    } else
        return fail(p,
                    "-serial: '%s' is not supported (use stdio, null, none "
                    "or file:PATH)",
                    arg);
    return OPT_RUN;
}

/* -display TYPE[,OPTS]: only "none" today. */
static enum opt_result opt_display(struct parser *p, const char *arg)
{
    size_t len = strcspn(arg, ",=");

    if (strcmp(arg, "none") == 0) {
        p->o->display_none = true;
        return OPT_RUN;
    }
    if (len == 4 && strncmp(arg, "none", 4) == 0)
        return fail(p, "-display: 'none' takes no options");
    if (word_in(arg, len, displays_later, ARRAY_SIZE(displays_later)))
        return fail(p, "-display: '%.*s' is not implemented yet", (int)len,
                    arg);
    return fail(p, "-display: unknown display '%s'", arg);
}

/* ---------------------------------------------------------- -device --- */

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse a QEMU integer property (decimal, 0x hex, 0 octal) of 32 bits. */
static bool number_parse(struct span v, uint32_t *out)
{
    unsigned base = 10;
    size_t i = 0;
    uint64_t n = 0;

    if (v.len > 1 && v.s[0] == '0' && (v.s[1] == 'x' || v.s[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (v.len > 1 && v.s[0] == '0') {
        base = 8;
        i = 1;
    }
    if (i == v.len)
        return false;
    for (; i < v.len; i++) {
        int d = digit_value(v.s[i]);
        if (d < 0 || (unsigned)d >= base)
            return false;
        n = n * base + (unsigned)d;
        if (n > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)n;
    return true;
}

/* Apply one "key=value" of -device isa-debug-exit. */
static enum opt_result debug_exit_property(struct parser *p, struct span item,
                                           uint32_t *base, uint32_t *size)
{
    struct span key, val;
    bool has_val = span_split(item, &key, &val);
    uint32_t *field = span_is(key, "iobase")   ? base
                      : span_is(key, "iosize") ? size
                                               : NULL;

    if (span_is(key, "id")) /* QEMU's device name; nothing refers to it */
        return OPT_RUN;
    if (field == NULL)
        return fail(p, "-device isa-debug-exit: unknown property '%.*s'",
                    (int)key.len, key.s);
    if (!has_val || !number_parse(val, field))
        return fail(p, "-device isa-debug-exit: invalid value '%.*s' for %.*s",
                    (int)val.len, val.s, (int)key.len, key.s);
    return OPT_RUN;
}

/*
 * Check the port range and store it. QEMU itself takes any 32-bit iobase and
 * iosize; here the range must lie inside the 16-bit port space.
 */
static enum opt_result debug_exit_set(struct parser *p, uint32_t base,
                                      uint32_t size)
{
    uint32_t max;

    if (base >= PORT_SPACE)
        return fail(p,
                    "-device isa-debug-exit: iobase 0x%" PRIx32
                    " is out of range (0 to 0xffff)",
                    base);
    max = PORT_SPACE - base > 0xffff ? 0xffff : PORT_SPACE - base;
    if (size == 0 || size > max)
        return fail(p,
                    "-device isa-debug-exit: iosize %" PRIu32
                    " is out of range (1 to %" PRIu32 " at iobase 0x%" PRIx32
                    ")",
                    size, max, base);
    p->o->debug_exit = true;
    p->o->debug_exit_base = (uint16_t)base;
    p->o->debug_exit_size = (uint16_t)size;
    return OPT_RUN;
}

/* -device DRIVER[,PROP=VALUE...]: only isa-debug-exit today. */
static enum opt_result opt_device(struct parser *p, const char *arg)
{
    const char *rest = arg;
    uint32_t base = DEBUG_EXIT_BASE, size = DEBUG_EXIT_SIZE;
    struct span name = {arg, 0}, item;

    span_next(&rest, &name);
    if (!span_is(name, "isa-debug-exit"))
        return fail(p, "-device: '%.*s' is not supported", (int)name.len,
                    name.s);
    if (p->o->debug_exit)
        return fail(p, "-device isa-debug-exit: only one is supported");
    while (span_next(&rest, &item))
        if (debug_exit_property(p, item, &base, &size) != OPT_RUN)
            return OPT_ERROR;
    return debug_exit_set(p, base, size);
}

/* ------------------------------------------------- -hda and -drive --- */

/* Store FILE (len bytes, ",," already undone by the caller) as drive i. */
static enum opt_result drive_set(struct parser *p, const char *opt, int i,
                                 const char *file, size_t len, bool readonly)
{
    struct drive_option *d = &p->o->drives[i];

    if (len == 0)
        return fail(p, "%s: no file name given", opt);
    if (len >= sizeof(d->file))
        return fail(p, "%s: file name too long", opt);
    if (d->present)
        return fail(p, "%s: drive index %d is already in use", opt, i);
    d->present = true;
    d->readonly = readonly;
    memcpy(d->file, file, len);
    d->file[len] = '\0';
    return OPT_RUN;
}

static enum opt_result opt_hdx(struct parser *p, const char *arg, int i)
{
    static const char *const names[OPT_DRIVES] = {"-hda", "-hdb", "-hdc",
                                                  "-hdd"};
    return drive_set(p, names[i], i, arg, strlen(arg), false);
}

static enum opt_result opt_hda(struct parser *p, const char *arg)
{
    return opt_hdx(p, arg, 0);
}

static enum opt_result opt_hdb(struct parser *p, const char *arg)
{
    return opt_hdx(p, arg, 1);
}

static enum opt_result opt_hdc(struct parser *p, const char *arg)
{
    return opt_hdx(p, arg, 2);
}

static enum opt_result opt_hdd(struct parser *p, const char *arg)
{
    return opt_hdx(p, arg, 3);
}

/* Copy the next -drive item of *rest into out (",," is a literal comma);
 * advance *rest past it and its separator. Returns the item's length. */
static size_t drive_item(const char **rest, char *out, size_t cap)
{
    size_t n = 0;
    const char *s = *rest;

    while (*s && !(*s == ',' && s[1] != ',')) {
        if (*s == ',')
            s++;
        if (n + 1 < cap)
            out[n++] = *s;
        s++;
    }
    out[n] = '\0';
    *rest = *s ? s + 1 : s;
    return n;
}

/* "on"/"off" (and QEMU's other spellings) into *v; false if neither. */
static bool onoff_parse(const char *s, bool *v)
{
    static const char *const on[] = {"on", "yes", "true", "y"};
    static const char *const off[] = {"off", "no", "false", "n"};
    if (word_in(s, strlen(s), on, ARRAY_SIZE(on)))
        *v = true;
    else if (word_in(s, strlen(s), off, ARRAY_SIZE(off)))
        *v = false;
    else
        return false;
    return true;
}

/*
 * -drive file=FILE[,format=raw][,if=ide][,index=N][,media=disk]
 *        [,readonly=on|off][,cache=...][,id=NAME]
 */
static enum opt_result opt_drive(struct parser *p, const char *arg)
{
    static char item[OPT_PATH_MAX + 16], file[OPT_PATH_MAX];
    const char *rest = arg;
    bool readonly = false, have_file = false;
    int index = -1;

    while (*rest) {
        size_t len = drive_item(&rest, item, sizeof(item));
        char *eq = strchr(item, '=');
        const char *val = eq ? eq + 1 : "";
        if (eq)
            *eq = '\0';
        if (len == 0)
            continue;
        if (strcmp(item, "file") == 0) {
            if (strlen(val) >= sizeof(file))
                return fail(p, "-drive: file name too long");
            strcpy(file, val);
            have_file = true;
        } else if (strcmp(item, "format") == 0) {
            if (strcmp(val, "raw") != 0)
                return fail(p, "-drive: format '%s' is not supported (only "
                               "raw images are)", val);
        } else if (strcmp(item, "if") == 0) {
            if (strcmp(val, "ide") != 0)
                return fail(p, "-drive: if=%s is not supported (only ide is)",
                            val);
        } else if (strcmp(item, "media") == 0) {
            if (strcmp(val, "disk") != 0)
                return fail(p, "-drive: media=%s is not supported (only "
                               "disk is)", val);
        } else if (strcmp(item, "index") == 0) {
            uint32_t n;
            if (!number_parse((struct span){val, strlen(val)}, &n) ||
                n >= OPT_DRIVES)
                return fail(p, "-drive: index '%s' is out of range (0 to %d)",
                            val, OPT_DRIVES - 1);
            index = (int)n;
        } else if (strcmp(item, "readonly") == 0) {
            if (!onoff_parse(val, &readonly))
                return fail(p, "-drive: invalid value '%s' for readonly "
                               "(use on or off)", val);
        } else if (strcmp(item, "cache") != 0 && strcmp(item, "id") != 0 &&
                   strcmp(item, "aio") != 0 && strcmp(item, "discard") != 0) {
            return fail(p, "-drive: unknown property '%s'", item);
        }
    }
    if (!have_file)
        return fail(p, "-drive: no file= given (an empty drive is not "
                       "supported)");
    for (int i = 0; index < 0 && i < OPT_DRIVES; i++)
        if (!p->o->drives[i].present)
            index = i;
    if (index < 0)
        return fail(p, "-drive: no free IDE position (four at most)");
    return drive_set(p, "-drive", index, file, strlen(file), readonly);
}

/* ----------------------------------------------- the simple options --- */

static enum opt_result opt_kernel(struct parser *p, const char *arg)
{
    p->o->kernel = arg;
    return OPT_RUN;
}

static enum opt_result opt_initrd(struct parser *p, const char *arg)
{
    p->o->initrd = arg;
    return OPT_RUN;
}

static enum opt_result opt_append(struct parser *p, const char *arg)
{
    p->o->append = arg;
    return OPT_RUN;
}

static enum opt_result opt_nographic(struct parser *p, const char *arg)
{
    p->o->nographic = true;
    return OPT_RUN;
}

static enum opt_result opt_no_reboot(struct parser *p, const char *arg)
{
    p->o->no_reboot = true;
    return OPT_RUN;
}

static enum opt_result opt_no_acpi(struct parser *p, const char *arg)
{
    p->o->no_acpi = true;
    return OPT_RUN;
}

static enum opt_result opt_stats(struct parser *p, const char *arg)
{
    p->o->stats = true;
    return OPT_RUN;
}

static enum opt_result opt_help(struct parser *p, const char *arg)
{
    options_print_help(stdout);
    return OPT_EXIT_OK;
}

static enum opt_result opt_version(struct parser *p, const char *arg)
{
    options_print_version(stdout);
    return OPT_EXIT_OK;
}

static const struct option_spec options_table[] = {
    {"kernel", true, opt_kernel},
    {"initrd", true, opt_initrd},
    {"append", true, opt_append},
    {"m", true, opt_memory},
    {"device", true, opt_device},
    {"hda", true, opt_hda},
    {"hdb", true, opt_hdb},
    {"hdc", true, opt_hdc},
    {"hdd", true, opt_hdd},
    {"drive", true, opt_drive},
    {"no-reboot", false, opt_no_reboot},
    {"no-acpi", false, opt_no_acpi},
    {"nographic", false, opt_nographic},
    {"display", true, opt_display},
    {"serial", true, opt_serial},
    {"stats", false, opt_stats},
    {"h", false, opt_help},
    {"help", false, opt_help},
    {"version", false, opt_version},
};

/* ---------------------------------------------------------- parsing --- */

static const struct option_spec *option_find(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(options_table); i++)
        if (word_in(name, len, &options_table[i].name, 1))
            return &options_table[i];
    return NULL;
}

/* The next word as an option's value, or NULL at the end of argv. */
static const char *parser_take(struct parser *p)
{
    if (p->next >= p->argc || p->argv[p->next] == NULL)
        return NULL;
    return p->argv[p->next++];
}

/*
 * Handle one option word (it starts with '-' and is more than "-") and its
 * value. QEMU takes "-opt" and "--opt" and the value from the next word,
 * even one starting with '-'; the two-dash form may also carry it as
 * "--opt=value".
 */
static enum opt_result parse_word(struct parser *p)
{
    const char *word = p->argv[p->next++];
    bool two_dashes = word[1] == '-';
    const char *name = word + 1 + two_dashes;
    size_t len = two_dashes ? strcspn(name, "=") : strlen(name);
    int typed = (int)((size_t)(name - word) + len); /* word minus "=value" */
    const struct option_spec *spec = option_find(name, len);
    const char *arg = two_dashes && name[len] == '=' ? name + len + 1 : NULL;

    if (spec == NULL &&
        word_in(name, len, options_later, ARRAY_SIZE(options_later)))
        return fail(p, "option '%.*s' is not implemented yet", typed, word);
    if (spec == NULL)
        return fail(p, "unknown option '%.*s' (see --help)", typed, word);
    if (arg && !spec->has_arg)
        return fail(p, "option '%.*s' takes no argument", typed, word);
    if (spec->has_arg && arg == NULL)
        arg = parser_take(p);
    if (spec->has_arg && arg == NULL)
        return fail(p, "option '%.*s' needs an argument", typed, word);
    return spec->handle(p, arg);
}

static void options_set_defaults(struct bt_options *o)
{
    memset(o, 0, sizeof(*o));
    o->ram_mb = OPT_RAM_DEFAULT_MB;
    o->serial = SERIAL_STDIO;
    o->debug_exit_base = DEBUG_EXIT_BASE;
    o->debug_exit_size = DEBUG_EXIT_SIZE;
}

enum opt_result options_parse(int argc, char **argv, struct bt_options *o,
                              char *err, size_t errlen)
{
    struct parser p = {argc, argv, 1, o, err, errlen, false};

    if (err && errlen > 0)
        err[0] = '\0';
    if (o == NULL)
        return fail(&p, "internal error: no options structure");
    options_set_defaults(o);
    while (argv && p.next < argc && argv[p.next]) {
        const char *word = argv[p.next];
        enum opt_result r;

        if (word[0] != '-' || word[1] == '\0')
            return fail(&p,
                        "unexpected argument '%s' (for a disk image, use "
                        "-hda FILE)",
                        word);
        r = parse_word(&p);
        if (r != OPT_RUN)
            return r;
    }
    if (o->kernel == NULL)
        return fail(&p, "no kernel given (use -kernel FILE; see --help)");
    return OPT_RUN;
}

/* ------------------------------------------------------------- help --- */

void options_print_version(FILE *f)
{
    fprintf(f, "bt386 %s\n", BT386_VERSION);
    fputs("A 32-bit x86 virtualizer by dynamic binary translation, with a "
          "qemu-system-i386 command line.\n",
          f);
}

/* The manual, one line per entry; kept to what options_parse accepts. */
static const char *const help_text[] = {
    "NAME",
    "    bt386 - run a 32-bit x86 guest by dynamic binary translation",
    "",
    "SYNOPSIS",
    "    bt386 [OPTIONS] -kernel FILE",
    "    bt386 --help | --version",
    "",
    "DESCRIPTION",
    "    bt386 runs a 32-bit x86 (i386) guest as an ordinary process on an",
    "    x86-64 Linux host, with no hardware virtualization: guest code is",
    "    translated into host code as it runs. It boots a Linux bzImage (with",
    "    an initrd and its root file system on a raw disk image) or a",
    "    Multiboot (v1) kernel given with -kernel; there is no BIOS, so it",
    "    does not boot from a disk.",
    "",
    "    The command line is a subset of qemu-system-i386's, so a lab Makefile",
    "    can swap the binary. An option takes one dash or two (-kernel or",
    "    --kernel); its value is the next argument (even one that starts",
    "    with '-'), or follows '=' in the two-dash form (--m=64). Given twice,",
    "    -kernel, -initrd, -append and -m keep the last value.",
    "",
    "    qemu-system-i386 options that bt386 does not implement yet (-cdrom,",
    "    -smp, -cpu, -gdb, -s, -S, -d, -monitor, -vga, ...) are rejected by",
    "    name rather than ignored, and so is a bare disk image name.",
    "",
    "OPTIONS",
    "  Boot",
    "    -kernel FILE",
    "        Boot FILE: a Linux bzImage (loaded by the 32-bit boot protocol,",
    "        as qemu -kernel does), or a Multiboot (v1) kernel: an i386 ELF,",
    "        or any image with the Multiboot header's address fields.",
    "        Required: there is no BIOS to boot from a disk.",
    "    -initrd FILE[,FILE...]",
    "        Linux: the initial RAM disk (one FILE), placed at the top of",
    "        RAM. Multiboot: load each FILE as a module, in order; text",
    "        after a space is that module's command line (\"mod.bin arg\");",
    "        write \",,\" for a comma inside a name.",
    "    -append STRING",
    "        The kernel command line.",
    "",
    "  Machine",
    "    -hda FILE, -hdb FILE, -hdc FILE, -hdd FILE",
    "        A raw disk image as the IDE primary master, primary slave,",
    "        secondary master or secondary slave. Its size must be a whole",
    "        number of 512-byte sectors. The file is locked while bt386",
    "        runs: a second bt386 on the same image is refused. Writes go",
    "        to the file; a guest's cache flush reaches the disk (fdatasync).",
    "    -drive file=FILE[,format=raw][,if=ide][,index=N][,media=disk]",
    "           [,readonly=on|off]",
    "        The same, QEMU's way: index 0 to 3 (default: the first free",
    "        position); readonly=on opens FILE read-only and the guest's",
    "        writes fail as on a write-protected disk. cache=, aio=, id=",
    "        and discard= are accepted and ignored; other formats,",
    "        interfaces and media are refused.",
    "    -m [size=]SIZE",
    "        Guest RAM. SIZE is a whole number with an optional suffix B, K,",
    "        M, G, T (either case); no suffix means MiB, a size is rounded up",
    "        to whole MiB, and 0 means the default. 2 to 3072 MiB; default",
    "        128 MiB.",
    "    -device isa-debug-exit[,iobase=PORT][,iosize=N]",
    "        QEMU's debug-exit port (defaults iobase=0x501, iosize=2). A",
    "        guest write of value v to it ends bt386 with exit status",
    "        (v << 1) | 1. Numbers are decimal, 0x hex or 0-prefixed octal;",
    "        the ports must lie in 0 to 0xffff. One such device at most.",
    "    -no-reboot",
    "        When the guest triple-faults, exit with status 2 instead of",
    "        rebooting; when it resets the machine (keyboard controller,",
    "        port 0x92), exit with status 0.",
    "    -no-acpi",
    "        No ACPI: no tables in the BIOS area and no power-management",
    "        ports. By default the guest finds ACPI 1.0 tables and the",
    "        PIIX4-style PM registers (ports 0x600-0x60b, SCI on IRQ 9), so",
    "        that Linux can power the machine off.",
    "",
    "  Display and console",
    "    -nographic",
    "        No graphical output; the guest's serial port is the console on",
    "        the terminal (unless -serial says otherwise).",
    "    -display none",
    "        No display. Other QEMU displays (sdl, gtk, curses, vnc...) are",
    "        not implemented yet.",
    "    -serial DEV",
    "        Where COM1 (port 0x3f8) goes: stdio (the default), mon:stdio",
    "        (stdio with the Ctrl-A keys below; there is no QEMU monitor),",
    "        file:PATH (output to PATH), null (a port that discards output)",
    "        or none (no port). One -serial at most.",
    "",
    "        With -nographic or mon:stdio the terminal is in raw mode and",
    "        Ctrl-A starts a command: Ctrl-A x quits (status 0), Ctrl-A h",
    "        lists the keys, Ctrl-A Ctrl-A sends a Ctrl-A to the guest.",
    "",
    "  Debugging and statistics",
    "    --stats",
    "        When bt386 exits, print on standard error what the translator",
    "        and the monitor did: blocks and instructions translated, code",
    "        cache size, monitor exits by reason, emulated instructions by",
    "        kind, guest exceptions by vector.",
    "    -h, --help",
    "        Print this manual and exit.",
    "    --version",
    "        Print the version and exit.",
    "",
    "EXIT STATUS",
    "    0         the guest powered the machine off",
    "    (v<<1)|1  the guest wrote v to the isa-debug-exit port; a test",
    "              guest should not write 0, as status 1 also means an error",
    "    1         bad command line, unusable kernel or initrd, or a host",
    "              error; a one-line message starting \"bt386: \" goes to",
    "              standard error",
    "    2         the guest triple-faulted and -no-reboot was given",
    "    0         also: Ctrl-A x, or a reset (reboot) with -no-reboot",
    "    128+N     bt386 was stopped by signal N (SIGINT, SIGTERM, SIGHUP),",
    "              after closing its disk images",
    "",
    "EXAMPLES",
    "    Boot Linux with its root file system on a disk image:",
    "        bt386 -kernel vmlinuz -initrd initrd.img -hda disk.img \\",
    "              -append \"console=ttyS0 root=/dev/sda\" -nographic",
    "",
    "    Boot a Multiboot kernel with its console on the terminal:",
    "        bt386 -kernel kernel.elf -nographic",
    "",
    "    With 64 MiB, a module and a command line:",
    "        bt386 -m 64M -kernel kernel.elf -initrd initrd.img \\",
    "              -append \"verbose=1\"",
    "",
    "    A test guest that reports over the serial port and leaves through",
    "    port 0xf4:",
    "        bt386 -kernel test.elf -display none -serial stdio -no-reboot \\",
    "              -device isa-debug-exit,iobase=0xf4,iosize=0x04; echo $?",
    "",
    "    A lab Makefile that runs qemu-system-i386 by default:",
    "        QEMU ?= qemu-system-i386",
    "        run: kernel.elf",
    "                $(QEMU) -kernel kernel.elf -serial mon:stdio \\",
    "                        -display none",
    "    runs the same kernel under bt386 with",
    "        make QEMU=bt386 run",
    "",
    "    Count what the translator did:",
    "        bt386 --stats -kernel kernel.elf -nographic",
};

void options_print_help(FILE *f)
{
    for (size_t i = 0; i < ARRAY_SIZE(help_text); i++) {
        fputs(help_text[i], f);
        fputc('\n', f);
    }
}
