/* SPDX-License-Identifier: MIT */
/* System tests: one line per check on COM1, then PASS or FAIL and exit. */
#include "debugexit.h"
#include "io.h"
#include "sys.h"

#define EXIT_PASS 0x10 /* isa-debug-exit: process status 33 */
#define EXIT_FAIL 0x11 /* status 35 */

static unsigned failures;

void check_ok(const char *name)
{
    kprintf("ok %s\n", name);
}

void check_fail(const char *name)
{
    failures++;
    kprintf("FAIL %s: ", name);
}

void check_skip(const char *name, const char *why)
{
    kprintf("ok %s (skipped: %s)\n", name, why);
}

bool check_eq(const char *name, uint32_t expected, uint32_t got)
{
    if (expected == got) {
        check_ok(name);
        return true;
    }
    check_fail(name);
    kprintf("expected %x got %x\n", expected, got);
    return false;
}

bool check_true(const char *name, bool cond, const char *what)
{
    if (cond) {
        check_ok(name);
        return true;
    }
    check_fail(name);
    kprintf("%s\n", what);
    return false;
}

bool check_no_trap(const char *name)
{
    if (caught.count == 0) {
        check_ok(name);
        return true;
    }
    check_fail(name);
    kprintf("expected no exception got vector %u at %08x (error %x)\n",
            caught.vector, caught.eip, caught.error);
    return false;
}

bool check_trap(const char *name, uint32_t vec, uint32_t err, uint32_t eip)
{
    return check_trap_flags(name, vec, err, eip, try_flags);
}

bool check_trap_flags(const char *name, uint32_t vec, uint32_t err,
                      uint32_t eip, uint32_t eflags)
{
    uint32_t want_flags = eflags & ~EFL_RF, got_flags = caught.eflags & ~EFL_RF;

    if (caught.count == 1 && caught.vector == vec && caught.error == err &&
        caught.eip == eip && caught.cs == try_cs && got_flags == want_flags) {
        check_ok(name);
        return true;
    }
    check_fail(name);
    if (caught.count == 0) {
        kprintf("expected vector %u got no exception\n", vec);
        return false;
    }
    kprintf("expected vector %u error %x at %04x:%08x eflags %08x "
            "got vector %u error %x at %04x:%08x eflags %08x (%u exceptions)\n",
            vec, err, try_cs, eip, want_flags, caught.vector, caught.error,
            caught.cs, caught.eip, got_flags, caught.count);
    return false;
}

void systest_finish(void)
{
    kprintf(failures ? "FAIL\n" : "PASS\n");
    debug_exit(failures ? EXIT_FAIL : EXIT_PASS);
    kprintf("FAIL debug-exit device missing\n");
    halt_forever();
}
