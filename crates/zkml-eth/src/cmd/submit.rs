//! `zkml-eth submit-proof`: puts a proof artifact on chain. To the inference book (`attest`, or
//! `attestBatch` for an aggregated proof), to the EIP-7007 NFT (commit, then reveal and mint one block
//! later), to the trading vault (`act` on a feed round), or to a bare verifier (a call, no transaction).
//! Every transaction is simulated first, so a refusal is reported with the contract's custom error.

use std::path::{Path, PathBuf};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, I256, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};
use serde::Serialize;
use zkml_circuit::{PublicLayout, public::SectionKind};
use zkml_model::encode::{PixelPrompt, PriceFeatures, aigc_data};
use zkml_prover::{aggregate::AggregatedArtifact, artifact::ProofArtifact};

use crate::{
    chain::{Sent, require_funds, send, sent_text, vault_window},
    cmd::deploy::{Deployment, LOCAL_CHAIN_ID},
    contracts::{
        ERC7007Zkml, Halo2VerifierAdapter, TestPriceFeed, VerifiedTradingVault,
        ZkmlInferenceBook::{self, InferenceValues},
        ZkmlModelRegistry,
    },
    opts::{RpcOpts, WalletOpts},
    output::Output,
    public_values::{Decoded, decode_sections},
};

/// Where a proof goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The inference book: `attest` a single proof, `attestBatch` an aggregated one.
    Book,
    /// The EIP-7007 NFT: commit to the prompt, then mint the token with the proven image.
    Nft,
    /// The trading vault: `act` on the prediction for a feed round.
    Vault,
    /// The model's registered verifier (or --address): a call that says whether the proof verifies.
    Verifier,
}

/// Arguments of `zkml-eth submit-proof`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// A proof artifact (`zkml-eth prove`, keccak transcript) or an aggregated proof (`zkml-eth aggregate`).
    #[arg(value_name = "PROOF.json")]
    proof: PathBuf,
    /// Where to submit it.
    #[arg(long, value_enum)]
    to: Target,
    /// The deployment file (`zkml-eth deploy`).
    #[arg(long, value_name = "FILE", default_value = "deployments/local.json")]
    deployment: PathBuf,
    /// The proof's model id [default: the registry's active model with the proof's commitment].
    #[arg(long, value_name = "ID")]
    model_id: Option<u64>,
    /// The batch verifier of an aggregated proof [default: the one the deployment file records for it].
    #[arg(long, value_name = "ID")]
    batch_verifier_id: Option<u64>,
    /// The feed round the vault acts at [default: the feed's latest round].
    #[arg(long, value_name = "ROUND")]
    round: Option<u128>,
    /// The EIP-7007 prompt, hex [default: decoded from the proof's public inputs].
    #[arg(long, value_name = "0x..")]
    prompt: Option<Bytes>,
    /// With `--to verifier`: the verifier to call [default: the model's registered verifier].
    #[arg(long, value_name = "ADDRESS")]
    address: Option<Address>,
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    wallet: WalletOpts,
}

/// What `submit-proof` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitReport {
    /// Where the proof went.
    pub target: Target,
    /// The contract called.
    pub contract: Address,
    /// The transactions sent, in order, with their decoded events.
    pub transactions: Vec<Sent>,
    /// With `--to verifier`: whether it verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    /// With `--to verifier`: the call's gas estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_estimate: Option<u64>,
    /// With `--to book`: the block the inference was already attested in (nothing was sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_attested: Option<u64>,
    /// With `--to nft`: the token id minted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<U256>,
}

/// A proof file, single or aggregated.
enum Artifact {
    Single(Box<ProofArtifact>),
    Aggregated(Box<AggregatedArtifact>),
}

fn load_artifact(path: &Path) -> Result<Artifact> {
    if let Some(aggregated) = AggregatedArtifact::load(path)? {
        return Ok(Artifact::Aggregated(Box::new(aggregated)));
    }
    Ok(Artifact::Single(Box::new(ProofArtifact::load(path)?)))
}

fn words(hex: &[String], path: &Path) -> Result<Vec<U256>> {
    hex.iter()
        .enumerate()
        .map(|(i, h)| h.parse::<U256>().with_context(|| format!("{}: instance {i} is not a uint256", path.display())))
        .collect()
}

