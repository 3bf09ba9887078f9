//! `zkml-eth registry`: deploy a model registry and read it back.

use alloy::{
    primitives::{Address, B256, TxHash, U256},
    providers::Provider,
};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::{
    contracts::ZkmlModelRegistry::{self, ZkmlModelRegistryErrors},
    opts::{RpcOpts, WalletOpts},
    output::Output,
};

/// Deploy and inspect the model registry (model id -> verifier, commitment, scales, owner, status).
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Deploy a new ZkmlModelRegistry.
    ///
    /// Examples:
    ///   ETH_PRIVATE_KEY=0x... zkml-eth registry deploy --rpc-url http://127.0.0.1:8545
    ///   zkml-eth --json registry deploy --private-key 0x...
    #[command(verbatim_doc_comment)]
    Deploy(DeployArgs),
    /// Show a registry's model count, or one registered model.
    ///
    /// Examples:
    ///   zkml-eth registry show --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3
    ///   zkml-eth --json registry show --registry 0x5FbD... --model-id 1
    #[command(verbatim_doc_comment)]
    Show(ShowArgs),
}

impl RegistryCommand {
    /// Runs the subcommand.
    pub async fn run(self, out: Output) -> Result<()> {
        match self {
            Self::Deploy(args) => args.run(out).await,
            Self::Show(args) => args.run(out).await,
        }
    }
}

/// Arguments of `zkml-eth registry deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    wallet: WalletOpts,
}

/// What `registry deploy` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedRegistry {
    /// Address of the new registry.
    pub address: Address,
    /// Hash of the deployment transaction.
    pub transaction_hash: TxHash,
    /// Block it was mined in.
    pub block_number: Option<u64>,
    /// Gas the deployment used.
    pub gas_used: u64,
    /// Size of the deployed runtime code in bytes.
    pub runtime_bytes: usize,
}

impl DeployArgs {
    async fn run(self, out: Output) -> Result<()> {
        let provider = self.wallet.provider(&self.rpc)?;
        out.status(format!("Deploying ZkmlModelRegistry to {} ...", self.rpc.rpc_url));
        let receipt = ZkmlModelRegistry::deploy_builder(&provider)
            .send()
            .await
            .with_context(|| format!("could not send the deployment to {}", self.rpc.rpc_url))?
            .get_receipt()
            .await
            .context("the deployment transaction was not mined")?;
        if !receipt.status() {
            bail!("the deployment transaction {} reverted", receipt.transaction_hash);
        }
        let address = receipt.contract_address.context("the deployment receipt has no contract address")?;
        let runtime_bytes = provider.get_code_at(address).await?.len();
        let deployed = DeployedRegistry {
            address,
            transaction_hash: receipt.transaction_hash,
            block_number: receipt.block_number,
            gas_used: receipt.gas_used,
            runtime_bytes,
        };
        out.result(&deployed, || {
            format!(
                "ZkmlModelRegistry deployed at {address}\n  transaction  {}\n  gas used     {}\n  runtime code {runtime_bytes} bytes",
                deployed.transaction_hash, deployed.gas_used
            )
        })
    }
}

/// Arguments of `zkml-eth registry show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    rpc: RpcOpts,
    /// Address of the registry.
    #[arg(long, env = "ZKML_REGISTRY", value_name = "ADDRESS")]
    registry: Address,
    /// Show this model instead of the registry summary.
    #[arg(long, value_name = "ID")]
    model_id: Option<u64>,
}

/// A registered model, as `registry show --model-id` reports it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelView {
    /// The model id.
    pub model_id: u64,
    /// Its proof verifier.
    pub verifier: Address,
    /// Poseidon commitment of the quantized weights.
    pub commitment: B256,
    /// Gas forwarded to the verifier per verification.
    pub verify_gas_limit: u32,
    /// "active" or "retired".
    pub status: &'static str,
    /// The model's owner.
    pub owner: Address,
    /// The public instances of its proofs.
    pub public_layout: LayoutView,
}

/// A model's public layout as the registry stores it (`PublicLayout` in `IZkmlModelRegistry.sol`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutView {
    /// "fixed" (the verifier pins the weights) or "committed" (the commitment is instance 0).
    pub weights: &'static str,
    /// "public", "hashed" or "private".
    pub input: &'static str,
    /// "public" or "hashed".
    pub output: &'static str,
    /// Number of input values.
    pub input_count: u16,
    /// Slot width in bits of a packed input.
    pub input_width: u8,
    /// Input fixed-point exponent: real = integer / 2^inputScale.
    pub input_scale: u8,
    /// Number of output values.
    pub output_count: u16,
    /// Slot width in bits of a packed output.
    pub output_width: u8,
    /// Output fixed-point exponent.
    pub output_scale: u8,
}

