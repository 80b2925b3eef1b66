/*
 * hwprobe.h - the randomized paging differential, run by the same kernel
 * code on both builds: from a seed the kernel builds a page directory and
 * page tables with random flags at both levels, 4 KiB and 4 MiB pages and
 * random frames, then probes addresses with supervisor and user (ring 3)
 * reads and writes under CR0.WP 0 and 1, and records what each probe did.
 * `pagesim boot --probe` boots kernel.elf on QEMU and runs the simulator
 * with the same request, and compares the records.
 *
 * The request is the boot module, in place of a workload module
 * (kernel/module.h); its magic tells them apart.  32-bit little-endian
 * words:
 *
 *   offset  size  field
 *        0     4  magic    HWPROBE_MAGIC ("PGHP")
 *        4     4  version  HWPROBE_VERSION
 *        8     4  length   bytes of the whole module: sizeof(struct hwprobe_module)
 *       12     4  seed     the first seed
 *       16     4  seeds    how many seeds: seed, seed + 1, ... (1 to HWPROBE_MAX_SEEDS)
 *       20     4  probes   probes per seed (1 to HWPROBE_MAX_PROBES)
 *       24     4  records  1: log every record; 0: only each seed's digest
 *
 * Physical memory (both builds boot with HWPROBE_RAM and the same memory
 * map, kernel/bootlayout.h):
 *
 *   HWPROBE_TABLES_PA           the probe's page directory, then one page
 *                               table per directory slot (below 16 MiB)
 *   16 MiB .. top               the pool: every frame a random entry maps,
 *                               top = the end of the usable RAM that holds
 *                               16 MiB, rounded down to 4 MiB (at most 768 MiB)
 *   top - 4 MiB .. top          also the escape page (below)
 *
 * The directory maps the kernel half as the boot directory does (its PDEs
 * are copied) plus the pool as 4 MiB supervisor pages at P2V, so the
 * kernel reaches every frame of the pool; its user half holds
 * HWPROBE_SLOTS random PDEs at random indices in [1, HWPROBE_LAST_PDX]
 * and nothing else (PDE 0 is left out: the simulator's host cannot map the
 * lowest addresses).  Present entries point inside the pool (4 KiB frames,
 * 4 MiB regions) or, for a PDE of a table, at that slot's table; a 4 MiB
 * PDE sometimes has its reserved bit 21 set.  Bits 20:13 of a 4 MiB PDE
 * stay 0 (physical address bits above 31).  Non-present entries hold
 * random bits.
 *
 * One probe: a random slot, page, 4-byte aligned offset, access (supervisor
 * or user, read or write) and CR0.WP.  Before it the kernel writes marker
 * words at the physical address the generated entries translate the
 * address to and at its place in the escape page, sets CR0.WP and
 * invalidates the address (INVLPG), so no TLB entry from earlier matters.
 * A page fault is recorded (CR2, error code, the PDE and PTE as the fault
 * left them) and resolved by pointing the address's PDE at the escape page
 * (a 4 MiB page, present, writable, user, A and D set), so the access
 * completes there.  After it the PDE and PTE are recorded (as the access
 * left them, unless it faulted), then set back to their generated values
 * and the address invalidated again.
 *
 * Log lines (arch_log), all numbers hex except SEED, I and PROBES: with
 * records, one per probe (struct hwprobe_record),
 *
 *   probe SEED I VA ACC WP F ERR CR2 PDE PTE VALUE
 *
 * and after each seed's probes, with or without records,
 *
 *   probe-seed SEED PROBES DIGEST
 *
 * where DIGEST folds the seed's records in order (hwprobe_digest): printing
 * every record through QEMU's emulated serial port costs far more than the
 * probes themselves.  In a record line:
 *
 *   ACC    0 supervisor read, 1 supervisor write, 2 user read, 3 user write
 *          (bit 0 write, bit 1 user)
 *   WP     CR0.WP during the access
 *   F      1 if the access page-faulted; then ERR is the error code and CR2
 *          the faulting address, else both 0
 *   PDE    the address's PDE after the access (when it faulted: as the
 *          fault left it)
 *   PTE    likewise, the entry the address selects in its slot's page table,
 *          or - for a slot of 4 MiB pages
 *   VALUE  a read: the word read; a write: the word at the physical address
 *          the access was meant to reach after it (the escape page's if it
 *          faulted)
 */
