//! Engine hot paths: a hold decision and a full entry cycle.
fn main() {}
