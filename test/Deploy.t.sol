// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {Deploy} from "../script/Deploy.s.sol";
import {InferenceValues} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {PriceFeatures} from "../contracts/libraries/PriceFeatures.sol";

/// @notice Runs script/Deploy.s.sol in process and uses what it deployed with the real fixtures: the deployment
///         file names every contract, the NFT verifies the pixel-art proof, the vault acts on the eth-price
///         proof at the round the feed was loaded for. (`tools/deploy-check.sh` runs the same script against
///         a real anvil.)
contract DeployTest is Test {
    string internal constant OUT = "deployments/forge-test.json";

    function test_DeploysEverythingAndTheFixturesWorkOnIt() public {
        vm.setEnv("DEPLOYMENT_FILE", OUT);
        Deploy.Deployment memory d = new Deploy().run();

        string memory json = vm.readFile(OUT);
        assertEq(vm.parseJsonAddress(json, ".registry"), address(d.registry));
        assertEq(vm.parseJsonAddress(json, ".vault"), address(d.vault));
        assertEq(vm.parseJsonAddress(json, ".nft"), address(d.nft));
        assertEq(vm.parseJsonUint(json, ".ethPriceModelId"), d.ethPriceModel);
        assertEq(vm.parseJsonUint(json, ".pixelArtModelId"), d.pixelArtModel);
        assertEq(d.registry.modelCount(), 2);

        string memory pixel = vm.readFile("test/fixtures/pixel-art/proof.json");
        bytes memory prompt = vm.parseJsonBytes(vm.readFile("test/fixtures/pixel-art/input.json"), ".source.prompt");
        bytes memory aigcData = vm.parseJsonBytes(vm.readFile("test/fixtures/pixel-art/render.json"), ".aigcData");
        assertTrue(d.nft.verify(prompt, aigcData, vm.parseJsonBytes(pixel, ".proof")));

        // The fixture's window ends at answer 8000: round 13 of the feed, which starts at answer 7988.
        string memory eth = vm.readFile("test/fixtures/eth-price/proof.json");
        uint80 round = uint80(vm.parseJsonUint(json, ".feedFirstRound") + PriceFeatures.WINDOW);
        (,,, uint256 updatedAt,) = d.feed.getRoundData(round);
        vm.warp(updatedAt + 1 minutes);
        d.usd.mint(address(this), 1000e6);
        d.usd.approve(address(d.vault), 1000e6);
        d.vault.deposit(1000e6, address(this));
        assertEq(
            d.vault.act(round, vm.parseJsonIntArray(eth, ".outputs_quantized"), vm.parseJsonBytes(eth, ".proof")),
            d.vault.BUY()
        );
    }
}
