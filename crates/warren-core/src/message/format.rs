//! The message format: one JSON object per message, shared by peek, consume, saved collections,
//! replay and publish (docs/message-format.md is the user-facing description of the same rules).
//!
//! Why a format of our own: a message has to survive a round trip through a file a person edits
//! and back onto the wire byte for byte. Plain JSON loses AMQP's field types (a header sent as a
//! 16-bit integer would come back as a 32-bit one; a byte array as a string), so values whose
//! type plain JSON cannot say carry it explicitly as `{"$type": ..., "value": ...}`. Everything a
//! person writes by hand stays plain: strings, booleans, 32-bit integers, doubles, tables, arrays.
//!
//! Decoding is strict (wrong widths, over-long short strings and unknown types are errors naming
//! the header path) because lapin panics on over-long short strings and because a file that
//! cannot be replayed exactly should say so before anything is sent.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use lapin::types::{
    AMQPValue, ByteArray, DecimalValue, FieldArray, FieldTable, LongString, ShortString,
};
use lapin::BasicProperties;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use ts_rs::TS;

use crate::error::{Error, Result};

/// A message as Warren reads, stores and publishes it. Serialises to the message format.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "MessageJson", try_from = "MessageJson")]
pub struct Message {
    pub exchange: String,
    pub routing_key: String,
    pub properties: Properties,
    pub body: Vec<u8>,
}

/// The basic properties of AMQP 0-9-1 (cluster_id, deprecated and refused by RabbitMQ, aside).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Properties {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub headers: Option<FieldTable>,
    pub delivery_mode: Option<u8>,
    pub priority: Option<u8>,
    pub correlation_id: Option<String>,
    pub reply_to: Option<String>,
    pub expiration: Option<String>,
    pub message_id: Option<String>,
    /// Seconds since the Unix epoch, as AMQP carries it.
    pub timestamp: Option<u64>,
    pub kind: Option<String>,
    pub user_id: Option<String>,
    pub app_id: Option<String>,
}

/// How `body` is written in the JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum BodyEncoding {
    #[default]
    Utf8,
    Base64,
}

/// The JSON shape of [`Message`] (what files and the UI see).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "Message")]
pub struct MessageJson {
    #[serde(default)]
    pub exchange: String,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default)]
    pub properties: PropertiesJson,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub body_encoding: BodyEncoding,
}

/// The JSON shape of [`Properties`]; `headers` holds field values in the typed form.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "MessageProperties")]
pub struct PropertiesJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable, type = "Record<string, import('../fieldValue').FieldValue> | null")]
    pub headers: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub delivery_mode: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub priority: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub expiration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable, type = "number | null")]
    pub timestamp: Option<u64>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub app_id: Option<String>,
}

impl From<Message> for MessageJson {
    fn from(m: Message) -> Self {
        let (body, body_encoding) = encode_body(&m.body);
        MessageJson {
            exchange: m.exchange,
            routing_key: m.routing_key,
            properties: m.properties.into(),
            body,
            body_encoding,
        }
    }
}

impl TryFrom<MessageJson> for Message {
    type Error = Error;

    fn try_from(j: MessageJson) -> Result<Self> {
        let body = match j.body_encoding {
            BodyEncoding::Utf8 => j.body.into_bytes(),
            BodyEncoding::Base64 => BASE64
                .decode(j.body.as_bytes())
                .map_err(|e| Error::invalid("body", format!("not valid base64: {e}")))?,
        };
        check_short("exchange", &j.exchange)?;
        check_short("routing_key", &j.routing_key)?;
        Ok(Message {
            exchange: j.exchange,
            routing_key: j.routing_key,
            properties: j.properties.try_into()?,
            body,
        })
    }
}

impl From<Properties> for PropertiesJson {
    fn from(p: Properties) -> Self {
        PropertiesJson {
            content_type: p.content_type,
            content_encoding: p.content_encoding,
            headers: p.headers.as_ref().map(encode_table),
            delivery_mode: p.delivery_mode,
            priority: p.priority,
            correlation_id: p.correlation_id,
            reply_to: p.reply_to,
            expiration: p.expiration,
            message_id: p.message_id,
            timestamp: p.timestamp,
            kind: p.kind,
            user_id: p.user_id,
            app_id: p.app_id,
        }
    }
}

impl TryFrom<PropertiesJson> for Properties {
    type Error = Error;

    fn try_from(j: PropertiesJson) -> Result<Self> {
        let short = |field: &str, v: Option<String>| -> Result<Option<String>> {
            if let Some(s) = &v {
                check_short(&format!("properties.{field}"), s)?;
            }
            Ok(v)
        };
        Ok(Properties {
            content_type: short("content_type", j.content_type)?,
            content_encoding: short("content_encoding", j.content_encoding)?,
            headers: j
                .headers
                .map(|h| decode_table("properties.headers", &h))
                .transpose()?,
            delivery_mode: j.delivery_mode,
            priority: j.priority,
            correlation_id: short("correlation_id", j.correlation_id)?,
            reply_to: short("reply_to", j.reply_to)?,
            expiration: short("expiration", j.expiration)?,
            message_id: short("message_id", j.message_id)?,
            timestamp: j.timestamp,
            kind: short("type", j.kind)?,
            user_id: short("user_id", j.user_id)?,
            app_id: short("app_id", j.app_id)?,
        })
    }
}

