/*
 * hooks.c - the miss path of the access runtime that kernel loads and
 * stores are rewritten into (sim/access.h; the hit path is sim/access.c),
 * and the host side of kernel/arch.h.  Every simulated access goes: MMU
 * model (TLB, walk, rights, #PF) -> the bytes of the translated frames in
 * simulated RAM.  Host memory (above 4 GiB) is accessed directly once it
 * is known to be the kernel's own.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/access.h"
#include "sim/sim_internal.h"

static inline bool
in_range(const struct host_range *r, uintptr_t a, size_t size)
{
    return a >= r->lo && a + size <= r->hi;
}

/* Host memory: the kernel's own stack and static data pass through. */
static void
check_host(struct sim *s, uintptr_t a, size_t size, enum mmu_access kind, const void *pc)
{
    if (in_range(&s->stack, a, size) || in_range(&s->image, a, size))
        return;
    for (unsigned i = 0; i < s->nextra; i++)
        if (in_range(&s->extra[i], a, size))
            return;
    for (unsigned i = 0; i < sim_nkparts; i++)
        if (a >= sim_kparts[i].image_lo && a + size <= sim_kparts[i].image_hi)
            return;
    s->stop.access = kind;
    s->stop.size = (unsigned)size;
    /* The host address itself is not shown: it changes from run to run. */
    snprintf(s->stop.msg, sizeof(s->stop.msg),
             "a host address outside the simulated 4 GiB that is not the kernel's stack or "
             "static data");
    sim_stop_run(s, SIM_STOP_WILD, pc);
}

/* Where the kernel libraries' code lies (cmake/KernelLibrary.cmake): the
 * linker's bounds of that section, empty in a program without kernel code. */
#define KTEXT_BOUND(kind, name) KTEXT_BOUND_(kind, name)
#define KTEXT_BOUND_(kind, name) __##kind##_##name
extern const char KTEXT_BOUND(start, PAGESIM_KERNEL_TEXT)[] __attribute__((weak));
extern const char KTEXT_BOUND(stop, PAGESIM_KERNEL_TEXT)[] __attribute__((weak));

static bool
in_kernel_text(uintptr_t pc)
{
    if (pc >= (uintptr_t)KTEXT_BOUND(start, PAGESIM_KERNEL_TEXT) &&
        pc < (uintptr_t)KTEXT_BOUND(stop, PAGESIM_KERNEL_TEXT))
        return true;
    for (unsigned i = 0; i < sim_nkparts; i++)
        if (pc >= sim_kparts[i].text_lo && pc < sim_kparts[i].text_hi)
            return true;
    return false;
}

/* Host frames (the hooks, arch_*) a walk passes before the first kernel one. */
#define CHAIN_HOST_FRAMES 4

/*
 * The return addresses of the kernel call chain of an event, innermost
 * first: pc (where kernel code called the machine), then those found by
 * following frame pointers from fp, the frame of the host function kernel
 * code called (directly, or through host code that leaves the frame
 * pointer alone).  Kernel code keeps frame pointers; the walk stops at a
 * frame outside the thread's stack, at a frame that does not lie above the
 * last one, and at the first return address outside kernel code after the
 * kernel's own.  Returns how many it stored in out (at least 1).
 */
unsigned
sim_kernel_chain(const struct sim *s, const void *pc, const void *fp, uintptr_t *out)
{
    unsigned n = 0, host = 0;
    uintptr_t f = (uintptr_t)fp;
    out[n++] = (uintptr_t)pc;
    while (n < SIM_CHAIN_MAX && f % sizeof(uintptr_t) == 0 && f >= s->stack.lo &&
           f + 2 * sizeof(uintptr_t) <= s->stack.hi) {
        const uintptr_t *frame = (const uintptr_t *)f;
        uintptr_t ret = frame[1], next = frame[0];
        if (in_kernel_text(ret)) {
            /* The frame of the host function kernel code called at pc
             * returns to pc: not a caller.  (A caller's call site differs.) */
            if (n > 1 || ret != (uintptr_t)pc)
                out[n++] = ret;
        } else if (n > 1 || ++host > CHAIN_HOST_FRAMES) {
            break;
        }
        if (next <= f)
            break;
        f = next;
    }
    return n;
}

/*
 * Reports an event of kernel code that called the machine at pc (a return
 * address) with fp the frame of the host function it called; or, if who is
 * not NULL, an event of that code outside the kernel.
 */
static void
emit(struct sim *s, enum sim_event_kind kind, uint32_t value, uint32_t error, uint64_t dropped,
     uint64_t kept, const void *pc, const void *fp, const char *who)
{
    char names[SIM_CHAIN_MAX][64];
    const char *chain[SIM_CHAIN_MAX];
    unsigned n = 1;
    if (s->event_fn == NULL)
        return;
    if (who != NULL) {
        chain[0] = who;
    } else {
        uintptr_t ret[SIM_CHAIN_MAX];
        n = sim_kernel_chain(s, pc, fp, ret);
        /* A return address may follow a call that ends its function (a
         * call to a _Noreturn one): name the byte before it. */
        for (unsigned i = 0; i < n; i++) {
            sim_symbolize_cached((const char *)ret[i] - 1, names[i], sizeof(names[i]));
            chain[i] = names[i];
        }
    }
    struct sim_event ev = {kind, value, error, dropped, kept, chain[0], chain, n, MMU_LINT_NONE, 0};
    if (kind == SIM_EV_INVLPG || kind == SIM_EV_CR3) {
        ev.lint = s->cpu->lint_last;
        ev.lint_needed = s->cpu->lint_needed;
    }
    s->event_fn(s->event_ctx, s, &ev);
}

