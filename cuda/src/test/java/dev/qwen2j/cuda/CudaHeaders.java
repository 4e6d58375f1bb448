package dev.qwen2j.cuda;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads C declarations out of the CUDA toolkit's headers, to check the FFM bindings against them. */
final class CudaHeaders {

    private final String text;
    private final Map<String, String> defines = new HashMap<>();
    private final Set<String> pointerTypes = new HashSet<>();
    private final Set<String> enumTypes = new HashSet<>();

    private CudaHeaders(String text) {
        this.text = text;
        Matcher d = Pattern.compile("#define\\s+(\\w+)\\s+(?:__CUDA_API_PTDS\\(|__CUDA_API_PTSZ\\()?(\\w+)\\)?").matcher(text);
        while (d.find()) {
            defines.putIfAbsent(d.group(1), d.group(2));
        }
        Matcher p = Pattern.compile("typedef\\s+struct\\s+\\w+\\s*\\*\\s*(\\w+)\\s*;").matcher(text);
        while (p.find()) {
            pointerTypes.add(p.group(1));
        }
        Matcher e = Pattern.compile("typedef\\s+enum\\s+\\w*\\s*\\{[^}]*}\\s*(\\w+)\\s*;").matcher(text);
        while (e.find()) {
            enumTypes.add(e.group(1));
        }
        Matcher alias = Pattern.compile("typedef\\s+(\\w+)\\s+(\\w+)\\s*;").matcher(text);
        while (alias.find()) {
            if (enumTypes.contains(alias.group(1))) {
                enumTypes.add(alias.group(2));
            }
            if (pointerTypes.contains(alias.group(1))) {
                pointerTypes.add(alias.group(2));
            }
        }
    }

    /** {@code cuda.h} under {@code CUDA_HOME} or {@code /usr/local/cuda}, if the toolkit is installed. */
    static Optional<CudaHeaders> driver() throws IOException {
        for (String home : new String[]{System.getenv("CUDA_HOME"), "/usr/local/cuda"}) {
            if (home != null && Files.isRegularFile(Path.of(home, "include", "cuda.h"))) {
                return Optional.of(new CudaHeaders(Files.readString(Path.of(home, "include", "cuda.h"))));
            }
        }
        return Optional.empty();
    }

    /** The symbol a declared name compiles to: itself, or what a {@code #define} maps it to. */
    String exportedName(String declared) {
        return defines.getOrDefault(declared, declared);
    }

    /** The parameter types of the first declaration {@code CUresult CUDAAPI name(...)}, as FFM layouts. */
    List<MemoryLayout> parameters(String declared) {
        Matcher m = Pattern.compile("CUresult\\s+CUDAAPI\\s+" + declared + "\\s*\\(([^)]*)\\)\\s*;").matcher(text);
        if (!m.find()) {
            throw new AssertionError("cuda.h declares no " + declared);
        }
        List<MemoryLayout> layouts = new ArrayList<>();
        String list = m.group(1).replaceAll("\\s+", " ").trim();
        if (list.isEmpty() || list.equals("void")) {
            return layouts;
        }
        for (String parameter : list.split(",")) {
            layouts.add(layoutOf(parameter.trim(), declared));
        }
        return layouts;
    }

    private MemoryLayout layoutOf(String parameter, String function) {
        if (parameter.contains("*")) {
            return ValueLayout.ADDRESS;
        }
        String type = parameter.substring(0, parameter.lastIndexOf(' ')).replace("const ", "").trim();
        if (pointerTypes.contains(type)) {
            return ValueLayout.ADDRESS;
        }
        if (type.equals("size_t") || type.equals("CUdeviceptr") || type.equals("unsigned long long")) {
            return ValueLayout.JAVA_LONG;
        }
        if (type.equals("int") || type.equals("unsigned int") || type.equals("CUdevice") || enumTypes.contains(type)) {
            return ValueLayout.JAVA_INT;
        }
        throw new AssertionError(function + ": no layout rule for the C type '" + type + "'");
    }
}
