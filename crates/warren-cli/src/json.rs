//! The one way `warren` prints JSON: compact, one document per line (so that a stream of
//! messages or queues is JSON Lines a script can pipe into `jq` or replay), and a closed pipe
//! reported as an error rather than a panic.

use std::io::Write;

use warren_core::{Error, Result};

/// Writes `value` as one line of JSON.
pub fn write_line(out: &mut impl Write, value: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(|e| stdout_error(e.into()))?;
    out.write_all(b"\n").map_err(stdout_error)
}

/// Prints `value` as one line of JSON on standard output.
pub fn print(value: &impl serde::Serialize) -> Result<()> {
    write_line(&mut std::io::stdout().lock(), value)
}

pub fn stdout_error(e: std::io::Error) -> Error {
    Error::File {
        path: "(standard output)".into(),
        reason: e.to_string(),
    }
}
