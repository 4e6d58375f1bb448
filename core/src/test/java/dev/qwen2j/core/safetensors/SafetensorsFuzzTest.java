package dev.qwen2j.core.safetensors;

import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property: a valid file with mutated bytes or header fields either loads correctly or fails with a
 * {@link SafetensorsFormatException}; never another exception, an out-of-bounds read or a crash.
 */
class SafetensorsFuzzTest {

    record Spec(String name, DType dtype, List<Integer> shape) {
    }

    /** One change to a valid file's bytes. */
    sealed interface Mutation {
        byte[] apply(byte[] file);
    }

    record FlipBytes(List<Double> positions, byte xor) implements Mutation {
        public byte[] apply(byte[] file) {
            byte[] copy = file.clone();
            if (copy.length == 0) {
                return copy;
            }
            for (double p : positions) {
                copy[(int) (p * copy.length)] ^= xor == 0 ? 1 : xor;
            }
            return copy;
        }
    }

    record SetHeaderLength(long length) implements Mutation {
        public byte[] apply(byte[] file) {
            byte[] copy = java.util.Arrays.copyOf(file, Math.max(8, file.length));
            ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
            return copy;
        }
    }

    record Truncate(double keep) implements Mutation {
        public byte[] apply(byte[] file) {
            return java.util.Arrays.copyOf(file, (int) (keep * file.length));
        }
    }

    /** Replaces the k-th match of a header pattern and fixes up the length field, so JSON semantics are what changes. */
    record EditHeader(String pattern, int occurrence, String replacement) implements Mutation {
        public byte[] apply(byte[] file) {
            if (file.length < 8) {
                return file;
            }
            long length = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (length < 0 || length > file.length - 8) {
                return file; // an earlier mutation broke the length field: nothing to edit
            }
            String header = new String(file, 8, (int) length, StandardCharsets.UTF_8);
            Matcher m = Pattern.compile(pattern).matcher(header);
            List<int[]> matches = new ArrayList<>();
            while (m.find()) {
                matches.add(new int[] {m.start(), m.end()});
            }
            if (matches.isEmpty()) {
                return file;
            }
            int[] hit = matches.get(occurrence % matches.size());
            String edited = header.substring(0, hit[0]) + replacement + header.substring(hit[1]);
            byte[] json = edited.getBytes(StandardCharsets.UTF_8);
            byte[] data = java.util.Arrays.copyOfRange(file, 8 + (int) length, file.length);
            return RawSafetensors.bytes(json.length, json, data);
        }
    }

    private static Path dir;
    private static final AtomicInteger tries = new AtomicInteger();

    @BeforeContainer
    static void createFolder() throws IOException {
        dir = Files.createTempDirectory("qwen2j-fuzz");
    }

    @AfterContainer
    static void deleteFolder() throws IOException {
        Files.delete(dir);
    }

    @Provide
    Arbitrary<List<Spec>> specs() {
        Arbitrary<Spec> spec = Combinators.combine(
                Arbitraries.strings().withChars("abc.0_").ofMinLength(1).ofMaxLength(6),
                Arbitraries.of(DType.class),
                Arbitraries.integers().between(0, 5).list().ofMaxSize(3)).as(Spec::new);
        return spec.list().ofMinSize(1).ofMaxSize(5).uniqueElements(Spec::name);
    }

