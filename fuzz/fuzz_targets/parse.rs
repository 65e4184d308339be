//! `Signal::from_str` on arbitrary input never panics, and every string it accepts names a
//! signal whose `Display` parses back to the same signal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigchan::Signal;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sig) = text.parse::<Signal>() {
        let shown = sig.to_string();
        assert_eq!(shown.parse::<Signal>().ok(), Some(sig), "{text:?} -> {shown:?}");
        assert!((1..=64).contains(&sig.as_raw()));
    }
});