/*
 * Delivers a #PF to the kernel's handler.  Returns if the handler fixed the
 * cause; otherwise stops the run with the fault report.
 */
static void
deliver_fault(struct sim *s, const struct mmu_fault *f, unsigned size, const void *pc,
              const void *fp)
{
    s->stop.cr2 = f->cr2;
    s->stop.error_code = f->error_code;
    s->stop.access = f->access;
    s->stop.size = size;
    s->stop.walk = f->walk;
    emit(s, SIM_EV_FAULT, f->cr2, f->error_code, 0, 0, pc, fp, NULL);
    if (s->in_handler)
        sim_stop_run(s, SIM_STOP_DOUBLE_FAULT, pc);
    if (s->pf_handler == NULL) {
        snprintf(s->stop.msg, sizeof(s->stop.msg), "no page-fault handler registered");
        sim_stop_run(s, SIM_STOP_PAGE_FAULT, pc);
    }
    s->stats.handler_calls++;
    s->in_handler = true;
    bool fixed = s->pf_handler(f->cr2, f->error_code);
    s->in_handler = false;
    if (!fixed) {
        s->stop.cr2 = f->cr2;
        s->stop.error_code = f->error_code;
        s->stop.access = f->access;
        s->stop.walk = f->walk;
        snprintf(s->stop.msg, sizeof(s->stop.msg), "the page-fault handler did not resolve it");
        sim_stop_run(s, SIM_STOP_PAGE_FAULT, pc);
    }
}

/* A handler that keeps saying "fixed" for a fault that keeps coming back. */
#define SIM_MAX_RETRIES 64

/*
 * One translation of the page of va.  Returns true with its frame in *pfn,
 * which lies in RAM; false with the #PF in *f.  A bus error (a paging entry
 * or the frame outside RAM) stops the run.
 */
static bool
translate_page(struct sim *s, vaddr_t va, enum mmu_access kind, uint32_t *pfn, struct mmu_fault *f,
               const void *pc)
{
    struct mmu_result r;
    enum mmu_status st = mmu_translate_fast(s->cpu, va, kind, &r, f);
    if (st == MMU_OK) {
        *pfn = r.pa >> PAGE_SHIFT;
        uint64_t pa = (uint64_t)*pfn << PAGE_SHIFT;
        if (pa + PAGE_SIZE > s->ram_size) {
            s->stop.pa = (paddr_t)pa;
            snprintf(s->stop.msg, sizeof(s->stop.msg), "frame 0x%08llx is outside RAM (%llu KiB)",
                     (unsigned long long)pa, (unsigned long long)(s->ram_size >> 10));
            sim_stop_run(s, SIM_STOP_BUS_ERROR, pc);
        }
        return true;
    }
    if (st == MMU_BUS_ERROR) {
        snprintf(s->stop.msg, sizeof(s->stop.msg),
                 "a paging entry for 0x%08x lies outside RAM (CR3=0x%08x)", va, s->cpu->cr3);
        s->stop.cr2 = va;
        sim_stop_run(s, SIM_STOP_BUS_ERROR, pc);
    }
    return false;
}

/*
 * Translates every page of the size bytes at va (at most SIM_MAX_SPAN
 * pages), their frames into pfn[].  As hardware restarts a faulting
 * instruction, a #PF the handler resolves restarts the whole access: every
 * page is translated again, since the handler may have moved any of them.
 * A fault the handler does not resolve stops the run before any byte is
 * accessed.
 */
static void
translate_span(struct sim *s, vaddr_t va, unsigned size, enum mmu_access kind, uint32_t *pfn,
               const void *pc, const void *fp)
{
    uint32_t vpn = va >> PAGE_SHIFT;
    uint32_t npages = (uint32_t)((((uint64_t)va + size - 1) >> PAGE_SHIFT) - vpn + 1);
    s->use_pc = pc; /* for a stale use found on the way */
    s->use_fp = fp;
    for (unsigned tries = 0;; tries++) {
        struct mmu_fault f;
        uint32_t i = 0;
        while (i < npages &&
               translate_page(s, i == 0 ? va : (vpn + i) << PAGE_SHIFT, kind, &pfn[i], &f, pc))
            i++;
        if (i == npages)
            return;
        if (tries == SIM_MAX_RETRIES) {
            emit(s, SIM_EV_FAULT, f.cr2, f.error_code, 0, 0, pc, fp, NULL);
            s->stop.cr2 = f.cr2;
            s->stop.error_code = f.error_code;
            s->stop.access = f.access;
            s->stop.size = size;
            s->stop.walk = f.walk;
            snprintf(s->stop.msg, sizeof(s->stop.msg),
                     "the page-fault handler said it resolved this fault %d times, but it "
                     "recurs",
                     SIM_MAX_RETRIES);
            sim_stop_run(s, SIM_STOP_PAGE_FAULT, pc);
        }
        deliver_fault(s, &f, size, pc, fp);
    }
}

