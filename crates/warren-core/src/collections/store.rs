//! A folder of collections: the app's own (in its data folder) or any folder the user opens,
//! such as one in a team's repository. Every operation reads or rewrites the files, so the app
//! and the CLI working on the same folder see each other's changes.
//!
//! Why each write is guarded: a file is rewritten atomically ([`format::write`]), and a file
//! that does not parse is never overwritten (its error, with line and column, is returned
//! instead), so a hand-edited collection with a typo is not lost to a save from the app.
//! Collections are addressed by file name within the folder; the collection's name is in its
//! header (and, for a new one, gives the file its name).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::format::{self, Collection, Entry};
use super::replay::ReplayReport;
use super::reports;
use crate::error::{Error, Result};

/// One collection as a folder listing shows it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CollectionSummary {
    /// The file's name within the folder: how the store addresses the collection.
    pub file: String,
    pub name: String,
    pub description: String,
    pub messages: u32,
    /// Last modification, Unix epoch milliseconds.
    #[ts(type = "number")]
    pub modified_ms: u64,
    /// Why the file cannot be opened (with line and column), when it cannot.
    #[ts(optional = nullable)]
    pub error: Option<String>,
}

/// A folder of collection files (`*.jsonl`, `*.json`).
#[derive(Debug, Clone)]
pub struct CollectionStore {
    dir: PathBuf,
}

