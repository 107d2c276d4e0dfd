#!/usr/bin/env python3
"""Integration boot tests: boot the real Keel image and read the serial log.

Usage: python3 tests/boot/boot_tests.py [--build-dir build] [--only SUBSTR]
                                        [--jobs 2] [--list]

Each case boots build/keel.iso or build/keel.elf under QEMU TCG or Bochs,
stops the emulator once the kernel printed its last expected line (or a
failure, or the time limit), then checks what was printed.  Results go to
build/test-results/boot.txt, one ``PASS boot.<case>`` or
``FAIL boot.<case>: <reason>`` line per case; serial logs stay in
build/test-logs/<case>.log.  Exit status is 1 if any case failed.
"""

import argparse
import concurrent.futures
import math
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Pattern, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402  (the sibling module, found through sys.path)

REPO_ROOT = Path(__file__).resolve().parents[2]

LINE_PREFIX = r"\[\s*\d+\.\d{6} c\d+\] "
"""Every kernel line starts with ``[<seconds>.<6 digits> c<cpu>] ``."""

REPORT_RE = re.compile(LINE_PREFIX + r"keel: (\d+) CPUs online, (\d+) MiB usable")
VIRT_RE = re.compile(LINE_PREFIX + r"keel: virtualization: (vmx \(|svm \(|none: )")
STOPPED_RE = re.compile(r"keel: all CPUs stopped")
BOOT_FAILURE_RE = re.compile(r"PANIC|error:")
WARNING_RE = re.compile(r"^.*warning:.*$", re.MULTILINE)

QEMU_TIMEOUT = 90
BOCHS_TIMEOUT = 300
BOCHS_MODEL = "corei7_skylake_x"
BOCHS_MEMORY_MIB = 256

Check = Callable[[str], Optional[str]]
"""Looks at the serial log; returns what is wrong, or None."""


@dataclass
class Paths:
    """Where the images are and where logs and results go."""

    build: Path

    @property
    def logs(self) -> Path:
        return self.build / "test-logs"

    @property
    def results(self) -> Path:
        return self.build / "test-results"


@dataclass
class Case:
    """One boot: which emulator and image, when to stop, what to check.

    For QEMU, smp and memory are ``-smp``/``-m``; append (bytes) selects a
    ``-kernel`` boot of keel.elf, otherwise the ISO boots; empty_module adds
    a zero-length ``-initrd`` module; modules lists every ``-initrd`` module
    and exit_code the status QEMU must end with.  For Bochs, smp is the CPU
    count and memory is in MiB.
    """

    name: str
    emulator: str
    smp: int
    memory: str
    checks: List[Check]
    append: Optional[bytes] = None
    empty_module: bool = False
    done: Pattern = VIRT_RE
    fail: Optional[Pattern] = BOOT_FAILURE_RE
    timeout: float = QEMU_TIMEOUT
    machine: str = "pc"
    cpu: str = "max"
    iso: str = "keel.iso"
    init_module: Optional[str] = None  # a file under the build dir, passed as the "init" module
    bochs_model: str = "corei7_skylake_x"
    # Boot modules as (file under the build dir, module name), in -initrd
    # order; when given, init_module is not used.
    modules: Optional[List[Tuple[str, str]]] = None
    # The emulator must end on its own with this exit status (a power-off
    # through isa-debug-exit); done should then be NEVER_RE.
    exit_code: Optional[int] = None

    @property
    def image(self) -> str:
        """The file booted: keel.elf through -kernel, else keel.iso."""
        return "keel.elf" if self.append is not None else self.iso


# ---------------------------------------------------------------- checks

def memory_mib(size: str) -> int:
    """Return a QEMU ``-m`` size such as ``64M`` or ``4G`` in MiB."""
    number, unit = int(size[:-1]), size[-1].upper()
    return number * {"M": 1, "G": 1024}[unit]


def usable_bounds(given_mib: int) -> "tuple[int, int]":
    """Return the (lowest, highest) usable MiB acceptable for given RAM.

    QEMU's pc machine with SeaBIOS reports all of -m as usable except the
    384 KiB hole at 0xA0000-0xFFFFF, 1 KiB of EBDA below it and 128 KiB at
    the top of low RAM (SeaBIOS's tables, ACPI included): 513 KiB in all,
    whatever the size.  With 4G, 1 GiB of it sits above 4 GiB (RAM below
    4 GiB stops at 3 GiB), so a kernel that misses high RAM falls far
    short.  Bochs's BIOS keeps 452 KiB.  The bound allows the larger of
    16 MiB and 5 % below the given size.
    """
    slack = max(16.0, given_mib * 0.05)
    return math.ceil(given_mib - slack), given_mib


def boot_report(cpus: int, given_mib: int) -> Check:
    """Check the report: exactly cpus CPUs, usable RAM within bounds,
    followed by the virtualization line."""
    low, high = usable_bounds(given_mib)

    def check(text: str) -> Optional[str]:
        report = REPORT_RE.search(text)
        if report is None:
            return "no 'keel: <N> CPUs online, <M> MiB usable' line"
        online, usable = int(report.group(1)), int(report.group(2))
        if online != cpus:
            return f"{online} CPUs online, expected {cpus}"
        if not low <= usable <= high:
            return f"{usable} MiB usable, expected {low}..{high} for {given_mib} MiB"
        virt = VIRT_RE.search(text)
        if virt is None or virt.start() < report.end():
            return "no 'keel: virtualization: ...' line after the report"
        return None
    return check


