/*
 * Host unit tests of kernel/mmio_decode.c. The table holds real encodings:
 * each was assembled with `nasm -f bin` (bits 16/32/64) and its length
 * cross-checked with `objdump -D -b binary -m i8086|i386|i386:x86-64`;
 * hand-written byte strings carry objdump's reading in their comment.
 */
#include "check.h"
#include "mmio_decode.h"

struct decode_case {
    int mode; /* 64: 64-bit code; 32: CS.D = 1; 16: CS.D = 0 */
    const char *bytes;
    size_t len;
    int result; /* 0: decodes to the fields below, with length len */
    uint8_t size, reg_size;
    bool write;
    enum mmio_src src;
    uint8_t reg;
    bool high_byte;
    uint64_t imm;
    uint8_t zero_extend_from;
};

/* The expected result: result, size, reg_size, write, src, reg, high_byte,
 * imm, zero_extend_from. */
#define ST(sz, r)          0, sz, sz, true, MMIO_SRC_REG, r, false, 0, 0
#define ST_HI(r)           0, 1, 1, true, MMIO_SRC_REG, r, true, 0, 0
#define ST_IMM(sz, i)      0, sz, sz, true, MMIO_SRC_IMM, 0, false, i, 0
#define LD(sz, r)          0, sz, sz, false, MMIO_SRC_REG, r, false, 0, 0
#define LD_HI(r)           0, 1, 1, false, MMIO_SRC_REG, r, true, 0, 0
#define MOVZX(from, to, r) 0, from, to, false, MMIO_SRC_REG, r, false, 0, from
#define ERR(e)             e, 0, 0, false, MMIO_SRC_REG, 0, false, 0, 0

