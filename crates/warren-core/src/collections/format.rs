//! The collection file: JSON Lines, a header line first, then one message per line in the
//! message format with when it was recorded and where it came from (docs/collections.md).
//!
//! Why this shape: one message per line diffs well in a repository and streams for large
//! collections; keys are written in one fixed order (the structs' order, header tables sorted)
//! so that saving an unchanged collection changes no byte. Every JSON Lines file Warren wrote
//! before collections existed (`warren peek --json`, the app's "save") has no header and
//! carries peek fields (`position`, `redelivered`, ...): it opens as a collection named after
//! the file, the peek fields dropped.
//!
//! The messages of a collection are templates (collection variables such as `{{tenant}}` and
//! the composer's built-ins are rendered at replay). A recorded message is literal, so
//! [`Entry::recorded`] and the reading of a headerless file escape every `{{` in what templates
//! read (`\{{`, which renders as `{{`): a recorded body that happens to hold `{{x}}` replays
//! byte for byte.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::message::{BodyEncoding, Message, MessageJson, PropertiesJson};
use crate::peek::PeekedMessage;
use crate::time::{parse_rfc3339_ms, rfc3339_ms};

/// The version of the file format this build writes; a newer one is refused when read.
pub const FORMAT_VERSION: u32 = 1;

/// Where a recorded message came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "MessageSource")]
pub struct Source {
    /// The cluster (its name as the broker reports it, or the profile's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub vhost: Option<String>,
    /// The queue it was read from (a peek, a consumer, a tap's temporary queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub queue: Option<String>,
}

/// One message of a collection.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, rename = "CollectionEntry")]
pub struct Entry {
    /// The message (a template: see the module documentation).
    pub message: MessageJson,
    /// When it was recorded, RFC 3339 in UTC with milliseconds (`2026-12-02T13:51:24.123Z`);
    /// absent for a message written by hand or in the composer.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub recorded_at: Option<String>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub source: Option<Source>,
}

/// A collection: a named, ordered set of messages with variables and a description.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Collection {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Collection variables (`{{tenant}}`), under the replay's own.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub messages: Vec<Entry>,
}

/// The first line of a collection file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    warren_collection: u32,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// One message line as written: the message format's fields, then the collection's.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    exchange: String,
    #[serde(default)]
    routing_key: String,
    #[serde(default)]
    properties: PropertiesJson,
    #[serde(default)]
    body: String,
    #[serde(default)]
    body_encoding: BodyEncoding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recorded_at: Option<RecordedAt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    // Peek fields: accepted (so a peek's file opens) and dropped; never used.
    #[allow(dead_code)]
    #[serde(default, skip_serializing)]
    position: Option<u64>,
    #[allow(dead_code)]
    #[serde(default, skip_serializing)]
    redelivered: Option<bool>,
    #[allow(dead_code)]
    #[serde(default, skip_serializing)]
    offset: Option<u64>,
    #[allow(dead_code)]
    #[serde(default, skip_serializing)]
    delivery_count: Option<u64>,
}

/// `recorded_at` as read: RFC 3339, or Unix epoch milliseconds.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RecordedAt {
    Text(String),
    EpochMs(i64),
}

impl Entry {
    /// A message as it was received, recorded now-ish (`at`) from `source`: literal, so its
    /// `{{` are escaped (see the module documentation).
    pub fn recorded(message: &Message, at: SystemTime, source: Option<Source>) -> Entry {
        Entry {
            message: escape_message(MessageJson::from(message.clone())),
            recorded_at: Some(timestamp(at)),
            source,
        }
    }

    /// A peeked message, recorded when the peek read it (not when it is saved, which may be
    /// much later: an original-timing replay keeps the pace the messages were read at). A
    /// `timestamp` property the publisher set stays a property; it says nothing of when
    /// Warren read the message.
    pub fn from_peeked(m: &PeekedMessage, source: Option<Source>) -> Entry {
        let at = UNIX_EPOCH + Duration::from_millis(m.received_at_ms);
        Entry::recorded(&m.message, at, source)
    }

    /// `recorded_at` in Unix epoch milliseconds, when it is set and readable.
    pub fn recorded_ms(&self) -> Option<i64> {
        self.recorded_at.as_deref().and_then(parse_rfc3339_ms)
    }
}

/// `at` as `recorded_at` writes it.
pub fn timestamp(at: SystemTime) -> String {
    rfc3339_ms(at.duration_since(UNIX_EPOCH).unwrap_or_default())
}

