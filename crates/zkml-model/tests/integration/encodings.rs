//! The encodings of `docs/encodings.md` against the fixtures under `test/fixtures/encodings/`, which the
//! examples' Python (that wrote them) and the contracts' forge tests read too: all three must reach the
//! same integers.

use std::path::PathBuf;

use serde_json::Value;
use zkml_model::encode::{EncodeError, PixelPrompt, PriceFeatures, aigc_data, outputs_from_aigc_data, pixels};

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/fixtures/encodings").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ints(value: &Value) -> Vec<i64> {
    value.as_array().expect("an array").iter().map(|v| v.as_i64().expect("an integer")).collect()
}

/// Feed answers; an answer beyond `i128` (the fixture has some above 2^96) is `None`.
fn answers(value: &Value) -> Vec<Option<i128>> {
    let parse = |v: &Value| match v {
        Value::String(s) => s.parse::<i128>().ok(),
        other => other.as_i64().map(i128::from),
    };
    value.as_array().expect("answers").iter().map(parse).collect()
}

fn bytes(value: &Value) -> Vec<u8> {
    let hex = value.as_str().expect("hex").strip_prefix("0x").expect("0x-prefixed");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

#[test]
fn price_features_match_the_fixture() {
    let fixture = fixture("eth-price.json");
    let scale = u8::try_from(fixture["scale"].as_u64().expect("scale")).expect("a scale");
    let features = PriceFeatures::eth_price(scale);
    assert_eq!(fixture["window"].as_u64(), Some(features.window as u64));
    assert_eq!(fixture["multiplier"].as_u64(), Some(u64::from(features.multiplier)));
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 5, "the fixture has too few cases");
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let answers: Vec<i128> = answers(&case["answers"]).into_iter().map(|a| a.expect("an i128 answer")).collect();
        let got = features.inputs(&answers).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, ints(&case["inputs"]), "case '{name}'");
    }
    let errors = fixture["errors"].as_array().expect("errors");
    assert!(!errors.is_empty());
    for case in errors {
        let name = case["name"].as_str().expect("a name");
        let index = case["index"].as_u64().expect("an index") as usize;
        let answers = answers(&case["answers"]);
        // An answer too large for i128 is refused before the encoding sees it (as the CLI does).
        if let Some(got) = answers.iter().position(Option::is_none) {
            assert_eq!(got, index, "error case '{name}'");
            continue;
        }
        let answers: Vec<i128> = answers.into_iter().flatten().collect();
        match features.inputs(&answers) {
            Err(EncodeError::Answer { index: got, .. }) => assert_eq!(got, index, "error case '{name}'"),
            other => panic!("error case '{name}': expected a bad answer at {index}, got {other:?}"),
        }
    }
}

#[test]
fn prompt_and_aigc_data_match_the_fixture() {
    let fixture = fixture("pixel-art.json");
    let scale = u8::try_from(fixture["scale"].as_u64().expect("scale")).expect("a scale");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 5, "the fixture has too few cases");
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let prompt_bytes = bytes(&case["prompt"]);
        let prompt = PixelPrompt::decode(&prompt_bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(prompt.encode().to_vec(), prompt_bytes, "case '{name}': prompt round trip");
        assert_eq!(prompt.inputs(scale).expect("inputs"), ints(&case["inputs"]), "case '{name}': inputs");
        let outputs = ints(&case["outputs"]);
        let aigc = bytes(&case["aigcData"]);
        assert_eq!(aigc_data(&outputs).expect("aigcData"), aigc, "case '{name}': aigcData");
        assert_eq!(outputs_from_aigc_data(&aigc, outputs.len()).expect("outputs"), outputs, "case '{name}'");
        let expected: Vec<u8> = ints(&case["pixels"]).iter().map(|v| u8::try_from(*v).expect("a pixel")).collect();
        assert_eq!(pixels(&outputs, scale), expected, "case '{name}': pixels");
    }
    let errors = fixture["errors"].as_array().expect("errors");
    assert!(!errors.is_empty());
    for case in errors {
        let name = case["name"].as_str().expect("a name");
        let byte = case["byte"].as_i64().expect("a byte index");
        let got = match PixelPrompt::decode(&bytes(&case["prompt"])) {
            Err(EncodeError::PromptLength { len }) => len as i64,
            Err(EncodeError::Prompt { byte, .. }) => byte as i64,
            other => panic!("error case '{name}': expected a refusal, got {other:?}"),
        };
        // A wrong length may be recorded as the length or as -1.
        assert!(got == byte || byte == -1, "error case '{name}': byte {got}, fixture says {byte}");
    }
}
