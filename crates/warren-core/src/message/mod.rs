//! Messages as Warren keeps them outside the broker: the message format ([`format`], whose
//! items are re-exported here) and templates that render messages to publish ([`template`]).

pub mod format;
pub mod template;

pub use format::*;
