# The multiboot test guests (tests/guests/mb_*.asm, README.md "Multiboot
# guests") and the files the VM boot tests hand Keel as boot modules, all in
# $(BUILD)/mb-guests/:
#   mb_hello.elf   ELF32              mb_triple.elf  ELF64 (32-bit code)
#   mb_fail.bin    address fields     mb_crash.bin   address fields
#   mb_bench.bin   address fields
#   the SMP and interrupt guests (mb_apic.inc), address fields:
#   mb_smp.bin mb_lapic.bin mb_pit.bin mb_idle.bin mb_spin.bin mb_ticker.bin
#   mb_ipibench.bin mb_hostile_apic.bin
#   mb_module.txt  a module for mb_hello
#   <name>.ini     the manifests of tests/manifests/
# and bare/<guest>.bin: the SMP and interrupt guests built with -DBARE_QEMU,
# for check_mb_guests.py (bare QEMU as their platform: make mb-guests-check).
# Included by the top-level Makefile; also works alone, from the repo root:
#   make -f tests/guests/mb_guests.mk mb-guests

MB_GUESTS_MK  := $(lastword $(MAKEFILE_LIST))
MB_GUEST_DIR  := tests/guests
MB_GUEST_OUT  := $(or $(BUILD),build)/mb-guests
MB_NASM       := $(or $(NASM),nasm)
MB_LD         := $(or $(LD),ld)
MB_LDFLAGS    := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --fatal-warnings \
    --no-warn-rwx-segments -T $(MB_GUEST_DIR)/mb_guest.ld
MB_GUEST_DEPS := $(MB_GUEST_DIR)/mb_common.inc $(MB_GUEST_DIR)/mb_guest.ld $(MB_GUESTS_MK) \
    $(addprefix $(MB_GUEST_DIR)/,mb_apic.inc mb_apic_code.inc mb_acpi_code.inc mb_smp_code.inc)
MB_APIC_GUESTS := mb_smp mb_lapic mb_pit mb_idle mb_spin mb_ticker mb_ipibench mb_hostile_apic mb_regress_lint0 mb_regress_nmi_sti mb_regress_pit_fast

