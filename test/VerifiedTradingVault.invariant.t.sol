// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {TradePolicy, VaultConfig, VerifiedTradingVault} from "../contracts/VerifiedTradingVault.sol";
import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {
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

/// @notice The world around the vault: depositors entering and leaving (priced and in kind), keepers acting on
///         mock-proven predictions of new, replayed, older and missing rounds, the feed moving on (and now and
///         then switching phase), time passing (feeds go stale), the pool pushed within and beyond the
///         slippage bound, donations, the guardian pausing. It owns the feed and the pool and is the guardian.
///         Every successful `act` is checked against the policy from its logs; the counters must stay zero.
contract VaultHandler is Test {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WETH_USD_DIVISOR = 1e20;
    uint256 internal constant POOL_WETH = 10_000e18;
    uint256 internal constant VIRTUAL_SHARES = 1e6;
    uint8 internal constant SCALE = 12;
    uint8 internal constant HOLD = 2;

    VerifiedTradingVault public immutable VAULT;
    ZkmlModelRegistry public immutable REGISTRY;
    MockZkmlVerifier public immutable VERIFIER;
    TestPriceFeed public immutable FEED;
    TestUniswapV2Market public immutable MARKET;
    TestToken public immutable USD;
    TestToken public immutable WETH;
    uint256 public immutable MODEL_ID;

    uint256 internal immutable _maxTradeBps;
    uint256 internal immutable _maxSlippageBps;
    uint256 internal immutable _cooldown;

    address[] internal _actors;
    address internal _keeper = makeAddr("keeper");

    /// @dev The chain's clock, restored at every call (a handler's warp is not guaranteed to persist), and the
    ///      time every check below reads.
    uint256 public now_;
    int256 public lastAnswer;

    // Ghost state: what the vault should say, and every broken rule counted.
    uint80 public lastActedRound;
    uint256 public lastTradeTime;
    uint256 public acts;
    uint256 public trades;
    uint256 public cooldownHolds;
    uint256 public actsRejected;
    uint256 public replaysAccepted;
    uint256 public actsWhilePaused;
    uint256 public silentActs;
    uint256 public sizeViolations;
    uint256 public slippageViolations;
    uint256 public cooldownViolations;
    uint256 public priceViolations;
    uint256 public balanceViolations;
    uint256 public unjustifiedCooldowns;
    uint256 public inKindExits;
    uint256 public inKindExitFailures;
    uint256 public inKindPayoutMismatches;
    uint256 public pricedExitFailures;

    /// @dev The window's last answer of the act being made (what the Traded event must report).
    uint256 internal _windowPrice;

    modifier atNow() {
        vm.warp(now_);
        _;
    }

    constructor(
        VerifiedTradingVault vault,
        ZkmlModelRegistry registry,
        MockZkmlVerifier verifier,
        TestPriceFeed feed,
        TestUniswapV2Market market,
        uint256 modelId,
        address[] memory holders
    ) {
        VAULT = vault;
        REGISTRY = registry;
        VERIFIER = verifier;
        FEED = feed;
        MARKET = market;
        USD = TestToken(vault.asset());
        WETH = TestToken(address(vault.RISK_TOKEN()));
        MODEL_ID = modelId;
        TradePolicy memory policy = vault.policy();
        _maxTradeBps = policy.maxTradeBps;
        _maxSlippageBps = policy.maxSlippageBps;
        _cooldown = policy.cooldown;
        _actors = holders;
        now_ = block.timestamp;
        (, lastAnswer,,,) = feed.latestRoundData();
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    // ------------------------------------------------------------------------------------------- depositors

    function deposit(uint256 actorSeed, uint256 assets) external atNow {
        address actor = _actor(actorSeed);
        if (VAULT.maxDeposit(actor) == 0) return;
        assets = bound(assets, 1, 100_000e6);
        USD.mint(actor, assets);
        vm.startPrank(actor);
        USD.approve(address(VAULT), assets);
        VAULT.deposit(assets, actor);
        vm.stopPrank();
    }

    function withdraw(uint256 actorSeed, uint256 assets) external atNow {
        address actor = _actor(actorSeed);
        uint256 max = VAULT.maxWithdraw(actor);
        if (max == 0) return;
        assets = bound(assets, 1, max);
        vm.prank(actor);
        // ERC-4626: up to maxWithdraw, a withdrawal must not revert.
        try VAULT.withdraw(assets, actor, actor) {}
        catch {
            ++pricedExitFailures;
        }
    }

    function redeem(uint256 actorSeed, uint256 shares) external atNow {
        address actor = _actor(actorSeed);
        uint256 max = VAULT.maxRedeem(actor);
        if (max == 0) return;
        shares = bound(shares, 1, max);
        vm.prank(actor);
        try VAULT.redeem(shares, actor, actor) {}
        catch {
            ++pricedExitFailures;
        }
    }

    /// @dev The exit that must always work, paused or not, priced or not.
    function redeemInKind(uint256 actorSeed, uint256 shares) external atNow {
        address actor = _actor(actorSeed);
        shares = bound(shares, 0, VAULT.balanceOf(actor));
        uint256 supply = VAULT.totalSupply();
        uint256 quoteDue = Math.mulDiv(shares, USD.balanceOf(address(VAULT)), supply + VIRTUAL_SHARES);
        uint256 riskDue = Math.mulDiv(shares, WETH.balanceOf(address(VAULT)), supply + VIRTUAL_SHARES);
        vm.prank(actor);
        try VAULT.redeemInKind(shares, actor, actor) returns (uint256 quoteOut, uint256 riskOut) {
            ++inKindExits;
            if (quoteOut != quoteDue || riskOut != riskDue) ++inKindPayoutMismatches;
        } catch {
            ++inKindExitFailures;
        }
    }

    /// @dev Tokens sent straight to the vault: value for the holders, never shares.
    function donate(uint256 amount, bool risk) external atNow {
        if (risk) WETH.mint(address(VAULT), bound(amount, 0, 5e18));
        else USD.mint(address(VAULT), bound(amount, 0, 10_000e6));
    }

    // ------------------------------------------------------------------------------------------- keepers

    /// @dev Acts on a new round, the last one acted on again, an older one, a missing one or one far back,
    ///      with a mock proof of the feed's window when the window exists.
    function act(uint256 outputsSeed, uint256 roundSeed) external atNow {
        _act(_pickRound(roundSeed), outputsSeed);
    }

    /// @dev What a keeper mostly does: a round comes in, and it acts on it at once.
    function pushRoundAndAct(uint256 moveSeed, uint256 delay, uint256 outputsSeed) external atNow {
        _pushRound(moveSeed, delay);
        _act(FEED.toRoundId(FEED.phaseId(), FEED.phaseRoundCount()), outputsSeed);
    }

    function _act(uint80 roundId, uint256 outputsSeed) internal {
        // Hashed, so that the fuzzer's favourite seeds (0, 1, max) still give every bucket.
        uint256 entropy = uint256(keccak256(abi.encode(outputsSeed)));
        int256[] memory outputs = new int256[](5);
        for (uint256 i = 0; i < 5; ++i) {
            outputs[i] = SafeCast.toInt256((entropy >> (i * 16)) % 1001) - 500;
        }
        bytes memory proof = _proof(roundId, outputs);

        uint256 quoteBefore = USD.balanceOf(address(VAULT));
        uint256 riskBefore = WETH.balanceOf(address(VAULT));
        bool wasPaused = VAULT.paused();
        vm.recordLogs();
        vm.prank(_keeper);
        try VAULT.act(roundId, outputs, proof) {
            ++acts;
            if (roundId <= lastActedRound) ++replaysAccepted;
            if (wasPaused) ++actsWhilePaused;
            lastActedRound = roundId;
            _checkLogs(vm.getRecordedLogs(), quoteBefore, riskBefore);
        } catch {
            ++actsRejected;
        }
    }

    function _pickRound(uint256 seed) internal view returns (uint80) {
        uint80 last = VAULT.lastRound();
        // The latest round id of the current phase (its round 0 while the phase is empty).
        uint80 latest = FEED.toRoundId(FEED.phaseId(), FEED.phaseRoundCount());
        uint256 kind = seed % 8;
        // The current phase's latest rounds (new, unless already acted on), or ones that must be refused.
        if (kind < 4) return latest - SafeCast.toUint80(kind);
        if (kind == 4) return last;
        if (kind == 5) return last == 0 ? 0 : last - 1;
        if (kind == 6) return latest + 1;
        return latest - SafeCast.toUint80((seed >> 8) % 40);
    }

    /// @dev The mock proof of the feed's window ending at `roundId`, or a junk proof when there is none.
    function _proof(uint80 roundId, int256[] memory outputs) internal returns (bytes memory) {
        _windowPrice = 0;
        // The aggregator round (low 64 bits) must leave room for the window inside its phase.
        if (roundId & type(uint64).max < PriceFeatures.ANSWERS) return hex"00";
        int256[] memory answers = new int256[](PriceFeatures.ANSWERS);
        for (uint80 i = 0; i < 13; ++i) {
            uint80 r = roundId - 12 + i;
            try FEED.getRoundData(r) returns (uint80, int256 answer, uint256, uint256 updatedAt, uint80) {
                if (updatedAt == 0 || answer <= 0) return hex"00";
                answers[i] = answer;
            } catch {
                return hex"00";
            }
        }
        InferenceValues memory values =
            InferenceValues({inputs: PriceFeatures.features(answers, SCALE), outputs: outputs});
        try REGISTRY.inferenceInstances(MODEL_ID, values) returns (uint256[] memory instances) {
            _windowPrice = SafeCast.toUint256(answers[PriceFeatures.WINDOW]);
            return VERIFIER.mockProof(instances);
        } catch {
            return hex"00";
        }
    }

    /// @dev Checks the vault's events of one successful act against the policy and the balances.
    function _checkLogs(Vm.Log[] memory logs, uint256 quoteBefore, uint256 riskBefore) internal {
        bool spoke;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(VAULT)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == VerifiedTradingVault.Traded.selector) {
                spoke = true;
                (uint8 bucket, address tokenIn, uint256 amountIn, uint256 amountOut, uint256 price) =
                    abi.decode(logs[i].data, (uint8, address, uint256, uint256, uint256));
                _checkTrade(bucket, tokenIn, amountIn, amountOut, price, quoteBefore, riskBefore);
            } else if (topic == VerifiedTradingVault.Held.selector) {
                spoke = true;
                (, VerifiedTradingVault.HoldReason reason) =
                    abi.decode(logs[i].data, (uint8, VerifiedTradingVault.HoldReason));
                if (reason == VerifiedTradingVault.HoldReason.Cooldown) {
                    ++cooldownHolds;
                    if (lastTradeTime == 0 || now_ >= lastTradeTime + _cooldown) ++unjustifiedCooldowns;
                }
                if (USD.balanceOf(address(VAULT)) != quoteBefore || WETH.balanceOf(address(VAULT)) != riskBefore) {
                    ++balanceViolations;
                }
            }
        }
        if (!spoke) ++silentActs;
    }

    function _checkTrade(
        uint8 bucket,
        address tokenIn,
        uint256 amountIn,
        uint256 amountOut,
        uint256 price,
        uint256 quoteBefore,
        uint256 riskBefore
    ) internal {
        ++trades;
        bool buying = tokenIn == address(USD);
        if (price != _windowPrice || buying != (bucket > HOLD)) ++priceViolations;
        // Size: at most maxTradeBps of the total assets at the trade's price.
        uint256 cap = Math.mulDiv(quoteBefore + Math.mulDiv(riskBefore, price, WETH_USD_DIVISOR), _maxTradeBps, BPS);
        uint256 valueIn = buying ? amountIn : Math.mulDiv(amountIn, price, WETH_USD_DIVISOR);
        if (valueIn > cap) ++sizeViolations;
        // Slippage: at least (1 - maxSlippageBps) of the fair value at the feed price.
        uint256 fair =
            buying ? Math.mulDiv(amountIn, WETH_USD_DIVISOR, price) : Math.mulDiv(amountIn, price, WETH_USD_DIVISOR);
        if (amountOut * BPS < fair * (BPS - _maxSlippageBps)) ++slippageViolations;
        // Cooldown: spaced from the previous trade.
        if (lastTradeTime != 0 && now_ < lastTradeTime + _cooldown) ++cooldownViolations;
        lastTradeTime = now_;
        // The event's amounts are what moved.
        (uint256 quoteAfter, uint256 riskAfter) =
            buying ? (quoteBefore - amountIn, riskBefore + amountOut) : (quoteBefore + amountOut, riskBefore - amountIn);
        if (USD.balanceOf(address(VAULT)) != quoteAfter || WETH.balanceOf(address(VAULT)) != riskAfter) {
            ++balanceViolations;
        }
    }

    // --------------------------------------------------------------------------------------- the market

    /// @dev A new feed round 1 minute to 2.5 hours later (sometimes past the 2 h age limit), moved by up to
    ///      3%; the pool follows the feed.
    function pushRound(uint256 moveSeed, uint256 delay) external atNow {
        _pushRound(moveSeed, delay);
    }

    function _pushRound(uint256 moveSeed, uint256 delay) internal {
        now_ += bound(delay, 1 minutes, 150 minutes);
        vm.warp(now_);
        int256 move = SafeCast.toInt256(moveSeed % 601) - 300;
        lastAnswer = lastAnswer * (10_000 + move) / 10_000;
        FEED.pushRound(lastAnswer, now_);
        _syncPool(BPS);
    }

    /// @dev Time passes with no new round: the feed may go stale.
    function wait(uint256 delay) external atNow {
        now_ += bound(delay, 0, 4 hours);
    }

    /// @dev Puts the pool up to 5% away from the feed: within the 1% bound (less the fee) trades go through,
    ///      beyond it they revert.
    function movePool(uint256 bpsSeed) external atNow {
        _syncPool(bound(bpsSeed, 9500, 10_500));
    }

    /// @dev Now and then the proxy switches aggregator: 12 rounds without a usable window follow.
    function startNewPhase(uint256 seed) external atNow {
        if (uint256(keccak256(abi.encode(seed))) % 32 != 0) return;
        FEED.startNewPhase();
    }

    /// @dev Unpauses, or now and then pauses: trading is paused about a fifth of the time.
    function togglePause(uint256 seed) external atNow {
        if (VAULT.paused()) VAULT.unpause();
        else if (uint256(keccak256(abi.encode(seed))) % 4 == 0) VAULT.pause();
    }

    function _syncPool(uint256 bpsOfFeed) internal {
        uint256 price = SafeCast.toUint256(lastAnswer);
        MARKET.syncReserves(POOL_WETH * price * bpsOfFeed / BPS / WETH_USD_DIVISOR, POOL_WETH);
    }
}

