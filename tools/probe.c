/*
 * probe.c - the host side of `pagesim boot --probe` (probe.h): the request
 * module, the simulator's run, and the comparison of its records with the
 * digests and records the bare-metal kernel printed.
 */
#define _GNU_SOURCE
#include "tools/probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bootload.h"
#include "sim/sim.h"

static bool parse_rec(const char *line, struct hwprobe_record *r);
static bool parse_digest(const char *line, struct probe_digest *d);

/* Room for one more element of a growing array. */
static bool
grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 1024;
    void *nv = realloc(*v, c * size);
    if (nv == NULL)
        return false;
    *v = nv;
    *cap = c;
    return true;
}

bool
probe_log_push(struct probe_log *l, const char *line)
{
    bool ok = true;
    if (strncmp(line, "probe ", 6) == 0) {
        ok = grow((void **)&l->rec, &l->caprec, l->nrec, sizeof(*l->rec));
        if (ok && parse_rec(line, &l->rec[l->nrec]))
            l->nrec++;
        else if (ok && l->bad[0] == '\0')
            snprintf(l->bad, sizeof(l->bad), "%s", line);
    } else if (strncmp(line, "probe-seed ", 11) == 0) {
        ok = grow((void **)&l->dig, &l->capdig, l->ndig, sizeof(*l->dig));
        if (ok && parse_digest(line, &l->dig[l->ndig]))
            l->ndig++;
        else if (ok && l->bad[0] == '\0')
            snprintf(l->bad, sizeof(l->bad), "%s", line);
    }
    if (!ok)
        l->failed = true;
    return ok;
}

void
probe_log_free(struct probe_log *l)
{
    free(l->rec);
    free(l->dig);
    memset(l, 0, sizeof(*l));
}

/* A decimal number of at most 32 bits, ending at the end of text or at stop. */
static bool
seed_number(const char *text, char stop, uint32_t *v, const char **end)
{
    char *e;
    if (*text < '0' || *text > '9')
        return false;
    errno = 0;
    unsigned long n = strtoul(text, &e, 10);
    if (errno != 0 || n > UINT32_MAX || (*e != '\0' && *e != stop))
        return false;
    *v = (uint32_t)n;
    *end = e;
    return true;
}

bool
probe_parse_seeds(const char *text, struct probe_request *r, char *err, size_t len)
{
    uint32_t a, b;
    const char *end;
    bool ok = seed_number(text, '-', &a, &end);
    if (ok && *end == '-')
        ok = seed_number(end + 1, '\0', &b, &end) && *end == '\0';
    else
        b = a;
    if (!ok || b < a) {
        snprintf(err, len, "bad --probe '%s' (a seed N, or seeds A-B with A <= B)", text);
        return false;
    }
    if (b - a >= HWPROBE_MAX_SEEDS) {
        snprintf(err, len, "bad --probe '%s' (at most %u seeds)", text, HWPROBE_MAX_SEEDS);
        return false;
    }
    r->seed = a;
    r->seeds = b - a + 1;
    return true;
}

void
probe_module(const struct probe_request *r, struct hwprobe_module *m)
{
    memset(m, 0, sizeof(*m));
    m->magic = HWPROBE_MAGIC;
    m->version = HWPROBE_VERSION;
    m->length = sizeof(*m);
    m->seed = r->seed;
    m->seeds = r->seeds;
    m->probes = r->probes;
    m->records = r->records ? 1 : 0;
}

static void
sim_line(void *ctx, const char *line)
{
    probe_log_push(ctx, line);
}

/* The request on a fresh simulated machine; false with why in err. */
static bool
run_sim(const struct probe_request *r, struct probe_log *out, char *err, size_t len)
{
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.ram_size = HWPROBE_RAM;
    struct sim *s = sim_create(&cfg, err, len);
    if (s == NULL)
        return false;
    sim_set_log(s, sim_line, out);
    struct hwprobe_module m;
    probe_module(r, &m);
    struct bootload_config bc = {.module = &m, .module_len = sizeof(m)};
    enum hwprobe_status ps;
    char why[256] = "";
    enum bootload_status st = bootload_probe(s, &bc, &ps, why, sizeof(why));
    bool ok = false;
    if (st == BOOTLOAD_STOPPED) {
        char rep[1024];
        sim_format_stop(sim_last_stop(s), rep, sizeof(rep));
        snprintf(err, len, "the simulator's run stopped:\n%s", rep);
    } else if (st != BOOTLOAD_OK) {
        snprintf(err, len, "the simulator could not set up the machine: %s", why);
    } else if (ps != HWPROBE_OK) {
        snprintf(err, len, "the simulator's kernel rejected the request: %s", hwprobe_strerror(ps));
    } else if (out->failed) {
        snprintf(err, len, "out of host memory");
    } else {
        ok = true;
    }
    sim_destroy(s);
    return ok;
}

