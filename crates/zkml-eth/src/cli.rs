//! The command-line interface: global options and the subcommands.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::{cmd::registry::RegistryCommand, output::Output};

/// From an ONNX model to a prediction an Ethereum contract can trust.
#[derive(Debug, Parser)]
#[command(name = "zkml-eth", version, about, propagate_version = true)]
pub struct Cli {
    /// Print results as JSON on stdout (for machines).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short, global = true, conflicts_with = "json")]
    pub quiet: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy and inspect the model registry.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

impl Cli {
    /// Runs the chosen command on a tokio runtime.
    pub fn run(self) -> Result<()> {
        let out = Output { json: self.json, quiet: self.quiet };
        let runtime = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
        runtime.block_on(async {
            match self.command {
                Command::Registry(cmd) => cmd.run(out).await,
            }
        })
    }
}
