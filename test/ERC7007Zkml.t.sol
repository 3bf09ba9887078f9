// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {ZkmlFixtures} from "./utils/ZkmlFixtures.sol";

import {ERC7007Zkml} from "../contracts/ERC7007Zkml.sol";
import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {IERC7007, IERC7007Enumerable} from "../contracts/interfaces/IERC7007.sol";
import {InferenceValues, ModelConfig} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";

/// @notice The EIP-7007 AIGC-NFT on the REAL pixel-art proof (test/fixtures/pixel-art, `make fixtures`)
///         through its REAL generated verifier: the interface ids, commit-reveal, who may add data, the
///         proof check, attested mints and the escaped on-chain metadata. The reference implementation's
///         three defects (no 0x702c55a6 in supportsInterface, anyone adding data, unescaped JSON) each have
///         a test here.
contract ERC7007ZkmlTest is ZkmlFixtures {
    string internal constant DIR = "test/fixtures/pixel-art/";
    uint32 internal constant VERIFY_GAS = 500_000;
    /// @dev What a mint or addAigcData with a rejected proof may cost: the verifier's limit, which the
    ///      registry forwards whole, and the decoding around it.
    uint256 internal constant REJECTION_GAS_CAP = 700_000;
    /// @dev A description with every character JSON must escape that a collection name could carry.
    string internal constant DESCRIPTION = "Pixel art \"proven\" by zkML\n\\ 8x8 digits\t";

    ZkmlModelRegistry internal registry;
    ZkmlInferenceBook internal book;
    ERC7007Zkml internal nft;
    uint256 internal modelId;

    bytes internal prompt;
    bytes internal aigcData;
    bytes internal proof;
    bytes32 internal constant SALT = keccak256("salt");

    address internal alice = makeAddr("alice");
    address internal mallory = makeAddr("mallory");

    function setUp() public {
        registry = new ZkmlModelRegistry();
        book = new ZkmlInferenceBook(registry);
        string memory json = vm.readFile(string.concat(DIR, "proof.json"));
        proof = vm.parseJsonBytes(json, ".proof");
        Halo2VerifierAdapter adapter = new Halo2VerifierAdapter(
            _deployGeneratedVerifier(string.concat(DIR, "Halo2Verifier.hex")),
            vm.parseJsonUintArray(json, ".instances").length,
            proof.length
        );
        modelId = registry.registerModel(
            ModelConfig({
                verifier: adapter,
                commitment: vm.parseJsonBytes32(json, ".model_commitment"),
                verifyGasLimit: VERIFY_GAS,
                publicLayout: _publicLayout(json, ".layout")
            })
        );
        nft = new ERC7007Zkml("Zkml Pixel Art", "ZPA", DESCRIPTION, registry, book, modelId);
        prompt = vm.parseJsonBytes(vm.readFile(string.concat(DIR, "input.json")), ".source.prompt");
        aigcData = vm.parseJsonBytes(vm.readFile(string.concat(DIR, "render.json")), ".aigcData");
    }

    function _commit(address minter) internal {
        vm.prank(minter);
        nft.commit(nft.commitment(prompt, minter, SALT));
        vm.roll(block.number + nft.REVEAL_DELAY_BLOCKS());
    }

    function _mint(address minter, bytes memory data, bytes memory proof_) internal returns (uint256 id) {
        _commit(minter);
        vm.prank(minter);
        id = nft.mint(prompt, SALT, data, proof_);
    }

    // ---------------------------------------------------------------- ERC-165 (reference defect 1)

    function test_ReportsTheEip7007InterfaceIds() public view {
        assertEq(type(IERC7007).interfaceId, bytes4(0x702c55a6));
        assertEq(type(IERC7007Enumerable).interfaceId, bytes4(0xfa1a557a));
        assertTrue(nft.supportsInterface(0x702c55a6));
        assertTrue(nft.supportsInterface(0xfa1a557a));
        assertTrue(nft.supportsInterface(type(IERC721).interfaceId));
        assertTrue(nft.supportsInterface(type(IERC721Metadata).interfaceId));
        assertTrue(nft.supportsInterface(type(IERC165).interfaceId));
        assertFalse(nft.supportsInterface(0xffffffff));
    }

    // ---------------------------------------------------------------- verify

    function test_Verify_AcceptsTheRealProof() public view {
        assertTrue(nft.verify(prompt, aigcData, proof));
    }

    function test_Verify_RejectsTamperedProofDataAndPrompt() public view {
        bytes memory tamperedProof = bytes.concat(proof);
        tamperedProof[100] ^= 0x01;
        assertFalse(nft.verify(prompt, aigcData, tamperedProof));

        bytes memory tamperedData = bytes.concat(aigcData);
        tamperedData[aigcData.length - 1] ^= 0x01;
        assertFalse(nft.verify(prompt, tamperedData, proof));

        bytes memory otherPrompt = bytes.concat(prompt);
        otherPrompt[0] = 0x04;
        assertFalse(nft.verify(otherPrompt, aigcData, proof));

        assertFalse(nft.verify(hex"0a00000000", aigcData, proof), "class 10 is no prompt");
        assertFalse(nft.verify(bytes.concat(prompt, hex"00"), aigcData, proof), "6 bytes are no prompt");
        assertFalse(nft.verify(prompt, bytes.concat(aigcData, hex"00"), proof), "257 bytes are no aigcData");
        assertFalse(nft.verify(prompt, aigcData, ""), "not attested, and no proof");
    }

    function test_Verify_IsFalseOnceTheModelIsRetired() public {
        registry.retireModel(modelId);
        assertFalse(nft.verify(prompt, aigcData, proof));
    }

    // ---------------------------------------------------------------- minting with commit-reveal

    function test_Mint_WithTheRealProof() public {
        uint256 expectedId = uint256(keccak256(prompt));
        _commit(alice);
        vm.expectEmit(address(nft));
        emit IERC7007.AigcData(expectedId, prompt, aigcData, proof);
        vm.prank(alice);
        uint256 gasBefore = gasleft();
        uint256 id = nft.mint(prompt, SALT, aigcData, proof);
        emit log_named_uint("mint with a proof, gas", gasBefore - gasleft());

        assertEq(id, expectedId);
        assertEq(id, vm.parseJsonUint(vm.readFile(string.concat(DIR, "input.json")), ".source.tokenId"));
        assertEq(nft.tokenId(prompt), id);
        assertEq(nft.ownerOf(id), alice);
        assertEq(nft.aigcDataOf(id), aigcData);
        assertEq(nft.prompt(id), "0x0310f00000");
    }

    function test_RevertsWhen_RevealIsInTheCommitBlock() public {
        vm.prank(alice);
        nft.commit(nft.commitment(prompt, alice, SALT));
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlRevealTooEarly.selector, block.number, block.number)
        );
        nft.mint(prompt, SALT, aigcData, proof);
    }

    function test_RevertsWhen_CommitmentExpired() public {
        vm.prank(alice);
        nft.commit(nft.commitment(prompt, alice, SALT));
        uint256 committedAt = block.number;
        vm.roll(committedAt + nft.REVEAL_WINDOW_BLOCKS() + 1);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlCommitmentExpired.selector, committedAt, block.number)
        );
        nft.mint(prompt, SALT, aigcData, proof);

        // Expired, it can be committed again and revealed.
        vm.prank(alice);
        nft.commit(nft.commitment(prompt, alice, SALT));
        vm.roll(block.number + 1);
        vm.prank(alice);
        nft.mint(prompt, SALT, aigcData, proof);
    }

    function test_RevertsWhen_ARevealedPromptIsStolen() public {
        _commit(alice);
        // Mallory copies alice's reveal from the mempool (prompt, salt, data, proof): the commitment binds the
        // minter, so hers names no commitment.
        bytes32 hers = nft.commitment(prompt, mallory, SALT);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlUnknownCommitment.selector, hers));
        nft.mint(prompt, SALT, aigcData, proof);
        // Committing now does not help her: she could reveal only in a later block, after alice's reveal.
        vm.prank(mallory);
        nft.commit(hers);
        vm.prank(mallory);
        vm.expectRevert(
            abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlRevealTooEarly.selector, block.number, block.number)
        );
        nft.mint(prompt, SALT, aigcData, proof);

        vm.prank(alice);
        uint256 id = nft.mint(prompt, SALT, aigcData, proof);
        assertEq(nft.ownerOf(id), alice);

        vm.roll(block.number + 1);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidSender.selector, address(0)));
        nft.mint(prompt, SALT, aigcData, proof);
    }

    function test_RevertsWhen_PendingCommitmentIsRenewed() public {
        bytes32 c = nft.commitment(prompt, alice, SALT);
        vm.prank(alice);
        nft.commit(c);
        uint256 committedAt = block.number;
        vm.roll(block.number + 10);
        // Renewing would let anyone who saw the commitment push its reveal back forever.
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlCommitmentPending.selector, c, committedAt));
        nft.commit(c);
    }

    function test_RevertsWhen_MintingAnInvalidPrompt() public {
        bytes memory bad = hex"0a00000000";
        vm.prank(alice);
        nft.commit(nft.commitment(bad, alice, SALT));
        vm.roll(block.number + 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlInvalidPrompt.selector, bad));
        nft.mint(bad, SALT, "", "");
    }

    function test_RevertsWhen_MintingWithAnInvalidProof() public {
        bytes memory tampered = bytes.concat(proof);
        tampered[7] ^= 0x01;
        _commit(alice);
        uint256 id = uint256(keccak256(prompt));
        vm.prank(alice);
        _assertRevertsWithin(
            address(nft),
            abi.encodeCall(nft.mint, (prompt, SALT, aigcData, tampered)),
            REJECTION_GAS_CAP,
            abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlUnverifiedAigcData.selector, id)
        );
    }

    // ---------------------------------------------------------------- adding data (reference defect 2)

    function test_OnlyTheOwnerAddsData_AndOnlyWithAValidProof() public {
        uint256 id = _mint(alice, "", "");
        assertEq(nft.aigcDataOf(id).length, 0);

        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlNotTokenOwner.selector, id, mallory));
        nft.addAigcData(id, prompt, aigcData, proof);

        bytes memory tampered = bytes.concat(aigcData);
        tampered[3] ^= 0x01;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlUnverifiedAigcData.selector, id));
        nft.addAigcData(id, prompt, tampered, proof);

        vm.prank(alice);
        nft.addAigcData(id, prompt, aigcData, proof);
        assertEq(nft.aigcDataOf(id), aigcData);

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlAigcDataAlreadyAdded.selector, id));
        nft.addAigcData(id, prompt, aigcData, proof);
    }

    function test_RevertsWhen_TokenIdIsNotThePrompts() public {
        uint256 id = _mint(alice, "", "");
        bytes memory other = hex"0400000000";
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlWrongTokenId.selector, id, uint256(keccak256(other)))
        );
        nft.addAigcData(id, other, aigcData, proof);
    }

    function testFuzz_DataChangesOnlyWithAValidProof(uint256 index, uint8 flip) public {
        vm.assume(flip != 0);
        uint256 id = _mint(alice, "", "");
        bytes memory tampered = bytes.concat(aigcData);
        index = bound(index, 0, tampered.length - 1);
        tampered[index] ^= bytes1(flip);
        vm.prank(alice);
        _assertRevertsWithin(
            address(nft),
            abi.encodeCall(nft.addAigcData, (id, prompt, tampered, proof)),
            REJECTION_GAS_CAP,
            abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlUnverifiedAigcData.selector, id)
        );
        assertEq(nft.aigcDataOf(id).length, 0);
    }

    // ---------------------------------------------------------------- attested inferences

    function test_Mint_WithAnAttestedInference() public {
        uint256 id = uint256(keccak256(prompt));
        _commit(alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlUnverifiedAigcData.selector, id));
        nft.mint(prompt, SALT, aigcData, "");

        // Someone proved the inference once (here singly; an aggregated batch works the same).
        string memory json = vm.readFile(string.concat(DIR, "proof.json"));
        InferenceValues memory values = _inferenceValues(json, ".layout", vm.parseJsonUintArray(json, ".instances"));
        book.attest(modelId, proof, values);

        vm.prank(alice);
        nft.mint(prompt, SALT, aigcData, "");
        assertEq(nft.aigcDataOf(id), aigcData);
    }

    // ---------------------------------------------------------------- metadata (reference defect 3)

    function test_TokenUri_IsEscapedJsonWithTheProvenImage() public {
        uint256 id = _mint(alice, aigcData, proof);
        string memory svg = vm.readFile(string.concat(DIR, "pixel-art-proof.svg"));
        string memory json = string.concat(
            "{\"name\":\"Zkml Pixel Art 0x0310f00000\",",
            "\"description\":\"Pixel art \\\"proven\\\" by zkML\\n\\\\ 8x8 digits\\t\",",
            "\"image\":\"data:image/svg+xml;base64,",
            vm.toBase64(bytes(svg)),
            "\",\"prompt\":\"0x0310f00000\",\"aigc_type\":\"image\",\"aigc_data\":\"",
            vm.toString(aigcData),
            "\",\"proof_type\":\"validity\"}"
        );
        assertEq(nft.tokenURI(id), string.concat("data:application/json;base64,", vm.toBase64(json)));
        // It parses as JSON, and the description comes back as given.
        assertEq(vm.parseJsonString(json, ".description"), DESCRIPTION);
        assertEq(vm.parseJsonString(json, ".proof_type"), "validity");
        assertEq(vm.parseJsonBytes(json, ".aigc_data"), aigcData);
    }

    function test_TokenUri_BeforeDataIsAdded() public {
        uint256 id = _mint(alice, "", "");
        string memory json = string.concat(
            "{\"name\":\"Zkml Pixel Art 0x0310f00000\",",
            "\"description\":\"Pixel art \\\"proven\\\" by zkML\\n\\\\ 8x8 digits\\t\",",
            "\"image\":\"\",\"prompt\":\"0x0310f00000\",\"aigc_type\":\"image\",\"aigc_data\":\"0x\",",
            "\"proof_type\":\"validity\"}"
        );
        assertEq(nft.tokenURI(id), string.concat("data:application/json;base64,", vm.toBase64(json)));
    }

    // ---------------------------------------------------------------- construction

    function test_RevertsWhen_ModelIsNotTheGenerator() public {
        string memory eth = vm.readFile("test/fixtures/eth-price/proof.json");
        uint256 other = registry.registerModel(
            ModelConfig({
                verifier: registry.model(modelId).verifier,
                commitment: bytes32(0),
                verifyGasLimit: VERIFY_GAS,
                publicLayout: _publicLayout(eth, ".layout")
            })
        );
        vm.expectRevert(abi.encodeWithSelector(ERC7007Zkml.ERC7007ZkmlUnsupportedModel.selector, other));
        new ERC7007Zkml("x", "x", "", registry, book, other);
    }
}
