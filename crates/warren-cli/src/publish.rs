//! `warren publish`: compose messages from flags or a message file and publish them with
//! confirms, through warren-core's publish engine.
//!
//! Why the parsing lives here and is strict: every flag is turned into the message format
//! (`--header retries:i16=3` becomes the typed form `{"$type":"i16","value":"3"}`, so every
//! AMQP type is reachable from a shell) and checked before a connection is opened; what only
//! the broker can tell (its size limit, the login) is checked by the engine before the first
//! message goes out. Exit status (see `exit_code`): 0 when every message was confirmed, 4 when
//! any was not (returned, nacked, failed, or left unsent by a cancel), 1 for errors before
//! sending.

use std::collections::BTreeMap;

use clap::{ArgGroup, Args};
use serde_json::{Map, Value};
use warren_core::cluster::OpenCluster;
use warren_core::collections::format;
use warren_core::endpoint::ClusterTarget;
use warren_core::message::{
    self, BodyEncoding, HeaderType, MessageJson, PropertiesJson, PropertyName,
};
use warren_core::publish::{self, Outcome, Plan, PublishRequest, PublishSummary};
use warren_core::{Error, Result};

use crate::exit_code::Exit;
use crate::json;
use crate::progress::{Bar, Output};

#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["body", "body_file", "message_file"])))]
pub struct PublishArgs {
    /// The exchange ("" is the default exchange; overrides a message file's).
    #[arg(long, short = 'e')]
    exchange: Option<String>,
    /// The routing key (templates allowed; overrides a message file's).
    #[arg(long, short = 'k')]
    routing_key: Option<String>,
    /// A header: `name=text` (a string) or `name:TYPE=value` with TYPE one of bool, i8, u8,
    /// i16, u16, i32, u32, i64, f32, f64, decimal, string, timestamp, bytes (base64), void,
    /// table, array (JSON). Repeatable.
    #[arg(long = "header", short = 'H', value_name = "NAME[:TYPE]=VALUE")]
    headers: Vec<String>,
    /// A basic property: content_type, content_encoding, delivery_mode (1, 2, transient,
    /// persistent), priority (0-255), correlation_id, reply_to, expiration (ms), message_id,
    /// timestamp (epoch seconds, an RFC 3339 time or a date), type, user_id, app_id. Repeatable.
    #[arg(long = "property", short = 'P', value_name = "NAME=VALUE")]
    properties: Vec<String>,
    /// The body, as UTF-8 text (templates allowed).
    #[arg(long)]
    body: Option<String>,
    /// Read the body from a file, byte for byte (not templated).
    #[arg(long, value_name = "FILE")]
    body_file: Option<String>,
    /// Messages in the message format: one JSON object, JSON Lines, or a collection (a
    /// `warren save` file: its variables apply, under --var's).
    #[arg(long, value_name = "FILE")]
    message_file: Option<String>,
    /// How many messages (with a message file: how many times the whole file).
    #[arg(long, short = 'n', default_value_t = 1)]
    count: u64,
    /// Messages per second (default: as fast as the broker confirms).
    #[arg(long)]
    rate: Option<f64>,
    /// Publish without the mandatory flag: an unroutable message is then dropped by the broker
    /// and still reported confirmed.
    #[arg(long)]
    no_mandatory: bool,
    /// A template variable, used as {{name}}. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Print one JSON summary object.
    #[arg(long)]
    json: bool,
}

pub async fn publish(
    connection: impl std::future::Future<Output = Result<ClusterTarget>>,
    args: PublishArgs,
) -> Result<Exit> {
    let (messages, request) = build(&args)?;
    let plan = Plan::from_messages(&messages, &request)?;
    let target = connection.await?;
    let cluster = OpenCluster::open(target)?;
    let cancel = crate::interruptible();
    let bar = Bar::new(Output::Summary);
    let result = publish::run(cluster.session()?, cluster.api(), &plan, cancel, |p| {
        bar.update(&p)
    })
    .await;
    bar.finish();
    cluster.close().await;
    let summary = result?;
    if args.json {
        json::print(&summary)?;
    } else {
        print!("{}", summary_text(&summary, plan.total()));
    }
    Ok(if summary.confirmed == plan.total() {
        Exit::Ok
    } else {
        Exit::NotAllConfirmed
    })
}

