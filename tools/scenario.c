/*
 * scenario.c - the .scn parser: one command per line, '#' comments,
 * numbers in decimal or hex with K/M/G suffixes.  See README for the
 * language; every error names file:line:col.
 */
#include "tools/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/bootlayout.h"
#include "sim/sim.h"
#include "tools/counters.h"

/* The keys of a machine line, as messages list them. */
#define SCN_MACHINE_KEYS "ram, tlb, tlb4m, pse, pge, kernel4m"

#define MAX_TOKENS 16
#define MIN_VA 0x10000u /* below: the null guard, never mappable */
#define MIN_RAM (32u << 20)

struct token {
    const char *s;
    size_t len;
    uint32_t col;
};

/* Address spaces and allocations: the two kinds of names a script gives. */
enum name_kind { NAME_SPACE, NAME_ALLOC };

/* The slots of a loop-indexed name ('p$i'): one per pass of its repeat. */
struct family {
    char key[SCN_NAME_MAX]; /* the name with "$i" or "$j" written "$" */
    enum name_kind kind;
    uint32_t base, count; /* slots base .. base + count - 1 */
    uint32_t line;        /* the repeat line that gave the count */
};

/* A slot or handle operand: base, plus the pass of a loop (WL_LOOP_*). */
struct slot {
    uint32_t base;
    uint32_t loop;
};

struct parser {
    struct scenario *sc;
    const char *file;
    uint32_t line;
    struct token tok[MAX_TOKENS];
    unsigned ntok;
    uint32_t repeat_line[WL_MAX_DEPTH];
    uint32_t repeat_count[WL_MAX_DEPTH];
    bool repeat_work[WL_MAX_DEPTH]; /* the block holds an operation */
    unsigned depth;
    struct family *fams;
    uint32_t nfams;
    uint32_t first_op_line;                         /* 0 before the first operation */
    uint32_t machine_line, strategy_line, pmm_line; /* 0 until given */
    char *err;
    size_t errlen;
    bool failed;
};

static bool
fail(struct parser *p, uint32_t col, const char *fmt, ...)
{
    va_list ap;
    if (p->failed)
        return false;
    int n = snprintf(p->err, p->errlen, "%s:%u:%u: error: ", p->file, p->line, col);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    p->failed = true;
    return false;
}

static bool
tok_is(const struct token *t, const char *word)
{
    return t->len == strlen(word) && strncmp(t->s, word, t->len) == 0;
}

static void
tok_copy(const struct token *t, char *buf, size_t len)
{
    size_t n = t->len < len - 1 ? t->len : len - 1;
    memcpy(buf, t->s, n);
    buf[n] = '\0';
}

/* Splits one line into tokens; '#' starts a comment. */
static bool
tokenize(struct parser *p, const char *line, size_t len)
{
    p->ntok = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i >= len || line[i] == '#')
            break;
        if (!isprint((unsigned char)line[i]))
            return fail(p, (uint32_t)i + 1, "unexpected character (byte 0x%02x)",
                        (unsigned char)line[i]);
        if (p->ntok == MAX_TOKENS)
            return fail(p, (uint32_t)i + 1, "too many words on one line (at most %d)", MAX_TOKENS);
        struct token *t = &p->tok[p->ntok++];
        t->s = line + i;
        t->col = (uint32_t)i + 1;
        while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '#') {
            if (!isprint((unsigned char)line[i]))
                return fail(p, (uint32_t)i + 1, "unexpected character (byte 0x%02x)",
                            (unsigned char)line[i]);
            i++;
        }
        t->len = (size_t)(line + i - t->s);
    }
    return true;
}

/* A number: decimal or 0x hex, optional K, M or G (binary) suffix. */
static bool
number(struct parser *p, const struct token *t, uint64_t max, uint64_t *out)
{
    char buf[40];
    if (t->len >= sizeof(buf))
        return fail(p, t->col, "number '%.*s' is too long", (int)t->len, t->s);
    tok_copy(t, buf, sizeof(buf));
    size_t n = strlen(buf);
    uint64_t mult = 1;
    if (n > 0) {
        switch (buf[n - 1]) {
        case 'K':
        case 'k':
            mult = 1ull << 10;
            buf[--n] = '\0';
            break;
        case 'M':
        case 'm':
            mult = 1ull << 20;
            buf[--n] = '\0';
            break;
        case 'G':
        case 'g':
            mult = 1ull << 30;
            buf[--n] = '\0';
            break;
        default:
            break;
        }
    }
    if (n == 0 || !isdigit((unsigned char)buf[0]))
        return fail(p, t->col, "expected a number, found '%.*s'", (int)t->len, t->s);
    char *end;
    errno = 0;
    bool hex = buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
    if (hex && buf[2] == '\0')
        return fail(p, t->col, "bad number '%.*s'", (int)t->len, t->s);
    unsigned long long v = strtoull(buf, &end, hex ? 16 : 10);
    if (*end != '\0')
        return fail(p, t->col, "bad number '%.*s'", (int)t->len, t->s);
    if (errno == ERANGE || (mult > 1 && v > UINT64_MAX / mult) || v * mult > max)
        return fail(p, t->col, "number '%.*s' is too large (at most %llu)", (int)t->len, t->s,
                    (unsigned long long)max);
    *out = v * mult;
    return true;
}