/* Symbolizes the n return addresses ret[] into names[] (see emit). */
static void
name_chain(const uintptr_t *ret, unsigned n, char (*names)[SIM_NAME_MAX])
{
    for (unsigned i = 0; i < n; i++)
        sim_symbolize_cached((const char *)ret[i] - 1, names[i], SIM_NAME_MAX);
}

/*
 * An access at va through the self-map or the foreign window, by kernel
 * code at pc (fp the frame of the host function it called): counted and
 * the first one kept if it reaches a large page's data (struct
 * sim_large_hit).  The tables as they are now decide, TLB or not.
 */
static __attribute__((noinline)) void
check_window(struct sim *s, vaddr_t va, const void *pc, const void *fp)
{
    paddr_t pa;
    struct mmu_walk w;
    if (!mmu_paging(s->cpu) || !mmu_probe(s->cpu, va, &pa, &w) || w.levels != 2 ||
        !(w.pte & PTE_PS))
        return;
    if (s->stats.large_page_hits++ == 0) {
        struct sim_large_hit *h = &s->stats.large_hit;
        uintptr_t ret[SIM_CHAIN_MAX];
        h->va = va;
        h->pde = w.pte;
        h->at = s->at;
        h->nchain = sim_kernel_chain(s, pc, fp, ret);
        name_chain(ret, h->nchain, h->chain);
    }
}

/* Counts an access at va in the region the kernel registered that holds
 * it, first match wins (pc, fp: see check_window). */
static inline void
count_region_at(struct sim *s, vaddr_t va, const void *pc, const void *fp)
{
    for (unsigned i = 0; i < s->stats.nregions; i++) {
        struct sim_region *r = &s->stats.regions[i];
        if (va >= r->first && va <= r->last) {
            r->accesses++;
            if (r->window)
                check_window(s, va, pc, fp);
            return;
        }
    }
}

/* The same, called by kernel code itself (the inlined hit path). */
__attribute__((noinline)) void
sim_count_region(struct sim *s, vaddr_t va)
{
    count_region_at(s, va, __builtin_extract_return_addr(__builtin_return_address(0)),
                    __builtin_frame_address(0));
}

/* A store id (never 0) for a change the detector is told of. */
static uint32_t
next_write_id(struct sim *s)
{
    if (++s->write_seq == 0)
        s->write_seq = 1;
    return s->write_seq;
}

/* Remembers who made the change with id (kernel code at pc, frame fp). */
static void
keep_write(struct sim *s, uint32_t id, const void *pc, const void *fp)
{
    struct sim_write *w = &s->writes[id & (SIM_WRITES_KEPT - 1)];
    w->id = id;
    w->at = s->at;
    w->n = pc != NULL ? sim_kernel_chain(s, pc, fp, w->chain) : 0;
}

/*
 * A kernel store of size bytes (buf) at va in the frames pfn[], before the
 * bytes move: each CPU's detector is told of the part in frames that hold
 * paging entries (mmu_watched); nothing is done for other frames.  Returns
 * the store's id if it marked something (keep who made it), else 0.
 */
static uint32_t
tell_store(struct sim *s, vaddr_t va, size_t size, const uint32_t *pfn, const void *buf)
{
    const uint8_t *b = buf;
    uint32_t id = 0;
    unsigned marked = 0;
    for (size_t done = 0, i = 0; done < size; i++) {
        vaddr_t v = (vaddr_t)(va + done);
        size_t chunk = size - done;
        if (chunk > PAGE_SIZE - PGOFF(v))
            chunk = PAGE_SIZE - PGOFF(v);
        for (unsigned c = 0; c < s->ncpus; c++) {
            if (!mmu_watched(&s->cpus[c], pfn[i]))
                continue;
            if (id == 0)
                id = next_write_id(s);
            marked += mmu_store(&s->cpus[c], (pfn[i] << PAGE_SHIFT) | PGOFF(v), (unsigned)chunk,
                                b + done, id);
        }
        done += chunk;
    }
    return marked != 0 ? id : 0;
}

/* tell_store, and who made the store (kernel code at pc, frame fp). */
static void
note_store(struct sim *s, vaddr_t va, size_t size, const uint32_t *pfn, const void *buf,
           const void *pc, const void *fp)
{
    uint32_t id = tell_store(s, va, size, pfn, buf);
    if (id != 0)
        keep_write(s, id, pc, fp);
}

/*
 * An atomic store of size bytes at va (frame pfn), made after this through
 * the host pointer: if a detector watches the frame, its bytes now and who
 * makes it are kept for sim_atomic_settle, and the current CPU takes no
 * shortcut (an access that would use a translation the store changes
 * comes to a hook first).
 */
