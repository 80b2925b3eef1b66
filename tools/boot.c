/*
 * boot.c - `pagesim boot` (boot.h): writes the scenario's module, boots
 * kernel.elf on qemu-system-i386 (directly, or from a GRUB rescue ISO),
 * reads the kernel's COM1 report (kernel/metal/report.h) and shows it as
 * `pagesim run` does; --vs-sim runs the simulator on the same module and
 * compares outcomes, the kernel's figures and the final page tables.
 */
#define _GNU_SOURCE
#include "tools/boot.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel/metal/multiboot.h"
#include "kernel/metal/report.h"
#include "kernel/module.h"
#include "kernel/ptdump.h"
#include "sim/bootload.h"
#include "tools/plugin.h"
#include "tools/probe.h"
#include "tools/report.h"
#include "tools/runner.h"

static const char *prog = "pagesim boot";

/* --inject: deliberate faults that test how each failure is reported. */
struct inject {
    const char *name;
    int kernel; /* enum kmod_inject, or -1 for a fault of the module itself */
};
static const struct inject injects[] = {
    {"wild-pointer", KMOD_INJECT_WILD_POINTER},
    {"triple-fault", KMOD_INJECT_TRIPLE_FAULT},
    {"hang", KMOD_INJECT_HANG},
    {"noise", KMOD_INJECT_NOISE},
    {"general-protection", KMOD_INJECT_GP},
    {"double-fault", KMOD_INJECT_DOUBLE_FAULT},
    {"bad-module", -1},
};
#define INJECT_NAMES                                                                               \
    "wild-pointer, general-protection, double-fault, triple-fault, hang, noise, bad-module"

static const struct inject *
inject_find(const char *name)
{
    for (size_t i = 0; i < sizeof(injects) / sizeof(injects[0]); i++)
        if (strcmp(injects[i].name, name) == 0)
            return &injects[i];
    return NULL;
}

struct boot_opts {
    const char *strategy, *pmm, *qemu, *kernel, *kernel4m;
    const struct inject *inject;
    double timeout;
    bool vs_sim, grub, gdb, timeout_set;
    bool probe, probes_set; /* --probe: the request in probe_req */
    struct probe_request probe_req;
    const char *plugins[PLUGIN_MAX]; /* --plugin, for the simulator's side */
    unsigned nplugins;
};

void
bootcmd_usage(FILE *out)
{
    fprintf(
        out,
        "usage: pagesim boot SCENARIO [options]\n"
        "       pagesim boot --probe SEEDS [--probes N] [--grub] [--timeout S] [--qemu PATH]\n"
        "                    [--kernel FILE.elf]\n\n"
        "Boots the bare-metal kernel (kernel.elf, next to pagesim or in its installed\n"
        "lib/pagesim/) on qemu-system-i386 with the scenario's workload as a Multiboot\n"
        "module, and shows the kernel's report.\n\n"
        "  --kernel FILE.elf  boot this Multiboot kernel instead (one linked by\n"
        "                     pagesim_add_metal_kernel, with a plug-in's strategy)\n"
        "  --strategy NAME    paging strategy (default: the scenario's)\n"
        "  --pmm NAME         frame allocator: bitmap or stack (default: the scenario's)\n"
        "  --kernel4m on|off  the kernel half's early 16 MiB in 4 MiB pages (needs pse),\n"
        "                     over the scenario's kernel4m=, for both builds\n"
        "  --grub             boot a GRUB rescue ISO (grub-mkrescue) instead of -kernel\n"
        "  --vs-sim           also run the simulator and compare: outcome, the kernel's\n"
        "                     figures, every page directory and table (exit 1 on a difference)\n"
        "  --plugin FILE.so   load a plug-in (repeatable), as run's --plugin does: its\n"
        "                     strategies can be named, and --vs-sim's simulator runs them\n"
        "  --gdb              start QEMU halted with its gdb stub and print the gdb command\n"
        "  --timeout S        give up after S seconds (default 120; with --gdb: none)\n"
        "  --qemu PATH        the QEMU binary (default: qemu-system-i386 from PATH)\n"
        "  --inject FAULT     a deliberate fault, to test how it is reported:\n"
        "                     " INJECT_NAMES "\n"
        "  --probe SEEDS      no scenario: the paging differential instead.  For each seed\n"
        "                     (N, or A-B) the kernel builds random page tables and probes\n"
        "                     them with supervisor and user reads and writes under CR0.WP 0\n"
        "                     and 1; the simulator runs the same seeds and every probe's\n"
        "                     record must agree, as with --vs-sim (exit 1 on a difference)\n"
        "  --probes N         probes per seed (default %u; at most %u in all)\n\n"
        "exit status:\n",
        PROBE_DEFAULT_PROBES, PROBE_MAX_RECORDS);
#define X(id, code, desc) fprintf(out, "  %d  %s\n", code, desc);
    BOOTCMD_EXITS(X)
#undef X
}

/* ---- tools and files ---- */

/* The program name found in PATH (or name itself if it has a slash) in out. */
static bool
find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/') != NULL) {
        snprintf(out, len, "%s", name);
        return access(name, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/bin:/bin";
    while (*path != '\0') {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        snprintf(out, len, "%.*s/%s", (int)n, path, name);
        if (n > 0 && access(out, X_OK) == 0)
            return true;
        path += n + (end ? 1 : 0);
    }
    return false;
}

/* --kernel FILE, else kernel.elf next to this program (the build tree),
 * else in the installed lib/pagesim/, else where the build put it. */
static bool
find_kernel(const struct boot_opts *o, char *out, size_t len)
{
    if (o->kernel != NULL) {
        snprintf(out, len, "%s", o->kernel);
        return access(out, R_OK) == 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(out, len, "%s/kernel.elf", self);
            if (access(out, R_OK) == 0)
                return true;
#ifdef PAGESIM_KERNEL_ELF_FROM_BIN
            snprintf(out, len, "%s/%s", self, PAGESIM_KERNEL_ELF_FROM_BIN);
            if (access(out, R_OK) == 0)
                return true;
#endif
        }
    }
#ifdef PAGESIM_KERNEL_ELF
    snprintf(out, len, "%s", PAGESIM_KERNEL_ELF);
    return access(out, R_OK) == 0;
#else
    return false;
#endif
}

