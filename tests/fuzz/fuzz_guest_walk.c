/*
 * libFuzzer target: the guest page-table walker (kernel/guest_walk.c) over a
 * fuzzed 64 KiB guest RAM with fuzzed CR0/CR3/CR4/EFER. Input layout:
 *   0   cr0, cr3, cr4, efer, linear  (5 x u64, little-endian)
 *   40  maxphyaddr (u8), access (u8: GUEST_ACCESS_* bits), fetch length (u8)
 *   43  mode (u8): bits 2:0 force a paging mode (0 as given, 1 off, 2 32-bit,
 *       3 PAE, 4 4-level, 5 5-level); bit 3 aliases RAM at every 64 KiB
 *   44  guest RAM at GPA 0 (zero-padded to 64 KiB)
 * Every walk must terminate, read at most five naturally aligned entries,
 * each at the index the linear address selects in the table the previous
 * entry (or CR3) names, and return only a GPA that the entries read give;
 * error codes must match the result and the access; a subset of the access
 * rights must not fail where the full set succeeded. guest_fetch() must copy
 * exactly the bytes the walker translates, into an exact-size buffer.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"
#include "guest_walk.h"
#include "le_bytes.h"

#define RAM_SIZE    0x10000u
#define HEADER_SIZE 44
#define MAX_READS   64

enum force_mode { AS_GIVEN, FORCE_OFF, FORCE_32, FORCE_PAE, FORCE_LONG4, FORCE_LONG5 };

struct fuzz_ram {
    uint8_t mem[RAM_SIZE];
    bool alias; /* every 64 KiB of GPA space reads the same RAM */
    unsigned nreads;
    struct {
        uint64_t gpa, value;
        size_t len;
    } log[MAX_READS];
};

static bool fuzz_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct fuzz_ram *ram = ctx;
    uint64_t at = ram->alias ? gpa % RAM_SIZE : gpa;
    REQUIRE(len > 0 && len <= 4096);
    if (ram->nreads < MAX_READS) {
        ram->log[ram->nreads].gpa = gpa;
        ram->log[ram->nreads].len = len;
        ram->log[ram->nreads].value = 0;
        if (at < RAM_SIZE && len <= RAM_SIZE - at && len <= 8)
            ram->log[ram->nreads].value = len == 8 ? le64(ram->mem + at) : le32(ram->mem + at);
    }
    ram->nreads++;
    if (at >= RAM_SIZE || len > RAM_SIZE - at)
        return false;
    memcpy(buf, ram->mem + at, len);
    return true;
}

static void force_mode(struct guest_paging_state *st, unsigned mode)
{
    const uint64_t lme_lma = GUEST_EFER_LMA | (1ull << 8);
    switch (mode) {
    case FORCE_OFF:
        st->cr0 &= ~GUEST_CR0_PG;
        st->efer &= ~lme_lma;
        break;
    case FORCE_32:
    case FORCE_PAE:
        st->cr0 |= GUEST_CR0_PG;
        st->efer &= ~lme_lma;
        st->cr4 = mode == FORCE_PAE ? st->cr4 | GUEST_CR4_PAE : st->cr4 & ~GUEST_CR4_PAE;
        break;
    case FORCE_LONG4:
    case FORCE_LONG5:
        st->cr0 |= GUEST_CR0_PG;
        st->efer |= lme_lma;
        st->cr4 |= GUEST_CR4_PAE;
        st->cr4 = mode == FORCE_LONG5 ? st->cr4 | GUEST_CR4_LA57 : st->cr4 & ~GUEST_CR4_LA57;
        break;
    default:
        break;
    }
}

