/*
 * bootload.c - the simulator's boot loader (bootload.h): the Multiboot-
 * style hand-over the bare-metal entry makes, written into simulated RAM,
 * and the runs of the shared kernel boot and workload executor.
 */
#include "sim/bootload.h"

#include <stdio.h>
#include <string.h>

#include "kernel/layout.h"

#define BOOTLOAD_NAME_MAX 32

/* Kernel code reads these: they must be the program's static data. */
static char bl_strategy[BOOTLOAD_NAME_MAX];
static char bl_pmm[BOOTLOAD_NAME_MAX];
static struct bootload_result bl_res;
static bool bl_with_workload;

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

bool
bootload_prepare(struct sim *s, const struct bootload_config *cfg, char *err, size_t errlen)
{
    uint64_t ram = sim_ram_size(s);
    uint64_t mod_bytes = sizeof(struct wl_header) + (uint64_t)cfg->nops * sizeof(struct wl_op);
    uint64_t mod_end = BOOTLOAD_MODULE_PA + mod_bytes;
    if (cfg->strategy == NULL || cfg->pmm == NULL || strlen(cfg->strategy) >= BOOTLOAD_NAME_MAX ||
        strlen(cfg->pmm) >= BOOTLOAD_NAME_MAX) {
        snprintf(err, errlen, "strategy and allocator names must be given, under %d characters",
                 BOOTLOAD_NAME_MAX);
        return false;
    }
    if (mod_end > EARLY_MAP_SIZE || mod_end + (1u << 20) > ram) {
        snprintf(err, errlen,
                 "the workload (%llu bytes at 2 MiB) and 1 MiB of placement memory must fit "
                 "in RAM (%llu KiB) and the 16 MiB early mapping",
                 (unsigned long long)mod_bytes, (unsigned long long)(ram >> 10));
        return false;
    }
    strcpy(bl_strategy, cfg->strategy);
    strcpy(bl_pmm, cfg->pmm);

    /* The boot information, as the entry digests the Multiboot one. */
    struct boot_info bi;
    memset(&bi, 0, sizeof(bi));
    bi.mmap[0] = (struct boot_mmap_entry){0, 0x9F000u, BOOT_MMAP_USABLE};
    bi.mmap[1] = (struct boot_mmap_entry){0x9F000u, KERNEL_LOAD_PA - 0x9F000u, 2};
    bi.mmap[2] = (struct boot_mmap_entry){KERNEL_LOAD_PA, (uint32_t)(ram - KERNEL_LOAD_PA),
                                          BOOT_MMAP_USABLE};
    bi.mmap_count = 3;
    bi.kernel_start = BOOTLOAD_IMAGE_START;
    bi.kernel_end = BOOTLOAD_IMAGE_END;
    bi.modules_start = BOOTLOAD_MODULE_PA;
    bi.modules_end = (uint32_t)mod_end;
    bi.early_map_size = EARLY_MAP_SIZE;
    memcpy(sim_phys(s, BOOTLOAD_INFO_PA, sizeof(bi)), &bi, sizeof(bi));

    /* The module: the op list. */
    struct wl_header hdr = {WL_MAGIC, cfg->nops, cfg->max_ops};
    memcpy(sim_phys(s, BOOTLOAD_MODULE_PA, sizeof(hdr)), &hdr, sizeof(hdr));
    if (cfg->nops > 0)
        memcpy(sim_phys(s, BOOTLOAD_MODULE_PA + sizeof(hdr), mod_bytes - sizeof(hdr)), cfg->ops,
               mod_bytes - sizeof(hdr));

    /* The boot directory: physical 0..16 MiB at 0 and at KERNEL_BASE. */
    uint32_t ntables = EARLY_MAP_SIZE / LPAGE_SIZE;
    for (uint32_t i = 0; i < ntables; i++) {
        paddr_t pt = BOOTLOAD_PT_PA + i * PAGE_SIZE;
        for (uint32_t k = 0; k < NPTENTRIES; k++)
            put32(s, pt + k * 4, ((i * NPTENTRIES + k) << PAGE_SHIFT) | PTE_P | PTE_W);
        put32(s, BOOTLOAD_PD_PA + i * 4, pt | PTE_P | PTE_W);
        put32(s, BOOTLOAD_PD_PA + (KERNEL_PDX + i) * 4, pt | PTE_P | PTE_W);
    }

    /* Paging on, as the entry leaves it: architectural writes, counted and
     * traced as the kernel's are. */
    sim_write_cr(s, SIM_EV_CR4, cfg->cr4 & (CR4_PSE | CR4_PGE), BOOTLOAD_ENTRY_NAME);
    sim_write_cr(s, SIM_EV_CR3, BOOTLOAD_PD_PA, BOOTLOAD_ENTRY_NAME);
    sim_write_cr(s, SIM_EV_CR0, sim_mmu(s)->cr0 | CR0_PE | CR0_WP | CR0_PG, BOOTLOAD_ENTRY_NAME);
    return true;
}

/* Kernel side of a run: boot, the workload if asked, then the figures. */
static void
bootload_kernel(void *arg)
{
    (void)arg;
    const struct boot_info *bi = (const struct boot_info *)(uintptr_t)P2V(BOOTLOAD_INFO_PA);
    bl_res.boot = kernel_boot(bi, bl_strategy, bl_pmm);
    if (bl_res.boot == BOOT_OK && bl_with_workload)
        wl_execute((const struct wl_header *)(uintptr_t)boot_modules_va(), &bl_res.wl);
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
