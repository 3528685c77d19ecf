"""Offline checks of deploy/kubernetes (no cluster here): what a reader of
the manifests would check by hand. Run by run-k8s-check.sh.

    check_k8s.py <deploy/kubernetes> [rendered.yaml]
"""
import os
import sys

import yaml

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)


def arg_after(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def main():
    folder = sys.argv[1]
    docs = []
    for name in ("head.yaml", "nodes.yaml", "driver-job.yaml"):
        with open(os.path.join(folder, name)) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    if len(sys.argv) > 2:  # kustomize's rendering: the same objects
        with open(sys.argv[2]) as f:
            rendered = [d for d in yaml.safe_load_all(f) if d]
        check(sorted((d["kind"], d["metadata"]["name"]) for d in rendered)
              == sorted((d["kind"], d["metadata"]["name"]) for d in docs),
              "kustomize renders other objects than the files hold")
    by_kind = {}
    for d in docs:
        check("apiVersion" in d and "kind" in d and "metadata" in d,
              f"an object without apiVersion/kind/metadata: {d}")
        by_kind.setdefault(d["kind"], []).append(d)
    for kind in ("Service", "StatefulSet", "Deployment", "Job"):
        check(len(by_kind.get(kind, [])) == 1, f"one {kind} expected")
    svc = by_kind["Service"][0]
    head = by_kind["StatefulSet"][0]
    nodes = by_kind["Deployment"][0]
    job = by_kind["Job"][0]

    check(head["spec"]["replicas"] == 1, "the head StatefulSet has 1 replica")
    check(head["spec"]["serviceName"] == svc["metadata"]["name"],
          "the StatefulSet's serviceName is the head Service")
    for w in (head, nodes):
        sel = w["spec"]["selector"]["matchLabels"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        check(all(labels.get(k) == v for k, v in sel.items()),
              f"{w['metadata']['name']}: selector does not match its pods")
    head_labels = head["spec"]["template"]["metadata"]["labels"]
    check(all(head_labels.get(k) == v for k, v in svc["spec"]["selector"].items()),
          "the Service does not select the head's pods")
    check(svc["spec"]["selector"] != nodes["spec"]["selector"]["matchLabels"],
          "the head Service would also select the nodes")

    head_ports = {p["name"]: p["containerPort"]
                  for p in head["spec"]["template"]["spec"]["containers"][0]["ports"]}
    for p in svc["spec"]["ports"]:
        check(p["targetPort"] in head_ports, f"Service port {p['name']} names no head port")
    head_addr = f"{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}"

    for w in (head, nodes, job):
        name = w["metadata"]["name"]
        pod = w["spec"]["template"]["spec"]
        sc = pod.get("securityContext", {})
        check(sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) != 0,
              f"{name}: pods must run as a non-root user")
        volumes = {v["name"] for v in pod.get("volumes", [])}
        for c in pod.get("initContainers", []) + pod["containers"]:
            csc = c.get("securityContext", {})
            check(csc.get("allowPrivilegeEscalation") is False,
                  f"{name}/{c['name']}: allowPrivilegeEscalation must be false")
            check(csc.get("readOnlyRootFilesystem") is True,
                  f"{name}/{c['name']}: the root file system must be read-only")
            for m in c.get("volumeMounts", []):
                check(m["name"] in volumes, f"{name}/{c['name']}: mount of no volume {m['name']}")
        c = pod["containers"][0]
        env = {e["name"]: e for e in c.get("env", [])}
        tok = env.get("MANTA_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
        check(tok.get("name") == "manta-token" and tok.get("key") == "token",
              f"{name}: MANTA_TOKEN must come from the Secret manta-token")
        for v in ("MANTA_TLS_CERT", "MANTA_TLS_KEY", "MANTA_TLS_CA"):
            check(v in env, f"{name}: {v} not set (TLS off loopback)")
        check(env.get("MANTA_NODE_IP", {}).get("valueFrom", {}).get("fieldRef", {})
              .get("fieldPath") == "status.podIP",
              f"{name}: MANTA_NODE_IP must be the pod IP")
        check("requests" in c.get("resources", {}), f"{name}: no resource requests")
        if w is not job:
            args = c["args"]
            check(args[:2] == ["start", "--foreground"], f"{name}: not manta start --foreground")
            check(arg_after(args, "--bind") == "0.0.0.0", f"{name}: must bind beyond loopback")
            check(arg_after(args, "--num-cpus") == str(c["resources"]["requests"]["cpu"]),
                  f"{name}: --num-cpus {arg_after(args, '--num-cpus')} is not the CPU "
                  f"request {c['resources']['requests']['cpu']}")
            port = arg_after(args, "--port")
            check(port is not None and int(port) in
                  [p["containerPort"] for p in c["ports"]],
                  f"{name}: --port is not a container port")
            check("readinessProbe" in c and "livenessProbe" in c,
                  f"{name}: readiness and liveness probes expected")
            probe = " ".join(c["readinessProbe"].get("exec", {}).get("command", []))
            check("manta status" in probe, f"{name}: readiness must ask manta status")
    node_args = nodes["spec"]["template"]["spec"]["containers"][0]["args"]
    check(arg_after(node_args, "--address") == head_addr,
          f"the nodes join {arg_after(node_args, '--address')}, not {head_addr}")
    job_env = {e["name"]: e.get("value")
               for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    check(job_env.get("MANTA_ADDRESS") == head_addr, "the Job's MANTA_ADDRESS is not the head")
    check(job["spec"]["template"]["spec"]["restartPolicy"] == "Never",
          "the driver Job must not restart")
    check(job["spec"].get("activeDeadlineSeconds"), "the Job needs a deadline")

    if FAILURES:
        for f in FAILURES:
            print("check_k8s: FAIL:", f, file=sys.stderr)
        return 1
    print(f"check_k8s: {len(docs)} objects checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
