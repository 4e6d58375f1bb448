package dev.qwen2j.core.safetensors;

import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every malformed input the issue lists: a SafetensorsFormatException naming the file and the tensor. */
class SafetensorsValidationTest {

    @TempDir
    Path dir;

    private SafetensorsFormatException rejects(Path path, String... expectedInMessage) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> {
            try (Checkpoint ignored = Checkpoint.open(path)) {
                // opening must fail
            }
        });
        String message = e.getMessage();
        assertTrue(message.contains(path.getFileName().toString()) || message.contains(path.toString()),
                "names the file: " + message);
        for (String expected : expectedInMessage) {
            assertTrue(message.contains(expected), "'" + expected + "' in: " + message);
        }
        return e;
    }

    private Path file(String headerJson, int dataBytes) throws IOException {
        return RawSafetensors.write(dir.resolve("bad.safetensors"), headerJson, dataBytes);
    }

    private static String tensor(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void validHandWrittenFileLoads() throws IOException {
        Path path = file("{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "U8", "[3]", 8, 11) + "}", 11);
        try (Checkpoint checkpoint = Checkpoint.open(path)) {
            assertTrue(checkpoint.find("b").isPresent());
        }
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        rejects(Files.write(dir.resolve("short.safetensors"), new byte[5]), "too short");
        rejects(Files.write(dir.resolve("empty.safetensors"), new byte[0]), "too short");
    }

    @Test
    void weightsThatAreNotAFile() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.createDirectories(model.resolve(Checkpoint.SINGLE_FILE));
        rejects(model, Checkpoint.SINGLE_FILE, "not a regular file");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        rejects(Files.write(dir.resolve("long.safetensors"), RawSafetensors.bytes(3, header, new byte[0])),
                "past the end");
    }

    @Test
    void headerLengthAboveTheLimit() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        rejects(Files.write(dir.resolve("huge.safetensors"),
                RawSafetensors.bytes(200L * 1024 * 1024, header, new byte[0])), "limit");
        rejects(Files.write(dir.resolve("negative.safetensors"), RawSafetensors.bytes(-1, header, new byte[0])),
                "limit");
    }

    @Test
    void headerNotJson() throws IOException {
        rejects(file("{\"a\": ", 0), "not valid JSON");
        rejects(file("not json at all", 0), "not valid JSON");
        rejects(file("{} {}", 0), "not valid JSON");
        byte[] invalidUtf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        rejects(Files.write(dir.resolve("utf8.safetensors"), RawSafetensors.bytes(invalidUtf8.length, invalidUtf8,
                new byte[0])), "not valid JSON");
    }

    @Test
    void headerNotAnObject() throws IOException {
        rejects(file("[1, 2]", 0), "not a JSON object");
        rejects(file("42", 0), "not a JSON object");
        rejects(file("", 0), "not a JSON object");
        rejects(file("{\"a\": 3}", 0), "'a'", "not a JSON object");
        rejects(file("{\"__metadata__\": [1]}", 0), "__metadata__");
        rejects(file("{\"__metadata__\": {\"k\": 1}}", 0), "__metadata__", "'k'");
    }

    @Test
    void duplicateNames() throws IOException {
        rejects(file("{" + tensor("a", "U8", "[1]", 0, 1) + "," + tensor("a", "U8", "[1]", 1, 2) + "}", 2),
                "Duplicate", "a");
    }

    @Test
    void unknownDtype() throws IOException {
        rejects(file("{" + tensor("w", "Q4_K", "[1]", 0, 1) + "}", 1), "'w'", "unknown dtype 'Q4_K'");
        rejects(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "'w'", "dtype");
    }

    @Test
    void negativeOrOverflowingShape() throws IOException {
        rejects(file("{" + tensor("w", "U8", "[-1]", 0, 0) + "}", 0), "'w'", "negative");
        rejects(file("{" + tensor("w", "U8", "[99999999999999999999]", 0, 0) + "}", 0), "'w'", "overflows");
        rejects(file("{" + tensor("w", "F32", "[4294967296, 4294967296]", 0, 0) + "}", 0), "'w'", "overflows");
        rejects(file("{" + tensor("w", "F64", "[2305843009213693952]", 0, 0) + "}", 0), "'w'", "overflows");
        rejects(file("{" + tensor("w", "U8", "[1.5]", 0, 1) + "}", 1), "'w'", "not an integer");
        rejects(file("{" + tensor("w", "U8", "\"3\"", 0, 3) + "}", 3), "'w'", "shape");
    }

    @Test
    void shapeTimesDtypeSizeDiffersFromOffsetsSpan() throws IOException {
        rejects(file("{" + tensor("w", "F32", "[2, 3]", 0, 20) + "}", 24), "'w'", "24 bytes", "span 20");
    }

    @Test
    void offsetsNegativeReversedOverlappingOrOutside() throws IOException {
        rejects(file("{" + tensor("w", "U8", "[2]", -2, 0) + "}", 4), "'w'", "negative");
        rejects(file("{" + tensor("w", "U8", "[2]", 4, 2) + "}", 4), "'w'", "reversed");
        rejects(file("{" + tensor("a", "U8", "[4]", 0, 4) + "," + tensor("b", "U8", "[4]", 2, 6) + "}", 8),
                "'b'", "overlap", "'a'");
        rejects(file("{" + tensor("w", "U8", "[4]", 2, 6) + "}", 4), "'w'", "outside the data region");
        rejects(file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1), "'w'", "data_offsets");
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        SafetensorsWriterTest.tiny(dir.resolve("model-00001-of-00002.safetensors"));
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), """
                {"weight_map": {"w": "model-00001-of-00002.safetensors",
                                "v": "model-00002-of-00002.safetensors"}}""");
        SafetensorsFormatException e = rejects(dir, "model-00002-of-00002.safetensors", "'v'", "does not exist");
        assertTrue(e.getMessage().contains(Checkpoint.INDEX_FILE), e.getMessage());
    }

    @Test
    void indexNamingATensorTheShardLacks() throws IOException {
        SafetensorsWriterTest.tiny(dir.resolve("model-00001-of-00001.safetensors"));
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), """
                {"weight_map": {"w": "model-00001-of-00001.safetensors",
                                "missing.weight": "model-00001-of-00001.safetensors"}}""");
        rejects(dir, "model-00001-of-00001.safetensors", "'missing.weight'", "missing from this shard");
    }

    @Test
    void indexThatIsBrokenOrEscapesTheFolder() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Path index = model.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(index, "{\"weight_map\": 3}");
        rejects(model, "weight_map");
        Files.writeString(index, "{\"weight_map\": {}}");
        rejects(model, "names no tensors");
        Files.writeString(index, "[1]");
        rejects(model, "weight_map");
        Files.writeString(index, "{\"weight_map\": {\"w\": 1}}");
        rejects(model, "'w'", "not a file name");
        Files.writeString(index, "{\"weight_map\": ");
        rejects(model, "not valid JSON");
        SafetensorsWriterTest.tiny(dir.resolve("outside.safetensors"));
        Files.writeString(index, "{\"weight_map\": {\"w\": \"../outside.safetensors\"}}");
        rejects(model, "does not exist");
    }

    @Test
    void sameTensorInTwoShards() throws IOException {
        SafetensorsWriterTest.tiny(dir.resolve("s1.safetensors"));
        SafetensorsWriterTest.tiny(dir.resolve("s2.safetensors"));
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), """
                {"weight_map": {"w": "s1.safetensors", "x": "s2.safetensors"}}""");
        rejects(dir, "'w'", "also present");
    }

    @Test
    void writtenFilesAlwaysPassValidation() throws IOException {
        Path file = dir.resolve("ok.safetensors");
        SafetensorsWriter.write(file, List.of(TensorData.ofFloats("w", new long[] {0}, new float[0])));
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            assertTrue(checkpoint.find("w").isPresent());
        }
    }
}
