/*
 * report.c - writes run reports and comparison tables.  Output depends only
 * on the figures, so the same run gives byte-identical reports.
 */
#define _GNU_SOURCE
#include "tools/report.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const groups[][2] = {
    {"mmu", "MMU"},       {"inval", "Invalidations"}, {"reach", "Reaching page tables"},
    {"memory", "Memory"}, {"cost", "Estimated cost"},
};

/* The figures of boot shown beside the workload's (boot is everything
 * before the scenario's first line: loader, kernel boot, op-list copy). */
static const int boot_rows[] = {CTR_ACCESSES, CTR_TLB_MISSES, CTR_WALK_READS,   CTR_AD_UPDATES,
                                CTR_INVLPG,   CTR_CR3_WRITES, CTR_FULL_FLUSHES, CTR_CYCLES};
#define NBOOT_ROWS (sizeof(boot_rows) / sizeof(boot_rows[0]))

/* The rows of what 4 MiB kernel pages save (compare --kernel4m both). */
static const int k4m_rows[] = {CTR_TLB_MISSES,       CTR_WALK_READS,  CTR_AD_UPDATES,
                               CTR_PT_KERNEL_FRAMES, CTR_FRAMES_USED, CTR_CYCLES};
#define NK4M_ROWS (sizeof(k4m_rows) / sizeof(k4m_rows[0]))

/* What 4 MiB kernel pages save in row i: the figure of off (kernel4m off)
 * minus that of on; false if either run did not complete. */
static bool
k4m_saving(const struct run_result *off, const struct run_result *on, int i, long long *v)
{
    if (!off->ok || !on->ok)
        return false;
    *v = (long long)off->final.v[i] - (long long)on->final.v[i];
    return true;
}

/* What the event counts of r cover, in one line, into buf. */
static const char *
figures_cover(const struct run_result *r, char *buf, size_t len)
{
    char to[SCN_NAME_MAX + 32] = "";
    if (r->at[0] != '\0')
        snprintf(to, sizeof(to), " to snapshot '%s'", r->at);
    if (r->from[0] != '\0')
        snprintf(buf, len, "from snapshot '%s'%s", r->from, to[0] ? to : " to the end");
    else if (!r->with_boot)
        snprintf(buf, len, "the workload, from the scenario's first line%s (boot apart)", to);
    else if (r->boot_done)
        snprintf(buf, len, "from machine reset%s, boot included (--with-boot)", to);
    else
        snprintf(buf, len, "from machine reset: the run ended before the workload began");
    return buf;
}

static void
json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fprintf(out, "\\n");
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

void
report_json_string(FILE *out, const char *s)
{
    json_string(out, s);
}

/* One CSV field (RFC 4180): quoted, quotes doubled, if it holds a comma, a
 * quote or a line break. */
static void
csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* The status of r, then its reason when it is not ok, as JSON members
 * separated by sep. */
static void
json_status(FILE *out, const struct run_result *r, const char *sep)
{
    fprintf(out, "\"status\": ");
    json_string(out, run_status(r));
    if (!r->ok) {
        fprintf(out, "%s\"reason\": ", sep);
        json_string(out, r->error);
    }
}

/* The CSV rows "status" and "reason" of n results, before their counters. */
static void
csv_status(FILE *out, const struct run_result *r, unsigned n)
{
    fprintf(out, "status");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, ",%s", run_status(&r[k]));
    fprintf(out, "\nreason");
    for (unsigned k = 0; k < n; k++) {
        fputc(',', out);
        csv_field(out, r[k].ok ? "" : r[k].error);
    }
    fprintf(out, "\npmm");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, ",%s", r[k].pmm);
    fputc('\n', out);
}

/* The outcome of expect line i of sc in r by name (run_expect_outcome), the
 * line as written in what and the values compared in vals
 * (scn_expect_values); *w the value compared with. */
