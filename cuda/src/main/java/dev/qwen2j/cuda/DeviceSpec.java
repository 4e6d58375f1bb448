package dev.qwen2j.cuda;

import java.util.Locale;

/**
 * Where a model runs, as {@code --device} spells it: {@code cpu}, {@code cuda} (device 0), {@code cuda:N}, or
 * {@code auto} (CUDA when a usable device is there, else the CPU with one line saying why).
 */
public record DeviceSpec(Kind kind, int index) {

    public enum Kind { CPU, CUDA, AUTO }

    public DeviceSpec {
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
    }

    /** Parses {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto}; anything else is an error naming it. */
    public static DeviceSpec parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "cpu" -> {
                return new DeviceSpec(Kind.CPU, 0);
            }
            case "cuda" -> {
                return new DeviceSpec(Kind.CUDA, 0);
            }
            case "auto" -> {
                return new DeviceSpec(Kind.AUTO, 0);
            }
            default -> {
                if (t.startsWith("cuda:")) {
                    try {
                        return new DeviceSpec(Kind.CUDA, Integer.parseInt(t.substring(5)));
                    } catch (IllegalArgumentException e) {
                        // falls through to the error below
                    }
                }
                throw new IllegalArgumentException("--device must be cpu, cuda, cuda:N or auto, got '" + text + "'");
            }
        }
    }
}