/* ---- records ---- */

static bool
parse_rec(const char *line, struct hwprobe_record *r)
{
    char pte[16];
    int used = 0;
    memset(r, 0, sizeof(*r));
    if (sscanf(line, "probe %u %u %x %u %u %u %x %x %x %15s %x%n", &r->seed, &r->index, &r->va,
               &r->acc, &r->wp, &r->fault, &r->err, &r->cr2, &r->pde, pte, &r->value,
               &used) != 11 ||
        line[used] != '\0' || r->acc > 3 || r->wp > 1 || r->fault > 1)
        return false;
    r->has_pte = strcmp(pte, "-") != 0 ? 1 : 0;
    if (r->has_pte) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(pte, &end, 16);
        if (*end != '\0' || errno != 0 || v > UINT32_MAX)
            return false;
        r->pte = (uint32_t)v;
    }
    return true;
}

static bool
parse_digest(const char *line, struct probe_digest *d)
{
    int used = 0;
    return sscanf(line, "probe-seed %u %u %x%n", &d->seed, &d->probes, &d->digest, &used) == 3 &&
           line[used] == '\0';
}

static bool
same_rec(const struct hwprobe_record *a, const struct hwprobe_record *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/*
 * QEMU's one known departure from the SDM that the probes reach: on a
 * fault for a reserved bit (bit 21 of a 4 MiB PDE) its error code has RSVD
 * set and P clear (target/i386 mmu_translate, do_fault_rsvd, QEMU 7.2),
 * where SDM Vol. 3A 4.7 says "bit 3 of the error code can be set only if
 * bit 0 is also set", as the model does.  Turns the simulator's record r
 * into the one QEMU gives; true if that changed it.
 */
static bool
as_qemu(struct hwprobe_record *r)
{
    if (!r->fault || (r->err & (PF_ERR_RSVD | PF_ERR_P)) != (PF_ERR_RSVD | PF_ERR_P))
        return false;
    r->err &= ~PF_ERR_P;
    return true;
}

/* True if metal's record m is the simulator's s, or what QEMU makes of it. */
static bool
agrees(const struct hwprobe_record *m, const struct hwprobe_record *s)
{
    struct hwprobe_record q = *s;
    return same_rec(m, s) || (as_qemu(&q) && same_rec(m, &q));
}

static const char *const acc_names[4] = {"supervisor read", "supervisor write", "user read",
                                         "user write"};

static void
describe(FILE *out, const char *side, const struct hwprobe_record *r)
{
    if (r == NULL) {
        fprintf(out, "    %s: (no record)\n", side);
        return;
    }
    if (r->fault)
        fprintf(out, "    %s: page fault error=0x%x CR2=0x%08x", side, r->err, r->cr2);
    else
        fprintf(out, "    %s: completed", side);
    fprintf(out, ", PDE 0x%08x", r->pde);
    if (r->has_pte)
        fprintf(out, ", PTE 0x%08x", r->pte);
    fprintf(out, ", %s 0x%08x\n", (r->acc & HWPROBE_ACC_WRITE) ? "word written" : "read", r->value);
}

/* Prints one differing record: either side may be missing. */
static void
show_difference(FILE *out, const struct hwprobe_record *m, const struct hwprobe_record *s)
{
    const struct hwprobe_record *r = m != NULL ? m : s;
    fprintf(out, "! seed %u probe %u: %s at 0x%08x, CR0.WP=%u\n", r->seed, r->index,
            acc_names[r->acc], r->va, r->wp);
    describe(out, "metal", m);
    describe(out, "sim  ", s);
}

/* ---- what the probes covered ---- */

struct coverage {
    uint64_t page[3][2]; /* 4 KiB, 4 MiB, PDE not present; [probes, faulted] */
    uint64_t acc[4][2][2];
    uint64_t code[16];
};

static void
cover(struct coverage *c, const struct hwprobe_record *r)
{
    unsigned page = !(r->pde & PTE_P) ? 2 : (r->pde & PTE_PS) ? 1 : 0;
    c->page[page][0]++;
    c->page[page][1] += r->fault;
    c->acc[r->acc][r->wp][0]++;
    c->acc[r->acc][r->wp][1] += r->fault;
    if (r->fault)
        c->code[r->err & 15u]++;
}

static void
print_coverage(FILE *out, const struct coverage *c)
{
    static const char *const pages[3] = {"4 KiB page", "4 MiB page", "PDE not present"};
    fprintf(out, "  %-49s %10s %10s\n", "probes (simulator)", "probes", "faulted");
    for (int p = 0; p < 3; p++)
        fprintf(out, "  %-49s %10llu %10llu\n", pages[p], (unsigned long long)c->page[p][0],
                (unsigned long long)c->page[p][1]);
    for (int a = 0; a < 4; a++)
        for (int wp = 0; wp < 2; wp++) {
            char what[40];
            snprintf(what, sizeof(what), "%s, WP=%d", acc_names[a], wp);
            fprintf(out, "  %-49s %10llu %10llu\n", what, (unsigned long long)c->acc[a][wp][0],
                    (unsigned long long)c->acc[a][wp][1]);
        }
    fprintf(out, "\n  %-49s %10s\n", "page faults by error code (simulator)", "faults");
    for (unsigned e = 0; e < 16; e++) {
        if (c->code[e] == 0)
            continue;
        char what[64];
        snprintf(what, sizeof(what), "0x%x %s, %s, %s%s", e,
                 (e & PF_ERR_P) ? "protection" : "not present", (e & PF_ERR_W) ? "write" : "read",
                 (e & PF_ERR_U) ? "user" : "supervisor", (e & PF_ERR_RSVD) ? ", reserved bit" : "");
        fprintf(out, "  %-49s %10llu\n", what, (unsigned long long)c->code[e]);
    }
}

/* ---- the comparison ---- */

/*
 * Boots seeds [first, last] again with every record and prints the
 * records that differ from the simulator's sim; returns how many do, or
 * -1 - status if the boot failed with status.
 */
static long
show_records(FILE *out, const struct probe_request *req, uint32_t first, uint32_t last,
             const struct probe_log *sim, probe_boot_fn boot, void *ctx)
{
    struct probe_request r = *req;
    r.seed = first;
    r.seeds = last - first + 1;
    r.records = true;
    struct probe_log m = {0};
    int st = boot(ctx, &r, &m);
    if (st != 0) {
        probe_log_free(&m);
        return -1 - st;
    }
    long diffs = 0;
    size_t shown = 0, i = 0, j = 0;
    fprintf(out, "Seeds %u-%u booted again with every record:\n", first, last);
    if (m.bad[0] != '\0') {
        fprintf(out, "! a metal record is malformed: %s\n", m.bad);
        diffs++;
    }
    while (j < sim->nrec && sim->rec[j].seed < first)
        j++;
    for (; i < m.nrec || (j < sim->nrec && sim->rec[j].seed <= last); i++, j++) {
        const struct hwprobe_record *a = i < m.nrec ? &m.rec[i] : NULL;
        const struct hwprobe_record *b =
            j < sim->nrec && sim->rec[j].seed <= last ? &sim->rec[j] : NULL;
        if (a != NULL && b != NULL && agrees(a, b))
            continue;
        diffs++;
        if (shown++ < PROBE_SHOWN_DIFFS)
            show_difference(out, a, b);
    }
    if (shown > PROBE_SHOWN_DIFFS)
        fprintf(out, "! ... %zu more differing records\n", shown - PROBE_SHOWN_DIFFS);
    fprintf(out, "%s %ld records differ\n\n", diffs ? "!" : " ", diffs);
    probe_log_free(&m);
    return diffs;
}

/* One seed: what each side said. */
struct seed_check {
    uint32_t records;  /* the simulator's records of the seed */
    uint32_t host;     /* digest of those records, computed here */
    uint32_t want;     /* digest of the records QEMU should give (as_qemu) */
    uint32_t sim, got; /* the simulator's kernel's digest; metal's */
    bool has_sim, has_got;
};

/* Fills sc (r->seeds entries) from both logs; returns the records QEMU is
 * expected to give differently (as_qemu). */
static size_t
check_seeds(const struct probe_request *r, const struct probe_log *metal,
            const struct probe_log *sim, struct seed_check *sc, struct coverage *cov)
{
    size_t deviations = 0;
    for (uint32_t k = 0; k < r->seeds; k++)
        sc[k].host = sc[k].want = HWPROBE_DIGEST_INIT;
    for (size_t i = 0; i < sim->nrec; i++) {
        const struct hwprobe_record *s = &sim->rec[i];
        struct hwprobe_record q = *s;
        uint32_t k = s->seed - r->seed;
        if (k >= r->seeds)
            continue;
        cover(cov, s);
        deviations += as_qemu(&q);
        sc[k].records++;
        sc[k].host = hwprobe_digest(sc[k].host, s);
        sc[k].want = hwprobe_digest(sc[k].want, &q);
    }
    for (int side = 0; side < 2; side++) {
        const struct probe_log *l = side ? metal : sim;
        for (size_t i = 0; i < l->ndig; i++) {
            const struct probe_digest *d = &l->dig[i];
            uint32_t k = d->seed - r->seed;
            if (k >= r->seeds || d->probes != r->probes)
                continue;
            if (side) {
                sc[k].got = d->digest;
                sc[k].has_got = true;
            } else {
                sc[k].sim = d->digest;
                sc[k].has_sim = true;
            }
        }
    }
    return deviations;
}

int
probe_run(FILE *out, const struct probe_request *req, probe_boot_fn boot, void *ctx)
{
    struct probe_request r = *req;
    r.records = false;
    struct probe_log metal = {0}, sim = {0};
    struct seed_check *sc = calloc(r.seeds, sizeof(*sc));
    char err[1280];
    int st = sc == NULL ? 1 : boot(ctx, &r, &metal);
    r.records = true;
    if (sc == NULL) {
        fprintf(stderr, "pagesim boot: out of host memory\n");
    } else if (st == 0 && !run_sim(&r, &sim, err, sizeof(err))) {
        fprintf(stderr, "pagesim boot: %s\n", err);
        st = 1;
    }
    if (st != 0) {
        free(sc);
        probe_log_free(&metal);
        probe_log_free(&sim);
        return st;
    }

    fprintf(out,
            "pagesim boot --probe: seeds %u-%u, %u probes each, %llu MiB RAM; QEMU against the "
            "simulator\n\n",
            r.seed, r.seed + (r.seeds - 1), r.probes, (unsigned long long)(HWPROBE_RAM >> 20));
    size_t diffs = 0;
    for (int side = 0; side < 2; side++) {
        const struct probe_log *l = side ? &metal : &sim;
        if (l->bad[0] != '\0') {
            fprintf(out, "! a %s line is malformed: %s\n", side ? "metal" : "simulator", l->bad);
            diffs++;
        }
    }
    struct coverage cov;
    memset(&cov, 0, sizeof(cov));
    size_t deviations = check_seeds(&r, &metal, &sim, sc, &cov);
    uint32_t nbad = 0, first = 0, last = 0;
    for (uint32_t k = 0; k < r.seeds; k++) {
        const struct seed_check *c = &sc[k];
        uint32_t seed = r.seed + k;
        bool simok = c->records == r.probes && c->has_sim && c->sim == c->host;
        if (!simok)
            fprintf(out, "! seed %u: the simulator's %u records do not make its kernel's digest\n",
                    seed, c->records);
        if (simok && c->has_got && c->got == c->want)
            continue;
        if (c->has_got)
            fprintf(out, "! seed %u: metal's digest 0x%08x, expected 0x%08x\n", seed, c->got,
                    c->want);
        else
            fprintf(out, "! seed %u: no digest from metal\n", seed);
        if (nbad++ == 0)
            first = seed;
        last = seed;
    }
    if (nbad > 0) {
        fprintf(out, "\n");
        long d = show_records(out, &r, first, last, &sim, boot, ctx);
        if (d < 0)
            st = (int)(-1 - d);
        diffs += nbad + (d > 0 ? (size_t)d : 0);
    }
    if (st == 0) {
        print_coverage(out, &cov);
        fprintf(out, "\n");
        if (deviations > 0)
            fprintf(out,
                    "  %zu records expected to differ where QEMU departs from the SDM (not "
                    "counted):\n"
                    "  a reserved-bit fault's error code without P (SDM Vol. 3A 4.7: RSVD "
                    "implies P)\n\n",
                    deviations);
        fprintf(out, "%s %u seeds compared by digest, %zu records, %u seeds differ\n\n%s\n",
                diffs ? "!" : " ", r.seeds, sim.nrec, nbad,
                diffs ? "The runs differ (lines marked !)." : "The runs agree.");
        st = diffs ? 1 : 0;
    }
    free(sc);
    probe_log_free(&metal);
    probe_log_free(&sim);
    return st;
}
