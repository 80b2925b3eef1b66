/* suites.h - the Check suites of the test runner, one per module. */
#ifndef PAGESIM_TESTS_SUITES_H
#define PAGESIM_TESTS_SUITES_H

#include <check.h>

Suite *tlb_suite(void);
Suite *mmu_suite(void);
Suite *mapiter_suite(void);
Suite *sim_suite(void);
Suite *alloc_suite(void);
Suite *vmm_suite(void);
Suite *graph_suite(void);
Suite *workload_suite(void);
Suite *scenario_suite(void);
Suite *hwprobe_suite(void);

#endif
