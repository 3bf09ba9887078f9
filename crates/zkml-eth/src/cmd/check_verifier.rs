//! `zkml-eth check-verifier`: regenerates a model's verifier from the model directory and the SRS and
//! compares it byte for byte with the code deployed at an address. The registry trusts whoever registers a
//! model; this lets anyone check that a registered verifier really is the model's.

use std::path::PathBuf;

use alloy::{
    primitives::{Address, U256, keccak256},
    providers::Provider,
};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use crate::opts::{SolcOpts, SrsOpts};
use crate::{cmd::deploy::ModelRegistration, contracts::Halo2VerifierAdapter, opts::RpcOpts, output::Output};

/// Arguments of `zkml-eth check-verifier`.
///
/// Example:
///   zkml-eth check-verifier --model target/eth-price --address 0xCf7E... --unsafe-dev-srs
#[derive(Debug, Args)]
pub struct CheckVerifierArgs {
    /// The set-up model directory whose verifier is expected.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// The deployed verifier, or the `Halo2VerifierAdapter` in front of it (what the registry stores).
    #[arg(long, value_name = "ADDRESS")]
    address: Address,
    #[command(flatten)]
    rpc: RpcOpts,
    #[command(flatten)]
    srs: SrsOpts,
    #[command(flatten)]
    solc: SolcOpts,
}

/// What `check-verifier` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// The address given.
    pub address: Address,
    /// The generated verifier it leads to (itself, or the adapter's `HALO2_VERIFIER`).
    pub verifier: Address,
    /// True when `address` is an adapter.
    pub adapter: bool,
    /// keccak256 of the regenerated runtime code.
    pub expected_code_hash: String,
    /// keccak256 of the deployed runtime code.
    pub deployed_code_hash: String,
    /// Bytes of each.
    pub expected_bytes: usize,
    /// Bytes deployed.
    pub deployed_bytes: usize,
    /// The code matches, and an adapter pins this model's instance count and proof length.
    pub matches: bool,
    /// What differs, when something does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
}

impl CheckVerifierArgs {
    /// Runs the command; fails when the deployed code is not the model's verifier.
    pub async fn run(self, out: Output) -> Result<()> {
        let provider = self.rpc.provider();
        let chain_id = provider
            .get_chain_id()
            .await
            .with_context(|| format!("could not reach the chain at {}", self.rpc.rpc_url))?;
        if provider.get_code_at(self.address).await?.is_empty() {
            bail!("no contract at {} on chain {chain_id}", self.address);
        }
        let registration = ModelRegistration::from_model_dir(&self.model, &self.srs, &self.solc, &out)?;
        let expected = registration.verifier_runtime.clone();

        let mut differences = vec![];
        let adapter = Halo2VerifierAdapter::new(self.address, &provider);
        let (verifier, is_adapter) = match adapter.HALO2_VERIFIER().call().await {
            Ok(inner) => {
                let instances = adapter.NUM_INSTANCES().call().await?;
                let proof_length = adapter.PROOF_LENGTH().call().await?;
                if instances != U256::from(registration.num_instances) {
                    differences.push(format!(
                        "the adapter takes {instances} instances, the model's proofs have {}",
                        registration.num_instances
                    ));
                }
                if proof_length != U256::from(registration.proof_bytes) {
                    differences.push(format!(
                        "the adapter takes proofs of {proof_length} bytes, the model's have {}",
                        registration.proof_bytes
                    ));
                }
                (inner, true)
            }
            Err(_) => (self.address, false),
        };
        let deployed = provider.get_code_at(verifier).await?;
        if deployed != expected {
            differences.push(format!(
                "the code at {verifier} ({} bytes) is not the verifier generated from {} ({} bytes)",
                deployed.len(),
                self.model.display(),
                expected.len()
            ));
        }
        let report = CheckReport {
            address: self.address,
            verifier,
            adapter: is_adapter,
            expected_code_hash: keccak256(&expected).to_string(),
            deployed_code_hash: keccak256(&deployed).to_string(),
            expected_bytes: expected.len(),
            deployed_bytes: deployed.len(),
            matches: differences.is_empty(),
            differences,
        };
        out.result(&report, || match report.matches {
            true => format!(
                "{} is the verifier of {} ({} bytes, code hash {}){}",
                report.verifier,
                self.model.display(),
                report.deployed_bytes,
                report.deployed_code_hash,
                if report.adapter { format!(", behind the adapter {}", report.address) } else { String::new() }
            ),
            false => format!("MISMATCH at {}:\n  {}", report.address, report.differences.join("\n  ")),
        })?;
        if !report.matches {
            bail!("{} is not the verifier of {}", self.address, self.model.display());
        }
        Ok(())
    }
}
