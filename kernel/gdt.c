/* Per-CPU GDT and TSS set-up. */
#include "cpu.h"
#include "gdt.h"
#include "kstring.h"
#include "percpu.h"

/* Descriptor bits (SDM Vol. 3A 3.4.5): present, DPL, S, type, L, G. */
#define SEG_KERNEL_CODE64  0x00af9a000000ffffull
#define SEG_KERNEL_DATA    0x00cf92000000ffffull
#define SEG_USER_CODE32    0x00cffa000000ffffull
#define SEG_USER_DATA      0x00cff2000000ffffull
#define SEG_USER_CODE64    0x00affa000000ffffull
#define TSS_TYPE_AVAILABLE 0x89ull /* present, 64-bit TSS available */

static void set_tss_descriptor(struct gdt *g, const struct tss *tss)
{
    uint64_t base = (uint64_t)tss;
    uint64_t limit = sizeof(*tss) - 1;
    g->entries[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                              (TSS_TYPE_AVAILABLE << 40) | (((limit >> 16) & 0xf) << 48) |
                              (((base >> 24) & 0xff) << 56);
    g->entries[SEL_TSS / 8 + 1] = base >> 32;
}

void gdt_load_cpu(struct percpu *p, const uint64_t ist_stacks[IST_COUNT])
{
    struct gdt *g = &p->gdt;
    memset(g, 0, sizeof(*g));
    g->entries[SEL_KERNEL_CODE / 8] = SEG_KERNEL_CODE64;
    g->entries[SEL_KERNEL_DATA / 8] = SEG_KERNEL_DATA;
    g->entries[SEL_USER_CODE32 / 8] = SEG_USER_CODE32;
    g->entries[SEL_USER_DATA / 8] = SEG_USER_DATA;
    g->entries[SEL_USER_CODE / 8] = SEG_USER_CODE64;

    memset(&p->tss, 0, sizeof(p->tss));
    p->tss.rsp[0] = p->stack_top;
    for (int i = 0; i < IST_COUNT; i++)
        p->tss.ist[i] = ist_stacks[i];
    p->tss.iomap_base = sizeof(struct tss); /* no I/O bitmap: ring 3 gets no ports */
    set_tss_descriptor(g, &p->tss);

    struct descriptor_table_pointer ptr = {sizeof(*g) - 1, (uint64_t)g};
    __asm__ volatile("lgdt %0\n\t"
                     "mov %1, %%ds\n\t"
                     "mov %1, %%es\n\t"
                     "mov %1, %%ss\n\t"
                     "pushq %2\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "ltr %w3"
                     :
                     : "m"(ptr), "r"((uint64_t)SEL_KERNEL_DATA), "i"(SEL_KERNEL_CODE),
                       "r"((uint32_t)SEL_TSS)
                     : "rax", "memory");
}
