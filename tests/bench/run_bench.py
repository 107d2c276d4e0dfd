#!/usr/bin/env python3
"""Exit-path cost of each backend, in instructions (``make bench``).

Boots Keel with ``keel.test=bench``: the benchmark guest (tests/guests/
bench.asm) times 1000 CPUID and 1000 port-I/O round trips through the core
with RDTSC.  Under QEMU ``-icount shift=0,sleep=off`` and Bochs ``clock:
sync=none`` the TSC counts instructions (DESIGN.md section 8), so the figures
are deterministic instruction counts.  Prints a table; not a test.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "boot"))
import harness  # noqa: E402

BENCH_RE = re.compile(r"bench: (\w+): cpuid-exit (\d+), io-exit (\d+), loop-overhead (\d+)")
DONE_RE = re.compile(r"keel: powering off \(status \d+\)")
FAIL_RE = re.compile(r"PANIC|error:")
TIMEOUT = 600


def run_qemu(build: Path, logs: Path):
    """The benchmark under QEMU TCG (SVM) with instruction counting."""
    log = logs / "bench-qemu.log"
    argv = harness.qemu_argv(log, smp=1, memory="256M", kernel=build / "keel.elf",
                             append=b"console=com1 keel.test=bench")
    argv += ["-icount", "shift=0,sleep=off", "-rtc", "clock=vm"]
    return harness.run_until(argv, log, logs / "bench-qemu.out", done=DONE_RE, fail=FAIL_RE,
                             timeout=TIMEOUT)


def run_bochs(build: Path, logs: Path, model: str):
    """The benchmark under Bochs, whose TSC counts instructions."""
    log = logs / f"bench-bochs-{model}.log"
    return harness.run_bochs(build / "keel-bench.iso", log, logs / f"bench-bochs-{model}",
                             cpus=1, memory_mib=256, model=model, done=DONE_RE, fail=FAIL_RE,
                             timeout=TIMEOUT)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build", type=Path)
    args = parser.parse_args(argv)
    logs = args.build_dir / "test-logs"
    logs.mkdir(parents=True, exist_ok=True)
    runs = [("qemu -icount, -cpu max", lambda: run_qemu(args.build_dir, logs)),
            ("bochs corei7_skylake_x", lambda: run_bochs(args.build_dir, logs, "corei7_skylake_x")),
            ("bochs ryzen", lambda: run_bochs(args.build_dir, logs, "ryzen"))]
    print(f"{'emulator':<26} {'backend':<8} {'cpuid exit':>12} {'io exit':>12} {'loop':>6}")
    print(f"{'':<26} {'':<8} {'(instructions per round trip, loop overhead included)':>40}")
    status = 0
    for name, run in runs:
        result = run()
        m = BENCH_RE.search(result.text)
        if m is None:
            print(f"{name:<26} no result ({result.status}; see build/test-logs/)")
            status = 1
            continue
        backend, cpuid, io, loop = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
        print(f"{name:<26} {backend:<8} {cpuid:>12} {io:>12} {loop:>6}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