def virtualization(pattern: str) -> Check:
    """Check the 'keel: virtualization: ...' line matches pattern (the text
    after 'virtualization: ')."""
    regex = re.compile(pattern)

    def check(text: str) -> Optional[str]:
        m = re.search(r"keel: virtualization: (.*)", text)
        if m is None:
            return "no 'keel: virtualization:' line"
        if regex.search(m.group(1)) is None:
            return f"virtualization line '{m.group(1).strip()}' does not match /{pattern}/"
        return None
    return check


SVM_NPT = r"^svm \(.*npt 4-level 4k/2m/1g"
VMX_EPT_1G = r"^vmx \(.*ept 4-level 4k/2m/1g.*unrestricted-guest yes"


def no_warnings(text: str) -> Optional[str]:
    """Check that a boot with good input printed no warning."""
    warnings = WARNING_RE.findall(text)
    return f"unexpected warning: {warnings[0].strip()}" if warnings else None


def no_warnings_except(*allowed: str) -> Check:
    """Like no_warnings, but warnings matching one of the allowed patterns
    (case-insensitive) are expected on this machine and pass."""
    regexes = [re.compile(p, re.IGNORECASE) for p in allowed]

    def check(text: str) -> Optional[str]:
        for line in WARNING_RE.findall(text):
            if not any(r.search(line) for r in regexes):
                return f"unexpected warning: {line.strip()}"
        return None
    return check


def tsc_mhz_near(expected_mhz: float) -> Check:
    """Check the TSC frequency the core settled on is within 5% of expected."""
    def check(text: str) -> Optional[str]:
        m = re.search(r"time: TSC (\d+)\.(\d+) MHz", text)
        if m is None:
            return "no 'time: TSC ... MHz' line"
        mhz = int(m.group(1)) + int(m.group(2)) / 1000
        if abs(mhz - expected_mhz) > expected_mhz * 0.05:
            return f"TSC taken as {mhz} MHz, expected about {expected_mhz} MHz"
        return None
    return check


def calibrated_against(reference: str) -> Check:
    """Check the TSC was calibrated against the named reference timer."""
    def check(text: str) -> Optional[str]:
        m = re.search(r"time: TSC [\d.]+ MHz \(([^)]*)\)", text)
        if m is None:
            return "no 'time: TSC ... MHz (...)' line"
        if f"calibrated against the {reference}" not in m.group(1):
            return f"TSC source was '{m.group(1)}', expected the {reference}"
        return None
    return check


def warning_matching(pattern: str, naming: "tuple[str, ...]" = ()) -> Check:
    """Check that some warning line matches pattern (case-insensitive) and,
    if naming is given, also contains one of those strings."""
    regex = re.compile(pattern, re.IGNORECASE)

    def check(text: str) -> Optional[str]:
        warnings = WARNING_RE.findall(text)
        for line in warnings:
            if regex.search(line) and (not naming or any(n in line for n in naming)):
                return None
        wanted = f"/{pattern}/i" + (f" naming one of {naming}" if naming else "")
        seen = " | ".join(line.split("warning:", 1)[1].strip() for line in warnings[:4])
        return f"no warning matching {wanted} (warnings: {seen or 'none'})"
    return check


def fault_report(text: str) -> Optional[str]:
    """Check the report of the deliberate fault: vector, CR2, registers and
    backtrace before the PANIC line, and 'all CPUs stopped' after it."""
    panic = re.search(r"PANIC", text)
    if panic is None:
        return "no PANIC line"
    for pattern in (r"vector 14", r"CR2=", r"RIP=", r"backtrace:"):
        if re.search(pattern, text[:panic.start()]) is None:
            return f"no {pattern!r} before PANIC"
    if STOPPED_RE.search(text, panic.end()) is None:
        return "no 'keel: all CPUs stopped' after PANIC"
    return None


# ---------------------------------------------------------------- cases

GARBAGE_CMDLINE = (b"console=com1 \x01\x02\x1b[2J\x7f\xfe\xff frobnicate=1 "
                   b"loglevel=99 console=com7 =")
"""Control and high bytes, unknown and out-of-range options, a bare '='.
console=com1 comes first so the console stays on COM1."""

EMPTY_MODULE_FILE = "zero-length.mod"
EMPTY_MODULE_ARG = "blank"
"""The empty boot module is ``-initrd "<dir>/zero-length.mod blank"``; its
multiboot string is that whole text.  The warning must name the module by
its file or by its argument (which, unlike the word "empty", cannot match
by accident)."""


def iso_matrix() -> List[Case]:
    """The ISO under QEMU: -smp 1, 2, 4, 8 crossed with 64M, 512M, 4G."""
    return [Case(f"qemu-iso-smp{smp}-{mem}", "qemu", smp, mem,
                 [boot_report(smp, memory_mib(mem)), no_warnings, virtualization(SVM_NPT)])
            for smp in (1, 2, 4, 8) for mem in ("64M", "512M", "4G")]


def kernel_boots() -> List[Case]:
    """The same image through QEMU's multiboot1 ``-kernel`` loader."""
    return [Case(f"qemu-kernel-smp{smp}-{mem}", "qemu", smp, mem,
                 [boot_report(smp, memory_mib(mem)), no_warnings, virtualization(SVM_NPT)],
                 append=b"console=com1")
            for smp, mem in ((2, "512M"), (4, "4G"))]


