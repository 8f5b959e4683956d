//! Bringing recordings made with other tools into a collection: rabtap's saved messages (one
//! JSON object per file with a base64 `Body`, a directory of them, or rabtap's JSON stream;
//! a directory saved in rabtap's raw format keeps each body in a `.dat` file beside its
//! `.json`) and the management API's "get messages" reply (a JSON array).
//!
//! What is kept and what cannot be: both tools write header values as plain JSON, so their
//! AMQP types are the message format's implied ones (see docs/message-format.md); rabtap
//! writes absent properties as empty strings and zeros, read here as absent. rabtap's
//! receive time becomes `recorded_at`, so a rabtap recording replays with its timing;
//! messages of a directory are ordered by it, as rabtap itself replays them.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::format::{escape_message, name_from_path, parse_error, Collection, Entry};
use crate::error::{Error, Result};
use crate::message::{encode_body, BodyEncoding, Message, MessageJson, PropertiesJson};
use crate::time::parse_rfc3339_ms;

/// Reads a rabtap file or directory, or a management API reply, as a new collection named
/// after the file or directory. The format is recognised from the content.
pub fn import(path: &Path) -> Result<Collection> {
    let entries = if path.is_dir() {
        rabtap_dir(path)?
    } else {
        let text = read(path)?;
        match text.trim_start().as_bytes().first() {
            Some(b'[') => management(path, &text)?,
            Some(b'{') => rabtap_stream(path, &text)?,
            _ => {
                return Err(parse_error(
                    path,
                    1,
                    1,
                    "neither rabtap's messages (JSON objects) nor the management API's \"get messages\" reply (a JSON array)",
                ))
            }
        }
    };
    Ok(Collection {
        name: name_from_path(path),
        description: format!("imported from {}", path.display()),
        messages: entries,
        ..Collection::default()
    })
}

/// Several sources (see [`import`]) into one collection, their messages in the order the
/// sources are given; named after the first. Any source that does not read fails the whole.
pub fn import_all(sources: &[PathBuf]) -> Result<Collection> {
    let Some(first) = sources.first() else {
        return Err(Error::invalid("source", "nothing to import"));
    };
    let mut all = import(first)?;
    for source in &sources[1..] {
        all.messages.extend(import(source)?.messages);
    }
    if sources.len() > 1 {
        let names: Vec<String> = sources.iter().map(|s| s.display().to_string()).collect();
        all.description = format!("imported from {}", names.join(", "));
    }
    Ok(all)
}

fn read(path: &Path) -> Result<String> {
    crate::message::file::read_text(path, crate::message::file::MAX_READ_BYTES)
}

/// Where in `text` byte `offset` is, as line and column (1-based).
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// A field of a rabtap object, whatever the case of its name (rabtap spelt `CorrelationId`
/// and later `CorrelationID`).
fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn text_field(o: &Map<String, Value>, name: &str) -> Option<String> {
    field(o, name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn octet_field(o: &Map<String, Value>, name: &str) -> Option<u8> {
    field(o, name)
        .and_then(Value::as_u64)
        .filter(|n| *n > 0 && *n <= 255)
        .map(|n| n as u8)
}

/// One rabtap message; `body` is given for the raw format (`.dat` beside the `.json`).
fn rabtap_message(
    o: &Map<String, Value>,
    body: Option<Vec<u8>>,
) -> std::result::Result<Entry, String> {
    let body = match body {
        Some(b) => b,
        None => match field(o, "Body") {
            Some(Value::String(b64)) => {
                let probe = MessageJson {
                    exchange: String::new(),
                    routing_key: String::new(),
                    properties: PropertiesJson::default(),
                    body: b64.clone(),
                    body_encoding: BodyEncoding::Base64,
                };
                Message::try_from(probe).map_err(|e| e.to_string())?.body
            }
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err("Body is not a base64 string".into()),
        },
    };
    let timestamp = text_field(o, "Timestamp")
        .and_then(|t| parse_rfc3339_ms(&t))
        .filter(|ms| *ms > 0)
        .map(|ms| (ms / 1000) as u64);
    let headers = match field(o, "Headers") {
        Some(Value::Object(h)) if !h.is_empty() => Some(h.clone()),
        _ => None,
    };
    let (body, body_encoding) = encode_body(&body);
    let message = MessageJson {
        exchange: text_field(o, "Exchange").unwrap_or_default(),
        routing_key: text_field(o, "RoutingKey").unwrap_or_default(),
        properties: PropertiesJson {
            content_type: text_field(o, "ContentType"),
            content_encoding: text_field(o, "ContentEncoding"),
            headers,
            delivery_mode: octet_field(o, "DeliveryMode"),
            priority: octet_field(o, "Priority"),
            correlation_id: text_field(o, "CorrelationID"),
            reply_to: text_field(o, "ReplyTo"),
            expiration: text_field(o, "Expiration"),
            message_id: text_field(o, "MessageID"),
            timestamp,
            kind: text_field(o, "Type"),
            user_id: text_field(o, "UserID"),
            app_id: text_field(o, "AppID"),
        },
        body,
        body_encoding,
    };
    Message::try_from(message.clone()).map_err(|e| e.to_string())?;
    let recorded_at = text_field(o, "XRabtapReceivedTimestamp")
        .and_then(|t| parse_rfc3339_ms(&t))
        .map(|ms| {
            super::format::timestamp(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64),
            )
        });
    Ok(Entry {
        message: escape_message(message),
        recorded_at,
        source: None,
    })
}

/// One rabtap JSON object per message, one after the other (one file, or rabtap's stream).
fn rabtap_stream(path: &Path, text: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let start = stream.byte_offset();
        let Some(next) = stream.next() else { break };
        let value = next.map_err(|e| parse_error(path, e.line(), e.column(), e.to_string()))?;
        // The object starts at the first non-blank byte after the previous one.
        let skipped = text[start..].len() - text[start..].trim_start().len();
        let (line, column) = position(text, start + skipped);
        let Value::Object(o) = value else {
            return Err(parse_error(
                path,
                line,
                column,
                "expected a rabtap message (a JSON object)",
            ));
        };
        out.push(rabtap_message(&o, None).map_err(|r| parse_error(path, line, column, r))?);
    }
    Ok(out)
}