    @Provide
    Arbitrary<Mutation> mutations() {
        Arbitrary<Double> fraction = Arbitraries.doubles().between(0, 0.999).ofScale(4);
        Arbitrary<String> number = Arbitraries.oneOf(
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.integers().between(-3, 40).map(String::valueOf),
                Arbitraries.of("18446744073709551615", "9223372036854775807", "-9223372036854775808",
                        "1e3", "2.5", "null", "\"7\"", "[]", "{}", "true"));
        return Arbitraries.oneOf(
                Combinators.combine(fraction.list().ofMinSize(1).ofMaxSize(4), Arbitraries.bytes()).as(FlipBytes::new),
                Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(-2, 600),
                        Arbitraries.of(0L, 104_857_600L, 104_857_601L, Long.MAX_VALUE, Long.MIN_VALUE))
                        .map(SetHeaderLength::new),
                fraction.map(Truncate::new),
                Combinators.combine(Arbitraries.of("-?\\d+", "\\d+"), Arbitraries.integers().between(0, 40), number)
                        .as(EditHeader::new),
                Combinators.combine(Arbitraries.of("\"[A-Z0-9_]+\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"",
                                        "\\[", "\\]", "\\{", ",", ":", "\"[a-z0-9._]+\""),
                                Arbitraries.integers().between(0, 40),
                                Arbitraries.of("\"F33\"", "\"BF16\"", "\"U8\"", "\"F64\"", "\"x\"", "", "{", "]",
                                        "\"__metadata__\"", "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}",
                                        "\"\\ud800\"", "\"é\""))
                        .as(EditHeader::new));
    }

    @Provide
    Arbitrary<List<Mutation>> mutationLists() {
        return mutations().list().ofMinSize(1).ofMaxSize(3);
    }

    @Property(tries = 500)
    void mutatedFilesLoadCorrectlyOrFailCleanly(@ForAll("specs") List<Spec> specs,
                                                @ForAll("mutationLists") List<Mutation> mutations)
            throws IOException {
        List<TensorData> tensors = new ArrayList<>();
        for (Spec s : specs) {
            long[] shape = s.shape().stream().mapToLong(Integer::longValue).toArray();
            long size = s.dtype().byteSize();
            for (long d : shape) {
                size *= d;
            }
            byte[] data = new byte[(int) size];
            java.util.Arrays.fill(data, (byte) 0x5A);
            tensors.add(TensorData.of(s.name(), s.dtype(), shape, MemorySegment.ofArray(data)));
        }
        byte[] bytes = SafetensorsWriter.toBytes(tensors, Map.of());
        for (Mutation m : mutations) {
            bytes = m.apply(bytes);
        }
        Path file = Files.write(dir.resolve("mutated-" + tries.incrementAndGet() + ".safetensors"), bytes);
        try {
            Checkpoint checkpoint;
            try {
                checkpoint = Checkpoint.open(file);
            } catch (SafetensorsFormatException expected) {
                assertTrue(expected.getMessage().contains(file.toString()), expected.getMessage());
                Statistics.collect("rejected");
                return;
            }
            Statistics.collect("loaded");
            try (checkpoint) {
                assertLoadIsConsistent(checkpoint, bytes.length);
            }
        } finally {
            Files.delete(file);
        }
    }

    @Property(tries = 60)
    void writtenFilesLoadBackExactly(@ForAll("specs") List<Spec> specs) throws IOException {
        List<TensorData> tensors = new ArrayList<>();
        for (Spec s : specs) {
            long[] shape = s.shape().stream().mapToLong(Integer::longValue).toArray();
            long count = 1;
            for (long d : shape) {
                count *= d;
            }
            byte[] data = new byte[(int) count * s.dtype().byteSize()];
            new java.util.Random(s.name().hashCode()).nextBytes(data);
            tensors.add(TensorData.of(s.name(), s.dtype(), shape, MemorySegment.ofArray(data)));
        }
        Path file = dir.resolve("written-" + tries.incrementAndGet() + ".safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("k", "v"));
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            assertEquals(tensors.size(), checkpoint.tensors().size());
            for (TensorData expected : tensors) {
                MappedTensor actual = checkpoint.tensor(expected.name());
                assertEquals(expected.dtype(), actual.dtype());
                assertArrayEquals(expected.shape(), actual.shape());
                byte[] want = new byte[(int) expected.byteSize()];
                expected.contents().writeTo(MemorySegment.ofArray(want));
                assertArrayEquals(want, actual.data().toArray(ValueLayout.JAVA_BYTE));
            }
            assertArrayEquals(Files.readAllBytes(file), SafetensorsWriter.toBytes(tensors, Map.of("k", "v")),
                    "the file on disk is what toBytes builds");
        } finally {
            Files.delete(file);
        }
    }

    private static void assertLoadIsConsistent(Checkpoint checkpoint, long fileSize) {
        Set<String> names = new HashSet<>();
        long total = 0;
        for (MappedTensor t : checkpoint.tensors()) {
            assertTrue(names.add(t.name()));
            assertEquals(t.elementCount() * t.dtype().byteSize(), t.data().byteSize(), t.name());
            for (long d : t.shape()) {
                assertTrue(d >= 0);
            }
            byte[] read = t.data().toArray(ValueLayout.JAVA_BYTE);
            assertEquals(t.data().byteSize(), read.length);
            total += read.length;
        }
        assertTrue(total <= fileSize, "tensors never overlap, so they fit in the file");
    }
}
