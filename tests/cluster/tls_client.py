"""A foreign gRPC client (Python's grpcio) against a TLS cluster: asks the
head for the cluster status with the token, over a channel of the kind
the mode names, and checks that it is served or refused as it should.

    tls_client.py <head address> <out dir for generated code> <proto dir>
                  <mode> <dir of CA A> <dir of CA B>

ok         TLS, CA A, the client certificate of CA A: served
cleartext  no TLS at all: refused (the head speaks TLS only)
nocert     TLS, CA A, no client certificate: refused (mutual TLS)
othercert  TLS, CA A, a client certificate of CA B: refused
wrongca    TLS, CA B to check the head (signed by A): refused
A refusal must come before any method runs: UNAVAILABLE, not an answer.
"""
import os
import subprocess
import sys

import grpc

head, gen, protos, mode, dir_a, dir_b = sys.argv[1:7]
subprocess.run(["protoc", f"--proto_path={protos}", f"--python_out={gen}",
                "manta/v1/value.proto", "manta/v1/cluster.proto"], check=True)
sys.path.insert(0, gen)
from manta.v1 import cluster_pb2  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


if mode == "cleartext":
    ch = grpc.insecure_channel(head)
else:
    ca = read(os.path.join(dir_b if mode == "wrongca" else dir_a, "ca.pem"))
    cert_dir = dir_b if mode == "othercert" else dir_a
    if mode == "nocert":
        creds = grpc.ssl_channel_credentials(root_certificates=ca)
    else:
        creds = grpc.ssl_channel_credentials(
            root_certificates=ca,
            private_key=read(os.path.join(cert_dir, "client.key")),
            certificate_chain=read(os.path.join(cert_dir, "client.pem")))
    # The head is dialled by IP: its certificate names 127.0.0.1 too, so no
    # name override is needed (manta's own channels check "manta").
    ch = grpc.secure_channel(head, creds)

status = ch.unary_unary("/manta.v1.Head/ClusterStatus",
                        request_serializer=cluster_pb2.ClusterStatusRequest
                        .SerializeToString,
                        response_deserializer=cluster_pb2.ClusterStatusReply
                        .FromString)
try:
    reply = status(cluster_pb2.ClusterStatusRequest(), timeout=10,
                   metadata=[("x-manta-token", os.environ["MANTA_TOKEN"])])
except grpc.RpcError as e:
    if mode == "ok":
        sys.exit(f"FAIL: TLS client refused: {e.code()} {e.details()}")
    if e.code() != grpc.StatusCode.UNAVAILABLE:
        sys.exit(f"FAIL: {mode}: expected UNAVAILABLE, got {e.code()} "
                 f"{e.details()}")
    print(f"{mode}: refused ({e.code().name}: {e.details()})")
    sys.exit(0)
if mode != "ok":
    sys.exit(f"FAIL: {mode}: the head answered ({len(reply.nodes)} nodes)")
print(f"ok: {len(reply.nodes)} node(s) over mutual TLS")