static bool
need(struct parser *p, unsigned min, unsigned max, const char *usage)
{
    if (p->ntok < min || p->ntok > max) {
        uint32_t col = p->ntok > max ? p->tok[max].col
                                     : p->tok[p->ntok - 1].col + (uint32_t)p->tok[p->ntok - 1].len;
        return fail(p, col, "%s: usage: %s",
                    p->ntok > max ? "too many arguments" : "missing arguments", usage);
    }
    return true;
}

/* Appends an op (opcode and WL_*_LOOP bits); the list ends with WL_END. */
static bool
push(struct parser *p, uint32_t op, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    struct scenario *sc = p->sc;
    uint32_t code = WL_OPCODE(op);
    if (code != WL_END) {
        if (sc->nops >= WL_MAX_OPS)
            return fail(p, p->tok[0].col, "the script has more than %u operations (the limit)",
                        WL_MAX_OPS);
        if (p->first_op_line == 0)
            p->first_op_line = p->line;
        if (p->depth > 0 && code != WL_REPEAT && code != WL_REPEAT_END && code != WL_MARK)
            p->repeat_work[p->depth - 1] = true;
    }
    if (sc->nops + 1 >= sc->cap_ops) {
        uint32_t cap = sc->cap_ops ? sc->cap_ops * 2 : 64;
        struct wl_op *n = realloc(sc->ops, cap * sizeof(*n));
        if (n == NULL)
            return fail(p, 1, "out of memory");
        sc->ops = n;
        sc->cap_ops = cap;
    }
    sc->ops[sc->nops++] = (struct wl_op){op, a, b, c, d, p->line};
    return true;
}

/* Index of a name in a table, adding it if `add`; -1 if absent. */
static int
name_index(char (*tab)[SCN_NAME_MAX], uint32_t n, const struct token *t)
{
    for (uint32_t i = 0; i < n; i++)
        if (strlen(tab[i]) == t->len && strncmp(tab[i], t->s, t->len) == 0)
            return (int)i;
    return -1;
}

static const struct {
    const char *what; /* plural, for messages */
    uint32_t max;     /* slots */
} name_kinds[] = {
    [NAME_SPACE] = {"address spaces", WL_MAX_SPACES},
    [NAME_ALLOC] = {"allocations", WL_MAX_ALLOCS},
};

static char (**kind_table(struct parser *p, enum name_kind kind))[SCN_NAME_MAX]
{
    return kind == NAME_SPACE ? &p->sc->spaces : &p->sc->handles;
}

static uint32_t *
kind_count(struct parser *p, enum name_kind kind)
{
    return kind == NAME_SPACE ? &p->sc->nspaces : &p->sc->nhandles;
}

static bool
unknown_name(struct parser *p, enum name_kind kind, const struct token *t)
{
    if (kind == NAME_SPACE)
        return fail(p, t->col,
                    "unknown address space '%.*s' (create it first with 'space "
                    "create %.*s')",
                    (int)t->len, t->s, (int)t->len, t->s);
    return fail(p, t->col, "unknown allocation '%.*s' (no kmalloc names it)", (int)t->len, t->s);
}

/*
 * A name: letters, digits, '_', '-', '.', not starting with a digit; with
 * loops, a name of a space or allocation, which may hold one loop index:
 * "$i" (the pass of the innermost repeat) or "$j" (of the repeat around
 * it).  Sets *loop to WL_LOOP_I, WL_LOOP_J or 0 and *at to the offset of '$'.
 */
static bool
name_check(struct parser *p, const struct token *t, bool loops, uint32_t *loop, size_t *at)
{
    *loop = 0;
    *at = 0;
    if (t->len >= SCN_NAME_MAX)
        return fail(p, t->col, "name '%.*s' is too long (at most %d characters)", (int)t->len, t->s,
                    SCN_NAME_MAX - 1);
    if (!isalpha((unsigned char)t->s[0]) && t->s[0] != '_')
        return fail(p, t->col, "'%.*s' is not a name (letters, digits, '_', '-', '.')", (int)t->len,
                    t->s);
    for (size_t i = 0; i < t->len; i++) {
        char ch = t->s[i];
        if (ch == '$' && loops) {
            if (i + 1 >= t->len || (t->s[i + 1] != 'i' && t->s[i + 1] != 'j'))
                return fail(p, t->col + (uint32_t)i,
                            "'$' in a name must be $i (the pass of the innermost repeat) or $j "
                            "(the pass of the repeat around it)");
            if (*loop != 0)
                return fail(p, t->col + (uint32_t)i, "a name holds at most one $i or $j");
            *loop = t->s[i + 1] == 'i' ? WL_LOOP_I : WL_LOOP_J;
            *at = i++;
            continue;
        }
        if (!isalnum((unsigned char)ch) && ch != '_' && ch != '-' && ch != '.')
            return fail(p, t->col, "'%.*s' is not a name (letters, digits, '_', '-', '.')",
                        (int)t->len, t->s);
    }
    return true;
}

/* A name of a space or allocation (name_check with loops). */
static bool
loop_name(struct parser *p, const struct token *t, uint32_t *loop, size_t *at)
{
    return name_check(p, t, true, loop, at);
}

