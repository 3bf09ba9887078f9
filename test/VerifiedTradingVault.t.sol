// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {TradePolicy, VaultConfig, VerifiedTradingVault} from "../contracts/VerifiedTradingVault.sol";
import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {AggregatorV3Interface} from "../contracts/interfaces/AggregatorV3Interface.sol";
import {IUniswapV2SwapRouter} from "../contracts/interfaces/IUniswapV2SwapRouter.sol";
import {
    IZkmlModelRegistry,
    InferenceValues,
    InputVisibility,
    ModelConfig,
    OutputVisibility,
    PublicLayout,
    WeightVisibility
} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {PriceFeatures} from "../contracts/libraries/PriceFeatures.sol";
import {MockZkmlVerifier} from "../contracts/test/MockZkmlVerifier.sol";
import {TestPriceFeed} from "../contracts/test/market/TestPriceFeed.sol";
import {TestToken} from "../contracts/test/market/TestToken.sol";
import {TestUniswapV2Market} from "../contracts/test/market/TestUniswapV2Market.sol";

/// @notice A proxy that misbehaves on one round: it answers it with the previous round's data, as a proxy
///         pointed at the wrong aggregator might. Everything else is the wrapped feed's.
contract RelabellingFeed is AggregatorV3Interface {
    TestPriceFeed public immutable INNER;
    uint80 public relabelled;

    constructor(TestPriceFeed inner) {
        INNER = inner;
    }

    function relabel(uint80 roundId) external {
        relabelled = roundId;
    }

    function decimals() external view returns (uint8) {
        return INNER.decimals();
    }

    function description() external view returns (string memory) {
        return INNER.description();
    }

    function version() external view returns (uint256) {
        return INNER.version();
    }

    function getRoundData(uint80 roundId_)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return INNER.getRoundData(roundId_ == relabelled ? roundId_ - 1 : roundId_);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return INNER.latestRoundData();
    }
}

/// @notice A router that ignores `amountOutMin` and pays one unit less than it, while reporting `amountOutMin`:
///         the vault must measure what arrived instead of trusting the router.
contract ShortChangingRouter is IUniswapV2SwapRouter {
    using SafeERC20 for IERC20;

    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256
    ) external returns (uint256[] memory amounts) {
        IERC20(path[0]).safeTransferFrom(msg.sender, address(this), amountIn);
        TestToken(path[1]).mint(to, amountOutMin - 1);
        amounts = new uint256[](2);
        (amounts[0], amounts[1]) = (amountIn, amountOutMin);
    }

    function getAmountsOut(uint256 amountIn, address[] calldata) external pure returns (uint256[] memory amounts) {
        amounts = new uint256[](2);
        amounts[0] = amountIn;
    }
}

