//! `zkml-eth fidelity`: how closely the quantized model follows the float one.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use zkml_model::{CompiledModel, data::DataSet, fidelity::fidelity};

use crate::output::Output;

/// Compare the quantized model with the float model on a (labelled) data set.
///
/// Examples:
///   zkml-eth fidelity target/digits-mlp --data examples/digits/test.json
///   zkml-eth --json fidelity target/digits-cnn --data examples/digits/test.json
#[derive(Debug, Args)]
pub struct FidelityArgs {
    /// A directory written by `zkml-eth compile`.
    dir: PathBuf,
    /// Data: JSON {"inputs": [[...], ...], "labels": [...]} (labels optional).
    #[arg(long, value_name = "DATA.json")]
    data: PathBuf,
}

impl FidelityArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let model = CompiledModel::load(&self.dir)
            .with_context(|| format!("loading the compiled model in {}", self.dir.display()))?;
        let data = DataSet::load(&self.data, model.quantized.input_len())?;
        out.status(format!("Evaluating {} samples ...", data.inputs.len()));
        let report = fidelity(&model, &data)?;
        out.result(&report, || {
            let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", v * 100.0));
            format!(
                "{:<24} {:>12}\n{:<24} {:>12}\n{:<24} {:>12}\n{:<24} {:>12}\n{:<24} {:>12}\n{:<24} {:>12.6}\n{:<24} {:>12.6}\n{:<24} {:>12}",
                "samples", report.samples,
                "float accuracy", pct(report.float_accuracy),
                "quantized accuracy", pct(report.quantized_accuracy),
                "argmax agreement", format!("{}/{}", report.argmax_agree, report.samples),
                "agreement rate", format!("{:.2}%", report.argmax_agreement * 100.0),
                "max |output error|", report.max_abs_error,
                "mean |output error|", report.mean_abs_error,
                "scales (act, weight)", format!("2^{}, 2^{}", report.scale, report.param_scale),
            )
        })
    }
}
