//! [`Profile`]: how often each fault happens and how the bot is killed in one run.
//!
//! Every probability is drawn from the run's seeded generator, per opportunity: per placement
//! for the order faults, per report for the fill-stream faults, per bar for the stream
//! disconnects and the manual trade, per request for the rate limit.

use crate::ChaosError;

/// The fault probabilities and kill mix of a run.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// The profile's name.
    pub name: &'static str,
    /// A placement is carried out but its answer is never sent (connection dropped).
    pub drop_ack: f64,
    /// A placement is carried out and answered with a timeout.
    pub accept_then_timeout: f64,
    /// A placement is refused with a retryable answer (rate limited) and not carried out.
    pub reject_retryable: f64,
    /// A placement is refused with a definite rejection and not carried out.
    pub reject_final: f64,
    /// A placement is answered "outcome unknown" and not carried out.
    pub lost_in_transit: f64,
    /// Whether the refusals and the loss in transit also hit reduce-only orders (exits and
    /// protective legs).
    pub refuse_reduce_only: bool,
    /// A read request (status, fills, orders, positions) is answered "rate limited".
    pub rate_limit: f64,
    /// An execution report is sent twice.
    pub duplicate_fill: f64,
    /// An execution report is held back for one to three bars.
    pub delay_fill: f64,
    /// An execution report swaps places with the next one.
    pub reorder_fill: f64,
    /// Per bar: the fill stream goes silent (stays open, sends nothing more).
    pub mute_fills: f64,
    /// Per bar: the fill stream is closed.
    pub close_fills: f64,
    /// Per bar: the market stream goes silent.
    pub mute_market: f64,
    /// Per bar: the market stream is closed.
    pub close_market: f64,
    /// Per bar: someone trades the account by hand (a market order the bot did not send).
    pub manual_trade: f64,
    /// Share of kills made by a kill point inside the bot (the rest are `SIGKILL`s at a random
    /// instant from the harness).
    pub kill_point_share: f64,
    /// Most bars a bot life lasts before its kill.
    pub max_bars_per_life: u32,
    /// Most bars replayed while the bot is down (the venue fills its resting orders meanwhile).
    pub max_bars_down: u32,
}

impl Profile {
    /// No fault; kills only.
    pub const CALM: Self = Self {
        name: "calm",
        drop_ack: 0.0,
        accept_then_timeout: 0.0,
        reject_retryable: 0.0,
        reject_final: 0.0,
        lost_in_transit: 0.0,
        refuse_reduce_only: true,
        rate_limit: 0.0,
        duplicate_fill: 0.0,
        delay_fill: 0.0,
        reorder_fill: 0.0,
        mute_fills: 0.0,
        close_fills: 0.0,
        mute_market: 0.0,
        close_market: 0.0,
        manual_trade: 0.0,
        kill_point_share: 0.5,
        max_bars_per_life: 6,
        max_bars_down: 2,
    };

    /// Every fault of the venue except manual trades, at rates that hit most bot lives.
    pub const STORMY: Self = Self {
        name: "stormy",
        drop_ack: 0.05,
        accept_then_timeout: 0.05,
        reject_retryable: 0.03,
        reject_final: 0.03,
        lost_in_transit: 0.03,
        refuse_reduce_only: true,
        rate_limit: 0.01,
        duplicate_fill: 0.1,
        delay_fill: 0.05,
        reorder_fill: 0.05,
        mute_fills: 0.02,
        close_fills: 0.03,
        mute_market: 0.01,
        close_market: 0.02,
        manual_trade: 0.0,
        kill_point_share: 0.5,
        max_bars_per_life: 6,
        max_bars_down: 2,
    };

    /// [`Profile::CI`] plus manual trades on the account.
    pub const MANUAL: Self = Self {
        name: "manual",
        manual_trade: 0.03,
        ..Self::CI
    };

    /// Kills plus fill reports delayed and reordered on the stream, nothing else.
    pub const REORDERED: Self = Self {
        name: "reordered",
        delay_fill: 0.15,
        reorder_fill: 0.15,
        ..Self::CALM
    };

    /// The profile CI holds to zero violations: every fault of [`Profile::STORMY`], refusals
    /// and losses in transit on exits and protective legs included.
    pub const CI: Self = Self {
        name: "ci",
        ..Self::STORMY
    };

    /// Kills plus placements refused, retryably and for good, exits and protective legs
    /// included: every position must stay protected or be closing.
    pub const REFUSED_EXITS: Self = Self {
        name: "refused-exits",
        reject_retryable: 0.1,
        reject_final: 0.05,
        ..Self::CALM
    };

    /// Every named profile.
    pub const ALL: [Self; 6] = [
        Self::CALM,
        Self::STORMY,
        Self::MANUAL,
        Self::REORDERED,
        Self::CI,
        Self::REFUSED_EXITS,
    ];

    /// The profile called `name`; the error lists the names.
    pub fn named(name: &str) -> Result<Self, ChaosError> {
        Self::ALL
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ChaosError::Invalid {
                field: "profile",
                value: name.to_owned(),
                reason: "unknown profile (calm, stormy, manual, reordered, ci, refused-exits)",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_by_name_and_bad_name_is_named() {
        assert_eq!(Profile::named("stormy").unwrap(), Profile::STORMY);
        assert!(Profile::named("ci").unwrap().refuse_reduce_only);
        assert_eq!(
            Profile::named("refused-exits").unwrap(),
            Profile::REFUSED_EXITS
        );
        let err = Profile::named("windy").unwrap_err().to_string();
        assert!(err.contains("profile") && err.contains("windy"), "{err}");
    }
}