MB_GUEST_FILES := $(addprefix $(MB_GUEST_OUT)/,mb_hello.elf mb_triple.elf mb_fail.bin \
    mb_crash.bin mb_bench.bin mb_module.txt $(addsuffix .bin,$(MB_APIC_GUESTS))) \
    $(patsubst tests/manifests/%,$(MB_GUEST_OUT)/%,$(wildcard tests/manifests/*.ini))
MB_BARE_FILES := $(addprefix $(MB_GUEST_OUT)/bare/,$(addsuffix .bin,$(MB_APIC_GUESTS)))

.PHONY: mb-guests
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := mb-guests
endif
mb-guests: $(MB_GUEST_FILES)

$(MB_GUEST_OUT)/%.elf32.o: $(MB_GUEST_DIR)/%.asm $(MB_GUEST_DEPS)
	@mkdir -p $(@D)
	$(MB_NASM) -f elf32 -Werror -I $(MB_GUEST_DIR)/ -o $@ $<

$(MB_GUEST_OUT)/%.elf64.o: $(MB_GUEST_DIR)/%.asm $(MB_GUEST_DEPS)
	@mkdir -p $(@D)
	$(MB_NASM) -f elf64 -Werror -I $(MB_GUEST_DIR)/ -o $@ $<

$(MB_GUEST_OUT)/mb_hello.elf: $(MB_GUEST_OUT)/mb_hello.elf32.o
	$(MB_LD) -m elf_i386 $(MB_LDFLAGS) -o $@ $<

$(MB_GUEST_OUT)/mb_triple.elf: $(MB_GUEST_OUT)/mb_triple.elf64.o
	$(MB_LD) -m elf_x86_64 $(MB_LDFLAGS) -o $@ $<

$(MB_GUEST_OUT)/%.bin: $(MB_GUEST_DIR)/%.asm $(MB_GUEST_DEPS)
	@mkdir -p $(@D)
	$(MB_NASM) -f bin -Werror -I $(MB_GUEST_DIR)/ -o $@ $<

$(MB_GUEST_OUT)/bare/%.bin: $(MB_GUEST_DIR)/%.asm $(MB_GUEST_DEPS)
	@mkdir -p $(@D)
	$(MB_NASM) -f bin -Werror -DBARE_QEMU -I $(MB_GUEST_DIR)/ -o $@ $<

# The SMP and interrupt guests on bare QEMU (SeaBIOS's ACPI tables, QEMU's
# APIC, IOAPIC, PIC, PIT, PM timer and fw_cfg): checks the guests, not Keel.
.PHONY: mb-guests-check
mb-guests-check: $(MB_BARE_FILES)
	python3 $(MB_GUEST_DIR)/check_mb_guests.py --build-dir $(or $(BUILD),build)

$(MB_GUEST_OUT)/mb_module.txt: $(MB_GUEST_DIR)/mb_module.txt
	@mkdir -p $(@D)
	cp $< $@

$(MB_GUEST_OUT)/%.ini: tests/manifests/%.ini
	@mkdir -p $(@D)
	cp $< $@


# The ISO for the VM boot tests under Bochs (which boots only CDs): GRUB,
# Keel and every file mb_grub.cfg names. Needs $(BUILD)/init.elf and
# $(BUILD)/vmm-test.elf (user/init/init.mk, guest-loader/vmm.mk).
MB_ISO     := $(or $(BUILD),build)/keel-mb-vms.iso
MB_ISO_DIR := $(or $(BUILD),build)/isodir-mb-vms

$(MB_ISO): $(or $(BUILD),build)/keel.elf $(or $(BUILD),build)/init.elf \
    $(or $(BUILD),build)/vmm-test.elf $(MB_GUEST_FILES) $(MB_GUEST_DIR)/mb_grub.cfg
	@rm -rf $(MB_ISO_DIR) && mkdir -p $(MB_ISO_DIR)/boot/grub
	cp $(filter %.elf %.bin %.txt %.ini,$^) $(MB_ISO_DIR)/boot/
	cp $(MB_GUEST_DIR)/mb_grub.cfg $(MB_ISO_DIR)/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(MB_ISO_DIR) 2>$(MB_ISO_DIR).log || { cat $(MB_ISO_DIR).log; exit 1; }

.PHONY: mb-vms-iso
mb-vms-iso: $(MB_ISO)

# The same for the SMP and interrupt guests (issue 5): GRUB, Keel, init, the
# VMM and the guests of tests/manifests/smp_vms.ini, booted by
# tests/boot/boot_tests.py under Bochs (VMX) with 3 CPUs.
SMP_ISO     := $(or $(BUILD),build)/keel-smp-vms.iso
SMP_ISO_DIR := $(or $(BUILD),build)/isodir-smp-vms

$(SMP_ISO): $(or $(BUILD),build)/keel.elf $(or $(BUILD),build)/init.elf \
    $(or $(BUILD),build)/vmm.elf $(MB_GUEST_FILES) $(MB_GUEST_DIR)/mb_smp_grub.cfg
	@rm -rf $(SMP_ISO_DIR) && mkdir -p $(SMP_ISO_DIR)/boot/grub
	cp $(filter %.elf %.bin %.ini,$^) $(SMP_ISO_DIR)/boot/
	cp $(MB_GUEST_DIR)/mb_smp_grub.cfg $(SMP_ISO_DIR)/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(SMP_ISO_DIR) 2>$(SMP_ISO_DIR).log || { cat $(SMP_ISO_DIR).log; exit 1; }

.PHONY: smp-vms-iso
smp-vms-iso: $(SMP_ISO)
