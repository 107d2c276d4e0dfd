/* Host tests of insn_length_of (kernel/insn_length.c). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "insn_length.h"

static const uint8_t CPUID[] = {0x0f, 0xa2};
static const uint8_t HLT[] = {0xf4};
static const uint8_t XSETBV[] = {0x0f, 0x01, 0xd1};

static void plain_opcodes(void)
{
    const uint8_t cpuid[] = {0x0f, 0xa2, 0x90};
    const uint8_t hlt[] = {0xf4};
    const uint8_t xsetbv[] = {0x0f, 0x01, 0xd1};
    CHECK(insn_length_of(cpuid, sizeof(cpuid), false, CPUID, 2) == 2);
    CHECK(insn_length_of(hlt, sizeof(hlt), true, HLT, 1) == 1);
    CHECK(insn_length_of(xsetbv, sizeof(xsetbv), true, XSETBV, 3) == 3);
}

static void prefixes(void)
{
    const uint8_t p66[] = {0x66, 0x0f, 0xa2};
    const uint8_t many[] = {0x2e, 0x3e, 0x66, 0x67, 0xf3, 0x0f, 0xa2};
    const uint8_t rex[] = {0x48, 0x0f, 0xa2};
    CHECK(insn_length_of(p66, sizeof(p66), false, CPUID, 2) == 3);
    CHECK(insn_length_of(many, sizeof(many), true, CPUID, 2) == 7);
    CHECK(insn_length_of(rex, sizeof(rex), true, CPUID, 2) == 3);
    /* Outside 64-bit mode 0x48 is DEC EAX, not a prefix. */
    CHECK(insn_length_of(rex, sizeof(rex), false, CPUID, 2) == 0);
}

static void mismatches_and_bounds(void)
{
    const uint8_t other[] = {0x0f, 0x0b};
    const uint8_t cut[] = {0x66, 0x0f};
    uint8_t fifteen[16];
    memset(fifteen, 0x66, sizeof(fifteen));
    fifteen[13] = 0x0f;
    fifteen[14] = 0xa2;
    CHECK(insn_length_of(other, sizeof(other), true, CPUID, 2) == 0);
    CHECK(insn_length_of(cut, sizeof(cut), true, CPUID, 2) == 0);
    CHECK(insn_length_of(fifteen, 15, true, CPUID, 2) == 15);
    fifteen[13] = 0x66;
    fifteen[14] = 0x0f;
    fifteen[15] = 0xa2;
    CHECK(insn_length_of(fifteen, 16, true, CPUID, 2) == 0); /* would be 16 bytes */
    CHECK(insn_length_of(other, 0, true, CPUID, 2) == 0);
}

int main(void)
{
    check_begin("insn_length");
    RUN(plain_opcodes);
    RUN(prefixes);
    RUN(mismatches_and_bounds);
    return check_finish();
}
