//! `zkml-eth deploy`: the whole on-chain half through alloy (registry, inference book, the two example
//! models' generated verifiers registered as models, the EIP-7007 NFT, the trading vault and, on a local
//! chain, a test market), written to the deployment file the CLI and dApps read. Run again against the same
//! file, it reuses every contract that is still there and still wired as the file says.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider},
};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use zkml_circuit::public::{InputVisibility, OutputVisibility, SectionKind, WeightVisibility};

use crate::opts::{SolcOpts, SrsOpts};
use crate::{
    chain::{Sent, deploy, require_funds, send, sent_text},
    cmd::{gen_verifier::VerifierTarget, setup::CircuitFile},
    contracts::{
        ERC7007Zkml, Halo2VerifierAdapter, TestPriceFeed, TestToken, TestUniswapV2Market, VerifiedTradingVault,
        ZkmlInferenceBook,
        ZkmlModelRegistry::{self, ModelConfig, PublicLayout},
    },
    opts::{RpcOpts, WalletOpts},
    output::Output,
};

/// Chain id of anvil and hardhat: where the test market is deployed by default.
pub const LOCAL_CHAIN_ID: u64 = 31337;
/// Gas each example model's verifier gets: a single-proof verification costs about 240k.
pub const VERIFY_GAS: u32 = 500_000;
/// Answers the test feed is loaded with: one window of the eth-price model (13 answers), the last of which
/// is the round the first prediction is made at.
pub const FEED_WINDOW_ANSWERS: usize = 13;
/// Pool depth in test WETH.
const POOL_WETH: u128 = 1_000;
/// The vault's policy on the test market: examples/eth-price's backtest (tiers 20% / 10%, a 12 h cooldown);
/// the 1% slippage bound covers the pool's 0.30% fee and a trade's impact on a pool this deep.
const POLICY: VerifiedTradingVault::TradePolicy = VerifiedTradingVault::TradePolicy {
    strongTierBps: 2000,
    tierBps: 1000,
    maxTradeBps: 2000,
    maxSlippageBps: 100,
    cooldown: 12 * 3600,
    maxRoundAge: 3600,
};

/// Everything deployed, as the deployment file holds it. The keys are those `script/Deploy.s.sol` writes,
/// so either tool's file works with the CLI and the dApp.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The chain it is on.
    pub chain_id: u64,
    /// `ZkmlModelRegistry`.
    pub registry: Address,
    /// `ZkmlInferenceBook`.
    pub book: Address,
    /// The eth-price model's id in the registry.
    pub eth_price_model_id: u64,
    /// The pixel-art model's id in the registry.
    pub pixel_art_model_id: u64,
    /// `ERC7007Zkml`.
    pub nft: Address,
    /// `VerifiedTradingVault`.
    pub vault: Address,
    /// The vault's quote token (test USD on a local chain).
    pub usd: Address,
    /// The vault's risk token (test WETH on a local chain).
    pub weth: Address,
    /// The vault's price feed.
    pub feed: Address,
    /// The vault's swap router.
    pub market: Address,
    /// Index in the eth-price example's feed history of the test feed's first answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_first_answer: Option<u64>,
    /// The test feed's first round id, as a decimal string: round ids (phase << 64 | round) exceed the
    /// 2^53 that JSON numbers keep exactly in JavaScript.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "decimal_string")]
    pub feed_first_round: Option<u128>,
    /// Batch verifiers registered by `zkml-eth register --aggregated`, by aggregation hash.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub batch_verifiers: std::collections::BTreeMap<String, u64>,
}

impl Deployment {
    /// Reads a deployment file, naming the file in every error.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!("{} is not a deployment file (written by `zkml-eth deploy` or script/Deploy.s.sol)", path.display())
        })
    }

    /// Its addresses and ids, one per line, for people.
    pub fn text(&self) -> String {
        format!(
            "  registry   {}\n  book       {}\n  models     eth-price {}, pixel-art {}\n  nft        {}\n  vault      {}\n  feed       {}{}\n  market     {} (tokens {} / {}){}",
            self.registry,
            self.book,
            self.eth_price_model_id,
            self.pixel_art_model_id,
            self.nft,
            self.vault,
            self.feed,
            self.feed_first_round.map(|r| format!(" (first round {r})")).unwrap_or_default(),
            self.market,
            self.usd,
            self.weth,
            match self.batch_verifiers.is_empty() {
                true => String::new(),
                false => format!("\n  batch verifiers {:?}", self.batch_verifiers),
            }
        )
    }

    /// Writes it, creating the directory.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("could not write {}", path.display()))
    }
}

