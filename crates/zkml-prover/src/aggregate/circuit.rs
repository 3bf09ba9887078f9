//! The aggregation circuit: snark-verifier's in-circuit SHPLONK verifier run over every inner proof, with
//! the elliptic-curve work of all of them done in one batched multi-scalar multiplication.
//!
//! snark-verifier-sdk's `AggregationCircuit` evaluates each inner proof's KZG accumulator with its own MSM
//! (a digits proof: 12 proof commitments and 8 verifying-key points), then folds the N accumulators with a
//! random linear combination, two more MSMs over N points each. One in-circuit point costs 100,000 to
//! 140,000 cells whether its base is fixed or not, so those MSMs are nearly the whole circuit. An
//! accumulator is linear in its MSM, so [`DeferringEccChip`] records each MSM instead of evaluating it,
//! and [`build`] evaluates the fold `Σ cᵢ·MSMᵢ` once:
//! - the verifying-key points of proofs of one model collapse into one term each,
//! - all proof commitments and those verifying-key points share one multi-product MSM ([`super::msm`]:
//!   cheaper per point than N small ones, and than a separate fixed-base MSM for the constant points),
//! - the fold's own MSMs disappear.
//!
//! The fold coefficients are squeezed from a Poseidon transcript over one binding challenge per inner
//! proof, squeezed from that proof's own transcript after its last commitment. Those transcripts absorb
//! the verifying key, the instances and every commitment and evaluation, which fix every scalar and base
//! of the recorded MSMs, so the coefficients are chosen after everything they combine, as in
//! snark-verifier's KZG accumulation scheme. One more challenge, squeezed after the coefficients, fixes
//! the offset point that lets the batched MSM skip its operand checks ([`super::msm`]). The values a deferred MSM
//! returns to snark-verifier are a placeholder point; [`DeferringEccChip`] records any use of it as an
//! error, so the placeholder can never reach a constraint.

use std::{
    cell::{Cell, RefCell},
    mem,
    ops::Deref,
    rc::Rc,
};

use halo2_base::halo2_proofs::halo2curves::bn256::Bn256;
use halo2_base::{
    AssignedValue, QuantumCell,
    gates::{
        GateInstructions, RangeChip,
        circuit::{BaseCircuitParams, BaseConfig, CircuitBuilderStage, builder::BaseCircuitBuilder},
        flex_gate::{MultiPhaseThreadBreakPoints, threads::SinglePhaseCoreManager},
    },
    halo2_proofs::{
        circuit::{Layouter, SimpleFloorPlanner},
        halo2curves::{
            bn256::{Fr, G1Affine},
            group::prime::PrimeCurveAffine,
        },
        plonk::{self, Circuit, ConstraintSystem, Selector},
        poly::{commitment::ParamsProver, kzg::commitment::ParamsKZG},
    },
};
use snark_verifier_sdk::{
    BITS, CircuitExt, LIMBS, SHPLONK, Snark,
    halo2::{POSEIDON_SPEC, PoseidonTranscript, aggregation::AggregationConfigParams},
    snark_verifier::{
        loader::halo2::{
            EccInstructions, Halo2Loader,
            halo2_ecc::{
                bigint::ProperCrtUint,
                bn254::FpChip,
                ecc::{BaseFieldEccChip, EcPoint},
            },
        },
        pcs::kzg::{KzgSuccinctVerifyingKey, LimbsEncoding, LimbsEncodingInstructions},
        system::halo2::transcript::halo2::NativeEncoding,
        util::transcript::Transcript as _,
        verifier::{SnarkVerifier, plonk::PlonkSuccinctVerifier},
    },
};
use zkml_circuit::circuit::fitted_params;

use super::msm;
use crate::error::{Error, Result};

/// Bits of a BN254 scalar, the width of every MSM scalar.
const SCALAR_BITS: usize = 254;

type Point = EcPoint<Fr, ProperCrtUint<Fr>>;
type Scalar = AssignedValue<Fr>;

/// One multi-scalar multiplication snark-verifier asked for, not evaluated.
#[derive(Clone, Debug)]
struct MsmClaim {
    /// Witness bases with witness scalars.
    scaled: Vec<(Scalar, Point)>,
    /// Witness bases with scalar one.
    unit: Vec<Point>,
    /// Constant bases (verifying-key commitments, the SRS generator) with witness scalars.
    fixed: Vec<(Scalar, G1Affine)>,
    /// The constant part (constant bases times constant scalars).
    constant: G1Affine,
}

