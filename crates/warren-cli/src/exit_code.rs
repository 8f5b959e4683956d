//! The exit statuses of `warren`, all in one place. Scripts and CI pipelines branch on them,
//! so they are part of the CLI's interface: the README lists them, and a status once given a
//! meaning keeps it.

use std::process::ExitCode;

use warren_core::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done, and everything went as asked.
    Ok = 0,
    /// An error before or instead of the work (bad input, no node, refused); also `profile
    /// test` when an endpoint did not answer.
    Failed = 1,
    /// The command line itself was wrong (unknown flag, missing argument).
    Usage = 2,
    /// `status --fail-on LEVEL`: the cluster's health is at that level or worse.
    Unhealthy = 3,
    /// `publish`, `replay`: some message did not end confirmed (returned, nacked, failed,
    /// maybe sent on a node that was lost, or left unsent by an interruption).
    NotAllConfirmed = 4,
    /// `peek`: the peek would change the queue and `--allow-side-effects` was not given.
    NeedsConsent = 5,
    /// Interrupted with Ctrl-C (what a peek held went back first).
    Interrupted = 130,
}

impl Exit {
    /// The status an error ends the process with.
    pub fn of(e: &Error) -> Exit {
        match e {
            Error::NeedsConsent { .. } => Exit::NeedsConsent,
            Error::Cancelled => Exit::Interrupted,
            _ => Exit::Failed,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Exit; 7] = [
        Exit::Ok,
        Exit::Failed,
        Exit::Usage,
        Exit::Unhealthy,
        Exit::NotAllConfirmed,
        Exit::NeedsConsent,
        Exit::Interrupted,
    ];

    #[test]
    fn every_status_is_listed_in_the_readme() {
        let readme = include_str!("../../../README.md");
        for e in ALL {
            let row = format!("\n| {} |", e as u8);
            assert!(readme.contains(&row), "README lists no exit status {e:?}");
        }
    }

    #[test]
    fn usage_errors_exit_as_clap_says() {
        use clap::Parser;
        let e = crate::Cli::try_parse_from(["warren", "--no-such-flag", "status"])
            .err()
            .expect("an unknown flag is refused");
        assert_eq!(e.exit_code(), Exit::Usage as i32);
        assert_eq!(
            Exit::of(&Error::NeedsConsent {
                what: "peeking".into(),
                effects: "x".into()
            }),
            Exit::NeedsConsent
        );
        assert_eq!(Exit::of(&Error::Cancelled), Exit::Interrupted);
        assert_eq!(Exit::of(&Error::invalid("count", "0")), Exit::Failed);
    }
}
