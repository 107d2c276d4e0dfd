; Multiboot headers of the core image. One ELF file carries both:
;  - multiboot2 (GRUB `multiboot2`): loaded through the ELF program headers
;    (physical addresses), entered at the address of the entry tag.
;  - multiboot1 in the address-field form (flag 16), because QEMU's -kernel
;    loader (and iPXE) refuse an ELF64 otherwise. The fields are physical.
; References: Multiboot spec 0.6.96 section 3.1; Multiboot2 spec section 3.1.

extern _start
extern __image_phys_start
extern __load_end_phys
extern __bss_end_phys

MB2_MAGIC       equ 0xe85250d6
MB2_ARCH_I386   equ 0
MB2_TAG_END     equ 0
MB2_TAG_ENTRY   equ 3
MB2_TAG_FLAGS   equ 4            ; console flags
MB2_TAG_OPTIONAL equ 1

MB1_MAGIC       equ 0x1badb002
MB1_PAGE_ALIGN  equ 1 << 0       ; modules page-aligned
MB1_MEMORY_INFO equ 1 << 1       ; mem_* and mmap_* fields wanted
MB1_ADDRESSES   equ 1 << 16      ; header carries load addresses
MB1_FLAGS       equ MB1_PAGE_ALIGN | MB1_MEMORY_INFO | MB1_ADDRESSES

section .multiboot
align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
align 8
    dw MB2_TAG_ENTRY, 0
    dd 12
    dd _start
align 8
    dw MB2_TAG_END, 0
    dd 8
mb2_header_end:

align 4
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)
    dd mb1_header               ; header_addr
    dd __image_phys_start       ; load_addr
    dd __load_end_phys          ; load_end_addr
    dd __bss_end_phys           ; bss_end_addr
    dd _start                   ; entry_addr

section .note.GNU-stack noalloc noexec nowrite progbits