/// Arguments of `zkml-eth deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    wallet: WalletOpts,
    /// The eth-price model directory, set up (`zkml-eth setup`): its verifier is generated, deployed and
    /// registered as the vault's model.
    #[arg(long, value_name = "DIR")]
    eth_price: PathBuf,
    /// The pixel-art model directory, set up: the NFT's generator.
    #[arg(long, value_name = "DIR")]
    pixel_art: PathBuf,
    /// The eth-price example's feed history (`examples/eth-price/feed.json`), required for a test market:
    /// the test feed is loaded with the window that ends at `--feed-at`, its last answer stamped with the
    /// chain's latest block time.
    #[arg(long, value_name = "FEED.json")]
    feed_history: Option<PathBuf>,
    /// Index in the feed history of the test feed's latest answer (the round the first prediction is for).
    #[arg(long, value_name = "INDEX", default_value_t = 8000)]
    feed_at: usize,
    /// Deploy a test market (two mintable test tokens, a price feed, a constant-product pool) for the vault
    /// [default: on chain 31337 when no --quote, --risk, --feed and --router are given].
    #[arg(long)]
    test_market: Option<bool>,
    /// The vault's quote token, the asset it takes deposits in (e.g. USDC). With --risk, --feed and
    /// --router: the vault trades on this market instead of a test one.
    #[arg(long, value_name = "ADDRESS", requires_all = ["risk", "feed", "router"], conflicts_with = "test_market")]
    quote: Option<Address>,
    /// The token the vault buys on a predicted rise (e.g. WETH).
    #[arg(long, value_name = "ADDRESS", requires = "quote")]
    risk: Option<Address>,
    /// A Chainlink AggregatorV3 feed of the risk token's price in the quote token (ETH/USD): the feed the
    /// eth-price model's inputs are computed from.
    #[arg(long, value_name = "ADDRESS", requires = "quote")]
    feed: Option<Address>,
    /// A Uniswap V2 router (swapExactTokensForTokens) with a quote/risk pool.
    #[arg(long, value_name = "ADDRESS", requires = "quote")]
    router: Option<Address>,
    /// Where the deployment is written (and, if it exists, what is reused).
    #[arg(long, value_name = "FILE", default_value = "deployments/local.json")]
    out: PathBuf,
    #[command(flatten)]
    srs: SrsOpts,
    #[command(flatten)]
    solc: SolcOpts,
}

/// What `deploy` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployReport {
    /// The deployment file written.
    pub file: PathBuf,
    /// Its contents.
    pub deployment: Deployment,
    /// The contracts found in the previous file and kept.
    pub reused: Vec<String>,
    /// The transactions sent.
    pub transactions: Vec<Sent>,
    /// Total gas of those transactions.
    pub gas_used: u64,
}

/// One model directory's verifier and registration, ready to send.
pub struct ModelRegistration {
    /// The generated verifier's creation code.
    pub verifier_code: Bytes,
    /// Its runtime code (what is deployed).
    pub verifier_runtime: Bytes,
    /// Public instances of its proofs.
    pub num_instances: usize,
    /// Bytes of each proof.
    pub proof_bytes: usize,
    /// Poseidon commitment of the quantized model.
    pub commitment: B256,
    /// Its public layout as the registry stores it.
    pub layout: PublicLayout,
}

impl ModelRegistration {
    /// Generates and compiles the verifier of a set-up model directory and reads its layout.
    pub fn from_model_dir(dir: &Path, srs: &SrsOpts, solc: &SolcOpts, out: &Output) -> Result<Self> {
        let circuit = CircuitFile::load(dir)?;
        let target = VerifierTarget { model: Some(dir.to_path_buf()), aggregated: None };
        let built = target.build(srs, solc, out, true)?;
        Ok(Self {
            verifier_code: built.verifier.compiled.creation.into(),
            verifier_runtime: built.verifier.compiled.runtime.into(),
            num_instances: built.num_instance,
            proof_bytes: built.proof_bytes,
            commitment: circuit.model_commitment.parse().with_context(|| {
                format!("{}: model_commitment is not a bytes32", dir.join("circuit.json").display())
            })?,
            layout: registry_layout(&circuit.layout)
                .with_context(|| format!("{}: its public layout", dir.join("circuit.json").display()))?,
        })
    }