impl Default for MsmClaim {
    fn default() -> Self {
        Self { scaled: Vec::new(), unit: Vec::new(), fixed: Vec::new(), constant: G1Affine::identity() }
    }
}

#[derive(Debug, Default)]
struct DeferState {
    /// Stands for every deferred result. Never constrained, so never allowed as an input.
    placeholder: Option<Point>,
    /// The MSM being assembled: halo2's loader hands over its fixed and variable parts, then sums them.
    pending: MsmClaim,
    /// Placeholders handed out for `pending`.
    pending_placeholders: usize,
    /// Finished MSMs, in the order snark-verifier evaluated them.
    claims: Vec<MsmClaim>,
    /// Set when a placeholder was used as an input: the circuit would be unsound, so building fails.
    misused: bool,
}

/// A halo2-lib elliptic-curve chip for snark-verifier's halo2 loader that records multi-scalar
/// multiplications instead of evaluating them. Everything else is `BaseFieldEccChip`'s.
#[derive(Clone, Debug)]
pub(crate) struct DeferringEccChip<'chip> {
    inner: BaseFieldEccChip<'chip, G1Affine>,
    state: Rc<RefCell<DeferState>>,
}

impl DeferringEccChip<'_> {
    /// Whether `point` is the placeholder. Cells are only tracked at keygen (and in the mock prover), which
    /// is when the constraints are fixed; while proving the answer is unknown (`None`).
    fn is_placeholder(&self, point: &Point) -> Option<bool> {
        let state = self.state.borrow();
        let placeholder = state.placeholder.as_ref()?;
        let cell = |p: &Point| p.x().limbs()[0].cell;
        Some(cell(placeholder)? == cell(point)?)
    }

    fn flag_if_placeholder(&self, point: &Point) {
        if self.is_placeholder(point) == Some(true) {
            self.state.borrow_mut().misused = true;
        }
    }

    /// The placeholder, loaded on first use.
    fn placeholder(&self, ctx: &mut SinglePhaseCoreManager<Fr>) -> Point {
        let mut state = self.state.borrow_mut();
        let generator = G1Affine::generator();
        state
            .placeholder
            .get_or_insert_with(|| self.inner.load_private_unchecked(ctx.main(), (generator.x, generator.y)))
            .clone()
    }
}

impl EccInstructions<G1Affine> for DeferringEccChip<'_> {
    type Context = SinglePhaseCoreManager<Fr>;
    type ScalarChip = <BaseFieldEccChip<'static, G1Affine> as EccInstructions<G1Affine>>::ScalarChip;
    type AssignedCell = Scalar;
    type AssignedScalar = Scalar;
    type AssignedEcPoint = Point;

    fn scalar_chip(&self) -> &Self::ScalarChip {
        EccInstructions::<G1Affine>::scalar_chip(&self.inner)
    }

    fn assign_constant(&self, ctx: &mut Self::Context, point: G1Affine) -> Point {
        EccInstructions::assign_constant(&self.inner, ctx, point)
    }

    fn assign_point(&self, ctx: &mut Self::Context, point: G1Affine) -> Point {
        EccInstructions::assign_point(&self.inner, ctx, point)
    }

    /// halo2's loader ends every MSM here, summing the scalar-one bases with the results of the fixed- and
    /// variable-base parts, which it passes last: the placeholders handed out since the last sum. That
    /// completes one claim.
    fn sum_with_const(
        &self,
        ctx: &mut Self::Context,
        values: &[impl Deref<Target = Point>],
        constant: G1Affine,
    ) -> Point {
        let pending_placeholders = self.state.borrow().pending_placeholders;
        let Some(split) = values.len().checked_sub(pending_placeholders) else {
            self.state.borrow_mut().misused = true;
            return self.placeholder(ctx);
        };
        let (unit, placeholders) = values.split_at(split);
        let misplaced = unit.iter().any(|value| self.is_placeholder(value) == Some(true))
            || placeholders.iter().any(|value| self.is_placeholder(value) == Some(false));
        let mut state = self.state.borrow_mut();
        state.misused |= misplaced;
        let mut claim = mem::take(&mut state.pending);
        claim.unit.extend(unit.iter().map(|value| value.deref().clone()));
        claim.constant = (claim.constant + constant).into();
        state.claims.push(claim);
        state.pending_placeholders = 0;
        drop(state);
        self.placeholder(ctx)
    }

    fn fixed_base_msm(&mut self, ctx: &mut Self::Context, pairs: &[(impl Deref<Target = Scalar>, G1Affine)]) -> Point {
        let fixed: Vec<_> = pairs.iter().map(|(scalar, base)| (*scalar.deref(), *base)).collect();
        self.state.borrow_mut().pending.fixed.extend(fixed);
        self.state.borrow_mut().pending_placeholders += 1;
        self.placeholder(ctx)
    }

    fn variable_base_msm(
        &mut self,
        ctx: &mut Self::Context,
        pairs: &[(impl Deref<Target = Scalar>, impl Deref<Target = Point>)],
    ) -> Point {
        for (_, base) in pairs {
            self.flag_if_placeholder(base);
        }
        let scaled: Vec<_> = pairs.iter().map(|(scalar, base)| (*scalar.deref(), base.deref().clone())).collect();
        self.state.borrow_mut().pending.scaled.extend(scaled);
        self.state.borrow_mut().pending_placeholders += 1;
        self.placeholder(ctx)
    }

    fn assert_equal(&self, ctx: &mut Self::Context, lhs: &Point, rhs: &Point) {
        self.flag_if_placeholder(lhs);
        self.flag_if_placeholder(rhs);
        EccInstructions::<G1Affine>::assert_equal(&self.inner, ctx, lhs, rhs);
    }
}

