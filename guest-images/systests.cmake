# SPDX-License-Identifier: MIT
# System tests: one small Multiboot kernel per architectural mechanism
# (exceptions, privilege levels, segments, tasks, debug registers, V86,
# paging ...). Each sets up its own GDT, IDT and TSS (systests/lib), prints
# "ok NAME" or "FAIL NAME: ..." per check on COM1, then PASS or FAIL, and
# leaves through isa-debug-exit with 0x10 or 0x11. Included from
# guest-images/CMakeLists.txt; tests/systests.cmake runs them.

set(SYSTESTS_LIB
    systests/lib/entry.asm
    systests/lib/desc.c
    systests/lib/trap.c
    systests/lib/check.c
)
set(SYSTESTS_PAGING systests/lib/paging.c)

# bt386_systest(NAME SOURCES...) builds guest-images/NAME.elf from
# systests/NAME.c, SOURCES and the shared system-test support.
function(bt386_systest name)
    bt386_guest(${name} systests/lib/link.ld systests/${name}.c ${ARGN}
                ${SYSTESTS_LIB})
endfunction()

bt386_systest(sys_exceptions ${SYSTESTS_PAGING})
bt386_systest(sys_privilege)
bt386_systest(sys_segments)
bt386_systest(sys_iobitmap)
bt386_systest(sys_tasks)
bt386_systest(sys_debug ${SYSTESTS_PAGING})
bt386_systest(sys_v86)
bt386_systest(sys_shadow)
bt386_systest(sys_irqstate ${SYSTESTS_PAGING})
bt386_systest(sys_msr)
bt386_systest(pg_fault ${SYSTESTS_PAGING})
bt386_systest(pg_accessed_dirty ${SYSTESTS_PAGING})
bt386_systest(pg_large ${SYSTESTS_PAGING})
bt386_systest(pg_global ${SYSTESTS_PAGING})
bt386_systest(pg_invlpg ${SYSTESTS_PAGING})
bt386_systest(pg_spaces ${SYSTESTS_PAGING})
bt386_systest(pg_smc ${SYSTESTS_PAGING})
bt386_systest(pg_identity_switch ${SYSTESTS_PAGING})
bt386_systest(pg_loops ${SYSTESTS_PAGING})
