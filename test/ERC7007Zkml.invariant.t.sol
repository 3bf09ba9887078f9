// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {ERC7007Zkml} from "../contracts/ERC7007Zkml.sol";
import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {InferenceValues, ModelConfig, PublicLayout} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {PixelArtCodec} from "../contracts/libraries/PixelArtCodec.sol";
import {MockZkmlVerifier} from "../contracts/test/MockZkmlVerifier.sol";

import {ZkmlArtifacts} from "./utils/ZkmlArtifacts.sol";

/// @notice Minters, owners and strangers minting and adding AIGC data with valid proofs, tampered proofs,
///         proofs of other data, attested inferences and no proof at all. The handler records, for each
///         token, the one `aigcData` it has proven (by a proof the mock verifier accepts, or by an
///         attestation); the invariants say the NFT stores nothing else and never changes what it stored.
contract ERC7007ZkmlHandler is Test {
    ERC7007Zkml public immutable NFT;
    ZkmlModelRegistry public immutable REGISTRY;
    ZkmlInferenceBook public immutable BOOK;
    MockZkmlVerifier public immutable VERIFIER;
    uint256 public immutable MODEL_ID;
    uint8 internal immutable INPUT_SCALE;
    /// @dev Pixel values the handler draws: inside the pixel-art layout's output slots (15 bits, signed).
    int256 internal constant MAX_OUTPUT = 16_000;

    address[3] internal actors = [makeAddr("minter-a"), makeAddr("minter-b"), makeAddr("stranger")];

    uint256[] public tokenIds;
    mapping(uint256 id => bytes prompt) public promptOf;
    /// @dev keccak256 of the `aigcData` the handler proved for the token, or zero.
    mapping(uint256 id => bytes32 dataHash) public provenData;
    uint256 public unprovenSuccesses;
    /// @dev Successful `addAigcData` calls on a token that already had data.
    uint256 public overwrites;

    constructor(ERC7007Zkml nft, ZkmlModelRegistry registry, ZkmlInferenceBook book, MockZkmlVerifier verifier) {
        NFT = nft;
        REGISTRY = registry;
        BOOK = book;
        VERIFIER = verifier;
        MODEL_ID = nft.MODEL_ID();
        INPUT_SCALE = registry.model(MODEL_ID).publicLayout.inputScale;
    }

    function tokenCount() external view returns (uint256) {
        return tokenIds.length;
    }

    function _prompt(uint256 seed) internal pure returns (bytes memory) {
        // Class 0..9 and four latent bytes: few enough prompts that tokens are minted again and again. Both
        // casts keep only the bits wanted: `seed % 10` fits a byte, and the latents are its next 32 bits.
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encodePacked(uint8(seed % 10), bytes4(uint32(seed >> 8) & 0x0f0f0f0f));
    }

    function _values(bytes memory prompt, uint256 seed) internal view returns (InferenceValues memory values) {
        values.inputs = PixelArtCodec.inputs(prompt, INPUT_SCALE);
        values.outputs = new int256[](PixelArtCodec.OUTPUTS);
        for (uint256 i = 0; i < values.outputs.length; ++i) {
            uint256 word = uint256(keccak256(abi.encode(seed, i)));
            // forge-lint: disable-next-line(unsafe-typecast)
            values.outputs[i] = int256(word % uint256(2 * MAX_OUTPUT + 1)) - MAX_OUTPUT;
        }
    }

    /// @dev A valid mock proof of `values`, or one of four wrong ones: tampered, of other outputs, empty
    ///      (which asks the book), or none at all when `mode` says so.
    function _proof(InferenceValues memory values, uint256 mode)
        internal
        view
        returns (bytes memory proof, bool valid)
    {
        proof = VERIFIER.mockProof(REGISTRY.inferenceInstances(MODEL_ID, values));
        mode %= 4;
        if (mode == 0) return (proof, true);
        if (mode == 1) {
            proof[mode] ^= 0x01;
        } else if (mode == 2) {
            // A new struct: assigning `values` would alias it, and the caller would encode the other outputs.
            InferenceValues memory other =
                InferenceValues({inputs: values.inputs, outputs: new int256[](values.outputs.length)});
            for (uint256 i = 0; i < other.outputs.length; ++i) {
                other.outputs[i] = values.outputs[i];
            }
            other.outputs[0] = values.outputs[0] == 0 ? int256(1) : -values.outputs[0];
            proof = VERIFIER.mockProof(REGISTRY.inferenceInstances(MODEL_ID, other));
        } else {
            proof = "";
        }
        return (proof, mode == 3 && BOOK.isAttested(MODEL_ID, values));
    }

    function _record(uint256 id, bytes memory data, bool valid) internal {
        if (!valid) {
            ++unprovenSuccesses;
        } else if (provenData[id] == bytes32(0)) {
            provenData[id] = keccak256(data);
        }
    }

    function mint(uint256 promptSeed, uint256 actorSeed, uint256 dataSeed, uint256 mode, bool withData) external {
        bytes memory prompt = _prompt(promptSeed);
        address minter = actors[actorSeed % actors.length];
        bytes32 salt = keccak256(abi.encode(dataSeed));
        vm.prank(minter);
        try NFT.commit(NFT.commitment(prompt, minter, salt)) {}
        catch {
            return;
        }
        vm.roll(block.number + NFT.REVEAL_DELAY_BLOCKS());

        InferenceValues memory values = _values(prompt, dataSeed);
        (bytes memory proof, bool valid) = _proof(values, mode);
        bytes memory data = withData ? PixelArtCodec.encodeAigcData(values.outputs) : bytes("");
        vm.prank(minter);
        try NFT.mint(prompt, salt, data, proof) returns (uint256 id) {
            tokenIds.push(id);
            promptOf[id] = prompt;
            if (withData) _record(id, data, valid);
        } catch {}
    }

    function addAigcData(uint256 tokenSeed, uint256 actorSeed, uint256 dataSeed, uint256 mode, bool owner) external {
        if (tokenIds.length == 0) return;
        uint256 id = tokenIds[tokenSeed % tokenIds.length];
        bytes memory prompt = promptOf[id];
        InferenceValues memory values = _values(prompt, dataSeed);
        (bytes memory proof, bool valid) = _proof(values, mode);
        bytes memory data = PixelArtCodec.encodeAigcData(values.outputs);
        address caller = owner ? NFT.ownerOf(id) : actors[actorSeed % actors.length];
        bool byOwner = caller == NFT.ownerOf(id);
        bool hadData = NFT.aigcDataOf(id).length != 0;
        vm.prank(caller);
        try NFT.addAigcData(id, prompt, data, proof) {
            if (hadData) ++overwrites;
            // Only the owner may add data: a success by anyone else counts as unproven.
            _record(id, data, valid && byOwner);
        } catch {}
    }

    function attest(uint256 promptSeed, uint256 dataSeed) external {
        InferenceValues memory values = _values(_prompt(promptSeed), dataSeed);
        BOOK.attest(MODEL_ID, VERIFIER.mockProof(REGISTRY.inferenceInstances(MODEL_ID, values)), values);
    }
}

