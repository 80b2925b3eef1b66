/*
 * scenario.h - the scenario language: parses a .scn script into the
 * machine configuration, the workload op list the kernel executes, its
 * snapshot labels and its expectations.  Errors are reported as
 * "file:line:col: error: what is wrong".  A script has at most WL_MAX_OPS
 * operations (every line but comments and machine, strategy and pmm).
 */
#ifndef PAGESIM_SCENARIO_H
#define PAGESIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/workload.h"
#include "mmu/mmu.h"

#define SCN_NAME_MAX 32
#define SCN_ERR_MAX 512
/* Room for scn_expect_text and scn_expect_values: two names and two
 * 20-digit numbers with their separators. */
#define SCN_EXPECT_TEXT_MAX (2 * SCN_NAME_MAX + 48)
/* The form of an expect line, for its parse errors and 'pagesim check --help'. */
#define SCN_EXPECT_USAGE "expect COUNTER OP VALUE|COUNTER (OP: == != < <= > >=)"

enum scn_cmp { SCN_EQ, SCN_NE, SCN_LT, SCN_LE, SCN_GT, SCN_GE };

struct scn_expect {
    char counter[SCN_NAME_MAX]; /* a report counter name, e.g. "tlb.misses" */
    enum scn_cmp cmp;
    char rhs[SCN_NAME_MAX]; /* a counter to compare with, or "" to compare with value */
    uint64_t value;
    uint32_t mark; /* the mark (op-list position) it is checked at */
    uint32_t line, col;
};

struct scn_label {
    char name[SCN_NAME_MAX];
    uint32_t mark;
    uint32_t line;
};

struct scenario {
    char file[256];
    /* machine */
    uint64_t ram_size;
    uint32_t ram_line, ram_col; /* where ram= was set; 0 if defaulted */
    struct mmu_config mmu;
    bool pse, pge;
    bool kernel4m; /* the kernel half's early mapping in 4 MiB pages (needs pse) */
    uint32_t kernel4m_line, kernel4m_col; /* where kernel4m= was set; 0: not in the file */
    char strategy[SCN_NAME_MAX];          /* default strategy of the script; "" = none given */
    uint32_t strategy_line, strategy_col;
    char pmm[SCN_NAME_MAX]; /* "" = the strategy's choice; run_check_pmm checks the name */
    uint32_t pmm_line, pmm_col;
    /* the op list, ready for the kernel: header then ops */
    struct wl_op *ops;
    uint32_t nops, cap_ops;
    uint32_t nmarks;
    /* names, by slot ('p$i' in a repeat of N passes takes N slots, p0..pN-1) */
    char (*spaces)[SCN_NAME_MAX];
    uint32_t nspaces;
    char (*handles)[SCN_NAME_MAX];
    uint32_t nhandles;
    struct scn_label *labels;
    uint32_t nlabels;
    struct scn_expect *expects;
    uint32_t nexpects;
};

/* Parses text (len bytes, named file for messages).  Returns true and fills
 * sc, or false with one "file:line:col: error: ..." line in err. */
bool scn_parse(const char *file, const char *text, size_t len, struct scenario *sc, char *err,
               size_t errlen);
/* Whether the machine's settings agree (kernel4m needs pse); false with a
 * "file:line:col: error:" message at the kernel4m setting otherwise (a
 * "command line: error:" one if --kernel4m set it), which adds that the
 * command line set pse if cli_pse. */
bool scn_check_machine(const struct scenario *sc, bool cli_pse, char *err, size_t len);
/* --kernel4m ARG: "on" or "off" over the scenario's kernel4m setting, then
 * scn_check_machine; false with a "command line: error:" message in err if
 * ARG is neither or the machine then disagrees. */
bool scn_set_kernel4m(struct scenario *sc, const char *arg, bool cli_pse, char *err, size_t len);
/* Reads and parses a file; errors as scn_parse (an unreadable file too). */
bool scn_load(const char *path, struct scenario *sc, char *err, size_t errlen);
void scn_free(struct scenario *sc);

/* "FILE:LINE" of the op at (its index + 1, as sim_kernel_at gives it), or
 * "boot" if at names no op. */
void scn_where(const struct scenario *sc, uint32_t at, char *buf, size_t len);

/* The serialized op list (struct wl_header + ops) in a malloc'd buffer. */
void *scn_oplist(const struct scenario *sc, size_t *len);

/* A mark id for a label, or -1. */
int scn_label_mark(const struct scenario *sc, const char *label);

const char *scn_cmp_name(enum scn_cmp cmp);
/* The expectation as written, without the keyword: "COUNTER OP VALUE" or
 * "COUNTER OP COUNTER" ("heap.used == heap.paging"), in buf. */
void scn_expect_text(const struct scn_expect *e, char *buf, size_t len);
/* The values an expectation compared, in buf: "V" (the counter's value) for
 * a number, "COUNTER V, COUNTER W" ("heap.used 8192, heap.paging 4096") for
 * a right-hand counter of value w. */
void scn_expect_values(const struct scn_expect *e, uint64_t v, uint64_t w, char *buf, size_t len);
bool scn_cmp_eval(enum scn_cmp cmp, uint64_t a, uint64_t b);

#endif
