/* SPDX-License-Identifier: MIT */
/* Unit tests for the command line (monitor/options.c). */
#include "monitor/options.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BT386_VERSION
#define BT386_VERSION "unknown"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_WORDS     32

static struct bt_options o;
static char err[512];

/* Parse {"bt386", words..., NULL}; the error text lands in err. */
static enum opt_result parse_words(const char *const *words)
{
    char *argv[MAX_WORDS + 1];
    int argc = 0;

    argv[argc++] = "bt386";
    for (; words[argc - 1] != NULL && argc < MAX_WORDS; argc++)
        argv[argc] = (char *)words[argc - 1];
    argv[argc] = NULL;
    memset(err, 'X', sizeof(err) - 1);
    err[sizeof(err) - 1] = '\0';
    return options_parse(argc, argv, &o, err, sizeof(err));
}

#define PARSE(...) parse_words((const char *const[]){__VA_ARGS__, NULL})

/* The words must parse, to a guest run, with an empty message. */
#define ck_parse_ok(...)                                                       \
    do {                                                                       \
        ck_assert_int_eq(PARSE(__VA_ARGS__), OPT_RUN);                         \
        ck_assert_str_eq(err, "");                                             \
    } while (0)

/* The words must fail with exactly msg. */
#define ck_parse_err(msg, ...)                                                 \
    do {                                                                       \
        ck_assert_int_eq(PARSE(__VA_ARGS__), OPT_ERROR);                       \
        ck_assert_str_eq(err, msg);                                            \
    } while (0)

/* Run the words with stdout sent to a buffer; returns it (malloc'd). */
static char *parse_capturing_stdout(const char *const *words,
                                    enum opt_result *r)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDOUT_FILENO);
    char *text = calloc(1, 65536);

    ck_assert_ptr_nonnull(tmp);
    ck_assert_ptr_nonnull(text);
    fflush(stdout);
    dup2(fileno(tmp), STDOUT_FILENO);
    *r = parse_words(words);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    fread(text, 1, 65535, tmp);
    fclose(tmp);
    return text;
}

/* Print the help to a buffer (malloc'd). */
static char *help_text(void)
{
    FILE *tmp = tmpfile();
    char *text = calloc(1, 65536);

    ck_assert_ptr_nonnull(tmp);
    ck_assert_ptr_nonnull(text);
    options_print_help(tmp);
    rewind(tmp);
    fread(text, 1, 65535, tmp);
    fclose(tmp);
    return text;
}

/* ------------------------------------------------------- defaults --- */

START_TEST(test_defaults)
{
    memset(&o, 0xa5, sizeof(o));
    ck_parse_ok("-kernel", "k.elf");
    ck_assert_str_eq(o.kernel, "k.elf");
    ck_assert_ptr_null(o.initrd);
    ck_assert_ptr_null(o.append);
    ck_assert_uint_eq(o.ram_mb, 128);
    ck_assert(!o.nographic);
    ck_assert(!o.display_none);
    ck_assert_int_eq(o.serial, SERIAL_STDIO);
    ck_assert_ptr_null(o.serial_path);
    ck_assert(!o.no_reboot);
    ck_assert(!o.no_acpi);
    ck_assert(!o.debug_exit);
    ck_assert_uint_eq(o.debug_exit_base, 0x501);
    ck_assert_uint_eq(o.debug_exit_size, 2);
    ck_assert(!o.stats);
}
END_TEST

/* ------------------------------------------------ boot options --- */

START_TEST(test_kernel_forms)
{
    ck_parse_ok("--kernel", "a.elf");
    ck_assert_str_eq(o.kernel, "a.elf");
    ck_parse_ok("--kernel=b.elf");
    ck_assert_str_eq(o.kernel, "b.elf");
    ck_parse_ok("-kernel", "a.elf", "-kernel", "c.elf"); /* last wins */
    ck_assert_str_eq(o.kernel, "c.elf");
    ck_parse_ok("-kernel", "-odd-name.elf"); /* values may start with '-' */
    ck_assert_str_eq(o.kernel, "-odd-name.elf");
    ck_parse_ok("-kernel", ""); /* the loader reports the empty name */
    ck_assert_str_eq(o.kernel, "");
}
END_TEST

