// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test, console2} from "forge-std/Test.sol";

import {FixedPointMath} from "../contracts/libraries/FixedPointMath.sol";
import {PixelArtCodec} from "../contracts/libraries/PixelArtCodec.sol";
import {PriceFeatures} from "../contracts/libraries/PriceFeatures.sol";
import {ZkmlInstances} from "../contracts/libraries/ZkmlInstances.sol";

/// @notice The Solidity encodings of docs/encodings.md against the fixtures the Python and Rust versions read
///         (test/fixtures/encodings/), and against a real pixel-art proof and the SVG Rust rendered for it. One
///         contract per library (a single one would exceed the EVM's code size limit); every library call that
///         should revert goes through an external wrapper so `expectRevert` sees it.
abstract contract EncodingsTestBase is Test {
    string internal constant PRICE_FIXTURE = "test/fixtures/encodings/eth-price.json";
    string internal constant PIXEL_FIXTURE = "test/fixtures/encodings/pixel-art.json";
    string internal constant PROOF_DIR = "test/fixtures/pixel-art/";
    /// @dev The examples compile with `--scale 12`.
    uint8 internal constant SCALE = 12;
    /// @dev Fewest cases a fixture must hold, so a truncated file cannot pass by having nothing to check.
    uint256 internal constant MIN_CASES = 5;

    function _scale(string memory json) internal pure returns (uint8) {
        uint256 scale = vm.parseJsonUint(json, ".scale");
        assertEq(scale, SCALE);
        return SCALE;
    }

    function _widen(uint8[] memory values) internal pure returns (uint256[] memory wide) {
        wide = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            wide[i] = values[i];
        }
    }

    /// @dev Length of the JSON array at `key`.
    function _count(string memory json, string memory key) internal view returns (uint256 count) {
        while (vm.keyExistsJson(json, string.concat(key, "[", vm.toString(count), "]"))) {
            ++count;
        }
    }
}

contract FixedPointMathTest is EncodingsTestBase {
    /// @dev |a| and b below 2^253 keep the reference formula's `2|a| + b` and `2b` inside int256/uint256.
    uint256 internal constant REFERENCE_BITS = 253;

    function rdiv(int256 a, uint256 b) external pure returns (int256) {
        return FixedPointMath.rdiv(a, b);
    }

    function test_Rdiv_KnownValues() public pure {
        assertEq(FixedPointMath.rdiv(5, 2), 3);
        assertEq(FixedPointMath.rdiv(-5, 2), -3);
        assertEq(FixedPointMath.rdiv(4, 3), 1);
        assertEq(FixedPointMath.rdiv(-4, 3), -1);
        assertEq(FixedPointMath.rdiv(7, 2), 4);
        assertEq(FixedPointMath.rdiv(0, 9), 0);
        assertEq(FixedPointMath.rdiv(-1, 3), 0);
        assertEq(FixedPointMath.rdiv(-1, 2), -1);
    }

    function test_Rdiv_Extremes() public pure {
        assertEq(FixedPointMath.rdiv(type(int256).min, 1), type(int256).min);
        assertEq(FixedPointMath.rdiv(type(int256).max, 1), type(int256).max);
        assertEq(FixedPointMath.rdiv(type(int256).min, 2), type(int256).min / 2);
        assertEq(FixedPointMath.rdiv(type(int256).max, 2), type(int256).max / 2 + 1);
        // Divisors of 2^255 and more, where doubling the remainder would overflow uint256.
        assertEq(FixedPointMath.rdiv(type(int256).min, uint256(1) << 255), -1);
        assertEq(FixedPointMath.rdiv(type(int256).max, uint256(1) << 255), 1);
        assertEq(FixedPointMath.rdiv(int256(1) << 254, uint256(1) << 255), 1); // exactly a half
        assertEq(FixedPointMath.rdiv(-(int256(1) << 254), uint256(1) << 255), -1); // exactly minus a half
        assertEq(FixedPointMath.rdiv((int256(1) << 254) - 1, uint256(1) << 255), 0); // just below a half
        assertEq(FixedPointMath.rdiv(type(int256).max, type(uint256).max), 0); // just below a half
        assertEq(FixedPointMath.rdiv(type(int256).min, type(uint256).max), -1); // just above a half
    }

    function test_Rdiv_RefusesZeroDivisor() public {
        vm.expectRevert(FixedPointMath.FixedPointMathZeroDivisor.selector);
        this.rdiv(1, 0);
    }

    /// @dev The spec's formula `sign(a) * floor((2|a| + b) / 2b)`, evaluated literally where it cannot overflow.
    function testFuzz_Rdiv_MatchesReferenceFormula(int256 a, uint256 b) public pure {
        int256 limit = int256(1) << REFERENCE_BITS;
        a = bound(a, -limit + 1, limit - 1);
        b = bound(b, 1, (uint256(1) << REFERENCE_BITS) - 1);
        // Below 2^253 in magnitude, every cast here is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 magnitude = a < 0 ? uint256(-a) : uint256(a);
        uint256 q = (2 * magnitude + b) / (2 * b);
        // forge-lint: disable-next-line(unsafe-typecast)
        assertEq(FixedPointMath.rdiv(a, b), a < 0 ? -int256(q) : int256(q));
    }
}

