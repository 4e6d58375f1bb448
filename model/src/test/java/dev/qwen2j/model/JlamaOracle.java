package dev.qwen2j.model;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Jlama 0.8.4 as an independent oracle for the forward pass: it reads the same Hugging Face folder with its own
 * loader and kernels. Jlama hands out probabilities (softmax of the logits), so comparisons are on
 * log-probabilities, which equal the logits up to one constant per position.
 *
 * <p>Jlama's working memory is F32, but for a BF16 checkpoint it rounds the activations to BF16 before every
 * matrix product (its "quantized memory type" follows the weights); for F32 checkpoints it computes in F32.
 */
final class JlamaOracle implements AutoCloseable {

    private final AbstractModel model;
    private final KvBufferCache caches;

    JlamaOracle(Path folder) {
        this.model = ModelSupport.loadModel(folder.toFile(), DType.F32, DType.F32);
        this.caches = new KvBufferCache(model);
    }

    /** A sequence being decoded, with its own KV cache. */
    final class Sequence implements AutoCloseable {
        private final KvBufferCache.KvBuffer kv = caches.getEphemeralKvBuffer();
        private int position;

        /** Feeds the prompt as one batch; returns the log-probabilities of the next token. */
        float[] prefill(int[] prompt) {
            AbstractTensor out = model.batchForward(prompt, 0, kv);
            position = prompt.length;
            return log(model.getLogits(out.slice(out.shape().first() - 1)));
        }

        /** Feeds one token; returns the log-probabilities of the next. */
        float[] decode(int token) {
            AbstractTensor out = model.forward(token, position++, kv, Optional.empty());
            return log(model.getLogits(out));
        }

        @Override
        public void close() {
            kv.close();
        }
    }

    Sequence sequence() {
        return new Sequence();
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static float[] log(float[] probs) {
        float[] out = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            out[i] = (float) Math.log(probs[i]);
        }
        return out;
    }

    @Override
    public void close() {
        model.close();
    }
}
