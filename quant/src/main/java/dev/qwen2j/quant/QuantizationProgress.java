package dev.qwen2j.quant;

/** Told how far quantizing got, in weights done of all to do; called from any thread, never concurrently. */
@FunctionalInterface
public interface QuantizationProgress {

    /** Reports nothing. */
    QuantizationProgress NONE = (done, total) -> { };

    void update(long done, long total);
}
