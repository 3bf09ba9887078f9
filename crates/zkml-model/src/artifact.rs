//! The compiled model directory written by `zkml-eth compile`:
//!
//! - `model.onnx`: a copy of the source model (the float reference);
//! - `quantized.json`: the [`QuantizedModel`] (versioned; loads back bit-identically);
//! - `settings.json`: [`Settings`], what was chosen and from what.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{
    commit::{commitment_hex, model_commitment},
    data::DataSet,
    error::{Error, Result},
    import::{BatchBinding, ImportedModel, import_onnx},
    quantize::{
        CalibrationOptions, FORMAT_VERSION, FORMAT_VERSION_MODEL_PARAM_SCALE, QuantizedModel, Scales,
        calibrate_and_quantize,
    },
};

/// File names inside a compiled model directory.
pub const ONNX_FILE: &str = "model.onnx";
/// The quantized model.
pub const QUANTIZED_FILE: &str = "quantized.json";
/// The settings.
pub const SETTINGS_FILE: &str = "settings.json";
/// The circuit settings `zkml-eth setup` writes into the model directory (user-editable).
pub const CIRCUIT_FILE: &str = "circuit.json";
/// The verifying key `zkml-eth setup` writes into the model directory.
pub const VK_FILE: &str = "vk.bin";

/// What a compile chose, and from what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The ONNX file compiled (as given).
    pub source: PathBuf,
    /// Input shapes the model was fixed to.
    pub input_shapes: Vec<Vec<usize>>,
    /// Symbolic batch dimensions that were bound to 1 (no `--input-shape` given); absent when none were.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_bound: Vec<BatchBinding>,
    /// The scales.
    pub scales: Scales,
    /// Calibration margin.
    pub margin: f64,
    /// The calibration data file (as given) and its sample count.
    pub calibration: CalibrationInfo,
    /// Poseidon commitment of the quantized model, `bytes32` hex.
    pub model_commitment: String,
}

/// Where calibration came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationInfo {
    /// The data file.
    pub file: PathBuf,
    /// Number of samples used.
    pub samples: usize,
}

/// A compiled model: the quantized graph with its settings, and tract's float model beside it.
#[derive(Debug, Clone)]
pub struct CompiledModel {
    /// Settings.
    pub settings: Settings,
    /// The quantized model.
    pub quantized: QuantizedModel,
    /// The float model it came from.
    pub imported: ImportedModel,
    /// The ONNX bytes (written to the directory as [`ONNX_FILE`]).
    onnx: Vec<u8>,
}

impl CompiledModel {
    /// Imports, calibrates and quantizes.
    pub fn compile(
        onnx_path: &Path,
        input_shapes: Option<&[Vec<usize>]>,
        calibration_path: &Path,
        options: CalibrationOptions,
    ) -> Result<Self> {
        let onnx = std::fs::read(onnx_path).map_err(|e| Error::io(onnx_path, e))?;
        let imported = import_onnx(onnx_path, input_shapes)?;
        let data = DataSet::load(calibration_path, imported.graph.input_len())?;
        let quantized = calibrate_and_quantize(&imported, &data.inputs, options)?;
        let settings = Settings {
            format_version: quantized.format_version,
            source: onnx_path.to_path_buf(),
            input_shapes: imported.graph.input_shapes(),
            batch_bound: imported.batch_bound.clone(),
            scales: quantized.scales,
            margin: quantized.margin,
            calibration: CalibrationInfo { file: calibration_path.to_path_buf(), samples: data.inputs.len() },
            model_commitment: commitment_hex(&model_commitment(&quantized)),
        };
        Ok(Self { settings, quantized, imported, onnx })
    }

    /// Writes the directory. A directory that holds anything but a previous compile output is refused,
    /// so nothing of the user's is overwritten; returns true when a previous output was replaced.
    pub fn save(&self, dir: &Path) -> Result<bool> {
        let replaced = prepare_dir(dir)?;
        write(&dir.join(ONNX_FILE), &self.onnx)?;
        write(&dir.join(QUANTIZED_FILE), &to_json(&self.quantized))?;
        write(&dir.join(SETTINGS_FILE), &to_json(&self.settings))?;
        Ok(replaced)
    }

    /// Loads a compiled model directory.
    pub fn load(dir: &Path) -> Result<Self> {
        let settings: Settings = read_json(&dir.join(SETTINGS_FILE))?;
        let quantized: QuantizedModel = read_json(&dir.join(QUANTIZED_FILE))?;
        for (file, version) in [(SETTINGS_FILE, settings.format_version), (QUANTIZED_FILE, quantized.format_version)] {
            if !(FORMAT_VERSION_MODEL_PARAM_SCALE..=FORMAT_VERSION).contains(&version) {
                return Err(Error::Format {
                    path: dir.join(file),
                    reason: format!(
                        "format version {version}, this zkml-eth reads {FORMAT_VERSION_MODEL_PARAM_SCALE} to \
                         {FORMAT_VERSION}: compile the model again"
                    ),
                });
            }
        }
        if quantized.format_version < FORMAT_VERSION
            && let Some(node) = quantized.nodes.iter().find(|node| node.op.has_own_param_scale())
        {
            return Err(Error::Format {
                path: dir.join(QUANTIZED_FILE),
                reason: format!(
                    "format version {} cannot give node {} a parameter scale of its own (version {FORMAT_VERSION} \
                     can): the file was edited, compile the model again",
                    quantized.format_version, node.name
                ),
            });
        }
        let onnx_path = dir.join(ONNX_FILE);
        let onnx = std::fs::read(&onnx_path).map_err(|e| Error::io(&onnx_path, e))?;
        let imported = import_onnx(&onnx_path, Some(&settings.input_shapes))?;
        Ok(Self { settings, quantized, imported, onnx })
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("model types serialize");
    bytes.push(b'\n');
    bytes
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        reason: format!("not a compiled model file of this version: {e}"),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

fn prepare_dir(dir: &Path) -> Result<bool> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        return Ok(false);
    }
    // A recompile keeps setup's files: circuit.json holds the user's circuit settings, and both carry the
    // circuit hash, by which setup, prove and verify refuse them once the model has changed.
    let ours = [ONNX_FILE, QUANTIZED_FILE, SETTINGS_FILE, CIRCUIT_FILE, VK_FILE];
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut any = false;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if !ours.iter().any(|o| name == *o) {
            return Err(Error::Format {
                path: dir.to_path_buf(),
                reason: format!(
                    "the output directory holds '{}', which is not a compile output: choose an empty or new directory",
                    name.to_string_lossy()
                ),
            });
        }
        any = true;
    }
    Ok(any)
}
