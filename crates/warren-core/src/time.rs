//! Every date, time and duration Warren reads or writes as text, through one calendar library
//! (jiff) rather than hand-rolled arithmetic: a date that does not exist (`2026-02-31`) is
//! refused with the reason, never carried into the next month, and a duration is written the
//! way people say it (`10m`, `1h30m`, `2d`, `500ms`).
//!
//! Times are read as RFC 3339 (`2026-11-30T09:00:00Z`, `...+01:00`, a space allowed for the
//! `T`) or as a bare date (`2026-11-30`, midnight UTC). Written times are UTC with milliseconds
//! (`2026-11-30T09:00:00.000Z`), the form collections and templates keep.

use std::time::Duration;

use jiff::{civil::Date, SignedDuration, Span, SpanRelativeTo, Timestamp};

use crate::error::{Error, Result};

/// A moment written as an RFC 3339 time or a date (midnight UTC), as Unix epoch milliseconds.
/// The error says why the text is not one (an impossible day names the month's length).
pub fn parse_instant_ms(s: &str) -> std::result::Result<i64, String> {
    parse_instant(s).map(|t| t.as_millisecond())
}

fn parse_instant(s: &str) -> std::result::Result<Timestamp, String> {
    let s = s.trim();
    let looks_like_date = s.len() == 10 && s.as_bytes().get(4) == Some(&b'-');
    if looks_like_date {
        return s
            .parse::<Date>()
            .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .map_err(|e| format!("\"{s}\" is not a date: {e}"));
    }
    s.parse::<Timestamp>()
        .map_err(|e| format!("\"{s}\" is not an RFC 3339 time (2026-11-30T09:00:00Z): {e}"))
}

/// [`parse_instant_ms`] where only whether it is one matters (a recorded time in a file).
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    parse_instant_ms(s).ok()
}

/// `2024-05-01T12:34:56.789Z`: a time since the Unix epoch, in UTC with milliseconds.
pub fn rfc3339_ms(since_epoch: Duration) -> String {
    let ms = i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX);
    let t = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::MAX);
    // RFC 3339 with three fractional digits; jiff's own printer, not `strftime`'s slower one.
    format!("{t:.3}")
}

/// A duration as people write it: `10m`, `1h30m`, `2d` (days of 24 hours), `1.5s`, `500ms`,
/// `2 minutes`, or ISO 8601 (`PT10M`). A bare number is in `bare_unit` (so existing flags that
/// took seconds or milliseconds keep their meaning). Negative durations and months or years
/// (whose length depends on the calendar) are refused.
pub fn parse_duration(s: &str, bare_unit: Duration) -> std::result::Result<Duration, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        if !n.is_finite() || n < 0.0 {
            return Err(format!("\"{s}\" is not a duration of zero or more"));
        }
        return Duration::try_from_secs_f64(n * bare_unit.as_secs_f64())
            .map_err(|e| format!("\"{s}\": {e}"));
    }
    let span: Span = s.parse().map_err(|e| {
        format!("\"{s}\" is not a duration such as 10m, 1h30m, 2d, 1.5s or 500ms: {e}")
    })?;
    let d: SignedDuration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| format!("\"{s}\": months and years have no fixed length; give days"))?;
    Duration::try_from(d).map_err(|_| format!("\"{s}\" is negative"))
}

/// The moment `ago` before now, as Unix epoch seconds.
pub fn seconds_ago(ago: Duration, now: Timestamp) -> Result<i64> {
    let d = SignedDuration::try_from(ago)
        .map_err(|_| Error::invalid("offset", "the duration is too long"))?;
    now.checked_sub(d)
        .map(|t| t.as_second())
        .map_err(|_| Error::invalid("offset", "that reaches before any time there is"))
}

/// Now, for callers that take a moment to compute from (tests pass a fixed one).
pub fn now() -> Timestamp {
    Timestamp::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_dates_are_refused_with_the_reason() {
        for bad in [
            "2026-02-31",
            "2026-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2024-04-31T10:00:00+02:00",
            "2024-01-01T24:00:01Z",
            "2024-01-01T10:61:00Z",
            "2024-01-01T00:00:0x.1Z",
            "yesterday",
        ] {
            let err = parse_instant_ms(bad).unwrap_err();
            assert!(err.contains(bad), "{bad}: {err}");
        }
        let err = parse_instant_ms("2026-02-31").unwrap_err();
        assert!(err.contains("day"), "{err}");
        assert_eq!(parse_rfc3339_ms("2023-02-29T00:00:00Z"), None);
    }

    #[test]
    fn times_and_dates_are_read_exactly() {
        assert_eq!(
            parse_instant_ms("2024-02-29T23:59:59.5+01:00"),
            Ok(1_709_247_599_500)
        );
        assert_eq!(
            parse_instant_ms("2024-02-29 23:59:59Z"),
            Ok(1_709_251_199_000)
        );
        assert_eq!(parse_instant_ms("2026-11-30"), Ok(1_795_996_800_000));
        assert_eq!(parse_instant_ms("1970-01-01T00:00:00Z"), Ok(0));
        // An offset is required: a local time names no moment.
        assert!(parse_instant_ms("2024-02-29T10:00:00").is_err());
    }

    #[test]
    fn written_times_read_back() {
        assert_eq!(rfc3339_ms(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_ms(Duration::from_millis(1_709_251_199_999)),
            "2024-02-29T23:59:59.999Z"
        );
        assert_eq!(
            rfc3339_ms(Duration::from_secs(4_102_444_800)),
            "2100-01-01T00:00:00.000Z"
        );
        for ms in [0, 951_782_400_000, 1_709_251_199_999, 4_102_444_800_000] {
            assert_eq!(
                parse_rfc3339_ms(&rfc3339_ms(Duration::from_millis(ms))),
                Some(ms as i64)
            );
        }
    }

    #[test]
    fn durations_read_as_people_write_them() {
        let s = Duration::from_secs;
        assert_eq!(parse_duration("10m", s(1)), Ok(s(600)));
        assert_eq!(parse_duration("1h30m", s(1)), Ok(s(5400)));
        assert_eq!(parse_duration("2d", s(1)), Ok(s(172_800)));
        assert_eq!(parse_duration("2 minutes", s(1)), Ok(s(120)));
        assert_eq!(parse_duration("PT10M", s(1)), Ok(s(600)));
        assert_eq!(
            parse_duration("500ms", s(1)),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(
            parse_duration("1.5s", s(1)),
            Ok(Duration::from_millis(1500))
        );
        // A bare number keeps the flag's old unit.
        assert_eq!(parse_duration("5", s(1)), Ok(s(5)));
        assert_eq!(
            parse_duration("1500", Duration::from_millis(1)),
            Ok(Duration::from_millis(1500))
        );
        for bad in ["-5m", "-1", "soon", "1mo", "2y", "10 parsecs", ""] {
            assert!(parse_duration(bad, s(1)).is_err(), "{bad}");
        }
    }

    #[test]
    fn ago_counts_back_from_now() {
        let now: Timestamp = "2026-12-02T17:40:00Z".parse().unwrap();
        assert_eq!(
            seconds_ago(Duration::from_secs(600), now).unwrap(),
            now.as_second() - 600
        );
    }
}
