//! Talking to the package's contracts on a chain: sending a transaction so that a revert comes back as our
//! custom error by name with its arguments, and reading a receipt's logs as named events. Both decode with
//! the ABIs of the forge artifacts the bindings were generated from ([`crate::contracts::ARTIFACTS`]), so
//! a new error or event in the Solidity package needs no code here.

use std::{collections::HashMap, fmt::Write as _, sync::OnceLock};

use alloy::{
    dyn_abi::{DynSolValue, EventExt, JsonAbiExt},
    json_abi::{Error as AbiError, Event as AbiEvent, JsonAbi},
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, Selector, TxHash, Uint},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    sol_types::decode_revert_reason,
};
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::contracts::{ARTIFACTS, TestPriceFeed, VerifiedTradingVault};

/// The errors and events of every bound contract, by selector and topic.
struct Abis {
    errors: HashMap<Selector, AbiError>,
    /// Events by topic; one topic can name several (ERC-20's and ERC-721's `Transfer` differ only in which
    /// fields are indexed), so the one that decodes the log is chosen.
    events: HashMap<B256, Vec<AbiEvent>>,
}

fn abis() -> &'static Abis {
    static ABIS: OnceLock<Abis> = OnceLock::new();
    ABIS.get_or_init(|| {
        let (mut errors, mut events) = (HashMap::new(), HashMap::new());
        for (name, artifact) in ARTIFACTS {
            #[derive(serde::Deserialize)]
            struct Artifact {
                abi: JsonAbi,
            }
            // The artifacts are compiled into the binary by build.rs; a malformed one is a build defect.
            let abi = serde_json::from_str::<Artifact>(artifact)
                .unwrap_or_else(|e| panic!("the embedded forge artifact of {name} has no valid ABI: {e}"))
                .abi;
            for error in abi.errors() {
                errors.insert(error.selector(), error.clone());
            }
            for event in abi.events() {
                let known: &mut Vec<AbiEvent> = events.entry(event.selector()).or_default();
                if !known.contains(event) {
                    known.push(event.clone());
                }
            }
        }
        Abis { errors, events }
    })
}

/// Names a revert: one of the package's custom errors with its arguments (`Name(arg: value, ...)`), a
/// `require` message or panic, or the raw data when nothing matches.
pub fn describe_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "reverted without data (out of gas, or a call to an address without code)".into();
    }
    if let Some(error) = data.get(..4).and_then(|s| abis().errors.get(&Selector::from_slice(s)))
        && let Ok(values) = error.abi_decode_input(&data[4..])
    {
        let args: Vec<String> =
            error.inputs.iter().zip(&values).map(|(p, v)| format!("{}: {}", p.name, format_value(v))).collect();
        return format!("{}({})", error.name, args.join(", "));
    }
    decode_revert_reason(data).unwrap_or_else(|| format!("unknown revert data {}", Bytes::copy_from_slice(data)))
}

/// A value as people read it: integers in decimal, addresses checksummed, bytes in hex.
pub fn format_value(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::FixedBytes(word, size) => Bytes::copy_from_slice(&word[..*size]).to_string(),
        DynSolValue::Bytes(b) => Bytes::copy_from_slice(b).to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            format!("[{}]", items.iter().map(format_value).collect::<Vec<_>>().join(", "))
        }
        DynSolValue::Tuple(items) => format!("({})", items.iter().map(format_value).collect::<Vec<_>>().join(", ")),
        DynSolValue::Function(f) => f.to_string(),
    }
}

/// A log decoded with the package's ABIs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecodedLog {
    /// The emitting contract.
    pub address: Address,
    /// The event's name.
    pub event: String,
    /// Its fields in declaration order, as `name`, formatted value.
    pub fields: Vec<(String, String)>,
}

