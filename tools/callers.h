/*
 * callers.h - who did it: the kernel call chain of a trace event, cut to
 * the callers a person asks about.  A flush or a CR3 load is made through
 * small wrappers (vmm_invlpg, vmm_space_switch); the answer to "who
 * flushed?" is the first caller that is not one of them.
 */
#ifndef PAGESIM_CALLERS_H
#define PAGESIM_CALLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/sim.h"

/* Room for a chain callers_format writes: SIM_CHAIN_MAX names and joins. */
#define CALLERS_TEXT_MAX (SIM_CHAIN_MAX * 72)

/* Whether the kernel function fn is a flush/switch wrapper (callers.c). */
bool callers_is_wrapper(const char *fn);

/* The index in chain[0..n) (innermost first) of the call site: the first
 * function that is not a wrapper; n - 1 if every one is (0 if n is 0). */
unsigned callers_site(const char *const *chain, unsigned n);

/*
 * Writes chain[0..n) (innermost first) into buf joined by " < ", up to and
 * including the first function that is not a wrapper; all n if every one is.
 * buf is always terminated (truncated if len is too small).
 */
void callers_format(const char *const *chain, unsigned n, char *buf, size_t len);

#endif
