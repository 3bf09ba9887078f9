//! Option groups shared by the commands, flattened into each command that needs them: the chain (RPC,
//! wallet), the SRS and key cache, the Solidity compiler, and the memory budget and sizing policy of
//! aggregation. They live here so that commands never import each other for their options.

use alloy::{
    network::EthereumWallet,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
};

use anyhow::{Context, Result, bail};
use clap::Args;
use halo2_base::halo2_proofs::{halo2curves::bn256::Bn256, poly::kzg::commitment::ParamsKZG};
use zkml_evm::{
    codegen::VERIFIER_CONTRACT,
    solc::{CompiledContract, compile, find_solc},
};
use zkml_prover::{
    aggregate::LayerPolicy,
    artifact::UNSAFE_DEV_SRS,
    keys::{Hash32, srs_fingerprint},
    srs::{SrsSource, dev_srs_file_name, is_unsafe_dev_srs},
};

use crate::{cmd::proc_kb, output::Output};

/// Where the chain is.
#[derive(Debug, Clone, Args)]
pub struct RpcOpts {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "ETH_RPC_URL", default_value = "http://127.0.0.1:8545", value_name = "URL")]
    pub rpc_url: Url,
}

impl RpcOpts {
    /// A read-only provider.
    pub fn provider(&self) -> DynProvider {
        ProviderBuilder::new().connect_http(self.rpc_url.clone()).erased()
    }
}

/// Who signs transactions: a private key, or an encrypted JSON keystore (as geth and `cast wallet import`
/// write them).
#[derive(Debug, Clone, Args)]
pub struct WalletOpts {
    /// Private key of the sending account (hex). Prefer the environment variable, or a keystore, over the
    /// flag: command lines end up in shell history and process lists.
    #[arg(long, env = "ETH_PRIVATE_KEY", value_name = "KEY", hide_env_values = true)]
    pub private_key: Option<String>,
    /// An encrypted JSON keystore to sign with (takes precedence over a private key).
    #[arg(long, env = "ETH_KEYSTORE", value_name = "FILE")]
    pub keystore: Option<PathBuf>,
    /// The keystore's password.
    #[arg(long, env = "ETH_PASSWORD", value_name = "PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

impl WalletOpts {
    /// The signer, with a clear error when the key or keystore is missing or wrong (secrets are never
    /// printed).
    pub fn signer(&self) -> Result<PrivateKeySigner> {
        if let Some(keystore) = &self.keystore {
            let password = self.password.as_deref().with_context(|| {
                format!("the keystore {} needs its password: --password or ETH_PASSWORD", keystore.display())
            })?;
            return PrivateKeySigner::decrypt_keystore(keystore, password).map_err(|e| {
                anyhow::anyhow!(
                    "could not decrypt the keystore {} (wrong password, or not a keystore): {e}",
                    keystore.display()
                )
            });
        }
        self.private_key
            .as_deref()
            .context("no sending account: give --private-key (or ETH_PRIVATE_KEY), or --keystore with --password")?
            .trim()
            .parse::<PrivateKeySigner>()
            .context("--private-key / ETH_PRIVATE_KEY is not a valid hex secp256k1 private key")
    }