def graceful_failures() -> List[Case]:
    """CPUs without usable virtualization: a clear 'none:' line, no crash."""
    return [
        Case("qemu-cpu-qemu64-svm-without-npt", "qemu", 2, "256M",
             [boot_report(2, 256), virtualization(r"^none: SVM without nested paging")],
             append=b"console=com1", cpu="qemu64"),
        Case("qemu-cpu-qemu64-no-svm", "qemu", 2, "256M",
             [boot_report(2, 256), virtualization(r"^none: this CPU has neither")],
             append=b"console=com1", cpu="qemu64,-svm"),
    ]


def bochs_boots() -> List[Case]:
    """The ISO under Bochs on an Intel model with VMX."""
    # Bochs's CPUID leaf 0x16 claims a 3.5 GHz base clock, but with
    # `clock: sync=none` its TSC counts instructions at `ips` per emulated
    # second.  The core must notice (a warning) and use the measured rate.
    bochs_tsc = no_warnings_except(r"time: CPUID 0x16 gives .* using the measurement")
    return [Case("bochs-iso-skylake-smp2", "bochs", 2, str(BOCHS_MEMORY_MIB),
                 [boot_report(2, BOCHS_MEMORY_MIB), bochs_tsc, virtualization(VMX_EPT_1G),
                  tsc_mhz_near(harness.BOCHS_IPS / 1e6)],
                 timeout=BOCHS_TIMEOUT)]


def bad_input_cases() -> List[Case]:
    """Broken firmware tables, memory maps, command lines and modules:
    each warns and the boot completes."""
    def test_switch(name: str, checks: List[Check]) -> Case:
        return Case(name, "qemu", 2, "512M", checks,
                    append=b"console=com1 keel.test=" + name.encode())

    return [
        test_switch("acpi-bad-checksum", [
            warning_matching(r"MADT.*checksum"), boot_report(1, 512)]),
        # The truncated FADT loses its PM timer: the TSC is calibrated
        # against the HPET, or against the PIT when there is no HPET either.
        test_switch("acpi-truncated", [
            warning_matching(r"FADT.*truncat"), calibrated_against("HPET"),
            boot_report(2, 512)]),
        Case("acpi-truncated-no-hpet", "qemu", 2, "512M", [
            warning_matching(r"FADT.*truncat"), calibrated_against("PIT"),
            boot_report(2, 512)],
            append=b"console=com1 keel.test=acpi-truncated", machine="pc,hpet=off"),
        test_switch("madt-extra-cpus", [
            warning_matching(r"supports 64"),
            warning_matching(r"did not (answer|respond)"), boot_report(2, 512)]),
        test_switch("bad-memmap", [
            warning_matching(r"overlap"),
            warning_matching(r"unaligned|partial page|aligned"), boot_report(2, 512)]),
        Case("cmdline-garbage", "qemu", 2, "512M", [
            warning_matching(r"frobnicate"), warning_matching(r"loglevel"),
            warning_matching(r"com7"), boot_report(2, 512)],
            append=GARBAGE_CMDLINE),
        Case("module-empty", "qemu", 2, "512M", [
            warning_matching(r"empty", naming=(EMPTY_MODULE_FILE, EMPTY_MODULE_ARG)),
            boot_report(2, 512)],
            append=b"console=com1", empty_module=True),
    ]


def fault_case() -> Case:
    """A deliberate page fault: exception report, panic, all CPUs stopped."""
    return Case("fault", "qemu", 2, "512M", [fault_report],
                append=b"console=com1 keel.test=fault", done=STOPPED_RE, fail=None)


POWEROFF_RE = re.compile(r"keel: powering off \(status \d+\)")
SELFTEST_RE = re.compile(LINE_PREFIX + r"selftest: (\d+) passed, (\d+) failed")


def selftest_result(expected_passes: int) -> Check:
    """Check the self-test summary: every guest passed, none failed, and
    Keel powered off with status 0."""
    def check(text: str) -> Optional[str]:
        m = SELFTEST_RE.search(text)
        if m is None:
            return "no 'selftest: N passed, M failed' line"
        passed, failed = int(m.group(1)), int(m.group(2))
        if failed or passed != expected_passes:
            return f"selftest: {passed} passed, {failed} failed; expected {expected_passes} passed"
        if "powering off (status 0)" not in text:
            return "no 'keel: powering off (status 0)' line"
        return None
    return check


def selftest_cases() -> List[Case]:
    """The virtualization self-test: one test-guest VM per CPU at once, and a
    triple-faulting VM that stops alone. SVM+NPT under QEMU TCG; VMX+EPT
    (with and without 1 GiB pages) and SVM under Bochs."""
    qemu = [Case(f"selftest-qemu-svm-smp{smp}", "qemu", smp, "512M",
                 [selftest_result(smp + 1)], append=b"console=com1 keel.test=selftest",
                 done=POWEROFF_RE)
            for smp in (1, 4)]
    bochs = [Case(f"selftest-bochs-{model}-smp{cpus}", "bochs", cpus, str(BOCHS_MEMORY_MIB),
                  [selftest_result(cpus + 1), virtualization(virt)], iso="keel-selftest.iso",
                  bochs_model=model, done=POWEROFF_RE, timeout=BOCHS_TIMEOUT)
             for model, cpus, virt in (("corei7_skylake_x", 1, VMX_EPT_1G),
                                       ("corei7_skylake_x", 2, VMX_EPT_1G),
                                       ("corei7_sandy_bridge_2600k", 1,
                                        r"^vmx \(.*ept 4-level 4k/2m,"))]
    # Bochs 2.7's SVM raises its own panic on a guest triple fault before it
    # looks at the shutdown intercept (its VMX checks first), so under Bochs
    # "ryzen" the case ends once the test guest has passed; the triple-fault
    # VM is covered on SVM by QEMU and on VMX by Bochs.
    bochs.append(Case("selftest-bochs-ryzen-smp1", "bochs", 1, str(BOCHS_MEMORY_MIB),
                      [virtualization(r"^svm \(.*npt 4-level")], iso="keel-selftest.iso",
                      bochs_model="ryzen", done=re.compile(r"selftest: selftest-cpu0 passed"),
                      timeout=BOCHS_TIMEOUT))
    return qemu + bochs


