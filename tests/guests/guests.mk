# Keel's test guests (tests/guests/README.md): one 64 KiB flat image each,
# built from tests/guests/<name>.asm into build/guests/<name>.bin.
# Included by the top-level Makefile; also works alone, from the repo root:
#   make -f tests/guests/guests.mk guests         the images ($(GUEST_BINS))
#   make -f tests/guests/guests.mk guests-check   run them without Keel: bare
#       QEMU (-DBARE_METAL builds in build/guests/bare/) and the Unicorn model
#       of the platform (mock_platform.py); results in
#       build/test-results/guests.txt

GUESTS_MK       := $(lastword $(MAKEFILE_LIST))
GUEST_DIR       := tests/guests
GUEST_NAMES     := selftest triple_fault bench
GUEST_BUILD     ?= $(or $(BUILD),build)/guests
GUEST_RESULTS   ?= $(or $(BUILD),build)/test-results
GUEST_NASM      ?= $(or $(NASM),nasm)
GUEST_NASMFLAGS := -f bin -Werror -I $(GUEST_DIR)/
GUEST_SIZE      := 65536

GUEST_BINS      := $(GUEST_NAMES:%=$(GUEST_BUILD)/%.bin)
GUEST_BARE_BINS := $(GUEST_NAMES:%=$(GUEST_BUILD)/bare/%.bin)
GUEST_DEPS      := $(GUEST_DIR)/common.inc $(GUESTS_MK)

# nasm writes $@.tmp; it becomes $@ only if it is exactly GUEST_SIZE bytes.
GUEST_KEEP_IF_SIZED = size=$$(stat -c %s $@.tmp) && [ "$$size" -eq $(GUEST_SIZE) ] || \
    { echo "$@: image is $$size bytes, not $(GUEST_SIZE)"; rm -f $@.tmp; exit 1; }; \
    mv $@.tmp $@

$(GUEST_BUILD)/%.bin: $(GUEST_DIR)/%.asm $(GUEST_DEPS)
	@mkdir -p $(@D)
	$(GUEST_NASM) $(GUEST_NASMFLAGS) -o $@.tmp $<
	@$(GUEST_KEEP_IF_SIZED)

# The same with the hypervisor-only checks skipped, to run as QEMU's firmware.
$(GUEST_BUILD)/bare/%.bin: $(GUEST_DIR)/%.asm $(GUEST_DEPS)
	@mkdir -p $(@D)
	$(GUEST_NASM) $(GUEST_NASMFLAGS) -DBARE_METAL -o $@.tmp $<
	@$(GUEST_KEEP_IF_SIZED)

.PHONY: guests guests-check
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := guests
endif

guests: $(GUEST_BINS)

guests-check: $(GUEST_BINS) $(GUEST_BARE_BINS)
	python3 $(GUEST_DIR)/check_guests.py --build-dir $(GUEST_BUILD) --results $(GUEST_RESULTS)
