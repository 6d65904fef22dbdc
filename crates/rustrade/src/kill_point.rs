//! [`kill_point`]: named places where a crash-test build aborts the process on request.
//!
//! With the `kill-points` feature, `RUSTRADE_KILL_AT=<n>` aborts the process
//! ([`std::process::abort`], no destructor, no flush: what a `SIGKILL` leaves) at the `n`-th hit
//! of any kill point, and `RUSTRADE_KILL_AT=<name>:<n>` at the `n`-th hit of the point `name`.
//! The chaos kit (`rustrade-chaos`) uses it to kill a bot between a journal commit and the
//! send, after a send before the acknowledgement is journalled, and inside a store write.
//! Without the feature every call is an empty inline function.

/// Aborts the process if this hit of `name` is the one `RUSTRADE_KILL_AT` names (see the
/// module documentation); does nothing otherwise or without the `kill-points` feature.
#[inline]
pub fn kill_point(name: &'static str) {
    #[cfg(feature = "kill-points")]
    armed::hit(name);
    #[cfg(not(feature = "kill-points"))]
    let _ = name;
}

#[cfg(feature = "kill-points")]
mod armed {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static TARGET: OnceLock<Option<(Option<String>, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn hit(name: &'static str) {
        let target = TARGET.get_or_init(|| {
            std::env::var("RUSTRADE_KILL_AT")
                .ok()
                .and_then(|v| parse(&v))
        });
        let Some((only, at)) = target else { return };
        if only.as_deref().is_some_and(|only| only != name) {
            return;
        }
        if HITS.fetch_add(1, Ordering::SeqCst) + 1 == *at {
            eprintln!("rustrade kill point {name}: hit {at}, aborting");
            std::process::abort();
        }
    }

    fn parse(text: &str) -> Option<(Option<String>, u64)> {
        match text.rsplit_once(':') {
            Some((name, n)) => Some((Some(name.to_owned()), n.parse().ok()?)),
            None => Some((None, text.parse().ok()?)),
        }
    }
}
