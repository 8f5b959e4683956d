//! The deliveries a consumer holds for its tab: the inspector's list (filter, rows by index,
//! one message in full) plus each delivery's state, within a byte budget.
//!
//! The budget counts what can be let go: bodies and headers. Rows themselves (routing key,
//! ids, state) stay, so indices never move under the UI. Over the budget, the bodies and
//! headers of settled deliveries go first, oldest first: they are gone from the queue (or back
//! in it), so only the copy is lost. Unsettled ones are kept: the broker's prefetch bounds
//! them. A consumer with automatic ack has nothing it may drop (every message exists only
//! here), so it pauses instead: see `BudgetAction`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::inspector::{
    self, Inspected, InspectionView, MessageDetail, MessageFilter, MessageList, MessageRow,
    Selection,
};
use crate::message::{budget, Message};

use super::settle::{DeliveryState, Ledger, Settle, SettlePlan};

pub use crate::message::budget::DEFAULT_BUDGET_BYTES;

/// One delivery as a consumer received it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsumedMessage {
    /// Warren's number of the delivery in this consumer: 1, 2, 3..., never reused, across
    /// every channel the consumer had.
    #[serde(skip)]
    pub seq: u64,
    #[serde(flatten)]
    pub message: Message,
    pub redelivered: bool,
    /// The tag on the channel that delivered it (meaningless on any other channel).
    pub delivery_tag: u64,
    /// `x-delivery-count` as delivered (quorum queues).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_count: Option<u64>,
    /// `x-acquired-count` as delivered (quorum queues, 4.3+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired_count: Option<u64>,
    /// The stream offset (streams only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Epoch milliseconds when it arrived.
    #[serde(skip)]
    pub received_at_ms: u64,
    /// The body's size as delivered.
    #[serde(skip)]
    pub size: u64,
    /// The body and headers were let go to stay within the budget.
    #[serde(skip)]
    pub evicted: bool,
}

impl ConsumedMessage {
    fn budget_bytes(&self) -> u64 {
        if self.evicted {
            return 0;
        }
        budget::held_bytes(&self.message)
    }
}

impl Inspected for ConsumedMessage {
    fn message(&self) -> &Message {
        &self.message
    }
    fn position(&self) -> u32 {
        u32::try_from(self.seq).unwrap_or(u32::MAX)
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
    fn size(&self) -> u64 {
        self.size
    }
}

/// What a delivery adds to the inspector's row.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ConsumedRow {
    #[serde(flatten)]
    #[ts(flatten)]
    pub row: MessageRow,
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub delivery_tag: u64,
    pub state: DeliveryState,
    #[ts(type = "number | null")]
    pub acquired_count: Option<u64>,
    #[ts(type = "number")]
    pub received_at_ms: u64,
    /// Body and headers were let go to stay within the budget (the row's previews are empty).
    pub evicted: bool,
}

/// One delivery in full.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ConsumedDetail {
    #[serde(flatten)]
    #[ts(flatten)]
    pub detail: MessageDetail,
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub delivery_tag: u64,
    pub state: DeliveryState,
    #[ts(type = "number | null")]
    pub acquired_count: Option<u64>,
    #[ts(type = "number")]
    pub received_at_ms: u64,
    pub evicted: bool,
}

/// What a consumer does when its held deliveries reach the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BudgetAction {
    /// Bodies and headers of settled deliveries are let go, oldest first; rows stay.
    EvictSettled,
    /// Automatic ack: nothing may be dropped, so the consumer stops taking messages.
    Paused,
}

/// The deliveries of one consumer and their states.
pub struct Held {
    list: MessageList<ConsumedMessage>,
    ledger: Ledger,
    budget: u64,
    bytes: u64,
    /// No delivery before this index still has a body to let go.
    evict_from: u32,
    /// Whether the budget was reported reached (reported once per crossing).
    over: bool,
}

