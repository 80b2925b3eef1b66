/*
 * main.c - the bare-metal kernel's main: takes the memory map and the
 * module from the Multiboot loader into the fixed layout of
 * kernel/bootlayout.h, then runs the shared kernel exactly as the
 * simulator's loader does (kmod_open, kernel_boot, wl_execute) and prints
 * the report of kernel/metal/report.h on COM1; or, if the module is a probe
 * request, runs the paging differential of kernel/hwprobe.h instead.
 */
#include <stddef.h>

#include "kernel/arch.h"
#include "kernel/boot.h"
#include "kernel/hwprobe.h"
#include "kernel/klib.h"
#include "kernel/layout.h"
#include "kernel/metal/metal.h"
#include "kernel/metal/multiboot.h"
#include "kernel/metal/report.h"
#include "kernel/module.h"
#include "kernel/plugin.h"
#include "kernel/ptdump.h"
#include "kernel/workload.h"

/* An address the kernel directory leaves unmapped after boot (user half). */
#define METAL_WILD_POINTER 0x0BAD0000u

void metal_main(uint32_t magic, uint32_t mbi_pa);

/* The memory map, clipped to 32-bit physical addresses, into bi. */
static void
take_mmap(const struct mb_info *mbi, struct boot_info *bi)
{
    if (!(mbi->flags & MB_INFO_MMAP) || mbi->mmap_addr + mbi->mmap_length > EARLY_MAP_SIZE)
        return;
    uint32_t off = 0;
    while (off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length &&
           bi->mmap_count < BOOT_MMAP_MAX) {
        const struct mb_mmap_entry *e =
            (const struct mb_mmap_entry *)(uintptr_t)P2V(mbi->mmap_addr + off);
        off += e->size + sizeof(e->size);
        if (e->addr >= (1ull << 32) || e->len == 0)
            continue;
        uint64_t len = e->len;
        if (e->addr + len > (1ull << 32))
            len = (1ull << 32) - e->addr;
        struct boot_mmap_entry *b = &bi->mmap[bi->mmap_count++];
        b->base = (uint32_t)e->addr;
        b->length = (uint32_t)len;
        b->type = e->type;
    }
}

/*
 * Fills boot_info from the Multiboot information and moves the first
 * module to BOOT_MODULE_PA; its length in *mod_len.  Returns NULL, or why
 * the hand-over cannot be used.
 */
static const char *
take_multiboot(uint32_t mbi_pa, struct boot_info *bi, uint32_t *mod_len)
{
    memset(bi, 0, sizeof(*bi));
    bi->kernel_start = KERNEL_LOAD_PA;
    bi->kernel_end = BOOT_IMAGE_END;
    bi->modules_start = bi->modules_end = BOOT_MODULE_PA;
    bi->early_map_size = EARLY_MAP_SIZE;
    *mod_len = 0;
    if (mbi_pa + sizeof(struct mb_info) > EARLY_MAP_SIZE)
        return "the Multiboot information lies above 16 MiB";
    const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)P2V(mbi_pa);
    take_mmap(mbi, bi);
    if (bi->mmap_count == 0)
        return "the loader gave no memory map";
    if (!(mbi->flags & MB_INFO_MODS) || mbi->mods_count == 0)
        return "no module: boot kernel.elf with the workload module (pagesim boot)";
    const struct mb_module *m = (const struct mb_module *)(uintptr_t)P2V(mbi->mods_addr);
    uint32_t start = m->mod_start, end = m->mod_end;
    if (end < start || end > EARLY_MAP_SIZE || BOOT_MODULE_PA + (end - start) > EARLY_MAP_SIZE)
        return "the module lies above 16 MiB or is too large to move below it";
    *mod_len = end - start;
    memmove((void *)(uintptr_t)P2V(BOOT_MODULE_PA), (const void *)(uintptr_t)P2V(start), *mod_len);
    bi->modules_end = BOOT_MODULE_PA + *mod_len;
    return NULL;
}

/*
 * Rewrites the boot directory and tables as the entry first built them and
 * reloads CR3: what the loader's data cost in accessed and dirty bits is
 * forgotten, so the kernel starts from the tables the simulator's loader
 * writes.
 */
static void
fresh_boot_tables(void)
{
    volatile pde_t *pd = (volatile pde_t *)(uintptr_t)P2V(BOOT_PD_PA);
    volatile pte_t *pt = (volatile pte_t *)(uintptr_t)P2V(BOOT_PT_PA);
    for (uint32_t i = 0; i < EARLY_MAP_SIZE / PAGE_SIZE; i++)
        pt[i] = (i << PAGE_SHIFT) | PTE_P | PTE_W;
    for (uint32_t i = 0; i < NPDENTRIES; i++)
        pd[i] = 0;
    for (uint32_t i = 0; i < EARLY_MAP_SIZE / LPAGE_SIZE; i++) {
        pd[i] = (BOOT_PT_PA + i * PAGE_SIZE) | PTE_P | PTE_W;
        pd[KERNEL_PDX + i] = pd[i];
    }
    metal_write_cr3(BOOT_PD_PA);
}

