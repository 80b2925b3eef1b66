/*
 * report.h - run reports (text, JSON, CSV) and strategy comparison tables.
 */
#ifndef PAGESIM_REPORT_H
#define PAGESIM_REPORT_H

#include <stdio.h>

#include "tools/runner.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_CSV };

/* The report of one run: its status (and reason when not ok), every
 * counter unless it was not run, the cost model, and in text its
 * expectations. */
void report_run(FILE *out, const struct scenario *sc, const struct run_result *r,
                const struct cost_model *cm, enum report_format fmt);
/* One column per strategy, its status first; only completed runs show
 * figures.  In text, the best value of each merit row whose values differ
 * is marked with '*'. */
void report_compare(FILE *out, const struct scenario *sc, const struct run_result *r, unsigned n,
                    enum report_format fmt);
/* Writes a gnuplot script and runs gnuplot to draw the main rows; returns
 * false with a message in err if gnuplot is missing or fails. */
bool report_plot(const char *path, const struct scenario *sc, const struct run_result *r,
                 unsigned n, char *err, size_t errlen);

#endif
