package dev.qwen2j.tensor;

import java.util.List;

/** A tensor seen as a {@link PackedMatrix}: dequantizing is reading, decode is the scalar dot product. */
record TensorAsPacked(Tensor tensor) implements PackedMatrix {

    private static final PackedKernels<float[]> DECODE = new PackedKernels<>() {
        @Override
        public float[] prepare(float[] x, int cols) {
            return x;
        }

        @Override
        public void matvec(PackedMatrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias) {
            float[] row = new float[w.cols()];
            for (int r = rowFrom; r < rowTo; r++) {
                w.dequantize(r, 0, w.cols(), row, 0);
                float sum = 0f;
                for (int k = 0; k < row.length; k++) {
                    sum += row[k] * x[k];
                }
                y[yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
            }
        }
    };

    static List<PackedMatrix> of(List<Tensor> tensors) {
        return tensors.stream().<PackedMatrix>map(TensorAsPacked::new).toList();
    }

    @Override
    public String name() {
        return tensor.name();
    }

    @Override
    public int rows() {
        return tensor.rows();
    }

    @Override
    public int cols() {
        return tensor.cols();
    }

    @Override
    public long byteSize() {
        return tensor.data().byteSize();
    }

    @Override
    public void dequantize(int row, int k0, int width, float[] out, int offset) {
        for (int k = 0; k < width; k++) {
            out[offset + k] = TestTensors.element(tensor, (long) row * tensor.cols() + k0 + k);
        }
    }

    @Override
    public PackedKernels<?> decodeKernels(int vectorBits) {
        return DECODE;
    }
}