PARTITION_EXIT_RE = re.compile(r"keel: partition init exited with status (-?\d+)")


def text_matching(pattern: str) -> Check:
    """Check some line of the log matches pattern."""
    regex = re.compile(pattern)

    def check(text: str) -> Optional[str]:
        return None if regex.search(text) else f"no line matching /{pattern}/"
    return check


def partition_exit(status: int) -> Check:
    """Check the root partition ended with the given status."""
    def check(text: str) -> Optional[str]:
        m = PARTITION_EXIT_RE.search(text)
        if m is None:
            return "no 'keel: partition init exited with status N' line"
        return None if int(m.group(1)) == status else f"init exited with status {m.group(1)}"
    return check


def iso_demo_cases() -> List[Case]:
    """The user ISO (make iso, make run) boots the VMs of iso/manifest.ini:
    the demo guest runs in its VMM partition and ends with status 0."""
    return [Case(f"iso-demo-vm-{emulator}", emulator, 2,
                 "512M" if emulator == "qemu" else str(BOCHS_MEMORY_MIB),
                 [text_matching(r"hello: hello from a multiboot guest: "
                                r"cmdline 'mb_hello from the Keel ISO'"),
                  text_matching(r"init: keel: vm hello exited, status 0")],
                 done=re.compile(r"init: keel: all VMs done"),
                 timeout=BOCHS_TIMEOUT if emulator == "bochs" else QEMU_TIMEOUT)
            for emulator in ("qemu", "bochs")]


def partition_cases() -> List[Case]:
    """Ring-3 partitions from tests/partitions/: a well-behaved one, a hostile
    one that tries every bad hypercall argument and then port I/O (killed
    with a report, the core goes on), and an image that is not an ELF file."""
    def case(name, module, checks, done=PARTITION_EXIT_RE):
        return Case(name, "qemu", 2, "256M", checks, append=b"console=com1",
                    init_module=module, done=done, fail=re.compile(r"PANIC"))
    return [
        case("partition-smoke", "partitions/smoke.elf",
             [text_matching(r"init: smoke: hello from ring 3"),
              text_matching(r"init: smoke: memory map works"), partition_exit(7)]),
        case("partition-hostile", "partitions/hostile.elf",
             [text_matching(r"init: hostile: all 48 checks passed"),
              warning_matching(r"partition init killed: #GP general protection"),
              partition_exit(-1)]),
        case("partition-vm-register-calls", "partitions/vm_calls.elf",
             [text_matching(r"init: vm_calls: all 16 checks passed"), partition_exit(0)]),
        case("partition-module-write", "partitions/module_write.elf",
             [text_matching(r"init: module_write: the module reads fine"),
              warning_matching(r"partition init killed: #PF page fault .* error code 0x7"),
              partition_exit(-1)]),
        case("partition-bad-image", "partitions/smoke.o",
             [text_matching(r"cannot start the root partition: image 'init': "
                            r"not an executable")],
             done=re.compile(r"cannot start the root partition")),
    ]


NEVER_RE = re.compile(r"(?!)")
"""Matches nothing: for cases that end with the emulator's own exit."""

VMS_DONE_RE = re.compile(r"init: keel: all VMs done")
MB = "mb-guests"
"""Where tests/guests/mb_guests.mk puts the multiboot guests and manifests."""
MB_ISO = "keel-mb-vms.iso"
"""GRUB, Keel, init, the test VMM and every multiboot guest (mb_guests.mk)."""


def vm_modules(manifest: str, vmm: str = "vmm.elf", *guests: str) -> List[Tuple[str, str]]:
    """The boot modules of a VM case: init, the VMM, the manifest (a file of
    tests/manifests/), then each guest file of build/mb-guests/ under its
    name without the extension."""
    mods = [("init.elf", "init"), (vmm, "vmm"), (f"{MB}/{manifest}", "manifest")]
    return mods + [(f"{MB}/{g}", g.rsplit(".", 1)[0]) for g in guests]


def started_before_any_exit(*vms: str) -> Check:
    """Check every VM named was started before the first VM ended: they ran
    at once."""
    def check(text: str) -> Optional[str]:
        ended = re.search(r"keel: vm \S+ (exited|halted|failed)", text)
        if ended is None:
            return "no VM ended"
        for vm in vms:
            started = re.search(rf"keel: vm {re.escape(vm)} started", text)
            if started is None:
                return f"vm {vm} never started"
            if started.start() > ended.start():
                return f"vm {vm} started only after another VM ended"
        return None
    return check