    /// A provider that signs with this wallet.
    pub fn provider(&self, rpc: &RpcOpts) -> Result<DynProvider> {
        let wallet = EthereumWallet::from(self.signer()?);
        Ok(ProviderBuilder::new().wallet(wallet).connect_http(rpc.rpc_url.clone()).erased())
    }
}

/// Where the structured reference string (KZG parameters) comes from, and where caches live.
#[derive(Debug, Clone, Args)]
pub struct SrsOpts {
    /// KZG parameters in halo2 format (a perpetual-powers-of-tau conversion such as kzg_bn254_16.srs), at
    /// least as large as the circuit; validated on load.
    #[arg(long, value_name = "FILE", conflicts_with = "unsafe_dev_srs")]
    pub srs: Option<PathBuf>,
    /// Use the deterministic development SRS: anyone can forge proofs under it. Tests and demos only.
    #[arg(long)]
    pub unsafe_dev_srs: bool,
    /// Cache directory for keys and the development SRS [default: $XDG_CACHE_HOME/zkml-eth or
    /// ~/.cache/zkml-eth].
    #[arg(long, env = "ZKML_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// KZG parameters at the size a circuit needs, with where they came from.
pub struct LoadedSrs {
    /// The parameters (`2^k` powers).
    pub params: ParamsKZG<Bn256>,
    /// `unsafe-dev` or the file given.
    pub label: String,
    /// True for the development SRS.
    pub unsafe_dev: bool,
    /// [`srs_fingerprint`] of the parameters.
    pub fingerprint: Hash32,
}

impl SrsOpts {
    /// The cache directory: `--cache-dir`, `ZKML_CACHE_DIR`, `$XDG_CACHE_HOME/zkml-eth`, `~/.cache/zkml-eth`.
    pub fn cache_dir(&self) -> Result<PathBuf> {
        if let Some(dir) = &self.cache_dir {
            return Ok(dir.clone());
        }
        let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
        let home = || std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"));
        xdg.or_else(home)
            .map(|base| base.join("zkml-eth"))
            .context("no cache directory: pass --cache-dir DIR or set ZKML_CACHE_DIR (HOME is not set)")
    }

    /// What the SRS options name, without loading anything.
    pub fn label(&self) -> Result<String> {
        match (&self.srs, self.unsafe_dev_srs) {
            (Some(path), _) => Ok(path.display().to_string()),
            (None, true) => Ok(UNSAFE_DEV_SRS.to_string()),
            (None, false) => bail!(
                "no SRS given: pass --srs FILE (KZG parameters in halo2 format from a powers-of-tau ceremony, \
                 e.g. kzg_bn254_16.srs) or --unsafe-dev-srs (a development SRS anyone can forge proofs \
                 under; tests and demos only)"
            ),
        }
    }

    /// Loads the parameters for circuits of `2^k` rows. The development SRS is generated at `k` on first
    /// use (its secret does not depend on the size, so every size shares it) and cached under
    /// `CACHE/srs`. Development parameters, also when a file of them is passed with `--srs`, get a loud
    /// warning on stderr, once per command and also with `--quiet`.
    pub fn load(&self, k: u32, out: &Output) -> Result<LoadedSrs> {
        let label = self.label()?;
        let source = match &self.srs {
            Some(path) => SrsSource::File(path.clone()),
            None => {
                let cache_dir = self.cache_dir()?.join("srs");
                if !cache_dir.join(dev_srs_file_name(k)).exists() {
                    out.status(format!(
                        "Generating the development SRS for k = {k} (cached in {}) ...",
                        cache_dir.display()
                    ));
                }
                SrsSource::UnsafeDev { cache_dir, max_k: k }
            }
        };
        if source.is_unsafe() {
            warn_unsafe_dev_srs();
        }
        let params = source.params(k).with_context(|| format!("loading the SRS ({label})"))?;
        let unsafe_dev = source.is_unsafe() || is_unsafe_dev_srs(&params);
        if unsafe_dev {
            warn_unsafe_dev_srs();
        }
        let fingerprint = srs_fingerprint(&params);
        Ok(LoadedSrs { params, label, unsafe_dev, fingerprint })
    }
}

/// Set once the development-SRS warning is printed: commands that load parameters more than once (inner
/// and outer circuits, `verify --evm`) warn once.
static DEV_SRS_WARNED: AtomicBool = AtomicBool::new(false);

/// Warns on stderr that the development SRS is in use. Not silenced by `--quiet`: forgeable proofs and
/// verifiers must never pass unnoticed, and scripts run quiet.
fn warn_unsafe_dev_srs() {
    if !DEV_SRS_WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "WARNING: UNSAFE development SRS: its secret is public, anyone can forge proofs under it. Tests and \
             demos only; use --srs FILE for anything real."
        );
    }
}

