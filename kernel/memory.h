/* Boot-time memory set-up: the sound memory map, the core's own page tables
 * with a direct map of all RAM, the frame allocator and the heap. */
#ifndef KEEL_MEMORY_H
#define KEEL_MEMORY_H

#include <stdint.h>

#include "bootinfo.h"
#include "memmap.h"

struct memory_report {
    uint64_t usable_bytes; /* usable RAM in the firmware's map */
    uint64_t highest_address;
    uint64_t trampoline_phys; /* pages below 1 MiB for AP start-up, 0 if none */
    unsigned trampoline_pages;
};

extern struct memmap system_memmap;
extern uint64_t kernel_root; /* physical address of the core's PML4 */

/* Runs the whole sequence; panics only when no usable memory is left at all. */
struct memory_report memory_init(struct boot_info *bi, uint32_t test_flags);

/* Maps device registers uncached at phys_to_virt(phys). Returns the virtual
 * address, or NULL when the mapping failed. Boot CPU, before the APs start. */
void *ioremap(uint64_t phys, uint64_t size);

#endif
