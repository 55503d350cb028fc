# SPDX-License-Identifier: MIT
# difftest: instruction sequences run natively on the host CPU and in bt386's
# translator, with all state compared (tests/difftest/).

option(BT386_SOAK "Enable the long difftest soak run (>= 10M instructions)" OFF)

# The native runner is a static program of its own, built with the guest
# compiler directly so none of the host's CMake C flags (sanitizers, -fPIE)
# leak in: an i386 build (the reference) and an x86-64 build (for hosts
# that cannot run 32-bit processes).
set(DIFFTEST_SRC ${CMAKE_CURRENT_SOURCE_DIR}/difftest)
set(DIFFTEST_NATIVE32 ${CMAKE_CURRENT_BINARY_DIR}/difftest-native32)
set(DIFFTEST_NATIVE64 ${CMAKE_CURRENT_BINARY_DIR}/difftest-native64)
set(DIFFTEST_NATIVE_FLAGS -O2 -static -std=gnu11 -Wall -Wextra
    -fno-stack-protector)
foreach(bits 32 64)
    add_custom_command(OUTPUT ${DIFFTEST_NATIVE${bits}}
        COMMAND gcc -m${bits} ${DIFFTEST_NATIVE_FLAGS}
                -o ${DIFFTEST_NATIVE${bits}} ${DIFFTEST_SRC}/native.c
        DEPENDS ${DIFFTEST_SRC}/native.c ${DIFFTEST_SRC}/proto.h
        COMMENT "Building the difftest native runner (${bits}-bit)"
        VERBATIM)
endforeach()
add_custom_target(difftest_native ALL
    DEPENDS ${DIFFTEST_NATIVE32} ${DIFFTEST_NATIVE64})

add_executable(difftest
    difftest/difftest.c
    difftest/runner.c
    difftest/worker.c
    difftest/compare.c
    difftest/gen.c
    difftest/gen_int.c
    difftest/gen_flow.c
    difftest/gen_fpu.c
    difftest/families.c
)
target_link_libraries(difftest PRIVATE bt386_harness PkgConfig::CAPSTONE)
target_compile_definitions(difftest PRIVATE
    DIFFTEST_NATIVE32="${DIFFTEST_NATIVE32}"
    DIFFTEST_NATIVE64="${DIFFTEST_NATIVE64}")
add_dependencies(difftest difftest_native)

# Every family, a bounded number of cases each.
add_test(NAME difftest_targeted
         COMMAND difftest --mode targeted --cases 2000 --seed 1)
# Random mixes of all families.
add_test(NAME difftest_random
         COMMAND difftest --mode random --cases 30000 --length 24 --seed 2)
# The same with paging on: every memory operand takes the shadow lookup,
# which must not disturb flags a later instruction reads.
add_test(NAME difftest_paging
         COMMAND difftest --mode all --cases 300 --length 24 --seed 4 --paging)
# Counted loops with paging on: most of them run in the translator's twin
# body, without lookups (dbt/translate.c, gen_run_test).
add_test(NAME difftest_counted_loops
         COMMAND difftest --family counted --cases 3000 --seed 5 --paging)
# The comparison itself: a flipped EAX in bt386's result must fail.
add_test(NAME difftest_selfcheck
         COMMAND difftest --family alu --cases 5 --corrupt --max-reports 0)
set_tests_properties(difftest_selfcheck PROPERTIES WILL_FAIL TRUE)
set_tests_properties(difftest_targeted difftest_random difftest_paging
                     difftest_counted_loops difftest_selfcheck
                     PROPERTIES TIMEOUT 600 LABELS difftest)
# The soak run: at least 10,000,000 executed instructions.
add_test(NAME difftest_long
         COMMAND difftest --insns 10000000 --length 48 --seed 3)
set_tests_properties(difftest_long PROPERTIES TIMEOUT 3600 LABELS soak)
if(NOT BT386_SOAK)
    set_tests_properties(difftest_long PROPERTIES DISABLED TRUE)
endif()
