/*
 * check_scenario.c - the scenario parser (tools/scenario.h): loop-indexed
 * names and the slots they take, where machine, strategy and pmm lines may
 * stand, the script-size limit, the machine's limits (RAM, TLB geometry)
 * as the parser's, and expect's right-hand side.  Malformed scripts and
 * their error lines are also checked end to end by tests/cli.sh over
 * tests/bad/.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "tests/suites.h"
#include "tools/scenario.h"

static char err[SCN_ERR_MAX];

static bool
parse(const char *text, struct scenario *sc)
{
    err[0] = '\0';
    return scn_parse("t.scn", text, strlen(text), sc, err, sizeof(err));
}

/* The index of the n-th op (0-based) with opcode code, or -1. */
static int
nth_op(const struct scenario *sc, uint32_t code, unsigned n)
{
    for (uint32_t i = 0; i < sc->nops; i++)
        if (WL_OPCODE(sc->ops[i].op) == code && n-- == 0)
            return (int)i;
    return -1;
}

/*
 * 'shell' takes slot 0; 'p$i' in a repeat of 3 takes slots 1-3, named
 * p0, p1, p2; every op on p$i carries slot 1 and WL_LOOP_I; a plain p1
 * afterwards is slot 2.  'c$i' forked from p$i takes slots 4-6 and both of
 * its operands carry the loop.
 */
START_TEST(test_scenario_loop_name_slots)
{
    struct scenario sc;
    ck_assert_msg(parse("space create shell\n"
                        "repeat 3\n"
                        "  space create p$i\n"
                        "  map p$i 0x10000 4K\n"
                        "  space fork c$i from p$i\n"
                        "end\n"
                        "space switch p1\n",
                        &sc),
                  "%s", err);
    ck_assert_uint_eq(sc.nspaces, 7);
    ck_assert_str_eq(sc.spaces[0], "shell");
    ck_assert_str_eq(sc.spaces[1], "p0");
    ck_assert_str_eq(sc.spaces[3], "p2");
    ck_assert_str_eq(sc.spaces[4], "c0");
    ck_assert_str_eq(sc.spaces[6], "c2");

    const struct wl_op *create = &sc.ops[nth_op(&sc, WL_SPACE_CREATE, 1)];
    ck_assert_uint_eq(create->a, 1);
    ck_assert_uint_eq(WL_A_LOOP_OF(create->op), WL_LOOP_I);
    const struct wl_op *map = &sc.ops[nth_op(&sc, WL_MAP, 0)];
    ck_assert_uint_eq(map->a, 1);
    ck_assert_uint_eq(WL_A_LOOP_OF(map->op), WL_LOOP_I);
    const struct wl_op *fork = &sc.ops[nth_op(&sc, WL_SPACE_FORK, 0)];
    ck_assert_uint_eq(fork->a, 4);
    ck_assert_uint_eq(fork->b, 1);
    ck_assert_uint_eq(WL_A_LOOP_OF(fork->op), WL_LOOP_I);
    ck_assert_uint_eq(WL_B_LOOP_OF(fork->op), WL_LOOP_I);
    const struct wl_op *sw = &sc.ops[nth_op(&sc, WL_SPACE_SWITCH, 0)];
    ck_assert_uint_eq(sw->a, 2);
    ck_assert_uint_eq(WL_A_LOOP_OF(sw->op), 0);
    scn_free(&sc);
}
END_TEST

/*
 * $j is the pass of the block around the innermost: 'p$j' used in a block
 * nested in the 'repeat 4' that made p$i is the same family (slot 0,
 * 4 slots) with WL_LOOP_J.  Allocation names take handles the same way.
 */
START_TEST(test_scenario_loop_name_outer)
{
    struct scenario sc;
    ck_assert_msg(parse("repeat 4\n"
                        "  space create p$i\n"
                        "  kmalloc b$i 64\n"
                        "  repeat 2\n"
                        "    space switch p$j\n"
                        "  end\n"
                        "  kfree b$i\n"
                        "end\n",
                        &sc),
                  "%s", err);
    ck_assert_uint_eq(sc.nspaces, 4);
    ck_assert_uint_eq(sc.nhandles, 4);
    ck_assert_str_eq(sc.handles[3], "b3");
    const struct wl_op *sw = &sc.ops[nth_op(&sc, WL_SPACE_SWITCH, 0)];
    ck_assert_uint_eq(sw->a, 0);
    ck_assert_uint_eq(WL_A_LOOP_OF(sw->op), WL_LOOP_J);
    const struct wl_op *kf = &sc.ops[nth_op(&sc, WL_KFREE, 0)];
    ck_assert_uint_eq(kf->a, 0);
    ck_assert_uint_eq(WL_A_LOOP_OF(kf->op), WL_LOOP_I);
    scn_free(&sc);
}
END_TEST

