package dev.qwen2j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.io.IOException;
import java.lang.constant.ConstantDescs;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * One kernel source, one compiled copy per vector width.
 *
 * <p>The Vector API compiles to SIMD instructions only where the species is a constant to the JIT; a species
 * read from an instance field or passed as an argument makes every vector operation a slow fallback that
 * allocates. So a kernel class keeps its species in a {@code static final} field, initialised by
 * {@link #floatSpecies(MethodHandles.Lookup)}, and {@link #newInstance} defines the same class file again as a
 * hidden class whose class data is another species: a second class, its own static field, its own compiled
 * code. The ordinary class runs at the preferred width, so tools that instrument it (coverage, mutation
 * testing) see the code that runs by default.
 */
public final class SpeciesCopies {

    private SpeciesCopies() {
    }

    /**
     * The species of the calling kernel class: the one it was copied for, or the preferred one for the ordinary
     * class. Call it from a static initializer with {@code MethodHandles.lookup()}.
     */
    @SuppressWarnings("unchecked")
    public static VectorSpecies<Float> floatSpecies(MethodHandles.Lookup lookup) {
        try {
            VectorSpecies<?> species = MethodHandles.classData(lookup, ConstantDescs.DEFAULT_NAME, VectorSpecies.class);
            return species == null ? FloatVector.SPECIES_PREFERRED : (VectorSpecies<Float>) species;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("a kernel class asked for its species with a borrowed lookup", e);
        }
    }

    /** The platform's preferred width in bits. */
    public static int preferredBits() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }

    /**
     * A new instance of {@code kernelClass} running at {@code bits}, seen through its interface {@code type}: the
     * ordinary class for the preferred width, otherwise a hidden copy (a class of its own, so only the interface
     * is common to both). {@code lookup} must be a full-privilege lookup in {@code kernelClass}'s package, and
     * the class needs a no-argument constructor and no nested classes (a copy would share those with the original).
     */
    public static <T> T newInstance(MethodHandles.Lookup lookup, Class<?> kernelClass, Class<T> type, int bits) {
        VectorSpecies<Float> species = FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(bits));
        try {
            Class<?> copy = bits == preferredBits() ? kernelClass
                    : lookup.defineHiddenClassWithClassData(classFile(kernelClass), species, true).lookupClass();
            return type.cast(lookup.findConstructor(copy, MethodType.methodType(void.class)).invoke());
        } catch (Error | RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot build " + kernelClass.getSimpleName() + " for " + bits + "-bit vectors", e);
        }
    }

    private static byte[] classFile(Class<?> kernelClass) throws IOException {
        try (InputStream in = kernelClass.getResourceAsStream(kernelClass.getSimpleName() + ".class")) {
            if (in == null) {
                throw new IOException("no class file for " + kernelClass.getName());
            }
            return in.readAllBytes();
        }
    }
}
