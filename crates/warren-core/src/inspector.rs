//! The message inspector's store: messages held on the Rust side, so that a view of 100,000
//! messages costs the UI only the rows on screen.
//!
//! The UI sets a filter ([`Inspection::apply`]), asks for the rows it shows
//! ([`Inspection::rows`]) and for one message in full when it is opened
//! ([`Inspection::detail`]). Filtering runs over the held messages in Rust; a row carries
//! previews, never whole bodies.
//!
//! A body can be as large as the broker allows (hundreds of MiB): the detail carries its first
//! [`DETAIL_BODY_BYTES`] and its size, and the rest crosses in ranges ([`MessageList::body`]) or
//! goes straight to a file ([`save_body`]), so one message never crosses IPC whole.
//!
//! The same machinery serves every kind of held message: [`MessageList`] keeps any
//! [`Inspected`] item (a peeked message here, a consumed delivery in `consume`) with its
//! filtered view, so a consumer's tab filters, pages and opens messages exactly as the peek
//! inspector does.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
pub use crate::message::DeathRecord;
use crate::message::{
    death_records, encode_body, file, value_text, BodyEncoding, Message, MessageJson,
};
use crate::peek::{PeekReport, PeekedMessage};

/// How many characters of the body a row previews.
const PREVIEW_CHARS: usize = 160;

/// How much of a body a message's detail carries; the rest is asked for in ranges.
pub const DETAIL_BODY_BYTES: usize = 256 * 1024;

/// The most one body range may carry.
pub const MAX_BODY_RANGE: u64 = 16 * 1024 * 1024;

/// What the inspector reads of a held message, whatever brought it (a peek, a consumer).
pub trait Inspected {
    fn message(&self) -> &Message;
    /// 1-based: the position in the queue (peek) or the order of arrival (consumer).
    fn position(&self) -> u32;
    fn redelivered(&self) -> bool;
    fn offset(&self) -> Option<u64>;
    fn delivery_count(&self) -> Option<u64>;
    /// The body's size as delivered (a held body may have been let go since).
    fn size(&self) -> u64 {
        self.message().body.len() as u64
    }
}

impl Inspected for PeekedMessage {
    fn message(&self) -> &Message {
        &self.message
    }
    fn position(&self) -> u32 {
        self.position
    }
    fn redelivered(&self) -> bool {
        self.redelivered
    }
    fn offset(&self) -> Option<u64> {
        self.offset
    }
    fn delivery_count(&self) -> Option<u64> {
        self.delivery_count
    }
}

/// Where a filter looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FilterScope {
    /// Body, routing key, exchange, properties and header values.
    #[default]
    Everything,
    Body,
    RoutingKey,
    /// Header values; only header `field` when it is set.
    Header,
    /// Property values; only property `field` (e.g. `message_id`) when it is set.
    Property,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MessageFilter {
    /// Empty: every message matches.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub regex: bool,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub scope: FilterScope,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct InspectionSummary {
    pub id: u32,
    pub vhost: String,
    pub queue: String,
    pub total: u32,
    #[ts(type = "number")]
    pub bytes: u64,
    /// Header names seen in the messages (for column pickers), sorted.
    pub header_names: Vec<String>,
    pub report: PeekReport,
}

/// The result of applying a filter.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct InspectionView {
    pub total: u32,
    pub matched: u32,
}

/// One row of the message list: what fits in a table cell.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MessageRow {
    /// Index in the current (filtered) view, 0-based.
    pub index: u32,
    /// Position in the queue, 1-based.
    pub position: u32,
    pub exchange: String,
    pub routing_key: String,
    pub message_id: Option<String>,
    pub correlation_id: Option<String>,
    #[ts(type = "number | null")]
    pub timestamp: Option<u64>,
    pub content_type: Option<String>,
    #[ts(type = "number")]
    pub size: u64,
    pub redelivered: bool,
    #[ts(type = "number | null")]
    pub offset: Option<u64>,
    #[ts(type = "number | null")]
    pub delivery_count: Option<u64>,
    /// The values of the headers asked for, as short text (absent headers omitted).
    pub headers: Vec<HeaderPreview>,
    pub body_preview: String,
    pub body_is_text: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct HeaderPreview {
    pub name: String,
    pub value: String,
}

