; mb_hello: a multiboot1 guest in ELF32 form (nasm -f elf32, ld -m elf_i386;
; tests/guests/mb_guests.mk). It checks what the VMM gave it (README.md,
; "Multiboot guests"): the magic, the info flags, mem_lower/mem_upper
; against the memory map, the command line's first word, the boot loader
; name, the first module's placement and contents, then COM1's registers and
; unbacked MMIO (reads all ones, writes ignored). It prints
;   hello from a multiboot guest: cmdline '<cmdline>'
; and ends with status 0 when every check passed, else prints the failed
; check and ends with status 1.

%include "mb_common.inc"

%define HELLO_FLAGS      (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO)
%define MEM_LOWER_KIB    640
%define HIGH_RAM         0x100000
%define MMAP_ENTRY_SIZE  20
%define MEMORY_AVAILABLE 1

; CHECK cc, "what": goes on when condition cc holds, else fails with "what".
%macro CHECK 2
    j%1 %%ok
    mov esi, %%what
    jmp fail
%%what: db %2, 0
%%ok:
%endmacro

bits 32
section .text
align 4
multiboot_header:
    dd MB_HEADER_MAGIC
    dd HELLO_FLAGS
    dd -(MB_HEADER_MAGIC + HELLO_FLAGS)

global _start
_start:
    mov esp, stack_top
    cmp eax, MB_BOOTLOADER_MAGIC
    CHECK e, "EAX holds the multiboot magic"
    mov eax, [ebx + MBI_FLAGS]
    and eax, MBI_NEEDED
    cmp eax, MBI_NEEDED
    CHECK e, "info flags: memory, cmdline, modules, mmap, boot loader name"

    PRINT "hello from a multiboot guest: cmdline '"
    mov esi, [ebx + MBI_CMDLINE]
    mov ecx, 256
    call puts
    PRINT `'\n`

    mov esi, [ebx + MBI_CMDLINE]
    mov edi, program_name
    call first_word_is
    CHECK e, "the command line's first word is mb_hello"
    mov esi, [ebx + MBI_LOADER_NAME]
    mov edi, loader_name
    call first_word_is
    CHECK e, "boot loader name 'Keel'"
    cmp dword [ebx + MBI_MEM_LOWER], MEM_LOWER_KIB
    CHECK e, "mem_lower is 640"
    call check_mmap
    call check_module
    call check_uart
    call check_mmio
    call check_string_io

    PRINT `mb_hello: all checks passed\n`
    mov al, 0
    jmp exit_vm

; check_string_io: REP OUTSB of a line to COM1's THR, and REP INSB of COM1's
; LSR four times: each read says the transmitter is empty (string I/O goes to
; the VMM in batches, DESIGN.md section 5).
check_string_io:
    cld
    mov esi, string_line
    mov ecx, string_line_len
    mov dx, COM1
    rep outsb
    test ecx, ecx
    CHECK z, "REP OUTSB left ECX at 0"
    mov edi, lsr_reads
    mov ecx, 4
    mov dx, COM1_LSR
    rep insb
    mov esi, lsr_reads
    mov ecx, 4
.lsr:
    lodsb
    test al, LSR_THRE
    CHECK nz, "REP INSB of the LSR says the transmitter is empty"
    loop .lsr
    ret

string_line:     db "mb_hello: a line written with REP OUTSB", 10
string_line_len  equ $ - string_line
lsr_reads:       times 4 db 0

fail:
    push esi
    PRINT "mb_hello: FAIL: "
    pop esi
    xor ecx, ecx
    call puts
    PRINT `\n`
    mov al, 1
    jmp exit_vm

; first_word_is: ZF set when the string at ESI starts with the NUL-terminated
; word at EDI followed by a blank or its end.
first_word_is:
    mov al, [edi]
    test al, al
    jz .end_of_word
    cmp al, [esi]
    jne .no
    inc esi
    inc edi
    jmp first_word_is
