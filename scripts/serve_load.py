#!/usr/bin/env python3
"""Load an OpenAI-compatible server with N concurrent streaming chat clients (stdlib only).

Prints one JSON line: clients, requests, aggregate completion tokens/s, mean and p50/p90 time to first token and
inter-token latency (client side, from SSE arrival times). Works against `qwen2j serve` and llama.cpp's
llama-server alike. Example:
  python3 scripts/serve_load.py --url http://127.0.0.1:8080 --model Qwen2.5-0.5B-Instruct --clients 8 --seconds 60
"""
import argparse, json, statistics, threading, time, urllib.request

def one_request(url, model, prompt, max_tokens, key):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True,
                       "max_tokens": max_tokens, "temperature": 0,
                       "stream_options": {"include_usage": True}}).encode()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    start = time.perf_counter()
    arrivals, tokens = [], None
    with urllib.request.urlopen(urllib.request.Request(url + "/v1/chat/completions", body, headers), timeout=600) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for c in chunk.get("choices", []):
                d = c.get("delta", {})
                if d.get("content") or d.get("reasoning_content"):
                    arrivals.append(time.perf_counter())
    ttft = arrivals[0] - start if arrivals else None
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    return ttft, gaps, tokens if tokens is not None else len(arrivals)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--model", required=True)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--prompt", default="Write a short story about a lighthouse keeper.")
    p.add_argument("--api-key")
    a = p.parse_args()
    lock, ttfts, gaps, totals, errors = threading.Lock(), [], [], [0, 0], []
    deadline = time.perf_counter() + a.seconds
    def client():
        while time.perf_counter() < deadline:
            try:
                t, g, n = one_request(a.url, a.model, a.prompt, a.max_tokens, a.api_key)
            except Exception as e:  # counted, not fatal: the report says how many failed
                with lock:
                    errors.append(repr(e))
                continue
            with lock:
                if t is not None:
                    ttfts.append(t)
                gaps.extend(g)
                totals[0] += 1
                totals[1] += n
    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    q = lambda xs, f: statistics.quantiles(xs, n=10)[int(f * 10) - 1] if len(xs) >= 10 else (max(xs) if xs else None)
    print(json.dumps({"clients": a.clients, "requests": totals[0], "errors": len(errors),
                      "completion_tokens": totals[1], "aggregate_tok_s": round(totals[1] / elapsed, 2),
                      "ttft_mean_s": round(statistics.mean(ttfts), 4) if ttfts else None,
                      "ttft_p50_s": q(ttfts, 0.5), "ttft_p90_s": q(ttfts, 0.9),
                      "itl_mean_ms": round(1000 * statistics.mean(gaps), 2) if gaps else None,
                      "itl_p50_ms": 1000 * q(gaps, 0.5) if gaps else None,
                      "itl_p90_ms": 1000 * q(gaps, 0.9) if gaps else None}))

if __name__ == "__main__":
    main()