impl DecodedLog {
    /// `Event(name: value, ...)`, long byte strings (a proof) shortened to their start and length.
    pub fn text(&self) -> String {
        let short = |v: &str| match v.len() > 2 + 2 * 32
            && v.starts_with("0x")
            && v.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
        {
            true => format!("{}.. ({} bytes)", &v[..18], (v.len() - 2) / 2),
            false => v.to_string(),
        };
        let fields: Vec<String> = self.fields.iter().map(|(n, v)| format!("{n}: {}", short(v))).collect();
        format!("{}({})", self.event, fields.join(", "))
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The receipt's logs that one of the package's events explains, in order. Indexed dynamic values (the
/// EIP-7007 event's prompt and aigcData) are shown as the hash the log holds.
pub fn decode_logs(receipt: &TransactionReceipt) -> Vec<DecodedLog> {
    receipt
        .inner
        .logs()
        .iter()
        .filter_map(|log| {
            let topic = *log.topics().first()?;
            let (event, decoded) = abis().events.get(&topic)?.iter().find_map(|event| {
                let indexed = event.inputs.iter().filter(|i| i.indexed).count();
                if indexed + 1 != log.topics().len() {
                    return None;
                }
                Some((event, event.decode_log_parts(log.topics().iter().copied(), &log.data().data).ok()?))
            })?;
            let (mut indexed, mut body) = (decoded.indexed.into_iter(), decoded.body.into_iter());
            let fields = event
                .inputs
                .iter()
                .map(|input| {
                    let value = if input.indexed { indexed.next() } else { body.next() };
                    (input.name.clone(), value.as_ref().map(format_value).unwrap_or_default())
                })
                .collect();
            Some(DecodedLog { address: log.address(), event: event.name.clone(), fields })
        })
        .collect()
}

/// A mined transaction, as commands report it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// What it did, in a few words.
    pub action: String,
    /// Its hash.
    pub transaction_hash: TxHash,
    /// The block it was mined in.
    pub block_number: Option<u64>,
    /// Gas it used (with the 21,000 and the calldata).
    pub gas_used: u64,
    /// The contract it created, for a deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_address: Option<Address>,
    /// The package's events it emitted.
    pub events: Vec<DecodedLog>,
}

/// Sends `tx` and waits for its receipt. The call is simulated first, so that a revert is reported before
/// anything is spent and with the custom error's name and arguments, never as an opaque failure.
pub async fn send(provider: &DynProvider, action: impl Into<String>, tx: TransactionRequest) -> Result<Sent> {
    let action = action.into();
    if let Err(err) = provider.call(tx.clone()).await {
        let reason = err
            .as_error_resp()
            .and_then(|resp| resp.as_revert_data())
            .map(|data| describe_revert(&data))
            .unwrap_or_else(|| err.to_string());
        bail!("{action} would revert: {reason}");
    }
    let pending = provider.send_transaction(tx).await.with_context(|| format!("could not send: {action}"))?;
    let receipt = pending.get_receipt().await.with_context(|| format!("{action}: the transaction was not mined"))?;
    if !receipt.status() {
        bail!(
            "{action}: transaction {} reverted on chain (it passed simulation: the state changed between)",
            receipt.transaction_hash
        );
    }
    Ok(Sent {
        action,
        transaction_hash: receipt.transaction_hash,
        block_number: receipt.block_number,
        gas_used: receipt.gas_used,
        contract_address: receipt.contract_address,
        events: decode_logs(&receipt),
    })
}

/// Fails unless `account` can pay for transactions: a clear error before anything is sent, rather than a
/// node's "insufficient funds" halfway through a deployment.
pub async fn require_funds(provider: &DynProvider, account: Address, chain_id: u64) -> Result<()> {
    let balance = provider.get_balance(account).await.context("reading the sender's balance")?;
    if balance.is_zero() {
        bail!("the sending account {account} has no ETH on chain {chain_id}: fund it, or use another --private-key");
    }
    Ok(())
}

/// Deploys creation code (with its constructor arguments appended) and returns the new address.
pub async fn deploy(provider: &DynProvider, action: impl Into<String>, code: Bytes) -> Result<(Address, Sent)> {
    let sent = send(provider, action, TransactionRequest::default().with_deploy_code(code)).await?;
    let address = sent.contract_address.ok_or_else(|| anyhow!("{}: the receipt names no new contract", sent.action))?;
    Ok((address, sent))
}

/// One line per transaction: what, gas, and its events.
pub fn sent_text(sent: &Sent) -> String {
    let mut text = format!("{}\n    tx {}  gas {}", sent.action, sent.transaction_hash, sent.gas_used);
    if let Some(address) = sent.contract_address {
        let _ = write!(text, "  at {address}");
    }
    for event in &sent.events {
        let _ = write!(text, "\n    {}", event.text());
    }
    text
}

/// The answers a `VerifiedTradingVault` reads for the prediction at `round`: rounds `round - 12 ..= round`
/// of its feed's phase, oldest first, refused by name when the window crosses the phase's start or the feed
/// lacks a round (the vault's `_window`, off chain).
pub async fn vault_window(provider: &DynProvider, vault: Address, round: u128) -> Result<Vec<i128>> {
    let needed = zkml_model::encode::PriceFeatures::WINDOW + 1;
    // The aggregator round is the id's low 64 bits; a window must not reach back past its phase's round 1.
    if ((round as u64) as usize) < needed {
        bail!("round {round}: its window of {needed} answers would reach back before the start of its phase");
    }
    let feed = VerifiedTradingVault::new(vault, provider)
        .FEED()
        .call()
        .await
        .with_context(|| format!("{vault} does not answer FEED(): is it a VerifiedTradingVault?"))?;
    let feed = TestPriceFeed::new(feed, provider);
    let mut answers = Vec::with_capacity(needed);
    for r in round + 1 - needed as u128..=round {
        let id = Uint::<80, 2>::try_from(r).with_context(|| format!("round {r} does not fit a uint80"))?;
        let data = feed.getRoundData(id).call().await.map_err(|e| match e.as_revert_data() {
            Some(revert) => anyhow!("the feed has no round {r}: it reverted {}", describe_revert(&revert)),
            None => anyhow::Error::new(e).context(format!("reading round {r} of the feed")),
        })?;
        if data.roundId != id || data.updatedAt.is_zero() {
            bail!(
                "the feed {} has no round {r} (it answers round {} updated at {})",
                feed.address(),
                data.roundId,
                data.updatedAt
            );
        }
        answers.push(
            i128::try_from(data.answer)
                .with_context(|| format!("round {r}: answer {} is out of range", data.answer))?,
        );
    }
    Ok(answers)
}
