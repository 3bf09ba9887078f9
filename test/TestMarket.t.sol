// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test, console} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AggregatorV3Interface} from "../contracts/interfaces/AggregatorV3Interface.sol";
import {IUniswapV2SwapRouter} from "../contracts/interfaces/IUniswapV2SwapRouter.sol";
import {TestPriceFeed} from "../contracts/test/market/TestPriceFeed.sol";
import {TestToken} from "../contracts/test/market/TestToken.sol";
import {TestUniswapV2Market} from "../contracts/test/market/TestUniswapV2Market.sol";

/// @notice The interfaces keep Chainlink's and Uniswap's selectors, so a vault can call the real contracts.
contract MarketInterfacesTest is Test {
    function test_AggregatorV3Interface_SelectorsAreChainlinks() public pure {
        assertEq(AggregatorV3Interface.decimals.selector, bytes4(0x313ce567));
        assertEq(AggregatorV3Interface.description.selector, bytes4(0x7284e416));
        assertEq(AggregatorV3Interface.version.selector, bytes4(0x54fd4d50));
        assertEq(AggregatorV3Interface.getRoundData.selector, bytes4(0x9a6fc8f5));
        assertEq(AggregatorV3Interface.latestRoundData.selector, bytes4(0xfeaf968c));
    }

    function test_IUniswapV2SwapRouter_SelectorsAreRouter02s() public pure {
        assertEq(IUniswapV2SwapRouter.swapExactTokensForTokens.selector, bytes4(0x38ed1739));
        assertEq(IUniswapV2SwapRouter.getAmountsOut.selector, bytes4(0xd06ca61f));
    }
}

contract TestTokenTest is Test {
    function test_Mint_AnyoneMintsWithConfiguredDecimals() public {
        TestToken usd = new TestToken("Test USD", "tUSD", 6);
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        usd.mint(stranger, 5e6);
        assertEq(usd.balanceOf(stranger), 5e6);
        assertEq(usd.totalSupply(), 5e6);
        assertEq(usd.decimals(), 6);
        assertEq(usd.name(), "Test USD");
        assertEq(usd.symbol(), "tUSD");
        assertEq(new TestToken("Test Wrapped Ether", "tWETH", 18).decimals(), 18);
    }
}