/// How snark-verifier reads the accumulator an inner aggregated proof carries in its instances: each point
/// from its limbs, on-curve checked and copy-constrained to the instance cells (`BaseFieldEccChip`'s).
impl LimbsEncodingInstructions<G1Affine, LIMBS, BITS> for DeferringEccChip<'_> {
    fn assign_ec_point_from_limbs(&self, ctx: &mut Self::Context, limbs: &[impl Deref<Target = Scalar>]) -> Point {
        LimbsEncodingInstructions::<G1Affine, LIMBS, BITS>::assign_ec_point_from_limbs(&self.inner, ctx, limbs)
    }

    fn assign_ec_point_to_limbs(&self, ctx: &mut Self::Context, ec_point: impl Deref<Target = Point>) -> Vec<Scalar> {
        self.flag_if_placeholder(&ec_point);
        LimbsEncodingInstructions::<G1Affine, LIMBS, BITS>::assign_ec_point_to_limbs(&self.inner, ctx, ec_point)
    }
}

impl NativeEncoding<G1Affine> for DeferringEccChip<'_> {
    fn encode(
        &self,
        ctx: &mut Self::Context,
        point: &Point,
    ) -> std::result::Result<Vec<Scalar>, snark_verifier_sdk::snark_verifier::Error> {
        self.flag_if_placeholder(point);
        NativeEncoding::<G1Affine>::encode(&self.inner, ctx, point)
    }
}

/// The MSMs of one inner proof's KZG accumulator: `e(lhs, G2) = e(rhs, s·G2)`.
struct InnerAccumulator {
    lhs: MsmClaim,
    rhs: MsmClaim,
}

/// A running fold `Σ cᵢ·claimᵢ`, kept as MSM terms.
struct Fold {
    scaled: Vec<(Scalar, Point)>,
    unit: Vec<Point>,
    fixed: Vec<(G1Affine, Scalar)>,
    constant: Option<G1Affine>,
    /// True while every scaled term's scalar is a fold coefficient (a scalar-one base, scaled).
    only_coefficients: bool,
}

impl Default for Fold {
    fn default() -> Self {
        Self { scaled: Vec::new(), unit: Vec::new(), fixed: Vec::new(), constant: None, only_coefficients: true }
    }
}