impl Message {
    /// Parses one message in the message format.
    pub fn from_json(text: &str) -> Result<Message> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let json: MessageJson = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "message".to_owned()
            } else {
                path
            };
            Error::invalid(field, e.into_inner().to_string())
        })?;
        json.try_into()
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(MessageJson::from(self.clone())).expect("message JSON is valid")
    }

    /// Builds a message from what the broker delivered.
    pub fn from_amqp(
        exchange: &ShortString,
        routing_key: &ShortString,
        props: &BasicProperties,
        body: Vec<u8>,
    ) -> Message {
        let s = |v: &Option<ShortString>| v.as_ref().map(|s| s.as_str().to_owned());
        Message {
            exchange: exchange.as_str().to_owned(),
            routing_key: routing_key.as_str().to_owned(),
            properties: Properties {
                content_type: s(props.content_type()),
                content_encoding: s(props.content_encoding()),
                headers: props.headers().clone(),
                delivery_mode: *props.delivery_mode(),
                priority: *props.priority(),
                correlation_id: s(props.correlation_id()),
                reply_to: s(props.reply_to()),
                expiration: s(props.expiration()),
                message_id: s(props.message_id()),
                timestamp: *props.timestamp(),
                kind: s(props.kind()),
                user_id: s(props.user_id()),
                app_id: s(props.app_id()),
            },
            body,
        }
    }

    /// The properties as lapin sends them. Every short string was length-checked when the
    /// message was built from JSON; a message built in code is checked here.
    pub fn amqp_properties(&self) -> Result<BasicProperties> {
        let p = &self.properties;
        let mut props = BasicProperties::default();
        let short = |field: &str, v: &str| {
            ShortString::try_new(v)
                .map_err(|e| Error::invalid(format!("properties.{field}"), e.to_string()))
        };
        if let Some(v) = &p.content_type {
            props = props.with_content_type(short("content_type", v)?);
        }
        if let Some(v) = &p.content_encoding {
            props = props.with_content_encoding(short("content_encoding", v)?);
        }
        if let Some(v) = &p.headers {
            props = props.with_headers(v.clone());
        }
        if let Some(v) = p.delivery_mode {
            props = props.with_delivery_mode(v);
        }
        if let Some(v) = p.priority {
            props = props.with_priority(v);
        }
        if let Some(v) = &p.correlation_id {
            props = props.with_correlation_id(short("correlation_id", v)?);
        }
        if let Some(v) = &p.reply_to {
            props = props.with_reply_to(short("reply_to", v)?);
        }
        if let Some(v) = &p.expiration {
            props = props.with_expiration(short("expiration", v)?);
        }
        if let Some(v) = &p.message_id {
            props = props.with_message_id(short("message_id", v)?);
        }
        if let Some(v) = p.timestamp {
            props = props.with_timestamp(v);
        }
        if let Some(v) = &p.kind {
            props = props.with_type(short("type", v)?);
        }
        if let Some(v) = &p.user_id {
            props = props.with_user_id(short("user_id", v)?);
        }
        if let Some(v) = &p.app_id {
            props = props.with_app_id(short("app_id", v)?);
        }
        Ok(props)
    }
}

/// `utf8` when the bytes are valid UTF-8, else `base64`.
pub fn encode_body(body: &[u8]) -> (String, BodyEncoding) {
    match std::str::from_utf8(body) {
        Ok(s) => (s.to_owned(), BodyEncoding::Utf8),
        Err(_) => (BASE64.encode(body), BodyEncoding::Base64),
    }
}

pub fn base64_encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

fn check_short(field: &str, s: &str) -> Result<()> {
    if s.len() > 255 {
        return Err(Error::invalid(
            field,
            format!("is {} bytes long; AMQP allows at most 255", s.len()),
        ));
    }
    Ok(())
}

/// The typed-form key. A table that itself holds this key is written in typed form, so a plain
/// JSON object is always a table and never mistaken for a typed value.
const TYPE_KEY: &str = "$type";

/// The type names of the typed form (`{"$type": NAME, ...}`, and the CLI's `-H name:NAME=value`):
/// one per AMQP 0-9-1 field type. Exported to the UI, whose per-type data is keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum HeaderType {
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    F32,
    F64,
    Decimal,
    String,
    Timestamp,
    Bytes,
    Void,
    Table,
    Array,
}

impl HeaderType {
    pub const ALL: [HeaderType; 17] = [
        HeaderType::Bool,
        HeaderType::I8,
        HeaderType::U8,
        HeaderType::I16,
        HeaderType::U16,
        HeaderType::I32,
        HeaderType::U32,
        HeaderType::I64,
        HeaderType::F32,
        HeaderType::F64,
        HeaderType::Decimal,
        HeaderType::String,
        HeaderType::Timestamp,
        HeaderType::Bytes,
        HeaderType::Void,
        HeaderType::Table,
        HeaderType::Array,
    ];

