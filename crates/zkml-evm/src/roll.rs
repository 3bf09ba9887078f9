//! Rolls snark-verifier's straight-line Yul back into loops, so that a verifier's size stops growing with
//! its number of public instances.
//!
//! snark-verifier's EVM loader writes every operation out: each public instance costs a load, a Lagrange
//! basis term (two constants of 32 bytes), two steps of the batch inversion and a product in the instance
//! evaluation, about 160 bytes of runtime code. An aggregated proof of 16 inferences has 92 instances, and
//! the unrolled verifier no longer fits in EIP-170's 24,576 bytes. Those statements are runs of one template
//! whose numbers move by a fixed step (memory and calldata offsets) or a fixed ratio modulo the scalar field
//! (powers of the domain generator ω). [`roll_loops`] finds every run of at least `min_repeats` such units
//! and writes it as one `for` loop that carries each moving number in its own variable. The statements run
//! in the same order with the same values, so the verifier computes exactly what it did before; only code
//! size and a little loop overhead change.
//!
//! Only simple statements are rolled: one line, no braces, no `let` (a declaration inside a loop body would
//! be scoped to it). Every number of a unit must be constant, arithmetic or geometric over the whole run,
//! checked exactly, or the run ends there.

use revm::primitives::U256;

/// The scalar field modulus `f_q` of BN254, the ratio's modulus for geometric runs.
const SCALAR_MODULUS: U256 =
    U256::from_limbs([0x43e1f593f0000001, 0x2833e84879b97091, 0xb85045b68181585d, 0x30644e72e131a029]);

/// The longest unit (in statements) looked for.
const MAX_PERIOD: usize = 4;

/// Units per loop iteration: the loop's own overhead (bound check, jump, one update per moving number) is
/// paid once per this many units.
pub const UNROLL: usize = 4;

/// Prefix of the loop variables; snark-verifier never names a variable this way.
const VAR: &str = "zkml_";

/// One line of source: the text with its numbers taken out, or `None` when it may not be rolled.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Statement {
    /// The text between the numbers (`numbers.len() + 1` pieces).
    pieces: Vec<String>,
    /// The numeric literals in order.
    numbers: Vec<U256>,
}

/// The numbers of a unit's statements, in order.
fn numbers(unit: &[&Statement]) -> Vec<U256> {
    unit.iter().flat_map(|s| s.numbers.iter().copied()).collect()
}

/// How one number moves from unit to unit of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The same in every unit.
    Constant,
    /// `v_j = v_0 + j·d`.
    Up(U256),
    /// `v_j = v_0 - j·d`.
    Down(U256),
    /// `v_j = v_0·r^j mod f_q`.
    Times(U256),
}

impl Step {
    /// Every step that takes `a` to `b`: the offset first, then the ratio modulo `f_q`.
    fn candidates(a: U256, b: U256) -> Vec<Self> {
        if a == b {
            return vec![Self::Constant];
        }
        let offset = if b > a { Self::Up(b - a) } else { Self::Down(a - b) };
        let ratio = (a < SCALAR_MODULUS && b < SCALAR_MODULUS)
            .then(|| a.inv_mod(SCALAR_MODULUS))
            .flatten()
            .map(|inverse| Self::Times(b.mul_mod(inverse, SCALAR_MODULUS)));
        std::iter::once(offset).chain(ratio).collect()
    }

    /// The value after `a`, if this step produces one without leaving 256 bits.
    fn next(self, a: U256) -> Option<U256> {
        match self {
            Self::Constant => Some(a),
            Self::Up(d) => a.checked_add(d),
            Self::Down(d) => a.checked_sub(d),
            Self::Times(r) => (a < SCALAR_MODULUS).then(|| a.mul_mod(r, SCALAR_MODULUS)),
        }
    }
}

/// A run found in the source: `repeats` units of `period` statements from line `start`.
#[derive(Clone, Debug)]
struct Run {
    start: usize,
    period: usize,
    repeats: usize,
    /// One step per number of the unit, in order.
    steps: Vec<Step>,
}

