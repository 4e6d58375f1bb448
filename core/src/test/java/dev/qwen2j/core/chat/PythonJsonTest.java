package dev.qwen2j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PythonJsonTest {

    /** Expected strings are Python's repr(float) for the same values. */
    @Test
    void floatsAreSpelledAsPythonReprSpellsThem() {
        assertEquals("0.1", PythonJson.pythonFloat(0.1));
        assertEquals("1.0", PythonJson.pythonFloat(1.0));
        assertEquals("-2.5", PythonJson.pythonFloat(-2.5));
        assertEquals("0.0001", PythonJson.pythonFloat(0.0001));
        assertEquals("1e-05", PythonJson.pythonFloat(0.00001));
        assertEquals("1.5e-07", PythonJson.pythonFloat(1.5e-7));
        assertEquals("123456789012345.0", PythonJson.pythonFloat(123456789012345.0));
        assertEquals("1234567890123456.0", PythonJson.pythonFloat(1234567890123456.0));
        assertEquals("1e+16", PythonJson.pythonFloat(1e16));
        assertEquals("1.2345678901234568e+16", PythonJson.pythonFloat(12345678901234567.0));
        assertEquals("1e+100", PythonJson.pythonFloat(1e100));
        assertEquals("26.1", PythonJson.pythonFloat(26.1));
        assertEquals("-0.0", PythonJson.pythonFloat(-0.0));
        assertEquals("NaN", PythonJson.pythonFloat(Double.NaN));
        assertEquals("Infinity", PythonJson.pythonFloat(Double.POSITIVE_INFINITY));
    }

    @Test
    void controlCharactersAreEscapedLowercaseAndNonAsciiKept() {
        assertEquals("\"a\\u001fb\\u0000 é 😀\"", PythonJson.dumps("a\u001fb\u0000 é 😀", null, false, false));
        assertEquals("\"\\u00e9\\ud83d\\ude00\"", PythonJson.dumps("é😀", null, true, false));
    }
}