impl Fold {
    /// Adds `scale · claim` (`scale = None` means one).
    fn add(
        &mut self,
        gate: &impl GateInstructions<Fr>,
        ctx: &mut SinglePhaseCoreManager<Fr>,
        claim: MsmClaim,
        scale: Option<Scalar>,
    ) {
        let ctx = ctx.main();
        if !claim.scaled.is_empty() || !claim.fixed.is_empty() || !bool::from(claim.constant.is_identity()) {
            self.only_coefficients = false;
        }
        let mut times = |s: Scalar| match scale {
            Some(r) => gate.mul(ctx, s, r),
            None => s,
        };
        let mut scaled: Vec<(Scalar, Point)> = claim.scaled.into_iter().map(|(s, p)| (times(s), p)).collect();
        let mut fixed: Vec<(Scalar, G1Affine)> = claim.fixed.into_iter().map(|(s, p)| (times(s), p)).collect();
        match scale {
            None => {
                self.unit.extend(claim.unit);
                if !bool::from(claim.constant.is_identity()) {
                    let sum = self.constant.unwrap_or_else(G1Affine::identity) + claim.constant;
                    self.constant = Some(sum.into());
                }
            }
            Some(r) => {
                scaled.extend(claim.unit.into_iter().map(|p| (r, p)));
                if !bool::from(claim.constant.is_identity()) {
                    fixed.push((r, claim.constant));
                }
            }
        }
        self.scaled.extend(scaled);
        for (scalar, base) in fixed {
            if bool::from(base.is_identity()) {
                continue;
            }
            // One model's verifying-key points recur in every one of its proofs: one term each.
            match self.fixed.iter_mut().find(|(existing, _)| *existing == base) {
                Some((_, sum)) => *sum = gate.add(ctx, *sum, scalar),
                None => self.fixed.push((base, scalar)),
            }
        }
    }

    /// Evaluates the fold in the circuit; every scaled term's scalar has at most `scalar_bits` bits. `offset`
    /// is [`msm::offset_point`] of a challenge squeezed after everything the fold combines.
    fn evaluate(
        self,
        ecc: &BaseFieldEccChip<'_, G1Affine>,
        pool: &mut SinglePhaseCoreManager<Fr>,
        offset: &Point,
        scalar_bits: usize,
    ) -> Point {
        let mut terms = self.unit;
        if self.scaled.len() + self.fixed.len() >= msm::MIN_BASES && self.scaled.len() >= msm::MIN_WITNESS_BASES {
            // Constant bases join the witness ones: one MSM is cheaper per base than a fixed-base one.
            let bits = if self.fixed.is_empty() { scalar_bits } else { SCALAR_BITS };
            let constants: Vec<(Scalar, G1Affine)> = self.fixed.into_iter().map(|(p, s)| (s, p)).collect();
            terms.push(msm::msm(ecc, pool, offset, &self.scaled, &constants, bits));
        } else {
            if !self.scaled.is_empty() {
                let (scalars, bases): (Vec<_>, Vec<_>) = self.scaled.into_iter().map(|(s, p)| (vec![s], p)).unzip();
                terms.push(ecc.variable_base_msm::<G1Affine>(pool, &bases, scalars, scalar_bits));
            }
            if !self.fixed.is_empty() {
                let (bases, scalars): (Vec<_>, Vec<_>) = self.fixed.into_iter().map(|(p, s)| (p, vec![s])).unzip();
                terms.push(ecc.fixed_base_msm::<G1Affine>(pool, &bases, scalars, SCALAR_BITS));
            }
        }
        EccInstructions::sum_with_const(
            ecc,
            pool,
            &terms.iter().collect::<Vec<_>>(),
            self.constant.unwrap_or_else(G1Affine::identity),
        )
    }
}

/// The aggregation circuit: a halo2-lib circuit whose public instances are the folded KZG accumulator (12
/// limbs) followed by every inner proof's instances.
#[derive(Clone, Debug)]
pub struct AggregationCircuit {
    /// In a cell so that proving can free the witness once halo2 has copied it into its columns: halo2 asks
    /// for it once, and it is tens of bytes per cell (hundreds of MB at N = 4) for the rest of the proof.
    builder: RefCell<BaseCircuitBuilder<Fr>>,
    /// Set once the witness was freed.
    witness_freed: Cell<bool>,
}

impl AggregationCircuit {
    /// Lays out the verification of `snarks` (Poseidon-transcript SHPLONK proofs: inference proofs, or
    /// aggregated proofs whose accumulator is folded into this one's) at `stage` with `config`.
    pub fn new(
        stage: CircuitBuilderStage,
        config: AggregationConfigParams,
        params: &ParamsKZG<Bn256>,
        snarks: &[Snark],
    ) -> Result<Self> {
        let mut builder = BaseCircuitBuilder::from_stage(stage).use_params(config.into());
        let range = builder.range_chip();
        let instances = build(&range, builder.pool(0), params, snarks)?;
        builder.assigned_instances[0] = instances;
        Ok(Self { builder: RefCell::new(builder), witness_freed: Cell::new(false) })
    }

