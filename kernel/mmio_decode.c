/*
 * MMIO `mov` decoder (see mmio_decode.h). Sections and tables are of the
 * Intel SDM Vol. 2 unless said otherwise.
 */
#include "mmio_decode.h"

/* Legacy prefixes (2.1.1). */
#define PREFIX_OPSIZE   0x66
#define PREFIX_ADDRSIZE 0x67
#define PREFIX_LOCK     0xf0
#define PREFIX_REPNE    0xf2
#define PREFIX_REP      0xf3
#define PREFIX_ES       0x26
#define PREFIX_CS       0x2e
#define PREFIX_SS       0x36
#define PREFIX_DS       0x3e
#define PREFIX_FS       0x64
#define PREFIX_GS       0x65

/* REX (2.2.1): 0100WRXB, an opcode-adjacent prefix in 64-bit mode only. */
#define REX_MASK 0xf0
#define REX_BASE 0x40
#define REX_W    0x08
#define REX_R    0x04

/* Opcodes (MOV and MOVZX pages of chapter 4). */
#define OP_MOV_STORE8   0x88
#define OP_MOV_STORE    0x89
#define OP_MOV_LOAD8    0x8a
#define OP_MOV_LOAD     0x8b
#define OP_MOV_IMM8     0xc6
#define OP_MOV_IMM      0xc7
#define OP_MOV_AL_MOFFS 0xa0
#define OP_MOV_AX_MOFFS 0xa1
#define OP_MOV_MOFFS_AL 0xa2
#define OP_MOV_MOFFS_AX 0xa3
#define OP_TWO_BYTE     0x0f
#define OP2_MOVZX8      0xb6
#define OP2_MOVZX16     0xb7

/* ModRM (2.1.5, tables 2-1 and 2-2) and SIB (table 2-3) fields. */
#define MODRM_MOD(m)  ((m) >> 6)
#define MODRM_REG(m)  (7 & ((m) >> 3))
#define MODRM_RM(m)   (7 & (m))
#define SIB_BASE(s)   (7 & (s))
#define MOD_NO_DISP   0
#define MOD_DISP8     1
#define MOD_DISP_FULL 2
#define MOD_REGISTER  3
#define RM_SIB        4 /* 32/64-bit addressing: a SIB byte follows */
#define RM_DISP32     5 /* mod 0: disp32, RIP-relative in 64-bit mode */
#define RM16_DISP16   6 /* 16-bit addressing, mod 0: disp16 alone */
#define SIB_NO_BASE   5 /* mod 0: no base register, disp32 */

struct cursor {
    const uint8_t *bytes;
    size_t limit; /* min(avail, 15) */
    size_t pos;
};

struct prefixes {
    bool opsize, addrsize;
    uint8_t rex; /* 0: none */
    unsigned op_bytes, addr_bytes;
};

static int next_byte(struct cursor *c, uint8_t *b)
{
    if (c->pos >= c->limit)
        return c->pos >= MMIO_MAX_INSN_LEN ? MMIO_DECODE_TOO_LONG : MMIO_DECODE_TRUNCATED;
    *b = c->bytes[c->pos++];
    return 0;
}

/* Reads an n-byte little-endian field (n <= 8). */
static int take_le(struct cursor *c, unsigned n, uint64_t *v)
{
    *v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b;
        int err = next_byte(c, &b);
        if (err)
            return err;
        *v |= (uint64_t)b << (8 * i);
    }
    return 0;
}

/* Reads prefixes up to and including the opcode byte. A REX prefix counts
 * only when the opcode follows it directly (2.2.1). */
static int read_prefixes(struct cursor *c, bool long_mode, struct prefixes *p, uint8_t *opcode)
{
    for (;;) {
        uint8_t b;
        int err = next_byte(c, &b);
        if (err)
            return err;
        switch (b) {
        case PREFIX_LOCK:
        case PREFIX_REPNE:
        case PREFIX_REP:
            return MMIO_DECODE_BAD_PREFIX;
        case PREFIX_OPSIZE:
            p->opsize = true;
            p->rex = 0;
            continue;
        case PREFIX_ADDRSIZE:
            p->addrsize = true;
            p->rex = 0;
            continue;
        case PREFIX_ES:
        case PREFIX_CS:
        case PREFIX_SS:
        case PREFIX_DS:
        case PREFIX_FS:
        case PREFIX_GS:
            p->rex = 0;
            continue;
        default:
            break;
        }
        if (long_mode && (b & REX_MASK) == REX_BASE) {
            p->rex = b;
            continue;
        }
        *opcode = b;
        return 0;
    }
}

