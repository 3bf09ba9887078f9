// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV2SwapRouter} from "../../interfaces/IUniswapV2SwapRouter.sol";
import {TestToken} from "./TestToken.sol";

/// @title TestUniswapV2Market
/// @notice NOT FOR PRODUCTION. One constant-product pool for a single pair (tokenA, tokenB) that is also its own
///         router, so a vault built against IUniswapV2SwapRouter trades on it exactly as it would through
///         UniswapV2Router02 on a one-hop path. Liquidity is donated (no LP token, no withdrawal) and the owner
///         can set the reserves to anything: its prices mean nothing.
/// @dev The swap math is Uniswap V2's to the wei: 0.30% fee on the input,
///      `amountOut = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997)`, reserves capped at
///      `type(uint112).max`, and the same checks in the same order as the router and the pair (deadline, path,
///      input and liquidity, `amountOutMin`, zero output, recipient). Reserves are tracked apart from balances,
///      as in the pair: tokens sent to the contract directly are not liquidity. Reserves are written before any
///      token moves, so a token calling back finds them settled.
contract TestUniswapV2Market is IUniswapV2SwapRouter, Ownable {
    using SafeERC20 for IERC20;

    /// @notice Uniswap V2's fee, as the share of the input that trades: 997 / 1000, a 0.30% fee.
    uint256 public constant FEE_NUMERATOR = 997;
    /// @notice Denominator of `FEE_NUMERATOR`.
    uint256 public constant FEE_DENOMINATOR = 1000;
    /// @notice Largest reserve, as in the Uniswap V2 pair (which stores reserves as uint112).
    uint256 public constant MAX_RESERVE = type(uint112).max;

    /// @dev A one-hop path: input and output token.
    uint256 private constant _PATH_LENGTH = 2;

    /// @notice The pool's first token.
    IERC20 public immutable tokenA;
    /// @notice The pool's second token.
    IERC20 public immutable tokenB;

    uint112 private _reserveA;
    uint112 private _reserveB;

    /// @notice `sender` sold `amountIn` of `tokenIn` for `amountOut` of the other token, sent to `to`.
    event Swap(
        address indexed sender, address indexed tokenIn, address indexed to, uint256 amountIn, uint256 amountOut
    );
    /// @notice `provider` donated liquidity to the pool.
    event LiquidityAdded(address indexed provider, uint256 amountA, uint256 amountB);
    /// @notice The owner set the reserves (`syncReserves`).
    event ReservesSynced(uint256 reserveA, uint256 reserveB);

    /// @notice The pool needs two different tokens.
    error TestUniswapV2MarketIdenticalTokens(address token);
    /// @notice A token address is zero.
    error TestUniswapV2MarketZeroAddress();
    /// @notice The deadline passed: `block.timestamp > deadline` (UniswapV2Router: EXPIRED).
    error TestUniswapV2MarketExpired(uint256 deadline, uint256 timestamp);
    /// @notice The path is not `[tokenA, tokenB]` or `[tokenB, tokenA]`.
    error TestUniswapV2MarketInvalidPath(address[] path);
    /// @notice The input amount is zero (UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT).
    error TestUniswapV2MarketInsufficientInputAmount();
    /// @notice A reserve is zero (UniswapV2Library: INSUFFICIENT_LIQUIDITY).
    error TestUniswapV2MarketInsufficientLiquidity(uint256 reserveIn, uint256 reserveOut);
    /// @notice The output is below the caller's minimum (UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT).
    error TestUniswapV2MarketInsufficientOutputAmount(uint256 amountOut, uint256 amountOutMin);
    /// @notice The input is too small to buy a single unit of output (UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT).
    error TestUniswapV2MarketZeroOutput(uint256 amountIn);
    /// @notice The recipient is one of the pool's tokens (UniswapV2: INVALID_TO).
    error TestUniswapV2MarketInvalidTo(address to);
    /// @notice A reserve would exceed `MAX_RESERVE` (UniswapV2: OVERFLOW).
    error TestUniswapV2MarketReserveOverflow(uint256 reserveA, uint256 reserveB);

    /// @notice Creates an empty pool.
    /// @param tokenA_ The first token; a TestToken if the owner is to use `syncReserves`.
    /// @param tokenB_ The second token; a TestToken if the owner is to use `syncReserves`.
    /// @param initialOwner The account allowed to call `syncReserves`.
    constructor(IERC20 tokenA_, IERC20 tokenB_, address initialOwner) Ownable(initialOwner) {
        if (address(tokenA_) == address(0) || address(tokenB_) == address(0)) revert TestUniswapV2MarketZeroAddress();
        if (address(tokenA_) == address(tokenB_)) revert TestUniswapV2MarketIdenticalTokens(address(tokenA_));
        tokenA = tokenA_;
        tokenB = tokenB_;
    }

    // ---------------------------------------------------------------- router

    /// @inheritdoc IUniswapV2SwapRouter
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts) {
        // The deadline is a timestamp by Uniswap's ABI; a validator's few seconds of leeway do not matter.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert TestUniswapV2MarketExpired(deadline, block.timestamp);
        bool aToB = _isAToB(path);
        uint256 amountOut = _quote(amountIn, aToB);
        if (amountOut < amountOutMin) revert TestUniswapV2MarketInsufficientOutputAmount(amountOut, amountOutMin);
        _swap(aToB, amountIn, amountOut, to);
        amounts = _amounts(amountIn, amountOut);
    }

    /// @inheritdoc IUniswapV2SwapRouter
    function getAmountsOut(uint256 amountIn, address[] calldata path) external view returns (uint256[] memory amounts) {
        amounts = _amounts(amountIn, _quote(amountIn, _isAToB(path)));
    }

    // ---------------------------------------------------------------- liquidity

    /// @notice Donates liquidity at any ratio: pulls `amountA` of tokenA and `amountB` of tokenB from the
    ///         caller (who must have approved this contract) into the reserves. Nobody can withdraw it, except
    ///         the owner through `syncReserves`.
    /// @param amountA The amount of tokenA to add.
    /// @param amountB The amount of tokenB to add.
    function addLiquidity(uint256 amountA, uint256 amountB) external {
        _setReserves(_reserveA + amountA, _reserveB + amountB);
        tokenA.safeTransferFrom(msg.sender, address(this), amountA);
        tokenB.safeTransferFrom(msg.sender, address(this), amountB);
        emit LiquidityAdded(msg.sender, amountA, amountB);
    }

    /// @notice TEST-ONLY LEVER: sets the reserves to exactly `reserveA` and `reserveB`, so a demo can keep the
    ///         pool's price at the feed's. The contract mints what it lacks (the tokens must be TestTokens)
    ///         and sends any excess balance, donations included, to the owner. Swaps then price at
    ///         `reserveA / reserveB`: for a test USD with 6 decimals as tokenA, a test WETH with 18 as tokenB
    ///         and a feed answer `p` with 8 decimals, `reserveA = reserveB * p / 10**20` puts the pool at the
    ///         feed's price (the fee aside).
    /// @param reserveA The new reserve of tokenA, at most `MAX_RESERVE`.
    /// @param reserveB The new reserve of tokenB, at most `MAX_RESERVE`.
    function syncReserves(uint256 reserveA, uint256 reserveB) external onlyOwner {
        _setReserves(reserveA, reserveB);
        _settle(tokenA, reserveA);
        _settle(tokenB, reserveB);
        emit ReservesSynced(reserveA, reserveB);
    }

    /// @notice The pool's reserves, in (tokenA, tokenB) order. Unlike a Uniswap V2 pair's `getReserves`, they
    ///         are not sorted by address and carry no timestamp.
    /// @return reserveA The reserve of tokenA.
    /// @return reserveB The reserve of tokenB.
    function getReserves() external view returns (uint256 reserveA, uint256 reserveB) {
        return (_reserveA, _reserveB);
    }

    // ---------------------------------------------------------------- internals

    /// @dev The pair's half of a swap: checks the output and recipient, books the trade, moves the tokens.
    function _swap(bool aToB, uint256 amountIn, uint256 amountOut, address to) private {
        if (amountOut == 0) revert TestUniswapV2MarketZeroOutput(amountIn);
        if (to == address(tokenA) || to == address(tokenB)) revert TestUniswapV2MarketInvalidTo(to);
        // `amountOut < reserveOut` whenever `reserveIn > 0`, so the output side cannot underflow; only the
        // input side can overflow, and `_setReserves` refuses that.
        (IERC20 tokenIn, IERC20 tokenOut) = aToB ? (tokenA, tokenB) : (tokenB, tokenA);
        if (aToB) _setReserves(_reserveA + amountIn, _reserveB - amountOut);
        else _setReserves(_reserveA - amountOut, _reserveB + amountIn);
        tokenIn.safeTransferFrom(msg.sender, address(this), amountIn);
        tokenOut.safeTransfer(to, amountOut);
        emit Swap(msg.sender, address(tokenIn), to, amountIn, amountOut);
    }

    /// @dev The output of selling `amountIn` in the given direction at the current reserves.
    function _quote(uint256 amountIn, bool aToB) private view returns (uint256) {
        (uint256 reserveIn, uint256 reserveOut) = aToB ? (_reserveA, _reserveB) : (_reserveB, _reserveA);
        return _getAmountOut(amountIn, reserveIn, reserveOut);
    }

    /// @dev Uniswap V2's `getAmountOut`, checks included.
    function _getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut)
        private
        pure
        returns (uint256 amountOut)
    {
        if (amountIn == 0) revert TestUniswapV2MarketInsufficientInputAmount();
        if (reserveIn == 0 || reserveOut == 0) revert TestUniswapV2MarketInsufficientLiquidity(reserveIn, reserveOut);
        uint256 amountInWithFee = amountIn * FEE_NUMERATOR;
        amountOut = (amountInWithFee * reserveOut) / (reserveIn * FEE_DENOMINATOR + amountInWithFee);
    }

    /// @dev True for `[tokenA, tokenB]`, false for `[tokenB, tokenA]`; any other path reverts.
    function _isAToB(address[] calldata path) private view returns (bool) {
        if (path.length == _PATH_LENGTH) {
            if (path[0] == address(tokenA) && path[1] == address(tokenB)) return true;
            if (path[0] == address(tokenB) && path[1] == address(tokenA)) return false;
        }
        revert TestUniswapV2MarketInvalidPath(path);
    }

    function _setReserves(uint256 reserveA, uint256 reserveB) private {
        if (reserveA > MAX_RESERVE || reserveB > MAX_RESERVE) {
            revert TestUniswapV2MarketReserveOverflow(reserveA, reserveB);
        }
        // Both casts are exact: checked against MAX_RESERVE above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _reserveA = uint112(reserveA);
        // forge-lint: disable-next-line(unsafe-typecast)
        _reserveB = uint112(reserveB);
    }

    /// @dev Brings this contract's balance of `token` to exactly `target`.
    function _settle(IERC20 token, uint256 target) private {
        uint256 balance = token.balanceOf(address(this));
        if (balance < target) TestToken(address(token)).mint(address(this), target - balance);
        else if (balance > target) token.safeTransfer(owner(), balance - target);
    }

    function _amounts(uint256 amountIn, uint256 amountOut) private pure returns (uint256[] memory amounts) {
        amounts = new uint256[](_PATH_LENGTH);
        amounts[0] = amountIn;
        amounts[1] = amountOut;
    }
}
