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
#include <unistd.h>

#include "tools/boot.h"
#include "tools/dump.h"
#include "tools/graph.h"
#include "tools/plugin.h"
#include "tools/registry.h"
#include "tools/report.h"
#include "tools/profile.h"
#include "tools/runner.h"

enum { EXIT_OK = 0, EXIT_EXPECT = 1, EXIT_USAGE = 2 };

static const char *prog = "pagesim";

/* The commands, in the order help lists them. */
enum cmd_id { CMD_RUN, CMD_COMPARE, CMD_GRAPH, CMD_DUMP, CMD_CHECK, CMD_PROFILE, CMD_COUNT };
#define RUN (1u << CMD_RUN)
#define COMPARE (1u << CMD_COMPARE)
#define GRAPH (1u << CMD_GRAPH)
#define DUMP (1u << CMD_DUMP)
#define CHECK (1u << CMD_CHECK)
#define PROFILE (1u << CMD_PROFILE)
#define EVERY (RUN | COMPARE | GRAPH | DUMP | CHECK | PROFILE)

static const struct command {
    const char *name;
    const char *args;    /* what follows the name in its usage line */
    const char *summary; /* its line in 'pagesim --help' */
} commands[CMD_COUNT] = {
    [CMD_RUN] = {"run", "SCENARIO", "run under one strategy and print the report"},
    [CMD_COMPARE] = {"compare", "SCENARIO", "run under every strategy, one column each"},
    [CMD_GRAPH] = {"graph", "SCENARIO -o FILE",
                   "draw the page tables (Graphviz) to -o FILE.{svg,png,dot}"},
    [CMD_DUMP] = {"dump", "SCENARIO",
                  "print each space's mappings and the TLB, stale entries marked"},
    [CMD_CHECK] = {"check", "SCENARIO...", "run the expect lines; pass/fail per scenario"},
    [CMD_PROFILE] = {"profile", "SCENARIO", "MMU events and cycles per kernel function"},
};

enum opt_id {
    OPT_OUTPUT = 'o',
    OPT_HELP = 'h',
    OPT_STRATEGY = 256,
    OPT_STRATEGIES,
    OPT_TLB,
    OPT_TLB4M,
    OPT_PSE,
    OPT_PGE,
    OPT_KERNEL4M,
    OPT_AT,
    OPT_FROM,
    OPT_TRACE,
    OPT_LOG,
    OPT_COST,
    OPT_JSON,
    OPT_CSV,
    OPT_PLOT,
    OPT_SPACE,
    OPT_ALL,
    OPT_KERNEL_DETAIL,
    OPT_WITH_BOOT,
    OPT_PMM,
    OPT_MAX_OPS,
    OPT_INJECT,
    OPT_STRICT_TLB,
    OPT_TRACE_JSON,
    OPT_DIFF,
    OPT_FOLDED,
    OPT_EXPLAIN,
    OPT_PLUGIN,
};

/*
 * Which options each command takes, with their help.  The parser accepts an
 * option only for the commands of one of its rows, and 'pagesim CMD --help'
 * lists exactly the rows of CMD, so help and acceptance cannot disagree.  An
 * option has several rows when its help differs between commands.
 */
