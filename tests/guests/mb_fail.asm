; mb_fail: a multiboot1 guest in the address-field form (header flag 16; a
; flat binary, nasm -f bin) that fails on purpose: it prints
;   mb_fail: failing on purpose
; and ends with status 1. It checks on the way that it was entered with the
; multiboot magic and that its bss (bss_end_addr) is zeroed; when either is
; wrong it ends with status 2 instead, so a loader bug cannot pass for the
; expected failure.

%include "mb_common.inc"

%define LOAD_ADDR  0x100000
%define FAIL_FLAGS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_ADDRESS)
%define BSS_SIZE   8192
%define BSS_FILL   0xff                ; what the image file holds where the bss goes
%define STACK_TOP  0x90000             ; in low RAM, clear of the image and the boot info

bits 32
org LOAD_ADDR

multiboot_header:                      ; spec 3.1.2 and 3.1.3
    dd MB_HEADER_MAGIC
    dd FAIL_FLAGS
    dd -(MB_HEADER_MAGIC + FAIL_FLAGS)
    dd multiboot_header                ; header_addr
    dd LOAD_ADDR                       ; load_addr
    dd load_end                        ; load_end_addr
    dd bss_end                         ; bss_end_addr
    dd start                           ; entry_addr

start:
    mov esp, STACK_TOP
    cmp eax, MB_BOOTLOADER_MAGIC
    jne wrong
    mov esi, bss_start                 ; the bss must read as zeros
    mov ecx, BSS_SIZE
.scan:
    cmp byte [esi], 0
    jne wrong
    inc esi
    dec ecx
    jnz .scan
    PRINT `mb_fail: failing on purpose\n`
    mov al, 1
    jmp exit_vm

wrong:
    PRINT `mb_fail: FAIL: no multiboot magic, or the bss is not zeroed\n`
    mov al, 2
    jmp exit_vm

MB_COMMON_CODE

align 16
load_end:                              ; the file goes on with bytes that are not
bss_start:                             ; loaded: the bss must be zeroes instead
    times BSS_SIZE db BSS_FILL
bss_end:
