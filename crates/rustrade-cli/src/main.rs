//! The `rustrade` binary: the [`rustrade_cli::App`] with the ready strategies.

fn main() -> std::process::ExitCode {
    rustrade_cli::App::new().run()
}
