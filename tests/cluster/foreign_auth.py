"""A foreign gRPC client (Python's grpcio) that tries what another local user
did to an unauthenticated cluster (issue 15): list the cluster, read objects
by guessing their ids, register a fake node, unregister a real one, name an
actor, look one up, run a function.

    foreign_auth.py <head address> <out dir for generated code> <proto dir>
                    <expect: refused | allowed> [<a real node id, hex>]

refused: every call, made without a token (or with MANTA_TOKEN if set,
a wrong one), must be answered UNAUTHENTICATED and change nothing.
allowed: the same calls with the token in MANTA_TOKEN succeed (the fake
node is registered and unregistered again); the real node is left alone
and no actor is named.
"""
import os
import subprocess
import sys

import grpc

head, gen, protos, expect = sys.argv[1:5]
real_node = int(sys.argv[5], 16) if len(sys.argv) > 5 else 0
assert expect in ("refused", "allowed"), expect
subprocess.run(["protoc", f"--proto_path={protos}", f"--python_out={gen}",
                "manta/v1/value.proto", "manta/v1/cluster.proto"], check=True)
sys.path.insert(0, gen)
from manta.v1 import cluster_pb2, value_pb2  # noqa: E402

token = os.environ.get("MANTA_TOKEN")
metadata = [("x-manta-token", token)] if token else []
ch = grpc.insecure_channel(head)
fake_id = 0x5eed_f00d_0000_0001


def unary(method, req, reply_type):
    return ch.unary_unary(method,
                          request_serializer=type(req).SerializeToString,
                          response_deserializer=reply_type.FromString)(
        req, timeout=10, metadata=metadata)


def fetch(object_id):
    return list(ch.unary_stream(
        "/manta.v1.Node/FetchObject",
        request_serializer=cluster_pb2.FetchRequest.SerializeToString,
        response_deserializer=cluster_pb2.ObjectChunk.FromString)(
        cluster_pb2.FetchRequest(id=object_id), timeout=10,
        metadata=metadata))


def fake_node():
    return cluster_pb2.NodeInfo(node_id=fake_id, address="127.0.0.1:1",
                                functions=["fake"], pid=1,
                                hostname="attacker")


# Each attempt: a name and a call that either works or raises RpcError.
attempts = [
    ("ClusterStatus", lambda: unary("/manta.v1.Head/ClusterStatus",
                                    cluster_pb2.ClusterStatusRequest(),
                                    cluster_pb2.ClusterStatusReply)),
    ("RegisterNode", lambda: unary("/manta.v1.Head/RegisterNode",
                                   cluster_pb2.RegisterRequest(
                                       protocol=1, node=fake_node()),
                                   cluster_pb2.RegisterReply)),
    ("LookupActor", lambda: unary("/manta.v1.Head/LookupActor",
                                  cluster_pb2.LookupActorRequest(
                                      name="planted"),
                                  cluster_pb2.LookupActorReply)),
    ("UnregisterNode (fake)", lambda: unary(
        "/manta.v1.Head/UnregisterNode",
        cluster_pb2.UnregisterRequest(node_id=fake_id),
        cluster_pb2.UnregisterReply)),
    ("Call", lambda: unary("/manta.v1.Node/Call", cluster_pb2.CallRequest(
        function="add", args=[value_pb2.Value(int_value=40),
                              value_pb2.Value(int_value=2)]),
        cluster_pb2.CallReply)),
]
# Object ids guessed the way the attacker did: small counters.
for guess in range(1, 4):
    attempts.append((f"FetchObject #{guess}",
                     lambda g=guess: fetch(g.to_bytes(16, "little"))))
if expect == "refused":
    # Only ever tried without the token: with it, they would work and
    # change the cluster the other tests use.
    attempts.append(("RegisterActorName", lambda: unary(
        "/manta.v1.Head/RegisterActorName",
        cluster_pb2.RegisterActorNameRequest(actor=cluster_pb2.NamedActor(
            name="planted", class_name="Evil", node_id=fake_id)),
        cluster_pb2.RegisterActorNameReply)))
    if real_node:
        attempts.append(("UnregisterNode (real)", lambda: unary(
            "/manta.v1.Head/UnregisterNode",
            cluster_pb2.UnregisterRequest(node_id=real_node),
            cluster_pb2.UnregisterReply)))

failed = []
for name, attempt in attempts:
    try:
        reply = attempt()
        outcome = "OK"
    except grpc.RpcError as e:
        reply, outcome = None, e.code().name
    if expect == "refused":
        ok = outcome == "UNAUTHENTICATED"
    elif name.startswith("FetchObject"):
        # Past the token check: the guessed ids name nothing here.
        ok = outcome in ("OK", "NOT_FOUND")
    else:
        ok = outcome == "OK"
    if name == "Call" and ok and expect == "allowed":
        ok = reply.value.int_value == 42
    if name == "ClusterStatus" and ok and expect == "allowed":
        ok = len(reply.nodes) >= 1
    print(f"{name}: {outcome}{'' if ok else '  <-- unexpected'}")
    if not ok:
        failed.append(name)
if failed:
    sys.exit(f"foreign_auth ({expect}): FAIL: {', '.join(failed)}")
print(f"foreign_auth ({expect}): PASS")
