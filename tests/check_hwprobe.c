/*
 * check_hwprobe.c - the kernel side of the paging differential
 * (kernel/hwprobe.h) on the simulator: the requests it rejects, and every
 * record of a few seeds held against the SDM's rules for 32-bit paging,
 * so that the probe and the model are checked without QEMU.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/hwprobe.h"
#include "sim/bootload.h"
#include "tests/suites.h"

/* The records of one run, parsed as the test reads kernel/hwprobe.h. */
#define MAX_RECS 5000
struct recs {
    struct hwprobe_record r[MAX_RECS];
    uint32_t n, digests, bad;
};

static void
on_log(void *ctx, const char *line)
{
    struct recs *x = ctx;
    struct hwprobe_record *r = &x->r[x->n];
    char pte[16];
    if (strncmp(line, "probe-seed ", 11) == 0) {
        x->digests++;
        return;
    }
    if (x->n == MAX_RECS ||
        sscanf(line, "probe %u %u %x %u %u %u %x %x %x %15s %x", &r->seed, &r->index, &r->va,
               &r->acc, &r->wp, &r->fault, &r->err, &r->cr2, &r->pde, pte, &r->value) != 11) {
        x->bad++;
        return;
    }
    r->has_pte = strcmp(pte, "-") != 0;
    r->pte = r->has_pte ? (uint32_t)strtoul(pte, NULL, 16) : 0;
    x->n++;
}

/* Runs the request m on a fresh 128 MiB machine; the kernel's verdict. */
static enum hwprobe_status
run(const struct hwprobe_module *m, uint32_t len, struct recs *x)
{
    struct sim_config cfg;
    char err[256];
    sim_config_default(&cfg);
    cfg.ram_size = HWPROBE_RAM;
    struct sim *s = sim_create(&cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    memset(x, 0, sizeof(*x));
    sim_set_log(s, on_log, x);
    struct bootload_config bc = {.module = m, .module_len = len};
    enum hwprobe_status ps;
    char why[256] = "";
    enum bootload_status st = bootload_probe(s, &bc, &ps, why, sizeof(why));
    if (st != BOOTLOAD_OK) {
        char stop[512];
        sim_format_stop(sim_last_stop(s), stop, sizeof(stop));
        ck_abort_msg("run did not complete (%s%s%s): %s", bootload_strerror(st), why[0] ? ": " : "",
                     why, stop);
    }
    sim_destroy(s);
    return ps;
}

static struct recs recs;

/* Each field the format bounds, one wrong at a time (kernel/hwprobe.h). */
START_TEST(test_hwprobe_rejects_bad_requests)
{
    const struct hwprobe_module good = {HWPROBE_MAGIC, HWPROBE_VERSION, 28, 1, 1, 10, 0};
    struct {
        struct hwprobe_module m;
        uint32_t len;
        enum hwprobe_status want;
    } cases[] = {
        {good, 28, HWPROBE_OK},
        {good, 8, HWPROBE_BAD_LENGTH},  /* too short to hold its version and length */
        {good, 24, HWPROBE_BAD_LENGTH}, /* the loader's size is not the format's 28 */
        {{HWPROBE_MAGIC, 2, 28, 1, 1, 10, 0}, 28, HWPROBE_BAD_VERSION},
        {{HWPROBE_MAGIC, HWPROBE_VERSION, 32, 1, 1, 10, 0}, 28, HWPROBE_BAD_LENGTH},
        {{HWPROBE_MAGIC, HWPROBE_VERSION, 28, 1, 0, 10, 0}, 28, HWPROBE_BAD_FIELD},
        {{HWPROBE_MAGIC, HWPROBE_VERSION, 28, 1, HWPROBE_MAX_SEEDS + 1, 10, 0},
         28,
         HWPROBE_BAD_FIELD},
        {{HWPROBE_MAGIC, HWPROBE_VERSION, 28, 1, 1, 0, 0}, 28, HWPROBE_BAD_FIELD},
        {{HWPROBE_MAGIC, HWPROBE_VERSION, 28, 1, 1, HWPROBE_MAX_PROBES + 1, 0},
         28,
         HWPROBE_BAD_FIELD},
        {{HWPROBE_MAGIC, HWPROBE_VERSION, 28, 1, 1, 10, 2}, 28, HWPROBE_BAD_FIELD},
        /* seeds 0xFFFFFFFF and 0x100000000: past 2^32 */
        {{HWPROBE_MAGIC, HWPROBE_VERSION, 28, 0xFFFFFFFFu, 2, 10, 0}, 28, HWPROBE_BAD_FIELD},
    };
    ck_assert_uint_eq(sizeof(struct hwprobe_module), 28);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum hwprobe_status st = run(&cases[i].m, cases[i].len, &recs);
        ck_assert_msg(st == cases[i].want, "case %zu: %s, want %s", i, hwprobe_strerror(st),
                      hwprobe_strerror(cases[i].want));
        /* A rejected request runs nothing; the good one logs its digest only. */
        ck_assert_uint_eq(recs.n, 0);
        ck_assert_uint_eq(recs.digests, st == HWPROBE_OK ? 1 : 0);
    }
}
END_TEST

