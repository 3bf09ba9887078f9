//! `zkml-eth register`: a model (its generated verifier deployed behind an adapter and registered with its
//! commitment and public layout), or an aggregation's verifier as a batch verifier over the registered
//! models of its slots.

use std::path::PathBuf;

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::Provider,
};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use crate::opts::{SolcOpts, SrsOpts};
use crate::{
    chain::{Sent, deploy, require_funds, send, sent_text},
    cmd::{
        deploy::{Deployment, ModelRegistration},
        gen_verifier::{VerifierTarget, load_aggregated},
        submit::find_model,
    },
    contracts::{Halo2VerifierAdapter, ZkmlModelRegistry},
    opts::{RpcOpts, WalletOpts},
    output::Output,
};

/// Gas a batch verifier gets per verification: an aggregated proof verifies for about 330k.
pub const BATCH_VERIFY_GAS: u32 = 800_000;

/// Arguments of `zkml-eth register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    target: VerifierTarget,
    /// The aggregated verifier's compiled creation code (`gen-verifier --bytecode`), instead of generating it
    /// from the cached aggregation keys.
    #[arg(long, value_name = "FILE.hex", requires = "aggregated")]
    bytecode: Option<PathBuf>,
    /// The deployment file whose registry is used; a batch verifier is recorded in it for `submit-proof`.
    #[arg(long, value_name = "FILE", default_value = "deployments/local.json", conflicts_with = "registry")]
    deployment: PathBuf,
    /// A registry to use instead of the deployment file's.
    #[arg(long, value_name = "ADDRESS")]
    registry: Option<Address>,
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    wallet: WalletOpts,
    #[command(flatten)]
    srs: SrsOpts,
    #[command(flatten)]
    solc: SolcOpts,
}

/// What `register` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterReport {
    /// The registry.
    pub registry: Address,
    /// The new model id (`--model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_id: Option<u64>,
    /// The new batch verifier id (`--aggregated`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_verifier_id: Option<u64>,
    /// Its slots' model ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slot_model_ids: Vec<u64>,
    /// Slots still waiting for their model owner's approval (`approveBatchVerifier`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_approvals: Option<u64>,
    /// The transactions sent.
    pub transactions: Vec<Sent>,
}

impl RegisterArgs {
    /// Runs the command.
    pub async fn run(self, out: Output) -> Result<()> {
        let mut deployment = match self.registry {
            Some(_) => None,
            None => Some(Deployment::load(&self.deployment)?),
        };
        let registry = self.registry.or(deployment.as_ref().map(|d| d.registry)).expect("one of the two");
        let provider = self.wallet.provider(&self.rpc)?;
        let chain_id = provider
            .get_chain_id()
            .await
            .with_context(|| format!("could not reach the chain at {}", self.rpc.rpc_url))?;
        if let Some(d) = &deployment
            && d.chain_id != chain_id
        {
            bail!(
                "{} is a deployment on chain {}, but {} is chain {chain_id}",
                self.deployment.display(),
                d.chain_id,
                self.rpc.rpc_url
            );
        }
        require_funds(&provider, self.wallet.signer()?.address(), chain_id).await?;
        if provider.get_code_at(registry).await?.is_empty() {
            bail!("no registry at {registry} on chain {chain_id}");
        }
        let mut report = RegisterReport {
            registry,
            model_id: None,
            batch_verifier_id: None,
            slot_model_ids: vec![],
            pending_approvals: None,
            transactions: vec![],
        };

        if let Some(dir) = &self.target.model {
            let registration = ModelRegistration::from_model_dir(dir, &self.srs, &self.solc, &out)?;
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
            report.model_id = Some(registration.register(&provider, registry, &name, &mut report.transactions).await?);
        } else {
            let path = self.target.aggregated.as_ref().expect("clap requires one target");
            let artifact = load_aggregated(path)?;
            let code: Bytes = match &self.bytecode {
                Some(file) => {
                    let text =
                        std::fs::read_to_string(file).with_context(|| format!("could not read {}", file.display()))?;
                    text.trim().parse().with_context(|| format!("{} is not hex creation code", file.display()))?
                }
                None => self.target.build(&self.srs, &self.solc, &out, true)?.verifier.compiled.creation.into(),
            };
            let registry_contract = ZkmlModelRegistry::new(registry, &provider);
            let mut slots = vec![];
            for (i, inner) in artifact.inner.iter().enumerate() {
                let id = find_model(&registry_contract, &inner.model_commitment, None)
                    .await
                    .with_context(|| format!("slot {i} ({}) of {}", inner.model_dir.display(), path.display()))?;
                slots.push(id);
            }
            let proof_bytes = artifact.to_proof()?.proof.len();
            let (verifier, tx) = deploy(&provider, "deploy the aggregated verifier", code).await?;
            report.transactions.push(tx);
            let adapter_code = Halo2VerifierAdapter::deploy_builder(
                &provider,
                verifier,
                U256::from(artifact.instances.len()),
                U256::from(proof_bytes),
            )
            .calldata()
            .clone();
            let (adapter, tx) = deploy(&provider, "deploy its adapter", adapter_code).await?;
            report.transactions.push(tx);
            let ids: Vec<U256> = slots.iter().map(|id| U256::from(*id)).collect();
            let call =
                registry_contract.registerBatchVerifier(adapter, BATCH_VERIFY_GAS, ids).into_transaction_request();
            let tx = send(&provider, format!("register a batch verifier for models {slots:?}"), call).await?;
            let event = tx
                .events
                .iter()
                .find(|e| e.event == "BatchVerifierRegistered")
                .context("no BatchVerifierRegistered event")?;
            let id: u64 = event.field("batchVerifierId").context("batchVerifierId")?.parse()?;
            report.pending_approvals = Some(event.field("pendingApprovals").context("pendingApprovals")?.parse()?);
            report.transactions.push(tx);
            report.batch_verifier_id = Some(id);
            report.slot_model_ids = slots;
            if let Some(d) = deployment.as_mut() {
                d.batch_verifiers.insert(artifact.aggregation_hash.clone(), id);
                d.save(&self.deployment)?;
            }
        }

        out.result(&report, || {
            let mut text: Vec<String> = report.transactions.iter().map(sent_text).collect();
            if let Some(id) = report.model_id {
                text.push(format!("model {id} registered in {}", report.registry));
            }
            if let Some(id) = report.batch_verifier_id {
                let pending = report.pending_approvals.unwrap_or_default();
                text.push(format!(
                    "batch verifier {id} registered in {} for models {:?}: {}",
                    report.registry,
                    report.slot_model_ids,
                    if pending == 0 { "active".to_string() } else { format!("waiting for {pending} owner approvals") }
                ));
            }
            text.join("\n")
        })
    }
}