/* A name with no loop index (labels, frame allocators...). */
static bool
valid_name(struct parser *p, const struct token *t)
{
    uint32_t loop;
    size_t at;
    return name_check(p, t, false, &loop, &at);
}

/* A plain name's slot, added to the table if create. */
static bool
plain_slot(struct parser *p, enum name_kind kind, const struct token *t, bool create,
           uint32_t *slot)
{
    char(**tab)[SCN_NAME_MAX] = kind_table(p, kind);
    uint32_t *n = kind_count(p, kind);
    int idx = name_index(*tab, *n, t);
    if (idx >= 0) {
        *slot = (uint32_t)idx;
        return true;
    }
    if (!create)
        return unknown_name(p, kind, t);
    if (*n >= name_kinds[kind].max)
        return fail(p, t->col, "too many %s (at most %u)", name_kinds[kind].what,
                    name_kinds[kind].max);
    char(*nt)[SCN_NAME_MAX] = realloc(*tab, (*n + 1) * sizeof(**tab));
    if (nt == NULL)
        return fail(p, t->col, "out of memory");
    *tab = nt;
    tok_copy(t, (*tab)[*n], SCN_NAME_MAX);
    *slot = (*n)++;
    return true;
}

/* Makes the slots of a loop-indexed name: prefix<pass>suffix for each pass. */
static bool
new_family(struct parser *p, enum name_kind kind, const struct token *t, size_t at, const char *key,
           uint32_t count, uint32_t line)
{
    char(**tab)[SCN_NAME_MAX] = kind_table(p, kind);
    uint32_t *n = kind_count(p, kind), max = name_kinds[kind].max;
    if (count > max - *n)
        return fail(p, t->col,
                    "too many %s (at most %u): '%.*s' takes one per pass (%u) and %u are left",
                    name_kinds[kind].what, max, (int)t->len, t->s, count, max - *n);
    char last[48];
    snprintf(last, sizeof(last), "%.*s%u%.*s", (int)at, t->s, count - 1, (int)(t->len - at - 2),
             t->s + at + 2);
    if (strlen(last) >= SCN_NAME_MAX)
        return fail(p, t->col, "name '%s' of the last pass is too long (at most %d characters)",
                    last, SCN_NAME_MAX - 1);
    char(*nt)[SCN_NAME_MAX] = realloc(*tab, (*n + count) * sizeof(**tab));
    struct family *nf = realloc(p->fams, (p->nfams + 1) * sizeof(*nf));
    if (nt != NULL)
        *tab = nt;
    if (nf != NULL)
        p->fams = nf;
    if (nt == NULL || nf == NULL)
        return fail(p, t->col, "out of memory");
    for (uint32_t k = 0; k < count; k++) {
        char *name = (*tab)[*n + k];
        snprintf(name, SCN_NAME_MAX, "%.*s%u%.*s", (int)at, t->s, k, (int)(t->len - at - 2),
                 t->s + at + 2);
        struct token nt1 = {name, strlen(name), t->col};
        if (name_index(*tab, *n, &nt1) >= 0)
            return fail(p, t->col, "'%.*s' names '%s' on pass %u, which is already in use",
                        (int)t->len, t->s, name, k);
    }
    struct family *f = &p->fams[p->nfams++];
    snprintf(f->key, sizeof(f->key), "%s", key);
    f->kind = kind;
    f->base = *n;
    f->count = count;
    f->line = line;
    *n += count;
    return true;
}

/*
 * The slot operand a name stands for: a plain name's slot, or for 'p$i'
 * the first of its family's slots and the loop whose pass is added.  With
 * create, a new name gets its slots (all of its family's); otherwise it
 * must exist.  A loop-indexed name is used only inside repeat blocks of
 * the pass count it was made with.
 */
static bool
name_slot(struct parser *p, enum name_kind kind, const struct token *t, bool create,
          struct slot *out)
{
    uint32_t loop;
    size_t at;
    if (!loop_name(p, t, &loop, &at))
        return false;
    out->loop = loop;
    if (loop == 0)
        return plain_slot(p, kind, t, create, &out->base);
    if (p->depth < loop)
        return fail(p, t->col,
                    loop == WL_LOOP_I ? "'%.*s' is outside any repeat block ($i is the pass "
                                        "of the innermost one)"
                                      : "'%.*s' needs two nested repeat blocks ($j is the pass "
                                        "of the one around the innermost)",
                    (int)t->len, t->s);
    uint32_t count = p->repeat_count[p->depth - loop];
    uint32_t line = p->repeat_line[p->depth - loop];
    char key[SCN_NAME_MAX];
    snprintf(key, sizeof(key), "%.*s$%.*s", (int)at, t->s, (int)(t->len - at - 2), t->s + at + 2);
    for (uint32_t i = 0; i < p->nfams; i++) {
        const struct family *f = &p->fams[i];
        if (f->kind != kind || strcmp(f->key, key) != 0)
            continue;
        if (f->count != count)
            return fail(p, t->col,
                        "'%.*s' has %u slots, one per pass of the repeat on line %u, but this "
                        "repeat (line %u) makes %u passes",
                        (int)t->len, t->s, f->count, f->line, line, count);
        out->base = f->base;
        return true;
    }
    if (!create)
        return unknown_name(p, kind, t);
    out->base = *kind_count(p, kind);
    return new_family(p, kind, t, at, key, count, line);
}

