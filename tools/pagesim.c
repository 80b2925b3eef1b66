/*
 * pagesim.c - the command line: run, compare, graph, dump and check
 * scenarios.  Exit status: 0 ok, 1 an expectation failed or a run did not
 * complete, 2 usage or input error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/vmm.h"
#include "tools/boot.h"
#include "tools/dump.h"
#include "tools/graph.h"
#include "tools/report.h"
#include "tools/runner.h"

enum { EXIT_OK = 0, EXIT_EXPECT = 1, EXIT_USAGE = 2 };

static const char *prog = "pagesim";

static void
usage_main(FILE *out)
{
    fprintf(out,
            "usage: pagesim COMMAND SCENARIO [options]\n"
            "\n"
            "Runs kernel memory-management code on a simulated IA-32 MMU and reports what\n"
            "the hardware would have done.\n"
            "\n"
            "commands:\n"
            "  run SCENARIO       run under one strategy and print the report\n"
            "  compare SCENARIO   run under every strategy, one column each\n"
            "  graph SCENARIO     draw the page tables (Graphviz) to -o FILE.{svg,png,dot}\n"
            "  dump SCENARIO      print each space's mappings and the TLB\n"
            "  check SCENARIO...  run the expect lines; pass/fail per scenario\n"
            "  boot SCENARIO      boot the bare-metal kernel on QEMU (its own exit statuses)\n"
            "\n"
            "strategies: %s\n"
            "'pagesim COMMAND --help' lists the options of a command.\n"
            "exit status: 0 ok, 1 expectation failed or run incomplete, 2 usage or input error\n",
            RUN_STRATEGIES);
}

/* Options shared by every command. */
struct common {
    const char *strategy;
    const char *strategies;
    const char *tlb, *tlb4m, *pse, *pge;
    const char *at, *from, *space, *output, *plot, *trace;
    bool all, json, csv, with_boot;
    struct cost_model cost;
};

static void
usage_cmd(FILE *out, const char *cmd)
{
    const char *common_machine = "  --strategy NAME    paging strategy (default: the scenario's)\n"
                                 "  --tlb E/W          4 KiB TLB: entries/ways (default 64/4)\n"
                                 "  --tlb4m E/W        4 MiB TLB: entries/ways (default 32/4)\n"
                                 "  --pse on|off       CR4.PSE (4 MiB pages)\n"
                                 "  --pge on|off       CR4.PGE (global pages)\n";
    if (strcmp(cmd, "run") == 0) {
        fprintf(out,
                "usage: pagesim run SCENARIO [options]\n\n%s"
                "  --at LABEL         report the counters at a snapshot (default: the end)\n"
                "  --from LABEL       only what happened after a snapshot\n"
                "  --with-boot        count events from machine reset, boot included\n"
                "                     (default: from the workload's first line)\n"
                "  --trace FILE       one line per INVLPG, CR0/CR3/CR4 write and page fault:\n"
                "                     scenario line, effect on the TLB, kernel function\n"
                "  --cost NAME=CYCLES cost model constant: access, walk_read, invlpg,\n"
                "                     cr3_write, ad_update, fault\n"
                "  --json, --csv      machine-readable report\n\ncounters:\n",
                common_machine);
        for (int i = 0; i < CTR_COUNT; i++)
            fprintf(out, "  %-20s %s\n", counter_info[i].name, counter_info[i].desc);
    } else if (strcmp(cmd, "compare") == 0) {
        fprintf(out,
                "usage: pagesim compare SCENARIO [options]\n\n"
                "  --strategies A,B   strategies to compare (default: all)\n"
                "  --at LABEL         compare the counters at a snapshot (default: the end)\n"
                "  --from LABEL       only what happened after a snapshot\n"
                "  --with-boot        count events from machine reset, boot included\n%s"
                "  --cost NAME=CYCLES cost model constant\n"
                "  --json, --csv      machine-readable table\n"
                "  --plot FILE        chart of the main rows (PNG or SVG, gnuplot)\n",
                common_machine);
    } else if (strcmp(cmd, "graph") == 0) {
        fprintf(out,
                "usage: pagesim graph SCENARIO -o FILE.{svg,png,dot} [options]\n\n"
                "  --at LABEL         at a snapshot (default: the last snapshot, else the end)\n"
                "  --space NAME       one address space only\n"
                "  --all              every live address space (default)\n%s",
                common_machine);
    } else if (strcmp(cmd, "dump") == 0) {
        fprintf(out,
                "usage: pagesim dump SCENARIO [options]\n\n"
                "  --at LABEL         at a snapshot (default: the last snapshot, else the end)\n"
                "  --space NAME       one address space only\n%s",
                common_machine);
    } else {
        fprintf(out,
                "usage: pagesim check SCENARIO... [options]\n\n%s"
                "  --with-boot        expect lines count events from machine reset\n",
                common_machine);
    }
}

