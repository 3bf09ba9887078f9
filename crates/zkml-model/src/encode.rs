//! The encodings a contract recomputes (`docs/encodings.md`): a price feed's answers -> the eth-price
//! model's inputs, an EIP-7007 prompt -> the pixel-art model's inputs, its outputs <-> `aigcData` ->
//! pixel intensities.
//!
//! They are written once per language (Python in the examples, these functions, Solidity in the
//! contracts) and pinned by the fixtures under `test/fixtures/encodings/`, so every value here is an exact
//! integer computation: the contracts must reach the same integers or the proof's instances differ.

use std::fmt::Write as _;

/// A value the encodings refuse, named by where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A feed answer outside `(0, 2^96)`.
    #[error("feed answer {index} is {value}: answers must be positive and below 2^{MAX_ANSWER_BITS}")]
    Answer {
        /// Its position among the answers given (0-based, oldest first).
        index: usize,
        /// The answer, as given.
        value: String,
    },
    /// Not `window + 1` answers.
    #[error("{given} feed answers given: a window of {window} returns needs {} consecutive answers", window + 1)]
    AnswerCount {
        /// Answers given.
        given: usize,
        /// Returns in the window.
        window: usize,
    },
    /// A prompt of another length than [`PixelPrompt::LEN`].
    #[error(
        "the prompt is {len} bytes; a prompt is exactly {} bytes (a class, then {} signed latents)",
        PixelPrompt::LEN,
        PixelPrompt::LATENTS
    )]
    PromptLength {
        /// Its length (the index of the first missing or extra byte).
        len: usize,
    },
    /// A prompt byte that is not part of the encoding.
    #[error("prompt byte {byte}: {reason}")]
    Prompt {
        /// The byte's index.
        byte: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// `aigcData` that does not hold exactly the model's outputs.
    #[error("aigcData: {0}")]
    AigcData(String),
    /// An output value that does not fit a 4-byte `aigcData` word.
    #[error("output {index} is {value}, which does not fit a signed 32-bit aigcData word")]
    Output {
        /// The output's index.
        index: usize,
        /// The value.
        value: i64,
    },
    /// The scale is not one the encoding can represent exactly.
    #[error("scale 2^{scale}: {reason}")]
    Scale {
        /// The scale exponent.
        scale: u8,
        /// Why it does not work.
        reason: String,
    },
}

/// `a / b` rounded half away from zero, for `b > 0`: `sign(a) · floor((2|a| + b) / 2b)`.
fn rdiv(a: i128, b: i128) -> i128 {
    debug_assert!(b > 0);
    let q = (2 * a.abs() + b) / (2 * b);
    if a < 0 { -q } else { q }
}

/// Bits below which every feed answer lies, so products of the feature formula stay within 128 bits.
pub const MAX_ANSWER_BITS: u32 = 96;

/// The price-feed -> model-input encoding of `examples/eth-price`: the last `window` returns of a
/// Chainlink-style feed, in percent, at the model's input scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceFeatures {
    /// Returns in a window (answers: one more).
    pub window: usize,
    /// Multiplier of the return (100: percent).
    pub multiplier: u32,
    /// The model's input scale exponent `S`: `x_i` is the return at `2^S`.
    pub scale: u8,
}

impl PriceFeatures {
    /// The eth-price example's window.
    pub const WINDOW: usize = 12;
    /// The eth-price example's multiplier (returns in percent).
    pub const MULTIPLIER: u32 = 100;

    /// The eth-price example's encoding at input scale `2^scale`.
    pub const fn eth_price(scale: u8) -> Self {
        Self { window: Self::WINDOW, multiplier: Self::MULTIPLIER, scale }
    }

    /// Answers needed: one before every return.
    pub const fn answers_needed(&self) -> usize {
        self.window + 1
    }

    /// `x_i = rdiv((p_i - p_{i-1}) · M · 2^S, p_{i-1})` for `i = 1..window`, from exactly `window + 1`
    /// answers `p_0..p_window`, oldest first. These are the quantized inputs the proof's input section
    /// holds.
    pub fn inputs(&self, answers: &[i128]) -> Result<Vec<i64>, EncodeError> {
        if answers.len() != self.answers_needed() {
            return Err(EncodeError::AnswerCount { given: answers.len(), window: self.window });
        }
        // 2 · |p_i - p_{i-1}| · M · 2^S (rdiv doubles it) must stay below 2^127 for answers below 2^96.
        let multiplier_bits = u32::BITS - self.multiplier.leading_zeros();
        if MAX_ANSWER_BITS + 1 + multiplier_bits + u32::from(self.scale) > 127 {
            return Err(EncodeError::Scale {
                scale: self.scale,
                reason: format!("with multiplier {} the feature formula could overflow 128 bits", self.multiplier),
            });
        }
        if let Some((index, p)) = answers.iter().enumerate().find(|(_, p)| **p <= 0 || **p >> MAX_ANSWER_BITS != 0) {
            return Err(EncodeError::Answer { index, value: p.to_string() });
        }
        let factor = i128::from(self.multiplier) << self.scale;
        answers
            .windows(2)
            .map(|pair| {
                let x = rdiv((pair[1] - pair[0]) * factor, pair[0]);
                // A jump from 1 to 2^96 is a finite, absurd return; the model's range check refuses such
                // values at proving time, this only keeps the integer type honest.
                i64::try_from(x).map_err(|_| EncodeError::Scale {
                    scale: self.scale,
                    reason: format!("the return {} -> {} does not fit a 64-bit input", pair[0], pair[1]),
                })
            })
            .collect()
    }
}

