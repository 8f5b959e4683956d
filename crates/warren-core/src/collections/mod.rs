//! Collections: named, ordered sets of messages kept as one diff-friendly file, and their
//! replay. QA keep the messages that reproduce a bug or drive a test, share them through a
//! repository, and replay them against any cluster with a report of what became of each.
//!
//! - [`format`]: the file (JSON Lines with a versioned header; docs/collections.md), read
//!   with errors that name line and column, written atomically, exported as plain messages.
//! - [`store`]: a folder of collections (the app's data folder or one the user opened): list,
//!   create, rename, duplicate, delete, and the edits of a collection's messages.
//! - [`import`]: rabtap's saved messages and the management API's "get messages" reply.
//! - [`replay`]: a collection sent again through publish's run (confirms, failover with
//!   "maybe sent", one outcome per message), paced as fast as confirms allow, at a rate or at
//!   the recorded timing; [`reports`] keeps its last reports beside the collection.
//!
//! Like peek and publish, this takes the session and the API client it uses; it builds on
//! both (a save reads through peek, a replay sends through publish).

pub mod format;
pub mod import;
pub mod replay;
pub mod reports;
pub mod save;
pub mod store;

pub use format::{Collection, Entry, Source};
pub use replay::{Pacing, ReplayOutcome, ReplayPlan, ReplayReport, ReplayRequest, ReplayTarget};
pub use store::{CollectionStore, CollectionSummary};
