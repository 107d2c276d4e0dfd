/*
 * Guest page-table walker (see guest_walk.h). Section numbers are of the
 * Intel SDM Vol. 3A, chapter 4; the AMD APM Vol. 2 chapter 5 agrees on
 * every bit used here.
 */
#include "guest_walk.h"

#include "le_bytes.h"

/* Paging-structure entry bits common to every format (tables 4-4 to 4-20). */
#define PTE_P  (1ull << 0)  /* present */
#define PTE_RW (1ull << 1)  /* writable */
#define PTE_US (1ull << 2)  /* user-mode accesses allowed */
#define PTE_PS (1ull << 7)  /* page size: this entry maps a page */
#define PTE_XD (1ull << 63) /* execute-disable, 8-byte formats with NXE */

#define PAGE_SHIFT       12
#define PAGE_SIZE        (1ull << PAGE_SHIFT)
#define TABLE_INDEX_BITS 9  /* 512 8-byte entries per table (4.4, 4.5) */
#define PSE36_MAX_PHYS   40 /* 32-bit paging maps at most 40 bits (4.3) */

struct walk {
    const struct guest_paging_state *st;
    guest_phys_read_fn read;
    void *ctx;
    unsigned access;
    unsigned maxphyaddr;
    bool pae;      /* PAE paging: bits 62:M reserved, not 51:M (4.4.2) */
    bool writable; /* R/W = 1 in every entry so far (4.6.1) */
    bool user;     /* U/S = 1 in every entry so far */
    bool xd;       /* XD = 1 in some entry */
};

/* Bits hi..lo inclusive; 0 when lo > hi. */
static uint64_t bit_range(unsigned hi, unsigned lo)
{
    if (lo > hi || hi > 63)
        return 0;
    return (~0ull >> (63 - hi)) & (~0ull << lo);
}

static unsigned effective_maxphyaddr(unsigned m)
{
    if (m == 0)
        return GUEST_MAXPHYADDR_DEFAULT;
    if (m < 32)
        return 32;
    return m > 52 ? 52 : m;
}

/* Reads one 4- or 8-byte little-endian entry from guest RAM. */
static bool read_entry(const struct walk *w, uint64_t addr, size_t size, uint64_t *entry)
{
    uint8_t b[8];
    if (!w->read(w->ctx, addr, b, size))
        return false;
    *entry = size == 8 ? le64(b) : le32(b);
    return true;
}

static void accumulate_rights(struct walk *w, uint64_t e)
{
    w->writable = w->writable && (e & PTE_RW);
    w->user = w->user && (e & PTE_US);
    w->xd = w->xd || (e & PTE_XD);
}

/* Access rights of a complete translation (4.6.1). SMAP and protection keys
 * are not modelled (guest_walk.h). With NXE = 0 an entry with bit 63 set has
 * already failed the reserved-bit check, so w->xd implies NXE here. */
static bool access_allowed(const struct walk *w)
{
    bool user = w->access & GUEST_ACCESS_USER;
    if (user && !w->user)
        return false;
    if ((w->access & GUEST_ACCESS_WRITE) && !w->writable && (user || (w->st->cr0 & GUEST_CR0_WP)))
        return false;
    if (w->access & GUEST_ACCESS_FETCH) {
        if (w->xd)
            return false;
        if (!user && w->user && (w->st->cr4 & GUEST_CR4_SMEP))
            return false;
    }
    return true;
}

/* Reserved bits of an 8-byte entry at level (1 = PTE ... 5 = PML5E):
 * tables 4-11 to 4-13 (PAE) and 4-15 to 4-20 (4-level; 5-level adds a
 * PML5E formatted as a PML4E, 4.5.1). */
static uint64_t reserved_bits64(const struct walk *w, int level, bool leaf)
{
    uint64_t r = bit_range(w->pae ? 62 : 51, w->maxphyaddr);
    if (!(w->st->efer & GUEST_EFER_NXE))
        r |= PTE_XD; /* 4.1.3: XD is reserved without IA32_EFER.NXE */
    if (level >= 4)
        r |= PTE_PS; /* PML4E/PML5E bit 7 must be 0 */
    else if (leaf && level == 3)
        r |= bit_range(29, 13); /* 1 GiB page, table 4-16 */
    else if (leaf && level == 2)
        r |= bit_range(20, 13); /* 2 MiB page, tables 4-10 and 4-18 */
    return r;
}

/* Walks 8-byte-entry tables from table down to a page: 4-level/5-level
 * (levels 4 or 5) and the PD/PT half of PAE paging (levels 2). */
