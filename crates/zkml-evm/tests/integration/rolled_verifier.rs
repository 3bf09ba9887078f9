//! The rolled verifier against the straight-line one it was rewritten from ([`roll_loops`] edits Yul as
//! text), differentially: both run in revm on the real proof and on a few hundred seeded tamperings of every
//! region of the calldata, and must give the same verdict each time, the verdict an oracle predicts from
//! what the generated code reads. Three circuit shapes: the committed aggregated proof
//! (`test/fixtures/aggregated`, two digits-MLP proofs), and two direct digits-MLP verifiers proved here
//! (public inputs; hashed inputs), each rolled as far as [`roll_loops`] goes (runs of four units), so that
//! the short verifiers get loops too.
//!
//! The oracle: a verifier reads each 32-byte word of its calldata once (the straight-line source says
//! where), reduces scalars (instances and evaluations) modulo r and checks points exactly. Tampered calldata
//! whose words read the same (zero-padded past the end, scalars modulo r) must be accepted, any other
//! rejected. So some tamperings pass by design, on both verifiers: trailing bytes (never read), a scalar
//! word plus r (an instance, or an evaluation inside the proof), and a truncation that only drops zero
//! bytes. The adapter in front of the verifier (`contracts/verifiers/Halo2VerifierAdapter.sol`) pins the
//! proof length and refuses non-canonical instances; an evaluation plus r keeps the length, so a proof's
//! bytes still have more than one encoding.

use std::{collections::BTreeMap, path::PathBuf};

use rand_chacha::{
    ChaCha20Rng,
    rand_core::{RngCore, SeedableRng},
};
use revm::primitives::U256;
use serde_json::Value;
use snark_verifier::loader::evm::encode_calldata;
use zkml_circuit::{InputVisibility, PublicLayout, Visibility, sizing::auto_size};
use zkml_evm::{
    codegen::{VerifierKind, verifier_source},
    exec::LocalVerifier,
    roll::roll_loops,
    solc::{CompiledContract, compile, find_solc},
};
use zkml_model::{CalibrationOptions, CompiledModel, data::DataSet, quantize::quantize_value};
use zkml_prover::{
    prove::{Transcript, keygen, prove},
    srs::generate_unsafe_dev_srs,
};

/// Gas for one call: a valid proof needs under 400,000; a tampered point makes a precompile fail, which
/// burns what it was given, so rejections may use all of it.
const CAP: u64 = 1_000_000;

/// BN254's scalar field r: instances and evaluations are read modulo it.
const R: U256 = U256::from_limbs([0x43e1f593f0000001, 0x2833e84879b97091, 0xb85045b68181585d, 0x30644e72e131a029]);

/// BN254's base field p: point coordinates must be below it.
const P: U256 = U256::from_limbs([0x3c208c16d87cfd47, 0x97816a916871ca8d, 0xb85045b68181585d, 0x30644e72e131a029]);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hex_bytes(text: &str) -> Vec<u8> {
    let digits = text.trim().trim_start_matches("0x");
    (0..digits.len() / 2).map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

fn compiled(source: &str) -> CompiledContract {
    compile(&find_solc(None), "Halo2Verifier.sol", source, "Halo2Verifier").expect("compiles")
}

/// How the verifier reads a 32-byte word of its calldata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Read {
    /// `mod(calldataload(..), f_q)`: an instance or an evaluation.
    Scalar,
    /// `let x := calldataload(..)`, then validated with the next word as a point.
    X,
    /// `let y := calldataload(..)`.
    Y,
}

/// A region of the calldata, in words.
#[derive(Clone, Debug)]
struct Region {
    name: &'static str,
    words: std::ops::Range<usize>,
}

/// What the verifier reads, word by word, and the regions: each instance, then the proof's commitments,
/// evaluations and opening proof (SHPLONK's two points).
#[derive(Debug)]
struct Layout {
    reads: Vec<Read>,
    regions: Vec<Region>,
}

