// sigchan's signal-return trampoline for s390x Linux (assembled by rustc).
//
// The kernel sets r14, the handler's return address, to sa_restorer. The instruction is the
// one glibc's __restore_rt and the kernel's vDSO use,
//     0a ad    svc 173      (__NR_rt_sigreturn; s390 encodes numbers below 256 in the svc)
// which gdb (s390_sigtramp_frame_sniffer) and libgcc's unwinder (s390_fallback_frame_state,
// the unwinder of Rust's s390x glibc target) match to recognise a signal frame. The nopr
// keeps pc - 1 outside any other function; rt_sigreturn never returns; the zero halfword
// after it is an invalid opcode, so a wrong number crashes with SIGILL instead of running on.

    .text
    .globl  sigchan_sigaction_restorer
    .type   sigchan_sigaction_restorer, @function
    .p2align 3
    nopr    %r7
sigchan_sigaction_restorer:
    svc     173
    .short  0
    .size   sigchan_sigaction_restorer, .-sigchan_sigaction_restorer
