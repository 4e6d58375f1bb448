package dev.qwen2j.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A temporary folder {@code parent/<prefix><random>} that is written, then renamed into its final place, and whose
 * owner holds an exclusive lock on the file {@code <folder>.lock} beside it for as long as it works on it.
 *
 * <p>The OS releases a lock when its holder exits, however it ends (SIGKILL and a power cut included), so a folder
 * whose lock can be taken has no owner any more and {@link #removeAbandoned} deletes it; a folder whose lock is held
 * is left alone. A lock rather than a file with the owner's pid: pids are reused, and they mean nothing across the
 * containers or machines that may share one cache folder, where a live owner would look dead. Only names that start
 * with the given prefix are ever touched.
 */
final class OwnedTempFolder implements AutoCloseable {

    private static final String LOCK_SUFFIX = ".lock";
    /**
     * A folder of ours without a lock file predates the locks (or lost its lock file to someone else): removed once
     * it is this old, which no unpacking or synth takes.
     */
    private static final Duration UNLOCKED_AGE = Duration.ofHours(1);
    /** A lock file without a folder is being set up (or was left by a crash); removed once it is this old. */
    private static final Duration LONE_LOCK_AGE = Duration.ofMinutes(1);

    private final Path folder;
    private final Path lockFile;
    private final FileChannel channel;

    private OwnedTempFolder(Path folder, Path lockFile, FileChannel channel) {
        this.folder = folder;
        this.lockFile = lockFile;
        this.channel = channel;
    }

    /** Removes what dead owners left in {@code parent}, then creates a new folder there, locked by this process. */
    static OwnedTempFolder create(Path parent, String prefix) throws IOException {
        try {
            removeAbandoned(parent, prefix);
        } catch (IOException | UncheckedIOException e) {
            // best effort: debris that cannot be removed now must not stop this run
        }
        Path lockFile = Files.createTempFile(parent, prefix, LOCK_SUFFIX);
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
        try {
            channel.lock(); // released with the channel, or by the OS when this process dies
            Path folder = folderOf(lockFile);
            Files.createDirectory(folder);
            return new OwnedTempFolder(folder, lockFile, channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(lockFile);
            throw e;
        }
    }

    /** The folder to write into. */
    Path path() {
        return folder;
    }

    /** Deletes the folder (unless it was renamed away), then the lock file, then releases the lock. */
    @Override
    public void close() throws IOException {
        try {
            Folders.deleteRecursively(folder);
            Files.deleteIfExists(lockFile);
        } finally {
            channel.close();
        }
    }

    /**
     * Deletes the folders {@code parent/<prefix>*} whose owner is gone (their lock is free), and lone lock files;
     * skips every one whose owner is still at work, in this process or another.
     */
    static void removeAbandoned(Path parent, String prefix) throws IOException {
        List<Path> folders = new ArrayList<>();
        List<Path> lockFiles = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, glob(prefix))) {
            for (Path entry : entries) {
                (entry.getFileName().toString().endsWith(LOCK_SUFFIX) ? lockFiles : folders).add(entry);
            }
        } catch (NoSuchFileException e) {
            return;
        }
        for (Path folder : folders) {
            Path lockFile = folder.resolveSibling(folder.getFileName() + LOCK_SUFFIX);
            if (Files.exists(lockFile)) {
                removeIfUnlocked(lockFile, folder);
            } else if (olderThan(folder, UNLOCKED_AGE)) {
                Folders.deleteRecursively(folder);
            }
        }
        for (Path lockFile : lockFiles) {
            if (Files.notExists(folderOf(lockFile)) && olderThan(lockFile, LONE_LOCK_AGE)) {
                removeIfUnlocked(lockFile, folderOf(lockFile));
            }
        }
    }

    /** Takes the lock if it is free, deletes the folder and the lock file while holding it. */
    private static void removeIfUnlocked(Path lockFile, Path folder) throws IOException {
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                return; // held by this very process
            }
            if (lock == null) {
                return; // held by a live process
            }
            Folders.deleteRecursively(folder);
            Files.deleteIfExists(lockFile);
        } catch (NoSuchFileException e) {
            // another process cleaned it up meanwhile
        }
    }

    private static Path folderOf(Path lockFile) {
        String name = lockFile.getFileName().toString();
        return lockFile.resolveSibling(name.substring(0, name.length() - LOCK_SUFFIX.length()));
    }

    private static boolean olderThan(Path path, Duration age) {
        try {
            return Files.getLastModifiedTime(path).toInstant().isBefore(Instant.now().minus(age));
        } catch (IOException e) {
            return false; // gone already, or not ours to judge
        }
    }

    /** A glob matching names that start with {@code prefix} (glob characters in it taken literally). */
    private static String glob(String prefix) {
        return prefix.replaceAll("([\\\\*?\\[\\]{}])", "\\\\$1") + "*";
    }
}
