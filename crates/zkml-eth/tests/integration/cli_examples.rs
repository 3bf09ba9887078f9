//! The example models at their real size through the real binary: eth-price from a window of its price
//! feed, pixel-art from an EIP-7007 prompt, each compiled, set up, proven and verified, with the proof's
//! public inputs equal to what the contracts will recompute (`docs/encodings.md`); `render` draws the
//! proven image from the instances; inputs outside the calibrated range are refused by name.

use std::path::{Path, PathBuf};

use serde_json::Value;
use zkml_circuit::{PublicLayout, public::SectionKind};
use zkml_model::encode::{PixelPrompt, PriceFeatures, outputs_from_aigc_data};
use zkml_prover::artifact::fr_from_hex;

use crate::common::{json, stderr};

/// One compiled example model and a private cache, in one temporary directory.
struct Example {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    model: PathBuf,
    cache: PathBuf,
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

fn read_json(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).expect("the file reads")).expect("the file is JSON")
}

impl Example {
    /// Compiles `examples/NAME/model.onnx` at scale 2^12 (the scale the encodings are stated at).
    fn compile(name: &str) -> Self {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
        let (model, cache) = (tmp.path().join(name), tmp.path().join("cache"));
        let example = Self { tmp, dir, model, cache };
        let (onnx, calibration) = (example.dir.join("model.onnx"), example.dir.join("calibration.json"));
        let args = ["compile", path(&onnx), "--calibration", path(&calibration), "--scale", "12", "--out"];
        let mut args: Vec<&str> = ["-q"].into_iter().chain(args).collect();
        args.push(path(&example.model));
        let compiled = example.run(&args);
        assert!(compiled.status.success(), "compile failed: {}", stderr(&compiled));
        example
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        crate::common::zkml_eth(args, &[("ZKML_CACHE_DIR", path(&self.cache))])
    }

    fn file(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Sets up, proves `input` and verifies the proof; returns the proof artifact.
    fn prove_and_verify(&self, input: &Path, proof: &Path) -> Value {
        json(&self.run(&["--json", "setup", path(&self.model), "--unsafe-dev-srs"]));
        let args = ["--json", "prove", path(&self.model), "--input", path(input), "--out", path(proof)];
        json(&self.run(&[&args[..], &["--transcript", "keccak", "--unsafe-dev-srs"]].concat()));
        let verified = json(&self.run(&["--json", "verify", path(proof), "--unsafe-dev-srs"]));
        assert_eq!(verified["valid"], true, "{verified}");
        read_json(proof)
    }

    /// The same with the first public instance changed: it must not verify.
    fn assert_tampered_instance_fails(&self, proof: &Path) {
        let mut artifact = read_json(proof);
        let first = artifact["instances"][0].as_str().expect("an instance").to_string();
        let last = u8::from_str_radix(&first[first.len() - 1..], 16).expect("hex") ^ 1;
        artifact["instances"][0] = Value::String(format!("{}{last:x}", &first[..first.len() - 1]));
        let tampered = self.file("tampered.json");
        std::fs::write(&tampered, artifact.to_string()).expect("the file writes");
        let out = self.run(&["verify", path(&tampered), "--unsafe-dev-srs"]);
        assert!(!out.status.success(), "a proof with a changed public input verified");
    }
}

/// The decoded section `kind` of an artifact's instances.
fn section(artifact: &Value, kind: SectionKind) -> Vec<i64> {
    let layout: PublicLayout = serde_json::from_value(artifact["layout"].clone()).expect("a layout");
    let instances: Vec<_> = artifact["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|v| fr_from_hex(v.as_str().expect("hex")).expect("a field element"))
        .collect();
    layout.decode(kind, &instances).expect("a public section")
}

fn ints(value: &Value) -> Vec<i64> {
    value.as_array().expect("an array").iter().map(|v| v.as_i64().expect("an integer")).collect()
}

#[test]
fn eth_price_proves_the_features_of_its_feed() {
    let example = Example::compile("eth-price");
    let feed_file = example.dir.join("feed.json");
    let feed = read_json(&feed_file);
    let answers: Vec<i128> = feed["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|v| {
            v.as_str().map_or_else(|| i128::from(v.as_i64().expect("an integer")), |s| s.parse().expect("decimal"))
        })
        .collect();
    let at = answers.len() - 100;
    let input = example.file("input.json");
    let args = ["--json", "input", "feed", path(&feed_file), "--at", &at.to_string(), "--model"];
    let built = json(&example.run(&[&args[..], &[path(&example.model), "--out", path(&input)]].concat()));
    let expected = PriceFeatures::eth_price(12).inputs(&answers[at - 12..=at]).expect("features");
    assert_eq!(ints(&built["quantized"][0]), expected);

    let proof = example.file("proof.json");
    let artifact = example.prove_and_verify(&input, &proof);
    // The proof's public inputs are the features, as the vault will recompute them from its feed.
    assert_eq!(section(&artifact, SectionKind::Inputs), expected);
    assert_eq!(ints(&artifact["outputs_quantized"]).len(), 5);
    example.assert_tampered_instance_fails(&proof);

    // A 60% jump in one hour is far outside the calibrated returns: refused by name, never proven.
    let mut spiked = answers[at - 12..=at].to_vec();
    spiked[12] = spiked[11] * 16 / 10;
    let spiked_feed = example.file("spiked.json");
    let strings: Vec<String> = spiked.iter().map(i128::to_string).collect();
    std::fs::write(&spiked_feed, serde_json::json!({ "answers": strings }).to_string()).expect("writes");
    let spiked_input = example.file("spiked-input.json");
    let args = ["-q", "input", "feed", path(&spiked_feed), "--model", path(&example.model), "--out"];
    assert!(example.run(&[&args[..], &[path(&spiked_input)]].concat()).status.success());
    let args = ["prove", path(&example.model), "--input", path(&spiked_input), "--out"];
    let refused = example.run(&[&args[..], &[path(&example.file("spiked-proof.json")), "--unsafe-dev-srs"]].concat());
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("outside its calibrated range"), "{}", stderr(&refused));

