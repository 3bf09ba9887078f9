//! `zkml-eth demo`: the product's story end to end, with the other commands run in-process (each step is
//! the command a user would type, parsed by the same clap definitions, its report read back as JSON).
//!
//! 1. anvil on a free loopback port (or `--rpc-url`), first, so that a missing anvil fails at once;
//! 2. three models from ONNX: the digits MLP (with its fidelity against the float model), the eth-price
//!    predictor (the vault's) and the pixel-art generator (the NFT's), each with its circuit and keys;
//! 3. a proof of each for the EVM: a digit, the price move predicted from a window of the feed, an image
//!    from an EIP-7007 prompt; verified natively and by the generated verifier in revm; the image drawn;
//! 4. the three inferences again with the Poseidon transcript, aggregated into one proof for the EVM;
//! 5. `deploy`, `register` of the digits model and of the batch verifier;
//! 6. the book attests the batch; the vault, funded, acts on the proven prediction for its feed's latest
//!    round; the NFT mints the token whose image is the proven output (its on-chain SVG checked byte for
//!    byte against `render`'s); a tampered proof is refused with its decoded error;
//! 7. a summary: time of each step, proof sizes, gas of each transaction;
//! 8. with `--serve`, the dApp of `examples/dapp` served against the chain until Ctrl-C (`page`).

mod page;

use std::{
    ffi::OsString,
    io::IsTerminal,
    path::{Path, PathBuf},
    process::Child,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::U256,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use anyhow::{Context, Result, anyhow, bail, ensure};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use clap::{Args, Parser};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::Value;
use zkml_evm::solc::{checkout_path, on_search_path};

use crate::{
    chain::{Sent, send},
    cli::{Cli, runtime},
    cmd::deploy::Deployment,
    contracts::{ERC7007Zkml, TestPriceFeed, TestToken, VerifiedTradingVault},
    output::{Captured, CapturedResult, Output},
};

/// The EVM revision anvil runs: the one foundry.toml pins, so the chain executes what forge compiled.
const HARDFORK: &str = "prague";
/// The feed history's answer the vault's first prediction is for (the end of its window).
const FEED_AT: &str = "8000";
/// The NFT's prompt: class byte 3 (the digit drawn), then four signed latent bytes.
const PROMPT: &str = "0x0310f00000";
/// What the demo deposits in the vault: 100,000 test USD (6 decimals).
const DEPOSIT: u64 = 100_000_000_000;
/// The proof byte a tampered proof has flipped (inside the first commitment).
const TAMPERED_BYTE: usize = 100;
/// Marks a directory the demo wrote, so that a re-run may replace its files and never a user's.
const MARKER: &str = ".zkml-demo";
/// The three example models: (name, directory under the examples).
const MODELS: [&str; 3] = ["digits", "eth-price", "pixel-art"];

/// Run the whole story: models, proofs, aggregation, contracts, the book, the vault, the NFT.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the models, proofs, images and deployment file are written. A re-run replaces what an
    /// earlier demo wrote there; a non-empty directory the demo did not make is refused.
    #[arg(long, value_name = "DIR", default_value = "zkml-demo")]
    out: PathBuf,
    /// The examples directory (digits, eth-price, pixel-art) [default: the one of the zkml-eth checkout
    /// this binary belongs to].
    #[arg(long, value_name = "DIR")]
    examples: Option<PathBuf>,
    /// Run on this chain instead of the demo's own anvil: a local development chain with chain id 31337
    /// (anvil, hardhat), where the test market is deployed, and a funded --private-key. ETH_RPC_URL is not
    /// read: without this flag the demo always runs its own anvil.
    #[arg(long, value_name = "URL", requires = "private_key")]
    rpc_url: Option<Url>,
    /// The funded account on --rpc-url (hex). The demo's own anvil uses its first development account.
    #[arg(long, env = "ETH_PRIVATE_KEY", value_name = "KEY", hide_env_values = true)]
    private_key: Option<String>,
    /// The anvil executable [default: $ZKML_ANVIL, the checkout's node_modules/.bin/anvil, anvil on PATH].
    #[arg(long, env = "ZKML_ANVIL", value_name = "PATH")]
    anvil: Option<PathBuf>,
    /// KZG parameters in halo2 format [default: the UNSAFE development SRS, which anyone can forge proofs
    /// under: fine for a demo, never for real use].
    #[arg(long, value_name = "FILE")]
    srs: Option<PathBuf>,
    /// Cache directory for keys and the development SRS [default: $XDG_CACHE_HOME/zkml-eth or
    /// ~/.cache/zkml-eth].
    #[arg(long, env = "ZKML_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// The Solidity compiler [default: $ZKML_SOLC, $FOUNDRY_SOLC, the checkout's, or solc on PATH].
    #[arg(long, value_name = "PATH")]
    solc: Option<PathBuf>,
    /// After the story, keep the chain running and serve the dApp (examples/dapp: the models, the vault,
    /// the NFT gallery, minting and trading from the browser) against it until Ctrl-C. Needs Node.js with
    /// npm; its packages are installed on first use.
    #[arg(long)]
    serve: bool,
    /// The dApp's port on 127.0.0.1, with --serve.
    #[arg(long, value_name = "PORT", default_value_t = 4173, requires = "serve")]
    port: u16,
}

