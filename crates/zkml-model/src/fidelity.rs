//! How closely the quantized model follows the float one over a (labelled) data set.
//!
//! Besides accuracy and argmax agreement, the relative error of each sample's output is measured as
//! `max_i |float_i - quantized_i| / max_i |float_i|` (the largest deviation against the output's own
//! magnitude, so outputs near zero do not blow it up), and flagged when it exceeds a threshold
//! ([`DEFAULT_MAX_REL_ERROR`] unless given): a model whose quantization loses precision (a small constant
//! at too coarse a scale, say) must not pass for one that follows its float model.

use serde::Serialize;

use crate::{
    artifact::CompiledModel,
    data::DataSet,
    error::{Error, Result},
    exec::{execute, outputs_real},
    float::FloatRunner,
    import::ImportedModel,
    quantize::QuantizedModel,
};

/// The relative output error above which a report is flagged: 1%.
pub const DEFAULT_MAX_REL_ERROR: f64 = 0.01;

/// The fidelity of a quantized model on a data set (first model output).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FidelityReport {
    /// Samples evaluated.
    pub samples: usize,
    /// Samples the quantized model refused because a value left its calibrated range (counted as
    /// disagreeing: they could not be proved).
    pub out_of_range: usize,
    /// The first such refusal, to say where and by how much.
    pub first_out_of_range: Option<String>,
    /// False when the output has a single value (a regression): argmax agreement means nothing then.
    pub classification: bool,
    /// Float accuracy against the labels.
    pub float_accuracy: Option<f64>,
    /// Quantized accuracy against the labels.
    pub quantized_accuracy: Option<f64>,
    /// Samples where the float and quantized argmax agree.
    pub argmax_agree: usize,
    /// `argmax_agree / samples`.
    pub argmax_agreement: f64,
    /// Largest |float - quantized| output difference, in real units.
    pub max_abs_error: f64,
    /// Mean |float - quantized| output difference.
    pub mean_abs_error: f64,
    /// The largest relative error of a sample's output (see the module docs), as a fraction; `None` for
    /// an output of class indices (ArgMax), where argmax agreement is the measure.
    pub max_rel_error: Option<f64>,
    /// The sample with that error.
    pub max_rel_error_sample: Option<usize>,
    /// The mean relative error over the samples, as a fraction.
    pub mean_rel_error: Option<f64>,
    /// The threshold the relative error is held to, as a fraction.
    pub rel_error_threshold: f64,
    /// True when `max_rel_error` exceeds `rel_error_threshold`.
    pub rel_error_exceeded: bool,
    /// The activation scale exponent.
    pub scale: u8,
    /// The parameter scale exponent.
    pub param_scale: u8,
}

/// Index of the first maximum (ties resolve to the lowest index, as ArgMax does).
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// The class a model output stands for: the index itself for an ArgMax output, else the argmax.
fn class_of(output: &[f64], is_index: bool) -> usize {
    if is_index { output.first().copied().unwrap_or(0.0) as usize } else { argmax(output) }
}

/// Runs both models on every sample, flagging a relative error above [`DEFAULT_MAX_REL_ERROR`].
pub fn fidelity(model: &CompiledModel, data: &DataSet) -> Result<FidelityReport> {
    fidelity_of(&model.imported, &model.quantized, data, DEFAULT_MAX_REL_ERROR)
}

