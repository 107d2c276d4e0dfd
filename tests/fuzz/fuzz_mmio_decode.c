/*
 * libFuzzer target: the MMIO instruction decoder (kernel/mmio_decode.c).
 * Input: a mode byte (bits 1:0: 0 16-bit code, 1 32-bit code, 2 or 3 64-bit
 * code), then the instruction bytes, which end exactly where libFuzzer's
 * buffer ends, so AddressSanitizer catches a read past avail.
 * Invariants: a result is an error or a length of 1..min(15, avail); the
 * decode depends on no byte past that length, and any shorter input is
 * TRUNCATED; the fields are in range; the load/store helpers touch only the
 * bits of the operand.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"
#include "mmio_decode.h"

static bool valid_size(unsigned s)
{
    return s == 1 || s == 2 || s == 4 || s == 8;
}

static uint64_t mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void check_fields(const struct mmio_insn *d, int r, size_t avail, bool long_mode)
{
    REQUIRE(r >= 1 && r <= MMIO_MAX_INSN_LEN && (size_t)r <= avail && d->length == r);
    REQUIRE(valid_size(d->size) && valid_size(d->reg_size) && d->reg_size >= d->size);
    REQUIRE(d->reg <= (long_mode ? 15 : 7));
    REQUIRE(!d->high_byte || (d->reg <= 3 && d->size == 1 && d->reg_size == 1));
    REQUIRE(d->src == MMIO_SRC_REG || d->src == MMIO_SRC_IMM);
    REQUIRE(d->src == MMIO_SRC_REG || (d->write && d->reg == 0 && !d->high_byte));
    REQUIRE((d->imm & ~mask_of(d->size)) == 0 || d->size == 8);
    REQUIRE(d->src == MMIO_SRC_IMM || d->imm == 0);
    if (d->zero_extend_from) {
        REQUIRE(d->zero_extend_from == d->size && d->size <= 2 && d->reg_size >= 2 && !d->write);
    } else {
        REQUIRE(d->reg_size == d->size);
    }
}

/* Field by field: the padding of the structures is not compared. */
static bool same_insn(const struct mmio_insn *a, const struct mmio_insn *b)
{
    return a->length == b->length && a->size == b->size && a->reg_size == b->reg_size &&
           a->write == b->write && a->src == b->src && a->reg == b->reg &&
           a->high_byte == b->high_byte && a->imm == b->imm &&
           a->zero_extend_from == b->zero_extend_from;
}

/* The helpers change only the operand's bits of the register. */
static void check_helpers(const struct mmio_insn *d, uint64_t old, uint64_t value)
{
    uint64_t stored = mmio_store_value(d, old);
    REQUIRE((stored & ~mask_of(d->size)) == 0);
    uint64_t merged = mmio_merge_load(d, old, value);
    if (d->write) {
        REQUIRE(merged == old);
        return;
    }
    uint64_t v = value & mask_of(d->size);
    if (d->high_byte)
        REQUIRE(merged == ((old & ~0xff00ull) | (v << 8)));
    else if (d->reg_size >= 4)
        REQUIRE(merged == v);
    else
        REQUIRE((merged & ~mask_of(d->reg_size)) == (old & ~mask_of(d->reg_size)) &&
                (merged & mask_of(d->reg_size)) == v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool long_mode = data[0] & 2, default_32 = data[0] & 1;
    const uint8_t *bytes = data + 1;
    size_t avail = size - 1;
    struct mmio_insn d, again;
    int r = mmio_decode(bytes, avail, long_mode, default_32, &d);
    if (r < 0) {
        REQUIRE(r >= MMIO_DECODE_BAD_PREFIX && r <= MMIO_DECODE_TRUNCATED);
        /* Only an input shorter than 15 bytes can be cut short. */
        REQUIRE(r != MMIO_DECODE_TRUNCATED || avail < MMIO_MAX_INSN_LEN);
        return 0;
    }
    check_fields(&d, r, avail, long_mode);
    REQUIRE(mmio_decode(bytes, (size_t)r, long_mode, default_32, &again) == r);
    REQUIRE(same_insn(&d, &again));
    REQUIRE(mmio_decode(bytes, (size_t)r - 1, long_mode, default_32, &again) ==
            MMIO_DECODE_TRUNCATED);
    uint64_t old = 0x0123456789abcdefull ^ ((uint64_t)avail * 0x9e3779b97f4a7c15ull);
    check_helpers(&d, old, ~old);
    check_helpers(&d, ~old, old);
    return 0;
}