impl Layout {
    /// Reads the layout off the straight-line source, and checks that it is the one described: every word
    /// read exactly once, `num_instances` scalars, points, scalars, two points.
    fn of(source: &str, num_instances: usize, calldata_len: usize) -> Self {
        let mut by_offset = BTreeMap::new();
        for line in source.lines().filter(|line| line.contains("calldataload(")) {
            let text = line.trim();
            let read = if text.contains("mod(calldataload(") {
                Read::Scalar
            } else if text.starts_with("let x := calldataload(") {
                Read::X
            } else if text.starts_with("let y := calldataload(") {
                Read::Y
            } else {
                panic!("a calldata read this test does not know: {text}");
            };
            let literal = text.split("calldataload(").nth(1).and_then(|rest| rest.split(')').next()).expect("offset");
            let offset = usize::from_str_radix(literal.trim_start_matches("0x"), 16).expect("a hex offset");
            assert!(offset % 32 == 0 && by_offset.insert(offset / 32, read).is_none(), "word {offset:#x} read once");
        }
        let reads: Vec<Read> = by_offset.values().copied().collect();
        assert_eq!(by_offset.keys().copied().collect::<Vec<_>>(), (0..reads.len()).collect::<Vec<_>>(), "no gaps");
        assert_eq!(32 * reads.len(), calldata_len, "the verifier reads the whole calldata and nothing past it");

        let is_point = |read: &Read| *read != Read::Scalar;
        let instances = 0..num_instances;
        assert!(reads[instances.clone()].iter().all(|read| *read == Read::Scalar), "instances come first");
        let commitments_end = num_instances + reads[num_instances..].iter().take_while(|r| is_point(r)).count();
        let evaluations_end = commitments_end + reads[commitments_end..].iter().take_while(|r| !is_point(r)).count();
        assert_eq!(reads.len() - evaluations_end, 4, "the opening proof is two points, and last");
        for point in reads[num_instances..commitments_end].chunks(2).chain(reads[evaluations_end..].chunks(2)) {
            assert_eq!(point, [Read::X, Read::Y], "points are x then y");
        }
        let mut regions: Vec<Region> = instances.map(|i| Region { name: "instance", words: i..i + 1 }).collect();
        regions.push(Region { name: "commitments", words: num_instances..commitments_end });
        regions.push(Region { name: "evaluations", words: commitments_end..evaluations_end });
        regions.push(Region { name: "opening proof", words: evaluations_end..reads.len() });
        assert!(regions.iter().all(|region| !region.words.is_empty()), "{regions:?}");
        Self { reads, regions }
    }

    /// What a verifier must answer for `tampered` calldata, given that `valid` verifies: accept exactly when
    /// every word reads the same.
    fn accepts(&self, valid: &[u8], tampered: &[u8]) -> bool {
        self.reads.iter().enumerate().all(|(i, read)| {
            let (a, b) = (word(valid, i), word(tampered, i));
            match read {
                Read::Scalar => a % R == b % R,
                Read::X | Read::Y => a == b,
            }
        })
    }
}

/// Word `i` as `calldataload` reads it: zero bytes past the end.
fn word(data: &[u8], i: usize) -> U256 {
    let mut bytes = [0u8; 32];
    for (k, byte) in bytes.iter_mut().enumerate() {
        *byte = data.get(32 * i + k).copied().unwrap_or(0);
    }
    U256::from_be_bytes(bytes)
}

fn set_word(data: &mut [u8], i: usize, value: U256) {
    data[32 * i..32 * i + 32].copy_from_slice(&value.to_be_bytes::<32>());
}

fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

fn random_word(rng: &mut ChaCha20Rng) -> U256 {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    U256::from_be_bytes(bytes)
}

/// A value at or above `modulus`, below 2^256.
fn at_least(rng: &mut ChaCha20Rng, modulus: U256) -> U256 {
    modulus + random_word(rng) % (U256::MAX - modulus)
}

