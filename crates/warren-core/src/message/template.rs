//! Message templates: `{{seq}}`, `{{uuid}}`, `{{now}}`, `{{now_epoch}}`, `{{now_ms}}`,
//! `{{random_int A B}}`, `{{random_choice a b c}}` and user variables in the body, routing key,
//! string properties and string header values of a message to publish.
//!
//! Why templates are compiled and rendered from a seed: a publish must be refused before its
//! first message goes out when any message would be invalid (a header that does not fit its
//! type, a bad expiration...), yet holding a large run's rendered messages in memory is not an
//! option. So every message that varies is rendered once to validate it and again when it is
//! sent, from a random generator seeded by the run's seed and the message's sequence number:
//! both renders give the same values, and only the clock (`now*`) moves on. A message with no
//! placeholder is the same every time: publish renders it once, checks that render and sends
//! it (a replay of recorded messages is all such messages), and a body without placeholders
//! is held as bytes from compile on, never rendered. Within one message `{{uuid}}`
//! and the clock have one value each (so a message id and a body can quote the same uuid);
//! every `random_*` placeholder draws anew.
//!
//! Syntax: `{{name}}` or `{{function arg ...}}`, spaces inside the braces ignored; arguments
//! are words or "double-quoted strings" (with `\"` and `\\`). `\{{` is a literal `{{`. A name
//! that is neither built in nor a user variable is an error naming the field, at compile time.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use super::format::{BodyEncoding, Message, MessageJson, PropertiesJson};
use crate::error::{Error, Result};

/// The names Warren defines in templates; user variables may not reuse them. Exported to the
/// UI (which offers them), so that the list lives here only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TemplateBuiltin {
    Seq,
    Uuid,
    Now,
    NowEpoch,
    NowMs,
    RandomInt,
    RandomChoice,
}

impl TemplateBuiltin {
    pub const ALL: [TemplateBuiltin; 7] = [
        TemplateBuiltin::Seq,
        TemplateBuiltin::Uuid,
        TemplateBuiltin::Now,
        TemplateBuiltin::NowEpoch,
        TemplateBuiltin::NowMs,
        TemplateBuiltin::RandomInt,
        TemplateBuiltin::RandomChoice,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TemplateBuiltin::Seq => "seq",
            TemplateBuiltin::Uuid => "uuid",
            TemplateBuiltin::Now => "now",
            TemplateBuiltin::NowEpoch => "now_epoch",
            TemplateBuiltin::NowMs => "now_ms",
            TemplateBuiltin::RandomInt => "random_int",
            TemplateBuiltin::RandomChoice => "random_choice",
        }
    }

    pub fn parse(name: &str) -> Option<TemplateBuiltin> {
        TemplateBuiltin::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// One compiled string template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Seq,
    Uuid,
    Now,
    NowEpoch,
    NowMs,
    RandomInt(i64, i64),
    RandomChoice(Vec<String>),
}

/// The values of one message: its sequence number, the clock, its uuid and its random draws.
pub struct Context {
    seq: u64,
    now: SystemTime,
    uuid: Option<String>,
    rng: SmallRng,
}

impl Context {
    /// The context of message `seq` (1-based) of a run seeded with `seed`.
    pub fn new(seed: u64, seq: u64, now: SystemTime) -> Self {
        // Mix the sequence number in (splitmix64's odd constant) so that neighbouring
        // messages get unrelated streams.
        let mixed = seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Context {
            seq,
            now,
            uuid: None,
            rng: SmallRng::seed_from_u64(mixed),
        }
    }

    fn uuid(&mut self) -> &str {
        if self.uuid.is_none() {
            let mut b = [0u8; 16];
            self.rng.fill_bytes(&mut b);
            b[6] = (b[6] & 0x0f) | 0x40; // version 4
            b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            self.uuid = Some(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ));
        }
        self.uuid.as_deref().unwrap_or_default()
    }

    fn since_epoch(&self) -> std::time::Duration {
        self.now.duration_since(UNIX_EPOCH).unwrap_or_default()
    }
}

