#!/usr/bin/env python3
"""moto's AWS API server on a loopback port, with ECR fault injection for the e2e suite.

Prints one line `MOTO_READY http://127.0.0.1:PORT` on stdout once it accepts requests, then
serves until SIGTERM/SIGINT. moto has no fault switch of its own, so the faults are injected in
front of its WSGI app:

  --throttle-ecr N   the first N ecr:GetAuthorizationToken calls answer HTTP 400
                     ThrottlingException, which the aws CLI's standard retry mode retries
  --fail-ecr         every GetAuthorizationToken call answers HTTP 400 AccessDeniedException
                     (not retried), for "an AWS failure writes nothing" tests
  --fail-ecr-region R  the same, only for calls signed for region R (the Credential scope of
                     the Authorization header): one region failing while the others answer
  --ecr-token-seconds N
                     GetAuthorizationToken answers with expiresAt N seconds from now, as
                     ECR does (12 hours), instead of moto's fixed date in 2015
  --initial-no-auth-action-count N
                     moto's INITIAL_NO_AUTH_ACTION_COUNT: the first N calls skip
                     authentication, later ones need valid keys and IAM permissions

  --fail-ecr-public  every ECR Public GetAuthorizationToken answers HTTP 400 AccessDeniedException

moto has no ecr-public service. The ECR Public stub (EcrPublicStub) answers its
`SpencerFrontendService.GetAuthorizationToken` itself, with a constructed response shaped as
botocore's model says (botocore/data/ecr-public/2020-10-30/service-2.json: `authorizationData` one
object holding `authorizationToken` and `expiresAt`), and only after checking the request's SigV4
signature with botocore's own signer, recomputed from the received method, URL, headers and body
with the known secret of the access key: the harness' test key, or one moto's STS handed out (web
identity, assumed roles). It must be scoped to us-east-1/ecr-public. A request that fails the check
gets HTTP 403 with AWS's JSON error shape (SignatureDoesNotMatch, UnrecognizedClientException).

GET /_harness/stats returns the GetAuthorizationToken call counts, the ECR Public stub's
(`ecrPublicGetAuthorizationToken` received, `ecrPublicSigned` that passed the signature check,
`ecrPublicRejected` that did not, with `ecrPublicLastRejection` its reason), and `requests`, the
number of AWS API requests of any kind received, as JSON.
"""

import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
import uuid
from typing import Any, Callable, Iterable

ECR_TOKEN_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
ECR_PUBLIC_TOKEN_TARGET = "SpencerFrontendService.GetAuthorizationToken"
# The password the ECR Public stub hands out: its authorizationToken is base64("AWS:" + this).
ECR_PUBLIC_STUB_PASSWORD = "ecr-public-stub-password"
# The key the e2e suite signs with (scriptEnv callers); moto's STS keys are looked up live.
TEST_KEYS = {"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
STATS_PATH = "/_harness/stats"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict, StartResponse], Iterable[bytes]]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--initial-no-auth-action-count", type=int, default=None)
    parser.add_argument("--throttle-ecr", type=int, default=0)
    parser.add_argument("--fail-ecr", action="store_true")
    parser.add_argument("--fail-ecr-region", default=None)
    parser.add_argument("--ecr-token-seconds", type=int, default=None)
    parser.add_argument("--fail-ecr-public", action="store_true")
    return parser.parse_args(argv)


