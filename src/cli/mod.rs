//! The binary's own modules: arguments, and what the subcommands do.

pub mod args;
pub mod run;
pub mod witness;
