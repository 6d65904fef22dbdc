//! [`ParseError`] and the field readers every venue-message parser uses: each names the field
//! and the value it refused, and none panics whatever the input.

use serde_json::{Map, Value};

use rustrade_core::{Price, Symbol, Timestamp};

/// Longest value text kept in a [`ParseError`].
const MAX_VALUE: usize = 64;

/// A venue message with a missing field, a field of the wrong type, or a value out of its
/// domain ("NaN" as a price, an unknown enum variant).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field:?}: {reason} (got {value})")]
pub struct ParseError {
    /// The field, as a path (`k.o` for the open price inside a kline).
    pub field: String,
    /// The offending value as JSON text, truncated; `<missing>` when absent.
    pub value: String,
    /// What rule it broke.
    pub reason: &'static str,
}

impl ParseError {
    /// A refusal of `value` in `field`.
    pub fn new(field: impl Into<String>, value: Option<&Value>, reason: &'static str) -> Self {
        let value = match value {
            None => "<missing>".to_owned(),
            Some(v) => {
                let text = v.to_string();
                if text.len() > MAX_VALUE {
                    let mut end = MAX_VALUE;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    format!("{}…", &text[..end])
                } else {
                    text
                }
            }
        };
        Self {
            field: field.into(),
            value,
            reason,
        }
    }
}

/// A JSON object, with the path of the field it came from for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Obj<'a> {
    /// The top-level object of a message.
    pub(crate) fn root(v: &'a Value) -> Result<Self, ParseError> {
        match v {
            Value::Object(map) => Ok(Self { map, path: "" }),
            other => Err(ParseError::new(
                "<message>",
                Some(other),
                "not a JSON object",
            )),
        }
    }

    fn name(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    /// The raw value of `field`, if present and not null.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// A nested object.
    pub(crate) fn obj(&self, field: &'a str) -> Result<Self, ParseError> {
        match self.map.get(field) {
            Some(Value::Object(map)) => Ok(Self { map, path: field }),
            other => Err(ParseError::new(
                self.name(field),
                other,
                "expected an object",
            )),
        }
    }

    /// A required string.
    pub(crate) fn str(&self, field: &str) -> Result<&'a str, ParseError> {
        match self.map.get(field) {
            Some(Value::String(s)) => Ok(s),
            other => Err(ParseError::new(
                self.name(field),
                other,
                "expected a string",
            )),
        }
    }

    /// A required integer.
    pub(crate) fn int(&self, field: &str) -> Result<i64, ParseError> {
        match self.map.get(field) {
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or_default()),
            other => Err(ParseError::new(
                self.name(field),
                other,
                "expected an integer",
            )),
        }
    }

    /// A required boolean.
    pub(crate) fn bool(&self, field: &str) -> Result<bool, ParseError> {
        match self.map.get(field) {
            Some(Value::Bool(b)) => Ok(*b),
            other => Err(ParseError::new(
                self.name(field),
                other,
                "expected true or false",
            )),
        }
    }

    /// A required finite decimal, sent as a string (`"0.10000000"`) or a number.
    pub(crate) fn decimal(&self, field: &str) -> Result<f64, ParseError> {
        let v = self.map.get(field);
        let parsed = match v {
            Some(Value::String(s)) => parse_decimal(s),
            Some(Value::Number(n)) => n.as_f64(),
            _ => return Err(ParseError::new(self.name(field), v, "expected a decimal")),
        };
        match parsed {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(ParseError::new(self.name(field), v, "not a finite decimal")),
        }
    }

    /// A required time in epoch milliseconds.
    pub(crate) fn time_ms(&self, field: &str) -> Result<Timestamp, ParseError> {
        let ms = self.int(field)?;
        Timestamp::from_millis(ms).map_err(|_| {
            ParseError::new(self.name(field), self.map.get(field), "time out of range")
        })
    }

    /// A required symbol.
    pub(crate) fn symbol(&self, field: &str) -> Result<Symbol, ParseError> {
        Symbol::new(self.str(field)?).map_err(|_| self.bad(field, "not a valid symbol"))
    }

    /// A required price that must be positive.
    pub(crate) fn positive_price(&self, field: &str) -> Result<Price, ParseError> {
        Price::new(self.decimal(field)?)
            .ok()
            .filter(|p| p.get() > 0.0)
            .ok_or_else(|| self.bad(field, "must be > 0"))
    }

    /// An error about `field` of this object.
    pub(crate) fn bad(&self, field: &str, reason: &'static str) -> ParseError {
        ParseError::new(self.name(field), self.map.get(field), reason)
    }
}

/// A decimal in plain notation (digits, one point, optional sign): what Binance sends. Refuses
/// `NaN`, `inf` and exponents, which `f64::from_str` would accept.
pub(crate) fn parse_decimal(s: &str) -> Option<f64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut points = 0;
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| {
            points += usize::from(b == b'.');
            b.is_ascii_digit() || b == b'.'
        })
        && points <= 1
        && digits != ".";
    if ok { s.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_refuse_nan_and_exponents() {
        assert_eq!(parse_decimal("0.10000000"), Some(0.1));
        assert_eq!(parse_decimal("-3"), Some(-3.0));
        for bad in [
            "NaN",
            "inf",
            "-infinity",
            "1e5",
            "",
            ".",
            "1.2.3",
            "+1",
            " 1",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_name_field_and_value() {
        let v = json!({"p": "NaN", "k": {"x": "yes"}, "n": 1.5});
        let o = Obj::root(&v).unwrap();
        let e = o.decimal("p").unwrap_err();
        assert_eq!(
            e.to_string(),
            "field \"p\": not a finite decimal (got \"NaN\")"
        );
        let e = o.obj("k").unwrap().bool("x").unwrap_err();
        assert_eq!(e.field, "k.x");
        assert_eq!(e.value, "\"yes\"");
        assert_eq!(o.int("n").unwrap_err().reason, "expected an integer");
        assert_eq!(o.str("missing").unwrap_err().value, "<missing>");
        assert!(Obj::root(&json!([1])).is_err());
        let long = json!("x".repeat(500));
        assert!(ParseError::new("f", Some(&long), "r").value.len() < 80);
    }
}
