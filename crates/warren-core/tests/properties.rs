//! Property tests of everything Warren parses from outside: the message format with its typed
//! headers, templates, collection files, URIs and the management API's replies.
//!
//! These inputs come from files people edit by hand, from other tools' exports and from
//! brokers of every version, so hand-picked examples are not enough: each parser must give an
//! answer or a typed error for any input (no panic, no hang), and where the input is valid,
//! writing it back and reading it again must give the very same value. The generators below
//! reach the corners examples miss: every AMQP field type nested in tables and arrays,
//! integers at their limits, non-UTF-8 strings, keys named `$type`.

use std::collections::BTreeMap;
use std::path::Path;

use lapin::types::{
    AMQPValue, ByteArray, DecimalValue, FieldArray, FieldTable, LongString, ShortString,
};
use proptest::prelude::*;
use serde_json::Value;
use warren_core::collections::{self, Collection, Entry, Source};
use warren_core::message::template::{Context, MessageTemplate, Template};
use warren_core::message::{Message, MessageJson, Properties};
use warren_core::{api, endpoint, status};

fn config() -> ProptestConfig {
    // 256 cases each unless PROPTEST_CASES says otherwise.
    ProptestConfig {
        // A failure is shrunk and printed; nothing is written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A field value of any AMQP type that the message format keeps exactly. (A short string is
/// written as a string and read back as the long string RabbitMQ itself sends, and NaN is
/// never equal to itself: both are covered by the no-panic properties instead.)
fn field_value() -> impl Strategy<Value = AMQPValue> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(AMQPValue::Boolean),
        any::<i8>().prop_map(AMQPValue::ShortShortInt),
        any::<u8>().prop_map(AMQPValue::ShortShortUInt),
        any::<i16>().prop_map(AMQPValue::ShortInt),
        any::<u16>().prop_map(AMQPValue::ShortUInt),
        any::<i32>().prop_map(AMQPValue::LongInt),
        any::<u32>().prop_map(AMQPValue::LongUInt),
        any::<i64>().prop_map(AMQPValue::LongLongInt),
        any::<f32>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(AMQPValue::Float),
        any::<f64>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(AMQPValue::Double),
        (any::<u8>(), any::<u32>())
            .prop_map(|(scale, value)| AMQPValue::DecimalValue(DecimalValue { scale, value })),
        ".{0,40}".prop_map(|s| AMQPValue::LongString(LongString::from(s.as_bytes()))),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| AMQPValue::LongString(LongString::from(b))),
        any::<u64>().prop_map(AMQPValue::Timestamp),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| AMQPValue::ByteArray(ByteArray::from(b))),
        Just(AMQPValue::Void),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| AMQPValue::FieldArray(FieldArray::from(items))),
            table_of(inner).prop_map(AMQPValue::FieldTable),
        ]
    })
}

fn table_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{1,20}",
        Just("$type".to_owned()),
        Just("value".to_owned()),
        ".{1,12}",
    ]
}

fn table_of(values: impl Strategy<Value = AMQPValue>) -> impl Strategy<Value = FieldTable> {
    proptest::collection::btree_map(table_key(), values, 0..6).prop_map(|m| {
        FieldTable::from(
            m.into_iter()
                .map(|(k, v)| (ShortString::from(k), v))
                .collect::<BTreeMap<_, _>>(),
        )
    })
}

fn short_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(".{0,30}")
}

fn message() -> impl Strategy<Value = Message> {
    let properties = (
        (
            short_text(),
            short_text(),
            proptest::option::of(table_of(field_value())),
        ),
        (
            proptest::option::of(1u8..=2),
            proptest::option::of(any::<u8>()),
            short_text(),
            short_text(),
            proptest::option::of("[0-9]{1,9}"),
        ),
        (
            short_text(),
            proptest::option::of(any::<u64>()),
            short_text(),
            short_text(),
            short_text(),
        ),
    )
        .prop_map(
            |(
                (content_type, content_encoding, headers),
                (delivery_mode, priority, correlation_id, reply_to, expiration),
                (message_id, timestamp, kind, user_id, app_id),
            )| Properties {
                content_type,
                content_encoding,
                headers,
                delivery_mode,
                priority,
                correlation_id,
                reply_to,
                expiration,
                message_id,
                timestamp,
                kind,
                user_id,
                app_id,
            },
        );
    (
        ".{0,30}",
        ".{0,60}",
        properties,
        prop_oneof![
            ".{0,200}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..200),
        ],
    )
        .prop_map(|(exchange, routing_key, properties, body)| Message {
            exchange,
            routing_key,
            properties,
            body,
        })
}