    // A feed answer of zero is named with its index in the feed.
    let mut zero = spiked.clone();
    zero[3] = 0;
    let strings: Vec<String> = zero.iter().map(i128::to_string).collect();
    std::fs::write(&spiked_feed, serde_json::json!({ "answers": strings }).to_string()).expect("writes");
    let args = ["input", "feed", path(&spiked_feed), "--model", path(&example.model), "--out", path(&spiked_input)];
    let refused = example.run(&[&args[..], &["--force"]].concat());
    assert!(stderr(&refused).contains("answer 3 is 0"), "{}", stderr(&refused));
}

#[test]
fn pixel_art_proves_and_renders_a_prompt() {
    let example = Example::compile("pixel-art");
    let prompt = PixelPrompt { class: 3, latents: [16, -16, 0, 8] };
    let hex: String = prompt.encode().iter().map(|b| format!("{b:02x}")).collect();
    let input = example.file("input.json");
    let args = ["--json", "input", "prompt", &format!("0x{hex}"), "--model", path(&example.model), "--out"];
    let built = json(&example.run(&[&args[..], &[path(&input)]].concat()));
    assert_eq!(ints(&built["quantized"][0]), prompt.inputs(12).expect("inputs"));
    // EIP-7007: tokenId = uint256(keccak256(prompt)).
    let token_id = alloy::primitives::U256::from_be_bytes(alloy::primitives::keccak256(prompt.encode()).0);
    assert_eq!(built["source"]["tokenId"].as_str(), Some(token_id.to_string().as_str()));

    let proof = example.file("proof.json");
    let artifact = example.prove_and_verify(&input, &proof);
    assert_eq!(section(&artifact, SectionKind::Inputs), prompt.inputs(12).expect("inputs"));
    example.assert_tampered_instance_fails(&proof);

    // render reads the outputs from the instances; its aigcData carries exactly them.
    let rendered = json(&example.run(&["--json", "render", path(&proof)]));
    let outputs = section(&artifact, SectionKind::Outputs);
    let aigc = rendered["aigcData"].as_str().expect("aigcData");
    let aigc: Vec<u8> =
        (2..aigc.len()).step_by(2).map(|i| u8::from_str_radix(&aigc[i..i + 2], 16).expect("hex")).collect();
    assert_eq!(outputs_from_aigc_data(&aigc, 64).expect("64 outputs"), outputs);
    assert_eq!(rendered["pixels"].as_array().map(Vec::len), Some(64));
    let svg = std::fs::read_to_string(proof.with_extension("svg")).expect("the SVG is written");
    assert_eq!(svg.matches("<rect").count(), 64);
    let png = std::fs::read(proof.with_extension("png")).expect("the PNG is written");
    assert_eq!(&png[1..4], b"PNG");
    // An existing image is not overwritten.
    let again = example.run(&["render", path(&proof)]);
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));

    // Latents at +127/16 standard deviations are beyond the calibrated range: refused by name at proving.
    let far = example.file("far.json");
    let args = ["-q", "input", "prompt", "0x037f7f7f7f", "--model", path(&example.model), "--out", path(&far)];
    assert!(example.run(&args).status.success());
    let args = ["prove", path(&example.model), "--input", path(&far), "--out"];
    let refused = example.run(&[&args[..], &[path(&example.file("far-proof.json")), "--unsafe-dev-srs"]].concat());
    assert!(stderr(&refused).contains("outside its calibrated range"), "{}", stderr(&refused));
    // A class byte above 9 is named.
    let args = ["input", "prompt", "0x0a00000000", "--model", path(&example.model), "--out", path(&far), "--force"];
    assert!(stderr(&example.run(&args)).contains("prompt byte 0"));
}

