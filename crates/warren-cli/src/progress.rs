//! The progress bar of every long CLI run (publish, replay, peek, save, consume with a count,
//! delete, move, copy): one indicatif bar with the count, the rate and the time left, fed from
//! the progress the core's operations report (already throttled there, see warren-core's
//! `operation`).
//!
//! It is drawn on standard error only when standard error is a terminal, and for commands
//! that print messages to standard output as they come (peek, consume) only when standard
//! output is not that terminal too, so the bar never garbles what a person reads. Piped or
//! redirected output never carries a trace of it. It is cleared when the run ends; the
//! command's own summary line says how it ended.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use warren_core::ops::{OpsPhase, OpsProgress};
use warren_core::peek::{PeekPhase, PeekProgress};
use warren_core::publish::PublishProgress;

/// What a bar shows of one progress report: how many are done of how many, and a word on
/// what is happening (a phase, or what went wrong so far).
pub trait Feed {
    fn done(&self) -> u64;
    fn total(&self) -> u64;
    fn message(&self) -> String;
}

impl Feed for PublishProgress {
    /// A message is done when it ended one way or another (confirmed, returned, ...).
    fn done(&self) -> u64 {
        self.confirmed + self.returned + self.nacked + self.failed + self.maybe_sent
    }
    fn total(&self) -> u64 {
        self.total
    }
    fn message(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (self.returned, "returned"),
            (self.nacked, "nacked"),
            (self.failed, "failed"),
            (self.maybe_sent, "maybe sent"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if self.blocked {
            parts.push(match &self.blocked_reason {
                Some(r) => format!("BLOCKED: {r}"),
                None => "BLOCKED".to_owned(),
            });
        }
        if parts.is_empty() {
            "publishing".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

impl Feed for PeekProgress {
    fn done(&self) -> u64 {
        self.received.into()
    }
    fn total(&self) -> u64 {
        self.expected.into()
    }
    fn message(&self) -> String {
        match self.phase {
            PeekPhase::Receiving => "reading",
            PeekPhase::Returning => "giving back",
            PeekPhase::Done => "done",
        }
        .to_owned()
    }
}

impl Feed for OpsProgress {
    fn done(&self) -> u64 {
        u64::from(self.done) + u64::from(self.failed)
    }
    fn total(&self) -> u64 {
        self.total.into()
    }
    fn message(&self) -> String {
        let phase = match self.phase {
            OpsPhase::Reading => "reading",
            OpsPhase::Publishing => "publishing",
            OpsPhase::Acknowledging => "acknowledging",
            OpsPhase::Returning => "giving back",
            OpsPhase::Done => "done",
        };
        if self.failed > 0 {
            format!("{phase}, {} failed", self.failed)
        } else {
            phase.to_owned()
        }
    }
}

/// Deliveries taken of those asked for (`consume --count`).
pub struct Taken {
    pub taken: u64,
    pub wanted: u64,
}

impl Feed for Taken {
    fn done(&self) -> u64 {
        self.taken
    }
    fn total(&self) -> u64 {
        self.wanted
    }
    fn message(&self) -> String {
        "consuming".to_owned()
    }
}

/// Which standard output a command writes while its bar runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A summary at the end only (publish, replay, save, delete, move, copy).
    Summary,
    /// Messages as they come (peek, consume): no bar when they go to the terminal.
    Streamed,
}

/// One run's bar; hidden (doing nothing) where it must not draw.
pub struct Bar(ProgressBar);

impl Bar {
    pub fn new(output: Output) -> Bar {
        let stderr = std::io::stderr().is_terminal();
        let stdout_free = output == Output::Summary || !std::io::stdout().is_terminal();
        if stderr && stdout_free {
            Bar::on(ProgressDrawTarget::stderr())
        } else {
            Bar(ProgressBar::hidden())
        }
    }

    fn on(target: ProgressDrawTarget) -> Bar {
        let style = ProgressStyle::with_template(
            "{msg:<12} [{wide_bar}] {human_pos}/{human_len} {rate} {eta} left",
        )
        .expect("a valid template")
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", s.per_sec());
        })
        .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(style);
        bar.enable_steady_tick(Duration::from_millis(250));
        Bar(bar)
    }

    /// Shows `p`.
    pub fn update(&self, p: &impl Feed) {
        self.0.set_length(p.total());
        self.0.set_position(p.done());
        self.0.set_message(p.message());
    }

    /// Runs `f` with the bar off the screen (for a line on standard error).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.suspend(f)
    }

    /// Clears the bar: the command's summary says how the run ended.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if !self.0.is_finished() {
            self.0.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A terminal that keeps what was written to it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn publish(confirmed: u64, failed: u64) -> PublishProgress {
        PublishProgress {
            published: confirmed + failed,
            confirmed,
            failed,
            total: 1000,
            ..PublishProgress::default()
        }
    }

    #[test]
    fn a_terminal_sees_the_count_the_rate_and_the_time_left() {
        let screen = Screen::default();
        let bar = Bar::on(ProgressDrawTarget::term_like(Box::new(screen.clone())));
        bar.update(&publish(100, 0));
        std::thread::sleep(Duration::from_millis(300));
        bar.update(&publish(200, 3));
        std::thread::sleep(Duration::from_millis(300));
        let text = screen.0.lock().unwrap().clone();
        assert!(text.contains("203/1,000"), "{text}");
        assert!(text.contains("3 failed"), "{text}");
        assert!(text.contains("/s"), "rate: {text}");
        assert!(text.contains(" left"), "time left: {text}");
    }

    #[test]
    fn progress_reports_map_to_done_of_total() {
        let p = publish(7, 2);
        assert_eq!((p.done(), p.total()), (9, 1000));
        assert_eq!(p.message(), "2 failed");
        assert_eq!(publish(1, 0).message(), "publishing");
        let peek = PeekProgress {
            received: 5,
            expected: 9,
            phase: PeekPhase::Returning,
        };
        assert_eq!((peek.done(), peek.total()), (5, 9));
        assert_eq!(peek.message(), "giving back");
        let taken = Taken {
            taken: 3,
            wanted: 10,
        };
        assert_eq!((taken.done(), taken.total()), (3, 10));
    }
}