/// Rewrites every run of at least `min_repeats` (two or more) repeated units in the assembly of a
/// snark-verifier contract as a loop whose body holds [`UNROLL`] units. Text before the `assembly` block
/// is left alone; blank lines are dropped.
pub fn roll_loops(source: &str, min_repeats: usize) -> String {
    let min_repeats = min_repeats.max(UNROLL);
    let all: Vec<&str> = source.lines().collect();
    let body_start = all.iter().position(|line| line.contains("assembly")).map_or(all.len(), |i| i + 1);
    // Blank lines would split runs (snark-verifier separates the steps of its batch inversion with them).
    let lines: Vec<&str> = all
        .iter()
        .enumerate()
        .filter(|(i, line)| *i < body_start || !line.trim().is_empty())
        .map(|(_, l)| *l)
        .collect();
    let statements: Vec<Option<Statement>> =
        lines.iter().enumerate().map(|(i, line)| if i < body_start { None } else { parse(line) }).collect();

    let mut out = String::with_capacity(source.len());
    let mut next_var = 0usize;
    let mut i = 0;
    while i < lines.len() {
        match best_run(&statements, i, min_repeats) {
            Some(run) => {
                write_loop(&mut out, &statements, &run, &mut next_var);
                // Units that do not fill a whole loop body stay as they were.
                let rolled = run.repeats / UNROLL * UNROLL;
                let end = run.start + run.period * run.repeats;
                for line in &lines[run.start + run.period * rolled..end] {
                    out.push_str(line);
                    out.push('\n');
                }
                i = end;
            }
            None => {
                out.push_str(lines[i]);
                out.push('\n');
                i += 1;
            }
        }
    }
    out
}

/// Splits a rollable line into text and numbers.
fn parse(line: &str) -> Option<Statement> {
    let text = line.trim();
    if text.is_empty()
        || text.contains('{')
        || text.contains('}')
        || text.starts_with("//")
        || text.starts_with("let ")
        || text.contains(" let ")
        || text.starts_with("function")
    {
        return None;
    }
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut numbers = Vec::new();
    let mut piece = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts_word && bytes[i].is_ascii_digit() {
            let mut end = i;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            let literal = &text[i..end];
            let value = match literal.strip_prefix("0x") {
                Some(hex) => U256::from_str_radix(hex, 16).ok()?,
                None => U256::from_str_radix(literal, 10).ok()?,
            };
            pieces.push(std::mem::take(&mut piece));
            numbers.push(value);
            i = end;
        } else {
            piece.push(bytes[i] as char);
            i += 1;
        }
    }
    pieces.push(piece);
    Some(Statement { pieces, numbers })
}

/// The run from `start` covering the most statements, if any repeats at least `min_repeats` times.
fn best_run(statements: &[Option<Statement>], start: usize, min_repeats: usize) -> Option<Run> {
    (1..=MAX_PERIOD)
        .filter_map(|period| run_at(statements, start, period))
        .filter(|run| run.repeats >= min_repeats)
        .max_by_key(|run| (run.period * run.repeats, std::cmp::Reverse(run.period)))
}

/// The run of `period`-statement units from `start`.
fn run_at(statements: &[Option<Statement>], start: usize, period: usize) -> Option<Run> {
    let unit = |j: usize| -> Option<Vec<&Statement>> {
        let from = start + j * period;
        statements.get(from..from + period)?.iter().map(Option::as_ref).collect()
    };
    let first = unit(0)?;
    let second = unit(1)?;
    let same_text = |a: &[&Statement], b: &[&Statement]| a.iter().zip(b).all(|(x, y)| x.pieces == y.pieces);
    if !same_text(&first, &second) {
        return None;
    }
    let (first_numbers, second_numbers) = (numbers(&first), numbers(&second));
    // Two values fit both an offset and a ratio; the third unit, when there is one, decides.
    let third_numbers = unit(2).filter(|third| same_text(&first, third)).map(|third| numbers(&third));
    let steps: Vec<Step> = first_numbers
        .iter()
        .zip(&second_numbers)
        .enumerate()
        .map(|(slot, (a, b))| {
            let candidates = Step::candidates(*a, *b);
            let fits = |step: &&Step| match &third_numbers {
                Some(third) => step.next(*b) == Some(third[slot]),
                None => true,
            };
            candidates.iter().find(fits).or(candidates.first()).copied()
        })
        .collect::<Option<_>>()?;
    let mut current = second_numbers;
    let mut repeats = 2;
    while let Some(next) = unit(repeats) {
        if !same_text(&first, &next) {
            break;
        }
        let next_numbers = numbers(&next);
        let expected: Option<Vec<U256>> = steps.iter().zip(&current).map(|(step, v)| step.next(*v)).collect();
        if expected.as_ref() != Some(&next_numbers) {
            break;
        }
        current = next_numbers;
        repeats += 1;
    }
    Some(Run { start, period, repeats, steps })
}