static uint64_t low_bits(unsigned n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

static unsigned clamp_maxphyaddr(unsigned m)
{
    if (m == 0 || m > 52)
        return 52;
    return m < 32 ? 32 : m;
}

/* The paging structure layout the state selects: entry size and the
 * linear-address shift of each level's index, top first. */
struct layout {
    bool paged, long_mode, pse;
    unsigned entry, levels, m;
    unsigned shift[5];
    uint64_t top; /* address of the top table, from CR3 */
};

static struct layout layout_of(const struct guest_paging_state *st)
{
    struct layout l = {.paged = (st->cr0 & GUEST_CR0_PG) != 0};
    l.long_mode = (st->efer & GUEST_EFER_LMA) != 0;
    l.pse = (st->cr4 & GUEST_CR4_PSE) != 0;
    l.m = clamp_maxphyaddr(st->maxphyaddr);
    static const unsigned s5[] = {48, 39, 30, 21, 12}, s32[] = {22, 12};
    if (l.long_mode) {
        l.entry = 8;
        l.levels = (st->cr4 & GUEST_CR4_LA57) ? 5 : 4;
        memcpy(l.shift, s5 + 5 - l.levels, l.levels * sizeof(unsigned));
        l.top = st->cr3 & low_bits(l.m) & ~0xfffull;
    } else if (st->cr4 & GUEST_CR4_PAE) {
        l.entry = 8;
        l.levels = 3;
        memcpy(l.shift, s5 + 2, 3 * sizeof(unsigned));
        l.top = st->cr3 & 0xffffffe0ull;
    } else {
        l.entry = 4;
        l.levels = 2;
        memcpy(l.shift, s32, sizeof(s32));
        l.top = st->cr3 & 0xfffff000ull;
    }
    return l;
}

static uint64_t frame_of(const struct layout *l, uint64_t entry)
{
    return entry & (l->entry == 4 ? 0xfffff000ull : low_bits(l->m) & ~0xfffull);
}

/* The reads of one walk followed the tables from CR3, one entry a level. */
static void check_reads(const struct layout *l, const struct fuzz_ram *ram, uint64_t linear)
{
    REQUIRE(ram->nreads <= l->levels);
    uint64_t table = l->top;
    for (unsigned i = 0; i < ram->nreads; i++) {
        unsigned mask = i == 0 && l->levels == 3 ? 3 : l->entry == 4 ? 1023 : 511;
        uint64_t index = (linear >> l->shift[i]) & mask;
        REQUIRE(ram->log[i].len == l->entry);
        REQUIRE(ram->log[i].gpa == table + index * l->entry);
        if (i + 1 < ram->nreads)
            REQUIRE(ram->log[i].value & 1); /* only present entries are followed */
        table = frame_of(l, ram->log[i].value);
    }
}

/* A successful walk's GPA is the leaf entry's frame plus the page offset. */
static void check_translation(const struct layout *l, const struct fuzz_ram *ram, uint64_t linear,
                              uint64_t gpa)
{
    if (!l->paged) {
        REQUIRE(ram->nreads == 0);
        REQUIRE(gpa == (l->long_mode ? linear : (uint32_t)linear));
        return;
    }
    REQUIRE(ram->nreads >= 1);
    unsigned shift = l->shift[ram->nreads - 1];
    uint64_t leaf = ram->log[ram->nreads - 1].value;
    REQUIRE(leaf & 1);
    /* A large page has PS: 1 GiB at most in long mode, 2 MiB with PAE, 4 MiB
     * with 32-bit paging and CR4.PSE. */
    REQUIRE(ram->nreads == l->levels || (leaf & 0x80));
    if (l->long_mode)
        REQUIRE(ram->nreads + 2 >= l->levels);
    else if (l->entry == 8)
        REQUIRE(ram->nreads >= 2);
    else
        REQUIRE(ram->nreads == 2 || l->pse);
    REQUIRE((gpa & low_bits(shift)) == (linear & low_bits(shift)));
    REQUIRE((gpa & 0xffffffffull & ~low_bits(shift)) == (leaf & 0xffffffffull & ~low_bits(shift)));
    if (l->entry == 8)
        REQUIRE(gpa >> 32 == (leaf & low_bits(l->m)) >> 32);
    else
        REQUIRE(gpa >> (shift == 12 ? 32 : 40) == 0);
}

static void check_error_code(enum guest_walk_result r, uint32_t ec, unsigned access)
{
    const uint32_t known =
        GUEST_PF_PRESENT | GUEST_PF_WRITE | GUEST_PF_USER | GUEST_PF_RSVD | GUEST_PF_FETCH;
    REQUIRE((ec & ~known) == 0);
    bool pf =
        r == GUEST_WALK_NOT_PRESENT || r == GUEST_WALK_RESERVED_BIT || r == GUEST_WALK_PROTECTION;
    if (!pf) {
        REQUIRE(ec == 0);
        return;
    }
    REQUIRE(!(ec & GUEST_PF_PRESENT) == (r == GUEST_WALK_NOT_PRESENT));
    REQUIRE(!(ec & GUEST_PF_RSVD) == (r != GUEST_WALK_RESERVED_BIT));
    REQUIRE((ec & (GUEST_PF_WRITE | GUEST_PF_USER)) ==
            (access & (GUEST_ACCESS_WRITE | GUEST_ACCESS_USER)));
    if (ec & GUEST_PF_FETCH)
        REQUIRE(access & GUEST_ACCESS_FETCH);
}

static enum guest_walk_result walk_once(const struct guest_paging_state *st, struct fuzz_ram *ram,
                                        uint64_t linear, unsigned access, uint64_t *gpa)
{
    uint32_t ec;
    ram->nreads = 0;
    enum guest_walk_result r = guest_walk(st, linear, access, fuzz_read, ram, gpa, &ec);
    REQUIRE(r >= GUEST_WALK_OK && r <= GUEST_WALK_BAD_TABLE);
    check_error_code(r, ec, access);
    struct layout l = layout_of(st);
    if (l.paged && r != GUEST_WALK_NON_CANONICAL)
        check_reads(&l, ram, l.long_mode ? linear : (uint32_t)linear);
    if (r == GUEST_WALK_OK)
        check_translation(&l, ram, linear, *gpa);
    else
        REQUIRE(*gpa == 0);
    if (r == GUEST_WALK_NOT_PRESENT) {
        REQUIRE(ram->nreads >= 1);
        REQUIRE(!(ram->log[ram->nreads - 1].value & 1));
    }
    if (r == GUEST_WALK_BAD_TABLE || r == GUEST_WALK_NON_CANONICAL)
        REQUIRE(l.paged);
    return r;
}

/* Fewer rights asked never fail where more succeeded (except SMEP: a
 * supervisor fetch may not run a user page that a user fetch may); faults
 * other than protection do not depend on the access at all. */
static void check_monotonic(const struct guest_paging_state *st, struct fuzz_ram *ram,
                            uint64_t linear, unsigned access, enum guest_walk_result r,
                            uint64_t gpa)
{
    for (unsigned drop = 1; drop <= GUEST_ACCESS_FETCH; drop <<= 1) {
        if (!(access & drop))
            continue;
        uint64_t g;
        enum guest_walk_result r2 = walk_once(st, ram, linear, access & ~drop, &g);
        bool smep = (st->cr4 & GUEST_CR4_SMEP) && (access & GUEST_ACCESS_FETCH) &&
                    drop == GUEST_ACCESS_USER;
        if (r == GUEST_WALK_OK)
            REQUIRE((r2 == GUEST_WALK_OK && g == gpa) || (smep && r2 == GUEST_WALK_PROTECTION));
        else if (r != GUEST_WALK_PROTECTION)
            REQUIRE(r2 == r);
    }
    uint64_t g;
    enum guest_walk_result r0 = walk_once(st, ram, linear, 0, &g);
    REQUIRE(r0 == (r == GUEST_WALK_PROTECTION ? GUEST_WALK_OK : r));
}

static void check_fetch(const struct guest_paging_state *st, struct fuzz_ram *ram, uint64_t linear,
                        unsigned access, size_t len)
{
    uint8_t *buf = malloc(len ? len : 1);
    REQUIRE(buf != NULL);
    size_t n = guest_fetch(st, linear, access, buf, len, fuzz_read, ram);
    REQUIRE(n <= len);
    unsigned fetch = (access & GUEST_ACCESS_USER) | GUEST_ACCESS_FETCH;
    for (size_t i = 0; i <= n && i < len; i++) {
        uint64_t gpa;
        uint8_t byte;
        bool ok = walk_once(st, ram, linear + i, fetch, &gpa) == GUEST_WALK_OK &&
                  fuzz_read(ram, gpa, &byte, 1);
        REQUIRE(ok == (i < n)); /* byte n is the first that cannot be fetched */
        if (i < n)
            REQUIRE(buf[i] == byte);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_ram ram;
    if (size < HEADER_SIZE)
        return 0;
    struct guest_paging_state st = {.cr0 = le64(data),
                                    .cr3 = le64(data + 8),
                                    .cr4 = le64(data + 16),
                                    .efer = le64(data + 24),
                                    .maxphyaddr = data[40]};
    uint64_t linear = le64(data + 32);
    unsigned access = data[41] & (GUEST_ACCESS_WRITE | GUEST_ACCESS_USER | GUEST_ACCESS_FETCH);
    size_t fetch_len = data[42] % 32;
    force_mode(&st, data[43] & 7);
    ram.alias = data[43] & 8;
    size_t ram_len = size - HEADER_SIZE < RAM_SIZE ? size - HEADER_SIZE : RAM_SIZE;
    memset(ram.mem, 0, sizeof(ram.mem));
    memcpy(ram.mem, data + HEADER_SIZE, ram_len);

    uint64_t gpa, gpa2;
    enum guest_walk_result r = walk_once(&st, &ram, linear, access, &gpa);
    REQUIRE(walk_once(&st, &ram, linear, access, &gpa2) == r && gpa2 == gpa); /* deterministic */
    check_monotonic(&st, &ram, linear, access, r, gpa);
    check_fetch(&st, &ram, linear, access, fetch_len);
    return 0;
}
