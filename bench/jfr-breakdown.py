#!/usr/bin/env python3
"""Where the gateway's CPU samples go, from a JFR recording (bench/run.sh with PROFILE=1).

    python3 bench/jfr-breakdown.py bench/target/gateway.jfr

Each jdk.ExecutionSample is put in the first category (in the order below) that any frame of its
stack matches, so a Jackson frame under the access log counts as access log. Prints the share of
samples per category, then the 25 hottest leaf frames.
"""
import collections
import re
import subprocess
import sys

CATEGORIES = [
    ("access log (event, encode, write)", r"dev\.mlserver\.gateway\.logging\.|AccessLog\.finished|ch\.qos\.logback|org\.slf4j"),
    ("Vert.x HTTP server metrics", r"io\.vertx\.micrometer"),
    ("gateway metrics", r"GatewayMetrics|io\.micrometer"),
    ("model: ONNX Runtime and tensors", r"ai\.onnxruntime|dev\.mlserver\.api\.onnx|dev\.mlserver\.api\.input|TabularClassifier|SentimentClassifier|dev\.mlserver\.examples"),
    ("request JSON parse", r"RequestBody|JsonParser|readTree"),
    ("response JSON write", r"Responses\.predictions|JsonGenerator"),
    ("bulkhead hand-offs (queue, wake-ups, timers)", r"Bulkhead|ThreadPoolExecutor|LockSupport|LinkedBlockingQueue|runOnContext|setTimer|cancelTimer"),
    ("routing and handlers (Vert.x Web)", r"io\.vertx\.ext\.web|dev\.mlserver\.gateway\.http"),
    ("HTTP I/O and parsing (Netty, Vert.x core)", r"io\.netty|io\.vertx\.core|sun\.nio"),
]


def main(path):
    text = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "128", path],
                          check=True, capture_output=True, text=True).stdout
    by_category = collections.Counter()
    leaves = collections.Counter()
    total = 0
    for event in text.split("jdk.ExecutionSample")[1:]:
        frames = re.findall(r"^\s+([\w.$<>]+)\(", event, re.M)
        if not frames:
            continue
        total += 1
        leaves[frames[0]] += 1
        stack = "\n".join(frames)
        for name, pattern in CATEGORIES:
            if re.search(pattern, stack):
                by_category[name] += 1
                break
        else:
            by_category["other (JIT, GC, JDK)"] += 1
    print(f"{total} samples")
    for name, count in by_category.most_common():
        print(f"{100 * count / total:5.1f}%  {name}")
    print("\nhottest leaf frames:")
    for frame, count in leaves.most_common(25):
        print(f"{100 * count / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main(sys.argv[1])