class EcrFaults:
    """WSGI middleware: counts and optionally fails ECR GetAuthorizationToken calls."""

    def __init__(self, app: WsgiApp, throttle: int, fail: bool, token_seconds: int | None,
                 fail_region: str | None = None) -> None:
        self.app = app
        self.throttle = throttle
        self.fail = fail
        self.token_seconds = token_seconds
        self.fail_region = fail_region
        self.lock = threading.Lock()
        self.stats = {"getAuthorizationToken": 0, "throttled": 0, "failed": 0, "requests": 0}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            with self.lock:
                body = json.dumps(self.stats).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        with self.lock:
            self.stats["requests"] += 1
        if environ.get("HTTP_X_AMZ_TARGET") == ECR_TOKEN_TARGET:
            # Credential=KEY/DATE/REGION/SERVICE/aws4_request
            signed_for = environ.get("HTTP_AUTHORIZATION", "").split("Credential=")[-1].split("/")
            region = signed_for[2] if len(signed_for) > 2 else ""
            with self.lock:
                self.stats["getAuthorizationToken"] += 1
                if self.fail or (self.fail_region is not None and region == self.fail_region):
                    self.stats["failed"] += 1
                    fault = ("AccessDeniedException", "User is not authorized to perform: "
                             "ecr:GetAuthorizationToken on resource: * (injected by the test)")
                elif self.stats["throttled"] < self.throttle:
                    self.stats["throttled"] += 1
                    fault = ("ThrottlingException", "Rate exceeded (injected by the test)")
                else:
                    fault = None
            if fault is not None:
                return aws_json_error(start_response, *fault)
            if self.token_seconds is not None:
                return self.expiring_token(environ, start_response)
        return self.app(environ, start_response)

    def expiring_token(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        """moto's answer with each expiresAt set token_seconds from now (epoch seconds, as ECR)."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(self.app(environ, capture))
        if captured["status"].startswith("200"):
            answer = json.loads(body)
            for entry in answer.get("authorizationData", []):
                entry["expiresAt"] = time.time() + self.token_seconds
            body = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]


class EcrPublicStub:
    """WSGI middleware, the ECR Public stub: answers ecr-public GetAuthorizationToken after
    verifying its SigV4 signature with botocore's signer; every other request goes on to `app`."""

    def __init__(self, app: WsgiApp, fail: bool) -> None:
        self.app = app
        self.fail = fail
        self.lock = threading.Lock()
        self.stats: dict[str, Any] = {"ecrPublicGetAuthorizationToken": 0, "ecrPublicSigned": 0,
                                      "ecrPublicRejected": 0, "ecrPublicLastRejection": ""}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            return self.merged_stats(environ, start_response)
        if environ.get("HTTP_X_AMZ_TARGET") != ECR_PUBLIC_TOKEN_TARGET:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        rejection = signature_problem(environ, body)
        with self.lock:
            self.stats["ecrPublicGetAuthorizationToken"] += 1
            if rejection is not None:
                self.stats["ecrPublicRejected"] += 1
                self.stats["ecrPublicLastRejection"] = rejection[1]
            else:
                self.stats["ecrPublicSigned"] += 1
        if rejection is not None:
            return aws_json_error(start_response, *rejection, status="403 Forbidden")
        if self.fail:
            return aws_json_error(start_response, "AccessDeniedException", "User is not authorized to perform: "
                                  "ecr-public:GetAuthorizationToken on resource: * (injected by the test)")
        # Constructed as botocore's model shapes GetAuthorizationTokenResponse: one AuthorizationData
        # object (not a list, as ECR's), expiresAt in epoch seconds, 12 hours ahead as AWS documents.
        answer = {"authorizationData": {
            "authorizationToken": base64.b64encode(f"AWS:{ECR_PUBLIC_STUB_PASSWORD}".encode()).decode(),
            "expiresAt": time.time() + 12 * 3600,
        }}
        data = json.dumps(answer).encode()
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"),
                                  ("x-amzn-RequestId", str(uuid.uuid4())), ("Content-Length", str(len(data)))])
        return [data]

    def merged_stats(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = status
            return lambda _data: None

        stats = json.loads(b"".join(self.app(environ, capture)))
        with self.lock:
            stats.update(self.stats)
            stats["requests"] += self.stats["ecrPublicGetAuthorizationToken"]
        data = json.dumps(stats).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [data]


def known_secret(access_key: str) -> str | None:
    """The secret of a test key, or of temporary credentials moto's STS issued (web identity, roles)."""
    if access_key in TEST_KEYS:
        return TEST_KEYS[access_key]
    from moto.sts.models import sts_backends
    for regions in list(sts_backends.values()):
        for backend in list(regions.values()):
            for role in backend.assumed_roles:
                if role.access_key_id == access_key:
                    return role.secret_access_key
    return None


def received_header(environ: dict, name: str) -> str | None:
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def signature_problem(environ: dict, body: bytes) -> tuple[str, str] | None:
    """Why the request's SigV4 signature is not botocore's for ecr-public in us-east-1, as an AWS
    error (code, message); None when it is."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    mismatch = "SignatureDoesNotMatch"
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    algorithm, _, fields_text = authorization.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in fields_text.split(",") if "=" in part)
    if algorithm != "AWS4-HMAC-SHA256" or not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return "MissingAuthenticationTokenException", "Missing Authentication Token"
    access_key, _, scope = fields["Credential"].partition("/")
    scope_parts = scope.split("/")
    if len(scope_parts) != 4 or scope_parts[1:] != ["us-east-1", "ecr-public", "aws4_request"]:
        return mismatch, f"Credential should be scoped to us-east-1/ecr-public, not {scope}"
    secret = known_secret(access_key)
    if secret is None:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    signed = fields["SignedHeaders"].split(";")
    headers = {}
    for name in signed:
        value = received_header(environ, name)
        if value is None:
            return mismatch, f"signed header {name} was not received"
        headers[name] = value
    if "host" not in headers or "x-amz-date" not in headers:
        return mismatch, "host and x-amz-date must be signed"
    query = environ.get("QUERY_STRING", "")
    url = f"{environ.get('wsgi.url_scheme', 'http')}://{headers['host']}{environ.get('PATH_INFO', '/')}"
    request = AWSRequest(method=environ["REQUEST_METHOD"], url=url + (f"?{query}" if query else ""),
                         headers=headers, data=body)
    request.context["timestamp"] = headers["x-amz-date"]
    if scope_parts[0] != headers["x-amz-date"][:8]:
        return mismatch, "the credential scope's date is not x-amz-date's"
    signer = SigV4Auth(Credentials(access_key, secret, headers.get("x-amz-security-token")),
                       "ecr-public", "us-east-1")
    if signer.signed_headers(signer.headers_to_sign(request)) != fields["SignedHeaders"]:
        return mismatch, f"SignedHeaders {fields['SignedHeaders']} holds a header SigV4 never signs"
    if "x-amz-content-sha256" in headers and headers["x-amz-content-sha256"] != signer.payload(request):
        return mismatch, "x-amz-content-sha256 is not the body's"
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if expected != fields["Signature"]:
        return mismatch, ("The request signature we calculated does not match the signature you provided. "
                          "Check your AWS Secret Access Key and signing method.")
    return None


def aws_json_error(start_response: StartResponse, code: str, message: str,
                   status: str = "400 Bad Request") -> Iterable[bytes]:
    # The shape ECR (awsJson1_1) really answers with; botocore reads the code from __type.
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response(status, [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        ("Content-Length", str(len(body))),
    ])
    return [body]


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.initial_no_auth_action_count is not None:
        # moto reads this once, when its settings module is imported.
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(args.initial_no_auth_action_count)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = EcrPublicStub(EcrFaults(DomainDispatcherApplication(create_backend_app), args.throttle_ecr,
                                  args.fail_ecr, args.ecr_token_seconds, args.fail_ecr_region),
                        args.fail_ecr_public)
    server = make_server(args.host, args.port, app, threaded=True)

    def stop(_signum: int, _frame: Any) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run on its thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"MOTO_READY http://{args.host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
