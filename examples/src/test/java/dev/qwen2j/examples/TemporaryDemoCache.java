package dev.qwen2j.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Points the demo model's cache ({@code qwen2j.cache}) at a fresh temporary folder for one test class, so that
 * tests never touch the user's cache; restores the previous value and deletes the folder afterwards.
 */
final class TemporaryDemoCache implements BeforeAllCallback, AfterAllCallback {

    private static final String PROPERTY = "qwen2j.cache";
    private String previous;
    private Path folder;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        previous = System.getProperty(PROPERTY);
        folder = Files.createTempDirectory("qwen2j-cache-");
        System.setProperty(PROPERTY, folder.toString());
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        if (previous == null) {
            System.clearProperty(PROPERTY);
        } else {
            System.setProperty(PROPERTY, previous);
        }
        Folders.deleteRecursively(folder);
    }
}