static const struct option_row {
    int id;
    const char *name; /* long name; a short one is the id if it is a letter */
    int has_arg;      /* getopt's no_argument, required_argument, optional_argument */
    const char *arg;  /* the argument as help shows it */
    unsigned cmds;    /* the commands that take it */
    const char *help; /* "\n" continues on the next help line */
} option_rows[] = {
    {OPT_PLUGIN, "plugin", required_argument, " FILE.so", EVERY,
     "load a plug-in: its strategies and frame allocators\n"
     "join the built-in ones (repeatable)"},
    {OPT_STRATEGY, "strategy", required_argument, " NAME", RUN | GRAPH | DUMP | CHECK | PROFILE,
     "paging strategy (default: the scenario's)"},
    {OPT_PMM, "pmm", required_argument, " NAME", EVERY,
     "frame allocator, overrides the scenario's pmm line"},
    {OPT_STRATEGIES, "strategies", required_argument, " A,B", COMPARE,
     "strategies to compare, each once (default: all)"},
    {OPT_TLB, "tlb", required_argument, " E/W", EVERY, "4 KiB TLB: entries/ways (default 64/4)"},
    {OPT_TLB4M, "tlb4m", required_argument, " E/W", EVERY,
     "4 MiB TLB: entries/ways (default 32/4)"},
    {OPT_PSE, "pse", required_argument, " on|off", EVERY, "CR4.PSE (4 MiB pages)"},
    {OPT_PGE, "pge", required_argument, " on|off", EVERY, "CR4.PGE (global pages)"},
    {OPT_KERNEL4M, "kernel4m", required_argument, " on|off", EVERY & ~COMPARE,
     "the kernel half's early 16 MiB in 4 MiB pages (needs\npse), over the scenario's kernel4m="},
    {OPT_KERNEL4M, "kernel4m", required_argument, " on|off|both", COMPARE,
     "the kernel half's early 16 MiB in 4 MiB pages (needs\npse), over the scenario's kernel4m=; "
     "both: the\ntable with 4 KiB pages, then what 4 MiB pages save"},
    {OPT_AT, "at", required_argument, " LABEL", RUN,
     "report the counters at a snapshot (default: the end)"},
    {OPT_AT, "at", required_argument, " LABEL", COMPARE,
     "compare the counters at a snapshot (default: the end)"},
    {OPT_AT, "at", required_argument, " LABEL", GRAPH | DUMP,
     "at a snapshot (default: the last snapshot, else the end)"},
    {OPT_FROM, "from", required_argument, " LABEL", RUN | COMPARE,
     "only what happened after a snapshot"},
    {OPT_WITH_BOOT, "with-boot", no_argument, "", RUN | COMPARE | CHECK | PROFILE,
     "count events from machine reset, boot included\n"
     "(default: from the workload's first line)"},
    {OPT_MAX_OPS, "max-ops", required_argument, " N", EVERY,
     "stop a run after N executed operations\n"
     "(default " RUN_MAX_OPS_DEFAULT_TEXT "; 0: no limit)"},
    {OPT_TRACE, "trace", required_argument, " FILE", RUN,
     "one line per INVLPG, CR0/CR3/CR4 write and page fault,\n"
     "boot included: scenario line, effect on the TLB, and\n"
     "the kernel callers up to the first non-wrapper"},
    {OPT_TRACE_JSON, "trace-json", required_argument, " FILE", RUN,
     "the run as a Chrome trace-event file (Perfetto):\n"
     "a slice per scenario op, INVLPG, CR writes, faults\n"
     "and stale TLB uses, valid TLB entries; clock: accesses"},
    {OPT_INJECT, "inject", required_argument, " FAULT", RUN,
     "inject a kernel bug (repeatable): skip-invlpg=N skips\n"
     "the Nth INVLPG (boot included), skip-invlpg=FUNCTION\n"
     "every INVLPG FUNCTION issues, skip-cr3-flush=N the\n"
     "TLB flush of the Nth CR3 write"},
    {OPT_STRICT_TLB, "strict-tlb", no_argument, "", RUN,
     "stop the run at the first stale TLB use that is a bug"},
    {OPT_EXPLAIN, "explain", no_argument, "", RUN,
     "after the report, the flush lint (lint.*) by call\n"
     "site: count and cycles the cost model says it wasted"},
    {OPT_COST, "cost", required_argument, " NAME=CYCLES", RUN | COMPARE | CHECK | PROFILE,
     "cost model constant: access, walk_read, invlpg,\ncr3_write, ad_update, fault"},
    {OPT_JSON, "json", no_argument, "", RUN | COMPARE, "JSON instead of text"},
    {OPT_CSV, "csv", no_argument, "", RUN | COMPARE, "CSV instead of text"},
    {OPT_PLOT, "plot", required_argument, " FILE", COMPARE,
     "chart of the main rows with gnuplot; FILE ends in " REPORT_PLOT_EXTS},
    {OPT_FOLDED, "folded", no_argument, "", PROFILE,
     "folded stacks instead of the table, 'outer;...;inner\nCYCLES' a line (flamegraph.pl, "
     "speedscope)"},
    {OPT_SPACE, "space", required_argument, " NAME", GRAPH | DUMP, "one address space only"},
    {OPT_DIFF, "diff", required_argument, " A B", GRAPH,
     "the tables at snapshot B (instead of --at), entries\nadded, changed or removed since "
     "snapshot A marked"},
    {OPT_ALL, "all", no_argument, "", GRAPH, "every live address space (default)"},
    {OPT_KERNEL_DETAIL, "kernel-detail", no_argument, "", GRAPH,
     "an edge from every space to each shared kernel table\n"
     "(default: one edge per space to one 'kernel half' node)"},
    {OPT_OUTPUT, "output", required_argument, " FILE", GRAPH,
     "where to draw; FILE ends in " GRAPH_EXTS},
    {OPT_LOG, "log", optional_argument, "[=FILE]", EVERY,
     "the kernel's log lines, on stderr or in FILE"},
    {OPT_HELP, "help", no_argument, "", EVERY, "this help"},
};
#define NROWS (sizeof(option_rows) / sizeof(option_rows[0]))

static void
usage_main(FILE *out)
{
    char names[512];
    reg_names(false, ",", names, sizeof(names));
    fprintf(out, "usage: pagesim COMMAND SCENARIO [options]\n"
                 "       pagesim --list-strategies [--plugin FILE.so]...\n"
                 "\n"
                 "Runs kernel memory-management code on a simulated IA-32 MMU and reports what\n"
                 "the hardware would have done.\n"
                 "\n"
                 "commands:\n");
    for (int k = 0; k < CMD_COUNT; k++) {
        char head[40];
        snprintf(head, sizeof(head), "%s %s", commands[k].name,
                 k == CMD_CHECK ? commands[k].args : "SCENARIO");
        fprintf(out, "  %-18s %s\n", head, commands[k].summary);
    }
    fprintf(out, "  %-18s %s\n", "boot SCENARIO",
            "boot the bare-metal kernel on QEMU (its own options and exit statuses)");
    fprintf(out,
            "\n"
            "strategies: %s (default: %s)\n"
            "'pagesim --list-strategies' prints one line per strategy: its name, the frame\n"
            "allocator it runs on unless --pmm or a pmm line names one, and what it does.\n"
            "'pagesim COMMAND --help' lists the options of a command.\n"
            "exit status: 0 ok, 1 expectation failed or run incomplete, 2 usage, input or\n"
            "output error\n",
            names, reg_default_strategy());
}

