//! Sizing an aggregation within a memory budget: the circuit is laid out at each `k`, never proven, so
//! these run in seconds on the digits MLP's real verifying key.

use halo2_base::halo2_proofs::{
    halo2curves::bn256::{Bn256, G1Affine},
    poly::kzg::commitment::ParamsKZG,
};
use snark_verifier_sdk::snark_verifier::verifier::plonk::PlonkProtocol;
use zkml_prover::{
    Error,
    aggregate::{
        ACCUMULATOR_LIMBS, AutoSize, LayerPlan, LayerPolicy, OneLayerLimit, auto_k, inner_protocol, plan_layers,
        public_values,
    },
};

/// The policy `zkml-eth aggregate` defaults to (its `opts::LayerPolicyOpts`), tuned on digits-MLP proofs.
const POLICY: LayerPolicy = LayerPolicy {
    evm_max_advice_columns: 2,
    one_layer_max_k: 22,
    one_layer_max_public_values: 52,
    planned_one_layer_max_k: 21,
    first_layer_max_advice_columns: 5,
    second_layer_max_advice_columns: 1,
};

/// The dev SRS and the protocols of two digits-MLP proofs.
fn two_proofs() -> (ParamsKZG<Bn256>, Vec<PlonkProtocol<G1Affine>>) {
    let (_, params, keys, _) = crate::common::setup("mlp.onnx", None);
    let protocol = inner_protocol(&params, keys.vk(), keys.layout.num_instances);
    (params, vec![protocol.clone(), protocol])
}

/// `auto_k` for two digits-MLP proofs within `budget` bytes.
fn size_two_proofs(budget: u64) -> Result<AutoSize, Error> {
    let (params, protocols) = two_proofs();
    auto_k(&params, &protocols, budget, &POLICY)
}