/* A user-space range: page-aligned start and length, inside user space. */
static bool
user_range(struct parser *p, const struct token *tva, const struct token *tlen, uint32_t *va,
           uint32_t *len)
{
    uint64_t v, l;
    if (!number(p, tva, UINT32_MAX, &v) || !number(p, tlen, 1ull << 32, &l))
        return false;
    if (v % PAGE_SIZE)
        return fail(p, tva->col, "address 0x%llx is not page-aligned", (unsigned long long)v);
    if (l == 0 || l % PAGE_SIZE)
        return fail(p, tlen->col, "length %llu is not a positive multiple of 4K",
                    (unsigned long long)l);
    if (v < MIN_VA)
        return fail(p, tva->col, "address 0x%llx is below 0x%x, the null guard",
                    (unsigned long long)v, MIN_VA);
    if (v + l > KERNEL_BASE)
        return fail(p, tlen->col, "range 0x%llx-0x%llx runs outside user space (0x%x-0x%x)",
                    (unsigned long long)v, (unsigned long long)(v + l - 1), MIN_VA,
                    KERNEL_BASE - 1);
    *va = (uint32_t)v;
    *len = (uint32_t)l;
    return true;
}

static bool
on_off(struct parser *p, const struct token *t, const char *val, bool *out)
{
    if (strcmp(val, "on") == 0 || strcmp(val, "1") == 0)
        *out = true;
    else if (strcmp(val, "off") == 0 || strcmp(val, "0") == 0)
        *out = false;
    else
        return fail(p, t->col, "expected on or off, found '%s'", val);
    return true;
}

/* ENTRIES/WAYS */
static bool
tlb_geometry(struct parser *p, const struct token *t, const char *val, struct tlb_geometry *g)
{
    const char *slash = strchr(val, '/');
    if (slash == NULL || slash == val || slash[1] == '\0')
        return fail(p, t->col, "TLB geometry '%s' is not ENTRIES/WAYS", val);
    struct token te = {val, (size_t)(slash - val), t->col};
    struct token tw = {slash + 1, strlen(slash + 1), t->col + (uint32_t)(slash + 1 - val)};
    uint64_t e64, w64;
    if (!number(p, &te, TLB_MAX_ENTRIES, &e64) || !number(p, &tw, TLB_MAX_ENTRIES, &w64))
        return false;
    struct tlb_geometry geo = {.entries = (uint32_t)e64, .ways = (uint32_t)w64};
    if (!tlb_geometry_valid(&geo))
        return fail(p, t->col,
                    "TLB geometry %u/%u: entries and ways must be powers of two with ways <= "
                    "entries <= %u",
                    geo.entries, geo.ways, TLB_MAX_ENTRIES);
    *g = geo;
    return true;
}

static bool
cmd_machine(struct parser *p)
{
    struct scenario *sc = p->sc;
    if (!need(p, 2, MAX_TOKENS, "machine KEY=VALUE... (" SCN_MACHINE_KEYS ")"))
        return false;
    for (unsigned i = 1; i < p->ntok; i++) {
        const struct token *t = &p->tok[i];
        char buf[64];
        if (t->len >= sizeof(buf))
            return fail(p, t->col, "setting too long");
        tok_copy(t, buf, sizeof(buf));
        char *eq = strchr(buf, '=');
        if (eq == NULL || eq[1] == '\0')
            return fail(p, t->col, "expected KEY=VALUE, found '%s'", buf);
        *eq = '\0';
        size_t klen = (size_t)(eq - buf);
        for (unsigned k = 1; k < i; k++)
            if (p->tok[k].len > klen && p->tok[k].s[klen] == '=' &&
                strncmp(p->tok[k].s, buf, klen) == 0)
                return fail(p, t->col, "'%s' is set twice on this line", buf);
        const char *val = eq + 1;
        struct token vt = {t->s + (val - buf), strlen(val), t->col + (uint32_t)(val - buf)};
        if (strcmp(buf, "ram") == 0) {
            uint64_t v;
            if (!number(p, &vt, UINT64_MAX, &v))
                return false;
            if (v > SIM_RAM_MAX)
                return fail(p, vt.col,
                            "RAM size %s is larger than %lluG, the 32-bit physical "
                            "address space",
                            val, SIM_RAM_MAX >> 30);
            if (v < MIN_RAM || v % PAGE_SIZE)
                return fail(p, vt.col, "RAM size %s must be a multiple of 4K of at least 32M", val);
            sc->ram_size = v;
            sc->ram_line = p->line;
            sc->ram_col = vt.col;
        } else if (strcmp(buf, "tlb") == 0) {
            if (!tlb_geometry(p, &vt, val, &sc->mmu.tlb4k))
                return false;
        } else if (strcmp(buf, "tlb4m") == 0) {
            if (!tlb_geometry(p, &vt, val, &sc->mmu.tlb4m))
                return false;
        } else if (strcmp(buf, "pse") == 0) {
            if (!on_off(p, &vt, val, &sc->pse))
                return false;
        } else if (strcmp(buf, "pge") == 0) {
            if (!on_off(p, &vt, val, &sc->pge))
                return false;
        } else if (strcmp(buf, "kernel4m") == 0) {
            if (!on_off(p, &vt, val, &sc->kernel4m))
                return false;
            sc->kernel4m_line = p->line;
            sc->kernel4m_col = vt.col;
        } else {
            return fail(p, t->col, "unknown machine setting '%s' (" SCN_MACHINE_KEYS ")", buf);
        }
    }
    return true;
}

