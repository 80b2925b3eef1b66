/*
 * registry.h - the kernel's registries as the command line sees them: the
 * paging strategies and the frame allocators, by name, in listing order.
 * Every list of strategies in tools/ (help, errors, compare, defaults)
 * comes from here.
 */
#ifndef PAGESIM_REGISTRY_H
#define PAGESIM_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One paging strategy. */
struct reg_strategy {
    const char *name;     /* what scenarios and --strategy call it */
    const char *pmm;      /* the frame allocator it runs on unless one is named */
    const char *summary;  /* one line: where its structures live, how they are reached */
    uint64_t reach_bytes; /* physical memory it can reach */
};

/* Fills *s with the i-th strategy (0-based, listing order); false past the last. */
bool reg_strategy_at(unsigned i, struct reg_strategy *s);

/* Fills *s (may be NULL) with the strategy named name; false if there is none. */
bool reg_strategy_find(const char *name, struct reg_strategy *s);

/* Returns the name of the strategy a scenario runs when it names none. */
const char *reg_default_strategy(void);

/* Returns the name of the i-th frame allocator (0-based), NULL past the last. */
const char *reg_pmm_at(unsigned i);

/* Returns true if a frame allocator is named name. */
bool reg_pmm_exists(const char *name);

/* Writes the strategy names (pmm false) or frame allocator names (pmm
 * true) into buf, separated by sep, truncated to len - 1 bytes. */
void reg_names(bool pmm, const char *sep, char *buf, size_t len);

/* The name a strategy's (frame allocator's) ops carry, as a plug-in hands
 * them to its registrar (kernel/plugin.h); "(no name)" if ops is NULL or
 * has none. */
struct vmm_ops;
struct pmm_ops;
const char *reg_ops_strategy_name(const struct vmm_ops *ops);
const char *reg_ops_pmm_name(const struct pmm_ops *ops);

/* The first member of a plug-in's ops the kernel calls that is NULL
 * ("boot", "reach->open_pd", "init", ...), NULL if none or ops is NULL. */
const char *reg_ops_strategy_missing(const struct vmm_ops *ops);
const char *reg_ops_pmm_missing(const struct pmm_ops *ops);

/* Prints one line per strategy: name, frame allocator and summary in
 * aligned columns (pagesim --list-strategies). */
void reg_list_strategies(FILE *out);

#endif
