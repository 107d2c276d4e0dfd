#!/usr/bin/env python3
"""Exit-path cost of each backend, in instructions (``make bench``).

Boots Keel with ``keel.test=bench``: the benchmark guest (tests/guests/
bench.asm) times 1000 CPUID and 1000 port-I/O round trips through the core
with RDTSC. Then boots the root partition with one VM whose guest
(tests/guests/mb_bench.asm) times 1000 port-I/O and 1000 MMIO round trips
through its ring-3 VMM (guest -> core -> VMM -> core -> guest).  Under QEMU ``-icount shift=0,sleep=off`` and Bochs ``clock:
sync=none`` the TSC counts instructions (DESIGN.md section 8), so the figures
are deterministic instruction counts.  Prints a table; not a test.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "boot"))
import harness  # noqa: E402

BENCH_RE = re.compile(r"bench: (\w+): cpuid-exit (\d+), io-exit (\d+), loop-overhead (\d+)")
VMM_BENCH_RE = re.compile(r"bench-vmm: io-exit (\d+), mmio-exit (\d+), loop-overhead (\d+)")
VIRT_RE = re.compile(r"keel: virtualization: (\w+)")
VMS_DONE_RE = re.compile(r"keel: all VMs done")
VMM_MODULES = [("init.elf", "init"), ("vmm.elf", "vmm"), ("mb-guests/bench.ini", "manifest"),
               ("mb-guests/mb_bench.bin", "mb_bench")]
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


def run_qemu_vmm(build: Path, logs: Path):
    """The ring-3 round trips under QEMU TCG (SVM) with instruction counting."""
    log = logs / "bench-vmm-qemu.log"
    initrd = ",".join(f"{(build / f).resolve()} {name}" for f, name in VMM_MODULES)
    argv = harness.qemu_argv(log, smp=1, memory="256M", kernel=build / "keel.elf",
                             append=b"console=com1", initrd=initrd)
    argv += ["-icount", "shift=0,sleep=off", "-rtc", "clock=vm"]
    return harness.run_until(argv, log, logs / "bench-vmm-qemu.out", done=VMS_DONE_RE,
                             fail=FAIL_RE, timeout=TIMEOUT)


def vmm_bench_iso(build: Path) -> Path:
    """A GRUB ISO carrying Keel, the root partition, the VMM and the bench VM."""
    root = build / "isodir-bench-vmm"
    shutil.rmtree(root, ignore_errors=True)
    (root / "boot" / "grub").mkdir(parents=True)
    shutil.copy(build / "keel.elf", root / "boot" / "keel.elf")
    lines = []
    for f, name in VMM_MODULES:
        shutil.copy(build / f, root / "boot" / name)
        lines.append(f"    module2 /boot/{name} {name}")
    (root / "boot" / "grub" / "grub.cfg").write_text(
        "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n"
        "set timeout=0\nmenuentry bench {\n    multiboot2 /boot/keel.elf console=com1\n"
        + "\n".join(lines) + "\n    boot\n}\n")
    iso = build / "keel-bench-vmm.iso"
    subprocess.run(["grub-mkrescue", "-o", str(iso), str(root)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def run_bochs_vmm(build: Path, logs: Path, model: str, iso: Path):
    """The ring-3 round trips under Bochs."""
    log = logs / f"bench-vmm-bochs-{model}.log"
    return harness.run_bochs(iso, log, logs / f"bench-vmm-bochs-{model}", cpus=1,
                             memory_mib=256, model=model, done=VMS_DONE_RE, fail=FAIL_RE,
                             timeout=TIMEOUT)


def print_vmm_table(build: Path, logs: Path) -> int:
    """Ring-3 VMM round trips, per emulator."""
    iso = vmm_bench_iso(build)
    runs = [("qemu -icount, -cpu max", lambda: run_qemu_vmm(build, logs)),
            ("bochs corei7_skylake_x", lambda: run_bochs_vmm(build, logs, "corei7_skylake_x", iso)),
            ("bochs ryzen", lambda: run_bochs_vmm(build, logs, "ryzen", iso))]
    print()
    print(f"{'emulator':<26} {'backend':<8} {'io via VMM':>12} {'mmio via VMM':>13} {'loop':>6}")
    status = 0
    for name, run in runs:
        result = run()
        m = VMM_BENCH_RE.search(result.text)
        v = VIRT_RE.search(result.text)
        if m is None:
            print(f"{name:<26} no result ({result.status}; see build/test-logs/)")
            status = 1
            continue
        print(f"{name:<26} {v.group(1) if v else '?':<8} {int(m.group(1)):>12} "
              f"{int(m.group(2)):>13} {int(m.group(3)):>6}")
    return status


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
    return status | print_vmm_table(args.build_dir, logs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