/// Writes the first `repeats / UNROLL · UNROLL` units of `run` as a `for` loop of [`UNROLL`] units per
/// iteration: one variable per moving number, its later copies in the body as offsets from it.
fn write_loop(out: &mut String, statements: &[Option<Statement>], run: &Run, next_var: &mut usize) {
    let unit: Vec<&Statement> = statements[run.start..run.start + run.period].iter().flatten().collect();
    let first = numbers(&unit);
    let iterations = run.repeats / UNROLL;
    let mut fresh = || {
        *next_var += 1;
        format!("{VAR}{next_var}")
    };
    let names: Vec<Option<String>> = run.steps.iter().map(|step| (*step != Step::Constant).then(&mut fresh)).collect();

    // The loop ends on an increasing offset when there is one, else on a counter.
    let span = U256::from(iterations * UNROLL);
    let bound = run.steps.iter().zip(&names).zip(&first).find_map(|((step, name), v)| match step {
        Step::Up(d) => Some(format!("lt({}, {})", name.as_deref()?, hex(&v.checked_add(d.checked_mul(span)?)?))),
        _ => None,
    });
    let counter = bound.is_none().then(&mut fresh);

    let mut init = Vec::new();
    let mut post = Vec::new();
    if let Some(counter) = &counter {
        init.push(format!("let {counter} := 0"));
        post.push(format!("{counter} := add({counter}, 1)"));
    }
    let unroll = U256::from(UNROLL);
    for ((step, name), value) in run.steps.iter().zip(&names).zip(&first) {
        let Some(name) = name else { continue };
        init.push(format!("let {name} := {}", hex(value)));
        post.push(match step {
            Step::Up(d) => format!("{name} := add({name}, {})", hex(&(*d * unroll))),
            Step::Down(d) => format!("{name} := sub({name}, {})", hex(&(*d * unroll))),
            Step::Times(r) => {
                format!("{name} := mulmod({name}, {}, {})", hex(&power(*r, UNROLL)), hex(&SCALAR_MODULUS))
            }
            Step::Constant => unreachable!("constants have no variable"),
        });
    }
    let condition = bound.unwrap_or_else(|| format!("lt({}, {iterations})", counter.as_deref().unwrap_or_default()));

    out.push_str(&format!("for {{ {} }} {condition} {{ {} }} {{\n", init.join(" "), post.join(" ")));
    for copy in 0..UNROLL {
        let mut slot = 0;
        for statement in &unit {
            out.push_str("    ");
            for (k, piece) in statement.pieces.iter().enumerate() {
                out.push_str(piece);
                if k < statement.numbers.len() {
                    let value = match (&names[slot], run.steps[slot]) {
                        (None, _) => hex(&statement.numbers[k]),
                        (Some(name), _) if copy == 0 => name.clone(),
                        (Some(name), Step::Up(d)) => format!("add({name}, {})", hex(&(d * U256::from(copy)))),
                        (Some(name), Step::Down(d)) => format!("sub({name}, {})", hex(&(d * U256::from(copy)))),
                        (Some(name), Step::Times(r)) => {
                            format!("mulmod({name}, {}, {})", hex(&power(r, copy)), hex(&SCALAR_MODULUS))
                        }
                        (Some(_), Step::Constant) => unreachable!("constants have no variable"),
                    };
                    out.push_str(&value);
                    slot += 1;
                }
            }
            out.push('\n');
        }
    }
    out.push_str("}\n");
}

/// `r^e mod f_q`.
fn power(r: U256, e: usize) -> U256 {
    r.pow_mod(U256::from(e), SCALAR_MODULUS)
}

