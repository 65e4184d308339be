// sigchan's signal-return trampoline for 32-bit ARM Linux, ARM state (assembled by rustc).
//
// The kernel sets lr, the handler's return address, to sa_restorer. The two instructions are
// glibc's __default_rt_sa_restorer,
//     e3a070ad    mov r7, #173    (__NR_rt_sigreturn)
//     ef000000    svc #0
// which gdb (arm_linux_rt_sigreturn_tramp_frame) matches. libgcc on ARM unwinds with the EHABI
// tables and has no byte matcher, so, as glibc does, the trampoline carries unwind
// annotations describing the signal frame: when the handler returns here, sp points at the
// kernel's rt_sigframe (siginfo, 128 bytes; then struct ucontext: uc_flags, uc_link, uc_stack,
// 20 bytes; then struct sigcontext: trap_no, error_code, oldmask, 12 bytes), so the
// interrupted r0-r15 lie 160 bytes up. ".pad #160" then ".save {r0-r15}" unwinds as "skip 160
// bytes, then load r0-r15", r15 being the interrupted pc. The annotated region starts at the
// nop, so the unwinder's lookup of the return address minus 2 finds it.
// rt_sigreturn never returns; udf traps if it ever does.

    .text
    .syntax unified
    .arm
    .globl  sigchan_sigaction_restorer
    .type   sigchan_sigaction_restorer, %function
    .p2align 3
    .fnstart
    .save   {r0-r15}
    .pad    #160
    nop
sigchan_sigaction_restorer:
    mov     r7, #173
    svc     #0
    udf     #0
    .fnend
    .size   sigchan_sigaction_restorer, .-sigchan_sigaction_restorer
