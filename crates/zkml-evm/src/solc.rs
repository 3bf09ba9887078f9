//! Compiling generated verifiers with the repository's Solidity compiler through foundry-compilers.
//!
//! The compiler is, in order: an explicit path (`--solc`), `$ZKML_SOLC`, `$FOUNDRY_SOLC` (what forge uses
//! here), the repository's shim (`tools/solc/solc`) when this binary runs from a zkml-eth checkout or was
//! built from one that still exists, or `solc` on `PATH`. A path given explicitly or in a variable is used
//! as given: when it is missing that is an error naming where it came from, never a silent fall-through
//! to another compiler. Verifiers are pure inline assembly and compile without the optimizer: it would
//! change little, and solcjs runs out of memory optimizing the larger ones.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
};

use foundry_compilers::{
    artifacts::{EvmVersion, Optimizer, Settings, SolcInput, SolcLanguage, Source, Sources},
    solc::Solc,
};

use crate::error::{Error, Result};

/// The hardfork verifiers are compiled for and executed under: the one foundry.toml pins.
pub const EVM_VERSION: EvmVersion = EvmVersion::Prague;

/// The repository's compiler, relative to the checkout's root.
pub const REPO_SHIM: &str = "tools/solc/solc";

/// What to do when no compiler is found, for every error that says so.
const HOW_TO_SET: &str = "pass --solc PATH or set ZKML_SOLC=PATH to a solc 0.8.x executable (a zkml-eth checkout \
has one at tools/solc/solc, which needs node and `npm ci` in the checkout)";

/// Creation and runtime code of a compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledContract {
    /// Creation code (what a deployment transaction carries).
    pub creation: Vec<u8>,
    /// Runtime code (what EIP-170 limits).
    pub runtime: Vec<u8>,
}

/// Where the compiler came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolcOrigin {
    /// `--solc`.
    Flag,
    /// `$ZKML_SOLC`.
    ZkmlSolc,
    /// `$FOUNDRY_SOLC`.
    FoundrySolc,
    /// The repository's shim.
    Repository,
    /// `solc` on `PATH`.
    Path,
}

impl SolcOrigin {
    /// How the origin is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Flag => "--solc",
            Self::ZkmlSolc => "ZKML_SOLC",
            Self::FoundrySolc => "FOUNDRY_SOLC",
            Self::Repository => "the repository's tools/solc/solc",
            Self::Path => "PATH",
        }
    }
}

/// The places a compiler is looked for, read from the process (or given by a test).
#[derive(Clone, Debug, Default)]
pub struct SolcSearch {
    /// `--solc`.
    pub explicit: Option<PathBuf>,
    /// `$ZKML_SOLC`.
    pub zkml_solc: Option<OsString>,
    /// `$FOUNDRY_SOLC`.
    pub foundry_solc: Option<OsString>,
    /// The repository shim, when one was found.
    pub repository: Option<PathBuf>,
    /// `$PATH`.
    pub path: Option<OsString>,
}

impl SolcSearch {
    /// The search this process would make with `explicit` as `--solc`.
    pub fn from_env(explicit: Option<&Path>) -> Self {
        // An empty variable is as good as unset (`ZKML_SOLC= zkml-eth ...` is how one unsets it inline).
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Self {
            explicit: explicit.map(Path::to_path_buf),
            zkml_solc: var("ZKML_SOLC"),
            foundry_solc: var("FOUNDRY_SOLC"),
            repository: repository_shim(),
            path: std::env::var_os("PATH"),
        }
    }

    /// The compiler and where it came from, or an error that says what to set.
    pub fn locate(&self) -> Result<(PathBuf, SolcOrigin)> {
        let given = [
            (self.explicit.clone(), SolcOrigin::Flag),
            (self.zkml_solc.clone().map(PathBuf::from), SolcOrigin::ZkmlSolc),
            (self.foundry_solc.clone().map(PathBuf::from), SolcOrigin::FoundrySolc),
        ];
        if let Some((path, origin)) = given.into_iter().find_map(|(p, o)| p.map(|p| (p, o))) {
            // A bare name is looked up on PATH, as a shell would.
            let resolved = if is_bare_name(&path) { on_path(&path, self.path.as_deref()) } else { Some(path.clone()) };
            return match resolved.filter(|p| p.is_file()) {
                Some(found) => Ok((found, origin)),
                None => Err(Error::SolcNotFound(format!(
                    "{} is {}, which does not exist: {HOW_TO_SET}",
                    origin.describe(),
                    path.display()
                ))),
            };
        }
        if let Some(shim) = self.repository.clone().filter(|p| p.is_file()) {
            return Ok((shim, SolcOrigin::Repository));
        }
        if let Some(found) = on_path(Path::new("solc"), self.path.as_deref()) {
            return Ok((found, SolcOrigin::Path));
        }
        Err(Error::SolcNotFound(format!(
            "no Solidity compiler: none given (--solc, ZKML_SOLC, FOUNDRY_SOLC), this binary is not in a zkml-eth \
             checkout, and there is no solc on PATH: {HOW_TO_SET}"
        )))
    }
}