/// The Solidity compiler option.
#[derive(Debug, Clone, Args)]
pub struct SolcOpts {
    /// The Solidity compiler [default: $ZKML_SOLC, $FOUNDRY_SOLC, the checkout's tools/solc/solc, or solc on
    /// PATH].
    #[arg(long, value_name = "PATH")]
    pub solc: Option<PathBuf>,
}

impl SolcOpts {
    /// Compiles a verifier source (contract `Halo2Verifier`) with the chosen compiler.
    pub fn compile(&self, source: &str) -> Result<CompiledContract> {
        let solc_path = find_solc(self.solc.as_deref());
        compile(&solc_path, "Halo2Verifier.sol", source, VERIFIER_CONTRACT)
            .with_context(|| format!("with {}", solc_path.display()))
    }
}

/// The memory the outer circuit is sized for.
#[derive(Debug, Clone, Args)]
pub struct MemoryOpts {
    /// Peak memory to size the aggregation for, in GB [default: 80% of this machine's memory]: every layer's
    /// keygen and proving must fit (estimated; the report shows the estimate beside the measured peak). Fewer
    /// advice columns make a cheaper verifier but need more rows, and memory grows with the rows. With two
    /// layers the second is sized before the first is proven, so a job that cannot finish is refused early.
    #[arg(long, value_name = "GB")]
    pub max_memory: Option<f64>,
}

/// Share of the machine's memory the default budget takes: the rest is for the OS and page cache.
const DEFAULT_MEMORY_SHARE: f64 = 0.8;

impl MemoryOpts {
    /// The budget in bytes.
    pub fn budget_bytes(&self) -> Result<u64> {
        if let Some(gb) = self.max_memory {
            if !(gb.is_finite() && gb > 0.0) {
                bail!("--max-memory {gb}: give a positive number of GB");
            }
            return Ok((gb * 1e9) as u64);
        }
        let total_kb = proc_kb("/proc/meminfo", "MemTotal")
            .context("no MemTotal in /proc/meminfo for the default memory budget (pass --max-memory GB)")?;
        Ok((total_kb as f64 * 1024.0 * DEFAULT_MEMORY_SHARE) as u64)
    }
}

// The aggregation sizing policy's defaults. They are tuning choices, not limits of the circuit or the EVM:
// measured on aggregations of digits-MLP proofs (5 public values each) on two cores, for a verifier under
// 400,000 gas and the shortest proving time that allows. docs/aggregation.md ("Sizing policy") has the
// measurements and the commands that reproduce them; other models may want other values.

/// Default of `--evm-max-advice-columns`: a third column cost about 25,000 gas more, enough to take one
/// layer of four digits proofs past 400,000.
pub const EVM_MAX_ADVICE_COLUMNS: usize = 2;
/// Default of `--one-layer-max-k`: one doubling more would double proving time and memory again, where two
/// layers buy a cheaper verifier for less.
pub const ONE_LAYER_MAX_K: u32 = 22;
/// Default of `--one-layer-max-public-values`: the most public values (accumulator limbs included) measured
/// under 400,000 gas in one layer of two columns (eight digits proofs; nine, 57 values, went over).
pub const ONE_LAYER_MAX_PUBLIC_VALUES: usize = 52;
/// Default of `--planned-one-layer-max-k`: from `k = 22` two layers prove about as fast as one, for a
/// cheaper verifier, a smaller proof and less memory; below it one layer is much faster.
pub const PLANNED_ONE_LAYER_MAX_K: u32 = 21;
/// Default of `--first-layer-max-advice-columns`: fewer would double the first layer's rows to save the
/// second layer a few in-circuit points; five kept sixteen digits proofs' second layer in one column.
pub const FIRST_LAYER_MAX_ADVICE_COLUMNS: usize = 5;
/// Default of `--second-layer-max-advice-columns`: the second layer exists for a cheaper verifier, and one
/// column is the cheapest.
pub const SECOND_LAYER_MAX_ADVICE_COLUMNS: usize = 1;