START_TEST(test_initrd_append)
{
    ck_parse_ok("-kernel", "k", "-initrd", "a.bin arg,b.bin", "-append",
                "-v console=ttyS0");
    ck_assert_str_eq(o.initrd, "a.bin arg,b.bin");
    ck_assert_str_eq(o.append, "-v console=ttyS0");
    ck_parse_ok("--append=root=/dev/sda a=b", "--initrd=m.bin", "-kernel", "k");
    ck_assert_str_eq(o.append, "root=/dev/sda a=b");
    ck_assert_str_eq(o.initrd, "m.bin");
    ck_parse_ok("-kernel", "k", "-append", "");
    ck_assert_str_eq(o.append, "");
}
END_TEST

/* -------------------------------------------------------------- -m --- */

static const struct {
    const char *arg;
    uint32_t mb;
} memory_ok[] = {
    {"128", 128},     {"128M", 128},       {"128m", 128},      {"1G", 1024},
    {"1g", 1024},     {"size=128M", 128},  {"size=64", 64},    {"131072K", 128},
    {"131072k", 128}, {"134217728B", 128}, {"2", 2},           {"3072", 3072},
    {"3G", 3072},     {"0", 128},          {"0G", 128},        {"1500K", 2},
    {"2047K", 2},     {"00064", 64},       {"64,size=32", 32},
};

START_TEST(test_memory_ok)
{
    ck_parse_ok("-kernel", "k", "-m", memory_ok[_i].arg);
    ck_assert_uint_eq(o.ram_mb, memory_ok[_i].mb);
}
END_TEST

START_TEST(test_memory_double_dash)
{
    ck_parse_ok("-kernel", "k", "--m=64");
    ck_assert_uint_eq(o.ram_mb, 64);
    ck_parse_ok("-kernel", "k", "--m", "1G", "-m", "32"); /* last wins */
    ck_assert_uint_eq(o.ram_mb, 32);
}
END_TEST

static const struct {
    const char *arg, *msg;
} memory_bad[] = {
    {"xyz", "-m: invalid size 'xyz'"},
    {"", "-m: invalid size ''"},
    {"12X", "-m: invalid size '12X'"},
    {"-5", "-m: invalid size '-5'"},
    {"+5", "-m: invalid size '+5'"},
    {" 5", "-m: invalid size ' 5'"},
    {"5 ", "-m: invalid size '5 '"},
    {"M", "-m: invalid size 'M'"},
    {"1.5G", "-m: invalid size '1.5G'"},
    {"12MB", "-m: invalid size '12MB'"},
    {"0x10", "-m: invalid size '0x10'"},
    {"size=", "-m: invalid size ''"},
    {"size=abc", "-m: invalid size 'abc'"},
    {"9999", "-m: 9999 MiB is out of range (2 to 3072 MiB)"},
    {"1", "-m: 1 MiB is out of range (2 to 3072 MiB)"},
    {"1K", "-m: 1 MiB is out of range (2 to 3072 MiB)"},
    {"3073", "-m: 3073 MiB is out of range (2 to 3072 MiB)"},
    {"4G", "-m: 4096 MiB is out of range (2 to 3072 MiB)"},
    {"1T", "-m: 1048576 MiB is out of range (2 to 3072 MiB)"},
    {"15E", "-m: 16492674416640 MiB is out of range (2 to 3072 MiB)"},
    {"16E", "-m: '16E' is out of range (2 to 3072 MiB)"},
    {"17592186044416", /* 2^44 MiB = 2^64 bytes */
     "-m: '17592186044416' is out of range (2 to 3072 MiB)"},
    {"18446744073709551615",
     "-m: '18446744073709551615' is out of range (2 to 3072 MiB)"},
    {"99999999999999999999G",
     "-m: '99999999999999999999G' is out of range (2 to 3072 MiB)"},
    {"99999999999999999999X", "-m: invalid size '99999999999999999999X'"},
    {"128M,slots=2", "-m: 'slots' is not supported (only a size is)"},
    {"128M,maxmem=1G", "-m: 'maxmem' is not supported (only a size is)"},
    {"128M,64", "-m: '64' is not supported (only a size is)"},
    {"slots=2", "-m: 'slots' is not supported (only a size is)"},
};

