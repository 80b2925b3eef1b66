/*
 * arch_x86.c - kernel/arch.h on the real CPU: control registers, INVLPG,
 * the page-fault hook, user accesses made in ring 3, and panic, log and
 * marks as lines on COM1.
 */
#include <stddef.h>

#include "kernel/arch.h"
#include "kernel/klib.h"
#include "kernel/layout.h"
#include "kernel/metal/metal.h"
#include "kernel/metal/report.h"
#include "kernel/module.h"
#include "kernel/workload.h"

/* ---- registers ---- */

uint32_t
arch_read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

void
arch_write_cr0(uint32_t val)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(val) : "memory");
}

uint32_t
arch_read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

uint32_t
arch_read_cr3(void)
{
    return metal_read_cr3();
}

void
arch_write_cr3(uint32_t val)
{
    metal_write_cr3(val);
}

uint32_t
arch_read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

void
arch_write_cr4(uint32_t val)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(val) : "memory");
}

void
arch_invlpg(vaddr_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* ---- the physical-memory window ---- */

/*
 * A frame is reached at METAL_WINDOW_VA through the boot directory (never
 * freed: it lies in the image area), whose PDE 0 points at the first boot
 * page table.  That table's entry 1 is borrowed for the call and restored
 * exactly, so the tables being observed gain no accessed bit and keep
 * their values; the CR3 loads cost QEMU nothing but a TLB refill.
 */
#define METAL_WINDOW_VA 0x1000u
#define METAL_WINDOW_PTE ((volatile pte_t *)(uintptr_t)P2V(BOOT_PT_PA) + 1)

static uint32_t win_cr3, win_pte;

static volatile uint32_t *
win_open(paddr_t pa)
{
    win_cr3 = metal_read_cr3();
    win_pte = *METAL_WINDOW_PTE;
    *METAL_WINDOW_PTE = PAGE_ROUND_DOWN(pa) | PTE_P | PTE_W;
    metal_write_cr3(BOOT_PD_PA);
    return (volatile uint32_t *)(uintptr_t)(METAL_WINDOW_VA + PGOFF(pa));
}

static void
win_close(void)
{
    *METAL_WINDOW_PTE = win_pte;
    metal_write_cr3(win_cr3);
}

/* The window's own entry, while the window is open, holds the window:
 * what it held before is what the table holds. */
#define METAL_WINDOW_PTE_PA (BOOT_PT_PA + PTX(METAL_WINDOW_VA) * 4)

void
metal_phys_read(paddr_t frame, uint32_t *words)
{
    volatile uint32_t *w = win_open(PAGE_ROUND_DOWN(frame));
    for (uint32_t i = 0; i < NPTENTRIES; i++)
        words[i] = w[i];
    win_close();
    if (PAGE_ROUND_DOWN(frame) == PAGE_ROUND_DOWN(METAL_WINDOW_PTE_PA))
        words[PGOFF(METAL_WINDOW_PTE_PA) / 4] = win_pte;
}

uint32_t
metal_phys_read32(paddr_t pa)
{
    uint32_t v = *win_open(pa);
    win_close();
    return (pa & ~3u) == METAL_WINDOW_PTE_PA ? win_pte : v;
}

void
metal_phys_write32(paddr_t pa, uint32_t val)
{
    *win_open(pa) = val;
    win_close();
}

/* ---- stops and exit ---- */

_Noreturn void
metal_exit(uint32_t status)
{
    static const char *const names[] = {"pass", "incomplete", "panic", "bad-module"};
    metal_printf("exit %s\n", status >= KMOD_EXIT_PASS && status <= KMOD_EXIT_BAD_MODULE
                                  ? names[status - KMOD_EXIT_PASS]
                                  : "?");
    __asm__ volatile("outl %0, %w1" : : "a"(status), "Nd"(KMOD_EXIT_PORT));
    for (;;)
        __asm__ volatile("cli; hlt");
}

_Noreturn void
metal_stop(const char *kind, uint32_t cr2, uint32_t err, uint32_t eip, const char *msg)
{
    uint32_t cr3 = metal_read_cr3();
    paddr_t pde_addr = (cr3 & CR3_ADDR_MASK) + PDX(cr2) * 4, pte_addr = 0;
    uint32_t pde = metal_phys_read32(pde_addr), pte = 0;
    if ((pde & PTE_P) && !((pde & PTE_PS) && (arch_read_cr4() & CR4_PSE))) {
        pte_addr = PTE_ADDR(pde) + PTX(cr2) * 4;
        pte = metal_phys_read32(pte_addr);
    }
    metal_printf("stop %s %08x %x %08x %08x %08x %08x %08x %08x %08x %08x %s\n", kind, cr2, err,
                 eip, arch_read_cr0(), cr3, arch_read_cr4(), pde_addr, pde, pte_addr, pte, msg);
    /* The figures as the stop left them, as the simulator reads them after
     * a stop; not after a double fault, where the kernel may be in pieces. */
    static bool stopping;
    if (!stopping && kstrcmp(kind, "double-fault") != 0) {
        stopping = true;
        wl_publish();
        metal_figures("end", 0, false);
    }
    metal_exit(KMOD_EXIT_PANIC);
}

/* ---- page faults ---- */

/* A handler that keeps saying "fixed" for a fault that keeps coming back. */
#define METAL_MAX_RETRIES 64

static arch_pf_handler_t pf_handler;
static bool pf_in_handler;
static uint32_t pf_last_cr2, pf_last_eip, pf_retries;

void
arch_set_pf_handler(arch_pf_handler_t handler)
{
    pf_handler = handler;
}

void metal_page_fault(struct metal_frame *f);

void
metal_page_fault(struct metal_frame *f)
{
    uint32_t cr2 = arch_read_cr2();
    if (pf_in_handler)
        metal_stop("page-fault-in-handler", cr2, f->error, f->eip,
                   "page fault in the page-fault handler");
    if (pf_handler == NULL)
        metal_stop("page-fault", cr2, f->error, f->eip, "no page-fault handler registered");
    pf_in_handler = true;
    bool fixed = pf_handler(cr2, f->error);
    pf_in_handler = false;
    if (!fixed)
        metal_stop("page-fault", cr2, f->error, f->eip,
                   "the page-fault handler did not resolve it");
    if (cr2 == pf_last_cr2 && f->eip == pf_last_eip) {
        if (++pf_retries >= METAL_MAX_RETRIES)
            metal_stop("page-fault", cr2, f->error, f->eip,
                       "the page-fault handler said it resolved this fault 64 times, but it "
                       "recurs");
    } else {
        pf_last_cr2 = cr2;
        pf_last_eip = f->eip;
        pf_retries = 0;
    }
}

/* ---- user accesses ---- */

uint32_t metal_user_call(uint32_t eip, uint32_t va, uint32_t val);
extern const char metal_ustub_page[], metal_ustub_read1[], metal_ustub_read2[], metal_ustub_read4[],
    metal_ustub_write1[], metal_ustub_write2[], metal_ustub_write4[];

/* The page table that maps the stub page, user-accessible, at its entry 0. */
static pte_t ustub_pt[NPTENTRIES] __attribute__((aligned(PAGE_SIZE)));

/*
 * One access made in ring 3.  A free user PDE of the current directory
 * (not the one of va) points at ustub_pt while the stub runs and is
 * cleared after; the stub does the access and comes back through int
 * METAL_USER_RETURN_VECTOR.  A fault goes to the page-fault handler as any.
 */
static uint32_t
user_access(vaddr_t va, unsigned size, bool write, uint32_t val)
{
    const char *stub;
    if (size == 1)
        stub = write ? metal_ustub_write1 : metal_ustub_read1;
    else if (size == 2)
        stub = write ? metal_ustub_write2 : metal_ustub_read2;
    else
        stub = write ? metal_ustub_write4 : metal_ustub_read4;
    paddr_t pd = metal_read_cr3() & CR3_ADDR_MASK;
    uint32_t pdx_lo = PDX(va), pdx_hi = PDX(va + size - 1), slot = KERNEL_PDX;
    volatile uint32_t *w = win_open(pd);
    for (uint32_t i = KERNEL_PDX; i-- > 0;) {
        if (w[i] == 0 && i != pdx_lo && i != pdx_hi) {
            slot = i;
            break;
        }
    }
    if (slot < KERNEL_PDX) {
        ustub_pt[0] = V2P((vaddr_t)metal_ustub_page) | PTE_P | PTE_U;
        w[slot] = V2P((vaddr_t)ustub_pt) | PTE_P | PTE_U;
    }
    win_close();
    if (slot == KERNEL_PDX)
        arch_panic("metal: no free user PDE to run the ring-3 access stub");
    vaddr_t base = slot << PDX_SHIFT;
    uint32_t got = metal_user_call(base + (uint32_t)(stub - metal_ustub_page), va, val);
    metal_phys_write32(pd + slot * 4, 0);
    arch_invlpg(base);
    return got;
}

uint32_t
arch_user_read(vaddr_t va, unsigned size)
{
    return user_access(va, size, false, 0);
}

void
arch_user_write(vaddr_t va, unsigned size, uint32_t val)
{
    user_access(va, size, true, val);
}

/* ---- panic, log, marks ---- */

_Noreturn void
arch_panic(const char *msg)
{
    metal_stop("panic", 0, 0, (uint32_t)__builtin_return_address(0), msg);
}

void
arch_log(const char *msg)
{
    metal_printf("log %s\n", msg);
}

/* The figures the kernel published (arch_figure), latest value of each. */
#define METAL_MAX_FIGURES 64
#define METAL_FIGURE_NAME 32
static char fig_name[METAL_MAX_FIGURES][METAL_FIGURE_NAME];
static uint32_t fig_value[METAL_MAX_FIGURES];
static uint32_t fig_count;

void
arch_figure(const char *name, uint32_t value)
{
    uint32_t i = 0;
    while (i < fig_count && kstrcmp(fig_name[i], name) != 0)
        i++;
    if (i == fig_count) {
        if (fig_count == METAL_MAX_FIGURES || kstrlen(name) >= METAL_FIGURE_NAME)
            arch_panic("arch_figure: too many figures or too long a name");
        for (uint32_t k = 0; name[k] != '\0'; k++)
            fig_name[i][k] = name[k];
        fig_count++;
    }
    fig_value[i] = value;
}

/* The machine's views of spaces are the simulator's; metal dumps its
 * tables itself (kernel/ptdump.h). */
void
arch_space(uint32_t id, paddr_t pd, bool current)
{
    (void)id;
    (void)pd;
    (void)current;
}

/* Nothing on metal counts accesses by region: the name is reported. */
void
arch_region(const char *name, vaddr_t first, vaddr_t last)
{
    metal_printf("region %s %08x %08x\n", name, first, last);
}

void
arch_at(uint32_t where)
{
    (void)where;
}

void
metal_figures(const char *tag, uint32_t id, bool with_id)
{
    metal_puts(tag);
    if (with_id)
        metal_printf(" %u", id);
    for (uint32_t i = 0; i < fig_count; i++)
        metal_printf(" %s=%u", fig_name[i], fig_value[i]);
    metal_puts("\n");
}

void
arch_mark(uint32_t id)
{
    metal_figures("mark", id, true);
}
