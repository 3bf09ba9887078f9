//! An in-place, cache-blocked radix-2 FFT (zkml-eth patch; see PATCHES.md).
//!
//! Decimation in time after a bit-reversal permutation. The first [`BLOCK_LOG`] stages only mix elements
//! within blocks of `2^BLOCK_LOG` elements, so each block goes through all of them while it sits in the
//! core's cache; the remaining stages each stream the array once, split into segments that share one run
//! of twiddles across every butterfly group. Nothing of the input's size is allocated: the largest buffers
//! are one block's twiddles and one segment's twiddles per thread.

use ff::Field;

use crate::{arithmetic::FftGroup, multicore};

/// log2 of the elements a block holds: 2^11 field elements are 64 KiB, within a core's L2 cache.
const BLOCK_LOG: u32 = 11;

/// The most butterflies of one group that a task takes in a stage after the blocked ones.
const MAX_SEGMENT: usize = 1 << 12;

/// Runs `work` on every item, the items split into one contiguous part per thread.
fn for_each_in_parts<T: Send>(items: Vec<T>, work: impl Fn(T) + Sync) {
    let threads = multicore::current_num_threads().max(1);
    let per_part = items.len().div_ceil(threads).max(1);
    let mut items = items.into_iter();
    let work = &work;
    multicore::scope(|scope| loop {
        let part: Vec<T> = items.by_ref().take(per_part).collect();
        if part.is_empty() {
            break;
        }
        scope.spawn(move |_| part.into_iter().for_each(work));
    });
}

/// `out[i] = start · base^i`.
fn fill_powers<F: Field>(out: &mut [F], start: F, base: F) {
    let mut power = start;
    for value in out.iter_mut() {
        *value = power;
        power *= base;
    }
}

/// `(lo[j], hi[j]) ← (lo[j] + w_j·hi[j], lo[j] − w_j·hi[j])`.
#[inline(always)]
fn butterflies<F: Field, G: FftGroup<F>>(
    lo: &mut [G],
    hi: &mut [G],
    twiddles: impl Iterator<Item = F>,
) {
    for ((lo, hi), twiddle) in lo.iter_mut().zip(hi.iter_mut()).zip(twiddles) {
        let mut t = *hi;
        t *= &twiddle;
        *hi = *lo;
        *hi -= &t;
        *lo += &t;
    }
}

fn bitreverse_permutation<G: Copy>(a: &mut [G], log_n: u32) {
    let shift = usize::BITS - log_n;
    for i in 0..a.len() {
        let reversed = i.reverse_bits() >> shift;
        if i < reversed {
            a.swap(i, reversed);
        }
    }
}

/// Evaluates the polynomial with coefficients `a` at the powers of `omega` (of order `2^log_n`), in place.
pub fn fft<F: Field, G: FftGroup<F>>(a: &mut [G], omega: F, log_n: u32) {
    let n = a.len();
    assert_eq!(n, 1 << log_n);
    if log_n == 0 {
        return;
    }
    bitreverse_permutation(a, log_n);

    let block_log = BLOCK_LOG.min(log_n);
    let block = 1usize << block_log;
    let mut block_twiddles = vec![F::ONE; block / 2];
    fill_powers(
        &mut block_twiddles,
        F::ONE,
        omega.pow_vartime([(n >> block_log) as u64]),
    );
    let block_twiddles = &block_twiddles;
    for_each_in_parts(a.chunks_mut(block).collect(), |block_values: &mut [G]| {
        // The first stage's twiddles are all one.
        for pair in block_values.chunks_mut(2) {
            let t = pair[1];
            pair[1] = pair[0];
            pair[1] -= &t;
            pair[0] += &t;
        }
        for stage in 1..block_log {
            let half = 1usize << stage;
            let step = (block / 2) >> stage;
            for group in block_values.chunks_mut(2 * half) {
                let (lo, hi) = group.split_at_mut(half);
                butterflies(lo, hi, block_twiddles.iter().step_by(step).copied());
            }
        }
    });

    let threads = multicore::current_num_threads().max(1);
    for stage in block_log..log_n {
        let half = 1usize << stage;
        let stage_omega = omega.pow_vartime([(n >> (stage + 1)) as u64]);
        let segment = segment_len(half, threads);
        // Segment j of every group uses the same twiddles: one task per segment, across the groups. The
        // segments are indexed, not zipped, so a half that is not a multiple of `segment` would panic here
        // instead of silently dropping its last butterflies.
        let mut segments: Vec<Vec<(&mut [G], &mut [G])>> =
            (0..half.div_ceil(segment)).map(|_| Vec::new()).collect();
        for group in a.chunks_mut(2 * half) {
            let (lo, hi) = group.split_at_mut(half);
            for (index, pair) in lo.chunks_mut(segment).zip(hi.chunks_mut(segment)).enumerate() {
                segments[index].push(pair);
            }
        }
        for_each_in_parts(
            segments.into_iter().enumerate().collect(),
            |(index, pairs)| {
                let mut twiddles = vec![F::ONE; segment];
                fill_powers(
                    &mut twiddles,
                    stage_omega.pow_vartime([(index * segment) as u64]),
                    stage_omega,
                );
                for (lo, hi) in pairs {
                    butterflies(lo, hi, twiddles.iter().copied());
                }
            },
        );
    }
}

/// The butterflies of one group that a task takes in a stage whose groups have `half` pairs: about
/// `threads` tasks' worth twice over, at most [`MAX_SEGMENT`], and a power of two, so that the segments
/// tile every half (a power of two) exactly whatever the thread count (3, 6 or 24 threads included).
fn segment_len(half: usize, threads: usize) -> usize {
    let wanted = (half / (2 * threads)).clamp(1, MAX_SEGMENT);
    1 << wanted.ilog2()
}

