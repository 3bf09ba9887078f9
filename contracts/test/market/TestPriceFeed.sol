// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "../../interfaces/AggregatorV3Interface.sol";

/// @title TestPriceFeed
/// @notice NOT FOR PRODUCTION. A Chainlink-style price feed whose owner writes the history: forge tests, deploy
///         scripts and the local demo load real or made-up answers and read them back by round id, as a
///         consumer reads a Chainlink proxy. Whoever owns it sets the price.
/// @dev Round ids follow a proxy's: `(phaseId << 64) | n`, with `n = 1, 2, ...` inside each phase, starting in
///      phase 1. `startNewPhase` models Chainlink swapping the aggregator behind the proxy, so consumers can
///      test a window that crosses a phase boundary. `startedAt = updatedAt` and `answeredInRound = roundId`,
///      as on OCR feeds. Answers are stored as int192 and timestamps as uint64, like an OCR aggregator's
///      transmissions, so a round costs one storage slot.
contract TestPriceFeed is AggregatorV3Interface, Ownable {
    /// @notice The version this test double reports; it follows no Chainlink aggregator's numbering.
    uint256 public constant VERSION = 1;

    /// @notice The phase the feed starts in, as a proxy's first aggregator.
    uint16 public constant FIRST_PHASE = 1;

    /// @dev A proxy round id carries the phase above the aggregator's 64-bit round id.
    uint80 private constant _PHASE_SHIFT = 64;

    /// @dev One round in one slot; `updatedAt == 0` marks a round never pushed, so pushes refuse it.
    struct Round {
        int192 answer;
        uint64 updatedAt;
    }

    // Packed with Ownable's owner: read together by every push.
    uint16 private _phaseId;
    uint64 private _phaseRoundCount;

    uint64 private _lastUpdatedAt;
    bool private _zeroForMissingRounds;

    uint8 private immutable _decimals;
    string private _description;
    mapping(uint80 roundId => Round) private _rounds;

    /// @notice A round was appended to the history.
    event RoundPushed(uint80 indexed roundId, int256 answer, uint256 updatedAt);
    /// @notice A new phase began; its first round will be `(phaseId << 64) | 1`.
    event PhaseStarted(uint16 indexed phaseId);
    /// @notice The answer to a missing round changed: a revert, or an OCR2-style all-zero round.
    event MissingRoundModeSet(bool zeroForMissingRounds);

    /// @notice No round was pushed under this id (or its phase never existed).
    error TestPriceFeedRoundNotFound(uint80 roundId);
    /// @notice The current phase has no round yet, so there is no latest round.
    error TestPriceFeedEmptyPhase(uint16 phaseId);
    /// @notice `pushRounds` was given no answers.
    error TestPriceFeedNoAnswers();
    /// @notice The answer does not fit in an int192, the width of an OCR aggregator's answers.
    error TestPriceFeedAnswerOutOfRange(int256 answer);
    /// @notice A zero `updatedAt` is how Chainlink feeds report a missing round, so no round may carry it.
    error TestPriceFeedZeroTimestamp();
    /// @notice The timestamp does not fit in a uint64.
    error TestPriceFeedTimestampOutOfRange(uint256 updatedAt);
    /// @notice The new round would be older than the latest one: a feed's `updatedAt` never goes backwards.
    error TestPriceFeedTimestampBackwards(uint256 updatedAt, uint256 lastUpdatedAt);

    /// @notice Creates an empty feed in phase 1.
    /// @param decimals_ Decimals of the answers (8 for a USD pair).
    /// @param description_ The description, such as "ETH / USD".
    /// @param initialOwner The account allowed to push rounds and start phases.
    constructor(uint8 decimals_, string memory description_, address initialOwner) Ownable(initialOwner) {
        _decimals = decimals_;
        _description = description_;
        _phaseId = FIRST_PHASE;
    }

    // ---------------------------------------------------------------- writes (owner)

    /// @notice Appends one round to the current phase, with `startedAt = updatedAt`.
    /// @param answer The price, with `decimals()` decimals; any int192, including zero and negative values,
    ///        so consumers can test their checks.
    /// @param updatedAt When the round was reported: nonzero and not before the latest round's. It may lie
    ///        ahead of `block.timestamp`; warp the chain before testing staleness.
    /// @return roundId The new round's id.
    function pushRound(int256 answer, uint256 updatedAt) external onlyOwner returns (uint80 roundId) {
        uint16 phase = _phaseId;
        uint64 count = _phaseRoundCount + 1;
        roundId = toRoundId(phase, count);
        _store(roundId, answer, updatedAt, _lastUpdatedAt);
        _phaseRoundCount = count;
        // `_store` checked that the timestamp fits in a uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        _lastUpdatedAt = uint64(updatedAt);
    }

    /// @notice Appends a history to the current phase in one call: answer `i` gets
    ///         `updatedAt = firstUpdatedAt + i * interval`.
    /// @param answers The prices, oldest first, with `decimals()` decimals.
    /// @param firstUpdatedAt The first round's timestamp: nonzero and not before the latest round's.
    /// @param interval Seconds between consecutive rounds (zero gives them all the same timestamp).
    /// @return firstRoundId The id of the first round pushed.
    /// @return lastRoundId The id of the last round pushed; the ids in between are consecutive.
    function pushRounds(int256[] calldata answers, uint256 firstUpdatedAt, uint256 interval)
        external
        onlyOwner
        returns (uint80 firstRoundId, uint80 lastRoundId)
    {
        uint256 length = answers.length;
        if (length == 0) revert TestPriceFeedNoAnswers();
        uint16 phase = _phaseId;
        uint64 count = _phaseRoundCount;
        uint256 last = _lastUpdatedAt;
        firstRoundId = toRoundId(phase, count + 1);
        for (uint256 i = 0; i < length; ++i) {
            uint256 updatedAt = firstUpdatedAt + i * interval;
            ++count;
            _store(toRoundId(phase, count), answers[i], updatedAt, last);
            last = updatedAt;
        }
        lastRoundId = toRoundId(phase, count);
        _phaseRoundCount = count;
        // `_store` checked that every timestamp fits in a uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        _lastUpdatedAt = uint64(last);
    }

    /// @notice Starts the next phase, as when Chainlink points the proxy at a new aggregator: the next round
    ///         is `((phaseId + 1) << 64) | 1`, and `latestRoundData` has no round until one is pushed.
    /// @return newPhaseId The new phase.
    function startNewPhase() external onlyOwner returns (uint16 newPhaseId) {
        newPhaseId = _phaseId + 1;
        _phaseId = newPhaseId;
        _phaseRoundCount = 0;
        emit PhaseStarted(newPhaseId);
    }

    /// @notice Chooses what reading a missing round of an existing phase does. By default it reverts with
    ///         `TestPriceFeedRoundNotFound`, as OCR1 aggregators do; OCR2 aggregators, behind most current
    ///         proxies, instead return the round with answer, startedAt and updatedAt zero. A round of a phase
    ///         that never existed reverts either way, as the proxy has no aggregator to ask.
    /// @param enabled True to return zeros, false to revert.
    function setZeroForMissingRounds(bool enabled) external onlyOwner {
        _zeroForMissingRounds = enabled;
        emit MissingRoundModeSet(enabled);
    }

    // ---------------------------------------------------------------- AggregatorV3Interface

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return VERSION;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 _roundId)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Round storage r = _rounds[_roundId];
        if (r.updatedAt == 0) {
            uint256 phase = _roundId >> _PHASE_SHIFT;
            if (!_zeroForMissingRounds || phase < FIRST_PHASE || phase > _phaseId) {
                revert TestPriceFeedRoundNotFound(_roundId);
            }
            return (_roundId, 0, 0, 0, _roundId);
        }
        return (_roundId, r.answer, r.updatedAt, r.updatedAt, _roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        uint16 phase = _phaseId;
        uint64 count = _phaseRoundCount;
        roundId = toRoundId(phase, count);
        if (count == 0) {
            if (!_zeroForMissingRounds) revert TestPriceFeedEmptyPhase(phase);
            return (roundId, 0, 0, 0, roundId);
        }
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    // ---------------------------------------------------------------- views

    /// @notice The current phase: pushes append to it.
    /// @return The phase id.
    function phaseId() external view returns (uint16) {
        return _phaseId;
    }

    /// @notice How many rounds the current phase holds; the latest is `toRoundId(phaseId(), count)`.
    /// @return The number of rounds.
    function phaseRoundCount() external view returns (uint64) {
        return _phaseRoundCount;
    }

    /// @notice Whether a missing round returns zeros (true) or reverts (false); see `setZeroForMissingRounds`.
    /// @return True when missing rounds return zeros.
    function zeroForMissingRounds() external view returns (bool) {
        return _zeroForMissingRounds;
    }

    /// @notice The proxy round id of round `aggregatorRoundId` of phase `phase`.
    /// @param phase The phase id.
    /// @param aggregatorRoundId The round within the phase, from 1.
    /// @return The round id, `(phase << 64) | aggregatorRoundId`.
    function toRoundId(uint16 phase, uint64 aggregatorRoundId) public pure returns (uint80) {
        return (uint80(phase) << _PHASE_SHIFT) | aggregatorRoundId;
    }

    // ---------------------------------------------------------------- internals

    function _store(uint80 roundId, int256 answer, uint256 updatedAt, uint256 lastUpdatedAt) private {
        if (answer < type(int192).min || answer > type(int192).max) revert TestPriceFeedAnswerOutOfRange(answer);
        if (updatedAt == 0) revert TestPriceFeedZeroTimestamp();
        if (updatedAt > type(uint64).max) revert TestPriceFeedTimestampOutOfRange(updatedAt);
        if (updatedAt < lastUpdatedAt) revert TestPriceFeedTimestampBackwards(updatedAt, lastUpdatedAt);
        // Both casts are exact: the range checks above ran.
        // forge-lint: disable-next-line(unsafe-typecast)
        _rounds[roundId] = Round({answer: int192(answer), updatedAt: uint64(updatedAt)});
        emit RoundPushed(roundId, answer, updatedAt);
    }
}
