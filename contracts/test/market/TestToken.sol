// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice NOT FOR PRODUCTION. An ERC-20 anyone can mint: the faucet of forge tests, deploy scripts and the
///         local demo (a test USD with 6 decimals, a test WETH with 18). Its supply and balances mean nothing.
contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    /// @notice Creates a token with no supply.
    /// @param name_ The token's name.
    /// @param symbol_ The token's symbol.
    /// @param decimals_ The token's decimals, as real tokens vary (USDC 6, WETH 18).
    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    /// @notice Mints `amount` to `to`. Anyone may call it: this is a faucet.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
