//! `rustrade new`: write a crate that runs a brain of its own through this command.
//!
//! The crate holds a `Cargo.toml` with path dependencies on a rustrade checkout (the one this
//! program was built from, or `--path`), a five-line `src/main.rs`, `src/lib.rs` registering the
//! strategy, `src/brain.rs` (a documented example brain with typed, validated parameters), an
//! example config over data shipped in the checkout, and a test that backtests it. The files
//! appear together or not at all, and an existing folder is never touched.

use std::path::{Path, PathBuf};

use super::Ui;
use crate::cli::NewArgs;
use crate::config::{ConfigError, Origin};
use crate::output::{self, OutputError};

/// The files of the crate: path inside it, template.
const FILES: [(&str, &str); 7] = [
    ("Cargo.toml", include_str!("../../assets/new/Cargo.toml.in")),
    (".gitignore", include_str!("../../assets/new/gitignore.in")),
    ("src/main.rs", include_str!("../../assets/new/main.rs.in")),
    ("src/lib.rs", include_str!("../../assets/new/lib.rs.in")),
    ("src/brain.rs", include_str!("../../assets/new/brain.rs.in")),
    (
        "tests/backtest.rs",
        include_str!("../../assets/new/test.rs.in"),
    ),
    (
        "rustrade.toml",
        include_str!("../../assets/new/rustrade.toml.in"),
    ),
];

/// The shipped data file the example config trades, inside the checkout.
const DATA: &str = "examples/data/Bitcoin.csv";

/// Writes the crate `args` describe.
pub(super) fn run(args: &NewArgs, ui: Ui) -> anyhow::Result<()> {
    let name = package_name(&args.dir)?;
    if args.dir.exists() {
        return Err(OutputError::taken(
            &args.dir,
            "rustrade new never overwrites; pick a new folder",
        )
        .into());
    }
    let root = checkout(args.path.as_deref())?;
    let lock = std::fs::read(root.join("Cargo.lock")).ok();
    let quoted = |rel: &str| -> Result<String, ConfigError> {
        let path = root.join(rel);
        let text = path.to_str().ok_or_else(|| {
            ConfigError::new(
                path_origin(args.path.as_deref(), &root),
                None,
                format!("the path is not UTF-8 ({})", path.display()),
            )
        })?;
        Ok(toml::Value::String(text.to_owned()).to_string())
    };
    let vars = [
        ("{{name}}", name.clone()),
        ("{{crate}}", name.replace('-', "_")),
        ("{{cli}}", quoted("crates/rustrade-cli")?),
        ("{{core}}", quoted("crates/rustrade-core")?),
        ("{{strategies}}", quoted("crates/rustrade-strategies")?),
        ("{{data}}", quoted(DATA)?),
    ];
    output::write_folder(&args.dir, |folder| {
        // The staging folder is private (0700); the crate is an ordinary folder.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| output::write_error(folder, ".", e))?;
        }
        for (file, template) in FILES {
            let text = vars
                .iter()
                .fold(template.to_owned(), |t, (k, v)| t.replace(k, v));
            let path = folder.join(file);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| output::write_error(folder, file, e))?;
            }
            std::fs::write(&path, text).map_err(|e| output::write_error(folder, file, e))?;
        }
        // The checkout's lock file: the crate builds with the versions rustrade was tested
        // with, and offline from the same downloads.
        if let Some(lock) = &lock {
            std::fs::write(folder.join("Cargo.lock"), lock)
                .map_err(|e| output::write_error(folder, "Cargo.lock", e))?;
        }
        Ok(())
    })?;
    let dir = args.dir.display();
    ui.emit_json(&serde_json::json!({
        "crate": name,
        "dir": dir.to_string(),
        "rustrade": root.display().to_string(),
    }));
    ui.say(&format!(
        "Created {name} in {dir}: src/brain.rs is the example brain, registered as `momentum` \
         in src/lib.rs.\nBacktest it: cd {dir} && cargo run --release -- backtest rustrade.toml\n"
    ));
    Ok(())
}

/// The package name: the folder's last component, as Cargo accepts it.
fn package_name(dir: &Path) -> Result<String, ConfigError> {
    let origin = || Origin::Flag(format!("new {}", dir.display()));
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| ConfigError::new(origin(), None, "expected a folder name, like my-bot"))?;
    let bad = |why: &str| ConfigError::new(origin(), None, format!("{why} (got {name:?})"));
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(bad("a package name starts with an ASCII letter"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(
            "a package name holds only ASCII letters, digits, `-` and `_`",
        ));
    }
    if RESERVED.contains(&name.replace('-', "_").as_str()) {
        return Err(bad(
            "a package name may not be a Rust keyword, a standard crate or a dependency",
        ));
    }
    Ok(name.to_owned())
}

