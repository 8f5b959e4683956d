//! Which frames settle which deliveries: pure bookkeeping, so the rules that keep a consumer
//! from losing or double-settling a message are tested without a broker.
//!
//! A delivery tag means something only on the channel that delivered it, and only once. So
//! every delivery is recorded with the generation of the channel it came on (a new channel, a
//! new generation) and its state; a settle request is turned into frames only for deliveries
//! that are unsettled and of the current generation. Everything else is skipped with the
//! reason. `multiple` is used only when one frame means exactly the deliveries asked for: all
//! of this channel's unsettled deliveries up to one tag (a reject has no `multiple`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How to settle deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum Settle {
    Ack,
    /// `basic.nack`; without requeue the queue's dead-letter exchange gets the message, if it
    /// has one, else it is dropped.
    Nack {
        requeue: bool,
    },
    /// `basic.reject`: like a nack of one message.
    Reject {
        requeue: bool,
    },
}

impl Settle {
    /// The state a delivery settled this way ends in.
    pub fn state(self) -> DeliveryState {
        match self {
            Settle::Ack => DeliveryState::Acked,
            Settle::Nack { requeue: false } => DeliveryState::Nacked,
            Settle::Nack { requeue: true } => DeliveryState::NackedRequeued,
            Settle::Reject { requeue: false } => DeliveryState::Rejected,
            Settle::Reject { requeue: true } => DeliveryState::RejectedRequeued,
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DeliveryState {
    /// Delivered and not settled yet: the broker holds it for this consumer.
    Unacked,
    Acked,
    /// Nacked without requeue: dead-lettered or dropped.
    Nacked,
    NackedRequeued,
    /// Rejected without requeue: dead-lettered or dropped.
    Rejected,
    RejectedRequeued,
    /// Given back when the consumer stopped.
    Returned,
    /// Its channel is gone: the broker requeued it, and its tag can settle nothing any more.
    Stale,
    /// Delivered without acknowledgement (automatic ack, or a tap's copy).
    AutoAcked,
}

impl DeliveryState {
    pub fn is_settled(self) -> bool {
        self != DeliveryState::Unacked
    }
}

/// Why a requested delivery was not settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SkipReason {
    /// It came on a channel that is gone; the broker has requeued it.
    Stale,
    AlreadySettled,
    /// No delivery has that number.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Skipped {
    #[ts(type = "number")]
    pub seq: u64,
    pub reason: SkipReason,
}

/// One settle frame on the current channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub tag: u64,
    pub multiple: bool,
}

/// What a settle request becomes: the frames to send, the deliveries they settle, and the
/// requested ones skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlePlan {
    pub how: Settle,
    pub frames: Vec<Frame>,
    pub settled: Vec<u64>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    generation: u32,
    tag: u64,
    state: DeliveryState,
}