/// A directory rabtap saved messages to: every `.json` file, ordered by receive time.
fn rabtap_dir(dir: &Path) -> Result<Vec<Entry>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::File {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = read(&file)?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| parse_error(&file, e.line(), e.column(), e.to_string()))?;
        let Value::Object(o) = value else {
            return Err(parse_error(
                &file,
                1,
                1,
                "expected a rabtap message (a JSON object)",
            ));
        };
        let dat = file.with_extension("dat");
        let body = if field(&o, "Body").is_none() && dat.is_file() {
            Some(crate::message::file::read_bytes(
                &dat,
                crate::message::file::MAX_READ_BYTES,
            )?)
        } else {
            None
        };
        out.push(rabtap_message(&o, body).map_err(|r| parse_error(&file, 1, 1, r))?);
    }
    if out.is_empty() {
        return Err(Error::File {
            path: dir.to_owned(),
            reason: "no rabtap message files (*.json) in this folder".into(),
        });
    }
    // Stable: messages received at the same time keep their file order.
    out.sort_by_key(|e| e.recorded_ms().unwrap_or(i64::MIN));
    Ok(out)
}

/// The management API's "get messages" reply: an array of
/// `{exchange, routing_key, properties, payload, payload_encoding, ...}`.
fn management(path: &Path, text: &str) -> Result<Vec<Entry>> {
    let items: Vec<Value> = serde_json::from_str(text)
        .map_err(|e| parse_error(path, e.line(), e.column(), e.to_string()))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let bad = |r: String| parse_error(path, 1, 1, format!("message {}: {r}", i + 1));
            let Value::Object(o) = item else {
                return Err(bad("not a JSON object".into()));
            };
            let payload = o.get("payload").and_then(Value::as_str).unwrap_or_default();
            let body_encoding = match o.get("payload_encoding").and_then(Value::as_str) {
                Some("base64") => BodyEncoding::Base64,
                _ => BodyEncoding::Utf8,
            };
            let mut props = o
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            // What the message format does not carry on a publish.
            props.remove("cluster_id");
            if props
                .get("headers")
                .is_some_and(|h| h.as_object().is_some_and(Map::is_empty))
            {
                props.remove("headers");
            }
            let properties: PropertiesJson = serde_json::from_value(Value::Object(props))
                .map_err(|e| bad(format!("properties: {e}")))?;
            let message = MessageJson {
                exchange: o
                    .get("exchange")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                routing_key: o
                    .get("routing_key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                properties,
                body: payload.to_owned(),
                body_encoding,
            };
            // Re-encoded the message format's way (a base64 payload that is UTF-8 reads as text).
            let decoded = Message::try_from(message).map_err(|e| bad(e.to_string()))?;
            Ok(Entry {
                message: escape_message(MessageJson::from(decoded)),
                recorded_at: None,
                source: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RABTAP: &str = r#"{
  "Headers": {"tenant": "acme", "n": 3},
  "ContentType": "text/plain",
  "ContentEncoding": "",
  "DeliveryMode": 2,
  "Priority": 0,
  "CorrelationID": "c-1",
  "ReplyTo": "",
  "Expiration": "",
  "MessageID": "",
  "Timestamp": "0001-01-01T00:00:00Z",
  "Type": "",
  "UserID": "",
  "AppID": "shop",
  "DeliveryTag": 1,
  "Redelivered": false,
  "Exchange": "amq.topic",
  "RoutingKey": "orders.{{eu}}",
  "XRabtapReceivedTimestamp": "2019-12-29T21:51:33.52288901+01:00",
  "Body": "SGVsbG8="
}
"#;

    #[test]
    fn rabtap_files_directories_and_streams_import() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("rabtap-1.json");
        std::fs::write(&one, RABTAP).unwrap();
        let c = import(&one).unwrap();
        assert_eq!(c.name, "rabtap-1");
        let e = &c.messages[0];
        let m = Message::try_from(e.message.clone()).unwrap();
        assert_eq!(m.body, b"Hello");
        assert_eq!(m.exchange, "amq.topic");
        // Literal: the braces are escaped for the template.
        assert_eq!(e.message.routing_key, "orders.\\{{eu}}");
        assert_eq!(m.properties.delivery_mode, Some(2));
        assert_eq!(m.properties.priority, None);
        assert_eq!(m.properties.correlation_id.as_deref(), Some("c-1"));
        assert_eq!(m.properties.app_id.as_deref(), Some("shop"));
        assert_eq!(m.properties.timestamp, None);
        assert_eq!(e.recorded_at.as_deref(), Some("2019-12-29T20:51:33.522Z"));
        // A directory, ordered by receive time; raw format bodies from .dat files.
        let earlier = RABTAP
            .replace("21:51:33.52288901", "21:51:30.0")
            .replace("  \"Body\": \"SGVsbG8=\"\n", "  \"AppID2\": 1\n");
        std::fs::write(dir.path().join("rabtap-2.json"), &earlier).unwrap();
        std::fs::write(dir.path().join("rabtap-2.dat"), b"\xff raw").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let c = import(dir.path()).unwrap();
        let bodies: Vec<Vec<u8>> = c
            .messages
            .iter()
            .map(|e| Message::try_from(e.message.clone()).unwrap().body)
            .collect();
        assert_eq!(bodies, [b"\xff raw".to_vec(), b"Hello".to_vec()]);
        // rabtap's JSON stream: objects one after the other; errors name the object's line.
        let stream = dir.path().join("stream.json");
        std::fs::write(&stream, format!("{RABTAP}{RABTAP}")).unwrap();
        assert_eq!(import(&stream).unwrap().messages.len(), 2);
        std::fs::write(
            &stream,
            format!("{RABTAP}{}", RABTAP.replace("SGVsbG8=", "!!")),
        )
        .unwrap();
        match import(&stream) {
            Err(Error::Parse { line, column, .. }) => assert_eq!((line, column), (22, 1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_management_api_reply_imports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("get.json");
        std::fs::write(
            &path,
            r#"[{"payload_bytes":5,"redelivered":false,"exchange":"","routing_key":"q","message_count":1,
                "properties":{"delivery_mode":2,"headers":{"x":"y"},"priority":3,"timestamp":1700000000},
                "payload":"hello","payload_encoding":"string"},
               {"payload_bytes":2,"redelivered":true,"exchange":"e","routing_key":"k","message_count":0,
                "properties":[],"payload":"/wA=","payload_encoding":"base64"}]"#,
        )
        .unwrap();
        // 3.x sends `"properties": []` when there are none.
        let c = import(&path);
        let c = match c {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let m: Vec<Message> = c
            .messages
            .iter()
            .map(|e| Message::try_from(e.message.clone()).unwrap())
            .collect();
        assert_eq!(m[0].body, b"hello");
        assert_eq!(m[0].properties.priority, Some(3));
        assert_eq!(m[0].properties.timestamp, Some(1_700_000_000));
        assert_eq!(m[1].body, [0xff, 0]);
        assert_eq!(
            (m[1].exchange.as_str(), m[1].routing_key.as_str()),
            ("e", "k")
        );
        std::fs::write(&path, "[1]").unwrap();
        assert!(import(&path).unwrap_err().to_string().contains("message 1"));
    }

    #[test]
    fn several_sources_import_into_one_collection_in_the_order_given() {
        let dir = tempfile::tempdir().unwrap();
        let rabtap = dir.path().join("tap.json");
        std::fs::write(&rabtap, RABTAP).unwrap();
        let api = dir.path().join("get.json");
        std::fs::write(
            &api,
            r#"[{"exchange":"","routing_key":"q","properties":{},"payload":"from the api","payload_encoding":"string"}]"#,
        )
        .unwrap();
        let c = import_all(&[api.clone(), rabtap.clone()]).unwrap();
        assert_eq!(c.name, "get");
        let keys: Vec<&str> = c
            .messages
            .iter()
            .map(|e| e.message.routing_key.as_str())
            .collect();
        assert_eq!(keys, ["q", "orders.\\{{eu}}"]);
        assert!(c.description.contains("tap.json"), "{}", c.description);
        // One bad source fails the whole import.
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "nonsense").unwrap();
        assert!(import_all(&[rabtap, bad]).is_err());
        assert!(import_all(&[]).is_err());
    }
}
