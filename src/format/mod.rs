//! Writers for the output formats, one file per format, and the atomic-write helper they share.

pub mod atomic;
