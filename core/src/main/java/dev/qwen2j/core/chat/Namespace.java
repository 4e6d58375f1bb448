package dev.qwen2j.core.chat;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code namespace(...)}: the one object a template may assign attributes to, from inside loops. */
final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
}
