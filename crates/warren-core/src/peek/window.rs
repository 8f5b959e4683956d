//! How many messages each consumer of a peek may hold.
//!
//! A peek must hold exactly what it shows: a message delivered to it and not shown is still
//! touched (marked redelivered, and on quorum queues before 4.3 counted as a delivery), and it
//! is kept from the queue's real consumers while held. The broker's limit on what it sends is
//! the prefetch count, and AMQP's prefetch count is 16-bit (0 means no limit at all). So a
//! peek of more than 65,535 messages opens its consumers one after the other on its one
//! channel, each with its own limit (`basic.qos` with `global = false` before its
//! `basic.consume`; 4.3 refuses global QoS anyway), the limits adding up to exactly the count.
//! A consumer is opened only when the one before it holds all it may, so each one gets the
//! messages after the previous one's, and reading the consumers in turn is reading the queue
//! in order.
//!
//! Streams are different: a stream peek acknowledges as it reads (that changes nothing on a
//! stream), so one consumer with a small window paces the reading and the count ends it.

use super::PeekMethod;

/// The largest prefetch count AMQP can express.
pub const MAX_PREFETCH: u16 = u16::MAX;

/// A stream peek's window: how far the broker may read ahead of what the peek acknowledged.
pub const STREAM_WINDOW: u16 = 1000;

/// The prefetch limit of each consumer a peek of `count` messages opens, in the order it opens
/// them. For queues whose messages are held (every method but streams') the limits add up to
/// exactly `count`, each at most [`MAX_PREFETCH`], every one but the last full; a count of 0
/// needs no consumer. A stream peek has one consumer with a window of at most
/// [`STREAM_WINDOW`].
pub fn consumer_windows(method: PeekMethod, count: u32) -> Vec<u16> {
    if count == 0 {
        return Vec::new();
    }
    if method == PeekMethod::StreamOffset {
        return vec![STREAM_WINDOW.min(u16::try_from(count).unwrap_or(u16::MAX))];
    }
    let full = u32::from(MAX_PREFETCH);
    let mut windows = vec![MAX_PREFETCH; (count / full) as usize];
    let rest = count % full;
    if rest > 0 {
        windows.push(rest as u16);
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(count: u32) -> Vec<u16> {
        consumer_windows(PeekMethod::NackRequeue, count)
    }

    #[test]
    fn held_windows_add_up_to_exactly_the_count() {
        assert_eq!(held(1), [1]);
        assert_eq!(held(12), [12]);
        assert_eq!(held(65_535), [65_535]);
        assert_eq!(held(65_536), [65_535, 1]);
        assert_eq!(held(70_000), [65_535, 4_465]);
        assert_eq!(held(131_070), [65_535, 65_535]);
        assert_eq!(held(super::super::MAX_PEEK), [65_535, 34_465]);
        assert!(held(0).is_empty());
        for count in [1, 999, 65_534, 65_535, 65_536, 100_000, 200_001, u32::MAX] {
            let windows = held(count);
            let total: u64 = windows.iter().map(|&w| u64::from(w)).sum();
            assert_eq!(total, u64::from(count), "{count}");
            // 0 would mean "no limit" to the broker.
            assert!(windows.iter().all(|&w| w > 0), "{count}");
            let (last, rest) = windows.split_last().unwrap();
            assert!(rest.iter().all(|&w| w == MAX_PREFETCH), "{count}");
            assert!(*last > 0);
        }
        assert_eq!(
            consumer_windows(PeekMethod::CloseChannel, 70_000),
            held(70_000)
        );
    }

    #[test]
    fn a_stream_peek_has_one_small_window_whatever_the_count() {
        let stream = |count| consumer_windows(PeekMethod::StreamOffset, count);
        assert_eq!(stream(10), [10]);
        assert_eq!(stream(1000), [1000]);
        assert_eq!(stream(70_000), [STREAM_WINDOW]);
        assert_eq!(stream(u32::MAX), [STREAM_WINDOW]);
        assert!(stream(0).is_empty());
    }
}
