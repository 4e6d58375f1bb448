# Usage: python3 make_golden.py cases.json OUT.json FOLDER  (FOLDER: the fixture checkpoint of NumpyReferenceTest)
import numpy as np, subprocess, sys, json
# prompts' token ids come from qwen2j's tokenizer (DJL-parity tested); the reference is a float64 NumPy
# reimplementation of transformers Qwen2 forward (qwen2_reference.py) on the fixture folder.
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    subprocess.run(["python3", "qwen2_reference.py", sys.argv[3], ",".join(map(str, c["ids"])), "/tmp/qwen2j-golden.npy"], check=True, capture_output=True)
    lp = np.load("/tmp/qwen2j-golden.npy")
    top = list(np.argsort(-lp)[:24])
    fixed = [0, 13, 220, 1000, 42000, 100000, 151643, 151645]
    ids = sorted(set(int(i) for i in top + fixed))
    out.append({"prompt": c["prompt"], "ids": c["ids"], "token_ids": ids, "log_probs": [float(lp[i]) for i in ids]})
json.dump(out, open(sys.argv[2], "w"), indent=1)
