/*
 * machine.c - the simulated machine: RAM, the CPUs' MMUs, running kernel
 * code and stopping it cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/sim_internal.h"

/* Outside sim_run the access runtime sees this machine: its hit path never
 * matches and it is not running, so the miss path tells host from stray
 * accesses. */
static struct sim sim_idle = {.cpus = {{.fast_base = MMU_FAST_NONE}},
                              .ncpus = 1,
                              .cpu = &sim_idle.cpus[0],
                              .region_floor = SIM_NO_REGION};
struct sim *sim_current = &sim_idle;
static struct sim *sim_exists;

extern char __executable_start[];
extern char _end[];

/*
 * The kernel's writable data and bss, gathered into these sections when
 * kernel objects are built (cmake/KernelLibrary.cmake).  Weak: a program
 * that links no kernel code has neither.
 */
extern char __start_pagesim_kdata[] __attribute__((weak));
extern char __stop_pagesim_kdata[] __attribute__((weak));
extern char __start_pagesim_kbss[] __attribute__((weak));
extern char __stop_pagesim_kbss[] __attribute__((weak));

/* The kernel's data as the image holds it, saved before main runs. */
static char *kimage_data;
static size_t kimage_data_len;

static size_t
span(const char *lo, const char *hi)
{
    return lo != NULL && hi > lo ? (size_t)(hi - lo) : 0;
}

static void __attribute__((constructor)) kimage_save(void)
{
    kimage_data_len = span(__start_pagesim_kdata, __stop_pagesim_kdata);
    if (kimage_data_len == 0)
        return;
    kimage_data = malloc(kimage_data_len);
    if (kimage_data == NULL) {
        fprintf(stderr, "pagesim: out of host memory saving the kernel image\n");
        abort();
    }
    memcpy(kimage_data, __start_pagesim_kdata, kimage_data_len);
}

struct sim_kernel_part sim_kparts[SIM_MAX_KERNEL_PARTS];
unsigned sim_nkparts;
/* The data of each part as it was when it was added. */
static void *kpart_data[SIM_MAX_KERNEL_PARTS];

bool
sim_kernel_part_add(const struct sim_kernel_part *p, char *err, size_t errlen)
{
    if (sim_nkparts == SIM_MAX_KERNEL_PARTS) {
        snprintf(err, errlen, "at most %u kernel parts (plug-ins) can be loaded",
                 SIM_MAX_KERNEL_PARTS);
        return false;
    }
    if (p->image_lo < SIM_HOST_FLOOR) {
        snprintf(err, errlen,
                 "loaded at 0x%llx, below 4 GiB where simulated addresses are (under valgrind: "
                 "--aspace-minaddr=0x100000000)",
                 (unsigned long long)p->image_lo);
        return false;
    }
    void *copy = NULL;
    if (p->data_len != 0 && (copy = malloc(p->data_len)) == NULL) {
        snprintf(err, errlen, "out of host memory");
        return false;
    }
    if (copy != NULL)
        memcpy(copy, p->data, p->data_len);
    kpart_data[sim_nkparts] = copy;
    sim_kparts[sim_nkparts++] = *p;
    return true;
}

/* Every machine starts from a pristine kernel, as if its image had just
 * been loaded: data as built, bss zero, whatever ran before; the same for
 * each kernel part added. */
static void
kimage_reload(void)
{
    if (kimage_data_len != 0)
        memcpy(__start_pagesim_kdata, kimage_data, kimage_data_len);
    size_t bss = span(__start_pagesim_kbss, __stop_pagesim_kbss);
    if (bss != 0)
        memset(__start_pagesim_kbss, 0, bss);
    for (unsigned i = 0; i < sim_nkparts; i++) {
        if (sim_kparts[i].data_len != 0)
            memcpy(sim_kparts[i].data, kpart_data[i], sim_kparts[i].data_len);
        if (sim_kparts[i].bss_len != 0)
            memset(sim_kparts[i].bss, 0, sim_kparts[i].bss_len);
    }
}

void
sim_config_default(struct sim_config *cfg)
{
    cfg->ram_size = SIM_RAM_DEFAULT;
    mmu_config_default(&cfg->mmu);
}

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* True if host memory at p lies where no simulated address can. */
static bool
host_high(const void *p)
{
    return (uintptr_t)p >= SIM_HOST_FLOOR;
}