.end_of_word:                           ; the word matched: a blank or the end must follow
    mov al, [esi]
    test al, al
    jz .yes
    cmp al, ' '
.yes:
    ret                                 ; ZF from the last compare
.no:
    ret                                 ; ZF clear from the compare that differed

; The memory map: entries of 20 bytes; the available one at 1 MiB is
; mem_upper KiB long.
check_mmap:
    cmp dword [ebx + MBI_MEM_UPPER], 0
    CHECK a, "mem_upper is not 0"
    mov esi, [ebx + MBI_MMAP_ADDR]
    mov edx, [ebx + MBI_MMAP_LENGTH]
    add edx, esi
    xor edi, edi                        ; found the entry at 1 MiB
.next:
    cmp esi, edx
    jae .done
    cmp dword [esi], MMAP_ENTRY_SIZE
    CHECK e, "memory map entries are 20 bytes"
    cmp dword [esi + 20], MEMORY_AVAILABLE
    jne .skip
    cmp dword [esi + 4], HIGH_RAM
    jne .skip
    mov eax, [esi + 12]
    shr eax, 10
    cmp eax, [ebx + MBI_MEM_UPPER]
    CHECK e, "the memory map's RAM at 1 MiB is mem_upper KiB"
    inc edi
.skip:
    add esi, [esi]
    add esi, 4
    jmp .next
.done:
    cmp edi, 1
    CHECK e, "the memory map has the RAM at 1 MiB"
    ret

; The first module, if any: page-aligned, non-empty, starting "KEELMOD1",
; with a name.
check_module:
    cmp dword [ebx + MBI_MODS_COUNT], 0
    je .none
    mov esi, [ebx + MBI_MODS_ADDR]
    mov eax, [esi]
    test eax, 0xfff
    CHECK z, "module 0 starts on a page boundary"
    mov ecx, [esi + 4]
    sub ecx, eax
    cmp ecx, 8
    CHECK ae, "module 0 holds at least 8 bytes"
    cmp dword [eax], 'KEEL'
    CHECK e, "module 0 starts with KEELMOD1"
    cmp dword [eax + 4], 'MOD1'
    CHECK e, "module 0 starts with KEELMOD1"
    mov edi, [esi + 8]
    cmp byte [edi], 0
    CHECK ne, "module 0 has a name"
    PRINT "mb_hello: module '"
    mov esi, edi
    mov ecx, 64
    call puts
    PRINT `' checked\n`
.none:
    ret

; COM1: the transmitter is empty, the scratch register keeps a value.
check_uart:
    mov dx, COM1_LSR
    in al, dx
    and al, 0x60
    cmp al, 0x60
    CHECK e, "COM1 LSR says THR empty and TEMT"
    mov dx, COM1_SCR
    mov al, 0xa5
    out dx, al
    in al, dx
    cmp al, 0xa5
    CHECK e, "COM1 scratch register keeps its value"
    ret

; Unbacked MMIO, with mov forms the core decodes: reads give all ones,
; writes are ignored.
check_mmio:
    mov eax, [UNBACKED_MMIO]            ; 8B /r
    cmp eax, 0xffffffff
    CHECK e, "a 32-bit MMIO read gives all ones"
    mov dword [UNBACKED_MMIO + 4], 0x12345678 ; C7 /0 id
    mov byte [UNBACKED_MMIO + 0x10], 0x5a ; C6 /0 ib
    movzx eax, byte [UNBACKED_MMIO + 0x10] ; 0F B6 /r
    cmp eax, 0xff
    CHECK e, "an 8-bit MMIO read after a write still gives all ones"
    xor eax, eax
    mov ax, [UNBACKED_MMIO + 0x20]      ; 66 8B /r
    cmp eax, 0xffff
    CHECK e, "a 16-bit MMIO read gives all ones"
    mov [UNBACKED_MMIO + 0x30], ecx     ; 89 /r
    ret

MB_COMMON_CODE

program_name: db "mb_hello", 0
loader_name: db "Keel", 0

section .bss
align 16
stack: resb 4096
stack_top:
