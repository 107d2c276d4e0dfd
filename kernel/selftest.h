/* The virtualization self-test (keel.test=selftest) and benchmark
 * (keel.test=bench): test guests from tests/guests/ run in VMs on every CPU
 * at once; the result decides the emulator's exit status. */
#ifndef KEEL_SELFTEST_H
#define KEEL_SELFTEST_H

/* Runs every guest, prints "selftest: N passed, M failed", powers off. */
__attribute__((noreturn)) void selftest_run(void);

/* Runs the benchmark guest on this CPU, prints the figures, powers off. */
__attribute__((noreturn)) void bench_run(void);

#endif