    /// The name in the typed form.
    pub fn name(self) -> &'static str {
        match self {
            HeaderType::Bool => "bool",
            HeaderType::I8 => "i8",
            HeaderType::U8 => "u8",
            HeaderType::I16 => "i16",
            HeaderType::U16 => "u16",
            HeaderType::I32 => "i32",
            HeaderType::U32 => "u32",
            HeaderType::I64 => "i64",
            HeaderType::F32 => "f32",
            HeaderType::F64 => "f64",
            HeaderType::Decimal => "decimal",
            HeaderType::String => "string",
            HeaderType::Timestamp => "timestamp",
            HeaderType::Bytes => "bytes",
            HeaderType::Void => "void",
            HeaderType::Table => "table",
            HeaderType::Array => "array",
        }
    }

    /// The AMQP 0-9-1 type it stands for, as RabbitMQ's letter.
    pub fn letter(self) -> char {
        match self {
            HeaderType::Bool => 't',
            HeaderType::I8 => 'b',
            HeaderType::U8 => 'B',
            HeaderType::I16 => 's',
            HeaderType::U16 => 'u',
            HeaderType::I32 => 'I',
            HeaderType::U32 => 'i',
            HeaderType::I64 => 'l',
            HeaderType::F32 => 'f',
            HeaderType::F64 => 'd',
            HeaderType::Decimal => 'D',
            HeaderType::String => 'S',
            HeaderType::Timestamp => 'T',
            HeaderType::Bytes => 'x',
            HeaderType::Void => 'V',
            HeaderType::Table => 'F',
            HeaderType::Array => 'A',
        }
    }

    pub fn parse(name: &str) -> Option<HeaderType> {
        HeaderType::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The basic properties of the message format by name (snake_case, as in `properties` of a
/// message and the CLI's `-P name=value`); `headers` is not one, it has its own form. Exported
/// to the UI, whose per-property data is keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PropertyName {
    ContentType,
    ContentEncoding,
    DeliveryMode,
    Priority,
    CorrelationId,
    ReplyTo,
    Expiration,
    MessageId,
    Timestamp,
    Type,
    UserId,
    AppId,
    ClusterId,
}

impl PropertyName {
    pub const ALL: [PropertyName; 13] = [
        PropertyName::ContentType,
        PropertyName::ContentEncoding,
        PropertyName::DeliveryMode,
        PropertyName::Priority,
        PropertyName::CorrelationId,
        PropertyName::ReplyTo,
        PropertyName::Expiration,
        PropertyName::MessageId,
        PropertyName::Timestamp,
        PropertyName::Type,
        PropertyName::UserId,
        PropertyName::AppId,
        PropertyName::ClusterId,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PropertyName::ContentType => "content_type",
            PropertyName::ContentEncoding => "content_encoding",
            PropertyName::DeliveryMode => "delivery_mode",
            PropertyName::Priority => "priority",
            PropertyName::CorrelationId => "correlation_id",
            PropertyName::ReplyTo => "reply_to",
            PropertyName::Expiration => "expiration",
            PropertyName::MessageId => "message_id",
            PropertyName::Timestamp => "timestamp",
            PropertyName::Type => "type",
            PropertyName::UserId => "user_id",
            PropertyName::AppId => "app_id",
            PropertyName::ClusterId => "cluster_id",
        }
    }

    pub fn parse(name: &str) -> Option<PropertyName> {
        PropertyName::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Sets this property of `p` from its text form, as the CLI's `-P name=value` gives it:
    /// `delivery_mode` takes 1, 2, `transient` or `persistent`; `priority` 0-255; `timestamp`
    /// seconds since the epoch, an RFC 3339 time or a date; the others take the text as it is. Errors name the property's
    /// path (`properties.NAME`).
    pub fn set_from_text(self, p: &mut PropertiesJson, value: &str) -> Result<()> {
        let field = format!("properties.{}", self.name());
        let text = || Some(value.to_owned());
        match self {
            PropertyName::ContentType => p.content_type = text(),
            PropertyName::ContentEncoding => p.content_encoding = text(),
            PropertyName::CorrelationId => p.correlation_id = text(),
            PropertyName::ReplyTo => p.reply_to = text(),
            PropertyName::Expiration => p.expiration = text(),
            PropertyName::MessageId => p.message_id = text(),
            PropertyName::Type => p.kind = text(),
            PropertyName::UserId => p.user_id = text(),
            PropertyName::AppId => p.app_id = text(),
            PropertyName::DeliveryMode => {
                p.delivery_mode = Some(match value {
                    "transient" => 1,
                    "persistent" => 2,
                    other => other.parse().map_err(|_| {
                        Error::invalid(
                            field,
                            format!("\"{other}\" is neither 1 (transient) nor 2 (persistent)"),
                        )
                    })?,
                })
            }
            PropertyName::Priority => {
                p.priority = Some(value.parse().map_err(|_| {
                    Error::invalid(field, format!("\"{value}\" is not a number from 0 to 255"))
                })?)
            }
            PropertyName::Timestamp => {
                p.timestamp = Some(match value.trim().parse::<u64>() {
                    Ok(seconds) => seconds,
                    Err(_) => epoch_seconds(value).map_err(|why| Error::invalid(field, why))?,
                })
            }
            PropertyName::ClusterId => {
                return Err(Error::invalid(
                    field,
                    "cluster_id is deprecated and RabbitMQ refuses messages that carry it",
                ))
            }
        }
        Ok(())
    }
}

/// An AMQP timestamp (whole seconds since the Unix epoch) from an RFC 3339 time or a date; an
/// impossible date or a time before 1970 is refused with the reason.
fn epoch_seconds(text: &str) -> std::result::Result<u64, String> {
    let ms = crate::time::parse_instant_ms(text).map_err(|why| {
        format!("{why}; give seconds since the Unix epoch, an RFC 3339 time or a date")
    })?;
    u64::try_from(ms.div_euclid(1000))
        .map_err(|_| format!("\"{text}\" is before 1970, which an AMQP timestamp cannot hold"))
}

/// Parses a decimal written as text, `"12.50"`, into the typed form's `{"scale": 2, "value":
/// 1250}`: non-negative, at most 255 fraction digits and 4294967295 as unscaled value. `path`
/// names it in errors.
pub fn parse_decimal(path: &str, text: &str) -> Result<DecimalValue> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{int}{frac}");
    if int.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            path,
            format!("\"{text}\" is not a non-negative decimal such as 12.50"),
        ));
    }
    let value: u32 = digits.parse().map_err(|_| {
        Error::invalid(
            path,
            format!("{text} has more digits than a decimal holds (at most 4294967295)"),
        )
    })?;
    let scale = u8::try_from(frac.len()).map_err(|_| {
        Error::invalid(
            path,
            format!("{text} has more than 255 digits after the point"),
        )
    })?;
    Ok(DecimalValue { scale, value })
}