/// One message in full, for the detail pane.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MessageDetail {
    pub index: u32,
    pub position: u32,
    pub message: MessageJson,
    pub redelivered: bool,
    #[ts(type = "number | null")]
    pub offset: Option<u64>,
    #[ts(type = "number | null")]
    pub delivery_count: Option<u64>,
    #[ts(type = "number")]
    pub size: u64,
    /// How many bytes of the body `message` carries: all of it, or its first
    /// [`DETAIL_BODY_BYTES`] (the rest comes in ranges).
    #[ts(type = "number")]
    pub body_shown: u64,
    /// The `x-death` history of a dead-lettered message, newest first as RabbitMQ keeps it.
    pub x_death: Vec<DeathRecord>,
}

/// Bytes `offset..offset + length` of a held body.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BodyChunk {
    #[ts(type = "number")]
    pub offset: u64,
    /// Bytes carried (may be less than asked: the body ends, or a UTF-8 character that the
    /// range would cut is left for the next range).
    #[ts(type = "number")]
    pub length: u64,
    /// The whole body's size.
    #[ts(type = "number")]
    pub size: u64,
    /// Text when the bytes are UTF-8, else base64 (as in the message format).
    pub body: String,
    pub body_encoding: BodyEncoding,
}

/// Which messages to save.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind", content = "indices")]
#[ts(export)]
pub enum Selection {
    /// Every message of the current view (the filter applied).
    View,
    /// These indices of the current view.
    Indices(Vec<u32>),
}

/// Peeked messages and the current filtered view over them.
pub struct Inspection {
    pub summary: InspectionSummary,
    list: MessageList<PeekedMessage>,
}

/// Held messages of any kind and the current filtered view over them.
pub struct MessageList<T> {
    messages: Vec<T>,
    /// The current filter and the indices into `messages` it matched; `None` when unfiltered.
    view: Option<(MessageFilter, Matcher, Vec<u32>)>,
}

enum Matcher {
    All,
    Text {
        needle: String,
        case_sensitive: bool,
    },
    Regex(regex_lite::Regex),
}

impl Matcher {
    fn new(f: &MessageFilter) -> Result<Matcher> {
        if f.text.is_empty() {
            return Ok(Matcher::All);
        }
        if f.regex {
            let pattern = if f.case_sensitive {
                f.text.clone()
            } else {
                format!("(?i){}", f.text)
            };
            return regex_lite::Regex::new(&pattern)
                .map(Matcher::Regex)
                .map_err(|e| {
                    Error::invalid("filter", format!("not a valid regular expression: {e}"))
                });
        }
        Ok(Matcher::Text {
            needle: if f.case_sensitive {
                f.text.clone()
            } else {
                f.text.to_lowercase()
            },
            case_sensitive: f.case_sensitive,
        })
    }

    fn is_match(&self, hay: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Text {
                needle,
                case_sensitive: true,
            } => hay.contains(needle.as_str()),
            Matcher::Text { needle, .. } => hay.to_lowercase().contains(needle.as_str()),
            Matcher::Regex(r) => r.is_match(hay),
        }
    }
}

fn property_values(m: &Message) -> Vec<(&'static str, String)> {
    let p = &m.properties;
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut push = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            out.push((k, v));
        }
    };
    push("content_type", p.content_type.clone());
    push("content_encoding", p.content_encoding.clone());
    push("delivery_mode", p.delivery_mode.map(|v| v.to_string()));
    push("priority", p.priority.map(|v| v.to_string()));
    push("correlation_id", p.correlation_id.clone());
    push("reply_to", p.reply_to.clone());
    push("expiration", p.expiration.clone());
    push("message_id", p.message_id.clone());
    push("timestamp", p.timestamp.map(|v| v.to_string()));
    push("type", p.kind.clone());
    push("user_id", p.user_id.clone());
    push("app_id", p.app_id.clone());
    out
}

