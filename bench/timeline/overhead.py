"""What recording the timeline costs (docs/benchmarks.md, "Timeline").

  overhead.py BASE_MICROBENCH NEW_MICROBENCH [--rounds N] [--seconds S]
              [--filter NAME] [--json FILE]

Runs microbench's NAME benchmark (single_client_tasks_async by default)
in interleaved rounds of three: BASE (a build without the timeline's
hooks), NEW with the timeline off (MANTA_TIMELINE unset) and NEW with it
on (MANTA_TIMELINE=on), so that the machine's load falls on all three
alike; prints each run and the medians, and writes them as JSON.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time


def run(binary, name, seconds, timeline):
    env = dict(os.environ)
    env.pop("MANTA_TIMELINE", None)
    if timeline:
        env["MANTA_TIMELINE"] = "on"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([binary, "--filter", name, "--seconds", str(seconds),
                        "--json", out.name], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        doc = json.load(open(out.name))
    return [r for r in doc["results"] if r["name"] == name][0]["per_second"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("new")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--seconds", type=float, default=1)
    p.add_argument("--filter", default="single_client_tasks_async")
    p.add_argument("--json")
    a = p.parse_args()
    configs = [("base", a.base, False), ("off", a.new, False),
               ("on", a.new, True)]
    runs = {c[0]: [] for c in configs}
    load = [os.getloadavg()[0]]
    for r in range(a.rounds):
        # A different order each round: none is always first after a pause.
        for k in range(len(configs)):
            label, binary, on = configs[(r + k) % len(configs)]
            runs[label].append(run(binary, a.filter, a.seconds, on))
        print("round %d: %s" % (r + 1, ", ".join(
            "%s %.0f/s" % (l, runs[l][-1]) for l in runs)), flush=True)
    load.append(os.getloadavg()[0])
    med = {l: statistics.median(v) for l, v in runs.items()}
    result = {
        "benchmark": "timeline_overhead",
        "machine": {"cpus_online": os.cpu_count(),
                    "kernel": platform.system() + " " + platform.release()},
        "load_average_1m": load,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "filter": a.filter, "seconds": a.seconds, "rounds": a.rounds,
        "runs_per_second": runs, "medians_per_second": med,
        "off_vs_base": med["off"] / med["base"],
        "on_vs_off": med["on"] / med["off"],
    }
    print("medians: base %.0f/s, off %.0f/s (%.3f of base), on %.0f/s "
          "(%.3f of off)" % (med["base"], med["off"], result["off_vs_base"],
                             med["on"], result["on_vs_off"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
