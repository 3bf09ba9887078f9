//! Data files: JSON `{"inputs": [[...], ...], "labels": [...]}`; each input is the model input(s)
//! flattened row-major in input order; labels are optional and other keys are ignored.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Samples read from a data file.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSet {
    /// One flattened input per sample.
    pub inputs: Vec<Vec<f32>>,
    /// One class label per sample, when the file has them.
    pub labels: Option<Vec<i64>>,
}

#[derive(Deserialize)]
struct RawDataSet {
    inputs: Vec<Vec<f64>>,
    #[serde(default)]
    labels: Option<Vec<i64>>,
}

impl DataSet {
    /// Reads and checks a data file; every sample must have `input_len` values.
    pub fn load(path: &Path, input_len: usize) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let data_error = |reason: String| Error::Data { path: path.to_path_buf(), reason };
        let raw: RawDataSet = serde_json::from_str(&text)
            .map_err(|e| data_error(format!("expected {{\"inputs\": [[numbers...], ...], \"labels\": [...]}}: {e}")))?;
        if raw.inputs.is_empty() {
            return Err(data_error("\"inputs\" is empty".into()));
        }
        for (i, sample) in raw.inputs.iter().enumerate() {
            if sample.len() != input_len {
                return Err(data_error(format!(
                    "sample {i} has {} values but the model takes {input_len} (all inputs flattened, in input order)",
                    sample.len()
                )));
            }
            if let Some(j) = sample.iter().position(|v| !v.is_finite()) {
                return Err(data_error(format!("sample {i}, value {j} is not a finite number")));
            }
        }
        if let Some(labels) = &raw.labels
            && labels.len() != raw.inputs.len()
        {
            return Err(data_error(format!("{} labels for {} inputs", labels.len(), raw.inputs.len())));
        }
        let inputs = raw.inputs.into_iter().map(|s| s.into_iter().map(|v| v as f32).collect()).collect();
        Ok(Self { inputs, labels: raw.labels })
    }
}
