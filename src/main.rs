use std::process::ExitCode;

use clap::Parser;
use customer_lookup::config::Cli;
use customer_lookup::{commands, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _log_writer = match telemetry::init(&cli.logging.log_level, cli.logging.log_format) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
