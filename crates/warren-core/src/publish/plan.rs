//! A publish before it touches the network: the request's templates compiled, every message
//! rendered and checked against what the broker would refuse (header types, expiration,
//! delivery mode, body size, `user_id`), and the preview. Kept apart from the run so a preview
//! and the CLI's checks need no cluster, and every check is unit-tested.

use std::borrow::Borrow;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::{PublishRequest, MAX_COUNT, PREVIEW_BODY_LIMIT};
use crate::broker;
use crate::error::{Error, Result};
use crate::management::ManagementClient;
use crate::message::template::{Context, MessageTemplate};
use crate::message::{file, Message, MessageJson};

/// A publish ready to run: compiled templates and the run's settings. Built without the
/// network, so a preview and the CLI's checks need no cluster.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(super) templates: Vec<MessageTemplate>,
    pub(super) total: u64,
    pub(super) rate: Option<f64>,
    pub(super) mandatory: bool,
    pub(super) seed: u64,
    /// Each message's send time from the start of the run (a replay's recorded timing).
    pub(super) schedule: Option<Vec<Duration>>,
    /// List every non-confirmed outcome in the summary, not only the first ones.
    pub(super) every_problem: bool,
}

impl Plan {
    /// The plan of a request: its one message template, sent `count` times.
    pub fn from_request(request: &PublishRequest) -> Result<Plan> {
        Plan::from_messages(std::slice::from_ref(&request.message), request)
    }

    /// `messages` sent in order, the whole list `request.count` times (`request.message` is
    /// ignored); `seq` runs over all of them. The request's variables, rate, mandatory flag
    /// and body file apply to every message. The messages are borrowed: what a run needs of
    /// them is compiled.
    pub fn from_messages<M: Borrow<MessageJson>>(
        messages: &[M],
        request: &PublishRequest,
    ) -> Result<Plan> {
        if messages.is_empty() {
            return Err(Error::invalid("message", "no message to publish"));
        }
        if request.count == 0 || request.count > MAX_COUNT {
            return Err(Error::invalid(
                "count",
                format!("must be 1 to {MAX_COUNT} (got {})", request.count),
            ));
        }
        if let Some(rate) = request.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(Error::invalid(
                    "rate",
                    format!("{rate} is not a positive number of messages per second"),
                ));
            }
        }
        let body = match &request.body_file {
            Some(path) => Some(Bytes::from(file::read_bytes(
                std::path::Path::new(path),
                file::MAX_READ_BYTES,
            )?)),
            None => None,
        };
        let many = messages.len() > 1;
        let templates = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                MessageTemplate::compile(m.borrow(), &request.variables, body.clone()).map_err(
                    |e| {
                        if many {
                            in_message(e, i as u64 + 1)
                        } else {
                            e
                        }
                    },
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let total = request
            .count
            .checked_mul(messages.len() as u64)
            .filter(|&t| t <= MAX_COUNT)
            .ok_or_else(|| {
                Error::invalid(
                    "count",
                    format!(
                        "{} messages {} times is more than the {MAX_COUNT} one run may send",
                        messages.len(),
                        request.count
                    ),
                )
            })?;
        Ok(Plan {
            templates,
            total,
            rate: request.rate,
            mandatory: request.mandatory,
            seed: rand::random(),
            schedule: None,
            every_problem: false,
        })
    }

    /// `messages` sent once each, exactly as they are (no templates), mandatory, as fast as
    /// confirms come back; the summary lists every message that did not end confirmed, so
    /// that a caller can act on each message's outcome (ops acknowledges a source message
    /// only once its copy is confirmed).
    pub fn verbatim(messages: &[Message]) -> Result<Plan> {
        if messages.is_empty() {
            return Err(Error::invalid("message", "no message to publish"));
        }
        Ok(Plan {
            templates: messages.iter().map(MessageTemplate::verbatim).collect(),
            total: messages.len() as u64,
            rate: None,
            mandatory: true,
            seed: 0,
            schedule: None,
            every_problem: true,
        })
    }

    /// Sends message `seq` at `schedule[seq - 1]` after the start of the run instead of as fast
    /// as confirms allow or at the request's rate (the times must not decrease).
    pub fn with_schedule(mut self, schedule: Vec<Duration>) -> Result<Plan> {
        if schedule.len() as u64 != self.total {
            return Err(Error::invalid(
                "schedule",
                format!("{} send times for {} messages", schedule.len(), self.total),
            ));
        }
        if self.rate.is_some() {
            return Err(Error::invalid(
                "rate",
                "a run follows either a rate or a schedule",
            ));
        }
        if schedule.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::invalid("schedule", "send times must not decrease"));
        }
        self.schedule = Some(schedule);
        Ok(self)
    }

    /// Lists every message that did not end confirmed in the summary (a replay's report),
    /// rather than the first hundred.
    pub fn listing_every_problem(mut self) -> Plan {
        self.every_problem = true;
        self
    }

    /// How many messages the run sends.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub(super) fn template(&self, seq: u64) -> &MessageTemplate {
        &self.templates[((seq - 1) % self.templates.len() as u64) as usize]
    }

    pub(super) fn all_static(&self) -> bool {
        self.templates.iter().all(MessageTemplate::is_static)
    }

    /// Renders message `seq` (1-based) and checks it. `max_body` is the broker's limit;
    /// `user` the login, which RabbitMQ requires `user_id` to equal.
    pub(super) fn render(&self, seq: u64, now: SystemTime, limits: &Limits) -> Result<Message> {
        let template = self.template(seq);
        let mut ctx = Context::new(self.seed, seq, now);
        let name = |e| {
            if self.total > 1 {
                in_message(e, seq)
            } else {
                e
            }
        };
        let mut message = template.render_head(&mut ctx).map_err(name)?;
        let body_len = template.fixed_body().map_or(message.body.len(), Bytes::len);
        check(&message, body_len, limits).map_err(name)?;
        if let Some(b) = template.fixed_body() {
            if limits.with_fixed_body {
                message.body = b.to_vec();
            }
        }
        Ok(message)
    }

    /// The first `n` messages as they would be sent (random values and the clock aside: the
    /// run draws its own), each checked like in a run (except against the broker's size
    /// limit and login, which need the cluster). Bodies are cut at [`PREVIEW_BODY_LIMIT`].
    pub fn preview(&self, n: u64) -> Result<Vec<MessageJson>> {
        let limits = Limits {
            max_body: usize::MAX,
            user: None,
            with_fixed_body: true,
        };
        let now = SystemTime::now();
        (1..=n.min(self.total))
            .map(|seq| {
                self.render(seq, now, &limits).map(|mut m| {
                    // A preview is for reading: a 100 MB body file need not cross to the UI.
                    m.body.truncate(PREVIEW_BODY_LIMIT);
                    MessageJson::from(m)
                })
            })
            .collect()
    }

    /// Renders and checks every message of the run (each distinct template once when none
    /// varies). This is what makes a run all-or-nothing with respect to bad input.
    pub fn validate(&self, max_body: usize, user: Option<&str>) -> Result<()> {
        let limits = Limits {
            max_body,
            user,
            with_fixed_body: false,
        };
        let now = SystemTime::now();
        let last = if self.all_static() {
            self.total.min(self.templates.len() as u64)
        } else {
            self.total
        };
        for seq in 1..=last {
            self.render(seq, now, &limits)?;
        }
        Ok(())
    }
}