static bool
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *b = realloc(buf, 2 * cap + 1);
            if (b == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* Runs argv to its end with stdout and stderr to log; its exit status, or -1. */
static int
run_tool(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (f != NULL)
            dup2(fileno(f), 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* ---- the metal run ---- */

enum qemu_end { QEMU_EXITED, QEMU_TIMEOUT, QEMU_FAILED };

/* Starts QEMU with args, waits up to timeout seconds (<= 0: forever). */
static enum qemu_end
run_qemu(char *const argv[], const char *log, double timeout, int *status)
{
    pid_t pid = fork();
    if (pid < 0)
        return QEMU_FAILED;
    if (pid == 0) {
        setpgid(0, 0);
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        execv(argv[0], argv);
        _exit(127);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (!WIFEXITED(st))
                return QEMU_FAILED;
            *status = WEXITSTATUS(st);
            return *status == 127 ? QEMU_FAILED : QEMU_EXITED;
        }
        if (r < 0)
            return QEMU_FAILED;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        if (timeout > 0 && el > timeout) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return QEMU_TIMEOUT;
        }
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

/* The kernel's figures as it printed them (kernel/metal/report.h's line
 * format: NAME=VALUE pairs, the names kernel/figures.h publishes). */
#define BOOT_MAX_FIGURES 64
struct figures {
    bool seen;
    unsigned n;
    char name[BOOT_MAX_FIGURES][32];
    uint32_t value[BOOT_MAX_FIGURES];
};

static bool
parse_figures(char *s, struct figures *f)
{
    memset(f, 0, sizeof(*f));
    for (char *save = NULL, *tok = strtok_r(s, " ", &save); tok != NULL;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL || (size_t)(eq - tok) >= sizeof(f->name[0]) || f->n == BOOT_MAX_FIGURES)
            return false;
        *eq = '\0';
        char *end;
        errno = 0;
        unsigned long v = strtoul(eq + 1, &end, 10);
        if (*end != '\0' || errno != 0 || v > UINT32_MAX)
            return false;
        snprintf(f->name[f->n], sizeof(f->name[0]), "%s", tok);
        f->value[f->n++] = (uint32_t)v;
    }
    f->seen = true;
    return true;
}

/* run_figure_fn over a struct figures. */
static bool
figure_of(void *ctx, const char *name, uint32_t *value)
{
    const struct figures *f = ctx;
    for (unsigned i = 0; i < f->n; i++) {
        if (strcmp(f->name[i], name) == 0) {
            *value = f->value[i];
            return true;
        }
    }
    return false;
}

/* What the kernel printed on COM1. */
struct metal_report {
    bool banner, has_result, has_exit;
    char bad_module[256];
    uint32_t boot, wl, op, line;
    struct figures boot_fig, end_fig; /* at WL_MARK_WORKLOAD, after the workload */
    struct figures *marks;
    bool has_stop;
    char stop_kind[32];
    uint32_t cr2, err, eip, cr0, cr3, cr4, pde_addr, pde, pte_addr, pte;
    char stop_msg[256];
    char exit_name[32];
    char **pt; /* page-table dump lines */
    size_t npt;
    /* What kernel/hwprobe.h logged (pagesim boot --probe). */
    struct probe_log probes;
    char bad_line[160]; /* the first line that is not part of a report */
};

static void
metal_report_free(struct metal_report *m)
{
    for (size_t i = 0; i < m->npt; i++)
        free(m->pt[i]);
    free(m->pt);
    probe_log_free(&m->probes);
    free(m->marks);
}

static bool
push_line(char ***v, size_t *n, const char *s)
{
    if ((*n & (*n - 1)) == 0) {
        char **nv = realloc(*v, (*n ? *n * 2 : 64) * sizeof(**v));
        if (nv == NULL)
            return false;
        *v = nv;
    }
    (*v)[*n] = strdup(s);
    return (*v)[(*n)++] != NULL;
}

static bool
parse_line(char *line, struct metal_report *m, uint32_t nmarks)
{
    char *rest = strchr(line, ' ');
    char *key = line;
    if (rest != NULL)
        *rest++ = '\0';
    else
        rest = line + strlen(line);
    if (strcmp(key, "pagesim-metal") == 0)
        return m->banner = atoi(rest) == METAL_REPORT_VERSION;
    if (!m->banner)
        return true; /* whatever came before the kernel started */
    if (strcmp(key, "log") == 0 && strncmp(rest, "probe", 5) == 0)
        return probe_log_push(&m->probes, rest);
    if (strcmp(key, "mmap") == 0 || strcmp(key, "log") == 0 || strcmp(key, "region") == 0)
        return true;
    if (strcmp(key, "bad-module") == 0) {
        snprintf(m->bad_module, sizeof(m->bad_module), "%s", rest);
        return true;
    }
    if (strcmp(key, "pt") == 0)
        return push_line(&m->pt, &m->npt, rest);
    if (strcmp(key, "mark") == 0) {
        char *end;
        unsigned long id = strtoul(rest, &end, 10);
        if (*end != ' ')
            return false;
        struct figures f;
        if (!parse_figures(end + 1, &f))
            return false;
        if (id == WL_MARK_WORKLOAD)
            m->boot_fig = f;
        else if (id < nmarks)
            m->marks[id] = f;
        return true;
    }
    if (strcmp(key, "end") == 0)
        return parse_figures(rest, &m->end_fig);
    if (strcmp(key, "result") == 0)
        return m->has_result = sscanf(rest, "%u %u %u %u", &m->boot, &m->wl, &m->op, &m->line) == 4;
    if (strcmp(key, "stop") == 0) {
        int used = 0;
        if (sscanf(rest, "%31s %x %x %x %x %x %x %x %x %x %x %n", m->stop_kind, &m->cr2, &m->err,
                   &m->eip, &m->cr0, &m->cr3, &m->cr4, &m->pde_addr, &m->pde, &m->pte_addr, &m->pte,
                   &used) < 11)
            return false;
        snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", rest + used);
        return m->has_stop = true;
    }
    if (strcmp(key, "exit") == 0) {
        snprintf(m->exit_name, sizeof(m->exit_name), "%s", rest);
        return m->has_exit = true;
    }
    return false;
}

/* Parses the serial log; false (bad_line set) if it is not a kernel report. */
static bool
parse_serial(char *text, struct metal_report *m, uint32_t nmarks)
{
    m->marks = calloc(nmarks + 1, sizeof(*m->marks));
    if (m->marks == NULL)
        return false;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        while (l > 0 && line[l - 1] == '\r')
            line[--l] = '\0';
        char copy[160];
        snprintf(copy, sizeof(copy), "%s", line);
        if (!parse_line(line, m, nmarks)) {
            snprintf(m->bad_line, sizeof(m->bad_line), "%s", copy);
            return false;
        }
    }
    return m->banner;
}

static const char *
error_kind(uint32_t err)
{
    return (err & PF_ERR_P) ? "protection" : "not present";
}

/* The stop as the simulator words its own (sim_format_stop). */
static void
format_metal_stop(const struct metal_report *m, char *buf, size_t len)
{
    size_t n = 0;
#define OUT(...)                                                                                   \
    do {                                                                                           \
        if (n < len)                                                                               \
            n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);                                  \
    } while (0)
    OUT("run stopped: %s at EIP 0x%08x\n", m->stop_kind, m->eip);
    if (m->stop_msg[0] != '\0')
        OUT("  %s\n", m->stop_msg);
    if (strncmp(m->stop_kind, "page-fault", 10) == 0) {
        OUT("  CR2=0x%08x error=0x%x (%s, %s, %s%s)\n", m->cr2, m->err, error_kind(m->err),
            (m->err & PF_ERR_W) ? "write" : "read", (m->err & PF_ERR_U) ? "user" : "supervisor",
            (m->err & PF_ERR_RSVD) ? ", reserved bit" : "");
        OUT("  PDE[%u] @0x%08x = 0x%08x\n", PDX(m->cr2), m->pde_addr, m->pde);
        if (m->pte_addr != 0)
            OUT("  PTE[%u] @0x%08x = 0x%08x\n", PTX(m->cr2), m->pte_addr, m->pte);
    } else if (strcmp(m->stop_kind, "panic") != 0) {
        OUT("  error code 0x%x, CR2=0x%08x\n", m->err, m->cr2);
    }
    OUT("  CR0=0x%08x CR3=0x%08x CR4=0x%08x", m->cr0, m->cr3, m->cr4);
#undef OUT
}

