//! `zkml-eth fidelity`: how closely the quantized model follows the float one.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use zkml_model::{
    CompiledModel,
    data::DataSet,
    fidelity::{DEFAULT_MAX_REL_ERROR, FidelityReport, ImageFidelity, fidelity_of, image_fidelity},
};

use crate::output::Output;

/// Compare the quantized model with the float model on a (labelled) data set.
///
/// Reports accuracy, argmax agreement and output errors. The relative error of a sample is its largest
/// output deviation divided by its largest float output magnitude; a maximum above --max-rel-error is
/// flagged (marked in the text, `relErrorExceeded` in --json). The exit status stays 0 for a flagged
/// report (it is a finding, not a failure to evaluate): scripts read `relErrorExceeded`.
///
/// For a generator (--image), both models' outputs are also drawn as pixels (docs/encodings.md) and
/// compared pixel by pixel; --judge shows both images to a classifier and compares its classes with each
/// other and with the labels (the class each sample asked for).
///
/// Examples:
///   zkml-eth fidelity target/digits-mlp --data examples/digits/test.json
///   zkml-eth --json fidelity target/digits-cnn --data examples/digits/test.json
///   zkml-eth fidelity target/pixel-art --data examples/pixel-art/test.json --judge target/digits-mlp
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct FidelityArgs {
    /// A directory written by `zkml-eth compile`.
    dir: PathBuf,
    /// Data: JSON {"inputs": [[...], ...], "labels": [...]} (labels optional).
    #[arg(long, value_name = "DATA.json")]
    data: PathBuf,
    /// Flag a relative output error above this many percent.
    #[arg(long, value_name = "PERCENT", default_value_t = DEFAULT_MAX_REL_ERROR * 100.0, value_parser = parse_percent)]
    max_rel_error: f64,
    /// The outputs are an image: compare the pixels the float and quantized outputs draw.
    #[arg(long)]
    image: bool,
    /// A compiled classifier of such images (implies --image), e.g. the digits MLP for pixel-art.
    #[arg(long, value_name = "DIR")]
    judge: Option<PathBuf>,
}

/// The report: the output comparison, and the image comparison with --image.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    #[serde(flatten)]
    outputs: FidelityReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<ImageFidelity>,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().trim_end_matches('%').parse().map_err(|_| format!("'{s}' is not a percentage"))?;
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(format!("'{s}' is not a percentage >= 0")) }
}

impl FidelityArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let model = CompiledModel::load(&self.dir)
            .with_context(|| format!("loading the compiled model in {}", self.dir.display()))?;
        let data = DataSet::load(&self.data, model.quantized.input_len())?;
        out.status(format!("Evaluating {} samples ...", data.inputs.len()));
        let report = fidelity_of(&model.imported, &model.quantized, &data, self.max_rel_error / 100.0)?;
        let judge = self
            .judge
            .as_ref()
            .map(|dir| {
                CompiledModel::load(dir).with_context(|| format!("loading the judge model in {}", dir.display()))
            })
            .transpose()?;
        let image = (self.image || judge.is_some())
            .then(|| image_fidelity(&model.imported, &model.quantized, &data, judge.as_ref()))
            .transpose()?;
        let full = Report { outputs: report, image };
        let report = &full.outputs;
        out.result(&full, || {
            let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", v * 100.0));
            let mut rows = vec![("samples".to_string(), report.samples.to_string())];
            if full.image.is_none() {
                rows.push(("float accuracy".into(), pct(report.float_accuracy)));
                rows.push(("quantized accuracy".into(), pct(report.quantized_accuracy)));
            }
            // Over an image's pixels, argmax agreement means nothing: the image block measures it instead.
            if report.classification && full.image.is_none() {
                rows.push(("argmax agreement".into(), format!("{}/{}", report.argmax_agree, report.samples)));
                rows.push(("agreement rate".into(), format!("{:.2}%", report.argmax_agreement * 100.0)));
            }
            rows.push(("max |output error|".into(), format!("{:.6}", report.max_abs_error)));
            rows.push(("mean |output error|".into(), format!("{:.6}", report.mean_abs_error)));
            if let (Some(max), Some(mean)) = (report.max_rel_error, report.mean_rel_error) {
                let mark = if report.rel_error_exceeded { "  EXCEEDS" } else { "" };
                let threshold = format!(" (threshold {:.2}%){mark}", report.rel_error_threshold * 100.0);
                rows.push(("max relative error".into(), format!("{:.4}%{threshold}", max * 100.0)));
                rows.push(("mean relative error".into(), format!("{:.4}%", mean * 100.0)));
            }
            rows.push(("scales (act, weight)".into(), format!("2^{}, 2^{}", report.scale, report.param_scale)));
            rows.push(("out of calibrated range".into(), report.out_of_range.to_string()));
            if let Some(image) = &full.image {
                rows.push(("max pixel error".into(), format!("{} / 255", image.max_pixel_error)));
                rows.push(("mean pixel error".into(), format!("{:.4}", image.mean_pixel_error)));
                rows.push(("pixels differing".into(), format!("{:.2}%", image.pixels_differing * 100.0)));
                if let Some(judge) = &image.judge {
                    rows.push(("judge: same class".into(), format!("{}/{}", judge.agree, image.images)));
                    rows.push(("judge: float images".into(), pct(judge.float_accuracy)));
                    rows.push(("judge: quantized images".into(), pct(judge.quantized_accuracy)));
                }
            }
            let mut text: String = rows.iter().map(|(k, v)| format!("{k:<24} {v:>12}\n")).collect();
            if let (true, Some(max)) = (report.rel_error_exceeded, report.max_rel_error) {
                text += &format!(
                    "\nWARNING: the quantized outputs are up to {:.2}% off the float model's (sample {}), above the \
                     {:.2}% threshold: compile again with a larger --scale or --param-scale, or calibrate on data \
                     closer to this set (--max-rel-error sets the threshold)\n",
                    max * 100.0,
                    report.max_rel_error_sample.unwrap_or(0),
                    report.rel_error_threshold * 100.0
                );
            }
            if let Some(first) = &report.first_out_of_range {
                text += &format!("\n{} sample(s) could not be proved; the first: {first}\n", report.out_of_range);
            }
            text.trim_end().to_string()
        })
    }
}
