# SPDX-License-Identifier: MIT
# Translator tests: encoder, decoder, and the harness that runs real
# translated code in-process.
add_library(bt386_harness STATIC harness/harness.c)
target_link_libraries(bt386_harness PUBLIC bt386_monitor)

bt386_unit_test(test_emit test_emit.c bt386_dbt)
bt386_unit_test(test_decode test_decode.c bt386_dbt)
bt386_unit_test(test_translate test_translate.c bt386_harness)

# Containment fuzzing: a bounded run in CI; `fuzz --seeds 1000000` by hand.
add_executable(fuzz fuzz/fuzz.c)
target_link_libraries(fuzz PRIVATE bt386_harness pthread)
add_test(NAME fuzz_containment COMMAND fuzz --seeds 50000)
set_tests_properties(fuzz_containment PROPERTIES TIMEOUT 600)
bt386_unit_test(test_paging test_paging.c bt386_harness)
bt386_unit_test(test_paging_random test_paging_random.c bt386_harness)
