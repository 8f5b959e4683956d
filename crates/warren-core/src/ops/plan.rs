//! The plan of a message operation, before it touches the queue: what it reads, what it
//! changes, where the messages go, and whether it needs consent. Pure: built from the peek's
//! plan (which knows what returning a held message does to this queue on this broker) and the
//! request, so the rules are peek's and are unit-tested here without a broker.

use serde::Serialize;
use ts_rs::TS;

use super::{Action, OpsRequest, OpsSelection};
use crate::broker::QueueType;
use crate::error::{Error, Result};
use crate::peek::{PeekEffect, PeekPlan, MAX_PEEK};

/// What an operation does, without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ActionKind {
    Delete,
    Move,
    Copy,
    SendBack,
}

impl ActionKind {
    fn verb(self) -> &'static str {
        match self {
            ActionKind::Delete => "Delete",
            ActionKind::Move => "Move",
            ActionKind::Copy => "Copy",
            ActionKind::SendBack => "Send back",
        }
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Delete => ActionKind::Delete,
            Action::Move { .. } => ActionKind::Move,
            Action::Copy { .. } => ActionKind::Copy,
            Action::SendBack { .. } => ActionKind::SendBack,
        }
    }

    /// Where the messages go, in words; `None` for a delete.
    pub fn destination(&self) -> Option<String> {
        match self {
            Action::Delete => None,
            Action::Move { target } | Action::Copy { target } => Some(target.describe()),
            Action::SendBack { strip_death: false } => {
                Some("the exchange and routing key each message's x-death names".into())
            }
            Action::SendBack { strip_death: true } => Some(
                "the exchange and routing key each message's x-death names, without their x-death history".into(),
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct OpsPlan {
    pub action: ActionKind,
    pub vhost: String,
    pub queue: String,
    /// Where the messages go, in words (absent for a delete).
    pub destination: Option<String>,
    /// How many messages it acts on: the selected ones, the count asked for, or (all) the
    /// ready ones when planned.
    pub count: u32,
    /// How many messages it reads from the head of the queue (and holds until it is done).
    pub reads: u32,
    /// How many of those go back to the queue when all goes well (the ones not selected;
    /// every one for a copy).
    pub returns: u32,
    /// What returning a held message changes on this queue (peek's rules). Also true of the
    /// messages the target refuses, which go back too.
    pub effects: Vec<PeekEffect>,
    /// No effect needs consent.
    pub harmless: bool,
    /// One sentence naming how many and where, for a confirmation.
    pub summary: String,
    /// The plan of reading the queue, as a peek makes it.
    pub peek: PeekPlan,
}

impl OpsPlan {
    pub fn consent_summary(&self) -> String {
        self.peek.consent_summary()
    }
}

/// Holds at most this many messages at a time when it takes the head of a queue (all, or the
/// first N): enough to keep the broker busy, small enough to hold in memory.
pub const CHUNK: u32 = 5_000;

/// Plans `request` on a queue whose peek plan is `peek` (made for [`reads`]). Pure.
pub fn plan(request: &OpsRequest, mut peek: PeekPlan) -> Result<OpsPlan> {
    let kind = request.action.kind();
    let ready = peek
        .messages_ready
        .map_or(0, |r| u32::try_from(r).unwrap_or(u32::MAX));
    let (count, reads) = match &request.selection {
        OpsSelection::Messages { messages } => {
            let last = messages.iter().map(|m| m.position).max().unwrap_or(0);
            // A quorum queue serves the messages it holds as returned (an earlier peek's, say)
            // first, in the order they came back: what is given back after them goes behind
            // them. Reading up to the ready count and giving everything back at once keeps
            // the order.
            let reads = if peek.queue_type == QueueType::Quorum {
                last.max(ready.min(MAX_PEEK))
            } else {
                last
            };
            (messages.len() as u32, reads)
        }
        OpsSelection::First { count } => (*count, *count),
        OpsSelection::All => (ready, ready),
    };
    let returns = match (&request.selection, kind) {
        (_, ActionKind::Copy) => reads,
        (OpsSelection::Messages { .. }, _) => reads - count,
        _ => 0,
    };
    if matches!(request.selection, OpsSelection::Messages { .. }) {
        peek.count = reads;
    }
    let destination = request.action.destination();
    let noun = if count == 1 { "message" } else { "messages" };
    let mut summary = format!(
        "{} {count} {noun} {} queue \"{}\"",
        kind.verb(),
        if kind == ActionKind::Copy {
            "of"
        } else {
            "from"
        },
        request.queue
    );
    if let Some(d) = &destination {
        summary.push_str(&format!(" to {d}"));
    }
    if kind == ActionKind::Copy {
        summary.push_str("; the queue keeps them");
    } else if returns > 0 {
        summary.push_str(&format!(
            "; {returns} other message(s) read on the way go back"
        ));
    }
    Ok(OpsPlan {
        action: kind,
        vhost: request.vhost.clone(),
        queue: request.queue.clone(),
        destination,
        count,
        reads,
        returns,
        effects: peek.effects.clone(),
        harmless: peek.harmless,
        summary,
        peek,
    })
}

/// How many messages the peek behind `request` reads at once, checked against what an
/// operation may hold. `ready`: the queue's ready count.
pub fn reads(request: &OpsRequest, ready: Option<u64>) -> Result<u32> {
    let kind = request.action.kind();
    let holds_all = |n: u32| -> Result<u32> {
        if n > MAX_PEEK {
            return Err(Error::invalid(
                "selection",
                format!(
                    "this operation holds every message it reads, at most {MAX_PEEK}; select fewer"
                ),
            ));
        }
        Ok(n)
    };
    match &request.selection {
        OpsSelection::Messages { messages } => {
            let last = super::select::normalise(messages)?
                .last()
                .map_or(0, |m| m.position);
            holds_all(last)
        }
        OpsSelection::First { count: 0 } => Err(Error::invalid("count", "must be at least 1")),
        OpsSelection::First { count } if kind == ActionKind::Copy => holds_all(*count),
        OpsSelection::First { count } => Ok((*count).min(CHUNK)),
        OpsSelection::All if kind == ActionKind::Delete => Err(Error::invalid(
            "selection",
            "delete takes selected messages or the first N; to empty a queue, purge it",
        )),
        OpsSelection::All => {
            let ready = u32::try_from(ready.unwrap_or(0)).unwrap_or(u32::MAX);
            if kind == ActionKind::Copy {
                holds_all(ready.max(1))
            } else {
                Ok(ready.clamp(1, CHUNK))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::DeliveryOrder;
    use crate::ops::{SelectedMessage, Target};
    use crate::peek::{EffectKind, PeekMethod};

    fn peek(harmless: bool) -> PeekPlan {
        PeekPlan {
            vhost: "/".into(),
            queue: "q".into(),
            queue_type: QueueType::Quorum,
            broker_version: Some("3.10.8".into()),
            method: PeekMethod::CloseChannel,
            order: DeliveryOrder::Publication,
            effects: vec![PeekEffect {
                kind: EffectKind::DeliveryCount,
                description: "each peeked message's delivery count grows by 1".into(),
                needs_consent: !harmless,
            }],
            harmless,
            delivery_limit: None,
            over_limit: None,
            messages_ready: Some(12),
            consumers: Some(0),
            count: 5,
        }
    }

    fn request(action: Action, selection: OpsSelection) -> OpsRequest {
        OpsRequest {
            vhost: "/".into(),
            queue: "q".into(),
            action,
            selection,
            allow_side_effects: false,
        }
    }

    fn selected(positions: &[u32]) -> OpsSelection {
        OpsSelection::Messages {
            messages: positions
                .iter()
                .map(|&position| SelectedMessage {
                    position,
                    fingerprint: format!("{position:016x}"),
                })
                .collect(),
        }
    }

    #[test]
    fn a_delete_of_selected_messages_names_how_many_where_and_what_returning_the_others_does() {
        let r = request(Action::Delete, selected(&[2, 5]));
        assert_eq!(reads(&r, Some(12)).unwrap(), 5);
        let mut classic = peek(true);
        classic.queue_type = QueueType::Classic;
        classic.method = PeekMethod::NackRequeue;
        let p = plan(&r, classic).unwrap();
        assert_eq!((p.count, p.reads, p.returns, p.peek.count), (2, 5, 3, 5));
        assert_eq!(
            p.summary,
            "Delete 2 messages from queue \"q\"; 3 other message(s) read on the way go back"
        );
        // A quorum queue: the whole queue is read and given back at once.
        let p = plan(&r, peek(false)).unwrap();
        assert_eq!((p.count, p.reads, p.returns, p.peek.count), (2, 12, 10, 12));
        assert!(!p.harmless);
        assert!(p.consent_summary().contains("delivery count"));
    }

    #[test]
    fn moves_name_their_target_and_copies_return_everything() {
        let to = Target::Queue { name: "b".into() };
        let m = plan(
            &request(Action::Move { target: to.clone() }, OpsSelection::All),
            peek(true),
        )
        .unwrap();
        assert_eq!((m.count, m.returns), (12, 0));
        assert_eq!(
            m.summary,
            "Move 12 messages from queue \"q\" to queue \"b\""
        );
        let c = plan(
            &request(
                Action::Copy { target: to },
                OpsSelection::First { count: 1 },
            ),
            peek(true),
        )
        .unwrap();
        assert_eq!(c.returns, 1);
        assert!(c
            .summary
            .starts_with("Copy 1 message of queue \"q\" to queue \"b\""));
        let back = plan(
            &request(Action::SendBack { strip_death: true }, selected(&[1])),
            peek(true),
        )
        .unwrap();
        assert!(back.summary.contains("without their x-death history"));
    }

    #[test]
    fn what_an_operation_reads_is_bounded() {
        let del_all = request(Action::Delete, OpsSelection::All);
        assert!(reads(&del_all, Some(3))
            .unwrap_err()
            .to_string()
            .contains("purge"));
        let mv = |selection| {
            request(
                Action::Move {
                    target: Target::Queue { name: "b".into() },
                },
                selection,
            )
        };
        assert_eq!(
            reads(&mv(OpsSelection::All), Some(1_000_000)).unwrap(),
            CHUNK
        );
        assert_eq!(
            reads(&mv(OpsSelection::First { count: 7 }), None).unwrap(),
            7
        );
        assert!(reads(&mv(OpsSelection::First { count: 0 }), None).is_err());
        assert!(reads(&mv(selected(&[MAX_PEEK + 1])), None).is_err());
        let copy_all = request(
            Action::Copy {
                target: Target::Queue { name: "b".into() },
            },
            OpsSelection::All,
        );
        assert!(reads(&copy_all, Some(u64::from(MAX_PEEK) + 1)).is_err());
        assert_eq!(reads(&copy_all, Some(10)).unwrap(), 10);
    }
}
