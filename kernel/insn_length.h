/*
 * Length of an intercepted instruction from its bytes, for CPUs that do not
 * report it (SVM without NRIP save, as QEMU TCG: DESIGN.md section 8). The
 * exit already says which instruction it was; this skips its legacy prefixes
 * (and a REX prefix in 64-bit mode) and checks that the opcode bytes are the
 * expected ones (SDM Vol. 2A 2.1: prefixes, 2.2.1: REX). Pure logic.
 */
#ifndef KEEL_INSN_LENGTH_H
#define KEEL_INSN_LENGTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns the instruction's length (prefixes + opcode), or 0 when bytes[0..n)
 * do not hold prefixes followed by opcode[0..opcode_len), or the result would
 * exceed 15 bytes. */
unsigned insn_length_of(const uint8_t *bytes, size_t n, bool long_mode, const uint8_t *opcode,
                        unsigned opcode_len);

#endif