/// Seeded tamperings of `valid`, labelled: every instance word three ways (a bit flipped, plus r, a random
/// value at or above r), and in each proof region bit flips, byte replacements, words at or above their
/// field's modulus, points replaced by valid other points (negated) and scalars by other field elements;
/// then truncations and trailing bytes.
fn tamperings(layout: &Layout, valid: &[u8], seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut cases = Vec::new();
    let mut push = |label: String, data: Vec<u8>| cases.push((label, data));
    for region in &layout.regions {
        let words = region.words.clone();
        let is_instance = region.name == "instance";
        // An instance word is its own region; proof regions get more cases, as they are longer.
        let rounds = if is_instance { 1 } else { words.len().clamp(8, 24) };
        for _ in 0..rounds {
            let at = words.start + below(&mut rng, words.len());
            let byte = 32 * at + below(&mut rng, 32);
            let mut data = valid.to_vec();
            data[byte] ^= 1 << below(&mut rng, 8);
            push(format!("{} word {at}: a bit of byte {byte} flipped", region.name), data);

            let modulus = if layout.reads[at] == Read::Scalar { R } else { P };
            let mut data = valid.to_vec();
            set_word(&mut data, at, at_least(&mut rng, modulus));
            push(format!("{} word {at}: a random value >= its modulus", region.name), data);

            // Plus the modulus: aliases a scalar (accepted), takes a coordinate out of the field (rejected).
            let mut data = valid.to_vec();
            set_word(&mut data, at, word(valid, at) + modulus);
            push(format!("{} word {at}: plus its modulus", region.name), data);

            if is_instance {
                continue;
            }
            let byte = 32 * words.start + below(&mut rng, 32 * words.len());
            let mut data = valid.to_vec();
            data[byte] = data[byte].wrapping_add(1 + below(&mut rng, 255) as u8);
            push(format!("{}: byte {byte} replaced", region.name), data);

            let mut data = valid.to_vec();
            match layout.reads[at] {
                // Still a field element, still canonical: only the proof's equations can tell.
                Read::Scalar => set_word(&mut data, at, (word(valid, at) + U256::from(1 + below(&mut rng, 1000))) % R),
                // Still a point on the curve: -P = (x, p - y).
                Read::X | Read::Y => {
                    let y = if layout.reads[at] == Read::X { at + 1 } else { at };
                    set_word(&mut data, y, P - word(valid, y));
                }
            }
            push(format!("{} word {at}: another valid value", region.name), data);
        }
    }
    let len = valid.len();
    let mut cuts = vec![0, 31, len - 1, len - 32, len - 64];
    cuts.extend((0..10).map(|_| below(&mut rng, len)));
    for cut in cuts {
        push(format!("truncated to {cut} bytes"), valid[..cut].to_vec());
    }
    for extra in [1, 31, 32, 100] {
        let mut data = valid.to_vec();
        data.extend((0..extra).map(|_| rng.next_u32() as u8));
        push(format!("{extra} trailing bytes"), data);
    }
    cases
}

