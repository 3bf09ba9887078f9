//! Sizing an aggregation within a memory budget: the circuit is laid out at each `k`, never proven, so
//! these run in seconds on the digits MLP's real verifying key.

use zkml_prover::{
    Error,
    aggregate::{AutoSize, MAX_ADVICE_COLUMNS, auto_k, inner_protocol},
};

/// `auto_k` for two digits-MLP proofs within `budget` bytes.
fn size_two_proofs(budget: u64) -> Result<AutoSize, Error> {
    let (_, params, keys, _) = crate::common::setup("mlp.onnx", None);
    let protocol = inner_protocol(&params, keys.vk(), keys.layout.num_instances);
    auto_k(&params, &[protocol.clone(), protocol], budget)
}

#[test]
fn the_budget_decides_between_few_columns_and_little_memory() {
    let roomy = size_two_proofs(u64::MAX).expect("any size fits");
    assert!(roomy.advice_columns <= MAX_ADVICE_COLUMNS, "{roomy:?}");

    // Just under what the cheapest verifier needs: a smaller k with more columns, within the budget.
    let tight = size_two_proofs(roomy.estimated_peak_bytes - 1).expect("a smaller layout fits");
    assert!(tight.k < roomy.k && tight.advice_columns > roomy.advice_columns, "{tight:?} vs {roomy:?}");
    assert!(tight.estimated_peak_bytes < roomy.estimated_peak_bytes, "{tight:?}");

    // Nothing fits: refused, naming what the smallest layout would need.
    match size_two_proofs(1 << 20) {
        Err(Error::Aggregation(message)) => {
            assert!(message.contains("over the memory budget") && message.contains("--max-memory"), "{message}")
        }
        other => panic!("a 1 MB budget must be refused: {other:?}"),
    }
}
