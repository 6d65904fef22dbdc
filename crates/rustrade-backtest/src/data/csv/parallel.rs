//! A whole CSV file decoded on several threads, with the stream's results and errors.
//!
//! The bytes are cut into runs of whole lines (each cut just after a `\n`), one per thread. The
//! first run detects the layout as the stream does; the others decode with that layout, their
//! line numbers offset by the `\n`s before them (counted in parallel first). Each run stops at
//! its first bad row. The runs are then read in file order: time order is checked row by row
//! (or, when sorting, every row is sorted after the first bad row's error, if any, is
//! returned), so the events and the first error are exactly the stream's.
//!
//! A file holding a `"` is read by the stream, on one thread: a quoted field may hold a `\n`,
//! and a cut there would split a record. On one thread the line ends still size the buffer, so
//! collecting the rows copies none of them.

use memchr::{memchr, memchr_iter};
use rustrade_core::MarketEvent;

use super::{CandleCsv, CsvOptions, disorder};
use crate::DataError;
use crate::data::order::{TimeOrder, sort_strictly};

/// Smallest run of lines worth a thread of its own.
pub(super) const MIN_CHUNK: usize = 256 * 1024;

/// What one run decoded: its rows up to the first error, and that error.
struct Run {
    /// The rows, in file order.
    events: Vec<MarketEvent>,
    /// The line of each row, kept only when the rows are to be sorted.
    lines: Vec<u64>,
    /// The lines of the first and last row (`0` without rows).
    first_line: u64,
    last_line: u64,
    error: Option<DataError>,
}

/// [`CandleCsv::decode_all`] with runs of at least `min_chunk` bytes.
pub(super) fn decode(
    bytes: &[u8],
    name: &str,
    options: CsvOptions,
    threads: usize,
    min_chunk: usize,
) -> Result<Vec<MarketEvent>, DataError> {
    if memchr(b'"', bytes).is_some() {
        return CandleCsv::from_reader(bytes, name, options)?.collect();
    }
    let starts = run_starts(bytes, threads, min_chunk);
    let ranges: Vec<(usize, usize)> = starts
        .iter()
        .zip(starts.iter().skip(1).chain([&bytes.len()]))
        .map(|(&a, &b)| (a, b))
        .collect();
    let first = match CandleCsv::from_reader(&bytes[..ranges[0].1], name, options) {
        // Only blank lines in the first run: the first record, header or not, lies further on.
        Err(DataError::Empty { .. }) => {
            return CandleCsv::from_reader(bytes, name, options)?.collect();
        }
        first => first?,
    };
    let counts = line_ends(bytes, &ranges);
    let lines = first_lines(&counts);
    let layout = first.layout.clone();
    let layout = &layout;
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let rest: Vec<_> = ranges[1..]
            .iter()
            .zip(&lines[1..])
            .zip(&counts[1..])
            .map(|((&(a, b), &line), &rows)| {
                scope.spawn(move || {
                    let reader = CandleCsv::continuation(
                        &bytes[a..b],
                        name.into(),
                        options,
                        layout.clone(),
                        line,
                    );
                    decode_run(reader, rows, options.sort)
                })
            })
            .collect();
        let mut runs = Vec::with_capacity(ranges.len());
        // The first run's buffer takes every run's rows, so joining them moves no row twice.
        let all = counts.iter().sum::<usize>() + counts.len();
        runs.push(decode_run(first, all, options.sort));
        runs.extend(rest.into_iter().map(|h| match h.join() {
            Ok(run) => run,
            Err(panic) => std::panic::resume_unwind(panic),
        }));
        runs
    });
    join_runs(runs, name, options.sort)
}

/// Offsets where the runs start: `0`, then just after the first `\n` at or past each even share
/// of the bytes; fewer runs than `threads` when a run would be under `min_chunk` bytes.
fn run_starts(bytes: &[u8], threads: usize, min_chunk: usize) -> Vec<usize> {
    let runs = threads.min(bytes.len() / min_chunk.max(1)).max(1);
    let mut starts = vec![0];
    for i in 1..runs {
        let from = (bytes.len() / runs * i).max(starts[starts.len() - 1]);
        match memchr(b'\n', &bytes[from..]) {
            Some(n) if from + n + 1 < bytes.len() => {
                let start = from + n + 1;
                if start > starts[starts.len() - 1] {
                    starts.push(start);
                }
            }
            _ => break,
        }
    }
    starts
}

