//! Messages as Warren keeps them outside the broker: the message format ([`format`], whose
//! items are re-exported here), templates that render messages to publish ([`template`]), and
//! message files ([`file`]).

pub mod budget;
pub mod death;
pub mod file;
pub mod format;
pub mod template;

pub use death::{death_records, DeathRecord};
pub use format::*;
