#!/usr/bin/env python3
"""Where the gateway's CPU samples go, from a JFR recording (bench/run.sh with PROFILE=1).

    python3 bench/jfr-breakdown.py bench/target/gateway.jfr

Two kinds of category:
- owners (access log, metrics): a sample with a frame of theirs anywhere in its stack is theirs,
  so a Jackson frame under the access log counts as access log;
- the rest are decided from the leaf up: the frame nearest the leaf that matches one of them
  decides. So the socket write of a response that completes inside the bulkhead's callback
  counts as HTTP I/O, not as bulkhead hand-off, and a regex frame under route matching counts
  as routing.
Prints the share of samples per category, the samples per thread, then the hottest leaf frames.
"""
import collections
import re
import subprocess
import sys

OWNERS = [
    ("Vert.x HTTP server metrics", r"io\.vertx\.micrometer|dev\.mlserver\.gateway\.metrics\.(HttpServerRequestMetrics|LeanVertxMetrics)"),
    ("gateway metrics", r"GatewayMetrics|io\.micrometer"),
    ("access log (event, encode, write)",
     r"dev\.mlserver\.gateway\.logging\.|dev\.mlserver\.gateway\.http\.AccessLine|AccessLog\.(finished|record|line)|ch\.qos\.logback|org\.slf4j"),
    ("model: ONNX Runtime and tensors",
     r"ai\.onnxruntime|dev\.mlserver\.api\.onnx|dev\.mlserver\.api\.input|TabularClassifier|SentimentClassifier|dev\.mlserver\.examples"),
    ("request JSON parse", r"RequestBody\.|readTree"),
    ("response JSON write", r"Responses\.(predictions|error|json)"),
]
LEAF_UP = [
    ("bulkhead hand-offs (queue, wake-ups, timers)",
     r"Bulkhead|ThreadPoolExecutor|LockSupport|LinkedBlockingQueue|AbstractQueuedSynchronizer|ReentrantLock"
     r"|runOnContext|setTimer|cancelTimer|TimerHandle|ScheduledFutureTask|DefaultPriorityQueue"),
    ("routing and handlers (Vert.x Web, gateway handlers)", r"io\.vertx\.ext\.web|dev\.mlserver\.gateway\.http"),
    ("HTTP I/O and parsing (Netty, Vert.x core)", r"io\.netty|io\.vertx\.core|sun\.nio"),
]


def category(frames):
    stack = "\n".join(frames)
    for name, pattern in OWNERS:
        if re.search(pattern, stack):
            return name
    for frame in frames:
        for name, pattern in LEAF_UP:
            if re.search(pattern, frame):
                return name
    return "other (JIT, GC, JDK)"


def main(path):
    text = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "128", path],
                          check=True, capture_output=True, text=True).stdout
    by_category = collections.Counter()
    by_thread = collections.Counter()
    leaves = collections.Counter()
    total = 0
    for event in text.split("jdk.ExecutionSample")[1:]:
        frames = re.findall(r"^\s+([\w.$<>]+)\(", event, re.M)
        if not frames:
            continue
        total += 1
        leaves[frames[0]] += 1
        thread = re.search(r'sampledThread = "([^"]*)"', event)
        by_thread[re.sub(r"[\d.]+(-\d+)?$", "*", thread.group(1)) if thread else "?"] += 1
        by_category[category(frames)] += 1
    print(f"{total} samples")
    for name, count in by_category.most_common():
        print(f"{100 * count / total:5.1f}%  {name}")
    print("\nby thread:")
    for name, count in by_thread.most_common(6):
        print(f"{100 * count / total:5.1f}%  {name}")
    print("\nhottest leaf frames:")
    for frame, count in leaves.most_common(25):
        print(f"{100 * count / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main(sys.argv[1])
