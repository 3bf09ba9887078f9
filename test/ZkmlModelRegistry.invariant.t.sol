// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {
    BatchVerifier,
    BatchVerifierStatus,
    InputVisibility,
    Model,
    ModelConfig,
    ModelStatus,
    OutputVisibility,
    PublicLayout,
    WeightVisibility
} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";
import {MockZkmlVerifier} from "../contracts/test/MockZkmlVerifier.sol";

/// @notice Drives the registry with random registrations, retirements, ownership moves and batch verifier
///         registrations, approvals and retirements from a small set of actors, and records what must stay
///         true.
contract RegistryHandler is Test {
    ZkmlModelRegistry public immutable registry;
    IZkmlVerifier public immutable verifier;

    address[] public actors;
    uint256 public registrations;
    uint256[] public retiredIds;
    mapping(uint256 modelId => bytes32) public commitmentAtRegistration;
    mapping(uint256 modelId => bytes32) public layoutHashAtRegistration;

    uint256 public batchRegistrations;
    uint256[] public retiredBatchIds;
    mapping(uint256 batchVerifierId => bytes32) public slotsHashAtRegistration;

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

    function _existingBatchId(uint256 seed) internal view returns (uint256) {
        return batchRegistrations == 0 ? 1 : 1 + (seed % batchRegistrations);
    }

    function register(uint256 actorSeed, bytes32 commitment, uint256 layoutSeed) external {
        commitment = bytes32(uint256(commitment) % registry.SNARK_SCALAR_FIELD());
        // Any visibility, a few values of a small width: valid by construction, so every call registers.
        PublicLayout memory l;
        l.weights = WeightVisibility(layoutSeed % 2);
        l.input = InputVisibility((layoutSeed >> 1) % 3);
        l.output = OutputVisibility((layoutSeed >> 3) % 2);
        // Each field is reduced below its type's maximum first: the casts are exact.
        // forge-lint: disable-start(unsafe-typecast)
        l.inputScale = uint8((layoutSeed >> 8) % 65);
        l.outputScale = uint8((layoutSeed >> 16) % 65);
        l.inputWidth = uint8(1 + (layoutSeed >> 24) % 252);
        l.outputWidth = uint8(1 + (layoutSeed >> 32) % 252);
        l.inputCount = uint16(1 + (layoutSeed >> 40) % 64);
        l.outputCount = uint16(1 + (layoutSeed >> 48) % 64);
        // forge-lint: disable-end(unsafe-typecast)
        vm.prank(_actor(actorSeed));
        uint256 modelId = registry.registerModel(ModelConfig(verifier, commitment, 300_000, l));
        registrations += 1;
        commitmentAtRegistration[modelId] = commitment;
        layoutHashAtRegistration[modelId] = keccak256(abi.encode(l));
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

    /// @dev One to four slots over existing models (repeats allowed); refused when a slot's model is retired.
    function registerBatch(uint256 actorSeed, uint256 slotSeed) external {
        if (registrations == 0) return;
        uint256[] memory modelIds = new uint256[](1 + slotSeed % 4);
        for (uint256 i = 0; i < modelIds.length; ++i) {
            modelIds[i] = _existingId(slotSeed >> (8 + 16 * i));
        }
        vm.prank(_actor(actorSeed));
        try registry.registerBatchVerifier(verifier, 400_000, modelIds) returns (uint256 batchVerifierId) {
            batchRegistrations += 1;
            slotsHashAtRegistration[batchVerifierId] = keccak256(abi.encode(modelIds));
        } catch {}
    }

    function approveBatch(uint256 actorSeed, uint256 idSeed) external {
        vm.prank(_actor(actorSeed));
        try registry.approveBatchVerifier(_existingBatchId(idSeed)) {} catch {}
    }

    function retireBatch(uint256 actorSeed, uint256 idSeed) external {
        uint256 batchVerifierId = _existingBatchId(idSeed);
        vm.prank(_actor(actorSeed));
        try registry.retireBatchVerifier(batchVerifierId) {
            retiredBatchIds.push(batchVerifierId);
        } catch {}
    }

    function retiredCount() external view returns (uint256) {
        return retiredIds.length;
    }

    function retiredBatchCount() external view returns (uint256) {
        return retiredBatchIds.length;
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
    IZkmlVerifier internal verifier;

    function setUp() public {
        registry = new ZkmlModelRegistry();
        verifier = new MockZkmlVerifier();
        handler = new RegistryHandler(registry, verifier);
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

    /// Ids 1..count exist, keep the verifier, commitment and public layout they were registered with, and are
    /// owned by a real actor.
    function invariant_registeredModelsAreImmutableAndOwned() public view {
        uint256 count = registry.modelCount();
        for (uint256 id = 1; id <= count; ++id) {
            Model memory m = registry.model(id);
            assertTrue(m.status != ModelStatus.Unregistered);
            assertEq(address(m.verifier), address(verifier));
            assertEq(m.commitment, handler.commitmentAtRegistration(id));
            assertEq(keccak256(abi.encode(m.publicLayout)), handler.layoutHashAtRegistration(id));
            assertTrue(handler.isActor(m.owner));
            if (m.status == ModelStatus.Retired) assertEq(registry.pendingModelOwner(id), address(0));
        }
    }

    /// Batch verifier ids are handed out once each, in order, and keep their slots.
    function invariant_batchVerifierIdsAreSequentialAndSlotsFixed() public view {
        uint256 count = registry.batchVerifierCount();
        assertEq(count, handler.batchRegistrations());
        for (uint256 id = 1; id <= count; ++id) {
            BatchVerifier memory b = registry.batchVerifier(id);
            assertTrue(b.status != BatchVerifierStatus.Unregistered);
            assertEq(keccak256(abi.encode(b.modelIds)), handler.slotsHashAtRegistration(id));
            assertTrue(handler.isActor(b.registrant));
        }
    }

    /// A retired batch verifier stays retired.
    function invariant_retiredBatchVerifiersStayRetired() public view {
        for (uint256 i = 0; i < handler.retiredBatchCount(); ++i) {
            uint256 id = handler.retiredBatchIds(i);
            assertEq(uint8(registry.batchVerifier(id).status), uint8(BatchVerifierStatus.Retired));
            assertFalse(registry.batchVerifierUsable(id));
        }
    }

    /// A batch verifier is usable only if every slot model's owner approved it and every slot model is active;
    /// it is active exactly when no approval is missing, and the missing count is the number of distinct slot
    /// models not yet approved.
    function invariant_batchVerifierUsableOnlyWithEveryApprovalAndActiveSlots() public view {
        uint256 count = registry.batchVerifierCount();
        for (uint256 id = 1; id <= count; ++id) {
            BatchVerifier memory b = registry.batchVerifier(id);
            bool everyApproved = true;
            bool everyActive = true;
            uint256 missing;
            for (uint256 i = 0; i < b.modelIds.length; ++i) {
                uint256 modelId = b.modelIds[i];
                bool approved = registry.batchVerifierApproved(id, modelId);
                everyApproved = everyApproved && approved;
                everyActive = everyActive && registry.model(modelId).status == ModelStatus.Active;
                if (!approved && !_seenBefore(b.modelIds, i)) ++missing;
            }
            bool usable = registry.batchVerifierUsable(id);
            if (usable) {
                assertEq(uint8(b.status), uint8(BatchVerifierStatus.Active));
                assertTrue(everyApproved, "usable without every slot owner's approval");
                assertTrue(everyActive, "usable with a retired slot model");
            }
            if (b.status == BatchVerifierStatus.Active) {
                assertTrue(everyApproved, "active without every slot owner's approval");
                assertEq(usable, everyActive, "an active batch verifier's usability is its slot models'");
            }
            if (b.status == BatchVerifierStatus.Pending) {
                assertEq(b.pendingApprovals, missing, "the pending count drifted from the missing approvals");
                assertGt(missing, 0, "pending with nothing to wait for");
            }
        }
    }

    function _seenBefore(uint256[] memory modelIds, uint256 i) internal pure returns (bool) {
        for (uint256 j = 0; j < i; ++j) {
            if (modelIds[j] == modelIds[i]) return true;
        }
        return false;
    }
}