static const char *
expect_outcome(const struct scenario *sc, const struct run_result *r, uint32_t i, uint64_t *v,
               uint64_t *w, char what[SCN_EXPECT_TEXT_MAX], char vals[SCN_EXPECT_TEXT_MAX])
{
    const struct scn_expect *e = &sc->expects[i];
    const char *o = run_expect_name(run_expect_outcome(sc, r, i, v, w));
    scn_expect_text(e, what, SCN_EXPECT_TEXT_MAX);
    scn_expect_values(e, *v, *w, vals, SCN_EXPECT_TEXT_MAX);
    return o;
}

static void
expectations_text(FILE *out, const struct scenario *sc, const struct run_result *r)
{
    if (sc->nexpects == 0)
        return;
    fprintf(out, "\nExpectations\n");
    for (uint32_t i = 0; i < sc->nexpects; i++) {
        uint64_t v, w;
        char what[SCN_EXPECT_TEXT_MAX], vals[SCN_EXPECT_TEXT_MAX];
        const char *o = expect_outcome(sc, r, i, &v, &w, what, vals);
        fprintf(out, "  %s:%u: expect %s: ", sc->file, sc->expects[i].line, what);
        if (strcmp(o, "pass") == 0 || strcmp(o, "FAIL") == 0)
            fprintf(out, "%s (%s)\n", o, vals);
        else if (strcmp(o, "not reached") == 0)
            fprintf(out, "FAIL (not reached)\n");
        else
            fprintf(out, "%s\n", o);
    }
}

/* The expect lines of sc in r as the JSON member "expectations" (with
 * "rhs_value", the right-hand counter's value, when there is one), or as
 * CSV rows "expect:LINE,OUTCOME (VALUES)". */
static void
expectations_json(FILE *out, const struct scenario *sc, const struct run_result *r)
{
    fprintf(out, ",\n  \"expectations\": [");
    for (uint32_t i = 0; i < sc->nexpects; i++) {
        const struct scn_expect *e = &sc->expects[i];
        uint64_t v, w;
        char what[SCN_EXPECT_TEXT_MAX], vals[SCN_EXPECT_TEXT_MAX];
        const char *o = expect_outcome(sc, r, i, &v, &w, what, vals);
        fprintf(out, "%s\n    {\"line\": %u, \"expect\": ", i ? "," : "", e->line);
        json_string(out, what);
        fprintf(out, ", \"result\": ");
        json_string(out, o);
        if (strcmp(o, "pass") == 0 || strcmp(o, "FAIL") == 0) {
            fprintf(out, ", \"value\": %llu", (unsigned long long)v);
            if (e->rhs[0] != '\0')
                fprintf(out, ", \"rhs_value\": %llu", (unsigned long long)w);
        }
        fprintf(out, "}");
    }
    fprintf(out, "%s]", sc->nexpects ? "\n  " : "");
}

static void
expectations_csv(FILE *out, const struct scenario *sc, const struct run_result *r)
{
    for (uint32_t i = 0; i < sc->nexpects; i++) {
        uint64_t v, w;
        char what[SCN_EXPECT_TEXT_MAX], vals[SCN_EXPECT_TEXT_MAX], field[3 * SCN_EXPECT_TEXT_MAX];
        const char *o = expect_outcome(sc, r, i, &v, &w, what, vals);
        fprintf(out, "expect:%u,", sc->expects[i].line);
        if (strcmp(o, "pass") == 0 || strcmp(o, "FAIL") == 0)
            snprintf(field, sizeof(field), "%s (%s)", o, vals);
        else
            snprintf(field, sizeof(field), "%s", o);
        csv_field(out, field);
        fputc('\n', out);
    }
}

/*
 * A run that stopped or failed still has figures: those it had reached when
 * it ended, reported with its status.  One that was not run has none.
 */
