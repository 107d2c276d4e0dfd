# The VMM (guest-loader/, docs/vmm.md): $(BUILD)/vmm.elf, the program every
# VMM partition runs, and $(BUILD)/vmm-test.elf, the same built with
# -DVMM_TEST_HOOKS (a port that makes it crash on purpose, for the boot
# tests; never shipped as the "vmm" module of a real system).
# Needs user/user.mk (its USER_PROGRAM macro and runtime); includes it when
# used alone, from the repo root:
#   make -f guest-loader/vmm.mk vmm

ifndef USER_PROGRAM
include user/user.mk
endif

VMM_MK := $(lastword $(MAKEFILE_LIST))

$(eval $(call USER_PROGRAM,vmm,guest-loader))

VMM_TEST_SRCS := $(sort $(wildcard guest-loader/*.c))
VMM_TEST_OBJS := $(VMM_TEST_SRCS:%.c=$(USER_OBJ)/vmm-test/%.o)

$(USER_OBJ)/vmm-test/%.o: %.c $(USER_MK) $(VMM_MK)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -DVMM_TEST_HOOKS -c $< -o $@

$(BUILD)/vmm-test.elf: $(USER_CRT0) $(VMM_TEST_OBJS) $(USER_LIB) user/lib/user.ld
	$(LD) $(USER_LDFLAGS) -o $@ $(USER_CRT0) $(VMM_TEST_OBJS) $(USER_LIB)

USER_PROGRAMS += $(BUILD)/vmm-test.elf

.PHONY: vmm
vmm: $(BUILD)/vmm.elf $(BUILD)/vmm-test.elf
user-programs: $(BUILD)/vmm.elf $(BUILD)/vmm-test.elf
