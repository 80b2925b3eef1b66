/*
 * sim_internal.h - the machine's state, shared by the files of sim/ only.
 */
#ifndef PAGESIM_SIM_INTERNAL_H
#define PAGESIM_SIM_INTERNAL_H

#include <setjmp.h>

#include "kernel/arch.h"
#include "sim/sim.h"

#define SIM_WINDOW_END (1ull << 32)
#define SIM_WINDOW_NONE 0xFFFFFFFFu
#define SIM_NO_REGION (1ull << 32) /* region_floor with no region registered */
#define SIM_MAX_FIGURES 64         /* distinct figure names the kernel may publish */
/* Live window pages before a reset; keeps well under vm.max_map_count. */
#define SIM_WINDOW_MAX_LIVE 24576u
#define SIM_MAX_HOST_RANGES 8
#define SIM_HOT_STRIPES 4
/* Pages one access may span (a 16 MiB memcpy); well under the live limit. */
#define SIM_MAX_SPAN 4096u

struct host_range {
    uintptr_t lo, hi;
};

struct sim {
    struct mmu mmu;
    struct sim_stats stats;
    /* The lowest first address of a registered region (no region: above
     * every 32-bit address): the hit path counts regions only from here. */
    uint64_t region_floor;
    /*
     * Hits taken by the hooks' inline path, striped by word so that
     * back-to-back hits do not wait on one counter in memory; folded into
     * mmu.ctr (accesses and tlb_hits) by sim_fold_hits before anyone reads.
     */
    uint64_t hot_hits[MMU_NACCESS][SIM_HOT_STRIPES];
    struct sim_stop stop;

    int memfd;
    uint8_t *ram; /* whole RAM, MAP_SHARED view for the walker and the host */
    uint64_t ram_size;

    uintptr_t window_lo; /* first host address of the window (mmap_min_addr) */
    uint32_t *window;    /* frame mapped at each virtual page, or NONE */
    uint32_t window_live;

    /* Host memory kernel code may use directly. */
    struct host_range stack, image;
    struct host_range extra[SIM_MAX_HOST_RANGES];
    unsigned nextra;

    arch_pf_handler_t pf_handler;
    bool in_handler;
    bool running;
    sigjmp_buf env;

    /* What the kernel published (arch_figure, arch_space). */
    struct {
        char name[SIM_FIGURE_NAME_MAX];
        uint32_t value;
    } figures[SIM_MAX_FIGURES];
    unsigned nfigures;
    struct sim_space *spaces;
    unsigned nspaces, spaces_cap;
    bool spaces_stale; /* a mark passed: the next arch_space starts a new list */
    uint32_t at;       /* arch_at */

    sim_log_fn log_fn;
    void *log_ctx;
    sim_mark_fn mark_fn;
    void *mark_ctx;
    sim_event_fn event_fn;
    void *event_ctx;
};

/* The machine whose kernel code is running (NULL outside sim_run). */
extern struct sim *sim_current __attribute__((visibility("hidden")));

/* Stops the run: fills what the caller did not and jumps out of sim_run. */
_Noreturn void sim_stop_run(struct sim *s, enum sim_stop_kind kind, const void *pc);

/* Adds the inline path's hits to the MMU counters. */
void sim_fold_hits(struct sim *s);

/* Maps virtual page vpn of the window onto frame pfn. */
void sim_window_map(struct sim *s, uint32_t vpn, uint32_t pfn, const void *pc);

/* Name of the function containing pc, or "?"; the cached one remembers
 * recent answers (tracing asks for the same few functions again and again). */
void sim_symbolize(const void *pc, char *buf, size_t len);
void sim_symbolize_cached(const void *pc, char *buf, size_t len);

#endif
