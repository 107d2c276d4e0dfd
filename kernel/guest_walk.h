/*
 * Guest linear -> guest-physical translation by walking the guest's own page
 * tables (Intel SDM Vol. 3A chapter 4, "Paging"; AMD APM Vol. 2 chapter 5).
 * The core needs it because QEMU TCG's SVM gives no instruction bytes on a
 * nested page fault (DESIGN.md section 8): the core fetches them itself.
 *
 * Pure logic over untrusted input: every paging-structure entry is read
 * through the caller's read() callback (guest RAM only), a walk reads at most
 * five entries, and nothing here writes guest memory.
 *
 * Modes (SDM 4.1.1, table 4-1), chosen from the state:
 *   CR0.PG = 0                 no paging: linear = physical (bits 31:0 only
 *                              unless EFER.LMA)
 *   CR4.PAE = 0                32-bit paging, 4 MiB pages when CR4.PSE (4.3)
 *   CR4.PAE = 1, EFER.LMA = 0  PAE paging, 2 MiB pages (4.4)
 *   EFER.LMA = 1               4-level paging, 1 GiB and 2 MiB pages (4.5);
 *                              5-level when CR4.LA57
 *
 * Checked: present bits, reserved bits for the given MAXPHYADDR (4.3-4.5
 * tables), canonical addresses, and access rights (4.6): R/W with CR0.WP,
 * U/S, XD with EFER.NXE, SMEP for fetches.
 * Not modelled (documented limits): SMAP (needs EFLAGS.AC and the kind of
 * access), protection keys (PKE/PKS), CET shadow stacks, LAM, the PAT, and
 * the PDPTE registers of PAE paging (the four PDPTEs are re-read from memory
 * at CR3, not taken from when CR3 was loaded; a reserved bit in one is
 * reported as a #PF-style RESERVED_BIT, where hardware would have raised
 * #GP at the MOV to CR3). 1 GiB pages are always accepted. CR3 bits at
 * and above MAXPHYADDR are ignored (a MOV to CR3 would have faulted).
 * Accessed and dirty flags are never set (4.8): nothing here writes guest
 * page tables. That is exact for the fetch of an instruction the CPU has
 * already fetched (and so marked); a caller that emulates a data access the
 * CPU never made (string I/O) leaves A and D as they were.
 */
#ifndef KEEL_GUEST_WALK_H
#define KEEL_GUEST_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Control-register bits (SDM Vol. 3A 2.5, 2.2.1). */
#define GUEST_CR0_WP   (1ull << 16)
#define GUEST_CR0_PG   (1ull << 31)
#define GUEST_CR4_PSE  (1ull << 4)
#define GUEST_CR4_PAE  (1ull << 5)
#define GUEST_CR4_LA57 (1ull << 12)
#define GUEST_CR4_SMEP (1ull << 20)
#define GUEST_EFER_LMA (1ull << 10)
#define GUEST_EFER_NXE (1ull << 11)

/* Access kinds; the values are the #PF error-code bits (SDM Vol. 3A 4.7). */
#define GUEST_ACCESS_WRITE (1u << 1) /* a write (else a read or fetch) */
#define GUEST_ACCESS_USER  (1u << 2) /* CPL 3 (else supervisor) */
#define GUEST_ACCESS_FETCH (1u << 4) /* an instruction fetch */

/* #PF error code (SDM Vol. 3A 4.7, figure 4-12). */
#define GUEST_PF_PRESENT (1u << 0) /* 0: not present; 1: protection/reserved */
#define GUEST_PF_WRITE   (1u << 1)
#define GUEST_PF_USER    (1u << 2)
#define GUEST_PF_RSVD    (1u << 3)
#define GUEST_PF_FETCH   (1u << 4)

#define GUEST_MAXPHYADDR_DEFAULT 52

struct guest_paging_state {
    uint64_t cr0, cr3, cr4, efer;
    /* The guest's MAXPHYADDR (CPUID 0x80000008 EAX[7:0], SDM 4.1.4); 0 means
     * 52; other values are clamped to 32..52. */
    unsigned maxphyaddr;
};

/* Reads len bytes of guest-physical memory at gpa into buf; returns false,
 * leaving buf unspecified, if any part of it is not guest RAM. */
typedef bool (*guest_phys_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

enum guest_walk_result {
    GUEST_WALK_OK,
    GUEST_WALK_NOT_PRESENT,   /* an entry had P = 0: #PF */
    GUEST_WALK_RESERVED_BIT,  /* an entry had a reserved bit set: #PF */
    GUEST_WALK_PROTECTION,    /* the access rights forbid the access: #PF */
    GUEST_WALK_NON_CANONICAL, /* not canonical: #GP (or #SS), not #PF */
    GUEST_WALK_BAD_TABLE,     /* a paging structure is not in guest RAM */
};

/*
 * Translates linear for an access of kind access (GUEST_ACCESS_* bits).
 * On GUEST_WALK_OK stores the guest-physical address in *gpa. On a #PF
 * result stores the architectural error code in *error_code (else 0). Either
 * pointer may be NULL. Never writes guest memory; reads at most five entries.
 */
enum guest_walk_result guest_walk(const struct guest_paging_state *st, uint64_t linear,
                                  unsigned access, guest_phys_read_fn read, void *ctx,
                                  uint64_t *gpa, uint32_t *error_code);

/*
 * Copies up to len bytes from guest-linear address linear into buf, as
 * instruction fetches (GUEST_ACCESS_FETCH is implied; pass GUEST_ACCESS_USER
 * when CPL is 3; other bits are ignored). Stops at the first byte that does not translate or is not
 * guest RAM; returns the number of bytes copied. Outside long mode the
 * address wraps at 4 GiB, as the linear address space does.
 */
size_t guest_fetch(const struct guest_paging_state *st, uint64_t linear, unsigned access, void *buf,
                   size_t len, guest_phys_read_fn read, void *ctx);

#endif