/// The `--help` heading of the sizing policy's options.
const POLICY_HEADING: &str = "Sizing policy (defaults tuned on digits-MLP proofs)";

/// How aggregation trades the verifier's gas against proving time and memory when it sizes its layers
/// (`zkml_prover::aggregate::LayerPolicy`). The defaults were tuned on digits-MLP proofs for a verifier
/// under 400,000 gas; none of these choices affects soundness.
#[derive(Debug, Clone, Args)]
pub struct LayerPolicyOpts {
    /// Advice columns one layer verified on the EVM aims for, below --one-layer-max-k (each costs the
    /// verifier about 25,000 to 32,000 gas).
    #[arg(
        long,
        help_heading = POLICY_HEADING,
        value_name = "N",
        default_value_t = EVM_MAX_ADVICE_COLUMNS,
        value_parser = at_least_one(),
    )]
    pub evm_max_advice_columns: usize,
    /// The largest k one layer is raised to for --evm-max-advice-columns; at it, one layer takes the columns
    /// it needs.
    #[arg(long, help_heading = POLICY_HEADING, value_name = "K", default_value_t = ONE_LAYER_MAX_K)]
    pub one_layer_max_k: u32,
    /// The most public values (12 accumulator limbs included) one layer may take before two layers are
    /// planned (each costs the verifier about 670 gas).
    #[arg(long, help_heading = POLICY_HEADING, value_name = "N", default_value_t = ONE_LAYER_MAX_PUBLIC_VALUES)]
    pub one_layer_max_public_values: usize,
    /// The largest k at which one layer is planned; beyond it, two.
    #[arg(long, help_heading = POLICY_HEADING, value_name = "K", default_value_t = PLANNED_ONE_LAYER_MAX_K)]
    pub planned_one_layer_max_k: u32,
    /// Advice columns the first of two layers aims for (its verifier runs in the second layer's circuit, not
    /// on chain).
    #[arg(
        long,
        help_heading = POLICY_HEADING,
        value_name = "N",
        default_value_t = FIRST_LAYER_MAX_ADVICE_COLUMNS,
        value_parser = at_least_one(),
    )]
    pub first_layer_max_advice_columns: usize,
    /// Advice columns the second of two layers, the one verified on chain, aims for.
    #[arg(
        long,
        help_heading = POLICY_HEADING,
        value_name = "N",
        default_value_t = SECOND_LAYER_MAX_ADVICE_COLUMNS,
        value_parser = at_least_one(),
    )]
    pub second_layer_max_advice_columns: usize,
}

/// Parses a count of at least one.
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

impl LayerPolicyOpts {
    /// The policy the prover library sizes with.
    pub fn policy(&self) -> LayerPolicy {
        LayerPolicy {
            evm_max_advice_columns: self.evm_max_advice_columns,
            one_layer_max_k: self.one_layer_max_k,
            one_layer_max_public_values: self.one_layer_max_public_values,
            planned_one_layer_max_k: self.planned_one_layer_max_k,
            first_layer_max_advice_columns: self.first_layer_max_advice_columns,
            second_layer_max_advice_columns: self.second_layer_max_advice_columns,
        }
    }

    /// The same options as command-line arguments, for a child process.
    pub fn to_args(&self) -> Vec<String> {
        let LayerPolicy {
            evm_max_advice_columns,
            one_layer_max_k,
            one_layer_max_public_values,
            planned_one_layer_max_k,
            first_layer_max_advice_columns,
            second_layer_max_advice_columns,
        } = self.policy();
        [
            ("--evm-max-advice-columns", evm_max_advice_columns.to_string()),
            ("--one-layer-max-k", one_layer_max_k.to_string()),
            ("--one-layer-max-public-values", one_layer_max_public_values.to_string()),
            ("--planned-one-layer-max-k", planned_one_layer_max_k.to_string()),
            ("--first-layer-max-advice-columns", first_layer_max_advice_columns.to_string()),
            ("--second-layer-max-advice-columns", second_layer_max_advice_columns.to_string()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect()
    }
}
