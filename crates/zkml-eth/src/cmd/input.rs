//! `zkml-eth input`: a model's input file built from what a contract sees — a price feed's answers or
//! an EIP-7007 prompt — with the encodings of `docs/encodings.md`, so the proof's public inputs are the
//! values the contract recomputes.

use std::path::{Path, PathBuf};

use alloy::primitives::{U256, keccak256};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::Value;
use zkml_model::{
    CompiledModel,
    encode::{PixelPrompt, PriceFeatures},
};

use crate::output::Output;

/// Build a model input from a price feed or a prompt.
#[derive(Debug, Subcommand)]
pub enum InputCommand {
    #[allow(missing_docs)]
    Feed(FeedArgs),
    #[allow(missing_docs)]
    Prompt(PromptArgs),
}

/// Where the input file goes, and the model it is for.
#[derive(Debug, Args)]
pub struct Target {
    /// The compiled model (its input scale and input count are checked).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// The input file to write: JSON {"inputs": [[...]], "quantized": [[...]]}, what `prove --input` reads.
    #[arg(long, value_name = "INPUT.json")]
    out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

/// The last window of a Chainlink-style feed -> the eth-price model's input.
///
/// x_i = rdiv((p_i - p_{i-1}) · 100 · 2^S, p_{i-1}), rounding half away from zero, over the 13 answers
/// ending at --at (docs/encodings.md).
///
/// Examples:
///   zkml-eth input feed examples/eth-price/feed.json --model target/eth-price --out input.json
///   zkml-eth input feed examples/eth-price/feed.json --at 8000 --model target/eth-price --out input.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct FeedArgs {
    /// The feed: JSON {"answers": [...]} (integers or decimal strings, oldest first), or a bare array.
    feed: PathBuf,
    /// Index of the window's last answer (0-based; negative counts from the end); default the last.
    #[arg(long, value_name = "I", allow_hyphen_values = true)]
    at: Option<i64>,
    #[command(flatten)]
    target: Target,
}

/// An EIP-7007 prompt -> the pixel-art model's input.
///
/// Examples:
///   zkml-eth input prompt 0x0700000000 --model target/pixel-art --out input.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PromptArgs {
    /// The prompt: 0x-prefixed hex, 5 bytes (class 0..9, then four signed latents in 1/16 standard deviations).
    prompt: String,
    #[command(flatten)]
    target: Target,
}

/// The file written (and the `--json` report).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InputFile {
    /// Real-valued inputs, `quantized / 2^scale`: what `prove --input` quantizes back exactly.
    inputs: Vec<Vec<f64>>,
    /// The quantized inputs: the public input values of the proof.
    quantized: Vec<Vec<i64>>,
    /// The input scale exponent.
    scale: u8,
    /// Where the values came from.
    source: Source,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
enum Source {
    /// A feed window.
    Feed {
        /// The feed file.
        file: PathBuf,
        /// Index of the first and last answer used.
        first: usize,
        last: usize,
        /// The answers used, as decimal strings.
        answers: Vec<String>,
    },
    /// A prompt.
    Prompt {
        /// The prompt, hex.
        prompt: String,
        /// EIP-7007's `tokenId = uint256(keccak256(prompt))`, decimal.
        token_id: String,
        /// The digit class.
        class: u8,
        /// The latents.
        latents: Vec<i8>,
    },
}

impl InputCommand {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let (target, file) = match self {
            Self::Feed(args) => {
                let file = args.build()?;
                (args.target, file)
            }
            Self::Prompt(args) => {
                let file = args.build()?;
                (args.target, file)
            }
        };
        write_new(&target.out, &serde_json::to_vec_pretty(&file)?, target.force)?;
        out.result(&file, || {
            let values: Vec<String> = file.quantized[0].iter().map(i64::to_string).collect();
            let from = match &file.source {
                Source::Feed { file, first, last, .. } => {
                    format!("answers {first}..={last} of {}", file.display())
                }
                Source::Prompt { prompt, token_id, .. } => format!("prompt {prompt} (tokenId {token_id})"),
            };
            format!(
                "wrote {} from {from}\nquantized inputs (2^{}): [{}]",
                target.out.display(),
                file.scale,
                values.join(", ")
            )
        })
    }
}

/// The model's input scale, checking that it takes `count` inputs.
pub(crate) fn input_scale(model: &Path, count: usize, what: &str) -> Result<u8> {
    let compiled =
        CompiledModel::load(model).with_context(|| format!("loading the compiled model in {}", model.display()))?;
    let len = compiled.quantized.input_len();
    if len != count {
        bail!("{} takes {len} input values, but {what} gives {count}: is it the right model?", model.display());
    }
    Ok(compiled.settings.scales.activation)
}