static bool
parse_options(int argc, char **argv, const char *cmd, struct common *c, int *first_arg)
{
    static const struct option opts[] = {
        {"strategy", required_argument, 0, 's'},
        {"strategies", required_argument, 0, 'S'},
        {"tlb", required_argument, 0, 't'},
        {"tlb4m", required_argument, 0, 'T'},
        {"pse", required_argument, 0, 'p'},
        {"pge", required_argument, 0, 'g'},
        {"at", required_argument, 0, 'a'},
        {"from", required_argument, 0, 'F'},
        {"trace", required_argument, 0, 'r'},
        {"space", required_argument, 0, 'n'},
        {"all", no_argument, 0, 'A'},
        {"json", no_argument, 0, 'j'},
        {"csv", no_argument, 0, 'c'},
        {"plot", required_argument, 0, 'P'},
        {"cost", required_argument, 0, 'C'},
        {"output", required_argument, 0, 'o'},
        {"with-boot", no_argument, 0, 'B'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(c, 0, sizeof(*c));
    cost_model_default(&c->cost);
    optind = 2;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            c->strategy = optarg;
            break;
        case 'S':
            c->strategies = optarg;
            break;
        case 't':
            c->tlb = optarg;
            break;
        case 'T':
            c->tlb4m = optarg;
            break;
        case 'p':
            c->pse = optarg;
            break;
        case 'g':
            c->pge = optarg;
            break;
        case 'F':
            c->from = optarg;
            break;
        case 'r':
            c->trace = optarg;
            break;
        case 'a':
            c->at = optarg;
            break;
        case 'n':
            c->space = optarg;
            break;
        case 'A':
            c->all = true;
            break;
        case 'j':
            c->json = true;
            break;
        case 'c':
            c->csv = true;
            break;
        case 'P':
            c->plot = optarg;
            break;
        case 'B':
            c->with_boot = true;
            break;
        case 'o':
            c->output = optarg;
            break;
        case 'C': {
            char name[32];
            const char *eq = strchr(optarg, '=');
            char *end = NULL;
            unsigned long long v = 0;
            bool ok =
                eq != NULL && (size_t)(eq - optarg) < sizeof(name) && eq[1] >= '0' && eq[1] <= '9';
            if (ok) {
                memcpy(name, optarg, (size_t)(eq - optarg));
                name[eq - optarg] = '\0';
                errno = 0;
                v = strtoull(eq + 1, &end, 10);
                ok = errno == 0 && *end == '\0' && v <= COST_MAX &&
                     cost_model_set(&c->cost, name, v);
            }
            if (!ok) {
                fprintf(stderr,
                        "%s %s: bad --cost '%s' (NAME=CYCLES, 0 to 1000000 cycles; names: "
                        "access, walk_read, invlpg, cr3_write, ad_update, fault)\n",
                        prog, cmd, optarg);
                return false;
            }
            break;
        }
        case 'h':
            usage_cmd(stdout, cmd);
            exit(EXIT_OK);
        default:
            fprintf(stderr, "%s %s: unknown or incomplete option '%s'\n", prog, cmd,
                    argv[optind - 1]);
            usage_cmd(stderr, cmd);
            return false;
        }
    }
    *first_arg = optind;
    return true;
}