/// The compiler to use: `explicit` if given, else `$ZKML_SOLC`, `$FOUNDRY_SOLC`, the repository's shim or
/// `solc` on `PATH` (see the module docs). When none is found this still returns a path (`solc`), and
/// [`compile`] then fails saying what to set; use [`locate_solc`] or [`check_solc`] to fail first.
pub fn find_solc(explicit: Option<&Path>) -> PathBuf {
    locate_solc(explicit).map_or_else(|_| explicit.map_or_else(|| PathBuf::from("solc"), Path::to_path_buf), |f| f.0)
}

/// The compiler to use and where it came from, or an error that says what to set.
pub fn locate_solc(explicit: Option<&Path>) -> Result<(PathBuf, SolcOrigin)> {
    SolcSearch::from_env(explicit).locate()
}

/// Finds the compiler and runs `solc --version`: the check commands make before long work, so a missing
/// or broken compiler fails in a second rather than after minutes of proving. Returns the compiler and
/// the version line it printed.
pub fn check_solc(explicit: Option<&Path>) -> Result<(PathBuf, String)> {
    let (path, origin) = locate_solc(explicit)?;
    let failed = |reason: String| Error::Solc {
        path: path.clone(),
        reason: format!("{reason} (the compiler from {}): {HOW_TO_SET}", origin.describe()),
    };
    let output =
        Command::new(&path).arg("--version").output().map_err(|e| failed(format!("`--version` did not run: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Native solc and forge's expectation alike: the last line is `Version: 0.8.x+commit...`.
    let version = stdout.lines().rev().find_map(|l| l.trim().strip_prefix("Version:")).map(|v| v.trim().to_string());
    match version {
        Some(version) if output.status.success() => Ok((path, version)),
        _ => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let said = stderr.lines().chain(stdout.lines()).find(|l| !l.trim().is_empty()).unwrap_or("no output");
            Err(failed(format!("`--version` failed ({}): {said}", output.status)))
        }
    }
}

/// The repository's shim, when this binary runs from a zkml-eth checkout (its directory or one above it
/// holds `tools/solc/solc` beside a `Cargo.toml` or `foundry.toml`), else the one of the checkout it was
/// built from, if that still exists.
pub fn repository_shim() -> Option<PathBuf> {
    checkout_path(REPO_SHIM)
}

/// `relative` (a file or directory) in the zkml-eth checkout this binary runs from (the first directory
/// above the executable that holds it beside a `Cargo.toml` or `foundry.toml`), else in the checkout it
/// was built from, if that still holds it. This is how an installed binary still finds the repository's
/// tools and examples from any working directory.
pub fn checkout_path(relative: &str) -> Option<PathBuf> {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let exe = exe.canonicalize().unwrap_or(exe);
        exe.ancestors().skip(1).find_map(|dir| in_checkout(dir, relative))
    });
    // This crate's build-time location: crates/zkml-evm in the checkout.
    from_exe.or_else(|| in_checkout(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), relative))
}

fn in_checkout(dir: &Path, relative: &str) -> Option<PathBuf> {
    let path = dir.join(relative);
    let is_checkout = dir.join("Cargo.toml").is_file() || dir.join("foundry.toml").is_file();
    (is_checkout && path.exists()).then(|| path.canonicalize().unwrap_or(path))
}

/// `name` on the `PATH` of this process, if it is an executable there.
pub fn on_search_path(name: &str) -> Option<PathBuf> {
    on_path(Path::new(name), std::env::var_os("PATH").as_deref())
}

fn is_bare_name(path: &Path) -> bool {
    path.components().count() == 1 && !path.has_root() && path.parent().is_none_or(|p| p.as_os_str().is_empty())
}

fn on_path(name: &Path, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path_var?).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Compiles `source` and returns the contract named `contract`.
pub fn compile(solc: &Path, file_name: &str, source: &str, contract: &str) -> Result<CompiledContract> {
    compile_with(solc, file_name, source, contract, false)
}

/// [`compile`] with the optimizer (200 runs), which verifiers written as one large assembly block need
/// (EZKL's: unoptimized, its assembly runs out of stack slots).
pub fn compile_optimized(solc: &Path, file_name: &str, source: &str, contract: &str) -> Result<CompiledContract> {
    compile_with(solc, file_name, source, contract, true)
}

