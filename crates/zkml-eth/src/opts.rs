//! Option groups shared by the commands that talk to a chain, flattened into each command that needs them.

use alloy::{
    network::EthereumWallet,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use anyhow::{Context, Result};
use clap::Args;

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

/// Who signs transactions.
#[derive(Debug, Clone, Args)]
pub struct WalletOpts {
    /// Private key of the sending account (hex). Prefer the environment variable over the flag: command
    /// lines end up in shell history and process lists.
    #[arg(long, env = "ETH_PRIVATE_KEY", value_name = "KEY", hide_env_values = true)]
    pub private_key: String,
}

impl WalletOpts {
    /// The signer, with a clear error when the key is malformed (the key itself is never printed).
    pub fn signer(&self) -> Result<PrivateKeySigner> {
        self.private_key
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