void
report_run(FILE *out, const struct scenario *sc, const struct run_result *r,
           const struct cost_model *cm, enum report_format fmt)
{
    bool figures = !r->skipped;
    if (fmt == REPORT_JSON) {
        fprintf(out, "{\n  \"scenario\": ");
        json_string(out, sc->file);
        fprintf(out, ",\n  \"strategy\": ");
        json_string(out, r->strategy);
        fprintf(out, ",\n  \"pmm\": ");
        json_string(out, r->pmm);
        fprintf(out, ",\n  ");
        json_status(out, r, ",\n  ");
        if (figures) {
            fprintf(out, ",\n  \"figures\": ");
            char cover[200];
            json_string(out, figures_cover(r, cover, sizeof(cover)));
            fprintf(out, ",\n  \"counters\": {\n");
            for (int i = 0; i < CTR_COUNT; i++) {
                fprintf(out, "    \"%s\": ", counter_info[i].name);
                if (r->unmeasured & (1ull << i))
                    fprintf(out, "null"); /* not measured on this machine */
                else
                    fprintf(out, "%llu", (unsigned long long)r->final.v[i]);
                fprintf(out, "%s\n", i + 1 < CTR_COUNT ? "," : "");
            }
            fprintf(out, "  }");
            if (r->boot_done) {
                fprintf(out, ",\n  \"boot\": {");
                for (size_t i = 0; i < NBOOT_ROWS; i++)
                    fprintf(out, "%s\"%s\": %llu", i > 0 ? ", " : "",
                            counter_info[boot_rows[i]].name,
                            (unsigned long long)r->boot.v[boot_rows[i]]);
                fprintf(out, "}");
            }
        }
        if (figures)
            expectations_json(out, sc, r);
        fprintf(out,
                ",\n  \"cost_model\": {\"access\": %llu, \"walk_read\": %llu, "
                "\"invlpg\": %llu, \"cr3_write\": %llu, \"ad_update\": %llu, \"fault\": "
                "%llu}\n}\n",
                (unsigned long long)cm->access, (unsigned long long)cm->walk_read,
                (unsigned long long)cm->invlpg, (unsigned long long)cm->cr3_write,
                (unsigned long long)cm->ad_update, (unsigned long long)cm->fault);
        return;
    }
    if (fmt == REPORT_CSV) {
        fprintf(out, "counter,%s\n", r->strategy);
        csv_status(out, r, 1);
        for (int i = 0; i < CTR_COUNT; i++) {
            fprintf(out, "%s,", counter_info[i].name);
            if (figures && !(r->unmeasured & (1ull << i)))
                fprintf(out, "%llu", (unsigned long long)r->final.v[i]);
            fputc('\n', out);
        }
        for (size_t i = 0; i < NBOOT_ROWS; i++) {
            fprintf(out, "boot:%s,", counter_info[boot_rows[i]].name);
            if (figures && r->boot_done)
                fprintf(out, "%llu", (unsigned long long)r->boot.v[boot_rows[i]]);
            fputc('\n', out);
        }
        if (figures)
            expectations_csv(out, sc, r);
        return;
    }
    fprintf(out,
            "pagesim report: %s, strategy %s, frames %s, %llu MiB RAM, TLB %u/%u + %u/%u (4M), "
            "PSE %s, PGE %s%s\n",
            sc->file, r->strategy, r->pmm, (unsigned long long)(sc->ram_size >> 20),
            sc->mmu.tlb4k.entries, sc->mmu.tlb4k.ways, sc->mmu.tlb4m.entries, sc->mmu.tlb4m.ways,
            sc->pse ? "on" : "off", sc->pge ? "on" : "off", sc->kernel4m ? ", kernel4m on" : "");
    fprintf(out, "status: %s\n", run_status(r));
    if (!r->ok)
        fprintf(out, "reason: %s\n%s", r->error,
                figures ? "The figures below are those the run had reached when it ended.\n" : "");
    char cover[200];
    if (figures)
        fprintf(out, "events: %s\n", figures_cover(r, cover, sizeof(cover)));
    for (size_t g = 0; figures && g < sizeof(groups) / sizeof(groups[0]); g++) {
        fprintf(out, "\n%s\n", groups[g][1]);
        for (int i = 0; i < CTR_COUNT; i++) {
            if (strcmp(counter_info[i].group, groups[g][0]) != 0)
                continue;
            char v[32];
            if (r->unmeasured & (1ull << i))
                snprintf(v, sizeof(v), "not measured");
            else
                snprintf(v, sizeof(v), "%llu", (unsigned long long)r->final.v[i]);
            fprintf(out, "  %-*s %14s  %s\n", COUNTER_NAME_WIDTH, counter_info[i].name, v,
                    counter_info[i].desc);
        }
    }
    if (figures && r->boot_done && !r->with_boot) {
        fprintf(out,
                "\nBoot (machine reset to the scenario's first line; not in the figures above)\n");
        for (size_t i = 0; i < NBOOT_ROWS; i++)
            fprintf(out, "  %-*s %14llu\n", COUNTER_NAME_WIDTH, counter_info[boot_rows[i]].name,
                    (unsigned long long)r->boot.v[boot_rows[i]]);
    }
    if (r->reach_limit_mb != 0)
        fprintf(out, "\nNote: this strategy reaches only the first %u MiB of physical memory.\n",
                r->reach_limit_mb);
    fprintf(out,
            "\nCost model (cycles): access %llu, walk read %llu, invlpg %llu, CR3 write "
            "%llu, A/D update %llu, fault %llu\n",
            (unsigned long long)cm->access, (unsigned long long)cm->walk_read,
            (unsigned long long)cm->invlpg, (unsigned long long)cm->cr3_write,
            (unsigned long long)cm->ad_update, (unsigned long long)cm->fault);
    expectations_text(out, sc, r);
}