/// Every delivery of one consumer, by its `seq` (1, 2, 3... across all its channels).
#[derive(Debug, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
    generation: u32,
    /// No delivery below this index is unsettled (a hint that keeps scans short).
    low: usize,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// The generation of the current channel.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The deliveries recorded so far (the last `seq`).
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records a delivery of the current channel; returns its `seq`.
    pub fn record(&mut self, tag: u64, state: DeliveryState) -> u64 {
        self.entries.push(Entry {
            generation: self.generation,
            tag,
            state,
        });
        self.entries.len() as u64
    }

    fn entry(&self, seq: u64) -> Option<&Entry> {
        self.entries.get(usize::try_from(seq.checked_sub(1)?).ok()?)
    }

    pub fn state(&self, seq: u64) -> Option<DeliveryState> {
        self.entry(seq).map(|e| e.state)
    }

    pub fn tag(&self, seq: u64) -> Option<u64> {
        self.entry(seq).map(|e| e.tag)
    }

    pub fn generation_of(&self, seq: u64) -> Option<u32> {
        self.entry(seq).map(|e| e.generation)
    }

    /// Whether `seq` can be settled now, or why not.
    fn check(&self, seq: u64) -> std::result::Result<u64, SkipReason> {
        let e = self.entry(seq).ok_or(SkipReason::Unknown)?;
        match e.state {
            DeliveryState::Unacked if e.generation == self.generation => Ok(e.tag),
            DeliveryState::Unacked | DeliveryState::Stale => Err(SkipReason::Stale),
            _ => Err(SkipReason::AlreadySettled),
        }
    }

    /// The unsettled deliveries of the current channel, in order, as (seq, tag).
    fn unsettled(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.entries[self.low..]
            .iter()
            .enumerate()
            .filter(|(_, e)| e.state == DeliveryState::Unacked && e.generation == self.generation)
            .map(|(i, e)| ((self.low + i + 1) as u64, e.tag))
    }

    pub fn unsettled_count(&self) -> u32 {
        self.unsettled().count() as u32
    }

    /// Settles the deliveries `seqs` (in any order, repeats ignored).
    pub fn plan(&self, seqs: &[u64], how: Settle) -> SettlePlan {
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut settled = Vec::new();
        let mut tags = Vec::new();
        let mut skipped = Vec::new();
        for seq in sorted {
            match self.check(seq) {
                Ok(tag) => {
                    settled.push(seq);
                    tags.push(tag);
                }
                Err(reason) => skipped.push(Skipped { seq, reason }),
            }
        }
        let frames = match tags.last() {
            // One frame when the request is exactly every unsettled delivery up to its last.
            Some(&last) if tags.len() > 1 && self.multiple_allowed(how) => {
                let below = self.unsettled().filter(|&(_, t)| t <= last).count();
                if below == tags.len() {
                    vec![Frame {
                        tag: last,
                        multiple: true,
                    }]
                } else {
                    single_frames(&tags)
                }
            }
            _ => single_frames(&tags),
        };
        SettlePlan {
            how,
            frames,
            settled,
            skipped,
        }
    }

    /// Settles every unsettled delivery of the current channel up to and including `seq`.
    pub fn plan_up_to(&self, seq: u64, how: Settle) -> SettlePlan {
        let mut skipped = Vec::new();
        if let Err(reason @ (SkipReason::Stale | SkipReason::Unknown)) = self.check(seq) {
            skipped.push(Skipped { seq, reason });
        }
        let (settled, tags): (Vec<u64>, Vec<u64>) =
            self.unsettled().take_while(|&(s, _)| s <= seq).unzip();
        let frames = match tags.last() {
            Some(&last) if tags.len() > 1 && self.multiple_allowed(how) => vec![Frame {
                tag: last,
                multiple: true,
            }],
            _ => single_frames(&tags),
        };
        SettlePlan {
            how,
            frames,
            settled,
            skipped,
        }
    }

    fn multiple_allowed(&self, how: Settle) -> bool {
        !matches!(how, Settle::Reject { .. })
    }

    /// Marks what a plan settled, once its frames went out. Returns the changes.
    pub fn commit(&mut self, plan: &SettlePlan) -> Vec<(u64, DeliveryState)> {
        let state = plan.how.state();
        self.set_all(&plan.settled, state)
    }

    fn set_all(&mut self, seqs: &[u64], state: DeliveryState) -> Vec<(u64, DeliveryState)> {
        for &seq in seqs {
            if let Some(e) = self.entries.get_mut((seq - 1) as usize) {
                e.state = state;
            }
        }
        while self
            .entries
            .get(self.low)
            .is_some_and(|e| e.state.is_settled())
        {
            self.low += 1;
        }
        seqs.iter().map(|&s| (s, state)).collect()
    }

    /// The channel is gone: its unsettled deliveries become stale, and later deliveries belong
    /// to the next channel. Returns the stale ones.
    pub fn lose_channel(&mut self) -> Vec<u64> {
        let stale: Vec<u64> = self.unsettled().map(|(s, _)| s).collect();
        self.set_all(&stale, DeliveryState::Stale);
        self.generation += 1;
        stale
    }

    /// Everything unsettled on the current channel is being given back (the consumer stops):
    /// returns their seqs and the highest tag among them, and marks them returned.
    pub fn return_all(&mut self) -> (Vec<u64>, Option<u64>) {
        let (seqs, tags): (Vec<u64>, Vec<u64>) = self.unsettled().unzip();
        self.set_all(&seqs, DeliveryState::Returned);
        (seqs, tags.into_iter().max())
    }

    /// How many deliveries are in `state`.
    pub fn count(&self, state: DeliveryState) -> u32 {
        self.entries.iter().filter(|e| e.state == state).count() as u32
    }
}

