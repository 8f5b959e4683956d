//! Consume: take messages from a queue and settle each as the user says (ack, nack, reject,
//! with or without requeue), or tap an exchange to watch its traffic without taking anything.
//!
//! A consumer is a task that owns its channel ([`start`], [`tap::start`]). Commands reach it
//! over a channel of its [`ConsumerHandle`] (settle, resume, stop); what happens leaves it as
//! [`ConsumerEvent`]s in batches (about every 50 ms, sooner when many deliveries wait), so a
//! UI draws at its own pace and a CLI settles a batch at a time. The deliveries it holds are
//! read through the handle with the inspector's machinery (rows by index, one in full, filter,
//! save), within a byte budget (`held`).
//!
//! Faults are normal here. A delivery tag dies with its channel: when the channel or its
//! connection goes, every unsettled delivery is marked stale (the broker has requeued it) and
//! nothing is ever settled with an old tag (`settle`). The consumer resumes on a healthy node
//! when asked, or by itself with `auto_resume`. A `basic.cancel` from the broker (queue
//! deleted, its node down) becomes [`ConsumerEvent::CancelledByBroker`], and resume works
//! after it too. Stopping cancels the consumer and gives back what it holds unsettled, the way
//! the queue type and version keep order and delivery counts best (`broker::quorum_return`).

use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::{Error, ErrorReport, Result};
use crate::inspector::{InspectionView, MessageFilter, Selection};
use crate::management::ManagementClient;
use crate::peek::StreamOffset;
use crate::session::ClusterSession;

mod held;
mod run;
pub mod settle;
pub mod tap;
pub mod timeout;

pub use held::{
    BudgetAction, ConsumedDetail, ConsumedMessage, ConsumedRow, Held, DEFAULT_BUDGET_BYTES,
};
pub use settle::{DeliveryState, Settle, SkipReason, Skipped};
pub use tap::TapRequest;
pub use timeout::{ConsumerTimeout, TimeoutSource};

/// The prefetch when a request names none: small, so a consumer that is only looked at holds
/// few messages away from others.
pub const DEFAULT_PREFETCH: u16 = 20;

fn default_prefetch() -> u16 {
    DEFAULT_PREFETCH
}

/// How deliveries are acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AckMode {
    /// Each delivery waits for the user's ack, nack or reject.
    #[default]
    Manual,
    /// The broker forgets a message as soon as it is delivered: it exists only in Warren from
    /// then on. Only as an explicit choice.
    Auto,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConsumeRequest {
    pub vhost: String,
    pub queue: String,
    /// How many unacknowledged deliveries the broker sends ahead (manual ack).
    #[serde(default = "default_prefetch")]
    pub prefetch: u16,
    /// Ask to be the queue's only consumer.
    #[serde(default)]
    pub exclusive: bool,
    /// Consumer priority (`x-priority`).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub priority: Option<i32>,
    /// Streams: where to start (`next` when absent, as the broker does).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub offset: Option<StreamOffset>,
    #[serde(default)]
    pub ack_mode: AckMode,
    /// Bytes of bodies and headers held for the tab ([`DEFAULT_BUDGET_BYTES`] when absent).
    #[serde(default)]
    #[ts(optional = nullable, type = "number | null")]
    pub budget_bytes: Option<u64>,
    /// After a lost channel or connection, resume on a healthy node without being asked.
    #[serde(default)]
    pub auto_resume: bool,
}

/// Where the consumer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConsumerPhase {
    Running,
    /// Automatic ack and the budget reached: not consuming until resumed.
    Paused,
    /// The broker cancelled the consumer; its channel may still settle what it holds.
    CancelledByBroker,
    /// The channel or connection is gone; resume to go on.
    Lost,
    Stopped,
}

/// A change of one delivery's state.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StateChange {
    #[ts(type = "number")]
    pub seq: u64,
    pub state: DeliveryState,
}