/*
 * The best value of row id among the completed runs, in *best; false if the
 * row is not a merit or fewer than two values differ (nothing to mark).
 */
static bool
row_best(const struct run_result *r, unsigned n, int id, uint64_t *best)
{
    enum counter_merit m = counter_info[id].merit;
    bool any = false, differ = false;
    if (m == CTR_MERIT_NONE)
        return false;
    for (unsigned k = 0; k < n; k++) {
        if (!r[k].ok)
            continue;
        uint64_t v = r[k].final.v[id];
        if (any && v != *best)
            differ = true;
        if (!any || (m == CTR_MERIT_HIGHER ? v > *best : v < *best))
            *best = v;
        any = true;
    }
    return differ;
}

/* Only completed runs have figures in a comparison: partial figures of a
 * run that stopped or failed are not comparable with whole ones. */
void
report_compare(FILE *out, const struct scenario *sc, const struct run_result *r,
               const struct run_result *r4m, unsigned n, enum report_format fmt)
{
    if (fmt == REPORT_CSV) {
        fprintf(out, "counter");
        for (unsigned k = 0; k < n; k++)
            fprintf(out, ",%s", r[k].strategy);
        fprintf(out, "\n");
        csv_status(out, r, n);
        for (int i = 0; i < CTR_COUNT; i++) {
            fprintf(out, "%s", counter_info[i].name);
            for (unsigned k = 0; k < n; k++) {
                fputc(',', out);
                if (r[k].ok)
                    fprintf(out, "%llu", (unsigned long long)r[k].final.v[i]);
            }
            fprintf(out, "\n");
        }
        for (size_t i = 0; i < NBOOT_ROWS; i++) {
            fprintf(out, "boot:%s", counter_info[boot_rows[i]].name);
            for (unsigned k = 0; k < n; k++) {
                fputc(',', out);
                if (r[k].ok && r[k].boot_done)
                    fprintf(out, "%llu", (unsigned long long)r[k].boot.v[boot_rows[i]]);
            }
            fprintf(out, "\n");
        }
        for (size_t i = 0; r4m != NULL && i < NK4M_ROWS; i++) {
            fprintf(out, "kernel4m_saves:%s", counter_info[k4m_rows[i]].name);
            for (unsigned k = 0; k < n; k++) {
                long long v;
                fputc(',', out);
                if (k4m_saving(&r[k], &r4m[k], k4m_rows[i], &v))
                    fprintf(out, "%lld", v);
            }
            fprintf(out, "\n");
        }
        return;
    }
    if (fmt == REPORT_JSON) {
        fprintf(out, "{\n  \"scenario\": ");
        json_string(out, sc->file);
        fprintf(out, ",\n  \"strategies\": {\n");
        for (unsigned k = 0; k < n; k++) {
            fprintf(out, "    ");
            json_string(out, r[k].strategy);
            fprintf(out, ": {");
            json_status(out, &r[k], ", ");
            if (!r[k].skipped) {
                fprintf(out, ", \"pmm\": ");
                json_string(out, r[k].pmm);
            }
            if (r[k].ok) {
                fprintf(out, ", \"figures\": ");
                char cover[200];
                json_string(out, figures_cover(&r[k], cover, sizeof(cover)));
                fprintf(out, ", \"counters\": {");
                for (int i = 0; i < CTR_COUNT; i++)
                    fprintf(out, "%s\"%s\": %llu", i > 0 ? ", " : "", counter_info[i].name,
                            (unsigned long long)r[k].final.v[i]);
                fprintf(out, "}, \"boot\": {");
                for (size_t i = 0; i < NBOOT_ROWS; i++)
                    fprintf(out, "%s\"%s\": %llu", i > 0 ? ", " : "",
                            counter_info[boot_rows[i]].name,
                            (unsigned long long)r[k].boot.v[boot_rows[i]]);
                fprintf(out, "}");
            }
            if (r4m != NULL && !r4m[k].skipped) {
                fprintf(out, ", \"kernel4m_on\": {");
                json_status(out, &r4m[k], ", ");
                long long v;
                if (k4m_saving(&r[k], &r4m[k], CTR_CYCLES, &v)) {
                    fprintf(out, ", \"saves\": {");
                    for (size_t i = 0; i < NK4M_ROWS; i++) {
                        k4m_saving(&r[k], &r4m[k], k4m_rows[i], &v);
                        fprintf(out, "%s\"%s\": %lld", i > 0 ? ", " : "",
                                counter_info[k4m_rows[i]].name, v);
                    }
                    fprintf(out, "}");
                }
                fprintf(out, "}");
            }
            fprintf(out, "}%s\n", k + 1 < n ? "," : "");
        }
        fprintf(out, "  }\n}\n");
        return;
    }
    bool with_boot = false;
    const struct run_result *first = NULL;
    for (unsigned k = 0; k < n; k++) {
        with_boot = with_boot || (r[k].ok && r[k].with_boot);
        if (first == NULL && r[k].ok)
            first = &r[k];
    }
    char cover[200] = "no run completed";
    if (first != NULL)
        figures_cover(first, cover, sizeof(cover));
    fprintf(out, "pagesim compare: %s (* best in a row where lower or higher is better)\n",
            sc->file);
    fprintf(out, "events: %s\n\n%-*s", cover, COUNTER_NAME_WIDTH, "");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, " %14s", r[k].strategy);
    fprintf(out, "\n%-*s", COUNTER_NAME_WIDTH, "status");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, " %14s", run_status(&r[k]));
    fprintf(out, "\n%-*s", COUNTER_NAME_WIDTH, "frames");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, " %14s", r[k].skipped ? "-" : r[k].pmm);
    fprintf(out, "\n");
    for (int i = 0; i < CTR_COUNT; i++) {
        uint64_t best = 0;
        bool marks = row_best(r, n, i, &best);
        fprintf(out, "%-*s", COUNTER_NAME_WIDTH, counter_info[i].name);
        for (unsigned k = 0; k < n; k++) {
            char cell[40];
            if (!r[k].ok)
                snprintf(cell, sizeof(cell), "- ");
            else
                snprintf(cell, sizeof(cell), "%llu%s", (unsigned long long)r[k].final.v[i],
                         marks && r[k].final.v[i] == best ? "*" : " ");
            fprintf(out, " %14s", cell);
        }
        fprintf(out, "\n");
    }
    if (r4m != NULL) {
        fprintf(out, "\nWhat 4 MiB kernel pages save (--kernel4m both): the figures above are with "
                     "kernel4m off;\neach row is off minus on (negative: 4 MiB pages cost more)\n");
        for (size_t i = 0; i < NK4M_ROWS; i++) {
            fprintf(out, "%-*s", COUNTER_NAME_WIDTH, counter_info[k4m_rows[i]].name);
            for (unsigned k = 0; k < n; k++) {
                char cell[40];
                long long v;
                if (k4m_saving(&r[k], &r4m[k], k4m_rows[i], &v))
                    snprintf(cell, sizeof(cell), "%lld ", v);
                else
                    snprintf(cell, sizeof(cell), "- ");
                fprintf(out, " %14s", cell);
            }
            fprintf(out, "\n");
        }
    }
    if (!with_boot) {
        fprintf(out,
                "\nBoot (machine reset to the scenario's first line; not in the figures above)\n");
        for (size_t i = 0; i < NBOOT_ROWS; i++) {
            fprintf(out, "%-*s", COUNTER_NAME_WIDTH, counter_info[boot_rows[i]].name);
            for (unsigned k = 0; k < n; k++) {
                char cell[40];
                if (!r[k].ok || !r[k].boot_done)
                    snprintf(cell, sizeof(cell), "- ");
                else
                    snprintf(cell, sizeof(cell), "%llu ",
                             (unsigned long long)r[k].boot.v[boot_rows[i]]);
                fprintf(out, " %14s", cell);
            }
            fprintf(out, "\n");
        }
    }
    for (unsigned k = 0; k < n; k++)
        if (!r[k].ok)
            fprintf(out, "\n%s %s: %s\n", r[k].strategy,
                    r[k].skipped ? "not run" : run_status(&r[k]), r[k].error);
        else if (r[k].reach_limit_mb != 0)
            fprintf(out, "\n%s reaches only the first %u MiB of physical memory.\n", r[k].strategy,
                    r[k].reach_limit_mb);
    for (unsigned k = 0; r4m != NULL && k < n; k++)
        if (!r4m[k].ok && !r4m[k].skipped)
            fprintf(out, "\n%s with kernel4m on %s: %s\n", r4m[k].strategy, run_status(&r4m[k]),
                    r4m[k].error);
}

