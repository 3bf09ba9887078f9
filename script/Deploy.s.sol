// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Script, console} from "forge-std/Script.sol";

import {ZkmlArtifacts} from "../test/utils/ZkmlArtifacts.sol";

import {ERC7007Zkml} from "../contracts/ERC7007Zkml.sol";
import {TradePolicy, VaultConfig, VerifiedTradingVault} from "../contracts/VerifiedTradingVault.sol";
import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {ModelConfig} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {PriceFeatures} from "../contracts/libraries/PriceFeatures.sol";
import {TestPriceFeed} from "../contracts/test/market/TestPriceFeed.sol";
import {TestToken} from "../contracts/test/market/TestToken.sol";
import {TestUniswapV2Market} from "../contracts/test/market/TestUniswapV2Market.sol";
import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";

/// @notice Deploys the whole on-chain half: registry, inference book, the examples' generated verifiers behind
///         adapters (registered as models), the EIP-7007 NFT over the pixel-art generator, the verified trading
///         vault over the eth-price model, and a TEST market (two test tokens, a price feed loaded with the
///         example's history around the fixture's prediction, a constant-product pool at the feed price).
///         Writes every address and model id to `DEPLOYMENT_FILE` (default `deployments/local.json`), the file
///         the CLI and dApps read.
/// @dev forge script script/Deploy.s.sol --rpc-url $ETH_RPC_URL --private-key $KEY --broadcast
///      The test market is for local chains and test networks only: anyone can mint its tokens.
contract Deploy is Script, ZkmlArtifacts {
    /// @dev The fixtures the verifiers come from (`make fixtures`).
    string internal constant ETH_PRICE = "test/fixtures/eth-price/";
    string internal constant PIXEL_ART = "test/fixtures/pixel-art/";
    string internal constant FEED_JSON = "examples/eth-price/feed.json";
    string internal constant DEFAULT_OUT = "deployments/local.json";

    /// @dev Gas each model's verifier gets: a single-proof verification costs about 275k.
    uint32 internal constant VERIFY_GAS = 500_000;
    /// @dev The feed holds answers FIRST_ANSWER.. : the window of the eth-price fixture's proof (7988..8000),
    ///      then a few later rounds to act on next.
    uint256 internal constant FIRST_ANSWER = 7988;
    uint256 internal constant FEED_ROUNDS = 24;
    /// @dev Pool depth in WETH, and the USD reserve at a price with 8 decimals: WETH * answer / 10^(18+8-6).
    uint256 internal constant POOL_WETH = 1000e18;
    uint256 internal constant WETH_TO_USD_AT_8_DECIMALS = 1e20;

    /// @notice Everything deployed, as written to the deployment file.
    struct Deployment {
        ZkmlModelRegistry registry;
        ZkmlInferenceBook book;
        uint256 ethPriceModel;
        uint256 pixelArtModel;
        ERC7007Zkml nft;
        VerifiedTradingVault vault;
        TestToken usd;
        TestToken weth;
        TestPriceFeed feed;
        TestUniswapV2Market market;
    }

    /// @notice Deploys with the broadcasting account and writes the deployment file.
    /// @return d The deployed contracts and model ids.
    function run() external returns (Deployment memory d) {
        vm.startBroadcast();
        // The broadcasting account, which owns what is deployed (not the script's own caller).
        (, address deployer,) = vm.readCallers();
        d.registry = new ZkmlModelRegistry();
        d.book = new ZkmlInferenceBook(d.registry);
        d.ethPriceModel = _registerModel(d.registry, ETH_PRICE);
        d.pixelArtModel = _registerModel(d.registry, PIXEL_ART);

        d.nft = new ERC7007Zkml(
            "Zkml Pixel Art",
            "ZPA",
            "8x8 digit art whose every pixel is the proven output of the registered pixel-art generator on the prompt.",
            d.registry,
            d.book,
            d.pixelArtModel
        );

        (d.usd, d.weth, d.feed, d.market) = _deployMarket(deployer);
        d.vault = new VerifiedTradingVault(
            VaultConfig({
                quote: d.usd,
                risk: d.weth,
                registry: d.registry,
                book: d.book,
                modelId: d.ethPriceModel,
                feed: d.feed,
                router: d.market,
                guardian: deployer
            }),
            // examples/eth-price's backtest: tiers 20% / 10%, 12 h cooldown. The 1% bound covers the pool's
            // 0.30% fee and the impact of a trade on a pool this deep; the feed is hourly.
            TradePolicy({
                strongTierBps: 2000,
                tierBps: 1000,
                maxTradeBps: 2000,
                maxSlippageBps: 100,
                cooldown: 12 hours,
                maxRoundAge: 1 hours
            }),
            "Verified ETH/USD vault",
            "vETHUSD",
            deployer
        );
        vm.stopBroadcast();
        _write(d);
    }

    /// @dev Deploys a generated verifier and its adapter from a fixture dir and registers it as a model.
    function _registerModel(ZkmlModelRegistry registry, string memory dir) internal returns (uint256) {
        string memory json = vm.readFile(string.concat(dir, "proof.json"));
        Halo2VerifierAdapter adapter = new Halo2VerifierAdapter(
            _deployGeneratedVerifier(string.concat(dir, "Halo2Verifier.hex")),
            vm.parseJsonUintArray(json, ".instances").length,
            vm.parseJsonBytes(json, ".proof").length
        );
        return registry.registerModel(
            ModelConfig({
                verifier: adapter,
                commitment: vm.parseJsonBytes32(json, ".model_commitment"),
                verifyGasLimit: VERIFY_GAS,
                publicLayout: _publicLayout(json, ".layout")
            })
        );
    }

    function _deployMarket(address deployer)
        internal
        returns (TestToken usd, TestToken weth, TestPriceFeed feed, TestUniswapV2Market market)
    {
        usd = new TestToken("Test USD", "tUSD", 6);
        weth = new TestToken("Test WETH", "tWETH", 18);
        feed = new TestPriceFeed(8, "ETH / USD (examples/eth-price history, SYNTHETIC)", deployer);
        string memory history = vm.readFile(FEED_JSON);
        int256[] memory all = vm.parseJsonIntArray(history, ".answers");
        int256[] memory answers = new int256[](FEED_ROUNDS);
        for (uint256 i = 0; i < FEED_ROUNDS; ++i) {
            answers[i] = all[FIRST_ANSWER + i];
        }
        uint256 interval = vm.parseJsonUint(history, ".interval");
        feed.pushRounds(answers, vm.parseJsonUint(history, ".startedAt") + FIRST_ANSWER * interval, interval);

        market = new TestUniswapV2Market(usd, weth, deployer);
        // The pool at the price the fixture's prediction is made at (the window's last answer).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 price = uint256(answers[PriceFeatures.WINDOW]);
        market.syncReserves(POOL_WETH * price / WETH_TO_USD_AT_8_DECIMALS, POOL_WETH);
    }

    function _write(Deployment memory d) internal {
        string memory o = "deployment";
        vm.serializeUint(o, "chainId", block.chainid);
        vm.serializeAddress(o, "registry", address(d.registry));
        vm.serializeAddress(o, "book", address(d.book));
        vm.serializeUint(o, "ethPriceModelId", d.ethPriceModel);
        vm.serializeUint(o, "pixelArtModelId", d.pixelArtModel);
        vm.serializeAddress(o, "nft", address(d.nft));
        vm.serializeAddress(o, "vault", address(d.vault));
        vm.serializeAddress(o, "usd", address(d.usd));
        vm.serializeAddress(o, "weth", address(d.weth));
        vm.serializeAddress(o, "feed", address(d.feed));
        vm.serializeUint(o, "feedFirstAnswer", FIRST_ANSWER);
        // A decimal string: round ids exceed the 2^53 that JSON numbers keep exactly in JavaScript.
        vm.serializeString(o, "feedFirstRound", vm.toString(uint256(d.feed.toRoundId(1, 1))));
        string memory json = vm.serializeAddress(o, "market", address(d.market));
        string memory out = vm.envOr("DEPLOYMENT_FILE", string(DEFAULT_OUT));
        vm.createDir(_parentDir(out), true);
        vm.writeJson(json, out);
        console.log("deployment written to", out);
    }

    /// @dev The directory part of a path ("." when it has none).
    function _parentDir(string memory path) internal pure returns (string memory) {
        bytes memory b = bytes(path);
        for (uint256 i = b.length; i > 0; --i) {
            if (b[i - 1] == "/") {
                bytes memory dir = new bytes(i - 1);
                for (uint256 j = 0; j + 1 < i; ++j) {
                    dir[j] = b[j];
                }
                return string(dir);
            }
        }
        return ".";
    }
}
