//! Message operations on a queue: delete selected messages, move or copy messages to another
//! queue or exchange (on this cluster or another), send dead letters back to where they came
//! from.
//!
//! Every operation reads the head of the queue the way a peek does (consume without ack, a
//! prefetch window of exactly what it reads: `peek::hold`) and settles each message only
//! when what depends on it is done:
//!
//! - Selected messages (from a peek) are matched by position and content (`select`): the
//!   operation reads up to the last selected position (a quorum queue: up to its ready count,
//!   see `plan`), checks every one, and on any difference changes nothing and gives
//!   everything back.
//! - A delete acknowledges exactly the selected messages once all are verified.
//! - A move (or a send-back) publishes with confirms and mandatory through publish's run
//!   (`publish::Plan::verbatim`: the message as it is), and acknowledges a source message
//!   only after its copy was confirmed and routed. A copy never acknowledges. A message the
//!   target refuses (nacked, e.g. a full queue with `reject-publish`; returned unroutable; a
//!   failed channel) stays in the source, and the report says why, per message.
//! - What is held and not acknowledged goes back in order, as a peek gives back (so returning
//!   it has a peek's effects, which the plan lists: on quorum queues before 4.3 it counts a
//!   delivery, and the operation needs consent).
//! - All or the first N: the head is taken in chunks of `plan::CHUNK`, each settled before the
//!   next is read; a chunk with a refused message ends the operation (the next chunk would
//!   read the refused messages again), and all stops at the ready count read when it began.
//!
//! A missing target is an error before anything changes.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::management::ManagementClient;
use crate::message::Message;
use crate::operation::{self, until_cancelled};
use crate::peek::{self, Holding, PeekEnd, PeekRequest, PeekedMessage};
use crate::publish::{self, Outcome};
use crate::session::ClusterSession;

mod plan;
mod select;
mod target;

pub use plan::{ActionKind, OpsPlan, CHUNK};
pub use select::{fingerprint, OpsSelection, SelectedMessage};
pub use target::{send_back_address, Target};

/// How long a read waits for the next message before deciding the queue has no more.
const IDLE: Duration = Duration::from_millis(1000);

/// One cluster an operation works on: its AMQP session and its management API.
#[derive(Clone, Copy)]
pub struct ClusterRef<'a> {
    pub session: &'a ClusterSession,
    pub api: &'a ManagementClient,
}