static void
dump_read(void *ctx, paddr_t pa, uint32_t *words)
{
    (void)ctx;
    metal_phys_read(pa, words);
}

static void
dump_emit(void *ctx, const char *line)
{
    (void)ctx;
    metal_printf("pt %s\n", line);
}

/* The deliberate bug the module asks for (kernel/module.h), after boot. */
static void
inject(uint32_t what)
{
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } no_idt = {0, 0};
    switch (what) {
    case KMOD_INJECT_WILD_POINTER:
        *(volatile uint32_t *)(uintptr_t)METAL_WILD_POINTER = 0xBAD;
        break;
    case KMOD_INJECT_TRIPLE_FAULT:
        __asm__ volatile("lidt %0\n\tud2" : : "m"(no_idt));
        break;
    case KMOD_INJECT_HANG:
        for (;;)
            __asm__ volatile("cli; hlt");
    case KMOD_INJECT_GP:
        __asm__ volatile("mov %0, %%ds" : : "r"((uint16_t)0x0FF8));
        break;
    case KMOD_INJECT_DOUBLE_FAULT:
        __asm__ volatile("mov %0, %%esp\n\tud2" : : "r"(METAL_WILD_POINTER));
        break;
    case KMOD_INJECT_NOISE:
        metal_puts("this line is not part of a report\n");
        break;
    default:
        break;
    }
}

void
metal_main(uint32_t magic, uint32_t mbi_pa)
{
    metal_serial_init();
    metal_cpu_init();
    metal_printf("pagesim-metal %u\n", METAL_REPORT_VERSION);
    if (magic != MB_BOOT_MAGIC) {
        metal_printf("bad-module not started by a Multiboot loader (EAX=0x%08x)\n", magic);
        metal_exit(KMOD_EXIT_BAD_MODULE);
    }
    struct boot_info *bi = (struct boot_info *)(uintptr_t)P2V(BOOT_INFO_PA);
    uint32_t mod_len;
    const char *why = take_multiboot(mbi_pa, bi, &mod_len);
    fresh_boot_tables();
    for (uint32_t i = 0; i < bi->mmap_count; i++)
        metal_printf("mmap %08x %08x %u\n", bi->mmap[i].base, bi->mmap[i].length, bi->mmap[i].type);
    if (why != NULL) {
        metal_printf("bad-module %s\n", why);
        metal_exit(KMOD_EXIT_BAD_MODULE);
    }
    if (hwprobe_is_request(P2V(BOOT_MODULE_PA), mod_len)) {
        enum hwprobe_status ps = hwprobe_main(bi, P2V(BOOT_MODULE_PA), mod_len);
        if (ps != HWPROBE_OK) {
            metal_printf("bad-module %s\n", hwprobe_strerror(ps));
            metal_exit(KMOD_EXIT_BAD_MODULE);
        }
        metal_exit(KMOD_EXIT_PASS);
    }
    /* A plug-in linked into this kernel registers before the module names
     * its strategy, as the simulator's --plugin does before any machine. */
    int pr = kplugin_init_linked();
    if (pr != 0) {
        metal_printf("bad-module plug-in registration refused: %s\n",
                     kreg_strerror((enum kreg_status)pr));
        metal_exit(KMOD_EXIT_BAD_MODULE);
    }
    struct kmod_info info;
    enum kmod_status ks = kmod_open(P2V(BOOT_MODULE_PA), mod_len, &info);
    if (ks != KMOD_OK) {
        metal_printf("bad-module %s\n", kmod_strerror(ks));
        metal_exit(KMOD_EXIT_BAD_MODULE);
    }

    arch_write_cr4(info.cr4);
    boot_set_kernel4m(info.flags & KMOD_FLAG_KERNEL4M);
    enum boot_status bs = kernel_boot(bi, info.strategy, info.pmm);
    struct wl_error err = {WL_OK, 0, 0, WL_NO_OBJECT};
    if (bs == BOOT_OK) {
        inject(info.inject);
        wl_execute(info.workload, &err);
    }
    metal_printf("result %u %u %u %u\n", bs, err.status, err.op_index, err.line);
    wl_publish();
    metal_figures("end", 0, false);
    if (bs == BOOT_OK)
        ptdump_spaces(dump_read, dump_emit, NULL);
    metal_exit(bs == BOOT_OK && err.status == WL_OK ? KMOD_EXIT_PASS : KMOD_EXIT_INCOMPLETE);
}