contract TestPriceFeedTest is Test {
    TestPriceFeed internal feed;
    address internal bob = makeAddr("bob");

    uint8 internal constant DECIMALS = 8;
    uint16 internal constant PHASE_1 = 1;
    uint16 internal constant PHASE_2 = 2;
    uint256 internal constant T0 = 1_704_067_200;
    uint256 internal constant HOUR = 3600;
    int256 internal constant PRICE = 3000e8;

    string internal constant FEED_JSON = "examples/eth-price/feed.json";
    string internal constant INPUT_JSON = "test/fixtures/eth-price/input.json";

    function setUp() public {
        feed = new TestPriceFeed(DECIMALS, "ETH / USD", address(this));
    }

    // ---------------------------------------------------------------- helpers

    function _id(uint16 phase, uint64 n) internal pure returns (uint80) {
        return (uint80(phase) << 64) | n;
    }

    function _answers(uint256 length, int256 start) internal pure returns (int256[] memory answers) {
        answers = new int256[](length);
        for (uint256 i = 0; i < length; ++i) {
            // A test history has a few hundred rounds at most: the cast is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            answers[i] = start + int256(i) * 1e8;
        }
    }

    function _assertRound(uint80 id, int256 answer, uint256 updatedAt) internal view {
        (uint80 roundId, int256 a, uint256 startedAt, uint256 u, uint80 answeredInRound) = feed.getRoundData(id);
        assertEq(roundId, id, "roundId");
        assertEq(a, answer, "answer");
        assertEq(startedAt, updatedAt, "startedAt");
        assertEq(u, updatedAt, "updatedAt");
        assertEq(answeredInRound, id, "answeredInRound");
    }

    function _assertLatest(uint80 id, int256 answer, uint256 updatedAt) internal view {
        (uint80 roundId, int256 a, uint256 startedAt, uint256 u, uint80 answeredInRound) = feed.latestRoundData();
        assertEq(roundId, id, "latest roundId");
        assertEq(a, answer, "latest answer");
        assertEq(startedAt, updatedAt, "latest startedAt");
        assertEq(u, updatedAt, "latest updatedAt");
        assertEq(answeredInRound, id, "latest answeredInRound");
    }

    // ---------------------------------------------------------------- metadata

    function test_Constructor_SetsMetadataAndStartsInPhaseOne() public view {
        assertEq(feed.decimals(), DECIMALS);
        assertEq(feed.description(), "ETH / USD");
        assertEq(feed.version(), feed.VERSION());
        assertEq(feed.owner(), address(this));
        assertEq(feed.phaseId(), PHASE_1);
        assertEq(feed.phaseRoundCount(), 0);
        assertFalse(feed.zeroForMissingRounds());
        assertEq(feed.toRoundId(PHASE_1, 1), _id(PHASE_1, 1));
        assertEq(feed.toRoundId(PHASE_1, 1), 18_446_744_073_709_551_617);
    }

    // ---------------------------------------------------------------- pushRound

    function test_PushRound_StoresRoundAndEmits() public {
        vm.expectEmit(address(feed));
        emit TestPriceFeed.RoundPushed(_id(PHASE_1, 1), PRICE, T0);
        assertEq(feed.pushRound(PRICE, T0), _id(PHASE_1, 1));

        _assertRound(_id(PHASE_1, 1), PRICE, T0);
        _assertLatest(_id(PHASE_1, 1), PRICE, T0);
        assertEq(feed.phaseRoundCount(), 1);
    }

    function test_PushRound_ConsecutiveIdsDifferByOne() public {
        uint80 first = feed.pushRound(PRICE, T0);
        uint80 second = feed.pushRound(PRICE + 1, T0 + HOUR);
        assertEq(second - first, 1);
        _assertRound(first, PRICE, T0);
        _assertRound(second, PRICE + 1, T0 + HOUR);
        _assertLatest(second, PRICE + 1, T0 + HOUR);
    }

    function test_PushRound_AcceptsEqualTimestampsAndAnyInt192() public {
        feed.pushRound(type(int192).max, T0);
        feed.pushRound(type(int192).min, T0);
        feed.pushRound(0, T0);
        _assertRound(_id(PHASE_1, 1), type(int192).max, T0);
        _assertRound(_id(PHASE_1, 2), type(int192).min, T0);
        _assertLatest(_id(PHASE_1, 3), 0, T0);
    }

    // ---------------------------------------------------------------- pushRounds

    function test_PushRounds_StoresEachRoundAndEmitsEach() public {
        int256[] memory answers = _answers(5, PRICE);
        for (uint256 i = 0; i < answers.length; ++i) {
            vm.expectEmit(address(feed));
            // forge-lint: disable-next-line(unsafe-typecast)
            emit TestPriceFeed.RoundPushed(_id(PHASE_1, uint64(i + 1)), answers[i], T0 + i * HOUR);
        }
        (uint80 firstId, uint80 lastId) = feed.pushRounds(answers, T0, HOUR);
        assertEq(firstId, _id(PHASE_1, 1));
        assertEq(lastId, _id(PHASE_1, 5));

        for (uint256 i = 0; i < answers.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            _assertRound(_id(PHASE_1, uint64(i + 1)), answers[i], T0 + i * HOUR);
        }
        _assertLatest(lastId, answers[4], T0 + 4 * HOUR);
        assertEq(feed.phaseRoundCount(), 5);
    }

    function test_PushRounds_ContinuesAfterPushRound() public {
        feed.pushRound(PRICE, T0);
        (uint80 firstId, uint80 lastId) = feed.pushRounds(_answers(2, PRICE), T0 + HOUR, HOUR);
        assertEq(firstId, _id(PHASE_1, 2));
        assertEq(lastId, _id(PHASE_1, 3));
        _assertRound(_id(PHASE_1, 3), PRICE + 1e8, T0 + 2 * HOUR);
        assertEq(feed.pushRound(PRICE, T0 + 3 * HOUR), _id(PHASE_1, 4));
    }

    function testFuzz_PushRounds_RoundTrips(uint256 seed, uint8 length, uint32 firstUpdatedAt, uint32 interval) public {
        length = uint8(bound(length, 1, 40));
        firstUpdatedAt = uint32(bound(firstUpdatedAt, 1, type(uint32).max));
        int256[] memory answers = new int256[](length);
        for (uint256 i = 0; i < length; ++i) {
            answers[i] = int256(uint256(keccak256(abi.encode(seed, i))) >> 96) - int256(1 << 159);
        }
        feed.pushRounds(answers, firstUpdatedAt, interval);
        for (uint256 i = 0; i < length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            _assertRound(_id(PHASE_1, uint64(i + 1)), answers[i], uint256(firstUpdatedAt) + i * interval);
        }
        _assertLatest(
            _id(PHASE_1, length), answers[length - 1], uint256(firstUpdatedAt) + uint256(length - 1) * interval
        );
    }

    // ---------------------------------------------------------------- missing rounds

    function test_RevertWhen_LatestOfEmptyFeed() public {
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedEmptyPhase.selector, PHASE_1));
        feed.latestRoundData();
    }

    function test_RevertWhen_RoundUnknown_NamesTheRoundId() public {
        feed.pushRounds(_answers(3, PRICE), T0, HOUR);
        uint80[5] memory missing = [_id(PHASE_1, 4), _id(PHASE_1, 0), _id(0, 1), _id(PHASE_2, 1), type(uint80).max];
        for (uint256 i = 0; i < missing.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedRoundNotFound.selector, missing[i]));
            feed.getRoundData(missing[i]);
        }
    }

    function test_ZeroForMissingRounds_ReturnsZerosInKnownPhasesOnly() public {
        vm.expectEmit(address(feed));
        emit TestPriceFeed.MissingRoundModeSet(true);
        feed.setZeroForMissingRounds(true);
        assertTrue(feed.zeroForMissingRounds());

        // An empty phase has an all-zero latest round, as an OCR2 aggregator behind a proxy.
        _assertLatest(_id(PHASE_1, 0), 0, 0);
        feed.pushRound(PRICE, T0);
        _assertRound(_id(PHASE_1, 1), PRICE, T0);
        _assertRound(_id(PHASE_1, 2), 0, 0);
        _assertRound(_id(PHASE_1, 0), 0, 0);

        // A phase the proxy never had reverts either way.
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedRoundNotFound.selector, _id(PHASE_2, 1)));
        feed.getRoundData(_id(PHASE_2, 1));
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedRoundNotFound.selector, _id(0, 1)));
        feed.getRoundData(_id(0, 1));

        feed.setZeroForMissingRounds(false);
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedRoundNotFound.selector, _id(PHASE_1, 2)));
        feed.getRoundData(_id(PHASE_1, 2));
    }

    // ---------------------------------------------------------------- invalid pushes

    function test_RevertWhen_TimestampGoesBackwards() public {
        feed.pushRound(PRICE, T0);
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedTimestampBackwards.selector, T0 - 1, T0));
        feed.pushRound(PRICE, T0 - 1);
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedTimestampBackwards.selector, T0 - 1, T0));
        feed.pushRounds(_answers(2, PRICE), T0 - 1, HOUR);
        assertEq(feed.phaseRoundCount(), 1);
    }

    function test_RevertWhen_TimestampGoesBackwardsAcrossPhases() public {
        feed.pushRound(PRICE, T0);
        feed.startNewPhase();
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedTimestampBackwards.selector, T0 - 1, T0));
        feed.pushRound(PRICE, T0 - 1);
    }

    function test_RevertWhen_TimestampZeroOrTooLarge() public {
        vm.expectRevert(TestPriceFeed.TestPriceFeedZeroTimestamp.selector);
        feed.pushRound(PRICE, 0);
        vm.expectRevert(TestPriceFeed.TestPriceFeedZeroTimestamp.selector);
        feed.pushRounds(_answers(2, PRICE), 0, HOUR);

        uint256 tooLate = uint256(type(uint64).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedTimestampOutOfRange.selector, tooLate));
        feed.pushRound(PRICE, tooLate);
        // The second round's timestamp overflows, so the whole batch is refused.
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedTimestampOutOfRange.selector, tooLate));
        feed.pushRounds(_answers(2, PRICE), type(uint64).max, 1);
        assertEq(feed.phaseRoundCount(), 0);
    }

    function test_RevertWhen_AnswerOutOfRange() public {
        int256 tooHigh = int256(type(int192).max) + 1;
        int256 tooLow = int256(type(int192).min) - 1;
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedAnswerOutOfRange.selector, tooHigh));
        feed.pushRound(tooHigh, T0);
        int256[] memory answers = _answers(2, PRICE);
        answers[1] = tooLow;
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedAnswerOutOfRange.selector, tooLow));
        feed.pushRounds(answers, T0, HOUR);
    }

    function test_RevertWhen_PushRoundsEmpty() public {
        vm.expectRevert(TestPriceFeed.TestPriceFeedNoAnswers.selector);
        feed.pushRounds(new int256[](0), T0, HOUR);
    }

    function test_RevertWhen_CallerIsNotOwner() public {
        bytes memory unauthorized = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob);
        vm.startPrank(bob);
        vm.expectRevert(unauthorized);
        feed.pushRound(PRICE, T0);
        vm.expectRevert(unauthorized);
        feed.pushRounds(_answers(2, PRICE), T0, HOUR);
        vm.expectRevert(unauthorized);
        feed.startNewPhase();
        vm.expectRevert(unauthorized);
        feed.setZeroForMissingRounds(true);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- phases

    function test_StartNewPhase_RoundIdsJumpToTheNextPhase() public {
        (, uint80 lastOfPhase1) = feed.pushRounds(_answers(3, PRICE), T0, HOUR);
        assertEq(lastOfPhase1, _id(PHASE_1, 3));

        vm.expectEmit(address(feed));
        emit TestPriceFeed.PhaseStarted(PHASE_2);
        assertEq(feed.startNewPhase(), PHASE_2);
        assertEq(feed.phaseId(), PHASE_2);
        assertEq(feed.phaseRoundCount(), 0);
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedEmptyPhase.selector, PHASE_2));
        feed.latestRoundData();

        uint80 firstOfPhase2 = feed.pushRound(PRICE, T0 + 3 * HOUR);
        assertEq(firstOfPhase2, _id(PHASE_2, 1));
        assertEq(firstOfPhase2, (uint80(2) << 64) | 1);
        assertGt(firstOfPhase2 - lastOfPhase1, 1, "ids jump at the boundary");
        _assertLatest(firstOfPhase2, PRICE, T0 + 3 * HOUR);
        // The round "before" the first of a phase is its round 0, which does not exist.
        vm.expectRevert(abi.encodeWithSelector(TestPriceFeed.TestPriceFeedRoundNotFound.selector, firstOfPhase2 - 1));
        feed.getRoundData(firstOfPhase2 - 1);
        // The old phase stays readable.
        _assertRound(lastOfPhase1, PRICE + 2e8, T0 + 2 * HOUR);

        (uint80 firstId, uint80 lastId) = feed.pushRounds(_answers(2, PRICE), T0 + 4 * HOUR, HOUR);
        assertEq(firstId, _id(PHASE_2, 2));
        assertEq(lastId, _id(PHASE_2, 3));
    }

    // ---------------------------------------------------------------- the real example history

    function test_RealHistory_WindowReadsBackAsTheProvedInput() public {
        string memory history = vm.readFile(FEED_JSON);
        int256[] memory all = vm.parseJsonIntArray(history, ".answers");
        uint256 startedAt = vm.parseJsonUint(history, ".startedAt");
        uint256 interval = vm.parseJsonUint(history, ".interval");
        assertEq(all.length, 8760, "one year of hourly answers");
        assertEq(vm.parseJsonUint(history, ".decimals"), DECIMALS);

        string memory input = vm.readFile(INPUT_JSON);
        uint256 first = vm.parseJsonUint(input, ".source.first");
        uint256 last = vm.parseJsonUint(input, ".source.last");
        string[] memory expected = vm.parseJsonStringArray(input, ".source.answers");
        assertEq(first, 7988);
        assertEq(last, 8000);
        assertEq(expected.length, last - first + 1);

        int256[] memory window = new int256[](expected.length);
        for (uint256 i = 0; i < window.length; ++i) {
            window[i] = all[first + i];
        }
        (uint80 firstId, uint80 lastId) = feed.pushRounds(window, startedAt + first * interval, interval);
        assertEq(firstId, _id(PHASE_1, 1));
        assertEq(lastId, _id(PHASE_1, 13));

        for (uint256 i = 0; i < window.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            (uint80 roundId, int256 answer,, uint256 updatedAt,) = feed.getRoundData(firstId + uint80(i));
            assertEq(roundId, firstId + i);
            assertEq(answer, all[first + i], "feed.json");
            assertEq(answer, vm.parseInt(expected[i]), "input.json source.answers");
            assertEq(updatedAt, startedAt + (first + i) * interval);
        }
        (, int256 latest,,,) = feed.latestRoundData();
        assertEq(latest, 582_839_390_449);
    }

    // ---------------------------------------------------------------- gas

    function test_Gas_PushRounds13() public {
        _measurePushRounds(13);
    }

    function test_Gas_PushRounds200() public {
        _measurePushRounds(200);
    }

    /// @dev Each round is one fresh storage slot (22.1k) and one event; the bound leaves room for the loop.
    function _measurePushRounds(uint256 length) internal {
        int256[] memory answers = _answers(length, PRICE);
        uint256 before = gasleft();
        feed.pushRounds(answers, T0, HOUR);
        uint256 used = before - gasleft();
        console.log("pushRounds rounds / gas:", length, used);
        assertLe(used, 60_000 + length * 26_000);
    }
}

