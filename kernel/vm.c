/* VM and vCPU objects: memory slots, the second-level table, backend state. */
#include "vm.h"
#include "vm_lapic.h"
#include "guest_fpu.h"
#include "heap.h"
#include "kstring.h"
#include "layout.h"
#include "pmm.h"
#include "paging.h"
#include "printk.h"
#include "spinlock.h"
#include "virt.h"

#define MAX_RAM_ORDER 18 /* 1 GiB in 4 KiB frames */

static struct spinlock vm_lock = SPINLOCK_INIT;
static unsigned next_vm_id = 1;

static uint64_t slat_alloc_frame(void *ctx)
{
    (void)ctx;
    return pmm_alloc_frame();
}

static void slat_free_frame(void *ctx, uint64_t phys)
{
    (void)ctx;
    pmm_free_pages(phys, 0);
}

static void *slat_frame_ptr(void *ctx, uint64_t phys)
{
    (void)ctx;
    return phys_to_virt(phys);
}

static const struct slat_env slat_env = {
    .alloc_frame = slat_alloc_frame,
    .free_frame = slat_free_frame,
    .frame_ptr = slat_frame_ptr,
};

/* ASIDs / VPIDs 1 .. n-1 in turn; VMs may share one when there are more VMs
 * than IDs, so backends flush when the previous user on a CPU differs. */
static uint32_t assign_asid(unsigned id)
{
    uint32_t n = virt_caps.address_space_ids;
    return n > 1 ? 1 + (id - 1) % (n - 1) : 0;
}

struct vm *vm_create(const char *name)
{
    if (!virt || !virt->vcpu_create)
        return 0; /* no backend, or one that cannot run guests */
    struct vm *vm = kzalloc(sizeof(*vm));
    if (!vm)
        return 0;
    if (slat_init(&vm->slat, virt->slat_format, virt_caps.slat_2m_pages, virt_caps.slat_1g_pages,
                  &slat_env) != SLAT_OK) {
        kfree(vm);
        return 0;
    }
    uint64_t flags = spin_lock_irqsave(&vm_lock);
    vm->id = next_vm_id++;
    spin_unlock_irqrestore(&vm_lock, flags);
    vm->asid = assign_asid(vm->id);
    kstrlcpy(vm->name, name, sizeof(vm->name));
    return vm;
}

static unsigned order_of(uint64_t size)
{
    unsigned order = 0;
    while ((PAGE_SIZE << order) < size)
        order++;
    return order;
}

static struct memslot *free_slot(struct vm *vm)
{
    for (unsigned i = 0; i < VM_MAX_SLOTS; i++) {
        if (!vm->slots[i].in_use)
            return &vm->slots[i];
    }
    return 0;
}

int vm_add_ram(struct vm *vm, uint64_t gpa, uint64_t size)
{
    unsigned order = order_of(size);
    if (!size || (size & (PAGE_SIZE - 1)) || (PAGE_SIZE << order) != size ||
        order > MAX_RAM_ORDER || (gpa & (size - 1)))
        return -1;
    struct memslot *slot = free_slot(vm);
    if (!slot)
        return -1;
    uint64_t hpa = pmm_alloc_pages(order); /* zeroed; mapped on first touch */
    if (!hpa)
        return -1;
    *slot =
        (struct memslot){.gpa = gpa, .size = size, .hpa = hpa, .in_use = true, .owns_memory = true};
    return 0;
}

/* Host frame behind byte off of slot s (0 when the VMM's page is gone). */
static uint64_t slot_hpa(const struct memslot *s, uint64_t off)
{
    if (!s->user_root)
        return s->hpa + off;
    uint64_t pa, flags;
    if (!paging_lookup(s->user_root, s->user_va + off, &pa, &flags, 0) || !(flags & PT_OWNED))
        return 0;
    return pa;
}

static const struct memslot *slot_of(const struct vm *vm, uint64_t gpa)
{
    for (unsigned i = 0; i < VM_MAX_SLOTS; i++) {
        const struct memslot *s = &vm->slots[i];
        if (s->in_use && gpa >= s->gpa && gpa - s->gpa < s->size)
            return s;
    }
    return 0;
}

/* Host physical address behind guest RAM [gpa, gpa+len): within one slot,
 * and host-contiguous where it crosses pages. 0 otherwise. */
static uint64_t ram_hpa(const struct vm *vm, uint64_t gpa, uint64_t len)
{
    const struct memslot *s = slot_of(vm, gpa);
    if (!s || !len || len > s->size - (gpa - s->gpa))
        return 0;
    uint64_t off = gpa - s->gpa;
    uint64_t first = slot_hpa(s, off);
    for (uint64_t next = (off | (PAGE_SIZE - 1)) + 1; first && next < off + len;
         next += PAGE_SIZE) {
        if (slot_hpa(s, next) != first + (next - off))
            return 0;
    }
    return first;
}

