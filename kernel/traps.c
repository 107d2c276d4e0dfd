/* Trap dispatch: exceptions in the core are reported in full and are fatal;
 * interrupts go to the handler registered for their vector. */
#include <stdbool.h>

#include "backtrace.h"
#include "cpu.h"
#include "fmt.h"
#include "panic.h"
#include "percpu.h"
#include "partition.h"
#include "printk.h"
#include "syscall.h"
#include "traps.h"

static interrupt_handler handlers[IDT_VECTORS];
static nmi_handler nmi_handlers[4];
static unsigned nmi_handler_count;

static const char *const exception_names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD error",
    "#VE virtualization",
    "#CP control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security",
    "reserved",
};

void interrupt_register(unsigned vector, interrupt_handler handler)
{
    if (vector >= VEC_FIRST_IRQ && vector < IDT_VECTORS)
        handlers[vector] = handler;
}

void nmi_register(nmi_handler handler)
{
    if (nmi_handler_count < sizeof(nmi_handlers) / sizeof(nmi_handlers[0]))
        nmi_handlers[nmi_handler_count++] = handler;
}

/* Page-fault error code bits (SDM Vol. 3A 4.7). */
static void describe_page_fault(uint64_t error, char *buf, unsigned size)
{
    fmt_snprintf(buf, size, " [%s, %s, %s%s%s]", (error & 2) ? "write" : "read",
                 (error & 1) ? "protection violation" : "not present",
                 (error & 4) ? "user" : "kernel", (error & 8) ? ", reserved bit set" : "",
                 (error & 16) ? ", instruction fetch" : "");
}

static void report_exception(const struct trap_frame *f)
{
    char detail[96] = "";
    if (f->vector == VEC_PAGE_FAULT)
        describe_page_fault(f->error_code, detail, sizeof(detail));
    pr_emerg("EXCEPTION: %s (vector %llu) on cpu%u, error code 0x%llx%s",
             exception_names[f->vector & 31], (unsigned long long)f->vector, this_cpu()->index,
             (unsigned long long)f->error_code, detail);
    pr_emerg("  RIP=%016llx CS=%04llx RFLAGS=%016llx", (unsigned long long)f->rip,
             (unsigned long long)f->cs, (unsigned long long)f->rflags);
    pr_emerg("  RSP=%016llx SS=%04llx CR2=%016llx", (unsigned long long)f->rsp,
             (unsigned long long)f->ss, (unsigned long long)read_cr2());
    pr_emerg("  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx", (unsigned long long)f->rax,
             (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    pr_emerg("  RSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx", (unsigned long long)f->rsi,
             (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
    pr_emerg("  R9 =%016llx R10=%016llx R11=%016llx R12=%016llx", (unsigned long long)f->r9,
             (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
    pr_emerg("  R13=%016llx R14=%016llx R15=%016llx", (unsigned long long)f->r13,
             (unsigned long long)f->r14, (unsigned long long)f->r15);
    pr_emerg("  CR0=%016llx CR3=%016llx CR4=%016llx", (unsigned long long)read_cr0(),
             (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    backtrace_print(f->rip, f->rbp);
}

static void handle_nmi(struct trap_frame *f)
{
    for (unsigned i = 0; i < nmi_handler_count; i++) {
        if (nmi_handlers[i](f))
            return;
    }
    pr_emerg("NMI on cpu%u not claimed by the core (hardware error or watchdog?)",
             this_cpu()->index);
    report_exception(f);
    panic("unexpected NMI");
}

/* An exception in ring 3 is the partition's own: it is killed with a one-line
 * report naming it, the fault and the address; the core goes on. */
static void kill_faulting_partition(struct trap_frame *f)
{
    struct partition *p = partition_current();
    char why[160];
    fmt_snprintf(why, sizeof(why), "%s (vector %llu) at rip 0x%llx, error code 0x%llx%s%llx",
                 exception_names[f->vector & 31], (unsigned long long)f->vector,
                 (unsigned long long)f->rip, (unsigned long long)f->error_code,
                 f->vector == VEC_PAGE_FAULT ? ", address 0x" : ", rsp 0x",
                 (unsigned long long)(f->vector == VEC_PAGE_FAULT ? read_cr2() : f->rsp));
    partition_kill(p, -1, why);
    irq_enable();
    partition_thread_gone(p);
    thread_exit(-1);
}

static bool from_user(const struct trap_frame *f)
{
    return (f->cs & 3) == 3;
}

void trap_dispatch(struct trap_frame *f)
{
    if (f->vector == VEC_NMI) {
        handle_nmi(f);
        return;
    }
    if (f->vector < VEC_FIRST_IRQ && from_user(f) && partition_current())
        kill_faulting_partition(f);
    if (f->vector < VEC_FIRST_IRQ) {
        if (panic_in_progress())
            cpu_stop(); /* a fault while another CPU panics: stay quiet */
        report_exception(f);
        panic("unhandled exception %llu in the core", (unsigned long long)f->vector);
    }
    interrupt_handler h = handlers[f->vector];
    if (h)
        h(f);
    else if (f->vector != VEC_SPURIOUS)
        pr_warn("interrupt on unexpected vector %llu ignored", (unsigned long long)f->vector);
    if (from_user(f))
        return_to_user_checks(f);
}
