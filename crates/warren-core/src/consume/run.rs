//! The consumer task: one channel at a time, commands in, batched events out.
//!
//! It owns everything that touches the broker (the channel, the lapin consumer, the settle
//! frames), so no settle can race a lost channel: a lost channel is seen, its deliveries are
//! marked stale, and only then is the next command read.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
    BasicRejectOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, Consumer};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::broker::{self, BrokerVersion, QueueType, QuorumReturn};
use crate::error::{Error, ErrorReport, Result};
use crate::management::ManagementClient;
use crate::message::Message;
use crate::operation::{bounded, until_cancelled, BROKER_REPLY_WAIT};
use crate::peek::{absent, header_u64, StreamOffset};
use crate::queues;
use crate::session::{now_ms, ClusterSession, LinkStatus};

use super::held::{BudgetAction, ConsumedMessage, Held, DEFAULT_BUDGET_BYTES};
use super::settle::{DeliveryState, Settle};
use super::tap::{self, TapPlan, TapRequest};
use super::timeout::{self, ConsumerTimeout};
use super::{
    AckMode, Command, ConsumeRequest, ConsumerEvent, ConsumerHandle, ConsumerPhase, EventReceiver,
    ReturnMethod, SettleReport, Shared, StateChange, StopReport,
};

/// Events are sent at least this often while something happened.
const BATCH_EVERY: Duration = Duration::from_millis(50);

/// Batches the owner may leave unread before the consumer stops reading deliveries.
const EVENT_BATCHES: usize = 64;

/// How long to wait for a connected node.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Automatic resume waits this long after a loss, doubling up to [`RESUME_MAX`].
const RESUME_FIRST: Duration = Duration::from_secs(1);
const RESUME_MAX: Duration = Duration::from_secs(30);

pub(crate) enum Source {
    Queue(ConsumeRequest),
    Tap(TapRequest, TapPlan),
}

/// What is known of the queue before consuming.
struct Facts {
    queue_type: Option<QueueType>,
    version: Option<BrokerVersion>,
    timeout: ConsumerTimeout,
}

struct Link {
    channel: Channel,
    consumer: Option<Consumer>,
    tag: ShortString,
    endpoint: String,
    queue: ShortString,
}

struct Task<C> {
    cluster: Arc<C>,
    source: Source,
    facts: Facts,
    shared: Arc<Mutex<Shared>>,
    cancel: CancellationToken,
    events: mpsc::Sender<Vec<ConsumerEvent>>,
    outbox: Vec<ConsumerEvent>,
    /// New deliveries not yet announced.
    fresh: u32,
    /// The owner is behind: deliveries are not read until the outbox goes.
    blocked: bool,
    link: Option<Link>,
    consumers_opened: u32,
    resume_at: Option<Instant>,
    resume_delay: Duration,
}

pub(crate) async fn start<C>(
    cluster: Arc<C>,
    source: Source,
    cancel: CancellationToken,
) -> Result<(ConsumerHandle, EventReceiver)>
where
    C: AsRef<ClusterSession> + AsRef<ManagementClient> + Send + Sync + 'static,
{
    let facts = match &source {
        Source::Queue(r) => {
            until_cancelled(
                &cancel,
                queue_facts(AsRef::<ManagementClient>::as_ref(&*cluster), r),
            )
            .await?
        }
        Source::Tap(..) => Facts {
            queue_type: Some(QueueType::Classic),
            version: None,
            timeout: timeout::default(),
        },
    };
    let budget = match &source {
        Source::Queue(r) => r.budget_bytes,
        Source::Tap(t, _) => t.budget_bytes,
    }
    .unwrap_or(DEFAULT_BUDGET_BYTES);
    let shared = Arc::new(Mutex::new(Shared {
        held: Held::new(budget),
        phase: ConsumerPhase::Running,
    }));
    let (commands, command_rx) = mpsc::channel(32);
    let (events, event_rx) = mpsc::channel(EVENT_BATCHES);
    let mut task = Task {
        cluster,
        source,
        facts,
        shared: shared.clone(),
        cancel,
        events,
        outbox: Vec::new(),
        fresh: 0,
        blocked: false,
        link: None,
        consumers_opened: 0,
        resume_at: None,
        resume_delay: RESUME_FIRST,
    };
    task.link = Some(task.open().await?);
    task.announce_start();
    task.flush();
    tokio::spawn(task.run(command_rx));
    Ok((ConsumerHandle { commands, shared }, event_rx))
}