START_TEST(test_memory_bad)
{
    ck_parse_err(memory_bad[_i].msg, "-kernel", "k", "-m", memory_bad[_i].arg);
}
END_TEST

/* ---------------------------------------------- -serial, -display --- */

START_TEST(test_serial_forms)
{
    ck_parse_ok("-kernel", "k", "-serial", "stdio");
    ck_assert_int_eq(o.serial, SERIAL_STDIO);
    ck_parse_ok("-kernel", "k", "-serial", "mon:stdio");
    ck_assert_int_eq(o.serial, SERIAL_STDIO);
    ck_parse_ok("-kernel", "k", "-serial", "null");
    ck_assert_int_eq(o.serial, SERIAL_NULL);
    ck_parse_ok("-kernel", "k", "--serial=none");
    ck_assert_int_eq(o.serial, SERIAL_NONE);
    ck_parse_ok("-kernel", "k", "-serial", "file:out/com1.log");
    ck_assert_int_eq(o.serial, SERIAL_FILE);
    ck_assert_str_eq(o.serial_path, "out/com1.log");
    ck_parse_ok("-kernel", "k", "-serial", "file:a:b");
    ck_assert_str_eq(o.serial_path, "a:b");
}
END_TEST

START_TEST(test_nographic)
{
    ck_parse_ok("-nographic", "-kernel", "k");
    ck_assert(o.nographic);
    ck_assert(!o.display_none);
    ck_assert_int_eq(o.serial, SERIAL_STDIO);
    ck_parse_ok("-serial", "null", "-nographic", "-kernel", "k");
    ck_assert(o.nographic);
    ck_assert_int_eq(o.serial, SERIAL_NULL);
}
END_TEST

static const struct {
    const char *arg, *msg;
} serial_bad[] = {
    {"pty", "-serial: 'pty' is not supported (use stdio, null, none or "
            "file:PATH)"},
    {"tcp::4444,server", "-serial: 'tcp::4444,server' is not supported (use "
                         "stdio, null, none or file:PATH)"},
    {"", "-serial: '' is not supported (use stdio, null, none or file:PATH)"},
    {"STDIO", "-serial: 'STDIO' is not supported (use stdio, null, none or "
              "file:PATH)"},
    {"file:", "-serial: 'file:' needs a file name"},
};

START_TEST(test_serial_bad)
{
    ck_parse_err(serial_bad[_i].msg, "-kernel", "k", "-serial",
                 serial_bad[_i].arg);
}
END_TEST

START_TEST(test_serial_twice)
{
    ck_parse_err("-serial: only one serial port (COM1) is supported", "-serial",
                 "stdio", "-serial", "file:x", "-kernel", "k");
}
END_TEST

START_TEST(test_display_none)
{
    ck_parse_ok("-kernel", "k", "-display", "none");
    ck_assert(o.display_none);
    ck_assert(!o.nographic);
    ck_assert_int_eq(o.serial, SERIAL_STDIO);
}
END_TEST

static const struct {
    const char *arg, *msg;
} display_bad[] = {
    {"sdl", "-display: 'sdl' is not implemented yet"},
    {"sdl,gl=on", "-display: 'sdl' is not implemented yet"},
    {"gtk", "-display: 'gtk' is not implemented yet"},
    {"curses", "-display: 'curses' is not implemented yet"},
    {"vnc=:0", "-display: 'vnc' is not implemented yet"},
    {"egl-headless", "-display: 'egl-headless' is not implemented yet"},
    {"foo", "-display: unknown display 'foo'"},
    {"", "-display: unknown display ''"},
    {"None", "-display: unknown display 'None'"},
    {"none,x=1", "-display: 'none' takes no options"},
};

