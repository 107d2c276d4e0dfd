; mb_crash: a multiboot1 guest (address-field form, flat binary) that asks
; the VMM to crash: an OUT of 0x5a to port 0xf5, which only the test build of
; the VMM (vmm-test.elf, -DVMM_TEST_HOOKS) answers, by faulting. It prints
;   mb_crash: asking the VMM to crash
; first. Under a VMM without the hook the port is unclaimed: the guest then
; says so and ends with status 3.

%include "mb_common.inc"

%define LOAD_ADDR   0x100000
%define CRASH_FLAGS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_ADDRESS)
%define CRASH_PORT  0xf5
%define CRASH_VALUE 0x5a
%define STACK_TOP   0x90000            ; in low RAM, clear of the image and the boot info

bits 32
org LOAD_ADDR

multiboot_header:
    dd MB_HEADER_MAGIC
    dd CRASH_FLAGS
    dd -(MB_HEADER_MAGIC + CRASH_FLAGS)
    dd multiboot_header
    dd LOAD_ADDR
    dd 0                               ; load_end_addr 0: the whole file
    dd 0                               ; bss_end_addr 0: no bss
    dd start

start:
    mov esp, STACK_TOP
    PRINT `mb_crash: asking the VMM to crash\n`
    mov dx, CRASH_PORT
    mov al, CRASH_VALUE
    out dx, al
    PRINT `mb_crash: the VMM is still alive (not a test build?)\n`
    mov al, 3
    jmp exit_vm

MB_COMMON_CODE
