//! The `voxgen` binary: parse arguments, set up logging, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use voxgen::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    voxgen::cli::init_logging(cli.quiet, cli.verbose);
    match voxgen::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