    /// Sizes the columns to the cells laid out (keygen) and returns the configuration.
    pub fn calculate_params(&mut self, minimum_unusable_rows: usize) -> Result<AggregationConfigParams> {
        AggregationConfigParams::try_from(fitted_params(self.builder.get_mut(), minimum_unusable_rows))
            .map_err(|e| Error::Aggregation(format!("aggregation circuit configuration: {e}")))
    }

    /// Advice cells laid out (lookup advice not included): keygen's memory follows them.
    pub fn advice_cells(&self) -> usize {
        self.builder.borrow().statistics().gate.total_advice_per_phase.iter().sum()
    }

    /// Where the cells break across columns (fixed at keygen, reused to prove).
    pub fn break_points(&self) -> MultiPhaseThreadBreakPoints {
        self.builder.borrow().break_points()
    }

    /// The circuit with the break points keygen chose.
    pub fn use_break_points(mut self, break_points: MultiPhaseThreadBreakPoints) -> Self {
        self.builder.get_mut().set_break_points(break_points);
        self
    }
}

/// snark-verifier's succinct SHPLONK verifier, reading an inner aggregation's accumulator from its limbs.
type InnerVerifier = PlonkSuccinctVerifier<SHPLONK, LimbsEncoding<LIMBS, BITS>>;

/// Bits of the fold coefficients. A forged inner accumulator survives the fold for one coefficient value
/// in 2^128, the usual margin of batched pairing checks; 128-bit scalars make the right-hand MSM half as
/// long.
const COEFFICIENT_BITS: usize = 128;

/// The low [`COEFFICIENT_BITS`] bits of `challenge`, cut from its canonical decomposition: a plain 254-bit
/// one would also take the bits of `challenge + r` where that is below 2^254, a second coefficient the
/// prover could pick after the offset seed, which the MSM's argument assumes fixed (see [`super::msm`]).
fn short_coefficient(range: &RangeChip<Fr>, pool: &mut SinglePhaseCoreManager<Fr>, challenge: Scalar) -> Scalar {
    let ctx = pool.main();
    let bits = msm::canonical_bits(range, ctx, challenge, SCALAR_BITS);
    let gate = &range.gate;
    let powers = gate.pow_of_two()[..COEFFICIENT_BITS].iter().map(|p| QuantumCell::Constant(*p));
    gate.inner_product(ctx, bits[..COEFFICIENT_BITS].iter().copied(), powers)
}