/* Counters from the kernel's figures: the kernel's own counts of INVLPG and
 * CR3 writes stand for the MMU's (the kernel makes no others; --vs-sim
 * holds them against the model's). */
static void
figures_counters(const struct figures *f, uint64_t ram, struct counters *c)
{
    uint32_t v;
    memset(c, 0, sizeof(*c));
    run_kernel_counters(figure_of, (void *)f, ram, c);
    c->v[CTR_INVLPG] = figure_of((void *)f, "vmm.invlpg", &v) ? v : 0;
    c->v[CTR_CR3_WRITES] = figure_of((void *)f, "vmm.cr3_writes", &v) ? v : 0;
}

/* The counters a metal run measures. */
static uint64_t
metal_unmeasured(void)
{
    /* invlpg and cr3_writes (the kernel's own counts), and every counter
     * run_kernel_counters makes from the kernel's figures. */
    static const int measured[] = {
        CTR_INVLPG,           CTR_CR3_WRITES,  CTR_FOREIGN_SWITCHES, CTR_TEMPMAP_MAPS,
        CTR_TEMPMAP_REUSES,   CTR_PD_FRAMES,   CTR_PT_FRAMES,        CTR_PT_USER_FRAMES,
        CTR_PT_KERNEL_FRAMES, CTR_DATA_FRAMES, CTR_HEAP_FRAMES,      CTR_BOOT_FRAMES,
        CTR_FRAMES_USED,      CTR_HEAP_USED,   CTR_HEAP_WASTED,      CTR_HEAP_PAGING,
        CTR_KVA_BYTES,        CTR_REACH_BYTES,
    };
    uint64_t mask = CTR_COUNT == 64 ? ~0ull : (1ull << CTR_COUNT) - 1;
    for (size_t i = 0; i < sizeof(measured) / sizeof(measured[0]); i++)
        mask &= ~(1ull << measured[i]);
    return mask;
}

/* Turns a parsed report into a run_result as the report writer takes it. */
static void
metal_result(const struct scenario *sc, const char *strategy, const struct metal_report *m,
             const struct cost_model *cm, struct run_result *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->strategy, sizeof(r->strategy), "%s", strategy);
    r->nmarks = sc->nmarks;
    r->marks = calloc(sc->nmarks + 1, sizeof(*r->marks));
    r->reached = calloc(sc->nmarks + 1, sizeof(*r->reached));
    r->unmeasured = metal_unmeasured();
    snprintf(r->pmm, sizeof(r->pmm), "%s", run_default_pmm(sc, strategy));
    r->ok = m->has_result && m->boot == BOOT_OK && m->wl == WL_OK && !m->has_stop;
    /* As run_scenario: a stop or the op limit is "stopped". */
    r->stopped = m->has_stop || (m->has_result && m->boot == BOOT_OK && m->wl == WL_LIMIT);
    if (m->has_result && !m->has_stop && m->boot != BOOT_OK)
        r->boot_status = (enum boot_status)m->boot;
    else if (m->has_result && !m->has_stop && m->wl != WL_OK) {
        r->wl_status = (enum wl_status)m->wl;
        r->line = m->line;
    }
    if (m->has_stop) {
        format_metal_stop(m, r->error, sizeof(r->error));
    } else if (r->boot_status != BOOT_OK) {
        snprintf(r->error, sizeof(r->error), "kernel boot failed: %s",
                 boot_strerror(r->boot_status));
    } else if (r->wl_status != WL_OK) {
        /* The report does not say which space or allocation the op was about. */
        struct wl_error e = {r->wl_status, m->op, m->line, WL_NO_OBJECT};
        run_describe_wl(sc, &e, 0, r->error, sizeof(r->error));
    }
    r->boot_done = m->boot_fig.seen;
    if (r->boot_done)
        figures_counters(&m->boot_fig, sc->ram_size, &r->boot);
    if (m->end_fig.seen)
        figures_counters(&m->end_fig, sc->ram_size, &r->final);
    if (r->boot_done && m->end_fig.seen)
        counters_since(&r->final, &r->boot, cm);
    for (uint32_t i = 0; r->marks != NULL && i < sc->nmarks; i++) {
        if (!m->marks[i].seen)
            continue;
        r->reached[i] = true;
        figures_counters(&m->marks[i], sc->ram_size, &r->marks[i]);
        if (r->boot_done)
            counters_since(&r->marks[i], &r->boot, cm);
    }
    uint32_t unreachable = 0, reach = 0;
    if (m->end_fig.seen && figure_of((void *)&m->end_fig, "vmm.unreachable_frames", &unreachable) &&
        unreachable != 0 && figure_of((void *)&m->end_fig, "vmm.reach_frames", &reach))
        r->reach_limit_mb = reach >> (20 - PAGE_SHIFT);
}

