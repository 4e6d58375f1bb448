# Usage: python3 make_greedy_golden.py cases.json OUT.json FOLDER STEPS  (FOLDER: NumpyReferenceTest's checkpoint)
# Greedy decoding by the float64 reference (qwen2_reference.py): after the prompt and after each greedy token,
# the argmax, its margin over the runner-up, and the log-probabilities of the top tokens.
import numpy as np, subprocess, sys, json
cases = json.load(open(sys.argv[1]))
steps = int(sys.argv[4])
out = []
for c in cases:
    ids = list(c["ids"])
    trace = []
    for _ in range(steps + 1):
        subprocess.run(["python3", "qwen2_reference.py", sys.argv[3], ",".join(map(str, ids)), "/tmp/qwen2j-greedy.npy"],
                       check=True, capture_output=True)
        lp = np.load("/tmp/qwen2j-greedy.npy")
        order = np.argsort(-lp)
        top = [int(i) for i in order[:16]]
        trace.append({"greedy": top[0], "margin": float(lp[order[0]] - lp[order[1]]),
                      "token_ids": top, "log_probs": [float(lp[i]) for i in top]})
        ids.append(top[0])
    out.append({"prompt": c["prompt"], "ids": c["ids"], "steps": trace})
json.dump(out, open(sys.argv[2], "w"), indent=1)