/// What to do with the messages.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[ts(export)]
pub enum Action {
    Delete,
    Move {
        target: Target,
    },
    Copy {
        target: Target,
    },
    /// Republish dead letters to the exchange and routing key of their latest `x-death`,
    /// optionally without the `x-death`, `x-first-death-*` and `x-last-death-*` headers.
    SendBack {
        #[serde(default)]
        strip_death: bool,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpsRequest {
    pub vhost: String,
    pub queue: String,
    pub action: Action,
    pub selection: OpsSelection,
    /// Go ahead even when returning held messages changes the queue (see [`OpsPlan`]).
    #[serde(default)]
    pub allow_side_effects: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OpsPhase {
    Reading,
    Publishing,
    Acknowledging,
    Returning,
    Done,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct OpsProgress {
    pub phase: OpsPhase,
    /// Messages read from the queue so far.
    pub read: u32,
    /// Messages done (deleted, moved, copied or sent back) so far.
    pub done: u32,
    pub failed: u32,
    /// While publishing: copies the target confirmed so far in this chunk (a move
    /// acknowledges each in the source after the chunk's publish).
    pub confirmed: u32,
    /// How many the operation is to act on (all: the ready count when it began).
    pub total: u32,
}

/// A message the operation did not act on, and why; it is still in the source queue.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpsFailure {
    /// Its 1-based position in the queue when the operation began.
    pub position: u32,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpsReport {
    pub deleted: u32,
    pub moved: u32,
    pub copied: u32,
    pub sent_back: u32,
    /// Messages the operation was to act on and did not (each in `failures`).
    pub failed: u32,
    /// Held messages given back to the source queue: the ones not selected and the failed.
    pub returned_to_source: u32,
    pub failures: Vec<OpsFailure>,
    pub cancelled: bool,
    /// The node whose connection read the source queue.
    pub endpoint: String,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

impl OpsReport {
    /// Messages the operation acted on.
    pub fn done(&self) -> u32 {
        self.deleted + self.moved + self.copied + self.sent_back
    }

    fn count_done(&mut self, kind: ActionKind, n: u32) {
        match kind {
            ActionKind::Delete => self.deleted += n,
            ActionKind::Move => self.moved += n,
            ActionKind::Copy => self.copied += n,
            ActionKind::SendBack => self.sent_back += n,
        }
    }

    fn fail(&mut self, position: u32, reason: impl Into<String>) {
        self.failed += 1;
        self.failures.push(OpsFailure {
            position,
            reason: reason.into(),
        });
    }
}

fn peek_request(request: &OpsRequest, count: u32) -> PeekRequest {
    PeekRequest {
        vhost: request.vhost.clone(),
        queue: request.queue.clone(),
        count,
        offset: None,
        allow_side_effects: true,
        budget_bytes: None,
    }
}

/// Plans `request`: reads the source queue's detail (peek's plan), checks the selection and
/// that the target exists (`target`: another cluster, or `None` for the source's). Changes
/// nothing.
pub async fn plan(
    source: ClusterRef<'_>,
    target: Option<ClusterRef<'_>>,
    request: &OpsRequest,
) -> Result<OpsPlan> {
    if request.queue.is_empty() {
        return Err(Error::invalid("queue", "a queue name is needed"));
    }
    // The selection is checked before the network; `All` needs the ready count, read below.
    if !matches!(request.selection, OpsSelection::All) {
        plan::reads(request, None)?;
    }
    let target = target.unwrap_or(source);
    match &request.action {
        Action::Move { target: t } | Action::Copy { target: t } => {
            target::check(target.session, t).await?;
            if let Target::Queue { name } = t {
                if name == &request.queue && std::ptr::eq(target.session, source.session) {
                    return Err(Error::invalid(
                        "target",
                        "the target is the source queue itself",
                    ));
                }
            }
        }
        Action::Delete | Action::SendBack { .. } => {}
    }
    let first = peek::make_plan(source.session, source.api, &peek_request(request, 1)).await?;
    let mut peek_plan = first;
    peek_plan.count = plan::reads(request, peek_plan.messages_ready)?;
    plan::plan(request, peek_plan)
}

/// Runs `request` (see the module documentation): plans it, refuses without consent when
/// returning held messages changes the queue, reads, settles, gives back. `target`: the
/// cluster a move or copy publishes to when it is not the source's. Progress is throttled
/// (see [`operation::Progress`]). Errors before anything changed are `Err`; from then on the
/// report says what happened to every message. A cancel stops reading or publishing; what is
/// held and not settled goes back.
pub async fn run(
    source: ClusterRef<'_>,
    target: Option<ClusterRef<'_>>,
    request: &OpsRequest,
    cancel: CancellationToken,
    on_progress: impl FnMut(OpsProgress),
) -> Result<OpsReport> {
    let started = Instant::now();
    let plan = until_cancelled(&cancel, plan(source, target, request)).await??;
    if !plan.harmless && !request.allow_side_effects {
        return Err(Error::NeedsConsent {
            what: format!(
                "{} on quorum queue \"{}\"",
                plan.action_words(),
                request.queue
            ),
            effects: plan.consent_summary(),
        });
    }
    let mut op = Op {
        source,
        target: target.unwrap_or(source),
        request,
        kind: request.action.kind(),
        cancel,
        report: OpsReport::default(),
        progress: operation::Progress::new(on_progress),
        read: 0,
        total: plan.count,
    };
    op.show(OpsPhase::Reading, true);
    match &request.selection {
        OpsSelection::Messages { messages } => {
            let selected = select::normalise(messages)?;
            op.selected(plan.peek.clone(), plan.reads, &selected)
                .await?;
        }
        OpsSelection::First { .. } | OpsSelection::All => {
            op.head(plan.peek.clone(), plan.count).await?;
        }
    }
    // A cancel while publishing ends the run early, without an error of its own.
    op.report.cancelled |= op.cancel.is_cancelled();
    op.report.elapsed_ms = started.elapsed().as_millis() as u64;
    op.show(OpsPhase::Done, true);
    Ok(op.report)
}

impl OpsPlan {
    fn action_words(&self) -> &'static str {
        match self.action {
            ActionKind::Delete => "deleting messages",
            ActionKind::Move => "moving messages",
            ActionKind::Copy => "copying messages",
            ActionKind::SendBack => "sending dead letters back",
        }
    }
}

/// One operation under way.
struct Op<'a, F> {
    source: ClusterRef<'a>,
    target: ClusterRef<'a>,
    request: &'a OpsRequest,
    kind: ActionKind,
    cancel: CancellationToken,
    report: OpsReport,
    progress: operation::Progress<F>,
    read: u32,
    total: u32,
}

impl<F: FnMut(OpsProgress)> Op<'_, F> {
    fn show(&mut self, phase: OpsPhase, milestone: bool) {
        let p = self.snapshot(phase, 0);
        if milestone {
            self.progress.milestone(p);
        } else {
            self.progress.update(p);
        }
    }

    fn snapshot(&self, phase: OpsPhase, confirmed: u32) -> OpsProgress {
        OpsProgress {
            phase,
            read: self.read,
            done: self.report.done(),
            failed: self.report.failed,
            confirmed,
            total: self.total,
        }
    }

    /// Reads `count` messages from the head and holds them.
    async fn hold(
        &mut self,
        peek_plan: peek::PeekPlan,
        count: u32,
    ) -> Result<(Holding, Vec<PeekedMessage>)> {
        let mut messages = Vec::new();
        let request = peek_request(self.request, count);
        let base = self.read;
        let mut read_progress = operation::Progress::new(|_: peek::PeekProgress| {});
        let held = peek::hold(
            self.source.session,
            peek_plan,
            &request,
            IDLE,
            &self.cancel,
            |m| {
                messages.push(m);
                Ok(())
            },
            &mut read_progress,
        )
        .await?;
        self.read = base + held.received;
        self.report.endpoint = held.endpoint.clone();
        self.show(OpsPhase::Reading, false);
        Ok((held, messages))
    }

    /// Gives back what `held` still holds and counts it.
    async fn give_back(&mut self, held: Holding, acked: u32) -> Result<()> {
        let received = held.received;
        self.show(OpsPhase::Returning, true);
        held.give_back(self.source.session).await?;
        self.report.returned_to_source += received - acked;
        Ok(())
    }

    /// Selected messages: read up to the last, verify all, settle the selected, give back.
    async fn selected(
        &mut self,
        peek_plan: peek::PeekPlan,
        reads: u32,
        selected: &[SelectedMessage],
    ) -> Result<()> {
        let (mut held, messages) = self.hold(peek_plan, reads).await?;
        if held.end == PeekEnd::Cancelled {
            self.report.cancelled = true;
            return self.give_back(held, 0).await;
        }
        let indices = match select::verify(
            &self.request.vhost,
            &self.request.queue,
            selected,
            &messages,
        ) {
            Ok(i) => i,
            Err(e) => {
                held.give_back(self.source.session).await?;
                return Err(e);
            }
        };
        let acked = self.settle(&mut held, &messages, &indices, 0).await;
        let acked = match acked {
            Ok(n) => n,
            Err(e) => {
                let _ = held.give_back(self.source.session).await;
                return Err(e);
            }
        };
        self.give_back(held, acked).await
    }

    /// All or the first `count`: chunk after chunk from the head until `count` are done, the
    /// queue is empty, a message is refused or the operation is cancelled.
    async fn head(&mut self, mut peek_plan: peek::PeekPlan, count: u32) -> Result<()> {
        let holds_all = self.kind == ActionKind::Copy;
        let mut remaining = count;
        let mut position = 0u32;
        while remaining > 0 && !self.cancel.is_cancelled() {
            let chunk = if holds_all {
                remaining
            } else {
                remaining.min(CHUNK)
            };
            peek_plan.count = chunk;
            let (mut held, messages) = self.hold(peek_plan.clone(), chunk).await?;
            if held.end == PeekEnd::Cancelled {
                self.report.cancelled = true;
                return self.give_back(held, 0).await;
            }
            let received = held.received;
            let all: Vec<usize> = (0..messages.len()).collect();
            let failed_before = self.report.failed;
            let acked = match self.settle(&mut held, &messages, &all, position).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = held.give_back(self.source.session).await;
                    return Err(e);
                }
            };
            self.give_back(held, acked).await?;
            position += acked;
            remaining = remaining.saturating_sub(received);
            // Refused messages went back to the head: the next chunk would read them again.
            // A copy leaves everything in place, so one chunk is all it reads.
            if received < chunk || self.report.failed > failed_before || holds_all {
                break;
            }
        }
        if self.cancel.is_cancelled() {
            self.report.cancelled = true;
        }
        Ok(())
    }