/// Runs the float model `imported` and its quantization `q` on every sample; a relative error above
/// `max_rel_error` (a fraction) is flagged.
pub fn fidelity_of(
    imported: &ImportedModel,
    q: &QuantizedModel,
    data: &DataSet,
    max_rel_error: f64,
) -> Result<FidelityReport> {
    if !(max_rel_error >= 0.0 && max_rel_error.is_finite()) {
        return Err(Error::Input(format!("the relative error threshold must be a fraction >= 0, got {max_rel_error}")));
    }
    let runner = FloatRunner::outputs(imported)?;
    let output = &q.nodes[q.outputs[0]];
    let is_index = output.is_index();
    let classification = is_index || output.shape.iter().product::<usize>() > 1;
    let (mut out_of_range, mut first_out_of_range) = (0usize, None);
    if let Some(labels) = &data.labels
        && classification
    {
        // An index output names classes up to its bound; otherwise each output value is one class.
        let classes = if is_index { output.bound + 1 } else { output.shape.iter().product::<usize>() as i64 };
        if let Some((i, label)) = labels.iter().enumerate().find(|(_, l)| !(0..classes).contains(*l)) {
            return Err(Error::Input(format!(
                "label {label} of sample {i} is not a class of this model (0..{})",
                classes - 1
            )));
        }
    }

    let (mut agree, mut float_correct, mut quant_correct) = (0usize, 0usize, 0usize);
    let (mut max_err, mut sum_err, mut count) = (0f64, 0f64, 0usize);
    let (mut max_rel, mut max_rel_sample, mut sum_rel, mut rel_count) = (0f64, None, 0f64, 0usize);
    // One step of the output's fixed point: below it, a float output is zero to the quantized model.
    let step = 1.0 / (1u64 << output.scale) as f64;
    for (i, sample) in data.inputs.iter().enumerate() {
        let label = data.labels.as_ref().map(|labels| labels[i]);
        let float: Vec<f64> = runner.run(sample)?[0].iter().map(|v| *v as f64).collect();
        let fc = class_of(&float, is_index);
        float_correct += usize::from(label == Some(fc as i64));
        let values = match execute(q, sample) {
            Ok(values) => values,
            Err(e @ Error::OutOfRange { .. }) => {
                out_of_range += 1;
                first_out_of_range.get_or_insert_with(|| format!("sample {i}: {e}"));
                continue;
            }
            Err(e) => return Err(Error::Input(format!("sample {i}: {e}"))),
        };
        let quant = &outputs_real(q, &values)[0];
        let mut sample_err = 0f64;
        for (f, qv) in float.iter().zip(quant) {
            let err = (f - qv).abs();
            max_err = max_err.max(err);
            sample_err = sample_err.max(err);
            sum_err += err;
            count += 1;
        }
        if !is_index {
            let magnitude = float.iter().fold(0f64, |m, f| m.max(f.abs())).max(step);
            let rel = sample_err / magnitude;
            if max_rel_sample.is_none() || rel > max_rel {
                (max_rel, max_rel_sample) = (rel, Some(i));
            }
            sum_rel += rel;
            rel_count += 1;
        }
        let qc = class_of(quant, is_index);
        agree += usize::from(fc == qc);
        quant_correct += usize::from(label == Some(qc as i64));
    }
    let n = data.inputs.len();
    let rate = |k: usize| k as f64 / n as f64;
    Ok(FidelityReport {
        samples: n,
        out_of_range,
        first_out_of_range,
        classification,
        float_accuracy: data.labels.as_ref().map(|_| rate(float_correct)),
        quantized_accuracy: data.labels.as_ref().map(|_| rate(quant_correct)),
        argmax_agree: agree,
        argmax_agreement: rate(agree),
        max_abs_error: max_err,
        mean_abs_error: if count == 0 { 0.0 } else { sum_err / count as f64 },
        max_rel_error: max_rel_sample.map(|_| max_rel),
        max_rel_error_sample: max_rel_sample,
        mean_rel_error: (rel_count > 0).then(|| sum_rel / rel_count as f64),
        rel_error_threshold: max_rel_error,
        rel_error_exceeded: max_rel_sample.is_some() && max_rel > max_rel_error,
        scale: q.scales.activation,
        param_scale: q.scales.param,
    })
}

/// How a generator's images survive quantization: the float model's outputs and the quantized model's,
/// both drawn with the pixel rule of `docs/encodings.md` (intensity `clamp(round(y · 255), 0, 255)`),
/// compared pixel by pixel, and optionally both shown to a classifier (the judge).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFidelity {
    /// Images compared (samples the quantized model refused are left out and counted in the main report).
    pub images: usize,
    /// Largest pixel difference, in intensity steps (0..255).
    pub max_pixel_error: u8,
    /// Mean pixel difference over every pixel of every image.
    pub mean_pixel_error: f64,
    /// Pixels that differ at all, as a fraction.
    pub pixels_differing: f64,
    /// The judge's verdicts, when one was given.
    pub judge: Option<JudgeReport>,
}