struct sim *
sim_create(const struct sim_config *cfg, char *err, size_t errlen)
{
    if (sim_exists != NULL) {
        set_err(err, errlen, "a simulated machine already exists in this process");
        return NULL;
    }
    if (cfg->ram_size == 0 || cfg->ram_size > SIM_RAM_MAX || cfg->ram_size % PAGE_SIZE) {
        set_err(err, errlen, "RAM size %llu is not a multiple of 4 KiB between 4 KiB and 4 GiB",
                (unsigned long long)cfg->ram_size);
        return NULL;
    }
    struct sim *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        set_err(err, errlen, "out of host memory");
        return NULL;
    }
    s->ram = MAP_FAILED;
    s->region_floor = SIM_NO_REGION;
    s->ram_size = cfg->ram_size;
    s->mmu_cfg = cfg->mmu;
    int local;
    if (!host_high(s) || !host_high(&local) || !host_high(__executable_start)) {
        set_err(err, errlen,
                "this program's memory lies below 4 GiB, where simulated addresses are "
                "(under valgrind, pass --aspace-minaddr=0x100000000)");
        goto fail;
    }
    s->ram = mmap(NULL, cfg->ram_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->ram == MAP_FAILED) {
        set_err(err, errlen, "cannot map simulated RAM: %s", strerror(errno));
        goto fail;
    }
    if (!mmu_init(&s->cpus[0], &cfg->mmu, s->ram, s->ram_size)) {
        set_err(err, errlen,
                "invalid TLB geometry (entries and ways must be powers of two, "
                "ways <= entries <= 65536)");
        goto fail;
    }
    mmu_set_stale_fn(&s->cpus[0], sim_on_stale, s);
    s->ncpus = 1;
    s->cpu = &s->cpus[0];
    s->image.lo = (uintptr_t)__executable_start;
    s->image.hi = (uintptr_t)_end;
    kimage_reload();
    sim_exists = s;
    return s;

fail:
    if (s->ram != MAP_FAILED)
        munmap(s->ram, cfg->ram_size);
    free(s);
    return NULL;
}

void
sim_destroy(struct sim *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->ncpus; i++)
        mmu_fini(&s->cpus[i]);
    free(s->watch_others);
    munmap(s->ram, s->ram_size);
    free(s->spaces);
    sim_prof_free(s);
    if (sim_exists == s)
        sim_exists = NULL;
    free(s);
}

struct mmu *
sim_mmu(struct sim *s)
{
    return s->cpu;
}

int
sim_cpu_add(struct sim *s)
{
    if (s->watch_others == NULL)
        s->watch_others = calloc((size_t)((s->ram_size >> PAGE_SHIFT) + 7) / 8 + 1, 1);
    if (s->watch_others == NULL || s->ncpus == SIM_MAX_CPUS ||
        !mmu_init(&s->cpus[s->ncpus], &s->mmu_cfg, s->ram, s->ram_size))
        return -1;
    mmu_set_stale_fn(&s->cpus[s->ncpus], sim_on_stale, s);
    if (s->stale_off)
        mmu_stale_off(&s->cpus[s->ncpus]);
    if (s->prof != NULL)
        mmu_fast_off(&s->cpus[s->ncpus]);
    return (int)s->ncpus++;
}

bool
sim_cpu_select(struct sim *s, unsigned cpu)
{
    if (cpu >= s->ncpus)
        return false;
    sim_atomic_settle(s);
    sim_fold_hits(s); /* the hits so far are the outgoing CPU's */
    s->cpu = &s->cpus[cpu];
    /* The frames the others watch now: a store to one must reach their
     * detectors, so the new current CPU must not store to it inline. */
    if (s->ncpus > 1) {
        memset(s->watch_others, 0, (size_t)((s->ram_size >> PAGE_SHIFT) + 7) / 8 + 1);
        for (unsigned c = 0; c < s->ncpus; c++) {
            const struct mmu *o = &s->cpus[c];
            if (c == cpu || o->watch_lo > o->watch_hi)
                continue;
            for (uint32_t b = o->watch_lo >> 3; b <= o->watch_hi >> 3; b++)
                s->watch_others[b] |= o->watch[b];
        }
        mmu_set_watch_others(s->cpu, s->watch_others);
    }
    return true;
}

unsigned
sim_cpu_current(const struct sim *s)
{
    return (unsigned)(s->cpu - s->cpus);
}

