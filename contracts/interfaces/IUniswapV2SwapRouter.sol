// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title IUniswapV2SwapRouter
/// @notice The two functions of Uniswap V2's Router02 a trading vault needs, ABI-identical to
///         IUniswapV2Router02: a vault compiled against it can point at the real UniswapV2Router02 or at any
///         fork of it that keeps this ABI.
/// @dev Uniswap V2 charges 0.30% on the input of every hop:
///      `amountOut = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997)`.
///      `getAmountsOut` quotes from the current reserves, so a quote read in the same transaction as the swap
///      gives no protection against a price moved earlier in the block: `amountOutMin` must come from a
///      price the pool cannot move (an oracle), not from `getAmountsOut`.
interface IUniswapV2SwapRouter {
    /// @notice Swaps an exact input amount along `path`, pulling `amountIn` of `path[0]` from the caller
    ///         (which must have approved the router) and sending the output of the last hop to `to`.
    /// @param amountIn The exact amount of `path[0]` to sell.
    /// @param amountOutMin The least amount of `path[path.length - 1]` to receive, else the call reverts.
    /// @param path The tokens to route through, input first and output last; one pool per adjacent pair.
    /// @param to The recipient of the output.
    /// @param deadline The last `block.timestamp` at which the swap may execute.
    /// @return amounts The amount in, then the output of each hop; the last is what `to` received.
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);

    /// @notice Quotes `swapExactTokensForTokens` at the current reserves.
    /// @param amountIn The exact amount of `path[0]` to sell.
    /// @param path The tokens to route through, input first and output last.
    /// @return amounts The amount in, then the output of each hop.
    function getAmountsOut(uint256 amountIn, address[] calldata path) external view returns (uint256[] memory amounts);
}