    /// Acts on the held `messages` at `indices`; returns how many it acknowledged.
    /// `position_base`: messages of the queue's head settled before this chunk.
    async fn settle(
        &mut self,
        held: &mut Holding,
        messages: &[PeekedMessage],
        indices: &[usize],
        position_base: u32,
    ) -> Result<u32> {
        let position = |i: usize| position_base + messages[i].position;
        let request = self.request;
        let to_ack: Vec<usize> = match &request.action {
            Action::Delete => indices.to_vec(),
            Action::Move { target } | Action::Copy { target } => {
                let outgoing: Vec<(usize, Message)> = indices
                    .iter()
                    .map(|&i| (i, target.address(&messages[i].message)))
                    .collect();
                self.publish(&outgoing, &position).await?
            }
            Action::SendBack { strip_death } => {
                let mut outgoing = Vec::new();
                for &i in indices {
                    match send_back_address(&messages[i].message, *strip_death) {
                        Ok(m) => outgoing.push((i, m)),
                        Err(reason) => self.report.fail(position(i), reason),
                    }
                }
                let outgoing = self.exchanges_exist(outgoing, &position).await?;
                self.publish(&outgoing, &position).await?
            }
        };
        if self.kind == ActionKind::Copy {
            self.report.count_done(self.kind, to_ack.len() as u32);
            return Ok(0);
        }
        self.show(OpsPhase::Acknowledging, true);
        match held.ack(&to_ack).await {
            Ok(()) => self.report.count_done(self.kind, to_ack.len() as u32),
            Err(e) => {
                // The broker did not confirm it took the acknowledgements: whether each
                // message left the source is unknown.
                let copy = if self.kind == ActionKind::Delete {
                    ""
                } else {
                    "; its copy was confirmed at the target, so it may now be in both"
                };
                for &i in &to_ack {
                    self.report.fail(
                        position(i),
                        format!("its removal from the source was not confirmed: {e}{copy}"),
                    );
                }
            }
        }
        Ok(held.acked_count())
    }

