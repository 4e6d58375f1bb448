package dev.qwen2j.jmh;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.MappedTensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Time to open and close a 1 GB checkpoint (the Qwen2.5-0.5B shape, BF16, random weights): map every
 * file, validate every header, slice every tensor, unmap. Nothing of the weights is read, so this should
 * stay far below the time to read 1 GB (well under 50 ms), whether the weights are one file or shards;
 * {@link #openTouchEveryPageAndClose} is the same run's yardstick for actually touching the weights.
 *
 * <p>Run: {@code ./build bench CheckpointOpen} (writes ~1 GB per {@code shards} value to a temporary
 * folder, removed afterwards).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CheckpointOpenBenchmark {

    private static final long PAGE = 4096;

    /** 1 = model.safetensors; 4 = four shards and an index. */
    @Param({"1", "4"})
    public int shards;

    private Path folder;

    @Setup(Level.Trial)
    public void writeCheckpoint() throws IOException {
        folder = Files.createTempDirectory("qwen2j-open-bench");
        RandomQwen2Checkpoint.qwen25_05b().shards(shards).write(folder);
    }

    @TearDown(Level.Trial)
    public void deleteCheckpoint() throws IOException {
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public int openAndClose() throws IOException {
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            return checkpoint.tensors().size();
        }
    }

    /**
     * The yardstick for {@link #openAndClose}: the same, plus one byte read from every 4 KiB page of every
     * tensor (file in the page cache), i.e. what mapping the weights costs once they are actually used.
     */
    @Benchmark
    public long openTouchEveryPageAndClose() throws IOException {
        long sum = 0;
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            for (MappedTensor tensor : checkpoint.tensors()) {
                MemorySegment data = tensor.data();
                for (long offset = 0; offset < data.byteSize(); offset += PAGE) {
                    sum += data.get(ValueLayout.JAVA_BYTE, offset);
                }
            }
        }
        return sum;
    }
}