/* Operand and address sizes (2.2.1.2 and table 3-4 of Vol. 1): REX.W
 * beats 66; 66 and 67 toggle the default of the code segment. */
static void effective_sizes(struct prefixes *p, bool long_mode, bool default_32)
{
    bool wide = long_mode || default_32;
    if (p->rex & REX_W)
        p->op_bytes = 8;
    else
        p->op_bytes = wide != p->opsize ? 4 : 2;
    if (long_mode)
        p->addr_bytes = p->addrsize ? 4 : 8;
    else
        p->addr_bytes = default_32 != p->addrsize ? 4 : 2;
}

/* Bytes of displacement after a 16-bit ModRM (table 2-1). */
static unsigned disp_bytes16(uint8_t modrm)
{
    if (MODRM_MOD(modrm) == MOD_DISP8)
        return 1;
    if (MODRM_MOD(modrm) == MOD_DISP_FULL ||
        (MODRM_MOD(modrm) == MOD_NO_DISP && MODRM_RM(modrm) == RM16_DISP16))
        return 2;
    return 0;
}

/* Consumes a memory ModRM with its SIB and displacement; stores the reg
 * field (without REX.R). REX.B and REX.X change no length: r12 as rm still
 * takes a SIB, r13 as base with mod 0 still means disp32 (2.2.1.2). */
static int read_modrm(struct cursor *c, unsigned addr_bytes, uint8_t *reg_field)
{
    uint8_t modrm, sib;
    uint64_t disp;
    int err = next_byte(c, &modrm);
    if (err)
        return err;
    *reg_field = MODRM_REG(modrm);
    if (MODRM_MOD(modrm) == MOD_REGISTER)
        return MMIO_DECODE_NOT_MEMORY;
    if (addr_bytes == 2)
        return take_le(c, disp_bytes16(modrm), &disp);
    unsigned n = MODRM_MOD(modrm) == MOD_DISP8 ? 1 : MODRM_MOD(modrm) == MOD_DISP_FULL ? 4 : 0;
    if (MODRM_RM(modrm) == RM_SIB) {
        err = next_byte(c, &sib);
        if (err)
            return err;
        if (MODRM_MOD(modrm) == MOD_NO_DISP && SIB_BASE(sib) == SIB_NO_BASE)
            n = 4;
    } else if (MODRM_MOD(modrm) == MOD_NO_DISP && MODRM_RM(modrm) == RM_DISP32) {
        n = 4; /* disp32; RIP-relative in 64-bit mode (2.2.1.6) */
    }
    return take_le(c, n, &disp);
}

/* The register of a ModRM reg field: REX.R extends it; an 8-bit operand
 * without any REX names AH, CH, DH, BH for 4..7 (2.2.1.2, table 3-1). */
static void set_reg(struct mmio_insn *d, const struct prefixes *p, uint8_t field, bool byte_op)
{
    d->high_byte = byte_op && p->rex == 0 && field >= 4;
    d->reg = d->high_byte ? field - 4 : (uint8_t)(field | ((p->rex & REX_R) ? 8 : 0));
}

/* 88, 89, 8A, 8B: mov between a register and memory. */
static int decode_mov_modrm(struct cursor *c, const struct prefixes *p, uint8_t op,
                            struct mmio_insn *d)
{
    uint8_t field;
    int err = read_modrm(c, p->addr_bytes, &field);
    if (err)
        return err;
    bool byte_op = op == OP_MOV_STORE8 || op == OP_MOV_LOAD8;
    d->size = byte_op ? 1 : (uint8_t)p->op_bytes;
    d->write = op == OP_MOV_STORE8 || op == OP_MOV_STORE;
    d->src = MMIO_SRC_REG;
    set_reg(d, p, field, byte_op);
    return 0;
}

/* C6 /0 ib, C7 /0 iw or id (id sign-extended with REX.W). */
static int decode_mov_imm(struct cursor *c, const struct prefixes *p, uint8_t op,
                          struct mmio_insn *d)
{
    uint8_t field;
    uint64_t imm;
    int err = read_modrm(c, p->addr_bytes, &field);
    if (err)
        return err;
    if (field != 0)
        return MMIO_DECODE_UNSUPPORTED;
    d->size = op == OP_MOV_IMM8 ? 1 : (uint8_t)p->op_bytes;
    err = take_le(c, d->size > 4 ? 4 : d->size, &imm);
    if (err)
        return err;
    if (d->size == 8)
        imm = (uint64_t)(int64_t)(int32_t)(uint32_t)imm;
    d->write = true;
    d->src = MMIO_SRC_IMM;
    d->imm = imm;
    return 0;
}