contract PriceFeaturesTest is EncodingsTestBase {
    /// @dev x_i of a +1% return at scale 12: 1 (percent) * 2^12.
    int256 internal constant ONE_PERCENT_AT_SCALE_12 = 4096;
    /// @dev Magnitude bits of a signed 128-bit integer.
    uint256 internal constant SIGNED_128_MAGNITUDE_BITS = 127;
    /// @dev A plausible ETH/USD answer: $3,000 with 8 decimals.
    int256 internal constant PRICE = 300_000_000_000;
    /// @dev About 1.5x what features() measures (test_Gas), so a costlier implementation fails the test.
    uint256 internal constant FEATURES_GAS_BUDGET = 30_000;
    /// @dev A real window of the example's feed ("feed.json answers 0..12"), for measuring gas.
    string internal constant GAS_FEED_ANSWERS = ".cases[9].answers";

    function features(int256[] memory answers, uint8 scale) external pure returns (int256[] memory) {
        return PriceFeatures.features(answers, scale);
    }

    /// @dev The library writes its derived constants as literals; these are the relations they stand for.
    function test_Constants_AreConsistent() public pure {
        assertEq(PriceFeatures.ANSWERS, PriceFeatures.WINDOW + 1);
        assertEq(PriceFeatures.MAX_ANSWER, int256(2) ** PriceFeatures.MAX_ANSWER_BITS);
        // The largest S with 1 + 96 + bits(M) + S <= 127 (docs/encodings.md: products within 128 bits).
        uint256 multiplierBits = 0;
        while (int256(1) << multiplierBits <= PriceFeatures.MULTIPLIER) {
            ++multiplierBits;
        }
        assertEq(
            PriceFeatures.MAX_SCALE, SIGNED_128_MAGNITUDE_BITS - 1 - PriceFeatures.MAX_ANSWER_BITS - multiplierBits
        );
    }

    function test_PriceFeatures_MatchFixtureCases() public view {
        string memory json = vm.readFile(PRICE_FIXTURE);
        assertEq(vm.parseJsonUint(json, ".window"), PriceFeatures.WINDOW);
        assertEq(vm.parseJsonInt(json, ".multiplier"), PriceFeatures.MULTIPLIER);
        uint8 scale = _scale(json);
        uint256 count = _count(json, ".cases");
        assertGe(count, MIN_CASES);
        for (uint256 c = 0; c < count; ++c) {
            string memory path = string.concat(".cases[", vm.toString(c), "]");
            string memory name = vm.parseJsonString(json, string.concat(path, ".name"));
            (int256[] memory answers, uint256 unrepresentable) = _answers(json, string.concat(path, ".answers"));
            assertEq(unrepresentable, type(uint256).max, name);
            assertEq(
                PriceFeatures.features(answers, scale), vm.parseJsonIntArray(json, string.concat(path, ".inputs")), name
            );
        }
    }

    function test_PriceFeatures_FixtureErrors() public {
        string memory json = vm.readFile(PRICE_FIXTURE);
        uint8 scale = _scale(json);
        uint256 count = _count(json, ".errors");
        assertGe(count, MIN_CASES);
        for (uint256 c = 0; c < count; ++c) {
            string memory path = string.concat(".errors[", vm.toString(c), "]");
            uint256 index = vm.parseJsonUint(json, string.concat(path, ".index"));
            (int256[] memory answers, uint256 unrepresentable) = _answers(json, string.concat(path, ".answers"));
            if (unrepresentable != type(uint256).max) {
                // An answer of 2^255 or more cannot be an int256 (a Chainlink answer's type), so no caller can
                // pass it: it is the fixture's offending answer, and its nearest int256 is refused there too.
                assertEq(unrepresentable, index, vm.parseJsonString(json, string.concat(path, ".name")));
                answers[index] = type(int256).max;
            }
            vm.expectRevert(
                abi.encodeWithSelector(PriceFeatures.PriceFeaturesBadAnswer.selector, index, answers[index])
            );
            this.features(answers, scale);
        }
    }

    function test_PriceFeatures_RefusesWrongLength() public {
        for (uint256 given = 0; given <= PriceFeatures.ANSWERS + 1; ++given) {
            if (given == PriceFeatures.ANSWERS) continue;
            int256[] memory answers = _constantFeed(given, PRICE);
            vm.expectRevert(
                abi.encodeWithSelector(PriceFeatures.PriceFeaturesWrongLength.selector, given, PriceFeatures.ANSWERS)
            );
            this.features(answers, SCALE);
        }
    }

    function test_PriceFeatures_RefusesScaleAboveMax() public {
        int256[] memory answers = _constantFeed(PriceFeatures.ANSWERS, PriceFeatures.MAX_ANSWER - 1);
        answers[0] = 1;
        // The widest return at the largest scale still computes: 1 -> 2^96 - 1 at 2^23.
        assertEq(
            this.features(answers, PriceFeatures.MAX_SCALE)[0],
            (PriceFeatures.MAX_ANSWER - 2) * PriceFeatures.MULTIPLIER << PriceFeatures.MAX_SCALE
        );
        uint8 tooLarge = PriceFeatures.MAX_SCALE + 1;
        vm.expectRevert(abi.encodeWithSelector(PriceFeatures.PriceFeaturesBadScale.selector, tooLarge));
        this.features(answers, tooLarge);
    }

    function testFuzz_PriceFeatures_ConstantFeedIsAllZeros(int256 price, uint8 scale) public pure {
        price = bound(price, 1, PriceFeatures.MAX_ANSWER - 1);
        scale = uint8(bound(scale, 0, PriceFeatures.MAX_SCALE));
        int256[] memory x = PriceFeatures.features(_constantFeed(PriceFeatures.ANSWERS, price), scale);
        assertEq(x.length, PriceFeatures.WINDOW);
        for (uint256 i = 0; i < x.length; ++i) {
            assertEq(x[i], 0);
        }
    }

    /// @dev A feed at 100p that moves to 101p at answer `moveAt`: return `moveAt` is exactly +1%, the rest 0.
    function testFuzz_PriceFeatures_OnePercentUpIs4096(int256 p, uint256 moveAt) public pure {
        p = bound(p, 1, (PriceFeatures.MAX_ANSWER - 1) / (PriceFeatures.MULTIPLIER + 1));
        moveAt = bound(moveAt, 1, PriceFeatures.WINDOW);
        int256[] memory answers = _constantFeed(PriceFeatures.ANSWERS, p * PriceFeatures.MULTIPLIER);
        for (uint256 i = moveAt; i < answers.length; ++i) {
            answers[i] = p * (PriceFeatures.MULTIPLIER + 1);
        }
        int256[] memory x = PriceFeatures.features(answers, SCALE);
        for (uint256 i = 0; i < x.length; ++i) {
            assertEq(x[i], i + 1 == moveAt ? ONE_PERCENT_AT_SCALE_12 : int256(0));
        }
    }

    /// @dev Gas of features() in a fresh call frame (as a consumer contract runs it), on a real window of the
    ///      example's feed.
    function test_Gas() public view {
        (int256[] memory answers,) = _answers(vm.readFile(PRICE_FIXTURE), GAS_FEED_ANSWERS);
        uint256 used = this.gasOfFeatures(answers);
        console2.log("features() gas", used);
        assertLt(used, FEATURES_GAS_BUDGET);
    }

    function gasOfFeatures(int256[] memory answers) external view returns (uint256) {
        uint256 before = gasleft();
        PriceFeatures.features(answers, SCALE);
        return before - gasleft();
    }

    /// @dev The decimal answers at `key`; the index of the first one that does not fit int256 (left 0 in the
    ///      array), or type(uint256).max when they all fit.
    function _answers(string memory json, string memory key)
        internal
        pure
        returns (int256[] memory answers, uint256 unrepresentable)
    {
        string[] memory decimals = vm.parseJsonStringArray(json, key);
        answers = new int256[](decimals.length);
        unrepresentable = type(uint256).max;
        for (uint256 i = 0; i < decimals.length; ++i) {
            if (bytes(decimals[i])[0] == "-") {
                answers[i] = vm.parseInt(decimals[i]);
            } else {
                uint256 value = vm.parseUint(decimals[i]);
                if (value <= uint256(type(int256).max)) {
                    // forge-lint: disable-next-line(unsafe-typecast)
                    answers[i] = int256(value);
                } else if (unrepresentable == type(uint256).max) {
                    unrepresentable = i;
                }
            }
        }
    }

    function _constantFeed(uint256 length, int256 price) internal pure returns (int256[] memory answers) {
        answers = new int256[](length);
        for (uint256 i = 0; i < length; ++i) {
            answers[i] = price;
        }
    }
}