/* ---- the simulator's side of --vs-sim ---- */

struct sim_dump {
    struct sim *s;
    char **lines;
    size_t n;
    bool failed;
};

static void
sim_dump_read(void *ctx, paddr_t pa, uint32_t *words)
{
    struct sim_dump *d = ctx;
    void *p = sim_phys(d->s, pa, PAGE_SIZE);
    if (p == NULL)
        memset(words, 0xFF, PAGE_SIZE);
    else
        memcpy(words, p, PAGE_SIZE);
}

static void
sim_dump_emit(void *ctx, const char *line)
{
    struct sim_dump *d = ctx;
    if (!push_line(&d->lines, &d->n, line))
        d->failed = true;
}

/* At the end of the simulator's run, inside the machine: the same dump. */
static void
sim_dump_view(void *ctx, struct sim *s, const struct run_space *spaces, unsigned nspaces)
{
    (void)spaces;
    (void)nspaces;
    struct sim_dump *d = ctx;
    d->s = s;
    ptdump_spaces(sim_dump_read, sim_dump_emit, d);
}

/* ---- comparing the page-table dumps ---- */

/* One entry of a dump: key orders space, then its directory, then its tables. */
struct pt_entry {
    uint64_t key; /* space << 32 | kind << 20 | pdx << 10 | ptx */
    uint32_t value;
};
enum { PT_SPACE = 0, PT_PDE = 1, PT_PTE = 2 };

static bool
push_entry(struct pt_entry **v, size_t *n, uint64_t key, uint32_t value)
{
    if ((*n & (*n - 1)) == 0) {
        struct pt_entry *nv = realloc(*v, (*n ? *n * 2 : 256) * sizeof(**v));
        if (nv == NULL)
            return false;
        *v = nv;
    }
    (*v)[(*n)++] = (struct pt_entry){key, value};
    return true;
}

/* Expands dump lines (kernel/ptdump.h) into entries; false if malformed. */
static bool
expand_dump(char **lines, size_t nlines, struct pt_entry **out, size_t *n)
{
    uint64_t space = 0;
    uint32_t table = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < nlines; i++) {
        unsigned a, b, v;
        if (sscanf(lines[i], "space %u pd %x", &a, &v) == 2) {
            space = a;
            if (!push_entry(out, n, space << 32 | (uint64_t)PT_SPACE << 20, v))
                return false;
        } else if (sscanf(lines[i], "pde %u %x", &a, &v) == 2 && a < NPDENTRIES) {
            if (!push_entry(out, n, space << 32 | (uint64_t)PT_PDE << 20 | (uint64_t)a << 10, v))
                return false;
        } else if (sscanf(lines[i], "pt %u", &a) == 1 && a < NPDENTRIES) {
            table = a;
        } else if (sscanf(lines[i], "pte %u %u %x", &a, &b, &v) == 3 && a <= b && b < NPTENTRIES) {
            for (unsigned k = a; k <= b; k++)
                if (!push_entry(out, n,
                                space << 32 | (uint64_t)PT_PTE << 20 | (uint64_t)table << 10 | k,
                                v + (k - a) * PAGE_SIZE))
                    return false;
        } else {
            return false;
        }
    }
    return true;
}

/* The bits of an entry the comparison ignores (ptdump_ignored_bits). */
static uint32_t
ignored(uint64_t key)
{
    uint32_t kind = (key >> 20) & 3, pdx = (key >> 10) & 0x3FF, ptx = key & 0x3FF;
    if (kind == PT_PDE)
        return ptdump_ignored_bits(pdx << PDX_SHIFT, LPAGE_SIZE);
    if (kind == PT_PTE)
        return ptdump_ignored_bits(PGADDR(pdx, ptx, 0), PAGE_SIZE);
    return 0;
}

static void
describe_key(uint64_t key, char *buf, size_t len)
{
    uint32_t space = (uint32_t)(key >> 32), kind = (key >> 20) & 3, pdx = (key >> 10) & 0x3FF,
             ptx = key & 0x3FF;
    if (kind == PT_SPACE)
        snprintf(buf, len, "space %u directory", space);
    else if (kind == PT_PDE)
        snprintf(buf, len, "space %u PDE %u", space, pdx);
    else
        snprintf(buf, len, "space %u PDE %u PTE %u (va 0x%08x)", space, pdx, ptx,
                 PGADDR(pdx, ptx, 0));
}

/* Prints every difference of the two dumps; returns how many there are. */
static size_t
compare_dumps(FILE *out, const struct pt_entry *a, size_t na, const struct pt_entry *b, size_t nb,
              size_t *compared)
{
    size_t i = 0, j = 0, diffs = 0;
    *compared = 0;
    while (i < na || j < nb) {
        char what[96];
        if (j >= nb || (i < na && a[i].key < b[j].key)) {
            describe_key(a[i].key, what, sizeof(what));
            fprintf(out, "  ! %-40s metal 0x%08x   sim (none)\n", what, a[i].value);
            i++;
            diffs++;
        } else if (i >= na || b[j].key < a[i].key) {
            describe_key(b[j].key, what, sizeof(what));
            fprintf(out, "  ! %-40s metal (none)       sim 0x%08x\n", what, b[j].value);
            j++;
            diffs++;
        } else {
            uint32_t mask = ~ignored(a[i].key);
            (*compared)++;
            if ((a[i].value & mask) != (b[j].value & mask)) {
                describe_key(a[i].key, what, sizeof(what));
                fprintf(out, "  ! %-40s metal 0x%08x   sim 0x%08x\n", what, a[i].value, b[j].value);
                diffs++;
            }
            i++;
            j++;
        }
    }
    return diffs;
}

/* The outcome of a failed run, from the kernel's own statuses, in words
 * both builds share. */
static void
failure_outcome(enum boot_status boot, enum wl_status wl, uint32_t line, char *buf, size_t len)
{
    if (boot != BOOT_OK)
        snprintf(buf, len, "boot failed: %s", boot_strerror(boot));
    else
        snprintf(buf, len, "line %u refused: %s", line, wl_strerror(wl));
}