def partition_vm_cases() -> List[Case]:
    """The root partition and the ring-3 VMM (user/init, guest-loader/,
    docs/vmm.md) with the multiboot guests of tests/guests/mb_*.asm: two VMs
    at once; a VMM that crashes on purpose and a guest that triple-faults
    beside one that completes; a manifest with errors; on_exit = poweroff
    (QEMU's exit status). Booted by QEMU -kernel with the files as -initrd
    modules, and all at once from GRUB's ISO under QEMU (SVM) and Bochs
    (VMX)."""
    all_guests = [
        text_matching(r"hello: hello from a multiboot guest: cmdline 'mb_hello from GRUB'"),
        text_matching(r"hello: mb_hello: module 'mb_module' checked"),
        text_matching(r"(?m)init: keel: vm hello exited, status 0$"),
        text_matching(r"(?m)init: keel: vm failer exited, status 1$"),
        warning_matching(r"partition crashy killed: #PF"),
        text_matching(r"init: keel: vm crashy failed: its VMM partition was killed"),
        text_matching(r"init: keel: vm tripler failed: the guest triple-faulted"),
        started_before_any_exit("hello", "failer")]

    def case(name, modules, checks, done=VMS_DONE_RE, exit_code=None):
        return Case(name, "qemu", 2, "256M", checks, append=b"console=com1", modules=modules,
                    done=done, exit_code=exit_code, fail=re.compile(r"PANIC"))
    return [
        case("partition-vm-two-at-once",
             vm_modules("two_vms.ini", "vmm.elf", "mb_hello.elf", "mb_fail.bin", "mb_module.txt"),
             [text_matching(r"hello: hello from a multiboot guest: cmdline "
                            r"'mb_hello -v --greeting=multiboot'"),
              text_matching(r"hello: mb_hello: module 'mb_module' checked"),
              text_matching(r"hello: vmm: unbacked MMIO: 4-byte read at 0xfeb00000 \(all ones\)"),
              text_matching(r"hello: mb_hello: a line written with REP OUTSB"),
              text_matching(r"hello: mb_hello: all checks passed"),
              text_matching(r"failer: mb_fail: failing on purpose"),
              text_matching(r"(?m)init: keel: vm hello exited, status 0$"),
              text_matching(r"(?m)init: keel: vm failer exited, status 1$"),
              started_before_any_exit("hello", "failer")]),
        case("partition-vm-vmm-crash",
             vm_modules("crash.ini", "vmm-test.elf", "mb_crash.bin", "mb_triple.elf",
                        "mb_hello.elf"),
             [warning_matching(r"partition crashy killed: #PF"),
              text_matching(r"init: keel: vm crashy failed: its VMM partition was killed"),
              text_matching(r"tripler: vmm: guest triple-faulted"),
              text_matching(r"init: keel: vm tripler failed: the guest triple-faulted"),
              text_matching(r"hello: mb_hello: all checks passed"),
              text_matching(r"(?m)init: keel: vm hello exited, status 0$")]),
        case("partition-vm-manifest-errors",
             vm_modules("with_errors.ini", "vmm.elf", "mb_hello.elf"),
             [text_matching(r"init: keel: manifest line 11: unknown key 'memroy'"),
              text_matching(r"init: keel: manifest line 15: memory = 12Q"),
              text_matching(r"init: keel: manifest line 2\d: .*(section|key)"),
              text_matching(r"init: keel: vm typo: not started: line 11"),
              text_matching(r"init: keel: vm nomodule: not started: modules: "
                            r"no boot module 'no_such_module'"),
              text_matching(r"init: keel: vm lazy: not started: autostart = no"),
              text_matching(r"good1: hello from a multiboot guest: cmdline 'mb_hello one'"),
              text_matching(r"(?m)init: keel: vm good1 exited, status 0$"),
              text_matching(r"(?m)init: keel: vm good2 exited, status 0$")]),
        # GRUB's multiboot2 path with every test guest at once: SVM under
        # QEMU, VMX under Bochs.
        Case("partition-vm-iso-qemu-svm", "qemu", 2, "256M", all_guests, iso=MB_ISO,
             done=VMS_DONE_RE, fail=re.compile(r"PANIC")),
        Case("partition-vm-iso-bochs-vmx", "bochs", 2, str(BOCHS_MEMORY_MIB),
             all_guests + [virtualization(VMX_EPT_1G)], iso=MB_ISO, done=VMS_DONE_RE,
             fail=re.compile(r"PANIC"), timeout=BOCHS_TIMEOUT),
        case("partition-vm-poweroff",
             vm_modules("poweroff.ini", "vmm.elf", "mb_fail.bin"),
             [text_matching(r"(?m)init: keel: vm failer exited, status 1$"),
              text_matching(r"keel: powering off \(status 1\)")],
             done=NEVER_RE, exit_code=3),
    ]


SMP_ISO = "keel-smp-vms.iso"
"""GRUB, Keel, init, the VMM and the SMP and interrupt guests of
tests/manifests/smp_vms.ini (mb_guests.mk)."""

VCPU_STATS_FIELDS = ("exits", "halts blocked", "IPIs sent", "IPIs received", "timer interrupts",
                     "interrupts injected")