START_TEST(test_display_bad)
{
    ck_parse_err(display_bad[_i].msg, "-kernel", "k", "-display",
                 display_bad[_i].arg);
}
END_TEST

/* ---------------------------------------------------------- -device --- */

static const struct {
    const char *arg;
    uint16_t base, size;
} device_ok[] = {
    {"isa-debug-exit", 0x501, 2},
    {"isa-debug-exit,iobase=0xf4,iosize=0x04", 0xf4, 4},
    {"isa-debug-exit,iosize=4,iobase=244", 0xf4, 4},
    {"isa-debug-exit,iobase=0XF4", 0xf4, 2},
    {"isa-debug-exit,iobase=0764", 0x1f4, 2}, /* QEMU: leading 0 is octal */
    {"isa-debug-exit,iobase=0,iosize=1", 0, 1},
    {"isa-debug-exit,iobase=0xffff,iosize=1", 0xffff, 1},
    {"isa-debug-exit,iobase=0,iosize=0xffff", 0, 0xffff},
    {"isa-debug-exit,id=exit0,iosize=1", 0x501, 1},
};

START_TEST(test_device_ok)
{
    ck_parse_ok("-kernel", "k", "-device", device_ok[_i].arg);
    ck_assert(o.debug_exit);
    ck_assert_uint_eq(o.debug_exit_base, device_ok[_i].base);
    ck_assert_uint_eq(o.debug_exit_size, device_ok[_i].size);
}
END_TEST

static const struct {
    const char *arg, *msg;
} device_bad[] = {
    {"virtio-net-pci", "-device: 'virtio-net-pci' is not supported"},
    {"e1000,netdev=n0", "-device: 'e1000' is not supported"},
    {"", "-device: '' is not supported"},
    {"isa-debug-exitx", "-device: 'isa-debug-exitx' is not supported"},
    {"isa-debug-exit,foo=1", "-device isa-debug-exit: unknown property 'foo'"},
    {"isa-debug-exit,", "-device isa-debug-exit: unknown property ''"},
    {"isa-debug-exit,iobase",
     "-device isa-debug-exit: invalid value '' for iobase"},
    {"isa-debug-exit,iobase=",
     "-device isa-debug-exit: invalid value '' for iobase"},
    {"isa-debug-exit,iobase=zz",
     "-device isa-debug-exit: invalid value 'zz' for iobase"},
    {"isa-debug-exit,iobase=-1",
     "-device isa-debug-exit: invalid value '-1' for iobase"},
    {"isa-debug-exit,iobase=0x",
     "-device isa-debug-exit: invalid value '0x' for iobase"},
    {"isa-debug-exit,iobase=08",
     "-device isa-debug-exit: invalid value '08' for iobase"},
    {"isa-debug-exit,iosize=4294967296",
     "-device isa-debug-exit: invalid value '4294967296' for iosize"},
    {"isa-debug-exit,iosize=0x123456789abcdef0123",
     "-device isa-debug-exit: invalid value '0x123456789abcdef0123' for "
     "iosize"},
    {"isa-debug-exit,iobase=0x10000",
     "-device isa-debug-exit: iobase 0x10000 is out of range (0 to 0xffff)"},
    {"isa-debug-exit,iobase=4294967295",
     "-device isa-debug-exit: iobase 0xffffffff is out of range (0 to "
     "0xffff)"},
    {"isa-debug-exit,iosize=0", "-device isa-debug-exit: iosize 0 is out of "
                                "range (1 to 64255 at iobase 0x501)"},
    {"isa-debug-exit,iobase=0xfffe,iosize=4",
     "-device isa-debug-exit: iosize 4 is out of range (1 to 2 at iobase "
     "0xfffe)"},
};

START_TEST(test_device_bad)
{
    ck_parse_err(device_bad[_i].msg, "-kernel", "k", "-device",
                 device_bad[_i].arg);
}
END_TEST

START_TEST(test_device_twice)
{
    ck_parse_err("-device isa-debug-exit: only one is supported", "-device",
                 "isa-debug-exit", "-device", "isa-debug-exit,iobase=0xf4",
                 "-kernel", "k");
}
END_TEST

