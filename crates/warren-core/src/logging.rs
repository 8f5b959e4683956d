//! Logging setup shared by the CLI and the desktop app. The AMQP client and its protocol crates
//! log every frame at trace (the connection handshake carries the user and password, a URI being
//! connected to carries the password) and every returned message with its body at warn. So,
//! whatever `WARREN_LOG` asks for, their targets are capped at errors; only `WARREN_LOG_WIRE=1`
//! lifts the cap, for someone who accepts that the log may then hold secrets and message bodies.

use tracing::level_filters::LevelFilter;
use tracing::Subscriber;
use tracing_subscriber::filter::combinator::And;
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The variable holding the log directives (`debug`, `warren_core=trace,warn`, ...).
pub const LEVELS_VAR: &str = "WARREN_LOG";
/// The variable that, set to `1`, lets the wire crates log frames and bodies.
pub const WIRE_VAR: &str = "WARREN_LOG_WIRE";

/// Target prefixes of the crates that log frames, URIs or message bodies; a prefix covers the
/// crate's modules and its sibling crates (`amq_protocol_tcp`, `amq_protocol_uri`, ...).
const WIRE_TARGETS: [&str; 2] = ["lapin", "amq_protocol"];

/// Whether the value of [`WIRE_VAR`] asks for wire logging: only an explicit `1` does.
pub fn wire_allowed(value: Option<&str>) -> bool {
    value == Some("1")
}

/// The cap put over the level directives: the wire crates at errors (no frames, no bodies)
/// unless wire logging is allowed; every other target untouched.
pub fn wire_cap(wire_allowed: bool) -> Targets {
    let cap = if wire_allowed {
        LevelFilter::TRACE
    } else {
        LevelFilter::ERROR
    };
    WIRE_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |t, target| t.with_target(*target, cap),
    )
}

/// The filter of the log layer: what the level directives enable, within the wire cap.
pub fn filter<S>(levels: EnvFilter, wire_allowed: bool) -> And<EnvFilter, Targets, S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    <EnvFilter as FilterExt<S>>::and(levels, wire_cap(wire_allowed))
}

/// Installs the global logger writing to `writer`: directives from [`LEVELS_VAR`], or
/// `default_directives` when it is unset or invalid, within the wire cap of [`WIRE_VAR`].
pub fn init<W>(default_directives: &str, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let levels =
        EnvFilter::try_from_env(LEVELS_VAR).unwrap_or_else(|_| EnvFilter::new(default_directives));
    let wire = wire_allowed(std::env::var(WIRE_VAR).ok().as_deref());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_filter(filter(levels, wire)),
        )
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing::Level;

    #[test]
    fn only_an_explicit_one_allows_wire_logging() {
        assert!(wire_allowed(Some("1")));
        for value in [None, Some(""), Some("0"), Some("trace"), Some("yes")] {
            assert!(!wire_allowed(value), "{value:?}");
        }
    }

    #[test]
    fn the_cap_keeps_wire_crates_at_errors_and_leaves_the_rest() {
        let cap = wire_cap(false);
        for target in [
            "lapin",
            "lapin::io_loop",
            "lapin::returned_messages",
            "amq_protocol",
            "amq_protocol_tcp",
            "amq_protocol_uri",
        ] {
            assert!(cap.would_enable(target, &Level::ERROR), "{target}");
            for level in [Level::WARN, Level::INFO, Level::DEBUG, Level::TRACE] {
                assert!(!cap.would_enable(target, &level), "{target} {level}");
            }
        }
        for target in ["warren_core::peek", "warren", "reqwest"] {
            assert!(cap.would_enable(target, &Level::TRACE), "{target}");
        }
    }

    #[test]
    fn wire_logging_lifts_the_cap() {
        let cap = wire_cap(true);
        assert!(cap.would_enable("lapin::io_loop", &Level::TRACE));
        assert!(cap.would_enable("amq_protocol_tcp", &Level::TRACE));
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("capture lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What a subscriber built from `directives` and the wire choice writes for one event per
    /// (target, level) pair below.
    fn logged(directives: &str, wire: bool) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_filter(filter(EnvFilter::new(directives), wire)),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lapin::io_loop", "frame start-ok");
            tracing::warn!(target: "lapin::returned_messages", "returned body");
            tracing::trace!(target: "amq_protocol_tcp", "connecting uri");
            tracing::error!(target: "lapin::channel", "channel closed");
            tracing::trace!(target: "warren_core::peek", "peek step");
            tracing::debug!(target: "warren_core::peek", "peek debug");
        });
        let bytes = out.0.lock().expect("capture lock").clone();
        String::from_utf8(bytes).expect("utf-8 log")
    }

    #[test]
    fn trace_for_everything_prints_no_frame_and_no_body() {
        for directives in [
            "trace",
            "lapin=trace,amq_protocol_tcp=trace",
            "lapin::io_loop=trace",
        ] {
            let log = logged(directives, false);
            assert!(!log.contains("frame start-ok"), "{directives}: {log}");
            assert!(!log.contains("returned body"), "{directives}: {log}");
            assert!(!log.contains("connecting uri"), "{directives}: {log}");
        }
        let log = logged("trace", false);
        assert!(log.contains("channel closed"), "{log}");
        assert!(log.contains("peek step"), "{log}");
    }

    #[test]
    fn the_directives_still_choose_the_levels() {
        let log = logged("warren_core=debug", false);
        assert!(log.contains("peek debug"), "{log}");
        assert!(!log.contains("peek step"), "{log}");
        assert!(!log.contains("channel closed"), "{log}");
        assert!(logged("off", false).is_empty());
    }

    #[test]
    fn wire_logging_prints_what_the_directives_ask() {
        let log = logged("trace", true);
        assert!(log.contains("frame start-ok"), "{log}");
        assert!(log.contains("returned body"), "{log}");
        assert!(log.contains("connecting uri"), "{log}");
    }
}
