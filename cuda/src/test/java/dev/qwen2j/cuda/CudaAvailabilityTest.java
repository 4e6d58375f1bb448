package dev.qwen2j.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without a driver (as on the development machines) CUDA is a clear exception naming what is missing. */
class CudaAvailabilityTest {

    @Test
    void noDriverIsAClearExceptionNotACrash() {
        boolean driverPresent;
        try {
            SymbolLookup.libraryLookup(CudaDriver.LIBRARY, Arena.global());
            driverPresent = true;
        } catch (IllegalArgumentException e) {
            driverPresent = false;
        }
        if (driverPresent) {
            // A machine with a driver: open() either works or names the reason (no device, too old).
            try {
                CudaDriver driver = CudaDriver.open();
                assertTrue(driver.deviceCount() > 0 && driver.version() >= CudaDriver.MIN_DRIVER_VERSION);
            } catch (CudaUnavailableException e) {
                assertTrue(e.getMessage().contains("driver"), e.getMessage());
            }
        } else {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CudaDriver::open);
            assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
        }
    }

    @Test
    void driverVersionsReadAsCudaVersions() {
        assertEquals("13.0", CudaDriver.versionText(13000));
        assertEquals("12.4", CudaDriver.versionText(12040));
    }
}
