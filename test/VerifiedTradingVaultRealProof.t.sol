// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ZkmlFixtures} from "./utils/ZkmlFixtures.sol";

import {TradePolicy, VaultConfig, VerifiedTradingVault} from "../contracts/VerifiedTradingVault.sol";
import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {IZkmlModelRegistry, InferenceValues, ModelConfig} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {PriceFeatures} from "../contracts/libraries/PriceFeatures.sol";
import {TestPriceFeed} from "../contracts/test/market/TestPriceFeed.sol";
import {TestToken} from "../contracts/test/market/TestToken.sol";
import {TestUniswapV2Market} from "../contracts/test/market/TestUniswapV2Market.sol";
import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";

/// @notice The vault on the REAL eth-price proof (test/fixtures/eth-price, `make fixtures`) through its REAL
///         generated verifier, over a feed loaded with the example's history: the proof's window is answers
///         7988..8000 of examples/eth-price/feed.json, which the vault reads back from its feed by round id.
contract VerifiedTradingVaultRealProofTest is ZkmlFixtures {
    string internal constant DIR = "test/fixtures/eth-price/";
    string internal constant FEED_JSON = "examples/eth-price/feed.json";
    uint32 internal constant VERIFY_GAS = 500_000;
    /// @dev What a rejected `act` may cost: the verifier's limit (which the registry insists on forwarding
    ///      whole), the 13 feed reads and the packing; an accepted one measures about 585k.
    uint256 internal constant REJECTION_GAS_CAP = 900_000;
    /// @dev The first answer of the proof's window, and how many answers after its last one the feed holds.
    uint256 internal constant FIRST_ANSWER = 7988;
    uint256 internal constant ANSWERS_AFTER = 3;
    /// @dev Round 13 of phase 1 holds answer 8000, the price the fixture's prediction is made at.
    uint80 internal constant PREDICTION_ROUND = uint80((uint256(1) << 64) | 13);
    uint256 internal constant DEPOSIT = 10_000e6;
    uint256 internal constant POOL_WETH = 1000e18;
    /// @dev Pool USD reserve = WETH reserve * answer / 10^(18 + 8 - 6).
    uint256 internal constant WETH_TO_USD_AT_8_DECIMALS = 1e20;

    ZkmlModelRegistry internal registry;
    ZkmlInferenceBook internal book;
    TestToken internal usd;
    TestToken internal weth;
    TestPriceFeed internal feed;
    TestUniswapV2Market internal market;
    VerifiedTradingVault internal vault;
    uint256 internal modelId;

    bytes internal proof;
    int256[] internal outputs;
    uint256 internal predictionUpdatedAt;

    address internal alice = makeAddr("alice");
    address internal keeper = makeAddr("keeper");

    function setUp() public {
        registry = new ZkmlModelRegistry();
        book = new ZkmlInferenceBook(registry);
        string memory json = vm.readFile(string.concat(DIR, "proof.json"));
        proof = vm.parseJsonBytes(json, ".proof");
        outputs = vm.parseJsonIntArray(json, ".outputs_quantized");
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

        usd = new TestToken("Test USD", "tUSD", 6);
        weth = new TestToken("Test WETH", "tWETH", 18);
        feed = new TestPriceFeed(8, "ETH / USD (example history)", address(this));
        int256[] memory answers = _history(FIRST_ANSWER, PriceFeatures.ANSWERS + ANSWERS_AFTER);
        uint256 firstAt = _timeOf(FIRST_ANSWER);
        feed.pushRounds(answers, firstAt, vm.parseJsonUint(vm.readFile(FEED_JSON), ".interval"));
        predictionUpdatedAt = firstAt + PriceFeatures.WINDOW * vm.parseJsonUint(vm.readFile(FEED_JSON), ".interval");

        market = new TestUniswapV2Market(usd, weth, address(this));
        // The pool at the prediction's price, deep enough that a trade's impact stays far below the bound.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 price = uint256(answers[PriceFeatures.WINDOW]);
        market.syncReserves(POOL_WETH * price / WETH_TO_USD_AT_8_DECIMALS, POOL_WETH);

        vault = new VerifiedTradingVault(
            VaultConfig({
                quote: usd,
                risk: weth,
                registry: registry,
                book: book,
                modelId: modelId,
                feed: feed,
                router: market,
                guardian: address(this)
            }),
            // The eth-price example's backtest: tiers 20% / 10%, 12 h cooldown; the bound covers the pool's
            // 0.30% fee and the trade's impact.
            TradePolicy({
                strongTierBps: 2000,
                tierBps: 1000,
                maxTradeBps: 2000,
                maxSlippageBps: 100,
                cooldown: 12 hours,
                maxRoundAge: 1 hours
            }),
            "Verified ETH vault",
            "vETH",
            address(this)
        );
        usd.mint(alice, DEPOSIT);
        vm.startPrank(alice);
        usd.approve(address(vault), DEPOSIT);
        vault.deposit(DEPOSIT, alice);
        vm.stopPrank();
        vm.warp(predictionUpdatedAt + 5 minutes);
    }

    function _history(uint256 first, uint256 count) internal view returns (int256[] memory answers) {
        int256[] memory all = vm.parseJsonIntArray(vm.readFile(FEED_JSON), ".answers");
        answers = new int256[](count);
        for (uint256 i = 0; i < count; ++i) {
            answers[i] = all[first + i];
        }
    }

    function _timeOf(uint256 index) internal view returns (uint256) {
        string memory json = vm.readFile(FEED_JSON);
        return vm.parseJsonUint(json, ".startedAt") + index * vm.parseJsonUint(json, ".interval");
    }

    function test_TheProofsInputsAreTheFeedsFeatures() public view {
        int256[] memory answers = _history(FIRST_ANSWER, PriceFeatures.ANSWERS);
        assertEq(
            PriceFeatures.features(answers, 12),
            vm.parseJsonIntArray(vm.readFile(string.concat(DIR, "input.json")), ".quantized[0]")
        );
    }

    function test_Act_TradesOnTheRealProof() public {
        // The fixture's logits [613, 719, -30, 1145, 558] predict bucket 3, buy: 10% of the USD held.
        vm.prank(keeper);
        uint256 gasBefore = gasleft();
        uint8 bucket = vault.act(PREDICTION_ROUND, outputs, proof);
        emit log_named_uint("act with a real proof, gas", gasBefore - gasleft());

        assertEq(bucket, vault.BUY());
        assertEq(vault.lastRound(), PREDICTION_ROUND);
        assertEq(usd.balanceOf(address(vault)), DEPOSIT - DEPOSIT / 10);
        assertGt(weth.balanceOf(address(vault)), 0);
        // The trade cost the pool fee and a sliver of impact, nothing more: within 0.35% of the deposit's value.
        assertApproxEqRel(vault.totalAssets(), DEPOSIT, 0.0035e18);
    }

    function test_RevertsWhen_TheRealProofIsReplayed() public {
        vault.act(PREDICTION_ROUND, outputs, proof);
        vm.expectRevert(
            abi.encodeWithSelector(
                VerifiedTradingVault.VerifiedTradingVaultRoundNotNewer.selector, PREDICTION_ROUND, PREDICTION_ROUND
            )
        );
        vault.act(PREDICTION_ROUND, outputs, proof);
    }

    function test_RevertsWhen_TheRealProofIsForAnotherWindow() public {
        // The same proof at the next round: the vault's inputs are the window 7989..8001, not the proof's.
        vm.warp(predictionUpdatedAt + 1 hours + 5 minutes);
        _assertRevertsWithin(
            address(vault),
            abi.encodeCall(vault.act, (PREDICTION_ROUND + 1, outputs, proof)),
            REJECTION_GAS_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId)
        );
    }

    function test_RevertsWhen_TheRealProofClaimsOtherOutputs() public {
        // A submitter who wants a strong buy instead.
        outputs[4] = 5000;
        _assertRevertsWithin(
            address(vault),
            abi.encodeCall(vault.act, (PREDICTION_ROUND, outputs, proof)),
            REJECTION_GAS_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId)
        );
    }

    function test_RevertsWhen_TheRealProofIsTampered() public {
        bytes memory tampered = bytes.concat(proof);
        tampered[proof.length - 1] ^= 0x01;
        _assertRevertsWithin(
            address(vault),
            abi.encodeCall(vault.act, (PREDICTION_ROUND, outputs, tampered)),
            REJECTION_GAS_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId)
        );
    }

    function test_RevertsWhen_TheRealProofIsStale() public {
        vm.warp(predictionUpdatedAt + 1 hours + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                VerifiedTradingVault.VerifiedTradingVaultStaleRound.selector,
                PREDICTION_ROUND,
                predictionUpdatedAt,
                1 hours
            )
        );
        vault.act(PREDICTION_ROUND, outputs, proof);
    }

    function test_Act_OnAnAttestedPrediction() public {
        vm.expectRevert(
            abi.encodeWithSelector(VerifiedTradingVault.VerifiedTradingVaultNotAttested.selector, PREDICTION_ROUND)
        );
        vault.act(PREDICTION_ROUND, outputs, "");

        // Proven once in the book (singly here; in an aggregated batch alike), then acted on without a proof.
        int256[] memory inputs = PriceFeatures.features(_history(FIRST_ANSWER, PriceFeatures.ANSWERS), 12);
        book.attest(modelId, proof, InferenceValues({inputs: inputs, outputs: outputs}));
        uint256 gasBefore = gasleft();
        assertEq(vault.act(PREDICTION_ROUND, outputs, ""), vault.BUY());
        emit log_named_uint("act on an attested prediction, gas", gasBefore - gasleft());
    }

    function test_DepositorsLeaveWhilePaused() public {
        vault.act(PREDICTION_ROUND, outputs, proof);
        vault.pause();
        uint256 shares = vault.balanceOf(alice);
        vm.prank(alice);
        (uint256 quoteOut, uint256 riskOut) = vault.redeemInKind(shares, alice, alice);
        assertGt(quoteOut, 0);
        assertGt(riskOut, 0);
        assertEq(IERC20(address(vault)).balanceOf(alice), 0);
    }
}
