/* Strict number parsing (numparse.h). */
#include "numparse.h"

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

size_t parse_digits(const char *s, size_t len, unsigned base, uint64_t *value, bool *overflow)
{
    uint64_t v = 0;
    bool over = false;
    size_t i = 0;
    if (base >= 2 && base <= 36) {
        for (; i < len; i++) {
            int d = digit_value(s[i]);
            if (d >= (int)base)
                break;
            if (v > (UINT64_MAX - (uint64_t)d) / base)
                over = true;
            v = over ? UINT64_MAX : v * base + (uint64_t)d;
        }
    }
    *value = i == 0 ? 0 : v;
    *overflow = over;
    return i;
}

bool parse_u64(const char *s, size_t len, uint64_t *value)
{
    bool overflow;
    size_t used = parse_digits(s, len, 10, value, &overflow);
    return used > 0 && used == len && !overflow;
}

static unsigned suffix_shift(char c)
{
    switch (c) {
    case 'k':
    case 'K':
        return 10;
    case 'm':
    case 'M':
        return 20;
    case 'g':
    case 'G':
        return 30;
    case 't':
    case 'T':
        return 40;
    default:
        return 0;
    }
}

bool parse_size(const char *s, size_t len, uint64_t *bytes)
{
    uint64_t v;
    bool overflow;
    size_t used = parse_digits(s, len, 10, &v, &overflow);
    *bytes = 0;
    if (used == 0 || overflow)
        return false;
    unsigned shift = 0;
    if (used + 1 == len) {
        shift = suffix_shift(s[used]);
        if (shift == 0)
            return false;
    } else if (used != len) {
        return false;
    }
    if (v > (UINT64_MAX >> shift))
        return false;
    *bytes = v << shift;
    return true;
}

static bool is_list_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool parse_cpu_list(const char *s, size_t len, uint8_t cpus[CPU_LIST_MAX], unsigned *count)
{
    unsigned n = 0;
    size_t i = 0;
    *count = 0;
    for (;;) {
        while (i < len && is_list_blank(s[i]))
            i++;
        uint64_t cpu;
        bool overflow;
        size_t used = parse_digits(s + i, len - i, 10, &cpu, &overflow);
        if (used == 0 || overflow || cpu >= CPU_LIST_MAX || n == CPU_LIST_MAX)
            return false;
        cpus[n++] = (uint8_t)cpu;
        i += used;
        while (i < len && is_list_blank(s[i]))
            i++;
        if (i == len)
            break;
        if (s[i++] != ',')
            return false;
    }
    *count = n;
    return true;
}