/// Encodes a field table as a JSON object of field values.
pub fn encode_table(table: &FieldTable) -> Map<String, Value> {
    table
        .inner()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), encode_value(v)))
        .collect()
}

fn typed(ty: HeaderType, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(TYPE_KEY.into(), Value::String(ty.name().into()));
    m.insert("value".into(), value);
    Value::Object(m)
}

fn float_value(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        // NaN and the infinities have no JSON number.
        None => Value::String(
            if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }
            .into(),
        ),
    }
}

/// Integers beyond ±2^53 are written as strings of digits: a JavaScript reader (the app's UI,
/// `jq`) would round them as numbers.
fn exact_integer(n: i64) -> Value {
    const SAFE: i64 = 1 << 53;
    if (-SAFE..=SAFE).contains(&n) {
        Value::from(n)
    } else {
        Value::String(n.to_string())
    }
}

/// A header value as short text: strings as they are, everything else as its JSON form.
pub fn value_text(v: &AMQPValue) -> String {
    match encode_value(v) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Encodes one field value: plain JSON where the type is implied, the typed form otherwise.
pub fn encode_value(v: &AMQPValue) -> Value {
    match v {
        AMQPValue::Boolean(b) => Value::Bool(*b),
        AMQPValue::ShortShortInt(n) => typed(HeaderType::I8, (*n).into()),
        AMQPValue::ShortShortUInt(n) => typed(HeaderType::U8, (*n).into()),
        AMQPValue::ShortInt(n) => typed(HeaderType::I16, (*n).into()),
        AMQPValue::ShortUInt(n) => typed(HeaderType::U16, (*n).into()),
        AMQPValue::LongInt(n) => Value::from(*n),
        AMQPValue::LongUInt(n) => typed(HeaderType::U32, (*n).into()),
        AMQPValue::LongLongInt(n) => typed(HeaderType::I64, exact_integer(*n)),
        AMQPValue::Float(f) => typed(HeaderType::F32, float_value(f64::from(*f))),
        // Whole doubles are typed: JavaScript reads `3.0` as the integer 3.
        AMQPValue::Double(f) if f.is_finite() && f.fract() != 0.0 => float_value(*f),
        AMQPValue::Double(f) => typed(HeaderType::F64, float_value(*f)),
        AMQPValue::DecimalValue(d) => {
            let mut m = Map::new();
            m.insert("scale".into(), d.scale.into());
            m.insert("value".into(), d.value.into());
            typed(HeaderType::Decimal, Value::Object(m))
        }
        AMQPValue::ShortString(s) => Value::String(s.as_str().to_owned()),
        AMQPValue::LongString(s) => match std::str::from_utf8(s.as_bytes()) {
            Ok(text) => Value::String(text.to_owned()),
            Err(_) => {
                let mut m = Map::new();
                m.insert(TYPE_KEY.into(), HeaderType::String.name().into());
                m.insert("base64".into(), BASE64.encode(s.as_bytes()).into());
                Value::Object(m)
            }
        },
        AMQPValue::FieldArray(a) => Value::Array(a.as_slice().iter().map(encode_value).collect()),
        AMQPValue::Timestamp(t) => typed(
            HeaderType::Timestamp,
            i64::try_from(*t).map_or_else(|_| Value::String(t.to_string()), exact_integer),
        ),
        AMQPValue::FieldTable(t) => {
            let inner = encode_table(t);
            if inner.contains_key(TYPE_KEY) {
                typed(HeaderType::Table, Value::Object(inner))
            } else {
                Value::Object(inner)
            }
        }
        AMQPValue::ByteArray(b) => typed(HeaderType::Bytes, BASE64.encode(b.as_slice()).into()),
        AMQPValue::Void => {
            let mut m = Map::new();
            m.insert(TYPE_KEY.into(), HeaderType::Void.name().into());
            Value::Object(m)
        }
    }
}

/// Decodes a JSON object of field values into a field table; `path` names it in errors.
pub fn decode_table(path: &str, obj: &Map<String, Value>) -> Result<FieldTable> {
    let mut map = BTreeMap::new();
    for (k, v) in obj {
        let key = ShortString::try_new(k.as_str())
            .map_err(|_| Error::invalid(path, format!("key \"{k}\" is longer than 255 bytes")))?;
        map.insert(key, decode_value(&format!("{path}.{k}"), v)?);
    }
    Ok(FieldTable::from(map))
}

/// Decodes one field value in plain or typed form; `path` names it in errors.
pub fn decode_value(path: &str, v: &Value) -> Result<AMQPValue> {
    Ok(match v {
        Value::Null => AMQPValue::Void,
        Value::Bool(b) => AMQPValue::Boolean(*b),
        Value::String(s) => AMQPValue::LongString(LongString::from(s.as_bytes())),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                match i32::try_from(i) {
                    Ok(i) => AMQPValue::LongInt(i),
                    Err(_) => AMQPValue::LongLongInt(i),
                }
            } else if n.is_u64() {
                return Err(Error::invalid(
                    path,
                    format!("{n} does not fit a signed 64-bit integer, the widest AMQP integer"),
                ));
            } else {
                AMQPValue::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::Array(items) => AMQPValue::FieldArray(FieldArray::from(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| decode_value(&format!("{path}[{i}]"), item))
                .collect::<Result<Vec<_>>>()?,
        )),
        Value::Object(obj) => match obj.get(TYPE_KEY) {
            None => AMQPValue::FieldTable(decode_table(path, obj)?),
            Some(Value::String(name)) => decode_typed(path, name, obj)?,
            Some(other) => {
                return Err(Error::invalid(
                    path,
                    format!("\"$type\" must be a type name, not {other}"),
                ))
            }
        },
    })
}