/// What a consumer tells its owner. Sent in batches (`Vec<ConsumerEvent>`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "snake_case", tag = "event")]
#[ts(export)]
pub enum ConsumerEvent {
    /// Consuming on `endpoint` (the first time, and after every resume).
    Started {
        endpoint: String,
        /// The queue consumed (a tap's temporary queue).
        queue: String,
        consumer_tag: String,
        /// Counts channels: deliveries of an earlier generation are stale.
        generation: u32,
        timeout: ConsumerTimeout,
        ack_mode: AckMode,
    },
    /// New deliveries `first_seq..=last_seq` are held (read them through the handle).
    Deliveries {
        #[ts(type = "number")]
        first_seq: u64,
        #[ts(type = "number")]
        last_seq: u64,
        /// Held deliveries in all, and in the current filtered view.
        total: u32,
        matched: u32,
        #[ts(type = "number")]
        held_bytes: u64,
    },
    /// Deliveries changed state (settled, returned, stale).
    States { changes: Vec<StateChange> },
    /// The broker cancelled the consumer (the queue was deleted, or its node went down).
    CancelledByBroker { reason: String },
    /// The channel or the connection went; `stale` deliveries were requeued by the broker.
    ChannelLost { stale: u32, reason: String },
    /// A resume (asked for or automatic) failed; another may follow.
    ResumeFailed { error: ErrorReport },
    /// The held deliveries reached the budget.
    BudgetReached {
        #[ts(type = "number")]
        held_bytes: u64,
        #[ts(type = "number")]
        budget_bytes: u64,
        action: BudgetAction,
    },
    /// The consumer ended; nothing follows.
    Stopped { report: StopReport },
}

/// How the unsettled deliveries went back when the consumer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ReturnMethod {
    /// One `basic.nack(multiple, requeue)`: they keep their place (classic queues; quorum
    /// queues from 4.3).
    NackRequeue,
    /// Closing the channel: quorum queues before 4.3 keep the order that way, but each
    /// returned message's delivery count grows by one.
    ChannelClose,
    /// Nothing was unsettled.
    Nothing,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StopReport {
    #[ts(type = "number")]
    pub received: u64,
    pub acked: u32,
    /// Nacked or rejected, with or without requeue.
    pub nacked: u32,
    pub rejected: u32,
    /// Given back by the stop.
    pub returned: u32,
    pub returned_by: ReturnMethod,
    /// What giving back changed, when it changed something (delivery counts).
    pub return_effect: Option<String>,
    /// Deliveries whose channel was lost (requeued by the broker then).
    pub stale: u32,
    /// A tap's temporary queue was deleted.
    pub tap_queue_removed: Option<bool>,
    /// Why it stopped, when not asked to: the error that ended it.
    pub error: Option<ErrorReport>,
}

/// The answer to a settle request.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SettleReport {
    #[ts(type = "number[]")]
    pub settled: Vec<u64>,
    pub skipped: Vec<Skipped>,
    /// Frames sent to the broker (one for "everything up to this one").
    pub frames: u32,
}

/// A consumer's state for its tab.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ConsumerSummary {
    pub phase: ConsumerPhase,
    pub total: u32,
    pub unacked: u32,
    #[ts(type = "number")]
    pub held_bytes: u64,
    #[ts(type = "number")]
    pub budget_bytes: u64,
    pub header_names: Vec<String>,
}

pub(crate) enum Command {
    Settle {
        seqs: Vec<u64>,
        up_to: bool,
        how: Settle,
        reply: oneshot::Sender<Result<SettleReport>>,
    },
    Resume {
        reply: oneshot::Sender<Result<()>>,
    },
    Stop {
        reply: oneshot::Sender<StopReport>,
    },
}

/// The state both the task and the handle read: held deliveries and the phase.
pub(crate) struct Shared {
    pub held: Held,
    pub phase: ConsumerPhase,
}

/// The owner's side of a running consumer. Cloning it gives another door to the same task.
#[derive(Clone)]
pub struct ConsumerHandle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Mutex<Shared>>,
}

/// The receiving end of a consumer's events.
pub type EventReceiver = mpsc::Receiver<Vec<ConsumerEvent>>;

fn gone() -> Error {
    Error::invalid("consumer", "the consumer has stopped")
}

