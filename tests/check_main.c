/*
 * check_main.c - runs one Check suite, named on the command line (ctest
 * registers each suite as its own test), or all of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/suites.h"

static const struct {
    const char *name;
    Suite *(*make)(void);
} suites[] = {
    {"tlb", tlb_suite},           {"mmu", mmu_suite},           {"sim", sim_suite},
    {"alloc", alloc_suite},       {"vmm", vmm_suite},           {"graph", graph_suite},
    {"workload", workload_suite}, {"scenario", scenario_suite}, {"hwprobe", hwprobe_suite},
    {"mapiter", mapiter_suite},
};

int
main(int argc, char **argv)
{
    SRunner *sr = NULL;
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (argc > 1 && strcmp(argv[1], suites[i].name) != 0)
            continue;
        if (sr == NULL)
            sr = srunner_create(suites[i].make());
        else
            srunner_add_suite(sr, suites[i].make());
    }
    if (sr == NULL) {
        fprintf(stderr, "check_pagesim: no suite named '%s'\n", argv[1]);
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