/*
 * s as the body of a gnuplot single-quoted string (a quote is doubled, the
 * only escape there).  Returns false if s has a character that cannot be
 * quoted (a control character such as a newline) or does not fit.
 */
static bool
gp_quote(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || n + 3 > len)
            return false;
        if (*s == '\'')
            out[n++] = '\'';
        out[n++] = *s;
    }
    out[n] = '\0';
    return true;
}

/* The formats report_plot writes: extension and gnuplot terminal. */
static const struct {
    const char *ext;
    const char *term;
} plot_formats[] = {
    {".png", "pngcairo size 1200,700"},
    {".svg", "svg size 1200,700 dynamic"},
};

static const char *
plot_terminal(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t k = 0; dot != NULL && k < sizeof(plot_formats) / sizeof(plot_formats[0]); k++)
        if (strcasecmp(dot, plot_formats[k].ext) == 0)
            return plot_formats[k].term;
    return NULL;
}

bool
report_plot_ext_ok(const char *path)
{
    return plot_terminal(path) != NULL;
}

/* Appends to list (a gnuplot single-quoted string body) the strategies of
 * r that were skipped (skipped true) or did not complete (false). */
static void
plot_absent(const struct run_result *r, unsigned n, bool skipped, char *list, size_t len)
{
    size_t used = 0;
    list[0] = '\0';
    for (unsigned k = 0; k < n; k++) {
        char q[2 * SCN_NAME_MAX + 1];
        if (r[k].ok || r[k].skipped != skipped || !gp_quote(r[k].strategy, q, sizeof(q)))
            continue;
        used += (size_t)snprintf(list + used, used < len ? len - used : 0, "%s%s",
                                 used > 0 ? ", " : "", q);
    }
}