static bool
cmd_space(struct parser *p)
{
    if (!need(p, 3, 5, "space create|destroy|switch NAME, or space fork NEW from SOURCE"))
        return false;
    const struct token *verb = &p->tok[1];
    struct slot idx, src;
    if (tok_is(verb, "create")) {
        if (!need(p, 3, 3, "space create NAME") ||
            !name_slot(p, NAME_SPACE, &p->tok[2], true, &idx))
            return false;
        return push(p, WL_SPACE_CREATE | WL_A_LOOP(idx.loop), idx.base, 0, 0, 0);
    }
    if (tok_is(verb, "destroy") || tok_is(verb, "switch")) {
        if (!need(p, 3, 3, "space destroy|switch NAME") ||
            !name_slot(p, NAME_SPACE, &p->tok[2], false, &idx))
            return false;
        return push(
            p, (tok_is(verb, "destroy") ? WL_SPACE_DESTROY : WL_SPACE_SWITCH) | WL_A_LOOP(idx.loop),
            idx.base, 0, 0, 0);
    }
    if (tok_is(verb, "fork")) {
        if (!need(p, 5, 5, "space fork NEW from SOURCE"))
            return false;
        if (!tok_is(&p->tok[3], "from"))
            return fail(p, p->tok[3].col, "expected 'from', found '%.*s'", (int)p->tok[3].len,
                        p->tok[3].s);
        if (!name_slot(p, NAME_SPACE, &p->tok[4], false, &src) ||
            !name_slot(p, NAME_SPACE, &p->tok[2], true, &idx))
            return false;
        if (idx.base == src.base && idx.loop == src.loop)
            return fail(p, p->tok[2].col, "a space cannot be forked into itself");
        return push(p, WL_SPACE_FORK | WL_A_LOOP(idx.loop) | WL_B_LOOP(src.loop), idx.base,
                    src.base, 0, 0);
    }
    return fail(p, verb->col, "unknown space command '%.*s' (create, destroy, switch, fork)",
                (int)verb->len, verb->s);
}

/* map|unmap [SPACE] VA LEN [flags] */
static bool
cmd_map(struct parser *p, bool map)
{
    const char *usage =
        map ? "map [SPACE] VA LEN [ro|rw] [user|kernel] [global]" : "unmap [SPACE] VA LEN";
    if (!need(p, 3, map ? 8 : 4, usage))
        return false;
    unsigned i = 1;
    struct slot slot = {WL_CURRENT, 0};
    if (!isdigit((unsigned char)p->tok[1].s[0])) {
        if (!tok_is(&p->tok[1], "current") && !name_slot(p, NAME_SPACE, &p->tok[1], false, &slot))
            return false;
        i = 2;
    }
    if (p->ntok < i + 2)
        return need(p, 99, 99, usage);
    uint32_t va, len;
    if (!user_range(p, &p->tok[i], &p->tok[i + 1], &va, &len))
        return false;
    uint32_t flags = WL_MAP_WRITE;
    for (unsigned k = i + 2; k < p->ntok; k++) {
        const struct token *t = &p->tok[k];
        if (!map)
            return fail(p, t->col, "too many arguments: usage: %s", usage);
        if (tok_is(t, "ro") || tok_is(t, "r"))
            flags &= ~WL_MAP_WRITE;
        else if (tok_is(t, "rw"))
            flags |= WL_MAP_WRITE;
        else if (tok_is(t, "user"))
            flags |= WL_MAP_USER;
        else if (tok_is(t, "kernel") || tok_is(t, "supervisor"))
            flags &= ~WL_MAP_USER;
        else if (tok_is(t, "global"))
            flags |= WL_MAP_GLOBAL;
        else
            return fail(p, t->col, "unknown mapping flag '%.*s' (ro, rw, user, kernel, global)",
                        (int)t->len, t->s);
    }
    return push(p, (map ? WL_MAP : WL_UNMAP) | WL_A_LOOP(slot.loop), slot.base, va, len,
                map ? flags : 0);
}