static enum guest_walk_result walk64(struct walk *w, uint64_t table, int levels, uint64_t linear,
                                     uint64_t *gpa)
{
    uint64_t addr_mask = bit_range(w->maxphyaddr - 1, PAGE_SHIFT);
    for (int level = levels; level >= 1; level--) {
        unsigned shift = PAGE_SHIFT + TABLE_INDEX_BITS * (unsigned)(level - 1);
        uint64_t index = (linear >> shift) & bit_range(TABLE_INDEX_BITS - 1, 0);
        uint64_t e;
        if (!read_entry(w, table + index * 8, 8, &e))
            return GUEST_WALK_BAD_TABLE;
        if (!(e & PTE_P))
            return GUEST_WALK_NOT_PRESENT;
        bool leaf = level == 1 || (level <= 3 && (e & PTE_PS));
        if (e & reserved_bits64(w, level, leaf))
            return GUEST_WALK_RESERVED_BIT;
        accumulate_rights(w, e);
        if (leaf) {
            uint64_t offset = bit_range(shift - 1, 0);
            *gpa = (e & addr_mask & ~offset) | (linear & offset);
            return GUEST_WALK_OK;
        }
        table = e & addr_mask;
    }
    return GUEST_WALK_BAD_TABLE; /* not reached: level 1 is always a leaf */
}

/* PAE paging (4.4): CR3[31:5] holds a 4-entry PDPT; PDPTEs carry no access
 * rights and have bits 2:1, 8:5 and 63:M reserved (table 4-8). */
static enum guest_walk_result walk_pae(struct walk *w, uint32_t linear, uint64_t *gpa)
{
    uint64_t pdpt = w->st->cr3 & bit_range(31, 5);
    uint64_t pdpte;
    if (!read_entry(w, pdpt + (uint64_t)(linear >> 30) * 8, 8, &pdpte))
        return GUEST_WALK_BAD_TABLE;
    if (!(pdpte & PTE_P))
        return GUEST_WALK_NOT_PRESENT;
    uint64_t reserved = bit_range(2, 1) | bit_range(8, 5) | bit_range(63, w->maxphyaddr);
    if (pdpte & reserved)
        return GUEST_WALK_RESERVED_BIT;
    uint64_t pd = pdpte & bit_range(w->maxphyaddr - 1, PAGE_SHIFT);
    return walk64(w, pd, 2, linear, gpa);
}

/* Physical-address bits above 31 that a 4 MiB page can hold: M - 32. */
static unsigned pse36_high_bits(unsigned maxphyaddr)
{
    if (maxphyaddr <= 32)
        return 0;
    return maxphyaddr > PSE36_MAX_PHYS ? PSE36_MAX_PHYS - 32 : maxphyaddr - 32;
}

/* A 4 MiB page of 32-bit paging (table 4-4). PSE-36 puts physical bits
 * (M-1):32 in PDE bits (M-20):13 and reserves bits 21:(M-19), where
 * M = min(MAXPHYADDR, 40) (4.3). */
static enum guest_walk_result walk32_large(struct walk *w, uint64_t pde, uint32_t linear,
                                           uint64_t *gpa)
{
    unsigned high_bits = pse36_high_bits(w->maxphyaddr);
    if (pde & bit_range(21, 13 + high_bits))
        return GUEST_WALK_RESERVED_BIT;
    accumulate_rights(w, pde);
    uint64_t high = (pde >> 13) & ((1ull << high_bits) - 1);
    *gpa = (pde & bit_range(31, 22)) | (high << 32) | (linear & bit_range(21, 0));
    return GUEST_WALK_OK;
}

/* 32-bit paging (4.3): two levels of 4-byte entries, no XD. A PDE with PS
 * maps 4 MiB when CR4.PSE = 1; without CR4.PSE, PS is ignored (table 4-5). */
static enum guest_walk_result walk32(struct walk *w, uint32_t linear, uint64_t *gpa)
{
    uint64_t frame_mask = bit_range(31, PAGE_SHIFT);
    uint64_t pde, pte;
    if (!read_entry(w, (w->st->cr3 & frame_mask) + (uint64_t)(linear >> 22) * 4, 4, &pde))
        return GUEST_WALK_BAD_TABLE;
    if (!(pde & PTE_P))
        return GUEST_WALK_NOT_PRESENT;
    if ((pde & PTE_PS) && (w->st->cr4 & GUEST_CR4_PSE))
        return walk32_large(w, pde, linear, gpa);
    accumulate_rights(w, pde);
    uint64_t pt = pde & frame_mask;
    if (!read_entry(w, pt + (uint64_t)((linear >> PAGE_SHIFT) & 0x3ff) * 4, 4, &pte))
        return GUEST_WALK_BAD_TABLE;
    if (!(pte & PTE_P))
        return GUEST_WALK_NOT_PRESENT;
    accumulate_rights(w, pte);
    *gpa = (pte & frame_mask) | (linear & (PAGE_SIZE - 1));
    return GUEST_WALK_OK;
}

