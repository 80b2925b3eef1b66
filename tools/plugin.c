/*
 * plugin.c - loads plug-ins (kernel/plugin.h): dlopen, the ABI check, the
 * plug-in's kernel sections handed to the simulator, then its init through
 * a registrar that remembers the first refusal and who holds each name.
 */
#define _GNU_SOURCE
#include "tools/plugin.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/plugin.h"
#include "tools/registry.h"

const char *
plugin_strerror(enum plugin_status st)
{
    switch (st) {
    case PLUGIN_OK:
        return "loaded";
    case PLUGIN_NOT_LOADABLE:
        return "cannot be loaded";
    case PLUGIN_NOT_PLUGIN:
        return "not a pagesim plug-in";
    case PLUGIN_WRONG_ABI:
        return "built for another plug-in ABI";
    case PLUGIN_REFUSED:
        return "a registration was refused";
    case PLUGIN_INIT_FAILED:
        return "its init failed";
    case PLUGIN_CRASHED:
        return "its init crashed";
    case PLUGIN_TOO_MANY:
        return "too many plug-ins, or one loaded twice";
    }
    return "unknown plug-in status";
}

/* The plug-ins loaded, and every name they registered with its file. */
#define PLUGIN_NAMES_MAX 64
static struct {
    void *handle;
    const char *path;
} loaded[PLUGIN_MAX];
static unsigned nloaded;
static struct {
    const char *name;
    const char *path;
    bool pmm;
} names[PLUGIN_NAMES_MAX];
static unsigned nnames;

/* The plug-in whose init runs, and its first refused registration. */
static const char *init_path;
static enum kreg_status refused;
static const char *refused_name;
static const char *refused_member; /* KREG_INCOMPLETE: the member that is NULL */
static bool refused_pmm;

static void
note_registration(enum kreg_status st, const char *name, const char *missing, bool pmm)
{
    if (st == KREG_OK && nnames < PLUGIN_NAMES_MAX) {
        names[nnames].name = name;
        names[nnames].path = init_path;
        names[nnames++].pmm = pmm;
    } else if (st != KREG_OK && refused == KREG_OK) {
        refused = st;
        refused_name = name;
        refused_member = missing;
        refused_pmm = pmm;
    }
}

static enum kreg_status
host_add_strategy(const struct vmm_ops *ops)
{
    enum kreg_status st = kplugin_registrar.add_strategy(ops);
    note_registration(st, reg_ops_strategy_name(ops), reg_ops_strategy_missing(ops), false);
    return st;
}

static enum kreg_status
host_add_pmm(const struct pmm_ops *ops)
{
    enum kreg_status st = kplugin_registrar.add_pmm(ops);
    note_registration(st, reg_ops_pmm_name(ops), reg_ops_pmm_missing(ops), true);
    return st;
}

static const struct pagesim_registrar host_registrar = {
    .abi = PAGESIM_PLUGIN_ABI,
    .add_strategy = host_add_strategy,
    .add_pmm = host_add_pmm,
};

/* Why a name was taken: who registered it before. */
static void
taken_message(const char *path, char *err, size_t len)
{
    const char *kind = refused_pmm ? "frame allocator" : "strategy";
    for (unsigned i = 0; i < nnames; i++) {
        if (names[i].pmm != refused_pmm || strcmp(names[i].name, refused_name) != 0)
            continue;
        if (strcmp(names[i].path, path) == 0)
            snprintf(err, len, "plug-in %s: registers %s '%s' twice", path, kind, refused_name);
        else
            snprintf(err, len, "plug-in %s: %s '%s' is registered already by plug-in %s", path,
                     kind, refused_name, names[i].path);
        return;
    }
    snprintf(err, len, "plug-in %s: %s '%s' is registered already: it is a built-in one", path,
             kind, refused_name);
}

/* ---- the plug-in's kernel sections ---- */

