//! The float reference: tract's simplified model, run on the same flattened inputs as the integer executor.

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::{
    error::{Error, Result},
    import::ImportedModel,
};

/// Runs tract's float model and returns chosen values as flat f32 vectors.
#[derive(Debug, Clone)]
pub struct FloatRunner {
    plan: Arc<TypedRunnableModel>,
    input_shapes: Vec<Vec<usize>>,
    /// The datum type of each input: f32, or an integer type for token ids.
    input_types: Vec<DatumType>,
}

impl FloatRunner {
    /// A runner returning the model outputs.
    pub fn outputs(model: &ImportedModel) -> Result<Self> {
        let outlets = model.typed.output_outlets().map_err(float_error)?.to_vec();
        Self::with_outlets(model, &outlets)
    }

    /// A runner returning the values at `outlets` (used by calibration to observe every node).
    pub(crate) fn with_outlets(model: &ImportedModel, outlets: &[OutletId]) -> Result<Self> {
        let plan =
            model.typed.clone().with_output_outlets(outlets).and_then(|m| m.into_runnable()).map_err(float_error)?;
        let input_types = model
            .typed
            .input_outlets()
            .map_err(float_error)?
            .iter()
            .map(|o| model.typed.outlet_fact(*o).map(|f| f.datum_type))
            .collect::<TractResult<Vec<_>>>()
            .map_err(float_error)?;
        Ok(Self { plan, input_shapes: model.graph.input_shapes(), input_types })
    }

    /// Runs one flattened sample (all inputs concatenated in model order).
    pub fn run(&self, sample: &[f32]) -> Result<Vec<Vec<f32>>> {
        let expected: usize = self.input_shapes.iter().map(|s| s.iter().product::<usize>()).sum();
        if sample.len() != expected {
            return Err(Error::Input(format!("expected {expected} values, got {}", sample.len())));
        }
        let mut inputs = TVec::new();
        let mut offset = 0;
        for (shape, dt) in self.input_shapes.iter().zip(&self.input_types) {
            let len: usize = shape.iter().product();
            let t =
                tract_onnx::prelude::Tensor::from_shape(shape, &sample[offset..offset + len]).map_err(float_error)?;
            // Token ids arrive as numbers like every input; the model reads them as integers.
            let t = if *dt == f32::datum_type() { t } else { t.cast_to_dt(*dt).map_err(float_error)?.into_owned() };
            inputs.push(t.into_tvalue());
            offset += len;
        }
        let outputs = self.plan.run(inputs).map_err(float_error)?;
        outputs
            .iter()
            .map(|v| {
                let cast = v.cast_to::<f32>().map_err(float_error)?;
                let view = cast.to_plain_array_view::<f32>().map_err(float_error)?;
                Ok(view.iter().copied().collect())
            })
            .collect()
    }
}

fn float_error(e: TractError) -> Error {
    Error::Float(format!("{e:#}"))
}