/* The command named name, or -1. */
static int
cmd_find(const char *name)
{
    for (int k = 0; k < CMD_COUNT; k++)
        if (strcmp(commands[k].name, name) == 0)
            return k;
    return -1;
}

static void
usage_cmd(FILE *out, int cmd)
{
    fprintf(out, "usage: pagesim %s %s [options]\n\n", commands[cmd].name, commands[cmd].args);
    for (size_t i = 0; i < NROWS; i++) {
        const struct option_row *o = &option_rows[i];
        if (!(o->cmds & (1u << cmd)))
            continue;
        char head[40];
        if (o->id < 128)
            snprintf(head, sizeof(head), "-%c, --%s%s", o->id, o->name, o->arg);
        else
            snprintf(head, sizeof(head), "--%s%s", o->name, o->arg);
        fprintf(out, "  %-18s ", head);
        for (const char *h = o->help; *h != '\0'; h++) {
            fputc(*h, out);
            if (*h == '\n')
                fprintf(out, "  %-18s ", "");
        }
        fputc('\n', out);
    }
    if (cmd == CMD_CHECK)
        fprintf(out,
                "\nexpect lines:\n  %s\n  VALUE: a number or another counter (see 'pagesim run "
                "--help')\n",
                SCN_EXPECT_USAGE);
    if (cmd == CMD_RUN) {
        fprintf(out, "\ncounters:\n");
        counters_help(out);
    }
}

/* The options of a command line, as given. */
struct common {
    int cmd;
    const char *strategy;
    const char *strategies;
    const char *tlb, *tlb4m, *pse, *pge, *kernel4m;
    const char *at, *from, *space, *output, *plot, *trace, *trace_json;
    const char *pmm;
    const char *diff[2];             /* --diff A B */
    const char *plugins[PLUGIN_MAX]; /* --plugin, in order */
    unsigned nplugins;
    uint32_t max_ops;
    bool all, json, csv, kernel_detail, with_boot, strict_tlb, folded, explain;
    struct sim_inject inject;
    bool log;            /* --log given */
    const char *logpath; /* its FILE; NULL: stderr */
    FILE *logf;          /* where the kernel log goes, NULL: nowhere */
    struct cost_model cost;
};

/* Whether option id applies to cmd. */
static bool
option_applies(int id, int cmd)
{
    for (size_t i = 0; i < NROWS; i++)
        if (option_rows[i].id == id && (option_rows[i].cmds & (1u << cmd)))
            return true;
    return false;
}

static bool
parse_cost(struct common *c, const char *arg)
{
    char name[32];
    const char *eq = strchr(arg, '=');
    char *end = NULL;
    unsigned long long v = 0;
    bool ok = eq != NULL && (size_t)(eq - arg) < sizeof(name) && eq[1] >= '0' && eq[1] <= '9';
    if (ok) {
        memcpy(name, arg, (size_t)(eq - arg));
        name[eq - arg] = '\0';
        errno = 0;
        v = strtoull(eq + 1, &end, 10);
        ok = errno == 0 && *end == '\0' && v <= COST_MAX && cost_model_set(&c->cost, name, v);
    }
    if (!ok)
        fprintf(stderr,
                "%s %s: bad --cost '%s' (NAME=CYCLES, 0 to 1000000 cycles; names: "
                "access, walk_read, invlpg, cr3_write, ad_update, fault)\n",
                prog, commands[c->cmd].name, arg);
    return ok;
}

