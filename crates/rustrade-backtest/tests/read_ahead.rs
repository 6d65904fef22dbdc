//! [`ReadAhead`] over hand-made sources: the same items in the same order, errors included,
//! and a panicking source turned into an error after the events it yielded.

use rustrade_backtest::DataError;
use rustrade_backtest::data::ReadAhead;
use rustrade_backtest::synthetic;
use rustrade_core::MarketEvent;

fn events(n: usize) -> Vec<MarketEvent> {
    synthetic::random_walk(7, n)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// An error standing for row `i`.
fn error(i: usize) -> DataError {
    DataError::BadValue {
        file: "test".to_owned(),
        line: i as u64,
        column: "close".to_owned(),
        value: "x".to_owned(),
        reason: "test".to_owned(),
    }
}

/// Items as text, errors included, for comparing streams.
fn describe(items: impl Iterator<Item = Result<MarketEvent, DataError>>) -> Vec<String> {
    items
        .map(|item| match item {
            Ok(e) => format!("{e:?}"),
            Err(e) => format!("error {e}"),
        })
        .collect()
}

#[test]
fn a_source_that_goes_on_after_errors_is_forwarded_item_for_item() {
    let source = || {
        events(50).into_iter().enumerate().map(
            |(i, e)| {
                if i % 7 == 3 { Err(error(i)) } else { Ok(e) }
            },
        )
    };
    let direct = describe(source());
    for (per_batch, batches) in [(1, 1), (2, 1), (3, 2), (64, 4)] {
        let ahead = ReadAhead::with_batches(source(), per_batch, batches).unwrap();
        assert_eq!(
            describe(ahead),
            direct,
            "{per_batch} events a batch, {batches} ahead"
        );
    }
}

/// Yields `good` events, then panics.
struct Panicking {
    events: std::vec::IntoIter<MarketEvent>,
}

impl Iterator for Panicking {
    type Item = Result<MarketEvent, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.events.next() {
            Some(e) => Some(Ok(e)),
            None => panic!("decoder bug"),
        }
    }
}

#[test]
fn a_panicking_source_is_an_error_after_the_events_it_yielded() {
    let good = events(10);
    for (per_batch, batches) in [(1, 1), (4, 2), (64, 4)] {
        let source = Panicking {
            events: good.clone().into_iter(),
        };
        let mut ahead = ReadAhead::with_batches(source, per_batch, batches).unwrap();
        for expected in &good {
            assert_eq!(&ahead.next().unwrap().unwrap(), expected);
        }
        let err = ahead.next().unwrap().unwrap_err();
        assert!(
            matches!(&err, DataError::ReadAhead { reason } if reason.contains("decoder bug")),
            "{err:?}"
        );
        assert!(ahead.next().is_none(), "the stream ends after the panic");
        assert!(ahead.next().is_none());
    }
}

#[test]
fn an_empty_source_ends_at_once() {
    let mut ahead = ReadAhead::new(std::iter::empty()).unwrap();
    assert!(ahead.next().is_none());
    assert!(ahead.next().is_none());
}