const struct sim_stats *
sim_stats(const struct sim *s)
{
    return &s->stats;
}

uint64_t
sim_region_accesses(const struct sim *s, const char *name)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < s->stats.nregions; i++)
        if (strcmp(s->stats.regions[i].name, name) == 0)
            n += s->stats.regions[i].accesses;
    return n;
}

uint32_t
sim_kernel_at(const struct sim *s)
{
    return s->at;
}

bool
sim_figure(const struct sim *s, const char *name, uint32_t *value)
{
    for (unsigned i = 0; i < s->nfigures; i++) {
        if (strcmp(s->figures[i].name, name) == 0) {
            *value = s->figures[i].value;
            return true;
        }
    }
    return false;
}

const struct sim_space *
sim_spaces(const struct sim *s, unsigned *n)
{
    *n = s->spaces_stale ? 0 : s->nspaces; /* none listed since the last mark */
    return s->spaces;
}

uint64_t
sim_ram_size(const struct sim *s)
{
    return s->ram_size;
}

void *
sim_phys(struct sim *s, paddr_t pa, size_t len)
{
    if ((uint64_t)pa + len > s->ram_size)
        return NULL;
    return s->ram + pa;
}

bool
sim_read_virt(struct sim *s, vaddr_t va, void *buf, size_t n)
{
    uint8_t *out = buf;
    while (n > 0) {
        paddr_t pa;
        size_t chunk = PAGE_SIZE - PGOFF(va);
        if (chunk > n)
            chunk = n;
        if (!mmu_probe(s->cpu, va, &pa, NULL) || (uint64_t)pa + chunk > s->ram_size)
            return false;
        memcpy(out, s->ram + pa, chunk);
        out += chunk;
        va += (vaddr_t)chunk;
        n -= chunk;
    }
    return true;
}

void
sim_allow_host_range(struct sim *s, const void *p, size_t len)
{
    if (s->nextra < SIM_MAX_HOST_RANGES) {
        s->extra[s->nextra].lo = (uintptr_t)p;
        s->extra[s->nextra].hi = (uintptr_t)p + len;
        s->nextra++;
    }
}

void
sim_set_log(struct sim *s, sim_log_fn fn, void *ctx)
{
    s->log_fn = fn;
    s->log_ctx = ctx;
}

void
sim_set_event(struct sim *s, sim_event_fn fn, void *ctx)
{
    s->event_fn = fn;
    s->event_ctx = ctx;
}

void
sim_fold_hits(struct sim *s)
{
    for (unsigned k = 0; k < MMU_NACCESS; k++) {
        for (unsigned i = 0; i < SIM_HOT_STRIPES; i++) {
            s->cpu->ctr.accesses[k] += s->hot_hits[k][i];
            s->cpu->ctr.tlb_hits += s->hot_hits[k][i];
            s->hot_hits[k][i] = 0;
        }
    }
}

void
sim_set_at(struct sim *s, sim_at_fn fn, void *ctx)
{
    s->at_fn = fn;
    s->at_ctx = ctx;
}

void
sim_set_stale(struct sim *s, sim_stale_fn fn, void *ctx)
{
    s->stale_fn = fn;
    s->stale_ctx = ctx;
}

void
sim_set_mark(struct sim *s, sim_mark_fn fn, void *ctx)
{
    s->mark_fn = fn;
    s->mark_ctx = ctx;
}

_Noreturn void
sim_stop_run(struct sim *s, enum sim_stop_kind kind, const void *pc)
{
    s->stop.kind = kind;
    s->stop.cr0 = s->cpu->cr0;
    s->stop.cr3 = s->cpu->cr3;
    s->stop.cr4 = s->cpu->cr4;
    /* pc is a return address: the call before it may be a function's last
     * instruction (a call to a _Noreturn function), so look one byte back. */
    if (pc != NULL)
        sim_symbolize((const char *)pc - 1, s->stop.where, sizeof(s->stop.where));
    else if (s->stop.where[0] == '\0')
        snprintf(s->stop.where, sizeof(s->stop.where), "?");
    siglongjmp(s->env, 1);
}