static const struct decode_case cases[] = {
    {64, "\x88\x18", 2, ST(1, 3)},                         /* mov [rax], bl */
    {64, "\x88\x20", 2, ST_HI(0)},                         /* mov [rax], ah */
    {64, "\x40\x88\x20", 3, ST(1, 4)},                     /* mov [rax], spl */
    {64, "\x45\x88\x08", 3, ST(1, 9)},                     /* mov [r8], r9b */
    {64, "\x89\x84\x8b\x78\x56\x34\x12", 7, ST(4, 0)},     /* mov [rbx+rcx*4+0x12345678], eax */
    {64, "\x48\x89\x15\xf9\x00\x00\x00", 7, ST(8, 2)},     /* mov [rel $+0x100], rdx */
    {64, "\x89\x4d\x00", 3, ST(4, 1)},                     /* mov [rbp], ecx */
    {64, "\x41\x89\x4d\x00", 4, ST(4, 1)},                 /* mov [r13], ecx */
    {64, "\x41\x89\x0c\x24", 4, ST(4, 1)},                 /* mov [r12], ecx */
    {64, "\x66\x44\x89\x7c\x24\x08", 6, ST(2, 15)},        /* mov [rsp+8], r15w */
    {64, "\x89\x04\x25\x78\x56\x34\x12", 7, ST(4, 0)},     /* mov [abs dword 0x12345678], eax */
    {64, "\x89\x0c\x1d\x00\x01\x00\x00", 7, ST(4, 1)},     /* mov [nosplit rbx*1+0x100], ecx */
    {64, "\x45\x89\x44\x45\x00", 5, ST(4, 8)},             /* mov [r13+rax*2], r8d */
    {64, "\x41\x89\x04\x25\x78\x56\x34\x12", 8, ST(4, 0)}, /* REX.B, SIB base 5, mod 0: disp32 */
    {64, "\x8b\x06", 2, LD(4, 0)},                         /* mov eax, [rsi] */
    {64, "\x4c\x8b\x57\x10", 4, LD(8, 10)},                /* mov r10, [rdi+0x10] */
    {64, "\x66\x8b\x07", 3, LD(2, 0)},                     /* mov ax, [rdi] */
    {64, "\x8a\x0a", 2, LD(1, 1)},                         /* mov cl, [rdx] */
    {64, "\x8a\x3a", 2, LD_HI(3)},                         /* mov bh, [rdx] */
    {64, "\x40\x8a\x3a", 3, LD(1, 7)},                     /* mov dil, [rdx] */
    {64, "\x47\x8a\x7c\xff\x80", 5, LD(1, 15)},            /* mov r15b, [r15+r15*8-0x80] */
    {64, "\xc6\x00\x80", 3, ST_IMM(1, 0x80)},              /* mov byte [rax], 0x80 */
    {64, "\x66\xc7\x00\x34\x12", 5, ST_IMM(2, 0x1234)},    /* mov word [rax], 0x1234 */
    {64, "\xc7\x00\xef\xcd\xab\x89", 6, ST_IMM(4, 0x89abcdef)}, /* mov dword [rax], 0x89abcdef */
    /* mov qword [rax], -2 */
    {64, "\x48\xc7\x00\xfe\xff\xff\xff", 7, ST_IMM(8, 0xfffffffffffffffe)},
    /* mov qword [rax], 0x7fffffff */
    {64, "\x48\xc7\x00\xff\xff\xff\x7f", 7, ST_IMM(8, 0x7fffffff)},
    /* mov qword [rel $+0x40], -0x80000000 */
    {64, "\x48\xc7\x05\x35\x00\x00\x00\x00\x00\x00\x80", 11, ST_IMM(8, 0xffffffff80000000)},
    /* mov al, [qword 0x1122334455667788] */
    {64, "\xa0\x88\x77\x66\x55\x44\x33\x22\x11", 9, LD(1, 0)},
    /* mov eax, [qword 0x1122334455667788] */
    {64, "\xa1\x88\x77\x66\x55\x44\x33\x22\x11", 9, LD(4, 0)},
    /* mov [qword 0x1122334455667788], rax */
    {64, "\x48\xa3\x88\x77\x66\x55\x44\x33\x22\x11", 10, ST(8, 0)},
    /* mov [qword 0x1122334455667788], al */
    {64, "\xa2\x88\x77\x66\x55\x44\x33\x22\x11", 9, ST(1, 0)},
    {64, "\x67\xa1\x78\x56\x34\x12", 6, LD(4, 0)}, /* objdump: addr32 mov 0x12345678,%eax */
    /* objdump: movabs %ax,0x1122334455667788 */
    {64, "\x66\xa3\x88\x77\x66\x55\x44\x33\x22\x11", 10, ST(2, 0)},
    /* objdump: rex.B movabs %al,0x1122334455667788 */
    {64, "\x41\xa2\x88\x77\x66\x55\x44\x33\x22\x11", 10, ST(1, 0)},
    {64, "\x0f\xb6\x06", 3, MOVZX(1, 4, 0)},          /* movzx eax, byte [rsi] */
    {64, "\x4c\x0f\xb7\x5e\x04", 5, MOVZX(2, 8, 11)}, /* movzx r11, word [rsi+4] */
    {64, "\x66\x0f\xb6\x0e", 4, MOVZX(1, 2, 1)},      /* movzx cx, byte [rsi] */
    {64, "\x0f\xb6\x26", 3, MOVZX(1, 4, 4)},          /* movzx esp, byte [rsi] */
    {64, "\x64\x8b\x00", 3, LD(4, 0)},                /* mov eax, [fs:rax] */
    {64, "\x65\x89\x00", 3, ST(4, 0)},                /* mov [gs:rax], eax */
    {64, "\x2e\x3e\x26\x36\x89\x18", 6, ST(4, 3)},    /* objdump: cs ds es ss mov %ebx,(%rax) */
    {64, "\x67\x89\x18", 3, ST(4, 3)},                /* mov [eax], ebx */
    {64, "\x48\x66\x89\x18", 4, ST(2, 3)}, /* REX.W then 66: the REX is ignored (mov %bx,(%rax)) */
    {64, "\x66\x48\x89\x18", 4, ST(8, 3)}, /* 66 then REX.W: REX.W wins (data16 mov %rbx,(%rax)) */
    /* REX.WR then FS: the REX is ignored (mov %ebx,%fs:(%rax)) */
    {64, "\x4c\x64\x89\x18", 4, ST(4, 3)},
    {64, "\x40\x48\x89\x18", 4, ST(8, 3)}, /* two REX: the last one (W) counts (mov %rbx,(%rax)) */
    /* two REX: the last one (no W) counts (mov %ebx,(%rax)) */
    {64, "\x48\x40\x89\x18", 4, ST(4, 3)},
    /* 15 bytes: ds es cs ss movw $0xabcd,0x12345678(%r8,%r9,8) */
    {64, "\x3e\x26\x2e\x36\x66\x43\xc7\x84\xc8\x78\x56\x34\x12\xcd\xab", 15, ST_IMM(2, 0xabcd)},
    {64, "\xf0\x89\x18", 3, ERR(MMIO_DECODE_BAD_PREFIX)}, /* objdump: lock mov %ebx,(%rax) */
    {64, "\xf3\x89\x18", 3, ERR(MMIO_DECODE_BAD_PREFIX)}, /* objdump: xrelease mov %ebx,(%rax) */
    {64, "\x66\xf2\x89\x18", 4, ERR(MMIO_DECODE_BAD_PREFIX)}, /* objdump: repnz mov %bx,(%rax) */
    {64, "\x89\xc3", 2, ERR(MMIO_DECODE_NOT_MEMORY)},         /* mov ebx, eax */
    {64, "\xc6\xc0\x01", 3, ERR(MMIO_DECODE_NOT_MEMORY)},     /* objdump: mov $0x1,%al */
    {64, "\xc7\xf8\x00\x00\x00\x00", 6, ERR(MMIO_DECODE_NOT_MEMORY)}, /* objdump: xbegin 0x6 */
    {64, "\x0f\xb6\xc0", 3, ERR(MMIO_DECODE_NOT_MEMORY)},             /* objdump: movzbl %al,%eax */
    {64, "\xc6\x08\x01", 3, ERR(MMIO_DECODE_UNSUPPORTED)},            /* C6 /1: not a MOV */
    {64, "\xc7\x48\x08\x01\x00\x00\x00", 7, ERR(MMIO_DECODE_UNSUPPORTED)}, /* C7 /1: not a MOV */
    {64, "\x01\x18", 2, ERR(MMIO_DECODE_UNSUPPORTED)},                     /* add [rax], ebx */
    {64, "\x0f\xbe\x06", 3, ERR(MMIO_DECODE_UNSUPPORTED)},     /* movsx eax, byte [rsi] */
    {64, "\x8d\x00", 2, ERR(MMIO_DECODE_UNSUPPORTED)},         /* lea eax, [rax] */
    {64, "\x0f\xc3\x00", 3, ERR(MMIO_DECODE_UNSUPPORTED)},     /* movnti [rax], eax */
    {64, "\xc5\xfe\x7f\x00", 4, ERR(MMIO_DECODE_UNSUPPORTED)}, /* vmovdqu [rax], ymm0 */
    /* 16 bytes: the 15-byte form above plus a GS prefix */
    {64, "\x3e\x26\x2e\x36\x65\x66\x43\xc7\x84\xc8\x78\x56\x34\x12\xcd\xab", 16,
     ERR(MMIO_DECODE_TOO_LONG)},
    /* 15 prefixes and no opcode */
    {64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66", 15,
     ERR(MMIO_DECODE_TOO_LONG)},
    /* 13 x 66 then mov [rax], bx: exactly 15 bytes */
    {64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x89\x18", 15, ST(2, 3)},
    {32, "\x89\x18", 2, ST(4, 3)},                     /* mov [eax], ebx */
    {32, "\x89\x4d\x10", 3, ST(4, 1)},                 /* mov [ebp+0x10], ecx */
    {32, "\x89\x15\x78\x56\x34\x12", 6, ST(4, 2)},     /* mov [0x12345678], edx */
    {32, "\x89\x04\x24", 3, ST(4, 0)},                 /* mov [esp], eax */
    {32, "\x89\x34\x9d\x00\x10\x00\x00", 7, ST(4, 6)}, /* mov [nosplit ebx*4+0x1000], esi */
    {32, "\x66\x8b\x01", 3, LD(2, 0)},                 /* mov ax, [ecx] */
    {32, "\x88\x20", 2, ST_HI(0)},                     /* mov [eax], ah */
    {32, "\x8a\x70\x7f", 3, LD_HI(2)},                 /* mov dh, [eax+0x7f] */
    {32, "\xa1\x34\x12\x00\x00", 5, LD(4, 0)},         /* mov eax, [0x1234] */
    {32, "\x67\xa1\x34\x12", 4, LD(4, 0)},             /* objdump: addr16 mov 0x1234,%eax */
    {32, "\x67\x89\x07", 3, ST(4, 0)},                 /* mov [bx], eax */
    {32, "\x67\x89\x06\x34\x12", 5, ST(4, 0)},         /* objdump: mov %eax,0x1234 */
    /* mov dword [0x12345678], 0xdeadbeef */
    {32, "\xc7\x05\x78\x56\x34\x12\xef\xbe\xad\xde", 10, ST_IMM(4, 0xdeadbeef)},
    /* mov word [0x12345678], 0xbeef */
    {32, "\x66\xc7\x05\x78\x56\x34\x12\xef\xbe", 9, ST_IMM(2, 0xbeef)},
    {32, "\x0f\xb7\x00", 3, MOVZX(2, 4, 0)},                /* movzx eax, word [eax] */
    {32, "\x0f\xb6\x7c\x4b\x11", 5, MOVZX(1, 4, 7)},        /* movzx edi, byte [ebx+ecx*2+0x11] */
    {32, "\x48\x89\x18", 3, ERR(MMIO_DECODE_UNSUPPORTED)},  /* objdump: dec %eax */
    {32, "\x40", 1, ERR(MMIO_DECODE_UNSUPPORTED)},          /* objdump: inc %eax */
    {16, "\x89\x07", 2, ST(2, 0)},                          /* mov [bx], ax */
    {16, "\x89\x46\x00", 3, ST(2, 0)},                      /* mov [bp], ax */
    {16, "\xa2\x34\x12", 3, ST(1, 0)},                      /* mov [0x1234], al */
    {16, "\x89\x88\x34\x12", 4, ST(2, 1)},                  /* mov [bx+si+0x1234], cx */
    {16, "\x66\x8b\x07", 3, LD(4, 0)},                      /* mov eax, [bx] */
    {16, "\x8a\x6d\xfd", 3, LD_HI(1)},                      /* mov ch, [di-3] */
    {16, "\x66\x67\x89\x00", 4, ST(4, 0)},                  /* mov [eax], eax */
    {16, "\x67\x89\x04\x24", 4, ST(2, 0)},                  /* mov [esp], ax */
    {16, "\x67\x89\x54\x2d\x10", 5, ST(2, 2)},              /* mov [ebp*2+0x10], dx */
    {16, "\x67\x89\x14\x6d\x10\x00\x00\x00", 8, ST(2, 2)},  /* mov [nosplit ebp*2+0x10], dx */
    {16, "\xa1\x34\x12", 3, LD(2, 0)},                      /* mov ax, [0x1234] */
    {16, "\x67\xa1\x78\x56\x34\x12", 6, LD(2, 0)},          /* objdump: addr32 mov 0x12345678,%ax */
    {16, "\xa2\x34\x12", 3, ST(1, 0)},                      /* mov [0x1234], al */
    {16, "\xa2\x34\x12", 3, ST(1, 0)},                      /* objdump: mov %al,0x1234 */
    {16, "\xc7\x06\x34\x12\x78\x56", 6, ST_IMM(2, 0x5678)}, /* mov word [0x1234], 0x5678 */
    /* mov dword [0x1234], 0x12345678 */
    {16, "\x66\xc7\x06\x34\x12\x78\x56\x34\x12", 9, ST_IMM(4, 0x12345678)},
    {16, "\xc6\x47\x05\xaa", 4, ST_IMM(1, 0xaa)},           /* mov byte [bx+5], 0xaa */
    {16, "\xc7\x82\x00\x40\xff\xff", 6, ST_IMM(2, 0xffff)}, /* mov word [bp+si+0x4000], 0xffff */
    {16, "\x0f\xb6\x07", 3, MOVZX(1, 2, 0)},                /* movzx ax, byte [bx] */
    {16, "\x66\x0f\xb6\x07", 4, MOVZX(1, 4, 0)},            /* movzx eax, byte [bx] */
    {16, "\x26\x88\x1d", 3, ST(1, 3)},                      /* mov [es:di], bl */
    {16, "\xf3\xa4", 2, ERR(MMIO_DECODE_BAD_PREFIX)},       /* rep movsb */
    {16, "\x89\xd8", 2, ERR(MMIO_DECODE_NOT_MEMORY)},       /* mov ax, bx */
    {16, "\x0f", 1, ERR(MMIO_DECODE_TRUNCATED)}, /* 0F alone: truncated two-byte opcode */
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Decodes from an exact-size heap copy, so ASan catches a read past avail. */
static int decode(int mode, const void *bytes, size_t avail, struct mmio_insn *out)
{
    uint8_t *copy = malloc(avail ? avail : 1);
    if (copy == NULL)
        abort();
    if (avail)
        memcpy(copy, bytes, avail);
    int r = mmio_decode(copy, avail, mode == 64, mode == 32, out);
    free(copy);
    return r;
}

static bool same_insn(const struct mmio_insn *a, const struct mmio_insn *b)
{
    return a->length == b->length && a->size == b->size && a->reg_size == b->reg_size &&
           a->write == b->write && a->src == b->src && a->reg == b->reg &&
           a->high_byte == b->high_byte && a->imm == b->imm &&
           a->zero_extend_from == b->zero_extend_from;
}

static void check_case(const struct decode_case *c, unsigned i)
{
    struct mmio_insn got;
    memset(&got, 0, sizeof(got));
    int r = decode(c->mode, c->bytes, c->len, &got);
    if (c->result != 0) {
        CHECK_MSG(r == c->result, "case %u (%d-bit): %d (%s), want %d", i, c->mode, r,
                  mmio_decode_strerror(r), c->result);
        return;
    }
    struct mmio_insn want = {
        .length = (uint8_t)c->len,
        .size = c->size,
        .reg_size = c->reg_size,
        .write = c->write,
        .src = c->src,
        .reg = c->reg,
        .high_byte = c->high_byte,
        .imm = c->imm,
        .zero_extend_from = c->zero_extend_from,
    };
    CHECK_MSG(r == (int)c->len, "case %u (%d-bit): returned %d (%s), want length %zu", i, c->mode,
              r, mmio_decode_strerror(r), c->len);
    CHECK_MSG(same_insn(&got, &want),
              "case %u: len %u size %u reg_size %u write %d src %d reg %u hi %d imm %#" PRIx64
              " zx %u",
              i, got.length, got.size, got.reg_size, got.write, got.src, got.reg, got.high_byte,
              got.imm, got.zero_extend_from);
}

static void table(void)
{
    for (unsigned i = 0; i < NCASES; i++)
        check_case(&cases[i], i);
}

/* Bytes after the instruction change nothing; any prefix of it is
 * TRUNCATED (never a different, shorter instruction). */
static void truncation_and_trailing_bytes(void)
{
    for (unsigned i = 0; i < NCASES; i++) {
        const struct decode_case *c = &cases[i];
        if (c->result != 0)
            continue;
        uint8_t buf[32];
        memset(buf, 0x66, sizeof(buf));
        memcpy(buf, c->bytes, c->len);
        struct mmio_insn a, b;
        int ra = decode(c->mode, buf, c->len, &a);
        int rb = decode(c->mode, buf, sizeof(buf), &b);
        CHECK_MSG(ra == rb && same_insn(&a, &b), "case %u: trailing bytes changed the result", i);
        for (size_t n = 0; n < c->len; n++) {
            int r = decode(c->mode, buf, n, &a);
            CHECK_MSG(r == MMIO_DECODE_TRUNCATED, "case %u cut to %zu bytes: %d", i, n, r);
        }
    }
}

static void output_untouched_on_error(void)
{
    static const uint8_t lock[] = {0xf0, 0x89, 0x18};
    struct mmio_insn d;
    memset(&d, 0xa5, sizeof(d));
    struct mmio_insn before = d;
    CHECK_EQ(decode(64, lock, sizeof(lock), &d), (uint64_t)(int64_t)MMIO_DECODE_BAD_PREFIX);
    CHECK(memcmp(&d, &before, sizeof(d)) == 0);
    CHECK_EQ(mmio_decode(NULL, 0, true, false, &d), (uint64_t)(int64_t)MMIO_DECODE_TRUNCATED);
    CHECK(memcmp(&d, &before, sizeof(d)) == 0);
}

static bool is_listed_opcode(unsigned op)
{
    return op == 0x88 || op == 0x89 || op == 0x8a || op == 0x8b || op == 0xc6 || op == 0xc7 ||
           (op >= 0xa0 && op <= 0xa3);
}

/* Every one-byte opcode (followed by ModRM 00, "[rax]", and zeros): only
 * the listed ones decode, LOCK/REP are refused, other prefixes lead to the
 * 00 opcode (ADD), which is refused. */
static void only_listed_opcodes(void)
{
    for (int mode = 16; mode <= 64; mode *= 2) {
        for (unsigned op = 0; op < 256; op++) {
            uint8_t buf[16] = {(uint8_t)op};
            struct mmio_insn d;
            int r = decode(mode, buf, sizeof(buf), &d);
            int want = is_listed_opcode(op)                     ? 1
                       : op == 0xf0 || op == 0xf2 || op == 0xf3 ? MMIO_DECODE_BAD_PREFIX
                                                                : MMIO_DECODE_UNSUPPORTED;
            CHECK_MSG(want > 0 ? r > 0 : r == want, "%d-bit opcode %02x: %d", mode, op, r);
        }
        for (unsigned op2 = 0; op2 < 256; op2++) {
            uint8_t buf[16] = {0x0f, (uint8_t)op2};
            struct mmio_insn d;
            int r = decode(mode, buf, sizeof(buf), &d);
            bool movzx = op2 == 0xb6 || op2 == 0xb7;
            CHECK_MSG(movzx ? r == 3 : r == MMIO_DECODE_UNSUPPORTED, "%d-bit 0f %02x: %d", mode,
                      op2, r);
        }
    }
}

/* Lengths of `89 modrm sib 11 22 33 44` for every memory ModRM (mod 0-2),
 * as objdump decodes them, with a SIB whose base is 0 or 5 (tables 2-1 to
 * 2-3). */
static const char modrm_len32_base0[] =
    "2222362222223622222236222222362222223622222236222222362222223622"
    "3333433333334333333343333333433333334333333343333333433333334333"
    "6666766666667666666676666666766666667666666676666666766666667666";
static const char modrm_len32_base5[] =
    "2222762222227622222276222222762222227622222276222222762222227622"
    "3333433333334333333343333333433333334333333343333333433333334333"
    "6666766666667666666676666666766666667666666676666666766666667666";
static const char modrm_len16[] =
    "2222224222222242222222422222224222222242222222422222224222222242"
    "3333333333333333333333333333333333333333333333333333333333333333"
    "4444444444444444444444444444444444444444444444444444444444444444";

/* One pass over all memory ModRMs; prefix 67 (when addr_prefix) switches
 * the address size, adding one byte. */
static void check_modrm_lengths(int mode, bool addr_prefix, const char *lengths, uint8_t sib)
{
    for (unsigned m = 0; m < 192; m++) {
        uint8_t buf[16] = {0x67, 0x89, (uint8_t)m, sib, 0x11, 0x22, 0x33, 0x44};
        const uint8_t *insn = addr_prefix ? buf : buf + 1;
        struct mmio_insn d;
        int r = decode(mode, insn, sizeof(buf) - 1, &d);
        int want = lengths[m] - '0' + addr_prefix;
        CHECK_MSG(r == want, "%d-bit%s modrm %02x sib %02x: %d, want %d", mode,
                  addr_prefix ? " a-prefix" : "", m, sib, r, want);
    }
    uint8_t reg_form[] = {0x67, 0x89, 0xc0};
    const uint8_t *insn = addr_prefix ? reg_form : reg_form + 1;
    struct mmio_insn d;
    for (unsigned m = 0xc0; m < 256; m++) {
        reg_form[2] = (uint8_t)m;
        CHECK_EQ(decode(mode, insn, sizeof(reg_form) - !addr_prefix, &d),
                 (uint64_t)(int64_t)MMIO_DECODE_NOT_MEMORY);
    }
}

static void modrm_sib_lengths(void)
{
    check_modrm_lengths(64, false, modrm_len32_base0, 0x20);
    check_modrm_lengths(64, false, modrm_len32_base5, 0x25);
    check_modrm_lengths(64, true, modrm_len32_base5, 0x25);
    check_modrm_lengths(64, false, modrm_len32_base5, 0x2d); /* index 5, base 5 */
    check_modrm_lengths(32, false, modrm_len32_base0, 0x20);
    check_modrm_lengths(32, false, modrm_len32_base5, 0x25);
    check_modrm_lengths(32, true, modrm_len16, 0x25);
    check_modrm_lengths(16, false, modrm_len16, 0x25);
    check_modrm_lengths(16, true, modrm_len32_base5, 0x25);
}

/* REX.B and REX.X change no length: r12 as rm needs a SIB, r13 as SIB base
 * with mod 0 means disp32, rm 5 with mod 0 stays RIP-relative. */
static void rex_b_x_lengths(void)
{
    static const struct {
        const char *bytes;
        size_t len;
    } forms[] = {
        {"\x41\x89\x04\x24", 4},                 /* mov [r12], eax */
        {"\x41\x89\x04\x25\x78\x56\x34\x12", 8}, /* mov [disp32], eax (base r13 slot) */
        {"\x43\x89\x04\x25\x78\x56\x34\x12", 8}, /* same, index r12 */
        {"\x41\x89\x05\x78\x56\x34\x12", 7},     /* mov [rip+disp32], eax */
        {"\x42\x89\x04\x20", 4},                 /* mov [rax+r12], eax */
    };
    for (unsigned i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct mmio_insn d;
        CHECK_EQ(decode(64, forms[i].bytes, forms[i].len, &d), forms[i].len);
        CHECK_EQ(d.reg, 0);
    }
}

static struct mmio_insn must_decode(int mode, const char *bytes, size_t len)
{
    struct mmio_insn d;
    memset(&d, 0, sizeof(d));
    int r = decode(mode, bytes, len, &d);
    CHECK_MSG(r == (int)len, "decoding %zu bytes: %d", len, r);
    return d;
}

#define OLD 0x1122334455667788ull

static void merge_load(void)
{
    struct mmio_insn d = must_decode(64, "\x8a\x0a", 2); /* mov cl, [rdx] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0xffffffffffffffab), 0x11223344556677abull);
    d = must_decode(64, "\x8a\x3a", 2); /* mov bh, [rdx] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0xab), 0x112233445566ab88ull);
    d = must_decode(64, "\x66\x8b\x07", 3); /* mov ax, [rdi] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0xffffabcd), 0x112233445566abcdull);
    d = must_decode(64, "\x8b\x06", 2); /* mov eax, [rsi] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0xffffffffdeadbeef), 0xdeadbeefull);
    d = must_decode(32, "\x8b\x06", 2); /* 32-bit code: zero-extended too (as KVM) */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0xdeadbeef), 0xdeadbeefull);
    d = must_decode(64, "\x4c\x8b\x57\x10", 4); /* mov r10, [rdi+0x10] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0x8000000000000001), 0x8000000000000001ull);
    d = must_decode(64, "\xa0\x88\x77\x66\x55\x44\x33\x22\x11", 9); /* mov al, [moffs] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0x5a), 0x112233445566775aull);
}

static void merge_movzx(void)
{
    struct mmio_insn d = must_decode(64, "\x66\x0f\xb6\x0e", 4); /* movzx cx, byte [rsi] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0xffffffff), 0x11223344556600ffull);
    d = must_decode(64, "\x0f\xb6\x06", 3); /* movzx eax, byte [rsi] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0x1ff), 0xffull);
    d = must_decode(64, "\x4c\x0f\xb7\x5e\x04", 5); /* movzx r11, word [rsi+4] */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0xffffbeef), 0xbeefull);
    d = must_decode(64, "\x88\x18", 2); /* a store: the register is unchanged */
    CHECK_EQ(mmio_merge_load(&d, OLD, 0), OLD);
}