/* Misused loop names: each a located error at the name. */
START_TEST(test_scenario_loop_name_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"space create p$i\n", "t.scn:1:14: error: 'p$i' is outside any repeat block"},
        {"repeat 2\nspace create p$i\nend\nrepeat 3\nspace destroy p$i\nend\n",
         "t.scn:5:15: error: 'p$i' has 2 slots, one per pass of the repeat on line 1, but this "
         "repeat (line 4) makes 3 passes"},
        {"repeat 2\nspace switch p$i\nend\n", "t.scn:2:14: error: unknown address space 'p$i'"},
        {"space create p1\nrepeat 3\nspace create p$i\nend\n",
         "t.scn:3:14: error: 'p$i' names 'p1' on pass 1, which is already in use"},
        {"repeat 2\nspace create p$i$j\nend\n",
         "t.scn:2:17: error: a name holds at most one $i or $j"},
        {"repeat 1025\nspace create p$i\nend\n",
         "t.scn:2:14: error: too many address spaces (at most 1024)"},
        {"repeat 4097\nkmalloc b$i 8\nend\n",
         "t.scn:2:9: error: too many allocations (at most 4096)"},
        {"repeat 2\nspace create $i\nend\n", "t.scn:2:14: error: '$i' is not a name"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct scenario sc;
        ck_assert_msg(!parse(cases[k].text, &sc), "case %zu parsed", k);
        ck_assert_msg(strncmp(err, cases[k].want, strlen(cases[k].want)) == 0,
                      "case %zu: got '%s', want '%s...'", k, err, cases[k].want);
    }
}
END_TEST

/* 1024 slots exactly fit: the limit is WL_MAX_SPACES, checked when parsing. */
START_TEST(test_scenario_loop_name_fills_slots)
{
    struct scenario sc;
    char text[64];
    snprintf(text, sizeof(text), "repeat %u\nspace create p$i\nend\n", WL_MAX_SPACES);
    ck_assert_msg(parse(text, &sc), "%s", err);
    ck_assert_uint_eq(sc.nspaces, WL_MAX_SPACES);
    ck_assert_str_eq(sc.spaces[WL_MAX_SPACES - 1], "p1023");
    scn_free(&sc);
}
END_TEST

/* machine, strategy and pmm: once each, before the first operation; the
 * parser takes any pmm name (the kernel's registry judges it). */
START_TEST(test_scenario_config_lines)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"space create a\nmachine ram=64M\n",
         "t.scn:2:1: error: 'machine' must come before the first operation (line 1)"},
        {"snapshot s\nstrategy heap\n",
         "t.scn:2:1: error: 'strategy' must come before the first operation (line 1)"},
        {"machine ram=64M\nmachine pse=off\n",
         "t.scn:2:1: error: a second 'machine' line (the first is line 1)"},
        {"pmm stack\npmm bitmap\n", "t.scn:2:1: error: a second 'pmm' line (the first is line 1)"},
        {"machine ram=64M tlb=64/4 ram=32M\n", "t.scn:1:26: error: 'ram' is set twice"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct scenario sc;
        ck_assert_msg(!parse(cases[k].text, &sc), "case %zu parsed", k);
        ck_assert_msg(strncmp(err, cases[k].want, strlen(cases[k].want)) == 0,
                      "case %zu: got '%s', want '%s...'", k, err, cases[k].want);
    }
    struct scenario sc;
    ck_assert_msg(
        parse("# comment\nmachine ram=32M\nstrategy heap\npmm buddy\nspace create a\n", &sc), "%s",
        err);
    ck_assert_str_eq(sc.pmm, "buddy");
    ck_assert_uint_eq(sc.pmm_line, 4);
    ck_assert_uint_eq(sc.pmm_col, 5);
    scn_free(&sc);
}
END_TEST

/*
 * The script-size limit: WL_MAX_OPS operations parse (plus the WL_END the
 * parser adds); one more is an error at its own line.  Line k (1-based) is
 * the k-th operation, so the error is on line WL_MAX_OPS + 1.
 */
