; The test guests (built from tests/guests/ by tests/guests/guests.mk into
; $(BUILD)/guests/, which the Makefile puts on NASM's include path), linked
; into the core for the self-test and the benchmark.

global guest_image_selftest, guest_image_selftest_end
global guest_image_triple_fault, guest_image_triple_fault_end
global guest_image_bench, guest_image_bench_end

section .rodata
align 16
guest_image_selftest:
    incbin "selftest.bin"
guest_image_selftest_end:
align 16
guest_image_triple_fault:
    incbin "triple_fault.bin"
guest_image_triple_fault_end:
align 16
guest_image_bench:
    incbin "bench.bin"
guest_image_bench_end:

section .note.GNU-stack noalloc noexec nowrite progbits