static void
metal_outcome(const struct metal_report *m, char *buf, size_t len)
{
    if (m->has_stop && strncmp(m->stop_kind, "page-fault", 10) == 0)
        snprintf(buf, len, "%s CR2=0x%08x error=0x%x",
                 strcmp(m->stop_kind, "page-fault") == 0 ? "page fault"
                                                         : "page fault in the page-fault handler",
                 m->cr2, m->err);
    else if (m->has_stop && strcmp(m->stop_kind, "panic") == 0)
        snprintf(buf, len, "panic: %s", m->stop_msg);
    else if (m->has_stop)
        snprintf(buf, len, "%s", m->stop_kind);
    else if (m->has_result && (m->boot != BOOT_OK || m->wl != WL_OK))
        failure_outcome((enum boot_status)m->boot, (enum wl_status)m->wl, m->line, buf, len);
    else
        snprintf(buf, len, "completed");
}

static void
sim_outcome(const struct run_result *r, char *buf, size_t len)
{
    const struct sim_stop *st = &r->stop;
    if (r->ok)
        snprintf(buf, len, "completed");
    else if (st->kind == SIM_STOP_PAGE_FAULT || st->kind == SIM_STOP_DOUBLE_FAULT)
        snprintf(buf, len, "%s CR2=0x%08x error=0x%x", sim_stop_kind_name(st->kind), st->cr2,
                 st->error_code);
    else if (st->kind == SIM_STOP_PANIC)
        snprintf(buf, len, "panic: %s", st->msg);
    else if (st->kind != SIM_STOP_NONE)
        snprintf(buf, len, "%s", sim_stop_kind_name(st->kind));
    else if (r->boot_status != BOOT_OK || r->wl_status != WL_OK)
        failure_outcome(r->boot_status, r->wl_status, r->line, buf, len);
    else
        snprintf(buf, len, "%s", r->error);
}

/* Prints both runs side by side, every difference marked; returns the count. */
static size_t
report_vs_sim(FILE *out, const struct scenario *sc, const char *pmm, const struct metal_report *m,
              const struct run_result *mr, const struct run_result *sr, struct sim_dump *sd)
{
    size_t diffs = 0;
    char mo[300], so[300];
    metal_outcome(m, mo, sizeof(mo));
    sim_outcome(sr, so, sizeof(so));
    fprintf(out, "pagesim boot --vs-sim: %s, strategy %s, frames %s, %llu MiB RAM\n\n", sc->file,
            mr->strategy, pmm, (unsigned long long)(sc->ram_size >> 20));
    bool same = strcmp(mo, so) == 0;
    diffs += !same;
    if (!m->end_fig.seen) {
        fprintf(out, "! the kernel reported no figures\n");
        diffs++;
    }
    fprintf(out, "%s outcome\n    metal: %s\n    sim:   %s\n\n", same ? " " : "!", mo, so);
    fprintf(out, "  %-*s %14s %14s\n", COUNTER_NAME_WIDTH, "", "metal", "sim");
    for (int i = 0; i < CTR_COUNT; i++) {
        bool measured = !(mr->unmeasured & (1ull << i));
        char sv[32];
        snprintf(sv, sizeof(sv), "%llu", (unsigned long long)sr->final.v[i]);
        if (!measured) {
            fprintf(out, "  %-*s %14s %14s  (model only)\n", COUNTER_NAME_WIDTH,
                    counter_info[i].name, "-", sv);
            continue;
        }
        bool eq = mr->final.v[i] == sr->final.v[i];
        diffs += !eq;
        fprintf(out, "%s %-*s %14llu %14s\n", eq ? " " : "!", COUNTER_NAME_WIDTH,
                counter_info[i].name, (unsigned long long)mr->final.v[i], sv);
    }
    struct pt_entry *a = NULL, *b = NULL;
    size_t na = 0, nb = 0, compared = 0;
    fprintf(out,
            "\nPage directories and tables (A/D bits of the kernel image area "
            "0x%08x-0x%08x not compared):\n",
            PTDUMP_AD_EXCLUDED_START, PTDUMP_AD_EXCLUDED_END - 1);
    if (!mr->ok || !sr->ok) {
        fprintf(out, "  not compared: a run did not complete\n");
    } else if (sd->failed || !expand_dump(m->pt, m->npt, &a, &na) ||
               !expand_dump(sd->lines, sd->n, &b, &nb)) {
        fprintf(out, "! a dump is malformed\n");
        diffs++;
    } else {
        size_t d = compare_dumps(out, a, na, b, nb, &compared);
        diffs += d;
        fprintf(out, "%s %zu entries compared, %zu differences\n", d ? "!" : " ", compared, d);
    }
    free(a);
    free(b);
    fprintf(out, "\n%s\n", diffs ? "The runs differ (lines marked !)." : "The runs agree.");
    return diffs;
}

/* ---- the command ---- */

/* Whether the file at path is one a Multiboot loader boots (its header in
 * the first MB_HEADER_SEARCH bytes, kernel/metal/multiboot.h); says why
 * not on stderr. */
static bool
check_kernel_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: --kernel %s: %s\n", prog, path, strerror(errno));
        return false;
    }
    uint32_t w[MB_HEADER_SEARCH / 4];
    size_t n = fread(w, sizeof(w[0]), MB_HEADER_SEARCH / 4, f);
    fclose(f);
    for (size_t i = 0; i + 2 < n; i++)
        if (w[i] == MB_HEADER_MAGIC && (uint32_t)(w[i] + w[i + 1] + w[i + 2]) == 0)
            return true;
    fprintf(stderr,
            "%s: --kernel %s: not a Multiboot kernel (no Multiboot header in its first %u bytes)\n",
            prog, path, MB_HEADER_SEARCH);
    return false;
}