static bool
parse_options(int argc, char **argv, int cmd, struct common *c, int *first_arg)
{
    static struct option opts[NROWS + 1];
    size_t nopts = 0;
    for (size_t i = 0; i < NROWS; i++) {
        bool seen = false;
        for (size_t k = 0; k < nopts; k++)
            seen = seen || opts[k].val == option_rows[i].id;
        if (!seen)
            opts[nopts++] = (struct option){option_rows[i].name, option_rows[i].has_arg, NULL,
                                            option_rows[i].id};
    }
    opts[nopts] = (struct option){0, 0, 0, 0};
    const char *name = commands[cmd].name;
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->max_ops = RUN_MAX_OPS_DEFAULT;
    cost_model_default(&c->cost);
    optind = 2;
    opterr = 0;
    int ch, idx;
    while ((idx = -1, optopt = 0, ch = getopt_long(argc, argv, "o:h", opts, &idx)) != -1) {
        /* An option that lacks its argument still is refused by name if it does not apply. */
        if ((ch == '?' || ch == ':') && optopt != 0 && !option_applies(optopt, cmd)) {
            ch = optopt;
            for (size_t k = 0; k < nopts && idx < 0; k++)
                if (opts[k].val == ch && argv[optind - 1][1] == '-')
                    idx = (int)k;
        }
        if (ch == '?' || ch == ':') {
            fprintf(stderr, "%s %s: unknown or incomplete option '%s'\n", prog, name,
                    argv[optind - 1]);
            usage_cmd(stderr, cmd);
            return false;
        }
        if (!option_applies(ch, cmd)) {
            char opt[40];
            if (idx >= 0)
                snprintf(opt, sizeof(opt), "--%s", opts[idx].name);
            else
                snprintf(opt, sizeof(opt), "-%c", ch);
            fprintf(stderr, "%s %s: option %s does not apply to %s (see 'pagesim %s --help')\n",
                    prog, name, opt, name, name);
            return false;
        }
        switch (ch) {
        case OPT_STRATEGY:
            c->strategy = optarg;
            break;
        case OPT_STRATEGIES:
            c->strategies = optarg;
            break;
        case OPT_PLUGIN:
            if (c->nplugins == PLUGIN_MAX) {
                fprintf(stderr, "%s %s: at most %u --plugin options\n", prog, name, PLUGIN_MAX);
                return false;
            }
            c->plugins[c->nplugins++] = optarg;
            break;
        case OPT_TLB:
            c->tlb = optarg;
            break;
        case OPT_TLB4M:
            c->tlb4m = optarg;
            break;
        case OPT_PSE:
            c->pse = optarg;
            break;
        case OPT_PGE:
            c->pge = optarg;
            break;
        case OPT_KERNEL4M:
            c->kernel4m = optarg;
            break;
        case OPT_FROM:
            c->from = optarg;
            break;
        case OPT_TRACE:
            c->trace = optarg;
            break;
        case OPT_TRACE_JSON:
            c->trace_json = optarg;
            break;
        case OPT_LOG:
            c->log = true;
            c->logpath = optarg;
            break;
        case OPT_AT:
            c->at = optarg;
            break;
        case OPT_SPACE:
            c->space = optarg;
            break;
        case OPT_ALL:
            c->all = true;
            break;
        case OPT_KERNEL_DETAIL:
            c->kernel_detail = true;
            break;
        case OPT_WITH_BOOT:
            c->with_boot = true;
            break;
        case OPT_PMM:
            c->pmm = optarg;
            break;
        case OPT_INJECT: {
            char err[160];
            if (!run_parse_inject(optarg, &c->inject, err, sizeof(err))) {
                fprintf(stderr, "%s %s: %s\n", prog, name, err);
                return false;
            }
            break;
        }
        case OPT_STRICT_TLB:
            c->strict_tlb = true;
            break;
        case OPT_FOLDED:
            c->folded = true;
            break;
        case OPT_EXPLAIN:
            c->explain = true;
            break;
        case OPT_DIFF: /* its second argument is the next word */
            if (optind >= argc || argv[optind][0] == '-') {
                fprintf(stderr, "%s %s: --diff takes two snapshots: --diff A B\n", prog, name);
                return false;
            }
            c->diff[0] = optarg;
            c->diff[1] = argv[optind++];
            break;
        case OPT_MAX_OPS: {
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno != 0 ||
                v > UINT32_MAX) {
                fprintf(stderr,
                        "%s %s: bad --max-ops '%s' (a number of operations, at most %u; 0 for "
                        "no limit)\n",
                        prog, name, optarg, UINT32_MAX);
                return false;
            }
            c->max_ops = (uint32_t)v;
            break;
        }
        case OPT_JSON:
            c->json = true;
            break;
        case OPT_CSV:
            c->csv = true;
            break;
        case OPT_PLOT:
            c->plot = optarg;
            break;
        case OPT_OUTPUT:
            c->output = optarg;
            break;
        case OPT_COST:
            if (!parse_cost(c, optarg))
                return false;
            break;
        default: /* OPT_HELP */
            usage_cmd(stdout, cmd);
            exit(EXIT_OK);
        }
    }
    *first_arg = optind;
    return true;
}

/* Options that exclude each other, or whose argument is wrong whatever
 * the scenario; false after a message. */
