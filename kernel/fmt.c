/* Bounded printf-style formatting (see fmt.h). Pure logic, host-tested. */
#include <stdbool.h>
#include <stdint.h>

#include "fmt.h"

struct fmt_out {
    char *buf;
    size_t size;
    size_t len; /* characters produced so far, stored or not */
};

struct fmt_spec {
    bool left;
    bool zero;
    bool plus;
    bool space;
    bool alt;
    int width;
    int precision; /* -1 when absent */
    int length;    /* 0 int, 1 long, 2 long long / size_t / intmax_t, -1 short, -2 char */
};

static void out_char(struct fmt_out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void out_pad(struct fmt_out *o, char c, int count)
{
    while (count-- > 0)
        out_char(o, c);
}

static void out_string(struct fmt_out *o, const struct fmt_spec *s, const char *str)
{
    if (!str)
        str = "(null)";
    int n = 0;
    while ((s->precision < 0 || n < s->precision) && str[n])
        n++;
    if (!s->left)
        out_pad(o, ' ', s->width - n);
    for (int i = 0; i < n; i++)
        out_char(o, str[i]);
    if (s->left)
        out_pad(o, ' ', s->width - n);
}

static void out_number(struct fmt_out *o, const struct fmt_spec *s, uint64_t value, bool negative,
                       unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[value % base];
        value /= base;
    } while (value);
    if (s->precision == 0 && n == 1 && tmp[0] == '0')
        n = 0;

    char sign = negative ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
    const char *prefix = "";
    if (s->alt && base == 16)
        prefix = upper ? "0X" : "0x";
    else if (s->alt && base == 8)
        prefix = "0";
    int prefix_len = (int)(prefix[0] ? (prefix[1] ? 2 : 1) : 0);
    int zeros = s->precision > n ? s->precision - n : 0;
    int total = n + zeros + prefix_len + (sign ? 1 : 0);

    if (s->zero && !s->left && s->precision < 0 && s->width > total) {
        zeros += s->width - total;
        total = s->width;
    }
    if (!s->left)
        out_pad(o, ' ', s->width - total);
    if (sign)
        out_char(o, sign);
    for (int i = 0; i < prefix_len; i++)
        out_char(o, prefix[i]);
    out_pad(o, '0', zeros);
    while (n > 0)
        out_char(o, tmp[--n]);
    if (s->left)
        out_pad(o, ' ', s->width - total);
}

static const char *parse_spec(const char *f, struct fmt_spec *s, va_list *ap)
{
    *s = (struct fmt_spec){.precision = -1};
    for (;; f++) {
        if (*f == '-')
            s->left = true;
        else if (*f == '0')
            s->zero = true;
        else if (*f == '+')
            s->plus = true;
        else if (*f == ' ')
            s->space = true;
        else if (*f == '#')
            s->alt = true;
        else
            break;
    }
    if (*f == '*') {
        s->width = va_arg(*ap, int);
        if (s->width < 0) {
            s->left = true;
            s->width = -s->width;
        }
        f++;
    }
    while (*f >= '0' && *f <= '9' && s->width < 10000)
        s->width = s->width * 10 + (*f++ - '0');
    if (*f == '.') {
        f++;
        s->precision = 0;
        if (*f == '*') {
            s->precision = va_arg(*ap, int);
            f++;
        }
        while (*f >= '0' && *f <= '9' && s->precision < 10000)
            s->precision = s->precision * 10 + (*f++ - '0');
    }
    for (;; f++) {
        if (*f == 'l')
            s->length++;
        else if (*f == 'h')
            s->length--;
        else if (*f == 'z' || *f == 't' || *f == 'j')
            s->length = 2;
        else
            break;
    }
    return f;
}

static uint64_t fetch_unsigned(const struct fmt_spec *s, va_list *ap)
{
    if (s->length >= 1)
        return s->length == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned long long);
    unsigned v = va_arg(*ap, unsigned);
    return s->length == -1 ? (uint16_t)v : s->length <= -2 ? (uint8_t)v : v;
}

static int64_t fetch_signed(const struct fmt_spec *s, va_list *ap)
{
    if (s->length >= 1)
        return s->length == 1 ? va_arg(*ap, long) : va_arg(*ap, long long);
    int v = va_arg(*ap, int);
    return s->length == -1 ? (int16_t)v : s->length <= -2 ? (int8_t)v : v;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct fmt_out o = {.buf = buf, .size = size, .len = 0};
    va_list ap;
    va_copy(ap, ap_in);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            out_char(&o, *f);
            continue;
        }
        struct fmt_spec s;
        f = parse_spec(f + 1, &s, &ap);
        switch (*f) {
        case 'd':
        case 'i': {
            int64_t v = fetch_signed(&s, &ap);
            out_number(&o, &s, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 10, false);
            break;
        }
        case 'u':
            out_number(&o, &s, fetch_unsigned(&s, &ap), false, 10, false);
            break;
        case 'x':
        case 'X':
            out_number(&o, &s, fetch_unsigned(&s, &ap), false, 16, *f == 'X');
            break;
        case 'o':
            out_number(&o, &s, fetch_unsigned(&s, &ap), false, 8, false);
            break;
        case 'p':
            s.alt = true;
            out_number(&o, &s, (uintptr_t)va_arg(ap, void *), false, 16, false);
            break;
        case 'c': {
            char one[2] = {(char)va_arg(ap, int), '\0'};
            s.precision = 1; /* one character, padded to the width */
            out_string(&o, &s, one);
            break;
        }
        case 's':
            out_string(&o, &s, va_arg(ap, const char *));
            break;
        case '%':
            out_char(&o, '%');
            break;
        case '\0':
            f--; /* a lone '%' at the end: stop at the terminator */
            break;
        default:
            out_char(&o, '%');
            out_char(&o, *f);
            break;
        }
    }
    va_end(ap);
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len > 0x7fffffff ? 0x7fffffff : (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
