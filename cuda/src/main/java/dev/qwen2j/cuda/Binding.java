package dev.qwen2j.cuda;

import java.lang.foreign.FunctionDescriptor;

/**
 * One C function qwen2j calls: the name its header declares ({@code cuMemAlloc}), the symbol the library exports
 * for it ({@code cuMemAlloc_v2}: the headers map the first to the second with a {@code #define}), and its C
 * signature as an FFM descriptor.
 */
public record Binding(String declared, String exported, FunctionDescriptor descriptor) {
}