/* ------------------------------------------------------------ flags --- */

START_TEST(test_flags)
{
    ck_parse_ok("-kernel", "k", "-no-reboot", "--stats");
    ck_assert(o.no_reboot);
    ck_assert(o.stats);
    ck_assert(!o.nographic);
    ck_parse_ok("-kernel", "k", "--no-reboot", "-stats", "--nographic");
    ck_assert(o.no_reboot);
    ck_assert(o.stats);
    ck_assert(o.nographic);
    ck_assert(!o.no_acpi);
    ck_parse_ok("-kernel", "k", "-no-acpi");
    ck_assert(o.no_acpi);
}
END_TEST

START_TEST(test_flag_with_value)
{
    ck_parse_err("option '--stats' takes no argument", "-kernel", "k",
                 "--stats=1");
    ck_parse_err("option '--no-reboot' takes no argument", "-kernel", "k",
                 "--no-reboot=");
}
END_TEST

/* ------------------------------------------------------------ errors --- */

static const char *const options_with_values[] = {
    "-kernel", "--kernel", "-initrd",  "-append", "-m",
    "--m",     "-serial",  "-display", "-device",
};

START_TEST(test_missing_argument)
{
    char msg[64];

    snprintf(msg, sizeof(msg), "option '%s' needs an argument",
             options_with_values[_i]);
    ck_parse_err(msg, options_with_values[_i]);
}
END_TEST

START_TEST(test_missing_argument_after_kernel)
{
    ck_parse_err("option '-m' needs an argument", "-kernel", "k", "-m");
}
END_TEST

static const struct {
    const char *arg, *msg;
} unknown[] = {
    {"-foo", "unknown option '-foo' (see --help)"},
    {"--foo", "unknown option '--foo' (see --help)"},
    {"--foo=bar", "unknown option '--foo' (see --help)"},
    {"--", "unknown option '--' (see --help)"},
    {"---kernel", "unknown option '---kernel' (see --help)"},
    {"-kernel=k", "unknown option '-kernel=k' (see --help)"},
    {"-Kernel", "unknown option '-Kernel' (see --help)"},
    {"-hd", "unknown option '-hd' (see --help)"},
};

START_TEST(test_unknown_option)
{
    ck_parse_err(unknown[_i].msg, "-kernel", "k", unknown[_i].arg);
}
END_TEST

static const char *const stray[] = {"disk.img", "-", "", "kernel.elf"};

START_TEST(test_stray_argument)
{
    char msg[128];

    snprintf(msg, sizeof(msg),
             "unexpected argument '%s' (for a disk image, use -hda FILE)",
             stray[_i]);
    ck_parse_err(msg, "-kernel", "k", stray[_i]);
}
END_TEST

/* The options the brief requires to be rejected by name. */
static const char *const not_yet[] = {
    "cdrom",
    "fda",      "boot",        "bios",      "smp",      "cpu",    "machine",
    "M",        "enable-kvm",  "accel",     "netdev",   "net",    "nic",
    "vga",      "monitor",     "qmp",       "s",        "S",      "gdb",
    "usb",      "usbdevice",   "soundhw",   "audiodev", "rtc",    "snapshot",
    "vnc",      "full-screen", "name",      "uuid",     "d",      "D",
    "icount",   "chardev",     "global",    "object",   "L",      "pflash",
    "k",        "no-shutdown", "daemonize", "pidfile",  "loadvm", "incoming",
    "watchdog", "parallel",    "virtfs",    "fsdev",    "sdl",    "curses",
    "debugcon", "nodefaults",
};

START_TEST(test_not_implemented)
{
    char single[64], dbl[64], msg[96];

    snprintf(single, sizeof(single), "-%s", not_yet[_i]);
    snprintf(dbl, sizeof(dbl), "--%s", not_yet[_i]);
    snprintf(msg, sizeof(msg), "option '%s' is not implemented yet", single);
    ck_parse_err(msg, "-kernel", "k", single, "x.img");
    ck_parse_err(msg, single); /* before asking for a kernel or a value */
    snprintf(msg, sizeof(msg), "option '%s' is not implemented yet", dbl);
    ck_parse_err(msg, "-kernel", "k", dbl, "x.img");
}
END_TEST

