#!/usr/bin/env python3
"""A model of Keel's guest platform (tests/guests/README.md) on Unicorn.

It runs a test guest image the way Keel will: RAM, the image and its reset
alias, the self-test ports, the MMIO device, the region beyond RAM, the CPUID
policy, #GP on the unknown MSR, injected #UD and the interrupt of port 0x517.
It checks the guests' hypervisor-only checks before the hypervisor exists,
and --break FEATURE makes the model wrong on purpose, to see that the right
check fails. Needs Debian's python3-unicorn (Unicorn 2.0).

Usage: mock_platform.py IMAGE [--break FEATURE]...
Prints the guest's log, then one line:
    mock: end=<result|shutdown|halt|error> result=R checkpoint=C exits=N bench=...

Unicorn 2.0 falls short of a CPU in ways this model patches over: it starts
at F000:FFF0 (it cannot set CS.base = 0xffff0000), it goes on decoding 32-bit
code after the far jump to 64-bit code (so the model restarts in a 64-bit
engine there), it ignores page tables (so the guests' HIGH_ALIAS is mapped by
hand), and it reports exceptions and INT n instead of delivering them (so
the model delivers them through the guest's IDT, in long mode only).
"""

import argparse
import ctypes
import sys

from unicorn import (UC_ARCH_X86, UC_HOOK_CODE, UC_HOOK_INSN, UC_HOOK_INSN_INVALID,
                     UC_HOOK_INTR, UC_MODE_16, UC_MODE_64, UC_PROT_ALL, Uc, UcError)
from unicorn import x86_const as x

IMAGE_BASE = 0xF0000
IMAGE_SIZE = 0x10000
RESET_ALIAS = 0xFFFF0000
RAM_SIZE = 4 << 20
HIGH_ALIAS = 0x8000000000
MMIO_BASE = 0xFEB00000
BEYOND_RAM = 0x10000000
MSR_EFER = 0xC0000080
MSR_UNKNOWN = 0x4B454500
SEL_CODE64, SEL_DATA = 0x18, 0x10
RFLAGS_IF, RFLAGS_TF = 1 << 9, 1 << 8
KEEL = int.from_bytes(b"Keel", "little")

BREAKS = {
    "port-id": "port 0x512 returns a wrong value",
    "str-out": "port 0x513 counts each unit twice",
    "str-in": "port 0x515 returns a wrong fifth unit",
    "cpuid": "a wrong hypervisor signature",
    "alias": "the reset alias is a copy, not the same pages",
    "inject-late": "the injected exception comes one instruction late",
    "rdmsr": "RDMSR of the unknown MSR reads 0 instead of #GP",
    "irq-ignore-if": "the port-0x517 interrupt is delivered with IF = 0",
    "irq-vector": "port 0x517 raises vector 0x41 instead",
    "mmio-id": "the MMIO ID register reads 0",
    "mmio-1": "1-byte MMIO scratch reads are wrong",
    "mmio-2": "2-byte MMIO scratch reads are wrong",
    "mmio-4": "4-byte MMIO scratch reads are wrong",
    "mmio-other": "MMIO offsets outside the scratch read 1",
    "beyond": "reads beyond RAM return 0",
    "beyond-alias": "writes beyond RAM land in RAM (address modulo RAM size)",
    "sse": "an exit corrupts XMM5",
    "gpr": "an exit corrupts R12",
    "mxcsr": "an exit resets MXCSR",
    "x87": "an exit resets the x87 control word",
}


def mask(size):
    return (1 << (8 * size)) - 1


