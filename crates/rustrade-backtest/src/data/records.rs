//! Byte-level CSV record reader: the records the `csv` crate reads (RFC 4180 quoting, `\n`,
//! `\r\n` and `\r` terminators, blank lines skipped, a leading UTF-8 BOM dropped), with the line
//! each record starts on.
//!
//! # How a record is split
//!
//! - Fast path: a line (up to `\n`) holding no `"` and no `\r` other than a final one is split on
//!   `,` where it lies in the input buffer, found with `memchr`'s vectorised searches: no copy,
//!   no state machine, no allocation.
//! - Any other record (quoted fields, a lone `\r`, a line longer than the buffer) is read by
//!   `csv_core`'s reader, the state machine under the `csv` crate, into a reusable scratch
//!   buffer, with its quoting rules.
//!
//! Both paths give the same fields as `csv_core` would for the same bytes (`tests/csv_parity.rs`
//! and `tests/robustness.rs` compare them with the `csv` crate on random input).
//!
//! # Line numbers
//!
//! [`Records::line`] is the 1-based line on which the record's first byte lies, counting every
//! `\n` before it (blank lines and newlines inside quoted fields included).

use std::io::{self, Read};

use csv_core::ReadRecordResult;
use memchr::{memchr, memchr_iter, memchr2};

/// Size of the input buffer; a line longer than this is read by the `csv_core` path.
const BUFFER: usize = 64 * 1024;

/// Where the current record's fields lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// In the input buffer, from this offset.
    Input(usize),
    /// In the scratch buffer (the `csv_core` path).
    Scratch,
}

/// Streaming CSV record reader over any byte source (see the module doc).
pub(crate) struct Records<R> {
    input: R,
    buf: Box<[u8]>,
    /// Unread bytes are `buf[pos..filled]`.
    pos: usize,
    filled: usize,
    /// The source returned 0 bytes.
    eof: bool,
    /// The first bytes were checked for a BOM.
    bom_checked: bool,
    /// `csv_core` returned `End`: no record is left.
    done: bool,
    /// Line of the byte at `pos`.
    next_line: u64,
    /// Line of the current record.
    line: u64,
    source: Source,
    /// `(start, end)` of each field of the current record, relative to its source.
    spans: Vec<(usize, usize)>,
    core: csv_core::Reader,
    scratch: Vec<u8>,
    ends: Vec<usize>,
}

impl<R: Read> Records<R> {
    /// A reader over `input`, reading it in 64 KiB blocks.
    pub(crate) fn new(input: R) -> Self {
        Self {
            input,
            buf: vec![0; BUFFER].into_boxed_slice(),
            pos: 0,
            filled: 0,
            eof: false,
            bom_checked: false,
            done: false,
            next_line: 1,
            line: 0,
            source: Source::Scratch,
            spans: Vec::with_capacity(16),
            core: csv_core::Reader::new(),
            scratch: vec![0; 1024],
            ends: vec![0; 16],
        }
    }

    /// A reader over `input` that continues a file on line `first_line`, after a line end:
    /// no byte order mark is looked for.
    pub(crate) fn continuing(input: R, first_line: u64) -> Self {
        let mut records = Self::new(input);
        records.next_line = first_line;
        records.bom_checked = true;
        records
    }

    /// Reads the next record; `false` at the end of the input. The record's fields are valid
    /// until the next call.
    pub(crate) fn read(&mut self) -> io::Result<bool> {
        if self.done {
            self.spans.clear();
            return Ok(false);
        }
        if !self.bom_checked {
            self.fill_at_least(3)?;
            if self.buf[self.pos..self.filled].starts_with(b"\xEF\xBB\xBF") {
                self.pos += 3;
            }
            self.bom_checked = true;
        }
        loop {
            let avail = &self.buf[self.pos..self.filled];
            let (line, last) = match memchr(b'\n', avail) {
                Some(n) => (&avail[..n], false),
                None if self.eof => (avail, true),
                None if self.pos > 0 || self.filled < self.buf.len() => {
                    self.refill()?;
                    continue;
                }
                // A line longer than the buffer.
                None => return self.read_core(),
            };
            if line.is_empty() {
                if last {
                    self.done = true;
                    self.spans.clear();
                    return Ok(false);
                }
                self.pos += 1;
                self.next_line += 1;
                continue;
            }
            let content = line.strip_suffix(b"\r").unwrap_or(line);
            if content.is_empty() {
                self.pos += line.len() + usize::from(!last);
                self.next_line += u64::from(!last);
                continue;
            }
            if !split_plain(content, &mut self.spans) {
                return self.read_core();
            }
            self.source = Source::Input(self.pos);
            self.line = self.next_line;
            self.pos += line.len() + usize::from(!last);
            self.next_line += u64::from(!last);
            if last {
                self.done = true;
            }
            return Ok(true);
        }
    }