contract TestUniswapV2MarketTest is Test {
    TestToken internal usd;
    TestToken internal weth;
    TestUniswapV2Market internal market;

    address internal trader = makeAddr("trader");
    address internal recipient = makeAddr("recipient");
    address internal bob = makeAddr("bob");

    uint256 internal constant RESERVE_USD = 3_000_000e6;
    uint256 internal constant RESERVE_WETH = 1000e18;
    uint256 internal constant MAX_RESERVE = type(uint112).max;
    uint256 internal constant DEADLINE = 1_800_000_000;
    uint256 internal constant NOW = 1_750_000_000;

    function setUp() public {
        vm.warp(NOW);
        usd = new TestToken("Test USD", "tUSD", 6);
        weth = new TestToken("Test Wrapped Ether", "tWETH", 18);
        market = new TestUniswapV2Market(usd, weth, address(this));
        usd.mint(address(this), RESERVE_USD);
        weth.mint(address(this), RESERVE_WETH);
        usd.approve(address(market), RESERVE_USD);
        weth.approve(address(market), RESERVE_WETH);
        market.addLiquidity(RESERVE_USD, RESERVE_WETH);
    }

    // ---------------------------------------------------------------- helpers

    function _path(IERC20 tokenIn, IERC20 tokenOut) internal pure returns (address[] memory path) {
        path = new address[](2);
        path[0] = address(tokenIn);
        path[1] = address(tokenOut);
    }

    /// @dev Uniswap V2's UniswapV2Library.getAmountOut, written out again.
    function _uniswapAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut)
        internal
        pure
        returns (uint256)
    {
        return amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997);
    }

    function _fund(TestToken token, uint256 amount) internal {
        token.mint(trader, amount);
        vm.prank(trader);
        token.approve(address(market), amount);
    }

    function _swap(uint256 amountIn, uint256 amountOutMin, address[] memory path) internal returns (uint256[] memory) {
        vm.prank(trader);
        return market.swapExactTokensForTokens(amountIn, amountOutMin, path, recipient, DEADLINE);
    }

    // ---------------------------------------------------------------- construction and liquidity

    function test_Constructor_RejectsIdenticalOrZeroTokens() public {
        vm.expectRevert(
            abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketIdenticalTokens.selector, address(usd))
        );
        new TestUniswapV2Market(usd, usd, address(this));
        vm.expectRevert(TestUniswapV2Market.TestUniswapV2MarketZeroAddress.selector);
        new TestUniswapV2Market(IERC20(address(0)), weth, address(this));
        vm.expectRevert(TestUniswapV2Market.TestUniswapV2MarketZeroAddress.selector);
        new TestUniswapV2Market(usd, IERC20(address(0)), address(this));
    }

    function test_AddLiquidity_PullsTokensAndEmits() public {
        _fund(usd, 30e6);
        _fund(weth, 1e16);
        vm.expectEmit(address(market));
        emit TestUniswapV2Market.LiquidityAdded(trader, 30e6, 1e16);
        vm.prank(trader);
        market.addLiquidity(30e6, 1e16);

        (uint256 reserveA, uint256 reserveB) = market.getReserves();
        assertEq(reserveA, RESERVE_USD + 30e6);
        assertEq(reserveB, RESERVE_WETH + 1e16);
        assertEq(usd.balanceOf(address(market)), reserveA);
        assertEq(weth.balanceOf(address(market)), reserveB);
        assertEq(usd.balanceOf(trader), 0);
        assertEq(weth.balanceOf(trader), 0);
    }

    function test_RevertWhen_AddLiquidityOverflowsReserve() public {
        uint256 amount = MAX_RESERVE - RESERVE_USD + 1;
        _fund(usd, amount);
        vm.expectRevert(
            abi.encodeWithSelector(
                TestUniswapV2Market.TestUniswapV2MarketReserveOverflow.selector, MAX_RESERVE + 1, RESERVE_WETH
            )
        );
        vm.prank(trader);
        market.addLiquidity(amount, 0);
    }

    // ---------------------------------------------------------------- swaps

    function test_Swap_KnownVector() public {
        // 1 WETH into 3,000,000 USD / 1,000 WETH: 1e18 * 997 * 3e12 / (1e21 * 1000 + 1e18 * 997), computed
        // outside Solidity.
        _fund(weth, 1e18);
        uint256[] memory amounts = _swap(1e18, 0, _path(weth, usd));
        assertEq(amounts[1], 2_988_020_943);
    }

    function test_Swap_MovesTokensUpdatesReservesAndEmits() public {
        uint256 amountIn = 1e18;
        uint256 expected = _uniswapAmountOut(amountIn, RESERVE_WETH, RESERVE_USD);
        _fund(weth, amountIn);

        vm.expectEmit(address(market));
        emit TestUniswapV2Market.Swap(trader, address(weth), recipient, amountIn, expected);
        uint256[] memory amounts = _swap(amountIn, expected, _path(weth, usd));

        assertEq(amounts.length, 2);
        assertEq(amounts[0], amountIn);
        assertEq(amounts[1], expected);
        assertEq(usd.balanceOf(recipient), expected);
        assertEq(weth.balanceOf(trader), 0);
        (uint256 reserveA, uint256 reserveB) = market.getReserves();
        assertEq(reserveA, RESERVE_USD - expected);
        assertEq(reserveB, RESERVE_WETH + amountIn);
        assertEq(usd.balanceOf(address(market)), reserveA);
        assertEq(weth.balanceOf(address(market)), reserveB);
    }

    function testFuzz_Swap_MatchesUniswapV2Formula(uint256 reserveIn, uint256 reserveOut, uint256 amountIn, bool usdIn)
        public
    {
        reserveIn = bound(reserveIn, 1, MAX_RESERVE - 1);
        reserveOut = bound(reserveOut, 1, MAX_RESERVE);
        amountIn = bound(amountIn, 1, MAX_RESERVE - reserveIn);
        (TestToken tokenIn, TestToken tokenOut) = usdIn ? (usd, weth) : (weth, usd);
        if (usdIn) market.syncReserves(reserveIn, reserveOut);
        else market.syncReserves(reserveOut, reserveIn);

        uint256 expected = _uniswapAmountOut(amountIn, reserveIn, reserveOut);
        address[] memory path = _path(tokenIn, tokenOut);
        assertEq(market.getAmountsOut(amountIn, path)[1], expected, "quote");
        _fund(tokenIn, amountIn);
        if (expected == 0) {
            vm.expectRevert(
                abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketZeroOutput.selector, amountIn)
            );
            _swap(amountIn, 0, path);
            return;
        }
        assertEq(_swap(amountIn, expected, path)[1], expected, "swap");
        assertEq(tokenOut.balanceOf(recipient), expected);

        (uint256 reserveA, uint256 reserveB) = market.getReserves();
        (uint256 newIn, uint256 newOut) = usdIn ? (reserveA, reserveB) : (reserveB, reserveA);
        assertEq(newIn, reserveIn + amountIn);
        assertEq(newOut, reserveOut - expected);
        assertGe(newIn * newOut, reserveIn * reserveOut, "k never falls");
    }

    function test_GetAmountsOut_BothDirections() public view {
        uint256[] memory sell = market.getAmountsOut(1e18, _path(weth, usd));
        assertEq(sell[0], 1e18);
        assertEq(sell[1], _uniswapAmountOut(1e18, RESERVE_WETH, RESERVE_USD));
        uint256[] memory buy = market.getAmountsOut(3000e6, _path(usd, weth));
        assertEq(buy[0], 3000e6);
        assertEq(buy[1], _uniswapAmountOut(3000e6, RESERVE_USD, RESERVE_WETH));
    }

    function test_RevertWhen_OutputBelowAmountOutMin() public {
        uint256 quote = market.getAmountsOut(3000e6, _path(usd, weth))[1];
        _fund(usd, 3000e6);
        vm.expectRevert(
            abi.encodeWithSelector(
                TestUniswapV2Market.TestUniswapV2MarketInsufficientOutputAmount.selector, quote, quote + 1
            )
        );
        _swap(3000e6, quote + 1, _path(usd, weth));
        assertEq(_swap(3000e6, quote, _path(usd, weth))[1], quote);
    }

    function test_RevertWhen_DeadlinePassed() public {
        _fund(usd, 2000e6);
        vm.expectRevert(abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketExpired.selector, NOW - 1, NOW));
        vm.prank(trader);
        market.swapExactTokensForTokens(1000e6, 0, _path(usd, weth), recipient, NOW - 1);
        // The deadline's own second is still in time.
        vm.prank(trader);
        market.swapExactTokensForTokens(1000e6, 0, _path(usd, weth), recipient, NOW);
        assertGt(weth.balanceOf(recipient), 0);
    }

    function test_RevertWhen_PathInvalid() public {
        address other = address(new TestToken("Other", "OTH", 18));
        address[][] memory paths = new address[][](6);
        paths[0] = new address[](0);
        paths[1] = new address[](1);
        paths[1][0] = address(usd);
        paths[2] = _path(usd, usd);
        paths[3] = _path(usd, IERC20(other));
        paths[4] = _path(IERC20(other), weth);
        paths[5] = new address[](3);
        (paths[5][0], paths[5][1], paths[5][2]) = (address(usd), address(weth), address(usd));
        _fund(usd, 1e6);
        for (uint256 i = 0; i < paths.length; ++i) {
            bytes memory err =
                abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketInvalidPath.selector, paths[i]);
            vm.expectRevert(err);
            market.getAmountsOut(1e6, paths[i]);
            vm.expectRevert(err);
            _swap(1e6, 0, paths[i]);
        }
    }

    function test_RevertWhen_InputZeroOrNoLiquidity() public {
        vm.expectRevert(TestUniswapV2Market.TestUniswapV2MarketInsufficientInputAmount.selector);
        _swap(0, 0, _path(usd, weth));

        TestUniswapV2Market empty = new TestUniswapV2Market(usd, weth, address(this));
        vm.expectRevert(
            abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketInsufficientLiquidity.selector, 0, 0)
        );
        empty.getAmountsOut(1e6, _path(usd, weth));
    }

    function test_RevertWhen_OutputRoundsToZero() public {
        // 1 wei of WETH is worth 3e-12 USD: less than USD's smallest unit.
        assertEq(market.getAmountsOut(1, _path(weth, usd))[1], 0);
        _fund(weth, 1);
        vm.expectRevert(abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketZeroOutput.selector, 1));
        _swap(1, 0, _path(weth, usd));
    }

    function test_RevertWhen_RecipientIsAPoolToken() public {
        _fund(usd, 1000e6);
        vm.startPrank(trader);
        vm.expectRevert(
            abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketInvalidTo.selector, address(weth))
        );
        market.swapExactTokensForTokens(1000e6, 0, _path(usd, weth), address(weth), DEADLINE);
        vm.expectRevert(abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketInvalidTo.selector, address(usd)));
        market.swapExactTokensForTokens(1000e6, 0, _path(usd, weth), address(usd), DEADLINE);
        vm.stopPrank();
    }

    function test_RevertWhen_SwapOverflowsReserve() public {
        uint256 amountIn = MAX_RESERVE - RESERVE_WETH + 1;
        uint256 amountOut = _uniswapAmountOut(amountIn, RESERVE_WETH, RESERVE_USD);
        _fund(weth, amountIn);
        vm.expectRevert(
            abi.encodeWithSelector(
                TestUniswapV2Market.TestUniswapV2MarketReserveOverflow.selector,
                RESERVE_USD - amountOut,
                MAX_RESERVE + 1
            )
        );
        _swap(amountIn, 0, _path(weth, usd));
    }

    // ---------------------------------------------------------------- syncReserves

    function test_SyncReserves_MintsUpAndReturnsExcessToOwner() public {
        vm.expectEmit(address(market));
        emit TestUniswapV2Market.ReservesSynced(2 * RESERVE_USD, RESERVE_WETH / 2);
        market.syncReserves(2 * RESERVE_USD, RESERVE_WETH / 2);

        (uint256 reserveA, uint256 reserveB) = market.getReserves();
        assertEq(reserveA, 2 * RESERVE_USD);
        assertEq(reserveB, RESERVE_WETH / 2);
        assertEq(usd.balanceOf(address(market)), 2 * RESERVE_USD, "minted up");
        assertEq(weth.balanceOf(address(market)), RESERVE_WETH / 2);
        assertEq(weth.balanceOf(address(this)), RESERVE_WETH / 2, "excess to the owner");
    }

    function test_SyncReserves_AbsorbsDonations() public {
        // A direct transfer is not liquidity until the owner syncs.
        weth.mint(address(market), 5e18);
        (, uint256 reserveB) = market.getReserves();
        assertEq(reserveB, RESERVE_WETH);
        market.syncReserves(RESERVE_USD, RESERVE_WETH);
        assertEq(weth.balanceOf(address(market)), RESERVE_WETH);
        assertEq(weth.balanceOf(address(this)), 5e18);
    }

    function test_SyncReserves_AtTheFeedPrice() public {
        // ETH at 5,830.10308787 USD (8 decimals): reserveUsd = reserveWeth * answer / 1e20.
        uint256 answer = 583_010_308_787;
        uint256 reserveWeth = 1000e18;
        uint256 reserveUsd = reserveWeth * answer / 1e20;
        assertEq(reserveUsd, 5_830_103_087_870);
        market.syncReserves(reserveUsd, reserveWeth);

        // Selling 0.001 WETH returns the feed's price less the 0.30% fee (and a little impact).
        uint256 out = market.getAmountsOut(1e15, _path(weth, usd))[1];
        uint256 atFeedPrice = 1e15 * answer / 1e20;
        assertLe(out, atFeedPrice * 997 / 1000);
        assertGe(out, atFeedPrice * 9969 / 10_000);
    }

    function test_RevertWhen_SyncReservesByNonOwnerOrOverflowing() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        vm.prank(bob);
        market.syncReserves(1, 1);
        vm.expectRevert(
            abi.encodeWithSelector(TestUniswapV2Market.TestUniswapV2MarketReserveOverflow.selector, 1, MAX_RESERVE + 1)
        );
        market.syncReserves(1, MAX_RESERVE + 1);
    }

    // ---------------------------------------------------------------- gas

    function test_Gas_Swap() public {
        _fund(usd, 3000e6);
        address[] memory path = _path(usd, weth);
        vm.prank(trader);
        uint256 before = gasleft();
        market.swapExactTokensForTokens(3000e6, 0, path, recipient, DEADLINE);
        uint256 used = before - gasleft();
        console.log("swapExactTokensForTokens gas:", used);
        assertLe(used, 120_000);
    }
}
