# The root partition (user/init/, docs/vmm.md): $(BUILD)/init.elf from every
# .c file of user/init (main, VM start and watch, the manifest parser).
# Needs user/user.mk; includes it when used alone, from the repo root:
#   make -f user/init/init.mk init

ifndef USER_PROGRAM
include user/user.mk
endif

$(eval $(call USER_PROGRAM,init,user/init))

.PHONY: init
init: $(BUILD)/init.elf
user-programs: $(BUILD)/init.elf
