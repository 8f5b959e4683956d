//! What every long operation (a peek, a publish, and whatever else runs for seconds or hours)
//! does the same way, so that each feature does not reinvent it:
//!
//! - Progress reaches a person at a rate they can read and a webview can draw: [`Progress`]
//!   passes an update on when [`PROGRESS_EVERY`] has gone by since the last one, and always
//!   passes on a milestone (a phase change, the first and the last update). Callers hand it
//!   every update; the throttle lives here and nowhere else.
//! - A cancel is obeyed at every wait, not only between messages: [`until_cancelled`] races a
//!   wait against the operation's token, and [`bounded`] also gives up after a time, for the
//!   waits on a broker that may never answer (a quorum queue without a leader, a node that
//!   stopped reading its socket).

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// Progress is passed on at most this often (plus milestones).
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// How long one request to the broker (a declare, a qos, a consume, a close) may take before
/// the operation gives up on it.
pub const BROKER_REPLY_WAIT: Duration = Duration::from_secs(15);

/// The throttle between an operation and whoever shows its progress.
pub struct Progress<F> {
    sink: F,
    last: Option<Instant>,
}

impl<F> Progress<F> {
    pub fn new(sink: F) -> Self {
        Progress { sink, last: None }
    }

    /// Passes `p` on unless the previous update is less than [`PROGRESS_EVERY`] old.
    pub fn update<P>(&mut self, p: P)
    where
        F: FnMut(P),
    {
        if self.last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) {
            self.milestone(p);
        }
    }

    /// Passes `p` on now: a phase change, the start or the end.
    pub fn milestone<P>(&mut self, p: P)
    where
        F: FnMut(P),
    {
        self.last = Some(Instant::now());
        (self.sink)(p);
    }

    /// True when an [`update`](Self::update) now would be passed on: lets a caller skip
    /// building a costly update that would be dropped.
    pub fn due(&self) -> bool {
        self.last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY)
    }
}

/// Waits for `wait` unless `cancel` fires first, which ends it with [`Error::Cancelled`].
pub async fn until_cancelled<T>(
    cancel: &CancellationToken,
    wait: impl Future<Output = T>,
) -> Result<T> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Error::Cancelled),
        v = wait => Ok(v),
    }
}

/// Waits for `wait` at most `limit` ([`Error::Timeout`] naming `endpoint`) and unless `cancel`
/// fires first ([`Error::Cancelled`]). A wait that fails maps its error with `map_err`.
pub async fn bounded<T, E>(
    cancel: &CancellationToken,
    endpoint: &str,
    limit: Duration,
    wait: impl Future<Output = std::result::Result<T, E>>,
    map_err: impl FnOnce(E) -> Error,
) -> Result<T> {
    match until_cancelled(cancel, tokio::time::timeout(limit, wait)).await? {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(map_err(e)),
        Err(_) => Err(Error::Timeout {
            endpoint: endpoint.to_owned(),
            after: limit,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_throttled_and_milestones_are_not() {
        let seen = std::cell::RefCell::new(Vec::new());
        let mut p = Progress::new(|n: u32| seen.borrow_mut().push(n));
        p.update(1); // the first always goes
        p.update(2);
        p.update(3);
        p.milestone(4);
        p.update(5);
        assert!(!p.due());
        std::thread::sleep(PROGRESS_EVERY + Duration::from_millis(5));
        assert!(p.due());
        p.update(6);
        p.update(7);
        assert_eq!(*seen.borrow(), [1, 4, 6]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_on_cancel_or_after_its_limit() {
        let cancel = CancellationToken::new();
        let never = std::future::pending::<std::result::Result<(), Error>>();
        let timed_out = bounded(&cancel, "n1", Duration::from_secs(3), never, |e| e).await;
        assert!(matches!(timed_out, Err(Error::Timeout { endpoint, .. }) if endpoint == "n1"));
        let stopper = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            stopper.cancel();
        });
        let never = std::future::pending::<std::result::Result<(), Error>>();
        let cancelled = bounded(&cancel, "n1", Duration::from_secs(60), never, |e| e).await;
        assert!(matches!(cancelled, Err(Error::Cancelled)));
        let done = until_cancelled(&CancellationToken::new(), async { 7 }).await;
        assert_eq!(done.unwrap(), 7);
    }
}
