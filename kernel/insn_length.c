/* Prefix-skipping length of a known instruction (see insn_length.h). */
#include "insn_length.h"
#include "kstring.h"

#define MAX_INSN_LENGTH 15 /* SDM Vol. 2A 2.3.11 */

static bool legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0xf0: /* LOCK */
    case 0xf2: /* REPNE */
    case 0xf3: /* REP */
    case 0x2e: /* CS */
    case 0x36: /* SS */
    case 0x3e: /* DS */
    case 0x26: /* ES */
    case 0x64: /* FS */
    case 0x65: /* GS */
    case 0x66: /* operand size */
    case 0x67: /* address size */
        return true;
    default:
        return false;
    }
}

unsigned insn_length_of(const uint8_t *bytes, size_t n, bool long_mode, const uint8_t *opcode,
                        unsigned opcode_len)
{
    size_t i = 0;
    while (i < n && i < MAX_INSN_LENGTH && legacy_prefix(bytes[i]))
        i++;
    if (long_mode && i < n && (bytes[i] & 0xf0) == 0x40)
        i++; /* REX must come last, right before the opcode */
    if (opcode_len == 0 || i + opcode_len > n || i + opcode_len > MAX_INSN_LENGTH)
        return 0;
    if (memcmp(bytes + i, opcode, opcode_len) != 0)
        return 0;
    return (unsigned)(i + opcode_len);
}
