package dev.qwen2j.core.safetensors;

import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    private static byte[] sequence(int n) {
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) (i * 7 + 3);
        }
        return bytes;
    }

    @Test
    void writesAndReadsEveryDtype() throws IOException {
        List<TensorData> tensors = new ArrayList<>();
        for (DType dtype : DType.values()) {
            long[] shape = {3, 5};
            tensors.add(TensorData.of("t." + dtype, dtype, shape,
                    MemorySegment.ofArray(sequence(15 * dtype.byteSize()))));
        }
        tensors.add(TensorData.of("scalar", DType.I32, new long[0], MemorySegment.ofArray(sequence(4))));
        tensors.add(TensorData.of("empty", DType.F32, new long[] {0, 4}, MemorySegment.ofArray(new byte[0])));
        Path file = dir.resolve("all.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt", "note", "é"));

        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            assertEquals(file, checkpoint.path());
            assertEquals(Map.of("format", "pt", "note", "é"), checkpoint.metadata());
            assertEquals(DType.values().length + 2, checkpoint.tensors().size());
            for (DType dtype : DType.values()) {
                MappedTensor t = checkpoint.tensor("t." + dtype);
                assertEquals(dtype, t.dtype());
                assertArrayEquals(new long[] {3, 5}, t.shape());
                assertEquals(15, t.elementCount());
                assertEquals(file, t.file());
                assertArrayEquals(sequence(15 * dtype.byteSize()), t.data().toArray(ValueLayout.JAVA_BYTE));
            }
            assertEquals(1, checkpoint.tensor("scalar").elementCount());
            assertEquals(0, checkpoint.tensor("empty").data().byteSize());
            List<String> names = checkpoint.tensors().stream().map(MappedTensor::name).toList();
            assertEquals(names.stream().sorted().toList(), names, "tensors() is sorted by name");
        }
    }

    @Test
    void headerIsPaddedAndTensorsAligned() throws IOException {
        Path file = dir.resolve("aligned.safetensors");
        SafetensorsWriter.write(file, List.of(
                TensorData.of("a.u8", DType.U8, new long[] {3}, MemorySegment.ofArray(new byte[3])),
                TensorData.of("b.f64", DType.F64, new long[] {2}, MemorySegment.ofArray(new byte[16])),
                TensorData.of("c.f16", DType.F16, new long[] {5}, MemorySegment.ofArray(new byte[10])),
                TensorData.ofFloats("d.f32", new long[] {3}, new float[] {1, 2, 3})));
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLength) % 8, "data region starts 8-aligned");
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            for (MappedTensor t : checkpoint.tensors()) {
                long offsetInFile = t.data().address() - checkpoint.tensor("b.f64").data().address() + 8 + headerLength;
                assertEquals(0, offsetInFile % t.dtype().byteSize(), t.name() + " aligned to its element size");
            }
            MemorySegment floats = checkpoint.tensor("d.f32").data();
            assertEquals(2f, floats.get(F32, 4));
        }
    }

    @Test
    void opensFolderWithSingleFile() throws IOException {
        SafetensorsWriter.write(dir.resolve(Checkpoint.SINGLE_FILE),
                List.of(TensorData.ofFloats("w", new long[] {2}, new float[] {4, 5})));
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertEquals(5f, checkpoint.tensor("w").data().get(F32, 4));
        }
    }

    @Test
    void opensShardedFolder() throws IOException {
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), List.of(
                TensorData.ofFloats("a", new long[] {1}, new float[] {1}),
                TensorData.ofFloats("b", new long[] {1}, new float[] {2})), Map.of("format", "pt"));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), List.of(
                TensorData.ofFloats("c", new long[] {1}, new float[] {3})));
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), """
                {"metadata": {"total_size": 12}, "weight_map": {
                  "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                  "c": "model-00002-of-00002.safetensors"}}""");
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertEquals(List.of("a", "b", "c"), checkpoint.tensors().stream().map(MappedTensor::name).toList());
            assertEquals(3f, checkpoint.tensor("c").data().get(F32, 0));
            assertEquals(dir.resolve("model-00002-of-00002.safetensors").toAbsolutePath(), checkpoint.tensor("c").file());
            assertEquals(Map.of("format", "pt"), checkpoint.metadata());
        }
    }

    @Test
    void singleFileWinsOverAnIndexAsInTransformers() throws IOException {
        SafetensorsWriter.write(dir.resolve(Checkpoint.SINGLE_FILE),
                List.of(TensorData.ofFloats("single", new long[] {1}, new float[] {1})));
        Files.writeString(dir.resolve(Checkpoint.INDEX_FILE), "{\"weight_map\": {\"x\": \"absent.safetensors\"}}");
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertTrue(checkpoint.find("single").isPresent());
        }
    }

    @Test
    void missingTensorIsAClearError() throws IOException {
        Path file = SafetensorsWriterTest.tiny(dir.resolve("x.safetensors"));
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            assertTrue(checkpoint.find("nope").isEmpty());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> checkpoint.tensor("nope"));
            assertTrue(e.getMessage().contains("nope") && e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void useAfterCloseIsIllegalState() throws IOException {
        Path file = SafetensorsWriterTest.tiny(dir.resolve("x.safetensors"));
        Checkpoint checkpoint = Checkpoint.open(file);
        MappedTensor tensor = checkpoint.tensor("w");
        checkpoint.close();
        checkpoint.close();
        assertThrows(IllegalStateException.class, () -> tensor.data().get(F32, 0));
        assertThrows(IllegalStateException.class, () -> checkpoint.tensor("w"));
        assertThrows(IllegalStateException.class, checkpoint::tensors);
    }

    @Test
    void tensorsAreReadableFromOtherThreads() throws Exception {
        Path file = SafetensorsWriterTest.tiny(dir.resolve("x.safetensors"));
        try (Checkpoint checkpoint = Checkpoint.open(file); var pool = Executors.newFixedThreadPool(2)) {
            Future<Float> value = pool.submit(() -> checkpoint.tensor("w").data().get(F32, 4));
            assertEquals(2f, value.get());
        }
    }

    @Test
    void missingPathAndEmptyFolder() throws IOException {
        assertThrows(NoSuchFileException.class, () -> Checkpoint.open(dir.resolve("absent")));
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains(Checkpoint.SINGLE_FILE),
                e.getMessage());
    }

    @Test
    void writerReplacesAtomicallyAndLeavesNoTempFiles() throws IOException {
        Path file = dir.resolve("x.safetensors");
        SafetensorsWriterTest.tiny(file);
        RuntimeException failure = new IllegalStateException("generator failed");
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(file, List.of(
                new TensorData("w", DType.F32, new long[] {4}, target -> { throw failure; }))));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "the failed write left no temp file");
        }
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            assertFalse(checkpoint.find("w").isEmpty(), "the old file is intact");
        }
    }

    @Test
    void checkUnchangedNamesAFileTruncatedOrReplacedSinceMapping() throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(file, List.of(TensorData.ofFloats("w", new long[] {4}, new float[] {1, 2, 3, 4})));
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            checkpoint.checkUnchanged();
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.truncate(channel.size() - 4);
            }
            var error = assertThrows(IllegalStateException.class, checkpoint::checkUnchanged);
            assertTrue(error.getMessage().startsWith(file + ": changed on disk"), error.getMessage());
        }
        SafetensorsWriter.write(file, List.of(TensorData.ofFloats("w", new long[] {4}, new float[] {1, 2, 3, 4})));
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            Path copy = dir.resolve("copy");
            Files.copy(file, copy);
            Files.move(copy, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            var error = assertThrows(IllegalStateException.class, checkpoint::checkUnchanged);
            assertTrue(error.getMessage().contains("replaced") || error.getMessage().contains("modified"),
                    error.getMessage());
        }
    }

    @Test
    void opensOnAnInterruptedThreadAndLeavesTheFlagSet() throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(file, List.of(TensorData.ofFloats("w", new long[] {2}, new float[] {4, 5})));
        Thread.currentThread().interrupt();
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            assertTrue(Thread.interrupted());
            assertEquals(5f, checkpoint.tensor("w").data().get(F32, 4));
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aFileLargerThanTheFreeDiskSpaceFailsBeforeWritingAndLeavesNothing() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        long rows = 1L << 40; // 4 TiB of F32: more than any test machine's disk has free
        var huge = new TensorData("w", DType.F32, new long[] {rows, 1}, target -> { throw new AssertionError("written"); });
        var error = assertThrows(IOException.class, () -> SafetensorsWriter.write(file, List.of(huge)));
        assertTrue(error.getMessage().startsWith(file + ": not enough disk space"), error.getMessage());
        try (var entries = Files.list(dir)) {
            assertEquals(List.of(), entries.toList(), "no temporary file may remain");
        }
    }

    @Test
    void aTensorThatFailsToFillLeavesNothing() throws IOException {
        Path file = dir.resolve("faulty.safetensors");
        var good = TensorData.ofFloats("a", new long[] {2}, new float[] {1, 2});
        var faulty = new TensorData("w", DType.F32, new long[] {4}, target -> {
            throw new IllegalStateException("generator failed");
        });
        var error = assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(file, List.of(good, faulty)));
        assertEquals("generator failed", error.getMessage());
        try (var entries = Files.list(dir)) {
            assertEquals(List.of(), entries.toList(), "no temporary file may remain");
        }
    }
}
