# Test partitions written in assembly (tests/partitions/*.asm): each becomes
# $(BUILD)/partitions/<name>.elf, a static ELF64 linked at 0x401000 that the
# boot tests hand to Keel as its "init" module.

PARTITION_ASM  := $(wildcard tests/partitions/*.asm)
PARTITION_ELFS := $(patsubst tests/partitions/%.asm,$(or $(BUILD),build)/partitions/%.elf,$(PARTITION_ASM))

$(or $(BUILD),build)/partitions/%.elf: tests/partitions/%.asm
	@mkdir -p $(@D)
	$(or $(NASM),nasm) -f elf64 -Werror $< -o $(@:.elf=.o)
	$(or $(LD),ld) -nostdlib -static -z max-page-size=0x1000 -z noexecstack -Ttext=0x401000 \
	    -e _start $(@:.elf=.o) -o $@

.PHONY: test-partitions
test-partitions: $(PARTITION_ELFS)
