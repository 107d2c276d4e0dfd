/*
 * Host unit tests of kernel/guest_walk.c: page tables for each paging mode
 * are built in a fake guest RAM (1 MiB at guest-physical 0), and
 * translations, large pages, access rights, #PF error codes (SDM Vol. 3A
 * 4.7), reserved bits and tables outside RAM are checked.
 */
#include "check.h"
#include "guest_walk.h"

#define RAM_SIZE 0x100000u

/* Entry bits (SDM Vol. 3A tables 4-4 to 4-20). */
#define P  (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define XD (1ull << 63)

#define CR0_PE 1ull
#define PG     GUEST_CR0_PG
#define WP     GUEST_CR0_WP
#define LMA    (GUEST_EFER_LMA | (1ull << 8)) /* LMA and LME */
#define NXE    GUEST_EFER_NXE

#define A_W GUEST_ACCESS_WRITE
#define A_U GUEST_ACCESS_USER
#define A_F GUEST_ACCESS_FETCH

#define PF_P    GUEST_PF_PRESENT
#define PF_W    GUEST_PF_WRITE
#define PF_U    GUEST_PF_USER
#define PF_RSVD GUEST_PF_RSVD
#define PF_I    GUEST_PF_FETCH

/* Table addresses used by the builders. */
#define T1 0x1000u
#define T2 0x2000u
#define T3 0x3000u
#define T4 0x4000u
#define T5 0x5000u

static struct {
    uint8_t *mem;
    uint64_t size;
    unsigned reads;
} ram;

static bool ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    ram.reads++;
    if (gpa > ram.size || len > ram.size - gpa)
        return false;
    memcpy(buf, ram.mem + gpa, len);
    return true;
}

static void ram_reset(void)
{
    if (ram.mem == NULL)
        ram.mem = malloc(RAM_SIZE);
    if (ram.mem == NULL)
        abort();
    memset(ram.mem, 0, RAM_SIZE);
    ram.size = RAM_SIZE;
    ram.reads = 0;
}

