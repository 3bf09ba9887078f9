//! Compiling generated verifiers with the repository's Solidity compiler through foundry-compilers.
//!
//! The compiler is, in order: an explicit path, `$ZKML_SOLC`, `$FOUNDRY_SOLC` (what forge uses here), or
//! `solc` on `PATH`. Verifiers are pure inline assembly and compile without the optimizer: it would change
//! little, and solcjs runs out of memory optimizing the larger ones.

use std::path::{Path, PathBuf};

use foundry_compilers::{
    artifacts::{EvmVersion, Optimizer, Settings, SolcInput, SolcLanguage, Source, Sources},
    solc::Solc,
};

use crate::error::{Error, Result};

/// The hardfork verifiers are compiled for and executed under: the one foundry.toml pins.
pub const EVM_VERSION: EvmVersion = EvmVersion::Prague;

/// Creation and runtime code of a compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledContract {
    /// Creation code (what a deployment transaction carries).
    pub creation: Vec<u8>,
    /// Runtime code (what EIP-170 limits).
    pub runtime: Vec<u8>,
}

/// The compiler to use: `explicit` if given, else the environment, else `solc` on `PATH`.
pub fn find_solc(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("ZKML_SOLC").map(PathBuf::from))
        .or_else(|| std::env::var_os("FOUNDRY_SOLC").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("solc"))
}

/// Compiles `source` and returns the contract named `contract`.
pub fn compile(solc: &Path, file_name: &str, source: &str, contract: &str) -> Result<CompiledContract> {
    let compiler = Solc::new(solc).map_err(|e| Error::Solc { path: solc.to_path_buf(), reason: e.to_string() })?;
    let mut settings = Settings { evm_version: Some(EVM_VERSION), ..Default::default() };
    settings.optimizer = Optimizer { enabled: Some(false), ..Default::default() };
    let sources = Sources::from([(PathBuf::from(file_name), Source::new(source))]);
    let input = SolcInput::new(SolcLanguage::Solidity, sources, settings);
    let output =
        compiler.compile_exact(&input).map_err(|e| Error::Solc { path: solc.to_path_buf(), reason: e.to_string() })?;
    let compile_error = |reason: String| Error::Compile { contract: contract.to_string(), reason };
    if output.has_error() {
        let errors: Vec<String> = output
            .errors
            .iter()
            .filter(|e| e.severity.is_error())
            .map(|e| e.formatted_message.clone().unwrap_or_else(|| e.message.clone()))
            .collect();
        return Err(compile_error(errors.join("\n")));
    }
    let found = output.find(contract).ok_or_else(|| compile_error("not in the compiler output".into()))?;
    let bytes = |code: Option<&foundry_compilers::artifacts::BytecodeObject>| {
        code.and_then(|c| c.as_bytes()).map(|b| b.to_vec()).filter(|b| !b.is_empty())
    };
    // Empty code would deploy and then accept every call: never return it.
    let creation = bytes(found.bin).ok_or_else(|| compile_error("the compiler produced no creation code".into()))?;
    let runtime =
        bytes(found.bin_runtime).ok_or_else(|| compile_error("the compiler produced no runtime code".into()))?;
    Ok(CompiledContract { creation, runtime })
}
