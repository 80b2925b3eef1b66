/*
 * profile.c - the per-function profile table and folded stacks (profile.h).
 */
#include "tools/profile.h"

#include <stdlib.h>
#include <string.h>

#include "tools/callers.h"
#include "tools/runner.h"

/* The table's columns, in order. */
static const enum counter_id profile_cols[] = {
    CTR_ACCESSES,   CTR_TLB_MISSES, CTR_WALKS,          CTR_AD_UPDATES, CTR_INVLPG,
    CTR_CR3_WRITES, CTR_FAULTS,     CTR_TLB_STALE_USES, CTR_CYCLES,
};
#define NCOLS (sizeof(profile_cols) / sizeof(profile_cols[0]))

struct profile_row {
    const char *name; /* the stack's first function that is not a wrapper */
    char text[SIM_CHAIN_MAX * (SIM_NAME_MAX + 1)]; /* folded: outer;...;inner */
    struct counters c;
};

/* The counters of one stack, cycles included. */
static void
stack_counters(const struct sim_profile_stack *st, const struct cost_model *cm, struct counters *c)
{
    memset(c, 0, sizeof(*c));
    run_mmu_counters(&st->ctr, c);
    counters_derive(c, cm);
}

static int
by_cycles(const void *a, const void *b)
{
    const struct profile_row *x = a, *y = b;
    uint64_t cx = x->c.v[CTR_CYCLES], cy = y->c.v[CTR_CYCLES];
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int
by_text(const void *a, const void *b)
{
    return strcmp(((const struct profile_row *)a)->text, ((const struct profile_row *)b)->text);
}

/* Folds rows with equal key (name, or text) into the first of each run of
 * rows sorted by it; returns how many are left. */
static unsigned
merge(struct profile_row *rows, unsigned n, bool by_name)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (k > 0 && strcmp(by_name ? rows[k - 1].name : rows[k - 1].text,
                            by_name ? rows[i].name : rows[i].text) == 0) {
            for (int j = 0; j < CTR_COUNT; j++)
                rows[k - 1].c.v[j] += rows[i].c.v[j];
        } else {
            rows[k++] = rows[i];
        }
    }
    return k;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct profile_row *)a)->name, ((const struct profile_row *)b)->name);
}

bool
profile_write(FILE *out, struct sim *s, const struct cost_model *cm, bool folded)
{
    unsigned n;
    const struct sim_profile_stack *st = sim_profile_stacks(s, &n);
    struct profile_row *rows = calloc(n ? n : 1, sizeof(*rows));
    if (rows == NULL)
        return false;
    for (unsigned i = 0; i < n; i++) {
        struct profile_row *r = &rows[i];
        const char *chain[SIM_CHAIN_MAX];
        for (unsigned k = 0; k < st[i].nchain; k++)
            chain[k] = st[i].chain[k];
        r->name = st[i].chain[callers_site(chain, st[i].nchain)];
        size_t used = 0;
        for (unsigned k = st[i].nchain; k-- > 0;)
            used += (size_t)snprintf(r->text + used, sizeof(r->text) - used, "%s%s", st[i].chain[k],
                                     k > 0 ? ";" : "");
        stack_counters(&st[i], cm, &r->c);
    }
    if (folded) {
        qsort(rows, n, sizeof(*rows), by_text);
        n = merge(rows, n, false);
        for (unsigned i = 0; i < n; i++)
            if (rows[i].c.v[CTR_CYCLES] != 0)
                fprintf(out, "%s %llu\n", rows[i].text,
                        (unsigned long long)rows[i].c.v[CTR_CYCLES]);
        free(rows);
        return true;
    }
    qsort(rows, n, sizeof(*rows), by_name);
    n = merge(rows, n, true);
    qsort(rows, n, sizeof(*rows), by_cycles);
    struct counters total = {0};
    fprintf(out, "%-28s", "function");
    for (size_t j = 0; j < NCOLS; j++)
        fprintf(out, " %12s", counter_info[profile_cols[j]].name);
    fputc('\n', out);
    for (unsigned i = 0; i <= n; i++) {
        const struct counters *c = i < n ? &rows[i].c : &total;
        bool zero = true;
        for (size_t j = 0; j < NCOLS; j++)
            zero = zero && c->v[profile_cols[j]] == 0;
        if (i < n && zero)
            continue;
        fprintf(out, "%-28s", i < n ? rows[i].name : "total");
        for (size_t j = 0; j < NCOLS; j++) {
            fprintf(out, " %12llu", (unsigned long long)c->v[profile_cols[j]]);
            if (i < n)
                total.v[profile_cols[j]] += c->v[profile_cols[j]];
        }
        fputc('\n', out);
    }
    free(rows);
    return true;
}
