/*
 * Decoder of the simple MMIO `mov` forms the core emulates itself, since
 * QEMU TCG's SVM reports a nested page fault without instruction bytes or
 * decode assists (DESIGN.md section 8). The bytes come from guest memory and
 * are untrusted: the decoder reads none past `avail`, never more than 15, and
 * rejects everything it does not know rather than guess. Encodings: Intel
 * SDM Vol. 2, 2.1 (instruction format), 2.2.1 (REX), tables 2-1 to 2-3
 * (ModRM and SIB), and the MOV / MOVZX pages of chapter 4.
 *
 * Decoded (anything else is an error):
 *   88 /r       mov r/m8, r8             store, register source
 *   89 /r       mov r/m16/32/64, r       store, register source
 *   8A /r       mov r8, r/m8             load
 *   8B /r       mov r16/32/64, r/m       load
 *   C6 /0 ib    mov r/m8, imm8           store, immediate
 *   C7 /0 iw/id mov r/m16/32/64, imm     store; with REX.W, id sign-extended
 *   A0 / A1     mov AL / rAX, moffs      load; moffs is 2, 4 or 8 bytes by
 *   A2 / A3     mov moffs, AL / rAX      store  the address size
 *   0F B6 /r    movzx r16/32/64, r/m8    load, zero-extended
 *   0F B7 /r    movzx r16/32/64, r/m16   load, zero-extended
 * Prefixes: 66 (operand size), 67 (address size), REX (64-bit mode only, and
 * only right before the opcode), segment overrides 26 2E 36 3E 64 65
 * (accepted and ignored: the fault gives the guest-physical address). LOCK
 * (F0) and REP/REPNE (F2, F3) are refused. A ModRM with mod = 3 names a
 * register, not memory, and is refused.
 *
 * The decoder does not compute the effective address (the fault gives it),
 * nor check CPL, segment limits or alignment.
 */
#ifndef KEEL_MMIO_DECODE_H
#define KEEL_MMIO_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMIO_MAX_INSN_LEN 15 /* SDM Vol. 2, 2.3.11: longer raises #GP */

/* Errors of mmio_decode() (all negative). */
enum mmio_decode_error {
    MMIO_DECODE_TRUNCATED = -1,   /* the instruction runs past avail */
    MMIO_DECODE_TOO_LONG = -2,    /* it would be longer than 15 bytes */
    MMIO_DECODE_UNSUPPORTED = -3, /* not one of the forms listed above */
    MMIO_DECODE_NOT_MEMORY = -4,  /* ModRM mod = 3: a register operand */
    MMIO_DECODE_BAD_PREFIX = -5,  /* LOCK, REP or REPNE */
};

enum mmio_src {
    MMIO_SRC_REG, /* a store of register reg */
    MMIO_SRC_IMM, /* a store of imm */
};

/* General-purpose registers are numbered as in the encoding (SDM Vol. 2,
 * table 2-2 and 2.2.1.2): rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6,
 * rdi 7, r8 8 ... r15 15. */
struct mmio_insn {
    uint8_t length;           /* total instruction length, 1..15 */
    uint8_t size;             /* bytes accessed in memory: 1, 2, 4 or 8 */
    uint8_t reg_size;         /* register operand width: size, or 2/4/8 for movzx */
    bool write;               /* a store to memory (else a load into reg) */
    enum mmio_src src;        /* stores only */
    uint8_t reg;              /* register loaded or stored (src == MMIO_SRC_REG) */
    bool high_byte;           /* AH, CH, DH or BH: bits 15:8 of reg 0..3 (8-bit
                                 operand, no REX prefix, register field 4..7) */
    uint64_t imm;             /* immediate of C6/C7, already sized: imm8, imm16,
                                 imm32, or imm32 sign-extended to 64 bits */
    uint8_t zero_extend_from; /* movzx: the memory size (1 or 2); else 0 */
};

/*
 * Decodes the instruction at bytes[0..avail). long_mode: 64-bit mode (EFER.LMA
 * and CS.L); otherwise default_32 is CS.D (true: 32-bit code, false: 16-bit
 * code, including real and virtual-8086 mode). Returns the length (1..15,
 * also stored in out->length) or a negative enum mmio_decode_error; *out is
 * fully written on success only. Reads no byte at or past
 * min(avail, 15).
 */
int mmio_decode(const uint8_t *bytes, size_t avail, bool long_mode, bool default_32,
                struct mmio_insn *out);

/* A short name of an mmio_decode() result, for reports. */
const char *mmio_decode_strerror(int err);

/*
 * The new value of register d->reg after a load that read value from
 * memory (only its low d->size bytes count), given the register's old
 * value: an 8-bit load replaces bits 7:0 (or 15:8 for high_byte), a 16-bit
 * one bits 15:0; a 32-bit one zero-extends to 64 bits (SDM Vol. 1, 3.4.1.1,
 * as KVM does in every mode); movzx zero-extends the memory value to
 * reg_size first. For a store, returns old_reg.
 */
uint64_t mmio_merge_load(const struct mmio_insn *d, uint64_t old_reg, uint64_t value);

/* The d->size-byte value a store writes (in the low bytes), given the value
 * of register d->reg (ignored for an immediate). */
uint64_t mmio_store_value(const struct mmio_insn *d, uint64_t reg_value);

#endif
