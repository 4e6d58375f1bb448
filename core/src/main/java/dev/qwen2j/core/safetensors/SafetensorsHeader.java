package dev.qwen2j.core.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The validated header of one safetensors file: 8-byte little-endian length N, N bytes of UTF-8 JSON,
 * then the data region. Every offset is checked against the data region before any tensor is sliced,
 * so nothing built from a header can read past the mapping.
 *
 * @param metadata  the optional {@code __metadata__} map (string to string)
 * @param entries   tensors in header order
 * @param dataStart file offset of the data region (8 + N)
 */
record SafetensorsHeader(Map<String, String> metadata, List<Entry> entries, long dataStart) {

    /** Headers larger than this are refused: no real checkpoint comes close, and it bounds memory use. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    static final String METADATA_KEY = "__metadata__";

    /** One tensor's header entry; {@code begin} and {@code end} are relative to the data region. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        long byteSize() {
            return end - begin;
        }
    }

    private static final ValueLayout.OfLong LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Reads and validates the header of {@code file}, whose whole content is {@code mapped}. */
    static SafetensorsHeader parse(Path file, MemorySegment mapped) throws SafetensorsFormatException {
        long fileSize = mapped.byteSize();
        if (fileSize < Long.BYTES) {
            throw SafetensorsFormatException.inFile(file,
                    "file has " + fileSize + " bytes, too short for the 8-byte header length");
        }
        long headerLength = mapped.get(LENGTH, 0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw SafetensorsFormatException.inFile(file, "header length " + Long.toUnsignedString(headerLength)
                    + " is above the " + MAX_HEADER_BYTES + "-byte limit");
        }
        if (headerLength > fileSize - Long.BYTES) {
            throw SafetensorsFormatException.inFile(file, "header length " + headerLength
                    + " runs past the end of the file (" + fileSize + " bytes)");
        }
        byte[] json = mapped.asSlice(Long.BYTES, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw SafetensorsFormatException.inFile(file, "header is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw SafetensorsFormatException.inFile(file, "header is not readable: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw SafetensorsFormatException.inFile(file, "header is not a JSON object");
        }
        long dataStart = Long.BYTES + headerLength;
        long dataSize = fileSize - dataStart;

        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>(root.size());
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(file, field.getValue());
            } else {
                entries.add(entry(file, name, field.getValue(), dataSize));
            }
        }
        checkNoOverlap(file, entries);
        return new SafetensorsHeader(metadata, List.copyOf(entries), dataStart);
    }

    private static Map<String, String> metadata(Path file, JsonNode node) throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw SafetensorsFormatException.inFile(file, "__metadata__ is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw SafetensorsFormatException.inFile(file,
                        "__metadata__ value '" + field.getKey() + "' is not a string");
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return Map.copyOf(metadata);
    }

    private static Entry entry(Path file, String name, JsonNode node, long dataSize) throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw SafetensorsFormatException.inTensor(file, name, "entry is not a JSON object");
        }
        DType dtype = dtype(file, name, node.get("dtype"));
        long[] shape = shape(file, name, node.get("shape"));

        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw SafetensorsFormatException.inTensor(file, name, "data_offsets must be an array [begin, end]");
        }
        long begin = nonNegativeLong(file, name, "data_offsets", offsets.get(0));
        long end = nonNegativeLong(file, name, "data_offsets", offsets.get(1));
        if (end < begin) {
            throw SafetensorsFormatException.inTensor(file, name,
                    "data_offsets [" + begin + ", " + end + "] are reversed");
        }
        if (end > dataSize) {
            throw SafetensorsFormatException.inTensor(file, name, "data_offsets [" + begin + ", " + end
                    + "] lie outside the data region (" + dataSize + " bytes)");
        }
        long expected;
        try {
            long elements = 1;
            for (long dim : shape) {
                elements = Math.multiplyExact(elements, dim);
            }
            expected = Math.multiplyExact(elements, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw SafetensorsFormatException.inTensor(file, name, "shape overflows a 64-bit size");
        }
        if (expected != end - begin) {
            throw SafetensorsFormatException.inTensor(file, name, "shape needs " + expected + " bytes of "
                    + dtype + " but data_offsets span " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static DType dtype(Path file, String name, JsonNode node) throws SafetensorsFormatException {
        if (node == null || !node.isTextual()) {
            throw SafetensorsFormatException.inTensor(file, name, "dtype is missing or not a string");
        }
        for (DType dtype : DType.values()) {
            if (dtype.name().equals(node.textValue())) {
                return dtype;
            }
        }
        throw SafetensorsFormatException.inTensor(file, name, "unknown dtype '" + node.textValue() + "'");
    }

    private static long[] shape(Path file, String name, JsonNode node) throws SafetensorsFormatException {
        if (node == null || !node.isArray()) {
            throw SafetensorsFormatException.inTensor(file, name, "shape is missing or not an array");
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(file, name, "shape", node.get(i));
        }
        return shape;
    }

    private static long nonNegativeLong(Path file, String name, String field, JsonNode node)
            throws SafetensorsFormatException {
        if (node == null || !node.isIntegralNumber()) {
            throw SafetensorsFormatException.inTensor(file, name, field + " holds a value that is not an integer: " + node);
        }
        if (!node.canConvertToLong()) {
            throw SafetensorsFormatException.inTensor(file, name, field + " value " + node + " overflows 64 bits");
        }
        long value = node.longValue();
        if (value < 0) {
            throw SafetensorsFormatException.inTensor(file, name, field + " value " + value + " is negative");
        }
        return value;
    }

    private static void checkNoOverlap(Path file, List<Entry> entries) throws SafetensorsFormatException {
        List<Entry> byOffset = new ArrayList<>(entries.size());
        for (Entry entry : entries) {
            if (entry.byteSize() > 0) {
                byOffset.add(entry);
            }
        }
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry previous = byOffset.get(i - 1);
            Entry current = byOffset.get(i);
            if (current.begin() < previous.end()) {
                throw SafetensorsFormatException.inTensor(file, current.name(), "data_offsets [" + current.begin()
                        + ", " + current.end() + "] overlap tensor '" + previous.name() + "' [" + previous.begin()
                        + ", " + previous.end() + "]");
            }
        }
    }
}
