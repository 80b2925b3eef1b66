/* kern_basic.h - kernel-style test programs run on the simulator. */
#ifndef PAGESIM_TESTS_KERN_BASIC_H
#define PAGESIM_TESTS_KERN_BASIC_H

#include <stdint.h>

#define KT_PD_PA 0x00100000u
#define KT_PT0_PA 0x00101000u
#define KT_PT256_PA 0x00102000u
#define KT_DATA_PA 0x00200000u
#define KT_DATA2_PA 0x00201000u
#define KT_DATA3_PA 0x00202000u
#define KT_DATA_VA 0x40000000u

struct kt_result {
    uint32_t value;
    uint32_t faults;
};
extern struct kt_result kt_result;

void kt_recursive(void *arg);
/* As kt_recursive, but the remap without INVLPG is an atomic exchange of
 * the PTE (kt_result.value: the PTE it replaced). */
void kt_atomic_remap(void *arg);
void kt_paging_on(void *arg);
void kt_wild(void *arg);
void kt_unmapped(void *arg);
void kt_demand(void *arg);
void kt_fault_in_handler(void *arg);
void kt_panic(void *arg);
void kt_cross_page(void *arg);
void kt_user_access(void *arg);
void kt_null_mapped(void *arg);
void kt_null_unmapped(void *arg);
void kt_user_then_kernel(void *arg);
void kt_cross_retry(void *arg);
void kt_user_cross_refused(void *arg);
void kt_chain(void *arg);
/* Bumps a bss and a data counter; arg: uint32_t[2] gets their new values. */
void kt_count_runs(void *arg);
void kt_set_pae(void *arg);
void kt_regions(void *arg);
void kt_publish(void *arg);
/* Stores the word arg at KT_DATA_VA. */
void kt_store_data(void *arg);
/* Reads the word at KT_DATA_VA, stores it back twice, then stores arg
 * there: the last store is the third to a page whose TLB entry is dirty. */
void kt_store_back_then(void *arg);

#endif