contract PixelArtCodecTest is EncodingsTestBase {
    /// @dev The largest scale at which the pixel fuzz test's reference formula cannot overflow.
    uint256 internal constant MAX_REFERENCE_PIXEL_SCALE = 254;
    /// @dev Full ink, as the test's reference formula clamps to it.
    uint256 internal constant MAX_BRIGHTNESS = 255;

    function inputs(bytes memory prompt, uint8 scale) external pure returns (int256[] memory) {
        return PixelArtCodec.inputs(prompt, scale);
    }

    function outputs(bytes memory aigcData) external pure returns (int256[] memory) {
        return PixelArtCodec.outputs(aigcData);
    }

    function encodeAigcData(int256[] memory values) external pure returns (bytes memory) {
        return PixelArtCodec.encodeAigcData(values);
    }

    function pixels(int256[] memory values, uint8 scale) external pure returns (uint8[] memory) {
        return PixelArtCodec.pixels(values, scale);
    }

    /// @dev The library writes its derived constants as literals; these are the relations they stand for.
    function test_Constants_AreConsistent() public pure {
        assertEq(PixelArtCodec.PROMPT_LENGTH, 1 + PixelArtCodec.LATENTS);
        assertEq(PixelArtCodec.INPUTS, PixelArtCodec.CLASSES + PixelArtCodec.LATENTS);
        assertEq(PixelArtCodec.OUTPUTS, PixelArtCodec.WIDTH * PixelArtCodec.HEIGHT);
        assertEq(PixelArtCodec.AIGC_DATA_LENGTH, PixelArtCodec.OUTPUTS * PixelArtCodec.AIGC_WORD_BYTES);
    }

    function test_PixelArt_MatchFixtureCases() public view {
        string memory json = vm.readFile(PIXEL_FIXTURE);
        uint8 scale = _scale(json);
        uint256 count = _count(json, ".cases");
        assertGe(count, MIN_CASES);
        for (uint256 c = 0; c < count; ++c) {
            _checkPixelCase(json, string.concat(".cases[", vm.toString(c), "]"), scale);
        }
    }

    /// @dev One case of the pixel-art fixture: inputs, outputs both ways, pixels.
    function _checkPixelCase(string memory json, string memory path, uint8 scale) internal pure {
        string memory name = vm.parseJsonString(json, string.concat(path, ".name"));
        bytes memory aigcData = vm.parseJsonBytes(json, string.concat(path, ".aigcData"));
        int256[] memory expectedOutputs = vm.parseJsonIntArray(json, string.concat(path, ".outputs"));
        assertEq(
            PixelArtCodec.inputs(vm.parseJsonBytes(json, string.concat(path, ".prompt")), scale),
            vm.parseJsonIntArray(json, string.concat(path, ".inputs")),
            name
        );
        assertEq(PixelArtCodec.outputs(aigcData), expectedOutputs, name);
        assertEq(PixelArtCodec.encodeAigcData(expectedOutputs), aigcData, name);
        assertEq(
            _widen(PixelArtCodec.pixels(expectedOutputs, scale)),
            vm.parseJsonUintArray(json, string.concat(path, ".pixels")),
            name
        );
    }

    function test_PixelArt_FixtureErrors() public {
        string memory json = vm.readFile(PIXEL_FIXTURE);
        uint8 scale = _scale(json);
        uint256 count = _count(json, ".errors");
        assertGe(count, MIN_CASES);
        for (uint256 c = 0; c < count; ++c) {
            string memory path = string.concat(".errors[", vm.toString(c), "]");
            bytes memory prompt = vm.parseJsonBytes(json, string.concat(path, ".prompt"));
            uint256 byteIndex = vm.parseJsonUint(json, string.concat(path, ".byte"));
            if (prompt.length == PixelArtCodec.PROMPT_LENGTH) {
                // The only byte a prompt of the right length can get wrong is the class.
                assertEq(byteIndex, 0);
                vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadClass.selector, uint8(prompt[0])));
            } else {
                vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadPromptLength.selector, byteIndex));
            }
            this.inputs(prompt, scale);
        }
    }

    function testFuzz_PixelArt_RefusesAnyClassAbove9(uint8 class, bytes4 latents) public {
        class = uint8(bound(class, PixelArtCodec.CLASSES, type(uint8).max));
        vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadClass.selector, class));
        this.inputs(abi.encodePacked(class, latents), SCALE);
    }

    function testFuzz_PixelArt_RefusesAnyOtherPromptLength(bytes memory prompt) public {
        vm.assume(prompt.length != PixelArtCodec.PROMPT_LENGTH);
        vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadPromptLength.selector, prompt.length));
        this.inputs(prompt, SCALE);
    }

    function test_PixelArt_InputsRefuseScaleOutOfRange() public {
        bytes memory prompt = hex"0310f00000";
        uint8 tooSmall = PixelArtCodec.LATENT_SHIFT - 1;
        vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadScale.selector, tooSmall));
        this.inputs(prompt, tooSmall);
        uint8 tooLarge = PixelArtCodec.MAX_SCALE + 1;
        vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadScale.selector, tooLarge));
        this.inputs(prompt, tooLarge);
        // At the bounds a latent of 16 is exactly one unit (1/16 = 16 * 2^(S-4) / 2^S).
        assertEq(this.inputs(prompt, PixelArtCodec.LATENT_SHIFT)[PixelArtCodec.CLASSES], 16);
        assertEq(
            this.inputs(prompt, PixelArtCodec.MAX_SCALE)[PixelArtCodec.CLASSES], int256(1) << PixelArtCodec.MAX_SCALE
        );
    }

    function test_PixelArt_RefusesWrongAigcDataLength() public {
        uint256[3] memory lengths = [uint256(0), PixelArtCodec.AIGC_DATA_LENGTH - 1, PixelArtCodec.AIGC_DATA_LENGTH + 1];
        for (uint256 i = 0; i < lengths.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadAigcDataLength.selector, lengths[i]));
            this.outputs(new bytes(lengths[i]));
        }
    }

    function test_PixelArt_RefusesWrongOutputCount() public {
        uint256[3] memory counts = [uint256(0), PixelArtCodec.OUTPUTS - 1, PixelArtCodec.OUTPUTS + 1];
        for (uint256 i = 0; i < counts.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadOutputCount.selector, counts[i]));
            this.encodeAigcData(new int256[](counts[i]));
            vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadOutputCount.selector, counts[i]));
            this.pixels(new int256[](counts[i]), SCALE);
        }
    }

    function testFuzz_PixelArt_RefusesOutputsBeyondInt32(int256 value, uint256 index) public {
        vm.assume(value < type(int32).min || value > type(int32).max);
        index = bound(index, 0, PixelArtCodec.OUTPUTS - 1);
        int256[] memory values = new int256[](PixelArtCodec.OUTPUTS);
        values[index] = value;
        vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadOutput.selector, index, value));
        this.encodeAigcData(values);
        vm.expectRevert(abi.encodeWithSelector(PixelArtCodec.PixelArtCodecBadOutput.selector, index, value));
        this.pixels(values, SCALE);
    }

    function testFuzz_AigcData_RoundTripFromOutputs(int32[64] memory words) public pure {
        int256[] memory values = new int256[](PixelArtCodec.OUTPUTS);
        for (uint256 k = 0; k < values.length; ++k) {
            values[k] = words[k];
        }
        bytes memory aigcData = PixelArtCodec.encodeAigcData(values);
        assertEq(aigcData.length, PixelArtCodec.AIGC_DATA_LENGTH);
        assertEq(PixelArtCodec.outputs(aigcData), values);
        // Big-endian two's complement, word by word: packing the int32s is the same encoding.
        bytes memory packed;
        for (uint256 k = 0; k < values.length; ++k) {
            packed = bytes.concat(packed, abi.encodePacked(words[k]));
        }
        assertEq(aigcData, packed);
    }

    function testFuzz_AigcData_RoundTripFromBytes(bytes32[8] memory chunks) public pure {
        bytes memory aigcData = abi.encodePacked(chunks);
        assertEq(PixelArtCodec.encodeAigcData(PixelArtCodec.outputs(aigcData)), aigcData);
    }

    /// @dev Every pixel against the spec's `clamp(rdiv(q * 255, 2^S), 0, 255)`, rdiv written out as its formula
    ///      (`2^S` up to 2^254 keeps `2 * 2^S` inside uint256).
    function testFuzz_PixelArt_PixelsClampTheRoundedBrightness(int32[64] memory words, uint8 scale) public pure {
        scale = uint8(bound(scale, 0, MAX_REFERENCE_PIXEL_SCALE));
        int256[] memory values = new int256[](PixelArtCodec.OUTPUTS);
        for (uint256 k = 0; k < values.length; ++k) {
            values[k] = words[k];
        }
        uint8[] memory got = PixelArtCodec.pixels(values, scale);
        uint256 one = uint256(1) << scale;
        for (uint256 k = 0; k < values.length; ++k) {
            int256 scaled = values[k] * PixelArtCodec.MAX_PIXEL;
            // |q * 255| < 2^39: the casts are exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            uint256 rounded = (2 * uint256(scaled < 0 ? -scaled : scaled) + one) / (2 * one);
            uint256 expected = scaled < 0 ? 0 : rounded > MAX_BRIGHTNESS ? MAX_BRIGHTNESS : rounded;
            assertEq(got[k], expected);
        }
    }

    /// @dev The buffered SVG against the plain concatenation it replaces.
    function testFuzz_PixelArt_SvgMatchesNaiveConcatenation(bytes32[8] memory chunks, uint8 scale) public pure {
        bytes memory aigcData = abi.encodePacked(chunks);
        uint8[] memory v = PixelArtCodec.pixels(PixelArtCodec.outputs(aigcData), scale);
        string memory expected =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 8 8\" width=\"256\" height=\"256\" shape-rendering=\"crispEdges\">";
        for (uint256 k = 0; k < v.length; ++k) {
            expected = string.concat(expected, _referenceRect(k, v[k]));
        }
        assertEq(PixelArtCodec.svg(aigcData, scale), string.concat(expected, "</svg>"));
    }

    /// @dev Pixel `k`'s square, written out as Rust's format string does.
    function _referenceRect(uint256 k, uint8 brightness) internal pure returns (string memory) {
        string memory v = vm.toString(uint256(brightness));
        string memory xy = string.concat(
            "<rect x=\"", vm.toString(k % PixelArtCodec.WIDTH), "\" y=\"", vm.toString(k / PixelArtCodec.WIDTH)
        );
        return string.concat(xy, "\" width=\"1\" height=\"1\" fill=\"rgb(", v, ",", v, ",", v, ")\"/>");
    }
}