/// What the demo reports with --json.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoReport {
    /// Where everything was written.
    pub out: PathBuf,
    /// The chain the story ran on (the demo's anvil is stopped when the demo ends, unless --serve).
    pub rpc_url: String,
    /// With --serve: the dApp's address, the chain in its query string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// Seconds the whole story took.
    pub seconds: f64,
    /// Each step and its seconds.
    pub steps: Vec<StepTime>,
    /// Proof bytes of each proof made.
    pub proof_bytes: Vec<(String, u64)>,
    /// Every transaction sent, with its gas.
    pub transactions: Vec<Sent>,
    /// The contracts and model ids.
    pub deployment: Deployment,
    /// The NFT minted.
    pub token_id: U256,
    /// The error a tampered proof was refused with.
    pub refused: String,
}

/// One step of the story and how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct StepTime {
    /// What it did.
    pub step: String,
    /// Seconds.
    pub seconds: f64,
}

/// The demo's anvil and, with --serve, the dApp's server: stopped when dropped (also on an error) and by
/// the signal handler on Ctrl-C.
#[derive(Clone, Default)]
struct LocalChain(Arc<Mutex<Running>>);

/// What [`LocalChain`] stops.
#[derive(Default)]
struct Running {
    anvil: Option<AnvilInstance>,
    page: Option<Child>,
}

impl LocalChain {
    fn running(&self) -> std::sync::MutexGuard<'_, Running> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stops the page's server and anvil if they run; returns anvil's PID.
    fn stop(&self) -> Option<u32> {
        let mut running = self.running();
        if let Some(mut page) = running.page.take() {
            let _ = page.kill();
            let _ = page.wait();
        }
        let anvil = running.anvil.take()?;
        let pid = anvil.child().id();
        // AnvilInstance kills its child process by PID when dropped.
        drop(anvil);
        Some(pid)
    }
}

impl Drop for LocalChain {
    fn drop(&mut self) {
        // The story's handle drops on success and on every error; the signal handler's clone never drops
        // (it exits the process), so the first drop is the one that matters.
        self.stop();
    }
}

/// Stops `chain` and exits on Ctrl-C (SIGINT) or SIGTERM, so that no anvil outlives the demo.
fn stop_on_signal(chain: LocalChain) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    },
                    Err(_) => drop(tokio::signal::ctrl_c().await),
                }
            }
            #[cfg(not(unix))]
            drop(tokio::signal::ctrl_c().await);
        });
        if let Some(pid) = chain.stop() {
            eprintln!("\ninterrupted: anvil (pid {pid}) stopped");
        }
        std::process::exit(130);
    });
}

/// The anvil to run: --anvil / $ZKML_ANVIL, the checkout's npm install, or `anvil` on PATH.
fn anvil_bin(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        ensure!(path.is_file(), "--anvil / ZKML_ANVIL is {}, which does not exist", path.display());
        return Ok(path.to_path_buf());
    }
    checkout_path("node_modules/.bin/anvil").or_else(|| on_search_path("anvil")).context(
        "no anvil: run `npm ci` in the zkml-eth checkout (it installs foundry's anvil), put anvil on PATH, pass \
         --anvil PATH or set ZKML_ANVIL; or give --rpc-url and --private-key of a running local chain",
    )
}

/// Builds a command line for [`Story::zkml`].
macro_rules! args {
    ($($arg:expr),* $(,)?) => { vec![$(OsString::from($arg)),*] };
}

/// The story's state: where it writes, what it measured, and the progress shown.
struct Story {
    out: Output,
    dir: PathBuf,
    work: PathBuf,
    srs_args: Vec<OsString>,
    solc_args: Vec<OsString>,
    steps: Vec<StepTime>,
    transactions: Vec<Sent>,
    current: Option<(String, Instant)>,
    bar: Option<ProgressBar>,
}

impl Story {
    fn people(&self) -> bool {
        !self.out.json && !self.out.quiet && self.out.capture.is_none()
    }

