//! `[bot] state_url`: a paper bot keeps its journal, fills and trades in PostgreSQL, as the
//! real binary runs it. Needs the local test server (`RUSTRADE_PG_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`); without it the test says it skipped, unless
//! `RUSTRADE_REQUIRE_SERVERS=1`.

mod common;

use common::*;
use rustrade_postgres::testing::TestSchema;

fn count(schema: &TestSchema, table: &str, bot: &str) -> i64 {
    let rows = schema
        .query(&format!(
            "SELECT count(*) FROM {}.{table} WHERE bot_id = '{bot}'",
            schema.name()
        ))
        .unwrap();
    rows[0].get(0)
}

/// `rustrade paper CONFIG --replay DATA --speed max`, run in `cwd`.
fn paper_replay(
    cwd: &std::path::Path,
    config: &std::path::Path,
    data: &std::path::Path,
) -> std::process::Output {
    rustrade(
        cwd,
        &[
            "paper",
            config.to_str().unwrap(),
            "--replay",
            data.to_str().unwrap(),
            "--speed",
            "max",
        ],
    )
}

#[test]
fn a_paper_bot_keeps_its_fills_and_trades_in_postgres() {
    let Some(schema) = TestSchema::new("cli_state_url") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pg-paper.toml");
    let data_file = data("Bitcoin.csv");
    std::fs::write(
        &config,
        format!(
            "{}\n[bot]\nname = \"pg-paper\"\nstate_url = \"{}\"\nstate_schema = \"{}\"\n",
            common::config(&data_file),
            schema.url(),
            schema.name()
        ),
    )
    .unwrap();
    let first = paper_replay(dir.path(), &config, &data_file);
    assert!(first.status.success(), "{}", stderr(&first));
    let csv = std::fs::read_to_string(dir.path().join("runs/pg-paper-paper/fills.csv")).unwrap();
    let fills = csv.lines().count() as i64 - 1;
    assert!(fills > 10, "the example trades: {fills} fills");
    assert_eq!(
        count(&schema, "fills", "pg-paper"),
        fills,
        "every fill in the table"
    );
    assert!(
        count(&schema, "trades", "pg-paper") > 0,
        "round trips in the table"
    );
    let journal = schema
        .query(&format!(
            "SELECT count(*) FROM {}.kv WHERE bot_id = 'pg-paper' AND key LIKE 'journal/%'",
            schema.name()
        ))
        .unwrap();
    assert!(
        journal[0].get::<_, i64>(0) > 0,
        "the journal is in the store"
    );
}

/// `state_tls = "verify"`: with the server's own certificate as `state_ca_file` the bot runs
/// over TLS; against Mozilla's roots the self-signed server is refused at start-up.
#[test]
fn a_paper_bot_reaches_postgres_over_verified_tls() {
    let Some(schema) = TestSchema::new("cli_state_tls") else {
        return;
    };
    let cert = schema
        .query("SELECT setting FROM pg_settings WHERE name = 'ssl_cert_file' AND current_setting('ssl') = 'on'")
        .unwrap()
        .first()
        .map(|r| std::path::PathBuf::from(r.get::<_, String>(0)))
        .filter(|c| std::fs::File::open(c).is_ok());
    let Some(cert) = cert else {
        let why = "the test server has TLS off or its certificate is unreadable";
        assert!(!rustrade_postgres::testing::servers_required(), "{why}");
        eprintln!("skipped: {why}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data_file = data("Bitcoin.csv");
    // The server's certificate names `localhost`.
    let url = schema.url().replace("127.0.0.1", "localhost");
    let run = |name: &str, tls: &str| {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "{}\n[bot]\nname = \"{name}\"\nstate_url = \"{url}\"\nstate_schema = \"{}\"\n{tls}",
                common::config(&data_file),
                schema.name()
            ),
        )
        .unwrap();
        paper_replay(dir.path(), &config, &data_file)
    };
    let good = run(
        "pg-tls",
        &format!(
            "state_tls = \"verify\"\nstate_ca_file = \"{}\"\n",
            cert.display()
        ),
    );
    assert!(good.status.success(), "{}", stderr(&good));
    assert!(
        count(&schema, "fills", "pg-tls") > 10,
        "fills stored over TLS"
    );
    let refused = run("pg-tls-public", "state_tls = \"verify\"\n");
    assert!(
        !refused.status.success(),
        "a self-signed server is not trusted"
    );
    let text = stderr(&refused);
    assert!(
        text.contains("bot.state_url") && text.to_lowercase().contains("certificate"),
        "{text}"
    );
    assert_eq!(count(&schema, "fills", "pg-tls-public"), 0);
}
