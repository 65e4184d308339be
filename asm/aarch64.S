// sigchan's signal-return trampoline for aarch64 Linux (assembled by rustc).
//
// The kernel sets the handler's link register (x30) to sa_restorer. The two instructions are
// the ones the kernel's own vDSO trampoline and glibc use,
//     d2801168    mov x8, #139     (__NR_rt_sigreturn)
//     d4000001    svc #0
// which gdb (aarch64_linux_sigtramp) and libgcc's unwinder (aarch64_fallback_frame_state) match
// to recognise a signal frame. rt_sigreturn never returns; udf traps if it ever does.

    .text
    .globl  sigchan_sigaction_restorer
    .type   sigchan_sigaction_restorer, %function
    .p2align 4
    nop
sigchan_sigaction_restorer:
    mov     x8, #139
    svc     #0
    udf     #0
    .size   sigchan_sigaction_restorer, .-sigchan_sigaction_restorer