START_TEST(test_not_implemented_with_value)
{
    ck_parse_err("option '--cdrom' is not implemented yet",
                 "--cdrom=x.iso", "-kernel", "k");
}
END_TEST

/* -hda..-hdd and -drive fill the four IDE positions. */
START_TEST(test_drives)
{
    ck_parse_ok("-kernel", "k", "-hdb", "b.img", "-drive",
                "file=a,,1.img,format=raw,if=ide", "-drive",
                "readonly=on,file=c.img,index=3,cache=none", "-drive",
                "file=d.img");
    ck_assert(o.drives[0].present && o.drives[1].present &&
              o.drives[2].present && o.drives[3].present);
    ck_assert_str_eq(o.drives[0].file, "a,1.img"); /* first free: index 0 */
    ck_assert_str_eq(o.drives[1].file, "b.img");
    ck_assert_str_eq(o.drives[2].file, "d.img");
    ck_assert_str_eq(o.drives[3].file, "c.img");
    ck_assert(o.drives[3].readonly && !o.drives[0].readonly);
}
END_TEST

static const char *const drive_errors[][2] = {
    {"file=x.img,format=qcow2",
     "-drive: format 'qcow2' is not supported (only raw images are)"},
    {"file=x.img,if=virtio", "-drive: if=virtio is not supported (only ide is)"},
    {"file=x.img,media=cdrom",
     "-drive: media=cdrom is not supported (only disk is)"},
    {"file=x.img,index=4", "-drive: index '4' is out of range (0 to 3)"},
    {"file=x.img,readonly=maybe",
     "-drive: invalid value 'maybe' for readonly (use on or off)"},
    {"file=x.img,snapshot=on", "-drive: unknown property 'snapshot'"},
    {"format=raw", "-drive: no file= given (an empty drive is not supported)"},
    {"file=", "-drive: no file name given"},
};

START_TEST(test_drive_errors)
{
    ck_parse_err(drive_errors[_i][1], "-kernel", "k", "-drive",
                 drive_errors[_i][0]);
}
END_TEST

START_TEST(test_drive_twice)
{
    ck_parse_err("-drive: drive index 0 is already in use", "-kernel", "k",
                 "-hda", "a.img", "-drive", "file=b.img,index=0");
    ck_parse_err("-drive: no free IDE position (four at most)", "-kernel",
                 "k", "-hda", "a", "-hdb", "b", "-hdc", "c", "-hdd", "d",
                 "-drive", "file=e");
}
END_TEST

START_TEST(test_no_kernel)
{
    const char *msg = "no kernel given (use -kernel FILE; see --help)";

    ck_assert_int_eq(parse_words((const char *const[]){NULL}), OPT_ERROR);
    ck_assert_str_eq(err, msg);
    ck_parse_err(msg, "-m", "64", "-nographic");
    ck_parse_err(msg, "-initrd", "a.bin", "-append", "x");
}
END_TEST

START_TEST(test_first_error_wins)
{
    ck_parse_err("unknown option '-foo' (see --help)", "-foo", "-m", "xyz");
    ck_parse_err("-m: invalid size 'xyz'", "-m", "xyz", "-foo");
    ck_parse_err("unknown option '-foo' (see --help)", "-foo", "--help");
}
END_TEST

/* ---------------------------------------------------- help, version --- */

static const char *const help_words[] = {"--help", "-help", "-h", "--h"};

START_TEST(test_help_exits_ok)
{
    enum opt_result r;
    const char *words[] = {"-m", "64", help_words[_i], "-foo", NULL};
    char *out = parse_capturing_stdout(words, &r);

    ck_assert_int_eq(r, OPT_EXIT_OK);
    ck_assert_ptr_nonnull(strstr(out, "SYNOPSIS"));
    ck_assert_str_eq(err, "");
    free(out);
}
END_TEST