    /// Deploys the verifier and its adapter and registers the model; returns its id.
    pub async fn register(
        &self,
        provider: &DynProvider,
        registry: Address,
        name: &str,
        sent: &mut Vec<Sent>,
    ) -> Result<u64> {
        let (verifier, tx) =
            deploy(provider, format!("deploy the {name} verifier"), self.verifier_code.clone()).await?;
        sent.push(tx);
        let adapter_code = Halo2VerifierAdapter::deploy_builder(
            provider,
            verifier,
            U256::from(self.num_instances),
            U256::from(self.proof_bytes),
        )
        .calldata()
        .clone();
        let (adapter, tx) = deploy(provider, format!("deploy the {name} verifier's adapter"), adapter_code).await?;
        sent.push(tx);
        let config = ModelConfig {
            verifier: adapter,
            commitment: self.commitment,
            verifyGasLimit: VERIFY_GAS,
            publicLayout: self.layout.clone(),
        };
        let call = ZkmlModelRegistry::new(registry, provider).registerModel(config).into_transaction_request();
        let tx = send(provider, format!("register the {name} model"), call).await?;
        let id = tx
            .events
            .iter()
            .find(|e| e.event == "ModelRegistered")
            .and_then(|e| e.field("modelId"))
            .context("registerModel emitted no ModelRegistered event")?
            .parse()
            .context("the model id does not fit 64 bits")?;
        sent.push(tx);
        Ok(id)
    }
}

/// The registry's `PublicLayout` of a circuit's layout (the mirror of `ZkmlArtifacts._publicLayout`).
pub fn registry_layout(layout: &zkml_circuit::PublicLayout) -> Result<PublicLayout> {
    let mut l = PublicLayout {
        weights: match layout.visibility.weights {
            WeightVisibility::Fixed => 0,
            WeightVisibility::Committed => 1,
        },
        input: match layout.visibility.input {
            InputVisibility::Public => 0,
            InputVisibility::Hashed => 1,
            InputVisibility::Private => 2,
        },
        output: match layout.visibility.output {
            OutputVisibility::Public => 0,
            OutputVisibility::Hashed => 1,
        },
        inputScale: 0,
        outputScale: 0,
        inputWidth: 0,
        outputWidth: 0,
        inputCount: 0,
        outputCount: 0,
    };
    for section in &layout.sections {
        let width = u8::try_from(section.width).context("a slot width above 255 bits")?;
        let count = u16::try_from(section.values).context("more than 65,535 values in a section")?;
        let scale = section.scales.first().copied().unwrap_or(0);
        if section.scales.iter().any(|s| *s != scale) {
            bail!(
                "the {:?} section mixes scales {:?}: the registry stores one per section",
                section.kind,
                section.scales
            );
        }
        match section.kind {
            SectionKind::Inputs | SectionKind::InputsHash => {
                (l.inputWidth, l.inputCount, l.inputScale) = (width, count, scale)
            }
            SectionKind::Outputs | SectionKind::OutputsHash => {
                (l.outputWidth, l.outputCount, l.outputScale) = (width, count, scale)
            }
            SectionKind::ModelCommitment => {}
        }
    }
    Ok(l)
}

/// The vault's market on a real chain, as given on the command line.
struct Market {
    quote: Address,
    risk: Address,
    feed: Address,
    router: Address,
}

impl Market {
    /// Each address holds a contract, the tokens answer `decimals()` and the feed `latestRoundData()`: a
    /// mistyped address fails here, naming its flag, before anything is deployed.
    async fn check(&self, provider: &DynProvider, chain_id: u64) -> Result<()> {
        for (flag, address) in
            [("--quote", self.quote), ("--risk", self.risk), ("--feed", self.feed), ("--router", self.router)]
        {
            if provider.get_code_at(address).await?.is_empty() {
                bail!("{flag} {address}: no contract there on chain {chain_id}");
            }
        }
        for (flag, address) in [("--quote", self.quote), ("--risk", self.risk)] {
            TestToken::new(address, provider)
                .decimals()
                .call()
                .await
                .with_context(|| format!("{flag} {address} is not an ERC-20 token (decimals() failed)"))?;
        }
        TestPriceFeed::new(self.feed, provider).latestRoundData().call().await.with_context(|| {
            format!("--feed {} is not a Chainlink AggregatorV3 feed (latestRoundData() failed)", self.feed)
        })?;
        Ok(())
    }
}