/// @notice The codec on the real pixel-art proof: its public sections, the SVG Rust rendered for it, the gas.
contract PixelArtRealProofTest is EncodingsTestBase {
    /// @dev Gas budgets, about 1.5x what the encodings measure (test_Gas), so a costlier implementation fails.
    uint256 internal constant INPUTS_GAS_BUDGET = 5000;
    uint256 internal constant OUTPUTS_GAS_BUDGET = 16_000;
    uint256 internal constant SVG_GAS_BUDGET = 420_000;

    function test_RealProof_SvgIsRustsByteForByte() public view {
        string memory render = vm.readFile(string.concat(PROOF_DIR, "render.json"));
        bytes memory aigcData = vm.parseJsonBytes(render, ".aigcData");
        assertEq(vm.parseJsonUint(render, ".width"), PixelArtCodec.WIDTH);
        assertEq(vm.parseJsonUint(render, ".height"), PixelArtCodec.HEIGHT);
        uint8 scale = uint8(vm.parseJsonUint(render, ".scale"));
        assertEq(
            _widen(PixelArtCodec.pixels(PixelArtCodec.outputs(aigcData), scale)),
            vm.parseJsonUintArray(render, ".pixels")
        );
        string memory expected = vm.readFile(string.concat(PROOF_DIR, vm.parseJsonString(render, ".svg")));
        string memory image = PixelArtCodec.svg(aigcData, scale);
        assertEq(image, expected);
        assertEq(keccak256(bytes(image)), keccak256(bytes(expected)));
    }

    /// @dev The prompt's inputs and the aigcData's outputs are exactly the proof's public sections.
    function test_RealProof_InstancesAreThePromptAndTheAigcData() public view {
        string memory artifact = vm.readFile(string.concat(PROOF_DIR, "proof.json"));
        uint256[] memory instances = vm.parseJsonUintArray(artifact, ".instances");
        bytes memory prompt = vm.parseJsonBytes(vm.readFile(string.concat(PROOF_DIR, "input.json")), ".source.prompt");
        bytes memory aigcData = vm.parseJsonBytes(vm.readFile(string.concat(PROOF_DIR, "render.json")), ".aigcData");
        uint8 scale = uint8(vm.parseJsonUint(artifact, ".layout.sections[0].scales[0]"));
        assertEq(PixelArtCodec.inputs(prompt, scale), _section(artifact, 0, instances));
        int256[] memory proven = _section(artifact, 1, instances);
        assertEq(PixelArtCodec.outputs(aigcData), proven);
        assertEq(PixelArtCodec.encodeAigcData(proven), aigcData);
    }

    /// @dev Gas of each encoding in a fresh call frame (as a consumer contract runs it), on the real proof's
    ///      prompt and aigcData.
    function test_Gas() public view {
        bytes memory prompt = vm.parseJsonBytes(vm.readFile(string.concat(PROOF_DIR, "input.json")), ".source.prompt");
        bytes memory aigcData = vm.parseJsonBytes(vm.readFile(string.concat(PROOF_DIR, "render.json")), ".aigcData");
        uint256 used = this.gasOfInputs(prompt);
        console2.log("inputs() gas", used);
        assertLt(used, INPUTS_GAS_BUDGET);
        used = this.gasOfOutputs(aigcData);
        console2.log("outputs() gas", used);
        assertLt(used, OUTPUTS_GAS_BUDGET);
        used = this.gasOfSvg(aigcData);
        console2.log("svg() gas", used);
        assertLt(used, SVG_GAS_BUDGET);
    }

    function gasOfInputs(bytes memory prompt) external view returns (uint256) {
        uint256 before = gasleft();
        PixelArtCodec.inputs(prompt, SCALE);
        return before - gasleft();
    }

    function gasOfOutputs(bytes memory aigcData) external view returns (uint256) {
        uint256 before = gasleft();
        PixelArtCodec.outputs(aigcData);
        return before - gasleft();
    }

    function gasOfSvg(bytes memory aigcData) external view returns (uint256) {
        uint256 before = gasleft();
        PixelArtCodec.svg(aigcData, SCALE);
        return before - gasleft();
    }

    /// @dev Section `index` (0 inputs, 1 outputs) of a proof artifact's public layout.
    function _section(string memory artifact, uint256 index, uint256[] memory instances)
        internal
        pure
        returns (int256[] memory)
    {
        string memory section = string.concat(".layout.sections[", vm.toString(index), "]");
        return ZkmlInstances.unpack(
            instances,
            vm.parseJsonUint(artifact, string.concat(section, ".offset")),
            vm.parseJsonUint(artifact, string.concat(section, ".values")),
            vm.parseJsonUint(artifact, string.concat(section, ".width"))
        );
    }
}