static bool
parse_opts(int argc, char **argv, struct boot_opts *o, int *first)
{
    static const struct option opts[] = {
        {"strategy", required_argument, 0, 's'},
        {"kernel", required_argument, 0, 'k'},
        {"pmm", required_argument, 0, 'p'},
        {"kernel4m", required_argument, 0, '4'},
        {"vs-sim", no_argument, 0, 'v'},
        {"plugin", required_argument, 0, 'L'},
        {"grub", no_argument, 0, 'g'},
        {"gdb", no_argument, 0, 'd'},
        {"timeout", required_argument, 0, 't'},
        {"qemu", required_argument, 0, 'q'},
        {"inject", required_argument, 0, 'i'},
        {"probe", required_argument, 0, 'P'},
        {"probes", required_argument, 0, 'N'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof(*o));
    o->timeout = 120;
    o->probe_req.probes = PROBE_DEFAULT_PROBES;
    optind = 2;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            o->strategy = optarg;
            break;
        case 'k':
            o->kernel = optarg;
            break;
        case 'p':
            o->pmm = optarg;
            break;
        case '4':
            o->kernel4m = optarg;
            break;
        case 'v':
            o->vs_sim = true;
            break;
        case 'L':
            if (o->nplugins == PLUGIN_MAX) {
                fprintf(stderr, "%s: at most %u --plugin options\n", prog, PLUGIN_MAX);
                return false;
            }
            o->plugins[o->nplugins++] = optarg;
            break;
        case 'g':
            o->grub = true;
            break;
        case 'd':
            o->gdb = true;
            break;
        case 'q':
            o->qemu = optarg;
            break;
        case 'i':
            o->inject = inject_find(optarg);
            if (o->inject == NULL) {
                fprintf(stderr, "%s: unknown --inject '%s' (%s)\n", prog, optarg, INJECT_NAMES);
                return false;
            }
            break;
        case 't': {
            char *end;
            errno = 0;
            o->timeout = strtod(optarg, &end);
            if (errno != 0 || *end != '\0' || !(o->timeout > 0) || o->timeout > 86400) {
                fprintf(stderr, "%s: bad --timeout '%s' (seconds, more than 0, at most 86400)\n",
                        prog, optarg);
                return false;
            }
            o->timeout_set = true;
            break;
        }
        case 'P': {
            char err[160];
            if (!probe_parse_seeds(optarg, &o->probe_req, err, sizeof(err))) {
                fprintf(stderr, "%s: %s\n", prog, err);
                return false;
            }
            o->probe = true;
            break;
        }
        case 'N': {
            char *end;
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || *optarg < '0' || *optarg > '9' || n == 0 ||
                n > HWPROBE_MAX_PROBES) {
                fprintf(stderr, "%s: bad --probes '%s' (1 to %u probes per seed)\n", prog, optarg,
                        HWPROBE_MAX_PROBES);
                return false;
            }
            o->probe_req.probes = (uint32_t)n;
            o->probes_set = true;
            break;
        }
        case 'h':
            bootcmd_usage(stdout);
            exit(BOOTCMD_PASS);
        default:
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", prog, argv[optind - 1]);
            bootcmd_usage(stderr);
            return false;
        }
    }
    if (o->kernel != NULL && !check_kernel_file(o->kernel))
        return false;
    if (o->probe) {
        const char *other = o->strategy   ? "--strategy"
                            : o->pmm      ? "--pmm"
                            : o->kernel4m ? "--kernel4m"
                            : o->inject   ? "--inject"
                            : o->gdb      ? "--gdb"
                            : o->nplugins ? "--plugin"
                                          : NULL;
        if (other != NULL) {
            fprintf(stderr, "%s: %s does not apply to --probe\n", prog, other);
            return false;
        }
        if (argc - optind != 0) {
            fprintf(stderr, "%s: --probe takes no SCENARIO ('%s')\n", prog, argv[optind]);
            return false;
        }
        if ((uint64_t)o->probe_req.seeds * o->probe_req.probes > PROBE_MAX_RECORDS) {
            fprintf(stderr, "%s: %u seeds x %u probes is more than %u probes in all\n", prog,
                    o->probe_req.seeds, o->probe_req.probes, PROBE_MAX_RECORDS);
            return false;
        }
        *first = optind;
        return true;
    }
    if (o->probes_set) {
        fprintf(stderr, "%s: --probes applies only to --probe\n", prog);
        return false;
    }
    if (argc - optind != 1) {
        fprintf(stderr, "%s: expected one SCENARIO\n", prog);
        bootcmd_usage(stderr);
        return false;
    }
    if (o->gdb && o->vs_sim) {
        fprintf(stderr, "%s: --gdb and --vs-sim exclude each other\n", prog);
        return false;
    }
    if (o->gdb && !o->timeout_set)
        o->timeout = 0;
    *first = optind;
    return true;
}

/* A temporary directory and what the boot puts in it. */
struct boot_files {
    char dir[PATH_MAX / 2];
    char module[PATH_MAX], serial[PATH_MAX], qemu_log[PATH_MAX], iso[PATH_MAX], isodir[PATH_MAX],
        tool_log[PATH_MAX];
};