/* v in at most four characters and a unit for a chart: exact below 10000,
 * else three significant digits with k, M, G or T ("542k", "1.5M"). */
static void
plot_number(uint64_t v, char *buf, size_t len)
{
    static const char units[] = "kMGT";
    if (v < 10000) {
        snprintf(buf, len, "%llu", (unsigned long long)v);
        return;
    }
    double x = (double)v;
    size_t u = 0;
    for (x /= 1000; x >= 999.5 && u + 1 < sizeof(units) - 1; u++)
        x /= 1000;
    snprintf(buf, len, "%.*f", x >= 99.95 ? 0 : x >= 9.995 ? 1 : 2, x);
    if (strchr(buf, '.') != NULL) {
        size_t l = strlen(buf);
        while (buf[l - 1] == '0')
            buf[--l] = '\0';
        if (buf[l - 1] == '.')
            buf[--l] = '\0';
    }
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, "%c", units[u]);
}

/* A y axis from 0 for values up to high: a step of 1, 2 or 5 times a power
 * of ten giving at most about six ticks, and a top with room for labels. */
static void
plot_axis(uint64_t high, uint64_t *step, uint64_t *top)
{
    uint64_t want = high / 5 + 1, s = 1;
    for (;;) {
        if (s >= want)
            break;
        if (2 * s >= want) {
            s *= 2;
            break;
        }
        if (5 * s >= want) {
            s *= 5;
            break;
        }
        s *= 10;
    }
    *step = s;
    *top = (high / s + 1) * s;
    if ((*top - high) * 8 < *top)
        *top += s;
}