/* A0-A3: AL/rAX to or from a moffs of the address size. */
static int decode_moffs(struct cursor *c, const struct prefixes *p, uint8_t op, struct mmio_insn *d)
{
    uint64_t moffs;
    int err = take_le(c, p->addr_bytes, &moffs);
    if (err)
        return err;
    bool byte_op = op == OP_MOV_AL_MOFFS || op == OP_MOV_MOFFS_AL;
    d->size = byte_op ? 1 : (uint8_t)p->op_bytes;
    d->write = op == OP_MOV_MOFFS_AL || op == OP_MOV_MOFFS_AX;
    d->src = MMIO_SRC_REG;
    d->reg = 0;
    return 0;
}

/* 0F B6 and 0F B7: movzx r16/32/64, m8/m16. */
static int decode_two_byte(struct cursor *c, const struct prefixes *p, struct mmio_insn *d)
{
    uint8_t op2, field;
    int err = next_byte(c, &op2);
    if (err)
        return err;
    if (op2 != OP2_MOVZX8 && op2 != OP2_MOVZX16)
        return MMIO_DECODE_UNSUPPORTED;
    err = read_modrm(c, p->addr_bytes, &field);
    if (err)
        return err;
    d->size = op2 == OP2_MOVZX8 ? 1 : 2;
    d->zero_extend_from = d->size;
    d->reg_size = (uint8_t)p->op_bytes;
    set_reg(d, p, field, false);
    return 0;
}

static int decode_opcode(struct cursor *c, const struct prefixes *p, uint8_t op,
                         struct mmio_insn *d)
{
    switch (op) {
    case OP_MOV_STORE8:
    case OP_MOV_STORE:
    case OP_MOV_LOAD8:
    case OP_MOV_LOAD:
        return decode_mov_modrm(c, p, op, d);
    case OP_MOV_IMM8:
    case OP_MOV_IMM:
        return decode_mov_imm(c, p, op, d);
    case OP_MOV_AL_MOFFS:
    case OP_MOV_AX_MOFFS:
    case OP_MOV_MOFFS_AL:
    case OP_MOV_MOFFS_AX:
        return decode_moffs(c, p, op, d);
    case OP_TWO_BYTE:
        return decode_two_byte(c, p, d);
    default:
        return MMIO_DECODE_UNSUPPORTED;
    }
}

int mmio_decode(const uint8_t *bytes, size_t avail, bool long_mode, bool default_32,
                struct mmio_insn *out)
{
    struct cursor c = {
        .bytes = bytes,
        .limit = avail < MMIO_MAX_INSN_LEN ? avail : MMIO_MAX_INSN_LEN,
    };
    struct prefixes p = {0};
    struct mmio_insn d = {0};
    uint8_t op;
    int err = read_prefixes(&c, long_mode, &p, &op);
    if (err)
        return err;
    effective_sizes(&p, long_mode, default_32);
    err = decode_opcode(&c, &p, op, &d);
    if (err)
        return err;
    if (d.reg_size == 0)
        d.reg_size = d.size;
    d.length = (uint8_t)c.pos;
    *out = d;
    return (int)c.pos;
}

const char *mmio_decode_strerror(int err)
{
    switch (err) {
    case MMIO_DECODE_TRUNCATED:
        return "truncated";
    case MMIO_DECODE_TOO_LONG:
        return "longer than 15 bytes";
    case MMIO_DECODE_UNSUPPORTED:
        return "unsupported instruction";
    case MMIO_DECODE_NOT_MEMORY:
        return "register operand, not memory";
    case MMIO_DECODE_BAD_PREFIX:
        return "LOCK or REP prefix";
    default:
        return err > 0 ? "ok" : "unknown error";
    }
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t mmio_merge_load(const struct mmio_insn *d, uint64_t old_reg, uint64_t value)
{
    uint64_t v = value & size_mask(d->size);
    if (d->write)
        return old_reg;
    if (d->high_byte)
        return (old_reg & ~0xff00ull) | (v << 8);
    if (d->reg_size >= 4)
        return v; /* 32-bit results zero bits 63:32 (Vol. 1, 3.4.1.1) */
    return (old_reg & ~size_mask(d->reg_size)) | v;
}

uint64_t mmio_store_value(const struct mmio_insn *d, uint64_t reg_value)
{
    uint64_t v = d->src == MMIO_SRC_IMM ? d->imm : reg_value;
    if (d->src == MMIO_SRC_REG && d->high_byte)
        v >>= 8;
    return v & size_mask(d->size);
}
