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
//! The window is also what bounds memory before the peek's budget can: the broker pushes a
//! whole window at once, and the AMQP client buffers what the peek has not taken yet. So each
//! window is cut to what the budget still has room for, counting every message as large as the
//! largest one held so far; the first, before any size is known, as large as the broker's
//! maximum message size. Small messages cost one tiny first window; large ones never arrive in
//! more than the budget's worth.
//!
//! Streams are different: a stream peek acknowledges as it reads (that changes nothing on a
//! stream), so one consumer with a small window paces the reading and the count ends it.

use super::PeekMethod;

/// The largest prefetch count AMQP can express.
pub const MAX_PREFETCH: u16 = u16::MAX;

/// A stream peek's window: how far the broker may read ahead of what the peek acknowledged.
pub const STREAM_WINDOW: u16 = 1000;

/// The prefetch limit of the next consumer a held peek opens (every method but streams'):
/// at most the `remaining` count, at most [`MAX_PREFETCH`], and at most as many messages of
/// `largest` bytes as `budget_left` holds, but never 0 (which would mean no limit); `None`
/// when nothing remains to read. Opened in turn, the windows add up to exactly the count
/// unless the budget ends the peek first.
pub fn next_held_window(remaining: u32, budget_left: u64, largest: u64) -> Option<u16> {
    if remaining == 0 {
        return None;
    }
    let fit = (budget_left / largest.max(1)).max(1);
    let window = u64::from(remaining).min(u64::from(MAX_PREFETCH)).min(fit);
    Some(u16::try_from(window).expect("at most MAX_PREFETCH"))
}

/// A stream peek's one window for a peek of `count` messages.
pub fn stream_window(count: u32) -> u16 {
    STREAM_WINDOW.min(u16::try_from(count).unwrap_or(u16::MAX))
}

/// The window of the consumer a peek opens when `received` messages of `count` are held.
pub fn next_window(
    method: PeekMethod,
    count: u32,
    received: u32,
    budget_left: u64,
    largest: u64,
) -> Option<u16> {
    if method == PeekMethod::StreamOffset {
        return (received == 0 && count > 0).then(|| stream_window(count));
    }
    next_held_window(count.saturating_sub(received), budget_left, largest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const BUDGET: u64 = 256 * MIB;
    const MAX_3X: u64 = 128 * MIB;

    /// The windows a peek of `count` messages of `size` bytes each opens, each consumer filled
    /// before the next opens, until the count or the budget ends it.
    fn windows(count: u32, size: u64) -> Vec<u16> {
        let (mut received, mut held, mut largest) = (0u32, 0u64, MAX_3X);
        let mut out = Vec::new();
        while let Some(w) = next_held_window(count - received, BUDGET - held, largest) {
            out.push(w);
            for _ in 0..w {
                if held + size > BUDGET {
                    return out;
                }
                held += size;
                received += 1;
                largest = if received == 1 {
                    size
                } else {
                    largest.max(size)
                };
            }
        }
        out
    }

    #[test]
    fn small_messages_take_one_tiny_window_then_full_ones_adding_up_to_the_count() {
        assert_eq!(windows(1, 256), [1]);
        assert_eq!(windows(12, 256), [2, 10]);
        assert_eq!(windows(65_535, 256), [2, 65_533]);
        assert_eq!(windows(70_000, 256), [2, 65_535, 4_463]);
        assert_eq!(windows(super::super::MAX_PEEK, 256).len(), 3);
        for count in [1, 999, 65_534, 65_535, 65_536, 100_000, 200_001] {
            let w = windows(count, 256);
            let total: u64 = w.iter().map(|&w| u64::from(w)).sum();
            assert_eq!(total, u64::from(count), "{count}");
            // 0 would mean "no limit" to the broker.
            assert!(w.iter().all(|&w| w > 0), "{count}");
        }
    }

    #[test]
    fn large_messages_never_come_in_more_than_the_budget_holds() {
        // 100,000 messages of 1 MiB: before the fix one window let 65,535 MiB in.
        let w = windows(100_000, MIB);
        // The last window of 1 is the one whose message finds the budget full.
        assert_eq!(w, [2, 254, 1]);
        // What the broker may push beyond what is held never passes the budget left.
        let mut held = 0u64;
        let mut largest = MAX_3X;
        for &window in &w {
            assert!(u64::from(window) * largest <= BUDGET - held || window == 1);
            held += u64::from(window) * MIB;
            largest = MIB;
        }
        // Messages near the broker's limit: a window of one once the budget has no room for two.
        assert_eq!(windows(10, 100 * MIB), [2, 1]);
    }

    #[test]
    fn nothing_left_needs_no_consumer_and_a_full_budget_still_asks_for_one() {
        assert_eq!(next_held_window(0, BUDGET, 1), None);
        assert_eq!(next_held_window(5, 0, MIB), Some(1));
        assert_eq!(next_held_window(u32::MAX, u64::MAX, 0), Some(MAX_PREFETCH));
    }

    #[test]
    fn a_stream_peek_has_one_small_window_whatever_the_count() {
        let stream = |count| next_window(PeekMethod::StreamOffset, count, 0, BUDGET, MAX_3X);
        assert_eq!(stream(10), Some(10));
        assert_eq!(stream(1000), Some(1000));
        assert_eq!(stream(70_000), Some(STREAM_WINDOW));
        assert_eq!(stream(u32::MAX), Some(STREAM_WINDOW));
        assert_eq!(stream(0), None);
        assert_eq!(
            next_window(PeekMethod::StreamOffset, 10, 3, BUDGET, 1),
            None,
            "one consumer"
        );
        assert_eq!(
            next_window(PeekMethod::CloseChannel, 70_000, 0, BUDGET, 256),
            Some(65_535)
        );
    }
}