/* touch VA LEN [read|write] [user|kernel] [stride N] */
static bool
cmd_touch(struct parser *p)
{
    const char *usage = "touch VA LEN [read|write] [user|kernel] [stride N]";
    if (!need(p, 3, 7, usage))
        return false;
    uint32_t va, len;
    if (!user_range(p, &p->tok[1], &p->tok[2], &va, &len))
        return false;
    uint32_t flags = 0, stride = PAGE_SIZE;
    for (unsigned k = 3; k < p->ntok; k++) {
        const struct token *t = &p->tok[k];
        if (tok_is(t, "read")) {
            flags &= ~WL_TOUCH_WRITE;
        } else if (tok_is(t, "write")) {
            flags |= WL_TOUCH_WRITE;
        } else if (tok_is(t, "user")) {
            flags |= WL_TOUCH_USER;
        } else if (tok_is(t, "kernel") || tok_is(t, "supervisor")) {
            flags &= ~WL_TOUCH_USER;
        } else if (tok_is(t, "stride")) {
            uint64_t v;
            if (k + 1 >= p->ntok)
                return fail(p, t->col + (uint32_t)t->len, "stride needs a number of bytes");
            if (!number(p, &p->tok[k + 1], 1ull << 31, &v))
                return false;
            if (v < 4 || v % 4)
                return fail(p, p->tok[k + 1].col, "stride must be a multiple of 4, at least 4");
            stride = (uint32_t)v;
            k++;
        } else {
            return fail(p, t->col,
                        "unknown touch option '%.*s' (read, write, user, kernel, "
                        "stride N)",
                        (int)t->len, t->s);
        }
    }
    return push(p, WL_TOUCH, flags, va, len, stride);
}

static bool
cmd_kmalloc(struct parser *p)
{
    if (!need(p, 3, 4, "kmalloc NAME SIZE [aligned]"))
        return false;
    struct slot idx;
    uint64_t size;
    if (!name_slot(p, NAME_ALLOC, &p->tok[1], true, &idx) ||
        !number(p, &p->tok[2], 64u << 20, &size))
        return false;
    if (size == 0)
        return fail(p, p->tok[2].col, "allocation size must be at least 1 byte");
    uint32_t aligned = 0;
    if (p->ntok == 4) {
        if (!tok_is(&p->tok[3], "aligned"))
            return fail(p, p->tok[3].col, "expected 'aligned', found '%.*s'", (int)p->tok[3].len,
                        p->tok[3].s);
        aligned = 1;
    }
    return push(p, WL_KMALLOC | WL_A_LOOP(idx.loop), idx.base, (uint32_t)size, aligned, 0);
}

static bool
cmd_kfree(struct parser *p)
{
    struct slot idx;
    if (!need(p, 2, 2, "kfree NAME") || !name_slot(p, NAME_ALLOC, &p->tok[1], false, &idx))
        return false;
    return push(p, WL_KFREE | WL_A_LOOP(idx.loop), idx.base, 0, 0, 0);
}

static bool
cmd_repeat(struct parser *p)
{
    uint64_t n;
    if (!need(p, 2, 3, "repeat COUNT [{]") || !number(p, &p->tok[1], 100000000, &n))
        return false;
    if (p->ntok == 3 && !tok_is(&p->tok[2], "{"))
        return fail(p, p->tok[2].col, "expected '{' or the end of the line");
    if (n == 0)
        return fail(p, p->tok[1].col, "repeat count must be at least 1");
    if (p->depth == WL_MAX_DEPTH)
        return fail(p, p->tok[0].col, "repeat blocks nest at most %u deep", WL_MAX_DEPTH);
    p->repeat_line[p->depth] = p->line;
    p->repeat_count[p->depth] = (uint32_t)n;
    p->repeat_work[p->depth] = false;
    p->depth++;
    return push(p, WL_REPEAT, (uint32_t)n, 0, 0, 0);
}

static bool
cmd_end(struct parser *p)
{
    if (!need(p, 1, 1, "end"))
        return false;
    if (p->depth == 0)
        return fail(p, p->tok[0].col, "'%.*s' without a matching repeat", (int)p->tok[0].len,
                    p->tok[0].s);
    if (!p->repeat_work[p->depth - 1])
        return fail(p, p->tok[0].col,
                    "the repeat block of line %u is empty (snapshot and expect lines cannot be "
                    "in one)",
                    p->repeat_line[p->depth - 1]);
    p->depth--;
    if (p->depth > 0)
        p->repeat_work[p->depth - 1] = true;
    return push(p, WL_REPEAT_END, 0, 0, 0, 0);
}

static bool
cmd_snapshot(struct parser *p)
{
    struct scenario *sc = p->sc;
    if (!need(p, 2, 2, "snapshot LABEL") || !valid_name(p, &p->tok[1]))
        return false;
    if (p->depth > 0)
        return fail(p, p->tok[0].col, "a snapshot cannot be inside a repeat block");
    for (uint32_t i = 0; i < sc->nlabels; i++)
        if (strlen(sc->labels[i].name) == p->tok[1].len &&
            strncmp(sc->labels[i].name, p->tok[1].s, p->tok[1].len) == 0)
            return fail(p, p->tok[1].col, "snapshot '%s' already defined on line %u",
                        sc->labels[i].name, sc->labels[i].line);
    struct scn_label *nl = realloc(sc->labels, (sc->nlabels + 1) * sizeof(*nl));
    if (nl == NULL)
        return fail(p, 1, "out of memory");
    sc->labels = nl;
    struct scn_label *l = &sc->labels[sc->nlabels++];
    tok_copy(&p->tok[1], l->name, sizeof(l->name));
    l->mark = sc->nmarks++;
    l->line = p->line;
    return push(p, WL_MARK, l->mark, 0, 0, 0);
}