/// The classes a classifier assigns to the float and to the quantized images.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeReport {
    /// Images whose two renderings get the same class.
    pub agree: usize,
    /// The float images' class is the label (the class the prompt asked for), as a fraction.
    pub float_accuracy: Option<f64>,
    /// The quantized images' class is the label, as a fraction.
    pub quantized_accuracy: Option<f64>,
}

/// A float output's pixel intensity: `clamp(round_half_away(y · 255), 0, 255)`.
fn float_pixel(y: f64) -> u8 {
    (y * 255.0).round().clamp(0.0, 255.0) as u8
}

/// Compares the images the float model `imported` and its quantization `q` draw for every sample; with a
/// `judge` (a classifier whose input is such an image, in real units), also the classes it assigns them
/// (with its float model, so only the generator's quantization differs).
pub fn image_fidelity(
    imported: &ImportedModel,
    q: &QuantizedModel,
    data: &DataSet,
    judge: Option<&CompiledModel>,
) -> Result<ImageFidelity> {
    let runner = FloatRunner::outputs(imported)?;
    let output = &q.nodes[q.outputs[0]];
    let pixels_per_image = output.shape.iter().product::<usize>();
    let judge_runner = judge
        .map(|j| {
            let inputs = j.quantized.input_len();
            if inputs != pixels_per_image {
                return Err(Error::Input(format!(
                    "the judge takes {inputs} inputs but an image has {pixels_per_image} pixels"
                )));
            }
            FloatRunner::outputs(&j.imported)
        })
        .transpose()?;
    let (mut images, mut max_err, mut sum_err, mut differing) = (0usize, 0u8, 0u64, 0usize);
    let (mut agree, mut float_correct, mut quant_correct) = (0usize, 0usize, 0usize);
    for (i, sample) in data.inputs.iter().enumerate() {
        let values = match execute(q, sample) {
            Ok(values) => values,
            Err(Error::OutOfRange { .. }) => continue,
            Err(e) => return Err(Error::Input(format!("sample {i}: {e}"))),
        };
        let float = &runner.run(sample)?[0];
        let quantized = &values[q.outputs[0]].data;
        let float_pixels: Vec<u8> = float.iter().map(|y| float_pixel(f64::from(*y))).collect();
        let quant_pixels = crate::encode::pixels(quantized, output.scale);
        for (f, qp) in float_pixels.iter().zip(&quant_pixels) {
            let err = f.abs_diff(*qp);
            max_err = max_err.max(err);
            sum_err += u64::from(err);
            differing += usize::from(err != 0);
        }
        images += 1;
        if let Some(judge) = &judge_runner {
            let as_real = |pixels: &[u8]| -> Vec<f32> { pixels.iter().map(|v| f32::from(*v) / 255.0).collect() };
            let fc = argmax(&judge.run(&as_real(&float_pixels))?[0].iter().map(|v| f64::from(*v)).collect::<Vec<_>>());
            let qc = argmax(&judge.run(&as_real(&quant_pixels))?[0].iter().map(|v| f64::from(*v)).collect::<Vec<_>>());
            let label = data.labels.as_ref().map(|labels| labels[i]);
            agree += usize::from(fc == qc);
            float_correct += usize::from(label == Some(fc as i64));
            quant_correct += usize::from(label == Some(qc as i64));
        }
    }
    let pixels = (images * pixels_per_image).max(1) as f64;
    let rate = |k: usize| k as f64 / images.max(1) as f64;
    Ok(ImageFidelity {
        images,
        max_pixel_error: max_err,
        mean_pixel_error: sum_err as f64 / pixels,
        pixels_differing: differing as f64 / pixels,
        judge: judge_runner.map(|_| JudgeReport {
            agree,
            float_accuracy: data.labels.as_ref().map(|_| rate(float_correct)),
            quantized_accuracy: data.labels.as_ref().map(|_| rate(quant_correct)),
        }),
    })
}