fn matches(m: &Message, matcher: &Matcher, f: &MessageFilter) -> bool {
    if let Matcher::All = matcher {
        return true;
    }
    let body = || String::from_utf8_lossy(&m.body).into_owned();
    let headers = || -> bool {
        m.properties.headers.as_ref().is_some_and(|h| {
            h.inner().iter().any(|(k, v)| {
                f.field.as_deref().is_none_or(|want| want == k.as_str())
                    && matcher.is_match(&value_text(v))
            })
        })
    };
    let properties = || {
        property_values(m)
            .iter()
            .any(|(k, v)| f.field.as_deref().is_none_or(|want| want == *k) && matcher.is_match(v))
    };
    match f.scope {
        FilterScope::Body => matcher.is_match(&body()),
        FilterScope::RoutingKey => matcher.is_match(&m.routing_key),
        FilterScope::Header => headers(),
        FilterScope::Property => properties(),
        FilterScope::Everything => {
            matcher.is_match(&m.routing_key)
                || matcher.is_match(&m.exchange)
                || headers()
                || properties()
                || matcher.is_match(&body())
        }
    }
}

fn preview(body: &[u8]) -> (String, bool) {
    match std::str::from_utf8(body) {
        Ok(s) => {
            let mut p: String = s.chars().take(PREVIEW_CHARS).collect();
            p = p.replace(['\n', '\r', '\t'], " ");
            (p, true)
        }
        Err(_) => {
            let hex: Vec<String> = body
                .iter()
                .take(PREVIEW_CHARS / 3)
                .map(|b| format!("{b:02x}"))
                .collect();
            (hex.join(" "), false)
        }
    }
}

impl Inspection {
    pub fn new(id: u32, report: PeekReport, messages: Vec<PeekedMessage>) -> Inspection {
        let list = MessageList::new(messages);
        Inspection {
            summary: InspectionSummary {
                id,
                vhost: report.plan.vhost.clone(),
                queue: report.plan.queue.clone(),
                total: list.len(),
                bytes: list.iter().map(|m| m.size()).sum(),
                header_names: list.header_names(),
                report,
            },
            list,
        }
    }

    /// Sets the filter that the view shows. A bad regex is an error and leaves the view as it
    /// was.
    pub fn apply(&mut self, filter: &MessageFilter) -> Result<InspectionView> {
        self.list.apply(filter)
    }

    /// Rows `start..start+count` of the current view, with the values of `headers`.
    pub fn rows(&self, start: u32, count: u32, headers: &[String]) -> Vec<MessageRow> {
        self.list
            .view_range(start, count)
            .map(|(index, m)| row(index, m, headers))
            .collect()
    }

    pub fn detail(&self, index: u32) -> Result<MessageDetail> {
        self.list.detail(index)
    }

    pub fn body(&self, index: u32, offset: u64, length: u64) -> Result<BodyChunk> {
        self.list.body(index, offset, length)
    }

    /// The message at `index` of the current view.
    pub fn message_at(&self, index: u32) -> Result<&PeekedMessage> {
        self.list.resolve_or_err(index)
    }

    /// The selected messages, in queue order.
    pub fn select(&self, selection: &Selection) -> Result<Vec<&PeekedMessage>> {
        self.list.select(selection)
    }
}

/// How many header names a list offers for column pickers.
const MAX_HEADER_NAMES: usize = 200;

impl<T: Inspected> MessageList<T> {
    pub fn new(messages: Vec<T>) -> Self {
        MessageList {
            messages,
            view: None,
        }
    }

    /// Every held message, in the order held.
    pub fn len(&self) -> u32 {
        self.messages.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.messages.iter()
    }

    /// The held message at `i` (in the order held, not the view's).
    pub fn get(&self, i: u32) -> Option<&T> {
        self.messages.get(i as usize)
    }