/// Verifies `snarks` in the circuit and returns the public instances: the folded accumulator's limbs, then
/// each proof's instances (an aggregated proof's without its accumulator limbs, which are folded in).
fn build(
    range: &RangeChip<Fr>,
    pool: &mut SinglePhaseCoreManager<Fr>,
    params: &ParamsKZG<Bn256>,
    snarks: &[Snark],
) -> Result<Vec<Scalar>> {
    let svk: KzgSuccinctVerifyingKey<G1Affine> = params.get_g()[0].into();
    let fp_chip = FpChip::<Fr>::new(range, BITS, LIMBS);
    let state = Rc::new(RefCell::new(DeferState::default()));
    let chip = DeferringEccChip { inner: BaseFieldEccChip::<G1Affine>::new(&fp_chip), state: state.clone() };
    let loader = Halo2Loader::new(chip, mem::take(pool));
    let mut transcript = PoseidonTranscript::<Rc<Halo2Loader<G1Affine, DeferringEccChip<'_>>>, &[u8]>::from_spec(
        &loader,
        &[],
        POSEIDON_SPEC.clone(),
    );
    let failed = |what: &str, e: snark_verifier_sdk::snark_verifier::Error| {
        Error::Aggregation(format!("in-circuit verification of inner proof: {what}: {e:?}"))
    };

    let mut accumulators = Vec::with_capacity(snarks.len());
    let mut instances = Vec::with_capacity(snarks.len());
    let mut bindings = Vec::with_capacity(snarks.len());
    for (index, snark) in snarks.iter().enumerate() {
        let protocol = snark.protocol.loaded(&loader);
        let assigned: Vec<Vec<_>> = snark
            .instances
            .iter()
            .map(|column| column.iter().map(|value| loader.assign_scalar(*value)).collect())
            .collect();
        transcript.new_stream(snark.proof());
        let before = state.borrow().claims.len();
        let proof = InnerVerifier::read_proof(&svk, &protocol, &assigned, &mut transcript)
            .map_err(|e| failed("reading the proof", e))?;
        InnerVerifier::verify(&svk, &protocol, &assigned, &proof).map_err(|e| failed("verifying", e))?;
        let mut new_claims = state.borrow_mut().claims.split_off(before).into_iter();
        let (Some(lhs), Some(rhs), None) = (new_claims.next(), new_claims.next(), new_claims.next()) else {
            return Err(Error::Aggregation(format!(
                "inner proof {index}: snark-verifier did not produce one KZG accumulator (two MSMs)"
            )));
        };
        accumulators.push(InnerAccumulator { lhs, rhs });
        // An inner aggregation's own accumulator, read from its instances, is folded in like any other, with
        // a coefficient of its own: sharing this proof's would let a forged pair cancel against its new one.
        for old in &proof.old_accumulators {
            let unit = |point: &Point| MsmClaim { unit: vec![point.clone()], ..MsmClaim::default() };
            accumulators.push(InnerAccumulator { lhs: unit(&old.lhs.assigned()), rhs: unit(&old.rhs.assigned()) });
        }
        // Squeezed after the last read (W'), so it binds this proof's whole transcript, instances included.
        bindings.push(transcript.squeeze_challenge());
        // The limbs of an inner accumulator are folded into this circuit's, so they are not public again.
        let folded: Vec<(usize, usize)> = snark.protocol.accumulator_indices.iter().flatten().copied().collect();
        for (column, values) in assigned.into_iter().enumerate() {
            let exposed = values.into_iter().enumerate().filter(|(row, _)| !folded.contains(&(column, *row)));
            instances.extend(exposed.map(|(_, value)| value));
        }
    }

    // The fold coefficients must be chosen after everything they combine: each inner transcript's
    // binding challenge covers its instances and every commitment and evaluation, W' included.
    transcript.new_stream(&[]);
    for binding in &bindings {
        transcript.common_scalar(binding).map_err(|e| failed("absorbing the binding challenges", e))?;
    }
    // One coefficient per accumulator after the first (whose is one), each squeezed separately.
    let challenges: Vec<Scalar> =
        (1..accumulators.len()).map(|_| transcript.squeeze_challenge().into_assigned()).collect();
    // Squeezed after every base and scalar of the folds is bound: the MSMs' additions rely on it.
    let offset_seed = transcript.squeeze_challenge().into_assigned();
    if state.borrow().misused {
        return Err(Error::Aggregation(
            "internal: a deferred MSM result was used before the batched evaluation; refusing an unsound circuit"
                .into(),
        ));
    }
    let instances: Vec<Scalar> = instances.into_iter().map(|value| value.into_assigned()).collect();
    drop(transcript);
    drop(bindings);
    *pool = loader.take_ctx();

    let gate = &range.gate;
    let coefficients: Vec<_> =
        challenges.into_iter().map(|challenge| Some(short_coefficient(range, pool, challenge))).collect();
    let (mut lhs, mut rhs) = (Fold::default(), Fold::default());
    for (accumulator, coefficient) in accumulators.into_iter().zip(std::iter::once(None).chain(coefficients)) {
        lhs.add(gate, pool, accumulator.lhs, coefficient);
        rhs.add(gate, pool, accumulator.rhs, coefficient);
    }
    let ecc = BaseFieldEccChip::<G1Affine>::new(&fp_chip);
    // The right-hand side is `Σ cᵢ·W'ᵢ`: short scalars halve its MSM.
    let rhs_bits = if rhs.only_coefficients { COEFFICIENT_BITS } else { SCALAR_BITS };
    let offset = msm::offset_point(&ecc, pool, offset_seed);
    let lhs = lhs.evaluate(&ecc, pool, &offset, SCALAR_BITS);
    let rhs = rhs.evaluate(&ecc, pool, &offset, rhs_bits);
    let limbs = [lhs.x(), lhs.y(), rhs.x(), rhs.y()].into_iter().flat_map(|c| c.limbs().to_vec());
    Ok(limbs.chain(instances).collect())
}

impl Circuit<Fr> for AggregationCircuit {
    type Config = BaseConfig<Fr>;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = AggregationConfigParams;

    fn params(&self) -> Self::Params {
        AggregationConfigParams::try_from(&self.builder.borrow().config_params)
            .expect("built from AggregationConfigParams")
    }

