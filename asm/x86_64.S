// sigchan's signal-return trampoline for x86_64 Linux (AT&T syntax, assembled by rustc).
//
// The kernel makes a handler "return" here: sa_restorer is pushed as the handler's return
// address. The two instructions must be exactly glibc's __restore_rt bytes,
//     48 c7 c0 0f 00 00 00    movq $15, %rax     (__NR_rt_sigreturn)
//     0f 05                   syscall
// because gdb (amd64_linux_sigtramp_p) and libgcc's unwinder (x86_64_fallback_frame_state)
// recognise a signal frame by that byte pattern and then walk into the interrupted code.
// `mov $15, %eax` would work but breaks backtraces. No CFI is emitted on purpose: unwinders
// find no FDE for this address and fall back to the pattern match above (the `nop` before the
// label keeps pc-1, which unwinders look up, outside any other function's FDE).
// The name matters too: gdb's amd64_linux_sigtramp_p only checks the bytes when the address
// has no symbol, or its symbol is `__restore_rt` or contains "sigaction" (glibc's trampoline
// is unexported and resolves to sigaction). Hence "sigaction" in ours.
// rt_sigreturn never returns; ud2 makes a wrong syscall number crash instead of running on.

    .text
    .globl  sigchan_sigaction_restorer
    .type   sigchan_sigaction_restorer, @function
    .p2align 4
    nop
sigchan_sigaction_restorer:
    movq    $15, %rax
    syscall
    ud2
    .size   sigchan_sigaction_restorer, .-sigchan_sigaction_restorer