contract ERC7007ZkmlInvariantTest is Test, ZkmlArtifacts {
    string internal constant FIXTURE = "test/fixtures/pixel-art/proof.json";

    ERC7007Zkml internal nft;
    ERC7007ZkmlHandler internal handler;

    function setUp() public {
        ZkmlModelRegistry registry = new ZkmlModelRegistry();
        ZkmlInferenceBook book = new ZkmlInferenceBook(registry);
        MockZkmlVerifier verifier = new MockZkmlVerifier();
        // The real pixel-art model's public layout, with a mock verifier: the rules under test are the NFT's.
        PublicLayout memory publicLayout = _publicLayout(vm.readFile(FIXTURE), ".layout");
        uint256 modelId = registry.registerModel(
            ModelConfig({
                verifier: verifier, commitment: bytes32(0), verifyGasLimit: 200_000, publicLayout: publicLayout
            })
        );
        nft = new ERC7007Zkml("Zkml Pixel Art", "ZPA", "invariant", registry, book, modelId);
        handler = new ERC7007ZkmlHandler(nft, registry, book, verifier);
        bytes4[] memory selectors = new bytes4[](3);
        selectors[0] = handler.mint.selector;
        selectors[1] = handler.addAigcData.selector;
        selectors[2] = handler.attest.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @notice No call with a wrong proof, an unattested empty proof or a caller other than the owner ever
    ///         stored AIGC data.
    function invariant_DataIsStoredOnlyWithAValidProof() public view {
        assertEq(handler.unprovenSuccesses(), 0);
    }

    /// @notice Every token's data is the data the handler proved for it, or nothing.
    function invariant_EveryTokensDataIsItsProvenData() public view {
        uint256 count = handler.tokenCount();
        for (uint256 i = 0; i < count; ++i) {
            uint256 id = handler.tokenIds(i);
            bytes memory data = nft.aigcDataOf(id);
            if (data.length == 0) continue;
            assertEq(keccak256(data), handler.provenData(id), "stored data nobody proved");
        }
    }

    /// @notice Data once added never changes: no `addAigcData` succeeds on a token that has data.
    function invariant_DataNeverChanges() public view {
        assertEq(handler.overwrites(), 0);
    }
}
