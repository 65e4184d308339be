// sigchan's signal-return trampoline for i686 Linux (AT&T syntax, assembled by rustc).
//
// The kernel pushes sa_restorer as the handler's return address. The two instructions are
// glibc's i386 __restore_rt bytes,
//     b8 ad 00 00 00    movl $173, %eax      (__NR_rt_sigreturn on i386)
//     cd 80             int $0x80
// which gdb (i386_linux_rt_sigtramp) and libgcc's unwinder (x86_fallback_frame_state, the
// unwinder of Rust's i686 glibc target) match to recognise a signal frame. The nop keeps
// pc - 1 outside any other function; "sigaction" in the name satisfies gdb's symbol check, as
// on x86_64. rt_sigreturn never returns; ud2 makes a wrong syscall number crash.

    .text
    .globl  sigchan_sigaction_restorer
    .type   sigchan_sigaction_restorer, @function
    .p2align 4
    nop
sigchan_sigaction_restorer:
    movl    $173, %eax
    int     $0x80
    ud2
    .size   sigchan_sigaction_restorer, .-sigchan_sigaction_restorer
