package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java snippet must compile against the public API and run on the demo model. */
class ReadmeSnippetTest {

    @TempDir
    Path cache;

    /** The one ```java block of the project README. */
    static String snippet() throws IOException {
        Path readme = Path.of("..", "README.md");
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(readme));
        assertTrue(m.find(), "README.md has no ```java block");
        String code = m.group(1);
        assertTrue(!m.find(), "README.md has more than one ```java block; this test runs the first only");
        return code;
    }

    @Test
    void readmeSnippetCompilesAndRunsOnTheDemoModel() throws Exception {
        String code = snippet();
        Matcher name = Pattern.compile("public class (\\w+)").matcher(code);
        assertTrue(name.find(), "the snippet declares no public class");
        String className = name.group(1);

        Map<String, byte[]> classes = compile(className, code);
        ClassLoader loader = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> findClass(String n) throws ClassNotFoundException {
                byte[] bytes = classes.get(n);
                if (bytes == null) {
                    throw new ClassNotFoundException(n);
                }
                return defineClass(n, bytes, 0, bytes.length);
            }
        };
        Method main = loader.loadClass(className).getMethod("main", String[].class);

        Path demo = DemoModel.unpackInto(cache);
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.invoke(null, (Object) new String[] {demo.toString()});
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertTrue(output.startsWith("<think>\n8+9=17\n5+7+1=13\n3+4+1=8\n</think>\n\n837\n"), output);
        assertTrue(output.contains("5555\n[EOS: "), output); // 1234+4321, sampled with a fixed seed
    }

    private static Map<String, byte[]> compile(String className, String code) throws IOException {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertNotNull(compiler, "tests need a JDK, not a JRE");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        Map<String, byte[]> classes = new HashMap<>();
        JavaFileObject source = new SimpleJavaFileObject(URI.create("string:///" + className + ".java"),
                JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return code;
            }
        };
        try (StandardJavaFileManager standard = compiler.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8);
             JavaFileManager inMemory = new ForwardingJavaFileManager<>(standard) {
                 @Override
                 public JavaFileObject getJavaFileForOutput(Location location, String name, JavaFileObject.Kind kind,
                                                            FileObject sibling) {
                     return new SimpleJavaFileObject(URI.create("mem:///" + name + kind.extension), kind) {
                         @Override
                         public OutputStream openOutputStream() {
                             return new ByteArrayOutputStream() {
                                 @Override
                                 public void close() {
                                     classes.put(name, toByteArray());
                                 }
                             };
                         }
                     };
                 }
             }) {
            List<String> options = List.of("--add-modules", "jdk.incubator.vector",
                    "-classpath", System.getProperty("java.class.path"));
            boolean ok = compiler.getTask(null, inMemory, diagnostics, options, null, List.of(source)).call();
            assertTrue(ok, "README snippet does not compile: " + diagnostics.getDiagnostics());
        }
        assertEquals(true, classes.containsKey(className), "compiled " + classes.keySet());
        return classes;
    }
}
