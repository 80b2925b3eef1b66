/*
 * sim.h - the host machine that runs kernel C code on the MMU model:
 * simulated physical RAM, the host window (simulated virtual address ==
 * host address), the access hooks and the host side of kernel/arch.h.
 *
 * One machine exists at a time in a process (the window is the low 4 GiB
 * of the host address space).  Kernel code runs only inside sim_run(); a
 * kernel bug stops the run with a report and sim_run() returns, leaving the
 * host process healthy for the next machine.
 */
#ifndef PAGESIM_SIM_H
#define PAGESIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/mmu.h"

/* RAM of a machine: at most what a 32-bit physical address reaches, and
 * the size a machine has when nobody chooses one.  The scenario parser asks
 * these too. */
#define SIM_RAM_MAX (4ull << 30)
#define SIM_RAM_DEFAULT (64ull << 20)

struct sim_config {
    uint64_t ram_size; /* bytes, a multiple of 4 KiB, at most SIM_RAM_MAX */
    struct mmu_config mmu;
};

enum sim_stop_kind {
    SIM_STOP_NONE = 0,
    SIM_STOP_PAGE_FAULT,   /* #PF with no handler, or the handler gave up */
    SIM_STOP_DOUBLE_FAULT, /* #PF while the page-fault handler ran */
    SIM_STOP_WILD,         /* host address that is not the kernel's own */
    SIM_STOP_NULL,         /* below the host window (the null guard) */
    SIM_STOP_BUS_ERROR,    /* physical address outside RAM */
    SIM_STOP_PANIC,        /* arch_panic() */
    SIM_STOP_HOST_SIGNAL,  /* an access the hooks did not see (SIGSEGV/SIGBUS) */
    SIM_STOP_WINDOW,       /* the host refused to map a window page */
    SIM_STOP_UNSUPPORTED,  /* the kernel asked for what the model does not do (CR4.PAE) */
};

/* Why and where a run stopped.  All fields are deterministic. */
struct sim_stop {
    enum sim_stop_kind kind;
    vaddr_t cr2;         /* faulting linear address (page faults) */
    uint32_t error_code; /* #PF error code */
    enum mmu_access access;
    unsigned size; /* bytes of the access */
    paddr_t pa;    /* physical address (bus errors) */
    bool host_addr_valid;
    struct mmu_walk walk; /* the paging entries the walk read */
    uint32_t cr0, cr3, cr4;
    char where[64]; /* kernel function that made the access, or "?" */
    char msg[160];  /* panic message or detail */
};

/* Accesses by the kernel-visible region they went through (kernel/layout.h). */
enum sim_region {
    SIM_REGION_RECURSIVE, /* own tables through the self-map, 0xFFC00000.. */
    SIM_REGION_FOREIGN,   /* another space's tables: 0xFF800000.., 0xFFFFE000 */
    SIM_REGION_TEMPMAP,   /* the temporary mapping window */
    SIM_REGION_DIRECTMAP, /* the direct map at 0xC0000000 (early mapping included) */
    SIM_NREGIONS
};

struct sim_stats {
    uint64_t region_accesses[SIM_NREGIONS];
    uint64_t window_maps;   /* host pages (re)mapped into the window */
    uint64_t window_resets; /* whole-window resets (too many live pages) */
    uint64_t handler_calls; /* #PF delivered to the kernel's handler */
};

struct sim;

void sim_config_default(struct sim_config *cfg);

/*
 * Creates the machine: RAM (a memfd, so host memory follows the frames
 * touched), the MMU in reset state, the window reservation, and a pristine
 * kernel: the kernel's static data restored as its image holds it and its
 * bss zeroed, whatever earlier machines' kernels left there.  Returns
 * NULL with a message in err if the config is invalid, another machine
 * exists, or the low 4 GiB of the host address space are taken.
 */
struct sim *sim_create(const struct sim_config *cfg, char *err, size_t errlen);
void sim_destroy(struct sim *s);

