#!/usr/bin/env python3
"""Exit-path cost of each backend, in instructions (``make bench``).

Boots Keel with ``keel.test=bench``: the benchmark guest (tests/guests/
bench.asm) times 1000 CPUID and 1000 port-I/O round trips through the core
with RDTSC. Then boots the root partition with one VM whose guest
(tests/guests/mb_bench.asm) times 1000 port-I/O and 1000 MMIO round trips
through its ring-3 VMM (guest -> core -> VMM -> core -> guest).  Under QEMU ``-icount shift=0,sleep=off`` and Bochs ``clock:
sync=none`` the TSC counts instructions (DESIGN.md section 8), so the figures
are deterministic instruction counts.  Then the scheduler and the virtual
local APIC: the CPU shares of four CPU-bound one-vCPU VMs on two physical
CPUs (tests/manifests/shares.ini, mb_spin: each VM's loop iterations, its
share of the total and the spread max/min), and mb_ipibench
(tests/manifests/ipibench.ini): TSC ticks for an IPI from one vCPU to
another and back, and from a TSC-deadline expiry to the guest's handler.
Prints tables; not a test.
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
SHARES_MODULES = [("init.elf", "init"), ("vmm.elf", "vmm"), ("mb-guests/shares.ini", "manifest"),
                  ("mb-guests/mb_spin.bin", "mb_spin")]
SPIN_RE = re.compile(r"(\w+): mb_spin: cpu 0 (\d+) iterations in (\d+) ms")
IPI_MODULES = [("init.elf", "init"), ("vmm.elf", "vmm"), ("mb-guests/ipibench.ini", "manifest"),
               ("mb-guests/mb_ipibench.bin", "mb_ipibench")]
IPI_RE = re.compile(r"bench-ipi: one-way (\d+), round-trip (\d+)")
TIMER_RE = re.compile(r"bench-timer: expiry-to-handler (\d+), from HLT (\d+)")
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


def run_qemu_vms(build: Path, logs: Path, modules, name: str = "bench-vmm-qemu", smp: int = 1,
                 icount: bool = True):
    """VMs of a manifest (modules: init, the VMM, the manifest, the guests)
    under QEMU TCG (SVM), with instruction counting unless icount is False,
    until every VM is done."""
    log = logs / f"{name}.log"
    initrd = ",".join(f"{(build / f).resolve()} {mod}" for f, mod in modules)
    argv = harness.qemu_argv(log, smp=smp, memory="256M", kernel=build / "keel.elf",
                             append=b"console=com1", initrd=initrd)
    if icount:
        argv += ["-icount", "shift=0,sleep=off", "-rtc", "clock=vm"]
    return harness.run_until(argv, log, logs / f"{name}.out", done=VMS_DONE_RE,
                             fail=FAIL_RE, timeout=TIMEOUT)


def run_qemu_vmm(build: Path, logs: Path):
    """The ring-3 round trips under QEMU TCG (SVM) with instruction counting."""
    return run_qemu_vms(build, logs, VMM_MODULES)


def vmm_bench_iso(build: Path, modules=None, name: str = "bench-vmm") -> Path:
    """A GRUB ISO carrying Keel, the root partition, the VMM, a manifest and
    its guests (by default the bench VM)."""
    root = build / f"isodir-{name}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "boot" / "grub").mkdir(parents=True)
    shutil.copy(build / "keel.elf", root / "boot" / "keel.elf")
    lines = []
    for f, name_ in modules or VMM_MODULES:
        shutil.copy(build / f, root / "boot" / name_)
        lines.append(f"    module2 /boot/{name_} {name_}")
    (root / "boot" / "grub" / "grub.cfg").write_text(
        "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n"
        "set timeout=0\nmenuentry bench {\n    multiboot2 /boot/keel.elf console=com1\n"
        + "\n".join(lines) + "\n    boot\n}\n")
    iso = build / f"keel-{name}.iso"
    subprocess.run(["grub-mkrescue", "-o", str(iso), str(root)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def run_bochs_vmm(build: Path, logs: Path, model: str, iso: Path, name: str = "bench-vmm",
                  cpus: int = 1):
    """The VMs of an ISO (vmm_bench_iso) under Bochs."""
    log = logs / f"{name}-bochs-{model}.log"
    return harness.run_bochs(iso, log, logs / f"{name}-bochs-{model}", cpus=cpus,
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


def print_shares_table(build: Path, logs: Path) -> int:
    """CPU shares of the four spinning VMs of shares.ini on 2 CPUs: under
    Bochs, whose time is its instruction count (deterministic), and under
    QEMU in real time. Not QEMU -icount: with two vCPUs its round-robin
    execution delivers a halted vCPU's timer interrupts late (measured here:
    one CPU slept for seconds with runnable threads queued), which is QEMU's
    artefact, not the scheduler's."""
    iso = vmm_bench_iso(build, SHARES_MODULES, "bench-shares")
    runs = [("bochs corei7_skylake_x (vmx)",
             lambda: run_bochs_vmm(build, logs, "corei7_skylake_x", iso, "bench-shares", cpus=2)),
            ("qemu -cpu max (svm), real time",
             lambda: run_qemu_vms(build, logs, SHARES_MODULES, "bench-shares-qemu", smp=2,
                                  icount=False))]
    status = 0
    for title, run in runs:
        result = run()
        spins = {vm: (int(n), int(ms)) for vm, n, ms in SPIN_RE.findall(result.text)}
        print()
        print(f"CPU shares: 4 one-vCPU VMs spinning on 2 CPUs, {title}")
        if len(spins) != 4:
            print(f"no result ({result.status}, {len(spins)} of 4 VMs reported; "
                  "see build/test-logs/bench-shares-*.log)")
            status = 1
            continue
        total = sum(n for n, _ in spins.values())
        print(f"{'vm':<10} {'iterations':>14} {'in ms':>7} {'share':>8}")
        for vm, (n, ms) in sorted(spins.items()):
            print(f"{vm:<10} {n:>14} {ms:>7} {100 * n / total:>7.1f}%")
        counts = [n for n, _ in spins.values()]
        print(f"{'spread (max/min)':<33} {max(counts) / max(1, min(counts)):>7.2f}")
    return status


