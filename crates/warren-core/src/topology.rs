//! Exchanges and bindings: which exchange routes to which queue with which key or header
//! match, as lists and as the routing graph around one exchange or queue.
//!
//! The graph ([`around`]) is a pure function of the vhost's bindings, so what the picture
//! shows is unit-tested: for a queue, every path that can deliver into it (exchange-to-exchange
//! bindings followed upstream); for an exchange, where it gets messages from and everything
//! it can route to (followed downstream). The default exchange's implicit binding of every
//! queue by name is not drawn; the UI states it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::api;
use crate::error::{Error, Result};
use crate::management::{encode_segment, is_addressable, ManagementClient};

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ExchangeRow {
    pub vhost: String,
    pub name: String,
    /// direct, fanout, topic, headers, or a plugin's type.
    pub kind: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    #[ts(type = "Record<string, unknown>")]
    pub arguments: Map<String, Value>,
    pub policy: Option<String>,
    pub publish_in_rate: Option<f64>,
    pub publish_out_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BindingRow {
    pub vhost: String,
    /// The source exchange ("" is the default exchange).
    pub source: String,
    pub destination: String,
    pub destination_type: DestinationType,
    pub routing_key: String,
    /// Header-match arguments (`x-match` and the headers) for headers exchanges.
    #[ts(type = "Record<string, unknown>")]
    pub arguments: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DestinationType {
    Queue,
    Exchange,
}

/// The centre of a routing picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
#[ts(export)]
pub enum TopologyFocus {
    Exchange(String),
    Queue(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[ts(export)]
pub struct TopologyNode {
    /// `e:<name>` or `q:<name>`.
    pub id: String,
    pub kind: DestinationType,
    pub name: String,
    /// The exchange type, for exchanges.
    pub exchange_type: Option<String>,
    /// Steps from the focus: negative upstream, positive downstream, 0 the focus.
    pub depth: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct TopologyEdge {
    pub from: String,
    pub to: String,
    pub routing_key: String,
    #[ts(type = "Record<string, unknown>")]
    pub arguments: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Topology {
    pub focus: String,
    pub nodes: Vec<TopologyNode>,
    pub edges: Vec<TopologyEdge>,
    /// The graph was cut at this many nodes.
    pub truncated: bool,
}

/// Past this many nodes the picture stops growing (and says so).
const MAX_NODES: usize = 200;

/// The path suffix that reads one vhost; empty (every vhost, filtered here by [`in_vhost`])
/// for a vhost that no path can address (`.` or `..`).
fn vhost_suffix(vhost: Option<&str>) -> String {
    vhost
        .filter(|v| is_addressable(v))
        .map(|v| format!("/{}", encode_segment(v)))
        .unwrap_or_default()
}

fn in_vhost(wanted: Option<&str>, vhost: &str) -> bool {
    wanted.is_none_or(|w| w == vhost)
}

pub async fn exchanges(api: &ManagementClient, vhost: Option<&str>) -> Result<Vec<ExchangeRow>> {
    let raw: Vec<api::Exchange> = api
        .get(&format!("exchanges{}", vhost_suffix(vhost)))
        .await?;
    Ok(raw
        .into_iter()
        .filter(|e| in_vhost(vhost, &e.vhost))
        .map(|e| ExchangeRow {
            publish_in_rate: e
                .message_stats
                .as_ref()
                .and_then(|s| s.publish_in_details.as_ref()?.rate),
            publish_out_rate: e
                .message_stats
                .as_ref()
                .and_then(|s| s.publish_out_details.as_ref()?.rate),
            policy: e
                .policy
                .as_ref()
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            vhost: e.vhost,
            name: e.name,
            kind: e.kind,
            durable: e.durable,
            auto_delete: e.auto_delete,
            internal: e.internal,
            arguments: e.arguments,
        })
        .collect())
}

/// Every binding of a vhost (or of all vhosts), the default exchange's implicit ones left out.
pub async fn bindings(api: &ManagementClient, vhost: Option<&str>) -> Result<Vec<BindingRow>> {
    let raw: Vec<BindingRow> = api.get(&format!("bindings{}", vhost_suffix(vhost))).await?;
    Ok(raw
        .into_iter()
        .filter(|b| !b.source.is_empty() && in_vhost(vhost, &b.vhost))
        .collect())
}

/// The routing picture around `focus` in `vhost`.
pub async fn topology(
    api: &ManagementClient,
    vhost: &str,
    focus: &TopologyFocus,
) -> Result<Topology> {
    let (exchanges, bindings) =
        tokio::join!(exchanges(api, Some(vhost)), bindings(api, Some(vhost)));
    let (exchanges, bindings) = (exchanges?, bindings?);
    let types: BTreeMap<String, String> = exchanges
        .iter()
        .map(|e| (e.name.clone(), e.kind.clone()))
        .collect();
    match focus {
        TopologyFocus::Exchange(name) if !types.contains_key(name) => {
            return Err(Error::invalid(
                "exchange",
                format!("no exchange \"{name}\" in vhost \"{vhost}\""),
            ))
        }
        TopologyFocus::Queue(name) => {
            // A queue without bindings still exists; a missing one is a clear 404.
            crate::queues::detail(api, vhost, name).await?;
        }
        _ => {}
    }
    Ok(around(&bindings, &types, focus))
}

fn id(kind: DestinationType, name: &str) -> String {
    match kind {
        DestinationType::Exchange => format!("e:{name}"),
        DestinationType::Queue => format!("q:{name}"),
    }
}

/// The subgraph of `bindings` around `focus`: upstream paths into it and, for an exchange,
/// everything downstream of it. Pure.
pub fn around(
    bindings: &[BindingRow],
    exchange_types: &BTreeMap<String, String>,
    focus: &TopologyFocus,
) -> Topology {
    let (focus_kind, focus_name) = match focus {
        TopologyFocus::Exchange(n) => (DestinationType::Exchange, n.as_str()),
        TopologyFocus::Queue(n) => (DestinationType::Queue, n.as_str()),
    };
    let focus_id = id(focus_kind, focus_name);
    let mut depth: BTreeMap<String, (DestinationType, String, i32)> = BTreeMap::new();
    depth.insert(focus_id.clone(), (focus_kind, focus_name.to_owned(), 0));
    let mut edges: BTreeSet<usize> = BTreeSet::new();
    let mut truncated = false;

    // Upstream: bindings whose destination is on the frontier.
    let mut queue = VecDeque::from([(focus_kind, focus_name.to_owned(), 0i32)]);
    while let Some((kind, name, d)) = queue.pop_front() {
        for (i, b) in bindings.iter().enumerate() {
            if b.destination_type == kind && b.destination == name {
                edges.insert(i);
                let src = id(DestinationType::Exchange, &b.source);
                if !depth.contains_key(&src) {
                    if depth.len() >= MAX_NODES {
                        truncated = true;
                        continue;
                    }
                    depth.insert(src, (DestinationType::Exchange, b.source.clone(), d - 1));
                    queue.push_back((DestinationType::Exchange, b.source.clone(), d - 1));
                }
            }
        }
    }
    // Downstream, from an exchange.
    if focus_kind == DestinationType::Exchange {
        let mut queue = VecDeque::from([(focus_name.to_owned(), 0i32)]);
        let mut seen = BTreeSet::from([focus_name.to_owned()]);
        while let Some((name, d)) = queue.pop_front() {
            for (i, b) in bindings.iter().enumerate() {
                if b.source != name {
                    continue;
                }
                edges.insert(i);
                let dst = id(b.destination_type, &b.destination);
                if !depth.contains_key(&dst) {
                    if depth.len() >= MAX_NODES {
                        truncated = true;
                        continue;
                    }
                    depth.insert(dst, (b.destination_type, b.destination.clone(), d + 1));
                }
                if b.destination_type == DestinationType::Exchange
                    && seen.insert(b.destination.clone())
                {
                    queue.push_back((b.destination.clone(), d + 1));
                }
            }
        }
    }
    let mut nodes: Vec<TopologyNode> = depth
        .into_iter()
        .map(|(id, (kind, name, depth))| TopologyNode {
            exchange_type: (kind == DestinationType::Exchange)
                .then(|| exchange_types.get(&name).cloned())
                .flatten(),
            id,
            kind,
            name,
            depth,
        })
        .collect();
    nodes.sort_by(|a, b| (a.depth, &a.name).cmp(&(b.depth, &b.name)));
    let ids: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let edges = edges
        .into_iter()
        .map(|i| &bindings[i])
        .map(|b| TopologyEdge {
            from: id(DestinationType::Exchange, &b.source),
            to: id(b.destination_type, &b.destination),
            routing_key: b.routing_key.clone(),
            arguments: b.arguments.clone(),
        })
        .filter(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str()))
        .collect();
    Topology {
        focus: focus_id,
        nodes,
        edges,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(source: &str, dest: &str, kind: DestinationType, key: &str) -> BindingRow {
        BindingRow {
            vhost: "/".into(),
            source: source.into(),
            destination: dest.into(),
            destination_type: kind,
            routing_key: key.into(),
            arguments: Map::new(),
        }
    }

    fn sample() -> Vec<BindingRow> {
        use DestinationType::*;
        vec![
            b("in", "orders", Exchange, "order.#"),
            b("orders", "orders.eu", Queue, "order.eu"),
            b("orders", "orders.all", Queue, "#"),
            b("other", "orders.eu", Queue, "x"),
            b("unrelated", "elsewhere", Queue, "y"),
            // A cycle must not loop forever.
            b("orders", "in", Exchange, "loop"),
        ]
    }

    #[test]
    fn a_queue_shows_every_path_into_it() {
        let t = around(
            &sample(),
            &BTreeMap::new(),
            &TopologyFocus::Queue("orders.eu".into()),
        );
        let names: Vec<(&str, i32)> = t.nodes.iter().map(|n| (n.id.as_str(), n.depth)).collect();
        assert!(names.contains(&("q:orders.eu", 0)));
        assert!(names.contains(&("e:orders", -1)));
        assert!(names.contains(&("e:other", -1)));
        assert!(names.contains(&("e:in", -2)));
        assert!(!names
            .iter()
            .any(|(n, _)| *n == "q:orders.all" || *n == "e:unrelated"));
        assert!(t
            .edges
            .iter()
            .any(|e| e.from == "e:in" && e.to == "e:orders"));
    }

    #[test]
    fn an_exchange_shows_sources_and_everything_downstream() {
        let mut types = BTreeMap::new();
        types.insert("orders".to_string(), "topic".to_string());
        let t = around(&sample(), &types, &TopologyFocus::Exchange("orders".into()));
        let ids: BTreeSet<&str> = t.nodes.iter().map(|n| n.id.as_str()).collect();
        for want in ["e:orders", "e:in", "q:orders.eu", "q:orders.all"] {
            assert!(ids.contains(want), "{want} missing from {ids:?}");
        }
        assert!(!ids.contains("e:other") && !ids.contains("q:elsewhere"));
        let focus = t.nodes.iter().find(|n| n.id == "e:orders").unwrap();
        assert_eq!(focus.exchange_type.as_deref(), Some("topic"));
        assert!(!t.truncated);
    }
}
