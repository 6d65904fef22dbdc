//! Finding the line of a key path in TOML source, for error messages.
//!
//! Handles the forms configs are written in: `[table]` and `[[array]]` headers and `key = value`
//! lines, including dotted keys (`params.fast = 3`). A path the scan cannot place (an inline
//! table, a key set on the command line) yields `None`, and the error is shown without a line.

/// 1-based line of the entry at `path` in `source`, e.g. `strategy.params.fast` or
/// `market[1].file`. For a table path, the line of its header.
pub(crate) fn line_of(source: &str, path: &str) -> Option<usize> {
    let target = normalise(path);
    let mut table: Vec<String> = Vec::new();
    let mut array_counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, raw) in source.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            let name = dotted(header);
            let n = array_counts.entry(name.clone()).or_insert(0);
            table = vec![format!("{name}[{n}]")];
            *n += 1;
            if table[0] == target {
                return Some(i + 1);
            }
        } else if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = vec![qualify(&array_counts, &dotted(header))];
            if table[0] == target {
                return Some(i + 1);
            }
        } else if let Some((key, _)) = line.split_once('=') {
            let mut full = table.clone();
            full.push(dotted(key));
            if full.join(".") == target {
                return Some(i + 1);
            }
        }
    }
    None
}

/// The innermost table path a 1-based `line` of `source` belongs to, joined with the key on
/// that line when there is one: `strategy.params.fast` for `fast = "x"` under
/// `[strategy.params]`.
pub(crate) fn path_at(source: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    let mut array_counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, raw) in source.lines().enumerate() {
        let text = strip_comment(raw).trim();
        let on_target = i + 1 == line;
        if let Some(header) = text.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            let name = dotted(header);
            let n = array_counts.entry(name.clone()).or_insert(0);
            table = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(header) = text.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = qualify(&array_counts, &dotted(header));
        } else if on_target {
            let (key, _) = text.split_once('=')?;
            let key = dotted(key);
            return Some(if table.is_empty() {
                key
            } else {
                format!("{table}.{key}")
            });
        }
        if on_target {
            return (!table.is_empty()).then_some(table);
        }
    }
    None
}

/// Converts a 0-based byte offset into a 1-based (line, column).
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `market.0.file` and `market[0].file` both become `market[0].file`.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.') {
        if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

/// A sub-table header of the latest array element (`[market.options]` after `[[market]]`)
/// belongs to that element.
fn qualify(array_counts: &std::collections::BTreeMap<String, usize>, header: &str) -> String {
    for (name, n) in array_counts {
        if let Some(rest) = header.strip_prefix(&format!("{name}.")) {
            return format!("{name}[{}].{rest}", n.saturating_sub(1));
        }
    }
    header.to_owned()
}

fn dotted(key: &str) -> String {
    key.split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

fn strip_comment(line: &str) -> &str {
    let mut in_str: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (c, in_str) {
            ('"' | '\'', None) => in_str = Some(c),
            (q, Some(open)) if q == open => in_str = None,
            ('#', None) => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"# comment
[[market]]
symbol = "A"   # trailing
file = "a.csv"

[[market]]
symbol = "B"
file = "b.csv"

[strategy]
name = "sma_cross"
[strategy.params]
fast = 30
"slow" = 20
"#;

    #[test]
    fn finds_keys_tables_and_array_elements() {
        assert_eq!(line_of(SRC, "market[0].file"), Some(4));
        assert_eq!(line_of(SRC, "market.1.file"), Some(8));
        assert_eq!(line_of(SRC, "market[1]"), Some(6));
        assert_eq!(line_of(SRC, "strategy.name"), Some(11));
        assert_eq!(line_of(SRC, "strategy.params.fast"), Some(13));
        assert_eq!(line_of(SRC, "strategy.params.slow"), Some(14));
        assert_eq!(line_of(SRC, "strategy.params"), Some(12));
        assert_eq!(line_of(SRC, "strategy.params.none"), None);
    }

    #[test]
    fn path_at_names_the_key_on_a_line() {
        assert_eq!(path_at(SRC, 13).as_deref(), Some("strategy.params.fast"));
        assert_eq!(path_at(SRC, 8).as_deref(), Some("market[1].file"));
        assert_eq!(path_at(SRC, 12).as_deref(), Some("strategy.params"));
        assert_eq!(path_at(SRC, 1), None);
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
