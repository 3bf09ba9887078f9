// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title AggregatorV3Interface
/// @notice Chainlink's price feed interface, ABI-identical to `@chainlink/contracts`' AggregatorV3Interface:
///         a consumer compiled against it calls a real feed proxy (EACAggregatorProxy) unchanged.
/// @dev Round ids. A proxy's round id is `(phaseId << 64) | aggregatorRoundId`: the proxy points at one
///      aggregator per phase, and a phase starts whenever Chainlink swaps the aggregator behind the proxy.
///      Within a phase consecutive rounds differ by exactly one; across a phase boundary the id jumps (the
///      last round of phase 1 is `(1 << 64) | n`, the first of phase 2 is `(2 << 64) | 1`), so "the previous
///      round" is `roundId - 1` only while the low 64 bits stay above zero. A consumer walking a history
///      backwards must stop, not wrap, at a phase's first round.
///
///      Missing rounds. What `getRoundData` does for a round that was never reported depends on the
///      aggregator behind the proxy: an unknown phase and an OCR1 aggregator revert ("No data present"),
///      while an OCR2 aggregator returns the round with `answer`, `startedAt` and `updatedAt` all zero.
///      A consumer must treat both a revert and `updatedAt == 0` as "no such round", and should check that
///      the returned `roundId` is the one it asked for.
interface AggregatorV3Interface {
    /// @notice Decimals of `answer`: the price is `answer / 10**decimals()` (8 for USD pairs).
    /// @return The number of decimals.
    function decimals() external view returns (uint8);

    /// @notice A human-readable description of the feed, such as "ETH / USD".
    /// @return The description.
    function description() external view returns (string memory);

    /// @notice The version of the aggregator behind the proxy.
    /// @return The version.
    function version() external view returns (uint256);

    /// @notice The data of one round.
    /// @param _roundId The proxy round id, `(phaseId << 64) | aggregatorRoundId`.
    /// @return roundId The round id (the one asked for).
    /// @return answer The price, with `decimals()` decimals.
    /// @return startedAt When the round started (for OCR feeds, when the observations were made).
    /// @return updatedAt When the answer was written on chain; zero means the round does not exist.
    /// @return answeredInRound The round the answer was computed in; equal to `roundId` on OCR feeds.
    function getRoundData(uint80 _roundId)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice The data of the latest round.
    /// @return roundId The latest round id, `(phaseId << 64) | aggregatorRoundId`.
    /// @return answer The price, with `decimals()` decimals.
    /// @return startedAt When the round started (for OCR feeds, when the observations were made).
    /// @return updatedAt When the answer was written on chain.
    /// @return answeredInRound The round the answer was computed in; equal to `roundId` on OCR feeds.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
