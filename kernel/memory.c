/* Boot-time memory set-up (DESIGN.md sections 3 and 6). */
#include "memory.h"
#include "cmdline.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "heap.h"
#include "kstack.h"
#include "kstring.h"
#include "layout.h"
#include "paging.h"
#include "percpu.h"
#include "panic.h"
#include "pmm.h"
#include "printk.h"

#define LOW_MEMORY_END    0x100000ull
#define EARLY_MAP_LIMIT   0x100000000ull /* the boot tables map 0-4 GiB */
#define MAX_DIRECT_RANGES (MEMMAP_MAX + 1)
#define LOW_PAGES_WANTED  (MAX_CPUS + 4)
#define LOW_CODE_LIMIT    0x9f000ull /* below the usual EBDA */

extern char __image_phys_start[], __bss_end_phys[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __image_end[];

struct memmap system_memmap;
uint64_t kernel_root;

struct phys_range {
    uint64_t start, end;
};

/* keel.test=bad-memmap: the kinds of broken maps firmware has been seen to
 * produce, added to the real one before it is made sound. */
static void inject_bad_memmap(struct memmap *m, struct diag *d)
{
    memmap_add_raw(m, 0x9f800, 0x1000, MEMMAP_RESERVED, d);  /* overlaps low RAM, unaligned */
    memmap_add_raw(m, 0x100234, 0x3456, MEMMAP_USABLE, d);   /* unaligned, overlaps the core */
    memmap_add_raw(m, 0x200000, 0x100000, MEMMAP_USABLE, d); /* duplicate of usable RAM */
    memmap_add_raw(m, 0x300800, 0x2000, MEMMAP_ACPI_NVS, d); /* reserved inside RAM */
    memmap_add_raw(m, 0x5000, 0, MEMMAP_USABLE, d);          /* zero length */
    memmap_add_raw(m, 0xfffffffffffff000ull, 0x2000, MEMMAP_USABLE, d); /* wraps */
}

static void reserve_or_warn(struct memmap *m, uint64_t base, uint64_t len, enum memmap_type t,
                            const char *what)
{
    if (len && !memmap_reserve(m, base, len, t))
        pr_warn("memory: could not reserve %s at 0x%llx (memory map full)", what,
                (unsigned long long)base);
}

static void reserve_boot_areas(struct memmap *m, const struct boot_info *bi)
{
    uint64_t image_start = (uint64_t)__image_phys_start;
    uint64_t image_end = (uint64_t)__bss_end_phys;
    reserve_or_warn(m, image_start, image_end - image_start, MEMMAP_KERNEL, "the core image");
    for (unsigned i = 0; i < bi->module_count; i++) {
        const struct boot_module *mod = &bi->modules[i];
        reserve_or_warn(m, mod->start, mod->end - mod->start, MEMMAP_MODULE, mod->name);
    }
    reserve_or_warn(m, bi->info_start, bi->info_end - bi->info_start, MEMMAP_BOOTDATA,
                    "the multiboot information");
}

/* Page-rounded, merged ranges to direct-map: every map entry plus low memory. */
static unsigned direct_map_ranges(const struct memmap *m, struct phys_range *out)
{
    unsigned n = 0;
    out[n++] = (struct phys_range){0, LOW_MEMORY_END};
    for (unsigned i = 0; i < m->count && n < MAX_DIRECT_RANGES; i++) {
        uint64_t s = m->entries[i].base & ~(PAGE_SIZE - 1);
        uint64_t e = (m->entries[i].base + m->entries[i].length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        if (e > DIRECT_MAP_LIMIT)
            e = DIRECT_MAP_LIMIT;
        if (s >= e)
            continue;
        if (s <= out[n - 1].end) { /* entries are sorted: merge with the previous */
            if (e > out[n - 1].end)
                out[n - 1].end = e;
        } else {
            out[n++] = (struct phys_range){s, e};
        }
    }
    return n;
}

static void map_or_panic(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags, unsigned allow)
{
    int err = paging_map(kernel_root, va, pa, size, flags, allow);
    if (err)
        panic("memory: cannot map 0x%llx-0x%llx (error %d): out of early page-table frames",
              (unsigned long long)pa, (unsigned long long)(pa + size), err);
}

static void map_kernel_section(const char *start, const char *end, uint64_t flags)
{
    uint64_t va = (uint64_t)start;
    map_or_panic(va, va - KERNEL_VMA_BASE, (uint64_t)(end - start), flags | PT_GLOBAL, 0);
}

static void build_kernel_tables(const struct memmap *m)
{
    kernel_root = paging_new_root();
    if (!kernel_root)
        panic("memory: no frame for the core's page tables");
    static struct phys_range ranges[MAX_DIRECT_RANGES];
    unsigned n = direct_map_ranges(m, ranges);
    for (unsigned i = 0; i < n; i++)
        map_or_panic(DIRECT_MAP_BASE + ranges[i].start, ranges[i].start,
                     ranges[i].end - ranges[i].start, PT_WRITE | PT_NX | PT_GLOBAL, PT_ALLOW_LARGE);
    map_kernel_section(__text_start, __text_end, 0);
    map_kernel_section(__rodata_start, __rodata_end, PT_NX);
    map_kernel_section(__data_start, __image_end, PT_WRITE | PT_NX);
}

/* The largest block of up to LOW_PAGES_WANTED pages below the EBDA for the
 * APs' start-up code (a page each) and their start-up page tables. */
static void find_low_pages(const struct memmap *m, struct memory_report *r)
{
    for (unsigned pages = LOW_PAGES_WANTED; pages >= 4; pages /= 2) {
        r->trampoline_phys = memmap_find_free(m, pages * PAGE_SIZE, 0x1000, LOW_CODE_LIMIT);
        if (r->trampoline_phys) {
            r->trampoline_pages = pages;
            return;
        }
    }
}

/* Frames the early pool must hold: tables for the direct map (a PD per GiB
 * when 1 GiB pages are missing, plus edge tables per range) and the image. */
static uint64_t early_pool_pages(const struct memmap *m)
{
    uint64_t gib = (memmap_highest_address(m) >> 30) + 1;
    return 32 + 4ull * (m->count + 1) + (cpu_features.page1g ? gib / 512 + 1 : gib + 1);
}

struct memory_report memory_init(struct boot_info *bi, uint32_t test_flags)
{
    struct memory_report r = {0};
    struct memmap *m = &system_memmap;
    *m = bi->memmap;
    struct diag d = {0};
    if (test_flags & KEEL_TEST_BAD_MEMMAP)
        inject_bad_memmap(m, &d);
    memmap_normalize(m, &d);
    printk_diag(LOG_WARNING, &d);
    r.usable_bytes = memmap_usable_bytes(m);
    r.highest_address = memmap_highest_address(m);
    if (r.usable_bytes == 0)
        panic("memory: the boot loader reported no usable RAM; check the firmware's memory map");

    reserve_boot_areas(m, bi);
    find_low_pages(m, &r);
    reserve_or_warn(m, 0, LOW_MEMORY_END, MEMMAP_BOOTDATA, "low memory");

    uint64_t pool_pages = early_pool_pages(m);
    uint64_t pool = memmap_find_free(m, pool_pages * PAGE_SIZE, LOW_MEMORY_END, EARLY_MAP_LIMIT);
    if (!pool || !memmap_reserve(m, pool, pool_pages * PAGE_SIZE, MEMMAP_BOOTDATA))
        panic("memory: no room below 4 GiB for %llu early page-table frames",
              (unsigned long long)pool_pages);
    pmm_init_early(pool, pool_pages);
    paging_set_capabilities(cpu_features.nx, cpu_features.page1g);
    paging_set_frame_source(pmm_alloc_frame);
    build_kernel_tables(m);
    if (cpu_features.pge)
        write_cr4(read_cr4() | CR4_PGE);
    write_cr3(kernel_root);

    if (pmm_init_buddy(m) < 0)
        panic("memory: no room for the frame allocator's metadata");
    kstack_init();
    return r;
}

void *ioremap(uint64_t phys, uint64_t size)
{
    uint64_t start = phys & ~(PAGE_SIZE - 1);
    uint64_t end = (phys + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (end <= start || end > DIRECT_MAP_LIMIT)
        return 0;
    paging_unmap(kernel_root, DIRECT_MAP_BASE + start, end - start);
    if (paging_map(kernel_root, DIRECT_MAP_BASE + start, start, end - start,
                   PT_WRITE | PT_NX | PT_NOCACHE | PT_GLOBAL, 0))
        return 0;
    return phys_to_virt(phys);
}
