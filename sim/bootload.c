/*
 * bootload.c - the simulator's boot loader (bootload.h): the Multiboot-
 * style hand-over the bare-metal entry makes, written into simulated RAM,
 * and the runs of the shared kernel boot and workload executor.
 */
#include "sim/bootload.h"

#include <stdio.h>
#include <string.h>

#include "kernel/arch.h"
#include "kernel/bootlayout.h"

/* Kernel code reads these: they must be the program's static data. */
static struct bootload_result bl_res;
static bool bl_with_workload;
static uint32_t bl_module_len;
static enum hwprobe_status bl_probe;

const char *
bootload_strerror(enum bootload_status st)
{
    switch (st) {
    case BOOTLOAD_OK:
        return "ok";
    case BOOTLOAD_SETUP_FAILED:
        return "the boot layout does not fit the machine";
    case BOOTLOAD_STOPPED:
        return "the run stopped";
    case BOOTLOAD_BOOT_FAILED:
        return "kernel boot failed";
    case BOOTLOAD_WORKLOAD_FAILED:
        return "workload failed";
    }
    return "unknown bootload status";
}

static void
put32(struct sim *s, paddr_t pa, uint32_t v)
{
    memcpy(sim_phys(s, pa, 4), &v, 4);
}

uint32_t
bootload_qemu_mmap(uint64_t ram, struct boot_mmap_entry *map)
{
    const uint64_t firmware = 128u << 10; /* SeaBIOS's tables at the top of low RAM */
    uint64_t low = ram < 0xE0000000ull ? ram : 0xC0000000ull;
    uint32_t n = 0;
    map[n++] = (struct boot_mmap_entry){0, 0x9FC00u, BOOT_MMAP_USABLE};
    map[n++] = (struct boot_mmap_entry){0x9FC00u, 0x400u, BOOT_MMAP_RESERVED};
    map[n++] = (struct boot_mmap_entry){0xF0000u, 0x10000u, BOOT_MMAP_RESERVED};
    map[n++] = (struct boot_mmap_entry){KERNEL_LOAD_PA, (uint32_t)(low - firmware - KERNEL_LOAD_PA),
                                        BOOT_MMAP_USABLE};
    map[n++] = (struct boot_mmap_entry){(uint32_t)(low - firmware), (uint32_t)firmware,
                                        BOOT_MMAP_RESERVED};
    map[n++] = (struct boot_mmap_entry){0xFFFC0000u, 0x40000u, BOOT_MMAP_RESERVED};
    return n;
}

size_t
bootload_module_size(const struct bootload_config *cfg)
{
    if (cfg->module != NULL)
        return cfg->module_len;
    return sizeof(struct kmod_header) + sizeof(struct wl_header) +
           (size_t)cfg->nops * sizeof(struct wl_op);
}

bool
bootload_module_write(const struct bootload_config *cfg, void *buf, char *err, size_t errlen)
{
    size_t len = bootload_module_size(cfg);
    if (cfg->module != NULL) {
        memcpy(buf, cfg->module, len);
        return true;
    }
    if (cfg->strategy == NULL || cfg->pmm == NULL || strlen(cfg->strategy) >= KMOD_NAME_MAX ||
        strlen(cfg->pmm) >= KMOD_NAME_MAX || len > UINT32_MAX) {
        snprintf(err, errlen, "strategy and allocator names must be given, under %u characters",
                 KMOD_NAME_MAX);
        return false;
    }
    struct kmod_header h;
    memset(&h, 0, sizeof(h));
    h.magic = KMOD_MAGIC;
    h.version = KMOD_VERSION;
    h.length = (uint32_t)len;
    h.cr4 = cfg->cr4 & KMOD_CR4_BITS;
    h.inject = cfg->inject;
    h.flags = cfg->flags & KMOD_FLAGS;
    strcpy(h.strategy, cfg->strategy);
    strcpy(h.pmm, cfg->pmm);
    struct wl_header wl = {WL_MAGIC, cfg->nops, cfg->max_ops};
    char *p = buf;
    memcpy(p, &h, sizeof(h));
    memcpy(p + sizeof(h), &wl, sizeof(wl));
    if (cfg->nops > 0)
        memcpy(p + sizeof(h) + sizeof(wl), cfg->ops, (size_t)cfg->nops * sizeof(struct wl_op));
    return true;
}