/* True if [off, off + len) lies within a file of size bytes (no wrap). */
static bool
in_file(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

/* True if [addr, addr + len) lies within one PT_LOAD segment of ph[0..n)
 * that is writable if write (no wrap). */
static bool
in_segment(const Elf64_Phdr *ph, unsigned n, uint64_t addr, uint64_t len, bool write)
{
    for (unsigned i = 0; i < n; i++) {
        if (ph[i].p_type != PT_LOAD || (write && !(ph[i].p_flags & PF_W)))
            continue;
        if (addr >= ph[i].p_vaddr && addr - ph[i].p_vaddr <= ph[i].p_memsz &&
            len <= ph[i].p_memsz - (addr - ph[i].p_vaddr))
            return true;
    }
    return false;
}

/*
 * Fills p from the ELF file at path loaded with bias base: its loaded
 * memory and its pagesim_kdata, pagesim_kbss and pagesim_ktext sections.
 * False if the file's headers do not hold together, or a kernel section
 * lies outside the segments loaded (what the simulator writes must be the
 * plug-in's own memory).
 */
static bool
kernel_part(const char *path, uintptr_t base, struct sim_kernel_part *p)
{
    memset(p, 0, sizeof(*p));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    const uint8_t *img = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(Elf64_Ehdr))
        img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED)
        return false;
    size_t size = (size_t)st.st_size;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    bool ok = memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
              eh->e_phentsize == sizeof(Elf64_Phdr) && eh->e_shentsize == sizeof(Elf64_Shdr) &&
              in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size) &&
              in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size) &&
              eh->e_shstrndx < eh->e_shnum;
    const Elf64_Phdr *ph = ok ? (const Elf64_Phdr *)(img + eh->e_phoff) : NULL;
    if (ok) {
        uint64_t lo = UINT64_MAX, hi = 0;
        for (unsigned i = 0; i < eh->e_phnum; i++) {
            if (ph[i].p_type != PT_LOAD)
                continue;
            if (ph[i].p_vaddr < lo)
                lo = ph[i].p_vaddr;
            if (ph[i].p_vaddr + ph[i].p_memsz > hi)
                hi = ph[i].p_vaddr + ph[i].p_memsz;
        }
        ok = hi > lo;
        p->image_lo = base + lo;
        p->image_hi = base + hi;
    }
    const Elf64_Shdr *sh = ok ? (const Elf64_Shdr *)(img + eh->e_shoff) : NULL;
    const Elf64_Shdr *strs = ok ? &sh[eh->e_shstrndx] : NULL;
    ok = ok && in_file(strs->sh_offset, strs->sh_size, size);
    for (unsigned i = 0; ok && i < eh->e_shnum; i++) {
        if (sh[i].sh_name >= strs->sh_size || !(sh[i].sh_flags & SHF_ALLOC))
            continue;
        const char *name = (const char *)img + strs->sh_offset + sh[i].sh_name;
        if (memchr(name, '\0', strs->sh_size - sh[i].sh_name) == NULL)
            continue;
        bool data = strcmp(name, "pagesim_kdata") == 0, bss = strcmp(name, "pagesim_kbss") == 0,
             text = strcmp(name, "pagesim_ktext") == 0;
        if (!data && !bss && !text)
            continue;
        if (!in_segment(ph, eh->e_phnum, sh[i].sh_addr, sh[i].sh_size, !text)) {
            ok = false;
            break;
        }
        uintptr_t at = base + sh[i].sh_addr;
        if (data) {
            p->data = (void *)at;
            p->data_len = sh[i].sh_size;
        } else if (bss) {
            p->bss = (void *)at;
            p->bss_len = sh[i].sh_size;
        } else {
            p->text_lo = at;
            p->text_hi = at + sh[i].sh_size;
        }
    }
    munmap((void *)img, size);
    return ok;
}

/* ---- init, with its crashes caught ---- */

static sigjmp_buf init_env;
static volatile sig_atomic_t init_signal;

static void
on_init_signal(int sig)
{
    init_signal = sig;
    siglongjmp(init_env, 1);
}

static const int init_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define NSIGNALS (sizeof(init_signals) / sizeof(init_signals[0]))

static const char *
signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGILL:
        return "SIGILL";
    case SIGFPE:
        return "SIGFPE";
    default:
        return "SIGABRT";
    }
}

/* Calls init(&host_registrar); false if it raised one of init_signals
 * (init_signal says which). */
static bool
call_init(int (*init)(const struct pagesim_registrar *), int *ret)
{
    struct sigaction sa, old[NSIGNALS];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_init_signal;
    sa.sa_flags = SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(init_signals[i], &sa, &old[i]);
    bool ok = false;
    init_signal = 0;
    if (sigsetjmp(init_env, 1) == 0) {
        *ret = init(&host_registrar);
        ok = true;
    }
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(init_signals[i], &old[i], NULL);
    return ok;
}