/* The counter name of token t of an expect line in name, or false after an
 * error at t's column if no counter has that name. */
static bool
expect_counter(struct parser *p, const struct token *t, char name[SCN_NAME_MAX])
{
    if (t->len >= SCN_NAME_MAX || (tok_copy(t, name, SCN_NAME_MAX), counter_find(name) < 0))
        return fail(p, t->col, "unknown counter '%.*s' (see 'pagesim run --help')", (int)t->len,
                    t->s);
    return true;
}

static bool
cmd_expect(struct parser *p)
{
    struct scenario *sc = p->sc;
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    if (!need(p, 4, 4, SCN_EXPECT_USAGE))
        return false;
    if (p->depth > 0)
        return fail(p, p->tok[0].col, "an expect line cannot be inside a repeat block");
    char name[SCN_NAME_MAX], rhs[SCN_NAME_MAX] = "";
    if (!expect_counter(p, &p->tok[1], name))
        return false;
    int cmp = -1;
    for (int i = 0; i < 6; i++)
        if (tok_is(&p->tok[2], ops[i]))
            cmp = i;
    if (cmp < 0)
        return fail(p, p->tok[2].col, "unknown comparison '%.*s' (== != < <= > >=)",
                    (int)p->tok[2].len, p->tok[2].s);
    /* VALUE: a number starts with a digit; anything else names a counter. */
    uint64_t v = 0;
    if (isdigit((unsigned char)p->tok[3].s[0]) ? !number(p, &p->tok[3], UINT64_MAX, &v)
                                               : !expect_counter(p, &p->tok[3], rhs))
        return false;
    struct scn_expect *ne = realloc(sc->expects, (sc->nexpects + 1) * sizeof(*ne));
    if (ne == NULL)
        return fail(p, 1, "out of memory");
    sc->expects = ne;
    struct scn_expect *e = &sc->expects[sc->nexpects++];
    memcpy(e->counter, name, sizeof(name));
    e->cmp = (enum scn_cmp)cmp;
    memcpy(e->rhs, rhs, sizeof(rhs));
    e->value = v;
    e->mark = sc->nmarks++;
    e->line = p->line;
    e->col = p->tok[0].col;
    return push(p, WL_MARK, e->mark, 0, 0, 0);
}

static bool
cmd_name(struct parser *p, char *dst, uint32_t *line, uint32_t *col, const char *usage)
{
    if (!need(p, 2, 2, usage) || !valid_name(p, &p->tok[1]))
        return false;
    tok_copy(&p->tok[1], dst, SCN_NAME_MAX);
    if (line != NULL) {
        *line = p->line;
        *col = p->tok[1].col;
    }
    return true;
}

/* A machine, strategy or pmm line: once, before the first operation. */
static bool
config_line(struct parser *p, uint32_t *seen)
{
    const struct token *c = &p->tok[0];
    if (*seen != 0)
        return fail(p, c->col, "a second '%.*s' line (the first is line %u)", (int)c->len, c->s,
                    *seen);
    if (p->first_op_line != 0)
        return fail(p, c->col, "'%.*s' must come before the first operation (line %u)", (int)c->len,
                    c->s, p->first_op_line);
    *seen = p->line;
    return true;
}

static bool
parse_line(struct parser *p)
{
    const struct token *c = &p->tok[0];
    struct scenario *sc = p->sc;
    if (tok_is(c, "machine"))
        return config_line(p, &p->machine_line) && cmd_machine(p);
    if (tok_is(c, "strategy"))
        return config_line(p, &p->strategy_line) &&
               cmd_name(p, sc->strategy, &sc->strategy_line, &sc->strategy_col, "strategy NAME");
    if (tok_is(c, "pmm"))
        return config_line(p, &p->pmm_line) &&
               cmd_name(p, sc->pmm, &sc->pmm_line, &sc->pmm_col, "pmm NAME");
    if (tok_is(c, "space"))
        return cmd_space(p);
    if (tok_is(c, "map"))
        return cmd_map(p, true);
    if (tok_is(c, "unmap"))
        return cmd_map(p, false);
    if (tok_is(c, "touch"))
        return cmd_touch(p);
    if (tok_is(c, "kmalloc"))
        return cmd_kmalloc(p);
    if (tok_is(c, "kfree"))
        return cmd_kfree(p);
    if (tok_is(c, "repeat"))
        return cmd_repeat(p);
    if (tok_is(c, "end") || tok_is(c, "}"))
        return cmd_end(p);
    if (tok_is(c, "snapshot"))
        return cmd_snapshot(p);
    if (tok_is(c, "expect"))
        return cmd_expect(p);
    return fail(p, c->col, "unknown command '%.*s'", (int)c->len, c->s);
}