/* Rules exercised by the records, so that the test cannot pass vacuously. */
enum {
    SEEN_PDE_ABSENT,
    SEEN_PTE_ABSENT,
    SEEN_RSVD,
    SEEN_USER_DENIED,
    SEEN_WRITE_DENIED,
    SEEN_WP0_WRITE,
    SEEN_4K_DONE,
    SEEN_4M_DONE,
    SEEN_COUNT
};

/*
 * Five seeds of 1,000 probes.  Every record is checked against the SDM
 * (Vol. 3A) with CR4.PSE = 1, from the entries as the record shows them
 * (P, PS, R/W, U/S and bit 21 do not change when an access sets A or D):
 *  - 4.3: a PDE with P = 0 faults; with PS = 1 it maps a 4 MiB page and
 *    bit 21 is reserved (table 4-4: a reserved-bit fault); with PS = 0 the
 *    PTE is read, and a PTE with P = 0 faults;
 *  - 4.6: a user access needs U/S = 1 at both levels; a write needs R/W = 1
 *    at both levels if it is a user access or CR0.WP = 1;
 *  - 4.7: the error code has P = 1 for a protection or reserved-bit fault
 *    and 0 for a non-present entry, RSVD for a reserved bit, W for a write,
 *    U for a user access; CR2 is the address;
 *  - 4.8: a PDE used to find a page table has A = 1 afterwards, even when
 *    the PTE then faults; an access that completes leaves A = 1 in the
 *    entry that maps the page, and a write D = 1.
 */
START_TEST(test_hwprobe_records_follow_the_sdm)
{
    const struct hwprobe_module m = {HWPROBE_MAGIC, HWPROBE_VERSION, 28, 101, 5, 1000, 1};
    ck_assert_int_eq(run(&m, sizeof(m), &recs), HWPROBE_OK);
    ck_assert_uint_eq(recs.bad, 0);
    ck_assert_uint_eq(recs.n, 5000);
    ck_assert_uint_eq(recs.digests, 5);
    unsigned seen[SEEN_COUNT] = {0};
    for (uint32_t i = 0; i < recs.n; i++) {
        const struct hwprobe_record *r = &recs.r[i];
        bool user = r->acc & HWPROBE_ACC_USER, write = r->acc & HWPROBE_ACC_WRITE;
        uint32_t uw = (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0);
        uint32_t want_err; /* the fault's error code, or UINT32_MAX for none */
        uint32_t leaf = 0; /* the entry that maps the page */
        ck_assert_uint_eq(r->seed, 101 + i / 1000);
        ck_assert_uint_eq(r->index, i % 1000);
        if (!(r->pde & PTE_P)) {
            want_err = uw;
            seen[SEEN_PDE_ABSENT]++;
        } else if (r->pde & PTE_PS) {
            ck_assert_msg(!r->has_pte, "record %u: a 4 MiB PDE in a slot of tables", i);
            leaf = r->pde;
            if (r->pde & (1u << 21)) {
                want_err = PF_ERR_P | PF_ERR_RSVD | uw;
                seen[SEEN_RSVD]++;
                leaf = 0;
            }
        } else {
            ck_assert_msg(r->has_pte, "record %u: a PDE of a table in a slot of 4 MiB pages", i);
            ck_assert_msg(r->pde & PTE_A, "record %u: PDE 0x%08x used without A", i, r->pde);
            leaf = r->pte;
            if (!(r->pte & PTE_P)) {
                want_err = uw;
                seen[SEEN_PTE_ABSENT]++;
                leaf = 0;
            }
        }
        if (leaf != 0) {
            /* Rights combined over the levels (a 4 MiB page has one). */
            uint32_t both = (r->pde & PTE_PS) ? leaf : (r->pde & r->pte);
            bool user_ok = !user || (both & PTE_U);
            bool write_ok = !write || (both & PTE_W) || (!user && !r->wp);
            want_err = user_ok && write_ok ? UINT32_MAX : PF_ERR_P | uw;
            seen[SEEN_USER_DENIED] += !user_ok;
            seen[SEEN_WRITE_DENIED] += user_ok && !write_ok;
            seen[SEEN_WP0_WRITE] += write && !user && !r->wp && !(both & PTE_W);
            if (want_err == UINT32_MAX) {
                ck_assert_msg(leaf & PTE_A, "record %u: completed without A: 0x%08x", i, leaf);
                ck_assert_msg(!write || (leaf & PTE_D), "record %u: written without D", i);
                seen[(r->pde & PTE_PS) ? SEEN_4M_DONE : SEEN_4K_DONE]++;
            }
        }
        if (want_err == UINT32_MAX) {
            ck_assert_msg(!r->fault && r->err == 0 && r->cr2 == 0, "record %u faulted", i);
        } else {
            ck_assert_msg(r->fault, "record %u did not fault (want error 0x%x)", i, want_err);
            ck_assert_msg(r->err == want_err, "record %u: error 0x%x, want 0x%x", i, r->err,
                          want_err);
            ck_assert_uint_eq(r->cr2, r->va);
        }
    }
    for (int k = 0; k < SEEN_COUNT; k++)
        ck_assert_msg(seen[k] > 0, "no record exercised rule %d", k);
}
END_TEST

Suite *
hwprobe_suite(void)
{
    Suite *s = suite_create("hwprobe");
    TCase *tc = tcase_create("hwprobe");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hwprobe_rejects_bad_requests);
    tcase_add_test(tc, test_hwprobe_records_follow_the_sdm);
    suite_add_tcase(s, tc);
    return s;
}
