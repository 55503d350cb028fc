# SPDX-License-Identifier: MIT
# Translator tests: encoder, decoder, and the harness that runs real
# translated code in-process.
add_library(bt386_harness STATIC harness/harness.c)
target_link_libraries(bt386_harness PUBLIC bt386_monitor)

bt386_unit_test(test_emit test_emit.c bt386_dbt)
bt386_unit_test(test_decode test_decode.c bt386_dbt)
bt386_unit_test(test_translate test_translate.c bt386_harness)
