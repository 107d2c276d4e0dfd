/*
 * Second-level address translation (DESIGN.md section 6): one table per VM
 * mapping guest-physical to host-physical addresses, in Intel's EPT format
 * (SDM Vol. 3C 29.3.2) or AMD's nested page table format (APM Vol. 2 15.25,
 * the host's own 4-level long-mode format, every access a user access).
 * One interface over both: map, unmap, protect and look up ranges with
 * read/write/execute permissions and a memory type, using 4 KiB, 2 MiB and
 * 1 GiB pages where aligned and allowed, splitting a large page on a partial
 * change, freeing tables no longer needed. Pure logic: table frames come from
 * the environment, so host unit tests drive it against a reference model.
 */
#ifndef KEEL_EPT_SLAT_H
#define KEEL_EPT_SLAT_H

#include <stdbool.h>
#include <stdint.h>

enum slat_format { SLAT_EPT, SLAT_NPT };

#define SLAT_READ  1u
#define SLAT_WRITE 2u
#define SLAT_EXEC  4u
#define SLAT_RWX   (SLAT_READ | SLAT_WRITE | SLAT_EXEC)

/* Memory types (the EPT/PAT encodings, SDM Vol. 3A table 12-8/11-10). */
enum slat_memtype {
    SLAT_MT_UC = 0,
    SLAT_MT_WC = 1,
    SLAT_MT_WT = 4,
    SLAT_MT_WP = 5,
    SLAT_MT_WB = 6
};

#define SLAT_GPA_LIMIT (1ull << 48) /* 4-level tables */
#define SLAT_HPA_LIMIT (1ull << 52) /* entry address bits 51:12 (SDM 29.3.2, APM 5.3.3) */

enum slat_error {
    SLAT_OK = 0,
    SLAT_ENOMEM = -1, /* no frame for a table */
    SLAT_EALIGN = -2, /* gpa, hpa or size not 4 KiB-aligned */
    SLAT_ERANGE = -3, /* empty, wrapping, or beyond SLAT_GPA_LIMIT */
    SLAT_EEXIST = -4, /* part of the range already mapped (map does not replace) */
    SLAT_EINVAL = -5, /* bad permissions (EPT: write without read) or memory type */
};

/*
 * Argument checks, in this order, for map, unmap and protect: EALIGN (gpa,
 * hpa, size not 4 KiB-aligned), ERANGE (size 0, gpa+size wraps or exceeds
 * SLAT_GPA_LIMIT, hpa+size exceeds SLAT_HPA_LIMIT), EINVAL (perms with bits
 * outside SLAT_RWX or without SLAT_READ -- neither format can grant write or
 * execute without read here; memory type unknown, or WC/WP for NPT, whose
 * entries select from the host's default PAT). Only then EEXIST/ENOMEM.
 *
 * Flushing: the tables are live -- a CPU running the VM walks them while they
 * change; every entry is written with one 64-bit store and a split publishes
 * the new table only once it is complete. needs_flush is set when a
 * translation was removed or lost a permission, or a table frame was freed;
 * the owner then invalidates (INVEPT single-context / ASID flush on every CPU
 * that ran the VM) and clears the flag. Added permissions and new mappings
 * need no flush (a stale entry can only cause a spurious EPT violation /
 * #NPF: retry it). Until that flush a CPU may still use what was unmapped and
 * table frames passed to free_frame (paging-structure caches): free_frame
 * must hold those frames back, and unmapped memory must not be reused, until
 * the flush is done.
 */
struct slat_env {
    /* A zeroed 4 KiB frame: its physical address, or 0 when none is left. */
    uint64_t (*alloc_frame)(void *ctx);
    void (*free_frame)(void *ctx, uint64_t phys);
    /* Where the core can read and write the frame at phys. */
    void *(*frame_ptr)(void *ctx, uint64_t phys);
    void *ctx;
};

struct slat {
    enum slat_format format;
    bool allow_2m, allow_1g;
    uint64_t root; /* physical address of the top-level table */
    struct slat_env env;
    uint64_t table_frames; /* frames currently used for tables, root included */
    bool needs_flush;      /* set when a change removed or reduced a translation */
};

/* Creates an empty table. Returns SLAT_OK, SLAT_ENOMEM, or SLAT_EINVAL for
 * an unknown format. */
int slat_init(struct slat *s, enum slat_format format, bool allow_2m, bool allow_1g,
              const struct slat_env *env);

/* Frees every table frame (not the mapped memory). The VM must no longer run
 * anywhere, and its EPTP / ASID must be flushed before the frames are reused:
 * a new table on the same root frame has the same EPTP. */
void slat_destroy(struct slat *s);

/* Maps [gpa, gpa+size) to [hpa, hpa+size). All three 4 KiB-aligned; size
 * non-zero. Fails with nothing changed when any page of the range is mapped.
 * perms must include SLAT_READ. On SLAT_ENOMEM what this call mapped is
 * removed again and tables it created are freed (needs_flush may be set). */
int slat_map(struct slat *s, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms,
             enum slat_memtype type);

/* Removes every translation in the range (unmapped parts are skipped); large
 * pages straddling an edge are split first. Tables left empty are freed.
 * Needs frames only to split (at most two per unaligned edge); on SLAT_ENOMEM
 * no translation has changed (a large page at one edge may have been split
 * into an equivalent table). */
int slat_unmap(struct slat *s, uint64_t gpa, uint64_t size);

/* Changes the permissions of every mapped page in the range (splitting at
 * the edges); unmapped parts are skipped. perms 0 removes the translations,
 * exactly as slat_unmap; otherwise perms must include SLAT_READ. SLAT_ENOMEM
 * as for slat_unmap. */
int slat_protect(struct slat *s, uint64_t gpa, uint64_t size, unsigned perms);

/* Translates gpa; fills hpa (of gpa itself), perms, type and page size (any
 * of the four may be NULL). False when gpa is unmapped or out of range. */
bool slat_lookup(const struct slat *s, uint64_t gpa, uint64_t *hpa, unsigned *perms,
                 enum slat_memtype *type, uint64_t *page_size);

/* The EPT pointer for the VMCS (SDM Vol. 3C 25.6.11: WB, 4-level walk) or
 * the nested CR3 for the VMCB (APM Vol. 2 15.25.2). */
uint64_t slat_hardware_root(const struct slat *s);

#endif
