package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.PackedKernels;
import dev.qwen2j.tensor.PackedMatrix;
import dev.qwen2j.tensor.SpeciesCopies;
import dev.qwen2j.tensor.Tensor;

import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The decode kernels of {@link Int8Matrix} at one vector width (0: scalar) with one {@link Int8Activations} choice:
 * the seam {@code CpuBackend} calls. Built once per JVM and width; the Vector API copies are only built for a width
 * above 0, which {@code CpuBackend} only reports when {@code jdk.incubator.vector} is present.
 */
public final class Int8Decode implements PackedKernels<Int8Input> {

    private static final Map<String, Int8Decode> BUILT = new ConcurrentHashMap<>();

    private final Int8Kernels kernels;
    private final Int8Activations activations;
    private final ThreadLocal<Int8Input> inputs = ThreadLocal.withInitial(Int8Input::new);

    private Int8Decode(Int8Kernels kernels, Int8Activations activations) {
        this.kernels = kernels;
        this.activations = activations;
    }

    /** The kernels for {@code vectorBits} with the activations {@code -Dqwen2j.int8.activations} chooses, else the faster at that width. */
    static Int8Decode forBits(int vectorBits) {
        return of(vectorBits, Int8Activations.requested(vectorBits));
    }

    /**
     * The kernels of a {@linkplain Int8Matrix#tiled() tiled} matrix: int8 × F32 always, since its kernel's broadcast
     * input costs less than quantizing the activations would save.
     */
    static Int8Decode tiled(int vectorBits) {
        return of(vectorBits, Int8Activations.F32);
    }

    /** The kernels for {@code vectorBits} (0: scalar; 128, 256, 512: the Vector API) and {@code activations}. */
    public static Int8Decode of(int vectorBits, Int8Activations activations) {
        return BUILT.computeIfAbsent(vectorBits + "/" + activations, key -> new Int8Decode(vectorBits == 0
                ? new ScalarInt8Kernels()
                : SpeciesCopies.newInstance(MethodHandles.lookup(), VectorInt8Kernels.class, Int8Kernels.class, vectorBits),
                activations));
    }

    /** One row quantized by this width's kernels: see {@link Int8Kernels#quantizeRow}. */
    void quantizeRow(float[] row, int group, DType scaleType, float[] scales, int scaleOffset, byte[] out) {
        kernels.quantizeRow(row, group, scaleType, scales, scaleOffset, out);
    }

    /** Row {@code r} of {@code source} as F32 by this width's kernels: see {@link Int8Kernels#readRow}. */
    void readRow(Tensor source, int r, float[] out, short[] halves) {
        kernels.readRow(source, r, out, halves);
    }

    public Int8Activations activations() {
        return activations;
    }

    @Override
    public Int8Input prepare(float[] x, int cols) {
        return inputs.get().set(x, cols, activations == Int8Activations.INT8);
    }

    @Override
    public void dequantize(PackedMatrix w, int row, int k0, int width, float[] out, int offset) {
        kernels.dequantize((Int8Matrix) w, row, k0, width, out, offset);
    }

    @Override
    public boolean matmul(PackedMatrix w, int rowFrom, int rowTo, float[] x, int tokens, float[] y, int yStride,
                          int yColumn, float[] bias) {
        return kernels.matmul((Int8Matrix) w, rowFrom, rowTo, x, tokens, y, yStride, yColumn, bias);
    }

    @Override
    public void matvec(PackedMatrix w, int rowFrom, int rowTo, Int8Input x, float[] y, int yColumn, float[] bias) {
        Int8Matrix m = (Int8Matrix) w;
        if (x.quantized() && m.groupSize() % Int8Input.BLOCK == 0 && !m.tiled()) {
            kernels.matvecInt8(m, rowFrom, rowTo, x, y, yColumn, bias);
        } else {
            kernels.matvecF32(m, rowFrom, rowTo, x.x(), y, yColumn, bias);
        }
    }
}
