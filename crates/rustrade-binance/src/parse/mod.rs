//! Parsers of Binance's JSON messages into core types. None panics, whatever the bytes; a bad
//! message is a [`ParseError`] naming the field and the value.

mod field;

pub(crate) use field::Obj;
pub use field::ParseError;