/// Where the first `{{` of `text` starts. A search for the one byte `{` (which the standard
/// library does a word at a time) and a look at the next: every field of every message of a
/// collection goes through here, and a two-byte pattern search costs several times more.
fn find_open(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find('{') {
        let at = from + i;
        if bytes.get(at + 1) == Some(&b'{') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

impl Template {
    /// Compiles `text`; `field` names it in errors. User variables are substituted here.
    pub fn compile(field: &str, text: &str, variables: &BTreeMap<String, String>) -> Result<Self> {
        let mut parts: Vec<Part> = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = find_open(rest) {
            if rest[..i].ends_with('\\') {
                literal.push_str(&rest[..i - 1]);
                literal.push_str("{{");
                rest = &rest[i + 2..];
                continue;
            }
            literal.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find("}}") else {
                return Err(Error::invalid(
                    field,
                    "\"{{\" without a closing \"}}\" (write \\{{ for a literal \"{{\")",
                ));
            };
            let words = split_words(field, &after[..end])?;
            rest = &after[end + 2..];
            let Some((name, args)) = words.split_first() else {
                return Err(Error::invalid(field, "empty placeholder \"{{}}\""));
            };
            let no_args = |part: Part| -> Result<Part> {
                if args.is_empty() {
                    Ok(part)
                } else {
                    Err(Error::invalid(
                        field,
                        format!("{{{{{name}}}}} takes no arguments"),
                    ))
                }
            };
            let part = match TemplateBuiltin::parse(name) {
                Some(TemplateBuiltin::Seq) => no_args(Part::Seq)?,
                Some(TemplateBuiltin::Uuid) => no_args(Part::Uuid)?,
                Some(TemplateBuiltin::Now) => no_args(Part::Now)?,
                Some(TemplateBuiltin::NowEpoch) => no_args(Part::NowEpoch)?,
                Some(TemplateBuiltin::NowMs) => no_args(Part::NowMs)?,
                Some(TemplateBuiltin::RandomInt) => {
                    let bound = |s: &String| {
                        s.parse::<i64>().map_err(|_| {
                            Error::invalid(
                                field,
                                format!(
                                    "random_int takes two integers A B, and \"{s}\" is not one"
                                ),
                            )
                        })
                    };
                    let [a, b] = args else {
                        return Err(Error::invalid(
                            field,
                            "random_int takes two integers: {{random_int A B}}",
                        ));
                    };
                    let (a, b) = (bound(a)?, bound(b)?);
                    if a > b {
                        return Err(Error::invalid(
                            field,
                            format!("random_int {a} {b}: the lower bound is above the upper"),
                        ));
                    }
                    Part::RandomInt(a, b)
                }
                Some(TemplateBuiltin::RandomChoice) => {
                    if args.is_empty() {
                        return Err(Error::invalid(
                            field,
                            "random_choice needs at least one choice: {{random_choice a b c}}",
                        ));
                    }
                    Part::RandomChoice(args.to_vec())
                }
                None => match variables.get(name.as_str()) {
                    Some(value) if args.is_empty() => Part::Text(value.clone()),
                    Some(_) => {
                        return Err(Error::invalid(
                            field,
                            format!("variable {name} takes no arguments"),
                        ))
                    }
                    None => {
                        let mut known: Vec<&str> =
                            TemplateBuiltin::ALL.iter().map(|b| b.name()).collect();
                        known.extend(variables.keys().map(String::as_str));
                        return Err(Error::invalid(
                            field,
                            format!(
                                "unknown variable \"{name}\" in {{{{...}}}} (known: {})",
                                known.join(", ")
                            ),
                        ));
                    }
                },
            };
            if let Part::Text(t) = part {
                literal.push_str(&t);
            } else {
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(part);
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The text every render gives, when there is one (else the template back).
    pub fn into_static_text(self) -> std::result::Result<String, Template> {
        if !self.is_static() {
            return Err(self);
        }
        Ok(self
            .parts
            .into_iter()
            .map(|p| match p {
                Part::Text(t) => t,
                _ => String::new(),
            })
            .collect())
    }

    /// True when every render gives the same text.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    pub fn render(&self, ctx: &mut Context) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Seq => out.push_str(&ctx.seq.to_string()),
                Part::Uuid => out.push_str(ctx.uuid()),
                Part::Now => out.push_str(&crate::time::rfc3339_ms(ctx.since_epoch())),
                Part::NowEpoch => out.push_str(&ctx.since_epoch().as_secs().to_string()),
                Part::NowMs => out.push_str(&ctx.since_epoch().as_millis().to_string()),
                Part::RandomInt(a, b) => out.push_str(&ctx.rng.random_range(*a..=*b).to_string()),
                Part::RandomChoice(choices) => {
                    let i = ctx.rng.random_range(0..choices.len());
                    out.push_str(&choices[i]);
                }
            }
        }
        out
    }
}

/// Splits the inside of `{{ }}` into words; "double quotes" group words with spaces.
fn split_words(field: &str, inside: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = inside.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else {
            return Ok(words);
        };
        let mut word = String::new();
        if c == '"' {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(e) => word.push(e),
                        None => break,
                    },
                    Some(ch) => word.push(ch),
                    None => {
                        return Err(Error::invalid(
                            field,
                            "unterminated \"quoted\" argument in {{...}}",
                        ))
                    }
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
        }
        words.push(word);
    }
}

