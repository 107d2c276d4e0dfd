/*
 * Lengths of intercepted instructions the backend could not report (SVM
 * without NRIP save): the instruction is fetched through the guest's page
 * tables and its prefixes skipped (kernel/insn_length.c), so RIP moves past
 * exactly what the guest executed, prefixes included.
 */
#include "insn_length.h"
#include "virt.h"
#include "vm_exit.h"

struct known_opcode {
    enum vm_exit_reason reason;
    uint8_t bytes[3];
    uint8_t length;
};

/* SDM Vol. 2: CPUID 0F A2, HLT F4, RDMSR 0F 32, WRMSR 0F 30,
 * XSETBV 0F 01 D1; APM Vol. 3: VMMCALL 0F 01 D9. */
static const struct known_opcode opcodes[] = {
    {VM_EXIT_CPUID, {0x0f, 0xa2}, 2},        {VM_EXIT_HLT, {0xf4}, 1},
    {VM_EXIT_MSR_READ, {0x0f, 0x32}, 2},     {VM_EXIT_MSR_WRITE, {0x0f, 0x30}, 2},
    {VM_EXIT_XSETBV, {0x0f, 0x01, 0xd1}, 3}, {VM_EXIT_HYPERCALL, {0x0f, 0x01, 0xd9}, 3},
};

bool vm_fill_insn_length(struct vcpu *v, struct vm_exit *e)
{
    if (e->insn_len)
        return true;
    const struct known_opcode *op = 0;
    for (unsigned i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
        if (opcodes[i].reason == e->reason)
            op = &opcodes[i];
    }
    if (!op)
        return true; /* not an instruction exit that advances RIP */
    struct guest_insn insn;
    vm_fetch_instruction(v, &insn);
    e->insn_len = insn_length_of(insn.bytes, insn.length, insn.long_mode, op->bytes, op->length);
    return e->insn_len != 0;
}