def vcpu_stats(text: str, vm: str, vcpu: int) -> Optional[dict]:
    """The VMM's statistics line for one vCPU of a VM (plan of issue 5):
    ``<vm>: vmm: vCPU <i>: <E> exits (...), <v> to the VMM; <b> halts
    blocked, <ipi> IPIs sent, <rx> IPIs received, <t> timer interrupts,
    <inj> interrupts injected``, as {field: number}, or None."""
    m = re.search(rf"{re.escape(vm)}: vmm: vCPU {vcpu}: (\d+) exits \(.*?\), \d+ to the VMM; "
                  r"(\d+) halts blocked, (\d+) IPIs sent, (\d+) IPIs received, "
                  r"(\d+) timer interrupts, (\d+) interrupts injected", text)
    return None if m is None else dict(zip(VCPU_STATS_FIELDS, map(int, m.groups())))


def vcpu_stat_at_least(vm: str, vcpu: int, field: str, least: int) -> Check:
    """Check a field of a vCPU's statistics line is at least least."""
    def check(text: str) -> Optional[str]:
        stats = vcpu_stats(text, vm, vcpu)
        if stats is None:
            return f"no statistics line for vCPU {vcpu} of vm {vm}"
        if stats[field] < least:
            return f"vm {vm} vCPU {vcpu}: {stats[field]} {field}, expected at least {least}"
        return None
    return check


def idle_vcpu_blocked(vm: str = "idle") -> Check:
    """mb_idle's vCPU was blocked in HLT, not spinning: its exits are far
    below a busy wait's (fewer than 20 per tick; polling the PM timer makes
    thousands) and 40 or more of its HLTs blocked."""
    def check(text: str) -> Optional[str]:
        m = re.search(rf"{re.escape(vm)}: mb_idle: (\d+) ticks while idle in HLT", text)
        if m is None:
            return "no 'mb_idle: <n> ticks while idle in HLT' line"
        ticks, stats = int(m.group(1)), vcpu_stats(text, vm, 0)
        if stats is None:
            return f"no statistics line for vCPU 0 of vm {vm}"
        if stats["exits"] >= 20 * ticks:
            return f"idle guest: {stats['exits']} exits for {ticks} ticks (20 per tick at most)"
        if stats["halts blocked"] < 40:
            return f"idle guest: {stats['halts blocked']} halts blocked, expected at least 40"
        return None
    return check


def exited_before(first: str, second: str) -> Check:
    """Check VM first ended before VM second did (they overlapped when both
    started before either ended)."""
    def check(text: str) -> Optional[str]:
        a = re.search(rf"keel: vm {re.escape(first)} exited", text)
        b = re.search(rf"keel: vm {re.escape(second)} exited", text)
        if a is None or b is None:
            return f"vm {first} or vm {second} did not exit"
        return None if a.start() < b.start() else f"vm {second} ended before vm {first}"
    return check


def ticks_at_least(vm: str, least: int) -> Check:
    """Check mb_ticker in VM vm counted at least least ticks in its second."""
    def check(text: str) -> Optional[str]:
        m = re.search(rf"{re.escape(vm)}: mb_ticker: (\d+) ticks in 1000 ms", text)
        if m is None:
            return f"vm {vm} printed no tick count"
        return None if int(m.group(1)) >= least else f"{m.group(1)} ticks, fewer than {least}"
    return check


def ended_while_hog_spun(vm: str) -> Check:
    """Check VM vm ended while the test VMM's spinning thread (hog.ini) still
    spun: a partition thread that never blocks did not starve it."""
    def check(text: str) -> Optional[str]:
        ended = re.search(rf"keel: vm {re.escape(vm)} exited", text)
        spun = re.search(r"hog: vmm: test hook: a thread spins", text)
        stopped = re.search(r"hog: vmm: test hook: the spinning thread stops", text)
        if ended is None or spun is None:
            return f"vm {vm} did not end, or the spinning thread never started"
        if ended.start() < spun.start():
            return f"vm {vm} ended before the spinning thread started"
        if stopped is not None and stopped.start() < ended.start():
            return f"vm {vm} ended only after the spinning thread stopped: it was starved"
        return None
    return check


def vm_exit_ok(*vms: str) -> List[Check]:
    """Each VM ended with status 0."""
    return [text_matching(rf"(?m)init: keel: vm {re.escape(vm)} exited, status 0$") for vm in vms]


def smp_lines(vm: str, cpus: int) -> List[Check]:
    """mb_smp's lines in VM vm with cpus vCPUs."""
    lines = [text_matching(rf"(?m){vm}: mb_smp: cpu {i} apic id {i}$") for i in range(cpus)]
    lines.append(text_matching(rf"{vm}: mb_smp: {cpus} of {cpus} CPUs started"))
    lines.append(text_matching(rf"{vm}: mb_smp: cross-vCPU IPIs ok" if cpus > 1 else
                               rf"{vm}: mb_smp: one CPU: INIT/SIPI to all excluding self "
                               r"started nothing"))
    return lines


def lapic_lines(vm: str = "lapic") -> List[Check]:
    """mb_lapic's lines: every check of the local APIC passed."""
    return [text_matching(rf"{vm}: mb_lapic: {what}") for what in (
        r"version 0x14, max LVT 5, ID 0 ok", r"one-shot timer ok", r"periodic timer ok",
        r"TSC-deadline timer ok", r"self-IPI ok", r"NMI ok", r"x2APIC ok", r"TPR masking ok",
        r"APIC disable and re-enable ok", r"all checks passed")]