static const char *const help_must_mention[] = {
    "NAME\n",
    "SYNOPSIS\n",
    "DESCRIPTION\n",
    "OPTIONS\n",
    "  Boot\n",
    "  Machine\n",
    "  Display and console\n",
    "  Debugging and statistics\n",
    "EXIT STATUS\n",
    "EXAMPLES\n",
    "-kernel FILE",
    "-initrd FILE",
    "-append STRING",
    "-m [size=]SIZE",
    "-device isa-debug-exit[,iobase=PORT][,iosize=N]",
    "-no-reboot",
    "-no-acpi",
    "-nographic",
    "-display none",
    "-serial DEV",
    "--stats",
    "--version",
    "(v << 1) | 1",
    "make QEMU=bt386",
    "qemu-system-i386",
};

START_TEST(test_help_content)
{
    char *text = help_text();

    ck_assert_msg(strstr(text, help_must_mention[_i]) != NULL,
                  "help lacks '%s'", help_must_mention[_i]);
    free(text);
}
END_TEST

START_TEST(test_help_fits_80_columns)
{
    char *text = help_text();
    size_t col = 0;

    for (const char *c = text; *c; c++) {
        col = *c == '\n' ? 0 : col + 1;
        ck_assert_msg(col <= 79, "help line longer than 79 columns");
        ck_assert_msg(*c != '\t', "tab in help");
    }
    ck_assert(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    free(text);
}
END_TEST

static const char *const version_words[] = {"--version", "-version"};

START_TEST(test_version)
{
    enum opt_result r;
    const char *words[] = {version_words[_i], NULL};
    char *out = parse_capturing_stdout(words, &r);
    const char *second = strchr(out, '\n');

    ck_assert_int_eq(r, OPT_EXIT_OK);
    ck_assert_msg(strncmp(out, "bt386 " BT386_VERSION "\n",
                          strlen("bt386 " BT386_VERSION "\n")) == 0,
                  "version line is '%s'", out);
    ck_assert_ptr_nonnull(second);
    ck_assert(strlen(second + 1) > 10);
    ck_assert_ptr_nonnull(strchr(second + 1, '\n'));
    ck_assert_ptr_null(strchr(strchr(second + 1, '\n') + 1, '\n'));
    free(out);
}
END_TEST

/* ------------------------------------------------------- robustness --- */

START_TEST(test_null_argv)
{
    ck_assert_int_eq(options_parse(0, NULL, &o, err, sizeof(err)), OPT_ERROR);
    ck_assert_str_eq(err, "no kernel given (use -kernel FILE; see --help)");
    ck_assert_uint_eq(o.ram_mb, 128);
    ck_assert_int_eq(options_parse(-1, NULL, &o, err, sizeof(err)), OPT_ERROR);
}
END_TEST

START_TEST(test_null_entry_ends_argv)
{
    char *argv[] = {"bt386", "-kernel", "k", NULL, "-foo"};
    char *cut[] = {"bt386", "-kernel", NULL, "k"};

    ck_assert_int_eq(options_parse(5, argv, &o, err, sizeof(err)), OPT_RUN);
    ck_assert_str_eq(o.kernel, "k");
    ck_assert_int_eq(options_parse(4, cut, &o, err, sizeof(err)), OPT_ERROR);
    ck_assert_str_eq(err, "option '-kernel' needs an argument");
}
END_TEST

START_TEST(test_err_buffer_limits)
{
    char *argv[] = {"bt386", "-foo"};
    char small[8];

    ck_assert_int_eq(options_parse(2, argv, &o, NULL, 100), OPT_ERROR);
    small[0] = 'Z';
    ck_assert_int_eq(options_parse(2, argv, &o, small, 0), OPT_ERROR);
    ck_assert_int_eq(small[0], 'Z');
    ck_assert_int_eq(options_parse(2, argv, &o, small, sizeof(small)),
                     OPT_ERROR);
    ck_assert_str_eq(small, "unknown");
    ck_assert_int_eq(options_parse(2, argv, NULL, err, sizeof(err)), OPT_ERROR);
}
END_TEST

START_TEST(test_huge_argument)
{
    size_t n = 200000;
    char *big = malloc(n + 1);

    ck_assert_ptr_nonnull(big);
    memset(big, '9', n);
    big[n] = '\0';
    ck_assert_int_eq(PARSE("-kernel", "k", "-m", big), OPT_ERROR);
    ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
    ck_assert(strncmp(err, "-m: '999", 8) == 0);
    big[0] = '-';
    ck_assert_int_eq(PARSE("-kernel", "k", big), OPT_ERROR);
    ck_assert(strncmp(err, "unknown option '-999", 20) == 0);
    free(big);
}
END_TEST

/* ------------------------------------------------------------ suite --- */

static TCase *parse_tcase(void)
{
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_kernel_forms);
    tcase_add_test(tc, test_initrd_append);
    tcase_add_loop_test(tc, test_memory_ok, 0, ARRAY_SIZE(memory_ok));
    tcase_add_test(tc, test_memory_double_dash);
    tcase_add_test(tc, test_serial_forms);
    tcase_add_test(tc, test_nographic);
    tcase_add_test(tc, test_display_none);
    tcase_add_loop_test(tc, test_device_ok, 0, ARRAY_SIZE(device_ok));
    tcase_add_test(tc, test_flags);
    return tc;
}

