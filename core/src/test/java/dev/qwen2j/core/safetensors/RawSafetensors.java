package dev.qwen2j.core.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes safetensors bytes by hand, so tests can build files the writer would refuse to produce. */
final class RawSafetensors {

    private RawSafetensors() {
    }

    static byte[] bytes(String headerJson, byte[] data) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return bytes(header.length, header, data);
    }

    static byte[] bytes(long declaredHeaderLength, byte[] header, byte[] data) {
        ByteBuffer buffer = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(declaredHeaderLength).put(header).put(data);
        return buffer.array();
    }

    static Path write(Path file, String headerJson, byte[] data) throws IOException {
        return Files.write(file, bytes(headerJson, data));
    }

    static Path write(Path file, String headerJson, int dataBytes) throws IOException {
        return write(file, headerJson, new byte[dataBytes]);
    }
}