static bool
check_options(const struct common *c)
{
    const char *name = commands[c->cmd].name;
    if (c->json && c->csv) {
        fprintf(stderr, "%s %s: --json and --csv exclude each other\n", prog, name);
        return false;
    }
    if (c->diff[0] != NULL && c->at != NULL) {
        fprintf(stderr, "%s %s: --diff A B draws snapshot B: it excludes --at\n", prog, name);
        return false;
    }
    if (c->space != NULL && c->all) {
        fprintf(stderr, "%s %s: --space and --all exclude each other\n", prog, name);
        return false;
    }
    if (c->from != NULL && c->with_boot) {
        fprintf(stderr,
                "%s %s: --from and --with-boot exclude each other (--from counts from its "
                "snapshot, after boot)\n",
                prog, name);
        return false;
    }
    if (c->plot != NULL && !report_plot_ext_ok(c->plot)) {
        fprintf(stderr, "%s %s: --plot '%s' must end in %s\n", prog, name, c->plot,
                REPORT_PLOT_EXTS);
        return false;
    }
    if (c->output != NULL && graph_format(c->output) == NULL) {
        fprintf(stderr, "%s %s: output '%s' must end in %s\n", prog, name, c->output, GRAPH_EXTS);
        return false;
    }
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
    if (!scn_check_machine(sc, c->pse != NULL, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    return true;
}

/* Applies --kernel4m (both: checked as on, the runs then made off and on
 * by compare) on top of the scenario's machine. */
static bool
apply_kernel4m(struct scenario *sc, const struct common *c)
{
    char err[SCN_ERR_MAX];
    if (c->kernel4m == NULL)
        return true;
    bool both = c->cmd == CMD_COMPARE && strcmp(c->kernel4m, "both") == 0;
    if (c->cmd == CMD_COMPARE && !both && strcmp(c->kernel4m, "on") != 0 &&
        strcmp(c->kernel4m, "off") != 0) {
        fprintf(stderr, "command line: error: --kernel4m takes on, off or both, not '%s'\n",
                c->kernel4m);
        return false;
    }
    if (!scn_set_kernel4m(sc, both ? "on" : c->kernel4m, c->pse != NULL, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    if (both)
        sc->kernel4m = false;
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
    if (!apply_machine(sc, c) || !apply_kernel4m(sc, c)) {
        scn_free(sc);
        return false;
    }
    if (!run_set_pmm(sc, c->pmm, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        scn_free(sc);
        return false;
    }
    return true;
}

/* The options of a run of strategy as the command line gives them. */
static void
run_options_set(struct run_options *o, const char *strategy, const struct common *c)
{
    o->strategy = strategy;
    o->cost = c->cost;
    o->log = c->logf;
    o->with_boot = c->with_boot;
    o->max_ops = c->max_ops;
    o->progress = isatty(STDERR_FILENO);
    o->inject = c->inject;
    o->strict_tlb = c->strict_tlb;
    o->explain = c->explain;
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
    run_options_set(o, strategy, c);
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
use_window(struct run_result *r, const int win[2], const struct common *c)
{
    const struct cost_model *cm = &c->cost;
    for (int k = 0; k < 2; k++) {
        if (win[k] >= 0 && !r->reached[win[k]]) {
            fprintf(stderr,
                    "%s: %s: the run stopped before a snapshot of --from/--at; the "
                    "figures are those at the stop\n",
                    prog, r->strategy);
            return;
        }
    }
    if (win[1] >= 0) {
        r->final = r->marks[win[1]];
        snprintf(r->at, sizeof(r->at), "%s", c->at);
    }
    if (win[0] >= 0) {
        counters_since(&r->final, &r->marks[win[0]], cm);
        snprintf(r->from, sizeof(r->from), "%s", c->from);
    }
}

/* The one SCENARIO argument of the command, loaded; false after a message. */
static bool
load_one(int argc, char **argv, const struct common *c, int first, struct scenario *sc)
{
    if (argc - first != 1) {
        fprintf(stderr, "%s %s: expected one SCENARIO\n", prog, commands[c->cmd].name);
        usage_cmd(stderr, c->cmd);
        return false;
    }
    return load(argv[first], c, sc);
}

static enum report_format
format_of(const struct common *c)
{
    return c->json ? REPORT_JSON : c->csv ? REPORT_CSV : REPORT_TEXT;
}

/* Closes an output file; false after a message if anything written to it failed. */
static bool
close_output(FILE *f, const char *path, const struct common *c)
{
    int e = fflush(f) != 0 ? errno : 0;
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 && e == 0)
        e = errno;
    if (!bad && e == 0)
        return true;
    fprintf(stderr, "%s %s: writing %s failed%s%s\n", prog, commands[c->cmd].name, path,
            e ? ": " : "", e ? strerror(e) : "");
    return false;
}

static int
cmd_run(int argc, char **argv, const struct common *c, int first)
{
    struct scenario sc;
    if (!load_one(argc, argv, c, first, &sc))
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
    if (c->trace_json != NULL && (o.trace_json = fopen(c->trace_json, "w")) == NULL) {
        fprintf(stderr, "%s run: cannot write %s: %s\n", prog, c->trace_json, strerror(errno));
        if (o.trace != NULL)
            fclose(o.trace);
        scn_free(&sc);
        return EXIT_USAGE;
    }
    bool ran = report_window(&sc, c, "run", win) &&
               one_run(&sc, run_strategy_name(&sc, c->strategy), c, &o, &r);
    bool traced = o.trace == NULL || close_output(o.trace, c->trace, c);
    if (o.trace_json != NULL && !close_output(o.trace_json, c->trace_json, c))
        traced = false;
    if (!ran) {
        scn_free(&sc);
        return EXIT_USAGE;
    }
    use_window(&r, win, c);
    report_run(stdout, &sc, &r, &c->cost, format_of(c));
    /* The detector's cases follow a text report; with JSON or CSV on stdout, on stderr. */
    if (r.stale[0] != '\0')
        fprintf(format_of(c) == REPORT_TEXT ? stdout : stderr, "\n%s", r.stale);
    if (c->explain) {
        fputc('\n', format_of(c) == REPORT_TEXT ? stdout : stderr);
        run_lint_report(format_of(c) == REPORT_TEXT ? stdout : stderr, &r);
    }
    int st = !traced ? EXIT_USAGE : run_expectations_pass(&sc, &r) ? EXIT_OK : EXIT_EXPECT;
    run_result_free(&r);
    scn_free(&sc);
    return st;
}

/* The profile of a run (run_options.profile_fn). */
struct profile_job {
    const struct common *c;
    bool written;
};

static void
profile_at_end(void *ctx, struct sim *s)
{
    struct profile_job *j = ctx;
    j->written = profile_write(stdout, s, &j->c->cost, j->c->folded);
}

static int
cmd_profile(int argc, char **argv, const struct common *c, int first)
{
    struct scenario sc;
    if (!load_one(argc, argv, c, first, &sc))
        return EXIT_USAGE;
    struct run_options o;
    struct run_result r;
    struct profile_job j = {c, false};
    run_options_default(&o);
    o.profile_fn = profile_at_end;
    o.profile_ctx = &j;
    if (!one_run(&sc, run_strategy_name(&sc, c->strategy), c, &o, &r)) {
        scn_free(&sc);
        return EXIT_USAGE;
    }
    int st = EXIT_OK;
    if (!j.written) {
        fprintf(stderr, "%s profile: out of host memory\n", prog);
        st = EXIT_USAGE;
    } else if (!r.ok) {
        fprintf(stderr, "%s profile: the run %s: %s\n", prog, run_status(&r), r.error);
        st = EXIT_EXPECT;
    }
    run_result_free(&r);
    scn_free(&sc);
    return st;
}

/*
 * The strategies of --strategies (or all) into names, each once; their
 * number, or 0 after a message if the list is empty, has an empty or
 * unknown name or names one twice.
 */
static unsigned
compare_list(const struct scenario *sc, const struct common *c, char *list, size_t len,
             const char **names, unsigned max)
{
    if (c->strategies != NULL)
        snprintf(list, len, "%s", c->strategies);
    else
        reg_names(false, ",", list, len);
    unsigned n = 0;
    char *p = list;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        char err[SCN_ERR_MAX];
        if (*p == '\0') {
            fprintf(stderr, "%s compare: --strategies '%s' has an empty name\n", prog,
                    c->strategies);
            return 0;
        }
        if (!reg_strategy_find(p, NULL)) {
            run_check_strategy(sc, p, err, sizeof(err));
            fprintf(stderr, "%s\n", err);
            return 0;
        }
        for (unsigned k = 0; k < n; k++) {
            if (strcmp(names[k], p) == 0) {
                fprintf(stderr, "%s compare: --strategies names %s twice\n", prog, p);
                return 0;
            }
        }
        if (n == max) {
            fprintf(stderr, "%s compare: at most %u strategies\n", prog, max);
            return 0;
        }
        names[n++] = p;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

static int
cmd_compare(int argc, char **argv, const struct common *c, int first)
{
    struct scenario sc;
    if (!load_one(argc, argv, c, first, &sc))
        return EXIT_USAGE;
    char list[256];
    const char *names[16];
    struct run_result r[16];
    int win[2];
    unsigned n = 0, want = compare_list(&sc, c, list, sizeof(list), names, 16);
    if (want == 0 || !report_window(&sc, c, "compare", win)) {
        scn_free(&sc);
        return EXIT_USAGE;
    }
    int st = EXIT_OK;
    /* The runs, each in a process of its own and as many at a time as
     * there are cores (one at a time when the kernel log is printed, so
     * that its lines come in order); the skipped ones keep their place. */
    struct run_options o[16];
    struct run_result ran[16];
    unsigned nrun = 0, slot[16];
    for (unsigned k = 0; k < want; k++) {
        char why[SCN_ERR_MAX];
        bool runs = run_check_strategy(&sc, names[k], why, sizeof(why));
        if (c->strategies == NULL && !runs) {
            /* The default list skips a strategy this machine cannot run. */
            memset(&r[n], 0, sizeof(r[n]));
            snprintf(r[n].strategy, sizeof(r[n].strategy), "%s", names[k]);
            snprintf(r[n].error, sizeof(r[n].error), "%s", why);
            r[n++].skipped = true;
            continue;
        }
        if (!runs) {
            fprintf(stderr, "%s\n", why);
            st = EXIT_USAGE;
            break;
        }
        run_options_default(&o[nrun]);
        run_options_set(&o[nrun], names[k], c);
        slot[nrun++] = n++;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned jobs = c->logf != NULL || cores < 1 ? 1 : (unsigned)cores;
    for (unsigned k = 0; jobs > 1 && k < nrun; k++)
        o[k].progress = false;
    char rerr[SCN_ERR_MAX];
    if (st == EXIT_OK && !run_scenarios(&sc, o, ran, nrun, jobs, rerr, sizeof(rerr))) {
        fprintf(stderr, "%s: %s\n", prog, rerr);
        st = EXIT_USAGE;
        nrun = 0;
    }
    for (unsigned k = 0; k < nrun; k++) {
        r[slot[k]] = ran[k];
        use_window(&r[slot[k]], win, c);
    }
    /* --kernel4m both: the same runs again with kernel4m on (sc has it
     * off), the skipped ones in their places. */
    struct run_result *r4m = NULL;
    if (st == EXIT_OK && c->kernel4m != NULL && strcmp(c->kernel4m, "both") == 0) {
        struct scenario on = sc; /* the same script, read only */
        on.kernel4m = true;
        r4m = calloc(n, sizeof(*r4m));
        if (r4m == NULL || !run_scenarios(&on, o, ran, nrun, jobs, rerr, sizeof(rerr))) {
            fprintf(stderr, "%s: %s\n", prog, r4m == NULL ? "out of memory" : rerr);
            free(r4m);
            r4m = NULL;
            st = EXIT_USAGE;
        }
        for (unsigned k = 0; r4m != NULL && k < n; k++)
            if (r[k].skipped)
                r4m[k] = r[k];
        for (unsigned k = 0; r4m != NULL && k < nrun; k++) {
            r4m[slot[k]] = ran[k];
            use_window(&r4m[slot[k]], win, c);
        }
    }
    if (st != EXIT_OK) {
        for (unsigned k = 0; k < nrun; k++)
            run_result_free(&r[slot[k]]);
        n = 0;
    }
    if (st == EXIT_OK) {
        report_compare(stdout, &sc, r, r4m, n, format_of(c));
        for (unsigned k = 0; r4m != NULL && k < n; k++)
            if (!r4m[k].ok && !r4m[k].skipped)
                st = EXIT_EXPECT;
        for (unsigned k = 0; k < n; k++)
            if (!r[k].ok && !r[k].skipped)
                st = EXIT_EXPECT;
        char err[256];
        fflush(stdout);
        if (c->plot != NULL && !report_plot(c->plot, &sc, r, n, err, sizeof(err))) {
            fprintf(stderr, "%s compare: %s\n", prog, err);
            st = EXIT_USAGE;
        }
    }
    for (unsigned k = 0; k < n; k++) {
        run_result_free(&r[k]);
        if (r4m != NULL)
            run_result_free(&r4m[k]);
    }
    free(r4m);
    scn_free(&sc);
    return st;
}

struct view_job {
    const struct common *c;
    struct graph_snap *since; /* --diff: the tables at A, once taken */
    bool done, ok;
    char err[512];
};

static void
view_cb(void *ctx, struct sim *s, const struct run_space *spaces, unsigned n)
{
    struct view_job *j = ctx;
    const char *only = j->c->space;
    if (j->c->diff[0] != NULL && j->since == NULL) { /* at A: keep its tables for B */
        j->since = graph_snap_take(s, spaces, n, j->c->diff[0]);
        if (j->since == NULL) {
            j->done = true;
            snprintf(j->err, sizeof(j->err), "out of memory");
        }
        return;
    }
    if (j->done)
        return;
    j->done = true;
    j->ok = only == NULL;
    for (unsigned k = 0; k < n && !j->ok; k++)
        j->ok = strcmp(spaces[k].name, only) == 0;
    if (!j->ok) {
        snprintf(j->err, sizeof(j->err), "address space \"%s\" does not exist at %s%s%s", only,
                 j->c->at ? "snapshot '" : "the end of the run", j->c->at ? j->c->at : "",
                 j->c->at ? "'" : "");
    } else if (j->c->cmd == CMD_GRAPH) {
        j->ok = graph_render_diff(s, spaces, n, only, j->c->kernel_detail ? GRAPH_KERNEL_DETAIL : 0,
                                  j->since, j->c->output, j->err, sizeof(j->err));
    } else {
        dump_spaces(stdout, s, spaces, n, only);
    }
}

/* Whether the scenario has a space named name (live or not); false after a message. */
static bool
known_space(const struct scenario *sc, const struct common *c, const char *name)
{
    for (uint32_t k = 0; k < sc->nspaces; k++)
        if (strcmp(sc->spaces[k], name) == 0)
            return true;
    fprintf(stderr, "%s %s: %s has no address space named \"%s\"\n", prog, commands[c->cmd].name,
            sc->file, name);
    return false;
}

static int
cmd_view(int argc, char **argv, const struct common *c, int first)
{
    const char *cmd = commands[c->cmd].name;
    bool graph = c->cmd == CMD_GRAPH;
    if (argc - first != 1 || (graph && c->output == NULL)) {
        fprintf(stderr, "%s %s: expected one SCENARIO%s\n", prog, cmd, graph ? " and -o FILE" : "");
        usage_cmd(stderr, c->cmd);
        return EXIT_USAGE;
    }
    struct scenario sc;
    if (!load(argv[first], c, &sc))
        return EXIT_USAGE;
    if (c->space != NULL && !known_space(&sc, c, c->space)) {
        scn_free(&sc);
        return EXIT_USAGE;
    }
    struct run_options o;
    struct run_result r;
    struct view_job job = {.c = c};
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
    } else if (c->diff[0] != NULL) {
        o.diff_mark = label_mark(&sc, c->diff[0], cmd);
        o.view_mark = label_mark(&sc, c->diff[1], cmd);
        if (o.diff_mark >= 0 && o.view_mark >= 0 && o.diff_mark >= o.view_mark)
            fprintf(stderr, "%s %s: --diff: snapshot '%s' does not come before '%s'\n", prog, cmd,
                    c->diff[0], c->diff[1]);
        if (o.diff_mark < 0 || o.view_mark < 0 || o.diff_mark >= o.view_mark) {
            scn_free(&sc);
            return EXIT_USAGE;
        }
    } else if (sc.nlabels > 0) {
        o.view_mark = (int)sc.labels[sc.nlabels - 1].mark;
    }
    if (!one_run(&sc, run_strategy_name(&sc, c->strategy), c, &o, &r)) {
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
    graph_snap_free(job.since);
    run_result_free(&r);
    scn_free(&sc);
    return st;
}

static int
cmd_check(int argc, char **argv, const struct common *c, int first)
{
    if (argc - first < 1) {
        fprintf(stderr, "%s check: expected at least one SCENARIO\n", prog);
        usage_cmd(stderr, CMD_CHECK);
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
        if (!one_run(&sc, run_strategy_name(&sc, c->strategy), c, &o, &r)) {
            scn_free(&sc);
            st = EXIT_USAGE;
            continue;
        }
        bool ok = run_expectations_pass(&sc, &r);
        printf("%s: %s (%s, %u expectations)\n", sc.file, ok ? "pass" : "FAIL", r.strategy,
               sc.nexpects);
        if (!r.ok)
            printf("  the run did not complete:\n%s\n", r.error);
        for (uint32_t k = 0; r.ok && k < sc.nexpects; k++) {
            const struct scn_expect *e = &sc.expects[k];
            uint64_t v, w;
            char what[SCN_EXPECT_TEXT_MAX], vals[SCN_EXPECT_TEXT_MAX];
            if (run_expect_outcome(&sc, &r, k, &v, &w) != RUN_EXPECT_FAIL)
                continue;
            scn_expect_text(e, what, sizeof(what));
            scn_expect_values(e, v, w, vals, sizeof(vals));
            printf("  %s:%u:%u: expect %s failed: %s%s\n", sc.file, e->line, e->col, what,
                   e->rhs[0] != '\0' ? "" : "it is ", vals);
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

/* Loads the plug-ins of --plugin in order; false after a message. */
static bool
load_plugins(const char *const *paths, unsigned n)
{
    char err[512];
    if (plugin_load_all(paths, n, err, sizeof(err)))
        return true;
    fprintf(stderr, "%s: %s\n", prog, err);
    return false;
}

/* pagesim --list-strategies [--plugin FILE.so]..., the plug-ins before or
 * after --list-strategies. */
static int
cmd_list(int argc, char **argv)
{
    const char *paths[PLUGIN_MAX];
    unsigned n = 0;
    bool listed = false;
    for (int i = 1; i < argc; i++) {
        if (!listed && strcmp(argv[i], "--list-strategies") == 0) {
            listed = true;
            continue;
        }
        const char *path = strncmp(argv[i], "--plugin=", 9) == 0              ? argv[i] + 9
                           : strcmp(argv[i], "--plugin") == 0 && i + 1 < argc ? argv[++i]
                                                                              : NULL;
        if (path == NULL || n == PLUGIN_MAX) {
            fprintf(stderr, "%s: --list-strategies takes only --plugin FILE.so (at most %u)\n",
                    prog, PLUGIN_MAX);
            return EXIT_USAGE;
        }
        paths[n++] = path;
    }
    if (!load_plugins(paths, n))
        return EXIT_USAGE;
    reg_list_strategies(stdout);
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return EXIT_OK;
    fprintf(stderr, "%s: writing the standard output failed%s%s\n", prog, errno ? ": " : "",
            errno ? strerror(errno) : "");
    return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage_main(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "boot") == 0)
        return bootcmd_main(argc, argv);
    /* --list-strategies, after any --plugin FILE.so */
    int at = 1;
    while (at < argc && strncmp(argv[at], "--plugin", 8) == 0)
        at += strcmp(argv[at], "--plugin") == 0 ? 2 : 1;
    if (at < argc && strcmp(argv[at], "--list-strategies") == 0)
        return cmd_list(argc, argv);
    int cmd = cmd_find(argv[1]);
    if (cmd < 0) {
        fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
        usage_main(stderr);
        return EXIT_USAGE;
    }
    struct common c;
    int first;
    if (!parse_options(argc, argv, cmd, &c, &first) || !check_options(&c) ||
        !load_plugins(c.plugins, c.nplugins))
        return EXIT_USAGE;
    if (c.log) {
        c.logf = c.logpath == NULL ? stderr : fopen(c.logpath, "w");
        if (c.logf == NULL) {
            fprintf(stderr, "%s %s: cannot write %s: %s\n", prog, commands[cmd].name, c.logpath,
                    strerror(errno));
            return EXIT_USAGE;
        }
    }
    int st;
    switch (cmd) {
    case CMD_RUN:
        st = cmd_run(argc, argv, &c, first);
        break;
    case CMD_COMPARE:
        st = cmd_compare(argc, argv, &c, first);
        break;
    case CMD_PROFILE:
        st = cmd_profile(argc, argv, &c, first);
        break;
    case CMD_GRAPH:
    case CMD_DUMP:
        st = cmd_view(argc, argv, &c, first);
        break;
    default:
        st = cmd_check(argc, argv, &c, first);
        break;
    }
    if (c.logpath != NULL && !close_output(c.logf, c.logpath, &c))
        st = EXIT_USAGE;
    /* Whatever went wrong before, output that did not arrive is an error. */
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s %s: writing the standard output failed%s%s\n", prog, commands[cmd].name,
                errno ? ": " : "", errno ? strerror(errno) : "");
        st = EXIT_USAGE;
    }
    return st;
}
