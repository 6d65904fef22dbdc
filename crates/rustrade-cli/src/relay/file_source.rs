//! [`FileSource`]: the `[[market]]` files of a relay config as a [`MarketSource`], merged in
//! time order and paced at the configured speed.

use rustrade_backtest::DataError;
use rustrade_backtest::data::{CandleCsv, merge};
use rustrade_core::{ExchangeError, MarketEvent, MarketSource, Symbol, Timestamp, async_trait};

use crate::config::Market;
use crate::paper::replay::Speed;

/// The recorded events as a boxed, sendable iterator.
type Events = Box<dyn Iterator<Item = Result<MarketEvent, DataError>> + Send>;

/// Replays data files once; a bad row ends the replay with an error naming it.
pub(crate) struct FileSource {
    events: Events,
    speed: Speed,
    previous: Option<Timestamp>,
}

impl FileSource {
    /// Opens `markets`' files, replayed at `speed`.
    pub(crate) fn open(markets: &[Market], speed: Speed) -> Result<Self, DataError> {
        let sources = markets
            .iter()
            .map(|m| CandleCsv::open(&m.file, m.csv))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            events: Box::new(merge(sources)),
            speed,
            previous: None,
        })
    }
}

#[async_trait]
impl MarketSource for FileSource {
    fn name(&self) -> &str {
        "file"
    }

    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        Ok(())
    }

    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        let event = match self.events.next() {
            None => return Ok(None),
            Some(Ok(event)) => event,
            Some(Err(e)) => {
                // A file does not get better on a retry: end the replay, saying where.
                tracing::error!(error = %e, "relay replay stopped at a bad row");
                self.events = Box::new(std::iter::empty());
                return Err(ExchangeError::Closed(format!("replay stopped: {e}")));
            }
        };
        if let Some(wait) = self.speed.pause(self.previous, event.time) {
            tokio::time::sleep(wait).await;
        }
        self.previous = Some(event.time);
        Ok(Some(event))
    }
}
