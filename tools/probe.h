/*
 * probe.h - the host side of `pagesim boot --probe`, the randomized paging
 * differential of kernel/hwprobe.h: the request, the simulator's run of it,
 * and the comparison of the two builds' records.
 */
#ifndef PAGESIM_PROBE_H
#define PAGESIM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/hwprobe.h"

#define PROBE_DEFAULT_PROBES 1000u /* probes per seed unless --probes says */
#define PROBE_SHOWN_DIFFS 20u      /* differing records printed at most */
#define PROBE_MAX_RECORDS 1000000u /* seeds x probes of one request, at most */

struct probe_request {
    uint32_t seed;   /* the first seed */
    uint32_t seeds;  /* how many */
    uint32_t probes; /* per seed */
    bool records;    /* every record logged, not only each seed's digest */
};

/* A seed's "probe-seed" line. */
struct probe_digest {
    uint32_t seed, probes, digest;
};

/* What a kernel logged about its probes (kernel/hwprobe.h), parsed. */
struct probe_log {
    struct hwprobe_record *rec; /* the "probe" lines, in order */
    size_t nrec, caprec;
    struct probe_digest *dig; /* the "probe-seed" lines, in order */
    size_t ndig, capdig;
    bool failed;   /* out of host memory while collecting */
    char bad[160]; /* the first malformed probe line, if any */
};

/*
 * Takes one kernel log line into l if it is a "probe" or "probe-seed"
 * line; other lines are left alone.  Returns false if out of memory
 * (failed set); a malformed probe line is kept in bad.
 */
bool probe_log_push(struct probe_log *l, const char *line);
void probe_log_free(struct probe_log *l);

/*
 * Parses SEEDS, "N" or "A-B" (A <= B), into r->seed and r->seeds, within
 * HWPROBE_MAX_SEEDS.  Returns false with a message in err otherwise.
 */
bool probe_parse_seeds(const char *text, struct probe_request *r, char *err, size_t len);

/* The request as the boot module (kernel/hwprobe.h). */
void probe_module(const struct probe_request *r, struct hwprobe_module *m);

/*
 * Boots request r on the bare-metal kernel and collects its probe log
 * lines into *out (probe_log_push).  Returns 0, or the nonzero exit status
 * of `pagesim boot` that says why there are none (its message printed).
 */
typedef int (*probe_boot_fn)(void *ctx, const struct probe_request *r, struct probe_log *out);

/*
 * The differential for request r (its records field ignored): the
 * bare-metal kernel through boot, with digests only; the simulator, with
 * every record; every seed's digest compared with the one QEMU should give
 * for the simulator's records.  When some differ, those seeds are booted
 * again with every record, and the differing records are printed (the
 * first PROBE_SHOWN_DIFFS in full).  Prints to out what the probes
 * covered and a last line "The runs agree." or "The runs differ.".
 * Returns 0 if they agree, 1 if they differ or the simulator's run
 * failed, or the status boot returned.
 */
int probe_run(FILE *out, const struct probe_request *r, probe_boot_fn boot, void *ctx);

#endif