/* An access the runtime did not see faulted on the host: stop, don't crash. */
static void
on_host_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    struct sim *s = sim_current;
    if (!s->running) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    snprintf(s->stop.msg, sizeof(s->stop.msg),
             "%s at an address the access runtime did not check (uninstrumented code?)",
             sig == SIGSEGV ? "SIGSEGV" : "SIGBUS");
    /* A simulated address is reported, a host one (different every run) not. */
    uintptr_t a = (uintptr_t)si->si_addr;
    s->stop.cr2 = a < SIM_HOST_FLOOR ? (vaddr_t)a : 0;
    sim_stop_run(s, SIM_STOP_HOST_SIGNAL, NULL);
}

static void
thread_stack(struct host_range *r)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    r->lo = r->hi = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        r->lo = (uintptr_t)addr;
        r->hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&attr);
}

bool
sim_run(struct sim *s, void (*fn)(void *arg), void *arg)
{
    static char altstack[1 << 16];
    struct sigaction sa, old_segv, old_bus;
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)}, old_ss;

    memset(&s->stop, 0, sizeof(s->stop));
    thread_stack(&s->stack);
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_host_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaltstack(&ss, &old_ss);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);

    bool ok;
    sim_current = s;
    s->running = true;
    s->in_handler = false;
    if (sigsetjmp(s->env, 1) == 0) {
        fn(arg);
        ok = true;
    } else {
        ok = false;
    }
    sim_atomic_settle(s);
    s->running = false;
    sim_fold_hits(s);
    s->in_handler = false;
    /* The frames of the run are gone: no chain may be walked from them. */
    s->use_pc = s->use_fp = NULL;
    sim_current = &sim_idle;

    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    sigaltstack(&old_ss, NULL);
    return ok;
}

const struct sim_stop *
sim_last_stop(const struct sim *s)
{
    return &s->stop;
}

const char *
sim_stop_kind_name(enum sim_stop_kind kind)
{
    switch (kind) {
    case SIM_STOP_NONE:
        return "none";
    case SIM_STOP_PAGE_FAULT:
        return "page fault";
    case SIM_STOP_DOUBLE_FAULT:
        return "page fault in the page-fault handler";
    case SIM_STOP_WILD:
        return "wild pointer";
    case SIM_STOP_BUS_ERROR:
        return "bus error";
    case SIM_STOP_PANIC:
        return "kernel panic";
    case SIM_STOP_HOST_SIGNAL:
        return "unchecked host access";
    case SIM_STOP_UNSUPPORTED:
        return "unsupported by the model";
    case SIM_STOP_STALE_TLB:
        return "stale TLB entry used (--strict-tlb)";
    }
    return "?";
}

static const char *
access_name(enum mmu_access a)
{
    static const char *const names[MMU_NACCESS] = {"supervisor read", "supervisor write",
                                                   "user read", "user write"};
    return names[a & 3];
}

void
sim_format_stop(const struct sim_stop *st, char *buf, size_t len)
{
    size_t n = 0;
#define OUT(...)                                                                                   \
    do {                                                                                           \
        if (n < len)                                                                               \
            n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);                                  \
    } while (0)
    buf[0] = '\0';
    OUT("run stopped: %s in %s\n", sim_stop_kind_name(st->kind), st->where);
    if (st->msg[0] != '\0')
        OUT("  %s\n", st->msg);
    if (st->kind == SIM_STOP_PAGE_FAULT || st->kind == SIM_STOP_DOUBLE_FAULT) {
        OUT("  CR2=0x%08x error=0x%x (%s, %s, %s%s)\n", st->cr2, st->error_code,
            (st->error_code & PF_ERR_P) ? "protection" : "not present",
            (st->error_code & PF_ERR_W) ? "write" : "read",
            (st->error_code & PF_ERR_U) ? "user" : "supervisor",
            (st->error_code & PF_ERR_RSVD) ? ", reserved bit" : "");
        if (st->walk.levels >= 1)
            OUT("  PDE[%u] @0x%08x = 0x%08x\n", PDX(st->cr2), st->walk.pde_addr, st->walk.pde);
        if (st->walk.levels >= 2)
            OUT("  PTE[%u] @0x%08x = 0x%08x\n", PTX(st->cr2), st->walk.pte_addr, st->walk.pte);
        if (st->walk.levels == 0)
            OUT("  (rights of a cached TLB entry)\n");
    } else if (st->kind == SIM_STOP_WILD) {
        OUT("  %u-byte %s\n", st->size, access_name(st->access));
    }
    OUT("  CR0=0x%08x CR3=0x%08x CR4=0x%08x\n", st->cr0, st->cr3, st->cr4);
#undef OUT
}
