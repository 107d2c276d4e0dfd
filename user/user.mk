# Ring-3 code (DESIGN.md sections 1, 2): the runtime every partition links
# (user/lib/ -> $(BUILD)/user/libkeel.a + crt0.o) and the partition programs.
# Included by the top-level Makefile; also works alone, from the repo root:
#   make -f user/user.mk              every program ($(USER_PROGRAMS))
#   make -f user/user.mk user-lib     the runtime only
# A program is every .c file of one source directory, linked with the
# runtime at KEEL_USER_IMAGE_BASE (user/lib/user.ld) into $(BUILD)/<name>.elf:
#   $(eval $(call USER_PROGRAM,<name>,<source directory>))

USER_MK := $(lastword $(MAKEFILE_LIST))

BUILD ?= build
NASM  ?= nasm
ifeq ($(origin CC),default)
CC := gcc
endif
ifeq ($(origin LD),default)
LD := ld
endif

# The core's flags, less -mcmodel=kernel: images live at 0x400000 (small model).
USER_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
    -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -O2 -g \
    -Wall -Wextra -Werror -Iuser/lib -Ikernel -Iinclude -MMD -MP
USER_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --fatal-warnings \
    -T user/lib/user.ld
USER_NASMFLAGS := -f elf64 -g -Werror

USER_OBJ := $(BUILD)/user/obj
USER_LIB := $(BUILD)/user/libkeel.a
USER_CRT0 := $(BUILD)/user/crt0.o
# The freestanding C sources of the core serve ring 3 too.
USER_LIB_SRCS := $(sort $(wildcard user/lib/*.c)) kernel/fmt.c kernel/string.c kernel/strutil.c
USER_LIB_OBJS := $(USER_LIB_SRCS:%.c=$(USER_OBJ)/%.o)
USER_PROGRAMS :=

.PHONY: user-programs user-lib
user-programs:
user-lib: $(USER_LIB) $(USER_CRT0)

$(USER_OBJ)/%.o: %.c $(USER_MK)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c $< -o $@

$(USER_CRT0): user/lib/crt0.asm $(USER_MK)
	@mkdir -p $(@D)
	$(NASM) $(USER_NASMFLAGS) $< -o $@

$(USER_LIB): $(USER_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# $(1): program name, $(2): its source directory.
define USER_PROGRAM
USER_OBJS_$(1) := $$(patsubst %.c,$$(USER_OBJ)/%.o,$$(sort $$(wildcard $(2)/*.c)))
$$(BUILD)/$(1).elf: $$(USER_CRT0) $$(USER_OBJS_$(1)) $$(USER_LIB) user/lib/user.ld
	$$(LD) $$(USER_LDFLAGS) -o $$@ $$(USER_CRT0) $$(USER_OBJS_$(1)) $$(USER_LIB)
USER_PROGRAMS += $$(BUILD)/$(1).elf
endef

$(eval $(call USER_PROGRAM,hello,tests/partitions/hello))

# The root partition's sources (the manifest parser, ...) are compiled for
# ring 3 here too, so a change that breaks them there shows even where
# user/init/init.mk (which links them into init.elf) is not included.
USER_INIT_OBJS := $(patsubst %.c,$(USER_OBJ)/%.o,$(sort $(wildcard user/init/*.c)))

user-programs: $(USER_PROGRAMS) $(USER_INIT_OBJS)

-include $(shell find $(USER_OBJ) -name '*.d' 2>/dev/null)