/// An EIP-7007 prompt of `examples/pixel-art`: a digit class and four signed latent values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelPrompt {
    /// The digit to draw, 0..9.
    pub class: u8,
    /// Latents in sixteenths of a standard deviation.
    pub latents: [i8; PixelPrompt::LATENTS],
}

impl PixelPrompt {
    /// Latent values in a prompt.
    pub const LATENTS: usize = 4;
    /// Prompt length in bytes: the class, then the latents.
    pub const LEN: usize = 1 + Self::LATENTS;
    /// Digit classes.
    pub const CLASSES: usize = 10;
    /// Model inputs: the one-hot class, then the latents.
    pub const INPUTS: usize = Self::CLASSES + Self::LATENTS;
    /// A latent `z` is the real input `z / 2^LATENT_FRACTION_BITS`.
    pub const LATENT_FRACTION_BITS: u8 = 4;

    /// Decodes prompt bytes, refusing any other length or a class above 9.
    pub fn decode(prompt: &[u8]) -> Result<Self, EncodeError> {
        if prompt.len() != Self::LEN {
            return Err(EncodeError::PromptLength { len: prompt.len() });
        }
        let class = prompt[0];
        if usize::from(class) >= Self::CLASSES {
            return Err(EncodeError::Prompt { byte: 0, reason: format!("the class is {class}; classes are 0..9") });
        }
        let mut latents = [0i8; Self::LATENTS];
        for (latent, byte) in latents.iter_mut().zip(&prompt[1..]) {
            *latent = i8::from_ne_bytes([*byte]);
        }
        Ok(Self { class, latents })
    }

    /// The prompt's bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut bytes = [0u8; Self::LEN];
        bytes[0] = self.class;
        for (byte, latent) in bytes[1..].iter_mut().zip(self.latents) {
            *byte = latent.to_ne_bytes()[0];
        }
        bytes
    }

    /// The model's quantized inputs at `2^scale`: one-hot `2^S` or 0, then `z · 2^(S-4)`.
    pub fn inputs(&self, scale: u8) -> Result<Vec<i64>, EncodeError> {
        if !(Self::LATENT_FRACTION_BITS..=40).contains(&scale) {
            return Err(EncodeError::Scale {
                scale,
                reason: format!(
                    "latents in 1/{} steps need an input scale of at least 2^{}",
                    1 << Self::LATENT_FRACTION_BITS,
                    Self::LATENT_FRACTION_BITS
                ),
            });
        }
        let one = 1i64 << scale;
        let one_hot = (0..Self::CLASSES).map(|c| if c == usize::from(self.class) { one } else { 0 });
        let latents = self.latents.iter().map(|z| i64::from(*z) << (scale - Self::LATENT_FRACTION_BITS));
        Ok(one_hot.chain(latents).collect())
    }

    /// The prompt whose model inputs at `2^scale` are exactly `inputs` (the inverse of [`Self::inputs`]), or
    /// `None` when they are no prompt's: a proof's public inputs give back the prompt it was made for.
    pub fn from_inputs(inputs: &[i64], scale: u8) -> Option<Self> {
        if inputs.len() != Self::INPUTS || scale < Self::LATENT_FRACTION_BITS {
            return None;
        }
        let class = inputs[..Self::CLASSES].iter().position(|v| *v != 0)?;
        let mut latents = [0i8; Self::LATENTS];
        for (latent, v) in latents.iter_mut().zip(&inputs[Self::CLASSES..]) {
            *latent = i8::try_from(v >> (scale - Self::LATENT_FRACTION_BITS)).ok()?;
        }
        let prompt = Self { class: u8::try_from(class).ok()?, latents };
        // Exact inverse or nothing: the prompt must encode back to these very inputs.
        (prompt.inputs(scale).ok().as_deref() == Some(inputs)).then_some(prompt)
    }
}

/// Bytes per output value in `aigcData`.
pub const AIGC_WORD_BYTES: usize = 4;

/// `aigcData`: every quantized output as a 4-byte big-endian two's-complement integer.
pub fn aigc_data(outputs: &[i64]) -> Result<Vec<u8>, EncodeError> {
    let mut bytes = Vec::with_capacity(outputs.len() * AIGC_WORD_BYTES);
    for (index, value) in outputs.iter().enumerate() {
        let word = i32::try_from(*value).map_err(|_| EncodeError::Output { index, value: *value })?;
        bytes.extend_from_slice(&word.to_be_bytes());
    }
    Ok(bytes)
}

