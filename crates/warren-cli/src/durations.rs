//! Flags that take a length of time (`--idle-ms`, `--idle-timeout`): a duration as people
//! write it (`2s`, `500ms`, `1m30s`), read by warren-core's one time module, or a bare number
//! in the flag's historical unit, so scripts written for the number keep working.

use std::time::Duration;

/// A duration whose bare number is milliseconds (`--idle-ms 1500` or `--idle-ms 1.5s`).
pub fn millis(s: &str) -> Result<Duration, String> {
    warren_core::time::parse_duration(s, Duration::from_millis(1))
}

/// A positive duration whose bare number is seconds (`--idle-timeout 5` or `--idle-timeout 2m`).
pub fn positive_seconds(s: &str) -> Result<Duration, String> {
    let d = warren_core::time::parse_duration(s, Duration::from_secs(1))?;
    if d.is_zero() {
        return Err(format!(
            "\"{s}\" is no time at all; give a positive duration"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_keep_their_unit_and_durations_read_as_written() {
        assert_eq!(millis("1500"), Ok(Duration::from_millis(1500)));
        assert_eq!(millis("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(positive_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(positive_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(positive_seconds("2m"), Ok(Duration::from_secs(120)));
        assert!(positive_seconds("0").is_err());
        assert!(positive_seconds("-1s").is_err());
        assert!(millis("soon").is_err());
    }
}
