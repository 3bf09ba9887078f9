//! `zkml-eth`: from an ONNX model to a prediction an Ethereum contract can trust.

use std::process::ExitCode;

use clap::Parser;
use zkml_eth::cli::Cli;

fn main() -> ExitCode {
    match Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: what failed, then why.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
