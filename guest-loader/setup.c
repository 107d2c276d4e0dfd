/*
 * Building the VM: guest RAM from the VMM's own memory, the multiboot load
 * into it, the VM with one memory slot and vCPU 0, and the state the
 * multiboot spec (3.2, "Machine state") asks for at the guest's entry.
 */
#include "libc.h"
#include "vmm.h"
#include "vmm_status.h"

#define RAM_SLOT      0
#define SEL_CODE      0x08
#define SEL_DATA      0x10
#define SEG_CODE_TYPE 0xb /* execute/read, accessed */
#define SEG_DATA_TYPE 0x3 /* read/write, accessed */
#define SEG_TSS_BUSY  0xb /* 32-bit busy TSS: VM entry wants TR usable (SDM 3C 27.3.1.2) */
#define SEG_LDT_TYPE  0x2
#define SEG_LIMIT_4G  0xffffffffu
#define SEG_LIMIT_64K 0xffffu
#define CR0_PE        (1ull << 0)
#define CR0_ET        (1ull << 4)
#define RFLAGS_FIXED  (1ull << 1) /* bit 1 is always set; IF and VM clear */

static struct keel_segment flat_segment(uint16_t selector, uint8_t type)
{
    return (struct keel_segment){.base = 0,
                                 .limit = SEG_LIMIT_4G,
                                 .selector = selector,
                                 .type = type,
                                 .present = 1,
                                 .db = 1,
                                 .s = 1,
                                 .g = 1};
}

/* 3.2: EAX the magic, EBX the info; CS a 32-bit flat code segment, the
 * others flat data; CR0.PE set, PG clear; EFLAGS.IF and VM clear. GDTR and
 * IDTR are undefined for the guest: both get limit 0, so an exception
 * before the guest loads its own IDT ends in a triple fault, not a guess.
 * ESP is undefined too and starts at 0. */
static int set_entry_state(struct vmm *v, const struct mb_boot *boot)
{
    struct keel_sregs s;
    long err = keel_get_sregs(v->vcpu, &s);
    if (err == 0) {
        s.cs = flat_segment(SEL_CODE, SEG_CODE_TYPE);
        s.ds = s.es = s.fs = s.gs = s.ss = flat_segment(SEL_DATA, SEG_DATA_TYPE);
        s.tr = (struct keel_segment){.limit = SEG_LIMIT_64K, .type = SEG_TSS_BUSY, .present = 1};
        s.ldt = (struct keel_segment){.limit = SEG_LIMIT_64K, .type = SEG_LDT_TYPE, .present = 1};
        s.gdt = (struct keel_dtable){0};
        s.idt = (struct keel_dtable){0};
        s.cr0 = CR0_PE | CR0_ET;
        s.cr2 = s.cr3 = s.cr4 = s.cr8 = 0;
        s.efer = 0;
        err = keel_set_sregs(v->vcpu, &s);
    }
    if (err < 0) {
        vmm_say("cannot set the guest's segment and control registers: %s", keel_strerror(err));
        return VMM_STATUS_SETUP_FAILED;
    }
    struct keel_regs r = {
        .rax = MB_BOOTLOADER_MAGIC, .rbx = boot->info, .rip = boot->entry, .rflags = RFLAGS_FIXED};
    err = keel_set_regs(v->vcpu, &r);
    if (err < 0) {
        vmm_say("cannot set the guest's registers: %s", keel_strerror(err));
        return VMM_STATUS_SETUP_FAILED;
    }
    return 0;
}

static int create_vm(struct vmm *v)
{
    const char *what = "KEEL_HC_CREATE_VM";
    long err = v->vm = keel_create_vm();
    if (err >= 0) {
        struct keel_memory_region region = {.slot = RAM_SLOT,
                                            .guest_phys_addr = 0,
                                            .memory_size = v->ram.size,
                                            .userspace_addr = (uint64_t)(uintptr_t)v->ram.base};
        what = "KEEL_HC_SET_USER_MEMORY_REGION";
        err = keel_set_user_memory_region(v->vm, &region);
    }
    if (err >= 0) {
        what = "KEEL_HC_CREATE_VCPU";
        err = v->vcpu = keel_create_vcpu(v->vm, 0, &v->run);
    }
    if (err < 0) {
        vmm_say("%s failed: %s", what, keel_strerror(err));
        return VMM_STATUS_SETUP_FAILED;
    }
    return 0;
}

static void describe_load(const struct vmm *v, const char *image, const struct mb_boot *b,
                          unsigned mod_count)
{
    char format[16];
    if (b->elf)
        snprintf(format, sizeof(format), "ELF%u", b->elf_class);
    else
        snprintf(format, sizeof(format), "address fields");
    vmm_say("loaded '%s' (%s) at 0x%llx-0x%llx, entry 0x%x; %u module%s up to 0x%llx; "
            "boot info at 0x%x; %llu MiB of RAM",
            image, format, (unsigned long long)b->image_start, (unsigned long long)b->image_end,
            b->entry, mod_count, mod_count == 1 ? "" : "s", (unsigned long long)b->modules_end,
            b->info, (unsigned long long)(v->ram.size >> 20));
    if (b->note[0])
        vmm_say("note: %s", b->note);
}

int vmm_setup(struct vmm *v, const struct keel_module_info *image,
              const struct keel_module_info *mods, unsigned mod_count)
{
    void *ram;
    long err = keel_mem_map(v->args.memory, KEEL_PROT_READ | KEEL_PROT_WRITE, &ram);
    if (err < 0) {
        vmm_say("cannot allocate %llu KiB of guest RAM: %s",
                (unsigned long long)(v->args.memory >> 10), keel_strerror(err));
        return VMM_STATUS_SETUP_FAILED;
    }
    v->ram = (struct guest_ram){ram, v->args.memory};
    struct mb_module mb_mods[VMM_MAX_MODULES];
    for (unsigned i = 0; i < mod_count && i < VMM_MAX_MODULES; i++)
        mb_mods[i] = (struct mb_module){(const uint8_t *)(uintptr_t)mods[i].address, mods[i].size,
                                        mods[i].name};
    struct mb_boot boot;
    char why[MB_ERROR_MAX];
    const uint8_t *data = (const uint8_t *)(uintptr_t)image->address;
    if (!mb_load(&v->ram, data, image->size, v->args.cmdline, mb_mods, mod_count, &boot, why)) {
        vmm_say("cannot load the guest image '%s': %s", image->name, why);
        return VMM_STATUS_BAD_IMAGE;
    }
    describe_load(v, image->name, &boot, mod_count);
    int status = create_vm(v);
    return status ? status : set_entry_state(v, &boot);
}