static void
remove_tree(const char *dir)
{
    char *argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* Builds the GRUB rescue ISO carrying kernel.elf and the module. */
static int
make_iso(struct boot_files *f, const char *kernel)
{
    char mkrescue[PATH_MAX], path[PATH_MAX], cp[PATH_MAX];
    if (!find_program("grub-mkrescue", mkrescue, sizeof(mkrescue))) {
        fprintf(stderr,
                "%s: grub-mkrescue not found (install grub-common, grub-pc-bin, xorriso "
                "and mtools, or run tools/install-deps)\n",
                prog);
        return BOOTCMD_NO_TOOL;
    }
    if (!find_program("xorriso", path, sizeof(path))) {
        fprintf(stderr, "%s: xorriso not found (grub-mkrescue needs it; tools/install-deps)\n",
                prog);
        return BOOTCMD_NO_TOOL;
    }
    snprintf(path, sizeof(path), "%s/boot/grub", f->isodir);
    char *mk[] = {"/bin/mkdir", "-p", path, NULL};
    snprintf(cp, sizeof(cp), "%s/boot/kernel.elf", f->isodir);
    char *cpk[] = {"/bin/cp", (char *)kernel, cp, NULL};
    char modpath[PATH_MAX];
    snprintf(modpath, sizeof(modpath), "%s/boot/workload.mod", f->isodir);
    char *cpm[] = {"/bin/cp", f->module, modpath, NULL};
    if (run_tool(mk, f->tool_log) != 0 || run_tool(cpk, f->tool_log) != 0 ||
        run_tool(cpm, f->tool_log) != 0) {
        fprintf(stderr, "%s: cannot prepare the ISO tree in %s\n", prog, f->isodir);
        return BOOTCMD_NO_TOOL;
    }
    snprintf(path, sizeof(path), "%s/boot/grub/grub.cfg", f->isodir);
    static const char cfg[] = "set timeout=0\nset default=0\n"
                              "menuentry \"pagesim\" {\n"
                              "  multiboot /boot/kernel.elf\n"
                              "  module /boot/workload.mod\n"
                              "  boot\n}\n";
    if (!write_file(path, cfg, sizeof(cfg) - 1)) {
        fprintf(stderr, "%s: cannot write %s\n", prog, path);
        return BOOTCMD_NO_TOOL;
    }
    char *mkr[] = {mkrescue, "-o", f->iso, f->isodir, NULL};
    if (run_tool(mkr, f->tool_log) != 0) {
        size_t n;
        char *log = read_file(f->tool_log, &n);
        fprintf(stderr, "%s: grub-mkrescue failed:\n%s", prog, log ? log : "");
        free(log);
        return BOOTCMD_NO_TOOL;
    }
    return BOOTCMD_PASS;
}

/* Boots and reads the report; returns BOOTCMD_PASS or why there is no report. */
static int
boot_metal(const struct boot_opts *o, struct boot_files *f, uint64_t ram, uint32_t nmarks,
           struct metal_report *m)
{
    char kernel[PATH_MAX], qemu[PATH_MAX];
    if (!find_kernel(o, kernel, sizeof(kernel))) {
        fprintf(stderr,
                "%s: kernel.elf not found next to pagesim or in lib/pagesim/ (build it with cmake "
                "--build)\n",
                prog);
        return BOOTCMD_NO_TOOL;
    }
    if (!find_program(o->qemu ? o->qemu : "qemu-system-i386", qemu, sizeof(qemu))) {
        fprintf(stderr,
                "%s: QEMU not found: %s (install qemu-system-x86, run tools/install-deps, "
                "or give --qemu PATH)\n",
                prog, o->qemu ? o->qemu : "qemu-system-i386 is not in PATH");
        return BOOTCMD_NO_TOOL;
    }
    if (o->grub) {
        int st = make_iso(f, kernel);
        if (st != BOOTCMD_PASS)
            return st;
    }
    char mem[32], serial[128], gdbport[32];
    snprintf(mem, sizeof(mem), "%lluk", (unsigned long long)(ram >> 10));
    snprintf(serial, sizeof(serial), "file:%s", f->serial);
    char *argv[32];
    int n = 0;
    argv[n++] = qemu;
    if (o->grub) {
        argv[n++] = "-cdrom";
        argv[n++] = f->iso;
        argv[n++] = "-boot";
        argv[n++] = "d";
    } else {
        argv[n++] = "-kernel";
        argv[n++] = kernel;
        argv[n++] = "-initrd";
        argv[n++] = f->module;
    }
    char *rest[] = {"-m",
                    mem,
                    "-display",
                    "none",
                    "-serial",
                    serial,
                    "-monitor",
                    "none",
                    "-no-reboot",
                    "-device",
                    "isa-debug-exit,iobase=0xf4,iosize=0x04",
                    "-accel",
                    "tcg",
                    NULL};
    for (int i = 0; rest[i] != NULL; i++)
        argv[n++] = rest[i];
    if (o->gdb) {
        int port = 1234;
        snprintf(gdbport, sizeof(gdbport), "tcp::%d", port);
        argv[n++] = "-S";
        argv[n++] = "-gdb";
        argv[n++] = gdbport;
        fprintf(stderr,
                "%s: QEMU is halted, waiting for gdb; in another terminal:\n"
                "  gdb -q %s -ex 'target remote localhost:%d' -ex 'break metal_main' -ex "
                "continue\n",
                prog, kernel, port);
    }
    argv[n] = NULL;
    int status = 0;
    enum qemu_end end = run_qemu(argv, f->qemu_log, o->timeout, &status);
    if (end == QEMU_TIMEOUT) {
        fprintf(stderr, "%s: the kernel did not finish within %g seconds (hung?)\n", prog,
                o->timeout);
        return BOOTCMD_TIMEOUT;
    }
    size_t len;
    char *text = read_file(f->serial, &len);
    if (end == QEMU_FAILED || (status != 0 && !(status & 1)) || status == 1) {
        size_t ln;
        char *log = read_file(f->qemu_log, &ln);
        fprintf(stderr, "%s: QEMU failed (exit status %d): %s", prog, status,
                log && *log ? log : "no message\n");
        free(log);
        free(text);
        return BOOTCMD_NO_TOOL;
    }
    if (status == 0) {
        free(text);
        fprintf(stderr, "%s: the machine reset without the kernel's exit (a triple fault)\n", prog);
        return BOOTCMD_RESET;
    }
    bool ok = text != NULL && parse_serial(text, m, nmarks);
    free(text);
    uint32_t code = (uint32_t)status >> 1;
    if (!ok || !m->has_exit || code < KMOD_EXIT_PASS || code > KMOD_EXIT_BAD_MODULE ||
        (code == KMOD_EXIT_BAD_MODULE && m->bad_module[0] == '\0') ||
        ((code == KMOD_EXIT_PASS || code == KMOD_EXIT_INCOMPLETE) && !m->has_result && !o->probe) ||
        (code == KMOD_EXIT_PANIC && !m->has_stop)) {
        if (m->bad_line[0] != '\0')
            fprintf(stderr, "%s: the serial output is not a kernel report (at: %s)\n", prog,
                    m->bad_line);
        else
            fprintf(stderr, "%s: the serial output is not a complete kernel report\n", prog);
        return BOOTCMD_NOT_REPORT;
    }
    if (code == KMOD_EXIT_BAD_MODULE) {
        fprintf(stderr, "%s: the kernel rejected the module: %s\n", prog, m->bad_module);
        return BOOTCMD_BAD_MODULE;
    }
    return BOOTCMD_PASS;
}

/* Makes the temporary directory of a boot and names its files. */
static bool
boot_files_make(struct boot_files *f)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0' || strlen(tmp) > sizeof(f->dir) - 32)
        tmp = "/tmp";
    snprintf(f->dir, sizeof(f->dir), "%s/pagesim-boot-XXXXXX", tmp);
    if (mkdtemp(f->dir) == NULL) {
        fprintf(stderr, "%s: cannot make a temporary directory: %s\n", prog, strerror(errno));
        return false;
    }
    snprintf(f->module, sizeof(f->module), "%s/workload.mod", f->dir);
    snprintf(f->serial, sizeof(f->serial), "%s/serial.txt", f->dir);
    snprintf(f->qemu_log, sizeof(f->qemu_log), "%s/qemu.log", f->dir);
    snprintf(f->iso, sizeof(f->iso), "%s/pagesim.iso", f->dir);
    snprintf(f->isodir, sizeof(f->isodir), "%s/iso", f->dir);
    snprintf(f->tool_log, sizeof(f->tool_log), "%s/tool.log", f->dir);
    return true;
}