bool
bootload_prepare(struct sim *s, const struct bootload_config *cfg, char *err, size_t errlen)
{
    uint64_t ram = sim_ram_size(s);
    uint64_t mod_bytes = bootload_module_size(cfg);
    uint64_t mod_end = BOOT_MODULE_PA + mod_bytes;
    if (mod_end > EARLY_MAP_SIZE || mod_end + (1u << 20) > ram) {
        snprintf(err, errlen,
                 "the workload (%llu bytes at 4 MiB) and 1 MiB of placement memory must fit "
                 "in RAM (%llu KiB) and the 16 MiB early mapping",
                 (unsigned long long)mod_bytes, (unsigned long long)(ram >> 10));
        return false;
    }
    /* The module: settings and op list, as `pagesim boot` hands it to QEMU. */
    if (!bootload_module_write(cfg, sim_phys(s, BOOT_MODULE_PA, mod_bytes), err, errlen))
        return false;
    bl_module_len = (uint32_t)mod_bytes;

    /* The boot information, as the metal entry digests the Multiboot one. */
    struct boot_info bi;
    memset(&bi, 0, sizeof(bi));
    bi.mmap_count = bootload_qemu_mmap(ram, bi.mmap);
    bi.kernel_start = KERNEL_LOAD_PA;
    bi.kernel_end = BOOT_IMAGE_END;
    bi.modules_start = BOOT_MODULE_PA;
    bi.modules_end = (uint32_t)mod_end;
    bi.early_map_size = EARLY_MAP_SIZE;
    memcpy(sim_phys(s, BOOT_INFO_PA, sizeof(bi)), &bi, sizeof(bi));

    /* The boot directory: physical 0..16 MiB at 0 and at KERNEL_BASE. */
    uint32_t ntables = EARLY_MAP_SIZE / LPAGE_SIZE;
    for (uint32_t i = 0; i < ntables; i++) {
        paddr_t pt = BOOT_PT_PA + i * PAGE_SIZE;
        for (uint32_t k = 0; k < NPTENTRIES; k++)
            put32(s, pt + k * 4, ((i * NPTENTRIES + k) << PAGE_SHIFT) | PTE_P | PTE_W);
        put32(s, BOOT_PD_PA + i * 4, pt | PTE_P | PTE_W);
        put32(s, BOOT_PD_PA + (PDX(KERNEL_BASE) + i) * 4, pt | PTE_P | PTE_W);
    }

    /* Paging on, as the entry leaves it: architectural writes, counted and
     * traced as the kernel's are. */
    sim_write_cr(s, SIM_EV_CR4, cfg->cr4 & (CR4_PSE | CR4_PGE), BOOTLOAD_ENTRY_NAME);
    sim_write_cr(s, SIM_EV_CR3, BOOT_PD_PA, BOOTLOAD_ENTRY_NAME);
    sim_write_cr(s, SIM_EV_CR0, sim_mmu(s)->cr0 | CR0_PE | CR0_WP | CR0_PG, BOOTLOAD_ENTRY_NAME);
    return true;
}

/* Kernel side of a run, as the metal kernel's main does it: the module's
 * settings, boot, the workload if asked, then the figures. */
static void
bootload_kernel(void *arg)
{
    (void)arg;
    const struct boot_info *bi = (const struct boot_info *)(uintptr_t)(KERNEL_BASE + BOOT_INFO_PA);
    struct kmod_info info;
    if (kmod_open((KERNEL_BASE + BOOT_MODULE_PA), bl_module_len, &info) != KMOD_OK)
        arch_panic("bootload: the module the loader wrote is malformed");
    boot_set_kernel4m(info.flags & KMOD_FLAG_KERNEL4M);
    bl_res.boot = kernel_boot(bi, info.strategy, info.pmm);
    if (bl_res.boot == BOOT_OK && bl_with_workload)
        wl_execute(info.workload, &bl_res.wl);
    wl_publish();
}

static enum bootload_status
bootload_go(struct sim *s, const struct bootload_config *cfg, struct bootload_result *res,
            bool workload)
{
    enum bootload_status st;
    memset(&bl_res, 0, sizeof(bl_res));
    bl_res.boot = BOOT_BAD_INFO;
    wl_reset(); /* no operation runs while the entry sets up paging */
    if (!bootload_prepare(s, cfg, bl_res.setup_error, sizeof(bl_res.setup_error))) {
        st = BOOTLOAD_SETUP_FAILED;
    } else {
        bl_with_workload = workload;
        if (!sim_run(s, bootload_kernel, NULL))
            st = BOOTLOAD_STOPPED;
        else if (bl_res.boot != BOOT_OK)
            st = BOOTLOAD_BOOT_FAILED;
        else if (bl_res.wl.status != WL_OK)
            st = BOOTLOAD_WORKLOAD_FAILED;
        else
            st = BOOTLOAD_OK;
    }
    if (res != NULL)
        *res = bl_res;
    return st;
}

enum bootload_status
bootload_boot(struct sim *s, const struct bootload_config *cfg, struct bootload_result *res)
{
    return bootload_go(s, cfg, res, false);
}

enum bootload_status
bootload_run(struct sim *s, const struct bootload_config *cfg, struct bootload_result *res)
{
    return bootload_go(s, cfg, res, true);
}

static void
bootload_probe_kernel(void *arg)
{
    (void)arg;
    const struct boot_info *bi = (const struct boot_info *)(uintptr_t)(KERNEL_BASE + BOOT_INFO_PA);
    bl_probe = hwprobe_main(bi, (KERNEL_BASE + BOOT_MODULE_PA), bl_module_len);
}

enum bootload_status
bootload_probe(struct sim *s, const struct bootload_config *cfg, enum hwprobe_status *probe,
               char *err, size_t errlen)
{
    bl_probe = HWPROBE_OK;
    if (!bootload_prepare(s, cfg, err, errlen))
        return BOOTLOAD_SETUP_FAILED;
    bool ran = sim_run(s, bootload_probe_kernel, NULL);
    *probe = bl_probe;
    return ran ? BOOTLOAD_OK : BOOTLOAD_STOPPED;
}