impl CollectionStore {
    /// The app's own folder: `$WARREN_DATA_DIR/collections`, else `collections` in the OS data
    /// directory (`~/.local/share/warren/collections` on Linux). Created when missing.
    pub fn default_location() -> Result<Self> {
        let base = match std::env::var_os("WARREN_DATA_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => directories::ProjectDirs::from("", "", "warren")
                .map(|p| p.data_dir().to_path_buf())
                .ok_or_else(|| Error::File {
                    path: PathBuf::from("~"),
                    reason: "no home directory to keep collections in".into(),
                })?,
        };
        let dir = base.join("collections");
        std::fs::create_dir_all(&dir).map_err(|e| Error::File {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        Ok(CollectionStore { dir })
    }

    /// A folder the user opened; it must exist.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(Error::File {
                path: dir,
                reason: "not a folder".into(),
            });
        }
        Ok(CollectionStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of collection `file`; refuses anything but a plain file name in the folder.
    pub fn path(&self, file: &str) -> Result<PathBuf> {
        let plain = !file.is_empty()
            && !file.starts_with('.')
            && !file.contains(['/', '\\'])
            && is_collection_file(file);
        if !plain {
            return Err(Error::invalid(
                "file",
                format!("\"{file}\" is not the name of a .jsonl or .json file in the folder"),
            ));
        }
        Ok(self.dir.join(file))
    }

    fn existing(&self, file: &str) -> Result<PathBuf> {
        let path = self.path(file)?;
        if !path.is_file() {
            return Err(Error::CollectionNotFound(format!(
                "\"{file}\" in {}",
                self.dir.display()
            )));
        }
        Ok(path)
    }

    /// Every collection file of the folder, by name; one that does not parse is listed with
    /// its error.
    pub fn list(&self) -> Result<Vec<CollectionSummary>> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::File {
            path: self.dir.clone(),
            reason: e.to_string(),
        })?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with('.') || !is_collection_file(&file) || !entry.path().is_file() {
                continue;
            }
            out.push(self.summary(&file));
        }
        out.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()));
        Ok(out)
    }

    fn summary(&self, file: &str) -> CollectionSummary {
        let path = self.dir.join(file);
        let modified_ms = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64);
        match format::read(&path) {
            Ok(c) => CollectionSummary {
                file: file.to_owned(),
                name: c.name,
                description: c.description,
                messages: c.messages.len() as u32,
                modified_ms,
                error: None,
            },
            Err(e) => CollectionSummary {
                file: file.to_owned(),
                name: format::name_from_path(&path),
                description: String::new(),
                messages: 0,
                modified_ms,
                error: Some(e.to_string()),
            },
        }
    }

    pub fn read(&self, file: &str) -> Result<Collection> {
        format::read(&self.existing(file)?)
    }

    /// A new, empty collection; its file is named after it.
    pub fn create(&self, name: &str, description: &str) -> Result<CollectionSummary> {
        let c = Collection {
            name: checked_name(name)?,
            description: description.to_owned(),
            ..Collection::default()
        };
        self.create_with(c)
    }

    /// Writes `collection` as a new file named after it (never over an existing one).
    pub fn create_with(&self, collection: Collection) -> Result<CollectionSummary> {
        let file = format!("{}.jsonl", file_stem(&checked_name(&collection.name)?));
        let path = self.path(&file)?;
        if path.exists() {
            return Err(Error::CollectionExists(format!(
                "\"{file}\" in {}",
                self.dir.display()
            )));
        }
        format::write(&path, &collection)?;
        Ok(self.summary(&file))
    }

    /// Replaces collection `file` with `collection`. A file that does not parse is not
    /// overwritten: its error is returned.
    pub fn write(&self, file: &str, collection: &Collection) -> Result<CollectionSummary> {
        let path = self.path(file)?;
        checked_name(&collection.name)?;
        if path.exists() {
            format::read(&path)?;
        }
        format::write(&path, collection)?;
        Ok(self.summary(file))
    }

    /// Reads `file`, changes it with `change`, writes it back.
    pub fn update(
        &self,
        file: &str,
        change: impl FnOnce(&mut Collection) -> Result<()>,
    ) -> Result<CollectionSummary> {
        let path = self.existing(file)?;
        let mut c = format::read(&path)?;
        change(&mut c)?;
        format::write(&path, &c)?;
        Ok(self.summary(file))
    }

    /// Gives collection `file` a new name, and its file (and kept reports) the name's.
    pub fn rename(&self, file: &str, new_name: &str) -> Result<CollectionSummary> {
        let from = self.existing(file)?;
        let mut c = format::read(&from)?;
        c.name = checked_name(new_name)?;
        let new_file = format!("{}.jsonl", file_stem(&c.name));
        if new_file == file {
            return self.write(file, &c);
        }
        let to = self.path(&new_file)?;
        if to.exists() {
            return Err(Error::CollectionExists(format!(
                "\"{new_file}\" in {}",
                self.dir.display()
            )));
        }
        format::write(&to, &c)?;
        reports::rename(&from, &to)?;
        std::fs::remove_file(&from).map_err(|e| Error::File {
            path: from.clone(),
            reason: e.to_string(),
        })?;
        Ok(self.summary(&new_file))
    }

    /// A copy of collection `file` named `new_name` (reports are not copied).
    pub fn duplicate(&self, file: &str, new_name: &str) -> Result<CollectionSummary> {
        let mut c = self.read(file)?;
        c.name = checked_name(new_name)?;
        self.create_with(c)
    }

    /// Deletes collection `file` and its kept reports.
    pub fn delete(&self, file: &str) -> Result<()> {
        let path = self.existing(file)?;
        std::fs::remove_file(&path).map_err(|e| Error::File {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        reports::delete(&path)
    }

    /// Adds `entries` at the end of collection `file`.
    pub fn append(&self, file: &str, entries: Vec<Entry>) -> Result<CollectionSummary> {
        self.update(file, |c| {
            c.messages.extend(entries);
            Ok(())
        })
    }

    /// The reports of the last replays of collection `file`, oldest first.
    pub fn reports(&self, file: &str) -> Result<Vec<ReplayReport>> {
        reports::read(&self.existing(file)?)
    }

    /// Keeps `report` beside collection `file` (see [`reports::keep`]).
    pub fn keep_report(&self, file: &str, report: &ReplayReport) -> Result<()> {
        reports::keep(&self.existing(file)?, report)
    }
}

fn is_collection_file(file: &str) -> bool {
    file.ends_with(".jsonl") || file.ends_with(".json")
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "a collection needs a name"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "no control characters in a name"));
    }
    Ok(name.to_owned())
}

/// A file name for a collection's name: letters, digits, `-`, `_` and `.` kept, the rest `-`.
fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_owned();
    if s.is_empty() {
        "collection".to_owned()
    } else {
        s
    }
}

