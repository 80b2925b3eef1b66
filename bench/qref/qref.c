/*
 * qref.c - the QEMU reference kernel: runs the benchmark's access patterns
 * (bench/bench_loop.c, the same source the simulator runs) on QEMU under
 * its own 4 KiB page tables and prints, on COM1, one line per pattern:
 *
 *     qref NAME TICKS COUNT      (both in hexadecimal, 0x...)
 *
 * TICKS are time-stamp counter ticks of one timed run (QEMU's TCG returns
 * the host's counter, so the host converts them with its own frequency),
 * COUNT the accesses (or switches, or pages) in it.  Each pattern but the
 * first touch runs once untimed first, so that code translation and TLB
 * filling are not in the figure.  The kernel then leaves QEMU through
 * isa-debug-exit.  bench_mmu boots it several times and keeps the best.
 */
#include <stddef.h>
#include <stdint.h>

#include "bench/bench_loop.h"
#include "kernel/metal/portio.h"

#define PTE_P 0x001u
#define PTE_W 0x002u
#define CR0_PE 0x00000001u
#define CR0_WP 0x00010000u
#define CR0_PG 0x80000000u
#define COM1 0x3F8
#define DEBUG_EXIT 0xF4

#define IDENTITY_BYTES (16u << 20) /* kernel, stack and tables: mapped 1:1 */
#define BUMP_START (8u << 20)      /* tables and data frames, up to TOUCH_PA */
#define TOUCH_PA (64u << 20)       /* the first-touch frames: never written before */

static uint32_t qref_bump = BUMP_START;

static inline uint64_t
rdtsc(void)
{
    uint64_t v;
    __asm__ volatile("rdtsc" : "=A"(v));
    return v;
}

static void
putc_com1(char c)
{
    for (unsigned spin = 0; spin < 100000 && !(metal_inb(COM1 + 5) & 0x20); spin++)
        ;
    metal_outb(COM1, (uint8_t)c);
}

static void
puts_com1(const char *s)
{
    while (*s != '\0')
        putc_com1(*s++);
}

/* Hexadecimal: i386 has no 64-bit division without libgcc. */
static void
putx64(uint64_t v)
{
    puts_com1("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        putc_com1("0123456789abcdef"[(v >> shift) & 0xF]);
}

/* Returns a zeroed frame from the bump region. */
static uint32_t
frame(void)
{
    uint32_t pa = qref_bump;
    qref_bump += BENCH_PAGE;
    for (uint32_t i = 0; i < BENCH_PAGE / 4; i++)
        ((volatile uint32_t *)pa)[i] = 0;
    return pa;
}

/* Maps va to pa (present, writable) in the directory at pd. */
static void
map(uint32_t pd, uint32_t va, uint32_t pa)
{
    uint32_t *pde = (uint32_t *)pd + (va >> 22);
    if (!(*pde & PTE_P))
        *pde = frame() | PTE_P | PTE_W;
    uint32_t *pt = (uint32_t *)(*pde & ~0xFFFu);
    pt[(va >> 12) & 0x3FF] = pa | PTE_P | PTE_W;
}

static void
set_cr3(uint32_t pa)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(pa) : "memory");
}

static void
report(const char *name, uint64_t ticks, uint32_t count)
{
    puts_com1("qref ");
    puts_com1(name);
    putc_com1(' ');
    putx64(ticks);
    putc_com1(' ');
    putx64(count);
    putc_com1('\n');
}

void qref_main(void);

