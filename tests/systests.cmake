# SPDX-License-Identifier: MIT
# System tests: each kernel built by guest-images/systests.cmake runs under
# qemu-system-i386 (a cross-check of the test itself, skipped when QEMU is
# missing) and under bt386. The bt386 runs stay DISABLED until the feature
# they test lands: list a kernel in BT386_SYSTESTS_ENABLED to enable it.

# Kernels bt386 passes today: all of them. A kernel for a feature not built
# yet would be left out of this list, with the reason here.
if(NOT DEFINED BT386_SYSTESTS_ENABLED)
    set(BT386_SYSTESTS_ENABLED
        pg_fault pg_accessed_dirty pg_large pg_global pg_invlpg pg_spaces
        pg_smc pg_identity_switch pg_loops sys_privilege sys_iobitmap sys_msr
        sys_shadow sys_irqstate sys_tasks sys_debug
        sys_segments sys_exceptions sys_v86)
endif()

set(BT386_RUN_SYSTEST ${CMAKE_CURRENT_SOURCE_DIR}/systest/run-systest.sh)
set(SYSTEST_MACHINE -m 128 -nographic -no-reboot
    -device isa-debug-exit,iobase=0xf4,iosize=0x04)

# bt386_systest_run(NAME [CPU model] [DEVIATION check]...) registers
# systest_qemu_NAME and systest_bt386_NAME for guest-images/NAME.elf.
# CPU picks QEMU's -cpu (default: QEMU's own, qemu32); each DEVIATION names
# a check QEMU's TCG fails by a documented departure from the SDM (the
# kernel's comments say which) -- bt386 gets no such allowance.
function(bt386_systest_run name)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "CPU" "DEVIATION")
    set(elf ${CMAKE_BINARY_DIR}/guest-images/${name}.elf)
    set(qemu_cpu)
    if(ARG_CPU)
        set(qemu_cpu -cpu ${ARG_CPU})
    endif()
    set(deviations)
    foreach(d IN LISTS ARG_DEVIATION)
        list(APPEND deviations --deviation ${d})
    endforeach()

    add_test(NAME systest_qemu_${name}
        COMMAND ${BT386_RUN_SYSTEST} --skip-missing ${deviations} --
        qemu-system-i386 ${qemu_cpu} ${SYSTEST_MACHINE} -kernel ${elf})
    add_test(NAME systest_bt386_${name}
        COMMAND ${BT386_RUN_SYSTEST} --
        $<TARGET_FILE:bt386> ${SYSTEST_MACHINE} -kernel ${elf})
    set_tests_properties(systest_qemu_${name} systest_bt386_${name}
        PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77 LABELS systest)
    if(NOT name IN_LIST BT386_SYSTESTS_ENABLED)
        set_tests_properties(systest_bt386_${name} PROPERTIES DISABLED TRUE)
    endif()
endfunction()

# QEMU's default CPU (qemu32) advertises everything the kernels test:
# FPU, TSC, MSR, SEP, PSE, PGE, FXSR, SSE. The DEVIATION names are checks
# QEMU 7.2's TCG fails by departing from the SDM; each kernel's header
# comment says how.
bt386_systest_run(sys_exceptions
    DEVIATION db_int1 ss_limit gp_data_limit gp_null_ds_use
              ac_cpl3_misaligned xm_divss ud_unmasked_sse_without_osxmmexcpt)
bt386_systest_run(sys_privilege)
bt386_systest_run(sys_segments
    DEVIATION data_limit_read_gp data_limit_dword_gp cpl3_stack_limit_push_ss
              expand_down_below_limit_gp expand_down_dword_across_limit_gp
              expand_down_16bit_bound_gp null_ds_use_gp readonly_data_write_gp
              code_segment_write_gp accessed_set_by_cs_load)
bt386_systest_run(sys_iobitmap)
bt386_systest_run(sys_tasks)
bt386_systest_run(sys_debug
    DEVIATION int1_db gd_one_db gd_eip_at_mov_dr gd_dr6_bd fault_pushes_rf)
bt386_systest_run(sys_v86)
bt386_systest_run(sys_shadow)
bt386_systest_run(sys_irqstate)
bt386_systest_run(sys_msr
    DEVIATION rdmsr_tsc_between_rdtscs wrmsr_tsc_sets_counter
              rdmsr_unknown_gp wrmsr_unknown_gp)
bt386_systest_run(pg_fault)
bt386_systest_run(pg_accessed_dirty)
bt386_systest_run(pg_large)
bt386_systest_run(pg_global)
bt386_systest_run(pg_invlpg)
bt386_systest_run(pg_spaces)
bt386_systest_run(pg_smc)
bt386_systest_run(pg_identity_switch)
bt386_systest_run(pg_loops)
