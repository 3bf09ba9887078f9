//! The command-line interface: global options and the subcommands.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::{
    cmd::{
        aggregate::AggregateArgs, bench::BenchArgs, check_verifier::CheckVerifierArgs, compile::CompileArgs,
        deploy::DeployArgs, fidelity::FidelityArgs, gen_verifier::GenVerifierArgs, input::InputCommand,
        inspect::InspectArgs, prove::ProveArgs, register::RegisterArgs, registry::RegistryCommand, render::RenderArgs,
        setup::SetupArgs, submit::SubmitArgs, verify::VerifyArgs,
    },
    output::Output,
};

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
    /// Import an ONNX model, calibrate and quantize it.
    Compile(CompileArgs),
    /// Compare a compiled model with its float original on a data set.
    Fidelity(FidelityArgs),
    /// Size a compiled model's circuit and make (or reuse) its keys.
    Setup(SetupArgs),
    /// Prove inferences of a set-up model.
    Prove(ProveArgs),
    /// Build a model input from a price feed or an EIP-7007 prompt.
    #[command(subcommand)]
    Input(InputCommand),
    /// Draw a proof's outputs as an image (SVG and PNG) and print its aigcData.
    Render(RenderArgs),
    /// Verify a proof artifact or an aggregated proof (natively, and on the EVM with --evm).
    Verify(VerifyArgs),
    /// Aggregate inference proofs into one proof for the EVM.
    Aggregate(AggregateArgs),
    /// Generate the Solidity verifier of a model's proofs or of an aggregation.
    GenVerifier(GenVerifierArgs),
    /// Benchmark proving on the example models, beside EZKL.
    Bench(BenchArgs),
    /// Deploy and inspect the model registry.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Deploy the registry, book, example models, NFT and vault (and a test market on a local chain).
    ///
    /// Example (anvil's first dev key in ETH_PRIVATE_KEY):
    ///   zkml-eth deploy --eth-price target/eth-price --pixel-art target/pixel-art \
    ///       --feed-history examples/eth-price/feed.json --unsafe-dev-srs
    Deploy(DeployArgs),
    /// Put a proof on chain: attest it in the book, mint the NFT with it, let the vault act on it, or ask
    /// a verifier.
    ///
    /// Examples (addresses from deployments/local.json):
    ///   zkml-eth submit-proof proof.json --to book
    ///   zkml-eth submit-proof aggregated.json --to book --batch-verifier-id 1
    ///   zkml-eth submit-proof pixel-art-proof.json --to nft
    ///   zkml-eth submit-proof eth-price-proof.json --to vault --round 18446744073709551629
    #[command(name = "submit-proof")]
    SubmitProof(SubmitArgs),
    /// Register a model (its generated verifier) or an aggregation's verifier (a batch verifier over the
    /// registered models of its slots) in the deployment's registry; prints the id.
    ///
    /// Examples:
    ///   zkml-eth register --model target/digits-mlp --unsafe-dev-srs
    ///   zkml-eth register --aggregated aggregated.json --unsafe-dev-srs
    Register(RegisterArgs),
    /// Check that the code at an address (a verifier, or the adapter the registry stores) is the verifier
    /// generated from a model directory and its SRS, byte for byte.
    CheckVerifier(CheckVerifierArgs),
    /// Show any artifact (model directory, proof, aggregated proof, deployment file) with its public values
    /// decoded.
    Inspect(InspectArgs),
}

impl Cli {
    /// Runs the chosen command; only the commands that talk to a chain start an async runtime.
    pub fn run(self) -> Result<()> {
        let out = Output { json: self.json, quiet: self.quiet };
        match self.command {
            Command::Compile(args) => args.run(out),
            Command::Fidelity(args) => args.run(out),
            Command::Setup(args) => args.run(out),
            Command::Prove(args) => args.run(out),
            Command::Input(cmd) => cmd.run(out),
            Command::Render(args) => args.run(out),
            Command::Verify(args) => args.run(out),
            Command::Aggregate(args) => args.run(out),
            Command::GenVerifier(args) => args.run(out),
            Command::Bench(args) => args.run(out),
            Command::Inspect(args) => args.run(out),
            Command::Registry(cmd) => runtime()?.block_on(cmd.run(out)),
            Command::Deploy(args) => runtime()?.block_on(args.run(out)),
            Command::SubmitProof(args) => runtime()?.block_on(args.run(out)),
            Command::Register(args) => runtime()?.block_on(args.run(out)),
            Command::CheckVerifier(args) => runtime()?.block_on(args.run(out)),
        }
    }
}

/// The async runtime of the commands that talk to a chain.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("could not start the async runtime")
}