enum plugin_status
plugin_load(const char *path, char *err, size_t len)
{
    char file[4096];
    /* dlopen looks a name without a slash up in the library path. */
    snprintf(file, sizeof(file), "%s%s", strchr(path, '/') != NULL ? "" : "./", path);
    if (nloaded == PLUGIN_MAX) {
        snprintf(err, len, "plug-in %s: at most %u plug-ins can be loaded", path, PLUGIN_MAX);
        return PLUGIN_TOO_MANY;
    }
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(err, len, "plug-in %s: cannot be loaded: %s", path, dlerror());
        return PLUGIN_NOT_LOADABLE;
    }
    for (unsigned i = 0; i < nloaded; i++) {
        if (loaded[i].handle == h) {
            snprintf(err, len, "plug-in %s: loaded twice (the same file as %s)", path,
                     loaded[i].path);
            return PLUGIN_TOO_MANY;
        }
    }
    const uint32_t *abi = dlsym(h, "pagesim_plugin_abi");
    int (*init)(const struct pagesim_registrar *);
    *(void **)&init = dlsym(h, "pagesim_plugin_init");
    if (abi == NULL || init == NULL) {
        snprintf(err, len,
                 "plug-in %s: not a pagesim plug-in (it defines no %s; see kernel/plugin.h)", path,
                 abi == NULL ? "pagesim_plugin_abi" : "pagesim_plugin_init");
        dlclose(h);
        return PLUGIN_NOT_PLUGIN;
    }
    if (*abi != PAGESIM_PLUGIN_ABI) {
        snprintf(err, len,
                 "plug-in %s: built for plug-in ABI %u, this pagesim has %u (rebuild it against "
                 "this pagesim)",
                 path, (unsigned)*abi, (unsigned)PAGESIM_PLUGIN_ABI);
        dlclose(h);
        return PLUGIN_WRONG_ABI;
    }
    /* Its kernel data as built, saved before init runs any of its code. */
    struct link_map *map = NULL;
    struct sim_kernel_part part;
    char why[160];
    if (dlinfo(h, RTLD_DI_LINKMAP, &map) != 0 || map == NULL ||
        !kernel_part(file, (uintptr_t)map->l_addr, &part)) {
        snprintf(err, len,
                 "plug-in %s: damaged: its ELF headers do not hold together, or a kernel section "
                 "lies outside the segments loaded",
                 path);
        dlclose(h);
        return PLUGIN_NOT_LOADABLE;
    }
    if (!sim_kernel_part_add(&part, why, sizeof(why))) {
        snprintf(err, len, "plug-in %s: %s", path, why);
        return PLUGIN_TOO_MANY;
    }
    loaded[nloaded].handle = h;
    loaded[nloaded++].path = path;
    init_path = path;
    refused = KREG_OK;
    int ret = 0;
    if (!call_init(init, &ret)) {
        snprintf(err, len, "plug-in %s: its init (pagesim_plugin_init) crashed: %s", path,
                 signal_name(init_signal));
        return PLUGIN_CRASHED;
    }
    if (refused == KREG_NAME_TAKEN) {
        taken_message(path, err, len);
        return PLUGIN_REFUSED;
    }
    if (refused == KREG_INCOMPLETE && refused_member != NULL) {
        snprintf(err, len, "plug-in %s: %s '%s' refused: its member %s is NULL", path,
                 refused_pmm ? "frame allocator" : "strategy", refused_name, refused_member);
        return PLUGIN_REFUSED;
    }
    if (refused != KREG_OK) {
        snprintf(err, len, "plug-in %s: %s '%s' refused: %s", path,
                 refused_pmm ? "frame allocator" : "strategy", refused_name,
                 kreg_strerror(refused));
        return PLUGIN_REFUSED;
    }
    if (ret != 0) {
        snprintf(err, len, "plug-in %s: its init (pagesim_plugin_init) returned %d", path, ret);
        return PLUGIN_INIT_FAILED;
    }
    return PLUGIN_OK;
}

const char *
plugin_owner(const char *name, bool pmm)
{
    for (unsigned i = 0; i < nnames; i++)
        if (names[i].pmm == pmm && strcmp(names[i].name, name) == 0)
            return names[i].path;
    return NULL;
}

bool
plugin_load_all(const char *const *paths, unsigned n, char *err, size_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (plugin_load(paths[i], err, len) != PLUGIN_OK)
            return false;
    return true;
}
