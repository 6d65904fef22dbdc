//! [`run`]: one chaos session — a venue server, a bot process killed and restarted on the same
//! SQLite file again and again, and the invariants checked after every death, after every
//! restart and at the end.
//!
//! # One bot life
//!
//! 1. Start `chaos-bot` on the state file, with `RUSTRADE_KILL_AT` set when this life ends at a
//!    kill point. Wait until it subscribes to the market stream: its services start only after
//!    catch-up and reconciliation, so from then on the bot must agree with the venue. (A bot
//!    can die before, at a kill point inside its start-up, or fail start-up on a fault; it is
//!    then started again.)
//! 2. Ask its status and check it against the venue ([`invariants::caught_up`], and
//!    [`invariants::breaker`] with the journal as read at the last death); no bar is replayed
//!    in between, so the venue holds still.
//! 3. Replay bars, letting the bot react to each (the harness waits until the venue has seen
//!    no request for the quiet period). A random-time kill is a `SIGKILL` a random fraction of
//!    the quiet period after a random bar; a kill-point life runs until the bot aborts itself.
//! 4. Once the process is gone, read the state file and check it ([`invariants::at_rest`],
//!    and [`invariants::breaker`] on the engine it restores),
//!    then replay up to `max_bars_down` bars with the bot down: the venue fills its resting
//!    orders (stops, take-profits) and the next start must catch those fills up.
//!
//! The last life is not killed and replays no bar: once caught up, the bot is asked to stop,
//! and the stored state is checked against everything the venue did
//! ([`invariants::all_applied`] too).
//!
//! # Reproducing
//!
//! The seed fixes the bars, every fault draw and the kill schedule (which bar, which kill-point
//! hit). Thread timing inside the bot is not fixed, so a seed reproduces the schedule, not the
//! exact interleaving; a violation line names the seed, the life (`step`) and the bar.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::adapter::Adapter;
use crate::binance::BinanceFront;
use crate::bot::{self, BotStatus};
use crate::client::Broken;
use crate::invariants::{self, Finding, Violation};
use crate::server::VenueServer;
use crate::state::StoredState;
use crate::venue::{ChaosVenue, SharedVenue, lock};
use crate::{ChaosError, Profile, StateLocation};

/// How long a bot may take to start up before that is a violation.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Start-ups in a row that may fail (on injected faults) before that is a violation.
const MAX_FAILED_STARTS: u32 = 20;

/// What a session runs.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Seed of the market, the faults and the kill schedule.
    pub seed: u64,
    /// How many times the bot is killed.
    pub kills: u32,
    /// Fault probabilities and kill mix.
    pub profile: Profile,
    /// The `chaos-bot` executable.
    pub bot_exe: PathBuf,
    /// A deliberately broken bot, to show the kit catches it.
    pub broken: Option<Broken>,
    /// How long the venue must see no request before the next bar.
    pub quiet: Duration,
    /// Where the state file and the bot's log go (a temporary directory when `None`).
    pub dir: Option<PathBuf>,
    /// The bot's state store (a SQLite file `state.sqlite` in `dir` when `None`). A store
    /// holding state from another run is refused: its history is not this venue's.
    pub state: Option<StateLocation>,
    /// The adapter the bot trades through (the kit's own client, or Binance USDⓈ-M against the
    /// kit's [`BinanceFront`]).
    pub adapter: Adapter,
}

impl SessionConfig {
    /// A session of `kills` kills under `profile` from `seed`, running `bot_exe`.
    pub fn new(seed: u64, kills: u32, profile: Profile, bot_exe: impl Into<PathBuf>) -> Self {
        Self {
            seed,
            kills,
            profile,
            bot_exe: bot_exe.into(),
            broken: None,
            quiet: Duration::from_millis(15),
            dir: None,
            state: None,
            adapter: Adapter::Kit,
        }
    }
}

/// What a session did and found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Kills made (kill points plus `SIGKILL`s).
    pub kills: u32,
    /// Of which at a kill point inside the bot.
    pub kill_point_kills: u32,
    /// Start-ups that failed on an injected fault (the bot was started again).
    pub failed_starts: u32,
    /// Faults injected.
    pub faults: u64,
    /// Orders the venue created for the bot.
    pub orders: usize,
    /// Bars replayed.
    pub bars: u64,
    /// Every violation seen.
    pub violations: Vec<Violation>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} kills, {} faults, {} orders, {} violations",
            self.kills,
            self.faults,
            self.orders,
            self.violations.len()
        )
    }
}