static TCase *errors_tcase(void)
{
    TCase *tc = tcase_create("errors");

    tcase_add_loop_test(tc, test_memory_bad, 0, ARRAY_SIZE(memory_bad));
    tcase_add_loop_test(tc, test_serial_bad, 0, ARRAY_SIZE(serial_bad));
    tcase_add_test(tc, test_serial_twice);
    tcase_add_loop_test(tc, test_display_bad, 0, ARRAY_SIZE(display_bad));
    tcase_add_loop_test(tc, test_device_bad, 0, ARRAY_SIZE(device_bad));
    tcase_add_test(tc, test_device_twice);
    tcase_add_test(tc, test_flag_with_value);
    tcase_add_loop_test(tc, test_missing_argument, 0,
                        ARRAY_SIZE(options_with_values));
    tcase_add_test(tc, test_missing_argument_after_kernel);
    tcase_add_loop_test(tc, test_unknown_option, 0, ARRAY_SIZE(unknown));
    tcase_add_loop_test(tc, test_stray_argument, 0, ARRAY_SIZE(stray));
    tcase_add_loop_test(tc, test_not_implemented, 0, ARRAY_SIZE(not_yet));
    tcase_add_test(tc, test_not_implemented_with_value);
    tcase_add_test(tc, test_drives);
    tcase_add_loop_test(tc, test_drive_errors, 0, (int)ARRAY_SIZE(drive_errors));
    tcase_add_test(tc, test_drive_twice);
    tcase_add_test(tc, test_no_kernel);
    tcase_add_test(tc, test_first_error_wins);
    return tc;
}

static TCase *robustness_tcase(void)
{
    TCase *tc = tcase_create("robustness");

    tcase_add_test(tc, test_null_argv);
    tcase_add_test(tc, test_null_entry_ends_argv);
    tcase_add_test(tc, test_err_buffer_limits);
    tcase_add_test(tc, test_huge_argument);
    return tc;
}

static TCase *help_tcase(void)
{
    TCase *tc = tcase_create("help");

    tcase_add_loop_test(tc, test_help_exits_ok, 0, ARRAY_SIZE(help_words));
    tcase_add_loop_test(tc, test_help_content, 0,
                        ARRAY_SIZE(help_must_mention));
    tcase_add_test(tc, test_help_fits_80_columns);
    tcase_add_loop_test(tc, test_version, 0, ARRAY_SIZE(version_words));
    return tc;
}

static Suite *options_suite(void)
{
    Suite *s = suite_create("options");

    suite_add_tcase(s, parse_tcase());
    suite_add_tcase(s, errors_tcase());
    suite_add_tcase(s, robustness_tcase());
    suite_add_tcase(s, help_tcase());
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(options_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