def pit_lines(vm: str = "pit") -> List[Check]:
    """mb_pit's lines: the PIT's interrupt through the PIC and the IOAPIC."""
    return [text_matching(rf"{vm}: mb_pit: {what}") for what in (
        r"PIT through the PIC ok \(\d+ ticks\)", r"IOAPIC version 0x20 with 24 pins ok",
        r"PIT through the IOAPIC ok \(\d+ ticks\)")]


def smp_guest_cases() -> List[Case]:
    """SMP guests and the split irqchip (issue 5; tests/guests/mb_smp.asm and
    the other guests of mb_apic.inc): INIT-SIPI-SIPI with two vCPUs and the
    harmless broadcast with one; the local APIC, PIT and idle guests at
    once (the idle vCPU must stay blocked); eight VMs of two vCPUs on four
    CPUs; a CPU-bound VM beside an interactive one on the same CPU; a VM
    abusing its APICs and devices beside an interactive one. QEMU
    (SVM) with -kernel and -initrd modules; the SMP and APIC guests also
    from GRUB's ISO under Bochs (VMX) with two CPUs."""
    def case(name, modules, checks, smp=2, timeout=QEMU_TIMEOUT):
        return Case(name, "qemu", smp, "256M", checks, append=b"console=com1", modules=modules,
                    done=VMS_DONE_RE, fail=re.compile(r"PANIC"), timeout=timeout)
    eight = [f"smp{i}" for i in range(1, 9)]
    return [
        case("smp-vm-two-cpus", vm_modules("smp.ini", "vmm.elf", "mb_smp.bin"),
             smp_lines("smp", 2) + vm_exit_ok("smp")
             + [vcpu_stat_at_least("smp", 0, "IPIs received", 1),
                vcpu_stat_at_least("smp", 1, "IPIs sent", 1)]),
        case("smp-vm-one-cpu", vm_modules("smp_one.ini", "vmm.elf", "mb_smp.bin"),
             smp_lines("smp", 1) + vm_exit_ok("smp")),
        case("smp-vm-apic", vm_modules("apic.ini", "vmm.elf", "mb_lapic.bin", "mb_pit.bin",
                                       "mb_idle.bin"),
             lapic_lines() + pit_lines() + vm_exit_ok("lapic", "pit", "idle")
             + [idle_vcpu_blocked(), vcpu_stat_at_least("idle", 0, "timer interrupts", 40)]),
        case("smp-vm-eight-vms", vm_modules("eight_vms.ini", "vmm.elf", "mb_smp.bin"),
             [text_matching(rf"{vm}: mb_smp: 2 of 2 CPUs started") for vm in eight]
             + vm_exit_ok(*eight), smp=4, timeout=3 * QEMU_TIMEOUT),
        case("smp-vm-starve", vm_modules("starve.ini", "vmm.elf", "mb_spin.bin", "mb_ticker.bin"),
             [text_matching(r"ticker: mb_ticker: \d+ ticks in 1000 ms"),
              text_matching(r"spin: mb_spin: cpu 0 \d+ iterations in 3000 ms"),
              started_before_any_exit("spin", "ticker"), exited_before("ticker", "spin")]
             + vm_exit_ok("ticker", "spin")),
        # A VM that abuses its local APICs and the platform's interrupt
        # devices (mb_hostile_apic) on CPU 0, an interactive one on CPU 1:
        # both must end well, the ticker with its 80 ticks.
        case("smp-vm-hostile-apic",
             vm_modules("hostile_apic.ini", "vmm.elf", "mb_hostile_apic.bin", "mb_ticker.bin"),
             [text_matching(r"hostile: mb_hostile_apic: survived \d+ rounds"),
              text_matching(r"calm: mb_ticker: \d+ ticks in 1000 ms")]
             + vm_exit_ok("calm", "hostile")),
        # Pinned (tests/manifests/smp_vms.ini): smp on CPU 2, lapic on 0.
        # Three threads share the CPU here (the spinner, the hog's vCPU, the
        # ticker), so the ticker's own 80-tick bar is loosened to 50: without
        # the demotion it gets none until the spinner stops.
        case("smp-vm-spinning-vmm-thread",
             vm_modules("hog.ini", "vmm-test.elf", "mb_spin.bin", "mb_ticker.bin"),
             [ticks_at_least("ticker", 50), ended_while_hog_spun("ticker")]
             + vm_exit_ok("hog")),
        case("smp-vm-irq-regressions",
             vm_modules("regress_irq.ini", "vmm.elf", "mb_regress_lint0.bin",
                        "mb_regress_nmi_sti.bin", "mb_regress_pit_fast.bin"),
             [text_matching(r"lint0: mb_regress_lint0: still running after 100 ms"),
              text_matching(r"nmisti: mb_regress_nmi_sti: both NMIs handled"),
              text_matching(r"pitfast: mb_regress_pit_fast: still running after 1000 ms")]
             + vm_exit_ok("lint0", "nmisti", "pitfast")),
        Case("smp-vms-iso-bochs-vmx", "bochs", 3, str(BOCHS_MEMORY_MIB),
             smp_lines("smp", 2) + lapic_lines() + pit_lines()
             + [text_matching(r"c2\] smp: mb_smp: 2 of 2 CPUs started"),
                text_matching(r"c0\] lapic: mb_lapic: all checks passed")]
             + vm_exit_ok("smp", "lapic", "pit", "idle")
             + [idle_vcpu_blocked(), virtualization(VMX_EPT_1G)],
             iso=SMP_ISO, done=VMS_DONE_RE, fail=re.compile(r"PANIC"), timeout=BOCHS_TIMEOUT),
    ]