/* probe_boot_fn: the request as the module of one boot. */
static int
probe_boot(void *ctx, const struct probe_request *r, struct probe_log *out)
{
    const struct boot_opts *o = ctx;
    struct boot_files f;
    if (!boot_files_make(&f))
        return BOOTCMD_NO_TOOL;
    struct hwprobe_module mod;
    probe_module(r, &mod);
    struct metal_report m;
    memset(&m, 0, sizeof(m));
    int st = BOOTCMD_PASS;
    if (!write_file(f.module, &mod, sizeof(mod))) {
        fprintf(stderr, "%s: cannot write the module %s\n", prog, f.module);
        st = BOOTCMD_NO_TOOL;
    } else {
        st = boot_metal(o, &f, HWPROBE_RAM, 0, &m);
    }
    remove_tree(f.dir);
    if (st == BOOTCMD_PASS && m.has_stop) {
        char rep[1024];
        format_metal_stop(&m, rep, sizeof(rep));
        fprintf(stderr, "%s: the kernel stopped while probing:\n%s\n", prog, rep);
        st = BOOTCMD_PANIC;
    } else if (st == BOOTCMD_PASS && m.probes.failed) {
        fprintf(stderr, "%s: out of host memory\n", prog);
        st = BOOTCMD_FAILED;
    }
    *out = m.probes;
    memset(&m.probes, 0, sizeof(m.probes));
    metal_report_free(&m);
    return st;
}

int
bootcmd_main(int argc, char **argv)
{
    struct boot_opts o;
    int first;
    if (!parse_opts(argc, argv, &o, &first))
        return BOOTCMD_USAGE;
    if (o.probe)
        return probe_run(stdout, &o.probe_req, probe_boot, &o);
    struct scenario sc;
    char err[SCN_ERR_MAX];
    if (!plugin_load_all(o.plugins, o.nplugins, err, sizeof(err))) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return BOOTCMD_USAGE;
    }
    if (!scn_load(argv[first], &sc, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return BOOTCMD_USAGE;
    }
    const char *strategy = run_strategy_name(&sc, o.strategy);
    if (!run_check_strategy(&sc, strategy, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        scn_free(&sc);
        return BOOTCMD_USAGE;
    }
    /* --pmm and --kernel4m override the scenario's lines, for both builds. */
    if (!run_set_pmm(&sc, o.pmm, err, sizeof(err)) ||
        (o.kernel4m != NULL && !scn_set_kernel4m(&sc, o.kernel4m, false, err, sizeof(err)))) {
        fprintf(stderr, "%s\n", err);
        scn_free(&sc);
        return BOOTCMD_USAGE;
    }
    const char *pmm = run_default_pmm(&sc, strategy);
    /* kernel.elf links no plug-in: a plug-in's strategy or frame allocator
     * needs the kernel pagesim_add_metal_kernel linked it into. */
    const char *owner = plugin_owner(strategy, false);
    const char *what = "strategy", *name = strategy;
    if (owner == NULL && (owner = plugin_owner(pmm, true)) != NULL) {
        what = "frame allocator";
        name = pmm;
    }
    if (o.kernel == NULL && owner != NULL) {
        fprintf(stderr,
                "%s: %s '%s' comes from plug-in %s, which kernel.elf does not link: boot the "
                "kernel pagesim_add_metal_kernel linked it into (--kernel FILE.elf)\n",
                prog, what, name, owner);
        scn_free(&sc);
        return BOOTCMD_USAGE;
    }

    struct boot_files f;
    if (!boot_files_make(&f)) {
        scn_free(&sc);
        return BOOTCMD_NO_TOOL;
    }

    struct bootload_config bc;
    run_bootload_config(&sc, strategy, pmm, &bc);
    bc.inject = o.inject && o.inject->kernel > 0 ? (uint32_t)o.inject->kernel : KMOD_INJECT_NONE;
    size_t mlen = bootload_module_size(&bc);
    void *mod = malloc(mlen);
    int st = BOOTCMD_PASS;
    bool written = mod != NULL && bootload_module_write(&bc, mod, err, sizeof(err));
    if (written && o.inject && o.inject->kernel < 0)
        ((struct kmod_header *)mod)->magic ^= 0xFFu; /* --inject bad-module */
    if (!written || !write_file(f.module, mod, mlen)) {
        fprintf(stderr, "%s: cannot write the module: %s\n", prog,
                mod == NULL ? "out of memory" : err);
        st = BOOTCMD_USAGE;
    }
    free(mod);

    struct metal_report m;
    memset(&m, 0, sizeof(m));
    if (st == BOOTCMD_PASS)
        st = boot_metal(&o, &f, sc.ram_size, sc.nmarks, &m);
    remove_tree(f.dir);
    if (st != BOOTCMD_PASS) {
        metal_report_free(&m);
        scn_free(&sc);
        return st;
    }

    struct cost_model cm;
    cost_model_default(&cm);
    struct run_result mr;
    metal_result(&sc, strategy, &m, &cm, &mr);
    /* With --vs-sim the expectations are the simulator's business (pagesim
     * check); the comparison decides. */
    if (m.has_stop)
        st = BOOTCMD_PANIC;
    else if (o.vs_sim ? !mr.ok : !run_expectations_pass(&sc, &mr))
        st = BOOTCMD_FAILED;

    if (o.vs_sim) {
        struct run_options ro;
        struct run_result sr;
        struct sim_dump sd = {0};
        run_options_default(&ro);
        ro.strategy = strategy;
        ro.view_fn = sim_dump_view;
        ro.view_ctx = &sd;
        if (!run_scenario(&sc, &ro, &sr, err, sizeof(err))) {
            fprintf(stderr, "%s: %s\n", prog, err);
            st = BOOTCMD_USAGE;
        } else {
            if (report_vs_sim(stdout, &sc, pmm, &m, &mr, &sr, &sd) > 0)
                st = BOOTCMD_FAILED;
            run_result_free(&sr);
        }
        for (size_t i = 0; i < sd.n; i++)
            free(sd.lines[i]);
        free(sd.lines);
    } else {
        printf("Bare metal: %s booted on QEMU%s, frames %s; rows only the model counts are not "
               "measured.\n\n",
               sc.file, o.grub ? " from GRUB" : "", pmm);
        report_run(stdout, &sc, &mr, &cm, REPORT_TEXT);
    }
    run_result_free(&mr);
    metal_report_free(&m);
    scn_free(&sc);
    return st;
}