bool
scn_parse(const char *file, const char *text, size_t len, struct scenario *sc, char *err,
          size_t errlen)
{
    memset(sc, 0, sizeof(*sc));
    snprintf(sc->file, sizeof(sc->file), "%s", file);
    sc->ram_size = SIM_RAM_DEFAULT;
    mmu_config_default(&sc->mmu);
    sc->pse = true;
    sc->pge = true;

    struct parser p = {.sc = sc, .file = file, .err = err, .errlen = errlen};
    size_t pos = 0;
    while (pos < len && !p.failed) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - line) : len - pos;
        pos += l + (nl ? 1 : 0);
        p.line++;
        if (memchr(line, '\0', l) != NULL) {
            fail(&p, (uint32_t)((const char *)memchr(line, '\0', l) - line) + 1,
                 "unexpected NUL byte");
            break;
        }
        if (tokenize(&p, line, l) && p.ntok > 0)
            parse_line(&p);
    }
    if (!p.failed && p.depth > 0) {
        p.line = p.repeat_line[p.depth - 1];
        fail(&p, 1, "repeat block is never closed with 'end'");
    }
    if (!p.failed && !scn_check_machine(sc, false, p.err, p.errlen))
        p.failed = true;
    if (!p.failed)
        push(&p, WL_END, 0, 0, 0, 0);
    free(p.fams);
    if (p.failed) {
        scn_free(sc);
        return false;
    }
    return true;
}

void
scn_where(const struct scenario *sc, uint32_t at, char *buf, size_t len)
{
    if (at != 0 && at <= sc->nops)
        snprintf(buf, len, "%s:%u", sc->file, sc->ops[at - 1].line);
    else
        snprintf(buf, len, "boot");
}

bool
scn_check_machine(const struct scenario *sc, bool cli_pse, char *err, size_t len)
{
    if (!sc->kernel4m || sc->pse)
        return true;
    if (sc->kernel4m_line == 0)
        snprintf(
            err, len, "command line: error: --kernel4m on needs 4 MiB pages: pse must be on (%s)",
            cli_pse ? "the command line set pse=off" : "the scenario's machine line sets pse=off");
    else
        snprintf(err, len, "%s:%u:%u: error: kernel4m=on needs 4 MiB pages: pse must be on%s",
                 sc->file, sc->kernel4m_line, sc->kernel4m_col,
                 cli_pse ? " (the command line set pse=off)" : "");
    return false;
}

bool
scn_set_kernel4m(struct scenario *sc, const char *arg, bool cli_pse, char *err, size_t len)
{
    if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0) {
        snprintf(err, len, "command line: error: --kernel4m takes on or off, not '%s'", arg);
        return false;
    }
    sc->kernel4m = strcmp(arg, "on") == 0;
    sc->kernel4m_line = sc->kernel4m_col = 0;
    return scn_check_machine(sc, cli_pse, err, len);
}

bool
scn_load(const char *path, struct scenario *sc, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s:0:0: error: cannot open: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
        if (cap >= (64u << 20)) {
            free(buf);
            buf = NULL;
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
        cap *= 2;
    }
    bool read_err = ferror(f);
    fclose(f);
    if (buf == NULL || read_err) {
        free(buf);
        snprintf(err, errlen, "%s:0:0: error: cannot read (too large or unreadable)", path);
        return false;
    }
    bool ok = scn_parse(path, buf, len, sc, err, errlen);
    free(buf);
    return ok;
}

void
scn_free(struct scenario *sc)
{
    free(sc->ops);
    free(sc->spaces);
    free(sc->handles);
    free(sc->labels);
    free(sc->expects);
    sc->ops = NULL;
    sc->spaces = sc->handles = NULL;
    sc->labels = NULL;
    sc->expects = NULL;
}

void *
scn_oplist(const struct scenario *sc, size_t *len)
{
    *len = sizeof(struct wl_header) + sc->nops * sizeof(struct wl_op);
    uint8_t *buf = malloc(*len);
    if (buf == NULL)
        return NULL;
    struct wl_header h = {WL_MAGIC, sc->nops, 0};
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), sc->ops, sc->nops * sizeof(struct wl_op));
    return buf;
}

int
scn_label_mark(const struct scenario *sc, const char *label)
{
    for (uint32_t i = 0; i < sc->nlabels; i++)
        if (strcmp(sc->labels[i].name, label) == 0)
            return (int)sc->labels[i].mark;
    return -1;
}

const char *
scn_cmp_name(enum scn_cmp cmp)
{
    static const char *const names[] = {"==", "!=", "<", "<=", ">", ">="};
    return names[cmp];
}

void
scn_expect_text(const struct scn_expect *e, char *buf, size_t len)
{
    if (e->rhs[0] != '\0')
        snprintf(buf, len, "%s %s %s", e->counter, scn_cmp_name(e->cmp), e->rhs);
    else
        snprintf(buf, len, "%s %s %llu", e->counter, scn_cmp_name(e->cmp),
                 (unsigned long long)e->value);
}

void
scn_expect_values(const struct scn_expect *e, uint64_t v, uint64_t w, char *buf, size_t len)
{
    if (e->rhs[0] != '\0')
        snprintf(buf, len, "%s %llu, %s %llu", e->counter, (unsigned long long)v, e->rhs,
                 (unsigned long long)w);
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

bool
scn_cmp_eval(enum scn_cmp cmp, uint64_t a, uint64_t b)
{
    switch (cmp) {
    case SCN_EQ:
        return a == b;
    case SCN_NE:
        return a != b;
    case SCN_LT:
        return a < b;
    case SCN_LE:
        return a <= b;
    case SCN_GT:
        return a > b;
    case SCN_GE:
        return a >= b;
    }
    return false;
}
