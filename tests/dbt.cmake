# SPDX-License-Identifier: MIT
# Translator tests: encoder, decoder, and the harness that runs real
# translated code in-process.
add_library(bt386_harness STATIC harness/harness.c)
target_link_libraries(bt386_harness PUBLIC bt386_monitor)