pub(super) struct Limits<'a> {
    pub(super) max_body: usize,
    pub(super) user: Option<&'a str>,
    /// Copy a fixed (file) body into the rendered message; only a preview needs it.
    pub(super) with_fixed_body: bool,
}

/// Says which message of a run an input error is about; the field path stays a path.
fn in_message(e: Error, seq: u64) -> Error {
    match e {
        Error::InvalidInput { field, reason } => Error::InvalidInput {
            field,
            reason: format!("{reason} (message {seq})"),
        },
        other => other,
    }
}

/// The checks the message format leaves to publishing: what the broker would refuse.
fn check(m: &Message, body_len: usize, limits: &Limits) -> Result<()> {
    let p = &m.properties;
    if let Some(e) = &p.expiration {
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                "properties.expiration",
                format!("\"{e}\" is not a number of milliseconds (a non-negative integer)"),
            ));
        }
        if e.parse::<u64>().map_or(true, |n| n > u64::from(u32::MAX)) {
            return Err(Error::invalid(
                "properties.expiration",
                format!("{e} is larger than {} milliseconds", u32::MAX),
            ));
        }
    }
    if let Some(d) = p.delivery_mode {
        if d != 1 && d != 2 {
            return Err(Error::invalid(
                "properties.delivery_mode",
                format!("{d} is neither 1 (transient) nor 2 (persistent)"),
            ));
        }
    }
    if let (Some(u), Some(login)) = (&p.user_id, limits.user) {
        if u != login {
            return Err(Error::invalid(
                "properties.user_id",
                format!("\"{u}\" is not the user Warren logs in as (\"{login}\"); RabbitMQ refuses such messages"),
            ));
        }
    }
    if body_len > limits.max_body {
        return Err(Error::invalid(
            "body",
            format!(
                "{body_len} bytes is more than the broker's maximum message size of {} bytes",
                limits.max_body
            ),
        ));
    }
    Ok(())
}