/// The `\n`s in each run, counted on the threads: the lines each run starts on follow, and
/// bound its rows.
fn line_ends(bytes: &[u8], ranges: &[(usize, usize)]) -> Vec<usize> {
    let count = |(a, b): (usize, usize)| memchr_iter(b'\n', &bytes[a..b]).count();
    std::thread::scope(|scope| {
        let rest: Vec<_> = ranges[1..]
            .iter()
            .map(|&range| scope.spawn(move || count(range)))
            .collect();
        let mut counts = Vec::with_capacity(ranges.len());
        counts.push(count(ranges[0]));
        counts.extend(rest.into_iter().map(|h| match h.join() {
            Ok(n) => n,
            Err(panic) => std::panic::resume_unwind(panic),
        }));
        counts
    })
}

/// The line each run starts on: one more than the `\n`s before it.
fn first_lines(line_ends: &[usize]) -> Vec<u64> {
    let mut line = 1;
    line_ends
        .iter()
        .map(|&n| {
            let first = line;
            line += n as u64;
            first
        })
        .collect()
}

/// Every row of one run up to its first error, time order checked within the run unless
/// the rows are to be sorted; `rows` (its line ends) bounds their number, but for a last line
/// without one.
fn decode_run(mut reader: CandleCsv<&[u8]>, rows: usize, sort: bool) -> Run {
    let mut run = Run {
        events: Vec::with_capacity(rows + 1),
        lines: Vec::with_capacity(if sort { rows + 1 } else { 0 }),
        first_line: 0,
        last_line: 0,
        error: None,
    };
    let mut order = TimeOrder::new();
    while let Some(row) = reader.next_streamed() {
        let checked = row.and_then(|(event, line)| {
            if !sort {
                order
                    .check(event.time, line)
                    .map_err(|b| disorder(&reader.file, b))?;
            }
            Ok((event, line))
        });
        match checked {
            Ok((event, line)) => {
                if run.events.is_empty() {
                    run.first_line = line;
                }
                run.last_line = line;
                run.events.push(event);
                if sort {
                    run.lines.push(line);
                }
            }
            Err(e) => {
                run.error = Some(e);
                break;
            }
        }
    }
    run
}

