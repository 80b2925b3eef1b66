/*
 * profile.c - the per-stack profile (sim.h sim_profile_on): the changes of
 * the MMU counters charged to the kernel call stack that caused them.  The
 * charge points are the miss path of each access and the arch_* calls that
 * change the TLB (hooks.c); the fast entry and the soft TLB are off, so
 * every access passes one.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

#define PROF_NCTR (sizeof(struct mmu_counters) / sizeof(uint64_t))
_Static_assert(sizeof(struct mmu_counters) % sizeof(uint64_t) == 0,
               "struct mmu_counters holds only uint64_t counters");

#define PROF_MACHINE "(machine)" /* changes no kernel code made */

struct prof_key {
    uintptr_t ret[SIM_CHAIN_MAX];
    unsigned n; /* 0: a named stack (sim_write_cr's who) */
};

struct sim_prof {
    struct sim_profile_stack *stacks;
    struct prof_key *keys;
    unsigned n, cap;
    unsigned *slots; /* open addressing: stack index + 1, 0 empty */
    unsigned nslots; /* a power of two, at least twice n */
    struct mmu_counters last[SIM_MAX_CPUS];
    int owner; /* the stack charged next, -1: PROF_MACHINE */
};

bool
sim_profile_on(struct sim *s)
{
    struct sim_prof *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return false;
    p->owner = -1;
    s->prof = p;
    for (unsigned c = 0; c < s->ncpus; c++)
        mmu_fast_off(&s->cpus[c]);
    sim_profile_reset(s);
    return true;
}

void
sim_prof_free(struct sim *s)
{
    if (s->prof == NULL)
        return;
    free(s->prof->stacks);
    free(s->prof->keys);
    free(s->prof->slots);
    free(s->prof);
    s->prof = NULL;
}

static uint32_t
key_hash(const uintptr_t *ret, unsigned n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    for (unsigned i = 0; i < n; i++)
        h = (h ^ ret[i]) * 1099511628211ull;
    return (uint32_t)(h ^ (h >> 29));
}

/* A new stack at index p->n; -1 if out of host memory. */
static int
add_stack(struct sim_prof *p)
{
    if (p->n == p->cap) {
        unsigned cap = p->cap ? 2 * p->cap : 64;
        struct sim_profile_stack *st = realloc(p->stacks, cap * sizeof(*st));
        if (st == NULL)
            return -1;
        p->stacks = st;
        struct prof_key *k = realloc(p->keys, cap * sizeof(*k));
        if (k == NULL)
            return -1;
        p->keys = k;
        p->cap = cap;
    }
    if (2 * (p->n + 1) > p->nslots) {
        unsigned ns = p->nslots ? 2 * p->nslots : 256;
        unsigned *sl = calloc(ns, sizeof(*sl));
        if (sl == NULL)
            return -1;
        for (unsigned i = 0; i < p->n; i++) {
            if (p->keys[i].n == 0)
                continue;
            uint32_t h = key_hash(p->keys[i].ret, p->keys[i].n) & (ns - 1);
            while (sl[h] != 0)
                h = (h + 1) & (ns - 1);
            sl[h] = i + 1;
        }
        free(p->slots);
        p->slots = sl;
        p->nslots = ns;
    }
    memset(&p->stacks[p->n], 0, sizeof(p->stacks[p->n]));
    memset(&p->keys[p->n], 0, sizeof(p->keys[p->n]));
    return (int)p->n++;
}

/* The stack of one name; -1 if out of host memory. */
static int
named_stack(struct sim_prof *p, const char *who)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->keys[i].n == 0 && strcmp(p->stacks[i].chain[0], who) == 0)
            return (int)i;
    int i = add_stack(p);
    if (i >= 0) {
        snprintf(p->stacks[i].chain[0], SIM_NAME_MAX, "%s", who);
        p->stacks[i].nchain = 1;
    }
    return i;
}

/* The stack of the return addresses ret[0..n); -1 if out of host memory. */
static int
find_stack(struct sim_prof *p, const uintptr_t *ret, unsigned n)
{
    uint32_t h = key_hash(ret, n);
    if (p->nslots != 0) {
        for (uint32_t j = h & (p->nslots - 1); p->slots[j] != 0; j = (j + 1) & (p->nslots - 1)) {
            const struct prof_key *k = &p->keys[p->slots[j] - 1];
            if (k->n == n && memcmp(k->ret, ret, n * sizeof(ret[0])) == 0)
                return (int)p->slots[j] - 1;
        }
    }
    int i = add_stack(p);
    if (i < 0)
        return -1;
    memcpy(p->keys[i].ret, ret, n * sizeof(ret[0]));
    p->keys[i].n = n;
    uint32_t j = h & (p->nslots - 1);
    while (p->slots[j] != 0)
        j = (j + 1) & (p->nslots - 1);
    p->slots[j] = (unsigned)i + 1;
    /* As in the events' chains: the byte before a return address. */
    for (unsigned k = 0; k < n; k++)
        sim_symbolize_cached((const char *)ret[k] - 1, p->stacks[i].chain[k], SIM_NAME_MAX);
    p->stacks[i].nchain = n;
    return i;
}

/* Charges every CPU's counter changes since the last charge to the owner. */
static void
charge(struct sim *s)
{
    struct sim_prof *p = s->prof;
    uint64_t d[PROF_NCTR] = {0};
    bool any = false;
    for (unsigned c = 0; c < s->ncpus; c++) {
        uint64_t *cur = (uint64_t *)&s->cpus[c].ctr, *last = (uint64_t *)&p->last[c];
        for (size_t i = 0; i < PROF_NCTR; i++) {
            d[i] += cur[i] - last[i];
            any |= cur[i] != last[i];
            last[i] = cur[i];
        }
    }
    if (!any)
        return;
    int o = p->owner >= 0 ? p->owner : named_stack(p, PROF_MACHINE);
    if (o < 0)
        return;
    uint64_t *to = (uint64_t *)&p->stacks[o].ctr;
    for (size_t i = 0; i < PROF_NCTR; i++)
        to[i] += d[i];
}

int
sim_prof_enter(struct sim *s, const void *pc, const void *fp, const char *who)
{
    struct sim_prof *p = s->prof;
    charge(s);
    int prev = p->owner;
    if (who != NULL) {
        p->owner = named_stack(p, who);
    } else {
        uintptr_t ret[SIM_CHAIN_MAX];
        unsigned n = sim_kernel_chain(s, pc, fp, ret);
        p->owner = find_stack(p, ret, n);
    }
    return prev;
}

void
sim_prof_leave(struct sim *s, int prev)
{
    charge(s);
    s->prof->owner = prev;
}

void
sim_profile_reset(struct sim *s)
{
    struct sim_prof *p = s->prof;
    if (p == NULL)
        return;
    sim_fold_hits(s);
    for (unsigned c = 0; c < s->ncpus; c++)
        p->last[c] = s->cpus[c].ctr;
    for (unsigned i = 0; i < p->n; i++)
        memset(&p->stacks[i].ctr, 0, sizeof(p->stacks[i].ctr));
}

const struct sim_profile_stack *
sim_profile_stacks(struct sim *s, unsigned *n)
{
    *n = 0;
    if (s->prof == NULL)
        return NULL;
    sim_fold_hits(s);
    charge(s);
    *n = s->prof->n;
    return s->prof->stacks;
}
