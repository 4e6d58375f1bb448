package dev.qwen2j.spark;

import dev.qwen2j.core.checkpoint.BundledTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The demo model unpacked for tests, from the examples module's shipped files (this module sits above examples,
 * so it reads them as files rather than through examples' DemoModel).
 */
final class DemoFolder {

    private DemoFolder() {
    }

    static Path unpackInto(Path folder) throws IOException {
        Path shipped = Path.of(System.getProperty("qwen2j.demo.resources",
                "../examples/src/main/resources/dev/qwen2j/examples/demo"));
        Files.createDirectories(folder);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(shipped.resolve("model.safetensors.gz")), 1 << 16)) {
            Files.copy(in, folder.resolve("model.safetensors"));
        }
        for (String name : new String[] {"config.json", "generation_config.json"}) {
            Files.copy(shipped.resolve(name), folder.resolve(name));
        }
        BundledTokenizer.copyTo(folder);
        return folder;
    }
}