/// Names Cargo or the crate's own dependencies refuse (compared with `-` read as `_`).
const RESERVED: &[&str] = &[
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "core",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "proc_macro",
    "pub",
    "ref",
    "return",
    "rustrade",
    "rustrade_cli",
    "rustrade_core",
    "rustrade_strategies",
    "self",
    "serde",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// The rustrade checkout to depend on: `path`, or the one this program was built from.
fn checkout(path: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidate = path.unwrap_or(&built_from);
    let origin = path_origin(path, candidate);
    let root = candidate.canonicalize().map_err(|e| {
        ConfigError::new(
            origin.clone(),
            None,
            format!("{}: {e}", candidate.display()),
        )
    })?;
    for needed in ["crates/rustrade-cli/Cargo.toml", DATA] {
        if !root.join(needed).is_file() {
            return Err(ConfigError::new(
                origin,
                None,
                format!(
                    "{} is not a rustrade checkout (no {needed})",
                    root.display()
                ),
            ));
        }
    }
    Ok(root)
}

/// Where a checkout problem comes from: the `--path` flag, or the build (then `--path` fixes it).
fn path_origin(path: Option<&Path>, root: &Path) -> Origin {
    match path {
        Some(p) => Origin::Flag(format!("--path {}", p.display())),
        None => Origin::Flag(format!(
            "the checkout this program was built from ({}; pass --path DIR)",
            root.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Ui = Ui {
        quiet: true,
        json: false,
    };

    fn new(dir: &Path, path: Option<&Path>) -> anyhow::Result<()> {
        run(
            &NewArgs {
                dir: dir.to_owned(),
                path: path.map(Path::to_owned),
            },
            QUIET,
        )
    }

    #[test]
    fn writes_a_crate_depending_on_the_checkout() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bots/my-bot");
        new(&dir, None).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let parsed: toml::Table = toml::from_str(&manifest).unwrap();
        assert_eq!(parsed["package"]["name"].as_str(), Some("my-bot"));
        let cli = root.join("crates/rustrade-cli");
        assert_eq!(
            parsed["dependencies"]["rustrade-cli"]["path"].as_str(),
            cli.to_str()
        );
        assert!(parsed.contains_key("workspace"), "a workspace of its own");
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("my_bot::app().run()"), "{main}");
        assert!(main.lines().count() <= 5, "{main}");
        let config: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.join("rustrade.toml")).unwrap()).unwrap();
        let data = config["market"][0]["file"].as_str().unwrap();
        assert!(Path::new(data).is_file(), "{data}");
        for file in [
            "src/lib.rs",
            "src/brain.rs",
            "tests/backtest.rs",
            ".gitignore",
        ] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            assert!(!text.contains("{{"), "{file} has an unfilled placeholder");
        }
        assert_eq!(
            std::fs::read(dir.join("Cargo.lock")).unwrap(),
            std::fs::read(root.join("Cargo.lock")).unwrap()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
    }

    #[test]
    fn refuses_an_existing_folder_and_leaves_it_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("my-bot");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("keep.txt"), "mine").unwrap();
        let err = new(&dir, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: cannot write: already exists (rustrade new never overwrites; pick a new \
                 folder)",
                dir.display()
            )
        );
        assert_eq!(crate::exit::code_for(&err), crate::exit::OUTPUT);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "nothing was added"
        );
    }

    #[test]
    fn refuses_names_cargo_refuses() {
        let tmp = tempfile::tempdir().unwrap();
        for (name, why) in [
            ("9lives", "a package name starts with an ASCII letter"),
            (
                "my.bot",
                "a package name holds only ASCII letters, digits, `-` and `_`",
            ),
            (
                "serde",
                "a package name may not be a Rust keyword, a standard crate or a dependency",
            ),
            (
                "rustrade-cli",
                "a package name may not be a Rust keyword, a standard crate or a dependency",
            ),
        ] {
            let dir = tmp.path().join(name);
            let err = new(&dir, None).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("new {}: {why} (got {name:?})", dir.display())
            );
            assert_eq!(crate::exit::code_for(&err), crate::exit::CONFIG);
            assert!(!dir.exists());
        }
    }

    #[test]
    fn refuses_a_path_that_is_not_a_checkout() {
        let tmp = tempfile::tempdir().unwrap();
        let err = new(&tmp.path().join("bot"), Some(tmp.path())).unwrap_err();
        let root = tmp.path().canonicalize().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "--path {}: {} is not a rustrade checkout (no crates/rustrade-cli/Cargo.toml)",
                tmp.path().display(),
                root.display()
            )
        );
        assert!(!tmp.path().join("bot").exists());
    }
}