    /// Reads one record with `csv_core` from `pos`, refilling as needed.
    fn read_core(&mut self) -> io::Result<bool> {
        self.line = self.next_line;
        self.core.set_line(self.next_line);
        let (mut out, mut nends) = (0, 0);
        loop {
            let input = &self.buf[self.pos..self.filled];
            let (result, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.scratch[out..], &mut self.ends[nends..]);
            self.pos += nin;
            out += nout;
            nends += nend;
            self.next_line = self.core.line();
            match result {
                ReadRecordResult::InputEmpty => {
                    if !self.eof {
                        self.refill()?;
                    }
                    // At the end, the next call with empty input finishes the record.
                }
                ReadRecordResult::OutputFull => {
                    let len = self.scratch.len();
                    self.scratch.resize(len * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                ReadRecordResult::Record => {
                    self.spans.clear();
                    let mut start = 0;
                    for &end in &self.ends[..nends] {
                        self.spans.push((start, end));
                        start = end;
                    }
                    self.source = Source::Scratch;
                    return Ok(true);
                }
                ReadRecordResult::End => {
                    self.done = true;
                    self.spans.clear();
                    return Ok(false);
                }
            }
        }
    }

    /// Moves the unread bytes to the front and reads more after them.
    fn refill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.pos = 0;
        self.read_more()
    }

    /// Reads until `n` bytes are unread or the input ends (only at the start: `pos` is 0).
    fn fill_at_least(&mut self, n: usize) -> io::Result<()> {
        while self.filled - self.pos < n && !self.eof {
            self.read_more()?;
        }
        Ok(())
    }

    /// One read into the free end of the buffer; sets `eof` when it returns nothing.
    fn read_more(&mut self) -> io::Result<()> {
        loop {
            match self.input.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Number of fields of the current record.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The 1-based line the current record starts on.
    #[inline]
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Field `i` of the current record, unquoted; `None` past the last field.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        let &(start, end) = self.spans.get(i)?;
        let bytes = match self.source {
            Source::Input(at) => &self.buf[at..],
            Source::Scratch => &self.scratch[..],
        };
        bytes.get(start..end)
    }

    /// The fields of the current record.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Splits a line on `,` into `spans`; `false` (spans unspecified) when it holds a `"` or a `\r`,
/// which only the `csv_core` path reads right.
#[inline]
fn split_plain(content: &[u8], spans: &mut Vec<(usize, usize)>) -> bool {
    spans.clear();
    if memchr2(b'"', b'\r', content).is_some() {
        return false;
    }
    let mut start = 0;
    for at in memchr_iter(b',', content) {
        spans.push((start, at));
        start = at + 1;
    }
    spans.push((start, content.len()));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records and their lines, read through `Records` with a reader handing out `chunk` bytes
    /// per call.
    fn read_all(bytes: &[u8], chunk: usize) -> Vec<(u64, Vec<Vec<u8>>)> {
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut records = Records::new(Chunked(bytes, chunk));
        let mut out = Vec::new();
        while records.read().unwrap() {
            out.push((records.line(), records.iter().map(<[u8]>::to_vec).collect()));
        }
        assert!(!records.read().unwrap(), "the end stays the end");
        out
    }

    fn fields(text: &[&str]) -> Vec<Vec<u8>> {
        text.iter().map(|t| t.as_bytes().to_vec()).collect()
    }

    #[test]
    fn plain_quoted_and_blank_lines() {
        let text = b"\xEF\xBB\xBFa,b\n\n\"x,\"\"y\"\"\",2\r\n\r\n3,\n\"multi\nline\",4\rlast,5";
        for chunk in [1, 2, 3, 7, 1 << 20] {
            assert_eq!(
                read_all(text, chunk),
                vec![
                    (1, fields(&["a", "b"])),
                    (3, fields(&["x,\"y\"", "2"])),
                    (5, fields(&["3", ""])),
                    (6, fields(&["multi\nline", "4"])),
                    (7, fields(&["last", "5"])),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn empty_and_terminator_only_inputs_have_no_record() {
        for text in ["", "\n", "\r\n\r\n", "\n\n\r"] {
            assert!(read_all(text.as_bytes(), 3).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn a_line_longer_than_the_buffer_is_one_record() {
        let long = "9".repeat(3 * BUFFER);
        let text = format!("1,2\n{long},x\n3,4\n");
        let all = read_all(text.as_bytes(), 1 << 20);
        assert_eq!(all.len(), 3);
        assert_eq!(all[1], (2, fields(&[long.as_str(), "x"])));
        assert_eq!(all[2], (3, fields(&["3", "4"])));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Same records and fields as the `csv` crate's reader for any mix of the bytes that
        /// matter to CSV, however the input is cut into reads; lines never go back and stay
        /// inside the input.
        #[test]
        fn fields_match_the_csv_crate(
            bytes in proptest::collection::vec(proptest::sample::select(b"a1,\"\r\n ".to_vec()), 0..300),
            chunk in 1usize..100,
        ) {
            let mut expected = Vec::new();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&bytes[..]);
            let mut record = csv::ByteRecord::new();
            while reader.read_byte_record(&mut record).unwrap() {
                expected.push(record.iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
            }
            let read = read_all(&bytes, chunk);
            let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            proptest::prop_assert!(read.windows(2).all(|w| w[0].0 <= w[1].0));
            proptest::prop_assert!(read.iter().all(|(line, _)| (1..=lines).contains(line)));
            let fields: Vec<_> = read.into_iter().map(|(_, f)| f).collect();
            proptest::prop_assert_eq!(fields, expected);
        }
    }

    #[test]
    fn an_unterminated_quote_ends_with_the_input() {
        assert_eq!(
            read_all(b"1,2\n\"3,4\n5", 2),
            vec![(1, fields(&["1", "2"])), (2, fields(&["3,4\n5"]))]
        );
    }
}