fn ms_timestamp(ms: i64) -> String {
    rfc3339_ms(Duration::from_millis(ms.max(0) as u64))
}

/// Escapes `{{` so that a template renders `text` as it is.
pub fn escape(text: &str) -> String {
    text.replace("{{", "\\{{")
}

fn escape_value(v: &mut Value) {
    match v {
        Value::String(s) if s.contains("{{") => *s = escape(s),
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if k != "$type" {
                    escape_value(v);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(escape_value),
        _ => {}
    }
}

/// A literal message made a template that renders it exactly.
pub fn escape_message(mut m: MessageJson) -> MessageJson {
    m.routing_key = escape(&m.routing_key);
    if m.body_encoding == BodyEncoding::Utf8 {
        m.body = escape(&m.body);
    }
    let p = &mut m.properties;
    for s in [
        &mut p.content_type,
        &mut p.content_encoding,
        &mut p.correlation_id,
        &mut p.reply_to,
        &mut p.expiration,
        &mut p.message_id,
        &mut p.kind,
        &mut p.user_id,
        &mut p.app_id,
    ]
    .into_iter()
    .flatten()
    {
        *s = escape(s);
    }
    if let Some(h) = &mut p.headers {
        for v in h.values_mut() {
            escape_value(v);
        }
    }
    m
}

/// A file that could not be read as a collection, with where.
pub(super) fn parse_error(
    path: &Path,
    line: usize,
    column: usize,
    reason: impl Into<String>,
) -> Error {
    Error::Parse {
        path: path.to_owned(),
        line,
        column,
        reason: reason.into(),
    }
}

fn json_error(path: &Path, line: usize, e: &serde_json::Error, field: &str) -> Error {
    let reason = if field.is_empty() || field == "." {
        strip_position(e)
    } else {
        format!("{field}: {}", strip_position(e))
    };
    parse_error(path, line, e.column(), reason)
}

/// serde_json's message without its own " at line L column C" (the error says it once).
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Reads a collection file (see [`parse`]).
pub fn read(path: &Path) -> Result<Collection> {
    let text = crate::message::file::read_text(path, crate::message::file::MAX_READ_BYTES)?;
    parse(path, &text)
}

/// The name a collection without a header takes: its file's stem.
pub fn name_from_path(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parses a collection file's text: a header line and message lines, or header-less JSON
/// Lines of messages (a peek's, a save's), or one message pretty-printed (a message file).
/// `path` names the file in errors and gives a header-less collection its name. Every error
/// names the line and column.
pub fn parse(path: &Path, text: &str) -> Result<Collection> {
    let mut collection = Collection {
        name: name_from_path(path),
        ..Collection::default()
    };
    let mut literal = true;
    let mut seen_first = false;
    let lines: Vec<&str> = text.lines().collect();
    // One object spanning several lines: a message file holding one message.
    if lines.iter().filter(|l| !l.trim().is_empty()).count() > 1
        && serde_json::from_str::<Value>(lines.iter().find(|l| !l.trim().is_empty()).unwrap_or(&""))
            .is_err()
    {
        if let Ok(Value::Object(_)) = serde_json::from_str::<Value>(text) {
            let entry = parse_line(path, 1, text, None, true)?;
            collection.messages.push(literal_entry(entry));
            return Ok(collection);
        }
    }
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        // One JSON pass per message line: a message line reads as one at once (its fields
        // are checked, so a header never does); only a line that does not, and that may be a
        // header (it names the header's key somewhere), is read as a JSON value to tell.
        let message = serde_json::from_str::<Line>(line).ok();
        if message.is_none() && line.contains("\"warren_collection\"") {
            let value: Value =
                serde_json::from_str(line).map_err(|e| json_error(path, n, &e, ""))?;
            let Value::Object(obj) = &value else {
                return Err(parse_error(path, n, 1, "expected a JSON object"));
            };
            if obj.contains_key("warren_collection") {
                if seen_first {
                    return Err(parse_error(path, n, 1, "a second collection header"));
                }
                seen_first = true;
                let header = parse_header(path, n, line)?;
                collection.name = header.name;
                collection.description = header.description;
                collection.variables = header.variables;
                literal = false;
                continue;
            }
        }
        seen_first = true;
        let entry = parse_line(path, n, line, message, literal)?;
        collection
            .messages
            .push(if literal { literal_entry(entry) } else { entry });
    }
    Ok(collection)
}

fn parse_header(path: &Path, n: usize, line: &str) -> Result<Header> {
    let de = &mut serde_json::Deserializer::from_str(line);
    let header: Header = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        json_error(path, n, e.inner(), &field)
    })?;
    if header.warren_collection > FORMAT_VERSION || header.warren_collection == 0 {
        return Err(parse_error(
            path,
            n,
            1,
            format!(
                "collection format version {} (this Warren reads version {FORMAT_VERSION} and older)",
                header.warren_collection
            ),
        ));
    }
    Ok(header)
}