/* The gnuplot script of report_plot: the figures as data, then one panel
 * per row. */
static void
plot_script(FILE *gp, const char *term, const char *qpath, const char *qtitle,
            const struct run_result *r, unsigned n)
{
    static const int rows[] = {CTR_TLB_MISSES, CTR_WALKS,     CTR_INVLPG,
                               CTR_CR3_WRITES, CTR_PT_FRAMES, CTR_CYCLES};
    const size_t nrows = sizeof(rows) / sizeof(rows[0]);
    char na[512], failed[512], num[32];
    plot_absent(r, n, true, na, sizeof(na));
    plot_absent(r, n, false, failed, sizeof(failed));
    fprintf(gp, "set terminal %s noenhanced\nset output '%s'\n", term, qpath);
    /* One line per strategy that completed: its name, then the value and
     * its label of each row. */
    fprintf(gp, "$data << EOD\n");
    unsigned shown = 0;
    uint64_t high[sizeof(rows) / sizeof(rows[0])] = {0};
    for (unsigned k = 0; k < n; k++) {
        if (!r[k].ok)
            continue;
        fprintf(gp, "\"%s\"", r[k].strategy);
        for (size_t i = 0; i < nrows; i++) {
            uint64_t v = r[k].final.v[rows[i]];
            plot_number(v, num, sizeof(num));
            fprintf(gp, " %llu \"%s\"", (unsigned long long)v, num);
            high[i] = v > high[i] ? v : high[i];
        }
        fprintf(gp, "\n");
        shown++;
    }
    fprintf(gp, "EOD\nset multiplot layout 2,3 title 'pagesim compare: %s'", qtitle);
    if (na[0] != '\0')
        fprintf(gp, " . \"\\n\" . 'n/a (cannot run on this machine): %s'", na);
    if (failed[0] != '\0')
        fprintf(gp, " . \"\\n\" . 'did not complete: %s'", failed);
    fprintf(gp, "\nset style fill solid 0.8 border -1\nset boxwidth 0.6\nunset key\n"
                "set xtics rotate by 30 right nomirror\n");
    fprintf(gp, "set xrange [-0.6:%u.4]\n", shown > 0 ? shown - 1 : 0);
    for (size_t i = 0; i < nrows; i++) {
        /* Linear from zero, so a zero is a bar of no height labelled 0. */
        uint64_t step, top;
        plot_axis(high[i], &step, &top);
        fprintf(gp, "set title '%s'\nset yrange [0:%llu]\nset ytics nomirror (",
                counter_info[rows[i]].name, (unsigned long long)top);
        for (uint64_t t = 0; t <= top; t += step) {
            plot_number(t, num, sizeof(num));
            fprintf(gp, "%s\"%s\" %llu", t > 0 ? ", " : "", num, (unsigned long long)t);
        }
        fprintf(gp,
                ")\nplot $data using 0:%zu:($0 + 1):xtic(1) with boxes lc variable, \\\n"
                "     $data using 0:%zu:%zu with labels offset 0,0.7\n",
                2 * i + 2, 2 * i + 2, 2 * i + 3);
    }
    fprintf(gp, "unset multiplot\n");
}

