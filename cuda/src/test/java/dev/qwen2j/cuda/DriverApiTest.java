package dev.qwen2j.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Each driver binding against the toolkit's {@code cuda.h}: the exported symbol and every parameter's layout. */
class DriverApiTest {

    @Test
    void bindingsMatchCudaH() throws Exception {
        CudaHeaders headers = CudaHeaders.driver().orElse(null);
        Assumptions.assumeTrue(headers != null, "no CUDA toolkit headers (cuda.h) on this machine");
        for (Binding b : DriverApi.ALL) {
            assertEquals(headers.exportedName(b.declared()), b.exported(), b.declared() + ": exported symbol");
            List<MemoryLayout> expected = headers.parameters(b.declared());
            assertEquals(expected, b.descriptor().argumentLayouts(), b.declared() + ": parameters");
            assertEquals(ValueLayout.JAVA_INT, b.descriptor().returnLayout().orElseThrow(), b.declared() + ": CUresult");
        }
    }

    @Test
    void theVersionedSymbolsAreTheOnesBound() {
        // The unversioned names still exported by libcuda are the legacy 32-bit ABI: binding them would truncate.
        for (String versioned : List.of("cuMemAlloc_v2", "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemFree_v2",
                "cuMemGetInfo_v2", "cuDevicePrimaryCtxRelease_v2", "cuStreamDestroy_v2")) {
            assertEquals(1, DriverApi.ALL.stream().filter(b -> b.exported().equals(versioned)).count(), versioned);
        }
    }
}
