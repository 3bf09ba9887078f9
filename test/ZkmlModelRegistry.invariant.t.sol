// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {Model, ModelConfig, ModelStatus} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";
import {MockZkmlVerifier} from "../contracts/test/MockZkmlVerifier.sol";

/// @notice Drives the registry with random registrations, retirements and ownership moves from a small set
///         of actors, and records what must stay true.
contract RegistryHandler is Test {
    ZkmlModelRegistry public immutable registry;
    IZkmlVerifier public immutable verifier;

    address[] public actors;
    uint256 public registrations;
    uint256[] public retiredIds;
    mapping(uint256 modelId => bytes32) public commitmentAtRegistration;
    mapping(uint256 modelId => uint16[]) internal _indicesAtRegistration;

    constructor(ZkmlModelRegistry registry_, IZkmlVerifier verifier_) {
        registry = registry_;
        verifier = verifier_;
        for (uint256 i = 0; i < 4; ++i) {
            actors.push(makeAddr(string(abi.encodePacked("actor", vm.toString(i)))));
        }
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _existingId(uint256 seed) internal view returns (uint256) {
        return registrations == 0 ? 1 : 1 + (seed % registrations);
    }

    function register(uint256 actorSeed, bytes32 commitment, uint256 indexSeed) external {
        commitment = bytes32(uint256(commitment) % registry.SNARK_SCALAR_FIELD());
        // Zero to three strictly increasing commitment indices (fixed weights, one proof, aggregated slots).
        uint16[] memory indices = new uint16[](indexSeed % 4);
        uint256 next = (indexSeed >> 8) % 64;
        for (uint256 i = 0; i < indices.length; ++i) {
            // At most 63 + 3 * 32: the cast is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            indices[i] = uint16(next);
            next += 1 + (indexSeed >> (16 + 8 * i)) % 32;
        }
        vm.prank(_actor(actorSeed));
        uint256 modelId = registry.registerModel(ModelConfig(verifier, commitment, 8, 8, 300_000, indices));
        registrations += 1;
        commitmentAtRegistration[modelId] = commitment;
        _indicesAtRegistration[modelId] = indices;
    }

    function indicesAtRegistration(uint256 modelId) external view returns (uint16[] memory) {
        return _indicesAtRegistration[modelId];
    }

    function retire(uint256 actorSeed, uint256 idSeed) external {
        uint256 modelId = _existingId(idSeed);
        vm.prank(_actor(actorSeed));
        try registry.retireModel(modelId) {
            retiredIds.push(modelId);
        } catch {}
    }

    function transfer(uint256 actorSeed, uint256 idSeed, uint256 toSeed) external {
        vm.prank(_actor(actorSeed));
        try registry.transferModelOwnership(_existingId(idSeed), _actor(toSeed)) {} catch {}
    }

    function accept(uint256 actorSeed, uint256 idSeed) external {
        vm.prank(_actor(actorSeed));
        try registry.acceptModelOwnership(_existingId(idSeed)) {} catch {}
    }

    function retiredCount() external view returns (uint256) {
        return retiredIds.length;
    }

    function isActor(address account) external view returns (bool) {
        for (uint256 i = 0; i < actors.length; ++i) {
            if (actors[i] == account) return true;
        }
        return false;
    }
}

contract ZkmlModelRegistryInvariantTest is Test {
    ZkmlModelRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        registry = new ZkmlModelRegistry();
        handler = new RegistryHandler(registry, new MockZkmlVerifier());
        targetContract(address(handler));
    }

    /// Every registration got its own id, and nothing else hands ids out.
    function invariant_modelCountEqualsRegistrations() public view {
        assertEq(registry.modelCount(), handler.registrations());
    }

    /// A retired id stays retired: tombstones never come back to life.
    function invariant_retiredIdsStayRetired() public view {
        for (uint256 i = 0; i < handler.retiredCount(); ++i) {
            assertEq(uint8(registry.model(handler.retiredIds(i)).status), uint8(ModelStatus.Retired));
        }
    }

    /// Ids 1..count exist, keep the commitment and commitment indices they were registered with, and are owned
    /// by a real actor.
    function invariant_registeredModelsAreImmutableAndOwned() public view {
        uint256 count = registry.modelCount();
        for (uint256 id = 1; id <= count; ++id) {
            Model memory m = registry.model(id);
            assertTrue(m.status != ModelStatus.Unregistered);
            assertEq(m.commitment, handler.commitmentAtRegistration(id));
            uint16[] memory expected = handler.indicesAtRegistration(id);
            assertEq(m.commitmentIndices.length, expected.length);
            for (uint256 i = 0; i < expected.length; ++i) {
                assertEq(m.commitmentIndices[i], expected[i]);
            }
            assertTrue(handler.isActor(m.owner));
            if (m.status == ModelStatus.Retired) assertEq(registry.pendingModelOwner(id), address(0));
        }
    }
}
