# SPDX-License-Identifier: MIT
# Boot loader unit tests: Multiboot v1, against the firstlight guest kernel
# and against kernels the test builds itself.
bt386_unit_test(test_multiboot test_multiboot.c bt386_boot)
target_compile_definitions(test_multiboot PRIVATE
    FIRSTLIGHT_ELF="${CMAKE_BINARY_DIR}/guest-images/firstlight.elf")
add_dependencies(test_multiboot guest_firstlight)
# Only a guard against a hang; the test itself has no time limits.
set_tests_properties(test_multiboot PROPERTIES TIMEOUT 120)
bt386_unit_test(test_acpitables test_acpitables.c bt386_boot)