/// The example feed history the test market replays.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedHistory {
    decimals: u8,
    interval: u64,
    answers: Vec<i64>,
}

impl DeployArgs {
    /// Runs the command.
    pub async fn run(self, out: Output) -> Result<()> {
        let started = Instant::now();
        let provider = self.wallet.provider(&self.rpc)?;
        let deployer = self.wallet.signer()?.address();
        let chain_id = provider
            .get_chain_id()
            .await
            .with_context(|| format!("could not reach the chain at {}", self.rpc.rpc_url))?;
        require_funds(&provider, self.wallet.signer()?.address(), chain_id).await?;
        let market = match (self.quote, self.risk, self.feed, self.router) {
            (Some(quote), Some(risk), Some(feed), Some(router)) => {
                let market = Market { quote, risk, feed, router };
                market.check(&provider, chain_id).await?;
                Some(market)
            }
            _ => None,
        };
        let test_market = market.is_none() && self.test_market.unwrap_or(chain_id == LOCAL_CHAIN_ID);
        if market.is_none() && !test_market {
            bail!(
                "chain {chain_id} is not a local chain: give the vault's market with --quote, --risk, --feed and \
                 --router (or --test-market true to deploy test tokens, feed and pool anyway)"
            );
        }
        let history = match (&self.feed_history, test_market) {
            (_, false) => None,
            (Some(path), true) => {
                let text =
                    std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
                let history = serde_json::from_str::<FeedHistory>(&text).with_context(|| {
                    format!("{} is not a feed history (decimals, interval, answers)", path.display())
                })?;
                if self.feed_at + 1 < FEED_WINDOW_ANSWERS || self.feed_at >= history.answers.len() {
                    bail!(
                        "--feed-at {} is outside {}: it holds answers 0..{}, and a window needs {FEED_WINDOW_ANSWERS}",
                        self.feed_at,
                        path.display(),
                        history.answers.len()
                    );
                }
                Some(history)
            }
            (None, true) => bail!("the test market needs --feed-history (examples/eth-price/feed.json)"),
        };

        let previous = match self.out.exists() {
            true => Some(Deployment::load(&self.out)?),
            false => None,
        };
        if let Some(p) = &previous
            && p.chain_id != chain_id
        {
            bail!(
                "{} is a deployment on chain {}, but {} is chain {chain_id}: give another --out",
                self.out.display(),
                p.chain_id,
                self.rpc.rpc_url
            );
        }
        let previous = previous.unwrap_or_default();
        let mut d = Deployment { chain_id, ..Deployment::default() };
        let (mut reused, mut sent) = (Vec::new(), Vec::new());
        let has_code = async |address: Address| -> Result<bool> {
            Ok(address != Address::ZERO && !provider.get_code_at(address).await?.is_empty())
        };

        out.status(format!("Deploying to chain {chain_id} at {} from {deployer}", self.rpc.rpc_url));
        // Registry and book.
        if has_code(previous.registry).await? {
            d.registry = previous.registry;
            reused.push(format!("registry {}", d.registry));
        } else {
            let (address, tx) =
                deploy(&provider, "deploy ZkmlModelRegistry", ZkmlModelRegistry::BYTECODE.clone()).await?;
            d.registry = address;
            sent.push(tx);
        }
        let book_ok = has_code(previous.book).await?
            && d.registry == previous.registry
            && ZkmlInferenceBook::new(previous.book, &provider).REGISTRY().call().await.ok() == Some(d.registry);
        if book_ok {
            d.book = previous.book;
            reused.push(format!("book {}", d.book));
        } else {
            let code = ZkmlInferenceBook::deploy_builder(&provider, d.registry).calldata().clone();
            let (address, tx) = deploy(&provider, "deploy ZkmlInferenceBook", code).await?;
            d.book = address;
            sent.push(tx);
        }

        // The two models: reused when the registry still holds them, active, with this directory's commitment.
        for (name, dir, previous_id) in [
            ("eth-price", &self.eth_price, previous.eth_price_model_id),
            ("pixel-art", &self.pixel_art, previous.pixel_art_model_id),
        ] {
            let circuit = CircuitFile::load(dir)?;
            let registry = ZkmlModelRegistry::new(d.registry, &provider);
            let kept = match (d.registry == previous.registry, previous_id) {
                (true, id) if id > 0 => match registry.model(U256::from(id)).call().await {
                    Ok(m) => m.status == 1 && m.commitment.to_string() == circuit.model_commitment.to_lowercase(),
                    Err(_) => false,
                },
                _ => false,
            };
            let id = if kept {
                reused.push(format!("{name} model {previous_id}"));
                previous_id
            } else {
                out.status(format!("  generating the {name} verifier from {}", dir.display()));
                let registration = ModelRegistration::from_model_dir(dir, &self.srs, &self.solc, &out)?;
                registration.register(&provider, d.registry, name, &mut sent).await?
            };
            match name {
                "eth-price" => d.eth_price_model_id = id,
                _ => d.pixel_art_model_id = id,
            }
        }

        // The market: the one given, else a test market (reused while it is all there).
        let market_ok = has_code(previous.usd).await?
            && has_code(previous.weth).await?
            && has_code(previous.feed).await?
            && has_code(previous.market).await?;
        if let Some(m) = &market {
            (d.usd, d.weth, d.feed, d.market) = (m.quote, m.risk, m.feed, m.router);
        } else if market_ok {
            (d.usd, d.weth, d.feed, d.market) = (previous.usd, previous.weth, previous.feed, previous.market);
            (d.feed_first_answer, d.feed_first_round) = (previous.feed_first_answer, previous.feed_first_round);
            reused.push(format!("test market {} (feed {})", d.market, d.feed));
        } else {
            let history = history.as_ref().expect("a test market has its history");
            self.deploy_market(&provider, deployer, history, &mut d, &mut sent).await?;
        }

        // The NFT and the vault, reused only when wired to the contracts above.
        let nft_ok = has_code(previous.nft).await? && {
            let nft = ERC7007Zkml::new(previous.nft, &provider);
            nft.REGISTRY().call().await.ok() == Some(d.registry)
                && nft.BOOK().call().await.ok() == Some(d.book)
                && nft.MODEL_ID().call().await.ok() == Some(U256::from(d.pixel_art_model_id))
        };
        if nft_ok {
            d.nft = previous.nft;
            reused.push(format!("nft {}", d.nft));
        } else {
            let code = ERC7007Zkml::deploy_builder(
                &provider,
                "Zkml Pixel Art".into(),
                "ZPA".into(),
                "8x8 digit art whose every pixel is the proven output of the registered pixel-art generator on the \
                 prompt."
                    .into(),
                d.registry,
                d.book,
                U256::from(d.pixel_art_model_id),
            )
            .calldata()
            .clone();
            let (address, tx) = deploy(&provider, "deploy ERC7007Zkml", code).await?;
            d.nft = address;
            sent.push(tx);
        }
        let vault_ok = has_code(previous.vault).await? && {
            let vault = VerifiedTradingVault::new(previous.vault, &provider);
            vault.REGISTRY().call().await.ok() == Some(d.registry)
                && vault.BOOK().call().await.ok() == Some(d.book)
                && vault.MODEL_ID().call().await.ok() == Some(U256::from(d.eth_price_model_id))
                && vault.FEED().call().await.ok() == Some(d.feed)
                && vault.ROUTER().call().await.ok() == Some(d.market)
        };
        if vault_ok {
            d.vault = previous.vault;
            reused.push(format!("vault {}", d.vault));
        } else {
            let config = VerifiedTradingVault::VaultConfig {
                quote: d.usd,
                risk: d.weth,
                registry: d.registry,
                book: d.book,
                modelId: U256::from(d.eth_price_model_id),
                feed: d.feed,
                router: d.market,
                guardian: deployer,
            };
            let code = VerifiedTradingVault::deploy_builder(
                &provider,
                config,
                POLICY,
                "Verified ETH/USD vault".into(),
                "vETHUSD".into(),
                deployer,
            )
            .calldata()
            .clone();
            let (address, tx) = deploy(&provider, "deploy VerifiedTradingVault", code).await?;
            d.vault = address;
            sent.push(tx);
        }

        d.batch_verifiers =
            if d.registry == previous.registry { previous.batch_verifiers.clone() } else { Default::default() };
        d.save(&self.out)?;
        let gas_used = sent.iter().map(|s| s.gas_used).sum();
        let report = DeployReport { file: self.out.clone(), deployment: d, reused, transactions: sent, gas_used };
        out.result(&report, || {
            let d = &report.deployment;
            let mut text = String::new();
            for tx in &report.transactions {
                text += &format!("  {}\n", sent_text(tx).replace('\n', "\n  "));
            }
            for r in &report.reused {
                text += &format!("  reused {r} (from {})\n", report.file.display());
            }
            text += &format!(
                "Deployed on chain {} in {:.1}s: {} transactions, {} gas\n{}\nwritten to {}",
                d.chain_id,
                started.elapsed().as_secs_f64(),
                report.transactions.len(),
                report.gas_used,
                d.text(),
                report.file.display()
            );
            text
        })
    }

