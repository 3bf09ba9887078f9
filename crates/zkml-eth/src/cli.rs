//! The command-line interface: global options and the subcommands.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::{
    cmd::{
        aggregate::AggregateArgs, bench::BenchArgs, check_verifier::CheckVerifierArgs, compile::CompileArgs,
        demo::DemoArgs, deploy::DeployArgs, fidelity::FidelityArgs, gen_verifier::GenVerifierArgs, input::InputCommand,
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

/// The subcommands. A command whose Args struct carries its help (summary, notes, examples) has no doc
/// comment here: clap would show the variant's instead.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[allow(missing_docs)]
    Compile(CompileArgs),
    #[allow(missing_docs)]
    Fidelity(FidelityArgs),
    #[allow(missing_docs)]
    Setup(SetupArgs),
    #[allow(missing_docs)]
    Prove(ProveArgs),
    /// Build a model input from a price feed or an EIP-7007 prompt.
    #[command(subcommand)]
    Input(InputCommand),
    #[allow(missing_docs)]
    Render(RenderArgs),
    #[allow(missing_docs)]
    Verify(VerifyArgs),
    #[allow(missing_docs)]
    Aggregate(AggregateArgs),
    #[allow(missing_docs)]
    GenVerifier(GenVerifierArgs),
    #[allow(missing_docs)]
    Bench(BenchArgs),
    /// Deploy and inspect the model registry.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Deploy the registry, book, example models, NFT and vault (and a test market on a local chain).
    ///
    /// On chain 31337 the vault trades on a test market (tokens, feed, pool) deployed with it; elsewhere
    /// give its market with --quote, --risk, --feed and --router. Run again, it reuses what is deployed.
    ///
    /// Examples (the sender's key in ETH_PRIVATE_KEY):
    ///   zkml-eth deploy --eth-price target/eth-price --pixel-art target/pixel-art \
    ///       --feed-history examples/eth-price/feed.json --unsafe-dev-srs
    ///   zkml-eth deploy --eth-price target/eth-price --pixel-art target/pixel-art --rpc-url $RPC \
    ///       --quote $USDC --risk $WETH --feed $ETH_USD_FEED --router $UNISWAP_V2_ROUTER --srs kzg_bn254_16.srs
    #[command(verbatim_doc_comment)]
    Deploy(DeployArgs),
    /// Put a proof on chain: the book, the NFT, the vault, or a bare verifier.
    ///
    /// --to book attests the inference (or every inference of an aggregated proof); --to nft mints the
    /// token of the proof's prompt (commit, then reveal a block later); --to vault lets the vault act on the
    /// proven prediction; --to verifier calls the model's verifier. Every transaction is simulated first:
    /// a refusal prints the contract's custom error by name with its arguments.
    ///
    /// Examples (addresses from deployments/local.json):
    ///   zkml-eth submit-proof proof.json --to book
    ///   zkml-eth submit-proof aggregated.json --to book --batch-verifier-id 1
    ///   zkml-eth submit-proof pixel-art-proof.json --to nft
    ///   zkml-eth submit-proof eth-price-proof.json --to vault --round 18446744073709551629
    #[command(verbatim_doc_comment, name = "submit-proof")]
    SubmitProof(SubmitArgs),
    /// Register a model or an aggregation's batch verifier; prints the id.
    ///
    /// --model DIR deploys the verifier generated from DIR behind an adapter and registers it with the
    /// model's commitment and public layout. --aggregated AGG.json deploys the aggregation's verifier and
    /// registers it as a batch verifier over the registered models of its slots.
    ///
    /// Examples:
    ///   zkml-eth register --model target/digits-mlp --unsafe-dev-srs
    ///   zkml-eth register --aggregated aggregated.json --unsafe-dev-srs
    #[command(verbatim_doc_comment)]
    Register(RegisterArgs),
    /// Check that a deployed verifier is the one generated from a model, byte for byte.
    ///
    /// The address may be the verifier or the adapter the registry stores (its pinned instance count and
    /// proof length are checked too). The registry trusts registrants; this lets users not.
    #[command(verbatim_doc_comment)]
    CheckVerifier(CheckVerifierArgs),
    /// Show any artifact with its public values decoded.
    ///
    /// A model directory, a proof, an aggregated proof or a deployment file.
    #[command(verbatim_doc_comment)]
    Inspect(InspectArgs),
    /// The whole story on a local anvil, from ONNX models to contracts acting on proofs.
    ///
    /// Three models, their proofs, one aggregated proof, the contracts deployed, the book attesting the
    /// batch, the vault trading on a proven prediction, the NFT minting the proven image, a tampered proof
    /// refused, and a summary of times and gas.
    ///
    /// anvil is started on a free loopback port and stopped on exit and on Ctrl-C. Everything is written
    /// under --out. The first run makes keys and an aggregation key (minutes); later runs reuse them.
    ///
    /// Example:
    ///   zkml-eth demo --out zkml-demo
    #[command(verbatim_doc_comment)]
    Demo(DemoArgs),
}

impl Cli {
    /// Runs the chosen command, printing as --json and --quiet say.
    pub fn run(self) -> Result<()> {
        self.command.run(Output { json: self.json, quiet: self.quiet, capture: None })
    }
}

impl Command {
    /// Runs the command with `out`; only the commands that talk to a chain start an async runtime.
    pub fn run(self, out: Output) -> Result<()> {
        match self {
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
            Command::Demo(args) => args.run(out),
        }
    }
}

/// The async runtime of the commands that talk to a chain.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("could not start the async runtime")
}