impl ConsumerHandle {
    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().expect("consumer state poisoned")
    }

    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }

    /// Settles the deliveries `seqs` (stale and settled ones are skipped, with the reason).
    pub async fn settle(&self, seqs: Vec<u64>, how: Settle) -> Result<SettleReport> {
        self.ask(|reply| Command::Settle {
            seqs,
            up_to: false,
            how,
            reply,
        })
        .await?
    }

    /// Settles every unsettled delivery of the current channel up to and including `seq`.
    pub async fn settle_up_to(&self, seq: u64, how: Settle) -> Result<SettleReport> {
        self.ask(|reply| Command::Settle {
            seqs: vec![seq],
            up_to: true,
            how,
            reply,
        })
        .await?
    }

    /// Consumes again after a lost channel, a broker's cancel or a pause: on a healthy node,
    /// on a new channel when the old one is gone.
    pub async fn resume(&self) -> Result<()> {
        self.ask(|reply| Command::Resume { reply }).await?
    }

    /// Cancels the consumer, gives back what it holds unsettled and ends the task.
    pub async fn stop(&self) -> Result<StopReport> {
        self.ask(|reply| Command::Stop { reply }).await
    }

    pub fn summary(&self) -> ConsumerSummary {
        let s = self.shared();
        ConsumerSummary {
            phase: s.phase,
            total: s.held.total(),
            unacked: s.held.ledger().unsettled_count(),
            held_bytes: s.held.held_bytes(),
            budget_bytes: s.held.budget(),
            header_names: s.held.header_names(),
        }
    }

    /// Sets the filter of the view (new deliveries join it when they match).
    pub fn apply(&self, filter: &MessageFilter) -> Result<InspectionView> {
        self.shared().held.apply(filter)
    }

    /// Rows `start..start+count` of the current view.
    pub fn rows(&self, start: u32, count: u32, headers: &[String]) -> Vec<ConsumedRow> {
        self.shared().held.rows(start, count, headers)
    }

    /// The delivery at `index` of the current view, in full.
    pub fn detail(&self, index: u32) -> Result<ConsumedDetail> {
        self.shared().held.detail(index)
    }

    /// The seqs of the selected rows, to settle them.
    pub fn seqs(&self, selection: &Selection) -> Result<Vec<u64>> {
        self.shared().held.seqs(selection)
    }

    /// Deliveries `first..=last` by seq, as held.
    pub fn messages(&self, first: u64, last: u64) -> Vec<ConsumedMessage> {
        self.shared().held.by_seq(first, last)
    }

    /// The selected deliveries, copied out (to save them into a collection, say); refused when
    /// one of them was let go to stay within the memory budget.
    pub fn selected(&self, selection: &Selection) -> Result<Vec<ConsumedMessage>> {
        let s = self.shared();
        Ok(s.held.select(selection)?.into_iter().cloned().collect())
    }

    /// Bytes `offset..offset + length` of the body of the delivery at `index` of the view.
    pub fn body(
        &self,
        index: u32,
        offset: u64,
        length: u64,
    ) -> Result<crate::inspector::BodyChunk> {
        self.shared().held.body(index, offset, length)
    }

    /// Saves the selected deliveries as JSON Lines in the message format (plus `redelivered`,
    /// `delivery_tag` and the counts), atomically; an existing file is replaced only when
    /// `overwrite`. They are copied out first, so the consumer is not held up by the write.
    pub fn save(
        &self,
        path: &std::path::Path,
        selection: &Selection,
        overwrite: bool,
    ) -> Result<u64> {
        let chosen = self.selected(selection)?;
        crate::inspector::save_messages(path, &chosen, overwrite)
    }
}

/// Starts consuming `request.queue`. Returns once the consumer is registered with the broker
/// (or with the error that prevented it: no such queue, refused, no node), with the handle
/// and the events. Cancelling `cancel` stops the consumer as [`ConsumerHandle::stop`] does.
pub async fn start<C>(
    cluster: Arc<C>,
    request: ConsumeRequest,
    cancel: CancellationToken,
) -> Result<(ConsumerHandle, EventReceiver)>
where
    C: AsRef<ClusterSession> + AsRef<ManagementClient> + Send + Sync + 'static,
{
    check_request(&request)?;
    run::start(cluster, run::Source::Queue(request), cancel).await
}

fn check_request(r: &ConsumeRequest) -> Result<()> {
    if r.queue.is_empty() {
        return Err(Error::invalid("queue", "a queue name is needed"));
    }
    if r.queue.len() > 255 {
        return Err(Error::invalid("queue", "is longer than 255 bytes"));
    }
    if r.prefetch == 0 && r.ack_mode == AckMode::Manual {
        return Err(Error::invalid(
            "prefetch",
            "must be 1 to 65535 (0 would let the broker send the whole queue)",
        ));
    }
    if r.budget_bytes == Some(0) {
        return Err(Error::invalid("budget_bytes", "must be more than 0"));
    }
    Ok(())
}
