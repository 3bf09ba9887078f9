// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title IERC7007: Verifiable AI-Generated Content Token (EIP-7007, final)
/// @notice An ERC-721 token whose content (`aigcData`) is the output of an AI model on `prompt`, checked by
///         a zkML (validity) or opML (fraud) proof. ERC-165 id: 0x702c55a6.
interface IERC7007 is IERC165, IERC721 {
    /// @notice AIGC data was added to a token.
    event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof);

    /// @notice Adds AIGC data to the token of `prompt`; succeeds only when `verify(prompt, aigcData, proof)`
    ///         does.
    /// @param tokenId The token, `uint256(keccak256(prompt))`.
    /// @param prompt The prompt.
    /// @param aigcData The model's output on the prompt.
    /// @param proof The proof that the model maps the prompt to the output.
    function addAigcData(uint256 tokenId, bytes calldata prompt, bytes calldata aigcData, bytes calldata proof) external;

    /// @notice Checks a proof that the model maps `prompt` to `aigcData`.
    /// @param prompt The prompt.
    /// @param aigcData The model's output.
    /// @param proof The proof.
    /// @return success True when the proof is valid.
    function verify(bytes calldata prompt, bytes calldata aigcData, bytes calldata proof)
        external
        view
        returns (bool success);
}

/// @title IERC7007Enumerable: prompts and token ids of an EIP-7007 token. ERC-165 id: 0xfa1a557a.
interface IERC7007Enumerable is IERC7007 {
    /// @notice The token id of a prompt, `uint256(keccak256(prompt))`.
    /// @param prompt The prompt.
    /// @return The token id.
    function tokenId(bytes calldata prompt) external view returns (uint256);

    /// @notice The prompt of a minted token.
    /// @param tokenId The token.
    /// @return The prompt as text.
    function prompt(uint256 tokenId) external view returns (string memory);
}