/// A compiled message template: the message format with templates in its routing key, string
/// properties, string header values (also the `value` of typed forms, which is how an integer
/// header takes `{{seq}}`) and UTF-8 body. The exchange, numeric properties and base64 or
/// file bodies are taken as they are.
#[derive(Debug, Clone)]
pub struct MessageTemplate {
    exchange: String,
    routing_key: Template,
    properties: PropertiesJson,
    /// (field name, template) of each templated string property, in a fixed order.
    string_props: Vec<(&'static str, Option<Template>)>,
    headers: Option<HeaderTemplate>,
    body: BodyTemplate,
}

#[derive(Debug, Clone)]
enum BodyTemplate {
    Text(Template),
    Bytes(bytes::Bytes),
}

#[derive(Debug, Clone)]
enum HeaderTemplate {
    Text(Template),
    Object(Vec<(String, HeaderTemplate)>),
    Array(Vec<HeaderTemplate>),
    Other(Value),
}

impl HeaderTemplate {
    fn compile(path: &str, v: &Value, vars: &BTreeMap<String, String>) -> Result<Self> {
        Ok(match v {
            Value::String(s) => HeaderTemplate::Text(Template::compile(path, s, vars)?),
            Value::Object(m) => HeaderTemplate::Object(
                m.iter()
                    .map(|(k, v)| {
                        let t = if k == "$type" {
                            HeaderTemplate::Other(v.clone())
                        } else {
                            HeaderTemplate::compile(&format!("{path}.{k}"), v, vars)?
                        };
                        Ok((k.clone(), t))
                    })
                    .collect::<Result<_>>()?,
            ),
            Value::Array(a) => HeaderTemplate::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| HeaderTemplate::compile(&format!("{path}[{i}]"), v, vars))
                    .collect::<Result<_>>()?,
            ),
            other => HeaderTemplate::Other(other.clone()),
        })
    }

    fn is_static(&self) -> bool {
        match self {
            HeaderTemplate::Text(t) => t.is_static(),
            HeaderTemplate::Object(m) => m.iter().all(|(_, t)| t.is_static()),
            HeaderTemplate::Array(a) => a.iter().all(HeaderTemplate::is_static),
            HeaderTemplate::Other(_) => true,
        }
    }

    fn render(&self, ctx: &mut Context) -> Value {
        match self {
            HeaderTemplate::Text(t) => Value::String(t.render(ctx)),
            HeaderTemplate::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, t)| (k.clone(), t.render(ctx)))
                    .collect::<Map<_, _>>(),
            ),
            HeaderTemplate::Array(a) => Value::Array(a.iter().map(|t| t.render(ctx)).collect()),
            HeaderTemplate::Other(v) => v.clone(),
        }
    }
}