/// How a life ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// `RUSTRADE_KILL_AT=<n>`.
    KillPoint(u32),
    /// `SIGKILL` `delay` after bar `after` of the life.
    Random { after: u32, delay: Duration },
    /// Asked to stop (the last life).
    Stop,
}

/// Runs one session (see the module doc).
pub async fn run(config: &SessionConfig) -> Result<Summary, ChaosError> {
    let temp = match &config.dir {
        Some(_) => None,
        None => Some(
            tempfile::tempdir().map_err(|e| ChaosError::io("create a temporary directory", e))?,
        ),
    };
    let dir = config
        .dir
        .clone()
        .or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()))
        .unwrap_or_default();
    std::fs::create_dir_all(&dir)
        .map_err(|e| ChaosError::io(format!("create {}", dir.display()), e))?;
    let state = config
        .state
        .clone()
        .unwrap_or_else(|| StateLocation::Sqlite(dir.join("state.sqlite")));
    match state.has_state().await {
        Ok(false) => {}
        Ok(true) => {
            return Err(ChaosError::Invalid {
                field: "state",
                value: state.to_string(),
                reason: "already holds a bot's state; a session needs a fresh store",
            });
        }
        Err(reason) => {
            return Err(ChaosError::StateFile {
                path: state.to_string(),
                reason,
            });
        }
    }
    let prefix = format!("{}-", bot::BOT_NAME);
    let venue = ChaosVenue::new(config.seed, config.profile, &bot::symbols(), &prefix)?
        .with_adapter(config.adapter)
        .shared();
    let server = VenueServer::start(venue.clone()).await?;
    let front = match config.adapter {
        Adapter::Kit => None,
        Adapter::BinanceUsdm => Some(BinanceFront::start(venue.clone()).await?),
    };
    let bot_config = bot::bot_config().map_err(|e| ChaosError::Invalid {
        field: "bot config",
        value: e.to_string(),
        reason: "refused",
    })?;
    let specs: Vec<_> = {
        let v = lock(&venue);
        bot::symbols()
            .iter()
            .filter_map(|s| v.instrument(s))
            .collect()
    };
    let engine_config = bot::engine_config(&bot_config, &specs, config.adapter);
    let mut session = Session {
        config,
        venue,
        server,
        front,
        state,
        log: dir.join("bot.log"),
        rng: fastrand::Rng::with_seed(config.seed ^ 0x6b69_6c6c),
        summary: Summary::default(),
        engine_config,
        life: 0,
        stored: None,
        life_ends: Vec::new(),
        breaker: bot_config.default_risk().breaker,
    };
    let mut failed_in_a_row = 0;
    while session.summary.kills <= config.kills {
        let last = session.summary.kills == config.kills;
        let ending = if last {
            Ending::Stop
        } else if session.rng.f64() < config.profile.kill_point_share {
            Ending::KillPoint(session.rng.u32(1..=80))
        } else {
            let quiet = u64::try_from(config.quiet.as_micros()).unwrap_or(u64::MAX);
            Ending::Random {
                after: session.rng.u32(0..config.profile.max_bars_per_life.max(1)),
                delay: Duration::from_micros(session.rng.u64(0..=quiet)),
            }
        };
        match session.life(ending).await? {
            LifeEnd::Killed { at_point } => {
                failed_in_a_row = 0;
                session.summary.kills += 1;
                session.summary.kill_point_kills += u32::from(at_point);
                for _ in 0..session.rng.u32(0..=config.profile.max_bars_down) {
                    session.advance()?;
                }
            }
            LifeEnd::FailedStart => {
                session.summary.failed_starts += 1;
                failed_in_a_row += 1;
                if failed_in_a_row > MAX_FAILED_STARTS {
                    session.violation(
                        "starts",
                        format!("{failed_in_a_row} start-ups in a row failed"),
                    );
                    break;
                }
            }
            LifeEnd::Stopped => break,
        }
        session.life += 1;
    }
    let v = lock(&session.venue);
    session.summary.faults = v.faults().values().sum();
    session.summary.orders = v.bot_orders();
    session.summary.bars = v.bars();
    let findings = invariants::unique_client_ids(&v);
    drop(v);
    for (invariant, detail) in findings {
        session.violation(invariant, detail);
    }
    drop(session.front);
    drop(session.server);
    Ok(session.summary)
}

enum LifeEnd {
    Killed { at_point: bool },
    FailedStart,
    Stopped,
}

