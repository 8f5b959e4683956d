//! Message files: the one place that reads and writes them, and the one way Warren writes any
//! file it must not leave half-written.
//!
//! A message file is one message (a JSON object, pretty-printed or not) or JSON Lines of
//! messages in the message format ([`super::format`]); saved peeks are written as JSON Lines
//! (peek extras included) and read back by publish. Every write goes to a temporary file in
//! the destination's folder, is flushed to disk, and is then renamed over the destination
//! ([`write_atomically`]), so a crash leaves either the old or the new file, never half of
//! one. The profiles file is written the same way.
//!
//! Every file Warren reads on a user's word (message files, body files, collections, imports,
//! a selection of messages) goes through [`read_bytes`]: only a regular file, only up to a
//! size, since a FIFO would block a read forever and `/dev/zero` would fill the memory.

use std::io::{Read, Write};
use std::path::Path;

use serde::Serialize;

use super::format::MessageJson;
use crate::error::{Error, Result};

/// Writes a file atomically: `write` fills a temporary file in `path`'s folder, which is
/// synced to disk and then renamed over `path`. The folder must exist.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_file(path, true, write)
}

/// Like [`write_atomically`], but never over an existing file: the rename itself refuses
/// (so a file that appears meanwhile is not replaced either) with
/// [`std::io::ErrorKind::AlreadyExists`], and the temporary file goes.
pub fn write_new_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_file(path, false, write)
}

fn write_file(
    path: &Path,
    replace: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    Ok(())
}

/// Checks that the folder `path` would be written in exists, so a write fails with that
/// reason before anything is created.
pub fn folder_exists(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::File {
            path: path.to_owned(),
            reason: format!("folder {} does not exist", dir.display()),
        })
    }
}

/// Writes `bytes` as they are to `path`, atomically. The folder must exist.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    folder_exists(path)?;
    let file_err = |reason: String| Error::File {
        path: path.to_owned(),
        reason,
    };
    write_atomically(path, |w| w.write_all(bytes)).map_err(|e| file_err(e.to_string()))
}

/// Writes `items` as JSON Lines, atomically; returns how many were written.
pub fn write_json_lines<T: Serialize>(path: &Path, items: &[T]) -> Result<u64> {
    folder_exists(path)?;
    let file_err = |reason: String| Error::File {
        path: path.to_owned(),
        reason,
    };
    write_atomically(path, |w| {
        for item in items {
            serde_json::to_writer(&mut *w, item)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|e| file_err(e.to_string()))?;
    Ok(items.len() as u64)
}

/// The largest file Warren reads as messages or as a body: RabbitMQ's own ceiling for one
/// message is 512 MiB, and a file of several messages larger than this is no longer a file to
/// read whole.
pub const MAX_READ_BYTES: u64 = 512 * 1024 * 1024;

/// Reads a whole file, refusing what is not a regular file (a FIFO, a device, a folder) and a
/// file larger than `limit` bytes, before reading anything.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file_err = |reason: String| Error::File {
        path: path.to_owned(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| file_err(e.to_string()))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a FIFO, socket or device?)"
        };
        return Err(file_err(format!("is {what}; only regular files are read")));
    }
    let too_big = |size: u64| {
        file_err(format!(
            "is {} ({size} bytes); the most Warren reads is {}",
            super::budget::human_bytes(size),
            super::budget::human_bytes(limit)
        ))
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| file_err(e.to_string()))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows while it is read stops at the limit all the same.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| file_err(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads a whole text file as [`read_bytes`] does; it must be UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String> {
    String::from_utf8(read_bytes(path, limit)?).map_err(|_| Error::File {
        path: path.to_owned(),
        reason: "is not UTF-8 text".into(),
    })
}

/// Reads a message file: one message (a JSON object, pretty-printed or not) or JSON Lines of
/// messages in the message format. Only the shape is checked here (templates may still hold
/// placeholders that a typed header needs rendered); a publish plan checks the rest.
pub fn read(path: &str) -> Result<Vec<MessageJson>> {
    parse(&read_text(Path::new(path), MAX_READ_BYTES)?)
}

/// Parses the text of a message file (see [`read`]).
pub fn parse(text: &str) -> Result<Vec<MessageJson>> {
    let one = |text: &str, line: Option<usize>| -> Result<MessageJson> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize::<_, MessageJson>(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "message".to_owned()
            } else {
                path
            };
            let reason = match line {
                Some(n) => format!("{} (line {n})", e.into_inner()),
                None => e.into_inner().to_string(),
            };
            Error::invalid(field, reason)
        })
    };
    // One JSON value spanning the whole file: a single message.
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => return Ok(vec![one(text, None)?]),
        Ok(_) => {
            return Err(Error::invalid(
                "message file",
                "expected a JSON object (one message) or JSON Lines (one object per line)",
            ))
        }
        Err(e) if !e.is_syntax() || text.lines().filter(|l| !l.trim().is_empty()).count() < 2 => {
            return Err(Error::invalid(
                "message file",
                format!("not valid JSON: {e}"),
            ))
        }
        Err(_) => {}
    }
    let mut messages = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            return Err(Error::invalid(
                format!("message file line {}", i + 1),
                format!("not valid JSON: {e}"),
            ));
        }
        messages.push(one(line, Some(i + 1))?);
    }
    if messages.is_empty() {
        return Err(Error::invalid("message file", "holds no message"));
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_files_hold_one_object_or_json_lines_and_errors_name_the_line() {
        let one = parse("{\n  \"routing_key\": \"a\",\n  \"body\": \"x\"\n}\n").unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].routing_key, "a");
        let many = parse("{\"routing_key\": \"a\"}\n\n{\"routing_key\": \"b\"}\n").unwrap();
        assert_eq!(
            many.iter()
                .map(|m| m.routing_key.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        let cases = [
            (
                "{\"routing_key\": \"a\"}\n{\"routing_key\": }\n",
                "message file line 2",
            ),
            ("{\"routing_key\": ", "message file: not valid JSON"),
            ("[1, 2]", "message file"),
            (
                "{\"body\": \"1\"}\n{\"properties\": {\"priority\": 300}}",
                "(line 2)",
            ),
            ("{\"properties\": {\"colour\": 1}}", "properties"),
            ("\n\n", "message file"),
        ];
        for (text, field) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(field), "{text:?}: {err}");
        }
        let e = parse("{\"body\": \"1\"}\n{\"properties\": {\"priority\": 300}}").unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput { field, reason }
                if field == "properties.priority" && reason.ends_with("(line 2)")),
            "{e:?}"
        );
    }

    #[test]
    fn written_json_lines_read_back_and_a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let messages = parse("{\"routing_key\": \"a\"}\n{\"routing_key\": \"b\"}\n").unwrap();
        assert_eq!(write_json_lines(&path, &messages).unwrap(), 2);
        let back = read(path.to_str().unwrap()).unwrap();
        assert_eq!(
            back.iter()
                .map(|m| m.routing_key.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        let failed = write_atomically(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(read(path.to_str().unwrap()).unwrap().len(), 2);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        let refused = write_new_atomically(&path, |w| w.write_all(b"{}\n"));
        assert_eq!(
            refused.unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        assert_eq!(read(path.to_str().unwrap()).unwrap().len(), 2);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let new = dir.path().join("new.jsonl");
        write_new_atomically(&new, |w| w.write_all(b"{}\n")).unwrap();
        assert_eq!(read(new.to_str().unwrap()).unwrap().len(), 1);
    }
}
