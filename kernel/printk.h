/* The core's log: levelled lines on the console, each prefixed with the
 * uptime and the CPU number, never interleaved between CPUs. */
#ifndef KEEL_PRINTK_H
#define KEEL_PRINTK_H

#include <stdarg.h>

#define LOG_EMERG   0
#define LOG_CRIT    2
#define LOG_ERR     3
#define LOG_WARNING 4
#define LOG_NOTICE  5
#define LOG_INFO    6
#define LOG_DEBUG   7

void printk(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vprintk(int level, const char *fmt, va_list ap);

#define pr_emerg(...) printk(LOG_EMERG, __VA_ARGS__)
#define pr_err(...)   printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk(LOG_WARNING, __VA_ARGS__)
#define pr_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

void printk_set_loglevel(int level);

struct diag;
/* Prints each message a parser collected (they name their subsystem). */
void printk_diag(int level, const struct diag *d);

/* From now on the console lock is taken with a bounded wait (a stopped CPU
 * may hold it). Used by panic. */
void printk_enter_panic_mode(void);

#endif
