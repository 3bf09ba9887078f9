// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title ZkmlInstances
/// @notice Reads the public instances of zkml-eth proofs: the layout written by `zkml-circuit`'s
///         `PublicLayout` (model commitment, input section, output section) and, for aggregated proofs, the
///         12 accumulator limbs in front of every inner proof's instances.
/// @dev Packing (crates/zkml-circuit/src/public.rs): a section of `n` signed values with slot width `W`
///      fills `ceil(n / m)` elements with `m = floor(252 / W)` values each; value `i` of element `e` is
///      stored as `v + 2^(W-1)` in bits `[W·i, W·(i+1))`. Offsets, counts and widths come from the proof
///      artifact's `layout` (and, when aggregated, each inner entry's `offset`). The circuit range-checks
///      every packed value, so decoding never meets a slot outside the signed range.
library ZkmlInstances {
    /// @notice The BN254 scalar field modulus: every instance is below it.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21_888_242_871_839_275_222_246_405_745_257_275_088_548_364_400_416_034_343_698_204_186_575_808_495_617;
    /// @notice Field elements of the KZG accumulator at the start of an aggregated proof's instances
    ///         (lhs.x, lhs.y, rhs.x, rhs.y as three 88-bit limbs each, least significant first).
    uint256 internal constant ACCUMULATOR_LIMBS = 12;
    /// @notice Bits of each accumulator limb.
    uint256 internal constant ACCUMULATOR_LIMB_BITS = 88;
    /// @notice Bits of an instance used for packed values.
    uint256 internal constant PACKED_BITS = 252;

    /// @notice A slice runs past the end of the instances.
    error ZkmlInstancesOutOfRange(uint256 offset, uint256 length, uint256 available);
    /// @notice A slot width of zero, or wider than a packed element.
    error ZkmlInstancesBadWidth(uint256 width);
    /// @notice A section holds fewer elements than its values need.
    error ZkmlInstancesShortSection(uint256 elements, uint256 needed);
    /// @notice Value `index` of a section does not fit a signed slot of `width` bits: no proof can hold it.
    error ZkmlInstancesValueOutOfRange(uint256 index, int256 value, uint256 width);

    /// @notice True when every instance is a canonical field element (below the modulus).
    /// @param instances The public instances.
    /// @return canonical False when any instance is at least the modulus.
    function allCanonical(uint256[] calldata instances) internal pure returns (bool canonical) {
        for (uint256 i = 0; i < instances.length; ++i) {
            if (instances[i] >= SNARK_SCALAR_FIELD) return false;
        }
        return true;
    }

    /// @notice The instances of one inner proof of an aggregated proof.
    /// @param instances The aggregated proof's instances (accumulator limbs first).
    /// @param offset The inner proof's `offset` in the aggregated artifact (counted from the first
    ///        instance, limbs included).
    /// @param length The inner proof's number of instances (its layout's `num_instances`).
    /// @return inner A copy of the inner proof's instances.
    function slice(uint256[] memory instances, uint256 offset, uint256 length)
        internal
        pure
        returns (uint256[] memory inner)
    {
        if (offset > instances.length || length > instances.length - offset) {
            revert ZkmlInstancesOutOfRange(offset, length, instances.length);
        }
        inner = new uint256[](length);
        for (uint256 i = 0; i < length; ++i) {
            inner[i] = instances[offset + i];
        }
    }

    /// @notice The accumulator's four coordinates (lhs.x, lhs.y, rhs.x, rhs.y) from its 12 limbs.
    /// @param instances An aggregated proof's instances.
    /// @return coordinates The base-field coordinates.
    function accumulator(uint256[] memory instances) internal pure returns (uint256[4] memory coordinates) {
        if (instances.length < ACCUMULATOR_LIMBS) {
            revert ZkmlInstancesOutOfRange(0, ACCUMULATOR_LIMBS, instances.length);
        }
        for (uint256 c = 0; c < 4; ++c) {
            for (uint256 limb = 0; limb < 3; ++limb) {
                coordinates[c] |= instances[3 * c + limb] << (ACCUMULATOR_LIMB_BITS * limb);
            }
        }
    }

    /// @notice Unpacks `count` signed values of slot width `width` from a packed section.
    /// @param instances The instances holding the section.
    /// @param offset Index of the section's first element in `instances`.
    /// @param count Number of values in the section (its `values`).
    /// @param width Slot width in bits (its `width`).
    /// @return values The quantized values; the real value is `values[i] / 2^scale`.
    function unpack(uint256[] memory instances, uint256 offset, uint256 count, uint256 width)
        internal
        pure
        returns (int256[] memory values)
    {
        if (width == 0 || width > PACKED_BITS) revert ZkmlInstancesBadWidth(width);
        uint256 perElement = PACKED_BITS / width;
        uint256 elements = (count + perElement - 1) / perElement;
        if (offset > instances.length || elements > instances.length - offset) {
            revert ZkmlInstancesShortSection(instances.length > offset ? instances.length - offset : 0, elements);
        }
        uint256 mask = (uint256(1) << width) - 1;
        int256 bias = int256(uint256(1) << (width - 1));
        values = new int256[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 element = instances[offset + i / perElement];
            // A slot is at most 252 bits, so the cast to int256 is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            values[i] = int256((element >> (width * (i % perElement))) & mask) - bias;
        }
    }

    /// @notice The number of elements a section of `count` values of slot width `width` fills.
    /// @param count Number of values.
    /// @param width Slot width in bits.
    /// @return elements `ceil(count / floor(252 / width))`.
    function packedElements(uint256 count, uint256 width) internal pure returns (uint256 elements) {
        if (width == 0 || width > PACKED_BITS) revert ZkmlInstancesBadWidth(width);
        uint256 perElement = PACKED_BITS / width;
        return (count + perElement - 1) / perElement;
    }

    /// @notice Packs signed values into `instances` from `offset` on, the inverse of `unpack`.
    /// @dev The circuit range-checks every packed value to its slot, so a value outside
    ///      `[-2^(width-1), 2^(width-1))` can never be proven: refusing it here names the value instead of
    ///      letting it spill into the next slot and be rejected as a bad proof.
    /// @param instances The instances being built; the section's elements must be zero.
    /// @param offset Index of the section's first element.
    /// @param values The quantized values, in model order.
    /// @param width Slot width in bits.
    /// @return next The index after the section's last element.
    function packInto(uint256[] memory instances, uint256 offset, int256[] calldata values, uint256 width)
        internal
        pure
        returns (uint256 next)
    {
        uint256 elements = packedElements(values.length, width);
        if (offset > instances.length || elements > instances.length - offset) {
            revert ZkmlInstancesOutOfRange(offset, elements, instances.length);
        }
        next = offset + elements;
        uint256 perElement = PACKED_BITS / width;
        bytes4 outOfRange = ZkmlInstancesValueOutOfRange.selector;
        // Packing is the registry's per-value cost (every value of every slot of a batch), so it is one pass
        // over the call data in assembly: each element is built in a register and written once. The bounds
        // were checked above: `elements` words from `offset` on are inside `instances`.
        assembly ("memory-safe") {
            let bias := shl(sub(width, 1), 1)
            let limit := shl(1, bias)
            let count := values.length
            let element := add(add(instances, 0x20), shl(5, offset))
            for { let i := 0 } lt(i, count) {} {
                let end := add(i, perElement)
                if gt(end, count) { end := count }
                let word := 0
                for { let shift := 0 } lt(i, end) {
                    i := add(i, 1)
                    shift := add(shift, width)
                } {
                    let value := calldataload(add(values.offset, shl(5, i)))
                    // Two's complement wraps exactly: `value` is in [-bias, bias) iff `value + bias` is in
                    // [0, 2 * bias).
                    let biased := add(value, bias)
                    if iszero(lt(biased, limit)) {
                        let error := mload(0x40)
                        mstore(error, outOfRange)
                        mstore(add(error, 0x04), i)
                        mstore(add(error, 0x24), value)
                        mstore(add(error, 0x44), width)
                        revert(error, 0x64)
                    }
                    word := or(word, shl(shift, biased))
                }
                mstore(element, or(mload(element), word))
                element := add(element, 0x20)
            }
        }
    }
}