/// The runs' rows in file order, checked (or sorted) as the stream checks them: within a run
/// the run did it; across runs, the first row of each against the last row before it.
fn join_runs(runs: Vec<Run>, name: &str, sort: bool) -> Result<Vec<MarketEvent>, DataError> {
    let total = runs.iter().map(|r| r.events.len()).sum();
    if sort {
        let mut rows = Vec::with_capacity(total);
        for run in runs {
            if let Some(e) = run.error {
                return Err(e);
            }
            rows.extend(run.events.into_iter().zip(run.lines));
        }
        sort_strictly(&mut rows).map_err(|b| disorder(name, b))?;
        return Ok(rows.into_iter().map(|(e, _)| e).collect());
    }
    let mut runs = runs.into_iter();
    let Some(first) = runs.next() else {
        return Ok(Vec::new());
    };
    if let Some(e) = first.error {
        return Err(e);
    }
    let mut last = first.events.last().map(|e| (e.time, first.last_line));
    let mut events = first.events;
    events.reserve(total - events.len());
    for run in runs {
        if let (Some((time, line)), Some(next)) = (last, run.events.first()) {
            let mut order = TimeOrder::new();
            order.check(time, line).map_err(|b| disorder(name, b))?;
            order
                .check(next.time, run.first_line)
                .map_err(|b| disorder(name, b))?;
        }
        if let Some(e) = run.error {
            return Err(e);
        }
        if let Some(e) = run.events.last() {
            last = Some((e.time, run.last_line));
        }
        events.extend(run.events);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rustrade_core::Symbol;

    use super::*;

    /// The stream's outcome as comparable text.
    fn outcome(r: Result<Vec<MarketEvent>, DataError>) -> String {
        match r {
            Ok(events) => format!("{events:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    fn streamed(bytes: &[u8], options: CsvOptions) -> String {
        outcome(
            CandleCsv::from_reader(bytes, "t.csv", options)
                .and_then(|r| r.collect::<Result<Vec<_>, _>>()),
        )
    }

    /// One line of a candle file: a good row at `t`, or one of the ways a row goes wrong.
    fn line(kind: u8, t: i64) -> String {
        let p = 100 + t % 7;
        match kind {
            0..=5 => format!("{t},{p},{},{},{p},5", p + 2, p - 1),
            6 => format!("{t},{p},{},{},{p},5\r", p + 2, p - 1),
            7 => String::new(),
            8 => format!("{t},abc,{},{},{p},5", p + 2, p - 1),
            9 => format!("{t},{p},{}", p + 2),
            10 => format!("{t},{p},{},{},{p},NaN", p + 2, p - 1),
            // Before the previous row, or at its time.
            11 => format!("{},{p},{},{},{p},5", t - 90, p + 2, p - 1),
            _ => format!("{},{p},{},{},{p},5", t - 60, p + 2, p - 1),
        }
    }

    fn file(header: bool, kinds: &[u8]) -> String {
        let mut text = String::new();
        if header {
            text.push_str("time,open,high,low,close,volume\n");
        }
        for (i, &k) in kinds.iter().enumerate() {
            text.push_str(&line(k, 1_700_000_000 + 60 * i as i64));
            text.push('\n');
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any cut of any file, good or bad, gives the stream's events or its first error.
        #[test]
        fn decoding_in_runs_gives_the_streams_outcome(
            header in any::<bool>(),
            kinds in prop::collection::vec(prop_oneof![8 => 0u8..7, 1 => 7u8..13], 0..60),
            threads in 1usize..6,
            min_chunk in 1usize..200,
            sort in any::<bool>(),
        ) {
            let text = file(header, &kinds);
            let options = CsvOptions::new(Symbol::new("T").unwrap()).sort_by_time(sort);
            let runs = decode(text.as_bytes(), "t.csv", options, threads, min_chunk);
            prop_assert_eq!(outcome(runs), streamed(text.as_bytes(), options));
        }
    }

    #[test]
    fn runs_start_after_a_line_end_and_never_twice() {
        let text = "a\nbb\nccc\ndddd\n";
        let starts = run_starts(text.as_bytes(), 4, 1);
        assert_eq!(starts[0], 0);
        for pair in starts.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        for &s in &starts[1..] {
            assert_eq!(text.as_bytes()[s - 1], b'\n');
        }
        assert_eq!(run_starts(text.as_bytes(), 4, 1_000), vec![0]);
        assert_eq!(run_starts(b"", 4, 1), vec![0]);
        assert_eq!(run_starts(b"no line end at all", 3, 1), vec![0]);
    }

    #[test]
    fn an_error_late_in_the_file_names_its_own_line() {
        let mut kinds = vec![0u8; 5_000];
        kinds[4_321] = 8;
        let text = file(true, &kinds);
        let options = CsvOptions::new(Symbol::new("T").unwrap());
        let e = decode(text.as_bytes(), "t.csv", options, 4, 1_024).unwrap_err();
        assert!(run_starts(text.as_bytes(), 4, 1_024).len() == 4);
        assert_eq!(e.line(), Some(4_323));
        let shown = e.to_string();
        assert!(shown.contains("\"abc\""), "{shown}");
        assert_eq!(
            shown,
            streamed(text.as_bytes(), options).trim_start_matches("error: ")
        );
    }

    #[test]
    fn a_quoted_file_is_decoded_on_one_thread_with_the_same_outcome() {
        let text = "time,open,high,low,close,volume\n1,\"10\",11,9,10,1\n2,10,11,9,10,1\n";
        let options = CsvOptions::new(Symbol::new("T").unwrap());
        let runs = decode(text.as_bytes(), "t.csv", options, 4, 1);
        assert_eq!(outcome(runs), streamed(text.as_bytes(), options));
    }
}
