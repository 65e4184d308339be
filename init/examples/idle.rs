//! The floor of a Rust program's memory: std's start-up and nothing else, asleep. The
//! versus bench reads its resident set beside the inits' (the dynamic glibc build of any
//! Rust program maps at least this much of the C library, ld.so and libgcc_s).
fn main() {
    loop {
        std::thread::park();
    }
}