/// @notice The vault's rules with the mock verifier (so any outputs can be "proven") over a feed loaded with
///         rounds of examples/eth-price/feed.json and a deep test pool at the feed's price. Each test names the
///         rule it guards; removing that rule from the vault makes it fail.
contract VerifiedTradingVaultTest is Test {
    string internal constant FEED_JSON = "examples/eth-price/feed.json";
    /// @dev The eth-price model's public layout: 12 inputs and 5 outputs, width 17, scale 12.
    uint8 internal constant SCALE = 12;
    uint8 internal constant WIDTH = 17;
    uint32 internal constant VERIFY_GAS = 500_000;
    /// @dev Answers FIRST_ANSWER.. of the example history are the feed's phase-1 rounds 1...
    uint256 internal constant FIRST_ANSWER = 2000;
    uint256 internal constant LOADED = 64;
    /// @dev Rounds pushed in setUp; the tests predict at the latest.
    uint64 internal constant PREDICTION = 20;
    uint16 internal constant PHASE = 1;
    /// @dev Seconds after a round's update at which the tests act: fresh under a 1 h `maxRoundAge`.
    uint256 internal constant DELAY = 5 minutes;

    uint256 internal constant DEPOSIT = 10_000e6;
    /// @dev Risk held next to the deposit in the tier tests: about as much value as the deposit, so no tier
    ///      reaches the max-trade cap.
    uint256 internal constant RISK = 4e18;
    /// @dev Pool WETH reserve: about 25M USD deep, so a 5,000 USD trade moves it by 0.02%.
    uint256 internal constant POOL_WETH = 10_000e18;
    /// @dev USD (6 decimals) per WETH (18 decimals) at an 8-decimal answer: `usd = weth * answer / 1e20`.
    uint256 internal constant WETH_USD_DIVISOR = 1e20;
    uint256 internal constant BPS = 10_000;
    /// @dev 10 ** SHARE_DECIMALS_OFFSET: the virtual shares.
    uint256 internal constant VIRTUAL_SHARES = 1e6;

    uint16 internal constant STRONG_TIER = 5000;
    uint16 internal constant TIER = 2000;
    uint16 internal constant MAX_TRADE = 3000;
    uint16 internal constant SLIPPAGE = 100;
    uint32 internal constant COOLDOWN = 12 hours;
    uint32 internal constant MAX_AGE = 1 hours;

    /// @dev The model's buckets, in output order (docs: strong sell, sell, hold, buy, strong buy).
    uint8 internal constant STRONG_SELL = 0;
    uint8 internal constant SELL = 1;
    uint8 internal constant HOLD = 2;
    uint8 internal constant BUY = 3;
    uint8 internal constant STRONG_BUY = 4;

    ZkmlModelRegistry internal registry;
    ZkmlInferenceBook internal book;
    MockZkmlVerifier internal verifier;
    TestToken internal usd;
    TestToken internal weth;
    TestPriceFeed internal feed;
    TestUniswapV2Market internal market;
    VerifiedTradingVault internal vault;
    uint256 internal modelId;

    int256[] internal history;
    uint256 internal firstAt;
    uint256 internal interval;
    uint64 internal pushed;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal keeper = makeAddr("keeper");
    address internal guardian = makeAddr("guardian");
    address internal attacker = makeAddr("attacker");

    function setUp() public {
        registry = new ZkmlModelRegistry();
        book = new ZkmlInferenceBook(registry);
        verifier = new MockZkmlVerifier();
        modelId = _register(_layout());

        usd = new TestToken("Test USD", "tUSD", 6);
        weth = new TestToken("Test WETH", "tWETH", 18);
        feed = new TestPriceFeed(8, "ETH / USD (example history)", address(this));
        market = new TestUniswapV2Market(usd, weth, address(this));

        string memory json = vm.readFile(FEED_JSON);
        int256[] memory all = vm.parseJsonIntArray(json, ".answers");
        interval = vm.parseJsonUint(json, ".interval");
        firstAt = vm.parseJsonUint(json, ".startedAt") + FIRST_ANSWER * interval;
        for (uint256 i = 0; i < LOADED; ++i) {
            history.push(all[FIRST_ANSWER + i]);
        }
        _pushUntil(PREDICTION);
        (uint80 latest,,,,) = feed.latestRoundData();
        assertEq(latest, _round(PREDICTION), "round ids are the proxy's");

        vault = _deployVault(_policy(), feed, market);
        _deposit(alice, DEPOSIT);
    }

    // ------------------------------------------------------------------------------------------- helpers

    function _layout() internal pure returns (PublicLayout memory) {
        return PublicLayout({
            weights: WeightVisibility.Fixed,
            input: InputVisibility.Public,
            output: OutputVisibility.Public,
            inputScale: SCALE,
            outputScale: SCALE,
            inputWidth: WIDTH,
            outputWidth: WIDTH,
            inputCount: 12,
            outputCount: 5
        });
    }

    function _register(PublicLayout memory publicLayout) internal returns (uint256) {
        return registry.registerModel(
            ModelConfig({
                verifier: verifier,
                commitment: bytes32(uint256(7)),
                verifyGasLimit: VERIFY_GAS,
                publicLayout: publicLayout
            })
        );
    }

    function _policy() internal pure returns (TradePolicy memory) {
        return TradePolicy({
            strongTierBps: STRONG_TIER,
            tierBps: TIER,
            maxTradeBps: MAX_TRADE,
            maxSlippageBps: SLIPPAGE,
            cooldown: COOLDOWN,
            maxRoundAge: MAX_AGE
        });
    }

    function _config(uint256 id, AggregatorV3Interface priceFeed, IUniswapV2SwapRouter router)
        internal
        view
        returns (VaultConfig memory)
    {
        return VaultConfig({
            quote: usd,
            risk: weth,
            registry: registry,
            book: book,
            modelId: id,
            feed: priceFeed,
            router: router,
            guardian: guardian
        });
    }

    function _deployVault(TradePolicy memory policy, AggregatorV3Interface priceFeed, IUniswapV2SwapRouter router)
        internal
        returns (VerifiedTradingVault)
    {
        return new VerifiedTradingVault(
            _config(modelId, priceFeed, router), policy, "Verified ETH vault", "vETH", address(this)
        );
    }

    /// @dev A proxy round id, `(phase << 64) | n`, computed here (not by the feed) so that it can be an
    ///      argument of the call after `vm.expectRevert`.
    function _round(uint16 phase, uint64 n) internal pure returns (uint80) {
        return (uint80(phase) << 64) | n;
    }

    function _round(uint64 n) internal pure returns (uint80) {
        return _round(PHASE, n);
    }

    function _updatedAt(uint64 n) internal view returns (uint256) {
        return firstAt + (n - 1) * interval;
    }

    function _price(uint64 n) internal view returns (uint256) {
        return SafeCast.toUint256(history[n - 1]);
    }

    /// @dev Pushes phase-1 rounds up to `n` (round n holds history[n - 1]), warps to DELAY after it and puts
    ///      the pool at its price, as arbitrageurs would.
    function _pushUntil(uint64 n) internal {
        while (pushed < n) {
            ++pushed;
            feed.pushRound(history[pushed - 1], _updatedAt(pushed));
        }
        vm.warp(_updatedAt(n) + DELAY);
        _syncPool(_price(n), BPS);
    }

    /// @dev Puts the pool at `bpsOfPrice / BPS` times `price` (USD per WETH).
    function _syncPool(uint256 price, uint256 bpsOfPrice) internal {
        market.syncReserves(POOL_WETH * price * bpsOfPrice / BPS / WETH_USD_DIVISOR, POOL_WETH);
    }

    function _deposit(address who, uint256 assets) internal returns (uint256 shares) {
        usd.mint(who, assets);
        vm.startPrank(who);
        usd.approve(address(vault), assets);
        shares = vault.deposit(assets, who);
        vm.stopPrank();
    }

    /// @dev The 13 answers of the window ending at `roundId`, as the feed holds them.
    function _feedWindow(uint80 roundId) internal view returns (int256[] memory answers) {
        answers = new int256[](PriceFeatures.ANSWERS);
        uint80 first = roundId - 12;
        for (uint80 i = 0; i < 13; ++i) {
            (, answers[i],,,) = feed.getRoundData(first + i);
        }
    }

    function _proofOf(int256[] memory window, int256[] memory outputs) internal view returns (bytes memory) {
        InferenceValues memory values =
            InferenceValues({inputs: PriceFeatures.features(window, SCALE), outputs: outputs});
        return verifier.mockProof(registry.inferenceInstances(modelId, values));
    }

    function _proof(uint80 roundId, int256[] memory outputs) internal view returns (bytes memory) {
        return _proofOf(_feedWindow(roundId), outputs);
    }

    function _values(uint80 roundId, int256[] memory outputs) internal view returns (InferenceValues memory) {
        return InferenceValues({inputs: PriceFeatures.features(_feedWindow(roundId), SCALE), outputs: outputs});
    }

    /// @dev Logits whose only maximum is `bucket`.
    function _logits(uint8 bucket) internal pure returns (int256[] memory outputs) {
        outputs = new int256[](5);
        (outputs[0], outputs[1], outputs[2], outputs[3], outputs[4]) = (-410, -120, -45, -260, -333);
        outputs[bucket] = 777;
    }

    function _act(VerifiedTradingVault target, uint80 roundId, int256[] memory outputs) internal returns (uint8) {
        bytes memory proof = _proof(roundId, outputs);
        vm.prank(keeper);
        return target.act(roundId, outputs, proof);
    }

    function _act(uint80 roundId, uint8 bucket) internal returns (uint8) {
        return _act(vault, roundId, _logits(bucket));
    }

    /// @dev Acts as the keeper with a proof computed beforehand: between `vm.expectEmit` and the call that
    ///      emits, no other call may happen.
    function _actWith(VerifiedTradingVault target, uint80 roundId, int256[] memory outputs, bytes memory proof)
        internal
        returns (uint8)
    {
        vm.prank(keeper);
        return target.act(roundId, outputs, proof);
    }

    function _path(IERC20 tokenIn, IERC20 tokenOut) internal pure returns (address[] memory path) {
        path = new address[](2);
        (path[0], path[1]) = (address(tokenIn), address(tokenOut));
    }

    function _poolOut(IERC20 tokenIn, IERC20 tokenOut, uint256 amountIn) internal view returns (uint256) {
        return market.getAmountsOut(amountIn, _path(tokenIn, tokenOut))[1];
    }

    function _riskToQuote(uint256 risk, uint256 price) internal pure returns (uint256) {
        return Math.mulDiv(risk, price, WETH_USD_DIVISOR);
    }

    function _quoteToRisk(uint256 quote, uint256 price) internal pure returns (uint256) {
        return Math.mulDiv(quote, WETH_USD_DIVISOR, price);
    }

    /// @dev The policy's trade size, written out from the spec: the bucket's tier of what is sold, capped at
    ///      MAX_TRADE of the total assets at `price` (for a sale, that cap in risk units).
    function _expectedAmountIn(uint8 bucket, uint256 quoteHeld, uint256 riskHeld, uint256 price)
        internal
        pure
        returns (uint256)
    {
        uint256 tier = (bucket == STRONG_BUY || bucket == STRONG_SELL) ? STRONG_TIER : TIER;
        uint256 cap = (quoteHeld + _riskToQuote(riskHeld, price)) * MAX_TRADE / BPS;
        if (bucket > HOLD) return Math.min(quoteHeld * tier / BPS, cap);
        return Math.min(riskHeld * tier / BPS, _quoteToRisk(cap, price));
    }

    /// @dev The least output the slippage bound accepts for `amountIn` at the feed price.
    function _minOut(bool buying, uint256 amountIn, uint256 price) internal pure returns (uint256) {
        uint256 fair = buying ? _quoteToRisk(amountIn, price) : _riskToQuote(amountIn, price);
        return Math.mulDiv(fair, BPS - SLIPPAGE, BPS, Math.Rounding.Ceil);
    }

    // ---------------------------------------------------------------------------------- acting on a proof

    /// Rule: a buy trades `tierBps` of the quote held; the Traded event carries the round, bucket, actor,
    /// token, amounts and the window's last price; the round is recorded.
    function test_Act_BuyTradesTheTierOfTheQuoteHeld() public {
        uint80 r = _round(PREDICTION);
        uint256 price = _price(PREDICTION);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);
        uint256 amountIn = DEPOSIT * TIER / BPS;
        uint256 amountOut = _poolOut(usd, weth, amountIn);

        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Traded(r, BUY, keeper, usd, amountIn, amountOut, price);
        vm.prank(keeper);
        assertEq(vault.act(r, outputs, proof), BUY);

        assertEq(usd.balanceOf(address(vault)), DEPOSIT - amountIn);
        assertEq(weth.balanceOf(address(vault)), amountOut);
        assertEq(vault.lastRound(), r);
        assertEq(vault.lastTradeAt(), block.timestamp);
        assertEq(usd.allowance(address(vault), address(market)), 0, "approval left to the router");
        // The trade cost the pool's fee and a sliver of impact, no more.
        assertApproxEqRel(vault.totalAssets(), DEPOSIT, 0.004e18);
    }

    /// Rule: a strong buy trades `strongTierBps` of the quote held (below the cap here).
    function test_Act_StrongBuyTradesTheStrongTier() public {
        weth.mint(address(vault), RISK);
        uint256 price = _price(PREDICTION);
        uint256 amountIn = DEPOSIT * STRONG_TIER / BPS;
        assertLt(amountIn, (DEPOSIT + _riskToQuote(RISK, price)) * MAX_TRADE / BPS, "the cap must not bind here");
        uint256 amountOut = _poolOut(usd, weth, amountIn);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(STRONG_BUY);
        bytes memory proof = _proof(r, outputs);

        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Traded(r, STRONG_BUY, keeper, usd, amountIn, amountOut, price);
        assertEq(_actWith(vault, r, outputs, proof), STRONG_BUY);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT - amountIn);
        assertEq(weth.balanceOf(address(vault)), RISK + amountOut);
    }

    /// Rule: a sell trades `tierBps` of the risk held.
    function test_Act_SellTradesTheTierOfTheRiskHeld() public {
        weth.mint(address(vault), RISK);
        uint256 price = _price(PREDICTION);
        uint256 amountIn = RISK * TIER / BPS;
        uint256 amountOut = _poolOut(weth, usd, amountIn);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(SELL);
        bytes memory proof = _proof(r, outputs);

        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Traded(r, SELL, keeper, weth, amountIn, amountOut, price);
        assertEq(_actWith(vault, r, outputs, proof), SELL);
        assertEq(weth.balanceOf(address(vault)), RISK - amountIn);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT + amountOut);
        assertEq(weth.allowance(address(vault), address(market)), 0, "approval left to the router");
    }

    /// Rule: a strong sell trades `strongTierBps` of the risk held (below the cap here).
    function test_Act_StrongSellTradesTheStrongTier() public {
        weth.mint(address(vault), RISK);
        uint256 price = _price(PREDICTION);
        uint256 amountIn = RISK * STRONG_TIER / BPS;
        assertLt(_riskToQuote(amountIn, price), (DEPOSIT + _riskToQuote(RISK, price)) * MAX_TRADE / BPS);
        uint256 amountOut = _poolOut(weth, usd, amountIn);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(STRONG_SELL);
        bytes memory proof = _proof(r, outputs);

        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Traded(r, STRONG_SELL, keeper, weth, amountIn, amountOut, price);
        assertEq(_actWith(vault, r, outputs, proof), STRONG_SELL);
        assertEq(weth.balanceOf(address(vault)), RISK - amountIn);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT + amountOut);
    }

    /// Rule: a hold prediction emits Held(PredictedHold), trades nothing, starts no cooldown, uses the round.
    function test_Act_HoldDoesNotTrade() public {
        weth.mint(address(vault), RISK);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(HOLD);
        bytes memory proof = _proof(r, outputs);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Held(r, HOLD, keeper, VerifiedTradingVault.HoldReason.PredictedHold);
        assertEq(_actWith(vault, r, outputs, proof), HOLD);

        assertEq(usd.balanceOf(address(vault)), DEPOSIT);
        assertEq(weth.balanceOf(address(vault)), RISK);
        assertEq(vault.lastRound(), r);
        assertEq(vault.lastTradeAt(), 0);
    }

    /// Rule: ties go to the first maximum (strictly-greater argmax), as the Python and Rust argmax do.
    function test_Act_TiesGoToTheFirstMaximum() public {
        int256[] memory outputs = new int256[](5);
        // Sell, hold and buy tie: sell (the first) wins; the vault holds no risk, so nothing is sold.
        (outputs[0], outputs[1], outputs[2], outputs[3], outputs[4]) = (1, 7, 7, 7, 2);
        uint80 r = _round(PREDICTION);
        bytes memory proof = _proof(r, outputs);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Held(r, SELL, keeper, VerifiedTradingVault.HoldReason.NothingToTrade);
        assertEq(_actWith(vault, r, outputs, proof), SELL);

        // Hold, buy and strong buy tie: hold wins, and no USD is spent.
        _pushUntil(PREDICTION + 1);
        (outputs[0], outputs[1], outputs[2], outputs[3], outputs[4]) = (3, 0, 9, 9, 9);
        assertEq(_act(vault, _round(PREDICTION + 1), outputs), HOLD);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT);

        // All equal: strong sell.
        _pushUntil(PREDICTION + 2);
        (outputs[0], outputs[1], outputs[2], outputs[3], outputs[4]) = (-5, -5, -5, -5, -5);
        assertEq(_act(vault, _round(PREDICTION + 2), outputs), STRONG_SELL);
    }

    /// Rule: the bucket is the first largest logit, whatever the logits.
    function testFuzz_Act_PicksTheFirstLargestLogit(int8[5] memory logits) public {
        int256[] memory outputs = new int256[](5);
        uint8 expected;
        for (uint256 i = 0; i < 5; ++i) {
            // Few distinct values, so ties are common.
            outputs[i] = int256(logits[i]) % 3;
        }
        for (uint8 i = 1; i < 5; ++i) {
            if (outputs[i] > outputs[expected]) expected = i;
        }
        assertEq(_act(vault, _round(PREDICTION), outputs), expected);
        assertEq(vault.lastRound(), _round(PREDICTION));
    }

    /// Rule: sizes are the bucket's tier of what is sold, capped at maxTradeBps of the total assets, and the
    /// trade is what the pool gives for that size.
    function testFuzz_Act_TradesTheTierCappedAtMaxTrade(uint256 quoteHeld, uint256 riskHeld, uint256 bucketSeed)
        public
    {
        uint8[4] memory trading = [STRONG_SELL, SELL, BUY, STRONG_BUY];
        uint8 bucket = trading[bucketSeed % 4];
        // Up to about 200,000 USD: the largest trade (30% of it) moves the 25M USD pool by 0.25%, inside the
        // 1% bound with the 0.30% fee.
        quoteHeld = bound(quoteHeld, 0, 100_000e6);
        riskHeld = bound(riskHeld, 0, 40e18);
        // No dust: below about 100 units of output the pool's fee plus integer rounding alone exceed the 1%
        // bound, so such a trade reverts on slippage; zero holdings stay (they test NothingToTrade).
        if (quoteHeld < 1e6) quoteHeld = 0;
        if (riskHeld < 1e15) riskHeld = 0;
        // The vault's holdings are set directly: shares do not take part in sizing.
        deal(address(usd), address(vault), quoteHeld);
        weth.mint(address(vault), riskHeld);
        bool buying = bucket > HOLD;
        (IERC20 tokenIn, IERC20 tokenOut) = buying ? (IERC20(usd), IERC20(weth)) : (IERC20(weth), IERC20(usd));
        (uint256 inHeld, uint256 outHeld) = buying ? (quoteHeld, riskHeld) : (riskHeld, quoteHeld);
        uint256 amountIn = _expectedAmountIn(bucket, quoteHeld, riskHeld, _price(PREDICTION));
        (bool traded, uint256 amountOut) = _actAndExpect(bucket, tokenIn, tokenOut, amountIn);
        if (!traded) amountIn = 0;
        assertEq(tokenIn.balanceOf(address(vault)), inHeld - amountIn);
        assertEq(tokenOut.balanceOf(address(vault)), outHeld + amountOut);
    }

    /// @dev Acts on `bucket` at PREDICTION expecting a trade of `amountIn`, or Held(NothingToTrade) when that
    ///      is worth less than a unit of the output; returns whether it traded, and the output.
    function _actAndExpect(uint8 bucket, IERC20 tokenIn, IERC20 tokenOut, uint256 amountIn)
        internal
        returns (bool traded, uint256 amountOut)
    {
        uint256 price = _price(PREDICTION);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(bucket);
        bytes memory proof = _proof(r, outputs);
        if (_minOut(bucket > HOLD, amountIn, price) == 0) {
            vm.expectEmit(address(vault));
            emit VerifiedTradingVault.Held(r, bucket, keeper, VerifiedTradingVault.HoldReason.NothingToTrade);
            _actWith(vault, r, outputs, proof);
            assertEq(vault.lastTradeAt(), 0);
            return (false, 0);
        }
        traded = true;
        amountOut = _poolOut(tokenIn, tokenOut, amountIn);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Traded(r, bucket, keeper, tokenIn, amountIn, amountOut, price);
        _actWith(vault, r, outputs, proof);
    }

    // ------------------------------------------------------------------------------ inputs come from the feed

    /// Rule: the vault computes the inputs from its feed; a proof of a window one answer away is rejected.
    function testFuzz_RevertsWhen_TheProofIsOfAnotherWindow(uint256 index, uint256 delta, bool up) public {
        uint80 r = _round(PREDICTION);
        int256[] memory window = _feedWindow(r);
        index = bound(index, 0, PriceFeatures.ANSWERS - 1);
        // 1 to 100 USD: every such change moves at least one quantized return.
        int256 change = SafeCast.toInt256(bound(delta, 1e8, 1e10));
        window[index] += up ? change : -change;
        int256[] memory outputs = _logits(STRONG_BUY);
        bytes memory proof = _proofOf(window, outputs);

        vm.prank(keeper);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        vault.act(r, outputs, proof);
        assertEq(vault.lastRound(), 0);
    }

    /// Rule: the window ends at the round acted on; a proof of the previous round's window is rejected.
    function test_RevertsWhen_TheProofIsOfThePreviousRoundsWindow() public {
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(_round(PREDICTION - 1), outputs);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        vault.act(_round(PREDICTION), outputs, proof);
    }

    /// Rule: the outputs acted on are the proof's; any other logit vector is rejected.
    function testFuzz_RevertsWhen_TheOutputsAreNotTheProofs(uint256 index, int16 delta) public {
        vm.assume(delta != 0);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(HOLD);
        bytes memory proof = _proof(r, outputs);
        outputs[bound(index, 0, 4)] += delta;

        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        vault.act(r, outputs, proof);
    }

    /// Rule: a proof is required (a bad proof is rejected, not ignored).
    function test_RevertsWhen_TheProofIsTampered() public {
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);
        proof[0] ^= 0x01;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        vault.act(r, outputs, proof);
    }

    // ----------------------------------------------------------------------------------------- round rules

    /// Rule: only rounds newer than the last one acted on (each prediction is acted on once).
    function test_RevertsWhen_TheSameRoundIsActedOnAgain() public {
        uint80 r = _round(PREDICTION);
        _act(r, HOLD);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultRoundNotNewer.selector, r, r));
        vault.act(r, outputs, proof);
    }

    /// Rule: only rounds newer than the last one acted on; an older but still fresh round is refused.
    function test_RevertsWhen_AnOlderRoundIsActedOn() public {
        // Two rounds within the age limit: the older one is fresh, so only the ordering rule refuses it.
        feed.pushRound(history[PREDICTION], block.timestamp);
        uint80 newer = _round(PREDICTION + 1);
        uint80 older = _round(PREDICTION);
        _act(newer, HOLD);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(older, outputs);
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultRoundNotNewer.selector, older, newer)
        );
        vault.act(older, outputs, proof);
    }

    /// Rule: the round must be at most maxRoundAge old (the boundary itself is accepted).
    function test_RevertsWhen_TheRoundIsStale() public {
        uint80 r = _round(PREDICTION);
        uint256 updatedAt = _updatedAt(PREDICTION);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);

        vm.warp(updatedAt + MAX_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultStaleRound.selector, r, updatedAt, MAX_AGE)
        );
        vault.act(r, outputs, proof);

        vm.warp(updatedAt + MAX_AGE);
        assertEq(vault.act(r, outputs, proof), BUY);
    }

    /// Rule: the window must not start before its phase's round 1 (aggregator rounds 0..12 of a phase).
    function testFuzz_RevertsWhen_TheWindowStartsBeforeThePhase(uint64 n) public {
        uint80 r = _round(n % 13);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultWindowCrossesPhase.selector, r));
        vault.act(r, _logits(BUY), hex"00");
    }

    /// Rule: after the proxy moves to a new aggregator, the first 12 rounds of the new phase cannot be acted on
    /// (their windows would mix two aggregators); its round 13 can, and it is newer than every old round.
    function test_RevertsWhen_TheWindowCrossesANewPhase() public {
        _act(_round(PREDICTION), HOLD);
        feed.startNewPhase();
        for (uint64 n = 1; n <= PriceFeatures.WINDOW; ++n) {
            feed.pushRound(history[PREDICTION + n - 1], _updatedAt(PREDICTION + n));
            vm.warp(_updatedAt(PREDICTION + n) + DELAY);
            uint80 r = _round(PHASE + 1, n);
            vm.expectRevert(
                abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultWindowCrossesPhase.selector, r)
            );
            vault.act(r, _logits(BUY), hex"00");
        }
        feed.pushRound(history[PREDICTION + 12], _updatedAt(PREDICTION + 13));
        vm.warp(_updatedAt(PREDICTION + 13) + DELAY);
        _syncPool(_price(PREDICTION + 13), BPS);
        uint80 first = _round(PHASE + 1, 13);
        assertEq(_act(first, BUY), BUY);
        assertEq(vault.lastRound(), first);
    }

    /// Rule: every round of the window must exist; an OCR1-style feed reverts on a missing round.
    function test_RevertsWhen_ARoundIsMissing_FeedReverts() public {
        uint80 r = _round(PREDICTION + 1);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultMissingRound.selector, r));
        vault.act(r, _logits(BUY), hex"00");

        // A phase that never existed: its window's first round is already missing.
        uint80 far = _round(PHASE + 2, PREDICTION);
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultMissingRound.selector, far - 12)
        );
        vault.act(far, _logits(BUY), hex"00");
    }

    /// Rule: every round of the window must exist; an OCR2-style feed answers a missing round with zeros, which
    /// must not reach the encoding as a price.
    function test_RevertsWhen_ARoundIsMissing_FeedAnswersZeros() public {
        feed.setZeroForMissingRounds(true);
        uint80 r = _round(PREDICTION + 1);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultMissingRound.selector, r));
        vault.act(r, _logits(BUY), hex"00");
    }

    /// Rule: every answer must be for the round asked for; a proxy answering another round is refused.
    function test_RevertsWhen_TheFeedAnswersAnotherRound() public {
        RelabellingFeed relabelling = new RelabellingFeed(feed);
        VerifiedTradingVault other = _deployVault(_policy(), relabelling, market);
        uint80 r = _round(PREDICTION);
        uint80 wrong = _round(PREDICTION - 4);
        relabelling.relabel(wrong);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultMissingRound.selector, wrong));
        other.act(r, outputs, proof);

        relabelling.relabel(0);
        assertEq(other.act(r, outputs, proof), BUY);
    }

    /// Rule: exactly BUCKETS (5) outputs.
    function testFuzz_RevertsWhen_TheOutputCountIsWrong(uint256 count) public {
        count = bound(count, 0, 12);
        vm.assume(count != 5);
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultWrongOutputCount.selector, count)
        );
        vault.act(_round(PREDICTION), new int256[](count), hex"00");
    }

    // ---------------------------------------------------------------------------------------------- limits

    /// Rule: a buy is capped at maxTradeBps of the total assets (a strong buy's 50% of an all-USD vault -> 30%).
    function test_Act_TheMaxTradeCapBindsOnABuy() public {
        uint256 amountIn = DEPOSIT * MAX_TRADE / BPS;
        uint256 amountOut = _poolOut(usd, weth, amountIn);
        uint256 price = _price(PREDICTION);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(STRONG_BUY);
        bytes memory proof = _proof(r, outputs);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Traded(r, STRONG_BUY, keeper, usd, amountIn, amountOut, price);
        _actWith(vault, r, outputs, proof);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT - amountIn);
    }

    /// Rule: a sale is capped at maxTradeBps of the total assets, in risk units at the window's price.
    function test_Act_TheMaxTradeCapBindsOnASell() public {
        uint256 price = _price(PREDICTION);
        uint256 riskHeld = 10e18;
        weth.mint(address(vault), riskHeld);
        uint256 cap = (DEPOSIT + _riskToQuote(riskHeld, price)) * MAX_TRADE / BPS;
        uint256 amountIn = _quoteToRisk(cap, price);
        assertLt(amountIn, riskHeld * STRONG_TIER / BPS, "the cap must bind");
        uint256 amountOut = _poolOut(weth, usd, amountIn);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(STRONG_SELL);
        bytes memory proof = _proof(r, outputs);

        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Traded(r, STRONG_SELL, keeper, weth, amountIn, amountOut, price);
        _actWith(vault, r, outputs, proof);
        assertEq(weth.balanceOf(address(vault)), riskHeld - amountIn);
    }

    /// Rule: the output must be at least (1 - maxSlippageBps) of the trade's value at the feed price; the
    /// router enforces the vault's amountOutMin, so a pool beyond it reverts and a pool within it trades.
    function testFuzz_Act_TheSlippageBound(uint256 poolBps, bool buying) public {
        poolBps = bound(poolBps, 9500, 10_500);
        uint256 price = _price(PREDICTION);
        _syncPool(price, poolBps);
        if (!buying) weth.mint(address(vault), RISK);
        uint8 bucket = buying ? BUY : SELL;
        uint256 amountIn = buying ? DEPOSIT * TIER / BPS : RISK * TIER / BPS;
        (IERC20 tokenIn, IERC20 tokenOut) = buying ? (IERC20(usd), IERC20(weth)) : (IERC20(weth), IERC20(usd));
        uint256 amountOut = _poolOut(tokenIn, tokenOut, amountIn);
        uint256 minOut = _minOut(buying, amountIn, price);
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(bucket);
        bytes memory proof = _proof(r, outputs);

        if (amountOut < minOut) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    TestUniswapV2Market.TestUniswapV2MarketInsufficientOutputAmount.selector, amountOut, minOut
                )
            );
            vault.act(r, outputs, proof);
            assertEq(vault.lastRound(), 0, "a reverted trade used the round");
        } else {
            vault.act(r, outputs, proof);
            assertEq(tokenOut.balanceOf(address(vault)), (buying ? 0 : DEPOSIT) + amountOut);
        }
    }

    /// Rule: a pool pushed 2% from the feed makes act revert (router's amountOutMin) without using the round;
    /// back at the feed's price, the same round trades.
    function test_RevertsWhen_ThePoolIsPushedBeyondTheSlippageBound() public {
        uint80 r = _round(PREDICTION);
        uint256 price = _price(PREDICTION);
        // WETH 2% dearer in the pool than on the feed: a buy gets about 2.3% less than its fair value.
        _syncPool(price, 10_200);
        uint256 amountIn = DEPOSIT * TIER / BPS;
        uint256 amountOut = _poolOut(usd, weth, amountIn);
        uint256 minOut = _minOut(true, amountIn, price);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);

        vm.expectRevert(
            abi.encodeWithSelector(
                TestUniswapV2Market.TestUniswapV2MarketInsufficientOutputAmount.selector, amountOut, minOut
            )
        );
        vault.act(r, outputs, proof);
        assertEq(vault.lastRound(), 0);
        assertEq(vault.lastTradeAt(), 0);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT);

        _syncPool(price, BPS);
        assertEq(vault.act(r, outputs, proof), BUY);
        assertEq(vault.lastRound(), r);
    }

    /// Rule: a sale pushed beyond the bound (WETH 2% cheaper in the pool) reverts too.
    function test_RevertsWhen_ThePoolIsPushedBeyondTheSlippageBound_Sell() public {
        weth.mint(address(vault), RISK);
        uint256 price = _price(PREDICTION);
        _syncPool(price, 9800);
        uint256 amountIn = RISK * TIER / BPS;
        uint256 amountOut = _poolOut(weth, usd, amountIn);
        uint256 minOut = _minOut(false, amountIn, price);
        int256[] memory outputs = _logits(SELL);
        bytes memory proof = _proof(_round(PREDICTION), outputs);
        vm.expectRevert(
            abi.encodeWithSelector(
                TestUniswapV2Market.TestUniswapV2MarketInsufficientOutputAmount.selector, amountOut, minOut
            )
        );
        vault.act(_round(PREDICTION), outputs, proof);
    }

    /// Rule: the bound is checked on what arrived, not on what the router reports.
    function test_RevertsWhen_TheRouterPaysLessThanTheBound() public {
        ShortChangingRouter router = new ShortChangingRouter();
        VerifiedTradingVault other = _deployVault(_policy(), feed, router);
        usd.mint(address(other), DEPOSIT);
        uint256 amountIn = DEPOSIT * TIER / BPS;
        uint256 minOut = _minOut(true, amountIn, _price(PREDICTION));
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(_round(PREDICTION), outputs);
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultSlippage.selector, minOut - 1, minOut)
        );
        other.act(_round(PREDICTION), outputs, proof);
    }

    /// Rule: within the cooldown a trade prediction is held (Held Cooldown) and its round IS used.
    function test_Act_HoldsDuringTheCooldownAndUsesTheRound() public {
        _act(_round(PREDICTION), BUY);
        uint256 tradedAt = vault.lastTradeAt();
        uint256 quoteHeld = usd.balanceOf(address(vault));
        uint256 riskHeld = weth.balanceOf(address(vault));

        _pushUntil(PREDICTION + 1);
        uint80 r = _round(PREDICTION + 1);
        int256[] memory outputs = _logits(STRONG_SELL);
        bytes memory proof = _proof(r, outputs);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Held(r, STRONG_SELL, keeper, VerifiedTradingVault.HoldReason.Cooldown);
        assertEq(_actWith(vault, r, outputs, proof), STRONG_SELL);
        assertEq(vault.lastRound(), r, "a held prediction uses its round");
        assertEq(vault.lastTradeAt(), tradedAt);
        assertEq(usd.balanceOf(address(vault)), quoteHeld);
        assertEq(weth.balanceOf(address(vault)), riskHeld);

        outputs = _logits(BUY);
        proof = _proof(r, outputs);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultRoundNotNewer.selector, r, r));
        vault.act(r, outputs, proof);

        // One second before the cooldown ends: still held.
        _pushUntil(PREDICTION + 12);
        vm.warp(tradedAt + COOLDOWN - 1);
        r = _round(PREDICTION + 12);
        proof = _proof(r, outputs);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Held(r, BUY, keeper, VerifiedTradingVault.HoldReason.Cooldown);
        _actWith(vault, r, outputs, proof);
        assertEq(usd.balanceOf(address(vault)), quoteHeld);
    }

    /// Rule: the cooldown ends exactly `cooldown` seconds after the last trade.
    function test_Act_TradesOnceTheCooldownEnds() public {
        _act(_round(PREDICTION), BUY);
        uint256 tradedAt = vault.lastTradeAt();
        uint256 quoteHeld = usd.balanceOf(address(vault));
        _pushUntil(PREDICTION + 12);
        vm.warp(tradedAt + COOLDOWN);
        _act(_round(PREDICTION + 12), BUY);
        assertEq(usd.balanceOf(address(vault)), quoteHeld - quoteHeld * TIER / BPS);
        assertEq(vault.lastTradeAt(), tradedAt + COOLDOWN);
    }

    /// Rule: nothing held to sell (or buy with) -> Held(NothingToTrade): no swap, no cooldown, round used.
    function test_Act_HoldsWhenThereIsNothingToTrade() public {
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(STRONG_SELL);
        bytes memory proof = _proof(r, outputs);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.Held(r, STRONG_SELL, keeper, VerifiedTradingVault.HoldReason.NothingToTrade);
        _actWith(vault, r, outputs, proof);
        assertEq(vault.lastRound(), r);
        assertEq(vault.lastTradeAt(), 0);

        VerifiedTradingVault empty = _deployVault(_policy(), feed, market);
        outputs = _logits(BUY);
        proof = _proof(r, outputs);
        vm.expectEmit(address(empty));
        emit VerifiedTradingVault.Held(r, BUY, keeper, VerifiedTradingVault.HoldReason.NothingToTrade);
        _actWith(empty, r, outputs, proof);
        assertEq(empty.lastRound(), r);
        assertEq(empty.lastTradeAt(), 0);
    }

    // ----------------------------------------------------------------------------------------- attested

    /// Rule: without a proof, the book must have attested exactly this inference.
    function test_Act_OnAnAttestedInference() public {
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(BUY);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotAttested.selector, r));
        vault.act(r, outputs, "");

        book.attest(modelId, _proof(r, outputs), _values(r, outputs));
        // Other outputs for the same window were not attested.
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotAttested.selector, r));
        vault.act(r, _logits(STRONG_BUY), "");

        vm.prank(keeper);
        assertEq(vault.act(r, outputs, ""), BUY);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT - DEPOSIT * TIER / BPS);
    }

    /// Rule: an attestation of another window (the previous round's) does not count for this round.
    function test_RevertsWhen_TheAttestationIsOfAnotherWindow() public {
        int256[] memory outputs = _logits(BUY);
        uint80 previous = _round(PREDICTION - 1);
        book.attest(modelId, _proof(previous, outputs), _values(previous, outputs));
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotAttested.selector, _round(PREDICTION))
        );
        vault.act(_round(PREDICTION), outputs, "");
    }

    // ------------------------------------------------------------------------------------------ model rules

    /// Rule: a retired model's predictions are not acted on, proven or attested.
    function test_RevertsWhen_TheModelIsRetired() public {
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);
        book.attest(modelId, proof, _values(r, outputs));
        registry.retireModel(modelId);

        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        vault.act(r, outputs, proof);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotAttested.selector, r));
        vault.act(r, outputs, "");
    }

    /// Rule: the constructor accepts only the eth-price layout (12 public inputs, 5 public outputs).
    function test_RevertsWhen_TheModelHasAnotherLayout() public {
        PublicLayout[] memory layouts = new PublicLayout[](6);
        for (uint256 i = 0; i < layouts.length; ++i) {
            layouts[i] = _layout();
        }
        layouts[0].inputCount = 11;
        layouts[1].inputCount = 13;
        layouts[2].outputCount = 4;
        layouts[3].outputCount = 6;
        layouts[4].input = InputVisibility.Hashed;
        layouts[5].output = OutputVisibility.Hashed;
        for (uint256 i = 0; i < layouts.length; ++i) {
            uint256 id = _register(layouts[i]);
            VaultConfig memory config = _config(id, feed, market);
            vm.expectRevert(
                abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultUnsupportedModel.selector, id)
            );
            new VerifiedTradingVault(config, _policy(), "v", "v", address(this));
        }

        PublicLayout memory privateInputs = _layout();
        privateInputs.input = InputVisibility.Private;
        uint256 privateId = _register(privateInputs);
        VaultConfig memory privateConfig = _config(privateId, feed, market);
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultUnsupportedModel.selector, privateId)
        );
        new VerifiedTradingVault(privateConfig, _policy(), "v", "v", address(this));

        VaultConfig memory unknown = _config(99, feed, market);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 99));
        new VerifiedTradingVault(unknown, _policy(), "v", "v", address(this));
    }

    /// Rule: tiers and the cap are at most 100%, the slippage bound at most MAX_SLIPPAGE_BPS, the age nonzero;
    /// the boundary values themselves are accepted.
    function test_RevertsWhen_ThePolicyIsInvalid() public {
        TradePolicy[] memory bad = new TradePolicy[](5);
        for (uint256 i = 0; i < bad.length; ++i) {
            bad[i] = _policy();
        }
        bad[0].strongTierBps = 10_001;
        bad[1].tierBps = 10_001;
        bad[2].maxTradeBps = 10_001;
        bad[3].maxSlippageBps = 1001;
        bad[4].maxRoundAge = 0;
        VaultConfig memory config = _config(modelId, feed, market);
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(VerifiedTradingVault.VerifiedTradingVaultInvalidPolicy.selector);
            new VerifiedTradingVault(config, bad[i], "v", "v", address(this));
        }

        TradePolicy memory edge = TradePolicy({
            strongTierBps: 10_000,
            tierBps: 10_000,
            maxTradeBps: 10_000,
            maxSlippageBps: 1000,
            cooldown: 0,
            maxRoundAge: 1
        });
        VerifiedTradingVault accepted = new VerifiedTradingVault(config, edge, "v", "v", address(this));
        assertEq(abi.encode(accepted.policy()), abi.encode(edge));
    }

    /// Rule: quote and risk differ; the feed and router are set.
    function test_RevertsWhen_TheConfigIsInvalid() public {
        VaultConfig[] memory bad = new VaultConfig[](3);
        for (uint256 i = 0; i < bad.length; ++i) {
            bad[i] = _config(modelId, feed, market);
        }
        bad[0].risk = usd;
        bad[1].feed = AggregatorV3Interface(address(0));
        bad[2].router = IUniswapV2SwapRouter(address(0));
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(VerifiedTradingVault.VerifiedTradingVaultInvalidConfig.selector);
            new VerifiedTradingVault(bad[i], _policy(), "v", "v", address(this));
        }
    }

    function test_Constructor_SetsTheConfiguration() public view {
        assertEq(address(vault.REGISTRY()), address(registry));
        assertEq(address(vault.BOOK()), address(book));
        assertEq(vault.MODEL_ID(), modelId);
        assertEq(address(vault.FEED()), address(feed));
        assertEq(address(vault.ROUTER()), address(market));
        assertEq(address(vault.RISK_TOKEN()), address(weth));
        assertEq(vault.asset(), address(usd));
        assertEq(vault.guardian(), guardian);
        assertEq(vault.owner(), address(this));
        assertEq(abi.encode(vault.policy()), abi.encode(_policy()));
        // The inflation defence: 6 virtual decimals on top of USD's 6.
        assertEq(vault.decimals(), 12);
        assertEq(vault.balanceOf(alice), DEPOSIT * VIRTUAL_SHARES);
        assertEq(vault.STRONG_SELL(), STRONG_SELL);
        assertEq(vault.SELL(), SELL);
        assertEq(vault.HOLD(), HOLD);
        assertEq(vault.BUY(), BUY);
        assertEq(vault.STRONG_BUY(), STRONG_BUY);
    }

    // -------------------------------------------------------------------------------------------- guardian

    /// Rule: only the guardian pauses and unpauses.
    function testFuzz_RevertsWhen_NotTheGuardianPauses(address account) public {
        vm.assume(account != guardian);
        vm.prank(account);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotGuardian.selector, account));
        vault.pause();

        vm.prank(guardian);
        vault.pause();
        vm.prank(account);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotGuardian.selector, account));
        vault.unpause();
        assertTrue(vault.paused());
    }

    /// Rule: a pause stops `act` (OZ EnforcedPause) and nothing else: deposits, withdrawals, redemptions and
    /// in-kind exits go on; after the unpause the prediction is acted on.
    function test_Pause_StopsTradingButNotDepositorsLeaving() public {
        _deposit(bob, DEPOSIT);
        vm.prank(guardian);
        vault.pause();

        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.act(r, outputs, proof);

        vm.startPrank(alice);
        assertEq(vault.withdraw(1000e6, alice, alice), 1000e6 * VIRTUAL_SHARES);
        assertEq(vault.redeem(1000e6 * VIRTUAL_SHARES, alice, alice), 1000e6);
        (uint256 quoteOut, uint256 riskOut) = vault.redeemInKind(vault.balanceOf(alice), alice, alice);
        vm.stopPrank();
        assertApproxEqAbs(quoteOut, DEPOSIT - 2000e6, 1);
        assertEq(riskOut, 0);
        assertEq(vault.balanceOf(alice), 0);
        _deposit(carol, DEPOSIT);

        vm.prank(guardian);
        vault.unpause();
        assertEq(vault.act(r, outputs, proof), BUY);
    }

    /// Rule: only the owner sets the guardian; the old one loses the power, the new one gains it.
    function test_SetGuardian_OnlyTheOwner() public {
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vault.setGuardian(bob);

        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.GuardianChanged(guardian, bob);
        vault.setGuardian(bob);
        assertEq(vault.guardian(), bob);

        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotGuardian.selector, guardian));
        vault.pause();
        vm.prank(bob);
        vault.pause();
        assertTrue(vault.paused());
    }

    // -------------------------------------------------------------------------------------------- ERC-4626

    /// Rule: deposit and redeem, mint and redeem round-trip at one share price (no value created or lost
    /// beyond a unit of rounding, which stays with the vault).
    function testFuzz_DepositMintRedeem_RoundTrip(uint256 assets, uint256 shares) public {
        assets = bound(assets, 1, 1e15);
        shares = bound(shares, 1, 1e21);
        uint256 received = _deposit(bob, assets);
        assertEq(received, vault.convertToShares(assets));

        usd.mint(carol, vault.previewMint(shares));
        vm.startPrank(carol);
        usd.approve(address(vault), type(uint256).max);
        uint256 paid = vault.mint(shares, carol);
        vm.stopPrank();
        assertEq(vault.balanceOf(carol), shares);

        vm.prank(bob);
        uint256 bobOut = vault.redeem(received, bob, bob);
        assertLe(bobOut, assets);
        assertGe(bobOut + 1, assets);

        vm.prank(carol);
        uint256 carolOut = vault.redeem(shares, carol, carol);
        assertLe(carolOut, paid);
        assertGe(carolOut + 1, paid);
    }

    /// Rule: withdraw burns exactly the shares of the assets taken (rounded up, for the vault).
    function testFuzz_DepositWithdraw_RoundTrip(uint256 assets) public {
        assets = bound(assets, 1, 1e15);
        uint256 shares = _deposit(bob, assets);
        vm.prank(bob);
        uint256 burned = vault.withdraw(assets, bob, bob);
        assertEq(burned, shares);
        assertEq(vault.balanceOf(bob), 0);
        assertEq(usd.balanceOf(bob), assets);
    }

    /// Rule: risk is valued at the feed's latest price, so the share price follows the feed.
    function test_SharePriceFollowsTheFeedPrice() public {
        _act(_round(PREDICTION), BUY);
        uint256 riskHeld = weth.balanceOf(address(vault));
        uint256 quoteHeld = usd.balanceOf(address(vault));
        uint256 shares = vault.balanceOf(alice);
        assertEq(vault.totalAssets(), quoteHeld + _riskToQuote(riskHeld, _price(PREDICTION)));
        uint256 valueBefore = vault.convertToAssets(shares);

        // Up 10% in one round.
        uint256 up = _price(PREDICTION) * 11 / 10;
        feed.pushRound(SafeCast.toInt256(up), block.timestamp);
        assertEq(vault.totalAssets(), quoteHeld + _riskToQuote(riskHeld, up));
        uint256 valueUp = vault.convertToAssets(shares);
        assertApproxEqAbs(valueUp - valueBefore, _riskToQuote(riskHeld, up - _price(PREDICTION)), 2);
        // A new depositor pays the new price.
        uint256 bobShares = _deposit(bob, 1000e6);
        assertApproxEqRel(bobShares, Math.mulDiv(1000e6, shares, valueUp), 1e12);

        // Down 20%.
        uint256 down = _price(PREDICTION) * 8 / 10;
        feed.pushRound(SafeCast.toInt256(down), block.timestamp);
        assertEq(vault.totalAssets(), quoteHeld + 1000e6 + _riskToQuote(riskHeld, down));
        assertLt(vault.convertToAssets(shares), valueBefore);
    }

    /// Rule: the decimals offset defeats the first-depositor inflation attack: 1 wei deposit, a 10,000 USD
    /// donation, then a 10,000 USD victim: the victim loses less than one part per million.
    function test_InflationAttack_VictimLosesAtMostATinyFraction() public {
        VerifiedTradingVault fresh = _deployVault(_policy(), feed, market);
        (uint256 victimOut, uint256 attackerOut) = _inflationAttack(fresh, 10_000e6, 10_000e6);
        assertGe(victimOut, 10_000e6 - 10_000e6 / 1e6, "victim lost more than 1 ppm");
        assertLt(attackerOut, 1 + 10_000e6, "the attack paid");
    }

    /// Rule: as above, for any donation up to 1,000 times the victim's deposit: the victim's loss is at most
    /// about one share's worth, donation / 10^6, and the attacker never profits.
    function testFuzz_InflationAttack(uint256 victimDeposit, uint256 donation) public {
        victimDeposit = bound(victimDeposit, 1e6, 1e12);
        donation = bound(donation, 1, victimDeposit * 1000);
        VerifiedTradingVault fresh = _deployVault(_policy(), feed, market);
        (uint256 victimOut, uint256 attackerOut) = _inflationAttack(fresh, donation, victimDeposit);
        assertLe(victimOut, victimDeposit);
        assertLe(victimDeposit - victimOut, donation / VIRTUAL_SHARES + 2, "victim lost more than a share");
        assertLe(attackerOut, 1 + donation, "the attack paid");
    }

    function _inflationAttack(VerifiedTradingVault target, uint256 donation, uint256 victimDeposit)
        internal
        returns (uint256 victimOut, uint256 attackerOut)
    {
        usd.mint(attacker, 1 + donation);
        vm.startPrank(attacker);
        usd.approve(address(target), 1);
        uint256 attackerShares = target.deposit(1, attacker);
        assertTrue(usd.transfer(address(target), donation));
        vm.stopPrank();

        usd.mint(bob, victimDeposit);
        vm.startPrank(bob);
        usd.approve(address(target), victimDeposit);
        uint256 victimShares = target.deposit(victimDeposit, bob);
        victimOut = target.redeem(victimShares, bob, bob);
        vm.stopPrank();
        vm.prank(attacker);
        attackerOut = target.redeem(attackerShares, attacker, attacker);
    }

    /// Rule: priced entries and exits close while the feed's price is stale (max* = 0, deposit etc. revert),
    /// and `redeemInKind` pays the pro-rata tokens.
    function test_StalePrice_ClosesPricedPathsButNotRedeemInKind() public {
        _act(_round(PREDICTION), BUY);
        vm.warp(_updatedAt(PREDICTION) + MAX_AGE + 1);
        _assertPricedPathsClosed();
        _assertRedeemInKindPaysProRata(alice, bob, vault.balanceOf(alice) / 3);
        // Risk counts for nothing without a price.
        assertEq(vault.totalAssets(), usd.balanceOf(address(vault)));
    }

    /// Rule: a zero or negative latest answer closes the priced paths too.
    function testFuzz_NonPositivePrice_ClosesPricedPaths(int256 answer) public {
        answer = bound(answer, type(int192).min, 0);
        _act(_round(PREDICTION), BUY);
        feed.pushRound(answer, block.timestamp);
        _assertPricedPathsClosed();
        _assertRedeemInKindPaysProRata(alice, alice, vault.balanceOf(alice));
    }

    /// Rule: a feed with no latest round (a new phase not yet answered) closes the priced paths.
    function test_NoLatestRound_ClosesPricedPaths() public {
        feed.startNewPhase();
        _assertPricedPathsClosed();
        feed.setZeroForMissingRounds(true);
        _assertPricedPathsClosed();
        _assertRedeemInKindPaysProRata(alice, alice, vault.balanceOf(alice));
    }

    function _assertPricedPathsClosed() internal {
        assertEq(vault.maxDeposit(alice), 0);
        assertEq(vault.maxMint(alice), 0);
        assertEq(vault.maxWithdraw(alice), 0);
        assertEq(vault.maxRedeem(alice), 0);
        usd.mint(alice, 1e6);
        vm.startPrank(alice);
        usd.approve(address(vault), 1e6);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, alice, 1e6, 0));
        vault.deposit(1e6, alice);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxMint.selector, alice, 1e12, 0));
        vault.mint(1e12, alice);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, alice, 1e6, 0));
        vault.withdraw(1e6, alice, alice);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, alice, 1e12, 0));
        vault.redeem(1e12, alice, alice);
        vm.stopPrank();
    }

    /// @dev `owner` redeems `shares` in kind to `receiver`; checks the exact pro-rata amounts (virtual shares
    ///      included) and the event.
    function _assertRedeemInKindPaysProRata(address owner, address receiver, uint256 shares) internal {
        uint256 supply = vault.totalSupply();
        uint256 sharesBefore = vault.balanceOf(owner);
        // [quote, risk]: what the shares are due, and what the receiver held before.
        uint256[2] memory expected = [
            Math.mulDiv(shares, usd.balanceOf(address(vault)), supply + VIRTUAL_SHARES),
            Math.mulDiv(shares, weth.balanceOf(address(vault)), supply + VIRTUAL_SHARES)
        ];
        uint256[2] memory before = [usd.balanceOf(receiver), weth.balanceOf(receiver)];

        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.RedeemedInKind(owner, receiver, owner, shares, expected[0], expected[1]);
        vm.prank(owner);
        (uint256 quoteOut, uint256 riskOut) = vault.redeemInKind(shares, receiver, owner);
        assertEq(quoteOut, expected[0]);
        assertEq(riskOut, expected[1]);
        assertEq(usd.balanceOf(receiver), before[0] + expected[0]);
        assertEq(weth.balanceOf(receiver), before[1] + expected[1]);
        assertEq(vault.balanceOf(owner), sharesBefore - shares);
        assertEq(vault.totalSupply(), supply - shares);
    }

    /// Rule: a third party redeems in kind only within the owner's share allowance.
    function test_RedeemInKind_ByAnApprovedThirdParty() public {
        _act(_round(PREDICTION), BUY);
        uint256 shares = vault.balanceOf(alice) / 2;

        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, bob, 0, shares));
        vault.redeemInKind(shares, bob, alice);

        vm.prank(alice);
        vault.approve(bob, shares);
        uint256 supply = vault.totalSupply();
        uint256 quoteExpected = Math.mulDiv(shares, usd.balanceOf(address(vault)), supply + VIRTUAL_SHARES);
        uint256 riskExpected = Math.mulDiv(shares, weth.balanceOf(address(vault)), supply + VIRTUAL_SHARES);
        vm.expectEmit(address(vault));
        emit VerifiedTradingVault.RedeemedInKind(bob, carol, alice, shares, quoteExpected, riskExpected);
        vm.prank(bob);
        vault.redeemInKind(shares, carol, alice);
        assertEq(usd.balanceOf(carol), quoteExpected);
        assertEq(weth.balanceOf(carol), riskExpected);
        assertGt(riskExpected, 0);
        assertEq(vault.allowance(alice, bob), 0);
        assertEq(vault.balanceOf(alice), DEPOSIT * VIRTUAL_SHARES - shares);

        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, bob, 0, 1));
        vault.redeemInKind(1, bob, alice);
    }

    /// Rule: redeemInKind of all shares pays (almost) everything: only the virtual shares' sliver stays.
    function test_RedeemInKind_AllSharesOfTheOnlyHolder() public {
        _act(_round(PREDICTION), BUY);
        uint256 quoteHeld = usd.balanceOf(address(vault));
        uint256 riskHeld = weth.balanceOf(address(vault));
        uint256 shares = vault.balanceOf(alice);
        vm.prank(alice);
        (uint256 quoteOut, uint256 riskOut) = vault.redeemInKind(shares, alice, alice);
        assertEq(quoteOut, Math.mulDiv(shares, quoteHeld, shares + VIRTUAL_SHARES));
        assertEq(riskOut, Math.mulDiv(shares, riskHeld, shares + VIRTUAL_SHARES));
        assertLe(quoteHeld - quoteOut, quoteHeld / DEPOSIT + 1);
        assertEq(vault.totalSupply(), 0);
    }

    /// Rule: priced withdrawals take only the quote held (risk is not sold to pay them): max* are capped.
    function test_MaxWithdrawIsCappedByTheQuoteHeld() public {
        // A strong buy (capped at 30%) leaves 70% of the value in USD, less than alice's shares are worth.
        _act(_round(PREDICTION), STRONG_BUY);
        uint256 quoteHeld = usd.balanceOf(address(vault));
        assertLt(quoteHeld, vault.convertToAssets(vault.balanceOf(alice)));
        uint256 maxShares = vault.convertToShares(quoteHeld);
        assertEq(vault.maxRedeem(alice), maxShares);
        // OpenZeppelin 5.7's maxWithdraw is previewRedeem(maxRedeem(owner)), so the share rounding can take a
        // unit off the quote held: never above it.
        uint256 maxAssets = vault.maxWithdraw(alice);
        assertLe(maxAssets, quoteHeld);
        assertApproxEqAbs(maxAssets, quoteHeld, 1);

        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, alice, quoteHeld + 1, maxAssets)
        );
        vault.withdraw(quoteHeld + 1, alice, alice);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, alice, maxShares + 1, maxShares)
        );
        vault.redeem(maxShares + 1, alice, alice);
        vm.prank(alice);
        vault.withdraw(maxAssets, alice, alice);
        assertLe(usd.balanceOf(address(vault)), 1);
        assertGt(vault.balanceOf(alice), 0, "the shares of the risk remain");
    }

    // ------------------------------------------------------------------------------------------------- gas

    function test_Gas_Act() public {
        uint80 r = _round(PREDICTION);
        int256[] memory outputs = _logits(BUY);
        bytes memory proof = _proof(r, outputs);
        vm.prank(keeper);
        uint256 gasBefore = gasleft();
        vault.act(r, outputs, proof);
        emit log_named_uint("act, mock proof, buy trade, gas", gasBefore - gasleft());

        _pushUntil(PREDICTION + 1);
        r = _round(PREDICTION + 1);
        outputs = _logits(HOLD);
        proof = _proof(r, outputs);
        vm.prank(keeper);
        gasBefore = gasleft();
        vault.act(r, outputs, proof);
        emit log_named_uint("act, mock proof, predicted hold, gas", gasBefore - gasleft());

        _pushUntil(PREDICTION + 2);
        r = _round(PREDICTION + 2);
        outputs = _logits(STRONG_SELL);
        book.attest(modelId, _proof(r, outputs), _values(r, outputs));
        vm.prank(keeper);
        gasBefore = gasleft();
        vault.act(r, outputs, "");
        emit log_named_uint("act, attested, held in cooldown, gas", gasBefore - gasleft());

        _pushUntil(PREDICTION + 12);
        r = _round(PREDICTION + 12);
        outputs = _logits(SELL);
        proof = _proof(r, outputs);
        vm.prank(keeper);
        gasBefore = gasleft();
        vault.act(r, outputs, proof);
        emit log_named_uint("act, mock proof, sell trade, gas", gasBefore - gasleft());
    }
}
