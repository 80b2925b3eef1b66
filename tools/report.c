/*
 * report.c - writes run reports and comparison tables.  Output depends only
 * on the figures, so the same run gives byte-identical reports.
 */
#define _GNU_SOURCE
#include "tools/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const groups[][2] = {
    {"mmu", "MMU"},       {"inval", "Invalidations"}, {"reach", "Reaching page tables"},
    {"memory", "Memory"}, {"cost", "Estimated cost"},
};

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
    fputc('\n', out);
}

static void
expectations_text(FILE *out, const struct scenario *sc, const struct run_result *r)
{
    if (sc->nexpects == 0)
        return;
    fprintf(out, "\nExpectations\n");
    for (uint32_t i = 0; i < sc->nexpects; i++) {
        const struct scn_expect *e = &sc->expects[i];
        int id = counter_find(e->counter);
        if (!r->reached[e->mark]) {
            fprintf(out, "  %s:%u: expect %s %s %llu: FAIL (not reached)\n", sc->file, e->line,
                    e->counter, scn_cmp_name(e->cmp), (unsigned long long)e->value);
            continue;
        }
        uint64_t v = r->marks[e->mark].v[id];
        bool pass = scn_cmp_eval(e->cmp, v, e->value);
        fprintf(out, "  %s:%u: expect %s %s %llu: %s (%llu)\n", sc->file, e->line, e->counter,
                scn_cmp_name(e->cmp), (unsigned long long)e->value, pass ? "pass" : "FAIL",
                (unsigned long long)v);
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
        fprintf(out, ",\n  ");
        json_status(out, r, ",\n  ");
        if (figures) {
            fprintf(out, ",\n  \"counters\": {\n");
            for (int i = 0; i < CTR_COUNT; i++)
                fprintf(out, "    \"%s\": %llu%s\n", counter_info[i].name,
                        (unsigned long long)r->final.v[i], i + 1 < CTR_COUNT ? "," : "");
            fprintf(out, "  }");
        }
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
            if (figures)
                fprintf(out, "%llu", (unsigned long long)r->final.v[i]);
            fputc('\n', out);
        }
        return;
    }
    fprintf(out,
            "pagesim report: %s, strategy %s, %llu MiB RAM, TLB %u/%u + %u/%u (4M), "
            "PSE %s, PGE %s\n",
            sc->file, r->strategy, (unsigned long long)(sc->ram_size >> 20), sc->mmu.tlb4k.entries,
            sc->mmu.tlb4k.ways, sc->mmu.tlb4m.entries, sc->mmu.tlb4m.ways, sc->pse ? "on" : "off",
            sc->pge ? "on" : "off");
    fprintf(out, "status: %s\n", run_status(r));
    if (!r->ok)
        fprintf(out, "reason: %s\n%s", r->error,
                figures ? "The figures below are those the run had reached when it ended.\n" : "");
    for (size_t g = 0; figures && g < sizeof(groups) / sizeof(groups[0]); g++) {
        fprintf(out, "\n%s\n", groups[g][1]);
        for (int i = 0; i < CTR_COUNT; i++) {
            if (strcmp(counter_info[i].group, groups[g][0]) != 0)
                continue;
            fprintf(out, "  %-20s %14llu  %s\n", counter_info[i].name,
                    (unsigned long long)r->final.v[i], counter_info[i].desc);
        }
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
report_compare(FILE *out, const struct scenario *sc, const struct run_result *r, unsigned n,
               enum report_format fmt)
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
            if (r[k].ok) {
                fprintf(out, ", \"counters\": {");
                for (int i = 0; i < CTR_COUNT; i++)
                    fprintf(out, "%s\"%s\": %llu", i > 0 ? ", " : "", counter_info[i].name,
                            (unsigned long long)r[k].final.v[i]);
                fprintf(out, "}");
            }
            fprintf(out, "}%s\n", k + 1 < n ? "," : "");
        }
        fprintf(out, "  }\n}\n");
        return;
    }
    fprintf(out, "pagesim compare: %s (* best in a row where lower or higher is better)\n\n%-20s",
            sc->file, "");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, " %14s", r[k].strategy);
    fprintf(out, "\n%-20s", "status");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, " %14s", run_status(&r[k]));
    fprintf(out, "\n");
    for (int i = 0; i < CTR_COUNT; i++) {
        uint64_t best = 0;
        bool marks = row_best(r, n, i, &best);
        fprintf(out, "%-20s", counter_info[i].name);
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
    for (unsigned k = 0; k < n; k++)
        if (!r[k].ok)
            fprintf(out, "\n%s %s: %s\n", r[k].strategy,
                    r[k].skipped ? "not run" : run_status(&r[k]), r[k].error);
        else if (r[k].reach_limit_mb != 0)
            fprintf(out, "\n%s reaches only the first %u MiB of physical memory.\n", r[k].strategy,
                    r[k].reach_limit_mb);
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

bool
report_plot(const char *path, const struct scenario *sc, const struct run_result *r, unsigned n,
            char *err, size_t errlen)
{
    static const int rows[] = {CTR_TLB_MISSES, CTR_WALKS, CTR_INVLPG, CTR_CR3_WRITES,
                               CTR_PT_FRAMES};
    const size_t nrows = sizeof(rows) / sizeof(rows[0]);
    char qpath[1024], qtitle[600];
    if (!gp_quote(path, qpath, sizeof(qpath)) || !gp_quote(sc->file, qtitle, sizeof(qtitle))) {
        snprintf(err, errlen,
                 "the plot file or scenario name has a control character or is too "
                 "long");
        return false;
    }
    char data[] = "/tmp/pagesim-plot-XXXXXX";
    int fd = mkstemp(data);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return false;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(data);
        snprintf(err, errlen, "cannot write a temporary file: %s", strerror(errno));
        return false;
    }
    fprintf(f, "strategy");
    for (size_t i = 0; i < nrows; i++)
        fprintf(f, " %s", counter_info[rows[i]].name);
    fprintf(f, " kcycles\n");
    for (unsigned k = 0; k < n; k++) {
        if (!r[k].ok)
            continue;
        fprintf(f, "%s", r[k].strategy);
        for (size_t i = 0; i < nrows; i++)
            fprintf(f, " %llu", (unsigned long long)r[k].final.v[rows[i]]);
        fprintf(f, " %llu\n", (unsigned long long)(r[k].final.v[CTR_CYCLES] / 1000));
    }
    fclose(f);
    const char *ext = strrchr(path, '.');
    const char *term = (ext != NULL && strcmp(ext, ".svg") == 0) ? "svg size 1000,600 dynamic"
                                                                 : "pngcairo size 1000,600";
    FILE *gp = popen("gnuplot", "w");
    if (gp == NULL) {
        unlink(data);
        snprintf(err, errlen, "cannot run gnuplot");
        return false;
    }
    fprintf(gp,
            "set terminal %s noenhanced\nset output '%s'\nset title 'pagesim compare: %s'\n"
            "set style data histogram\nset style histogram clustered gap 1\n"
            "set style fill solid 0.8 border -1\nset logscale y\nset key outside right\n"
            "set ylabel 'count (log scale)'\nset xtics rotate by -20\n"
            "plot for [c=2:%zu] '%s' using c:xtic(1) title columnheader(c)\n",
            term, qpath, qtitle, nrows + 2, data);
    int st = pclose(gp);
    unlink(data);
    if (st != 0) {
        snprintf(err, errlen, "gnuplot failed (exit %d); is gnuplot installed?",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return false;
    }
    return true;
}