impl LayoutView {
    fn new(layout: &ZkmlModelRegistry::PublicLayout) -> Result<Self> {
        Ok(Self {
            weights: match layout.weights {
                0 => "fixed",
                1 => "committed",
                other => bail!("the registry returned an unknown weight visibility {other}"),
            },
            input: match layout.input {
                0 => "public",
                1 => "hashed",
                2 => "private",
                other => bail!("the registry returned an unknown input visibility {other}"),
            },
            output: match layout.output {
                0 => "public",
                1 => "hashed",
                other => bail!("the registry returned an unknown output visibility {other}"),
            },
            input_count: layout.inputCount,
            input_width: layout.inputWidth,
            input_scale: layout.inputScale,
            output_count: layout.outputCount,
            output_width: layout.outputWidth,
            output_scale: layout.outputScale,
        })
    }

    fn text(&self) -> String {
        let weights = match self.weights {
            "committed" => "committed (the commitment must be instance 0)",
            _ => "fixed (the verifier pins them)",
        };
        format!(
            "  weights     {weights}\n  inputs      {} {} x {} bits, scale 2^-{}\n  outputs     {} {} x {} bits, scale 2^-{}",
            self.input,
            self.input_count,
            self.input_width,
            self.input_scale,
            self.output,
            self.output_count,
            self.output_width,
            self.output_scale
        )
    }
}

/// What `registry show` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryView {
    /// The registry address.
    pub registry: Address,
    /// Chain id of the RPC endpoint.
    pub chain_id: u64,
    /// Number of ids handed out (the latest model id).
    pub model_count: u64,
    /// The requested model, with `--model-id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelView>,
}

impl ShowArgs {
    async fn run(self, out: Output) -> Result<()> {
        let provider = self.rpc.provider();
        let chain_id =
            provider.get_chain_id().await.with_context(|| format!("could not reach {}", self.rpc.rpc_url))?;
        if provider.get_code_at(self.registry).await?.is_empty() {
            bail!(
                "no contract at {} on chain {chain_id} ({}): check --registry and --rpc-url",
                self.registry,
                self.rpc.rpc_url
            );
        }
        let registry = ZkmlModelRegistry::new(self.registry, &provider);
        let model_count: u64 = registry
            .modelCount()
            .call()
            .await
            .with_context(|| format!("{} does not answer modelCount(): is it a ZkmlModelRegistry?", self.registry))?
            .try_into()
            .context("the registry reports more than 2^64 models")?;
        let model = match self.model_id {
            None => None,
            Some(model_id) => {
                let m = registry.model(U256::from(model_id)).call().await.map_err(|err| match err
                    .as_decoded_interface_error::<ZkmlModelRegistryErrors>(
                ) {
                    Some(ZkmlModelRegistryErrors::ZkmlRegistryUnknownModel(_)) => anyhow::anyhow!(
                        "model {model_id} is not registered in {} (ids 1..={model_count} are)",
                        self.registry
                    ),
                    _ => anyhow::Error::new(err).context(format!("could not read model {model_id}")),
                })?;
                Some(ModelView {
                    model_id,
                    verifier: m.verifier,
                    commitment: m.commitment,
                    verify_gas_limit: m.verifyGasLimit,
                    status: model_status(m.status)?,
                    owner: m.owner,
                    public_layout: LayoutView::new(&m.publicLayout)?,
                })
            }
        };
        let view = RegistryView { registry: self.registry, chain_id, model_count, model };
        out.result(&view, || match &view.model {
            None => format!("ZkmlModelRegistry {} on chain {chain_id}\n  models registered: {model_count}", view.registry),
            Some(m) => format!(
                "model {} in {} (chain {chain_id})\n  status      {}\n  owner       {}\n  verifier    {}\n  commitment  {}\n{}\n  gas limit   {}",
                m.model_id,
                view.registry,
                m.status,
                m.owner,
                m.verifier,
                m.commitment,
                m.public_layout.text(),
                m.verify_gas_limit
            ),
        })
    }
}

/// Names the Solidity `ModelStatus` enum value.
fn model_status(raw: u8) -> Result<&'static str> {
    match raw {
        1 => Ok("active"),
        2 => Ok("retired"),
        other => bail!("the registry returned an unknown model status {other}"),
    }
}
