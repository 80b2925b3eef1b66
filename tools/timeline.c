/*
 * timeline.c - the run as a Chrome trace-event file (timeline.h).
 */
#include "tools/timeline.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "mmu/mmu.h"
#include "tools/callers.h"
#include "tools/report.h"

struct timeline {
    FILE *out;
    const struct scenario *sc;
    uint64_t now;     /* the clock at the last record: it never goes back */
    bool records;     /* a record was written (the next needs a comma) */
    bool open;        /* a slice is open */
    uint32_t open_at; /* its op (sim_kernel_at), 0: boot */
    uint64_t open_ts; /* when it began */
    long valid;       /* the last counter sample, -1 before the first */
};

/* The clock: memory accesses of the current CPU so far, never less than
 * the last record's. */
static uint64_t
clock_of(struct timeline *t, struct sim *s)
{
    const struct mmu *m = sim_mmu(s);
    uint64_t n = 0;
    for (unsigned i = 0; i < MMU_NACCESS; i++)
        n += m->ctr.accesses[i];
    if (n > t->now)
        t->now = n;
    return t->now;
}

/* Starts a record (the comma between records). */
static void
record(struct timeline *t)
{
    fputs(t->records ? ",\n" : "\n", t->out);
    t->records = true;
}

struct timeline *
timeline_begin(FILE *out, const struct scenario *sc, const char *strategy)
{
    struct timeline *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->out = out;
    t->sc = sc;
    t->valid = -1;
    t->open = true; /* boot, from the reset */
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", out);
    char name[SCN_NAME_MAX + 300];
    snprintf(name, sizeof(name), "pagesim %s, strategy %s", sc->file, strategy);
    record(t);
    fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":", out);
    report_json_string(out, name);
    fputs("}}", out);
    return t;
}

static void
count_valid(const struct tlb_entry *e, void *arg)
{
    (void)e;
    (*(long *)arg)++;
}

/* The counter track: n valid TLB entries (4 KiB and 4 MiB) now, if that
 * changed since the last sample. */
static void
put_sample(struct timeline *t, struct sim *s, long n)
{
    if (n == t->valid)
        return;
    t->valid = n;
    record(t);
    fprintf(t->out,
            "{\"name\":\"valid TLB entries\",\"ph\":\"C\",\"ts\":%llu,\"pid\":1,"
            "\"args\":{\"entries\":%ld}}",
            (unsigned long long)clock_of(t, s), n);
}

/* Valid TLB entries of the current CPU. */
static long
valid_now(struct sim *s)
{
    const struct mmu *m = sim_mmu(s);
    long n = 0;
    tlb_foreach(&m->tlb4k, count_valid, &n);
    tlb_foreach(&m->tlb4m, count_valid, &n);
    return n;
}

static void
sample(struct timeline *t, struct sim *s)
{
    put_sample(t, s, valid_now(s));
}

/* Ends the open slice now. */
static void
close_slice(struct timeline *t, struct sim *s)
{
    if (!t->open)
        return;
    char name[300];
    uint64_t ts = clock_of(t, s);
    scn_where(t->sc, t->open_at, name, sizeof(name));
    record(t);
    fputs("{\"name\":", t->out);
    report_json_string(t->out, name);
    fprintf(t->out, ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%llu,\"dur\":%llu,\"pid\":1,\"tid\":1}",
            t->open_at != 0 ? "op" : "boot", (unsigned long long)t->open_ts,
            (unsigned long long)(ts - t->open_ts));
    t->open = false;
}

void
timeline_at(struct timeline *t, struct sim *s, uint32_t where)
{
    close_slice(t, s);
    if (where != 0) {
        t->open = true;
        t->open_at = where;
        t->open_ts = clock_of(t, s);
    }
    sample(t, s);
}

/* The callers up to the first that is not a wrapper, as --trace shows them. */
static void
chain_text(const char *const *chain, unsigned n, char *buf, size_t len)
{
    if (n != 0)
        callers_format(chain, n, buf, len);
    else
        snprintf(buf, len, "(not known)");
}

