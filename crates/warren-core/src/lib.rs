//! Warren's broker logic, free of any UI toolkit: the desktop app (`src-tauri`) and the
//! `warren` CLI are both thin adapters over this crate. See docs/ARCHITECTURE.md.

pub mod api;
pub mod broker;
pub mod cluster;
pub mod collections;
pub mod connections;
pub mod consume;
pub mod endpoint;
pub mod error;
pub mod inspector;
pub mod logging;
pub mod management;
pub mod message;
pub mod operation;
pub mod ops;
pub mod peek;
pub mod profiles;
pub mod publish;
pub mod queues;
pub mod session;
pub mod status;
pub mod time;
pub mod tls;
pub mod topology;
pub mod watch;

#[cfg(test)]
mod module_graph;

pub use error::{Error, ErrorKind, ErrorReport, Result};

/// The AMQP client Warren is built on, re-exported so that callers of
/// [`session::ClusterSession::run`] use the very same types.
pub use lapin;
