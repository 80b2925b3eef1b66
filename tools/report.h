/*
 * report.h - run reports (text, JSON, CSV) and strategy comparison tables.
 */
#ifndef PAGESIM_REPORT_H
#define PAGESIM_REPORT_H

#include <stdio.h>

#include "tools/runner.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_CSV };

/* s as a JSON string, quoted and escaped, the one way every JSON output
 * writes one. */
void report_json_string(FILE *out, const char *s);

/* The report of one run: its status (and reason when not ok), every
 * counter unless it was not run, the cost model, and in text its
 * expectations. */
void report_run(FILE *out, const struct scenario *sc, const struct run_result *r,
                const struct cost_model *cm, enum report_format fmt);
/* One column per strategy, its status first; only completed runs show
 * figures.  In text, the best value of each merit row whose values differ
 * is marked with '*'.  r4m (NULL: none) holds the same runs with kernel4m
 * on (compare --kernel4m both, r then with it off): a group of rows gives
 * what 4 MiB kernel pages save, r's figure minus r4m's. */
void report_compare(FILE *out, const struct scenario *sc, const struct run_result *r,
                    const struct run_result *r4m, unsigned n, enum report_format fmt);
/*
 * Draws the main rows of a comparison with gnuplot into path, a PNG or an
 * SVG by its extension: one panel per row, a bar per strategy that
 * completed on a linear scale from zero, each bar labelled with its value
 * (so a zero shows as "0"); strategies not run (n/a) or not completed are
 * named in the title.  Returns false with a message in err if path has
 * another extension or cannot be written, or gnuplot is missing or fails
 * (its last error line quoted).
 */
bool report_plot(const char *path, const struct scenario *sc, const struct run_result *r,
                 unsigned n, char *err, size_t errlen);
/* The extensions report_plot takes, for messages. */
#define REPORT_PLOT_EXTS ".png or .svg"
/* Whether report_plot takes path's extension. */
bool report_plot_ext_ok(const char *path);

#endif