    /// Ends the current step (its time is recorded) and starts the next one, if any.
    fn step(&mut self, title: Option<&str>) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some((name, started)) = self.current.take() {
            let seconds = started.elapsed().as_secs_f64();
            self.say(format!("done in {seconds:.1} s"));
            self.steps.push(StepTime { step: name, seconds });
        }
        let Some(title) = title else { return };
        self.current = Some((title.to_string(), Instant::now()));
        if self.people() {
            println!("\n==> {title}");
            if std::io::stderr().is_terminal() {
                let bar = ProgressBar::new_spinner();
                bar.set_style(ProgressStyle::with_template("    {spinner} {elapsed}").expect("a valid template"));
                bar.enable_steady_tick(Duration::from_millis(200));
                self.bar = Some(bar);
            }
        }
    }

    /// A line of the story, indented under its step.
    fn say(&self, text: impl AsRef<str>) {
        if !self.people() {
            return;
        }
        let text = text.as_ref().lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{text}")),
            None => println!("{text}"),
        }
    }

    /// Runs `zkml-eth ARGS` in this process and returns its report.
    fn zkml(&self, args: Vec<OsString>) -> Result<CapturedResult> {
        static CAPTURED: Captured = Mutex::new(Vec::new());
        let line = args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
        let cli = Cli::try_parse_from(std::iter::once(OsString::from("zkml-eth")).chain(args))
            .map_err(|e| anyhow!("the demo's command `zkml-eth {line}` does not parse: {e}"))?;
        CAPTURED.lock().unwrap_or_else(|p| p.into_inner()).clear();
        cli.command.run(Output::captured(&CAPTURED)).with_context(|| format!("`zkml-eth {line}`"))?;
        CAPTURED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .with_context(|| format!("`zkml-eth {line}` reported nothing"))
    }

    /// As [`Self::zkml`] with the SRS and compiler options appended.
    fn zkml_srs(&self, mut args: Vec<OsString>, solc: bool) -> Result<CapturedResult> {
        args.extend(self.srs_args.iter().cloned());
        if solc {
            args.extend(self.solc_args.iter().cloned());
        }
        self.zkml(args)
    }

    /// Shows and records the transactions of a chain command's report.
    fn transactions(&mut self, report: &Value) -> Result<Vec<Sent>> {
        let sent = report.get("transactions").cloned().unwrap_or(Value::Array(vec![]));
        let sent: Vec<Sent> = serde_json::from_value(sent).context("a chain command's transactions")?;
        for tx in &sent {
            self.record(tx.clone());
        }
        Ok(sent)
    }

    /// Shows and records one transaction.
    fn record(&mut self, tx: Sent) {
        self.say(transaction_line(&tx));
        self.transactions.push(tx);
    }
}

/// `action: gas N  [Event, Other x13]`: repeated events once, with their count.
fn transaction_line(tx: &Sent) -> String {
    let mut names: Vec<(&str, usize)> = vec![];
    for event in &tx.events {
        match names.iter_mut().find(|(n, _)| *n == event.event) {
            Some((_, count)) => *count += 1,
            None => names.push((&event.event, 1)),
        }
    }
    let events =
        names.iter().map(|(n, c)| if *c == 1 { n.to_string() } else { format!("{n} x{c}") }).collect::<Vec<_>>();
    let events = if events.is_empty() { String::new() } else { format!("  [{}]", events.join(", ")) };
    format!("{}: gas {}{events}", tx.action, thousands(tx.gas_used))
}

/// The units of the vault's market, read from its contracts, for amounts people read.
struct Units {
    usd: (String, u8),
    weth: (String, u8),
    shares: (String, u8),
    feed: u8,
}

impl Units {
    fn usd(&self, v: U256) -> String {
        format!("{} {}", decimal(v, self.usd.1, 2), self.usd.0)
    }
    fn weth(&self, v: U256) -> String {
        format!("{} {}", decimal(v, self.weth.1, 4), self.weth.0)
    }
    fn shares(&self, v: U256) -> String {
        format!("{} {}", decimal(v, self.shares.1, 2), self.shares.0)
    }
    fn price(&self, v: U256) -> String {
        format!("{} {}/{}", decimal(v, self.feed, 2), self.usd.0, self.weth.0)
    }
}

/// `value / 10^decimals` with `places` decimals (truncated) and thousands separators.
fn decimal(value: U256, decimals: u8, places: usize) -> String {
    let scale = U256::from(10u64).pow(U256::from(decimals));
    let whole = value / scale;
    let fraction = format!("{:0>width$}", (value % scale).to_string(), width = decimals as usize);
    let whole = match u64::try_from(whole) {
        Ok(w) => thousands(w),
        Err(_) => whole.to_string(),
    };
    match places.min(decimals as usize) {
        0 => whole,
        p => format!("{whole}.{}", &fraction[..p]),
    }
}

/// `1234567` -> `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut text = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(c);
    }
    text
}