    /// Two test tokens, a feed holding the window that ends at `--feed-at` (its last answer stamped with
    /// the latest block's time, so the first prediction is fresh), and a pool at that price.
    async fn deploy_market(
        &self,
        provider: &DynProvider,
        deployer: Address,
        history: &FeedHistory,
        d: &mut Deployment,
        sent: &mut Vec<Sent>,
    ) -> Result<()> {
        let token = |name: &str, symbol: &str, decimals: u8| {
            TestToken::deploy_builder(provider, name.into(), symbol.into(), decimals).calldata().clone()
        };
        let (usd, tx) = deploy(provider, "deploy the test USD token", token("Test USD", "tUSD", 6)).await?;
        sent.push(tx);
        let (weth, tx) = deploy(provider, "deploy the test WETH token", token("Test WETH", "tWETH", 18)).await?;
        sent.push(tx);
        let code = TestPriceFeed::deploy_builder(
            provider,
            history.decimals,
            "ETH / USD (examples/eth-price history, SYNTHETIC)".into(),
            deployer,
        )
        .calldata()
        .clone();
        let (feed, tx) = deploy(provider, "deploy the test ETH/USD feed", code).await?;
        sent.push(tx);

        let first = self.feed_at + 1 - FEED_WINDOW_ANSWERS;
        let answers: Vec<_> = history.answers[first..=self.feed_at]
            .iter()
            .map(|a| alloy::primitives::I256::try_from(*a).expect("i64 fits"))
            .collect();
        let latest = provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await?
            .context("the chain has no latest block")?
            .header
            .timestamp;
        let span = history.interval * (FEED_WINDOW_ANSWERS as u64 - 1);
        let first_updated_at = latest.checked_sub(span).context("the chain's clock is before the feed's window")?;
        let call = TestPriceFeed::new(feed, provider)
            .pushRounds(answers, U256::from(first_updated_at), U256::from(history.interval))
            .into_transaction_request();
        sent.push(
            send(provider, format!("load the feed with answers {first}..={} of the history", self.feed_at), call)
                .await?,
        );

        let code = TestUniswapV2Market::deploy_builder(provider, usd, weth, deployer).calldata().clone();
        let (market, tx) = deploy(provider, "deploy the test market", code).await?;
        sent.push(tx);
        // USD reserve (6 decimals) at the window's last price (feed decimals) for POOL_WETH (18 decimals).
        let price = U256::from(history.answers[self.feed_at]);
        let weth_reserve = U256::from(POOL_WETH) * U256::from(10).pow(U256::from(18));
        let usd_reserve =
            U256::from(POOL_WETH) * price * U256::from(1_000_000) / U256::from(10).pow(U256::from(history.decimals));
        let call = TestUniswapV2Market::new(market, provider)
            .syncReserves(usd_reserve, weth_reserve)
            .into_transaction_request();
        sent.push(send(provider, "fill the pool at the feed's price", call).await?);

        let round = TestPriceFeed::new(feed, provider).toRoundId(1, 1).call().await?;
        (d.usd, d.weth, d.feed, d.market) = (usd, weth, feed, market);
        d.feed_first_answer = Some(first as u64);
        d.feed_first_round = Some(u128::try_from(round).context("a round id is 80 bits")?);
        Ok(())
    }
}

/// An optional `u128` as a JSON decimal string (also read from a number small enough to be exact).
mod decimal_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(value: &Option<u128>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.serialize_str(&v.to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u128>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        Ok(match Option::<Raw>::deserialize(deserializer)? {
            None => None,
            Some(Raw::Number(n)) => Some(u128::from(n)),
            Some(Raw::Text(t)) => {
                Some(t.parse().map_err(|_| D::Error::custom(format!("{t:?} is not a decimal integer")))?)
            }
        })
    }
}