#[test]
fn the_budget_decides_between_few_columns_and_little_memory() {
    let roomy = size_two_proofs(u64::MAX).expect("any size fits");
    assert!(roomy.advice_columns <= POLICY.evm_max_advice_columns, "{roomy:?}");

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

#[test]
fn one_layer_while_it_fits_two_columns_else_two_layers() {
    let (params, protocols) = two_proofs();
    let roomy = auto_k(&params, &protocols, u64::MAX, &POLICY).expect("any size fits");
    let plan = plan_layers(&params, &protocols, u64::MAX, &POLICY).expect("any size fits");
    assert_eq!(plan, LayerPlan::One(roomy));

    // A budget that rules out two columns: one layer would need more, so two layers, the first sized for
    // speed within the same budget.
    match plan_layers(&params, &protocols, roomy.estimated_peak_bytes - 1, &POLICY).expect("a smaller layout fits") {
        LayerPlan::Two { first, one, limit } => {
            assert_eq!(limit, OneLayerLimit::AdviceColumns);
            assert!(one.advice_columns > POLICY.evm_max_advice_columns && one.k < roomy.k, "{one:?}");
            assert!(first.advice_columns <= POLICY.first_layer_max_advice_columns && first.k <= one.k, "{first:?}");
            assert!(first.estimated_peak_bytes < roomy.estimated_peak_bytes, "{first:?}");
        }
        other => panic!("without room for two columns one layer is too dear: {other:?}"),
    }
}

/// Grows the last of `protocols`' instances to `limit` public values in all and plans them under `policy`
/// at the limit (one layer) and one past it (two, for the public values alone).
fn plan_at_and_past(
    params: &ParamsKZG<Bn256>,
    mut protocols: Vec<PlonkProtocol<G1Affine>>,
    policy: &LayerPolicy,
) -> (LayerPlan, LayerPlan) {
    let limit = policy.one_layer_max_public_values;
    let last = protocols.len() - 1;
    protocols[last].num_instance[0] += limit - public_values(&protocols);
    assert_eq!(public_values(&protocols), limit);
    let at_limit = plan_layers(params, &protocols, u64::MAX, policy).expect("any size fits");
    protocols[last].num_instance[0] += 1;
    let past_limit = plan_layers(params, &protocols, u64::MAX, policy).expect("any size fits");
    (at_limit, past_limit)
}

#[test]
fn one_layer_only_while_its_public_values_keep_the_verifier_cheap() {
    let (params, protocols) = two_proofs();
    let values = public_values(&protocols);
    assert_eq!(values, ACCUMULATOR_LIMBS + 2 * protocols[0].num_instance[0]);

    // The default limit, and one just above what two plain proofs take: the limit is the policy's.
    for limit in [POLICY.one_layer_max_public_values, values + 1] {
        let policy = LayerPolicy { one_layer_max_public_values: limit, ..POLICY };
        let (at_limit, past_limit) = plan_at_and_past(&params, protocols.clone(), &policy);
        // At the limit: still one layer, in few columns.
        assert!(
            matches!(at_limit, LayerPlan::One(size) if size.advice_columns <= POLICY.evm_max_advice_columns),
            "{limit}: {at_limit:?}"
        );
        // One more: the columns would still hold one layer, but its verifier would cost more than the
        // policy allows.
        match past_limit {
            LayerPlan::Two { first, one, limit: why } => {
                assert_eq!(why, OneLayerLimit::PublicValues(limit + 1));
                assert!(one.advice_columns <= POLICY.evm_max_advice_columns, "{one:?}");
                assert!(first.advice_columns <= POLICY.first_layer_max_advice_columns && first.k <= one.k, "{first:?}");
            }
            other => panic!("{} public values are too many for one layer: {other:?}", limit + 1),
        }
    }
}

#[test]
fn past_the_planned_k_two_layers_even_where_two_columns_would_hold_one() {
    // Five digits proofs fit two columns only at k = 22, where two layers prove about as fast.
    let (params, two) = two_proofs();
    let protocols = vec![two[0].clone(); 5];
    let one = auto_k(&params, &protocols, u64::MAX, &POLICY).expect("any size fits");
    assert!(one.k > POLICY.planned_one_layer_max_k && one.advice_columns <= POLICY.evm_max_advice_columns, "{one:?}");
    match plan_layers(&params, &protocols, u64::MAX, &POLICY).expect("any size fits") {
        LayerPlan::Two { first, one: planned, limit } => {
            assert_eq!((planned, limit), (one, OneLayerLimit::Rows));
            let values = public_values(&protocols);
            assert!(values <= POLICY.one_layer_max_public_values, "{values} public values");
            assert!(first.advice_columns <= POLICY.first_layer_max_advice_columns && first.k < one.k, "{first:?}");
        }
        other => panic!("five proofs at k = {} must take two layers: {other:?}", one.k),
    }
    // A policy that plans one layer up to that k keeps it.
    let lenient = LayerPolicy { planned_one_layer_max_k: one.k, ..POLICY };
    assert_eq!(plan_layers(&params, &protocols, u64::MAX, &lenient).expect("any size fits"), LayerPlan::One(one));
}

#[test]
fn two_layers_are_estimated_at_each_phases_larger_layer_with_the_first_srs_still_loaded() {
    use snark_verifier_sdk::halo2::aggregation::AggregationConfigParams;
    use zkml_prover::aggregate::{MemoryEstimate, srs_bytes};
    let config = |degree, num_advice| AggregationConfigParams {
        degree,
        num_advice,
        num_lookup_advice: 1,
        num_fixed: 1,
        lookup_bits: degree as usize - 1,
    };
    // One digits proof in two layers: k = 19 in three columns, then k = 22 in one.
    let (first, second) = (MemoryEstimate::new(&config(19, 3), None), MemoryEstimate::new(&config(22, 1), None));
    assert!(first.prove_bytes > first.srs_bytes && first.srs_bytes == srs_bytes(19), "{first:?}");
    let both = first.then(second);
    assert_eq!(both.prove_bytes, second.prove_bytes + srs_bytes(19), "the first SRS stays loaded: {both:?}");
    assert_eq!(both.keygen_bytes, second.keygen_bytes + srs_bytes(19), "{both:?}");
    // A larger first layer rules its phase; an SRS of the same size is counted once.
    let big_first = MemoryEstimate::new(&config(22, 4), None);
    let both = big_first.then(second);
    assert_eq!((both.keygen_bytes, both.prove_bytes), (big_first.keygen_bytes, big_first.prove_bytes), "{both:?}");
    assert_eq!(both.srs_bytes, srs_bytes(22));
    // Fewer cells than the columns hold take less keygen memory, the same proving memory.
    let sparse = MemoryEstimate::new(&config(22, 4), Some(3 << 22));
    assert!(sparse.keygen_bytes < big_first.keygen_bytes && sparse.prove_bytes == big_first.prove_bytes);
}