static void
atomic_watch(struct sim *s, vaddr_t va, unsigned size, uint32_t pfn, const void *pc, const void *fp)
{
    bool watched = false;
    for (unsigned c = 0; c < s->ncpus; c++)
        watched = watched || mmu_watched(&s->cpus[c], pfn);
    if (!watched || size > sizeof(s->atomic.old))
        return;
    struct sim_atomic *a = &s->atomic;
    a->on = true;
    a->va = va;
    a->pfn = pfn;
    a->pa = ((paddr_t)pfn << PAGE_SHIFT) | PGOFF(va);
    a->size = size;
    memcpy(a->old, s->ram + a->pa, size);
    a->w.at = s->at;
    a->w.n = pc != NULL ? sim_kernel_chain(s, pc, fp, a->w.chain) : 0;
    mmu_shortcuts_void(s->cpu);
}

void
sim_atomic_tell(struct sim *s)
{
    struct sim_atomic *a = &s->atomic;
    uint8_t now[sizeof(a->old)];
    a->on = false;
    memcpy(now, s->ram + a->pa, a->size);
    if (memcmp(now, a->old, a->size) == 0)
        return;
    /* The detector reads the bytes before the store from RAM. */
    memcpy(s->ram + a->pa, a->old, a->size);
    uint32_t id = tell_store(s, a->va, a->size, &a->pfn, now);
    memcpy(s->ram + a->pa, now, a->size);
    if (id != 0) {
        a->w.id = id;
        s->writes[id & (SIM_WRITES_KEPT - 1)] = a->w;
    }
}

/* Copies between buf and the size bytes at va in the frames pfn[]. */
static void
copy_frames(struct sim *s, vaddr_t va, size_t size, const uint32_t *pfn, void *buf, bool write)
{
    uint8_t *b = buf;
    for (size_t done = 0, i = 0; done < size; i++) {
        vaddr_t v = (vaddr_t)(va + done);
        size_t chunk = size - done;
        if (chunk > PAGE_SIZE - PGOFF(v))
            chunk = PAGE_SIZE - PGOFF(v);
        uint8_t *ram = s->ram + ((uint64_t)pfn[i] << PAGE_SHIFT) + PGOFF(v);
        if (write)
            memcpy(ram, b + done, chunk);
        else
            memcpy(b + done, ram, chunk);
        done += chunk;
    }
}

/*
 * The miss path of a kernel access of size bytes at address a: host memory
 * is checked to be the kernel's own and then used directly; a simulated
 * address is translated page by page (counted, walked, faults delivered and
 * the access restarted), then the bytes move between buf and the frames.
 * If host is not NULL and the access lies in one page, nothing moves:
 * *host gets the host address of the bytes instead.
 */
static __attribute__((noinline)) void
sim_access(uintptr_t a, void *buf, size_t size, enum mmu_access kind, void **host, const void *pc)
{
    struct sim *s = sim_current;
    if (__builtin_expect(a >= SIM_HOST_FLOOR, 0)) {
        if (s->running)
            check_host(s, a, size, kind, pc);
        if (host != NULL)
            *host = (void *)a;
        else if (kind & MMU_ACCESS_WRITE)
            memcpy((void *)a, buf, size);
        else
            memcpy(buf, (const void *)a, size);
        return;
    }
    if (__builtin_expect(!s->running, 0)) {
        fprintf(stderr, "pagesim: kernel code touched 0x%08lx outside sim_run()\n",
                (unsigned long)a);
        abort();
    }
    sim_atomic_settle(s);
    /* Its frame leads to the kernel code that made the access. */
    const void *fp = __builtin_frame_address(0);
    if (__builtin_expect(size == 0, 0))
        return;
    int prev = s->prof != NULL ? sim_prof_enter(s, pc, fp, NULL) : 0;
    s->stop.access = kind;
    s->stop.size = (unsigned)size;
    if (__builtin_expect(a + size > SIM_HOST_FLOOR, 0)) {
        s->stop.cr2 = (vaddr_t)a;
        snprintf(s->stop.msg, sizeof(s->stop.msg),
                 "access at 0x%llx runs past the top of the 4 GiB address space",
                 (unsigned long long)a);
        sim_stop_run(s, SIM_STOP_WILD, pc);
    }
    vaddr_t va = (vaddr_t)a;
    vaddr_t last = (vaddr_t)(a + size - 1);
    uint32_t vpn = va >> PAGE_SHIFT;
    uint32_t npages = (last >> PAGE_SHIFT) - vpn + 1;
    if (npages > SIM_MAX_SPAN) {
        s->stop.cr2 = va;
        snprintf(s->stop.msg, sizeof(s->stop.msg),
                 "one access of %zu bytes spans more than %u pages", size, SIM_MAX_SPAN);
        sim_stop_run(s, SIM_STOP_UNSUPPORTED, pc);
    }
    if (va >= s->region_floor)
        count_region_at(s, va, pc, fp);
    if (__builtin_expect(npages == 1, 1)) {
        uint32_t pfn;
        translate_span(s, va, (unsigned)size, kind, &pfn, pc, fp);
        if (host != NULL) {
            *host = s->ram + ((uint64_t)pfn << PAGE_SHIFT) + PGOFF(va);
            if (kind & MMU_ACCESS_WRITE)
                atomic_watch(s, va, (unsigned)size, pfn, pc, fp);
        } else {
            if (kind & MMU_ACCESS_WRITE)
                note_store(s, va, size, &pfn, buf, pc, fp);
            copy_frames(s, va, size, &pfn, buf, kind & MMU_ACCESS_WRITE);
        }
    } else {
        if (host != NULL) {
            s->stop.cr2 = va;
            snprintf(s->stop.msg, sizeof(s->stop.msg),
                     "an atomic access of %zu bytes at 0x%08x crosses a page boundary", size, va);
            sim_stop_run(s, SIM_STOP_UNSUPPORTED, pc);
        }
        uint32_t pfn[npages]; /* at most SIM_MAX_SPAN: 16 KiB of stack */
        translate_span(s, va, (unsigned)size, kind, pfn, pc, fp);
        if (kind & MMU_ACCESS_WRITE)
            note_store(s, va, size, pfn, buf, pc, fp);
        copy_frames(s, va, size, pfn, buf, kind & MMU_ACCESS_WRITE);
    }
    if (s->prof != NULL)
        sim_prof_leave(s, prev);
}

