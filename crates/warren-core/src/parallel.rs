//! CPU work that must finish before the network may be used, spread over the machine's cores.
//!
//! A replay reads, checks and renders every message before the first goes out (bad input is
//! refused before anything changes), so that work is pure wall-clock time added to the run.
//! It splits into independent pieces by position; this runs one contiguous range per core and
//! puts the results back in order. The error a caller gets is the one of the earliest failing
//! position, exactly as a single pass in order would give it.

use std::ops::Range;

/// Below this many items the work stays on the calling thread: threads would cost more than
/// they save.
pub const PARALLEL_FROM: usize = 4096;

/// `work` over `0..len` in one range per core (one range when `len` is under
/// [`PARALLEL_FROM`] or there is one core), each range's results in order, concatenated in
/// order. The first range (in position order) that fails gives the error.
pub fn try_map_ranges<T: Send, E: Send>(
    len: usize,
    work: impl Fn(Range<usize>) -> Result<Vec<T>, E> + Sync,
) -> Result<Vec<T>, E> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || len < PARALLEL_FROM {
        return work(0..len);
    }
    let chunk = len.div_ceil(threads);
    let parts: Vec<Result<Vec<T>, E>> = std::thread::scope(|scope| {
        let work = &work;
        let workers: Vec<_> = (0..len)
            .step_by(chunk)
            .map(|start| scope.spawn(move || work(start..(start + chunk).min(len))))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(len);
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_and_the_earliest_error_wins() {
        let len = 3 * PARALLEL_FROM + 17;
        let squares = try_map_ranges(len, |r| Ok::<_, usize>(r.map(|i| i * i).collect()));
        assert_eq!(
            squares.unwrap(),
            (0..len).map(|i| i * i).collect::<Vec<_>>()
        );

        let bad = [len - 3, len / 2 + 1, 2 * PARALLEL_FROM];
        let first_bad = |r: Range<usize>| -> Result<Vec<usize>, usize> {
            r.map(|i| if bad.contains(&i) { Err(i) } else { Ok(i) })
                .collect()
        };
        assert_eq!(try_map_ranges(len, first_bad), Err(len / 2 + 1));
        assert_eq!(try_map_ranges(10, first_bad).unwrap().len(), 10);
    }
}
