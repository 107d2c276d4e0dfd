/* Partition life: creation from an ELF boot module, the first thread's
 * entry to ring 3, death and clean-up. */
#include <keel/hypercall.h>
#include <keel/start.h>

#include "elf_check.h"
#include "fmt.h"
#include "heap.h"
#include "kstring.h"
#include "layout.h"
#include "memory.h"
#include "paging.h"
#include "partition.h"
#include "percpu.h"
#include "pmm.h"
#include "printk.h"
#include "sched/sched.h"
#include "time.h"
#include "wallclock.h"
#include "user_memory.h"

#define WHY_MAX       128
#define MAP_AREA_BASE 0x10000000000ull /* KEEL_HC_MEM_MAP placements start at 1 TiB */

void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg); /* user_entry.asm */

static struct spinlock id_lock = SPINLOCK_INIT;
static unsigned next_id = 1;

/* Where a new ring-3 thread starts: RIP, RSP and RDI. */
struct user_thread_start {
    uint64_t entry, stack, arg;
};

static void user_thread(void *arg)
{
    struct user_thread_start start = *(struct user_thread_start *)arg;
    kfree(arg);
    enter_user(start.entry, start.stack, start.arg);
}

static uint64_t new_address_space(void)
{
    uint64_t root = pmm_alloc_frame();
    if (root) {
        const uint64_t *kernel = phys_to_virt(kernel_root);
        uint64_t *pml4 = phys_to_virt(root);
        for (unsigned i = 256; i < 512; i++)
            pml4[i] = kernel[i]; /* the core's half, supervisor-only */
    }
    return root;
}

static const char *load_segments(uint64_t root, const struct boot_module *m,
                                 const struct elf_image *img)
{
    const uint8_t *file = phys_to_virt(m->start);
    for (unsigned i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        if (user_map_fresh(root, s->vaddr, s->memsz, s->writable, s->executable) < 0)
            return "out of memory for its segments";
        if (!user_write_initial(root, s->file_vaddr, file + s->file_offset, s->filesz))
            return "could not copy a segment";
    }
    return 0;
}

static const char *prepare_image(struct partition *p, const struct boot_module *m,
                                 struct elf_image *img)
{
    if (m->end <= m->start)
        return "its image module is empty";
    const char *bad = elf_check(phys_to_virt(m->start), m->end - m->start, KEEL_USER_IMAGE_BASE,
                                KEEL_USER_STACK_TOP - KEEL_USER_STACK_SIZE, img);
    if (bad)
        return bad;
    return load_segments(p->root, m, img);
}

static const char *prepare_stack(struct partition *p, const char *args, unsigned grants,
                                 uint64_t *info_va)
{
    uint64_t base = KEEL_USER_STACK_TOP - KEEL_USER_STACK_SIZE;
    if (user_map_fresh(p->root, base, KEEL_USER_STACK_SIZE, true, false) < 0)
        return "out of memory for its stack";
    struct keel_start_info info = {.magic = KEEL_START_MAGIC,
                                   .module_count = grants,
                                   .tsc_khz = tsc_hz / 1000,
                                   .boot_tsc = wallclock_tsc ? wallclock_tsc : tsc_at_boot,
                                   .wallclock = wallclock_seconds};
    kstrlcpy(info.name, p->name, sizeof(info.name));
    kstrlcpy(info.args, args ? args : "", sizeof(info.args));
    *info_va = (KEEL_USER_STACK_TOP - sizeof(info)) & ~0xfull;
    if (!copy_to_user(p->root, *info_va, &info, sizeof(info)))
        return "could not write its start information";
    return 0;
}

static struct partition *alloc_partition(const char *name, bool is_root)
{
    struct partition *p = kzalloc(sizeof(*p));
    if (!p)
        return 0;
    p->root = new_address_space();
    if (!p->root) {
        kfree(p);
        return 0;
    }
    uint64_t flags = spin_lock_irqsave(&id_lock);
    p->id = next_id++;
    spin_unlock_irqrestore(&id_lock, flags);
    kstrlcpy(p->name, name, sizeof(p->name));
    p->is_root = is_root;
    p->next_map = MAP_AREA_BASE;
    p->state = PARTITION_RUNNING;
    return p;
}

static void free_partition(struct partition *p)
{
    user_destroy_address_space(p->root);
    kfree(p);
}

