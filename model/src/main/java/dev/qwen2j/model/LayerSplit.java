package dev.qwen2j.model;

import dev.qwen2j.tensor.Backend;

import java.util.ArrayList;
import java.util.List;

/**
 * Which backend computes each decoder layer: the first {@code firstLayers} on {@code first} (a GPU), the rest on
 * {@code rest} (the CPU), like llama.cpp's {@code -ngl}. The vocabulary stays with the rest: the embedding lookup,
 * the final norm and the lm_head run there, so a split spends the device's memory on layers alone. The hidden state
 * crosses at the boundary (and the looked-up embeddings on the way in). A model on one backend is
 * {@link #of(Backend, int)}.
 */
record LayerSplit(Backend first, int firstLayers, Backend rest, int layers) {

    LayerSplit {
        if (layers < 1 || firstLayers < 0 || firstLayers > layers) {
            throw new IllegalArgumentException("gpu layers: " + firstLayers + " of a model with " + layers + " layers");
        }
        if (firstLayers < layers && rest == null || firstLayers > 0 && first == null) {
            throw new IllegalArgumentException("a backend for every layer: " + firstLayers + " of " + layers
                    + " layers on " + first + ", the rest on " + rest);
        }
    }

    /** Every layer on {@code backend}. */
    static LayerSplit of(Backend backend, int layers) {
        return new LayerSplit(backend, layers, backend, layers);
    }

    /** The backend of layer {@code layer}. */
    Backend of(int layer) {
        return layer < firstLayers ? first : rest;
    }

    /** The backend of the embedding lookup: the rest's in a split, else the one backend. */
    Backend embedding() {
        return isSplit() ? rest : of(0);
    }

    /** The backend of the final norm and lm_head (the last layer's). */
    Backend head() {
        return of(layers - 1);
    }

    /** True when two backends share the layers and the hidden state crosses between them. */
    boolean isSplit() {
        return first != rest && firstLayers > 0 && firstLayers < layers;
    }

    /** The backends it was given, each once (a model closes them all, whether they got layers or not). */
    List<Backend> backends() {
        List<Backend> all = new ArrayList<>(2);
        if (first != null) {
            all.add(first);
        }
        if (rest != null && rest != first) {
            all.add(rest);
        }
        return all;
    }

    /** For logs and bench output: the backend's name, or both with the layer counts. */
    String describe() {
        return isSplit() ? first.name() + " (" + firstLayers + " layers) + " + rest.name() + " ("
                + (layers - firstLayers) + " layers)" : embedding().name();
    }
}
