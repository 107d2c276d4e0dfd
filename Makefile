# Keel build, run and test. `make` builds build/keel.elf; see README.md.

BUILD      := build
CC         := gcc
NASM       := nasm
LD         := ld
HOST_CC    ?= gcc
HOST_CLANG ?= clang

KERNEL_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -mcmodel=kernel -mno-red-zone \
    -mgeneral-regs-only -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
    -O2 -g -Wall -Wextra -Werror -Ikernel -Iinclude -MMD -MP
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments --fatal-warnings \
    -T linker.ld
NASMFLAGS := -f elf64 -g -Werror -I.

KERNEL_C   := $(sort $(wildcard kernel/*.c kernel/*/*.c))
KERNEL_ASM := $(sort $(wildcard boot/*.asm kernel/*.asm kernel/*/*.asm))
KERNEL_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(KERNEL_C)) $(patsubst %.asm,$(BUILD)/%.asm.o,$(KERNEL_ASM))

QEMU       := qemu-system-x86_64
RUN_QEMU_FLAGS := -machine pc -accel tcg -cpu max -smp 2 -m 512M -nographic -no-reboot

.PHONY: all iso run test bench lint format deps check-deps unit-tests fuzz fuzz-smoke boot-tests clean
all: $(BUILD)/keel.elf

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/%.asm.o: %.asm $(wildcard boot/*.inc kernel/*.inc)
	@mkdir -p $(dir $@)
	$(NASM) $(NASMFLAGS) $< -o $@

-include tests/guests/guests.mk
# The self-test guests are linked into the core (kernel/selftest_images.asm).
$(BUILD)/kernel/selftest_images.asm.o: $(GUEST_BINS)
$(BUILD)/kernel/selftest_images.asm.o: NASMFLAGS += -I$(BUILD)/guests/

$(BUILD)/keel.elf: $(KERNEL_OBJ) linker.ld
	$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJ)
	@tests/check_image.sh $@

iso: $(BUILD)/keel.iso
# The ISO's boot modules, as <file>:<name>: the root partition, the VMM, the
# manifest, the demo guest and every file of iso/guests/ (named after it).
ISO_GUEST_FILES := $(filter-out iso/guests/README.md,$(wildcard iso/guests/*))
ISO_MODULES := $(BUILD)/init.elf:init $(BUILD)/vmm.elf:vmm iso/manifest.ini:manifest \
    $(BUILD)/mb-guests/mb_hello.elf:mb_hello $(BUILD)/mb-guests/mb_module.txt:greeting \
    $(foreach f,$(ISO_GUEST_FILES),$(f):$(basename $(notdir $(f))))
$(BUILD)/keel.iso: $(BUILD)/keel.elf iso/grub.cfg $(foreach m,$(ISO_MODULES),$(firstword $(subst :, ,$(m))))
	@rm -rf $(BUILD)/isodir && mkdir -p $(BUILD)/isodir/boot/grub $(BUILD)/isodir/boot/modules
	cp $(BUILD)/keel.elf $(BUILD)/isodir/boot/keel.elf
	@lines=""; for m in $(ISO_MODULES); do \
	    file=$${m%%:*}; name=$${m##*:}; \
	    cp $$file $(BUILD)/isodir/boot/modules/$$name || exit 1; \
	    lines="$$lines    module2 /boot/modules/$$name $$name\n"; \
	done; \
	awk -v mods="$$lines" '{ if ($$0 == "@MODULES@") printf "%s", mods; else print }' \
	    iso/grub.cfg > $(BUILD)/isodir/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/isodir 2>$(BUILD)/grub-mkrescue.log || \
	    { cat $(BUILD)/grub-mkrescue.log; exit 1; }

# Test ISOs: boot straight into keel.test=<name> (self-test, benchmark).
TEST_ISOS := $(BUILD)/keel-selftest.iso $(BUILD)/keel-bench.iso
$(BUILD)/keel-%.iso: $(BUILD)/keel.elf iso/grub-test.cfg
	@rm -rf $(BUILD)/isodir-$* && mkdir -p $(BUILD)/isodir-$*/boot/grub
	cp $(BUILD)/keel.elf $(BUILD)/isodir-$*/boot/keel.elf
	sed 's/@TEST@/$*/g' iso/grub-test.cfg > $(BUILD)/isodir-$*/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/isodir-$* 2>$(BUILD)/grub-mkrescue-$*.log || \
	    { cat $(BUILD)/grub-mkrescue-$*.log; exit 1; }

# Packages the build, `make run` and the tests need (Debian 12 names).
DEB_PACKAGES := gcc make nasm binutils grub-pc-bin grub-common xorriso mtools qemu-system-x86 \
    bochs bochs-term bochsbios vgabios python3 clang cppcheck clang-format
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: missing Debian packages:" $$missing; \
	if [ "$$(id -u)" != 0 ]; then \
	    echo "deps: not root; install them with:"; \
	    echo "  sudo apt-get install -y" $$missing; exit 1; \
	fi; \
	echo "deps: installing:" $$missing; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq $$missing >/dev/null || \
	    { echo "deps: apt-get install failed; run: apt-get install -y" $$missing; exit 1; }

run: deps
	@$(MAKE) --no-print-directory iso
	@echo "make run: booting build/keel.iso in QEMU (TCG, -smp 2, 512 MiB) with the VMs of iso/manifest.ini."
	@echo "make run: the serial console is this terminal; quit with Ctrl-A then X."
	$(QEMU) $(RUN_QEMU_FLAGS) -cdrom $(BUILD)/keel.iso

-include tests/partitions/partitions.mk
-include user/user.mk
-include user/init/init.mk
-include guest-loader/vmm.mk
-include tests/guests/mb_guests.mk
-include tests/unit/unit.mk
-include tests/fuzz/fuzz.mk

RING3_PROGRAMS := test-partitions user-programs init vmm mb-guests mb-vms-iso smp-vms-iso
boot-tests: $(BUILD)/keel.elf $(BUILD)/keel.iso $(TEST_ISOS) $(RING3_PROGRAMS)
	@mkdir -p $(BUILD)/test-results
	-python3 tests/boot/boot_tests.py --build-dir $(BUILD)

# The whole suite. Each part records PASS/FAIL lines in build/test-results/;
# the summary prints "N passed, M failed" and fails if anything failed.
test: deps
	@rm -rf $(BUILD)/test-results && mkdir -p $(BUILD)/test-results
	@$(MAKE) --no-print-directory all iso $(TEST_ISOS) $(RING3_PROGRAMS)
	-@$(MAKE) --no-print-directory unit-tests
	-@$(MAKE) --no-print-directory fuzz-smoke
	-@$(MAKE) --no-print-directory boot-tests
	@python3 tests/summary.py $(BUILD)/test-results

# Exit-path cost in instructions (QEMU -icount, Bochs): figures, not a test.
bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/keel-bench.iso init vmm mb-guests
	python3 tests/bench/run_bench.py --build-dir $(BUILD)

FORMAT_FILES := $(shell git ls-files '*.c' '*.h' 2>/dev/null)
lint:
	@echo "lint: clang-format"
	@clang-format --dry-run --Werror $(FORMAT_FILES)
	@echo "lint: cppcheck"
	@cppcheck --quiet --enable=warning,style,performance,portability --error-exitcode=1 \
	    --inline-suppr --suppress=missingIncludeSystem -Ikernel -Iinclude -Iuser/lib \
	    --suppress=redundantAssignment:tests/unit/test_vlapic.c \
	    kernel user guest-loader tests/unit tests/fuzz
	@echo "lint: build with -Wall -Wextra -Werror"
	@$(MAKE) --no-print-directory all

format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
