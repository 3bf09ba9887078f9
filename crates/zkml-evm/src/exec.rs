//! Running verifiers in revm under mainnet rules (EIP-170's 24,576-byte runtime limit included; it is never
//! lifted) to measure runtime size and gas.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    context::{
        TxEnv,
        result::{ExecutionResult, Output},
    },
    database::InMemoryDB,
    primitives::{Address, TxKind},
};
use snark_verifier::loader::evm::encode_calldata;

use crate::error::{Error, Result};

/// EIP-170: the most runtime code a contract may have on Ethereum mainnet.
pub const MAX_RUNTIME_BYTES: usize = 24_576;

/// Gas given to a verification call unless the caller caps it lower: a block's worth is never needed, and
/// an invalid halo2 proof may burn everything it is given.
pub const DEFAULT_CALL_GAS: u64 = 10_000_000;

/// The outcome of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// True when the call returned without reverting.
    pub success: bool,
    /// Gas of the whole transaction (21,000 base, calldata and execution).
    pub gas_used: u64,
}

/// A local chain with one deployed verifier.
pub struct LocalVerifier {
    evm: revm::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>,
    address: Address,
    nonce: u64,
    /// Runtime code size of the deployed verifier.
    pub runtime_bytes: usize,
}

impl std::fmt::Debug for LocalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalVerifier")
            .field("address", &self.address)
            .field("runtime_bytes", &self.runtime_bytes)
            .finish()
    }
}

impl LocalVerifier {
    /// Deploys `creation_code` in a fresh in-memory chain.
    pub fn deploy(creation_code: &[u8]) -> Result<Self> {
        let mut evm = Context::mainnet().with_db(InMemoryDB::default()).build_mainnet();
        let tx = TxEnv {
            gas_limit: 30_000_000,
            kind: TxKind::Create,
            data: creation_code.to_vec().into(),
            ..Default::default()
        };
        let result = evm.transact_commit(tx).map_err(|e| Error::Deploy(format!("{e:?}")))?;
        let address = match result {
            ExecutionResult::Success { output: Output::Create(_, Some(address)), .. } => address,
            ExecutionResult::Halt { reason, .. } => return Err(Error::Deploy(format!("halted: {reason:?}"))),
            other => return Err(Error::Deploy(format!("did not create a contract: {other:?}"))),
        };
        let runtime_bytes = evm
            .ctx
            .journaled_state
            .database
            .cache
            .accounts
            .get(&address)
            .and_then(|account| account.info.code.as_ref())
            .map(|code| code.original_byte_slice().len())
            .unwrap_or_default();
        if runtime_bytes == 0 {
            return Err(Error::Deploy("the deployed contract has no code".into()));
        }
        Ok(Self { evm, address, nonce: 1, runtime_bytes })
    }

    /// Calls the verifier with raw `calldata` and at most `gas_limit` gas for the transaction.
    pub fn call(&mut self, calldata: Vec<u8>, gas_limit: u64) -> Result<CallOutcome> {
        let tx = TxEnv {
            gas_limit,
            kind: TxKind::Call(self.address),
            data: calldata.into(),
            nonce: self.nonce,
            ..Default::default()
        };
        let result = self.evm.transact_commit(tx).map_err(|e| Error::Deploy(format!("call: {e:?}")))?;
        self.nonce += 1;
        Ok(match result {
            ExecutionResult::Success { gas_used, .. } => CallOutcome { success: true, gas_used },
            ExecutionResult::Revert { gas_used, .. } | ExecutionResult::Halt { gas_used, .. } => {
                CallOutcome { success: false, gas_used }
            }
        })
    }

    /// Verifies `proof` for `instances` (one instance column) with at most `gas_limit` gas.
    pub fn verify(&mut self, instances: &[Fr], proof: &[u8], gas_limit: u64) -> Result<CallOutcome> {
        self.call(encode_calldata(&[instances.to_vec()], proof), gas_limit)
    }
}