/// The broker's maximum message size: the default of its major version (from
/// `/api/overview`); 128 MiB when the version cannot be read (the broker then has the last
/// word, and a refusal is reported as a failed message).
pub async fn max_message_size(api: &ManagementClient) -> usize {
    let version = tokio::time::timeout(Duration::from_secs(5), api.overview())
        .await
        .ok()
        .and_then(|r| r.ok())
        .and_then(|o| o.version());
    broker::max_message_size(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(message: serde_json::Value) -> PublishRequest {
        serde_json::from_value(serde_json::json!({ "message": message })).unwrap()
    }

    fn invalid(message: serde_json::Value, max_body: usize) -> String {
        let plan = Plan::from_request(&request(message)).unwrap();
        plan.validate(max_body, Some("guest"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn broker_refusals_are_caught_before_sending_naming_the_field() {
        let cases = [
            (
                serde_json::json!({"properties": {"expiration": "abc"}}),
                "properties.expiration",
            ),
            (
                serde_json::json!({"properties": {"expiration": "-5"}}),
                "properties.expiration",
            ),
            (
                serde_json::json!({"properties": {"expiration": ""}}),
                "properties.expiration",
            ),
            (
                serde_json::json!({"properties": {"delivery_mode": 3}}),
                "properties.delivery_mode",
            ),
            (
                serde_json::json!({"properties": {"user_id": "bob"}}),
                "properties.user_id",
            ),
            (serde_json::json!({"body": "12345"}), "body"),
        ];
        for (m, field) in cases {
            let err = invalid(m.clone(), 4);
            assert!(err.starts_with(&format!("invalid {field}")), "{m}: {err}");
        }
        let ok = Plan::from_request(&request(serde_json::json!({
            "properties": {"expiration": "60000", "delivery_mode": 2, "user_id": "guest"},
            "body": "1234"
        })))
        .unwrap();
        ok.validate(4, Some("guest")).unwrap();
    }

    #[test]
    fn every_message_is_checked_and_the_bad_one_is_named() {
        let mut req = request(serde_json::json!({
            "properties": {"headers": {"n": {"$type": "i8", "value": "{{seq}}"}}}
        }));
        req.count = 200;
        let plan = Plan::from_request(&req).unwrap();
        assert_eq!(plan.total(), 200);
        let err = plan.validate(usize::MAX, None).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid properties.headers.n: ")
                && err.contains("does not fit i8")
                && err.ends_with("(message 128)"),
            "{err}"
        );
        // The preview renders only what it shows.
        assert_eq!(plan.preview(3).unwrap().len(), 3);
    }

    #[test]
    fn counts_rates_and_unknown_variables_are_checked_when_planning() {
        let mut req = request(serde_json::json!({"body": "x"}));
        req.count = 0;
        assert!(Plan::from_request(&req)
            .unwrap_err()
            .to_string()
            .contains("count"));
        req.count = 1;
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            req.rate = Some(rate);
            assert!(Plan::from_request(&req)
                .unwrap_err()
                .to_string()
                .contains("rate"));
        }
        let req = request(serde_json::json!({"routing_key": "{{tenant}}"}));
        let err = Plan::from_request(&req).unwrap_err().to_string();
        assert!(
            err.contains("routing_key") && err.contains("tenant"),
            "{err}"
        );
    }

    #[test]
    fn a_body_file_replaces_the_body_and_is_not_templated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body.bin");
        std::fs::write(&path, b"{{seq}}\xff").unwrap();
        let mut req = request(serde_json::json!({"body": "ignored"}));
        req.body_file = Some(path.display().to_string());
        let plan = Plan::from_request(&req).unwrap();
        let m = &plan.preview(1).unwrap()[0];
        assert_eq!(m.body_encoding, crate::message::BodyEncoding::Base64);
        assert_eq!(crate::message::base64_encode(b"{{seq}}\xff"), m.body);
        assert!(plan
            .validate(7, None)
            .unwrap_err()
            .to_string()
            .contains("8 bytes"));
        req.body_file = Some(dir.path().join("missing").display().to_string());
        assert!(matches!(Plan::from_request(&req), Err(Error::File { .. })));
    }
}