/// The quantized outputs `aigcData` holds; it must hold exactly `count` of them.
pub fn outputs_from_aigc_data(aigc_data: &[u8], count: usize) -> Result<Vec<i64>, EncodeError> {
    if aigc_data.len() != count * AIGC_WORD_BYTES {
        return Err(EncodeError::AigcData(format!(
            "{} bytes; the model's {count} outputs take exactly {} ({AIGC_WORD_BYTES} bytes each)",
            aigc_data.len(),
            count * AIGC_WORD_BYTES
        )));
    }
    Ok(aigc_data
        .chunks_exact(AIGC_WORD_BYTES)
        .map(|word| i64::from(i32::from_be_bytes([word[0], word[1], word[2], word[3]])))
        .collect())
}

/// Pixel intensities of quantized outputs at `2^scale`: `clamp(rdiv(q · 255, 2^S), 0, 255)`.
pub fn pixels(outputs: &[i64], scale: u8) -> Vec<u8> {
    let denominator = 1i128 << scale;
    outputs
        .iter()
        .map(|q| {
            let v = rdiv(i128::from(*q) * 255, denominator).clamp(0, 255);
            v as u8 // clamped to 0..=255 just above
        })
        .collect()
}

/// An SVG of a grayscale image (row-major intensities, 0 black .. 255 white): one square per pixel, the
/// drawing a `tokenURI` returns, with `crispEdges` so scaled pixels stay square.
pub fn svg(pixels: &[u8], width: usize) -> String {
    let height = pixels.len().div_ceil(width.max(1));
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{}\" height=\"{}\" shape-rendering=\"crispEdges\">",
        width * 32,
        height * 32
    );
    for (k, v) in pixels.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"1\" height=\"1\" fill=\"rgb({v},{v},{v})\"/>",
            k % width,
            k / width
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdiv_rounds_half_away_from_zero() {
        assert_eq!([rdiv(5, 2), rdiv(-5, 2), rdiv(4, 3), rdiv(-4, 3), rdiv(7, 2), rdiv(0, 9)], [3, -3, 1, -1, 4, 0]);
    }

    #[test]
    fn price_features_check_answers() {
        let f = PriceFeatures::eth_price(12);
        let mut answers = vec![300_000_000_000i128; 13];
        assert_eq!(f.inputs(&answers).unwrap(), vec![0; 12]);
        answers[12] = 303_000_000_000; // +1%: 100 · 2^12 / 100
        assert_eq!(f.inputs(&answers).unwrap()[11], 4096);
        answers[5] = 0;
        assert_eq!(f.inputs(&answers), Err(EncodeError::Answer { index: 5, value: "0".into() }));
        answers[5] = 1 << 96;
        assert!(matches!(f.inputs(&answers), Err(EncodeError::Answer { index: 5, .. })));
        assert!(matches!(f.inputs(&answers[1..]), Err(EncodeError::AnswerCount { given: 12, window: 12 })));
    }

    #[test]
    fn prompt_is_read_back_from_its_inputs_only() {
        let prompt = PixelPrompt { class: 3, latents: [16, -16, 0, 127] };
        let inputs = prompt.inputs(12).unwrap();
        assert_eq!(PixelPrompt::from_inputs(&inputs, 12), Some(prompt));
        let mut other = inputs.clone();
        other[11] += 1; // between two latent steps
        assert_eq!(PixelPrompt::from_inputs(&other, 12), None);
        assert_eq!(PixelPrompt::from_inputs(&inputs[1..], 12), None);
    }

    #[test]
    fn prompt_round_trips_and_refuses_bad_bytes() {
        let prompt = PixelPrompt::decode(&[7, 0x10, 0xf0, 0x80, 0x7f]).unwrap();
        assert_eq!(prompt.latents, [16, -16, -128, 127]);
        assert_eq!(prompt.encode(), [7, 0x10, 0xf0, 0x80, 0x7f]);
        let inputs = prompt.inputs(12).unwrap();
        assert_eq!(inputs[7], 4096);
        assert_eq!(&inputs[10..], &[4096, -4096, -32768, 32512]);
        assert!(matches!(PixelPrompt::decode(&[10, 0, 0, 0, 0]), Err(EncodeError::Prompt { byte: 0, .. })));
        assert!(matches!(PixelPrompt::decode(&[1, 0, 0, 0]), Err(EncodeError::PromptLength { len: 4 })));
    }

    #[test]
    fn aigc_data_round_trips_and_pixels_clamp() {
        let outputs = [0, -1, 4096, 4097, 2_147_483_647, -2_147_483_648];
        let bytes = aigc_data(&outputs).unwrap();
        assert_eq!(&bytes[4..8], &[0xff; 4]);
        assert_eq!(outputs_from_aigc_data(&bytes, 6).unwrap(), outputs);
        assert!(outputs_from_aigc_data(&bytes, 5).is_err());
        assert_eq!(aigc_data(&[1 << 31]), Err(EncodeError::Output { index: 0, value: 1 << 31 }));
        assert_eq!(pixels(&outputs, 12), vec![0, 0, 255, 255, 255, 0]);
    }
}
