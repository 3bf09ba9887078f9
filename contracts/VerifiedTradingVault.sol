// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20, IERC20Metadata, ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IUniswapV2SwapRouter} from "./interfaces/IUniswapV2SwapRouter.sol";
import {IZkmlInferenceBook} from "./interfaces/IZkmlInferenceBook.sol";
import {
    IZkmlModelRegistry,
    InferenceValues,
    InputVisibility,
    OutputVisibility,
    PublicLayout
} from "./interfaces/IZkmlModelRegistry.sol";
import {PriceFeatures} from "./libraries/PriceFeatures.sol";

/// @notice The limits every trade of a `VerifiedTradingVault` obeys. Fractions are in basis points.
struct TradePolicy {
    /// @notice Fraction of the holdings traded on a strong buy or strong sell.
    uint16 strongTierBps;
    /// @notice Fraction of the holdings traded on a buy or sell.
    uint16 tierBps;
    /// @notice Largest trade, as a fraction of the vault's total assets at the feed price.
    uint16 maxTradeBps;
    /// @notice Most a trade's output may fall below its value at the feed price.
    uint16 maxSlippageBps;
    /// @notice Seconds after a trade before the next one.
    uint32 cooldown;
    /// @notice Oldest a prediction's round may be, in seconds, when it is acted on.
    uint32 maxRoundAge;
}

/// @notice What a `VerifiedTradingVault` trades, on which prediction, through what.
struct VaultConfig {
    /// @notice The vault's asset.
    IERC20Metadata quote;
    /// @notice The token it trades into.
    IERC20Metadata risk;
    /// @notice The model registry.
    IZkmlModelRegistry registry;
    /// @notice The inference book.
    IZkmlInferenceBook book;
    /// @notice The price-move model (layout: 12 public inputs, 5 public outputs).
    uint256 modelId;
    /// @notice The risk token's price in quote, Chainlink-style.
    AggregatorV3Interface feed;
    /// @notice The swap router.
    IUniswapV2SwapRouter router;
    /// @notice Pauses trading.
    address guardian;
}