    pub fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        self.messages.get_mut(i as usize)
    }

    /// Adds a message at the end; it joins the view when it matches the current filter.
    pub fn push(&mut self, m: T) {
        let i = self.messages.len() as u32;
        if let Some((filter, matcher, matched)) = &mut self.view {
            if matches(m.message(), matcher, filter) {
                matched.push(i);
            }
        }
        self.messages.push(m);
    }

    /// Header names seen in the messages (for column pickers), sorted.
    pub fn header_names(&self) -> Vec<String> {
        let mut names = std::collections::BTreeSet::new();
        for m in &self.messages {
            if let Some(h) = &m.message().properties.headers {
                for k in h.inner().keys() {
                    if names.len() < MAX_HEADER_NAMES {
                        names.insert(k.as_str().to_owned());
                    }
                }
            }
        }
        names.into_iter().collect()
    }

    pub fn view_len(&self) -> u32 {
        self.view
            .as_ref()
            .map_or(self.messages.len() as u32, |(_, _, v)| v.len() as u32)
    }

    /// The index in the order held of the message at `index` of the current view.
    pub fn held_index(&self, index: u32) -> Option<u32> {
        let i = match &self.view {
            Some((_, _, v)) => *v.get(index as usize)?,
            None => index,
        };
        ((i as usize) < self.messages.len()).then_some(i)
    }

    pub fn resolve(&self, index: u32) -> Option<&T> {
        self.messages.get(self.held_index(index)? as usize)
    }

    /// Sets the filter that the view shows. A bad regex is an error and leaves the view as it
    /// was.
    pub fn apply(&mut self, filter: &MessageFilter) -> Result<InspectionView> {
        let matcher = Matcher::new(filter)?;
        self.view = match matcher {
            Matcher::All => None,
            _ => {
                let matched = self
                    .messages
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| matches(m.message(), &matcher, filter))
                    .map(|(i, _)| i as u32)
                    .collect();
                Some((filter.clone(), matcher, matched))
            }
        };
        Ok(InspectionView {
            total: self.messages.len() as u32,
            matched: self.view_len(),
        })
    }

    /// The messages at `start..start+count` of the current view (at most 1,000), with their
    /// view indices.
    pub fn view_range(&self, start: u32, count: u32) -> impl Iterator<Item = (u32, &T)> {
        let end = start.saturating_add(count.min(1000)).min(self.view_len());
        (start..end).filter_map(|index| Some((index, self.resolve(index)?)))
    }

    pub fn detail(&self, index: u32) -> Result<MessageDetail> {
        Ok(detail(index, self.resolve_or_err(index)?))
    }

    /// The message at `index` of the current view, or an error naming it.
    pub fn resolve_or_err(&self, index: u32) -> Result<&T> {
        self.resolve(index).ok_or_else(|| {
            Error::invalid(
                "index",
                format!("no message {index} in this view of {}", self.view_len()),
            )
        })
    }

    /// Bytes `offset..offset + length` of the body of the message at `index` of the view.
    pub fn body(&self, index: u32, offset: u64, length: u64) -> Result<BodyChunk> {
        body_range(self.resolve_or_err(index)?, offset, length)
    }

    /// The selected messages, in the order held.
    pub fn select(&self, selection: &Selection) -> Result<Vec<&T>> {
        match selection {
            Selection::View => Ok((0..self.view_len())
                .filter_map(|i| self.resolve(i))
                .collect()),
            Selection::Indices(indices) => {
                let mut sorted = indices.clone();
                sorted.sort_unstable();
                sorted.dedup();
                sorted
                    .into_iter()
                    .map(|i| {
                        self.resolve(i).ok_or_else(|| {
                            Error::invalid("selection", format!("no message {i} in this view"))
                        })
                    })
                    .collect()
            }
        }
    }
}