impl Collection {
    /// Checks 0-based message indices against the collection: each exists, none twice.
    pub fn check_indices(&self, indices: &[u32]) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for &i in indices {
            if i as usize >= self.messages.len() {
                return Err(Error::invalid(
                    "selection",
                    format!(
                        "message {} does not exist (the collection holds {})",
                        i + 1,
                        self.messages.len()
                    ),
                ));
            }
            if !seen.insert(i) {
                return Err(Error::invalid(
                    "selection",
                    format!("message {} is selected twice", i + 1),
                ));
            }
        }
        Ok(())
    }

    /// Removes the messages at `indices` (0-based).
    pub fn remove_messages(&mut self, indices: &[u32]) -> Result<()> {
        self.check_indices(indices)?;
        let mut i = 0u32;
        self.messages.retain(|_| {
            let keep = !indices.contains(&i);
            i += 1;
            keep
        });
        Ok(())
    }

    /// Copies of the messages at `indices`, each inserted right after its original.
    pub fn duplicate_messages(&mut self, indices: &[u32]) -> Result<()> {
        self.check_indices(indices)?;
        let mut sorted = indices.to_vec();
        sorted.sort_unstable();
        for i in sorted.into_iter().rev() {
            let copy = self.messages[i as usize].clone();
            self.messages.insert(i as usize + 1, copy);
        }
        Ok(())
    }

    /// Moves the messages at `indices` (in their current order) so that the first of them
    /// lands at `to`, counted in the collection without them.
    pub fn move_messages(&mut self, indices: &[u32], to: u32) -> Result<()> {
        self.check_indices(indices)?;
        let mut sorted = indices.to_vec();
        sorted.sort_unstable();
        let moved: Vec<Entry> = sorted
            .iter()
            .map(|&i| self.messages[i as usize].clone())
            .collect();
        self.remove_messages(&sorted)?;
        if to as usize > self.messages.len() {
            return Err(Error::invalid(
                "to",
                format!("position {} is past the end", to + 1),
            ));
        }
        let at = to as usize;
        self.messages.splice(at..at, moved);
        Ok(())
    }

    /// Replaces message `index` (an edit in the composer).
    pub fn replace_message(&mut self, index: u32, entry: Entry) -> Result<()> {
        self.check_indices(&[index])?;
        self.messages[index as usize] = entry;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MessageJson;

    fn entry(key: &str) -> Entry {
        Entry {
            message: MessageJson {
                exchange: String::new(),
                routing_key: key.into(),
                properties: Default::default(),
                body: String::new(),
                body_encoding: Default::default(),
            },
            recorded_at: None,
            source: None,
        }
    }

    fn keys(c: &Collection) -> String {
        c.messages
            .iter()
            .map(|e| e.message.routing_key.as_str())
            .collect()
    }

    #[test]
    fn messages_move_duplicate_and_go() {
        let mut c = Collection {
            name: "c".into(),
            messages: "abcde".chars().map(|k| entry(&k.to_string())).collect(),
            ..Collection::default()
        };
        c.move_messages(&[3, 1], 0).unwrap();
        assert_eq!(keys(&c), "bdace");
        c.move_messages(&[0], 4).unwrap();
        assert_eq!(keys(&c), "daceb");
        c.duplicate_messages(&[0, 2]).unwrap();
        assert_eq!(keys(&c), "ddacceb");
        c.remove_messages(&[0, 6]).unwrap();
        assert_eq!(keys(&c), "dacce");
        assert!(c.remove_messages(&[5]).is_err());
        assert!(c.move_messages(&[1, 1], 0).is_err());
        assert!(c.move_messages(&[1], 5).is_err());
    }

    #[test]
    fn the_store_lists_creates_renames_duplicates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = CollectionStore::open(dir.path()).unwrap();
        let s = store.create("Orders EU", "checkout bugs").unwrap();
        assert_eq!(s.file, "Orders-EU.jsonl");
        assert!(matches!(
            store.create("Orders EU", ""),
            Err(Error::CollectionExists(_))
        ));
        store.append(&s.file, vec![entry("a"), entry("b")]).unwrap();
        let r = store.rename(&s.file, "orders").unwrap();
        assert_eq!((r.file.as_str(), r.messages), ("orders.jsonl", 2));
        assert!(!dir.path().join("Orders-EU.jsonl").exists());
        let d = store.duplicate(&r.file, "orders copy").unwrap();
        assert_eq!(store.read(&d.file).unwrap().messages.len(), 2);
        // A broken file is listed with its error and never overwritten.
        std::fs::write(dir.path().join("broken.jsonl"), "{\"routing_key\":\n").unwrap();
        let list = store.list().unwrap();
        assert_eq!(list.len(), 3);
        let broken = list.iter().find(|s| s.file == "broken.jsonl").unwrap();
        assert!(broken.error.as_deref().unwrap().contains("line 1, column"));
        let c = store.read("orders.jsonl").unwrap();
        assert!(matches!(
            store.write("broken.jsonl", &c),
            Err(Error::Parse { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("broken.jsonl")).unwrap(),
            "{\"routing_key\":\n"
        );
        store.delete(&d.file).unwrap();
        assert_eq!(store.list().unwrap().len(), 2);
        for bad in ["../x.jsonl", ".hidden.jsonl", "x.txt", ""] {
            assert!(store.read(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            store.read("none.jsonl"),
            Err(Error::CollectionNotFound(_))
        ));
    }
}
