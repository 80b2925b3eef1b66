/*
 * symbols.c - names the kernel function that made an access, for fault
 * reports: the dynamic symbol table through dladdr(), else the full ELF
 * symbol table of the executable (static functions included).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/sim_internal.h"

/* Looks pc up in the .symtab of the ELF file at path loaded at base. */
static bool
symtab_lookup(const char *path, uintptr_t base, uintptr_t pc, char *buf, size_t len)
{
    bool found = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
        close(fd);
        return false;
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *img = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED)
        return false;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        goto out;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    uintptr_t off = pc - base;
    for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > size || strs->sh_offset + strs->sh_size > size)
            continue;
        const Elf64_Sym *sym = (const Elf64_Sym *)(img + sh[i].sh_offset);
        size_t nsym = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < nsym; k++) {
            if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_name >= strs->sh_size)
                continue;
            if (off >= sym[k].st_value && off < sym[k].st_value + sym[k].st_size) {
                snprintf(buf, len, "%s", (const char *)(img + strs->sh_offset + sym[k].st_name));
                found = true;
                break;
            }
        }
    }
out:
    munmap((void *)img, size);
    return found;
}

void
sim_symbolize(const void *pc, char *buf, size_t len)
{
    Dl_info info;
    snprintf(buf, len, "?");
    if (pc == NULL || dladdr(pc, &info) == 0)
        return;
    const char *path = info.dli_fname;
    Dl_info self;
    struct link_map *map = NULL;
    /* The main program's file name from dladdr is argv[0]; use /proc. */
    if (dladdr((void *)sim_symbolize, &self) != 0 && self.dli_fbase == info.dli_fbase)
        path = "/proc/self/exe";
    /* Symbol values are link-time addresses: pc less the load bias (not
     * the load address, for a program linked to load above 0). */
    if (dladdr1(pc, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || map == NULL)
        return;
    if (path != NULL && symtab_lookup(path, (uintptr_t)map->l_addr, (uintptr_t)pc, buf, len))
        return;
    if (info.dli_sname != NULL)
        snprintf(buf, len, "%s", info.dli_sname);
}

#define SYM_CACHE 256

void
sim_symbolize_cached(const void *pc, char *buf, size_t len)
{
    static struct {
        const void *pc;
        char name[64];
    } cache[SYM_CACHE];
    unsigned i = (unsigned)(((uintptr_t)pc >> 2) % SYM_CACHE);
    if (cache[i].pc != pc) {
        sim_symbolize(pc, cache[i].name, sizeof(cache[i].name));
        cache[i].pc = pc;
    }
    snprintf(buf, len, "%s", cache[i].name);
}