/// The row of message `m`, at `index` of its view, with the values of `headers`.
pub fn row(index: u32, m: &impl Inspected, headers: &[String]) -> MessageRow {
    let message = m.message();
    let p = &message.properties;
    let (body_preview, body_is_text) = preview(&message.body);
    MessageRow {
        index,
        position: m.position(),
        exchange: message.exchange.clone(),
        routing_key: message.routing_key.clone(),
        message_id: p.message_id.clone(),
        correlation_id: p.correlation_id.clone(),
        timestamp: p.timestamp,
        content_type: p.content_type.clone(),
        size: m.size(),
        redelivered: m.redelivered(),
        offset: m.offset(),
        delivery_count: m.delivery_count(),
        headers: headers
            .iter()
            .filter_map(|name| {
                let v = p.headers.as_ref()?.inner().get(name.as_str())?;
                let mut value = value_text(v);
                if value.len() > 200 {
                    value = value.chars().take(200).collect::<String>() + "…";
                }
                Some(HeaderPreview {
                    name: name.clone(),
                    value,
                })
            })
            .collect(),
        body_preview,
        body_is_text,
    }
}

/// Message `m` at `index` of its view: everything but a large body's tail (see
/// [`DETAIL_BODY_BYTES`]).
pub fn detail(index: u32, m: &impl Inspected) -> MessageDetail {
    let message = m.message();
    let shown = text_safe_end(&message.body, 0, DETAIL_BODY_BYTES);
    let head = Message {
        exchange: message.exchange.clone(),
        routing_key: message.routing_key.clone(),
        properties: message.properties.clone(),
        body: message.body[..shown].to_vec(),
    };
    MessageDetail {
        index,
        position: m.position(),
        message: head.into(),
        redelivered: m.redelivered(),
        offset: m.offset(),
        delivery_count: m.delivery_count(),
        size: m.size(),
        body_shown: shown as u64,
        x_death: death_records(&message.properties),
    }
}

/// Where a range of `body` from `start` of at most `limit` bytes ends: at `start + limit` or
/// the body's end, moved back before a UTF-8 character the range would cut in a body that is
/// text up to there (so a text body's ranges stay text).
fn text_safe_end(body: &[u8], start: usize, limit: usize) -> usize {
    let end = start.saturating_add(limit).min(body.len());
    if end == body.len() {
        return end;
    }
    match std::str::from_utf8(&body[start..end]) {
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => start + e.valid_up_to(),
        _ => end,
    }
}

/// Bytes `offset..offset + length` (at most [`MAX_BODY_RANGE`]) of `m`'s body.
pub fn body_range(m: &impl Inspected, offset: u64, length: u64) -> Result<BodyChunk> {
    let body = &m.message().body;
    let size = body.len() as u64;
    if (body.len() as u64) < m.size() {
        return Err(Error::invalid(
            "index",
            "this message's body was let go to stay within the memory budget",
        ));
    }
    if offset > size {
        return Err(Error::invalid(
            "offset",
            format!("{offset} is past the end of the body ({size} bytes)"),
        ));
    }
    let start = offset as usize;
    let end = text_safe_end(body, start, length.min(MAX_BODY_RANGE) as usize);
    let (text, body_encoding) = encode_body(&body[start..end]);
    Ok(BodyChunk {
        offset,
        length: (end - start) as u64,
        size,
        body: text,
        body_encoding,
    })
}

/// Refuses to replace an existing file unless `overwrite`: the caller asks the user first.
pub fn check_overwrite(path: &Path, overwrite: bool) -> Result<()> {
    if !overwrite && path.exists() {
        return Err(Error::FileExists(path.to_owned()));
    }
    Ok(())
}

/// Writes one message's body as it is (raw bytes), atomically; refuses to replace an existing
/// file unless `overwrite`. Returns the bytes written.
pub fn save_body(path: &Path, m: &impl Inspected, overwrite: bool) -> Result<u64> {
    let body = &m.message().body;
    if (body.len() as u64) < m.size() {
        return Err(Error::invalid(
            "index",
            "this message's body was let go to stay within the memory budget",
        ));
    }
    check_overwrite(path, overwrite)?;
    file::write_bytes(path, body)?;
    Ok(body.len() as u64)
}

