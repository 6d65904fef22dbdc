//! [`Message`]: what one HTTP call carries — a single notice, or several coalesced into one
//! ("N more events") when the channel's rate limit held them back or its queue dropped some.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::notice::Notice;

/// Critical lines a coalesced message quotes in full; the rest are counted.
const QUOTED_CRITICAL: usize = 5;

/// One message to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    /// `fill`, `halt`, ..., or `coalesced`.
    pub(crate) kind: &'static str,
    /// Whether any notice in it is critical.
    pub(crate) critical: bool,
    /// RFC 3339 time of the (newest) notice.
    pub(crate) time: String,
    /// The text a human reads.
    pub(crate) text: String,
    /// Structured details.
    pub(crate) details: Value,
}

impl Message {
    /// One notice as it is.
    pub(crate) fn single(n: &Notice) -> Self {
        Self {
            kind: n.kind.label(),
            critical: n.critical,
            time: n.time.to_rfc3339(),
            text: n.text.clone(),
            details: n.details.clone(),
        }
    }

    /// `notices` (at least one) and `dropped` notices the queue had no room for, as one
    /// message: one notice and nothing dropped is sent as it is; otherwise a count per kind,
    /// with the first critical lines quoted.
    pub(crate) fn coalesce(notices: &[Notice], dropped: u64) -> Self {
        if let ([only], 0) = (notices, dropped) {
            return Self::single(only);
        }
        let mut per_kind: BTreeMap<&'static str, u64> = BTreeMap::new();
        for n in notices {
            *per_kind.entry(n.kind.label()).or_default() += 1;
        }
        let counts: Vec<String> = per_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let mut text = format!(
            "{} more events (rate limited): {}",
            notices.len(),
            counts.join(", ")
        );
        if dropped > 0 {
            text.push_str(&format!("; {dropped} dropped (queue full)"));
        }
        let critical: Vec<&Notice> = notices.iter().filter(|n| n.critical).collect();
        for n in critical.iter().take(QUOTED_CRITICAL) {
            text.push_str("\n- ");
            text.push_str(&n.text);
        }
        if critical.len() > QUOTED_CRITICAL {
            text.push_str(&format!(
                "\n- and {} more critical",
                critical.len() - QUOTED_CRITICAL
            ));
        }
        Self {
            kind: "coalesced",
            critical: !critical.is_empty(),
            time: notices
                .last()
                .map(|n| n.time.to_rfc3339())
                .unwrap_or_default(),
            text,
            details: json!({
                "count": notices.len(),
                "dropped": dropped,
                "kinds": per_kind,
                "critical": critical.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
            }),
        }
    }

    /// The webhook's JSON body, for bot `bot`.
    pub(crate) fn to_json(&self, bot: &str) -> Value {
        json!({
            "bot": bot,
            "kind": self.kind,
            "critical": self.critical,
            "time": self.time,
            "text": self.text,
            "details": self.details,
        })
    }
}