def print_ipi_table(build: Path, logs: Path) -> int:
    """IPI and timer-interrupt latency of mb_ipibench (2 vCPUs), per emulator."""
    iso = vmm_bench_iso(build, IPI_MODULES, "bench-ipi")
    runs = [("qemu -icount, -cpu max", lambda: run_qemu_vms(build, logs, IPI_MODULES,
                                                            "bench-ipi-qemu", smp=2)),
            ("bochs corei7_skylake_x", lambda: run_bochs_vmm(build, logs, "corei7_skylake_x", iso,
                                                             "bench-ipi", cpus=2))]
    print()
    print(f"{'emulator':<26} {'backend':<8} {'ipi one-way':>12} {'ipi round':>10} "
          f"{'timer':>7} {'timer hlt':>10}")
    print(f"{'':<26} {'':<8} {'(TSC ticks: instructions; timer = expiry to handler)':>40}")
    status = 0
    for name, run in runs:
        result = run()
        ipi, timer = IPI_RE.search(result.text), TIMER_RE.search(result.text)
        v = VIRT_RE.search(result.text)
        if ipi is None or timer is None:
            print(f"{name:<26} no result ({result.status}; see build/test-logs/)")
            status = 1
            continue
        print(f"{name:<26} {v.group(1) if v else '?':<8} {int(ipi.group(1)):>12} "
              f"{int(ipi.group(2)):>10} {int(timer.group(1)):>7} {int(timer.group(2)):>10}")
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
    status |= print_vmm_table(args.build_dir, logs)
    status |= print_shares_table(args.build_dir, logs)
    return status | print_ipi_table(args.build_dir, logs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