struct partition *partition_create(const struct boot_module *image, const char *name,
                                   const char *args, const struct boot_module *const *grants,
                                   unsigned grant_count, bool is_root, unsigned cpu, char *why)
{
    if (grant_count >= PARTITION_HANDLES) {
        kstrlcpy(why, "too many modules granted", WHY_MAX);
        return 0;
    }
    struct partition *p = alloc_partition(name, is_root);
    if (!p) {
        kstrlcpy(why, "out of memory", WHY_MAX);
        return 0;
    }
    struct elf_image img;
    uint64_t info_va = 0;
    const char *bad = prepare_image(p, image, &img);
    if (!bad)
        bad = prepare_stack(p, args, grant_count, &info_va);
    struct user_thread_start *start = bad ? 0 : kzalloc(sizeof(*start));
    struct thread *t = start ? thread_create(name, user_thread, start, cpu) : 0;
    if (!t) {
        fmt_snprintf(why, WHY_MAX, "image '%s': %s", image->name, bad ? bad : "out of memory");
        kfree(start);
        free_partition(p);
        return 0;
    }
    for (unsigned i = 0; i < grant_count; i++)
        p->handles[1 + i] = (struct handle){HANDLE_MODULE, RIGHT_READ, grants[i]};
    /* RSP 16-byte aligned minus 8, as after a CALL (System V ABI 3.4.1). */
    *start = (struct user_thread_start){img.entry, info_va - 8, info_va};
    t->partition = p;
    t->base_priority = SCHED_PRIO_DEVICE;
    p->live_threads = 1;
    sched_wake(t);
    return p;
}

/* The handle h of p if it is of kind with all of rights, else NULL. */
const struct handle *handle_lookup(struct partition *p, int64_t h, enum handle_kind kind,
                                   uint32_t rights)
{
    if (h < 0 || h >= PARTITION_HANDLES)
        return 0;
    const struct handle *e = &p->handles[h];
    if (e->kind != kind || (e->rights & rights) != rights)
        return 0;
    return e;
}

int64_t handle_new(struct partition *p, enum handle_kind kind, uint32_t rights, const void *object)
{
    uint64_t flags = spin_lock_irqsave(&p->lock);
    int64_t found = -KEEL_EMFILE;
    for (int64_t h = 1; h < PARTITION_HANDLES; h++) { /* 0 stays invalid */
        if (p->handles[h].kind == HANDLE_NONE) {
            p->handles[h] = (struct handle){kind, rights, object};
            found = h;
            break;
        }
    }
    spin_unlock_irqrestore(&p->lock, flags);
    return found;
}

struct partition *partition_current(void)
{
    struct thread *t = thread_current();
    return t ? t->partition : 0;
}

void partition_kill(struct partition *p, int status, const char *reason)
{
    uint64_t flags = spin_lock_irqsave(&p->lock);
    bool first = p->state == PARTITION_RUNNING;
    if (first) {
        p->state = PARTITION_DEAD;
        p->exit_status = status;
        p->kicking = true;
    }
    spin_unlock(&p->lock);
    if (first) {
        /* Interrupts stay off: nothing preempts this walk while one of p's
         * threads, ending, waits for it (partition_thread_gone). */
        partition_kick_vcpus(p);
        __atomic_store_n(&p->kicking, false, __ATOMIC_RELEASE);
    }
    irq_restore(flags);
    if (first && reason)
        pr_warn("partition %s killed: %s", p->name, reason);
}

void partition_thread_gone(struct partition *p)
{
    uint64_t flags = spin_lock_irqsave(&p->lock);
    bool last = --p->live_threads == 0;
    struct thread *waiter = p->waiter;
    spin_unlock_irqrestore(&p->lock, flags);
    if (!last)
        return;
    pr_info("keel: partition %s exited with status %d", p->name, p->exit_status);
    while (__atomic_load_n(&p->kicking, __ATOMIC_ACQUIRE))
        cpu_relax(); /* partition_kill still walks its vCPUs */
    partition_release_vms(p);
    /* The last thread runs on p's tables: leave them before freeing them. */
    write_cr3(kernel_root);
    user_destroy_address_space(p->root);
    p->root = 0;
    if (waiter)
        sched_wake(waiter);
}

static bool user_address(uint64_t a)
{
    return a >= KEEL_USER_IMAGE_BASE && a < KEEL_USER_LIMIT;
}

int partition_add_thread(struct partition *p, uint64_t entry, uint64_t stack, uint64_t arg)
{
    if (!user_address(entry) || !user_address(stack) || (stack & 0xf))
        return -KEEL_EINVAL;
    struct user_thread_start *start = kzalloc(sizeof(*start));
    if (!start)
        return -KEEL_ENOMEM;
    /* As after a CALL: RSP is 8 below a 16-byte boundary (System V ABI 3.4.1). */
    *start = (struct user_thread_start){entry, stack - 8, arg};
    struct thread *t = thread_create(p->name, user_thread, start, sched_pick_cpu(0));
    if (!t) {
        kfree(start);
        return -KEEL_ENOMEM;
    }
    t->partition = p;
    t->base_priority = SCHED_PRIO_DEVICE;
    uint64_t flags = spin_lock_irqsave(&p->lock);
    bool alive = p->state == PARTITION_RUNNING;
    if (alive)
        p->live_threads++;
    spin_unlock_irqrestore(&p->lock, flags);
    if (!alive) {
        kfree(start);
        thread_free(t); /* it never ran */
        return -KEEL_ESRCH;
    }
    sched_wake(t);
    return 0;
}