int vm_add_alias(struct vm *vm, uint64_t alias_gpa, uint64_t source_gpa, uint64_t size)
{
    uint64_t hpa = ram_hpa(vm, source_gpa, size);
    struct memslot *slot = free_slot(vm);
    if (!hpa || !slot || (alias_gpa & (PAGE_SIZE - 1)) || (size & (PAGE_SIZE - 1)))
        return -1;
    *slot = (struct memslot){.gpa = alias_gpa, .size = size, .hpa = hpa, .in_use = true};
    return 0;
}

int vm_map_on_fault(struct vm *vm, uint64_t gpa)
{
    const struct memslot *s = slot_of(vm, gpa);
    if (!s)
        return VM_FAULT_NOT_RAM;
    if (slat_lookup(&vm->slat, gpa, 0, 0, 0, 0))
        return VM_FAULT_PERMISSION;
    static const uint64_t sizes[] = {1ull << 30, 1ull << 21, PAGE_SIZE};
    for (unsigned i = s->user_root ? 2 : 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t size = sizes[i]; /* the VMM's pages are not contiguous: 4 KiB for those */
        uint64_t base = gpa & ~(size - 1);
        uint64_t hpa = slot_hpa(s, base - s->gpa);
        if (!hpa)
            return VM_FAULT_NOT_RAM; /* the VMM's page is gone */
        if (base < s->gpa || base + size > s->gpa + s->size || (hpa & (size - 1)))
            continue; /* the block leaves the slot, or the backing is not aligned */
        if (slat_map(&vm->slat, base, hpa, size, SLAT_RWX, SLAT_MT_WB) == SLAT_OK)
            return VM_FAULT_MAPPED;
    }
    return VM_FAULT_NO_MEMORY;
}

int vm_add_user_region(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                       uint64_t user_root, uint64_t user_va)
{
    if (slot >= VM_MAX_SLOTS || vm->slots[slot].in_use)
        return -1;
    for (unsigned i = 0; i < VM_MAX_SLOTS; i++) {
        const struct memslot *o = &vm->slots[i];
        if (o->in_use && gpa < o->gpa + o->size && o->gpa < gpa + size)
            return -1;
    }
    vm->slots[slot] = (struct memslot){
        .gpa = gpa, .size = size, .user_root = user_root, .user_va = user_va, .in_use = true};
    return 0;
}

bool vm_uses_user_memory(const struct vm *vm, uint64_t user_root, uint64_t va, uint64_t size)
{
    for (unsigned i = 0; i < VM_MAX_SLOTS; i++) {
        const struct memslot *s = &vm->slots[i];
        if (s->in_use && s->user_root == user_root && va < s->user_va + s->size &&
            s->user_va < va + size)
            return true;
    }
    return false;
}

void *vm_guest_ram(struct vm *vm, uint64_t gpa, uint64_t len)
{
    if (!len || gpa + len < gpa)
        return 0;
    uint64_t hpa = ram_hpa(vm, gpa, len);
    return hpa ? phys_to_virt(hpa) : 0;
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    slat_destroy(&vm->slat);
    for (unsigned i = 0; i < VM_MAX_SLOTS; i++) {
        const struct memslot *s = &vm->slots[i];
        if (s->in_use && s->owns_memory)
            pmm_free_pages(s->hpa, order_of(s->size));
    }
    kfree(vm);
}

struct vcpu *vcpu_create(struct vm *vm, unsigned id)
{
    struct vcpu *v = kzalloc(sizeof(*v));
    if (!v)
        return 0;
    v->vm = vm;
    v->id = id;
    v->guest_pat = 0x0007040600070406ull; /* power-on value (SDM Vol. 3A 13.12.4) */
    if (guest_fpu_create(v) < 0) {
        kfree(v);
        return 0;
    }
    if (virt->vcpu_create(v) < 0) {
        guest_fpu_destroy(v);
        kfree(v);
        return 0;
    }
    vm_lapic_init(v);
    if (vm_add_vcpu(vm, v) < 0) {
        vcpu_destroy(v);
        return 0;
    }
    return v;
}

void vcpu_destroy(struct vcpu *v)
{
    if (!v)
        return;
    vm_remove_vcpu(v->vm, v);
    vm_lapic_destroy(v);
    virt->vcpu_destroy(v);
    guest_fpu_destroy(v);
    kfree(v->cpuid_entries);
    kfree(v);
}