fn decode_typed(path: &str, name: &str, obj: &Map<String, Value>) -> Result<AMQPValue> {
    let bad = |reason: String| Error::invalid(path, reason);
    let Some(ty) = HeaderType::parse(name) else {
        let names: Vec<&str> = HeaderType::ALL.iter().map(|t| t.name()).collect();
        return Err(bad(format!(
            "unknown type \"{name}\" (known: {})",
            names.join(", ")
        )));
    };
    let allowed: &[&str] = match ty {
        HeaderType::Void => &[],
        HeaderType::String => &["value", "base64"],
        _ => &["value"],
    };
    if let Some(extra) = obj
        .keys()
        .find(|k| k.as_str() != TYPE_KEY && !allowed.contains(&k.as_str()))
    {
        return Err(bad(format!("unexpected key \"{extra}\" in a {name} value")));
    }
    let value = || {
        obj.get("value")
            .ok_or_else(|| bad(format!("a {name} value needs \"value\"")))
    };
    let int = |lo: i128, hi: i128| -> Result<i128> {
        let v = value()?;
        let n = match v {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from)),
            Value::String(s) => s.trim().parse::<i128>().ok(),
            _ => None,
        }
        .ok_or_else(|| bad(format!("{v} is not an integer")))?;
        if n < lo || n > hi {
            return Err(bad(format!("{n} does not fit {name} ({lo} to {hi})")));
        }
        Ok(n)
    };
    let float = || -> Result<f64> {
        match value()? {
            Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => match s.as_str() {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                other => other
                    .parse::<f64>()
                    .map_err(|_| bad(format!("\"{other}\" is not a number"))),
            },
            other => Err(bad(format!("{other} is not a number"))),
        }
    };
    Ok(match ty {
        HeaderType::Bool => match value()? {
            Value::Bool(b) => AMQPValue::Boolean(*b),
            other => return Err(bad(format!("{other} is not true or false"))),
        },
        HeaderType::I8 => AMQPValue::ShortShortInt(int(i8::MIN.into(), i8::MAX.into())? as i8),
        HeaderType::U8 => AMQPValue::ShortShortUInt(int(0, u8::MAX.into())? as u8),
        HeaderType::I16 => AMQPValue::ShortInt(int(i16::MIN.into(), i16::MAX.into())? as i16),
        HeaderType::U16 => AMQPValue::ShortUInt(int(0, u16::MAX.into())? as u16),
        HeaderType::I32 => AMQPValue::LongInt(int(i32::MIN.into(), i32::MAX.into())? as i32),
        HeaderType::U32 => AMQPValue::LongUInt(int(0, u32::MAX.into())? as u32),
        HeaderType::I64 => AMQPValue::LongLongInt(int(i64::MIN.into(), i64::MAX.into())? as i64),
        HeaderType::F32 => {
            let f = float()?;
            if f.is_finite() && (f as f32).is_infinite() {
                return Err(bad(format!("{f} does not fit f32")));
            }
            AMQPValue::Float(f as f32)
        }
        HeaderType::F64 => AMQPValue::Double(float()?),
        HeaderType::Timestamp => match value()? {
            Value::String(t) if t.trim().parse::<i128>().is_err() => {
                AMQPValue::Timestamp(epoch_seconds(t).map_err(bad)?)
            }
            _ => AMQPValue::Timestamp(int(0, u64::MAX.into())? as u64),
        },
        HeaderType::Decimal => {
            let v = value()?;
            if let Value::String(text) = v {
                return Ok(AMQPValue::DecimalValue(parse_decimal(path, text)?));
            }
            let (scale, digits) = match v {
                Value::Object(d) => (d.get("scale"), d.get("value")),
                _ => (None, None),
            };
            let scale = scale
                .and_then(Value::as_u64)
                .filter(|s| *s <= u64::from(u8::MAX))
                .ok_or_else(|| bad("a decimal needs \"scale\" from 0 to 255".into()))?;
            let digits = digits
                .and_then(Value::as_u64)
                .filter(|d| *d <= u64::from(u32::MAX))
                .ok_or_else(|| bad("a decimal needs \"value\" from 0 to 4294967295".into()))?;
            AMQPValue::DecimalValue(DecimalValue {
                scale: scale as u8,
                value: digits as u32,
            })
        }
        HeaderType::String => {
            let bytes = match (obj.get("value"), obj.get("base64")) {
                (Some(Value::String(s)), None) => s.as_bytes().to_vec(),
                (None, Some(Value::String(b))) => BASE64
                    .decode(b.as_bytes())
                    .map_err(|e| bad(format!("not valid base64: {e}")))?,
                _ => {
                    return Err(bad(
                        "a string needs a \"value\" or a \"base64\" string".into()
                    ))
                }
            };
            AMQPValue::LongString(LongString::from(bytes))
        }
        HeaderType::Bytes => match value()? {
            Value::String(b) => AMQPValue::ByteArray(ByteArray::from(
                BASE64
                    .decode(b.as_bytes())
                    .map_err(|e| bad(format!("not valid base64: {e}")))?,
            )),
            other => return Err(bad(format!("{other} is not a base64 string"))),
        },
        HeaderType::Void => AMQPValue::Void,
        HeaderType::Table => match value()? {
            Value::Object(t) => AMQPValue::FieldTable(decode_table(path, t)?),
            other => return Err(bad(format!("{other} is not an object"))),
        },
        HeaderType::Array => match value()? {
            Value::Array(_) => decode_value(path, value()?)?,
            other => return Err(bad(format!("{other} is not an array"))),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_type() -> FieldTable {
        let mut nested = FieldTable::default();
        nested.insert("inner".into(), AMQPValue::ShortInt(-7));
        let mut clash = FieldTable::default();
        clash.insert("$type".into(), AMQPValue::LongString("i8".into()));
        clash.insert("value".into(), AMQPValue::LongInt(1));
        let mut t = FieldTable::default();
        t.insert("bool".into(), AMQPValue::Boolean(true));
        t.insert("i8".into(), AMQPValue::ShortShortInt(-128));
        t.insert("u8".into(), AMQPValue::ShortShortUInt(255));
        t.insert("i16".into(), AMQPValue::ShortInt(-32768));
        t.insert("u16".into(), AMQPValue::ShortUInt(65535));
        t.insert("i32".into(), AMQPValue::LongInt(i32::MIN));
        t.insert("u32".into(), AMQPValue::LongUInt(u32::MAX));
        t.insert("i64 small".into(), AMQPValue::LongLongInt(5));
        t.insert("i64 big".into(), AMQPValue::LongLongInt(i64::MAX));
        t.insert("f32".into(), AMQPValue::Float(0.1));
        t.insert("f64".into(), AMQPValue::Double(0.1));
        t.insert("f64 whole".into(), AMQPValue::Double(3.0));
        t.insert("f64 nan".into(), AMQPValue::Double(f64::NAN));
        t.insert("f64 inf".into(), AMQPValue::Double(f64::NEG_INFINITY));
        t.insert(
            "decimal".into(),
            AMQPValue::DecimalValue(DecimalValue {
                scale: 2,
                value: 12345,
            }),
        );
        t.insert("string".into(), AMQPValue::LongString("héllo".into()));
        t.insert(
            "binary string".into(),
            AMQPValue::LongString(vec![0xff, 0x00, 0xfe].into()),
        );
        t.insert("timestamp".into(), AMQPValue::Timestamp(1_700_000_000));
        t.insert(
            "bytes".into(),
            AMQPValue::ByteArray(vec![0, 1, 2, 255].into()),
        );
        t.insert("void".into(), AMQPValue::Void);
        t.insert("table".into(), AMQPValue::FieldTable(nested));
        t.insert("clashing table".into(), AMQPValue::FieldTable(clash));
        t.insert(
            "array".into(),
            AMQPValue::FieldArray(
                vec![
                    AMQPValue::LongInt(1),
                    AMQPValue::ShortShortUInt(2),
                    AMQPValue::Void,
                ]
                .into(),
            ),
        );
        t
    }

    /// NaN != NaN, so compare through the bit patterns of floats.
    fn same(a: &AMQPValue, b: &AMQPValue) -> bool {
        match (a, b) {
            (AMQPValue::Double(x), AMQPValue::Double(y)) => x.to_bits() == y.to_bits(),
            (AMQPValue::Float(x), AMQPValue::Float(y)) => x.to_bits() == y.to_bits(),
            (AMQPValue::FieldTable(x), AMQPValue::FieldTable(y)) => same_table(x, y),
            (AMQPValue::FieldArray(x), AMQPValue::FieldArray(y)) => {
                x.as_slice().len() == y.as_slice().len()
                    && x.as_slice()
                        .iter()
                        .zip(y.as_slice())
                        .all(|(a, b)| same(a, b))
            }
            _ => a == b,
        }
    }

    fn same_table(a: &FieldTable, b: &FieldTable) -> bool {
        a.inner().len() == b.inner().len()
            && a.inner()
                .iter()
                .all(|(k, v)| b.inner().get(k).is_some_and(|w| same(v, w)))
    }

    #[test]
    fn every_field_type_round_trips_through_json_text() {
        let table = every_type();
        let text = serde_json::to_string(&encode_table(&table)).unwrap();
        let back: Map<String, Value> = serde_json::from_str(&text).unwrap();
        let decoded = decode_table("headers", &back).unwrap();
        for (k, v) in table.inner() {
            let w = &decoded.inner()[k];
            assert!(same(v, w), "{k}: {v:?} came back as {w:?} (JSON {text})");
        }
        assert!(same_table(&table, &decoded));
    }

    #[test]
    fn plain_json_is_used_where_it_is_unambiguous() {
        let enc = encode_table(&every_type());
        assert_eq!(enc["bool"], Value::Bool(true));
        assert_eq!(enc["i32"], Value::from(i32::MIN));
        assert_eq!(enc["f64"], serde_json::json!(0.1));
        assert_eq!(enc["string"], Value::from("héllo"));
        assert_eq!(
            enc["table"],
            serde_json::json!({"inner": {"$type": "i16", "value": -7}})
        );
        assert_eq!(
            enc["i64 small"],
            serde_json::json!({"$type": "i64", "value": 5})
        );
        assert_eq!(
            enc["bytes"],
            serde_json::json!({"$type": "bytes", "value": "AAEC/w=="})
        );
        assert_eq!(enc["void"], serde_json::json!({"$type": "void"}));
        assert_eq!(
            enc["f64 nan"],
            serde_json::json!({"$type": "f64", "value": "NaN"})
        );
        assert_eq!(
            enc["binary string"],
            serde_json::json!({"$type": "string", "base64": "/wD+"})
        );
        assert_eq!(
            enc["clashing table"],
            serde_json::json!({"$type": "table", "value": {"$type": "i8", "value": 1}})
        );
    }

    #[test]
    fn hand_written_values_decode_to_the_natural_types() {
        let v: Map<String, Value> = serde_json::from_str(
            r#"{"n": 3, "big": 5000000000, "x": 1.5, "s": "a", "null": null, "list": [1, "b"]}"#,
        )
        .unwrap();
        let t = decode_table("headers", &v).unwrap();
        assert_eq!(t.inner()["n"], AMQPValue::LongInt(3));
        assert_eq!(t.inner()["big"], AMQPValue::LongLongInt(5_000_000_000));
        assert_eq!(t.inner()["x"], AMQPValue::Double(1.5));
        assert_eq!(t.inner()["null"], AMQPValue::Void);
        assert_eq!(t.inner()["s"], AMQPValue::LongString("a".into()));
    }

    #[test]
    fn values_that_do_not_fit_are_rejected_with_their_path() {
        let cases = [
            (
                r#"{"a": {"$type": "i16", "value": 40000}}"#,
                "headers.a",
                "does not fit i16",
            ),
            (
                r#"{"a": {"$type": "u8", "value": -1}}"#,
                "headers.a",
                "does not fit u8",
            ),
            (
                r#"{"a": {"b": {"$type": "bytes", "value": "!!"}}}"#,
                "headers.a.b",
                "base64",
            ),
            (
                r#"{"a": [{"$type": "nope", "value": 1}]}"#,
                "headers.a[0]",
                "unknown type",
            ),
            (
                r#"{"a": 18446744073709551615}"#,
                "headers.a",
                "does not fit",
            ),
            (
                r#"{"a": {"$type": "i32", "value": 1, "extra": 2}}"#,
                "headers.a",
                "unexpected key",
            ),
            (
                r#"{"a": {"$type": "f32", "value": 1e300}}"#,
                "headers.a",
                "does not fit f32",
            ),
        ];
        for (json, path, reason) in cases {
            let v: Map<String, Value> = serde_json::from_str(json).unwrap();
            let err = decode_table("headers", &v).unwrap_err().to_string();
            assert!(err.contains(path) && err.contains(reason), "{json}: {err}");
        }
    }

    #[test]
    fn bodies_are_utf8_when_valid_and_base64_otherwise_and_round_trip() {
        for body in [
            b"{\"a\":1}".to_vec(),
            vec![0u8, 159, 146, 150, 255],
            Vec::new(),
        ] {
            let m = Message {
                exchange: "x".into(),
                routing_key: "k".into(),
                body: body.clone(),
                ..Message::default()
            };
            let text = serde_json::to_string(&m).unwrap();
            let expect = if std::str::from_utf8(&body).is_ok() {
                "utf8"
            } else {
                "base64"
            };
            assert!(
                text.contains(&format!("\"body_encoding\":\"{expect}\"")),
                "{text}"
            );
            let back: Message = serde_json::from_str(&text).unwrap();
            assert_eq!(back.body, body);
        }
    }

    #[test]
    fn a_full_message_round_trips_through_amqp_properties() {
        let m = Message {
            exchange: "demo.direct".into(),
            routing_key: "orders".into(),
            properties: Properties {
                content_type: Some("application/json".into()),
                content_encoding: Some("gzip".into()),
                headers: Some(every_type()),
                delivery_mode: Some(2),
                priority: Some(9),
                correlation_id: Some("c-1".into()),
                reply_to: Some("replies".into()),
                expiration: Some("60000".into()),
                message_id: Some("m-1".into()),
                timestamp: Some(1_700_000_000),
                kind: Some("order.created".into()),
                user_id: Some("guest".into()),
                app_id: Some("warren".into()),
            },
            body: vec![1, 2, 3],
        };
        let props = m.amqp_properties().unwrap();
        let back = Message::from_amqp(
            &"demo.direct".into(),
            &"orders".into(),
            &props,
            vec![1, 2, 3],
        );
        let text = serde_json::to_string(&back).unwrap();
        let again = Message::from_json(&text).unwrap();
        assert!(same_table(
            m.properties.headers.as_ref().unwrap(),
            again.properties.headers.as_ref().unwrap()
        ));
        let strip = |mut m: Message| {
            m.properties.headers = None;
            m
        };
        assert_eq!(strip(m), strip(again));
        assert!(text.contains("\"type\":\"order.created\""), "{text}");
    }

    #[test]
    fn bad_messages_name_the_field() {
        let long = "k".repeat(256);
        let cases = [
            (format!(r#"{{"routing_key": "{long}"}}"#), "routing_key"),
            (
                r#"{"body": "!!", "body_encoding": "base64"}"#.to_string(),
                "body",
            ),
            (
                r#"{"properties": {"priority": 256}}"#.to_string(),
                "priority",
            ),
            (r#"{"properties": {"colour": "red"}}"#.to_string(), "colour"),
        ];
        for (json, field) in cases {
            let err = Message::from_json(&json).unwrap_err().to_string();
            assert!(err.contains(field), "{json}: {err}");
        }
    }

    #[test]
    fn every_header_type_names_a_type_the_typed_form_decodes() {
        for t in HeaderType::ALL {
            // The name parses back, serialises as itself, and a value given in the typed
            // form under that name decodes to the AMQP type of its letter.
            assert_eq!(HeaderType::parse(t.name()), Some(t));
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                Value::String(t.name().into())
            );
            let sample = match t {
                HeaderType::Bool => serde_json::json!({"$type": "bool", "value": true}),
                HeaderType::Void => serde_json::json!({"$type": "void"}),
                HeaderType::Decimal => serde_json::json!({"$type": "decimal", "value": "1.5"}),
                HeaderType::Table => serde_json::json!({"$type": "table", "value": {}}),
                HeaderType::Array => serde_json::json!({"$type": "array", "value": []}),
                HeaderType::Bytes => serde_json::json!({"$type": "bytes", "value": "AA=="}),
                HeaderType::String => serde_json::json!({"$type": "string", "value": "x"}),
                other => serde_json::json!({"$type": other.name(), "value": "1"}),
            };
            let decoded = decode_value("h", &sample).unwrap();
            assert_eq!(decoded.get_type().get_id(), t.letter(), "{t:?}");
        }
        assert_eq!(HeaderType::parse("int"), None);
    }

    #[test]
    fn timestamps_take_times_and_dates_and_refuse_impossible_ones() {
        let mut p = PropertiesJson::default();
        PropertyName::Timestamp
            .set_from_text(&mut p, "2023-11-14T22:13:20Z")
            .unwrap();
        assert_eq!(p.timestamp, Some(1_700_000_000));
        PropertyName::Timestamp
            .set_from_text(&mut p, "1700000001")
            .unwrap();
        assert_eq!(p.timestamp, Some(1_700_000_001));
        PropertyName::Timestamp
            .set_from_text(&mut p, "2026-11-30")
            .unwrap();
        assert_eq!(p.timestamp, Some(1_795_996_800));
        for bad in ["2026-02-31", "2026-02-31T10:00:00Z", "1969-12-31", "soon"] {
            let err = PropertyName::Timestamp
                .set_from_text(&mut p, bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("properties.timestamp") && err.contains(bad),
                "{err}"
            );
        }
        let header = |v: Value| {
            decode_value(
                "properties.headers.at",
                &serde_json::json!({"$type": "timestamp", "value": v}),
            )
        };
        assert_eq!(
            header(Value::String("2023-11-14T22:13:20Z".into())).unwrap(),
            AMQPValue::Timestamp(1_700_000_000)
        );
        assert_eq!(
            header(Value::String("1700000000".into())).unwrap(),
            AMQPValue::Timestamp(1_700_000_000)
        );
        let err = header(Value::String("2026-02-31".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("properties.headers.at") && err.contains("2026-02-31"),
            "{err}"
        );
    }

    #[test]
    fn decimals_parse_from_text_in_the_core() {
        let d = parse_decimal("p", "12.50").unwrap();
        assert_eq!((d.scale, d.value), (2, 1250));
        let d = parse_decimal("p", "7").unwrap();
        assert_eq!((d.scale, d.value), (0, 7));
        for bad in ["", ".5", "-1", "1.2.3", "1e3", "4294967296"] {
            let err = parse_decimal("properties.headers.d", bad).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput { field, .. } if field == "properties.headers.d"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn property_names_are_the_properties_of_the_message_format() {
        let mut p = PropertiesJson::default();
        for name in PropertyName::ALL {
            let value = match name {
                PropertyName::DeliveryMode => "2",
                PropertyName::Priority | PropertyName::Timestamp => "1",
                _ => "x",
            };
            match name {
                PropertyName::ClusterId => {
                    let err = name.set_from_text(&mut p, value).unwrap_err();
                    assert!(
                        matches!(&err, Error::InvalidInput { field, .. } if field == "properties.cluster_id")
                    );
                }
                _ => name.set_from_text(&mut p, value).unwrap(),
            }
            assert_eq!(PropertyName::parse(name.name()), Some(name));
            assert_eq!(
                serde_json::to_value(name).unwrap(),
                Value::String(name.name().into())
            );
        }
        // Every property the format carries is named (headers have their own form), and
        // cluster_id, which it does not carry, is the only name beyond them.
        let keys: Vec<String> = match serde_json::to_value(&p).unwrap() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => unreachable!(),
        };
        let mut names: Vec<&str> = PropertyName::ALL
            .iter()
            .filter(|n| **n != PropertyName::ClusterId)
            .map(|n| n.name())
            .collect();
        names.sort_unstable();
        let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, names);
        let bad = PropertyName::Priority
            .set_from_text(&mut p, "256")
            .unwrap_err();
        assert!(bad.to_string().starts_with("invalid properties.priority"));
    }
}
