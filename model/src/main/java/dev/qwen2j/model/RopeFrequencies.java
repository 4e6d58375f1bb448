package dev.qwen2j.model;

import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.config.RopeScaling;
import dev.qwen2j.tensor.RopeTable;

import java.util.Locale;

/**
 * Rotary embedding frequencies exactly as transformers' {@code modeling_rope_utils} computes them: default,
 * linear, dynamic NTK and YaRN. Every step runs in F32 where PyTorch runs it in F32 (the exponents
 * {@code 2i/d}, the powers, the reciprocals), and in double where Python runs it on plain floats (YaRN's
 * correction range and attention factor), so the tables match bit for bit or within one ulp of {@code powf}.
 */
final class RopeFrequencies {

    private RopeFrequencies() {
    }

    /** The table for this model at load time (dynamic NTK starts out as the default table). */
    static RopeTable of(Qwen2Config config) {
        return of(config, config.maxPositionEmbeddings());
    }

    /**
     * The table for a sequence of {@code sequenceLength} tokens. Only dynamic NTK depends on the length:
     * transformers recomputes its base once the sequence outgrows {@code max_position_embeddings}.
     */
    static RopeTable of(Qwen2Config config, int sequenceLength) {
        int dim = config.headDim();
        double theta = config.ropeTheta();
        RopeScaling scaling = config.ropeScaling();
        String type = scaling == null || scaling.type() == null ? "default" : scaling.type().toLowerCase(Locale.ROOT);
        return switch (type) {
            case "default" -> new RopeTable(defaultInvFreq(theta, dim), 1f);
            case "linear" -> new RopeTable(linear(theta, dim, scaling.factor()), 1f);
            case "dynamic" -> new RopeTable(
                    dynamicNtk(theta, dim, scaling.factor(), config.maxPositionEmbeddings(), sequenceLength), 1f);
            case "yarn" -> yarn(theta, dim, scaling, config.maxPositionEmbeddings());
            default -> throw new IllegalArgumentException("config.json: rope_scaling type '" + scaling.type()
                    + "' is not supported (supported: default, linear, dynamic, yarn)");
        };
    }

    /** True when the table changes with the sequence length (dynamic NTK). */
    static boolean dependsOnLength(Qwen2Config config) {
        RopeScaling scaling = config.ropeScaling();
        return scaling != null && "dynamic".equalsIgnoreCase(scaling.type());
    }

    /** {@code 1 / theta^(2i/d)}: torch.arange(0, d, 2).float() / d, then base ** that, all F32. */
    static float[] defaultInvFreq(double theta, int dim) {
        float[] invFreq = new float[dim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            invFreq[i] = 1f / powF32(theta, exponent(i, dim));
        }
        return invFreq;
    }

    /** Linear (position interpolation): the default frequencies divided by the factor. */
    static float[] linear(double theta, int dim, double factor) {
        float[] invFreq = defaultInvFreq(theta, dim);
        for (int i = 0; i < invFreq.length; i++) {
            invFreq[i] = invFreq[i] / (float) factor;
        }
        return invFreq;
    }

    /**
     * Dynamic NTK: unchanged up to {@code maxPositions}; beyond, the base grows to
     * {@code theta · (factor·len/maxPositions − (factor − 1))^(d/(d−2))} (Python floats, so double).
     */
    static float[] dynamicNtk(double theta, int dim, double factor, int maxPositions, int sequenceLength) {
        int length = Math.max(sequenceLength, maxPositions);
        double base = theta * Math.pow(factor * length / maxPositions - (factor - 1), (double) dim / (dim - 2));
        return defaultInvFreq(base, dim);
    }

    /**
     * YaRN: frequencies below the correction range are interpolated (divided by the factor), those above kept,
     * a linear ramp in between; cos and sin are scaled by the attention factor ({@code 0.1·ln(factor) + 1}
     * unless the config gives it, or the mscale ratio when both mscale fields are set).
     */
    static RopeTable yarn(double theta, int dim, RopeScaling scaling, int maxPositions) {
        double factor = scaling.factor();
        int original = scaling.originalMaxPositionEmbeddings() > 0 ? scaling.originalMaxPositionEmbeddings() : maxPositions;

        double attentionFactor;
        if (scaling.attentionFactor() != null) {
            attentionFactor = scaling.attentionFactor();
        } else if (isSet(scaling.mscale()) && isSet(scaling.mscaleAllDim())) {
            attentionFactor = mscale(factor, scaling.mscale()) / mscale(factor, scaling.mscaleAllDim());
        } else {
            attentionFactor = mscale(factor, 1);
        }
        double betaFast = isSet(scaling.betaFast()) ? scaling.betaFast() : 32;
        double betaSlow = isSet(scaling.betaSlow()) ? scaling.betaSlow() : 1;

        // find_correction_range with truncate=True (the default): floor the low end, ceil the high end.
        double low = Math.max(Math.floor(correctionDim(betaFast, dim, theta, original)), 0);
        double high = Math.min(Math.ceil(correctionDim(betaSlow, dim, theta, original)), dim - 1);
        if (low == high) {
            high += 0.001; // transformers' guard against a zero-width ramp
        }
        float lowF = (float) low;
        float span = (float) (high - low);

        float[] invFreq = new float[dim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            float posFreq = powF32(theta, exponent(i, dim));
            float extrapolation = 1f / posFreq;
            float interpolation = 1f / ((float) factor * posFreq);
            float ramp = Math.clamp(((float) i - lowF) / span, 0f, 1f);
            float extrapolationFactor = 1f - ramp;
            invFreq[i] = interpolation * (1f - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return new RopeTable(invFreq, (float) attentionFactor);
    }

    private static boolean isSet(Double value) {
        // Python's `x or default` treats 0 like absent; so do we.
        return value != null && value != 0.0;
    }

    private static double mscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    private static double correctionDim(double rotations, int dim, double base, int maxPositions) {
        return dim * Math.log(maxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** {@code (2i).float() / d} in F32. */
    private static float exponent(int i, int dim) {
        return (float) (2 * i) / (float) dim;
    }

    /** PyTorch's {@code python_float ** f32_tensor}: the base is rounded to F32 and the power taken in F32. */
    private static float powF32(double base, float exponent) {
        return (float) Math.pow((float) base, exponent);
    }
}