/* Applies machine options on top of the scenario's settings. */
static bool
apply_machine(struct scenario *sc, const struct common *c)
{
    char text[256];
    int n = snprintf(text, sizeof(text), "machine%s%s%s%s%s%s%s%s\n", c->tlb ? " tlb=" : "",
                     c->tlb ? c->tlb : "", c->tlb4m ? " tlb4m=" : "", c->tlb4m ? c->tlb4m : "",
                     c->pse ? " pse=" : "", c->pse ? c->pse : "", c->pge ? " pge=" : "",
                     c->pge ? c->pge : "");
    if (strcmp(text, "machine\n") == 0)
        return true;
    struct scenario o;
    char err[SCN_ERR_MAX];
    if (n < 0 || (size_t)n >= sizeof(text)) {
        fprintf(stderr, "%s: the machine options on the command line are too long\n", prog);
        return false;
    }
    if (!scn_parse("command line", text, (size_t)n, &o, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    if (c->tlb)
        sc->mmu.tlb4k = o.mmu.tlb4k;
    if (c->tlb4m)
        sc->mmu.tlb4m = o.mmu.tlb4m;
    if (c->pse)
        sc->pse = o.pse;
    if (c->pge)
        sc->pge = o.pge;
    scn_free(&o);
    return true;
}

static bool
load(const char *path, const struct common *c, struct scenario *sc)
{
    char err[SCN_ERR_MAX];
    if (!scn_load(path, sc, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    if (!apply_machine(sc, c)) {
        scn_free(sc);
        return false;
    }
    return true;
}

static bool
one_run(const struct scenario *sc, const char *strategy, const struct common *c,
        struct run_options *o, struct run_result *r)
{
    char err[SCN_ERR_MAX];
    if (!run_check_strategy(sc, strategy, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    o->strategy = strategy;
    o->cost = c->cost;
    o->with_boot = c->with_boot;
    if (!run_scenario(sc, o, r, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return false;
    }
    return true;
}

/* A snapshot's mark, -1 if label is NULL, -2 (after a message) if the
 * scenario has no such snapshot. */
static int
label_mark(const struct scenario *sc, const char *label, const char *cmd)
{
    if (label == NULL)
        return -1;
    int mark = scn_label_mark(sc, label);
    if (mark < 0)
        fprintf(stderr, "%s %s: no snapshot '%s' in %s\n", prog, cmd, label, sc->file);
    return mark < 0 ? -2 : mark;
}

/* The window a report covers: --from and --at (marks, -1 for the start or
 * the end).  False after a message if a label is unknown or out of order. */
static bool
report_window(const struct scenario *sc, const struct common *c, const char *cmd, int win[2])
{
    win[0] = label_mark(sc, c->from, cmd);
    win[1] = label_mark(sc, c->at, cmd);
    if (win[0] == -2 || win[1] == -2)
        return false;
    if (win[0] >= 0 && win[1] >= 0 && win[0] >= win[1]) {
        fprintf(stderr, "%s %s: snapshot '%s' does not come before '%s'\n", prog, cmd, c->from,
                c->at);
        return false;
    }
    return true;
}

/* Narrows a completed run's figures to the window. */
static void
use_window(struct run_result *r, const int win[2], const struct cost_model *cm)
{
    for (int k = 0; k < 2; k++) {
        if (win[k] >= 0 && !r->reached[win[k]]) {
            fprintf(stderr,
                    "%s: %s: the run stopped before a snapshot of --from/--at; the "
                    "figures are those at the stop\n",
                    prog, r->strategy);
            return;
        }
    }
    if (win[1] >= 0)
        r->final = r->marks[win[1]];
    if (win[0] >= 0)
        counters_since(&r->final, &r->marks[win[0]], cm);
}

static bool
expectations_pass(const struct scenario *sc, const struct run_result *r)
{
    if (!r->ok)
        return false;
    for (uint32_t i = 0; i < sc->nexpects; i++) {
        const struct scn_expect *e = &sc->expects[i];
        if (!scn_cmp_eval(e->cmp, r->marks[e->mark].v[counter_find(e->counter)], e->value))
            return false;
    }
    return true;
}

/* The one SCENARIO argument of cmd, loaded; false after a message. */
static bool
load_one(int argc, char **argv, const struct common *c, int first, const char *cmd,
         struct scenario *sc)
{
    if (argc - first != 1) {
        fprintf(stderr, "%s %s: expected one SCENARIO\n", prog, cmd);
        usage_cmd(stderr, cmd);
        return false;
    }
    return load(argv[first], c, sc);
}

static int
cmd_run(int argc, char **argv, const struct common *c, int first)
{
    struct scenario sc;
    if (!load_one(argc, argv, c, first, "run", &sc))
        return EXIT_USAGE;
    struct run_options o;
    struct run_result r;
    run_options_default(&o);
    int win[2];
    if (c->trace != NULL && (o.trace = fopen(c->trace, "w")) == NULL) {
        fprintf(stderr, "%s run: cannot write %s: %s\n", prog, c->trace, strerror(errno));
        scn_free(&sc);
        return EXIT_USAGE;
    }
    bool ran = report_window(&sc, c, "run", win) &&
               one_run(&sc, c->strategy ? c->strategy : sc.strategy, c, &o, &r);
    if (o.trace != NULL && fclose(o.trace) != 0)
        fprintf(stderr, "%s run: writing %s failed\n", prog, c->trace);
    if (!ran) {
        scn_free(&sc);
        return EXIT_USAGE;
    }
    use_window(&r, win, &c->cost);
    report_run(stdout, &sc, &r, &c->cost,
               c->json  ? REPORT_JSON
               : c->csv ? REPORT_CSV
                        : REPORT_TEXT);
    int st = expectations_pass(&sc, &r) ? EXIT_OK : EXIT_EXPECT;
    run_result_free(&r);
    scn_free(&sc);
    return st;
}

static int
cmd_compare(int argc, char **argv, const struct common *c, int first)
{
    struct scenario sc;
    if (!load_one(argc, argv, c, first, "compare", &sc))
        return EXIT_USAGE;
    char list[256];
    snprintf(list, sizeof(list), "%s", c->strategies ? c->strategies : RUN_STRATEGIES);
    struct run_result r[16];
    unsigned n = 0;
    int st = EXIT_OK;
    int win[2];
    if (!report_window(&sc, c, "compare", win)) {
        scn_free(&sc);
        return EXIT_USAGE;
    }
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        if (n == 16) {
            fprintf(stderr, "%s compare: at most 16 strategies\n", prog);
            st = EXIT_USAGE;
            break;
        }
        struct run_options o;
        run_options_default(&o);
        char why[SCN_ERR_MAX];
        if (c->strategies == NULL && vmm_find(name) != NULL &&
            !run_check_strategy(&sc, name, why, sizeof(why))) {
            /* The default list skips a strategy this machine cannot run. */
            memset(&r[n], 0, sizeof(r[n]));
            snprintf(r[n].strategy, sizeof(r[n].strategy), "%s", name);
            snprintf(r[n].error, sizeof(r[n].error), "%s", why);
            r[n++].skipped = true;
            continue;
        }
        if (!one_run(&sc, name, c, &o, &r[n])) {
            st = EXIT_USAGE;
            break;
        }
        use_window(&r[n], win, &c->cost);
        n++;
    }
    if (st == EXIT_OK) {
        report_compare(stdout, &sc, r, n,
                       c->json  ? REPORT_JSON
                       : c->csv ? REPORT_CSV
                                : REPORT_TEXT);
        for (unsigned k = 0; k < n; k++)
            if (!r[k].ok && !r[k].skipped)
                st = EXIT_EXPECT;
        char err[256];
        if (c->plot != NULL && !report_plot(c->plot, &sc, r, n, err, sizeof(err))) {
            fprintf(stderr, "%s compare: %s\n", prog, err);
            st = EXIT_USAGE;
        }
    }
    for (unsigned k = 0; k < n; k++)
        run_result_free(&r[k]);
    scn_free(&sc);
    return st;
}

struct view_job {
    bool graph;
    const struct common *c;
    bool done, ok;
    char err[512];
};

static void
view_cb(void *ctx, struct sim *s, const struct run_space *spaces, unsigned n)
{
    struct view_job *j = ctx;
    const char *only = j->c->all ? NULL : j->c->space;
    j->done = true;
    if (j->graph)
        j->ok = graph_render(s, spaces, n, only, j->c->output, j->err, sizeof(j->err));
    else {
        dump_spaces(stdout, s, spaces, n, only);
        j->ok = true;
    }
}

static int
cmd_view(int argc, char **argv, const struct common *c, int first, bool graph)
{
    const char *cmd = graph ? "graph" : "dump";
    if (argc - first != 1 || (graph && c->output == NULL)) {
        fprintf(stderr, "%s %s: expected one SCENARIO%s\n", prog, cmd, graph ? " and -o FILE" : "");
        usage_cmd(stderr, cmd);
        return EXIT_USAGE;
    }
    if (graph) {
        const char *ext = strrchr(c->output, '.');
        if (ext == NULL || (strcmp(ext, ".svg") && strcmp(ext, ".png") && strcmp(ext, ".dot"))) {
            fprintf(stderr, "%s graph: output '%s' must end in .svg, .png or .dot\n", prog,
                    c->output);
            return EXIT_USAGE;
        }
    }
    struct scenario sc;
    if (!load(argv[first], c, &sc))
        return EXIT_USAGE;
    struct run_options o;
    struct run_result r;
    struct view_job job = {.graph = graph, .c = c};
    run_options_default(&o);
    o.view_fn = view_cb;
    o.view_ctx = &job;
    o.view_mark = -1;
    if (c->at != NULL) {
        o.view_mark = label_mark(&sc, c->at, cmd);
        if (o.view_mark < 0) {
            scn_free(&sc);
            return EXIT_USAGE;
        }
    } else if (sc.nlabels > 0) {
        o.view_mark = (int)sc.labels[sc.nlabels - 1].mark;
    }
    if (!one_run(&sc, c->strategy ? c->strategy : sc.strategy, c, &o, &r)) {
        scn_free(&sc);
        return EXIT_USAGE;
    }
    int st = EXIT_OK;
    if (!job.done) {
        fprintf(stderr, "%s %s: the run stopped before the snapshot:\n%s\n", prog, cmd, r.error);
        st = EXIT_EXPECT;
    } else if (!job.ok) {
        fprintf(stderr, "%s %s: %s\n", prog, cmd, job.err);
        st = EXIT_USAGE;
    } else if (!r.ok) {
        fprintf(stderr, "%s %s: the run did not complete after the snapshot:\n%s\n", prog, cmd,
                r.error);
        st = EXIT_EXPECT;
    }
    run_result_free(&r);
    scn_free(&sc);
    return st;
}

static int
cmd_check(int argc, char **argv, const struct common *c, int first)
{
    if (argc - first < 1) {
        fprintf(stderr, "%s check: expected at least one SCENARIO\n", prog);
        usage_cmd(stderr, "check");
        return EXIT_USAGE;
    }
    int st = EXIT_OK;
    unsigned passed = 0, failed = 0;
    for (int i = first; i < argc; i++) {
        struct scenario sc;
        if (!load(argv[i], c, &sc)) {
            st = EXIT_USAGE;
            continue;
        }
        struct run_options o;
        struct run_result r;
        run_options_default(&o);
        if (!one_run(&sc, c->strategy ? c->strategy : sc.strategy, c, &o, &r)) {
            scn_free(&sc);
            st = EXIT_USAGE;
            continue;
        }
        bool ok = expectations_pass(&sc, &r);
        printf("%s: %s (%s, %u expectations)\n", sc.file, ok ? "pass" : "FAIL", r.strategy,
               sc.nexpects);
        if (!r.ok)
            printf("  the run did not complete:\n%s\n", r.error);
        for (uint32_t k = 0; r.ok && k < sc.nexpects; k++) {
            const struct scn_expect *e = &sc.expects[k];
            uint64_t v = r.marks[e->mark].v[counter_find(e->counter)];
            if (!scn_cmp_eval(e->cmp, v, e->value))
                printf("  %s:%u:%u: expect %s %s %llu failed: it is %llu\n", sc.file, e->line,
                       e->col, e->counter, scn_cmp_name(e->cmp), (unsigned long long)e->value,
                       (unsigned long long)v);
        }
        if (ok)
            passed++;
        else {
            failed++;
            if (st == EXIT_OK)
                st = EXIT_EXPECT;
        }
        run_result_free(&r);
        scn_free(&sc);
    }
    printf("%u passed, %u failed\n", passed, failed);
    return st;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage_main(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "boot") == 0)
        return bootcmd_main(argc, argv);
    if (strcmp(cmd, "run") && strcmp(cmd, "compare") && strcmp(cmd, "graph") &&
        strcmp(cmd, "dump") && strcmp(cmd, "check")) {
        fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
        usage_main(stderr);
        return EXIT_USAGE;
    }
    struct common c;
    int first;
    if (!parse_options(argc, argv, cmd, &c, &first))
        return EXIT_USAGE;
    if (c.json && c.csv) {
        fprintf(stderr, "%s %s: --json and --csv exclude each other\n", prog, cmd);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv, &c, first);
    if (strcmp(cmd, "compare") == 0)
        return cmd_compare(argc, argv, &c, first);
    if (strcmp(cmd, "graph") == 0)
        return cmd_view(argc, argv, &c, first, true);
    if (strcmp(cmd, "dump") == 0)
        return cmd_view(argc, argv, &c, first, false);
    return cmd_check(argc, argv, &c, first);
}