struct Session<'a> {
    config: &'a SessionConfig,
    venue: SharedVenue,
    server: VenueServer,
    front: Option<BinanceFront>,
    state: StateLocation,
    log: PathBuf,
    rng: fastrand::Rng,
    summary: Summary,
    engine_config: rustrade_engine::EngineConfig,
    life: u32,
    /// The state file as last read (its journal records are decoded once).
    stored: Option<StoredState>,
    /// The sequence number of the last journal record of each ended bot life.
    life_ends: Vec<u64>,
    /// The bot's loss-breaker limits.
    breaker: rustrade_risk::BreakerConfig,
}

struct Bot {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    pid: u32,
}

impl Session<'_> {
    async fn life(&mut self, ending: Ending) -> Result<LifeEnd, ChaosError> {
        let mut bot = self.spawn(ending)?;
        let ready = self.wait_ready(&mut bot).await;
        if !ready {
            return self.after_death(&mut bot, ending, false).await;
        }
        match self.status(&mut bot).await {
            Some(status) => self.check_status(&status),
            None => {
                if bot.child.try_wait().ok().flatten().is_none() {
                    self.violation("status", "the bot did not answer a status request".into());
                }
            }
        }
        let max = self.config.profile.max_bars_per_life.max(1);
        match ending {
            Ending::Random { after, delay } => {
                for bar in 0..=after {
                    self.advance()?;
                    if bar == after {
                        tokio::time::sleep(delay).await;
                    } else {
                        self.settle().await;
                    }
                    if exited(&mut bot.child) {
                        break;
                    }
                }
                let _ = bot.child.start_kill();
            }
            Ending::KillPoint(_) => {
                for _ in 0..max * 4 {
                    if exited(&mut bot.child) {
                        break;
                    }
                    self.advance()?;
                    self.settle().await;
                }
                let _ = bot.child.start_kill();
            }
            Ending::Stop => {
                // No bar in the last life: what is checked is what a restart recovered.
                let _ = bot.stdin.write_all(b"stop\n").await;
                let _ = bot.stdin.flush().await;
            }
        }
        self.after_death(&mut bot, ending, true).await
    }

    fn spawn(&mut self, ending: Ending) -> Result<Bot, ChaosError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| ChaosError::io(format!("open {}", self.log.display()), e))?;
        let mut command = Command::new(&self.config.bot_exe);
        command
            .arg("--venue")
            .arg(self.server.addr().to_string())
            .args(self.state.bot_args())
            .arg("--seed")
            .arg(self.config.seed.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .env_remove("RUSTRADE_KILL_AT");
        if let Some(broken) = self.config.broken {
            command.arg("--broken").arg(broken.as_str());
        }
        if let Some(front) = &self.front {
            command
                .arg("--adapter")
                .arg(self.config.adapter.as_str())
                .arg("--binance-rest")
                .arg(front.rest_url())
                .arg("--binance-ws")
                .arg(front.ws_url());
        }
        if let Ending::KillPoint(n) = ending {
            command.env("RUSTRADE_KILL_AT", n.to_string());
        }
        let mut child = command
            .spawn()
            .map_err(|e| ChaosError::io(format!("start {}", self.config.bot_exe.display()), e))?;
        let pid = child.id().unwrap_or(0);
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(ChaosError::io(
                "pipe to the bot",
                std::io::Error::other("no pipe"),
            ));
        };
        Ok(Bot {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
            pid,
        })
    }

    /// Waits until the bot subscribed to the market stream; `false` if it exited first.
    async fn wait_ready(&mut self, bot: &mut Bot) -> bool {
        let step = Duration::from_millis(2);
        let mut waited = Duration::ZERO;
        loop {
            if lock(&self.venue).market_subscribed(bot.pid) {
                return true;
            }
            if exited(&mut bot.child) {
                return false;
            }
            if waited > START_TIMEOUT {
                self.violation(
                    "starts",
                    format!("the bot did not start within {START_TIMEOUT:?}"),
                );
                let _ = bot.child.start_kill();
                return false;
            }
            tokio::time::sleep(step).await;
            waited += step;
        }
    }

    async fn status(&mut self, bot: &mut Bot) -> Option<BotStatus> {
        bot.stdin.write_all(b"status\n").await.ok()?;
        bot.stdin.flush().await.ok()?;
        let read = async {
            while let Ok(Some(line)) = bot.stdout.next_line().await {
                if let Ok(status) = serde_json::from_str::<BotStatus>(&line) {
                    return Some(status);
                }
            }
            None
        };
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .ok()
            .flatten()
    }

    fn check_status(&mut self, status: &BotStatus) {
        let venue = lock(&self.venue);
        let mut findings = invariants::caught_up(&venue, status);
        let empty = StoredState::empty();
        findings.extend(invariants::breaker(
            &venue,
            self.stored.as_ref().unwrap_or(&empty),
            status,
            &self.breaker,
            venue.now(),
            true,
        ));
        drop(venue);
        self.record(findings);
    }

    async fn after_death(
        &mut self,
        bot: &mut Bot,
        ending: Ending,
        started: bool,
    ) -> Result<LifeEnd, ChaosError> {
        let exit = match tokio::time::timeout(Duration::from_secs(30), bot.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => {
                let _ = bot.child.start_kill();
                bot.child.wait().await.ok()
            }
        };
        lock(&self.venue).forget_process(bot.pid);
        let signal = exit.and_then(signal_of);
        let at_point = signal == Some(6);
        let last = matches!(ending, Ending::Stop);
        let stopped = last && started && exit.is_some_and(|s| s.success());
        if last && started && !stopped {
            self.violation("stops", format!("the bot did not stop cleanly: {exit:?}"));
        }
        self.check_file(stopped).await?;
        Ok(if last && started {
            LifeEnd::Stopped
        } else if signal.is_some() && !last {
            LifeEnd::Killed { at_point }
        } else {
            if started {
                self.violation("runs", format!("the bot exited by itself: {exit:?}"));
            }
            // Start-up refused on an injected fault (a rate limit during catch-up): start again.
            LifeEnd::FailedStart
        })
    }

    async fn check_file(&mut self, at_end: bool) -> Result<(), ChaosError> {
        match self.state.has_state().await {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                self.violation("restorable", e);
                return Ok(());
            }
        }
        let mut stored = self.stored.take().unwrap_or_else(StoredState::empty);
        if let Err(e) = stored.refresh(&self.state).await {
            self.violation("restorable", e.to_string());
            return Ok(());
        }
        let now = lock(&self.venue).now();
        let (findings, engine) =
            invariants::at_rest(&lock(&self.venue), &stored, &self.engine_config, now);
        self.record(findings);
        if let Some(engine) = &engine {
            let status = invariants::status_of(engine, &bot::symbols(), now);
            let findings = invariants::breaker(
                &lock(&self.venue),
                &stored,
                &status,
                &self.breaker,
                now,
                false,
            );
            self.record(findings);
        }
        if at_end {
            let mut findings = invariants::all_applied(&lock(&self.venue), &stored);
            findings.extend(invariants::no_entry_while_degraded(
                &stored.records,
                &self.life_ends,
            ));
            if let Some(engine) = engine {
                let status = invariants::status_of(&engine, &bot::symbols(), now);
                findings.extend(invariants::caught_up(&lock(&self.venue), &status));
                findings.extend(invariants::ledger_agrees(&lock(&self.venue), &engine));
            }
            self.record(findings);
        }
        if let Some(last) = stored.records.last() {
            self.life_ends.push(last.seq);
        }
        self.stored = Some(stored);
        Ok(())
    }

    fn advance(&mut self) -> Result<(), ChaosError> {
        lock(&self.venue).advance()
    }

    /// Waits until the venue has seen no request for the quiet period (at most 40 periods).
    async fn settle(&self) {
        let mut last = lock(&self.venue).requests();
        for _ in 0..40 {
            tokio::time::sleep(self.config.quiet).await;
            let now = lock(&self.venue).requests();
            if now == last {
                return;
            }
            last = now;
        }
    }

    fn record(&mut self, findings: Vec<Finding>) {
        for (invariant, detail) in findings {
            self.violation(invariant, detail);
        }
    }

    fn violation(&mut self, invariant: &'static str, detail: String) {
        let bar = lock(&self.venue).bars();
        self.summary.violations.push(Violation {
            seed: self.config.seed,
            step: self.life,
            bar,
            invariant,
            detail,
        });
    }
}

fn exited(child: &mut Child) -> bool {
    child.try_wait().ok().flatten().is_some()
}

#[cfg(unix)]
fn signal_of(status: std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

#[cfg(not(unix))]
fn signal_of(_status: std::process::ExitStatus) -> Option<i32> {
    None
}

/// The `chaos-bot` executable next to the running one (for the command-line tool).
pub fn bot_next_to_me() -> Result<PathBuf, ChaosError> {
    let me =
        std::env::current_exe().map_err(|e| ChaosError::io("find the running executable", e))?;
    let bot = me.with_file_name(format!("chaos-bot{}", std::env::consts::EXE_SUFFIX));
    if Path::new(&bot).exists() {
        Ok(bot)
    } else {
        Err(ChaosError::Invalid {
            field: "chaos-bot",
            value: bot.display().to_string(),
            reason: "not found next to this executable (build the rustrade-chaos package)",
        })
    }
}