/// The queue's type, the broker's version and the consumer timeout, from the management API.
/// A queue the API cannot read is consumed all the same (the broker has the last word on
/// whether it exists), with the broker's default timeout and the classic rules.
async fn queue_facts(api: &ManagementClient, r: &ConsumeRequest) -> Facts {
    let detail =
        tokio::time::timeout(BROKER_REPLY_WAIT, queues::detail(api, &r.vhost, &r.queue)).await;
    match detail {
        Ok(Ok(d)) => {
            let version = BrokerVersion::parse(d.broker_version.as_deref());
            Facts {
                queue_type: Some(d.row.queue_type),
                version,
                timeout: timeout::resolve(&d.arguments, &d.effective_policy_definition, version),
            }
        }
        _ => Facts {
            queue_type: None,
            version: None,
            timeout: timeout::default(),
        },
    }
}

impl<C> Task<C>
where
    C: AsRef<ClusterSession> + AsRef<ManagementClient> + Send + Sync + 'static,
{
    fn session(&self) -> &ClusterSession {
        AsRef::<ClusterSession>::as_ref(&*self.cluster)
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().expect("consumer state poisoned")
    }

    fn ack_mode(&self) -> AckMode {
        match &self.source {
            Source::Queue(r) => r.ack_mode,
            Source::Tap(..) => AckMode::Auto,
        }
    }

    fn auto_resume(&self) -> bool {
        match &self.source {
            Source::Queue(r) => r.auto_resume,
            Source::Tap(t, _) => t.auto_resume,
        }
    }

    fn set_phase(&self, phase: ConsumerPhase) {
        self.shared().phase = phase;
    }

    fn map_err(&self, endpoint: &str, e: lapin::Error) -> Error {
        if let lapin::ErrorKind::ProtocolError(amqp) = e.kind() {
            if amqp.get_id() == 404 {
                if let Source::Queue(r) = &self.source {
                    // Not found, or there but out of reach (its home node down): the
                    // broker's text tells which.
                    return absent::not_found(amqp.get_message().as_str(), &r.vhost, &r.queue);
                }
            }
        }
        let exclusive_use = matches!(e.kind(), lapin::ErrorKind::ProtocolError(amqp)
            if amqp.get_id() == 403 && amqp.get_message().as_str().contains("exclusive use"));
        match (self.session().operation_error(endpoint, e), &self.source) {
            // The broker's words ("ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use")
            // say neither who holds it nor what to do.
            (Error::AccessRefused { endpoint, user, .. }, Source::Queue(r)) if exclusive_use => {
                Error::AccessRefused {
                    endpoint,
                    user,
                    what: exclusive_refusal(r),
                }
            }
            (e, _) => e,
        }
    }

    /// A new channel on a healthy node, consuming.
    async fn open(&mut self) -> Result<Link> {
        let (channel, endpoint) =
            until_cancelled(&self.cancel, self.session().channel(CONNECT_WAIT)).await??;
        match self.prepare(&channel, &endpoint).await {
            Ok(queue) => {
                let mut link = Link {
                    channel,
                    consumer: None,
                    tag: ShortString::from(""),
                    endpoint,
                    queue,
                };
                match self.consume_on(&mut link).await {
                    Ok(()) => Ok(link),
                    Err(e) => {
                        close_quietly(&link.channel).await;
                        Err(e)
                    }
                }
            }
            Err(e) => {
                close_quietly(&channel).await;
                Err(e)
            }
        }
    }

    /// Declares what the consumer needs on a new channel; returns the queue to consume.
    async fn prepare(&self, channel: &Channel, endpoint: &str) -> Result<ShortString> {
        match &self.source {
            Source::Queue(r) => {
                if r.ack_mode == AckMode::Manual {
                    bounded(
                        &self.cancel,
                        endpoint,
                        BROKER_REPLY_WAIT,
                        channel.basic_qos(r.prefetch, BasicQosOptions { global: false }),
                        |e| self.map_err(endpoint, e),
                    )
                    .await?;
                }
                Ok(r.queue.as_str().into())
            }
            Source::Tap(t, plan) => {
                tap::declare(channel, t, plan, &self.cancel, endpoint, |e| {
                    self.map_err(endpoint, e)
                })
                .await
            }
        }
    }

    /// Registers a consumer on the link's channel under a new tag.
    async fn consume_on(&mut self, link: &mut Link) -> Result<()> {
        self.consumers_opened += 1;
        let tag: ShortString =
            format!("warren-consume-{}-{}", now_ms(), self.consumers_opened).into();
        let mut args = FieldTable::default();
        let mut options = BasicConsumeOptions {
            no_ack: self.ack_mode() == AckMode::Auto,
            ..BasicConsumeOptions::default()
        };
        if let Source::Queue(r) = &self.source {
            options.exclusive = r.exclusive;
            if let Some(p) = r.priority {
                args.insert("x-priority".into(), AMQPValue::LongInt(p));
            }
            if self.facts.queue_type == Some(QueueType::Stream) || r.offset.is_some() {
                let offset = r.offset.clone().unwrap_or(StreamOffset::Next);
                args.insert("x-stream-offset".into(), offset.argument());
            }
        }
        let endpoint = link.endpoint.clone();
        let consumer = bounded(
            &self.cancel,
            &endpoint,
            BROKER_REPLY_WAIT,
            link.channel
                .basic_consume(link.queue.clone(), tag.clone(), options, args),
            |e| self.map_err(&endpoint, e),
        )
        .await?;
        link.consumer = Some(consumer);
        link.tag = tag;
        Ok(())
    }

    fn announce_start(&mut self) {
        let Some(link) = &self.link else { return };
        let generation = self.shared().held.ledger().generation();
        let event = ConsumerEvent::Started {
            endpoint: link.endpoint.clone(),
            queue: link.queue.as_str().to_owned(),
            consumer_tag: link.tag.as_str().to_owned(),
            generation,
            timeout: self.facts.timeout.clone(),
            ack_mode: self.ack_mode(),
        };
        self.set_phase(ConsumerPhase::Running);
        self.outbox.push(event);
    }

    /// How many new deliveries make a batch go before its time.
    fn batch_size(&self) -> u32 {
        match &self.source {
            Source::Queue(r) if r.ack_mode == AckMode::Manual => {
                u32::from(r.prefetch / 2).clamp(1, 500)
            }
            _ => 500,
        }
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut tick = tokio::time::interval(BATCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The session's pings notice a paused node within seconds; the channel itself would
        // wait for the AMQP heartbeat.
        let mut links = self.session().watch_links();
        let mut links_open = true;
        let report = loop {
            let reading = !self.blocked && self.link.as_ref().is_some_and(|l| l.consumer.is_some());
            let resume_at = self.resume_at;
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => break self.stop(None).await,
                command = commands.recv() => match command {
                    Some(Command::Settle { seqs, up_to, how, reply }) => {
                        let r = self.settle(&seqs, up_to, how).await;
                        let _ = reply.send(r);
                    }
                    Some(Command::Resume { reply }) => {
                        let r = self.resume().await;
                        if let Err(e) = &r {
                            if self.link.is_none() && self.auto_resume() {
                                self.schedule_resume();
                            }
                            tracing::debug!(error = %e, "resume failed");
                        }
                        let _ = reply.send(r);
                    }
                    Some(Command::Stop { reply }) => {
                        let report = self.stop(None).await;
                        let _ = reply.send(report);
                        return;
                    }
                    // Every handle is gone: nobody can settle or stop any more.
                    None => break self.stop(None).await,
                },
                next = next_delivery(&mut self.link), if reading => match next {
                    Some(Ok(d)) => {
                        self.on_delivery(d).await;
                        if self.fresh >= self.batch_size() {
                            self.flush();
                        }
                    }
                    Some(Err(e)) => {
                        let endpoint = self.link.as_ref().map(|l| l.endpoint.clone()).unwrap_or_default();
                        let reason = self.map_err(&endpoint, e).to_string();
                        self.lose(reason);
                    }
                    None => self.ended().await,
                },
                () = sleep_until(resume_at), if resume_at.is_some() => {
                    self.resume_at = None;
                    if let Err(e) = self.resume().await {
                        if !matches!(e, Error::Cancelled) {
                            self.outbox.push(ConsumerEvent::ResumeFailed { error: ErrorReport::from(&e) });
                            self.schedule_resume();
                        }
                    }
                }
                changed = links.changed(), if links_open => {
                    links_open = changed.is_ok();
                    let lost = self.link.as_ref().and_then(|link| {
                        LinkStatus::lost(&links.borrow_and_update(), &link.endpoint)
                    });
                    if let Some(reason) = lost {
                        self.lose(reason);
                    }
                }
                _ = tick.tick() => self.flush(),
            }
        };
        // Ended by the cancel token or by every handle going away.
        drop(report);
    }

    async fn on_delivery(&mut self, d: lapin::message::Delivery) {
        let auto = self.ack_mode() == AckMode::Auto;
        let props = &d.properties;
        let message = ConsumedMessage {
            seq: 0,
            redelivered: d.redelivered,
            delivery_tag: d.delivery_tag,
            delivery_count: header_u64(props, "x-delivery-count"),
            acquired_count: header_u64(props, "x-acquired-count"),
            offset: header_u64(props, "x-stream-offset"),
            received_at_ms: now_ms(),
            size: d.data.len() as u64,
            evicted: false,
            message: Message::from_amqp(&d.exchange, &d.routing_key, &d.properties, d.data),
        };
        let state = if auto {
            DeliveryState::AutoAcked
        } else {
            DeliveryState::Unacked
        };
        // A queue consumer with automatic ack holds the only copy: it may not let bodies go.
        let may_evict = !(auto && matches!(self.source, Source::Queue(_)));
        let (seq, budget) = {
            let mut s = self.shared();
            let seq = s.held.add(message, d.delivery_tag, state);
            let over = s.held.enforce_budget(may_evict);
            (seq, over.map(|_| (s.held.held_bytes(), s.held.budget())))
        };
        self.fresh += 1;
        self.note_delivery(seq);
        if let Some((held_bytes, budget_bytes)) = budget {
            let action = if may_evict {
                BudgetAction::EvictSettled
            } else {
                BudgetAction::Paused
            };
            self.outbox.push(ConsumerEvent::BudgetReached {
                held_bytes,
                budget_bytes,
                action,
            });
            if action == BudgetAction::Paused {
                self.pause().await;
            }
        }
    }

    /// Adds `seq` to the pending `Deliveries` event (one per batch).
    fn note_delivery(&mut self, seq: u64) {
        let (total, matched, held_bytes) = {
            let s = self.shared();
            (s.held.total(), s.held.view_len(), s.held.held_bytes())
        };
        if let Some(ConsumerEvent::Deliveries {
            last_seq,
            total: t,
            matched: m,
            held_bytes: b,
            ..
        }) = self
            .outbox
            .iter_mut()
            .rev()
            .find(|e| matches!(e, ConsumerEvent::Deliveries { .. }))
        {
            *last_seq = seq;
            *t = total;
            *m = matched;
            *b = held_bytes;
            return;
        }
        self.outbox.push(ConsumerEvent::Deliveries {
            first_seq: seq,
            last_seq: seq,
            total,
            matched,
            held_bytes,
        });
    }

    fn note_states(&mut self, changes: Vec<(u64, DeliveryState)>) {
        if changes.is_empty() {
            return;
        }
        let changes = changes
            .into_iter()
            .map(|(seq, state)| StateChange { seq, state });
        if let Some(ConsumerEvent::States { changes: c }) = self.outbox.last_mut() {
            c.extend(changes);
            return;
        }
        self.outbox.push(ConsumerEvent::States {
            changes: changes.collect(),
        });
    }

    /// Sends what is waiting, unless the owner is behind (then deliveries wait too).
    fn flush(&mut self) {
        if self.outbox.is_empty() {
            self.blocked = false;
            return;
        }
        let batch = std::mem::take(&mut self.outbox);
        match self.events.try_send(batch) {
            Ok(()) => {
                self.fresh = 0;
                self.blocked = false;
            }
            Err(mpsc::error::TrySendError::Full(batch)) => {
                self.outbox = batch;
                self.blocked = true;
            }
            // Nobody listens; the handles may still settle and stop.
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.fresh = 0;
                self.blocked = false;
            }
        }
    }

    async fn settle(&mut self, seqs: &[u64], up_to: bool, how: Settle) -> Result<SettleReport> {
        if up_to && seqs.len() != 1 {
            return Err(Error::invalid(
                "seq",
                "\"up to\" needs exactly one delivery",
            ));
        }
        // A channel that died unnoticed is noticed now, before any tag is used.
        if self
            .link
            .as_ref()
            .is_some_and(|l| !l.channel.status().connected())
        {
            self.lose("the channel was closed".into());
        }
        let plan = self.shared().held.plan(seqs, up_to, how);
        if !plan.frames.is_empty() {
            let link = self
                .link
                .as_ref()
                .expect("unsettled deliveries have a channel");
            let endpoint = link.endpoint.clone();
            let channel = link.channel.clone();
            for f in &plan.frames {
                let sent = match how {
                    Settle::Ack => {
                        bounded(
                            &CancellationToken::new(),
                            &endpoint,
                            BROKER_REPLY_WAIT,
                            channel.basic_ack(
                                f.tag,
                                BasicAckOptions {
                                    multiple: f.multiple,
                                },
                            ),
                            |e| self.map_err(&endpoint, e),
                        )
                        .await
                    }
                    Settle::Nack { requeue } => {
                        bounded(
                            &CancellationToken::new(),
                            &endpoint,
                            BROKER_REPLY_WAIT,
                            channel.basic_nack(
                                f.tag,
                                BasicNackOptions {
                                    multiple: f.multiple,
                                    requeue,
                                },
                            ),
                            |e| self.map_err(&endpoint, e),
                        )
                        .await
                    }
                    Settle::Reject { requeue } => {
                        bounded(
                            &CancellationToken::new(),
                            &endpoint,
                            BROKER_REPLY_WAIT,
                            channel.basic_reject(f.tag, BasicRejectOptions { requeue }),
                            |e| self.map_err(&endpoint, e),
                        )
                        .await
                    }
                };
                if let Err(e) = sent {
                    // The channel failed under the settle: what it held is requeued by the
                    // broker, so nothing of this request counts as settled.
                    self.lose(e.to_string());
                    return Err(e);
                }
            }
        }
        let changes = {
            let mut s = self.shared();
            let changes = s.held.commit(&plan);
            let may_evict =
                !(self.ack_mode() == AckMode::Auto && matches!(self.source, Source::Queue(_)));
            s.held.enforce_budget(may_evict);
            changes
        };
        self.note_states(changes);
        Ok(SettleReport {
            frames: plan.frames.len() as u32,
            settled: plan.settled,
            skipped: plan.skipped,
        })
    }

    /// The consumer stream ended: the broker cancelled it, or the channel went.
    async fn ended(&mut self) {
        let connected = self
            .link
            .as_ref()
            .is_some_and(|l| l.channel.status().connected());
        if connected {
            if let Some(link) = &mut self.link {
                link.consumer = None;
            }
            self.set_phase(ConsumerPhase::CancelledByBroker);
            self.outbox.push(ConsumerEvent::CancelledByBroker {
                reason: "the broker cancelled the consumer: the queue was deleted, or its node went down".into(),
            });
            self.flush();
        } else {
            self.lose("the channel was closed".into());
        }
    }

    /// The channel or its connection is gone.
    fn lose(&mut self, reason: String) {
        if let Some(link) = self.link.take() {
            // A node given up for not answering would hold the consumer for the whole wait;
            // the close still goes, so a node that comes back requeues what the channel held.
            tokio::spawn(async move { close_quietly(&link.channel).await });
        }
        let stale = self.shared().held.ledger_mut().lose_channel();
        let n = stale.len() as u32;
        self.note_states(
            stale
                .into_iter()
                .map(|s| (s, DeliveryState::Stale))
                .collect(),
        );
        self.outbox
            .push(ConsumerEvent::ChannelLost { stale: n, reason });
        self.set_phase(ConsumerPhase::Lost);
        self.flush();
        if self.auto_resume() {
            self.schedule_resume();
        }
    }

    fn schedule_resume(&mut self) {
        self.resume_at = Some(Instant::now() + self.resume_delay);
        self.resume_delay = (self.resume_delay * 2).min(RESUME_MAX);
    }

    /// Stops taking messages, keeping the channel (automatic ack over the budget).
    async fn pause(&mut self) {
        if let Some(link) = &mut self.link {
            if link.consumer.take().is_some() {
                let _ = tokio::time::timeout(
                    BROKER_REPLY_WAIT,
                    link.channel
                        .basic_cancel(link.tag.clone(), BasicCancelOptions::default()),
                )
                .await;
            }
        }
        self.set_phase(ConsumerPhase::Paused);
    }

    async fn resume(&mut self) -> Result<()> {
        let connected = self
            .link
            .as_ref()
            .is_some_and(|l| l.channel.status().connected());
        match self.link.take() {
            Some(link) if link.consumer.is_some() && connected => {
                self.link = Some(link);
                return Ok(());
            }
            Some(mut link) if connected => {
                let paused = self.shared().phase == ConsumerPhase::Paused;
                if paused {
                    let s = self.shared();
                    if s.held.held_bytes() > s.held.budget() {
                        drop(s);
                        self.link = Some(link);
                        return Err(Error::invalid(
                            "budget_bytes",
                            "the held messages still exceed the budget; stop this consumer (they are only here: save them first) and start another",
                        ));
                    }
                }
                let r = self.consume_on(&mut link).await;
                self.link = Some(link);
                if let Err(e) = r {
                    if self
                        .link
                        .as_ref()
                        .is_some_and(|l| !l.channel.status().connected())
                    {
                        self.lose(e.to_string());
                    }
                    return Err(e);
                }
            }
            Some(_) => {
                // Gone without our noticing: its deliveries are stale before anything else.
                self.lose("the channel was closed".into());
                self.resume_at = None;
                self.link = Some(self.open().await?);
            }
            None => self.link = Some(self.open().await?),
        }
        self.resume_at = None;
        self.resume_delay = RESUME_FIRST;
        self.announce_start();
        self.flush();
        Ok(())
    }

    /// Cancels the consumer, gives back what is unsettled, closes the channel.
    async fn stop(&mut self, error: Option<Error>) -> StopReport {
        let mut returned_by = ReturnMethod::Nothing;
        let mut return_effect = None;
        let mut returned = 0;
        let mut tap_queue_removed = None;
        if let Some(mut link) = self.link.take() {
            if link.channel.status().connected() {
                if link.consumer.is_some() {
                    let _ = tokio::time::timeout(
                        BROKER_REPLY_WAIT,
                        link.channel
                            .basic_cancel(link.tag.clone(), BasicCancelOptions::default()),
                    )
                    .await;
                }
                // Deliveries that arrived before the cancel took effect are held and given
                // back with the rest.
                let mut late = Vec::new();
                if let Some(consumer) = &mut link.consumer {
                    while let Some(Some(Ok(d))) = consumer.next().now_or_never() {
                        late.push(d);
                    }
                }
                for d in late {
                    self.on_delivery(d).await;
                }
                let (seqs, max_tag) = self.shared().held.ledger_mut().return_all();
                returned = seqs.len() as u32;
                self.note_states(
                    seqs.into_iter()
                        .map(|s| (s, DeliveryState::Returned))
                        .collect(),
                );
                if let Some(tag) = max_tag {
                    returned_by = self.return_method();
                    if returned_by == ReturnMethod::NackRequeue {
                        let _ = tokio::time::timeout(
                            BROKER_REPLY_WAIT,
                            link.channel.basic_nack(
                                tag,
                                BasicNackOptions {
                                    multiple: true,
                                    requeue: true,
                                },
                            ),
                        )
                        .await;
                    } else if self.facts.queue_type == Some(QueueType::Quorum) {
                        return_effect = Some(
                            "the returned messages went back in order by closing the channel, and the delivery count of each grew by one (quorum queue before RabbitMQ 4.3)".into(),
                        );
                    }
                }
                if matches!(self.source, Source::Tap(..)) {
                    let deleted = tokio::time::timeout(
                        BROKER_REPLY_WAIT,
                        link.channel
                            .queue_delete(link.queue.clone(), QueueDeleteOptions::default()),
                    )
                    .await;
                    tap_queue_removed = Some(matches!(deleted, Ok(Ok(_))));
                }
            } else if matches!(self.source, Source::Tap(..)) {
                // An exclusive queue goes with its connection.
                tap_queue_removed = Some(true);
            }
            close_quietly(&link.channel).await;
        }
        self.set_phase(ConsumerPhase::Stopped);
        let report = {
            let s = self.shared();
            let l = s.held.ledger();
            StopReport {
                received: l.len(),
                acked: l.count(DeliveryState::Acked),
                nacked: l.count(DeliveryState::Nacked) + l.count(DeliveryState::NackedRequeued),
                rejected: l.count(DeliveryState::Rejected)
                    + l.count(DeliveryState::RejectedRequeued),
                returned,
                returned_by,
                return_effect,
                stale: l.count(DeliveryState::Stale),
                tap_queue_removed,
                error: error.as_ref().map(ErrorReport::from),
            }
        };
        self.outbox.push(ConsumerEvent::Stopped {
            report: report.clone(),
        });
        // The last batch waits for room a while: it says how the consumer ended.
        let batch = std::mem::take(&mut self.outbox);
        let _ = tokio::time::timeout(BROKER_REPLY_WAIT, self.events.send(batch)).await;
        report
    }

    /// How unsettled deliveries go back on stop (see `broker::quorum_return`).
    fn return_method(&self) -> ReturnMethod {
        match self.facts.queue_type {
            Some(QueueType::Quorum) => match broker::quorum_return(self.facts.version) {
                QuorumReturn::NackKeepsPlace => ReturnMethod::NackRequeue,
                QuorumReturn::CloseCountsDelivery => ReturnMethod::ChannelClose,
            },
            Some(QueueType::Stream) => ReturnMethod::ChannelClose,
            _ => ReturnMethod::NackRequeue,
        }
    }
}

