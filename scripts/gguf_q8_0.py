#!/usr/bin/env python3
"""BF16/F32 Qwen2 folder -> GGUF Q8_0 for llama.cpp, where its llama-quantize crashes on this machine.

Runs the peer's own converter (../shared/peers/llama.cpp/to_gguf.py) with every 2-D weight quantized to Q8_0 by
llama.cpp's gguf-py (gguf.quants, the same block format llama-quantize writes); norms and biases stay F32.
Usage: python3 scripts/gguf_q8_0.py MODEL_DIR OUT.gguf [PEER_DIR]
"""
import os
import sys
import types

import numpy as np

peer = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "peers", "llama.cpp")
sys.modules.setdefault("sentencepiece", types.SimpleNamespace(SentencePieceProcessor=object))  # as to_gguf.py does
sys.path.insert(0, os.path.join(peer, "gguf-py"))
sys.path.insert(0, peer)
import gguf  # noqa: E402
from gguf import quants  # noqa: E402
import to_gguf  # noqa: E402

add_tensor = gguf.GGUFWriter.add_tensor


def add_q8_0(self, name, tensor, raw_shape=None, raw_dtype=None, **kw):
    if tensor.ndim == 2:
        f = (tensor.astype(np.uint32) << 16).view(np.float32) if raw_dtype == gguf.GGMLQuantizationType.BF16 else tensor
        q = quants.quantize(np.ascontiguousarray(f, dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
        return add_tensor(self, name, q, raw_shape=None, raw_dtype=gguf.GGMLQuantizationType.Q8_0, **kw)
    return add_tensor(self, name, tensor, raw_shape=raw_shape, raw_dtype=raw_dtype, **kw)


gguf.GGUFWriter.add_tensor = add_q8_0
gguf.GGUFWriter.add_file_type = lambda self, _: gguf.GGUFWriter.add_uint32(self, gguf.Keys.General.FILE_TYPE,
                                                                            gguf.LlamaFileType.MOSTLY_Q8_0)
sys.argv = [sys.argv[0], sys.argv[1], sys.argv[2]]
to_gguf.main()
