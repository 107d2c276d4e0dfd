/* A partition's user memory: fresh frames mapped into its lower half, and
 * checked copies between the core and it. Every user pointer a hypercall
 * receives goes through here: it must lie in the lower half and be mapped
 * user-accessible (writable for output) in the caller's own tables. */
#ifndef KEEL_USER_MEMORY_H
#define KEEL_USER_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Maps size bytes (page multiple) of zeroed frames at va in root. Returns 0
 * or a negative KEEL_E* code (nothing stays mapped on failure). */
int user_map_fresh(uint64_t root, uint64_t va, uint64_t size, bool writable, bool executable);

/* Maps existing frames [phys, phys+size) read-only at va (not owned). */
int user_map_shared_readonly(uint64_t root, uint64_t va, uint64_t phys, uint64_t size);

/* Maps one existing frame at va (not owned: the core frees it). */
int user_map_frame(uint64_t root, uint64_t va, uint64_t phys, bool writable);

/* paging_lookup under the lock that orders mapping changes. */
bool user_lookup(uint64_t root, uint64_t va, uint64_t *phys, uint64_t *flags);

/* Unmaps [va, va+size), flushes other CPUs' TLBs (shootdown), then frees the
 * frames the partition owned. */
void user_unmap(uint64_t root, uint64_t va, uint64_t size);

/* Frees every owned frame and every table of the lower half, and the PML4. */
void user_destroy_address_space(uint64_t root);

/* Writes the initial contents of memory the core just mapped for root,
 * read-only pages included (segment loading). */
bool user_write_initial(uint64_t root, uint64_t va, const void *src, size_t len);

/* Copies between the core and user memory of root; false (nothing or part
 * copied) when any byte is not mapped as required. */
bool copy_from_user(uint64_t root, void *dst, uint64_t user_src, size_t len);
bool copy_to_user(uint64_t root, uint64_t user_dst, const void *src, size_t len);

#endif
