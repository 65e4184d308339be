//! The libc thread calls the runtime needs that have no system call of their own: where the
//! calling thread's stacks are, and `pthread_atfork`. Not async-signal-safe; the handler
//! never calls these.

/// A `[low, high)` address range.
pub type Range = (usize, usize);

/// The calling thread's stack as the C library allocated it (`pthread_getattr_np`).
pub fn current_stack() -> Option<Range> {
    // SAFETY: pthread_getattr_np fills an attr for the calling thread, which we query and
    // destroy; every out-pointer is a valid local.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        (ok && !addr.is_null()).then(|| (addr as usize, addr as usize + size))
    }
}

/// The calling thread's alternate signal stack, if one is installed and enabled.
pub fn current_alt_stack() -> Option<Range> {
    // SAFETY: querying (null new stack) into a zeroed stack_t, a valid out-pointer.
    let mut ss: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let ok = unsafe { libc::sigaltstack(std::ptr::null(), &mut ss) } == 0;
    (ok && ss.ss_flags & libc::SS_DISABLE == 0 && !ss.ss_sp.is_null())
        .then(|| (ss.ss_sp as usize, ss.ss_sp as usize + ss.ss_size))
}

/// `pthread_atfork(prepare, parent, child)`.
pub fn at_fork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) {
    // SAFETY: the three are plain `extern "C" fn()`s, valid for the life of the program;
    // what they do around a fork is their definer's concern (they run in a safe context).
    unsafe {
        libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
    }
}
