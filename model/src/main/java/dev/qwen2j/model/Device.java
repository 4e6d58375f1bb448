package dev.qwen2j.model;

import java.util.Locale;

/**
 * Where a model runs, as {@code --device} spells it: {@code cpu}, {@code cuda} (device 0), {@code cuda:N}, or
 * {@code auto} (CUDA when a usable device is there, else the CPU with one line saying why).
 *
 * @param kind  the device kind
 * @param index the CUDA device's number ({@code cuda:N}); 0 otherwise
 */
public record Device(Kind kind, int index) {

    /** The device kinds. */
    public enum Kind { CPU, CUDA, AUTO }

    public static final Device CPU = new Device(Kind.CPU, 0);
    public static final Device AUTO = new Device(Kind.AUTO, 0);

    public Device {
        if (kind == null) {
            throw new IllegalArgumentException("device kind is null");
        }
        if (index < 0 || index > 0 && kind != Kind.CUDA) {
            throw new IllegalArgumentException("device index must be >= 0, and only cuda has one; got " + kind + ":" + index);
        }
    }

    /** Parses {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto}; anything else is an error naming it. */
    public static Device parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "cpu" -> {
                return CPU;
            }
            case "cuda" -> {
                return new Device(Kind.CUDA, 0);
            }
            case "auto" -> {
                return AUTO;
            }
            default -> {
                if (t.startsWith("cuda:") && t.length() > 5 && t.substring(5).chars().allMatch(Character::isDigit)) {
                    try {
                        return new Device(Kind.CUDA, Integer.parseInt(t.substring(5)));
                    } catch (NumberFormatException e) {
                        // too large: the error below
                    }
                }
                throw new IllegalArgumentException("device must be cpu, cuda, cuda:N or auto, got '" + text + "'");
            }
        }
    }

    @Override
    public String toString() {
        return kind == Kind.CUDA ? "cuda:" + index : kind.name().toLowerCase(Locale.ROOT);
    }
}