async fn next_delivery(
    link: &mut Option<Link>,
) -> Option<std::result::Result<lapin::message::Delivery, lapin::Error>> {
    match link.as_mut().and_then(|l| l.consumer.as_mut()) {
        Some(consumer) => consumer.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn close_quietly(channel: &Channel) {
    if channel.status().connected() {
        let _ = tokio::time::timeout(
            BROKER_REPLY_WAIT,
            channel.close(200, "consumer stopped".into()),
        )
        .await;
    }
}

/// What a `basic.consume` refused for exclusive use could not have: the queue, said with the
/// two ways it happens (someone else consumes exclusively, or this consumer asked to be the
/// only one while others consume).
fn exclusive_refusal(r: &ConsumeRequest) -> String {
    let queue = format!("queue \"{}\" in vhost \"{}\"", r.queue, r.vhost);
    if r.exclusive {
        format!("{queue} exclusively: it has other consumers, or one of them is exclusive")
    } else {
        format!("{queue}: another consumer has it in exclusive use")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_use_refusal_names_the_queue_and_why() {
        let mut r = ConsumeRequest {
            vhost: "/".into(),
            queue: "orders".into(),
            prefetch: 20,
            exclusive: false,
            priority: None,
            offset: None,
            ack_mode: AckMode::Manual,
            budget_bytes: None,
            auto_resume: false,
        };
        assert_eq!(
            exclusive_refusal(&r),
            "queue \"orders\" in vhost \"/\": another consumer has it in exclusive use"
        );
        r.exclusive = true;
        assert!(exclusive_refusal(&r)
            .ends_with("exclusively: it has other consumers, or one of them is exclusive"));
    }
}
