package dev.qwen2j.quant;

import dev.qwen2j.tensor.SpeciesCopies;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;

/**
 * Vector API int8 decode kernels, one compiled copy per width ({@link SpeciesCopies}; so no nested classes here).
 * Each load takes {@code 2·L} int8 weights (half a vector's bits) and widens them in two parts of L lanes, to F32 for
 * int8 × F32 or to int32 for int8 × int8. A row is one sequential stream, as for bf16. Groups whose size is not a
 * multiple of {@code 2·L} (odd shapes) finish with scalar tails.
 *
 * <p>Loaded only after {@code jdk.incubator.vector} was found; see {@link Int8Decode}.
 */
final class VectorInt8Kernels implements Int8Kernels {

    static final VectorSpecies<Float> F = SpeciesCopies.floatSpecies(MethodHandles.lookup());
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Bytes with twice as many lanes as F: half its bits. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int L = F.length();
    static final int STEP = 2 * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public void matvecF32(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias) {
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        int cols = w.cols();
        int group = w.groupSize();
        int groups = w.groups();
        int vectorized = group - group % STEP;
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols;
            FloatVector acc = FloatVector.zero(F);
            float tail = 0f;
            for (int g = 0; g < groups; g++) {
                int k0 = g * group;
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = FloatVector.zero(F);
                for (int k = k0; k < k0 + vectorized; k += STEP) {
                    ByteVector b = ByteVector.fromMemorySegment(B, data, base + k, LE);
                    a0 = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, k), a0);
                    a1 = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, k + L), a1);
                }
                float scale = scales[r * groups + g];
                acc = a0.add(a1).fma(FloatVector.broadcast(F, scale), acc);
                if (vectorized < group) {
                    float groupTail = 0f;
                    for (int k = k0 + vectorized; k < k0 + group; k++) {
                        groupTail += data.get(ValueLayout.JAVA_BYTE, base + k) * x[k];
                    }
                    tail += groupTail * scale;
                }
            }
            float sum = acc.reduceLanes(VectorOperators.ADD) + tail;
            y[yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
        }
    }

    @Override
    public void matvecInt8(Int8Matrix w, int rowFrom, int rowTo, Int8Input x, float[] y, int yColumn, float[] bias) {
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        byte[] q = x.values();
        float[] xScales = x.scales();
        int cols = w.cols();
        int groups = w.groups();
        int blocksPerGroup = w.groupSize() / Int8Input.BLOCK;
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < cols / Int8Input.BLOCK; b++) {
                int k0 = b * Int8Input.BLOCK;
                IntVector dot = IntVector.zero(I);
                for (int k = k0; k < k0 + Int8Input.BLOCK; k += STEP) { // BLOCK is a multiple of STEP at every width
                    ByteVector wb = ByteVector.fromMemorySegment(B, data, base + k, LE);
                    ByteVector xb = ByteVector.fromArray(B, q, k);
                    dot = dot.add(((IntVector) wb.convertShape(VectorOperators.B2I, I, 0))
                                    .mul((IntVector) xb.convertShape(VectorOperators.B2I, I, 0)))
                            .add(((IntVector) wb.convertShape(VectorOperators.B2I, I, 1))
                                    .mul((IntVector) xb.convertShape(VectorOperators.B2I, I, 1)));
                }
                float scale = xScales[b] * scales[r * groups + b / blocksPerGroup];
                acc = ((FloatVector) dot.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, scale), acc);
            }
            float sum = acc.reduceLanes(VectorOperators.ADD);
            y[yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
        }
    }
}