/* The last non-empty line of file path (what gnuplot said last), or "". */
static void
last_line(const char *path, char *buf, size_t len)
{
    char line[512];
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        size_t l = strlen(line);
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (l > 0)
            snprintf(buf, len, "%s", line);
    }
    if (f != NULL)
        fclose(f);
}

bool
report_plot(const char *path, const struct scenario *sc, const struct run_result *r, unsigned n,
            char *err, size_t errlen)
{
    const char *term = plot_terminal(path);
    char qpath[1024], qtitle[600];
    if (term == NULL) {
        snprintf(err, errlen, "%s: a plot file ends in %s", path, REPORT_PLOT_EXTS);
        return false;
    }
    if (!gp_quote(path, qpath, sizeof(qpath)) || !gp_quote(sc->file, qtitle, sizeof(qtitle))) {
        snprintf(err, errlen,
                 "the plot file or scenario name has a control character or is too "
                 "long");
        return false;
    }
    bool any = false;
    for (unsigned k = 0; k < n; k++)
        any = any || r[k].ok;
    if (!any) {
        snprintf(err, errlen, "no strategy completed: nothing to plot in %s", path);
        return false;
    }
    /* gnuplot that cannot open its output draws on its standard output. */
    FILE *probe = fopen(path, "w");
    if (probe == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    fclose(probe);
    char errs[] = "/tmp/pagesim-plot-XXXXXX";
    int fd = mkstemp(errs);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return false;
    }
    close(fd);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "gnuplot >/dev/null 2>%s", errs);
    FILE *gp = popen(cmd, "w");
    if (gp == NULL) {
        unlink(errs);
        snprintf(err, errlen, "cannot run gnuplot: %s", strerror(errno));
        return false;
    }
    /* A gnuplot that is missing or stops early must not kill us through SIGPIPE. */
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    plot_script(gp, term, qpath, qtitle, r, n);
    int st = pclose(gp);
    signal(SIGPIPE, old_pipe);
    char said[400];
    last_line(errs, said, sizeof(said));
    unlink(errs);
    if (st != 0) {
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        snprintf(err, errlen, "gnuplot failed (exit %d)%s%s", code,
                 code == 127 ? "; is gnuplot installed?" : "", said[0] ? ": " : "");
        size_t l = strlen(err);
        snprintf(err + l, errlen > l ? errlen - l : 0, "%s", said);
        unlink(path);
        return false;
    }
    return true;
}