#define RET_PC __builtin_extract_return_addr(__builtin_return_address(0))

/*
 * The host pointer for a kernel access of n bytes within one page that the
 * current CPU's soft TLB holds (mmu_soft_hit: a TLB hit on another page
 * than the fast one, counted as such), its region counted; NULL if it is
 * not such an access (then sim_access does the rest).
 */
static inline uint8_t *
soft_hit(uintptr_t a, size_t n, enum mmu_access kind, const void *pc, const void *fp)
{
    struct sim *s = sim_current;
    if (a >= SIM_HOST_FLOOR || n > PAGE_SIZE || !s->running || !mmu_paging(s->cpu))
        return NULL;
    uint8_t *h = mmu_soft_hit(s->cpu, (vaddr_t)a, (unsigned)n, kind);
    if (h != NULL && a >= s->region_floor)
        count_region_at(s, (vaddr_t)a, pc, fp);
    return h;
}

/* A store of n bytes (src) at a through host pointer h from the soft TLB:
 * told to the detector first if its frame is watched (kernel code at pc,
 * fp the frame of the miss-path function it called). */
static inline void
soft_store(uintptr_t a, uint8_t *h, size_t n, const void *src, const void *pc, const void *fp)
{
    struct sim *s = sim_current;
    uint32_t pfn = (uint32_t)((uint64_t)(h - s->ram) >> PAGE_SHIFT);
    note_store(s, (vaddr_t)a, n, &pfn, src, pc, fp);
    memcpy(h, src, n);
}

/* The miss path of each size: called from kernel code, where the inlined
 * hit path (sim/access.c) did not apply. */
#define PS_MISS(n, type)                                                                           \
    type __ps_load##n##_miss(uintptr_t a)                                                          \
    {                                                                                              \
        type v;                                                                                    \
        uint8_t *h = soft_hit(a, n, MMU_SUP_READ, RET_PC, __builtin_frame_address(0));             \
        if (h != NULL)                                                                             \
            memcpy(&v, h, n);                                                                      \
        else                                                                                       \
            sim_access(a, &v, n, MMU_SUP_READ, NULL, RET_PC);                                      \
        return v;                                                                                  \
    }                                                                                              \
    void __ps_store##n##_miss(uintptr_t a, type v)                                                 \
    {                                                                                              \
        uint8_t *h = soft_hit(a, n, MMU_SUP_WRITE, RET_PC, __builtin_frame_address(0));            \
        if (h != NULL)                                                                             \
            soft_store(a, h, n, &v, RET_PC, __builtin_frame_address(0));                           \
        else                                                                                       \
            sim_access(a, &v, n, MMU_SUP_WRITE, NULL, RET_PC);                                     \
    }
PS_SIZES(PS_MISS)

void
__ps_read(uintptr_t a, void *dst, size_t n)
{
    uint8_t *h = soft_hit(a, n, MMU_SUP_READ, RET_PC, __builtin_frame_address(0));
    if (h != NULL)
        memcpy(dst, h, n);
    else
        sim_access(a, dst, n, MMU_SUP_READ, NULL, RET_PC);
}

void
__ps_write(uintptr_t a, const void *src, size_t n)
{
    uint8_t *h = soft_hit(a, n, MMU_SUP_WRITE, RET_PC, __builtin_frame_address(0));
    if (h != NULL)
        soft_store(a, h, n, src, RET_PC, __builtin_frame_address(0));
    else
        sim_access(a, (void *)src, n, MMU_SUP_WRITE, NULL, RET_PC);
}