fn summary_text(s: &PublishSummary, total: u64) -> String {
    let mut out = format!(
        "published {} of {total}: {} confirmed, {} returned, {} nacked, {} failed, {} maybe sent in {:.2} s ({:.0} msg/s confirmed) via {}{}\n",
        s.published,
        s.confirmed,
        s.returned,
        s.nacked,
        s.failed,
        s.maybe_sent,
        s.elapsed_ms as f64 / 1000.0,
        s.rate,
        s.endpoint,
        if s.cancelled { " (cancelled)" } else { "" }
    );
    for p in &s.problems {
        let what = match &p.outcome {
            Outcome::Confirmed => "confirmed".to_owned(),
            Outcome::Returned {
                reply_code,
                reply_text,
            } => format!("returned: {reply_code} {reply_text}"),
            Outcome::Nacked => "nacked by the broker".to_owned(),
            Outcome::Failed { reason } => format!("failed: {reason}"),
            Outcome::MaybeSent { reason } => format!("maybe sent: {reason}"),
        };
        out.push_str(&format!("  message {}: {what}\n", p.seq));
    }
    let listed = s.problems.len() as u64;
    let not_ok = s.returned + s.nacked + s.failed + s.maybe_sent;
    if not_ok > listed {
        out.push_str(&format!("  ... and {} more\n", not_ok - listed));
    }
    out
}

/// The messages and settings the flags describe (no network).
fn build(args: &PublishArgs) -> Result<(Vec<MessageJson>, PublishRequest)> {
    let (mut messages, mut variables) = match &args.message_file {
        Some(path) => {
            let file = format::read_message_file(std::path::Path::new(path))?;
            (file.messages, file.variables)
        }
        None => (
            vec![MessageJson {
                exchange: String::new(),
                routing_key: String::new(),
                properties: PropertiesJson::default(),
                body: args.body.clone().unwrap_or_default(),
                body_encoding: BodyEncoding::Utf8,
            }],
            BTreeMap::new(),
        ),
    };
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>>>()?;
    let properties = args
        .properties
        .iter()
        .map(|p| split_pair("--property", p))
        .collect::<Result<Vec<_>>>()?;
    for m in &mut messages {
        if let Some(e) = &args.exchange {
            m.exchange = e.clone();
        }
        if let Some(k) = &args.routing_key {
            m.routing_key = k.clone();
        }
        if !headers.is_empty() {
            let table = m.properties.headers.get_or_insert_with(Map::new);
            for (k, v) in &headers {
                table.insert(k.clone(), v.clone());
            }
        }
        for (name, value) in &properties {
            set_property(&mut m.properties, name, value)?;
        }
    }
    for v in &args.vars {
        let (k, v) = split_pair("--var", v)?;
        variables.insert(k, v);
    }
    let request = PublishRequest {
        message: messages[0].clone(),
        count: args.count,
        rate: args.rate,
        mandatory: !args.no_mandatory,
        variables,
        body_file: args.body_file.clone(),
    };
    Ok((messages, request))
}

fn split_pair(flag: &str, s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(Error::invalid(flag, format!("\"{s}\" is not NAME=VALUE"))),
    }
}

/// `name=text` or `name:TYPE=value`, as a header name and its value in the message format.
fn parse_header(s: &str) -> Result<(String, Value)> {
    let (left, value) = split_pair("--header", s)?;
    let typed = left
        .rsplit_once(':')
        .and_then(|(name, ty)| HeaderType::parse(ty).map(|ty| (name.to_owned(), ty)));
    let Some((name, ty)) = typed else {
        return Ok((left, Value::String(value)));
    };
    let field = format!("properties.headers.{name}");
    let bad = |reason: String| Error::invalid(field.clone(), reason);
    let typed_value = |v: Value| {
        let mut m = Map::new();
        m.insert("$type".into(), Value::String(ty.name().to_owned()));
        m.insert("value".into(), v);
        Value::Object(m)
    };
    let v = match ty {
        HeaderType::Bool => match value.as_str() {
            "true" => typed_value(Value::Bool(true)),
            "false" => typed_value(Value::Bool(false)),
            other => return Err(bad(format!("\"{other}\" is not true or false"))),
        },
        HeaderType::Void => {
            if !value.is_empty() {
                return Err(bad("a void header takes no value (name:void=)".into()));
            }
            let mut m = Map::new();
            m.insert("$type".into(), Value::String(ty.name().to_owned()));
            Value::Object(m)
        }
        HeaderType::Decimal => {
            let d = message::parse_decimal(&field, &value)?;
            let mut m = Map::new();
            m.insert("scale".into(), d.scale.into());
            m.insert("value".into(), d.value.into());
            typed_value(Value::Object(m))
        }
        HeaderType::Table | HeaderType::Array => {
            let json: Value = serde_json::from_str(&value)
                .map_err(|e| bad(format!("not valid JSON for a {}: {e}", ty.name())))?;
            typed_value(json)
        }
        // Integers, floats, timestamps, strings and base64 bytes take the text as it is: the
        // message format parses and range-checks it after templates are rendered.
        _ => typed_value(Value::String(value)),
    };
    Ok((name, v))
}