/// @notice Invariants of the vault under the handler: a round is acted on at most once, every trade obeys
///         size, slippage and cooldown, shares account for everything, and every holder can always leave in
///         kind.
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 128
contract VerifiedTradingVaultInvariantTest is Test {
    string internal constant FEED_JSON = "examples/eth-price/feed.json";
    uint256 internal constant FIRST_ANSWER = 3000;
    uint256 internal constant ROUNDS = 20;
    uint256 internal constant POOL_WETH = 10_000e18;

    ZkmlModelRegistry internal registry;
    MockZkmlVerifier internal verifier;
    TestToken internal usd;
    TestToken internal weth;
    TestPriceFeed internal feed;
    TestUniswapV2Market internal market;
    VerifiedTradingVault internal vault;
    VaultHandler internal handler;

    function setUp() public {
        registry = new ZkmlModelRegistry();
        verifier = new MockZkmlVerifier();
        uint256 modelId = registry.registerModel(
            ModelConfig({
                verifier: verifier,
                commitment: bytes32(uint256(7)),
                verifyGasLimit: 500_000,
                publicLayout: PublicLayout({
                    weights: WeightVisibility.Fixed,
                    input: InputVisibility.Public,
                    output: OutputVisibility.Public,
                    inputScale: 12,
                    outputScale: 12,
                    inputWidth: 17,
                    outputWidth: 17,
                    inputCount: 12,
                    outputCount: 5
                })
            })
        );
        usd = new TestToken("Test USD", "tUSD", 6);
        weth = new TestToken("Test WETH", "tWETH", 18);
        feed = new TestPriceFeed(8, "ETH / USD (example history)", address(this));
        market = new TestUniswapV2Market(usd, weth, address(this));

        // Twenty hourly rounds of the example history, the last one just in.
        string memory json = vm.readFile(FEED_JSON);
        int256[] memory all = vm.parseJsonIntArray(json, ".answers");
        uint256 interval = vm.parseJsonUint(json, ".interval");
        int256[] memory answers = new int256[](ROUNDS);
        for (uint256 i = 0; i < ROUNDS; ++i) {
            answers[i] = all[FIRST_ANSWER + i];
        }
        uint256 firstAt = vm.parseJsonUint(json, ".startedAt") + FIRST_ANSWER * interval;
        feed.pushRounds(answers, firstAt, interval);
        vm.warp(firstAt + (ROUNDS - 1) * interval + 5 minutes);
        uint256 price = SafeCast.toUint256(answers[ROUNDS - 1]);
        market.syncReserves(POOL_WETH * price / 1e20, POOL_WETH);

        address[] memory actors = new address[](3);
        actors[0] = makeAddr("alice");
        actors[1] = makeAddr("bob");
        actors[2] = makeAddr("carol");
        // The handler is created first so that it can be the guardian; it needs the vault, so the vault is
        // created with this contract as guardian and handed over.
        vault = new VerifiedTradingVault(
            VaultConfig({
                quote: usd,
                risk: weth,
                registry: registry,
                book: new ZkmlInferenceBook(registry),
                modelId: modelId,
                feed: feed,
                router: market,
                guardian: address(this)
            }),
            TradePolicy({
                strongTierBps: 5000,
                tierBps: 2000,
                maxTradeBps: 3000,
                maxSlippageBps: 100,
                cooldown: 3 hours,
                maxRoundAge: 2 hours
            }),
            "Verified ETH vault",
            "vETH",
            address(this)
        );
        handler = new VaultHandler(vault, registry, verifier, feed, market, modelId, actors);
        vault.setGuardian(address(handler));
        feed.transferOwnership(address(handler));
        market.transferOwnership(address(handler));

        for (uint256 i = 0; i < actors.length; ++i) {
            uint256 assets = (i + 1) * 10_000e6;
            usd.mint(actors[i], assets);
            vm.startPrank(actors[i]);
            usd.approve(address(vault), assets);
            vault.deposit(assets, actors[i]);
            vm.stopPrank();
        }

        bytes4[] memory selectors = new bytes4[](12);
        selectors[0] = VaultHandler.deposit.selector;
        selectors[1] = VaultHandler.withdraw.selector;
        selectors[2] = VaultHandler.redeem.selector;
        selectors[3] = VaultHandler.redeemInKind.selector;
        selectors[4] = VaultHandler.donate.selector;
        selectors[5] = VaultHandler.act.selector;
        selectors[6] = VaultHandler.pushRound.selector;
        selectors[7] = VaultHandler.wait.selector;
        selectors[8] = VaultHandler.movePool.selector;
        selectors[9] = VaultHandler.startNewPhase.selector;
        selectors[10] = VaultHandler.togglePause.selector;
        selectors[11] = VaultHandler.pushRoundAndAct.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// (1) A round is never acted on twice: every successful act's round is newer than the previous one, and
    ///     the vault's lastRound is the last round acted on.
    function invariant_ARoundIsNeverActedOnTwice() public view {
        assertEq(handler.replaysAccepted(), 0, "a round was acted on again");
        assertEq(vault.lastRound(), handler.lastActedRound());
        assertEq(handler.actsWhilePaused(), 0, "acted while paused");
    }

    /// (2) No trade breaks size, slippage or cooldown; every act says what it did; the events are the truth.
    function invariant_EveryTradeObeysThePolicy() public view {
        assertEq(handler.sizeViolations(), 0, "trade above maxTradeBps of the total assets");
        assertEq(handler.slippageViolations(), 0, "trade below the slippage bound");
        assertEq(handler.cooldownViolations(), 0, "trade within the cooldown");
        assertEq(handler.priceViolations(), 0, "trade not at the window's price or in the bucket's direction");
        assertEq(handler.balanceViolations(), 0, "balances moved other than the events say");
        assertEq(handler.unjustifiedCooldowns(), 0, "held for a cooldown that was over");
        assertEq(handler.silentActs(), 0, "an act emitted neither Traded nor Held");
        assertEq(vault.lastTradeAt(), handler.lastTradeTime());
    }

    /// (3) Shares account for everything: the holders' shares sum to the supply, and redeeming all of them in
    ///     kind pays out no more than the vault holds.
    function invariant_SharesConserveValue() public {
        address[] memory actors = handler.actors();
        uint256 sum;
        for (uint256 i = 0; i < actors.length; ++i) {
            sum += vault.balanceOf(actors[i]);
        }
        assertEq(sum, vault.totalSupply(), "shares outside the holders");

        uint256 quoteHeld = usd.balanceOf(address(vault));
        uint256 riskHeld = weth.balanceOf(address(vault));
        (uint256 quotePaid, uint256 riskPaid) = _everyoneLeavesInKind(actors);
        assertLe(quotePaid, quoteHeld, "paid out more USD than held");
        assertLe(riskPaid, riskHeld, "paid out more WETH than held");
    }

    /// (4) Leaving always works: every holder's in-kind redemption of all their shares succeeds, whatever the
    ///     pause, the feed or the pool; and no exit the handler tried ever failed.
    function invariant_EveryHolderCanAlwaysLeave() public {
        _everyoneLeavesInKind(handler.actors());
        assertEq(handler.inKindExitFailures(), 0, "an in-kind exit reverted");
        assertEq(handler.inKindPayoutMismatches(), 0, "an in-kind exit paid other than pro rata");
        assertEq(handler.pricedExitFailures(), 0, "a withdraw or redeem within max* reverted");
    }

    /// The router keeps no allowance of the vault's tokens between trades.
    function invariant_NoAllowanceLeftToTheRouter() public view {
        assertEq(usd.allowance(address(vault), address(market)), 0);
        assertEq(weth.allowance(address(vault), address(market)), 0);
    }

    /// @dev On a snapshot that is thrown away: every holder redeems all shares in kind; none may revert.
    function _everyoneLeavesInKind(address[] memory actors) internal returns (uint256 quotePaid, uint256 riskPaid) {
        uint256 snapshot = vm.snapshotState();
        for (uint256 i = 0; i < actors.length; ++i) {
            uint256 shares = vault.balanceOf(actors[i]);
            vm.prank(actors[i]);
            try vault.redeemInKind(shares, actors[i], actors[i]) returns (uint256 quoteOut, uint256 riskOut) {
                quotePaid += quoteOut;
                riskPaid += riskOut;
            } catch {
                assertTrue(false, "an in-kind exit of all shares reverted");
            }
        }
        assertEq(vault.totalSupply(), 0);
        vm.revertToState(snapshot);
    }

    /// @dev How much of the space the runs covered (shown with -vv).
    function afterInvariant() public {
        emit log_named_uint("acts", handler.acts());
        emit log_named_uint("acts rejected", handler.actsRejected());
        emit log_named_uint("trades", handler.trades());
        emit log_named_uint("held in cooldown", handler.cooldownHolds());
        emit log_named_uint("in-kind exits", handler.inKindExits());
    }
}