impl MessageTemplate {
    /// Compiles a message template. `body` replaces the message's body (a file's bytes, not
    /// templated). Unknown variables and bad placeholders are reported here, naming the field.
    pub fn compile(
        message: &MessageJson,
        variables: &BTreeMap<String, String>,
        body: Option<bytes::Bytes>,
    ) -> Result<Self> {
        for name in variables.keys() {
            if TemplateBuiltin::parse(name).is_some() {
                return Err(Error::invalid(
                    format!("variables.{name}"),
                    "is a built-in name; choose another",
                ));
            }
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '}') {
                return Err(Error::invalid(
                    format!("variables.{name}"),
                    "a variable name is one word without spaces or braces",
                ));
            }
        }
        let p = &message.properties;
        let t =
            |field: &'static str, v: &Option<String>| -> Result<(&'static str, Option<Template>)> {
                Ok((
                    field,
                    v.as_deref()
                        .map(|s| Template::compile(&format!("properties.{field}"), s, variables))
                        .transpose()?,
                ))
            };
        let mut string_props = vec![
            t("content_type", &p.content_type)?,
            t("content_encoding", &p.content_encoding)?,
            t("correlation_id", &p.correlation_id)?,
            t("reply_to", &p.reply_to)?,
            t("expiration", &p.expiration)?,
            t("message_id", &p.message_id)?,
            t("type", &p.kind)?,
            t("user_id", &p.user_id)?,
            t("app_id", &p.app_id)?,
        ];
        // An absent property stays absent (the properties copied below have it so): only
        // the present ones are kept, which matters when a replay holds 100,000 templates.
        string_props.retain(|(_, t)| t.is_some());
        string_props.shrink_to_fit();
        let headers = p
            .headers
            .as_ref()
            .map(|h| {
                HeaderTemplate::compile("properties.headers", &Value::Object(h.clone()), variables)
            })
            .transpose()?;
        let body = match body {
            Some(bytes) => BodyTemplate::Bytes(bytes),
            None => match message.body_encoding {
                // A body without placeholders is sent as it is: held as bytes from here on,
                // shared by every send rather than rendered for each.
                BodyEncoding::Utf8 => {
                    let t = Template::compile("body", &message.body, variables)?;
                    match t.into_static_text() {
                        Ok(text) => BodyTemplate::Bytes(bytes::Bytes::from(text)),
                        Err(t) => BodyTemplate::Text(t),
                    }
                }
                BodyEncoding::Base64 => {
                    // Decoded once through the message format's own rules.
                    let probe = MessageJson {
                        exchange: String::new(),
                        routing_key: String::new(),
                        properties: PropertiesJson::default(),
                        body: message.body.clone(),
                        body_encoding: BodyEncoding::Base64,
                    };
                    BodyTemplate::Bytes(Message::try_from(probe)?.body.into())
                }
            },
        };
        Ok(MessageTemplate {
            exchange: message.exchange.clone(),
            routing_key: Template::compile("routing_key", &message.routing_key, variables)?,
            properties: p.clone(),
            string_props,
            headers,
            body,
        })
    }

    /// A template that renders `message` exactly as it is: nothing in it is read as a
    /// placeholder (a message read from a queue may well contain `{{`).
    pub fn verbatim(message: &Message) -> Self {
        let literal = |s: &str| Template {
            parts: vec![Part::Text(s.to_owned())],
        };
        let properties = PropertiesJson::from(message.properties.clone());
        let p = &properties;
        let prop = |field: &'static str, v: &Option<String>| (field, v.as_deref().map(literal));
        let string_props = vec![
            prop("content_type", &p.content_type),
            prop("content_encoding", &p.content_encoding),
            prop("correlation_id", &p.correlation_id),
            prop("reply_to", &p.reply_to),
            prop("expiration", &p.expiration),
            prop("message_id", &p.message_id),
            prop("type", &p.kind),
            prop("user_id", &p.user_id),
            prop("app_id", &p.app_id),
        ];
        MessageTemplate {
            exchange: message.exchange.clone(),
            routing_key: literal(&message.routing_key),
            headers: p
                .headers
                .as_ref()
                .map(|h| HeaderTemplate::Other(Value::Object(h.clone()))),
            string_props,
            body: BodyTemplate::Bytes(bytes::Bytes::from(message.body.clone())),
            properties,
        }
    }

    /// True when every message rendered from this template is the same.
    pub fn is_static(&self) -> bool {
        self.routing_key.is_static()
            && self
                .string_props
                .iter()
                .all(|(_, t)| t.as_ref().is_none_or(Template::is_static))
            && self.headers.as_ref().is_none_or(HeaderTemplate::is_static)
            && match &self.body {
                BodyTemplate::Text(t) => t.is_static(),
                BodyTemplate::Bytes(_) => true,
            }
    }

    /// The body when it is the same for every message (shared, not copied per message).
    pub fn fixed_body(&self) -> Option<&bytes::Bytes> {
        match &self.body {
            BodyTemplate::Bytes(b) => Some(b),
            BodyTemplate::Text(_) => None,
        }
    }

    /// Renders one message and checks it against the message format (short strings, header
    /// types). Deterministic for a given context seed and sequence number, clock aside.
    pub fn render(&self, ctx: &mut Context) -> Result<Message> {
        let mut message = self.render_head(ctx)?;
        if let Some(b) = self.fixed_body() {
            message.body = b.to_vec();
        }
        Ok(message)
    }

    /// Like [`Self::render`], but a fixed body (see [`Self::fixed_body`]) is left empty rather
    /// than copied: a large file body is validated once and sent from one shared buffer.
    pub fn render_head(&self, ctx: &mut Context) -> Result<Message> {
        let routing_key = self.routing_key.render(ctx);
        let mut props = self.properties.clone();
        for (field, t) in &self.string_props {
            let value = t.as_ref().map(|t| t.render(ctx));
            let slot = match *field {
                "content_type" => &mut props.content_type,
                "content_encoding" => &mut props.content_encoding,
                "correlation_id" => &mut props.correlation_id,
                "reply_to" => &mut props.reply_to,
                "expiration" => &mut props.expiration,
                "message_id" => &mut props.message_id,
                "type" => &mut props.kind,
                "user_id" => &mut props.user_id,
                _ => &mut props.app_id,
            };
            *slot = value;
        }
        props.headers = self.headers.as_ref().map(|h| match h.render(ctx) {
            Value::Object(m) => m,
            _ => Map::new(),
        });
        let body = match &self.body {
            BodyTemplate::Text(t) => t.render(ctx),
            BodyTemplate::Bytes(_) => String::new(),
        };
        Message::try_from(MessageJson {
            exchange: self.exchange.clone(),
            routing_key,
            properties: props,
            body,
            body_encoding: BodyEncoding::Utf8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn render(text: &str, seq: u64) -> String {
        let t = Template::compile("body", text, &vars(&[("env", "prod")])).unwrap();
        t.render(&mut Context::new(
            7,
            seq,
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        ))
    }

    #[test]
    fn a_verbatim_template_renders_the_message_as_it_is() {
        let mut headers = lapin::types::FieldTable::default();
        headers.insert(
            "h".into(),
            lapin::types::AMQPValue::LongString("{{seq}}".into()),
        );
        let message = Message {
            exchange: "x".into(),
            routing_key: "{{uuid}}".into(),
            properties: crate::message::Properties {
                message_id: Some("{{now}}".into()),
                headers: Some(headers),
                ..Default::default()
            },
            body: b"{{seq}} \xff".to_vec(),
        };
        let t = MessageTemplate::verbatim(&message);
        assert!(t.is_static());
        let rendered = t.render(&mut Context::new(1, 1, UNIX_EPOCH)).unwrap();
        assert_eq!(rendered, message);
    }

    #[test]
    fn built_ins_and_user_variables_render() {
        assert_eq!(render("n={{seq}} {{ env }}", 42), "n=42 prod");
        assert_eq!(render("{{now}}", 1), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            render("{{now_epoch}}/{{now_ms}}", 1),
            "1700000000/1700000000123"
        );
        let u = render("{{uuid}}", 1);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4", "{u}");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_eq!(
            render("{{uuid}}={{uuid}}", 3),
            format!("{0}={0}", render("{{uuid}}", 3))
        );
        assert_ne!(render("{{uuid}}", 3), render("{{uuid}}", 4));
        assert_eq!(render("plain {text} }}", 1), "plain {text} }}");
        assert_eq!(render(r"\{{seq}}", 1), "{{seq}}");
    }

    #[test]
    fn random_values_stay_in_range_and_repeat_for_the_same_seed_and_seq() {
        let mut seen = std::collections::BTreeSet::new();
        for seq in 1..500 {
            let v: i64 = render("{{random_int -2 2}}", seq).parse().unwrap();
            assert!((-2..=2).contains(&v));
            seen.insert(v);
            let c = render(r#"{{random_choice a "b c" d}}"#, seq);
            assert!(["a", "b c", "d"].contains(&c.as_str()), "{c}");
            assert_eq!(c, render(r#"{{random_choice a "b c" d}}"#, seq));
        }
        assert_eq!(seen.len(), 5, "all of -2..=2 drawn: {seen:?}");
        assert_eq!(render("{{random_int 5 5}}", 9), "5");
    }

    #[test]
    fn bad_templates_are_rejected_naming_the_field() {
        let cases = [
            ("{{nope}}", "unknown variable \"nope\""),
            ("{{seq", "without a closing"),
            ("{{}}", "empty placeholder"),
            ("{{seq 1}}", "takes no arguments"),
            ("{{random_int 1}}", "two integers"),
            ("{{random_int a 2}}", "\"a\" is not one"),
            ("{{random_int 3 2}}", "lower bound"),
            ("{{random_choice}}", "at least one"),
            ("{{random_choice \"a}}", "unterminated"),
        ];
        for (text, reason) in cases {
            let err = Template::compile("properties.message_id", text, &BTreeMap::new())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("properties.message_id") && err.contains(reason),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn user_variables_may_not_shadow_built_ins() {
        let m = MessageJson {
            exchange: String::new(),
            routing_key: String::new(),
            properties: PropertiesJson::default(),
            body: String::new(),
            body_encoding: BodyEncoding::Utf8,
        };
        let err = MessageTemplate::compile(&m, &vars(&[("seq", "1")]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("variables.seq"), "{err}");
    }

    #[test]
    fn a_message_template_renders_every_templated_place() {
        let m: MessageJson = serde_json::from_value(serde_json::json!({
            "exchange": "x",
            "routing_key": "rk.{{seq}}",
            "properties": {
                "message_id": "{{uuid}}",
                "correlation_id": "{{ env }}",
                "priority": 3,
                "headers": {
                    "n": {"$type": "i16", "value": "{{seq}}"},
                    "s": "at {{now_epoch}}",
                    "nested": {"list": ["{{seq}}", 1]}
                }
            },
            "body": "{\"id\": \"{{uuid}}\", \"seq\": {{seq}}}"
        }))
        .unwrap();
        let t = MessageTemplate::compile(&m, &vars(&[("env", "dev")]), None).unwrap();
        assert!(!t.is_static());
        let mut ctx = Context::new(1, 12, UNIX_EPOCH + Duration::from_secs(5));
        let msg = t.render(&mut ctx).unwrap();
        assert_eq!(msg.routing_key, "rk.12");
        let id = msg.properties.message_id.clone().unwrap();
        assert_eq!(
            String::from_utf8(msg.body).unwrap(),
            format!("{{\"id\": \"{id}\", \"seq\": 12}}")
        );
        assert_eq!(msg.properties.correlation_id.as_deref(), Some("dev"));
        assert_eq!(msg.properties.priority, Some(3));
        let h = msg.properties.headers.unwrap();
        use lapin::types::AMQPValue;
        assert_eq!(h.inner()["n"], AMQPValue::ShortInt(12));
        assert_eq!(h.inner()["s"], AMQPValue::LongString("at 5".into()));
        // Rendering again from the same seed and sequence number gives the same message.
        let again = t
            .render(&mut Context::new(
                1,
                12,
                UNIX_EPOCH + Duration::from_secs(5),
            ))
            .unwrap();
        assert_eq!(again.properties.message_id.as_deref(), Some(id.as_str()));
    }

    #[test]
    fn a_templated_header_that_does_not_fit_its_type_names_the_header() {
        let m: MessageJson = serde_json::from_value(serde_json::json!({
            "properties": {"headers": {"n": {"$type": "i8", "value": "{{seq}}"}}}
        }))
        .unwrap();
        let t = MessageTemplate::compile(&m, &BTreeMap::new(), None).unwrap();
        assert!(t.render(&mut Context::new(0, 127, UNIX_EPOCH)).is_ok());
        let err = t
            .render(&mut Context::new(0, 128, UNIX_EPOCH))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("properties.headers.n") && err.contains("does not fit i8"),
            "{err}"
        );
    }

    #[test]
    fn static_templates_render_once_and_base64_bodies_are_not_templated() {
        let m: MessageJson = serde_json::from_value(serde_json::json!({
            "routing_key": "k", "body": "e3tzZXF9fQ==", "body_encoding": "base64"
        }))
        .unwrap();
        let t = MessageTemplate::compile(&m, &BTreeMap::new(), None).unwrap();
        assert!(t.is_static());
        let msg = t.render(&mut Context::new(0, 5, UNIX_EPOCH)).unwrap();
        assert_eq!(msg.body, b"{{seq}}");
    }

    #[test]
    fn every_built_in_is_known_to_the_grammar() {
        for b in TemplateBuiltin::ALL {
            let args = match b {
                TemplateBuiltin::RandomInt => " 1 2",
                TemplateBuiltin::RandomChoice => " a",
                _ => "",
            };
            let text = format!("{{{{{}{args}}}}}", b.name());
            let t = Template::compile("body", &text, &BTreeMap::new()).unwrap();
            assert!(!t.is_static(), "{text}");
            assert_eq!(TemplateBuiltin::parse(b.name()), Some(b));
        }
    }
}
