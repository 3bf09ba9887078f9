// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {FixedPointMath} from "./FixedPointMath.sol";

/// @title PixelArtCodec
/// @notice The encodings of the examples/pixel-art generator (docs/encodings.md, "Prompt -> model inputs, aigcData
///         -> outputs -> pixels"): an EIP-7007 prompt to the model's inputs, `aigcData` to and from its outputs,
///         the outputs to pixel brightnesses and the SVG a `tokenURI` returns. The fixtures under test/fixtures
///         pin every value bit for bit to the Python and Rust (`zkml_model::encode`) versions.
library PixelArtCodec {
    // Constants derived from others are written as literals (their relation in the comment, pinned by the
    // tests): the legacy code generator recomputes a constant defined from other constants, with checked
    // arithmetic, at every use, which in the loops below is every iteration.

    /// @notice Prompt length in bytes: the class, then the latents (1 + LATENTS).
    uint256 internal constant PROMPT_LENGTH = 5;
    /// @notice Digit classes (0..9).
    uint256 internal constant CLASSES = 10;
    /// @notice Signed latent bytes in a prompt.
    uint256 internal constant LATENTS = 4;
    /// @notice Model inputs: the one-hot class, then the latents (CLASSES + LATENTS).
    uint256 internal constant INPUTS = 14;
    /// @notice Image width in pixels.
    uint256 internal constant WIDTH = 8;
    /// @notice Image height in pixels.
    uint256 internal constant HEIGHT = 8;
    /// @notice Model outputs: the image's pixels, row-major (WIDTH * HEIGHT).
    uint256 internal constant OUTPUTS = 64;
    /// @notice Bytes per output in `aigcData` (a big-endian two's-complement int32).
    uint256 internal constant AIGC_WORD_BYTES = 4;
    /// @notice `aigcData` length: every output's word (OUTPUTS * AIGC_WORD_BYTES).
    uint256 internal constant AIGC_DATA_LENGTH = 256;
    /// @notice A latent byte `z` is the real input `z / 2^LATENT_SHIFT`, so it quantizes to `z * 2^(S - 4)`.
    uint8 internal constant LATENT_SHIFT = 4;
    /// @notice The largest input scale exponent: the Rust encoder's bound, so the contract refuses the scales
    ///         no prover produces inputs at (and `2^S` stays far inside int256).
    uint8 internal constant MAX_SCALE = 40;
    /// @notice Brightness of full ink (white); 0 is black.
    int256 internal constant MAX_PIXEL = 255;
    /// @notice Side of a pixel in the SVG's rendered size.
    uint256 internal constant SVG_PIXEL_SIZE = 32;

    /// @dev Index of the class byte in a prompt.
    uint256 private constant CLASS_BYTE = 0;
    /// @dev Index of the first latent byte in a prompt: the latents follow the class.
    uint256 private constant FIRST_LATENT_BYTE = 1;
    /// @dev Bits an `aigcData` word is shifted down by after a 32-byte load, dropping the 28 bytes after it
    ///      (256 - 8 * AIGC_WORD_BYTES).
    uint256 private constant WORD_SHIFT = 224;
    /// @dev Offset of the bytes of a `bytes` value in memory, past its length word.
    uint256 private constant BYTES_DATA_OFFSET = 32;

    /// @dev The SVG around and between the numbers, exactly as Rust's `zkml_model::encode::svg` writes it.
    string private constant SVG_OPEN = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ";
    string private constant SVG_WIDTH = "\" width=\"";
    string private constant SVG_HEIGHT = "\" height=\"";
    string private constant SVG_OPEN_END = "\" shape-rendering=\"crispEdges\">";
    string private constant RECT_X = "<rect x=\"";
    string private constant RECT_Y = "\" y=\"";
    string private constant RECT_FILL = "\" width=\"1\" height=\"1\" fill=\"rgb(";
    string private constant RECT_END = ")\"/>";
    string private constant SVG_CLOSE = "</svg>";

    /// @notice A prompt of another length than `PROMPT_LENGTH` (the index of its first missing or extra byte).
    error PixelArtCodecBadPromptLength(uint256 length);
    /// @notice A prompt whose class byte (byte 0) is above 9.
    error PixelArtCodecBadClass(uint8 class);
    /// @notice An input scale exponent below `LATENT_SHIFT` or above `MAX_SCALE`.
    error PixelArtCodecBadScale(uint8 scale);
    /// @notice `aigcData` of another length than `AIGC_DATA_LENGTH`.
    error PixelArtCodecBadAigcDataLength(uint256 length);
    /// @notice Another number of outputs than `OUTPUTS`.
    error PixelArtCodecBadOutputCount(uint256 count);
    /// @notice Output `index` does not fit a signed 32-bit `aigcData` word.
    error PixelArtCodecBadOutput(uint256 index, int256 value);

    /// @notice Whether `prompt` is a prompt of the generator: `PROMPT_LENGTH` bytes and a class below `CLASSES`
    ///         (every latent byte is valid), so `inputs` accepts it.
    /// @param prompt The candidate prompt.
    /// @return valid True when `inputs` would decode it.
    function isPrompt(bytes memory prompt) internal pure returns (bool valid) {
        return prompt.length == PROMPT_LENGTH && uint8(prompt[CLASS_BYTE]) < CLASSES;
    }

    /// @notice The model's quantized inputs for an EIP-7007 prompt: the one-hot class at `2^S`, then every
    ///         latent `z_j` as `z_j * 2^(S - 4)`.
    /// @param prompt Exactly `PROMPT_LENGTH` bytes: the class (0..9), then four signed latent bytes.
    /// @param scale The compiled model's input scale exponent `S` (12 for the example), `LATENT_SHIFT..MAX_SCALE`.
    /// @return values The `INPUTS` quantized inputs, in the model's order.
    function inputs(bytes memory prompt, uint8 scale) internal pure returns (int256[] memory values) {
        if (prompt.length != PROMPT_LENGTH) revert PixelArtCodecBadPromptLength(prompt.length);
        uint8 class = uint8(prompt[CLASS_BYTE]);
        if (class >= CLASSES) revert PixelArtCodecBadClass(class);
        if (scale < LATENT_SHIFT || scale > MAX_SCALE) revert PixelArtCodecBadScale(scale);
        values = new int256[](INPUTS);
        values[class] = int256(uint256(1) << scale);
        int256 latentUnit = int256(uint256(1) << (scale - LATENT_SHIFT));
        for (uint256 j = 0; j < LATENTS; ++j) {
            // The byte is two's complement; |z| <= 128 and 2^(S-4) <= 2^36 keep the product far inside int256.
            values[CLASSES + j] = int256(int8(uint8(prompt[FIRST_LATENT_BYTE + j]))) * latentUnit;
        }
    }

    /// @notice The model's quantized outputs an `aigcData` holds.
    /// @param aigcData Exactly `AIGC_DATA_LENGTH` bytes: every output as a big-endian two's-complement int32.
    /// @return values The `OUTPUTS` quantized outputs, row-major.
    function outputs(bytes memory aigcData) internal pure returns (int256[] memory values) {
        if (aigcData.length != AIGC_DATA_LENGTH) revert PixelArtCodecBadAigcDataLength(aigcData.length);
        values = new int256[](OUTPUTS);
        for (uint256 k = 0; k < OUTPUTS; ++k) {
            bytes32 loaded;
            // One load per word instead of four byte reads: a mint decodes every aigcData it is given. The
            // 32-byte load takes the word and the 28 bytes after it (past the data for the last words: memory
            // that is only read), which the shift below drops.
            assembly ("memory-safe") {
                loaded := mload(add(add(aigcData, BYTES_DATA_OFFSET), mul(k, AIGC_WORD_BYTES)))
            }
            // The word's 32 bits are a two's-complement int32: reinterpreting them is the decoding itself.
            // forge-lint: disable-next-line(unsafe-typecast)
            values[k] = int32(uint32(uint256(loaded) >> WORD_SHIFT));
        }
    }

    /// @notice The `aigcData` of quantized outputs: the inverse of `outputs`.
    /// @param values Exactly `OUTPUTS` quantized outputs, each within int32.
    /// @return aigcData The `AIGC_DATA_LENGTH` bytes, every output as a big-endian two's-complement int32.
    function encodeAigcData(int256[] memory values) internal pure returns (bytes memory aigcData) {
        _checkOutputs(values);
        aigcData = new bytes(AIGC_DATA_LENGTH);
        for (uint256 k = 0; k < OUTPUTS; ++k) {
            // In int32 range (checked above), so the casts keep the value's two's-complement bits.
            bytes4 word = bytes4(uint32(int32(values[k])));
            for (uint256 b = 0; b < AIGC_WORD_BYTES; ++b) {
                aigcData[k * AIGC_WORD_BYTES + b] = word[b];
            }
        }
    }

    /// @notice Pixel brightnesses `clamp(rdiv(q * 255, 2^S), 0, 255)` of quantized outputs (0 black, 255 white).
    /// @param values Exactly `OUTPUTS` quantized outputs, each within int32 (as `aigcData` carries them).
    /// @param scale The compiled model's output scale exponent `S` (12 for the example).
    /// @return brightness The `OUTPUTS` pixels, row-major.
    function pixels(int256[] memory values, uint8 scale) internal pure returns (uint8[] memory brightness) {
        _checkOutputs(values);
        brightness = new uint8[](OUTPUTS);
        uint256 one = uint256(1) << scale;
        for (uint256 k = 0; k < OUTPUTS; ++k) {
            // |q| <= 2^31, so q * 255 cannot overflow.
            int256 v = FixedPointMath.rdiv(values[k] * MAX_PIXEL, one);
            v = v < 0 ? int256(0) : v > MAX_PIXEL ? MAX_PIXEL : v;
            // Clamped to 0..255 just above: the cast is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            brightness[k] = uint8(uint256(v));
        }
    }

    /// @notice The SVG image of an `aigcData`: byte for byte what Rust's `zkml_model::encode::svg` draws for its
    ///         pixels at width 8, one square per pixel with `crispEdges` so scaled pixels stay square.
    /// @param aigcData Exactly `AIGC_DATA_LENGTH` bytes, as for `outputs`.
    /// @param scale The compiled model's output scale exponent `S` (12 for the example).
    /// @return image The SVG document.
    function svg(bytes memory aigcData, uint8 scale) internal pure returns (string memory image) {
        uint8[] memory brightness = pixels(outputs(aigcData), scale);
        // Every row repeats the same column numbers: they are formatted once.
        string[] memory columns = new string[](WIDTH);
        for (uint256 x = 0; x < WIDTH; ++x) {
            columns[x] = Strings.toString(x);
        }
        bytes memory open = _svgOpen();
        // Concatenating the document piece by piece copies it once per piece (quadratic in its length);
        // instead every rect is written once into a buffer sized for the widest rect, then trimmed.
        uint256 widestRect = _rect(columns[WIDTH - 1], Strings.toString(HEIGHT - 1), type(uint8).max).length;
        bytes memory buffer = new bytes(open.length + OUTPUTS * widestRect + bytes(SVG_CLOSE).length);
        uint256 length = _write(buffer, 0, open);
        for (uint256 y = 0; y < HEIGHT; ++y) {
            string memory row = Strings.toString(y);
            for (uint256 x = 0; x < WIDTH; ++x) {
                length = _write(buffer, length, _rect(columns[x], row, brightness[y * WIDTH + x]));
            }
        }
        length = _write(buffer, length, bytes(SVG_CLOSE));
        // Shrinking a bytes value's length in place only forgets bytes it owns.
        assembly ("memory-safe") {
            mstore(buffer, length)
        }
        image = string(buffer);
    }

    /// @dev Reverts unless there are exactly `OUTPUTS` values, each within int32.
    function _checkOutputs(int256[] memory values) private pure {
        if (values.length != OUTPUTS) revert PixelArtCodecBadOutputCount(values.length);
        for (uint256 k = 0; k < OUTPUTS; ++k) {
            if (values[k] < type(int32).min || values[k] > type(int32).max) {
                revert PixelArtCodecBadOutput(k, values[k]);
            }
        }
    }

    /// @dev The opening tag: `<svg xmlns=.. viewBox="0 0 W H" width=".." height=".." shape-rendering="crispEdges">`.
    function _svgOpen() private pure returns (bytes memory) {
        string memory viewBox = string.concat(SVG_OPEN, Strings.toString(WIDTH), " ", Strings.toString(HEIGHT));
        return bytes(
            string.concat(
                viewBox,
                SVG_WIDTH,
                Strings.toString(WIDTH * SVG_PIXEL_SIZE),
                SVG_HEIGHT,
                Strings.toString(HEIGHT * SVG_PIXEL_SIZE),
                SVG_OPEN_END
            )
        );
    }

    /// @dev One pixel's square: `<rect x=".." y=".." width="1" height="1" fill="rgb(v,v,v)"/>`.
    function _rect(string memory x, string memory y, uint256 brightness) private pure returns (bytes memory) {
        string memory v = Strings.toString(brightness);
        // In parts: one concatenation of every piece needs more stack slots than the EVM reaches.
        string memory position = string.concat(RECT_X, x, RECT_Y, y);
        return bytes(string.concat(position, RECT_FILL, string.concat(v, ",", v, ",", v), RECT_END));
    }

    /// @dev Copies `piece` into `buffer` at `offset` and returns the offset just past it. Callers size `buffer`
    ///      for everything they write, which keeps the copy inside it.
    function _write(bytes memory buffer, uint256 offset, bytes memory piece) private pure returns (uint256) {
        assembly ("memory-safe") {
            mcopy(add(add(buffer, BYTES_DATA_OFFSET), offset), add(piece, BYTES_DATA_OFFSET), mload(piece))
        }
        return offset + piece.length;
    }
}