/// The straight-line verifier `source` and the same rolled from runs of `min_repeats` units, on `valid`
/// calldata and its tamperings: the same verdicts, the oracle's. Returns the number of cases and the
/// compiled straight-line verifier.
fn differential(
    shape: &str,
    source: &str,
    valid: &[u8],
    num_instances: usize,
    min_repeats: usize,
) -> (usize, CompiledContract) {
    let layout = Layout::of(source, num_instances, valid.len());
    let rolled_source = roll_loops(source, min_repeats);
    let loops = rolled_source.matches("for {").count();
    // Without loops the two would be the same code, and the comparison empty.
    assert!(loops > 0, "{shape}: runs of {min_repeats} were rolled");
    assert!(rolled_source.contains("calldataload(zkml_"), "{shape}: a loop reads the calldata");
    let (straight, rolled) = (compiled(source), compiled(&rolled_source));
    assert_ne!(straight.runtime, rolled.runtime);
    let mut straight_chain = LocalVerifier::deploy(&straight.creation).expect("deploys");
    let mut rolled_chain = LocalVerifier::deploy(&rolled.creation).expect("deploys");
    let mut verdicts = |data: &[u8]| {
        let a = straight_chain.call(data.to_vec(), CAP).expect("runs");
        let b = rolled_chain.call(data.to_vec(), CAP).expect("runs");
        (a, b)
    };

    let (straight_valid, rolled_valid) = verdicts(valid);
    assert!(straight_valid.success && rolled_valid.success, "{shape}: the real proof verifies on both");
    eprintln!(
        "{shape}: {} loops; {} -> {} runtime bytes, {} -> {} gas",
        loops,
        straight.runtime.len(),
        rolled.runtime.len(),
        straight_valid.gas_used,
        rolled_valid.gas_used
    );

    let cases = tamperings(&layout, valid, num_instances as u64);
    let mut accepted = Vec::new();
    for (label, data) in &cases {
        let (a, b) = verdicts(data);
        let expected = layout.accepts(valid, data);
        assert_eq!(a.success, b.success, "{shape}, {label}: straight-line and rolled verdicts differ");
        assert_eq!(a.success, expected, "{shape}, {label}: the verdict is not the oracle's");
        if a.success {
            accepted.push(label.as_str());
        }
    }
    // Accepted by design: every trailing-bytes case (the adapter pins the proof length) and every scalar plus r
    // (the adapter refuses non-canonical instances, not evaluations).
    let aliases = cases.iter().filter(|(label, _)| label.ends_with("plus its modulus")).count();
    let scalar_aliases = accepted.iter().filter(|label| label.ends_with("plus its modulus")).count();
    assert!(accepted.iter().filter(|label| label.ends_with("trailing bytes")).count() == 4, "{accepted:?}");
    assert!(scalar_aliases > 0 && scalar_aliases < aliases, "scalars alias, coordinates do not: {accepted:?}");
    // Everything else accepted is a truncation of zero bytes only (the oracle said so).
    let mut other =
        accepted.iter().filter(|label| !label.ends_with("trailing bytes") && !label.ends_with("plus its modulus"));
    assert!(other.all(|label| label.starts_with("truncated")), "{accepted:?}");
    assert!(accepted.len() * 4 < cases.len(), "{shape}: almost every tampering is rejected: {accepted:?}");
    let count = |what: &str| accepted.iter().filter(|label| label.contains(what)).count();
    eprintln!(
        "{shape}: {} tamperings, {} accepted by both as the oracle said ({} trailing bytes, {} instances and {} \
         evaluations plus r)",
        cases.len(),
        accepted.len(),
        count("trailing"),
        count("instance word"),
        count("evaluations word")
    );
    (cases.len(), straight)
}

/// The committed aggregated proof: calldata (instances, then the proof) and the number of instances.
fn aggregated_calldata() -> (Vec<u8>, usize) {
    let text = std::fs::read_to_string(repo().join("test/fixtures/aggregated/aggregated.json")).expect("the fixture");
    let artifact: Value = serde_json::from_str(&text).expect("fixture JSON");
    let instances = artifact["instances"].as_array().expect("instances");
    let mut data: Vec<u8> = instances.iter().flat_map(|v| hex_bytes(v.as_str().expect("hex string"))).collect();
    data.extend(hex_bytes(artifact["proof"].as_str().expect("proof")));
    (data, instances.len())
}