START_TEST(test_scenario_op_limit)
{
    const char *line = "kmalloc a 8\n";
    size_t n = strlen(line);
    char *text = malloc((WL_MAX_OPS + 1) * n + 1);
    ck_assert_ptr_nonnull(text);
    for (uint32_t i = 0; i <= WL_MAX_OPS; i++)
        memcpy(text + i * n, line, n);
    struct scenario sc;
    ck_assert_msg(scn_parse("t.scn", text, WL_MAX_OPS * n, &sc, err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(sc.nops, WL_MAX_OPS + 1);
    ck_assert_uint_eq(sc.ops[WL_MAX_OPS].op, WL_END);
    scn_free(&sc);
    ck_assert(!scn_parse("t.scn", text, (WL_MAX_OPS + 1) * n, &sc, err, sizeof(err)));
    char want[128];
    snprintf(want, sizeof(want),
             "t.scn:%u:1: error: the script has more than %u operations (the limit)",
             WL_MAX_OPS + 1, WL_MAX_OPS);
    ck_assert_str_eq(err, want);
    free(text);
}
END_TEST

/* An empty repeat block would run forever without executing an op. */
START_TEST(test_scenario_empty_repeat)
{
    struct scenario sc;
    ck_assert(!parse("repeat 5\nrepeat 100000000\nend\nend\n", &sc));
    ck_assert_str_eq(err, "t.scn:3:1: error: the repeat block of line 2 is empty (snapshot and "
                          "expect lines cannot be in one)");
    /* A block whose only content is a nested block with work is fine. */
    ck_assert_msg(parse("repeat 5\nrepeat 2\nkmalloc a 8\nkfree a\nend\nend\n", &sc), "%s", err);
    scn_free(&sc);
}
END_TEST

/*
 * The machine's limits are the parser's: the largest RAM it takes is
 * SIM_RAM_MAX (4 GiB, all a 32-bit physical address reaches) and the next
 * page is refused; without a ram= setting the size is SIM_RAM_DEFAULT, the
 * one sim_config_default gives.
 */
START_TEST(test_scenario_ram_limits_are_the_machines)
{
    struct scenario sc;
    char text[64];
    snprintf(text, sizeof(text), "machine ram=%llu\n", (unsigned long long)SIM_RAM_MAX);
    ck_assert_msg(parse(text, &sc), "%s", err);
    ck_assert_uint_eq(sc.ram_size, SIM_RAM_MAX);
    scn_free(&sc);
    snprintf(text, sizeof(text), "machine ram=%llu\n", (unsigned long long)SIM_RAM_MAX + PAGE_SIZE);
    ck_assert(!parse(text, &sc));
    ck_assert_msg(strstr(err, "t.scn:1:13: error: RAM size ") == err, "%s", err);
    ck_assert_msg(strstr(err, " is larger than 4G, the 32-bit physical address space"), "%s", err);

    struct sim_config cfg;
    sim_config_default(&cfg);
    ck_assert_msg(parse("space create a\n", &sc), "%s", err);
    ck_assert_uint_eq(sc.ram_size, SIM_RAM_DEFAULT);
    ck_assert_uint_eq(sc.ram_size, cfg.ram_size);
    scn_free(&sc);
}
END_TEST

/*
 * A TLB geometry parses iff the TLB can be built with it (tlb_init): the
 * SDM leaves the shape to the implementation, the model wants entries and
 * ways powers of two with ways <= entries <= TLB_MAX_ENTRIES (65536).
 * Valid by that rule: 64/4, 1/1, 65536/65536, 65536/1; not: 3/1 and 64/3
 * (not powers of two), 4/8 (more ways than entries), 0/0.
 */
START_TEST(test_scenario_tlb_geometry_is_the_machines)
{
    static const struct {
        uint32_t entries, ways;
        bool valid;
    } cases[] = {
        {64, 4, true}, {1, 1, true},   {65536, 65536, true}, {65536, 1, true},
        {3, 1, false}, {64, 3, false}, {4, 8, false},        {0, 0, false},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tlb_geometry g = {.entries = cases[k].entries, .ways = cases[k].ways};
        struct tlb t;
        bool built = tlb_init(&t, &g);
        if (built)
            tlb_fini(&t);
        struct scenario sc;
        char text[64];
        snprintf(text, sizeof(text), "machine tlb=%u/%u tlb4m=%u/%u\n", g.entries, g.ways,
                 g.entries, g.ways);
        bool parsed = parse(text, &sc);
        ck_assert_msg(parsed == built, "%u/%u: parsed %d, built %d: %s", g.entries, g.ways, parsed,
                      built, err);
        ck_assert_msg(built == cases[k].valid, "tlb_init %u/%u", g.entries, g.ways);
        if (parsed) {
            ck_assert_uint_eq(sc.mmu.tlb4k.entries, g.entries);
            ck_assert_uint_eq(sc.mmu.tlb4m.ways, g.ways);
            scn_free(&sc);
        } else {
            ck_assert_msg(strstr(err, "t.scn:1:13: error: TLB geometry ") == err, "%s", err);
        }
    }
}
END_TEST

/*
 * expect's right-hand side: a number as before (rhs empty, value set), or a
 * counter name (rhs set, value 0); scn_expect_text gives each as written.
 * An unknown name on the right is an error at its column: in
 * "expect heap.used == heap.nope" "expect " is 7 bytes, "heap.used " 10 and
 * "== " 3, so the name starts at column 7 + 10 + 3 + 1 = 21; on the left,
 * "tlb.missez" starts at column 8.  A token that does not start with a
 * digit is taken as a counter name ('_x' is an unknown counter, not a bad
 * number); one that does is a number ('4k' is 4096).
 */
START_TEST(test_scenario_expect_counter_rhs)
{
    struct scenario sc;
    char text[SCN_EXPECT_TEXT_MAX];
    ck_assert_msg(parse("expect heap.used == heap.paging\nexpect tlb.misses <= 4k\n", &sc), "%s",
                  err);
    ck_assert_uint_eq(sc.nexpects, 2);
    ck_assert_str_eq(sc.expects[0].counter, "heap.used");
    ck_assert_str_eq(sc.expects[0].rhs, "heap.paging");
    ck_assert_int_eq(sc.expects[0].cmp, SCN_EQ);
    ck_assert_uint_eq(sc.expects[0].value, 0);
    scn_expect_text(&sc.expects[0], text, sizeof(text));
    ck_assert_str_eq(text, "heap.used == heap.paging");
    ck_assert_str_eq(sc.expects[1].rhs, "");
    ck_assert_int_eq(sc.expects[1].cmp, SCN_LE);
    ck_assert_uint_eq(sc.expects[1].value, 4096);
    scn_expect_text(&sc.expects[1], text, sizeof(text));
    ck_assert_str_eq(text, "tlb.misses <= 4096");
    /* The values compared: the counter's alone for a number, both named
     * for a counter. */
    scn_expect_values(&sc.expects[0], 8192, 4096, text, sizeof(text));
    ck_assert_str_eq(text, "heap.used 8192, heap.paging 4096");
    scn_expect_values(&sc.expects[1], 7, 4096, text, sizeof(text));
    ck_assert_str_eq(text, "7");
    scn_free(&sc);

    static const struct {
        const char *text, *want;
    } cases[] = {
        {"expect heap.used == heap.nope\n",
         "t.scn:1:21: error: unknown counter 'heap.nope' (see 'pagesim run --help')"},
        {"expect heap.used == _x\n",
         "t.scn:1:21: error: unknown counter '_x' (see 'pagesim run --help')"},
        {"expect tlb.missez < tlb.hits\n",
         "t.scn:1:8: error: unknown counter 'tlb.missez' (see 'pagesim run --help')"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        ck_assert_msg(!parse(cases[k].text, &sc), "case %zu parsed", k);
        ck_assert_msg(strcmp(err, cases[k].want) == 0, "case %zu: got '%s', want '%s'", k, err,
                      cases[k].want);
    }
}
END_TEST

Suite *
scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("parser");
    tcase_add_test(tc, test_scenario_loop_name_slots);
    tcase_add_test(tc, test_scenario_loop_name_outer);
    tcase_add_test(tc, test_scenario_loop_name_errors);
    tcase_add_test(tc, test_scenario_loop_name_fills_slots);
    tcase_add_test(tc, test_scenario_config_lines);
    tcase_add_test(tc, test_scenario_op_limit);
    tcase_add_test(tc, test_scenario_empty_repeat);
    tcase_add_test(tc, test_scenario_ram_limits_are_the_machines);
    tcase_add_test(tc, test_scenario_tlb_geometry_is_the_machines);
    tcase_add_test(tc, test_scenario_expect_counter_rhs);
    suite_add_tcase(s, tc);
    return s;
}
