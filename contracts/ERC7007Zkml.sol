// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IERC7007, IERC7007Enumerable} from "./interfaces/IERC7007.sol";
import {IZkmlInferenceBook} from "./interfaces/IZkmlInferenceBook.sol";
import {
    IZkmlModelRegistry,
    InferenceValues,
    InputVisibility,
    OutputVisibility,
    PublicLayout
} from "./interfaces/IZkmlModelRegistry.sol";
import {PixelArtCodec} from "./libraries/PixelArtCodec.sol";

/// @title ERC7007Zkml
/// @notice An EIP-7007 AIGC-NFT whose image is the output of a registered zkML generator (the pixel-art
///         example's encoding: a 5-byte prompt, 256 bytes of aigcData, docs/encodings.md). The token of a
///         prompt is `uint256(keccak256(prompt))`; its aigcData is added only with a proof the registry
///         accepts (or an inference the book has attested), only by the token's owner or while minting.
///         Prompts are claimed by commit-reveal, so a prompt seen in the mempool cannot be stolen.
///         `tokenURI` is on-chain JSON with the SVG drawn from the proven output.
contract ERC7007Zkml is ERC721, IERC7007Enumerable {
    using Strings for uint256;

    /// @notice Blocks between a commit and the earliest reveal: the reveal's prompt is public only after the
    ///         commitment that binds it to its minter is on chain.
    uint256 public constant REVEAL_DELAY_BLOCKS = 1;
    /// @notice Blocks after a commit in which it can be revealed (about a day at 12 s); later it expires, so
    ///         an abandoned commitment does not block its prompt forever.
    uint256 public constant REVEAL_WINDOW_BLOCKS = 7200;
    /// @notice EIP-7007 metadata `aigc_type`.
    string public constant AIGC_TYPE = "image";
    /// @notice EIP-7007 metadata `proof_type`: a zkML proof is a validity proof.
    string public constant PROOF_TYPE = "validity";

    /// @notice The registry that verifies proofs.
    IZkmlModelRegistry public immutable REGISTRY;
    /// @notice The book of attested inferences, used when a mint or addition comes without a proof.
    IZkmlInferenceBook public immutable BOOK;
    /// @notice The generator's model id.
    uint256 public immutable MODEL_ID;

    uint8 private immutable _inputScale;
    uint8 private immutable _outputScale;
    string private _description;

    mapping(bytes32 commitment => uint256 blockNumber) private _commitBlocks;
    mapping(uint256 tokenId => bytes) private _prompts;
    mapping(uint256 tokenId => bytes) private _aigcData;

    /// @notice A prompt commitment was recorded.
    event PromptCommitted(bytes32 indexed commitment, address indexed committer, uint256 blockNumber);

    /// @notice The model's public layout is not the pixel-art generator's (public 14 inputs, 64 outputs).
    error ERC7007ZkmlUnsupportedModel(uint256 modelId);
    /// @notice The commitment is already recorded and has not expired.
    error ERC7007ZkmlCommitmentPending(bytes32 commitment, uint256 committedAt);
    /// @notice No commitment of this prompt, minter and salt was recorded (or it was used).
    error ERC7007ZkmlUnknownCommitment(bytes32 commitment);
    /// @notice The reveal comes in the commit's block: wait `REVEAL_DELAY_BLOCKS`.
    error ERC7007ZkmlRevealTooEarly(uint256 committedAt, uint256 blockNumber);
    /// @notice The commitment is older than `REVEAL_WINDOW_BLOCKS`: commit again.
    error ERC7007ZkmlCommitmentExpired(uint256 committedAt, uint256 blockNumber);
    /// @notice The prompt is not a valid prompt of the generator (length, class byte).
    error ERC7007ZkmlInvalidPrompt(bytes prompt);
    /// @notice The token id is not `uint256(keccak256(prompt))`.
    error ERC7007ZkmlWrongTokenId(uint256 tokenId, uint256 expected);
    /// @notice Only the token's owner may add its AIGC data.
    error ERC7007ZkmlNotTokenOwner(uint256 tokenId, address account);
    /// @notice The token already has its proven AIGC data.
    error ERC7007ZkmlAigcDataAlreadyAdded(uint256 tokenId);
    /// @notice `verify` failed: the proof (or attestation) does not show the model maps the prompt to the data.
    error ERC7007ZkmlUnverifiedAigcData(uint256 tokenId);

    /// @param name_ ERC-721 name.
    /// @param symbol_ ERC-721 symbol.
    /// @param description_ The collection description shown in every token's metadata.
    /// @param registry The model registry.
    /// @param book The inference book.
    /// @param modelId The generator's model id; its layout must be the pixel-art encoding's.
    constructor(
        string memory name_,
        string memory symbol_,
        string memory description_,
        IZkmlModelRegistry registry,
        IZkmlInferenceBook book,
        uint256 modelId
    ) ERC721(name_, symbol_) {
        PublicLayout memory publicLayout = registry.model(modelId).publicLayout;
        if (
            publicLayout.input != InputVisibility.Public || publicLayout.output != OutputVisibility.Public
                || publicLayout.inputCount != PixelArtCodec.INPUTS || publicLayout.outputCount != PixelArtCodec.OUTPUTS
                || publicLayout.inputScale < PixelArtCodec.LATENT_SHIFT
        ) revert ERC7007ZkmlUnsupportedModel(modelId);
        REGISTRY = registry;
        BOOK = book;
        MODEL_ID = modelId;
        _inputScale = publicLayout.inputScale;
        _outputScale = publicLayout.outputScale;
        _description = description_;
    }

    // ------------------------------------------------------------------------------------------- minting

    /// @notice The commitment that claims `prompt` for `minter`: `keccak256(abi.encode(prompt, minter, salt))`.
    /// @param promptBytes The prompt.
    /// @param minter Who will reveal and own the token.
    /// @param salt A secret random value, so the prompt cannot be guessed from the commitment.
    /// @return The commitment to pass to `commit`.
    function commitment(bytes calldata promptBytes, address minter, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(promptBytes, minter, salt));
    }

    /// @notice Records a prompt commitment; reveal it with `mint` from the next block on, within
    ///         `REVEAL_WINDOW_BLOCKS`.
    /// @param promptCommitment `commitment(prompt, minter, salt)`.
    function commit(bytes32 promptCommitment) external {
        uint256 committedAt = _commitBlocks[promptCommitment];
        // An unexpired commitment is not renewed: nobody, its owner included, can push its reveal back.
        if (committedAt != 0 && block.number <= committedAt + REVEAL_WINDOW_BLOCKS) {
            revert ERC7007ZkmlCommitmentPending(promptCommitment, committedAt);
        }
        _commitBlocks[promptCommitment] = block.number;
        emit PromptCommitted(promptCommitment, msg.sender, block.number);
    }

    /// @notice Reveals a committed prompt and mints its token to the caller, with its AIGC data when
    ///         `aigcData` is not empty. With a `proof` the registry checks it; with an empty proof the
    ///         inference must be attested in the book (art batch-proven by one aggregated proof).
    /// @param promptBytes The committed prompt.
    /// @param salt The commitment's salt.
    /// @param data The generator's output on the prompt, or empty to add it later.
    /// @param proof The proof of the output, or empty for an attested inference.
    /// @return id The minted token id, `uint256(keccak256(prompt))`.
    function mint(bytes calldata promptBytes, bytes32 salt, bytes calldata data, bytes calldata proof)
        external
        returns (uint256 id)
    {
        if (!PixelArtCodec.isPrompt(promptBytes)) revert ERC7007ZkmlInvalidPrompt(promptBytes);
        bytes32 promptCommitment = commitment(promptBytes, msg.sender, salt);
        uint256 committedAt = _commitBlocks[promptCommitment];
        if (committedAt == 0) revert ERC7007ZkmlUnknownCommitment(promptCommitment);
        if (block.number < committedAt + REVEAL_DELAY_BLOCKS) {
            revert ERC7007ZkmlRevealTooEarly(committedAt, block.number);
        }
        if (block.number > committedAt + REVEAL_WINDOW_BLOCKS) {
            revert ERC7007ZkmlCommitmentExpired(committedAt, block.number);
        }
        delete _commitBlocks[promptCommitment];

        id = uint256(keccak256(promptBytes));
        _prompts[id] = promptBytes;
        // `_mint`, not `_safeMint`: no callback into the minter before the AIGC data is checked and stored.
        _mint(msg.sender, id);
        if (data.length != 0) _addAigcData(id, promptBytes, data, proof);
    }

    /// @inheritdoc IERC7007
    function addAigcData(uint256 id, bytes calldata promptBytes, bytes calldata data, bytes calldata proof) external {
        address owner = _requireOwned(id);
        if (owner != msg.sender) revert ERC7007ZkmlNotTokenOwner(id, msg.sender);
        uint256 expected = uint256(keccak256(promptBytes));
        if (id != expected) revert ERC7007ZkmlWrongTokenId(id, expected);
        _addAigcData(id, promptBytes, data, proof);
    }

    // --------------------------------------------------------------------------------------------- views

    /// @inheritdoc IERC7007
    function verify(bytes calldata promptBytes, bytes calldata data, bytes calldata proof)
        public
        view
        returns (bool success)
    {
        if (!PixelArtCodec.isPrompt(promptBytes) || data.length != PixelArtCodec.AIGC_DATA_LENGTH) return false;
        InferenceValues memory values = InferenceValues({
            inputs: PixelArtCodec.inputs(promptBytes, _inputScale), outputs: PixelArtCodec.outputs(data)
        });
        if (proof.length == 0) {
            try BOOK.isAttested(MODEL_ID, values) returns (bool attested) {
                return attested;
            } catch {
                return false;
            }
        }
        // A retired model, values outside their slots and a rejected proof all revert in the registry.
        try REGISTRY.requireValidInference(MODEL_ID, proof, values) {
            return true;
        } catch {
            return false;
        }
    }

    /// @inheritdoc IERC7007Enumerable
    function tokenId(bytes calldata promptBytes) external pure returns (uint256) {
        return uint256(keccak256(promptBytes));
    }

    /// @inheritdoc IERC7007Enumerable
    /// @dev Prompts are bytes; the text is their `0x` hex.
    function prompt(uint256 id) external view returns (string memory) {
        _requireOwned(id);
        return Strings.toHexString(_prompts[id]);
    }

    /// @notice A token's proven AIGC data, empty until added.
    /// @param id The token.
    /// @return The aigcData bytes.
    function aigcDataOf(uint256 id) external view returns (bytes memory) {
        _requireOwned(id);
        return _aigcData[id];
    }

    /// @notice The collection description in every token's metadata.
    /// @return The description.
    function description() external view returns (string memory) {
        return _description;
    }

    /// @notice EIP-7007 metadata as a base64 JSON data URI: name, description, image (the SVG of the proven
    ///         output, absent until it is added), prompt, aigc_type, aigc_data, proof_type. Every string is
    ///         JSON-escaped.
    /// @param id The token.
    /// @return The data URI.
    function tokenURI(uint256 id) public view override returns (string memory) {
        _requireOwned(id);
        string memory promptHex = Strings.toHexString(_prompts[id]);
        bytes memory data = _aigcData[id];
        string memory image = data.length == 0
            ? ""
            : string.concat("data:image/svg+xml;base64,", Base64.encode(bytes(PixelArtCodec.svg(data, _outputScale))));
        bytes memory json = abi.encodePacked(
            '{"name":"',
            Strings.escapeJSON(string.concat(name(), " ", promptHex)),
            '","description":"',
            Strings.escapeJSON(_description),
            '","image":"',
            image,
            '","prompt":"',
            promptHex,
            '","aigc_type":"',
            AIGC_TYPE,
            '","aigc_data":"',
            Strings.toHexString(data),
            '","proof_type":"',
            PROOF_TYPE,
            '"}'
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    /// @notice ERC-165: IERC7007 (0x702c55a6), IERC7007Enumerable (0xfa1a557a), ERC-721 and its metadata.
    /// @param interfaceId The interface id.
    /// @return True when supported.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, IERC165) returns (bool) {
        return interfaceId == type(IERC7007).interfaceId || interfaceId == type(IERC7007Enumerable).interfaceId
            || super.supportsInterface(interfaceId);
    }

    function _addAigcData(uint256 id, bytes calldata promptBytes, bytes calldata data, bytes calldata proof) private {
        if (_aigcData[id].length != 0) revert ERC7007ZkmlAigcDataAlreadyAdded(id);
        if (!verify(promptBytes, data, proof)) revert ERC7007ZkmlUnverifiedAigcData(id);
        _aigcData[id] = data;
        emit AigcData(id, promptBytes, data, proof);
    }
}