#[test]
fn aggregated_fixture_rolled_and_straight_agree_on_every_tampering() {
    let source =
        std::fs::read_to_string(repo().join("test/fixtures/aggregated/Halo2Verifier.sol.txt")).expect("the source");
    let (data, num_instances) = aggregated_calldata();
    let (cases, straight) = differential("aggregated fixture", &source, &data, num_instances, 4);
    assert!(cases >= 100, "{cases} cases");

    // What `gen-verifier` rolls first when it must (runs of 16 and more, the figures of docs/aggregation.md) verifies too.
    let rolled = compiled(&roll_loops(&source, 16));
    let mut chain = LocalVerifier::deploy(&rolled.creation).expect("deploys");
    assert!(chain.call(data, CAP).expect("runs").success, "runs of 16 rolled: the real proof verifies");
    assert!(rolled.runtime.len() < straight.runtime.len(), "rolling shrinks the verifier");
}

/// A direct (keccak) digits-MLP verifier with `visibility`, made here with the real prover, and one proof's
/// calldata.
fn digits_mlp(visibility: Visibility) -> (String, Vec<u8>, usize) {
    let dir = repo().join("examples/digits");
    let compiled = CompiledModel::compile(
        &dir.join("mlp.onnx"),
        None,
        &dir.join("calibration.json"),
        CalibrationOptions::default(),
    )
    .expect("the digits MLP compiles");
    let model = &compiled.quantized;
    let layout = PublicLayout::new(model, visibility);
    let size = auto_size(model, &layout, None).expect("the model fits");
    let params = generate_unsafe_dev_srs(size.k);
    let keys = keygen(&params, model, &layout, &size).expect("keygen");
    let data = DataSet::load(&dir.join("test.json"), model.input_len()).expect("the test data");
    let input: Vec<i64> =
        data.inputs[0].iter().map(|v| quantize_value(f64::from(*v), model.scales.activation)).collect();
    let proof = prove(&params, &keys, model, &input, Transcript::Keccak).expect("proves");
    let source = verifier_source(&params, keys.vk(), proof.instances.len(), VerifierKind::Single);
    (source, encode_calldata(std::slice::from_ref(&proof.instances), &proof.proof), proof.instances.len())
}

#[test]
fn digits_mlp_verifier_rolled_and_straight_agree_on_every_tampering() {
    let (source, data, num_instances) = digits_mlp(Visibility::default());
    let (cases, straight) = differential("digits MLP, public inputs", &source, &data, num_instances, 4);
    assert!(cases >= 100, "{cases} cases");

    // The comparison is sharp enough to catch a rewrite that keeps the real proof valid: loops that load
    // calldata without reducing it modulo r (the transcript then hashes other values).
    let rolled = roll_loops(&source, 4);
    let mutant: String = rolled
        .lines()
        .map(|line| match line.contains("calldataload(zkml_") || line.contains("calldataload(add(zkml_") {
            true => line.replace(", f_q))", ", not(0)))"),
            false => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(mutant, rolled, "the mutation applies");
    let mut straight = LocalVerifier::deploy(&straight.creation).expect("deploys");
    let mut mutant = LocalVerifier::deploy(&compiled(&mutant).creation).expect("deploys");
    assert!(mutant.call(data.clone(), CAP).expect("runs").success, "the mutant accepts the real proof");
    let layout = Layout::of(&source, num_instances, data.len());
    let caught = tamperings(&layout, &data, num_instances as u64).into_iter().find(|(_, tampered)| {
        let verdict = |chain: &mut LocalVerifier| chain.call(tampered.clone(), CAP).expect("runs").success;
        verdict(&mut straight) != verdict(&mut mutant)
    });
    assert!(caught.is_some(), "some tampering tells the mutant from the straight-line verifier");
    eprintln!("digits MLP, public inputs: a loop without its reduction is told apart by '{}'", caught.unwrap().0);
}

#[test]
fn digits_mlp_hashed_inputs_verifier_rolled_and_straight_agree_on_every_tampering() {
    let visibility = Visibility { input: InputVisibility::Hashed, ..Visibility::default() };
    let (source, data, num_instances) = digits_mlp(visibility);
    let (cases, _) = differential("digits MLP, hashed inputs", &source, &data, num_instances, 4);
    assert!(cases >= 100, "{cases} cases");
}