fn hex(value: &U256) -> String {
    format!("{value:#x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assembly(body: &str) -> String {
        format!("contract C {{\n    fallback() external {{\n        assembly {{\n{body}        }}\n    }}\n}}\n")
    }

    #[test]
    fn the_modulus_is_bn254s_scalar_field() {
        use halo2_base::halo2_proofs::halo2curves::{bn256::Fr, ff::PrimeField};
        let modulus = U256::from_str_radix(Fr::MODULUS.trim_start_matches("0x"), 16).expect("hex modulus");
        assert_eq!(SCALAR_MODULUS, modulus);
    }

    #[test]
    fn rolls_a_run_of_offsets() {
        // Nine units: two iterations of four, and the ninth as written.
        let body: String =
            (0..9).map(|i| format!("mstore({:#x}, mod(calldataload({:#x}), f_q))\n", 0xa0 + 32 * i, 32 * i)).collect();
        let rolled = roll_loops(&assembly(&body), 4);
        assert!(rolled.contains("for { let zkml_1 := 0xa0 let zkml_2 := 0x0 } lt(zkml_1, 0x1a0)"), "{rolled}");
        assert!(rolled.contains("zkml_1 := add(zkml_1, 0x80)"), "{rolled}");
        assert!(rolled.contains("mstore(zkml_1, mod(calldataload(zkml_2), f_q))"), "{rolled}");
        assert!(rolled.contains("mstore(add(zkml_1, 0x60), mod(calldataload(add(zkml_2, 0x60)), f_q))"), "{rolled}");
        assert!(rolled.contains("mstore(0x1a0, mod(calldataload(0x100), f_q))"), "{rolled}");
        assert_eq!(rolled.matches("calldataload").count(), UNROLL + 1);
    }

    #[test]
    fn rolls_powers_of_a_field_element_and_two_statement_units() {
        let omega = U256::from(5u64);
        let mut power = U256::from(1u64);
        let mut body = String::new();
        for i in 0..8u64 {
            let negated = SCALAR_MODULUS - power;
            body.push_str(&format!("mstore({:#x}, mulmod(mload(0x1160), {power}, f_q))\n", 0x1340 + 0x40 * i));
            body.push_str(&format!("mstore({:#x}, addmod(mload(0x840), {negated}, f_q))\n", 0x1360 + 0x40 * i));
            power = power.mul_mod(omega, SCALAR_MODULUS);
        }
        let rolled = roll_loops(&assembly(&body), 4);
        assert_eq!(rolled.matches("for {").count(), 1, "{rolled}");
        assert!(rolled.contains(&format!("mulmod(zkml_2, 0x5, {})", hex(&SCALAR_MODULUS))), "{rolled}");
        assert!(rolled.contains(&format!("zkml_2 := mulmod(zkml_2, 0x271, {})", hex(&SCALAR_MODULUS))), "{rolled}");
        assert!(rolled.contains("mload(0x1160)"), "constants stay literal: {rolled}");
    }

    #[test]
    fn leaves_short_or_irregular_runs_alone() {
        let body = "mstore(0xa0, 1)\nmstore(0xc0, 3)\nmstore(0xe0, 4)\nmstore(0x100, 9)\nlet x := 1\nx := 2\n";
        let source = assembly(body);
        assert_eq!(roll_loops(&source, 3), source);
        let short: String = (0..3).map(|i| format!("mstore({:#x}, 0)\n", 32 * i)).collect();
        let source = assembly(&short);
        assert_eq!(roll_loops(&source, 4), source);
    }

    #[test]
    fn never_rolls_declarations_or_code_outside_assembly() {
        let body: String = (0..6).map(|i| format!("let v{i} := mload({:#x})\n", 32 * i)).collect();
        let source = assembly(&body);
        assert_eq!(roll_loops(&source, 2), source);
        let outside = "uint a = 1;\nuint a = 2;\nuint a = 3;\nassembly {\n}\n";
        assert_eq!(roll_loops(outside, 2), outside);
    }

    #[test]
    fn a_descending_run_counts_down_with_a_counter() {
        let body: String =
            (0..8).map(|i| format!("\nv := mload({:#x})\ninv := mulmod(v, inv, f_q)\n", 0x18a0 - 0x40 * i)).collect();
        let rolled = roll_loops(&assembly(&body), 4);
        assert!(rolled.contains("zkml_1 := sub(zkml_1, 0x100)"), "{rolled}");
        assert!(rolled.contains("v := mload(sub(zkml_1, 0xc0))"), "{rolled}");
        assert!(rolled.contains("lt(zkml_2, 2)"), "{rolled}");
    }
}