pub(crate) fn reals(quantized: &[i64], scale: u8) -> Vec<f64> {
    quantized.iter().map(|q| *q as f64 / f64::from(1u32 << scale)).collect()
}

impl FeedArgs {
    fn build(&self) -> Result<InputFile> {
        let answers = read_answers(&self.feed)?;
        let window = PriceFeatures::WINDOW;
        let scale = input_scale(&self.target.model, window, "a feed window")?;
        let features = PriceFeatures::eth_price(scale);
        let needed = features.answers_needed();
        let last = match self.at {
            None => answers.len().checked_sub(1),
            Some(at) if at < 0 => answers.len().checked_sub(at.unsigned_abs() as usize),
            Some(at) => Some(at as usize).filter(|at| *at < answers.len()),
        };
        let Some(last) = last.filter(|last| *last + 1 >= needed) else {
            bail!(
                "{}: --at {} does not end a window: it needs {needed} answers ending at an index from {} to {}",
                self.feed.display(),
                self.at.map_or("(last)".into(), |a| a.to_string()),
                needed - 1,
                answers.len().saturating_sub(1)
            );
        };
        let first = last + 1 - needed;
        let used = &answers[first..=last];
        let quantized = features.inputs(used).map_err(|e| match e {
            zkml_model::encode::EncodeError::Answer { index, value } => {
                anyhow::anyhow!(
                    "{}: answer {} is {value}: answers must be positive and below 2^96",
                    self.feed.display(),
                    first + index
                )
            }
            other => anyhow::anyhow!("{}: {other}", self.feed.display()),
        })?;
        Ok(InputFile {
            inputs: vec![reals(&quantized, scale)],
            quantized: vec![quantized],
            scale,
            source: Source::Feed {
                file: self.feed.clone(),
                first,
                last,
                answers: used.iter().map(i128::to_string).collect(),
            },
        })
    }
}

/// A feed's answers: `{"answers": [...]}` or a bare array, integers or decimal strings.
fn read_answers(path: &Path) -> Result<Vec<i128>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the feed {}", path.display()))?;
    let json: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let list = match &json {
        Value::Array(list) => list,
        Value::Object(map) => match map.get("answers") {
            Some(Value::Array(list)) => list,
            _ => bail!("{}: no \"answers\" array", path.display()),
        },
        _ => bail!("{}: expected {{\"answers\": [...]}} or an array", path.display()),
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let text = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_string(),
                _ => String::new(),
            };
            let digits = text.strip_prefix('-').unwrap_or(&text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                bail!("{}: answer {i} ({v}) is not an integer", path.display());
            }
            // An integer too large for i128 is far above the 2^96 the encoding allows.
            text.parse::<i128>().map_err(|_| {
                anyhow::anyhow!("{}: answer {i} is {text}: answers must be positive and below 2^96", path.display())
            })
        })
        .collect()
}

impl PromptArgs {
    fn build(&self) -> Result<InputFile> {
        let bytes =
            parse_hex(&self.prompt).with_context(|| format!("prompt '{}' is not 0x-prefixed hex", self.prompt))?;
        let prompt = PixelPrompt::decode(&bytes).with_context(|| format!("prompt {}", self.prompt))?;
        let scale = input_scale(&self.target.model, PixelPrompt::INPUTS, "a prompt")?;
        let quantized = prompt.inputs(scale)?;
        Ok(InputFile {
            inputs: vec![reals(&quantized, scale)],
            quantized: vec![quantized],
            scale,
            source: Source::Prompt {
                prompt: format!("0x{}", hex(&bytes)),
                token_id: U256::from_be_bytes(keccak256(&bytes).0).to_string(),
                class: prompt.class,
                latents: prompt.latents.to_vec(),
            },
        })
    }
}

/// Bytes of `0x`-prefixed hex.
pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits = s.strip_prefix("0x")?;
    if digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok()).collect()
}

/// Lower-case hex without a prefix.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path`; an existing file is an error unless `force` (checked by the create itself).
pub(crate) fn write_new(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    use std::io::Write;
    let file = if force {
        std::fs::File::create(path)
    } else {
        std::fs::OpenOptions::new().write(true).create_new(true).open(path)
    };
    let mut file = file.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} already exists; refusing to overwrite it (--force overwrites)", path.display())
        } else {
            anyhow::anyhow!("{}: {e}", path.display())
        }
    })?;
    file.write_all(bytes).with_context(|| format!("writing {}", path.display()))
}
