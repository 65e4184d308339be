//! The libc thread calls the runtime needs that have no system call of their own: starting
//! a thread, where the calling thread's stacks are, and `pthread_atfork`. Not
//! async-signal-safe; the handler never calls these.

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

/// Starts a detached thread named `name` (at most 15 bytes) on a stack of `stack_size`
/// bytes, running `body`.
///
/// `pthread_create` itself rather than `std::thread`: std's thread start registers the new
/// thread under a process-wide lock of its own (its stack-overflow guard bookkeeping), and in
/// the child of a `fork` made while another thread held that lock the new thread would block
/// on it for ever. The C library resets its own thread-creation locks in a forked child.
pub fn spawn_detached(
    name: &std::ffi::CStr,
    stack_size: usize,
    body: Box<dyn FnOnce() + Send>,
) -> std::io::Result<()> {
    type Body = Box<dyn FnOnce() + Send>;
    extern "C" fn start(p: *mut libc::c_void) -> *mut libc::c_void {
        // SAFETY: `p` is the `Box<Body>` leaked below, handed to this thread only.
        let body = unsafe { Box::from_raw(p.cast::<Body>()) };
        body();
        std::ptr::null_mut()
    }
    let boxed: *mut Body = Box::into_raw(Box::new(body));
    // SAFETY: attr is initialised before use and destroyed after; `start` has the signature
    // pthread_create expects and takes ownership of `boxed` once the thread exists.
    let ret = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        libc::pthread_attr_init(&mut attr);
        libc::pthread_attr_setstacksize(&mut attr, stack_size.max(libc::PTHREAD_STACK_MIN));
        libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
        let mut thread: libc::pthread_t = std::mem::zeroed();
        let ret = libc::pthread_create(&mut thread, &attr, start, boxed.cast());
        libc::pthread_attr_destroy(&mut attr);
        if ret == 0 {
            libc::pthread_setname_np(thread, name.as_ptr());
        }
        ret
    };
    if ret != 0 {
        // SAFETY: no thread was made, so `boxed` is still ours.
        drop(unsafe { Box::from_raw(boxed) });
        return Err(std::io::Error::from_raw_os_error(ret));
    }
    Ok(())
}
