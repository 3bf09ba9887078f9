//! `zkml-eth compile`: ONNX -> quantized model directory.

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use zkml_model::{
    CalibrationOptions, CompiledModel,
    data::DataSet,
    fidelity::{DEFAULT_MAX_REL_ERROR, fidelity_of},
    import::BatchBinding,
    quantize::{DEFAULT_MARGIN, QNode},
};

use crate::output::Output;

/// Import an ONNX model, calibrate it on sample inputs and write the quantized model.
///
/// Examples:
///   zkml-eth compile examples/digits/mlp.onnx --calibration examples/digits/calibration.json --out target/digits-mlp
///   zkml-eth compile examples/digits/cnn.onnx --calibration examples/digits/calibration.json \
///       --input-shape 1,1,8,8 --out target/digits-cnn
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompileArgs {
    /// The ONNX model.
    model: PathBuf,
    /// Calibration data: JSON {"inputs": [[...], ...]} with each sample flattened in input order.
    #[arg(long, value_name = "DATA.json")]
    calibration: PathBuf,
    /// Concrete shape of each input, comma-separated (repeat once per input, in input order); needed when
    /// the model declares a dynamic dimension other than a leading batch (a symbolic batch is bound to 1).
    #[arg(long, value_name = "D0,D1,...", value_parser = parse_shape)]
    input_shape: Vec<Vec<usize>>,
    /// Activation scale exponent (values are integers / 2^SCALE); chosen by calibration when omitted.
    #[arg(long, value_name = "BITS")]
    scale: Option<u8>,
    /// Weight scale exponent; the activation scale when omitted.
    #[arg(long, value_name = "BITS")]
    param_scale: Option<u8>,
    /// Range headroom over the largest calibrated magnitude of each value.
    #[arg(long, value_name = "FACTOR", default_value_t = DEFAULT_MARGIN)]
    margin: f64,
    /// Output directory (new, empty, or a previous compile output).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub(crate) fn parse_shape(s: &str) -> Result<Vec<usize>, String> {
    s.split(',')
        .map(|d| d.trim().parse::<usize>().map_err(|_| format!("'{d}' in '{s}' is not a dimension (use e.g. 1,1,8,8)")))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|dims| if dims.contains(&0) { Err(format!("'{s}' has a zero dimension")) } else { Ok(dims) })
}

/// One row of the per-layer table.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerRange {
    /// Node index.
    pub index: usize,
    /// Node name.
    pub name: String,
    /// Op.
    pub op: String,
    /// Output shape.
    pub shape: Vec<usize>,
    /// Largest |real value| over the calibration data.
    pub calibrated_max: f64,
    /// Integer bound the circuit enforces.
    pub bound: i64,
    /// Bits of a signed value within the bound.
    pub bits: u32,
    /// The exponent of the node's constants when they have their own (a tensor of small weights).
    pub own_param_scale: Option<u8>,
}

/// What `compile` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompileReport {
    /// The output directory.
    pub out: PathBuf,
    /// Input shapes.
    pub input_shapes: Vec<Vec<usize>>,
    /// Symbolic batch dimensions bound to 1 because no --input-shape was given.
    pub batch_bound: Vec<BatchBinding>,
    /// Activation scale exponent.
    pub scale: u8,
    /// Parameter scale exponent.
    pub param_scale: u8,
    /// The largest relative output error over the calibration samples, as `fidelity` measures it
    /// (`None` for an ArgMax output).
    pub calibration_max_rel_error: Option<f64>,
    /// True when it exceeds `fidelity`'s default threshold.
    pub rel_error_exceeded: bool,
    /// Poseidon commitment of the quantized model.
    pub model_commitment: String,
    /// Per-layer ranges.
    pub layers: Vec<LayerRange>,
}

