// sigchan's signal-return trampoline for x86_64 Linux (AT&T syntax, assembled by rustc).
//
// The kernel makes a handler "return" here: sa_restorer is pushed as the handler's return
// address. The two instructions must be exactly glibc's __restore_rt bytes,
//     48 c7 c0 0f 00 00 00    movq $15, %rax     (__NR_rt_sigreturn)
//     0f 05                   syscall
// because gdb (amd64_linux_sigtramp_p) and libgcc's unwinder (x86_64_fallback_frame_state)
// recognise a signal frame by that byte pattern and then walk into the interrupted code.
// `mov $15, %eax` would work but breaks backtraces.
// The name matters too: gdb's amd64_linux_sigtramp_p only checks the bytes when the address
// has no symbol, or its symbol is `__restore_rt` or contains "sigaction" (glibc's trampoline
// is unexported and resolves to sigaction). Hence "sigaction" in ours.
// rt_sigreturn never returns; ud2 makes a wrong syscall number crash instead of running on.
//
// Unwind information, for unwinders that do not match bytes (LLVM's libunwind, which Rust's
// musl targets use): a signal frame ('S' augmentation, from .cfi_signal_frame) whose CFA and
// registers are read from the kernel's frame. When the handler returns here, rsp points at
// the kernel's struct ucontext (the return address was popped); its uc_mcontext starts 40
// bytes in (uc_flags, uc_link, uc_stack) and holds, 8 bytes each, r8-r15, rdi, rsi, rbp, rbx,
// rdx, rax, rcx, rsp, rip (arch/x86/include/uapi/asm/sigcontext.h). The escapes below are
// DW_CFA_def_cfa_expression (0x0f) "CFA = *(rsp + 160)", the interrupted rsp, and one
// DW_CFA_expression (0x10) "register saved at rsp + offset" (DW_OP_breg7, 0x77, with an
// SLEB128 offset) per register, DWARF numbers rax 0, rdx 1, rcx 2, rbx 3, rsi 4, rdi 5,
// rbp 6, r8-r15 8-15, rip 16 (the return address column). The FDE starts at the nop so that
// an unwinder looking up pc - 1 from the handler's return address still finds it.

    .text
    .globl  sigchan_sigaction_restorer
    .type   sigchan_sigaction_restorer, @function
    .p2align 4
    .cfi_startproc simple
    .cfi_signal_frame
    .cfi_escape 0x0f, 0x04, 0x77, 0xa0, 0x01, 0x06
    .cfi_escape 0x10, 0x08, 0x02, 0x77, 0x28
    .cfi_escape 0x10, 0x09, 0x02, 0x77, 0x30
    .cfi_escape 0x10, 0x0a, 0x02, 0x77, 0x38
    .cfi_escape 0x10, 0x0b, 0x03, 0x77, 0xc0, 0x00
    .cfi_escape 0x10, 0x0c, 0x03, 0x77, 0xc8, 0x00
    .cfi_escape 0x10, 0x0d, 0x03, 0x77, 0xd0, 0x00
    .cfi_escape 0x10, 0x0e, 0x03, 0x77, 0xd8, 0x00
    .cfi_escape 0x10, 0x0f, 0x03, 0x77, 0xe0, 0x00
    .cfi_escape 0x10, 0x05, 0x03, 0x77, 0xe8, 0x00
    .cfi_escape 0x10, 0x04, 0x03, 0x77, 0xf0, 0x00
    .cfi_escape 0x10, 0x06, 0x03, 0x77, 0xf8, 0x00
    .cfi_escape 0x10, 0x03, 0x03, 0x77, 0x80, 0x01
    .cfi_escape 0x10, 0x01, 0x03, 0x77, 0x88, 0x01
    .cfi_escape 0x10, 0x00, 0x03, 0x77, 0x90, 0x01
    .cfi_escape 0x10, 0x02, 0x03, 0x77, 0x98, 0x01
    .cfi_escape 0x10, 0x10, 0x03, 0x77, 0xa8, 0x01
    nop
sigchan_sigaction_restorer:
    movq    $15, %rax
    syscall
    ud2
    .cfi_endproc
    .size   sigchan_sigaction_restorer, .-sigchan_sigaction_restorer
