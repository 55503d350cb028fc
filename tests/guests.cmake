# SPDX-License-Identifier: MIT
# Whole-guest tests: boot a guest kernel in bt386 and check what it prints on
# the serial port and the status it leaves with through isa-debug-exit. Where
# the guest runs under qemu-system-i386 too, it runs there as a cross-check
# of the test itself (skipped when QEMU is not installed).

set(BT386_RUN_GUEST ${CMAKE_CURRENT_SOURCE_DIR}/guest/run-guest.sh)
set(BT386_DEBUG_EXIT -device isa-debug-exit,iobase=0xf4,iosize=0x04)

# bt386_guest_test(NAME ARGS...) registers ctest NAME running
# run-guest.sh ARGS. The timeout only guards against a hung guest; exit
# status 77 means "skipped".
function(bt386_guest_test name)
    add_test(NAME ${name} COMMAND ${BT386_RUN_GUEST} ${ARGN})
    set_tests_properties(${name} PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                         LABELS guest)
endfunction()

# firstlight: Multiboot ELF, serial output, ordinary compiled code, exit.
set(FIRSTLIGHT ${CMAKE_BINARY_DIR}/guest-images/firstlight.elf)
set(FIRSTLIGHT_RESULTS
    --out "fib(20) = 6765"
    --out "crc32(123456789) = cbf43926"
    --out "primes below 10000 = 1229"
    --out "sort ok"
    --out "PASS"
)
set(FIRSTLIGHT_OUT
    --out "Hello from the guest"
    --out "cmdline: ${FIRSTLIGHT} hi there"
    ${FIRSTLIGHT_RESULTS}
)

# (0x10 << 1) | 1 = 33: the guest's default debug-exit value.
bt386_guest_test(guest_firstlight --status 33 ${FIRSTLIGHT_OUT} --
    $<TARGET_FILE:bt386> -kernel ${FIRSTLIGHT} -append "hi there"
    -nographic ${BT386_DEBUG_EXIT})

# "exit=5" on the command line: (5 << 1) | 1 = 11.
bt386_guest_test(guest_firstlight_exit_status --status 11
    --out "cmdline: ${FIRSTLIGHT} exit=5" ${FIRSTLIGHT_RESULTS} --
    $<TARGET_FILE:bt386> -kernel ${FIRSTLIGHT} -append "exit=5"
    -nographic ${BT386_DEBUG_EXIT})

# --stats prints "label   number" lines on stderr.
bt386_guest_test(guest_firstlight_stats --status 33 ${FIRSTLIGHT_OUT}
    --err-re "blocks translated +[1-9]"
    --err-re "guest insns translated +[1-9]" --
    $<TARGET_FILE:bt386> --stats -kernel ${FIRSTLIGHT} -append "hi there"
    -nographic ${BT386_DEBUG_EXIT})

# The monitor's counters, on a system-test kernel that takes ~3000 timer
# interrupts (vector 0x20), loads CR0 and CR3 and returns with IRET.
bt386_guest_test(guest_stats_counters --status 33 --out "PASS"
    --err-re "external interrupts +[1-9][0-9][0-9]"
    --err-re "interrupt vector 0x20 +[1-9][0-9][0-9]"
    --err-re "emulated: iret +[1-9]"
    --err-re "emulated: out +[1-9]"
    --err-re "mov to cr0 +[1-9]"
    --err-re "mov to cr3 +1$"
    --err-re "exits: interrupt +[1-9]" --
    $<TARGET_FILE:bt386> --stats -kernel
    ${CMAKE_BINARY_DIR}/guest-images/sys_irqstate.elf -m 128 -nographic
    -no-reboot ${BT386_DEBUG_EXIT})

# The same guest under QEMU: checks the guest and the test, not bt386.
set(QEMU_ARGS -nographic -no-reboot ${BT386_DEBUG_EXIT} -m 128)
bt386_guest_test(guest_firstlight_qemu --skip-missing --status 33
    ${FIRSTLIGHT_OUT} --
    qemu-system-i386 -kernel ${FIRSTLIGHT} -append "hi there" ${QEMU_ARGS})
bt386_guest_test(guest_firstlight_qemu_exit_status --skip-missing --status 11
    --out "cmdline: ${FIRSTLIGHT} exit=5" ${FIRSTLIGHT_RESULTS} --
    qemu-system-i386 -kernel ${FIRSTLIGHT} -append "exit=5" ${QEMU_ARGS})

# The Linux guest (guest-images/linux, built by the linux-guest target,
# which scripts/test.sh builds first): boot Debian's kernel to its shell,
# run commands, write a file, power off, boot again and read it back.
# Skipped when the image has not been built.
set(LINUX_GUEST_DIR ${CMAKE_BINARY_DIR}/guest-images/linux)
add_test(NAME linux_guest_bt386
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/linux/linux-guest.sh
                 --skip-missing ${LINUX_GUEST_DIR} -- $<TARGET_FILE:bt386>)
add_test(NAME linux_guest_qemu
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/linux/linux-guest.sh
                 --skip-missing ${LINUX_GUEST_DIR} -- qemu-system-i386
                 -accel tcg)
set_tests_properties(linux_guest_bt386 linux_guest_qemu PROPERTIES
                     TIMEOUT 1200 SKIP_RETURN_CODE 77 LABELS "guest;linux")