fn compile_with(
    solc: &Path,
    file_name: &str,
    source: &str,
    contract: &str,
    optimize: bool,
) -> Result<CompiledContract> {
    // A missing compiler is named with what to set, not as the OS's "No such file or directory".
    let exists =
        if is_bare_name(solc) { on_path(solc, std::env::var_os("PATH").as_deref()).is_some() } else { solc.is_file() };
    if !exists {
        return Err(Error::SolcNotFound(format!("there is no Solidity compiler at {}: {HOW_TO_SET}", solc.display())));
    }
    let compiler = Solc::new(solc).map_err(|e| Error::Solc { path: solc.to_path_buf(), reason: e.to_string() })?;
    let mut settings = Settings { evm_version: Some(EVM_VERSION), ..Default::default() };
    settings.optimizer = Optimizer { enabled: Some(optimize), ..Default::default() };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory with an executable `solc` in `bin/` (no tempfile dependency in this crate).
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("zkml-evm-solc-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("bin")).expect("scratch dir");
            let solc = dir.join("bin/solc");
            std::fs::write(&solc, "#!/bin/sh\necho 'Version: 0.8.37+commit.test'\n").expect("fake solc");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&solc, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            }
            Self(dir)
        }

        fn solc(&self) -> PathBuf {
            self.0.join("bin/solc")
        }

        fn bin(&self) -> OsString {
            self.0.join("bin").into_os_string()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn order_is_flag_variables_repository_then_path() {
        let s = Scratch::new("order");
        let other = Scratch::new("order-other");
        let all = SolcSearch {
            explicit: Some(s.solc()),
            zkml_solc: Some(other.solc().into()),
            foundry_solc: Some(other.solc().into()),
            repository: Some(other.solc()),
            path: Some(other.bin()),
        };
        assert_eq!(all.locate().unwrap(), (s.solc(), SolcOrigin::Flag));
        let env = SolcSearch { explicit: None, zkml_solc: Some(s.solc().into()), ..all };
        assert_eq!(env.locate().unwrap(), (s.solc(), SolcOrigin::ZkmlSolc));
        let foundry = SolcSearch { zkml_solc: None, foundry_solc: Some(s.solc().into()), ..env };
        assert_eq!(foundry.locate().unwrap(), (s.solc(), SolcOrigin::FoundrySolc));
        let repo = SolcSearch { foundry_solc: None, repository: Some(s.solc()), ..foundry };
        assert_eq!(repo.locate().unwrap(), (s.solc(), SolcOrigin::Repository));
        let path = SolcSearch { repository: None, path: Some(s.bin()), ..repo };
        assert_eq!(path.locate().unwrap(), (s.solc(), SolcOrigin::Path));
        // A bare name given explicitly is looked up on PATH.
        let bare = SolcSearch { explicit: Some(PathBuf::from("solc")), path: Some(s.bin()), ..Default::default() };
        assert_eq!(bare.locate().unwrap(), (s.solc(), SolcOrigin::Flag));
    }

    #[test]
    fn a_missing_given_compiler_is_an_error_naming_its_origin_not_a_fall_through() {
        let s = Scratch::new("missing");
        let missing = s.0.join("nowhere/solc");
        let fallback = SolcSearch { repository: Some(s.solc()), path: Some(s.bin()), ..Default::default() };
        for (search, origin) in [
            (SolcSearch { explicit: Some(missing.clone()), ..fallback.clone() }, "--solc"),
            (SolcSearch { zkml_solc: Some(missing.clone().into()), ..fallback.clone() }, "ZKML_SOLC"),
            (SolcSearch { foundry_solc: Some(missing.clone().into()), ..fallback }, "FOUNDRY_SOLC"),
        ] {
            let err = search.locate().unwrap_err().to_string();
            assert!(err.starts_with(&format!("{origin} is {}, which does not exist", missing.display())), "{err}");
            assert!(err.contains("pass --solc PATH or set ZKML_SOLC=PATH"), "{err}");
        }
    }

    #[test]
    fn nothing_found_says_what_to_set() {
        let s = Scratch::new("nothing");
        let search = SolcSearch { path: Some(s.0.clone().into_os_string()), ..Default::default() };
        let err = search.locate().unwrap_err().to_string();
        assert!(
            err.contains("no Solidity compiler") && err.contains("pass --solc PATH or set ZKML_SOLC=PATH"),
            "{err}"
        );
        // The infallible lookup names the compiler that `compile` then reports as missing.
        let compile_err = compile(&s.0.join("bin/none"), "A.sol", "", "A").unwrap_err().to_string();
        assert!(
            compile_err.contains("there is no Solidity compiler at") && compile_err.contains("ZKML_SOLC"),
            "{compile_err}"
        );
    }

    #[test]
    fn the_repository_shim_is_found_from_this_checkout() {
        let shim = repository_shim().expect("the tests run from a zkml-eth checkout");
        assert!(shim.ends_with(REPO_SHIM), "{}", shim.display());
        assert!(shim.is_file());
    }
}
