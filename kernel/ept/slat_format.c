/*
 * EPT and NPT entry encodings (see slat_format.h). Pure bit manipulation: no
 * table is read or written here.
 */
#include "slat_format.h"

/* Both formats (SDM Vol. 3C 29.3.2, tables 29-1..29-6; APM Vol. 2 5.3.3-5.3.5). */
#define ENTRY_LARGE  (1ull << 7)           /* maps a page: PDPTE 1 GiB, PDE 2 MiB */
#define ADDR_MASK_4K 0x000ffffffffff000ull /* bits 51:12: table or 4 KiB page */
#define ADDR_MASK_2M 0x000fffffffe00000ull /* bits 51:21 */
#define ADDR_MASK_1G 0x000fffffc0000000ull /* bits 51:30 */

/* EPT (SDM Vol. 3C 29.3.2 and 25.6.11). */
#define EPT_READ     (1ull << 0)
#define EPT_WRITE    (1ull << 1)
#define EPT_EXEC     (1ull << 2) /* supervisor-mode execute (mode-based control off) */
#define EPT_RWX      (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MT_SHIFT 3 /* leaf bits 5:3: EPT memory type */
#define EPT_MT_MASK  (7ull << EPT_MT_SHIFT)
#define EPTP_MT_WB   6ull        /* EPTP bits 2:0: paging-structure memory type */
#define EPTP_WALK_4  (3ull << 3) /* EPTP bits 5:3: page-walk length minus 1 */

/* NPT: the host's long-mode entries, every access a user access (APM 15.25.5). */
#define NPT_P     (1ull << 0)
#define NPT_RW    (1ull << 1)
#define NPT_US    (1ull << 2) /* must be 1 at every level: nested walks are user */
#define NPT_PWT   (1ull << 3)
#define NPT_PCD   (1ull << 4)
#define NPT_NX    (1ull << 63)
#define NPT_TABLE (NPT_P | NPT_RW | NPT_US) /* permissions are decided at the leaf */

bool slat_fmt_perms_ok(unsigned perms)
{
    return (perms & ~SLAT_RWX) == 0 && (perms & SLAT_READ) != 0;
}

bool slat_fmt_type_ok(enum slat_format f, enum slat_memtype type)
{
    switch (type) {
    case SLAT_MT_UC:
    case SLAT_MT_WT:
    case SLAT_MT_WB:
        return true;
    case SLAT_MT_WC:
    case SLAT_MT_WP:
        /* NPT picks a type through PWT/PCD from the host PAT, whose default
         * (SDM Vol. 3A 12.12.4; 11.12.4 in older editions) holds only WB,
         * WT, UC- and UC. */
        return f == SLAT_EPT;
    }
    return false;
}

static uint64_t addr_mask(unsigned level)
{
    if (level == 2)
        return ADDR_MASK_1G;
    return level == 1 ? ADDR_MASK_2M : ADDR_MASK_4K;
}

/* PAT index = PAT*4 + PCD*2 + PWT (SDM Vol. 3A 12.12.3); default PAT entries:
 * 0 WB, 1 WT, 3 UC. The PAT bit (bit 7 in a PTE, 12 in a large page) stays 0. */
static uint64_t npt_cache_bits(enum slat_memtype type)
{
    if (type == SLAT_MT_UC)
        return NPT_PCD | NPT_PWT;
    return type == SLAT_MT_WT ? NPT_PWT : 0;
}

static uint64_t ept_leaf(uint64_t hpa, unsigned perms, enum slat_memtype type)
{
    uint64_t e = hpa | ((uint64_t)type << EPT_MT_SHIFT); /* ignore-PAT (bit 6) 0 */
    if (perms & SLAT_READ)
        e |= EPT_READ;
    if (perms & SLAT_WRITE)
        e |= EPT_WRITE;
    if (perms & SLAT_EXEC)
        e |= EPT_EXEC;
    return e;
}

static uint64_t npt_leaf(uint64_t hpa, unsigned perms, enum slat_memtype type)
{
    uint64_t e = hpa | NPT_P | NPT_US | npt_cache_bits(type);
    if (perms & SLAT_WRITE)
        e |= NPT_RW;
    if (!(perms & SLAT_EXEC))
        e |= NPT_NX; /* needs host EFER.NXE, else a reserved bit (APM Vol. 2 5.6) */
    return e;
}

uint64_t slat_fmt_leaf(enum slat_format f, unsigned level, uint64_t hpa, unsigned perms,
                       enum slat_memtype type)
{
    uint64_t e = hpa & addr_mask(level);
    e = f == SLAT_EPT ? ept_leaf(e, perms, type) : npt_leaf(e, perms, type);
    return level > 0 ? e | ENTRY_LARGE : e;
}

uint64_t slat_fmt_table(enum slat_format f, uint64_t phys)
{
    return (phys & ADDR_MASK_4K) | (f == SLAT_EPT ? EPT_RWX : NPT_TABLE);
}

/* EPT: present iff any of bits 2:0 is set (SDM 29.3.2); NPT: the P bit. */
bool slat_fmt_present(enum slat_format f, uint64_t e)
{
    return f == SLAT_EPT ? (e & EPT_RWX) != 0 : (e & NPT_P) != 0;
}

bool slat_fmt_is_leaf(unsigned level, uint64_t e)
{
    if (level == 0)
        return true;
    return level <= SLAT_LARGE_LEVEL && (e & ENTRY_LARGE) != 0;
}

uint64_t slat_fmt_addr(unsigned level, uint64_t e)
{
    return e & (slat_fmt_is_leaf(level, e) ? addr_mask(level) : ADDR_MASK_4K);
}

unsigned slat_fmt_perms(enum slat_format f, uint64_t e)
{
    if (!slat_fmt_present(f, e))
        return 0;
    if (f == SLAT_EPT)
        return (unsigned)(e & EPT_RWX); /* same bit order as SLAT_RWX */
    unsigned perms = SLAT_READ;
    if (e & NPT_RW)
        perms |= SLAT_WRITE;
    if (!(e & NPT_NX))
        perms |= SLAT_EXEC;
    return perms;
}

enum slat_memtype slat_fmt_type(enum slat_format f, uint64_t e)
{
    if (f == SLAT_EPT)
        return (enum slat_memtype)((e & EPT_MT_MASK) >> EPT_MT_SHIFT);
    if (e & NPT_PCD)
        return SLAT_MT_UC; /* PAT entries 2 (UC-) and 3 (UC); only 3 is written */
    return (e & NPT_PWT) ? SLAT_MT_WT : SLAT_MT_WB;
}

uint64_t slat_fmt_root(enum slat_format f, uint64_t root)
{
    root &= ADDR_MASK_4K;
    /* EPTP bit 6 (accessed/dirty flags) stays 0; nCR3 is the PML4 address. */
    return f == SLAT_EPT ? root | EPTP_WALK_4 | EPTP_MT_WB : root;
}
