/*
 * Building the VM: guest RAM from the VMM's own memory, the multiboot load
 * into it, the VM with one memory slot and its vCPUs, the state the
 * multiboot spec (3.2, "Machine state") asks for at the guest's entry (on
 * vCPU 0; the others wait for INIT and start-up IPIs in the core), the ACPI
 * tables in 0xE0000-0xFFFFF and the board.
 */
#include "acpi_tables.h"
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
#define IOAPIC_ID_MAX 15          /* the I/O APIC ID is 4 bits (82093AA 3.2.1) */

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
    long vcpu0 = v->vcpus[0].handle;
    struct keel_sregs s;
    long err = keel_get_sregs(vcpu0, &s);
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
        err = keel_set_sregs(vcpu0, &s);
    }
    if (err < 0) {
        vmm_say("cannot set the guest's segment and control registers: %s", keel_strerror(err));
        return VMM_STATUS_SETUP_FAILED;
    }
    struct keel_regs r = {
        .rax = MB_BOOTLOADER_MAGIC, .rbx = boot->info, .rip = boot->entry, .rflags = RFLAGS_FIXED};
    err = keel_set_regs(vcpu0, &r);
    if (err < 0) {
        vmm_say("cannot set the guest's registers: %s", keel_strerror(err));
        return VMM_STATUS_SETUP_FAILED;
    }
    return 0;
}

/* The board's end(): the exit port or ACPI S5. */
static void end_vm(void *ctx, int status)
{
    vmm_finish(ctx, status);
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
    v->vcpu_count = v->args.cpus;
    for (unsigned i = 0; err >= 0 && i < v->vcpu_count; i++) {
        struct vmm_vcpu *c = &v->vcpus[i];
        *c = (struct vmm_vcpu){.vmm = v, .index = i};
        what = "KEEL_HC_CREATE_VCPU";
        err = c->handle = keel_create_vcpu(v->vm, i, &c->run);
    }
    if (err < 0) {
        vmm_say("%s failed: %s", what, keel_strerror(err));
        return VMM_STATUS_SETUP_FAILED;
    }
    return 0;
}

/* The I/O APIC's ID: the number of vCPUs, so it follows the local APICs'
 * IDs 0..cpus-1, as far as its 4 bits allow (82093AA 3.2.1). */
static uint8_t ioapic_id(unsigned cpus)
{
    return (uint8_t)(cpus < IOAPIC_ID_MAX ? cpus : IOAPIC_ID_MAX);
}

/* The ACPI tables in guest RAM (reserved in the memory map the guest
 * gets), then the board, whose fw_cfg carries a copy of the RSDP. */
static int build_platform(struct vmm *v)
{
    struct acpi_config acpi = {.cpus = v->vcpu_count,
                               .ioapic_id = ioapic_id(v->vcpu_count),
                               .ioapic_address = IOAPIC_BASE};
    uint64_t rsdp_gpa;
    if (!guest_ram_contains(&v->ram, ACPI_AREA_GPA, ACPI_AREA_SIZE) ||
        acpi_build_tables(&acpi, v->ram.base + ACPI_AREA_GPA, ACPI_AREA_GPA, ACPI_AREA_SIZE,
                          &rsdp_gpa) < 0) {
        vmm_say("cannot build the ACPI tables for %u vCPUs at 0x%llx", v->vcpu_count,
                (unsigned long long)ACPI_AREA_GPA);
        return VMM_STATUS_SETUP_FAILED;
    }
    struct board_config cfg = {.vm = v->vm,
                               .vcpu0 = v->vcpus[0].handle,
                               .cpus = v->vcpu_count,
                               .ioapic_id = acpi.ioapic_id,
                               .ram_size = v->ram.size,
                               .name = v->name,
                               .rsdp = v->ram.base + rsdp_gpa,
                               .tsc_khz = v->tsc_khz,
                               .boot_tsc = v->boot_tsc,
                               .wallclock = v->wallclock,
                               .emit = vmm_console_line,
                               .end = end_vm,
                               .ctx = v};
    board_init(&v->board, &cfg);
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
    if (status == 0)
        status = set_entry_state(v, &boot);
    return status ? status : build_platform(v);
}