/* Canonical: bits 63:N-1 all equal, N = 48 or 57 (3.3.7.1, 4.5.1). */
static bool canonical(uint64_t linear, unsigned bits)
{
    uint64_t top = linear >> (bits - 1);
    return top == 0 || top == (~0ull >> (bits - 1));
}

static enum guest_walk_result walk_long(struct walk *w, uint64_t linear, uint64_t *gpa)
{
    bool la57 = w->st->cr4 & GUEST_CR4_LA57;
    if (!canonical(linear, la57 ? 57 : 48))
        return GUEST_WALK_NON_CANONICAL;
    uint64_t top = w->st->cr3 & bit_range(w->maxphyaddr - 1, PAGE_SHIFT);
    return walk64(w, top, la57 ? 5 : 4, linear, gpa);
}

/* The #PF error code of a failed walk (4.7): P is 0 only for a not-present
 * entry; I/D is set for a fetch only with SMEP or with PAE-style paging and
 * NXE. */
static uint32_t pf_error_code(const struct walk *w, enum guest_walk_result r)
{
    uint32_t code = w->access & (GUEST_PF_WRITE | GUEST_PF_USER);
    const struct guest_paging_state *st = w->st;
    if ((w->access & GUEST_ACCESS_FETCH) &&
        ((st->cr4 & GUEST_CR4_SMEP) || ((st->cr4 & GUEST_CR4_PAE) && (st->efer & GUEST_EFER_NXE))))
        code |= GUEST_PF_FETCH;
    if (r == GUEST_WALK_RESERVED_BIT)
        code |= GUEST_PF_PRESENT | GUEST_PF_RSVD;
    else if (r == GUEST_WALK_PROTECTION)
        code |= GUEST_PF_PRESENT;
    else if (r != GUEST_WALK_NOT_PRESENT)
        code = 0;
    return code;
}

static enum guest_walk_result walk_paged(struct walk *w, uint64_t linear, uint64_t *gpa)
{
    const struct guest_paging_state *st = w->st;
    if (st->efer & GUEST_EFER_LMA)
        return walk_long(w, linear, gpa);
    if (st->cr4 & GUEST_CR4_PAE) {
        w->pae = true;
        return walk_pae(w, (uint32_t)linear, gpa);
    }
    return walk32(w, (uint32_t)linear, gpa);
}

enum guest_walk_result guest_walk(const struct guest_paging_state *st, uint64_t linear,
                                  unsigned access, guest_phys_read_fn read, void *ctx,
                                  uint64_t *gpa, uint32_t *error_code)
{
    struct walk w = {
        .st = st,
        .read = read,
        .ctx = ctx,
        .access = access,
        .maxphyaddr = effective_maxphyaddr(st->maxphyaddr),
        .writable = true,
        .user = true,
    };
    uint64_t out = 0;
    enum guest_walk_result r;
    if (!(st->cr0 & GUEST_CR0_PG)) {
        /* No paging (4.1.1): the linear address is the physical one. */
        out = (st->efer & GUEST_EFER_LMA) ? linear : (uint32_t)linear;
        r = GUEST_WALK_OK;
    } else {
        r = walk_paged(&w, linear, &out);
        if (r == GUEST_WALK_OK && !access_allowed(&w))
            r = GUEST_WALK_PROTECTION;
    }
    if (gpa != NULL)
        *gpa = r == GUEST_WALK_OK ? out : 0;
    if (error_code != NULL)
        *error_code = r == GUEST_WALK_OK ? 0 : pf_error_code(&w, r);
    return r;
}

/* Copies len bytes of guest RAM at gpa, or as many as can be read one by
 * one when the whole run cannot (RAM that ends inside the page). */
static size_t read_run(guest_phys_read_fn read, void *ctx, uint64_t gpa, uint8_t *dst, size_t len)
{
    if (read(ctx, gpa, dst, len))
        return len;
    size_t n = 0;
    while (n < len && read(ctx, gpa + n, dst + n, 1))
        n++;
    return n;
}

size_t guest_fetch(const struct guest_paging_state *st, uint64_t linear, unsigned access, void *buf,
                   size_t len, guest_phys_read_fn read, void *ctx)
{
    access = (access & GUEST_ACCESS_USER) | GUEST_ACCESS_FETCH;
    uint8_t *dst = buf;
    size_t done = 0;
    while (done < len) {
        /* Outside long mode guest_walk() keeps bits 31:0: addresses wrap. */
        uint64_t addr = linear + done;
        size_t chunk = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
        if (chunk > len - done)
            chunk = len - done;
        uint64_t gpa;
        if (guest_walk(st, addr, access, read, ctx, &gpa, NULL) != GUEST_WALK_OK)
            break;
        size_t got = read_run(read, ctx, gpa, dst + done, chunk);
        done += got;
        if (got < chunk)
            break;
    }
    return done;
}