    fn without_witnesses(&self) -> Self {
        // Only the V1 floor planner and dev tools call this; halo2-lib circuits use SimpleFloorPlanner.
        unimplemented!("halo2-lib circuits are laid out with witnesses")
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: Self::Params) -> Self::Config {
        BaseCircuitBuilder::configure_with_params(meta, BaseCircuitParams::from(params))
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> Self::Config {
        unreachable!("configured with parameters")
    }

    fn synthesize(&self, config: Self::Config, layouter: impl Layouter<Fr>) -> std::result::Result<(), plonk::Error> {
        if self.witness_freed.get() {
            // A second synthesis while proving would lay out an empty circuit: refuse it.
            return Err(plonk::Error::Synthesis);
        }
        let mut builder = self.builder.borrow_mut();
        builder.synthesize(config, layouter)?;
        if builder.witness_gen_only() {
            builder.clear();
            self.witness_freed.set(true);
        }
        Ok(())
    }
}

impl CircuitExt<Fr> for AggregationCircuit {
    fn num_instance(&self) -> Vec<usize> {
        self.builder.borrow().num_instance()
    }

    fn instances(&self) -> Vec<Vec<Fr>> {
        self.builder.borrow().instances()
    }

    fn accumulator_indices() -> Option<Vec<(usize, usize)>> {
        Some((0..4 * LIMBS).map(|index| (0, index)).collect())
    }

    fn selectors(config: &Self::Config) -> Vec<Selector> {
        BaseCircuitBuilder::selectors(config)
    }
}

#[cfg(test)]
mod tests {
    use halo2_base::{
        gates::circuit::{BaseCircuitParams, CircuitBuilderStage, builder::BaseCircuitBuilder},
        halo2_proofs::{
            dev::MockProver,
            halo2curves::ff::{Field, PrimeField},
        },
    };

    use super::*;

    /// A fold coefficient is the low 128 bits of its challenge, decomposed canonically (that a second bit
    /// pattern is refused is `msm`'s `a_scalar_has_one_bit_pattern`): for challenges with one pattern, and for
    /// those below 2^254 - r, to which a plain 254-bit decomposition gives two.
    #[test]
    fn a_fold_coefficient_is_the_low_bits_of_the_canonical_challenge() {
        let k = 12;
        let mut builder =
            BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Mock).use_params(BaseCircuitParams {
                k,
                num_advice_per_phase: vec![2],
                num_fixed: 1,
                num_lookup_advice_per_phase: vec![1],
                lookup_bits: Some(k - 1),
                num_instance_columns: 1,
            });
        let range = builder.range_chip();
        let two_128 = Fr::from_u128(u128::MAX) + Fr::ONE;
        let challenges = [Fr::ZERO, Fr::from(5), -Fr::ONE, two_128 - Fr::ONE, two_128 * Fr::from(7) + Fr::from(3)];
        let mut cells = Vec::new();
        for challenge in challenges {
            let before = builder.main(0).advice.len();
            let assigned = builder.main(0).load_witness(challenge);
            let coefficient = short_coefficient(&range, builder.pool(0), assigned);
            cells.push(builder.main(0).advice.len() - before - 1);
            let repr = challenge.to_repr();
            let low = Fr::from_u128(u128::from_le_bytes(repr[..16].try_into().expect("16 bytes")));
            assert_eq!(*coefficient.value(), low, "{challenge:?}");
            let ctx = builder.main(0);
            let expected = ctx.load_constant(low);
            ctx.constrain_equal(&coefficient, &expected);
        }
        // What the plain decomposition cost, for the record.
        let ctx = builder.main(0);
        let before = ctx.advice.len();
        let assigned = ctx.load_witness(Fr::from(5));
        let bits = range.gate.num_to_bits(ctx, assigned, SCALAR_BITS);
        let powers = range.gate.pow_of_two()[..COEFFICIENT_BITS].iter().map(|p| QuantumCell::Constant(*p));
        range.gate.inner_product(ctx, bits[..COEFFICIENT_BITS].iter().copied(), powers);
        eprintln!("cells per coefficient: {cells:?}, plain decomposition {}", ctx.advice.len() - before - 1);
        builder.calculate_params(Some(20));
        assert_eq!(MockProver::run(k as u32, &builder, vec![vec![]]).expect("runs").verify(), Ok(()));
    }
}
