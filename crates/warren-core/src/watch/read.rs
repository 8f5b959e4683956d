//! The readings a rule is held to, from the management API.
//!
//! Depth and consumers are the queue's own counts. Dead letters are the messages waiting in the
//! queues the queue dead-letters into: those bound to its dead-letter exchange (all of them: a
//! dead-letter exchange usually serves one queue or one family of queues), or with the default
//! exchange as dead-letter exchange, the queue its dead-letter routing key names. Bindings
//! to other exchanges are not followed. A reading that cannot be taken says why, in words the
//! app shows beside the rule.

use crate::error::{Error, Result};
use crate::management::{path_segment, ManagementClient};
use crate::queues;
use crate::topology::{BindingRow, DestinationType};

use super::rules::{Metric, WatchRule};

/// One reading of a rule's metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Value(u64),
    /// Why there is no value (no such queue, no dead-letter exchange, an unreachable cluster).
    Unavailable(String),
}

/// Reads `rule`'s metric now.
pub async fn read_rule(api: &ManagementClient, rule: &WatchRule) -> Reading {
    match read(api, rule).await {
        Ok(v) => Reading::Value(v),
        Err(e) => Reading::Unavailable(e.to_string()),
    }
}

/// Reads every rule of `rules` at once, in their order.
pub async fn read_rules(api: &ManagementClient, rules: &[WatchRule]) -> Vec<Reading> {
    futures_util::future::join_all(rules.iter().map(|r| read_rule(api, r))).await
}

async fn read(api: &ManagementClient, rule: &WatchRule) -> Result<u64> {
    let detail = queues::detail(api, &rule.vhost, &rule.queue).await?;
    match rule.metric {
        Metric::Depth => Ok(detail.row.messages.unwrap_or(0)),
        Metric::Consumers => Ok(detail.row.consumers.unwrap_or(0)),
        Metric::DeadLetters => {
            let targets =
                match detail.settings.dead_letter_exchange() {
                    None => return Err(unavailable(rule, "the queue has no dead-letter exchange")),
                    Some("") => match detail.settings.dead_letter_routing_key() {
                        Some(key) => vec![key.to_owned()],
                        None => return Err(unavailable(
                            rule,
                            "the queue dead-letters to the default exchange without a routing key",
                        )),
                    },
                    Some(exchange) => bound_queues(api, rule, exchange).await?,
                };
            let mut total = 0u64;
            for queue in targets {
                let q = queues::detail(api, &rule.vhost, &queue).await?;
                total = total.saturating_add(q.row.messages.unwrap_or(0));
            }
            Ok(total)
        }
    }
}

/// The queues bound to `exchange`, each once.
async fn bound_queues(
    api: &ManagementClient,
    rule: &WatchRule,
    exchange: &str,
) -> Result<Vec<String>> {
    let vhost = rule.vhost.as_str();
    let path = format!(
        "exchanges/{}/{}/bindings/source",
        path_segment("vhost", vhost)?,
        path_segment("exchange", exchange)?
    );
    let bindings: Vec<BindingRow> = api.get(&path).await.map_err(|e| match e {
        Error::Http { status: 404, .. } => Error::ExchangeNotFound {
            vhost: vhost.to_owned(),
            name: exchange.to_owned(),
        },
        other => other,
    })?;
    let queues = queues_of(&bindings);
    if queues.is_empty() {
        return Err(unavailable(
            rule,
            &format!("no queue is bound to its dead-letter exchange \"{exchange}\""),
        ));
    }
    Ok(queues)
}

fn queues_of(bindings: &[BindingRow]) -> Vec<String> {
    let mut names: Vec<String> = bindings
        .iter()
        .filter(|b| b.destination_type == DestinationType::Queue)
        .map(|b| b.destination.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn unavailable(rule: &WatchRule, why: &str) -> Error {
    Error::NoDeadLetterQueue {
        vhost: rule.vhost.clone(),
        queue: rule.queue.clone(),
        reason: why.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(dest: &str, kind: DestinationType) -> BindingRow {
        BindingRow {
            vhost: "/".into(),
            source: "dlx".into(),
            destination: dest.into(),
            destination_type: kind,
            routing_key: "k".into(),
            arguments: Default::default(),
        }
    }

    #[test]
    fn dead_letter_queues_are_the_queues_bound_each_once() {
        let bindings = [
            b("dlq", DestinationType::Queue),
            b("other-x", DestinationType::Exchange),
            b("dlq", DestinationType::Queue),
            b("audit", DestinationType::Queue),
        ];
        assert_eq!(queues_of(&bindings), vec!["audit", "dlq"]);
    }
}