struct mmu *sim_mmu(struct sim *s);
const struct sim_stats *sim_stats(const struct sim *s);
uint64_t sim_ram_size(const struct sim *s);

/* Host pointer to physical byte pa, or NULL if pa + len exceeds RAM.  For
 * host-side setup and inspection; such accesses are not counted. */
void *sim_phys(struct sim *s, paddr_t pa, size_t len);

/*
 * Reads n bytes at virtual address va by walking the current tables with
 * no side effects (no TLB, A/D bits or counters).  Returns false if some
 * page is not mapped.
 */
bool sim_read_virt(struct sim *s, vaddr_t va, void *buf, size_t n);

/* Host memory outside the kernel's stack and static data that kernel code
 * may read and write directly (for example a buffer a test hands in). */
void sim_allow_host_range(struct sim *s, const void *p, size_t len);

/* Where kernel log lines go (default: dropped). */
typedef void (*sim_log_fn)(void *ctx, const char *line);
void sim_set_log(struct sim *s, sim_log_fn fn, void *ctx);

/* What kernel code did to the TLB, as the trace shows it. */
enum sim_event_kind {
    SIM_EV_INVLPG, /* value: the address */
    SIM_EV_CR0,    /* value: the new CR0 */
    SIM_EV_CR3,    /* value: the new CR3 */
    SIM_EV_CR4,    /* value: the new CR4 */
    SIM_EV_FAULT,  /* value: CR2; error: the error code (before the handler runs) */
};

/* Kernel functions an event's call chain names at most. */
#define SIM_CHAIN_MAX 8

struct sim_event {
    enum sim_event_kind kind;
    uint32_t value;
    uint32_t error;
    uint64_t dropped;  /* TLB entries it removed */
    uint64_t kept;     /* global entries a CR3 write kept */
    const char *where; /* the kernel function that did it: chain[0] */
    /*
     * The kernel functions on the call stack, innermost first: chain[0] made
     * the event, chain[1] called chain[0], and so on, up to SIM_CHAIN_MAX
     * names, ending at the first frame that is not kernel code (the host,
     * or the machine delivering a fault to the kernel's handler).  A
     * function the compiler inlined into its caller is named as the caller.
     * A write of sim_write_cr has one name, the one it was given.
     */
    const char *const *chain;
    unsigned nchain; /* at least 1 */
};

/* Called for each event above (default: nothing). */
typedef void (*sim_event_fn)(void *ctx, struct sim *s, const struct sim_event *ev);
void sim_set_event(struct sim *s, sim_event_fn fn, void *ctx);

/*
 * Writes control register CR0, CR3 or CR4 (kind SIM_EV_CR0, SIM_EV_CR3 or
 * SIM_EV_CR4; any other kind does nothing) on behalf of code that runs
 * before the kernel, such as the boot entry: the same effect, counters and
 * event as the kernel's arch_write_crN, with the event's chain the one name
 * who.  Callable outside sim_run.
 */
void sim_write_cr(struct sim *s, enum sim_event_kind kind, uint32_t val, const char *who);

/* Called at each arch_mark(id) of the kernel (default: nothing). */
typedef void (*sim_mark_fn)(void *ctx, struct sim *s, uint32_t id);
void sim_set_mark(struct sim *s, sim_mark_fn fn, void *ctx);

/*
 * Runs kernel code: fn(arg) with the hooks active.  Returns true if fn
 * returned, false if the run stopped (sim_last_stop tells why).  Not
 * reentrant.
 */
bool sim_run(struct sim *s, void (*fn)(void *arg), void *arg);
const struct sim_stop *sim_last_stop(const struct sim *s);

const char *sim_stop_kind_name(enum sim_stop_kind kind);
/* Writes a multi-line report of the stop into buf (always terminated). */
void sim_format_stop(const struct sim_stop *st, char *buf, size_t len);

/* Clears the window's live pages so they are remapped on next use
 * (exposed for benchmarks and tests of the window itself). */
void sim_window_reset(struct sim *s);

#endif