/// The values the registry packs back into this layout's instances (from `offset` on): a public section's
/// quantized values, a hash section's one hash, nothing for private inputs.
fn inference_values(
    layout: &PublicLayout,
    instances: &[String],
    offset: usize,
    path: &Path,
) -> Result<InferenceValues> {
    let mut values = InferenceValues { inputs: vec![], outputs: vec![] };
    let sections = decode_sections(layout, instances, offset).with_context(|| format!("{}", path.display()))?;
    for (kind, section) in sections {
        let decoded: Vec<I256> = match (kind, section) {
            (SectionKind::ModelCommitment, _) => continue,
            (_, Decoded::Values(v)) => v.into_iter().map(|v| I256::try_from(v).expect("i64 fits int256")).collect(),
            (_, Decoded::Element(hash)) => vec![I256::from_raw(hash.parse().context("a hash instance")?)],
        };
        match kind {
            SectionKind::Inputs | SectionKind::InputsHash => values.inputs = decoded,
            _ => values.outputs = decoded,
        }
    }
    Ok(values)
}

impl SubmitArgs {
    /// Runs the command.
    pub async fn run(self, out: Output) -> Result<()> {
        let artifact = load_artifact(&self.proof)?;
        let deployment = Deployment::load(&self.deployment)?;
        // A bare verifier is only called, never sent to: it needs no account.
        let provider = match self.to {
            Target::Verifier => self.rpc.provider(),
            _ => self.wallet.provider(&self.rpc)?,
        };
        let chain_id = provider
            .get_chain_id()
            .await
            .with_context(|| format!("could not reach the chain at {}", self.rpc.rpc_url))?;
        ensure!(
            chain_id == deployment.chain_id,
            "{} is a deployment on chain {}, but {} is chain {chain_id}",
            self.deployment.display(),
            deployment.chain_id,
            self.rpc.rpc_url
        );
        if self.to != Target::Verifier {
            require_funds(&provider, self.wallet.signer()?.address(), chain_id).await?;
        }
        let registry = ZkmlModelRegistry::new(deployment.registry, &provider);
        let mut report = SubmitReport {
            target: self.to,
            contract: Address::ZERO,
            transactions: vec![],
            valid: None,
            gas_estimate: None,
            already_attested: None,
            token_id: None,
        };

        match (&artifact, self.to) {
            (Artifact::Aggregated(agg), Target::Book) => {
                let id = match self.batch_verifier_id {
                    Some(id) => id,
                    None => *deployment.batch_verifiers.get(&agg.aggregation_hash).with_context(|| {
                        format!(
                            "{} records no batch verifier for this aggregation ({}): register it with `zkml-eth \
                             register --aggregated {}`, or pass --batch-verifier-id",
                            self.deployment.display(),
                            agg.aggregation_hash,
                            self.proof.display()
                        )
                    })?,
                };
                let instances = words(&agg.instances, &self.proof)?;
                ensure!(instances.len() >= 12, "{}: fewer than 12 instances (the accumulator)", self.proof.display());
                let accumulator: [U256; 12] = instances[..12].try_into().expect("12 limbs");
                let values = agg
                    .inner
                    .iter()
                    .map(|inner| inference_values(&inner.layout, &agg.instances, inner.offset, &self.proof))
                    .collect::<Result<Vec<_>>>()?;
                let proof = Bytes::from(agg.to_proof()?.proof);
                let slots = values.len();
                let call = ZkmlInferenceBook::new(deployment.book, &provider)
                    .attestBatch(U256::from(id), proof, accumulator, values)
                    .into_transaction_request();
                report.contract = deployment.book;
                report
                    .transactions
                    .push(send(&provider, format!("attest {slots} inferences with batch verifier {id}"), call).await?);
            }
            (Artifact::Aggregated(_), target) => bail!(
                "{}: an aggregated proof goes to the book (--to book); attest it there, then the {target:?} can use \
                 its inferences without a proof",
                self.proof.display()
            ),
            (Artifact::Single(single), target) => {
                let proof = Bytes::from(single.to_proof()?.proof);
                let values = inference_values(&single.layout, &single.instances, 0, &self.proof)?;
                let model_id = match self.model_id {
                    Some(id) => id,
                    None => find_model(&registry, &single.model_commitment, Some("--model-id")).await?,
                };
                match target {
                    Target::Book => {
                        let book = ZkmlInferenceBook::new(deployment.book, &provider);
                        report.contract = deployment.book;
                        // The book verifies an inference once; attesting it again would only spend gas. (A record of
                        // a model retired since is not vouched for: that attest is sent, and refused by name.)
                        let id = book.inferenceId(U256::from(model_id), values.clone()).call().await?;
                        if book.isAttested(U256::from(model_id), values.clone()).call().await? {
                            let at = book.attestedAt(id).call().await?;
                            report.already_attested = Some(at.to());
                            out.status(format!(
                                "inference {id} of model {model_id} was attested in block {at}: nothing sent"
                            ));
                        } else {
                            let call = book.attest(U256::from(model_id), proof, values).into_transaction_request();
                            report
                                .transactions
                                .push(send(&provider, format!("attest an inference of model {model_id}"), call).await?);
                        }
                    }
                    Target::Vault => {
                        let vault = VerifiedTradingVault::new(deployment.vault, &provider);
                        let round = match self.round {
                            Some(r) => r,
                            None => {
                                let feed = TestPriceFeed::new(deployment.feed, &provider);
                                feed.latestRoundData()
                                    .call()
                                    .await
                                    .context("reading the feed's latest round")?
                                    .roundId
                                    .to()
                            }
                        };
                        // The vault recomputes the inputs from its feed: a proof of another window would only be
                        // refused as a rejected proof, so say which window it is not, before sending.
                        let answers = vault_window(&provider, deployment.vault, round).await?;
                        let scale = single.layout.section(SectionKind::Inputs).and_then(|s| s.scales.first().copied());
                        if let Some(scale) = scale {
                            let expected = PriceFeatures::eth_price(scale).inputs(&answers)?;
                            let given: Vec<i64> =
                                values.inputs.iter().map(|v| i64::try_from(*v).unwrap_or(i64::MAX)).collect();
                            ensure!(
                                given == expected,
                                "the proof's inputs are not the features of the vault's window ending at round {round}: \
                                 prove that window with `zkml-eth prove --from-feed --vault {} --round {round}`",
                                deployment.vault
                            );
                        }
                        let round_id = alloy::primitives::Uint::<80, 2>::try_from(round)
                            .with_context(|| format!("round {round} does not fit a uint80 round id"))?;
                        let call = vault.act(round_id, values.outputs, proof).into_transaction_request();
                        report.contract = deployment.vault;
                        report.transactions.push(send(&provider, format!("act on round {round}"), call).await?);
                    }
                    Target::Nft => {
                        let prompt = match &self.prompt {
                            Some(p) => p.clone(),
                            None => prompt_from_inputs(&single.layout, &values.inputs)?,
                        };
                        let outputs: Vec<i64> = values
                            .outputs
                            .iter()
                            .map(|v| i64::try_from(*v).context("an output above 64 bits"))
                            .collect::<Result<_>>()?;
                        let data = Bytes::from(aigc_data(&outputs).context("encoding aigcData")?);
                        let nft = ERC7007Zkml::new(deployment.nft, &provider);
                        let minter = self.wallet.signer()?.address();
                        let salt = B256::random();
                        let commitment = nft.commitment(prompt.clone(), minter, salt).call().await?;
                        report.contract = deployment.nft;
                        let call = nft.commit(commitment).into_transaction_request();
                        report.transactions.push(send(&provider, format!("commit to prompt {prompt}"), call).await?);
                        // The reveal must be in a later block than the commit. A local dev chain mines only on
                        // transactions, so one block is mined there; elsewhere the next block is awaited.
                        let committed = report.transactions[0].block_number.unwrap_or_default();
                        if chain_id == LOCAL_CHAIN_ID {
                            provider
                                .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
                                .await
                                .context("mining a block on the local chain (evm_mine)")?;
                        }
                        out.status(format!("  committed in block {committed}; revealing in a later block"));
                        while provider.get_block_number().await? <= committed {
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                        let call = nft.mint(prompt.clone(), salt, data, proof).into_transaction_request();
                        report
                            .transactions
                            .push(send(&provider, format!("reveal and mint prompt {prompt}"), call).await?);
                        report.token_id = Some(nft.tokenId(prompt).call().await?);
                    }
                    Target::Verifier => {
                        let address = match self.address {
                            Some(a) => a,
                            None => registry.model(U256::from(model_id)).call().await?.verifier,
                        };
                        ensure!(
                            !provider.get_code_at(address).await?.is_empty(),
                            "no contract at {address} on chain {chain_id}"
                        );
                        let instances = words(&single.instances, &self.proof)?;
                        // The generated verifier takes the instances as words, then the proof, and reverts unless it
                        // verifies; an adapter in front of it answers a bool, and would turn running out of gas
                        // into `false`, so the gas is estimated on the generated verifier itself.
                        let raw_calldata: Bytes = instances
                            .iter()
                            .flat_map(|w| w.to_be_bytes::<32>())
                            .chain(proof.iter().copied())
                            .collect::<Vec<_>>()
                            .into();
                        let adapter = Halo2VerifierAdapter::new(address, &provider);
                        let (raw, valid) = match adapter.HALO2_VERIFIER().call().await {
                            Ok(raw) => (
                                raw,
                                adapter.verifyProof(proof, instances).call().await.context("calling verifyProof")?,
                            ),
                            Err(_) => {
                                let tx =
                                    TransactionRequest::default().with_to(address).with_input(raw_calldata.clone());
                                (address, provider.call(tx).await.is_ok())
                            }
                        };
                        report.contract = address;
                        report.valid = Some(valid);
                        if valid {
                            let tx = TransactionRequest::default().with_to(raw).with_input(raw_calldata);
                            report.gas_estimate = provider.estimate_gas(tx).await.ok();
                        }
                    }
                }
            }
        }

        out.result(&report, || {
            let mut text: Vec<String> = report.transactions.iter().map(sent_text).collect();
            if let Some(valid) = report.valid {
                text.push(format!(
                    "verifier {}: the proof {} (estimated gas {})",
                    report.contract,
                    if valid { "verifies" } else { "does NOT verify" },
                    report.gas_estimate.map(|g| g.to_string()).unwrap_or_else(|| "-".into())
                ));
            }
            if let Some(id) = report.token_id {
                text.push(format!("token {id} minted by {}", report.contract));
            }
            text.join("\n")
        })?;
        if report.valid == Some(false) {
            bail!("the proof does not verify");
        }
        Ok(())
    }
}

/// The registry's one active model with this commitment. `flag` is the calling command's option that names a
/// model outright, if it has one; the errors offer it.
pub async fn find_model<P: Provider>(
    registry: &ZkmlModelRegistry::ZkmlModelRegistryInstance<P>,
    commitment: &str,
    flag: Option<&str>,
) -> Result<u64> {
    let commitment: B256 = commitment.parse().context("the proof's model_commitment is not a bytes32")?;
    let count: u64 = registry.modelCount().call().await.context("reading the registry")?.to();
    let mut found = vec![];
    for id in 1..=count {
        let m = registry.model(U256::from(id)).call().await?;
        if m.commitment == commitment && m.status == 1 {
            found.push(id);
        }
    }
    let or_flag = flag.map(|f| format!(", or pass {f}")).unwrap_or_default();
    match found.as_slice() {
        [id] => Ok(*id),
        [] => bail!(
            "no active model in registry {} has the proof's commitment {commitment}: register it (`zkml-eth deploy` \
             or `zkml-eth register --model DIR`){or_flag}",
            registry.address()
        ),
        ids => match flag {
            Some(flag) => bail!("models {ids:?} all have the proof's commitment {commitment}: choose one with {flag}"),
            None => bail!(
                "models {ids:?} all have the proof's commitment {commitment}: their owners retire all but one \
                 (`retireModel`), so that a batch names one model per slot"
            ),
        },
    }
}

/// The pixel-art prompt whose encoding is `inputs` (the inverse of [`PixelPrompt::inputs`]); an error
/// when the inputs are not a prompt's.
fn prompt_from_inputs(layout: &PublicLayout, inputs: &[I256]) -> Result<Bytes> {
    let section = layout
        .section(SectionKind::Inputs)
        .context("the proof's inputs are not public, so the prompt cannot be read from it: pass --prompt")?;
    let scale = *section.scales.first().context("an empty input section")?;
    let prompt = inputs
        .iter()
        .map(|v| i64::try_from(*v).ok())
        .collect::<Option<Vec<i64>>>()
        .and_then(|ints| PixelPrompt::from_inputs(&ints, scale))
        .context("the proof's inputs are not a pixel-art prompt's encoding: pass --prompt")?;
    Ok(Bytes::copy_from_slice(&prompt.encode()))
}