impl Held {
    pub fn new(budget: u64) -> Held {
        Held {
            list: MessageList::new(Vec::new()),
            ledger: Ledger::new(),
            budget,
            bytes: 0,
            evict_from: 0,
            over: false,
        }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn ledger_mut(&mut self) -> &mut Ledger {
        &mut self.ledger
    }

    pub fn held_bytes(&self) -> u64 {
        self.bytes
    }

    pub fn budget(&self) -> u64 {
        self.budget
    }

    pub fn total(&self) -> u32 {
        self.list.len()
    }

    /// Takes a delivery of the current channel in `state`; returns its `seq`.
    pub fn add(&mut self, mut m: ConsumedMessage, tag: u64, state: DeliveryState) -> u64 {
        let seq = self.ledger.record(tag, state);
        m.seq = seq;
        m.delivery_tag = tag;
        self.bytes += m.budget_bytes();
        self.list.push(m);
        seq
    }

    /// Commits a settle plan's states (its frames went out); returns the changes.
    pub fn commit(&mut self, plan: &SettlePlan) -> Vec<(u64, DeliveryState)> {
        self.ledger.commit(plan)
    }

    /// Keeps within the budget. Returns `Some(still_over)` when the budget is reached for the
    /// first time since the held deliveries were last within it without letting anything go
    /// (so a tap that lets bodies go all along reports it once): `still_over` when letting go
    /// of what may go was not enough. `None` otherwise.
    pub fn enforce_budget(&mut self, may_evict: bool) -> Option<bool> {
        if self.bytes <= self.budget {
            self.over = false;
            return None;
        }
        if may_evict {
            let mut i = self.evict_from;
            let mut advancing = true;
            while self.bytes > self.budget && i < self.list.len() {
                let seq = u64::from(i) + 1;
                let settled = self
                    .ledger
                    .state(seq)
                    .is_some_and(DeliveryState::is_settled);
                let m = self.list.get_mut(i).expect("index below len");
                if settled && !m.evicted {
                    self.bytes -= m.budget_bytes();
                    m.message.body = Vec::new();
                    m.message.properties.headers = None;
                    m.evicted = true;
                }
                if advancing && (m.evicted || settled) {
                    self.evict_from = i + 1;
                } else {
                    advancing = false;
                }
                i += 1;
            }
        }
        if self.over {
            return None;
        }
        self.over = true;
        Some(self.bytes > self.budget)
    }

    pub fn apply(&mut self, filter: &MessageFilter) -> Result<InspectionView> {
        self.list.apply(filter)
    }

    pub fn view_len(&self) -> u32 {
        self.list.view_len()
    }

    pub fn header_names(&self) -> Vec<String> {
        self.list.header_names()
    }

    pub fn rows(&self, start: u32, count: u32, headers: &[String]) -> Vec<ConsumedRow> {
        self.list
            .view_range(start, count)
            .map(|(index, m)| ConsumedRow {
                row: inspector::row(index, m, headers),
                seq: m.seq,
                delivery_tag: m.delivery_tag,
                state: self.state(m.seq),
                acquired_count: m.acquired_count,
                received_at_ms: m.received_at_ms,
                evicted: m.evicted,
            })
            .collect()
    }

    pub fn detail(&self, index: u32) -> Result<ConsumedDetail> {
        let detail = self.list.detail(index)?;
        let m = self.list.resolve(index).expect("detail found it");
        Ok(ConsumedDetail {
            detail,
            seq: m.seq,
            delivery_tag: m.delivery_tag,
            state: self.state(m.seq),
            acquired_count: m.acquired_count,
            received_at_ms: m.received_at_ms,
            evicted: m.evicted,
        })
    }

    pub fn body(&self, index: u32, offset: u64, length: u64) -> Result<inspector::BodyChunk> {
        self.list.body(index, offset, length)
    }

    fn state(&self, seq: u64) -> DeliveryState {
        self.ledger.state(seq).unwrap_or(DeliveryState::Stale)
    }

    /// The seqs of the selected rows of the current view.
    pub fn seqs(&self, selection: &Selection) -> Result<Vec<u64>> {
        Ok(self.list.select(selection)?.iter().map(|m| m.seq).collect())
    }

    /// The selected deliveries, for saving; a let-go body cannot be saved.
    pub fn select(&self, selection: &Selection) -> Result<Vec<&ConsumedMessage>> {
        let chosen = self.list.select(selection)?;
        if let Some(m) = chosen.iter().find(|m| m.evicted) {
            return Err(Error::invalid(
                "selection",
                format!(
                    "delivery {} was let go to stay within the memory budget; only its row is left",
                    m.seq
                ),
            ));
        }
        Ok(chosen)
    }

    /// Deliveries `first..=last` by seq (clones), for a caller that prints or forwards them.
    pub fn by_seq(&self, first: u64, last: u64) -> Vec<ConsumedMessage> {
        (first.max(1)..=last)
            .filter_map(|seq| self.list.get(u32::try_from(seq - 1).ok()?).cloned())
            .collect()
    }

    /// Plans a settle of `seqs`, or of everything up to `seq`.
    pub fn plan(&self, seqs: &[u64], up_to: bool, how: Settle) -> SettlePlan {
        match (up_to, seqs.first()) {
            (true, Some(&seq)) => self.ledger.plan_up_to(seq, how),
            _ => self.ledger.plan(seqs, how),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Properties;

    fn delivery(body: usize) -> ConsumedMessage {
        ConsumedMessage {
            seq: 0,
            message: Message {
                exchange: "x".into(),
                routing_key: "k".into(),
                properties: Properties::default(),
                body: vec![b'a'; body],
            },
            redelivered: false,
            delivery_tag: 0,
            delivery_count: None,
            acquired_count: None,
            offset: None,
            received_at_ms: 0,
            size: body as u64,
            evicted: false,
        }
    }

    #[test]
    fn over_budget_settled_bodies_go_first_and_rows_stay() {
        let mut h = Held::new(250);
        for tag in 1..=3 {
            h.add(delivery(100), tag, DeliveryState::Unacked);
        }
        // 300 bytes held, all unsettled: nothing may go.
        assert_eq!(h.enforce_budget(true), Some(true));
        assert_eq!(h.held_bytes(), 300);
        assert_eq!(h.enforce_budget(true), None, "reported once");
        let plan = h.plan(&[2], false, Settle::Ack);
        h.commit(&plan);
        h.enforce_budget(true);
        assert_eq!(h.held_bytes(), 200);
        let rows = h.rows(0, 10, &[]);
        assert_eq!(rows.len(), 3);
        assert!(rows[1].evicted && !rows[0].evicted && !rows[2].evicted);
        assert_eq!(rows[1].row.size, 100, "the row keeps the size as delivered");
        assert!(h.select(&Selection::Indices(vec![1])).is_err());
        assert_eq!(h.select(&Selection::Indices(vec![0, 2])).unwrap().len(), 2);
        // Held within the budget again: a later crossing is reported again.
        h.add(delivery(10), 4, DeliveryState::Unacked);
        assert_eq!(h.enforce_budget(true), None);
        h.add(delivery(100), 5, DeliveryState::Unacked);
        assert_eq!(h.enforce_budget(true), Some(true));
    }

    #[test]
    fn without_eviction_the_budget_is_only_reported() {
        let mut h = Held::new(50);
        h.add(delivery(100), 1, DeliveryState::AutoAcked);
        assert_eq!(h.enforce_budget(false), Some(true));
        assert_eq!(h.held_bytes(), 100);
    }

    #[test]
    fn rows_carry_seq_tag_and_state_and_filters_follow_new_deliveries() {
        let mut h = Held::new(1000);
        h.add(delivery(1), 7, DeliveryState::Unacked);
        h.apply(&MessageFilter {
            text: "zzz".into(),
            ..MessageFilter::default()
        })
        .unwrap();
        let mut other = delivery(1);
        other.message.routing_key = "zzz".into();
        h.add(other, 8, DeliveryState::Unacked);
        assert_eq!(h.view_len(), 1);
        let row = &h.rows(0, 10, &[])[0];
        assert_eq!((row.seq, row.delivery_tag), (2, 8));
        assert_eq!(row.state, DeliveryState::Unacked);
        assert_eq!(h.detail(0).unwrap().seq, 2);
        assert_eq!(h.by_seq(1, 2).len(), 2);
    }
}
