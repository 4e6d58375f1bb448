package dev.qwen2j.core.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The tensors of a Hugging Face checkpoint, memory-mapped and zero-copy.
 *
 * <p>{@link #open} accepts one {@code .safetensors} file, a folder holding {@code model.safetensors},
 * or a folder holding {@code model.safetensors.index.json} and the shards its {@code weight_map} names
 * (when both are present, {@code model.safetensors} wins, as in transformers).
 * Each file is mapped once into a shared {@link Arena} (so any thread may read the tensors) and every
 * header is validated before a single tensor is sliced: opening reads only the headers, never the weights.
 * {@link #close()} unmaps everything; a tensor used afterwards throws {@link IllegalStateException}.
 *
 * <p>A mapped file must not change while it is mapped: reading a page of a file truncated underneath the mapping
 * kills the JVM (SIGBUS), which no Java code can catch. {@link #checkUnchanged()} compares every file's size,
 * modification time and identity (inode) with what they were when mapped, so callers can refuse to compute
 * from a file that changed between two uses; a change in the middle of a use remains a hazard.
 */
public final class Checkpoint implements AutoCloseable {

    /** File name of a single-file checkpoint inside a model folder. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** File name of the shard index inside a sharded model folder. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path path;
    private final Arena arena;
    private final Map<String, MappedTensor> tensors;
    private final Map<String, String> metadata;
    private final List<FileStamp> stamps;
    private volatile boolean closed;

    private Checkpoint(Path path, Arena arena, Map<String, MappedTensor> tensors, Map<String, String> metadata,
                       List<FileStamp> stamps) {
        this.path = path;
        this.arena = arena;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Map.copyOf(metadata);
        this.stamps = List.copyOf(stamps);
    }

    /** A mapped file as it was when mapped: size, modification time and identity (the inode on Unix). */
    private record FileStamp(Path file, long size, FileTime modified, Object key) {

        static FileStamp of(Path file) throws IOException {
            BasicFileAttributes now = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileStamp(file, now.size(), now.lastModifiedTime(), now.fileKey());
        }

        /** What changed since, or null when nothing did. */
        String change() {
            FileStamp now;
            try {
                now = of(file);
            } catch (IOException e) {
                return "cannot be read any more (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
            }
            if (now.size != size) {
                return "its size changed from " + size + " to " + now.size + " bytes";
            }
            if (key != null && !key.equals(now.key)) {
                return "it was replaced by another file";
            }
            if (!now.modified.equals(modified)) {
                return "it was modified (at " + now.modified + ")";
            }
            return null;
        }
    }

    /**
     * Opens a {@code .safetensors} file or a model folder (single file or sharded with an index).
     *
     * @throws SafetensorsFormatException when a file breaks the format; the message names file and tensor
     * @throws NoSuchFileException        when the path does not exist
     */
    public static Checkpoint open(Path fileOrFolder) throws IOException {
        // A pending interrupt would close the file channel before it maps (ClosedByInterruptException): open
        // despite it, and leave it set for the caller.
        boolean interrupted = Thread.interrupted();
        try {
            return openPath(fileOrFolder);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Checkpoint openPath(Path fileOrFolder) throws IOException {
        if (Files.isDirectory(fileOrFolder)) {
            // transformers' order: model.safetensors wins over an index
            Path single = fileOrFolder.resolve(SINGLE_FILE);
            if (Files.exists(single)) {
                return openFiles(fileOrFolder, List.of(single), Map.of());
            }
            Path index = fileOrFolder.resolve(INDEX_FILE);
            if (Files.exists(index)) {
                return openSharded(fileOrFolder, index);
            }
            throw new SafetensorsFormatException(fileOrFolder + ": no " + SINGLE_FILE + " or " + INDEX_FILE
                    + " in this folder");
        }
        if (Files.exists(fileOrFolder)) {
            return openFiles(fileOrFolder, List.of(fileOrFolder), Map.of());
        }
        throw new NoSuchFileException(fileOrFolder.toString(), null, "no such file or folder");
    }

    private static Checkpoint openSharded(Path folder, Path index) throws IOException {
        if (Files.size(index) > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw SafetensorsFormatException.inFile(index, "index is larger than "
                    + SafetensorsHeader.MAX_HEADER_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = SafetensorsHeader.JSON.readTree(Files.readAllBytes(index));
        } catch (JacksonException e) {
            throw SafetensorsFormatException.inFile(index, "not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw SafetensorsFormatException.inFile(index, "weight_map is missing or not a JSON object");
        }
        if (weightMap.isEmpty()) {
            throw SafetensorsFormatException.inFile(index, "weight_map names no tensors");
        }
        Path base = folder.toAbsolutePath().normalize();
        Map<Path, List<String>> tensorsByShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
            String tensor = entry.getKey();
            JsonNode shardName = entry.getValue();
            if (!shardName.isTextual()) {
                throw SafetensorsFormatException.inFile(index, "weight_map entry for tensor '" + tensor
                        + "' is not a file name");
            }
            Path shard = base.resolve(shardName.textValue()).normalize();
            if (!shard.startsWith(base) || !Files.isRegularFile(shard)) {
                throw SafetensorsFormatException.inFile(index, "shard '" + shardName.textValue()
                        + "' named for tensor '" + tensor + "' does not exist in " + folder);
            }
            tensorsByShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(tensor);
        }
        return openFiles(folder, List.copyOf(tensorsByShard.keySet()), tensorsByShard);
    }

    /** Maps {@code files} into one arena; {@code expected} lists, per file, tensors an index promises it has. */
    private static Checkpoint openFiles(Path path, List<Path> files, Map<Path, List<String>> expected)
            throws IOException {
        Arena arena = Arena.ofShared();
        try {
            Map<String, MappedTensor> tensors = new TreeMap<>();
            Map<String, String> metadata = new TreeMap<>();
            List<FileStamp> stamps = new ArrayList<>();
            for (Path file : files) {
                stamps.add(FileStamp.of(file));
                MemorySegment mapped = map(file, arena);
                SafetensorsHeader header = SafetensorsHeader.parse(file, mapped);
                for (SafetensorsHeader.Entry entry : header.entries()) {
                    MemorySegment data = mapped.asSlice(header.dataStart() + entry.begin(), entry.byteSize());
                    MappedTensor tensor = new MappedTensor(entry.name(), entry.dtype(), entry.shape(), data, file);
                    MappedTensor previous = tensors.putIfAbsent(entry.name(), tensor);
                    if (previous != null) {
                        throw SafetensorsFormatException.inTensor(file, entry.name(),
                                "also present in " + previous.file());
                    }
                }
                for (String name : expected.getOrDefault(file, List.of())) {
                    MappedTensor tensor = tensors.get(name);
                    if (tensor == null || !tensor.file().equals(file)) {
                        throw SafetensorsFormatException.inTensor(file, name, "named by " + INDEX_FILE
                                + " but missing from this shard");
                    }
                }
                header.metadata().forEach(metadata::putIfAbsent);
            }
            return new Checkpoint(path, arena, tensors, metadata, stamps);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static MemorySegment map(Path file, Arena arena) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw SafetensorsFormatException.inFile(file, "not a regular file");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return asNative(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena), arena);
        } catch (FileSystemException e) {
            throw e; // names the file already
        } catch (IOException e) {
            throw new IOException(file + ": cannot map: " + e.getMessage(), e);
        }
    }

    /**
     * The mapping seen as a plain native segment of the same memory and lifetime, read-only, where this module has
     * native access. The kernels then read weights through the same segment class as the KV cache and the quantized
     * weights: with two classes behind one Vector API load, its type profile turns bimorphic, each inlined load
     * grows, and C2 hit its node limit in the BF16 matvec (NodeCountInliningCutoff), leaving bf16() a boxing call:
     * decode with BF16 weights and a BF16 cache fell from 26-32 to 17 tok/s.
     */
    private static MemorySegment asNative(MemorySegment mapped, Arena arena) {
        if (mapped.byteSize() == 0 || !Checkpoint.class.getModule().isNativeAccessEnabled()) {
            return mapped;
        }
        return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null).asReadOnly();
    }

    /**
     * The tensor called {@code name}.
     *
     * @throws IllegalArgumentException when there is none (the message names tensor and checkpoint)
     * @throws IllegalStateException    after {@link #close()}
     */
    public MappedTensor tensor(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "no tensor '" + name + "' in " + path));
    }

    /** The tensor called {@code name}, if present. */
    public Optional<MappedTensor> find(String name) {
        checkOpen();
        return Optional.ofNullable(tensors.get(name));
    }

    /** Every tensor, sorted by name. */
    public Collection<MappedTensor> tensors() {
        checkOpen();
        return tensors.values();
    }

    /** The {@code __metadata__} of the file(s); for shards, merged (first shard wins on a clash). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The file or folder this checkpoint was opened from. */
    public Path path() {
        return path;
    }

    /**
     * Checks that no mapped file changed on disk since it was mapped (size, modification time, identity).
     *
     * @throws IllegalStateException naming the file and what changed; the checkpoint must be opened again
     */
    public void checkUnchanged() {
        checkOpen();
        for (FileStamp stamp : stamps) {
            String change = stamp.change();
            if (change != null) {
                throw new IllegalStateException(stamp.file() + ": changed on disk since it was mapped (" + change
                        + "); load the model again to use the new file");
            }
        }
    }

    /** Unmaps every file. Idempotent. Tensors handed out before become unusable (IllegalStateException). */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        arena.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("checkpoint " + path + " is closed");
        }
    }
}
