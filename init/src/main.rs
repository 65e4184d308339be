//! sigchan-init: a container init (PID 1) on sigchan. The name it runs under decides whose
//! command line it takes: `tini` and `docker-init` (what Docker's `--init` runs) take
//! tini's, `dumb-init` takes dumb-init's, any other name sigchan-init's own.

#![cfg_attr(not(test), no_main)]

mod child;
mod config;
mod dumb_init_cli;
mod getopt;
mod log;
mod native_cli;
mod supervise;
mod tini_cli;

use config::{Early, Personality};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt as _;

/// The personality for the program name `argv0` (its basename).
fn personality(argv0: &str) -> Personality {
    match argv0.rsplit('/').next().unwrap_or(argv0) {
        "tini" | "tini-static" | "docker-init" => Personality::Tini,
        "dumb-init" => Personality::DumbInit,
        _ => Personality::Native,
    }
}

/// The C entry point: no Rust `main`, so std's runtime start-up does not run, and with it
/// goes the one change it makes to a process's signals (SIGPIPE ignored). The child of a
/// tini must inherit SIGPIPE exactly as tini's parent left it, and only code that runs
/// before any of std's can see that.
#[cfg_attr(not(test), no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    let start = child::StartSignals::capture();
    let args: Vec<OsString> = (0..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: the C runtime passes argc valid NUL-terminated strings in argv.
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            OsString::from_vec(arg.to_bytes().to_vec())
        })
        .collect();
    run(args, &start)
}

/// Parses the command line of the personality `args[0]` names and runs the init.
fn run(args: Vec<OsString>, start: &child::StartSignals) -> i32 {
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sigchan-init".into());
    let env = |k: &str| std::env::var(k).ok();
    let rest = args.get(1..).unwrap_or_default();
    let parsed = match personality(&argv0) {
        Personality::Tini => tini_cli::parse(&argv0, rest, &env),
        Personality::DumbInit => dumb_init_cli::parse(&argv0, rest, &env),
        Personality::Native => native_cli::parse(&args),
    };
    let code = match parsed {
        Ok(cfg) => supervise::run(&cfg, start),
        Err(Early::Stdout(text)) => {
            print!("{text}");
            0
        }
        Err(Early::Stderr(text, code)) => {
            log::write_line(&mut std::io::stderr(), &text);
            code
        }
    };
    let _ = std::io::stdout().flush();
    code & 0xff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_decides_the_personality() {
        assert_eq!(personality("/usr/bin/tini"), Personality::Tini);
        assert_eq!(personality("/sbin/docker-init"), Personality::Tini);
        assert_eq!(personality("dumb-init"), Personality::DumbInit);
        assert_eq!(personality("./sigchan-init"), Personality::Native);
    }
}
