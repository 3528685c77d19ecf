"""A foreign gRPC client (Python's grpcio) against a running manta cluster:
asks the head for the cluster status, runs a task by name through
Node.Call, sends a batch of tasks on a Node.Tasks stream and half-closes it
before reading the results, and checks refusals of bad calls.

    interop.py <head address> <out dir for generated code> <proto dir>

Every call carries the cluster token from MANTA_TOKEN (x-manta-token).
"""
import os
import subprocess
import sys

import grpc

head, gen, protos = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = [("x-manta-token", os.environ["MANTA_TOKEN"])]
subprocess.run(["protoc", f"--proto_path={protos}", f"--python_out={gen}",
                "manta/v1/value.proto", "manta/v1/cluster.proto"], check=True)
sys.path.insert(0, gen)
from manta.v1 import cluster_pb2, value_pb2  # noqa: E402


def unary(channel, method, req_type, reply_type):
    return channel.unary_unary(method,
                               request_serializer=req_type.SerializeToString,
                               response_deserializer=reply_type.FromString)


ch = grpc.insecure_channel(head)
status = unary(ch, "/manta.v1.Head/ClusterStatus",
               cluster_pb2.ClusterStatusRequest,
               cluster_pb2.ClusterStatusReply)(
                   cluster_pb2.ClusterStatusRequest(), timeout=10,
                   metadata=TOKEN)
assert status.protocol == 1, status
offering = [n for n in status.nodes if "add" in n.info.functions]
assert len(offering) >= 1, status
print(f"status: {len(status.nodes)} nodes, {len(offering)} offer 'add'")

call = unary(ch, "/manta.v1.Node/Call", cluster_pb2.CallRequest,
             cluster_pb2.CallReply)
reply = call(cluster_pb2.CallRequest(
    function="add",
    args=[value_pb2.Value(int_value=40), value_pb2.Value(int_value=2)]),
    timeout=10, metadata=TOKEN)
assert reply.value.int_value == 42, reply
print("call add(40, 2) =", reply.value.int_value)

# A list travels both ways intact.
reply = call(cluster_pb2.CallRequest(
    function="sleep_then",
    args=[value_pb2.Value(int_value=1),
          value_pb2.Value(list_value=value_pb2.ListValue(items=[
              value_pb2.Value(string_value="héllo"),
              value_pb2.Value(bytes_value=b"\x00\x01")]))]),
    timeout=10, metadata=TOKEN)
items = reply.value.list_value.items
assert items[0].list_value.items[0].string_value == "héllo", reply
assert items[0].list_value.items[1].bytes_value == b"\x00\x01", reply

# Errors come back as error values.
reply = call(cluster_pb2.CallRequest(function="no_such_function"), timeout=10,
             metadata=TOKEN)
assert reply.value.HasField("error_value"), reply
assert "no_such_function" in reply.value.error_value.message, reply
print("unknown function ->", reply.value.error_value.message)

# Tasks: a batch written, the stream half-closed, then every result read
# (one task sleeps, so its result comes after the half-close); the stream
# ends OK once all are sent.
# A Tasks stream runs its tasks where it lands: on a node offering them.
worker = grpc.insecure_channel(offering[0].info.address)
tasks = worker.stream_stream(
    "/manta.v1.Node/Tasks",
    request_serializer=cluster_pb2.TaskBatch.SerializeToString,
    response_deserializer=cluster_pb2.TaskBatch.FromString)
batch = cluster_pb2.TaskBatch(tasks=[
    cluster_pb2.TaskSpec(seq=1, function="add", args=[
        value_pb2.Value(int_value=1), value_pb2.Value(int_value=2)]),
    cluster_pb2.TaskSpec(seq=2, function="sleep_then", args=[
        value_pb2.Value(int_value=300), value_pb2.Value(string_value="late")]),
    cluster_pb2.TaskSpec(seq=3, function="no_such_function")])
results = {}
for reply in tasks(iter([batch]), timeout=30, metadata=TOKEN):
    for r in reply.results:
        results[r.seq] = r.value
assert sorted(results) == [1, 2, 3], results
assert results[1].int_value == 3, results
assert results[2].list_value.items[0].string_value == "late", results
assert results[3].HasField("error_value"), results
print("tasks stream, half-closed first: 3 results, ended OK")
worker.close()

# An unknown method and a wrong protocol version are refused by status.
try:
    unary(ch, "/manta.v1.Node/Nope", cluster_pb2.CallRequest,
          cluster_pb2.CallReply)(cluster_pb2.CallRequest(), timeout=10,
                                 metadata=TOKEN)
    raise AssertionError("unknown method accepted")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.UNIMPLEMENTED, e
try:
    call(cluster_pb2.CallRequest(function="add"), timeout=10,
         metadata=TOKEN + [("x-manta-protocol", "2")])
    raise AssertionError("protocol 2 accepted")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.FAILED_PRECONDITION, e
# Bytes that are not a CallRequest.
raw = ch.unary_unary("/manta.v1.Node/Call")
try:
    raw(b"\xff\xff\xff", timeout=10, metadata=TOKEN)
    raise AssertionError("garbage accepted")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
# A message over the 64 MiB limit.
big = cluster_pb2.CallRequest(function="add",
                              args=[value_pb2.Value(bytes_value=b"x" * (65 << 20))])
try:
    call(big, timeout=60, metadata=TOKEN)
    raise AssertionError("a 65 MiB message accepted")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e
# FetchObject of an object the node does not have.
fetch = ch.unary_stream(
    "/manta.v1.Node/FetchObject",
    request_serializer=cluster_pb2.FetchRequest.SerializeToString,
    response_deserializer=cluster_pb2.ObjectChunk.FromString)
try:
    list(fetch(cluster_pb2.FetchRequest(id=bytes(16)), timeout=10,
               metadata=TOKEN))
    raise AssertionError("fetch of an unknown object succeeded")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.NOT_FOUND, e
# Still serving.
reply = call(cluster_pb2.CallRequest(
    function="add", args=[value_pb2.Value(int_value=20),
                          value_pb2.Value(int_value=22)]), timeout=30,
    metadata=TOKEN)
assert reply.value.int_value == 42, reply
print("refusals: UNIMPLEMENTED, FAILED_PRECONDITION, INVALID_ARGUMENT, "
      "RESOURCE_EXHAUSTED, NOT_FOUND; still serving")
print("interop: PASS")