/// A message line read slowly, field by field: for a line that did not read in one pass, to
/// say where and why (not JSON, not an object, or which field), and for a message file's one
/// pretty-printed message.
fn read_line(path: &Path, n: usize, text: &str) -> Result<Line> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(path, n, &e, ""))?;
    if !value.is_object() {
        return Err(parse_error(path, n, 1, "expected a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Line>(de) {
        Ok(line) => Ok(line),
        Err(e) => {
            let field = e.path().to_string();
            Err(json_error(path, n, e.inner(), &field))
        }
    }
}

fn literal_entry(mut e: Entry) -> Entry {
    e.message = escape_message(e.message);
    e
}

/// A message line as an entry; `read` is the line already read, if it read.
fn parse_line(
    path: &Path,
    n: usize,
    text: &str,
    read: Option<Line>,
    literal: bool,
) -> Result<Entry> {
    let line = match read {
        Some(line) => line,
        None => read_line(path, n, text)?,
    };
    let recorded_at = match line.recorded_at {
        None => None,
        Some(RecordedAt::EpochMs(ms)) => Some(ms_timestamp(ms)),
        Some(RecordedAt::Text(t)) => match crate::time::parse_instant_ms(&t) {
            Ok(ms) => Some(ms_timestamp(ms)),
            Err(reason) => {
                return Err(parse_error(
                    path,
                    n,
                    text.find("\"recorded_at\"").map_or(1, |c| c + 1),
                    format!("recorded_at: {reason}"),
                ))
            }
        },
    };
    let message = MessageJson {
        exchange: line.exchange,
        routing_key: line.routing_key,
        properties: line.properties,
        body: line.body,
        body_encoding: line.body_encoding,
    };
    // The message format's own checks (base64, header types, short strings), with the line.
    // A template's typed header may hold a placeholder its type needs rendered: a replay's
    // plan checks those; here only its body's encoding (a UTF-8 body is one as read).
    let checked = if literal {
        Some(message.clone())
    } else if message.body_encoding == BodyEncoding::Base64 {
        Some(MessageJson {
            exchange: String::new(),
            routing_key: String::new(),
            properties: PropertiesJson::default(),
            body: message.body.clone(),
            body_encoding: message.body_encoding,
        })
    } else {
        None
    };
    if let Some(Err(e)) = checked.map(Message::try_from) {
        let reason = match &e {
            Error::InvalidInput { field, reason } => format!("{field}: {reason}"),
            other => other.to_string(),
        };
        return Err(parse_error(path, n, 1, reason));
    }
    Ok(Entry {
        message,
        recorded_at,
        source: line.source,
    })
}

/// Writes `collection` as its file's text: the header line, then one line per message, keys
/// in a fixed order.
pub fn to_text(collection: &Collection, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let header = Header {
        warren_collection: FORMAT_VERSION,
        name: collection.name.clone(),
        description: collection.description.clone(),
        variables: collection.variables.clone(),
    };
    serde_json::to_writer(&mut *out, &header)?;
    out.write_all(b"\n")?;
    for e in &collection.messages {
        write_entry(e, out)?;
    }
    Ok(())
}

fn write_entry(e: &Entry, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let m = &e.message;
    let line = Line {
        exchange: m.exchange.clone(),
        routing_key: m.routing_key.clone(),
        properties: PropertiesJson {
            headers: m.properties.headers.as_ref().map(sorted),
            ..m.properties.clone()
        },
        body: m.body.clone(),
        body_encoding: m.body_encoding,
        recorded_at: e.recorded_at.clone().map(RecordedAt::Text),
        source: e.source.clone(),
        position: None,
        redelivered: None,
        offset: None,
        delivery_count: None,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// A header table with its keys sorted at every depth (stable whatever the map's order).
fn sorted(m: &Map<String, Value>) -> Map<String, Value> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let v = match &m[k] {
                Value::Object(o) => Value::Object(sorted(o)),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Writes `collection` to `path` atomically (see [`crate::message::file::write_atomically`]).
pub fn write(path: &Path, collection: &Collection) -> Result<()> {
    write_file(path, true, |w| to_text(collection, w))
}

/// Writes `collection` to a new file at `path`, atomically; an existing file is left as it is
/// and the write refused.
pub fn write_new(path: &Path, collection: &Collection) -> Result<()> {
    write_file(path, false, |w| to_text(collection, w))
}

fn write_file(
    path: &Path,
    replace: bool,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    crate::message::file::folder_exists(path)?;
    let file_err = |reason: String| Error::File {
        path: path.to_owned(),
        reason,
    };
    let written = if replace {
        crate::message::file::write_atomically(path, write)
    } else {
        crate::message::file::write_new_atomically(path, write)
    };
    written.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            file_err("already exists; it was left as it is".into())
        }
        _ => file_err(e.to_string()),
    })
}

/// Writes `entries` as plain JSON Lines in the message format (no header, no recording
/// fields), atomically: what `warren publish --message-file` reads and any tool that knows the
/// message format. Templates are written as they are.
pub fn export(path: &Path, entries: &[&Entry]) -> Result<u64> {
    write_file(path, true, |w| export_to(w, entries))?;
    Ok(entries.len() as u64)
}

/// [`export`] to a new file: an existing file is left as it is and the export refused.
pub fn export_new(path: &Path, entries: &[&Entry]) -> Result<u64> {
    write_file(path, false, |w| export_to(w, entries))?;
    Ok(entries.len() as u64)
}

/// [`export`]'s lines, written to `out` (standard output, say).
pub fn export_to(out: &mut dyn std::io::Write, entries: &[&Entry]) -> std::io::Result<()> {
    for e in entries {
        serde_json::to_writer(&mut *out, &e.message)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// What a message file holds for `warren publish --message-file`: messages (templates) and
/// the variables they may use.
#[derive(Debug, Clone, Default)]
pub struct MessageFile {
    pub messages: Vec<MessageJson>,
    /// A collection's variables (empty for a plain message file).
    pub variables: BTreeMap<String, String>,
}

/// Reads a file to publish: a collection (its first line a collection header) gives its
/// messages as the templates they are and its variables; any other file is a plain message
/// file (one message, or JSON Lines of messages: see [`crate::message::file`]), its messages
/// templates too. A file that is neither but opens as a header-less collection (a
/// `warren peek --json` file, with its peek fields) gives its messages as they were read:
/// literal, their `{{` escaped.
pub fn read_message_file(path: &Path) -> Result<MessageFile> {
    let text = crate::message::file::read_text(path, crate::message::file::MAX_READ_BYTES)?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let is_collection = first.contains("\"warren_collection\"")
        && serde_json::from_str::<Map<String, Value>>(first)
            .is_ok_and(|o| o.contains_key("warren_collection"));
    if !is_collection {
        let messages = match crate::message::file::parse(&text) {
            Ok(messages) => messages,
            Err(e) => match parse(path, &text) {
                Ok(peeked) if !peeked.messages.is_empty() => {
                    peeked.messages.into_iter().map(|e| e.message).collect()
                }
                // The plain reading's error: it names what a message file may hold.
                _ => return Err(e),
            },
        };
        return Ok(MessageFile {
            messages,
            variables: BTreeMap::new(),
        });
    }
    let collection = parse(path, &text)?;
    if collection.messages.is_empty() {
        return Err(Error::invalid(
            "message file",
            format!("collection \"{}\" holds no message", collection.name),
        ));
    }
    Ok(MessageFile {
        messages: collection.messages.into_iter().map(|e| e.message).collect(),
        variables: collection.variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/x/orders.jsonl")
    }

    #[test]
    fn a_collection_round_trips_byte_for_byte_with_a_stable_key_order() {
        let text = concat!(
            r#"{"warren_collection":1,"name":"orders","description":"d","variables":{"a":"1","tenant":"acme"}}"#,
            "\n",
            r#"{"exchange":"x","routing_key":"k.{{tenant}}","properties":{"headers":{"a":1,"b":{"$type":"i16","value":2}},"delivery_mode":2},"body":"hi","body_encoding":"utf8","recorded_at":"2026-12-02T13:51:24.123Z","source":{"cluster":"c","vhost":"/","queue":"q"}}"#,
            "\n",
            r#"{"exchange":"","routing_key":"","properties":{},"body":"AAE=","body_encoding":"base64"}"#,
            "\n"
        );
        let c = parse(p(), text).unwrap();
        assert_eq!(c.name, "orders");
        assert_eq!(c.messages.len(), 2);
        assert_eq!(c.messages[0].message.routing_key, "k.{{tenant}}");
        assert_eq!(c.messages[0].recorded_ms(), Some(1_796_219_484_123));
        let mut out = Vec::new();
        to_text(&c, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn a_peek_file_opens_as_a_literal_collection_named_after_the_file() {
        let text = concat!(
            r#"{"position":1,"exchange":"","routing_key":"q","properties":{},"body":"{{x}}","body_encoding":"utf8","redelivered":true,"delivery_count":3}"#,
            "\n"
        );
        let c = parse(p(), text).unwrap();
        assert_eq!(c.name, "orders");
        assert_eq!(c.messages[0].message.body, "\\{{x}}");
        // ... which renders back to the recorded text.
        let t = crate::message::template::MessageTemplate::compile(
            &c.messages[0].message,
            &BTreeMap::new(),
            None,
        )
        .unwrap();
        let mut ctx = crate::message::template::Context::new(1, 1, SystemTime::now());
        assert_eq!(t.render(&mut ctx).unwrap().body, b"{{x}}");
        // One pretty-printed message is a collection of one.
        let one = parse(p(), "{\n  \"routing_key\": \"a\"\n}\n").unwrap();
        assert_eq!(one.messages.len(), 1);
    }

    #[test]
    fn escaping_makes_any_text_render_as_itself() {
        for s in [
            "{{",
            "a{{b}}",
            "\\{{",
            "{{{",
            "{{{{",
            "x\\",
            "\\\\{{y}}",
            "}}{{",
        ] {
            let t = crate::message::template::Template::compile("f", &escape(s), &BTreeMap::new())
                .unwrap();
            let mut ctx = crate::message::template::Context::new(1, 1, SystemTime::now());
            assert_eq!(t.render(&mut ctx), s);
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases = [
            ("{\"routing_key\":\"a\"}\n{\"routing_key\": }\n", 2, 17, ""),
            ("{\"routing_key\":\"a\"}\n{\"colour\":1}\n", 2, 9, "colour"),
            (
                "{\"routing_key\":\"a\"}\n\n{\"properties\":{\"priority\":300}}\n",
                3,
                29,
                "properties.priority",
            ),
            (
                "{\"warren_collection\":9,\"name\":\"n\"}\n",
                1,
                1,
                "version 9",
            ),
            ("[1]\n", 1, 1, "JSON object"),
            (
                "{\"body\":\"!!\",\"body_encoding\":\"base64\"}\n",
                1,
                1,
                "base64",
            ),
            ("{\"recorded_at\":\"yesterday\"}\n", 1, 2, "recorded_at"),
        ];
        for (text, line, column, what) in cases {
            match parse(p(), text) {
                Err(Error::Parse {
                    line: l,
                    column: c,
                    reason,
                    ..
                }) => {
                    assert_eq!((l, c), (line, column), "{text:?}: {reason}");
                    assert!(reason.contains(what), "{text:?}: {reason}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_template_s_typed_header_may_hold_a_placeholder() {
        let text = "{\"warren_collection\":1,\"name\":\"t\"}\n{\"properties\":{\"headers\":{\"n\":{\"$type\":\"i16\",\"value\":\"{{n}}\"}}}}\n";
        assert_eq!(parse(p(), text).unwrap().messages.len(), 1);
        // Without a header the file is literal, and the value must be an i16 as it stands.
        let literal = text.split_once('\n').unwrap().1;
        assert!(matches!(parse(p(), literal), Err(Error::Parse { .. })));
    }

    #[test]
    fn a_peeked_message_is_recorded_when_the_peek_read_it_and_keeps_its_timestamp() {
        let read_at = 1_796_219_484_123;
        let peeked = PeekedMessage {
            position: 1,
            message: Message {
                exchange: "x".into(),
                routing_key: "k".into(),
                properties: crate::message::Properties {
                    // Set by the publisher, an hour before Warren read the message.
                    timestamp: Some(1_796_215_884),
                    ..Default::default()
                },
                body: b"{{seq}}".to_vec(),
            },
            redelivered: false,
            offset: None,
            delivery_count: None,
            received_at_ms: read_at,
        };
        let entry = Entry::from_peeked(&peeked, None);
        assert_eq!(
            entry.recorded_at.as_deref(),
            Some("2026-12-02T13:51:24.123Z")
        );
        assert_eq!(entry.recorded_ms(), Some(read_at as i64));
        assert_eq!(entry.message.properties.timestamp, Some(1_796_215_884));
        assert_eq!(entry.message.body, "\\{{seq}}");
    }

    #[test]
    fn a_message_file_may_be_a_collection_with_its_variables() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.jsonl");
        std::fs::write(
            &file,
            concat!(
                r#"{"warren_collection":1,"name":"c","variables":{"tenant":"acme"}}"#,
                "\n",
                r#"{"routing_key":"k.{{tenant}}","body":"{{seq}}","recorded_at":"2026-12-02T13:51:24.123Z","source":{"queue":"q"}}"#,
                "\n",
                r#"{"body":"AAE=","body_encoding":"base64"}"#,
                "\n"
            ),
        )
        .unwrap();
        let f = read_message_file(&file).unwrap();
        assert_eq!(f.messages.len(), 2);
        assert_eq!(f.messages[0].routing_key, "k.{{tenant}}");
        assert_eq!(f.messages[0].body, "{{seq}}");
        assert_eq!(f.variables.get("tenant").map(String::as_str), Some("acme"));
        // A plain message file is read as before: its messages are templates, no variables.
        std::fs::write(&file, "{\"body\": \"{{seq}}\"}\n{\"body\": \"b\"}\n").unwrap();
        let f = read_message_file(&file).unwrap();
        assert_eq!(
            (f.messages.len(), f.messages[0].body.as_str()),
            (2, "{{seq}}")
        );
        assert!(f.variables.is_empty());
        // A peek's file (peek fields beside the message) is sent as it was read.
        std::fs::write(
            &file,
            "{\"position\":1,\"routing_key\":\"q\",\"body\":\"{{x}}\",\"redelivered\":true}\n",
        )
        .unwrap();
        let f = read_message_file(&file).unwrap();
        assert_eq!(f.messages[0].body, "\\{{x}}");
        std::fs::write(&file, "{\"position\":1,\"colour\":2}\n").unwrap();
        let e = read_message_file(&file).unwrap_err().to_string();
        assert!(e.contains("unknown field `position`"), "{e}");
        // A header alone is no message to publish; a broken line names its place.
        std::fs::write(&file, "{\"warren_collection\":1,\"name\":\"e\"}\n").unwrap();
        let e = read_message_file(&file).unwrap_err().to_string();
        assert!(e.contains("holds no message"), "{e}");
        std::fs::write(
            &file,
            "{\"warren_collection\":1,\"name\":\"e\"}\n{\"body\": }\n",
        )
        .unwrap();
        let e = read_message_file(&file).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn an_export_or_a_new_collection_never_replaces_a_file_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let text = concat!(
            r#"{"warren_collection":1,"name":"c"}"#,
            "\n",
            r#"{"routing_key":"a","body":"\\{{x}}","recorded_at":"2026-12-02T13:51:24.123Z"}"#,
            "\n",
            r#"{"routing_key":"b","body":"2"}"#,
            "\n"
        );
        let c = parse(p(), text).unwrap();
        let path = dir.path().join("out.jsonl");
        write_new(&path, &c).unwrap();
        let mut written = Vec::new();
        to_text(&c, &mut written).unwrap();
        let written = String::from_utf8(written).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
        let other = Collection {
            name: "other".into(),
            ..Collection::default()
        };
        let e = write_new(&path, &other).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
        // An export is the messages alone, templates as they are, one per line.
        let selected: Vec<&Entry> = vec![&c.messages[1], &c.messages[0]];
        let e = export_new(&path, &selected).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
        assert_eq!(export(&path, &selected).unwrap(), 2);
        let exported = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            exported,
            concat!(
                r#"{"exchange":"","routing_key":"b","properties":{},"body":"2","body_encoding":"utf8"}"#,
                "\n",
                r#"{"exchange":"","routing_key":"a","properties":{},"body":"\\{{x}}","body_encoding":"utf8"}"#,
                "\n"
            )
        );
        let back = crate::message::file::read(path.to_str().unwrap()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn recorded_at_may_be_epoch_milliseconds() {
        let c = parse(p(), "{\"recorded_at\":1796219484123}\n").unwrap();
        assert_eq!(
            c.messages[0].recorded_at.as_deref(),
            Some("2026-12-02T13:51:24.123Z")
        );
    }
}