/* One instant event: name, category, and its args value, effect, chain and
 * at, the args left open for more (instant_end closes them). */
static void
instant(struct timeline *t, struct sim *s, const char *name, const char *cat, uint32_t value,
        const char *effect, const char *const *chain, unsigned n)
{
    char where[300], who[CALLERS_TEXT_MAX], hex[16];
    scn_where(t->sc, sim_kernel_at(s), where, sizeof(where));
    chain_text(chain, n, who, sizeof(who));
    snprintf(hex, sizeof(hex), "0x%08x", value);
    record(t);
    fputs("{\"name\":", t->out);
    report_json_string(t->out, name);
    fprintf(t->out, ",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%llu,\"pid\":1,\"tid\":1,",
            cat, (unsigned long long)clock_of(t, s));
    fputs("\"args\":{\"value\":", t->out);
    report_json_string(t->out, hex);
    fputs(",\"effect\":", t->out);
    report_json_string(t->out, effect);
    fputs(",\"chain\":", t->out);
    report_json_string(t->out, who);
    fputs(",\"at\":", t->out);
    report_json_string(t->out, where);
}

/* Closes an instant event and samples the counter after it. */
static void
instant_end(struct timeline *t, struct sim *s)
{
    fputs("}}", t->out);
    sample(t, s);
}

const char *
timeline_event_text(const struct sim_event *ev, char *effect, size_t len)
{
    static const char *const names[] = {"invlpg", "cr0", "cr3", "cr4", "#PF"};
    if (ev->kind == SIM_EV_FAULT)
        snprintf(effect, len, "error 0x%x", ev->error);
    else if (ev->kind == SIM_EV_CR3)
        snprintf(effect, len, "dropped %llu, kept %llu", (unsigned long long)ev->dropped,
                 (unsigned long long)ev->kept);
    else
        snprintf(effect, len, "dropped %llu", (unsigned long long)ev->dropped);
    return names[ev->kind];
}

void
timeline_event(struct timeline *t, struct sim *s, const struct sim_event *ev)
{
    char effect[64];
    const char *name = timeline_event_text(ev, effect, sizeof(effect));
    /* The entries it dropped were valid just before it. */
    if (ev->dropped != 0)
        put_sample(t, s, valid_now(s) + (long)ev->dropped);
    instant(t, s, name, ev->kind == SIM_EV_FAULT ? "fault" : "tlb", ev->value, effect, ev->chain,
            ev->nchain);
    instant_end(t, s);
}

void
timeline_stale(struct timeline *t, struct sim *s, const struct mmu_stale *st,
               const struct sim_stale_case *c)
{
    const char *chain[SIM_CHAIN_MAX], *wchain[SIM_CHAIN_MAX];
    unsigned n = c != NULL ? c->nuse : 0, nw = c != NULL ? c->nwrite : 0;
    char effect[96], who[CALLERS_TEXT_MAX], wat[300];
    for (unsigned i = 0; i < n; i++)
        chain[i] = c->use_chain[i];
    for (unsigned i = 0; i < nw; i++)
        wchain[i] = c->write_chain[i];
    snprintf(effect, sizeof(effect), "%s: cached 0x%08x, now 0x%08x", mmu_stale_class_name(st->cls),
             st->cached, st->current);
    /* chain: the case's first use; changed by: the store that first changed the entry */
    instant(t, s, "stale", "stale", st->va, effect, chain, n);
    chain_text(wchain, nw, who, sizeof(who));
    scn_where(t->sc, c != NULL ? c->write_at : 0, wat, sizeof(wat));
    fprintf(t->out, ",\"class\":\"%s\",\"bug\":%s,\"changed by\":", mmu_stale_class_name(st->cls),
            mmu_stale_is_bug(st->cls) ? "true" : "false");
    report_json_string(t->out, who);
    fputs(",\"changed at\":", t->out);
    report_json_string(t->out, wat);
    instant_end(t, s);
}

void
timeline_end(struct timeline *t, struct sim *s)
{
    close_slice(t, s);
    fputs("\n]}\n", t->out);
    free(t);
}
