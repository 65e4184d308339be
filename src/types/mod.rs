//! The values sigchan's API and runtime exchange: `Signal` and `SignalSet` (numbers, names,
//! sets), `SigInfo` (an arrival's origin, decoded from a `sigctx::record::Record`) and
//! `Error`. Plain data: they use `crate::sys` and `crate::sigctx::record` only, and both the
//! runtime and the API build on them.

pub(crate) mod error;
pub(crate) mod info;
pub(crate) mod signal;
