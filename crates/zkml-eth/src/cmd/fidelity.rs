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
            let mut rows = vec![
                ("samples".to_string(), report.samples.to_string()),
                ("float accuracy".into(), pct(report.float_accuracy)),
                ("quantized accuracy".into(), pct(report.quantized_accuracy)),
            ];
            if report.classification {
                rows.push(("argmax agreement".into(), format!("{}/{}", report.argmax_agree, report.samples)));
                rows.push(("agreement rate".into(), format!("{:.2}%", report.argmax_agreement * 100.0)));
            }
            rows.push(("max |output error|".into(), format!("{:.6}", report.max_abs_error)));
            rows.push(("mean |output error|".into(), format!("{:.6}", report.mean_abs_error)));
            rows.push(("scales (act, weight)".into(), format!("2^{}, 2^{}", report.scale, report.param_scale)));
            rows.push(("out of calibrated range".into(), report.out_of_range.to_string()));
            let mut text: String = rows.iter().map(|(k, v)| format!("{k:<24} {v:>12}\n")).collect();
            if let Some(first) = &report.first_out_of_range {
                text += &format!("\n{} sample(s) could not be proved; the first: {first}\n", report.out_of_range);
            }
            text.trim_end().to_string()
        })
    }
}
