/* SPDX-License-Identifier: MIT */
/* The common end of every Check test program: run a suite, report. */
#ifndef BT386_TESTS_CHECK_MAIN_H
#define BT386_TESTS_CHECK_MAIN_H

#include <check.h>

/* Run all tests of s (forking per test, as CK_FORK says); exit status 0
 * only if every test passed. */
static inline int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#endif