void *
__ps_ptr(uintptr_t a, size_t n, int kind)
{
    void *host = NULL;
    sim_access(a, NULL, n, (enum mmu_access)(kind & MMU_ACCESS_WRITE), &host, RET_PC);
    return host;
}

/* ---- kernel/arch.h on the model ---- */

static struct sim *
cur(void)
{
    struct sim *s = sim_current;
    if (!s->running) {
        fprintf(stderr, "pagesim: arch call outside sim_run()\n");
        abort();
    }
    return s;
}

/*
 * A write of CR0, CR3 or CR4 and its event: made by kernel code at pc with
 * fp the frame of the arch_* function it called, or by code named who.
 */
static void
write_cr(struct sim *s, enum sim_event_kind kind, uint32_t val, const void *pc, const void *fp,
         const char *who)
{
    sim_atomic_settle(s);
    const struct mmu_counters *c = &s->cpu->ctr;
    uint64_t d0 = c->dropped_full, k0 = c->globals_kept;
    int prev = s->prof != NULL ? sim_prof_enter(s, pc, fp, who) : 0;
    switch (kind) {
    case SIM_EV_CR0:
        mmu_write_cr0(s->cpu, val);
        break;
    case SIM_EV_CR3:
        d0 = c->dropped_cr3;
        if (++s->cr3_seen == s->inject.skip_cr3_flush) {
            uint32_t id = next_write_id(s);
            keep_write(s, id, pc, fp);
            mmu_write_cr3_noflush(s->cpu, val, id);
        } else {
            mmu_write_cr3(s->cpu, val);
        }
        emit(s, kind, val, 0, c->dropped_cr3 - d0, c->globals_kept - k0, pc, fp, who);
        break;
    case SIM_EV_CR4:
        if (val & CR4_PAE) {
            snprintf(s->stop.msg, sizeof(s->stop.msg),
                     "CR4 write 0x%08x sets PAE: PAE paging is not modelled (32-bit paging "
                     "only)",
                     val);
            sim_stop_run(s, SIM_STOP_UNSUPPORTED, pc);
        }
        mmu_write_cr4(s->cpu, val);
        break;
    default:
        break;
    }
    if (kind == SIM_EV_CR0 || kind == SIM_EV_CR4)
        emit(s, kind, val, 0, c->dropped_full - d0, 0, pc, fp, who);
    if (s->prof != NULL)
        sim_prof_leave(s, prev);
}

void
sim_write_cr(struct sim *s, enum sim_event_kind kind, uint32_t val, const char *who)
{
    write_cr(s, kind, val, NULL, NULL, who);
}

uint32_t
arch_read_cr0(void)
{
    return cur()->cpu->cr0;
}

void
arch_write_cr0(uint32_t val)
{
    write_cr(cur(), SIM_EV_CR0, val, RET_PC, __builtin_frame_address(0), NULL);
}

uint32_t
arch_read_cr2(void)
{
    return cur()->cpu->cr2;
}

uint32_t
arch_read_cr3(void)
{
    return cur()->cpu->cr3;
}

void
arch_write_cr3(uint32_t val)
{
    write_cr(cur(), SIM_EV_CR3, val, RET_PC, __builtin_frame_address(0), NULL);
}

uint32_t
arch_read_cr4(void)
{
    return cur()->cpu->cr4;
}

void
arch_write_cr4(uint32_t val)
{
    write_cr(cur(), SIM_EV_CR4, val, RET_PC, __builtin_frame_address(0), NULL);
}

/* Whether fault injection skips this INVLPG (of va, by kernel code at pc
 * with fp the frame of arch_invlpg); a skipped one is remembered. */
static bool
skip_invlpg(struct sim *s, vaddr_t va, const void *pc, const void *fp)
{
    uintptr_t ret[SIM_CHAIN_MAX];
    unsigned n = 0;
    bool skip = ++s->invlpg_seen == s->inject.skip_invlpg;
    if (s->inject.skip_invlpg_fn[0] != '\0') {
        char names[SIM_CHAIN_MAX][SIM_NAME_MAX];
        n = sim_kernel_chain(s, pc, fp, ret);
        name_chain(ret, n, names);
        for (unsigned i = 0; i < n && !skip; i++)
            skip = strcmp(names[i], s->inject.skip_invlpg_fn) == 0;
    }
    if (!skip)
        return false;
    if (n == 0)
        n = sim_kernel_chain(s, pc, fp, ret);
    struct sim_skipped *k = &s->skipped[s->nskipped++ % SIM_SKIPPED_KEPT];
    k->va = va;
    k->at = s->at;
    k->n = n;
    memcpy(k->chain, ret, n * sizeof(ret[0]));
    return true;
}

void
arch_invlpg(vaddr_t va)
{
    struct sim *s = cur();
    sim_atomic_settle(s);
    if (skip_invlpg(s, va, RET_PC, __builtin_frame_address(0)))
        return;
    int prev = s->prof != NULL ? sim_prof_enter(s, RET_PC, __builtin_frame_address(0), NULL) : 0;
    uint64_t d0 = s->cpu->ctr.dropped_invlpg;
    mmu_invlpg(s->cpu, va);
    emit(s, SIM_EV_INVLPG, va, 0, s->cpu->ctr.dropped_invlpg - d0, 0, RET_PC,
         __builtin_frame_address(0), NULL);
    if (s->prof != NULL)
        sim_prof_leave(s, prev);
}