class Platform:
    """The guest's machine: state of the devices and the Unicorn engine."""

    def __init__(self, image, breaks):
        self.image = image
        self.breaks = breaks
        self.ram = ctypes.create_string_buffer(RAM_SIZE)
        ctypes.memmove(ctypes.addressof(self.ram) + IMAGE_BASE, image, len(image))
        self.log = bytearray()
        self.checkpoint = self.result = None
        self.checkpoint_writes = 0
        self.str_sum = self.str_count = self.str_k = 0
        self.pending_exception = self.pending_irq = None
        self.late = False
        self.exits = 0
        self.scratch = bytearray(0x100)
        self.bench = {}
        self.end = None
        self.mode = 16
        self.switch_to = None
        self.prev_addr = None
        self.uc = None

    # -- the end of the run ------------------------------------------------
    def stop(self, end):
        self.end = end
        self.uc.emu_stop()

    # -- ports ---------------------------------------------------------------
    def port_in(self, uc, port, size, _):
        self.exits += 1
        if port == 0x512:
            return (0x4B45454C ^ ("port-id" in self.breaks)) & mask(size)
        if port == 0x514 and size == 4:
            value = (self.str_count << 16) | (self.str_sum & 0xFFFF)
            self.str_sum = self.str_count = 0
            return value
        if port == 0x515:
            value = (self.str_k * 3 + 1) & mask(size)
            self.str_k += 1
            return value ^ ("str-in" in self.breaks and self.str_k == 5)
        return mask(size)

    def port_out(self, uc, port, size, value, _):
        self.exits += 1
        if port == 0xE9:
            self.log.append(value & 0xFF)
            if value & 0xFF == 10:
                sys.stdout.write(self.log.decode(errors="replace"))
                self.log = bytearray()
        elif port == 0x510:
            self.checkpoint = value
            self.checkpoint_writes += 1
            if self.mode == 64 and self.checkpoint_writes == 700:
                self.corrupt_state(uc)
        elif port == 0x511:
            self.result = value
            self.stop("result")
        elif port == 0x513:
            self.str_sum += value
            self.str_count += 2 if "str-out" in self.breaks else 1
        elif port == 0x515:
            self.str_k = 0
        elif port == 0x516:
            self.pending_exception = value & 0xFF
        elif port == 0x517:
            self.pending_irq = 0x41 if "irq-vector" in self.breaks else value & 0xFF
        elif port in (0x518, 0x519, 0x51A):
            self.bench[port] = value

    def corrupt_state(self, uc):
        if "sse" in self.breaks:
            uc.reg_write(x.UC_X86_REG_XMM5, uc.reg_read(x.UC_X86_REG_XMM5) ^ (1 << 100))
        if "gpr" in self.breaks:
            uc.reg_write(x.UC_X86_REG_R12, 0)
        if "mxcsr" in self.breaks:
            uc.reg_write(x.UC_X86_REG_MXCSR, 0x1F80)
        if "x87" in self.breaks:
            uc.reg_write(x.UC_X86_REG_FPCW, 0x037F)

    # -- CPUID policy ---------------------------------------------------------
    def cpuid(self, uc, _):
        self.exits += 1
        leaf = uc.reg_read(x.UC_X86_REG_EAX)
        sig = KEEL + ("cpuid" in self.breaks)
        answers = {
            1: (0x000806F0, 0, (1 << 31) | (1 << 0) | (1 << 9) | (1 << 19) | (1 << 20),
                0x078BFBFF),
            0x40000000: (0x40000001, sig, sig, sig),
            0x80000000: (0x80000008, 0, 0, 0),
            0x80000001: (0, 0, 1, (1 << 29) | (1 << 20) | (1 << 11)),
        }
        if leaf not in answers:
            return 0                    # Unicorn's own answer
        for reg, value in zip((x.UC_X86_REG_EAX, x.UC_X86_REG_EBX, x.UC_X86_REG_ECX,
                               x.UC_X86_REG_EDX), answers[leaf]):
            uc.reg_write(reg, value)
        return 1

    # -- MMIO device and the region beyond RAM -------------------------------
    def mmio_read(self, uc, offset, size, _):
        self.exits += 1
        if offset == 0 and size == 4:
            return 0 if "mmio-id" in self.breaks else 0x4D4D494F
        if 0x100 <= offset and offset + size <= 0x200:
            value = int.from_bytes(self.scratch[offset - 0x100:offset - 0x100 + size], "little")
            return value ^ ("mmio-%d" % size in self.breaks)
        return 1 if "mmio-other" in self.breaks else 0

    def mmio_write(self, uc, offset, size, value, _):
        self.exits += 1
        if 0x100 <= offset and offset + size <= 0x200:
            self.scratch[offset - 0x100:offset - 0x100 + size] = \
                (value & mask(size)).to_bytes(size, "little")

    def beyond_read(self, uc, offset, size, _):
        return 0 if "beyond" in self.breaks else mask(size)

    def beyond_write(self, uc, offset, size, value, _):
        if "beyond-alias" in self.breaks:
            uc.mem_write(offset & (RAM_SIZE - 1), (value & mask(size)).to_bytes(size, "little"))

    # -- events ---------------------------------------------------------------
    def deliver(self, uc, vector, rip, error_code=None):
        """Deliver vector in long mode through the guest's IDT (SDM vol. 3A 6.14)."""
        base, limit = uc.reg_read(x.UC_X86_REG_IDTR)[1:3]
        if 16 * vector + 15 > limit:
            self.stop("shutdown")
            return
        gate = bytes(uc.mem_read(base + 16 * vector, 16))
        target = (int.from_bytes(gate[0:2], "little")
                  | int.from_bytes(gate[6:8], "little") << 16
                  | int.from_bytes(gate[8:12], "little") << 32)
        rsp = uc.reg_read(x.UC_X86_REG_RSP)
        rflags = uc.reg_read(x.UC_X86_REG_EFLAGS)
        frame = [SEL_DATA, rsp, rflags, SEL_CODE64, rip]
        if error_code is not None:
            frame.append(error_code)
        new_rsp = rsp & ~0xF
        for value in frame:
            new_rsp -= 8
            uc.mem_write(new_rsp, value.to_bytes(8, "little"))
        uc.reg_write(x.UC_X86_REG_RSP, new_rsp)
        uc.reg_write(x.UC_X86_REG_EFLAGS, rflags & ~(RFLAGS_IF | RFLAGS_TF))
        uc.reg_write(x.UC_X86_REG_RIP, target)

    def code(self, uc, addr, size, _):
        """Before each instruction: mode switch, pending events, HLT, RDMSR."""
        insn = bytes(uc.mem_read(addr, min(size, 4)))
        after_sti = self.prev_addr is not None and bytes(uc.mem_read(self.prev_addr, 1)) == b"\xfb"
        self.prev_addr = addr
        if self.mode != 64 and uc.reg_read(x.UC_X86_REG_CS) == SEL_CODE64:
            self.switch_to = addr
            self.stop("switch")
            return
        if self.mode != 64:
            if insn[:1] == b"\xf4":
                self.stop("halt")
            return
        if self.pending_exception is not None:      # on the entry after the OUT
            if "inject-late" in self.breaks and not self.late:
                self.late = True
                return
            vector, self.pending_exception = self.pending_exception, None
            self.deliver(uc, vector, addr)
            return
        interruptible = uc.reg_read(x.UC_X86_REG_EFLAGS) & RFLAGS_IF
        if insn[:1] == b"\xf4":
            if self.pending_irq is not None and interruptible:
                vector, self.pending_irq = self.pending_irq, None
                self.deliver(uc, vector, addr + 1)  # HLT woken: RIP after it
            else:
                self.stop("halt")
            return
        if self.pending_irq is not None and (interruptible and not after_sti
                                             or "irq-ignore-if" in self.breaks):
            vector, self.pending_irq = self.pending_irq, None
            self.deliver(uc, vector, addr)
            return
        if insn[:2] == b"\x0f\x32" and uc.reg_read(x.UC_X86_REG_ECX) == MSR_UNKNOWN:
            self.exits += 1
            if "rdmsr" in self.breaks:
                uc.reg_write(x.UC_X86_REG_RAX, 0)
                uc.reg_write(x.UC_X86_REG_RDX, 0)
                uc.reg_write(x.UC_X86_REG_RIP, addr + 2)
            else:
                self.deliver(uc, 13, addr, 0)

    def interrupt(self, uc, vector, _):
        """Unicorn reports exceptions and INT n here: deliver them."""
        rip = uc.reg_read(x.UC_X86_REG_RIP)
        if self.mode == 64:
            here = bytes(uc.mem_read(rip, 2))
            if vector >= 32 and bytes(uc.mem_read(rip - 2, 2)) == bytes([0xCD, vector]):
                self.deliver(uc, vector, rip)
                return
            if vector in (8, 13) and here == b"\x8e\xd8":  # MOV DS, AX (Unicorn says 8)
                self.deliver(uc, 13, rip, uc.reg_read(x.UC_X86_REG_AX) & 0xFFFC)
                return
        else:
            limit = uc.reg_read(x.UC_X86_REG_IDTR)[2]
            if 8 * vector + 7 > limit and 8 * 13 + 7 > limit and 8 * 8 + 7 > limit:
                self.stop("shutdown")       # no gate for it, #GP or #DF: triple fault
                return
        print("mock: exception %d at rip %#x" % (vector, rip))
        self.stop("error")

    def invalid(self, uc, _):
        rip = uc.reg_read(x.UC_X86_REG_RIP)
        if self.mode == 64 and bytes(uc.mem_read(rip, 2)) == b"\x0f\x0b":   # UD2
            self.deliver(uc, 6, rip)
            return True
        return False

    # -- engines ----------------------------------------------------------------
    def make_engine(self, mode):
        uc = Uc(UC_ARCH_X86, mode)
        ram = ctypes.addressof(self.ram)
        uc.mem_map_ptr(0, RAM_SIZE, UC_PROT_ALL, ram)
        if "alias" in self.breaks:
            uc.mem_map(RESET_ALIAS, IMAGE_SIZE)
            uc.mem_write(RESET_ALIAS, self.image)
        else:
            uc.mem_map_ptr(RESET_ALIAS, IMAGE_SIZE, UC_PROT_ALL, ram + IMAGE_BASE)
        if mode == UC_MODE_64:
            uc.mem_map_ptr(HIGH_ALIAS, RAM_SIZE, UC_PROT_ALL, ram)
        uc.mmio_map(MMIO_BASE, 0x1000, self.mmio_read, None, self.mmio_write, None)
        uc.mmio_map(BEYOND_RAM, 0x2000, self.beyond_read, None, self.beyond_write, None)
        uc.hook_add(UC_HOOK_INSN, self.port_in, None, 1, 0, x.UC_X86_INS_IN)
        uc.hook_add(UC_HOOK_INSN, self.port_out, None, 1, 0, x.UC_X86_INS_OUT)
        uc.hook_add(UC_HOOK_INSN, self.cpuid, None, 1, 0, x.UC_X86_INS_CPUID)
        uc.hook_add(UC_HOOK_CODE, self.code)
        uc.hook_add(UC_HOOK_INTR, self.interrupt)
        uc.hook_add(UC_HOOK_INSN_INVALID, self.invalid)
        self.uc = uc
        return uc

    def to_long_mode(self):
        old = self.uc
        regs = [x.UC_X86_REG_RAX, x.UC_X86_REG_RBX, x.UC_X86_REG_RCX, x.UC_X86_REG_RDX,
                x.UC_X86_REG_RSI, x.UC_X86_REG_RDI, x.UC_X86_REG_RBP, x.UC_X86_REG_RSP,
                x.UC_X86_REG_EFLAGS, x.UC_X86_REG_CR0, x.UC_X86_REG_CR3, x.UC_X86_REG_CR4,
                x.UC_X86_REG_GDTR, x.UC_X86_REG_IDTR]
        saved = [(reg, old.reg_read(reg)) for reg in regs]
        efer = old.msr_read(MSR_EFER)
        self.mode = 64
        uc = self.make_engine(UC_MODE_64)
        for reg, value in saved:
            uc.reg_write(reg, value)
        uc.msr_write(MSR_EFER, efer | 0x500)        # LME | LMA
        for reg in (x.UC_X86_REG_DS, x.UC_X86_REG_ES, x.UC_X86_REG_SS):
            uc.reg_write(reg, SEL_DATA)
        return self.switch_to

    def run(self, seconds):
        uc = self.make_engine(UC_MODE_16)
        uc.reg_write(x.UC_X86_REG_CS, 0xF000)
        uc.reg_write(x.UC_X86_REG_IP, 0xFFF0)
        start, restarts = IMAGE_BASE + 0xFFF0, 0
        while True:
            try:
                self.uc.emu_start(start, 1 << 48, timeout=seconds * 1000000)
            except UcError as err:
                print("mock: %s at rip %#x" % (err, self.uc.reg_read(x.UC_X86_REG_RIP)))
                self.end = "error"
            if self.end == "switch":
                self.end = None
                start = self.to_long_mode()
            elif self.end is None and restarts < 1000:   # after an invalid-opcode hook
                restarts += 1
                start = self.uc.reg_read(x.UC_X86_REG_RIP)
            else:
                break
        sys.stdout.write(self.log.decode(errors="replace"))
        print("mock: end=%s result=%s checkpoint=%s exits=%d bench=%s" % (
            self.end or "timeout", self.result, self.checkpoint, self.exits,
            ",".join("%#x:%d" % kv for kv in sorted(self.bench.items())) or "-"))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="features: " + "; ".join("%s: %s" % kv for kv in BREAKS.items()))
    parser.add_argument("image")
    parser.add_argument("--break", dest="breaks", action="append", default=[],
                        choices=sorted(BREAKS), metavar="FEATURE")
    parser.add_argument("--timeout", type=int, default=120, help="seconds")
    args = parser.parse_args()
    image = open(args.image, "rb").read()
    if len(image) != IMAGE_SIZE:
        sys.exit("mock: %s is %d bytes, not %d" % (args.image, len(image), IMAGE_SIZE))
    Platform(image, set(args.breaks)).run(args.timeout)


if __name__ == "__main__":
    main()
