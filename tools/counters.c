/*
 * counters.c - the names of the reported figures and the cost model.
 */
#include "tools/counters.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

const struct counter_info counter_info[CTR_COUNT] = {
#define X(id, name, group, merit, desc) {name, group, CTR_MERIT_##merit, desc},
    COUNTERS(X)
#undef X
};

/* "lower", "higher" or "-" (not a merit). */
static const char *
counter_merit_name(enum counter_merit m)
{
    switch (m) {
    case CTR_MERIT_LOWER:
        return "lower";
    case CTR_MERIT_HIGHER:
        return "higher";
    case CTR_MERIT_NONE:
        break;
    }
    return "-";
}

void
counters_help(FILE *out)
{
    fprintf(out, "  %-*s %-6s  %s\n", COUNTER_NAME_WIDTH, "counter", "better", "what it counts");
    for (int i = 0; i < CTR_COUNT; i++)
        fprintf(out, "  %-*s %-6s  %s\n", COUNTER_NAME_WIDTH, counter_info[i].name,
                counter_merit_name(counter_info[i].merit), counter_info[i].desc);
}

int
counter_find(const char *name)
{
    for (int i = 0; i < CTR_COUNT; i++)
        if (strcmp(counter_info[i].name, name) == 0)
            return i;
    return -1;
}

/*
 * Defaults.  invlpg 260 and cr3_write 96 are published measurements of a
 * single INVLPG and of a CR3 reload before any refill (on the hardware of
 * that measurement); a walk's entry read is charged as an L1/L2 hit, an
 * A/D update as a locked read-modify-write, a #PF as an exception round
 * trip.  Every constant can be set with --cost NAME=CYCLES.
 */
void
cost_model_default(struct cost_model *cm)
{
    cm->access = 1;
    cm->walk_read = 10;
    cm->invlpg = 260;
    cm->cr3_write = 96;
    cm->ad_update = 20;
    cm->fault = 1000;
}

bool
cost_model_set(struct cost_model *cm, const char *name, uint64_t value)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"access", offsetof(struct cost_model, access)},
        {"walk_read", offsetof(struct cost_model, walk_read)},
        {"invlpg", offsetof(struct cost_model, invlpg)},
        {"cr3_write", offsetof(struct cost_model, cr3_write)},
        {"ad_update", offsetof(struct cost_model, ad_update)},
        {"fault", offsetof(struct cost_model, fault)},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(fields[i].name, name) == 0) {
            memcpy((char *)cm + fields[i].off, &value, sizeof(value));
            return true;
        }
    }
    return false;
}

void
counters_derive(struct counters *c, const struct cost_model *cm)
{
    uint64_t lookups = c->v[CTR_TLB_HITS] + c->v[CTR_TLB_MISSES] + c->v[CTR_DIRTY_REWALKS];
    c->v[CTR_TLB_HIT_PERMILLE] = lookups ? c->v[CTR_TLB_HITS] * 1000 / lookups : 0;
    c->v[CTR_CYCLES] = c->v[CTR_ACCESSES] * cm->access + c->v[CTR_WALK_READS] * cm->walk_read +
                       c->v[CTR_INVLPG] * cm->invlpg + c->v[CTR_CR3_WRITES] * cm->cr3_write +
                       c->v[CTR_AD_UPDATES] * cm->ad_update + c->v[CTR_FAULTS] * cm->fault;
}

void
counters_since(struct counters *c, const struct counters *base, const struct cost_model *cm)
{
    for (int i = 0; i < CTR_COUNT; i++)
        if (strcmp(counter_info[i].group, "memory") != 0)
            c->v[i] -= base->v[i];
    counters_derive(c, cm);
}