/// @title VerifiedTradingVault
/// @notice An ERC-4626 vault over a quote token (e.g. USD) that trades into a risk token (e.g. WETH) only on a
///         proven prediction of a registered price-move model (RockyBot, done right). Anyone may call `act`
///         with a proof, or for an inference the book has attested: the vault recomputes the model's inputs
///         from its own Chainlink feed's history ending at the given round (the eth-price example's features,
///         docs/encodings.md), so no submitter chooses the inputs; the round must be fresh and newer than the
///         last one used, so each prediction is acted on at most once. The predicted bucket picks a size
///         tier; every trade is capped, bounded in slippage against the feed price and spaced by a cooldown.
///         A guardian may pause trading. Depositors can always leave: `redeemInKind` needs no price, no
///         router and no unpaused state.
/// @dev Inflation-attack defence: OpenZeppelin's virtual shares and assets with a decimals offset of
///      `SHARE_DECIMALS_OFFSET`. Shares are priced with the feed's latest answer; while it is not usable
///      (stale, missing or non-positive), deposits, mints, withdrawals and redemptions at a price are closed
///      (their `max*` return 0) and `redeemInKind` remains.
contract VerifiedTradingVault is ERC4626, Ownable2Step, Pausable, ReentrancyGuard {
    using Math for uint256;
    using SafeERC20 for IERC20;

    /// @notice The model's output buckets, in output order; the prediction is the first largest logit.
    uint8 public constant STRONG_SELL = 0;
    uint8 public constant SELL = 1;
    uint8 public constant HOLD = 2;
    uint8 public constant BUY = 3;
    uint8 public constant STRONG_BUY = 4;
    /// @notice Number of output buckets.
    uint256 public constant BUCKETS = 5;
    /// @notice Denominator of every basis-point fraction.
    uint256 public constant BPS = 10_000;
    /// @notice Largest slippage bound a policy may set (10%): beyond it the bound protects nothing.
    uint16 public constant MAX_SLIPPAGE_BPS = 1000;
    /// @notice Virtual share decimals over the asset's: an attacker must donate about 10^6 times the victim's
    ///         deposit to round it to zero shares.
    uint8 public constant SHARE_DECIMALS_OFFSET = 6;
    /// @dev Bits of the aggregator round number inside a Chainlink proxy round id.
    uint256 private constant _PHASE_SHIFT = 64;

    /// @dev A sized trade.
    struct Swap {
        IERC20 tokenIn;
        IERC20 tokenOut;
        uint256 amountIn;
        uint256 minOut;
    }

    /// @notice Why a proven prediction led to no trade.
    enum HoldReason {
        PredictedHold,
        Cooldown,
        NothingToTrade
    }

    /// @notice The model registry.
    IZkmlModelRegistry public immutable REGISTRY;
    /// @notice The inference book, for predictions proven elsewhere (e.g. in an aggregated batch).
    IZkmlInferenceBook public immutable BOOK;
    /// @notice The price-move model the vault follows.
    uint256 public immutable MODEL_ID;
    /// @notice The price feed the model's inputs are computed from and trades are bounded by.
    AggregatorV3Interface public immutable FEED;
    /// @notice The swap router (Uniswap V2 Router02 interface).
    IUniswapV2SwapRouter public immutable ROUTER;
    /// @notice The token the vault trades into.
    IERC20 public immutable RISK_TOKEN;

    uint8 private immutable _inputScale;
    uint256 private immutable _riskUnit;
    uint256 private immutable _priceUnit;
    uint256 private immutable _quoteUnit;
    TradePolicy private _policy;

    /// @notice May pause and unpause trading.
    address public guardian;
    /// @notice The latest round a prediction was acted on; only newer rounds are accepted.
    uint80 public lastRound;
    /// @notice When the latest trade happened.
    uint256 public lastTradeAt;

    /// @notice A proven prediction was acted on by a trade.
    event Traded(
        uint80 indexed roundId,
        uint8 bucket,
        address indexed actor,
        IERC20 tokenIn,
        uint256 amountIn,
        uint256 amountOut,
        uint256 feedPrice
    );
    /// @notice A proven prediction was acted on by holding.
    event Held(uint80 indexed roundId, uint8 bucket, address indexed actor, HoldReason reason);
    /// @notice The guardian changed.
    event GuardianChanged(address indexed previousGuardian, address indexed newGuardian);
    /// @notice Assets left in kind, without a price.
    event RedeemedInKind(
        address indexed caller,
        address indexed receiver,
        address indexed owner,
        uint256 shares,
        uint256 quote,
        uint256 risk
    );

    /// @notice The model's layout is not the eth-price model's (12 public inputs, 5 public outputs).
    error VerifiedTradingVaultUnsupportedModel(uint256 modelId);
    /// @notice A policy field is out of range.
    error VerifiedTradingVaultInvalidPolicy();
    /// @notice Quote and risk token are the same, or an address is zero.
    error VerifiedTradingVaultInvalidConfig();
    /// @notice Only the guardian may do this.
    error VerifiedTradingVaultNotGuardian(address account);
    /// @notice The round is not newer than the last one acted on.
    error VerifiedTradingVaultRoundNotNewer(uint80 roundId, uint80 lastRound);
    /// @notice The round's window of answers would start before its phase's first round.
    error VerifiedTradingVaultWindowCrossesPhase(uint80 roundId);
    /// @notice The feed has no usable answer for a round of the window (missing, or not the round asked for).
    error VerifiedTradingVaultMissingRound(uint80 roundId);
    /// @notice The round is older than the policy's `maxRoundAge`.
    error VerifiedTradingVaultStaleRound(uint80 roundId, uint256 updatedAt, uint256 maxRoundAge);
    /// @notice No proof was given and the book has no attestation of this prediction.
    error VerifiedTradingVaultNotAttested(uint80 roundId);
    /// @notice The output count is not `BUCKETS`.
    error VerifiedTradingVaultWrongOutputCount(uint256 count);
    /// @notice The feed's latest price is not usable (missing, non-positive or stale).
    error VerifiedTradingVaultPriceUnavailable();
    /// @notice The swap returned less than the slippage bound (the router did not enforce it).
    error VerifiedTradingVaultSlippage(uint256 amountOut, uint256 minAmountOut);

    /// @param config What the vault trades, on which prediction, through what.
    /// @param policy_ Trade limits.
    /// @param name_ Share name.
    /// @param symbol_ Share symbol.
    /// @param initialOwner Owner (sets the guardian).
    constructor(
        VaultConfig memory config,
        TradePolicy memory policy_,
        string memory name_,
        string memory symbol_,
        address initialOwner
    ) ERC20(name_, symbol_) ERC4626(config.quote) Ownable(initialOwner) {
        if (
            address(config.quote) == address(config.risk) || address(config.feed) == address(0)
                || address(config.router) == address(0)
        ) revert VerifiedTradingVaultInvalidConfig();
        _checkModel(config.registry, config.modelId);
        if (
            policy_.strongTierBps > BPS || policy_.tierBps > BPS || policy_.maxTradeBps > BPS
                || policy_.maxSlippageBps > MAX_SLIPPAGE_BPS || policy_.maxRoundAge == 0
        ) revert VerifiedTradingVaultInvalidPolicy();

        REGISTRY = config.registry;
        BOOK = config.book;
        MODEL_ID = config.modelId;
        FEED = config.feed;
        ROUTER = config.router;
        RISK_TOKEN = config.risk;
        _inputScale = config.registry.model(config.modelId).publicLayout.inputScale;
        _riskUnit = 10 ** config.risk.decimals();
        _priceUnit = 10 ** config.feed.decimals();
        _quoteUnit = 10 ** config.quote.decimals();
        _policy = policy_;
        guardian = config.guardian;
        emit GuardianChanged(address(0), config.guardian);
    }

    // ----------------------------------------------------------------------------------------------- acting

    /// @notice Acts on the model's prediction for the feed window ending at `roundId`: verifies it (with
    ///         `proof`, or, when `proof` is empty, through the book's attestation), then trades the bucket's
    ///         tier within the policy's limits, or holds. Anyone may call it; the proof is what is trusted.
    /// @param roundId The feed round the prediction is made at (the last of the window's 13 answers).
    /// @param outputs The model's 5 quantized output logits, as the proof makes them public.
    /// @param proof The proof, or empty for an attested inference.
    /// @return bucket The predicted bucket.
    function act(uint80 roundId, int256[] calldata outputs, bytes calldata proof)
        external
        nonReentrant
        whenNotPaused
        returns (uint8 bucket)
    {
        if (roundId <= lastRound) revert VerifiedTradingVaultRoundNotNewer(roundId, lastRound);
        if (outputs.length != BUCKETS) revert VerifiedTradingVaultWrongOutputCount(outputs.length);
        (int256[] memory answers, uint256 updatedAt) = _window(roundId);
        // Ages and cooldowns are minutes to hours; the seconds a block producer can shift a timestamp do not
        // matter to them.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > updatedAt + _policy.maxRoundAge) {
            revert VerifiedTradingVaultStaleRound(roundId, updatedAt, _policy.maxRoundAge);
        }
        InferenceValues memory values =
            InferenceValues({inputs: PriceFeatures.features(answers, _inputScale), outputs: outputs});
        if (proof.length == 0) {
            if (!BOOK.isAttested(MODEL_ID, values)) revert VerifiedTradingVaultNotAttested(roundId);
        } else {
            REGISTRY.requireValidInference(MODEL_ID, proof, values);
        }

        bucket = _argmax(outputs);
        lastRound = roundId;
        if (bucket == HOLD) {
            emit Held(roundId, bucket, msg.sender, HoldReason.PredictedHold);
            // forge-lint: disable-next-line(block-timestamp)
        } else if (lastTradeAt != 0 && block.timestamp < lastTradeAt + _policy.cooldown) {
            emit Held(roundId, bucket, msg.sender, HoldReason.Cooldown);
        } else {
            _trade(roundId, bucket, uint256(answers[PriceFeatures.WINDOW]));
        }
    }

    // ------------------------------------------------------------------------------------------- guardian

    /// @notice Pauses trading (`act`). Deposits and withdrawals go on.
    function pause() external {
        if (msg.sender != guardian) revert VerifiedTradingVaultNotGuardian(msg.sender);
        _pause();
    }

    /// @notice Resumes trading.
    function unpause() external {
        if (msg.sender != guardian) revert VerifiedTradingVaultNotGuardian(msg.sender);
        _unpause();
    }

    /// @notice Sets the guardian. Only the owner.
    /// @param newGuardian The new guardian (zero: nobody can pause or unpause).
    function setGuardian(address newGuardian) external onlyOwner {
        emit GuardianChanged(guardian, newGuardian);
        guardian = newGuardian;
    }

    // ------------------------------------------------------------------------------------------ leaving

    /// @notice Burns `shares` for their pro-rata part of both tokens, with no price, router or pause in the
    ///         way: the exit that always works.
    /// @param shares Shares to burn.
    /// @param receiver Who receives the tokens.
    /// @param owner Whose shares (the caller, or an account that approved the caller).
    /// @return quoteOut Quote tokens sent.
    /// @return riskOut Risk tokens sent.
    function redeemInKind(uint256 shares, address receiver, address owner)
        external
        nonReentrant
        returns (uint256 quoteOut, uint256 riskOut)
    {
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        uint256 supply = totalSupply();
        // Virtual shares take part, as in the priced paths: the remainder stays with the vault.
        uint256 virtualSupply = supply + 10 ** _decimalsOffset();
        quoteOut = shares.mulDiv(IERC20(asset()).balanceOf(address(this)), virtualSupply);
        riskOut = shares.mulDiv(RISK_TOKEN.balanceOf(address(this)), virtualSupply);
        _burn(owner, shares);
        IERC20(asset()).safeTransfer(receiver, quoteOut);
        RISK_TOKEN.safeTransfer(receiver, riskOut);
        emit RedeemedInKind(msg.sender, receiver, owner, shares, quoteOut, riskOut);
    }

    // ------------------------------------------------------------------------------------------ accounting

    /// @notice Quote held plus risk held at the feed's latest usable price (risk counts as zero while the
    ///         price is unusable; every priced entry and exit is closed then).
    /// @return The vault's assets in quote units.
    function totalAssets() public view override returns (uint256) {
        uint256 quoteHeld = IERC20(asset()).balanceOf(address(this));
        (bool ok, uint256 price) = _latestPrice();
        if (!ok) return quoteHeld;
        return quoteHeld + _riskToQuote(RISK_TOKEN.balanceOf(address(this)), price);
    }

    /// @inheritdoc ERC4626
    function maxDeposit(address receiver) public view override returns (uint256) {
        return _priceUsable() ? super.maxDeposit(receiver) : 0;
    }

    /// @inheritdoc ERC4626
    function maxMint(address receiver) public view override returns (uint256) {
        return _priceUsable() ? super.maxMint(receiver) : 0;
    }

    /// @notice Most assets `owner` can withdraw now: their shares' value, capped by the quote the vault holds
    ///         (risk held is not sold to pay withdrawals; `redeemInKind` takes both).
    /// @param owner The share owner.
    /// @return The quote amount.
    function maxWithdraw(address owner) public view override returns (uint256) {
        if (!_priceUsable()) return 0;
        return Math.min(super.maxWithdraw(owner), IERC20(asset()).balanceOf(address(this)));
    }

    /// @notice Most shares `owner` can redeem now for quote (see `maxWithdraw`).
    /// @param owner The share owner.
    /// @return The share amount.
    function maxRedeem(address owner) public view override returns (uint256) {
        if (!_priceUsable()) return 0;
        return Math.min(super.maxRedeem(owner), convertToShares(IERC20(asset()).balanceOf(address(this))));
    }

    /// @notice The trade limits.
    /// @return The policy.
    function policy() external view returns (TradePolicy memory) {
        return _policy;
    }

    // ------------------------------------------------------------------------------------------ internals

    function _checkModel(IZkmlModelRegistry registry, uint256 modelId) private view {
        PublicLayout memory publicLayout = registry.model(modelId).publicLayout;
        if (
            publicLayout.input != InputVisibility.Public || publicLayout.output != OutputVisibility.Public
                || publicLayout.inputCount != PriceFeatures.WINDOW || publicLayout.outputCount != BUCKETS
        ) revert VerifiedTradingVaultUnsupportedModel(modelId);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return SHARE_DECIMALS_OFFSET;
    }

    /// @dev The window's 13 answers ending at `roundId`, oldest first, and the last one's update time. Every
    ///      round must exist and be the one asked for: OCR1 aggregators revert on a missing round, OCR2 ones
    ///      return zeros, and a proxy may answer for another round.
    function _window(uint80 roundId) private view returns (int256[] memory answers, uint256 updatedAt) {
        uint256 count = PriceFeatures.ANSWERS;
        // Within a phase round ids are consecutive; the window must not reach back past the phase's round 1.
        // The low 64 bits are the aggregator round: truncating to them is the point.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (uint64(roundId) < count) revert VerifiedTradingVaultWindowCrossesPhase(roundId);
        answers = new int256[](count);
        for (uint256 i = 0; i < count; ++i) {
            // `uint64(roundId) >= count` above, so the subtraction stays within the phase.
            // forge-lint: disable-next-line(unsafe-typecast)
            uint80 r = roundId - uint80(count - 1 - i);
            try FEED.getRoundData(r) returns (uint80 id, int256 answer, uint256, uint256 roundUpdatedAt, uint80) {
                if (id != r || roundUpdatedAt == 0) revert VerifiedTradingVaultMissingRound(r);
                answers[i] = answer;
                updatedAt = roundUpdatedAt;
            } catch {
                revert VerifiedTradingVaultMissingRound(r);
            }
        }
    }

    function _argmax(int256[] calldata outputs) private pure returns (uint8 best) {
        for (uint256 i = 1; i < BUCKETS; ++i) {
            // Strictly greater: ties go to the first maximum, as the Python and Rust argmax do.
            // forge-lint: disable-next-line(unsafe-typecast)
            if (outputs[i] > outputs[best]) best = uint8(i);
        }
    }

    /// @dev Sizes, bounds and makes the trade of `bucket` at the window's last price.
    function _trade(uint80 roundId, uint8 bucket, uint256 price) private {
        Swap memory swap = _size(bucket, price);
        if (swap.amountIn == 0 || swap.minOut == 0) {
            emit Held(roundId, bucket, msg.sender, HoldReason.NothingToTrade);
            return;
        }
        lastTradeAt = block.timestamp;
        uint256 amountOut = _swap(swap);
        emit Traded(roundId, bucket, msg.sender, swap.tokenIn, swap.amountIn, amountOut, price);
    }

    /// @dev The bucket's tier of the holdings, capped at `maxTradeBps` of the total assets, and the least
    ///      output the slippage bound accepts at the feed price.
    function _size(uint8 bucket, uint256 price) private view returns (Swap memory swap) {
        bool buying = bucket > HOLD;
        uint256 tier = (bucket == STRONG_BUY || bucket == STRONG_SELL) ? _policy.strongTierBps : _policy.tierBps;
        uint256 quoteHeld = IERC20(asset()).balanceOf(address(this));
        uint256 riskHeld = RISK_TOKEN.balanceOf(address(this));
        uint256 maxTradeQuote = (quoteHeld + _riskToQuote(riskHeld, price)).mulDiv(_policy.maxTradeBps, BPS);
        uint256 fairOut;
        if (buying) {
            (swap.tokenIn, swap.tokenOut) = (IERC20(asset()), RISK_TOKEN);
            swap.amountIn = Math.min(quoteHeld.mulDiv(tier, BPS), maxTradeQuote);
            fairOut = _quoteToRisk(swap.amountIn, price);
        } else {
            (swap.tokenIn, swap.tokenOut) = (RISK_TOKEN, IERC20(asset()));
            swap.amountIn = Math.min(riskHeld.mulDiv(tier, BPS), _quoteToRisk(maxTradeQuote, price));
            fairOut = _riskToQuote(swap.amountIn, price);
        }
        swap.minOut = fairOut.mulDiv(BPS - _policy.maxSlippageBps, BPS, Math.Rounding.Ceil);
    }

    /// @dev Swaps through the router and returns what arrived; the bound is checked on that, not on what the
    ///      router reports.
    function _swap(Swap memory swap) private returns (uint256 amountOut) {
        address[] memory path = new address[](2);
        (path[0], path[1]) = (address(swap.tokenIn), address(swap.tokenOut));
        uint256 before = swap.tokenOut.balanceOf(address(this));
        swap.tokenIn.forceApprove(address(ROUTER), swap.amountIn);
        ROUTER.swapExactTokensForTokens(swap.amountIn, swap.minOut, path, address(this), block.timestamp);
        swap.tokenIn.forceApprove(address(ROUTER), 0);
        amountOut = swap.tokenOut.balanceOf(address(this)) - before;
        if (amountOut < swap.minOut) revert VerifiedTradingVaultSlippage(amountOut, swap.minOut);
    }

    function _riskToQuote(uint256 risk, uint256 price) private view returns (uint256) {
        return risk.mulDiv(price * _quoteUnit, _riskUnit * _priceUnit);
    }

    function _quoteToRisk(uint256 quote, uint256 price) private view returns (uint256) {
        return quote.mulDiv(_riskUnit * _priceUnit, price * _quoteUnit);
    }

    function _priceUsable() private view returns (bool ok) {
        (ok,) = _latestPrice();
    }

    /// @dev The latest answer if positive and no older than `maxRoundAge`.
    function _latestPrice() private view returns (bool ok, uint256 price) {
        try FEED.latestRoundData() returns (uint80, int256 answer, uint256, uint256 updatedAt, uint80) {
            // forge-lint: disable-next-line(block-timestamp)
            if (answer <= 0 || updatedAt == 0 || block.timestamp > updatedAt + _policy.maxRoundAge) return (false, 0);
            // Positive, checked above.
            // forge-lint: disable-next-line(unsafe-typecast)
            return (true, uint256(answer));
        } catch {
            return (false, 0);
        }
    }
}