impl CompileArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        if !self.model.is_file() {
            bail!("{}: no such ONNX file", self.model.display());
        }
        let started = Instant::now();
        out.status(format!("Compiling {} ...", self.model.display()));
        let shapes = (!self.input_shape.is_empty()).then_some(self.input_shape.as_slice());
        let options =
            CalibrationOptions { scale: self.scale, param_scale: self.param_scale, margin: Some(self.margin) };
        let compiled = CompiledModel::compile(&self.model, shapes, &self.calibration, options)?;
        let replaced = compiled.save(&self.out).with_context(|| format!("writing {}", self.out.display()))?;
        if replaced {
            out.status(format!("Replaced the previous compile output in {}", self.out.display()));
        }
        let q = &compiled.quantized;
        // The calibration samples once more through both models: a quantization that loses precision is
        // reported now, not first by `fidelity` or a user.
        let calibration = DataSet::load(&self.calibration, q.input_len())?;
        let check = fidelity_of(&compiled.imported, q, &calibration, DEFAULT_MAX_REL_ERROR)?;
        let report = CompileReport {
            out: self.out.clone(),
            input_shapes: compiled.settings.input_shapes.clone(),
            batch_bound: compiled.settings.batch_bound.clone(),
            scale: q.scales.activation,
            param_scale: q.scales.param,
            calibration_max_rel_error: check.max_rel_error,
            rel_error_exceeded: check.rel_error_exceeded,
            model_commitment: compiled.settings.model_commitment.clone(),
            layers: q.nodes.iter().enumerate().map(|(index, n)| layer(index, n, q.scales.param)).collect(),
        };
        out.result(&report, || {
            let mut text = format!(
                "{:>3}  {:<34} {:<10} {:<14} {:>12} {:>12} {:>5}\n",
                "#", "node", "op", "shape", "calib |max|", "bound", "bits"
            );
            for l in &report.layers {
                text += &format!(
                    "{:>3}  {:<34} {:<10} {:<14} {:>12.4} {:>12} {:>5}\n",
                    l.index,
                    truncate(&l.name, 34),
                    l.op,
                    format!("{:?}", l.shape),
                    l.calibrated_max,
                    l.bound,
                    l.bits
                );
            }
            for b in &report.batch_bound {
                text += &format!(
                    "\ninput {} ('{}'): batch dimension '{}' bound to 1, shape {:?} (--input-shape sets another)",
                    b.input, b.name, b.dim, report.input_shapes[b.input]
                );
            }
            if !report.batch_bound.is_empty() {
                text.push('\n');
            }
            let own: Vec<String> = report
                .layers
                .iter()
                .filter_map(|l| l.own_param_scale.map(|t| format!("#{} {} 2^{t}", l.index, l.op)))
                .collect();
            let own = if own.is_empty() { String::new() } else { format!(" (own: {})", own.join(", ")) };
            text += &format!(
                "\nscales: activations 2^{}, weights 2^{}{own}   commitment: {}",
                report.scale, report.param_scale, report.model_commitment,
            );
            if let Some(err) = report.calibration_max_rel_error {
                text += &format!("\non the calibration data: outputs within {:.4}% of the float model's", err * 100.0);
                if report.rel_error_exceeded {
                    text += &format!(
                        "\nWARNING: that is above {:.0}%: compile with a larger --scale or --param-scale, and check \
                         with `zkml-eth fidelity`",
                        DEFAULT_MAX_REL_ERROR * 100.0
                    );
                }
            }
            text += &format!("\nwrote {} in {:.1}s", report.out.display(), started.elapsed().as_secs_f64());
            text
        })
    }
}

fn layer(index: usize, n: &QNode, model_param: u8) -> LayerRange {
    LayerRange {
        index,
        name: n.name.clone(),
        op: n.op_name.clone(),
        shape: n.shape.clone(),
        calibrated_max: n.calibrated_max,
        bound: n.bound,
        bits: n.bits(),
        own_param_scale: Some(n.op.param_scale(model_param)).filter(|t| *t != model_param),
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(width - 1).collect::<String>())
    }
}