/// Writes messages as JSON Lines in the message format (peek extras included), atomically
/// (see [`file::write_json_lines`]); refuses to replace an existing file unless `overwrite`.
pub fn save_messages<M: Serialize>(path: &Path, messages: &[M], overwrite: bool) -> Result<u64> {
    check_overwrite(path, overwrite)?;
    file::write_json_lines(path, messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::QueueType;
    use crate::message::Properties;
    use crate::peek::{PeekEnd, PeekMethod, PeekPlan};
    use lapin::types::{AMQPValue, FieldArray, FieldTable, LongString};

    fn report() -> PeekReport {
        PeekReport {
            plan: PeekPlan {
                vhost: "/".into(),
                queue: "q".into(),
                queue_type: QueueType::Classic,
                broker_version: None,
                method: PeekMethod::NackRequeue,
                order: crate::broker::DeliveryOrder::Publication,
                effects: vec![],
                harmless: true,
                delivery_limit: None,
                over_limit: None,
                messages_ready: None,
                consumers: None,
                count: 3,
            },
            received: 3,
            end: PeekEnd::CountReached,
            endpoint: "e".into(),
            elapsed_ms: 1,
            held_bytes: 0,
            budget_bytes: 1,
            returned_by_broker: None,
        }
    }

    fn msg(position: u32, key: &str, body: &[u8], tenant: &str) -> PeekedMessage {
        let mut headers = FieldTable::default();
        headers.insert(
            "tenant".into(),
            AMQPValue::LongString(LongString::from(tenant)),
        );
        PeekedMessage {
            position,
            message: Message {
                exchange: "x".into(),
                routing_key: key.into(),
                properties: Properties {
                    message_id: Some(format!("m-{position}")),
                    headers: Some(headers),
                    ..Properties::default()
                },
                body: body.to_vec(),
            },
            redelivered: false,
            offset: None,
            delivery_count: None,
            received_at_ms: 0,
        }
    }

    fn inspection() -> Inspection {
        Inspection::new(
            1,
            report(),
            vec![
                msg(1, "orders.eu", br#"{"total": 10}"#, "acme"),
                msg(2, "orders.us", &[0xff, 0x00], "globex"),
                msg(3, "audit", b"Total: 99", "acme"),
            ],
        )
    }

    #[test]
    fn filters_narrow_the_view_by_scope() {
        let mut i = inspection();
        let f = |text: &str, scope, field: Option<&str>| MessageFilter {
            text: text.into(),
            scope,
            field: field.map(str::to_owned),
            ..MessageFilter::default()
        };
        assert_eq!(
            i.apply(&f("total", FilterScope::Body, None))
                .unwrap()
                .matched,
            2
        );
        assert_eq!(i.rows(0, 10, &[])[1].position, 3);
        assert_eq!(
            i.apply(&f("acme", FilterScope::Header, Some("tenant")))
                .unwrap()
                .matched,
            2
        );
        assert_eq!(
            i.apply(&f("acme", FilterScope::Header, Some("other")))
                .unwrap()
                .matched,
            0
        );
        assert_eq!(
            i.apply(&f("m-2", FilterScope::Property, Some("message_id")))
                .unwrap()
                .matched,
            1
        );
        assert_eq!(
            i.apply(&f("orders", FilterScope::RoutingKey, None))
                .unwrap()
                .matched,
            2
        );
        let regex = MessageFilter {
            text: r"^orders\.(eu|us)$".into(),
            regex: true,
            scope: FilterScope::RoutingKey,
            ..MessageFilter::default()
        };
        assert_eq!(i.apply(&regex).unwrap().matched, 2);
        assert_eq!(
            i.apply(&f("", FilterScope::Everything, None))
                .unwrap()
                .matched,
            3
        );
        let bad = MessageFilter {
            text: "(".into(),
            regex: true,
            ..MessageFilter::default()
        };
        assert!(i.apply(&bad).is_err());
    }

    #[test]
    fn rows_preview_binary_bodies_as_hex_and_carry_asked_headers() {
        let i = inspection();
        let rows = i.rows(0, 10, &["tenant".into(), "missing".into()]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].body_preview, "ff 00");
        assert!(!rows[1].body_is_text);
        assert_eq!(rows[0].headers.len(), 1);
        assert_eq!(rows[0].headers[0].value, "acme");
        assert!(i.rows(2, 10, &[]).len() == 1 && i.rows(5, 10, &[]).is_empty());
    }

    #[test]
    fn x_death_is_read_into_records() {
        let mut death = FieldTable::default();
        death.insert("queue".into(), AMQPValue::LongString("work".into()));
        death.insert("reason".into(), AMQPValue::LongString("rejected".into()));
        death.insert("count".into(), AMQPValue::LongLongInt(2));
        death.insert("time".into(), AMQPValue::Timestamp(1_700_000_000));
        death.insert(
            "routing-keys".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::LongString("k".into())])),
        );
        let mut m = msg(1, "k", b"x", "acme");
        m.message.properties.headers.as_mut().unwrap().insert(
            "x-death".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
        );
        let i = Inspection::new(1, report(), vec![m]);
        let d = i.detail(0).unwrap();
        assert_eq!(d.x_death.len(), 1);
        assert_eq!(d.x_death[0].queue.as_deref(), Some("work"));
        assert_eq!(d.x_death[0].count, Some(2));
        assert_eq!(d.x_death[0].routing_keys, vec!["k".to_string()]);
    }

    #[test]
    fn saving_writes_json_lines_that_read_back_exactly() {
        let i = inspection();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let selected = i.select(&Selection::Indices(vec![1, 0])).unwrap();
        assert_eq!(save_messages(&path, &selected, false).unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let back: PeekedMessage = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(back.message.body, vec![0xff, 0x00]);
        assert_eq!(back.position, 2);
        let err = save_messages(&dir.path().join("nope/x.jsonl"), &selected, false).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }

    #[test]
    fn saving_over_an_existing_file_needs_overwrite() {
        let i = inspection();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "keep me").unwrap();
        let selected = i.select(&Selection::View).unwrap();
        let err = save_messages(&path, &selected, false).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
        let err = save_body(&path, i.message_at(0).unwrap(), false).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::AlreadyExists);
        assert_eq!(save_messages(&path, &selected, true).unwrap(), 3);
        assert_eq!(save_body(&path, i.message_at(1).unwrap(), true).unwrap(), 2);
        assert_eq!(std::fs::read(&path).unwrap(), vec![0xff, 0x00]);
    }

    #[test]
    fn a_large_body_crosses_in_parts() {
        // 1 MiB of text with a two-byte character straddling the detail's cut.
        let mut body = vec![b'a'; DETAIL_BODY_BYTES - 1];
        body.extend("é".as_bytes());
        body.resize(1024 * 1024, b'b');
        let i = Inspection::new(1, report(), vec![msg(1, "k", &body, "acme")]);
        let d = i.detail(0).unwrap();
        assert_eq!(d.size, body.len() as u64);
        // The cut moves back before the character, so the part is still text.
        assert_eq!(d.body_shown, DETAIL_BODY_BYTES as u64 - 1);
        assert_eq!(d.message.body_encoding, BodyEncoding::Utf8);
        assert_eq!(d.message.body.len(), DETAIL_BODY_BYTES - 1);
        // The rest comes in ranges that add up to the body.
        let mut got: Vec<u8> = Vec::new();
        let mut offset = 0;
        while offset < d.size {
            let c = i.body(0, offset, 300 * 1024).unwrap();
            assert_eq!(c.size, d.size);
            assert_eq!(c.offset, offset);
            assert!(c.length > 0);
            assert_eq!(c.body_encoding, BodyEncoding::Utf8);
            got.extend(c.body.as_bytes());
            offset += c.length;
        }
        assert_eq!(got, body);
        assert!(i.body(0, d.size + 1, 10).is_err());
        // A small body is whole in the detail.
        let small = Inspection::new(1, report(), vec![msg(1, "k", b"hi", "acme")]);
        assert_eq!(small.detail(0).unwrap().body_shown, 2);
        // A binary body's range is base64.
        let bin = Inspection::new(1, report(), vec![msg(1, "k", &[0xff; 10], "acme")]);
        let c = bin.body(0, 2, 4).unwrap();
        assert_eq!((c.length, c.body_encoding), (4, BodyEncoding::Base64));
    }
}