static void put64(uint64_t gpa, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        ram.mem[gpa + i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint64_t gpa, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        ram.mem[gpa + i] = (uint8_t)(v >> (8 * i));
}

static struct guest_paging_state st;
static uint64_t gpa;
static uint32_t ec;

static enum guest_walk_result walk(uint64_t linear, unsigned access)
{
    gpa = 0xdead;
    ec = 0xdead;
    return guest_walk(&st, linear, access, ram_read, NULL, &gpa, &ec);
}

/* Expects a translation of linear to want. */
#define CHECK_MAPS(linear, access, want)                                                           \
    do {                                                                                           \
        CHECK_EQ(walk(linear, access), GUEST_WALK_OK);                                             \
        CHECK_EQ(gpa, want);                                                                       \
        CHECK_EQ(ec, 0);                                                                           \
    } while (0)

/* Expects failure r with error code code. */
#define CHECK_FAULT(linear, access, r, code)                                                       \
    do {                                                                                           \
        CHECK_EQ(walk(linear, access), r);                                                         \
        CHECK_EQ(ec, code);                                                                        \
        CHECK_EQ(gpa, 0);                                                                          \
    } while (0)

static void set_long4(void)
{
    ram_reset();
    st = (struct guest_paging_state){.cr0 = CR0_PE | PG | WP,
                                     .cr3 = T1,
                                     .cr4 = GUEST_CR4_PAE,
                                     .efer = LMA | NXE,
                                     .maxphyaddr = 40};
}

/* 4-level tables T1 (PML4) -> T2 (PDPT) -> T3 (PD) -> T4 (PT) mapping the
 * 4 KiB page of linear to frame; flags[0] is the PML4E's, flags[3] the PTE's. */
static void map4(uint64_t linear, uint64_t frame, const uint64_t flags[4])
{
    put64(T1 + ((linear >> 39) & 511) * 8, T2 | flags[0]);
    put64(T2 + ((linear >> 30) & 511) * 8, T3 | flags[1]);
    put64(T3 + ((linear >> 21) & 511) * 8, T4 | flags[2]);
    put64(T4 + ((linear >> 12) & 511) * 8, frame | flags[3]);
}

static const uint64_t all_rwu[4] = {P | RW | US, P | RW | US, P | RW | US, P | RW | US};

static void paging_off(void)
{
    ram_reset();
    st = (struct guest_paging_state){.cr0 = CR0_PE};
    CHECK_MAPS(0x123456789abcull, A_F, 0x56789abc);
    CHECK_MAPS(0xb8000, A_W | A_U, 0xb8000);
    CHECK_EQ(ram.reads, 0);
    st.efer = LMA; /* not architectural; then nothing is truncated */
    CHECK_MAPS(0x123456789abcull, 0, 0x123456789abcull);
    CHECK_EQ(guest_walk(&st, 0x1000, 0, ram_read, NULL, NULL, NULL), GUEST_WALK_OK);
}

static void paging32_4k(void)
{
    ram_reset();
    st = (struct guest_paging_state){.cr0 = CR0_PE | PG, .cr3 = T1 | 0x18, .maxphyaddr = 36};
    put32(T1 + 1 * 4, T2 | P | RW | US);     /* linear 0x00400000 */
    put32(T2 + 3 * 4, 0x5000 | P | RW | US); /* linear 0x00403000 */
    put32(T1 + 0x300 * 4, T3 | P | RW);      /* linear 0xc0000000 */
    put32(T3 + 0 * 4, 0xfffff000 | P);
    CHECK_MAPS(0x00403abc, A_U | A_W, 0x5abc);
    CHECK_EQ(ram.reads, 2);
    CHECK_MAPS(0xffffffff00403abcull, 0, 0x5abc); /* bits 63:32 are not part of it */
    CHECK_MAPS(0xc0000123, A_W, 0xfffff123);      /* CR0.WP = 0: supervisor writes */
    CHECK_FAULT(0x00404000, 0, GUEST_WALK_NOT_PRESENT, 0);
    CHECK_FAULT(0x00800000, A_W | A_U, GUEST_WALK_NOT_PRESENT, PF_W | PF_U);
    /* PS without CR4.PSE is ignored: the PDE still points to a table. */
    put32(T1 + 1 * 4, T2 | P | RW | US | PS);
    CHECK_MAPS(0x00403abc, 0, 0x5abc);
    /* No reserved bits in 4 KiB-page entries: bits 31:12 are all address. */
    put32(T2 + 3 * 4, 0xfffff000 | P | 0xf78);
    CHECK_MAPS(0x00403abc, 0, 0xfffffabc);
}

static void paging32_4m(void)
{
    ram_reset();
    st = (struct guest_paging_state){
        .cr0 = CR0_PE | PG, .cr3 = T1, .cr4 = GUEST_CR4_PSE, .maxphyaddr = 40};
    put32(T1 + 2 * 4, 0x00c00000 | PS | P | RW | US | (1u << 12)); /* PAT bit */
    CHECK_MAPS(0x0087654f, A_U, 0x00c7654f);
    CHECK_EQ(ram.reads, 1);
    /* PSE-36: PDE bits 20:13 hold physical bits 39:32; bit 21 is reserved. */
    put32(T1 + 2 * 4, 0xffc00000u | (0xabu << 13) | PS | P);
    CHECK_MAPS(0x00812345, 0, 0xabffc12345ull);
    put32(T1 + 2 * 4, 0xffc00000u | (1u << 21) | PS | P);
    CHECK_FAULT(0x00812345, A_W, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD | PF_W);
    /* MAXPHYADDR 36: bits 16:13 are address, 21:17 reserved. */
    st.maxphyaddr = 36;
    put32(T1 + 2 * 4, 0xffc00000u | (0xbu << 13) | PS | P);
    CHECK_MAPS(0x00812345, 0, 0xbffc12345ull);
    put32(T1 + 2 * 4, 0xffc00000u | (0x1bu << 13) | PS | P);
    CHECK_FAULT(0x00812345, 0, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
    /* More than 40 bits: still at most 40 (4.3). */
    st.maxphyaddr = 52;
    put32(T1 + 2 * 4, 0xffc00000u | (0xabu << 13) | PS | P);
    CHECK_MAPS(0x00812345, 0, 0xabffc12345ull);
}

static void pae(void)
{
    ram_reset();
    st = (struct guest_paging_state){.cr0 = CR0_PE | PG | WP,
                                     .cr3 = T1 + 0x20, /* 32-byte aligned (4.4.1) */
                                     .cr4 = GUEST_CR4_PAE,
                                     .efer = NXE,
                                     .maxphyaddr = 36};
    put64(T1 + 0x20 + 3 * 8, T2 | P);           /* linear 0xc0000000 */
    put64(T2 + 1 * 8, T3 | P | RW);             /* 0xc0200000 */
    put64(T3 + 5 * 8, 0x923456000ull | P | RW); /* 0xc0205000: above 4 GiB */
    put64(T2 + 2 * 8, 0xfe00000ull | P | PS);   /* 0xc0400000: 2 MiB page */
    CHECK_MAPS(0xc0205abc, A_W, 0x923456abcull);
    CHECK_EQ(ram.reads, 3);
    CHECK_MAPS(0xc05fffff, 0, 0xfffffff);
    CHECK_FAULT(0xc05fffff, A_W, GUEST_WALK_PROTECTION, PF_P | PF_W);
    CHECK_FAULT(0x80000000, 0, GUEST_WALK_NOT_PRESENT, 0);
    /* XD is honoured with NXE; I/D is reported (4.7). */
    put64(T3 + 5 * 8, 0x923456000ull | P | RW | XD);
    CHECK_FAULT(0xc0205000, A_F, GUEST_WALK_PROTECTION, PF_P | PF_I);
    /* Reserved: bits 62:M, and bit 63 without NXE. */
    put64(T3 + 5 * 8, (1ull << 36) | P);
    CHECK_FAULT(0xc0205000, 0, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
    put64(T3 + 5 * 8, (1ull << 62) | P);
    CHECK_FAULT(0xc0205000, 0, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
    put64(T3 + 5 * 8, 0x5000 | XD | P);
    st.efer = 0;
    CHECK_FAULT(0xc0205000, A_F | A_U, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD | PF_U);
    /* 2 MiB page: bits 20:13 reserved. */
    put64(T2 + 2 * 8, 0xfe00000ull | (1ull << 13) | P | PS);
    CHECK_FAULT(0xc0400000, 0, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
}

static void pae_pdpte(void)
{
    ram_reset();
    st = (struct guest_paging_state){
        .cr0 = CR0_PE | PG, .cr3 = T1, .cr4 = GUEST_CR4_PAE, .maxphyaddr = 36};
    put64(T2, T3 | P | RW | US);
    put64(T3, 0x7000 | P | RW | US);
    /* PDPTEs carry no rights: R/W, U/S (bits 2:1) and 8:5 are reserved. */
    const uint64_t bad[] = {RW, US, 1ull << 5, PS, 1ull << 8, 1ull << 36, XD};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put64(T1, T2 | P | bad[i]);
        CHECK_FAULT(0x234, A_U, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD | PF_U);
    }
    put64(T1, T2 | P | (1ull << 3) | (1ull << 4) | (0x7ull << 9)); /* PWT PCD, ignored */
    CHECK_MAPS(0x234, A_U | A_W, 0x7234);
    put64(T1, T2);
    CHECK_FAULT(0x234, 0, GUEST_WALK_NOT_PRESENT, 0);
}

static void long4_pages(void)
{
    set_long4();
    st.cr3 = T1 | 0x123; /* PCID or PWT/PCD bits are not part of the address */
    map4(0xffff800000203000ull, 0x77000, all_rwu);
    CHECK_MAPS(0xffff800000203456ull, A_W | A_U, 0x77456);
    CHECK_EQ(ram.reads, 4);
    /* 1 GiB page (PDPTE.PS) and 2 MiB page (PDE.PS); the PAT bit (12) is not
     * address. */
    put64(T2 + 1 * 8, 0x80c0000000ull | P | PS | (1ull << 12));
    CHECK_MAPS(0xffff80007fedcba9ull, 0, 0x80ffedcba9ull);
    put64(T3 + 2 * 8, 0x1234600000ull | P | PS | RW | US);
    CHECK_MAPS(0xffff800000512345ull, A_U, 0x1234712345ull);
    /* Non-canonical addresses never reach the tables. */
    ram.reads = 0;
    CHECK_FAULT(0x0000800000000000ull, 0, GUEST_WALK_NON_CANONICAL, 0);
    CHECK_FAULT(0xfff0800000203000ull, 0, GUEST_WALK_NON_CANONICAL, 0);
    CHECK_EQ(ram.reads, 0);
    CHECK_FAULT(0x00007ffffffff000ull, A_W, GUEST_WALK_NOT_PRESENT, PF_W);
}

static void long4_reserved(void)
{
    set_long4();
    map4(0x203000, 0x77000, all_rwu);
    CHECK_MAPS(0x203000, 0, 0x77000);
    put64(T1, T2 | P | PS); /* PML4E bit 7 is reserved */
    CHECK_FAULT(0x203000, A_F, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD | PF_I);
    put64(T1, T2 | P | (1ull << 45)); /* bits 51:M, M = 40 */
    CHECK_FAULT(0x203000, 0, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
    put64(T1, T2 | P | RW | US | (0x7ffull << 52)); /* bits 62:52 are ignored */
    CHECK_MAPS(0x203000, 0, 0x77000);
    put64(T2, 0x40000000ull | P | PS | (1ull << 29)); /* 1 GiB: bits 29:13 */
    CHECK_FAULT(0x203000, A_W, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD | PF_W);
    put64(T2, T3 | P | RW | US);
    put64(T3 + 8, 0x200000ull | P | PS | (1ull << 20)); /* 2 MiB: bits 20:13 */
    CHECK_FAULT(0x203000, 0, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
    put64(T3 + 8, T4 | P | RW | US);
    put64(T4 + 3 * 8, 0x77000 | P | XD); /* XD without NXE */
    st.efer = LMA;
    CHECK_FAULT(0x203000, A_F, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
    /* A not-present entry's other bits are not looked at. */
    put64(T4 + 3 * 8, ~P);
    CHECK_FAULT(0x203000, A_U, GUEST_WALK_NOT_PRESENT, PF_U);
    /* MAXPHYADDR 0 means 52: bit 51 is address. */
    st.maxphyaddr = 0;
    put64(T4 + 3 * 8, (1ull << 51) | 0x77000 | P);
    CHECK_MAPS(0x203000, 0, (1ull << 51) | 0x77000);
    st.maxphyaddr = 99; /* clamped to 52 */
    CHECK_MAPS(0x203000, 0, (1ull << 51) | 0x77000);
}

static void five_level(void)
{
    set_long4();
    st.cr4 |= GUEST_CR4_LA57;
    uint64_t linear = 0x00ff000000203000ull; /* canonical only with 57 bits */
    put64(T5 + ((linear >> 48) & 511) * 8, T1 | P | RW | US);
    st.cr3 = T5;
    map4(linear, 0x99000, all_rwu);
    CHECK_MAPS(linear + 0x10, A_U, 0x99010);
    CHECK_EQ(ram.reads, 5);
    CHECK_FAULT(0x0100000000000000ull, 0, GUEST_WALK_NON_CANONICAL, 0);
    put64(T5 + ((linear >> 48) & 511) * 8, T1 | P | PS); /* PML5E bit 7 reserved */
    CHECK_FAULT(linear, 0, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD);
    st.cr4 &= ~GUEST_CR4_LA57;
    CHECK_FAULT(linear, 0, GUEST_WALK_NON_CANONICAL, 0);
}

/* Flags of the PML4E, PDPTE, PDE and PTE of the rights cases. */
enum flag_set { ALL, RO3, RO0, SUP2, XD0, XD3 };
static const uint64_t flag_sets[][4] = {
    [ALL] = {P | RW | US, P | RW | US, P | RW | US, P | RW | US},
    [RO3] = {P | RW | US, P | RW | US, P | RW | US, P | US},  /* read-only PTE */
    [RO0] = {P | US, P | RW | US, P | RW | US, P | RW | US},  /* read-only PML4E */
    [SUP2] = {P | RW | US, P | RW | US, P | RW, P | RW | US}, /* supervisor PDE */
    [XD0] = {P | RW | US | XD, P | RW | US, P | RW | US, P | RW | US},
    [XD3] = {P | RW, P | RW, P | RW, P | RW | XD},
};

struct rights_case {
    enum flag_set flags;
    uint64_t cr0_wp, cr4_smep, efer_nxe;
    unsigned access;
    enum guest_walk_result want;
    uint32_t code;
};

/* Access rights (SDM Vol. 3A 4.6.1) and error codes (4.7). */
static const struct rights_case rights[] = {
    {ALL, WP, 0, NXE, A_W | A_U, GUEST_WALK_OK, 0},
    {RO3, WP, 0, NXE, A_W, GUEST_WALK_PROTECTION, PF_P | PF_W},
    {RO3, 0, 0, NXE, A_W, GUEST_WALK_OK, 0}, /* CR0.WP = 0 */
    {RO3, 0, 0, NXE, A_W | A_U, GUEST_WALK_PROTECTION, PF_P | PF_W | PF_U},
    {RO0, WP, 0, NXE, A_W, GUEST_WALK_PROTECTION, PF_P | PF_W}, /* any level counts */
    {RO0, WP, 0, NXE, A_U, GUEST_WALK_OK, 0},
    {SUP2, WP, 0, NXE, A_U, GUEST_WALK_PROTECTION, PF_P | PF_U},
    {SUP2, WP, 0, NXE, A_U | A_F, GUEST_WALK_PROTECTION, PF_P | PF_U | PF_I},
    {SUP2, WP, 0, NXE, A_W, GUEST_WALK_OK, 0},
    {XD0, WP, 0, NXE, A_F, GUEST_WALK_PROTECTION, PF_P | PF_I},
    {XD0, WP, 0, NXE, A_F | A_U, GUEST_WALK_PROTECTION, PF_P | PF_I | PF_U},
    {XD0, WP, 0, NXE, A_W | A_U, GUEST_WALK_OK, 0},
    {XD3, WP, 0, NXE, A_F, GUEST_WALK_PROTECTION, PF_P | PF_I},
    {XD3, WP, 0, 0, A_F, GUEST_WALK_RESERVED_BIT, PF_P | PF_RSVD},
    {ALL, WP, GUEST_CR4_SMEP, NXE, A_F, GUEST_WALK_PROTECTION, PF_P | PF_I},
    {ALL, WP, GUEST_CR4_SMEP, NXE, A_F | A_U, GUEST_WALK_OK, 0},
    {ALL, WP, GUEST_CR4_SMEP, NXE, A_W, GUEST_WALK_OK, 0}, /* SMAP is not modelled */
    {SUP2, WP, GUEST_CR4_SMEP, NXE, A_F, GUEST_WALK_OK, 0},
    {ALL, WP, 0, NXE, A_F, GUEST_WALK_OK, 0},
};

static void access_rights(void)
{
    for (unsigned i = 0; i < sizeof(rights) / sizeof(rights[0]); i++) {
        const struct rights_case *c = &rights[i];
        set_long4();
        st.cr0 = CR0_PE | PG | c->cr0_wp;
        st.cr4 |= c->cr4_smep;
        st.efer = LMA | c->efer_nxe;
        map4(0x7f0000203000ull, 0x55000, flag_sets[c->flags]);
        enum guest_walk_result r = walk(0x7f0000203004ull, c->access);
        CHECK_MSG(r == c->want && ec == c->code, "rights case %u: result %d code %#x", i, r, ec);
        CHECK_MSG(gpa == (r == GUEST_WALK_OK ? 0x55004u : 0), "rights case %u: gpa %#" PRIx64, i,
                  gpa);
    }
}

/* I/D is reported only with SMEP, or with PAE-style paging and NXE (4.7). */
static void fetch_error_code(void)
{
    ram_reset();
    st = (struct guest_paging_state){.cr0 = CR0_PE | PG, .cr3 = T1, .maxphyaddr = 36};
    put32(T1, T2 | P | RW); /* a supervisor table */
    put32(T2, 0x8000 | P | RW | US);
    CHECK_FAULT(0x10, A_F | A_U, GUEST_WALK_PROTECTION, PF_P | PF_U);
    CHECK_FAULT(0x400000, A_F | A_U, GUEST_WALK_NOT_PRESENT, PF_U);
    CHECK_MAPS(0x10, A_F, 0x8010); /* 32-bit paging has no XD */
    st.cr4 = GUEST_CR4_SMEP;
    CHECK_FAULT(0x10, A_F | A_U, GUEST_WALK_PROTECTION, PF_P | PF_U | PF_I);
    set_long4();
    st.efer = LMA; /* no NXE */
    CHECK_FAULT(0x10, A_F, GUEST_WALK_NOT_PRESENT, 0);
    st.efer = LMA | NXE;
    CHECK_FAULT(0x10, A_F, GUEST_WALK_NOT_PRESENT, PF_I);
}

static void tables_outside_ram(void)
{
    set_long4();
    st.cr3 = 0x100000; /* the first byte past RAM */
    CHECK_FAULT(0x1000, 0, GUEST_WALK_BAD_TABLE, 0);
    st.cr3 = T1;
    map4(0x1000, 0x2000, all_rwu);
    put64(T3, 0xfffff000ull | P | RW | US); /* the PT is not RAM */
    CHECK_FAULT(0x1000, A_W, GUEST_WALK_BAD_TABLE, 0);
    /* The mapped page itself need not be RAM: the walk only reads tables. */
    put64(T3, T4 | P | RW | US);
    put64(T4 + 8, 0xfee00000ull | P | RW);
    CHECK_MAPS(0x1000, A_W, 0xfee00000ull);
    /* An entry that straddles the end of RAM is not read. */
    ram_reset();
    st = (struct guest_paging_state){.cr0 = CR0_PE | PG, .cr3 = 0xff000, .maxphyaddr = 36};
    ram.size = 0xff002;
    CHECK_FAULT(0, 0, GUEST_WALK_BAD_TABLE, 0);
}

/* The walker never writes guest memory: no accessed or dirty flag is set. */
static void no_accessed_dirty_writes(void)
{
    set_long4();
    map4(0x203000, 0x77000, all_rwu);
    uint8_t *before = malloc(RAM_SIZE);
    if (before == NULL)
        abort();
    memcpy(before, ram.mem, RAM_SIZE);
    CHECK_MAPS(0x203000, A_W | A_U, 0x77000);
    CHECK(memcmp(before, ram.mem, RAM_SIZE) == 0);
    free(before);
}

static void fetch_across_pages(void)
{
    set_long4();
    map4(0x400ffe, 0x9000, all_rwu);
    map4(0x401000, 0x6000, all_rwu); /* the next page: not contiguous */
    ram.mem[0x9ffe] = 0x48;
    ram.mem[0x9fff] = 0x89;
    ram.mem[0x6000] = 0x18;
    ram.mem[0x6001] = 0x90;
    uint8_t buf[15];
    memset(buf, 0, sizeof(buf));
    CHECK_EQ(guest_fetch(&st, 0x400ffe, 0, buf, 4, ram_read, NULL), 4);
    CHECK(memcmp(buf, "\x48\x89\x18\x90", 4) == 0);
    /* A not-present next page stops the copy at the boundary. */
    put64(T4 + 1 * 8, 0);
    CHECK_EQ(guest_fetch(&st, 0x400ffe, 0, buf, 15, ram_read, NULL), 2);
    /* User fetches of a supervisor page get nothing; XD pages neither. */
    put64(T4, 0x9000 | P);
    CHECK_EQ(guest_fetch(&st, 0x400ffe, A_U, buf, 15, ram_read, NULL), 0);
    CHECK_EQ(guest_fetch(&st, 0x400ffe, 0, buf, 2, ram_read, NULL), 2);
    put64(T4, 0x9000 | P | XD);
    CHECK_EQ(guest_fetch(&st, 0x400ffe, A_W, buf, 2, ram_read, NULL), 0);
    CHECK_EQ(guest_fetch(&st, 0x400ffe, 0, buf, 0, ram_read, NULL), 0);
}

static void fetch_wraps_and_ram_end(void)
{
    /* Outside long mode the linear address wraps at 4 GiB. */
    ram_reset();
    st = (struct guest_paging_state){.cr0 = CR0_PE | PG, .cr3 = T1, .maxphyaddr = 36};
    put32(T1 + 0x3ff * 4, T2 | P);
    put32(T2 + 0x3ff * 4, 0x7000 | P);
    put32(T1, T3 | P);
    put32(T3, 0x8000 | P);
    ram.mem[0x7ffe] = 0x66;
    ram.mem[0x7fff] = 0x89;
    ram.mem[0x8000] = 0x07;
    uint8_t buf[15];
    CHECK_EQ(guest_fetch(&st, 0xfffffffe, 0, buf, 3, ram_read, NULL), 3);
    CHECK(memcmp(buf, "\x66\x89\x07", 3) == 0);
    /* Without paging, RAM that ends inside a page ends the copy there. */
    st = (struct guest_paging_state){.cr0 = CR0_PE};
    ram.size = 0x7fff;
    CHECK_EQ(guest_fetch(&st, 0x7ffc, 0, buf, 8, ram_read, NULL), 3);
    CHECK_EQ(buf[2], 0x66);
}

int main(void)
{
    check_begin("guest_walk");
    RUN(paging_off);
    RUN(paging32_4k);
    RUN(paging32_4m);
    RUN(pae);
    RUN(pae_pdpte);
    RUN(long4_pages);
    RUN(long4_reserved);
    RUN(five_level);
    RUN(access_rights);
    RUN(fetch_error_code);
    RUN(tables_outside_ram);
    RUN(no_accessed_dirty_writes);
    RUN(fetch_across_pages);
    RUN(fetch_wraps_and_ram_end);
    free(ram.mem);
    return check_finish();
}
