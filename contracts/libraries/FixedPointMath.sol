// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title FixedPointMath
/// @notice The integer division every encoding of docs/encodings.md rounds with, shared by `PriceFeatures` and
///         `PixelArtCodec` so both round exactly like the Python and Rust implementations.
library FixedPointMath {
    /// @notice `rdiv` was asked to divide by zero.
    error FixedPointMathZeroDivisor();

    /// @notice `a / b` rounded half away from zero: `sign(a) * floor((2|a| + b) / 2b)` (docs/encodings.md).
    /// @dev Defined for every `int256` and every `b > 0`: the formula is evaluated as `q + (2r >= b ? 1 : 0)`
    ///      with `|a| = q * b + r`, which never forms `2|a| + b` and so cannot overflow even at the extremes.
    /// @param a The dividend.
    /// @param b The divisor; must not be zero.
    /// @return quotient The rounded quotient.
    function rdiv(int256 a, uint256 b) internal pure returns (int256 quotient) {
        if (b == 0) revert FixedPointMathZeroDivisor();
        // |a| without negating type(int256).min, whose magnitude 2^255 only fits the unsigned type; both casts
        // are of non-negative values.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 magnitude = a >= 0 ? uint256(a) : uint256(-(a + 1)) + 1;
        uint256 q = magnitude / b;
        uint256 r = magnitude % b;
        // 2r >= b, without doubling r (which overflows when b > 2^255): the remainder is at least half.
        if (r >= b - r) ++q;
        // For a >= 0, |a| < 2^255 and b >= 1 keep q <= type(int256).max.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (a >= 0) return int256(q);
        // q reaches 2^255 only for a = type(int256).min and b = 1, whose quotient is a itself; negating the
        // wrapped cast would panic. Below that bound the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        return q > uint256(type(int256).max) ? type(int256).min : -int256(q);
    }
}
