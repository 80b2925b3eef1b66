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

/* +1: higher is better, -1: lower is better, 0: not a merit. */
static int
merit(int id)
{
    switch (id) {
    case CTR_TLB_HIT_PERMILLE:
    case CTR_REACH_BYTES:
        return 1;
    case CTR_TLB_HITS:
    case CTR_GLOBALS_KEPT:
    case CTR_ACCESSES:
    case CTR_READS:
    case CTR_WRITES:
    case CTR_USER_ACCESSES:
        return 0;
    default:
        return -1;
    }
}

static void
format_value(char *buf, size_t len, int id, uint64_t v)
{
    if (id == CTR_TLB_HIT_PERMILLE)
        snprintf(buf, len, "%llu.%llu%%", (unsigned long long)(v / 10),
                 (unsigned long long)(v % 10));
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void
json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
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
        if (r->unmeasured & (1ull << id)) {
            fprintf(out, "  %s:%u: expect %s %s %llu: not measured\n", sc->file, e->line,
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

void
report_run(FILE *out, const struct scenario *sc, const struct run_result *r,
           const struct cost_model *cm, enum report_format fmt)
{
    if (fmt == REPORT_JSON) {
        fprintf(out, "{\n  \"scenario\": ");
        json_string(out, sc->file);
        fprintf(out, ",\n  \"strategy\": ");
        json_string(out, r->strategy);
        fprintf(out, ",\n  \"completed\": %s,\n", r->ok ? "true" : "false");
        if (!r->ok) {
            fprintf(out, "  \"error\": ");
            json_string(out, r->error);
            fprintf(out, ",\n");
        }
        fprintf(out, "  \"counters\": {\n");
        for (int i = 0; i < CTR_COUNT; i++) {
            fprintf(out, "    \"%s\": ", counter_info[i].name);
            if (r->unmeasured & (1ull << i))
                fprintf(out, "null");
            else
                fprintf(out, "%llu", (unsigned long long)r->final.v[i]);
            fprintf(out, "%s\n", i + 1 < CTR_COUNT ? "," : "");
        }
        fprintf(out,
                "  },\n  \"cost_model\": {\"access\": %llu, \"walk_read\": %llu, "
                "\"invlpg\": %llu, \"cr3_write\": %llu, \"ad_update\": %llu, \"fault\": "
                "%llu}\n}\n",
                (unsigned long long)cm->access, (unsigned long long)cm->walk_read,
                (unsigned long long)cm->invlpg, (unsigned long long)cm->cr3_write,
                (unsigned long long)cm->ad_update, (unsigned long long)cm->fault);
        return;
    }
    if (fmt == REPORT_CSV) {
        fprintf(out, "counter,%s\n", r->strategy);
        for (int i = 0; i < CTR_COUNT; i++) {
            if (r->unmeasured & (1ull << i))
                fprintf(out, "%s,\n", counter_info[i].name);
            else
                fprintf(out, "%s,%llu\n", counter_info[i].name, (unsigned long long)r->final.v[i]);
        }
        return;
    }
    fprintf(out,
            "pagesim report: %s, strategy %s, %llu MiB RAM, TLB %u/%u + %u/%u (4M), "
            "PSE %s, PGE %s\n",
            sc->file, r->strategy, (unsigned long long)(sc->ram_size >> 20), sc->mmu.tlb4k.entries,
            sc->mmu.tlb4k.ways, sc->mmu.tlb4m.entries, sc->mmu.tlb4m.ways, sc->pse ? "on" : "off",
            sc->pge ? "on" : "off");
    if (!r->ok)
        fprintf(out, "\nThe run did not complete:\n%s\n", r->error);
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        fprintf(out, "\n%s\n", groups[g][1]);
        for (int i = 0; i < CTR_COUNT; i++) {
            if (strcmp(counter_info[i].group, groups[g][0]) != 0)
                continue;
            char v[32];
            if (r->unmeasured & (1ull << i))
                snprintf(v, sizeof(v), "not measured");
            else
                format_value(v, sizeof(v), i, r->final.v[i]);
            fprintf(out, "  %-20s %14s  %s\n", counter_info[i].name, v, counter_info[i].desc);
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

void
report_compare(FILE *out, const struct scenario *sc, const struct run_result *r, unsigned n,
               enum report_format fmt)
{
    if (fmt == REPORT_CSV || fmt == REPORT_JSON) {
        if (fmt == REPORT_CSV) {
            fprintf(out, "counter");
            for (unsigned k = 0; k < n; k++)
                fprintf(out, ",%s", r[k].strategy);
            fprintf(out, "\n");
            for (int i = 0; i < CTR_COUNT; i++) {
                fprintf(out, "%s", counter_info[i].name);
                for (unsigned k = 0; k < n; k++)
                    fprintf(out, ",%llu", (unsigned long long)r[k].final.v[i]);
                fprintf(out, "\n");
            }
            return;
        }
        fprintf(out, "{\n  \"scenario\": ");
        json_string(out, sc->file);
        fprintf(out, ",\n  \"strategies\": {\n");
        for (unsigned k = 0; k < n; k++) {
            fprintf(out, "    ");
            json_string(out, r[k].strategy);
            fprintf(out, ": {\"completed\": %s", r[k].ok ? "true" : "false");
            for (int i = 0; i < CTR_COUNT; i++)
                fprintf(out, ", \"%s\": %llu", counter_info[i].name,
                        (unsigned long long)r[k].final.v[i]);
            fprintf(out, "}%s\n", k + 1 < n ? "," : "");
        }
        fprintf(out, "  }\n}\n");
        return;
    }
    fprintf(out, "pagesim compare: %s (* best in row)\n\n%-20s", sc->file, "");
    for (unsigned k = 0; k < n; k++)
        fprintf(out, " %14s", r[k].strategy);
    fprintf(out, "\n");
    for (int i = 0; i < CTR_COUNT; i++) {
        fprintf(out, "%-20s", counter_info[i].name);
        int m = merit(i);
        uint64_t best = 0;
        bool all_same = true, first = true;
        for (unsigned k = 0; k < n; k++) {
            if (!r[k].ok)
                continue;
            uint64_t v = r[k].final.v[i];
            if (!first && v != best)
                all_same = false;
            if (first || (m > 0 && v > best) || (m < 0 && v < best))
                best = v;
            first = false;
        }
        for (unsigned k = 0; k < n; k++) {
            char v[32], cell[40];
            if (!r[k].ok) {
                fprintf(out, " %14s", r[k].skipped ? "n/a" : "failed");
                continue;
            }
            format_value(v, sizeof(v), i, r[k].final.v[i]);
            bool mark = m != 0 && !all_same && r[k].final.v[i] == best;
            snprintf(cell, sizeof(cell), "%s%s", v, mark ? "*" : " ");
            fprintf(out, " %14s", cell);
        }
        fprintf(out, "\n");
    }
    for (unsigned k = 0; k < n; k++)
        if (r[k].skipped)
            fprintf(out, "\n%s not run: %s\n", r[k].strategy, r[k].error);
        else if (!r[k].ok)
            fprintf(out, "\n%s did not complete:\n%s\n", r[k].strategy, r[k].error);
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