/* The latest skipped INVLPG that would have covered the cached entry of st. */
static const struct sim_skipped *
skipped_for(const struct sim *s, const struct mmu_stale *st)
{
    unsigned kept = s->nskipped < SIM_SKIPPED_KEPT ? s->nskipped : SIM_SKIPPED_KEPT;
    for (unsigned i = 0; i < kept; i++) {
        const struct sim_skipped *k = &s->skipped[(s->nskipped - 1 - i) % SIM_SKIPPED_KEPT];
        bool covers = st->cls == MMU_STALE_PDE || st->large
                          ? PDX(k->va) == PDX(st->va)
                          : (k->va >> PAGE_SHIFT) == (st->va >> PAGE_SHIFT);
        if (covers)
            return k;
    }
    return NULL;
}

void
sim_on_stale(void *ctx, struct mmu *m, const struct mmu_stale *st)
{
    struct sim *s = ctx;
    unsigned cpu = (unsigned)(m - s->cpus);
    struct sim_stale_case *c = NULL;
    for (unsigned i = 0; i < s->nstale && c == NULL; i++) {
        const struct mmu_stale *o = &s->stale[i].st;
        if (s->stale[i].cpu == cpu && o->cls == st->cls &&
            (o->va >> PAGE_SHIFT) == (st->va >> PAGE_SHIFT) && o->cr3 == st->cr3 &&
            o->cached == st->cached && o->current == st->current)
            c = &s->stale[i];
    }
    if (c == NULL && s->nstale < SIM_STALE_CASES_MAX) {
        c = &s->stale[s->nstale++];
        memset(c, 0, sizeof(*c));
        c->st = *st;
        c->cpu = cpu;
        c->use_at = s->at;
        uintptr_t ret[SIM_CHAIN_MAX];
        if (s->use_pc != NULL) {
            c->nuse = sim_kernel_chain(s, s->use_pc, s->use_fp, ret);
            name_chain(ret, c->nuse, c->use_chain);
        }
        const struct sim_write *w = &s->writes[st->write_id & (SIM_WRITES_KEPT - 1)];
        if (w->id == st->write_id && st->write_id != 0) {
            c->write_at = w->at;
            c->nwrite = w->n;
            name_chain(w->chain, w->n, c->write_chain);
        }
        w = &s->writes[st->last_id & (SIM_WRITES_KEPT - 1)];
        if (st->last_id != st->write_id && w->id == st->last_id && st->last_id != 0) {
            c->last_at = w->at;
            c->nlast = w->n;
            name_chain(w->chain, w->n, c->last_chain);
        }
        const struct sim_skipped *k = skipped_for(s, st);
        if (k != NULL) {
            c->skipped_at = k->at;
            c->nskipped = k->n;
            name_chain(k->chain, k->n, c->skipped_chain);
        }
    }
    if (c != NULL)
        c->uses++;
    if (s->stale_fn != NULL)
        s->stale_fn(s->stale_ctx, s, st, c);
    if (s->strict_tlb && mmu_stale_is_bug(st->cls)) {
        s->stop.cr2 = st->va;
        snprintf(s->stop.msg, sizeof(s->stop.msg),
                 "stale TLB entry (%s) for 0x%08x used: cached 0x%08x, now 0x%08x",
                 mmu_stale_class_name(st->cls), st->va, st->cached, st->current);
        sim_stop_run(s, SIM_STOP_STALE_TLB, s->use_pc);
    }
}

const struct sim_stale_case *
sim_stale_cases(const struct sim *s, unsigned *n)
{
    *n = s->nstale;
    return s->stale;
}

void
sim_set_strict_tlb(struct sim *s, bool on)
{
    s->strict_tlb = on;
}

void
sim_stale_off(struct sim *s)
{
    s->stale_off = true;
    for (unsigned i = 0; i < s->ncpus; i++)
        mmu_stale_off(&s->cpus[i]);
}

void
sim_set_inject(struct sim *s, const struct sim_inject *in)
{
    s->inject = *in;
}

void
arch_set_pf_handler(arch_pf_handler_t handler)
{
    cur()->pf_handler = handler;
}

/*
 * User accesses go through the model, every page translated first (a fault
 * the handler refuses leaves memory untouched), then straight to RAM.
 */
