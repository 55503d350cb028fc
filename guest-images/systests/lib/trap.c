/* SPDX-License-Identifier: MIT */
/* System tests: exception dispatch, TRY's capture, the catch-all. */
#include <stddef.h>

#include "debugexit.h"
#include "io.h"
#include "sys.h"

volatile struct trap_record caught;
volatile uint32_t catch_resume, try_at, try_end, try_flags;
volatile uint16_t try_cs;
volatile uint32_t try_mark;

static trap_handler handlers[256];

void trap_set_handler(int vec, trap_handler h)
{
    handlers[vec] = h;
}

void trap_reset(void)
{
    caught.count = 0;
    caught.vector = caught.error = caught.eip = caught.cs = 0xDEAD;
    caught.eflags = caught.esp = caught.ss = caught.cr2 = 0xDEAD;
}

/* Record the exception for TRY and resume after the tried instructions. */
static void trap_catch(struct trap_frame *f)
{
    caught.count++;
    caught.vector = f->vector;
    caught.error = f->error;
    caught.eip = f->eip;
    caught.cs = f->cs & 0xFFFF;
    caught.eflags = f->eflags;
    if (f->vector == VEC_PF)
        caught.cr2 = cr2_read();
    if ((f->cs & 3) != 0 || (f->eflags & EFL_VM)) {
        caught.esp = f->esp;
        caught.ss = f->ss & 0xFFFF;
    }
    f->eip = catch_resume;
    catch_resume = 0;
    /* Resume with the flags of the tried code, minus a TF it may have set
     * (a single-step test arms TF itself). */
    f->eflags &= ~EFL_TF;
}

/* Anything nobody expected: report it and stop, rather than let the CPU
 * escalate to a triple fault. */
static __attribute__((noreturn)) void trap_unexpected(struct trap_frame *f)
{
    kprintf("FAIL unexpected exception %u at %04x:%08x (error %x, eflags "
            "%08x)\n",
            f->vector, f->cs & 0xFFFF, f->eip, f->error, f->eflags);
    if (f->vector == VEC_PF)
        kprintf("     cr2 %08x\n", cr2_read());
    kprintf("FAIL\n");
    debug_exit(0x11);
    halt_forever();
}

void trap_dispatch(struct trap_frame *f);

void trap_dispatch(struct trap_frame *f)
{
    if (handlers[f->vector])
        handlers[f->vector](f);
    else
        trap_default(f);
}

void trap_default(struct trap_frame *f)
{
    if (catch_resume && f->vector < 32) {
        trap_catch(f);
        return;
    }
    trap_unexpected(f);
}