fn set_property(p: &mut PropertiesJson, name: &str, value: &str) -> Result<()> {
    let name = name.replace('-', "_");
    match PropertyName::parse(&name) {
        Some(property) => property.set_from_text(p, value),
        None => {
            let known: Vec<&str> = PropertyName::ALL
                .iter()
                .filter(|p| **p != PropertyName::ClusterId)
                .map(|p| p.name())
                .collect();
            Err(Error::invalid(
                "--property",
                format!("unknown property \"{name}\" (known: {})", known.join(", ")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_are_strings_unless_typed() {
        assert_eq!(parse_header("a=3").unwrap(), ("a".into(), json!("3")));
        assert_eq!(
            parse_header("retries:i16=3").unwrap(),
            ("retries".into(), json!({"$type": "i16", "value": "3"}))
        );
        // A colon that is not followed by a type name belongs to the header's name.
        assert_eq!(
            parse_header("x:trace=a=b").unwrap(),
            ("x:trace".into(), json!("a=b"))
        );
        assert_eq!(
            parse_header("ok:bool=true").unwrap().1,
            json!({"$type": "bool", "value": true})
        );
        assert_eq!(
            parse_header("gone:void=").unwrap().1,
            json!({"$type": "void"})
        );
        assert_eq!(
            parse_header("price:decimal=12.50").unwrap().1,
            json!({"$type": "decimal", "value": {"scale": 2, "value": 1250}})
        );
        assert_eq!(
            parse_header("t:table={\"a\":1}").unwrap().1,
            json!({"$type": "table", "value": {"a": 1}})
        );
        for (bad, field) in [
            ("f:bool=yes", "properties.headers.f"),
            ("v:void=1", "properties.headers.v"),
            ("d:decimal=1.2.3", "properties.headers.d"),
            ("a:array=[1,", "properties.headers.a"),
            ("novalue", "--header"),
        ] {
            let err = parse_header(bad).unwrap_err().to_string();
            assert!(err.contains(field), "{bad}: {err}");
        }
    }

    #[test]
    fn typed_header_values_are_range_checked_by_the_message_format() {
        let (_, v) = parse_header("n:i16=40000").unwrap();
        let err = warren_core::message::decode_value("properties.headers.n", &v)
            .unwrap_err()
            .to_string();
        assert!(err.contains("properties.headers.n") && err.contains("does not fit i16"));
    }

    #[test]
    fn properties_are_parsed_and_bad_ones_named() {
        let mut p = PropertiesJson::default();
        set_property(&mut p, "content-type", "application/json").unwrap();
        set_property(&mut p, "delivery_mode", "persistent").unwrap();
        set_property(&mut p, "priority", "255").unwrap();
        set_property(&mut p, "type", "order.created").unwrap();
        set_property(&mut p, "timestamp", "1700000000").unwrap();
        assert_eq!(p.content_type.as_deref(), Some("application/json"));
        assert_eq!(p.delivery_mode, Some(2));
        assert_eq!(p.priority, Some(255));
        assert_eq!(p.kind.as_deref(), Some("order.created"));
        assert_eq!(p.timestamp, Some(1_700_000_000));
        for (name, value, field) in [
            ("priority", "256", "properties.priority"),
            ("priority", "-1", "properties.priority"),
            ("delivery_mode", "fast", "properties.delivery_mode"),
            ("timestamp", "soon", "properties.timestamp"),
            ("colour", "red", "--property"),
        ] {
            let err = set_property(&mut p, name, value).unwrap_err().to_string();
            assert!(err.contains(field), "{name}={value}: {err}");
        }
    }
}
