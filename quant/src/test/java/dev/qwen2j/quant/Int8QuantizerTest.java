package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Round-to-nearest int8: every element within half a step of its group's scale, the largest one exactly ±127. */
class Int8QuantizerTest {

    @Test
    void everyElementWithinHalfAStep() {
        Random random = new Random(5);
        for (int group : new int[]{32, 64, 96}) {
            Tensor w = Int8KernelTest.randomTensor("w", 7, 96 * 2, random);
            Int8Matrix q = Int8Quantizer.quantize(w, group);
            float[] row = new float[w.cols()];
            for (int r = 0; r < w.rows(); r++) {
                q.dequantize(r, 0, w.cols(), row, 0);
                for (int g = 0; g < q.groups(); g++) {
                    float scale = q.scales()[r * q.groups() + g];
                    int extremes = 0;
                    for (int k = g * group; k < (g + 1) * group; k++) {
                        float original = element(w, (long) r * w.cols() + k);
                        assertTrue(Math.abs(row[k] - original) <= scale / 2 * (1 + 1e-6f),
                                "group " + group + " row " + r + " col " + k);
                        extremes += Math.abs(q.value(r, k)) == 127 ? 1 : 0;
                    }
                    assertTrue(extremes >= 1, "the largest magnitude maps to ±127");
                }
            }
        }
    }

    @Test
    void roundingIsTorchsHalfToEvenClamped() {
        Random random = new Random(3);
        for (int i = 0; i < 200_000; i++) {
            float v = switch (i % 4) {
                case 0 -> (random.nextInt(600) - 300) / 2f; // exact ties and integers, in and out of range
                case 1 -> (float) (random.nextGaussian() * 60);
                case 2 -> Math.nextUp((random.nextInt(300) - 150) + 0.5f);
                default -> Math.nextDown((random.nextInt(300) - 150) + 0.5f);
            };
            byte expected = (byte) Math.max(-127, Math.min(127, (int) Math.rint(v)));
            assertEquals(expected, Int8Quantizer.roundToInt8(v), "v = " + v);
        }
        assertEquals(0, Int8Quantizer.roundToInt8(Float.NaN));
        assertEquals(127, Int8Quantizer.roundToInt8(Float.POSITIVE_INFINITY));
        assertEquals(-127, Int8Quantizer.roundToInt8(-1e30f));
    }

    @Test
    void zeroGroupsGetZeroScale() {
        Tensor w = Int8KernelTest.randomTensor("w", 1, 32, new Random(1));
        w.data().fill((byte) 0);
        Int8Matrix q = Int8Quantizer.quantize(w, 32);
        assertEquals(0f, q.scales()[0]);
        assertEquals(0, q.value(0, 5));
    }

    @Test
    void bf16ScalesStayConsistent() {
        Tensor w = Int8KernelTest.randomTensor("w", 3, 64, new Random(9));
        Int8Matrix q = Int8Quantizer.allocate(w, 32);
        Int8Quantizer.quantizeRows(w, q, 0, 3, DType.BF16);
        for (float scale : q.scales()) {
            assertEquals(scale, Int8Quantizer.roundTo(scale, DType.BF16), "stored scales are exact bf16 values");
        }
    }

    @Test
    void groupMustDivideTheRow() {
        Tensor w = Int8KernelTest.randomTensor("model.layers.0.mlp.up_proj.weight", 2, 48, new Random(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Int8Quantizer.quantize(w, 32));
        assertTrue(e.getMessage().contains("up_proj") && e.getMessage().contains("32"), e.getMessage());
    }

    static float element(Tensor t, long index) {
        return t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * index);
    }
}