    /// Keeps the messages whose exchange exists; the others fail with the reason.
    async fn exchanges_exist(
        &mut self,
        outgoing: Vec<(usize, Message)>,
        position: &impl Fn(usize) -> u32,
    ) -> Result<Vec<(usize, Message)>> {
        let mut names: Vec<&str> = outgoing.iter().map(|(_, m)| m.exchange.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut missing = std::collections::BTreeMap::new();
        for name in names {
            match until_cancelled(
                &self.cancel,
                target::exchange_exists(self.target.session, name),
            )
            .await?
            {
                Ok(()) => {}
                Err(e @ Error::ExchangeNotFound { .. }) => {
                    missing.insert(name.to_owned(), e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        let mut kept = Vec::new();
        for (i, m) in outgoing {
            match missing.get(&m.exchange) {
                Some(reason) => self.report.fail(position(i), reason.clone()),
                None => kept.push((i, m)),
            }
        }
        Ok(kept)
    }

    /// Publishes `outgoing` to the target with confirms; returns the indices confirmed and
    /// routed. Every other message fails in the report with its reason.
    async fn publish(
        &mut self,
        outgoing: &[(usize, Message)],
        position: &impl Fn(usize) -> u32,
    ) -> Result<Vec<usize>> {
        if outgoing.is_empty() {
            return Ok(Vec::new());
        }
        let messages: Vec<Message> = outgoing.iter().map(|(_, m)| m.clone()).collect();
        let plan = publish::Plan::verbatim(&messages)?;
        self.show(OpsPhase::Publishing, true);
        let base = self.snapshot(OpsPhase::Publishing, 0);
        let target = self.target;
        let progress = &mut self.progress;
        let summary = publish::run(
            target.session,
            target.api,
            &plan,
            self.cancel.clone(),
            |p| {
                progress.update(OpsProgress {
                    confirmed: u32::try_from(p.confirmed).unwrap_or(u32::MAX),
                    ..base.clone()
                })
            },
        )
        .await?;
        // A verbatim plan renders nothing at send time, so its messages go out in order: the
        // first `published` were sent, the rest were not (a cancel).
        let mut problems: std::collections::HashMap<u64, Outcome> = summary
            .problems
            .into_iter()
            .map(|p| (p.seq, p.outcome))
            .collect();
        let mut confirmed = Vec::new();
        for (k, (i, _)) in outgoing.iter().enumerate() {
            let seq = k as u64 + 1;
            let reason = match problems.remove(&seq) {
                None if seq <= summary.published => {
                    confirmed.push(*i);
                    continue;
                }
                // Not sent (cancelled): it simply goes back with the others.
                None => continue,
                Some(Outcome::Confirmed) => {
                    confirmed.push(*i);
                    continue;
                }
                Some(Outcome::Nacked) => {
                    "the target refused it (nack; a full queue that rejects publishes, say)".into()
                }
                Some(Outcome::Returned {
                    reply_code,
                    reply_text,
                }) => format!("the target could not route it ({reply_code} {reply_text})"),
                Some(Outcome::Failed { reason }) => reason,
                Some(Outcome::MaybeSent { reason }) => format!(
                    "the target's node was lost before it confirmed ({reason}): the target may \
                     hold it too, and it stays in the source"
                ),
            };
            self.report.fail(position(*i), reason);
        }
        Ok(confirmed)
    }
}