#[test]
fn transformer_proves_token_ids_and_refuses_ids_outside_its_table() {
    let example = Example::compile("transformer");
    // A k too small for its function tables is refused with the k that holds them, not by halo2's panic,
    // and leaves no circuit.json behind (the automatic setup below would otherwise take its k).
    let small = example.run(&["setup", path(&example.model), "--k", "14", "--unsafe-dev-srs"]);
    let message = stderr(&small);
    assert!(!small.status.success(), "setup at k = 14 succeeded: {message}");
    assert!(message.contains("function table") && message.contains("use k = 17"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    assert!(!example.model.join("circuit.json").exists(), "a refused setup wrote circuit.json");

    let test = read_json(&example.dir.join("test.json"));
    let (ids, label) = (test["inputs"][0].clone(), test["labels"][0].as_i64().expect("a label"));
    let input = example.file("input.json");
    std::fs::write(&input, serde_json::json!({ "inputs": [ids] }).to_string()).expect("the file writes");

    let proof = example.file("proof.json");
    let artifact = example.prove_and_verify(&input, &proof);
    // Token ids are public as they are (integers, not fixed point), and the proven logits pick the label.
    assert_eq!(section(&artifact, SectionKind::Inputs), ints(&ids));
    let logits = section(&artifact, SectionKind::Outputs);
    let best = (0..logits.len()).max_by_key(|&i| (logits[i], std::cmp::Reverse(i))).expect("ten logits");
    assert_eq!(best as i64, label, "logits {logits:?}");
    example.assert_tampered_instance_fails(&proof);

    // An id past the 12-token vocabulary, and one that is not an integer, are refused by name.
    for (bad, needle) in [(12.0, "outside the table's 12 rows"), (3.5, "integer ids")] {
        let mut ids = ids.clone();
        ids[5] = serde_json::json!(bad);
        let far = example.file("far.json");
        std::fs::write(&far, serde_json::json!({ "inputs": [ids] }).to_string()).expect("the file writes");
        let args = ["prove", path(&example.model), "--input", path(&far), "--out"];
        let refused = example.run(&[&args[..], &[path(&example.file("far-proof.json")), "--unsafe-dev-srs"]].concat());
        assert!(!refused.status.success() && stderr(&refused).contains(needle), "{}", stderr(&refused));
    }
}
