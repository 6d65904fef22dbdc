//! The backtest output printed in `README.md` and `docs/quickstart.md` is the program's real
//! output: every line the documents show (skipping a `...` elision) is printed, in that order,
//! by `backtest examples/sma-cross.toml`. The markdown is read at test time, so changing the
//! output or the documents without the other fails here.

mod common;

use common::*;

/// The command whose output the documents show.
const COMMAND: &str = "backtest examples/sma-cross.toml";

/// The lines of the first ```` ```text ```` block after the first mention of [`COMMAND`] in the
/// markdown file `name` (relative to the repository root), without `...` elisions.
fn shown_output(name: &str) -> Vec<String> {
    let path = root().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let after = text
        .find(COMMAND)
        .map(|at| &text[at..])
        .unwrap_or_else(|| panic!("{name} does not show `{COMMAND}`"));
    let block = after
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .unwrap_or_else(|| panic!("{name}: no ```text block after `{COMMAND}`"));
    block
        .lines()
        .filter(|line| line.trim() != "...")
        .map(str::to_owned)
        .collect()
}

/// Runs the documented command from a fresh folder, as a newcomer at the repository root would
/// (the results land in `runs/sma-cross` under the current folder).
fn real_output() -> String {
    let cwd = tempfile::tempdir().unwrap();
    let config = root().join("examples/sma-cross.toml");
    let out = rustrade(cwd.path(), &["backtest", config.to_str().unwrap()]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    stdout(&out)
}

/// Asserts that every line of `shown` is a line of `output`, in the same order.
fn assert_shown(name: &str, shown: &[String], output: &str) {
    assert!(
        shown.iter().any(|line| !line.trim().is_empty()),
        "{name}: the output block is empty"
    );
    let mut printed = output.lines();
    for line in shown {
        assert!(
            printed.any(|p| p == line),
            "{name} shows a line the program does not print (or not in this order):\n{line:?}\n\n\
             program output:\n{output}"
        );
    }
}

#[test]
fn readme_and_quickstart_show_the_real_backtest_output() {
    let output = real_output();
    for name in ["README.md", "docs/quickstart.md"] {
        assert_shown(name, &shown_output(name), &output);
    }
}

#[test]
fn a_changed_line_is_caught() {
    let output = "title\n\n  Trades   19\nWrote it\n";
    let shown = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert_shown("ok", &shown(&["title", "", "  Trades   19"]), output);
    for bad in [
        &["  Trades   20"][..],
        &["  Trades   19", "title"][..],
        &["Trades   19"][..],
    ] {
        let caught = std::panic::catch_unwind(|| assert_shown("bad", &shown(bad), output));
        assert!(caught.is_err(), "{bad:?} should not match");
    }
}