def all_cases() -> List[Case]:
    """Every boot case, in report order."""
    return (iso_matrix() + kernel_boots() + graceful_failures() + bochs_boots() + bad_input_cases()
            + [fault_case()] + selftest_cases() + partition_cases() + partition_vm_cases()
            + smp_guest_cases() + iso_demo_cases())


# ---------------------------------------------------------------- running

def launch(case: Case, paths: Paths) -> harness.RunResult:
    """Boot case's image under its emulator and return what happened."""
    log = paths.logs / f"{case.name}.log"
    image = paths.build / case.image
    if case.emulator == "bochs":
        return harness.run_bochs(image, log, paths.logs / case.name, cpus=case.smp,
                                 memory_mib=int(case.memory), model=case.bochs_model,
                                 done=case.done, fail=case.fail, timeout=case.timeout)
    initrd = None
    if case.init_module:
        initrd = f"{(paths.build / case.init_module).resolve()} init"
    if case.modules:
        initrd = ",".join(f"{(paths.build / path).resolve()} {name}"
                          for path, name in case.modules)
    if case.empty_module:
        module = paths.logs / EMPTY_MODULE_FILE
        module.write_bytes(b"")
        initrd = f"{module.resolve()} {EMPTY_MODULE_ARG}"
    kwargs = {"iso": image} if case.append is None else {
        "kernel": image, "append": case.append, "initrd": initrd}
    argv = harness.qemu_argv(log, smp=case.smp, memory=case.memory, machine=case.machine,
                             cpu=case.cpu, **kwargs)
    return harness.run_until(argv, log, paths.logs / f"{case.name}.out",
                             done=case.done, fail=case.fail, timeout=case.timeout)


def judge(case: Case, result: harness.RunResult) -> Optional[str]:
    """Return why the case failed, or None if it passed.

    A failure pattern fails the case even when the last expected line
    followed it (both can land between two reads of the log).
    """
    failure = case.fail.search(result.text) if case.fail else None
    if failure is not None:
        return f"boot failed: {failure.group(0)!r} printed"
    if result.status == "timeout":
        return f"timed out after {case.timeout:.0f} s"
    if result.status == "exited" and case.exit_code is not None:
        if result.exit_code != case.exit_code:
            return f"{case.emulator} exited with status {result.exit_code}, expected {case.exit_code}"
    elif result.status == "exited":
        complaint = harness.emulator_complaint(result.emulator_output)
        return (f"{case.emulator} exited with status {result.exit_code} "
                f"before the last expected line ({complaint})")
    for check in case.checks:
        problem = check(result.text)
        if problem:
            return problem
    return None


def run_case(case: Case, paths: Paths) -> "tuple[str, float]":
    """Run one case; return its result line and how long it took."""
    image = paths.build / case.image
    for needed in [image] + [paths.build / path for path, _ in case.modules or []]:
        if not needed.exists():
            return f"FAIL boot.{case.name}: {needed} not found (build it first)", 0.0
    result = launch(case, paths)
    problem = judge(case, result)
    if problem is None:
        return f"PASS boot.{case.name}", result.seconds
    hint = harness.tail_hint(result.text)
    return f"FAIL boot.{case.name}: {problem}; log tail: {hint}", result.seconds


def run_all(cases: List[Case], paths: Paths, jobs: int) -> List[str]:
    """Run cases, jobs at a time, longest time limit first; print each
    result as it comes and return the result lines in case order."""
    lines = {}
    times = {}
    ordered = sorted(cases, key=lambda case: -case.timeout)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_case, case, paths): case for case in ordered}
        for future in concurrent.futures.as_completed(futures):
            case = futures[future]
            lines[case.name], times[case.name] = future.result()
            print(f"{lines[case.name]}  [{times[case.name]:.1f} s]", flush=True)
    with open(paths.logs / "boot-times.txt", "w") as out:
        for case in cases:
            out.write(f"{times[case.name]:7.1f} s  {case.name}\n")
    return [lines[case.name] for case in cases]


def parse_args(argv: List[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build",
                        help="where keel.iso and keel.elf are (default: build)")
    parser.add_argument("--only", default="",
                        help="run only cases whose name contains this")
    parser.add_argument("--jobs", type=int, default=2,
                        help="emulators to run at once (default: 2)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args(argv)


def stop_on_signal(signum, _frame):
    """End the running emulators (they live in their own sessions) and exit."""
    harness.stop_all_running()
    os._exit(128 + signum)


def main(argv: List[str]) -> int:
    """Run the selected cases and write build/test-results/boot.txt."""
    args = parse_args(argv)
    cases = [case for case in all_cases() if args.only in case.name]
    if args.list:
        for case in cases:
            print(f"boot.{case.name}")
        return 0
    if not cases:
        print(f"no boot case matches {args.only!r}", file=sys.stderr)
        return 1
    paths = Paths(args.build_dir.resolve())
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.results.mkdir(parents=True, exist_ok=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop_on_signal)
    start = time.monotonic()
    lines = run_all(cases, paths, max(1, args.jobs))
    (paths.results / "boot.txt").write_text("".join(line + "\n" for line in lines))
    failed = sum(line.startswith("FAIL ") for line in lines)
    print(f"boot cases took {time.monotonic() - start:.0f} s")
    print(f"boot: {len(lines) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