#ifndef PAGESIM_HWPROBE_H
#define PAGESIM_HWPROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/boot.h"
#include "mmu/x86.h"

#define HWPROBE_MAGIC 0x50484750u /* "PGHP" */
#define HWPROBE_VERSION 1u
#define HWPROBE_MAX_SEEDS 1000u
#define HWPROBE_MAX_PROBES 100000u
#define HWPROBE_RAM (128ull << 20)    /* the machine both builds boot */
#define HWPROBE_TABLES_PA 0x00800000u /* directory, then the slots' tables */
#define HWPROBE_POOL_PA 0x01000000u   /* 16 MiB: the pool starts here */
#define HWPROBE_SLOTS 16u             /* random PDEs of the user half */
#define HWPROBE_LAST_PDX 767u         /* highest PDE a slot may use */
#define HWPROBE_ACC_WRITE 1u          /* ACC bits of a log line */
#define HWPROBE_ACC_USER 2u

struct hwprobe_module {
    uint32_t magic;
    uint32_t version;
    uint32_t length;
    uint32_t seed;
    uint32_t seeds;
    uint32_t probes;
    uint32_t records;
};

/* What one probe did: the fields of its record line, in order; has_pte is
 * 0 when PTE is printed as -. */
struct hwprobe_record {
    uint32_t seed, index, va, acc, wp, fault, err, cr2, pde, pte, has_pte, value;
};

#define HWPROBE_DIGEST_INIT 0x811C9DC5u /* FNV-1a's offset basis */

/* Folds r into the digest h: 32-bit FNV-1a over its words' bytes, each
 * word little-endian, in field order.  A seed's digest starts from
 * HWPROBE_DIGEST_INIT and folds its records in probe order. */
static inline uint32_t
hwprobe_digest(uint32_t h, const struct hwprobe_record *r)
{
    const uint32_t w[12] = {r->seed, r->index, r->va,  r->acc, r->wp,      r->fault,
                            r->err,  r->cr2,   r->pde, r->pte, r->has_pte, r->value};
    for (unsigned k = 0; k < 12; k++)
        for (unsigned b = 0; b < 32; b += 8) {
            h ^= (w[k] >> b) & 0xFFu;
            h *= 0x01000193u;
        }
    return h;
}

enum hwprobe_status {
    HWPROBE_OK = 0,
    HWPROBE_BAD_VERSION, /* written for another version of the format */
    HWPROBE_BAD_LENGTH,  /* the length field or the module's size is not the format's */
    HWPROBE_BAD_FIELD,   /* seeds, probes or records out of range, or the seeds wrap past 2^32 */
};

/* Returns a short constant description of st. */
const char *hwprobe_strerror(enum hwprobe_status st);

/* True if the len-byte module at kernel virtual address va is a probe
 * request (its magic is HWPROBE_MAGIC), valid or not. */
bool hwprobe_is_request(vaddr_t va, uint32_t len);

/*
 * Runs the probe request at va (len bytes) on the machine bi describes,
 * as described above, logging its lines; CR4.PSE and CR4.PGE are set
 * and the probe's directory is left in CR3.  Returns HWPROBE_OK, or why
 * the request is rejected (nothing is run).  Panics if the usable RAM from
 * 16 MiB up is smaller than three 4 MiB regions.
 */
enum hwprobe_status hwprobe_main(const struct boot_info *bi, vaddr_t va, uint32_t len);

#endif