static void store_value(void)
{
    struct mmio_insn d = must_decode(64, "\x88\x18", 2); /* mov [rax], bl */
    CHECK_EQ(mmio_store_value(&d, OLD), 0x88);
    d = must_decode(64, "\x88\x20", 2); /* mov [rax], ah */
    CHECK_EQ(mmio_store_value(&d, OLD), 0x77);
    d = must_decode(64, "\x40\x88\x20", 3); /* mov [rax], spl */
    CHECK_EQ(mmio_store_value(&d, OLD), 0x88);
    d = must_decode(64, "\x66\x44\x89\x7c\x24\x08", 6); /* mov [rsp+8], r15w */
    CHECK_EQ(mmio_store_value(&d, OLD), 0x7788);
    d = must_decode(64, "\x89\x18", 2); /* mov [rax], ebx */
    CHECK_EQ(mmio_store_value(&d, OLD), 0x55667788);
    d = must_decode(64, "\x48\x89\x18", 3); /* mov [rax], rbx */
    CHECK_EQ(mmio_store_value(&d, OLD), OLD);
    d = must_decode(64, "\x48\xc7\x00\xfe\xff\xff\xff", 7); /* mov qword [rax], -2 */
    CHECK_EQ(mmio_store_value(&d, OLD), 0xfffffffffffffffeull);
    d = must_decode(64, "\xc6\x00\x80", 3); /* mov byte [rax], 0x80 */
    CHECK_EQ(mmio_store_value(&d, OLD), 0x80);
    d = must_decode(16, "\xc7\x06\x34\x12\x78\x56", 6); /* mov word [0x1234], 0x5678 */
    CHECK_EQ(mmio_store_value(&d, OLD), 0x5678);
}

static void error_names(void)
{
    CHECK_STR(mmio_decode_strerror(MMIO_DECODE_TRUNCATED), "truncated");
    CHECK_STR(mmio_decode_strerror(MMIO_DECODE_TOO_LONG), "longer than 15 bytes");
    CHECK_STR(mmio_decode_strerror(MMIO_DECODE_UNSUPPORTED), "unsupported instruction");
    CHECK_STR(mmio_decode_strerror(MMIO_DECODE_NOT_MEMORY), "register operand, not memory");
    CHECK_STR(mmio_decode_strerror(MMIO_DECODE_BAD_PREFIX), "LOCK or REP prefix");
    CHECK_STR(mmio_decode_strerror(3), "ok");
    CHECK_STR(mmio_decode_strerror(-99), "unknown error");
}

int main(void)
{
    check_begin("mmio_decode");
    RUN(table);
    RUN(truncation_and_trailing_bytes);
    RUN(output_untouched_on_error);
    RUN(only_listed_opcodes);
    RUN(modrm_sib_lengths);
    RUN(rex_b_x_lengths);
    RUN(merge_load);
    RUN(merge_movzx);
    RUN(store_value);
    RUN(error_names);
    return check_finish();
}
