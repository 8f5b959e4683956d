//! Warren's integration tests: the real `warren` binary and warren-core against a real local
//! RabbitMQ cluster (`tests/cluster/up`, then `tests/cluster/seed`). One test binary; a new
//! test file is one more `mod` line here, no manifest entry.
//!
//! `WARREN_RABBITMQ` picks the cluster as in `tests/cluster/layout`: 3.10 (default, three
//! nodes, the one with mirroring), 4.3 (three nodes) or 4.0 (one node: run the `quorum::`
//! tests there). Tests whose expectations differ by version assert each version's own
//! behaviour. Some stop nodes or raise alarms: run them one at a time (`--test-threads=1`).
//!
//! `cargo test -p warren-cli --test integration -- --test-threads=1` runs them all;
//! `... --test integration peek::` one module.

mod common;

mod broken_replies;
mod cluster;
mod collections;
mod consume;
mod faults;
mod limits;
mod odd_names;
mod operator;
mod ops;
mod peek;
mod publish;
mod quorum;
mod refusals;
mod secrets;
mod tls;
mod unanswered;
mod watch;