fn single_frames(tags: &[u64]) -> Vec<Frame> {
    tags.iter()
        .map(|&tag| Frame {
            tag,
            multiple: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK: Settle = Settle::Ack;

    fn ledger(n: u64) -> Ledger {
        let mut l = Ledger::new();
        for tag in 1..=n {
            l.record(tag, DeliveryState::Unacked);
        }
        l
    }

    fn single(tags: &[u64]) -> Vec<Frame> {
        single_frames(tags)
    }

    #[test]
    fn everything_up_to_one_is_one_multiple_frame() {
        let mut l = ledger(5);
        let p = l.plan_up_to(3, ACK);
        assert_eq!(
            p.frames,
            vec![Frame {
                tag: 3,
                multiple: true
            }]
        );
        assert_eq!(p.settled, vec![1, 2, 3]);
        l.commit(&p);
        assert_eq!(l.state(3), Some(DeliveryState::Acked));
        assert_eq!(l.state(4), Some(DeliveryState::Unacked));
        // Up to 5 now means 4 and 5 only; 1-3 are already settled at the broker, so the
        // multiple frame covers exactly 4 and 5.
        let p = l.plan_up_to(5, Settle::Nack { requeue: true });
        assert_eq!(p.settled, vec![4, 5]);
        assert_eq!(
            p.frames,
            vec![Frame {
                tag: 5,
                multiple: true
            }]
        );
        l.commit(&p);
        assert_eq!(l.state(5), Some(DeliveryState::NackedRequeued));
        // Nothing is ever settled twice.
        let again = l.plan_up_to(5, ACK);
        assert!(again.frames.is_empty() && again.settled.is_empty());
    }

    #[test]
    fn a_selection_with_gaps_is_settled_one_by_one() {
        let l = ledger(5);
        let p = l.plan(&[4, 2, 2], ACK);
        assert_eq!(p.settled, vec![2, 4]);
        assert_eq!(p.frames, single(&[2, 4]));
        // A selection that is exactly everything up to its last is one frame.
        let p = l.plan(&[3, 1, 2], ACK);
        assert_eq!(
            p.frames,
            vec![Frame {
                tag: 3,
                multiple: true
            }]
        );
    }

    #[test]
    fn rejects_never_use_multiple() {
        let l = ledger(3);
        let p = l.plan_up_to(3, Settle::Reject { requeue: false });
        assert_eq!(p.frames, single(&[1, 2, 3]));
        let p = l.plan(&[1, 2, 3], Settle::Reject { requeue: true });
        assert_eq!(p.frames, single(&[1, 2, 3]));
    }

    #[test]
    fn one_delivery_is_one_plain_frame() {
        let l = ledger(3);
        assert_eq!(l.plan_up_to(1, ACK).frames, single(&[1]));
        assert_eq!(l.plan(&[2], ACK).frames, single(&[2]));
    }

    #[test]
    fn tags_of_a_lost_channel_are_never_sent() {
        let mut l = ledger(3);
        let p = l.plan(&[1], ACK);
        l.commit(&p);
        assert_eq!(l.lose_channel(), vec![2, 3]);
        assert_eq!(l.state(2), Some(DeliveryState::Stale));
        // The new channel's tags start at 1 again.
        let s4 = l.record(1, DeliveryState::Unacked);
        let s5 = l.record(2, DeliveryState::Unacked);
        assert_eq!((s4, s5), (4, 5));
        let p = l.plan(&[1, 2, 3, 4, 9], ACK);
        assert_eq!(p.settled, vec![4]);
        assert_eq!(p.frames, single(&[1]));
        assert_eq!(
            p.skipped,
            vec![
                Skipped {
                    seq: 1,
                    reason: SkipReason::AlreadySettled
                },
                Skipped {
                    seq: 2,
                    reason: SkipReason::Stale
                },
                Skipped {
                    seq: 3,
                    reason: SkipReason::Stale
                },
                Skipped {
                    seq: 9,
                    reason: SkipReason::Unknown
                },
            ]
        );
        // Up to 5 covers the new channel's 4 and 5 only, with the new channel's tag.
        let p = l.plan_up_to(5, ACK);
        assert_eq!(p.settled, vec![4, 5]);
        assert_eq!(
            p.frames,
            vec![Frame {
                tag: 2,
                multiple: true
            }]
        );
        // Up to a stale one settles nothing of the new channel below it (there is none).
        let p = l.plan_up_to(3, ACK);
        assert!(p.settled.is_empty() && p.frames.is_empty());
        assert_eq!(p.skipped[0].reason, SkipReason::Stale);
    }

    #[test]
    fn multiple_is_not_used_when_an_unsettled_one_below_was_not_asked_for() {
        let l = ledger(4);
        // 1 is unsettled and not asked for: a multiple frame at 3 would settle it too.
        let p = l.plan(&[2, 3], ACK);
        assert_eq!(p.frames, single(&[2, 3]));
    }

    #[test]
    fn returning_marks_the_unsettled_and_names_the_highest_tag() {
        let mut l = ledger(4);
        let p = l.plan(&[2], ACK);
        l.commit(&p);
        let (seqs, tag) = l.return_all();
        assert_eq!(seqs, vec![1, 3, 4]);
        assert_eq!(tag, Some(4));
        assert_eq!(l.count(DeliveryState::Returned), 3);
        assert_eq!(l.unsettled_count(), 0);
        assert_eq!(l.return_all(), (vec![], None));
    }

    #[test]
    fn auto_acked_deliveries_are_never_settled() {
        let mut l = Ledger::new();
        l.record(1, DeliveryState::AutoAcked);
        let p = l.plan_up_to(1, ACK);
        assert!(p.frames.is_empty());
        assert_eq!(
            l.plan(&[1], ACK).skipped[0].reason,
            SkipReason::AlreadySettled
        );
    }
}
