//! `zkml-eth render`: a proof's outputs drawn as the image an EIP-7007 token shows — an SVG (what the
//! NFT's `tokenURI` returns) and a PNG — and the `aigcData` bytes that carry them on chain.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use zkml_model::encode::{aigc_data, pixels, svg};
use zkml_prover::artifact::{ProofArtifact, decode_outputs, fr_from_hex};

use crate::{
    cmd::input::{hex, write_new},
    output::Output,
};

/// Draw a proof's outputs as a grayscale image: PROOF.svg and PROOF.png next to the proof.
///
/// The outputs are read from the proof's public instances (not from its convenience copy), turned into
/// pixels with docs/encodings.md's rule v = clamp(rdiv(q · 255, 2^S), 0, 255), row-major, 0 black and 255
/// white, and the aigcData that carries them on chain is printed. Rendering does not verify the proof:
/// `zkml-eth verify` does.
///
/// Examples:
///   zkml-eth render proof.json
///   zkml-eth --json render proof.json --width 8 --pixel-size 16 --force
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RenderArgs {
    /// A proof artifact written by `zkml-eth prove`.
    proof: PathBuf,
    /// Image width in pixels; by default the square root of the output count.
    #[arg(long, value_name = "PIXELS")]
    width: Option<usize>,
    /// Side of one image pixel in the PNG.
    #[arg(long, value_name = "PNG_PIXELS", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=256))]
    pixel_size: u32,
    /// Overwrite existing images.
    #[arg(long)]
    force: bool,
}

/// What was drawn (the `--json` report).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rendered {
    svg: PathBuf,
    png: PathBuf,
    width: usize,
    height: usize,
    /// The output scale exponent.
    scale: u8,
    /// Pixel intensities, row-major.
    pixels: Vec<u8>,
    /// The quantized outputs as EIP-7007 `aigcData`, hex.
    aigc_data: String,
}

impl RenderArgs {
    /// Runs the command.
    pub fn run(self, out: Output) -> Result<()> {
        let artifact = ProofArtifact::load(&self.proof)?;
        let instances = artifact
            .instances
            .iter()
            .map(|s| fr_from_hex(s))
            .collect::<Option<Vec<_>>>()
            .with_context(|| format!("{}: an instance is not a field element", self.proof.display()))?;
        let Some(decoded) = decode_outputs(&artifact.layout, &instances) else {
            bail!("{}: the outputs are hashed or not a valid packing: there is nothing to draw", self.proof.display());
        };
        let section = artifact
            .layout
            .section(zkml_circuit::public::SectionKind::Outputs)
            .context("the layout has no output section")?;
        let scale = *section.scales.first().context("the model has no outputs")?;
        if section.scales.iter().any(|s| *s != scale) {
            bail!("{}: outputs at different scales cannot be drawn as one image", self.proof.display());
        }
        let count = decoded.quantized.len();
        let width = match self.width {
            Some(w) if w > 0 && count % w == 0 => w,
            Some(w) => bail!("--width {w} does not divide the {count} outputs into rows"),
            None => {
                let side = (count as f64).sqrt().round() as usize;
                if side * side != count {
                    bail!("{count} outputs are not a square image: give --width");
                }
                side
            }
        };
        let height = count / width;
        let pixels = pixels(&decoded.quantized, scale);
        let aigc = aigc_data(&decoded.quantized)?;
        let (svg_path, png_path) = (self.proof.with_extension("svg"), self.proof.with_extension("png"));
        let png = encode_png(&pixels, width, self.pixel_size as usize)?;
        // Both are checked before either is written, so a refused overwrite leaves nothing half done.
        for path in [&svg_path, &png_path] {
            if !self.force && path.exists() {
                bail!("{} already exists; refusing to overwrite it (--force overwrites)", path.display());
            }
        }
        write_new(&svg_path, svg(&pixels, width).as_bytes(), self.force)?;
        write_new(&png_path, &png, self.force)?;
        let report = Rendered {
            svg: svg_path,
            png: png_path,
            width,
            height,
            scale,
            pixels,
            aigc_data: format!("0x{}", hex(&aigc)),
        };
        out.result(&report, || {
            format!(
                "wrote {} and {} ({width}x{height})\naigcData ({} bytes): {}",
                report.svg.display(),
                report.png.display(),
                aigc.len(),
                report.aigc_data
            )
        })
    }
}

/// An 8-bit grayscale PNG of `pixels`, each drawn as a `size` x `size` square.
fn encode_png(pixels: &[u8], width: usize, size: usize) -> Result<Vec<u8>> {
    let height = pixels.len() / width;
    let (w, h) = (width * size, height * size);
    let mut scaled = Vec::with_capacity(w * h);
    for row in pixels.chunks_exact(width) {
        let line: Vec<u8> = row.iter().flat_map(|v| std::iter::repeat_n(*v, size)).collect();
        for _ in 0..size {
            scaled.extend_from_slice(&line);
        }
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, u32::try_from(w)?, u32::try_from(h)?);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("encoding the PNG")?;
    writer.write_image_data(&scaled).context("encoding the PNG")?;
    writer.finish().context("encoding the PNG")?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_the_scaled_size() {
        let png = encode_png(&[0, 255, 128, 64], 2, 3).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (6, 6));
        assert_eq!(&buf[..6], &[0, 0, 0, 255, 255, 255]);
        assert_eq!(&buf[30..36], &[128, 128, 128, 64, 64, 64]);
    }
}