/// Any JSON value, to feed parsers that expect a particular shape.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("$type"),
            Just("i8"),
            Just("u64"),
            Just("decimal"),
            Just("timestamp"),
            Just("bytes"),
            Just("unknown"),
            Just("NaN"),
            Just("-Infinity"),
            Just("99999999999999999999999"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    "[a-z_$]{1,10}",
                    Just("$type".to_owned()),
                    Just("value".to_owned()),
                    Just("headers".to_owned()),
                    Just("properties".to_owned()),
                    Just("body_encoding".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `value` with `key` set to each of several odd JSON values in turn.
fn object_with(fields: &[(&str, Value)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

proptest! {
    #![proptest_config(config())]

    /// Every message survives the message format: the same bytes, properties and header
    /// values with their AMQP types.
    #[test]
    fn a_message_round_trips_through_the_message_format(m in message()) {
        let text = m.to_json().to_string();
        let back = Message::from_json(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(back, m);
    }

    /// Any text given as a message gives a message or an error, never a panic.
    #[test]
    fn any_text_as_a_message_is_an_answer(text in ".{0,300}") {
        let _ = Message::from_json(&text);
    }

    /// Any JSON shape given as a message (headers included) is an answer, never a panic.
    #[test]
    fn any_json_as_a_message_is_an_answer(headers in json(), body in json(), properties in json()) {
        let _ = Message::from_json(&json_message(&headers, &body, &properties).to_string());
        let _ = Message::from_json(&properties.to_string());
    }

    /// Templates: any text compiles or is refused; compiled ones render without panicking,
    /// and text without placeholders renders as itself.
    #[test]
    fn any_template_compiles_or_is_refused(text in ".{0,80}", name in "[a-z]{1,8}", value in ".{0,20}") {
        let vars = BTreeMap::from([(name, value)]);
        let mut ctx = Context::new(7, 1, std::time::SystemTime::now());
        if let Ok(t) = Template::compile("body", &text, &vars) {
            let out = t.render(&mut ctx);
            if !text.contains("{{") {
                prop_assert_eq!(out, text);
            }
        }
    }

    /// Placeholders mixed into a whole message: compile and render never panic.
    #[test]
    fn any_message_template_renders_or_is_refused(
        body in "(\\{\\{|\\}\\}|seq|uuid|now|random_int|-?[0-9]{1,20}| |[a-z]{1,4}){0,12}",
        key in "(\\{\\{|\\}\\}|seq|tenant| ){0,6}",
    ) {
        let json = serde_json::json!({
            "routing_key": key,
            "properties": {"headers": {"h": body.clone()}},
            "body": body,
        });
        let Ok(mj) = serde_json::from_value::<MessageJson>(json) else { return Ok(()) };
        let vars = BTreeMap::from([("tenant".to_owned(), "t1".to_owned())]);
        if let Ok(t) = MessageTemplate::compile(&mj, &vars, None) {
            let mut ctx = Context::new(1, 1, std::time::SystemTime::now());
            let _ = t.render(&mut ctx);
        }
    }

    /// A collection file written by Warren reads back as the same collection.
    #[test]
    fn a_collection_round_trips_through_its_file(
        name in ".{1,30}",
        description in ".{0,40}",
        variables in proptest::collection::btree_map("[a-z]{1,8}", ".{0,12}", 0..4),
        messages in proptest::collection::vec((message(), proptest::option::of(0u64..4_102_444_800_000), proptest::option::of(".{0,10}")), 0..5),
    ) {
        let collection = Collection {
            name,
            description,
            variables,
            messages: messages
                .into_iter()
                .map(|(m, at, queue)| Entry {
                    message: MessageJson::from(m),
                    recorded_at: at.map(|ms| collections::format::timestamp(
                        std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms),
                    )),
                    source: queue.map(|q| Source { queue: Some(q), ..Source::default() }),
                })
                .collect(),
        };
        let mut text = Vec::new();
        collections::format::to_text(&collection, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let back = collections::format::parse(Path::new("c.jsonl"), &text)
            .map_err(|e| TestCaseError::fail(format!("{e}:\n{text}")))?;
        prop_assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&collection).unwrap());
    }

    /// Any text as a collection file is a collection or an error naming where it broke.
    #[test]
    fn any_text_as_a_collection_is_an_answer(lines in proptest::collection::vec(
        prop_oneof![
            ".{0,60}",
            json().prop_map(|v| v.to_string()),
            Just("{\"warren_collection\":1,\"name\":\"n\"}".to_owned()),
            Just("{\"warren_collection\":99,\"name\":\"n\"}".to_owned()),
        ], 0..6)) {
        let _ = collections::format::parse(Path::new("c.jsonl"), &lines.join("\n"));
    }

    /// URIs: any text parses or is refused, and a refusal never shows the password it held.
    #[test]
    fn uris_never_leak_their_password(
        scheme in prop_oneof![Just("amqp"), Just("amqps"), Just("http"), Just("https"), Just("ftp"), Just("")],
        user in "[a-z]{0,6}",
        host in prop_oneof!["[a-z0-9.-]{0,12}", Just("[::1]".to_owned()), Just("[::1".to_owned())],
        port in prop_oneof!["[0-9]{0,6}", ".{0,4}"],
        path in ".{0,12}",
    ) {
        let password = "Pw7zQ3xK9s";
        let raw = format!("{scheme}://{user}:{password}@{host}:{port}/{path}");
        for result in [
            endpoint::parse_amqp(&raw).map(|_| ()),
            endpoint::parse_management(&raw).map(|_| ()),
        ] {
            if let Err(e) = result {
                prop_assert!(!e.to_string().contains(password), "{e}");
            }
        }
    }

    /// The management API's node, queue and policy replies: any field of any type is read
    /// (odd values as unknown) or refused as a whole, never a panic; and whatever is read,
    /// the analysis of the cluster's status cannot panic or overflow.
    #[test]
    fn any_management_reply_is_read_and_analysed_without_panicking(
        node_fields in proptest::collection::vec(json(), 8),
        queue_fields in proptest::collection::vec(json(), 8),
        policy in json(),
    ) {
        let node_keys = ["mem_used", "mem_limit", "fd_used", "fd_total", "disk_free", "disk_free_limit", "uptime", "partitions"];
        let queue_keys = ["messages", "messages_ready", "consumers", "members", "online", "slave_nodes", "synchronised_slave_nodes", "arguments"];
        let mut node_pairs: Vec<(&str, Value)> = vec![("name", "warren-1@localhost".into()), ("running", true.into())];
        node_pairs.extend(node_keys.iter().copied().zip(node_fields));
        let mut queue_pairs: Vec<(&str, Value)> = vec![
            ("name", "q".into()), ("vhost", "/".into()), ("node", "warren-1@localhost".into()),
            ("type", "quorum".into()), ("leader", "warren-1@localhost".into()),
        ];
        queue_pairs.extend(queue_keys.iter().copied().zip(queue_fields));
        let nodes = serde_json::from_value::<Vec<api::Node>>(Value::Array(vec![object_with(&node_pairs), object_with(&[("name", "warren-2@localhost".into())])]));
        let queues = serde_json::from_value::<Vec<api::Queue>>(Value::Array(vec![object_with(&queue_pairs)]));
        let policies = serde_json::from_value::<Vec<api::Policy>>(Value::Array(vec![policy]));
        let _ = serde_json::from_value::<api::Overview>(object_with(&node_pairs));
        if let (Ok(nodes), Ok(queues)) = (nodes, queues) {
            let snapshot = status::Snapshot {
                overview: api::Overview::default(),
                nodes,
                queues,
                policies: policies.unwrap_or_default(),
                endpoints: Vec::new(),
                health_checks: Vec::new(),
                shovels: None,
                federation: None,
                api_endpoint: "http://127.0.0.1:15672".to_owned(),
            };
            let _ = status::analyze(snapshot, u64::MAX);
        }
    }
}

fn json_message(headers: &Value, body: &Value, properties: &Value) -> Value {
    serde_json::json!({
        "exchange": "",
        "routing_key": "k",
        "properties": {"headers": headers, "priority": properties},
        "body": body,
        "body_encoding": "base64",
    })
}