/// `report[pointer]` as a u64, or an error naming the field.
fn number(report: &Value, pointer: &str) -> Result<u64> {
    report.pointer(pointer).and_then(Value::as_u64).with_context(|| format!("the report has no number at {pointer}"))
}

/// The output directory: made, or one an earlier demo made (its files are replaced), never a user's.
fn claim_out_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        ensure!(dir.is_dir(), "--out {} is a file, not a directory", dir.display());
        let empty = std::fs::read_dir(dir)?.next().is_none();
        ensure!(
            empty || dir.join(MARKER).is_file(),
            "--out {} holds files the demo did not write: give an empty or new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "written by `zkml-eth demo`; a re-run replaces the files here\n")
        .with_context(|| format!("could not write in {}", dir.display()))?;
    // What an earlier demo wrote is replaced: the commands refuse to overwrite a file without --force.
    for model in MODELS {
        for ext in ["json", "svg", "png"] {
            remove_if_present(&dir.join(format!("{model}-proof.{ext}")))?;
        }
    }
    for file in ["aggregated.json", "token.svg", "deployment.json"] {
        remove_if_present(&dir.join(file))?;
    }
    let work = dir.join("work");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("could not clear {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("could not create {}", work.display()))?;
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("could not remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// The image of an EIP-7007 token: its tokenURI's JSON, then the SVG in its `image` data URI.
fn token_svg(uri: &str) -> Result<(Value, Vec<u8>)> {
    let json = uri.strip_prefix("data:application/json;base64,").context("tokenURI is not a base64 JSON data URI")?;
    let json = BASE64.decode(json).context("tokenURI's base64 does not decode")?;
    let meta: Value = serde_json::from_slice(&json).context("tokenURI is not JSON")?;
    let image = meta.get("image").and_then(Value::as_str).context("the token's metadata has no image")?;
    let svg = image.strip_prefix("data:image/svg+xml;base64,").context("the token's image is not a base64 SVG")?;
    let svg = BASE64.decode(svg).context("the token's image does not decode")?;
    Ok((meta, svg))
}

impl DemoArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let started = Instant::now();
        let examples = match &self.examples {
            Some(dir) => dir.clone(),
            None => checkout_path("examples").context(
                "this binary is not in a zkml-eth checkout, so the example models are not found: pass --examples \
                 DIR (the checkout's examples/)",
            )?,
        };
        for model in MODELS {
            let dir = examples.join(model);
            ensure!(dir.is_dir(), "--examples {}: no {model}/ in it", examples.display());
        }
        claim_out_dir(&self.out)?;
        let dir = self.out.canonicalize().unwrap_or(self.out.clone());
        let mut srs_args = match &self.srs {
            Some(file) => args!["--srs", file],
            None => args!["--unsafe-dev-srs"],
        };
        if let Some(cache) = &self.cache_dir {
            srs_args.extend(args!["--cache-dir", cache]);
        }
        let solc_args = self.solc.as_ref().map(|s| args!["--solc", s]).unwrap_or_default();
        let mut story = Story {
            out,
            work: dir.join("work"),
            dir,
            srs_args,
            solc_args,
            steps: vec![],
            transactions: vec![],
            current: None,
            bar: None,
        };
        let chain = LocalChain::default();
        let result = self.tell(&mut story, &examples, &chain);
        if let Some(bar) = story.bar.take() {
            bar.finish_and_clear();
        }
        let report = result?;
        let seconds = started.elapsed().as_secs_f64();
        if !self.serve {
            let report = DemoReport { seconds, ..report };
            return story.out.result(&report, || summary(&report));
        }

        // The page is up before the report is printed, so that whoever reads the report can open it.
        let deployment = report.out.join("deployment.json").canonicalize()?;
        let log = report.out.join("dapp.log");
        story.out.status("Serving the dApp (examples/dapp) against the chain ...");
        let page = page::serve(&examples.join("dapp"), &deployment, self.port, &log, &story.out)?;
        let page_url = format!("{}?rpc={}", page.url, report.rpc_url);
        chain.running().page = Some(page.server);
        let report = DemoReport { seconds, page_url: Some(page_url), ..report };
        story.out.result(&report, || {
            format!(
                "{}\n  Serving until Ctrl-C, which stops the page and anvil (the server's log: {}).",
                summary(&report),
                log.display()
            )
        })?;
        loop {
            std::thread::sleep(Duration::from_millis(500));
            if let Some(status) = chain.running().page.as_mut().and_then(|p| p.try_wait().transpose()) {
                bail!("the dApp's server stopped ({}); its log: {}", status?, log.display());
            }
        }
    }

    fn tell(&self, s: &mut Story, examples: &Path, chain: &LocalChain) -> Result<DemoReport> {
        let dir = s.dir.clone();
        let work = s.work.clone();
        let model_dir = |m: &str| dir.join(m);
        let proof = |m: &str| dir.join(format!("{m}-proof.json"));
        let digits = examples.join("digits");
        if self.srs.is_none() {
            s.say(
                "The demo uses the UNSAFE development SRS: anyone can forge proofs under it. Use --srs FILE for real.",
            );
        }

        // First, so that a missing anvil fails in a second, not after minutes of proving.
        let (rpc_url, key) = match (&self.rpc_url, &self.private_key) {
            (Some(url), Some(key)) => {
                s.step(Some("Use the chain at --rpc-url"));
                (url.clone(), key.clone())
            }
            _ => {
                s.step(Some("Start anvil on a free loopback port"));
                let bin = anvil_bin(self.anvil.as_deref())?;
                stop_on_signal(chain.clone());
                let anvil = Anvil::at(&bin)
                    .args(["--host", "127.0.0.1", "--hardfork", HARDFORK])
                    .try_spawn()
                    .with_context(|| format!("could not start {}", bin.display()))?;
                let url = anvil.endpoint_url();
                // anvil's first development account: well known, for local chains only.
                let key = format!("0x{}", alloy::hex::encode(anvil.first_key().to_bytes()));
                s.say(format!("anvil pid {} at {url}", anvil.child().id()));
                chain.running().anvil = Some(anvil);
                (url, key)
            }
        };
        let signer: PrivateKeySigner = key.trim().parse().context("--private-key is not a valid hex private key")?;
        let account = signer.address();
        let provider: DynProvider =
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(rpc_url.clone()).erased();
        let wallet = args!["--rpc-url", rpc_url.as_str(), "--private-key", &key];
        let with_wallet = |mut cmd: Vec<OsString>| {
            cmd.extend(wallet.iter().cloned());
            cmd
        };

        s.step(Some("Compile the three models from ONNX (zkml-eth compile)"));
        s.zkml(args![
            "compile",
            digits.join("mlp.onnx"),
            "--calibration",
            digits.join("calibration.json"),
            "--out",
            model_dir("digits")
        ])?;
        for m in ["eth-price", "pixel-art"] {
            let ex = examples.join(m);
            s.zkml(args![
                "compile",
                ex.join("model.onnx"),
                "--calibration",
                ex.join("calibration.json"),
                "--scale",
                "12",
                "--out",
                model_dir(m)
            ])?;
        }
        s.say(format!(
            "digits MLP, eth-price predictor, pixel-art generator -> {}/{{digits,eth-price,pixel-art}}",
            dir.display()
        ));

        s.step(Some("Quantized vs float on the held-out digits (zkml-eth fidelity)"));
        let fidelity = s.zkml(args!["fidelity", model_dir("digits"), "--data", digits.join("test.json")])?;
        s.say(&fidelity.text);

        s.step(Some("Circuits, SRS and keys (zkml-eth setup)"));
        for m in MODELS {
            let setup = s.zkml_srs(args!["setup", model_dir(m)], false)?;
            s.say(format!(
                "{m:<10} k = {}, {} advice columns, keys {}",
                number(&setup.value, "/k")?,
                number(&setup.value, "/adviceColumns")?,
                setup.value.get("keys").and_then(Value::as_str).unwrap_or("?")
            ));
        }

        s.step(Some("Inputs: a window of the price feed, an EIP-7007 prompt (zkml-eth input)"));
        let input = |m: &str| work.join(format!("{m}-input.json"));
        s.zkml(args![
            "input",
            "feed",
            examples.join("eth-price/feed.json"),
            "--at",
            FEED_AT,
            "--model",
            model_dir("eth-price"),
            "--out",
            input("eth-price")
        ])?;
        s.zkml(args!["input", "prompt", PROMPT, "--model", model_dir("pixel-art"), "--out", input("pixel-art")])?;
        s.say(format!(
            "eth-price: the 12 returns of the feed window ending at answer {FEED_AT}, as the vault recomputes them"
        ));
        s.say(format!("pixel-art: the prompt {PROMPT} (digit 3, two latents nudged)"));

        // `prove` of one inference of model `m`: the first held-out digit, or the input built above.
        let prove = |m: &str, transcript: &str, out: PathBuf| {
            let mut cmd = args!["prove", model_dir(m)];
            cmd.extend(match m {
                "digits" => args!["--input", digits.join("test.json"), "--sample", "0"],
                _ => args!["--input", input(m)],
            });
            cmd.extend(args!["--transcript", transcript, "--out", out]);
            cmd
        };

        s.step(Some("Prove one inference of each for the EVM (zkml-eth prove, keccak transcript)"));
        let mut sizes = vec![];
        for m in MODELS {
            let proved = s.zkml_srs(prove(m, "keccak", proof(m)), false)?;
            let bytes = number(&proved.value, "/proofs/0/proofBytes")?;
            let seconds = proved.value.get("proveSeconds").and_then(Value::as_f64).unwrap_or_default();
            s.say(format!("{m:<10} {bytes:>5} proof bytes in {seconds:.2} s"));
            sizes.push((format!("{m}-proof"), bytes));
        }

        s.step(Some("Verify them natively and by their generated verifiers in revm (zkml-eth verify --evm)"));
        for m in MODELS {
            let verified = s.zkml_srs(args!["verify", proof(m), "--evm"], true)?;
            s.say(format!(
                "{m:<10} valid; EVM verifier {} bytes, {} gas",
                thousands(number(&verified.value, "/evm/runtimeBytes")?),
                thousands(number(&verified.value, "/evm/gas")?)
            ));
        }

        s.step(Some("Draw the proven image (zkml-eth render)"));
        let rendered = s.zkml(args!["render", proof("pixel-art")])?;
        // The aigcData the NFT stores is long hex: its size is enough here.
        for line in rendered.text.lines() {
            match line.split_once(": 0x") {
                Some((head, _)) if head.starts_with("aigcData") => s.say(format!("{head}, the bytes the NFT stores")),
                _ => s.say(line),
            }
        }

        s.step(Some("Aggregate one Poseidon proof of each model into one EVM proof (zkml-eth aggregate)"));
        s.say("the first run makes the aggregation's keys: minutes; later runs reuse them");
        let poseidon = |m: &str| work.join(format!("poseidon-{m}.json"));
        // The order of the batch: the vault's model, the NFT's, then digits.
        for m in ["eth-price", "pixel-art", "digits"] {
            s.zkml_srs(prove(m, "poseidon", poseidon(m)), false)?;
        }
        let aggregated = dir.join("aggregated.json");
        let agg = s.zkml_srs(
            args!["aggregate", poseidon("eth-price"), poseidon("pixel-art"), poseidon("digits"), "--out", &aggregated],
            false,
        )?;
        let verified = s.zkml_srs(args!["verify", &aggregated, "--evm"], true)?;
        let agg_bytes = number(&agg.value, "/proofBytes")?;
        s.say(format!(
            "k = {}, keys {}, proved in {:.0} s: {agg_bytes} proof bytes for three inferences, {} gas on the EVM",
            number(&agg.value, "/k")?,
            agg.value.get("keys").and_then(Value::as_str).unwrap_or("?"),
            agg.value.get("proveSeconds").and_then(Value::as_f64).unwrap_or_default(),
            thousands(number(&verified.value, "/evm/gas")?)
        ));
        sizes.push(("aggregated".into(), agg_bytes));

        let deployment_file = dir.join("deployment.json");
        // `submit-proof PROOF --to TARGET` against this deployment, signed by the demo's account.
        let submit = |proof: &Path, to: &str| {
            with_wallet(args!["submit-proof", proof, "--to", to, "--deployment", &deployment_file])
        };
        s.step(Some("Deploy the contracts (zkml-eth deploy: registry, book, models, NFT, vault, test market)"));
        let deployed = s.zkml_srs(
            with_wallet(args![
                "deploy",
                "--eth-price",
                model_dir("eth-price"),
                "--pixel-art",
                model_dir("pixel-art"),
                "--feed-history",
                examples.join("eth-price/feed.json"),
                "--feed-at",
                FEED_AT,
                "--out",
                &deployment_file
            ]),
            true,
        )?;
        s.transactions(&deployed.value)?;
        s.say(format!("addresses and model ids: {}", deployment_file.display()));

        s.step(Some("Register the digits model and the aggregation's batch verifier (zkml-eth register)"));
        let registered = s.zkml_srs(
            with_wallet(args!["register", "--model", model_dir("digits"), "--deployment", &deployment_file]),
            true,
        )?;
        s.transactions(&registered.value)?;
        let batch = s.zkml_srs(
            with_wallet(args!["register", "--aggregated", &aggregated, "--deployment", &deployment_file]),
            true,
        )?;
        s.transactions(&batch.value)?;
        s.say(format!(
            "digits is model {}; batch verifier {} over models {}",
            number(&registered.value, "/modelId")?,
            number(&batch.value, "/batchVerifierId")?,
            batch.value.get("slotModelIds").map(Value::to_string).unwrap_or_default()
        ));

        s.step(Some("The book attests the batch: one aggregated proof, three inferences (submit-proof --to book)"));
        let attested = s.zkml(submit(&aggregated, "book"))?;
        s.transactions(&attested.value)?;

        s.step(Some(&format!(
            "Fund the vault with {} test USD; it acts on the proven prediction (submit-proof --to vault)",
            decimal(U256::from(DEPOSIT), 6, 0)
        )));
        let deployment = Deployment::load(&deployment_file)?;
        let rt = runtime()?;
        let usd = TestToken::new(deployment.usd, &provider);
        let weth = TestToken::new(deployment.weth, &provider);
        let vault = VerifiedTradingVault::new(deployment.vault, &provider);
        let units = rt.block_on(async {
            anyhow::Ok(Units {
                usd: (usd.symbol().call().await?, usd.decimals().call().await?),
                weth: (weth.symbol().call().await?, weth.decimals().call().await?),
                shares: (vault.symbol().call().await?, vault.decimals().call().await?),
                feed: TestPriceFeed::new(deployment.feed, &provider).decimals().call().await?,
            })
        })?;
        rt.block_on(async {
            let amount = U256::from(DEPOSIT);
            let text = units.usd(amount);
            s.record(
                send(&provider, format!("mint {text}"), usd.mint(account, amount).into_transaction_request()).await?,
            );
            s.record(
                send(&provider, "approve the vault", usd.approve(deployment.vault, amount).into_transaction_request())
                    .await?,
            );
            s.record(
                send(
                    &provider,
                    format!("deposit {text} in the vault"),
                    vault.deposit(amount, account).into_transaction_request(),
                )
                .await?,
            );
            let shares = vault.balanceOf(account).call().await?;
            s.say(format!("deposited {text} for {}", units.shares(shares)));
            anyhow::Ok(())
        })?;
        let acted = s.zkml(submit(&proof("eth-price"), "vault"))?;
        let sent = s.transactions(&acted.value)?;
        for event in sent.iter().flat_map(|tx| &tx.events) {
            let field = |name: &str| event.field(name).unwrap_or_default().parse::<U256>().unwrap_or_default();
            let bucket = event.field("bucket").unwrap_or("?");
            match event.event.as_str() {
                "Traded" => {
                    let bought = event.field("tokenIn").and_then(|a| a.parse::<alloy::primitives::Address>().ok())
                        == Some(deployment.usd);
                    let (amount_in, amount_out) = match bought {
                        true => (units.usd(field("amountIn")), units.weth(field("amountOut"))),
                        false => (units.weth(field("amountIn")), units.usd(field("amountOut"))),
                    };
                    s.say(format!(
                        "{} on the proven bucket {bucket}: {amount_in} in, {amount_out} out, at {} on the feed",
                        if bought { "bought" } else { "sold" },
                        units.price(field("feedPrice"))
                    ));
                }
                "Held" => {
                    // VerifiedTradingVault.HoldReason, in declaration order.
                    let reason = match event.field("reason") {
                        Some("0") => "the model predicts no move",
                        Some("1") => "the cooldown since the last trade runs",
                        Some("2") => "nothing to trade",
                        _ => "an unknown reason",
                    };
                    s.say(format!("held on the proven bucket {bucket}: {reason}"));
                }
                _ => {}
            }
        }

        s.step(Some("The NFT mints the token whose image is the proven output (submit-proof --to nft)"));
        let minted = s.zkml(submit(&proof("pixel-art"), "nft"))?;
        s.transactions(&minted.value)?;
        let token_id: U256 = serde_json::from_value(minted.value.get("tokenId").cloned().unwrap_or(Value::Null))
            .context("submit-proof --to nft reported no token id")?;
        let nft = ERC7007Zkml::new(deployment.nft, &provider);
        let uri = rt.block_on(async { nft.tokenURI(token_id).call().await }).context("the NFT's tokenURI")?;
        let (meta, svg) = token_svg(&uri)?;
        let token_file = dir.join("token.svg");
        std::fs::write(&token_file, &svg).with_context(|| format!("could not write {}", token_file.display()))?;
        let rendered_svg = dir.join("pixel-art-proof.svg");
        let expected =
            std::fs::read(&rendered_svg).with_context(|| format!("could not read {}", rendered_svg.display()))?;
        ensure!(
            svg == expected,
            "the token's on-chain SVG ({}) differs from the one zkml-eth render drew from the proof ({})",
            token_file.display(),
            rendered_svg.display()
        );
        s.say(format!(
            "token {}: prompt {}, image {} ({} bytes), byte for byte the one render drew from the proof",
            meta.get("name").and_then(Value::as_str).unwrap_or("?"),
            meta.get("prompt").and_then(Value::as_str).unwrap_or("?"),
            token_file.display(),
            svg.len()
        ));

        s.step(Some("A tampered proof is refused, with the contract's error decoded (one proof byte flipped)"));
        let tampered = work.join("tampered.json");
        let mut artifact: Value = serde_json::from_str(&std::fs::read_to_string(&aggregated)?)?;
        let hex = artifact.get("proof").and_then(Value::as_str).context("aggregated.json has no proof")?;
        let mut bytes = alloy::hex::decode(hex).context("aggregated.json's proof is not hex")?;
        ensure!(bytes.len() > TAMPERED_BYTE, "aggregated.json's proof is too short to tamper with");
        bytes[TAMPERED_BYTE] ^= 1;
        artifact["proof"] = Value::String(alloy::hex::encode_prefixed(&bytes));
        std::fs::write(&tampered, serde_json::to_vec_pretty(&artifact)?)?;
        let refused = match s.zkml(submit(&tampered, "book")) {
            Ok(_) => bail!("a tampered proof ({}) was accepted by the book", tampered.display()),
            Err(e) => format!("{:#}", e.root_cause()),
        };
        s.say(format!("refused: {refused}"));

        // With --serve the chain stays up for the page.
        if let Some(pid) = (!self.serve).then(|| chain.stop()).flatten() {
            s.step(Some("Stop anvil"));
            s.say(format!("anvil (pid {pid}) stopped"));
        }
        s.step(None);
        Ok(DemoReport {
            out: dir,
            rpc_url: rpc_url.to_string(),
            page_url: None,
            seconds: 0.0,
            steps: s.steps.clone(),
            proof_bytes: sizes,
            transactions: s.transactions.clone(),
            deployment,
            token_id,
            refused,
        })
    }
}

/// The closing table: each step's time, each transaction's gas, the proof sizes.
fn summary(r: &DemoReport) -> String {
    let width = r.steps.iter().map(|s| s.step.chars().count()).max().unwrap_or(0) + 2;
    let mut text = format!("\nDemo finished in {:.0} s.\n\n  {:<width$}{:>6}\n", r.seconds, "step", "time");
    for step in &r.steps {
        text += &format!("  {:<width$}{:>4.0} s\n", step.step, step.seconds);
    }
    let width = r.transactions.iter().map(|t| t.action.chars().count()).max().unwrap_or(0) + 2;
    text += &format!("\n  {:<width$}{:>12}\n", "transaction", "gas");
    for tx in &r.transactions {
        text += &format!("  {:<width$}{:>12}\n", tx.action, thousands(tx.gas_used));
    }
    let sizes = r.proof_bytes.iter().map(|(m, b)| format!("{m} {}", thousands(*b))).collect::<Vec<_>>().join(", ");
    text += &format!("\n  proof bytes: {sizes}\n");
    text += &format!(
        "\n  On chain: 3 models and 1 batch verifier registered, 3 inferences attested, the vault's decision, an NFT \
         minted.\n  Files: {}/ (models, proofs, aggregated.json, pixel-art-proof.svg/png, token.svg, deployment.json)",
        r.out.display()
    );
    match &r.page_url {
        Some(url) => text += &format!("\n\n  dApp: {url}\n  chain: {}", r.rpc_url),
        None => {
            text += "\n\n  To see it in the browser: `zkml-eth demo --serve` (or `make serve`) runs the story and keeps \
                     its chain and the dApp (examples/dapp) running until Ctrl-C."
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(18_812_345), "18,812,345");
    }

    #[test]
    fn decimal_shows_token_amounts() {
        assert_eq!(decimal(U256::from(100_000_000_000u64), 6, 2), "100,000.00");
        assert_eq!(decimal(U256::from(1_707_670_190_330_643_974u64), 18, 4), "1.7076");
        assert_eq!(decimal(U256::from(582_839_390_449u64), 8, 2), "5,828.39");
        assert_eq!(decimal(U256::from(5u64), 0, 2), "5");
    }

    #[test]
    fn a_directory_the_demo_did_not_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "mine").unwrap();
        let err = claim_out_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("holds files the demo did not write"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.path().join("thesis.tex")).unwrap(), "mine");
    }

    #[test]
    fn a_directory_of_an_earlier_demo_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        claim_out_dir(dir.path()).unwrap();
        std::fs::write(dir.path().join("aggregated.json"), "{}").unwrap();
        claim_out_dir(dir.path()).unwrap();
        assert!(!dir.path().join("aggregated.json").exists());
        assert!(dir.path().join("work").is_dir());
    }

    #[test]
    fn token_svg_reads_the_image_out_of_the_token_uri() {
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        let meta = format!(r#"{{"name":"x","image":"data:image/svg+xml;base64,{}"}}"#, BASE64.encode(svg));
        let uri = format!("data:application/json;base64,{}", BASE64.encode(meta));
        let (meta, image) = token_svg(&uri).unwrap();
        assert_eq!(meta["name"], "x");
        assert_eq!(image, svg);
        assert!(token_svg("data:text/plain,hi").unwrap_err().to_string().contains("not a base64 JSON data URI"));
    }
}