static void
user_access(vaddr_t va, unsigned size, bool write, uint32_t *val, const void *pc, const void *fp)
{
    struct sim *s = cur();
    enum mmu_access kind = write ? MMU_USER_WRITE : MMU_USER_READ;
    uint8_t bytes[4];
    uint32_t pfn[2]; /* 4 bytes span at most two pages */
    if (size != 1 && size != 2 && size != 4)
        size = 4;
    if ((uint64_t)va + size > SIM_HOST_FLOOR) {
        s->stop.cr2 = va;
        snprintf(s->stop.msg, sizeof(s->stop.msg), "user access wraps past 4 GiB");
        sim_stop_run(s, SIM_STOP_WILD, pc);
    }
    int prev = s->prof != NULL ? sim_prof_enter(s, pc, fp, NULL) : 0;
    sim_atomic_settle(s);
    translate_span(s, va, size, kind, pfn, pc, fp);
    memcpy(bytes, val, 4);
    if (write)
        note_store(s, va, size, pfn, bytes, pc, fp);
    copy_frames(s, va, size, pfn, bytes, write);
    memcpy(val, bytes, 4);
    if (s->prof != NULL)
        sim_prof_leave(s, prev);
}

uint32_t
arch_user_read(vaddr_t va, unsigned size)
{
    uint32_t v = 0;
    user_access(va, size, false, &v, RET_PC, __builtin_frame_address(0));
    return v;
}

void
arch_user_write(vaddr_t va, unsigned size, uint32_t val)
{
    user_access(va, size, true, &val, RET_PC, __builtin_frame_address(0));
}

/* Reads a kernel string: host memory directly, simulated memory by probe. */
static void
kernel_string(struct sim *s, const char *p, char *buf, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    size_t i = 0;
    for (; i + 1 < len; i++) {
        char c;
        if (a >= SIM_HOST_FLOOR)
            c = p[i];
        else if (!sim_read_virt(s, (vaddr_t)(a + i), &c, 1))
            break;
        if (c == '\0')
            break;
        buf[i] = c;
    }
    buf[i] = '\0';
}

_Noreturn void
arch_panic(const char *msg)
{
    struct sim *s = cur();
    kernel_string(s, msg, s->stop.msg, sizeof(s->stop.msg));
    sim_stop_run(s, SIM_STOP_PANIC, RET_PC);
}

void
arch_region(const char *name, vaddr_t first, vaddr_t last)
{
    struct sim *s = cur();
    if (s->stats.nregions == SIM_MAX_REGIONS || last < first) {
        snprintf(s->stop.msg, sizeof(s->stop.msg),
                 last < first ? "arch_region: region 0x%08x-0x%08x is empty"
                              : "arch_region: more than %u regions",
                 last < first ? first : SIM_MAX_REGIONS, last);
        sim_stop_run(s, SIM_STOP_PANIC, RET_PC);
    }
    struct sim_region *r = &s->stats.regions[s->stats.nregions++];
    kernel_string(s, name, r->name, sizeof(r->name));
    r->first = first;
    r->last = last;
    r->accesses = 0;
    r->window = first >= FOREIGN_PT_BASE; /* the windows of PDEs 1022 and 1023 (x86.h) */
    if (first < s->region_floor)
        s->region_floor = first;
}

void
arch_at(uint32_t where)
{
    struct sim *s = cur();
    s->at = where;
    if (s->at_fn != NULL)
        s->at_fn(s->at_ctx, s, where);
}

void
arch_figure(const char *name, uint32_t value)
{
    struct sim *s = cur();
    char n[SIM_FIGURE_NAME_MAX];
    kernel_string(s, name, n, sizeof(n));
    for (unsigned i = 0; i < s->nfigures; i++) {
        if (strcmp(s->figures[i].name, n) == 0) {
            s->figures[i].value = value;
            return;
        }
    }
    if (s->nfigures == SIM_MAX_FIGURES) {
        snprintf(s->stop.msg, sizeof(s->stop.msg), "arch_figure: more than %u figure names",
                 SIM_MAX_FIGURES);
        sim_stop_run(s, SIM_STOP_PANIC, RET_PC);
    }
    memcpy(s->figures[s->nfigures].name, n, sizeof(n));
    s->figures[s->nfigures++].value = value;
}

void
arch_space(uint32_t id, paddr_t pd, bool current)
{
    struct sim *s = cur();
    if (s->spaces_stale) {
        s->nspaces = 0;
        s->spaces_stale = false;
    }
    if (s->nspaces == s->spaces_cap) {
        unsigned cap = s->spaces_cap ? 2 * s->spaces_cap : 64;
        struct sim_space *p = realloc(s->spaces, cap * sizeof(*p));
        if (p == NULL) {
            snprintf(s->stop.msg, sizeof(s->stop.msg), "arch_space: out of host memory");
            sim_stop_run(s, SIM_STOP_PANIC, RET_PC);
        }
        s->spaces = p;
        s->spaces_cap = cap;
    }
    s->spaces[s->nspaces++] = (struct sim_space){id, pd, current};
}

void
arch_mark(uint32_t id)
{
    struct sim *s = cur();
    sim_fold_hits(s);
    if (s->mark_fn != NULL)
        s->mark_fn(s->mark_ctx, s, id);
    s->spaces_stale = true;
}

void
arch_log(const char *msg)
{
    struct sim *s = cur();
    char line[256];
    if (s->log_fn == NULL)
        return;
    kernel_string(s, msg, line, sizeof(line));
    s->log_fn(s->log_ctx, line);
}