void
qref_main(void)
{
    metal_outb(COM1 + 1, 0x00);
    metal_outb(COM1 + 3, 0x80);
    metal_outb(COM1 + 0, 0x01);
    metal_outb(COM1 + 1, 0x00);
    metal_outb(COM1 + 3, 0x03);
    metal_outb(COM1 + 2, 0xC7);
    metal_outb(COM1 + 4, 0x03);

    /* The switched spaces' directories come first: they must be consecutive. */
    uint32_t pd0 = qref_bump;
    for (uint32_t k = 0; k < BENCH_SPACES; k++)
        frame();
    uint32_t pd = frame();
    for (uint32_t pa = 0; pa < IDENTITY_BYTES; pa += BENCH_PAGE)
        map(pd, pa, pa);
    for (uint32_t p = 0; p < BENCH_HIT_PAGES; p++)
        map(pd, BENCH_HIT_VA + p * BENCH_PAGE, frame());
    for (uint32_t p = 0; p < BENCH_MISS_PAGES; p++)
        map(pd, BENCH_MISS_VA + p * BENCH_MISS_STRIDE, frame());
    for (uint32_t p = 0; p < BENCH_TOUCH_PAGES; p++)
        map(pd, BENCH_TOUCH_VA + p * BENCH_PAGE, TOUCH_PA + p * BENCH_PAGE);
    for (uint32_t k = 0; k < BENCH_SPACES; k++) {
        uint32_t *d = (uint32_t *)(pd0 + k * BENCH_PAGE);
        for (uint32_t i = 0; i < IDENTITY_BYTES >> 22; i++)
            d[i] = ((uint32_t *)pd)[i];
        map((uint32_t)d, BENCH_SWITCH_VA, frame());
        map((uint32_t)d, BENCH_SWITCH_VA + BENCH_PAGE, frame());
    }
    set_cr3(pd);
    uint32_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_PE | CR0_PG | CR0_WP) : "memory");

    const volatile void *hit = (const volatile void *)BENCH_HIT_VA;
    const uint32_t same_rounds = BENCH_SAME_LOADS / (BENCH_PAGE / 4);
    uint64_t t;

    bench_load32_qemu(hit, BENCH_PAGE, same_rounds / 10);
    t = rdtsc();
    bench_load32_qemu(hit, BENCH_PAGE, same_rounds);
    report("same", rdtsc() - t, same_rounds * (BENCH_PAGE / 4));

    bench_pages_qemu(hit, BENCH_HIT_PAGES, BENCH_PAGE, BENCH_HIT_ROUNDS / 10);
    t = rdtsc();
    bench_pages_qemu(hit, BENCH_HIT_PAGES, BENCH_PAGE, BENCH_HIT_ROUNDS);
    report("page16", rdtsc() - t, BENCH_HIT_PAGES * BENCH_HIT_ROUNDS);

    const volatile void *miss = (const volatile void *)BENCH_MISS_VA;
    bench_pages_qemu(miss, BENCH_MISS_PAGES, BENCH_MISS_STRIDE, BENCH_MISS_ROUNDS / 10);
    t = rdtsc();
    bench_pages_qemu(miss, BENCH_MISS_PAGES, BENCH_MISS_STRIDE, BENCH_MISS_ROUNDS);
    report("miss", rdtsc() - t, BENCH_MISS_PAGES * BENCH_MISS_ROUNDS);

    volatile void *sw = (volatile void *)BENCH_SWITCH_VA;
    bench_switch_qemu(set_cr3, pd0, BENCH_SPACES, sw, BENCH_SWITCH_ROUNDS / 10);
    t = rdtsc();
    bench_switch_qemu(set_cr3, pd0, BENCH_SPACES, sw, BENCH_SWITCH_ROUNDS);
    report("switch", rdtsc() - t, BENCH_SPACES * BENCH_SWITCH_ROUNDS);
    set_cr3(pd);

    t = rdtsc();
    bench_touch_qemu((volatile void *)BENCH_TOUCH_VA, BENCH_TOUCH_PAGES);
    report("touch", rdtsc() - t, BENCH_TOUCH_PAGES);

    puts_com1("qref end\n");
    __asm__ volatile("outl %0, %1" : : "a"(0u), "Nd"((uint16_t)DEBUG_EXIT));
}
