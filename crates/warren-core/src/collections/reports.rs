//! The reports of a collection's last replays, kept beside it: in the folder
//! `.warren-reports/` next to the collection file, one JSON Lines file per collection
//! (`.warren-reports/orders.jsonl` for `orders.jsonl`), oldest first, at most [`KEEP`].
//!
//! A hidden folder of their own so that a team keeping collections in a repository can
//! ignore the reports with one line, and a folder listing never shows them as collections.
//! Each keep rewrites the file atomically.

use std::path::{Path, PathBuf};

use super::replay::ReplayReport;
use crate::error::{Error, Result};
use crate::message::file::write_atomically;

/// How many reports are kept per collection.
pub const KEEP: usize = 20;

const FOLDER: &str = ".warren-reports";

/// Where the reports of the collection at `collection` are kept.
pub fn path_of(collection: &Path) -> PathBuf {
    let dir = collection
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = collection
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".jsonl")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    dir.join(FOLDER).join(format!("{stem}.jsonl"))
}

fn file_error(path: &Path, e: impl ToString) -> Error {
    Error::File {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// The kept reports, oldest first; none when nothing was kept. Lines that do not parse (a
/// report of a newer Warren) are skipped.
pub fn read(collection: &Path) -> Result<Vec<ReplayReport>> {
    let path = path_of(collection);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(file_error(&path, e)),
    };
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Adds `report` to the collection's kept reports, dropping the oldest beyond [`KEEP`].
pub fn keep(collection: &Path, report: &ReplayReport) -> Result<()> {
    let path = path_of(collection);
    let dir = path.parent().expect("reports live in a folder");
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    let mut all = read(collection)?;
    all.push(report.clone());
    let skip = all.len().saturating_sub(KEEP);
    write_atomically(&path, |w| {
        for r in &all[skip..] {
            serde_json::to_writer(&mut *w, r)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|e| file_error(&path, e))
}

/// Moves the reports of `from` to `to` (a renamed collection).
pub fn rename(from: &Path, to: &Path) -> Result<()> {
    let (a, b) = (path_of(from), path_of(to));
    if a.exists() {
        std::fs::rename(&a, &b).map_err(|e| file_error(&a, e))?;
    }
    Ok(())
}

/// Deletes the reports of a deleted collection.
pub fn delete(collection: &Path) -> Result<()> {
    let path = path_of(collection);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(file_error(&path, e)),
    }
}
