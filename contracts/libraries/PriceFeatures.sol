// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {FixedPointMath} from "./FixedPointMath.sol";

/// @title PriceFeatures
/// @notice The price-feed -> model-input encoding of examples/eth-price (docs/encodings.md, "Price feed -> model
///         inputs"): the last `WINDOW` returns of a Chainlink-style feed, in percent, quantized at the model's
///         input scale. A contract recomputes them from the feed instead of trusting a prover's inputs; the
///         fixture test/fixtures/encodings/eth-price.json pins them bit for bit to the Python and Rust versions.
library PriceFeatures {
    // ANSWERS and MAX_SCALE are written as literals (their derivation in the comment, pinned by the tests): the
    // legacy code generator recomputes a constant defined from other constants, with checked arithmetic, at
    // every use.

    /// @notice Returns in a window: the model's number of inputs.
    uint256 internal constant WINDOW = 12;
    /// @notice Answers a window needs: one before every return (WINDOW + 1).
    uint256 internal constant ANSWERS = 13;
    /// @notice Multiplier of every return (100: returns in percent).
    int256 internal constant MULTIPLIER = 100;
    /// @notice Bits below which every answer lies.
    uint8 internal constant MAX_ANSWER_BITS = 96;
    /// @notice Exclusive upper bound of an answer (2^96).
    int256 internal constant MAX_ANSWER = int256(1) << MAX_ANSWER_BITS;
    /// @notice The largest input scale exponent. The spec keeps every product of the formula within 128 bits
    ///         (signed: magnitudes below 2^127); `2 * |p_i - p_{i-1}| * M * 2^S` (its rdiv doubles the dividend)
    ///         is below 2^(1 + 96 + 7 + S) for answers below 2^96 and M = 100 < 2^7, so S <= 127 - 1 - 96 - 7.
    ///         The Rust encoder refuses larger scales, so the contract refuses them too rather than accept
    ///         inputs no prover produces.
    uint8 internal constant MAX_SCALE = 23;

    /// @notice Answer `index` (0-based, oldest first) is not in `(0, 2^96)`.
    error PriceFeaturesBadAnswer(uint256 index, int256 answer);
    /// @notice `given` answers where a window needs `expected`.
    error PriceFeaturesWrongLength(uint256 given, uint256 expected);
    /// @notice A scale exponent above `MAX_SCALE`.
    error PriceFeaturesBadScale(uint8 scale);

    /// @notice The model's quantized inputs `x_i = rdiv((p_i - p_{i-1}) * M * 2^S, p_{i-1})` for `i = 1..WINDOW`:
    ///         the integers the proof's input section holds.
    /// @param answers Exactly `ANSWERS` consecutive feed answers `p_0..p_WINDOW` (USD per ETH * 10^8), oldest
    ///        first; the last is the price the prediction is made at.
    /// @param scale The compiled model's input scale exponent `S` (12 for the example), at most `MAX_SCALE`.
    /// @return inputs The `WINDOW` quantized returns, oldest first.
    function features(int256[] memory answers, uint8 scale) internal pure returns (int256[] memory inputs) {
        if (answers.length != ANSWERS) revert PriceFeaturesWrongLength(answers.length, ANSWERS);
        if (scale > MAX_SCALE) revert PriceFeaturesBadScale(scale);
        // Every answer is checked before any return is computed, so the error names the first bad answer
        // whatever comes after it, as the Python and Rust versions do.
        for (uint256 i = 0; i < ANSWERS; ++i) {
            if (answers[i] <= 0 || answers[i] >= MAX_ANSWER) revert PriceFeaturesBadAnswer(i, answers[i]);
        }
        // No overflow: |p_i - p_{i-1}| < 2^96 and M * 2^S < 2^(7 + MAX_SCALE) = 2^30, so the product is below
        // 2^126, far inside int256 (and inside the spec's 128 bits); rdiv cannot overflow, and p_{i-1} > 0.
        int256 factor = MULTIPLIER << scale;
        inputs = new int256[](WINDOW);
        for (uint256 i = 0; i < WINDOW; ++i) {
            int256 previous = answers[i];
            // Checked positive above.
            // forge-lint: disable-next-line(unsafe-typecast)
            inputs[i] = FixedPointMath.rdiv((answers[i + 1] - previous) * factor, uint256(previous));
        }
    }
}
