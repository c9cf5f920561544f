#!/usr/bin/env python3
"""moto's AWS API server on a loopback port, with ECR fault injection for the e2e suite.

Prints one line `MOTO_READY http://127.0.0.1:PORT` on stdout once it accepts requests, then
serves until SIGTERM/SIGINT. moto has no fault switch of its own, so the faults are injected in
front of its WSGI app:

  --throttle-ecr N   the first N ecr:GetAuthorizationToken calls answer HTTP 400
                     ThrottlingException, which the aws CLI's standard retry mode retries
  --fail-ecr         every GetAuthorizationToken call answers HTTP 400 AccessDeniedException
                     (not retried), for "an AWS failure writes nothing" tests
  --ecr-token-seconds N
                     GetAuthorizationToken answers with expiresAt N seconds from now, as
                     ECR does (12 hours), instead of moto's fixed date in 2015
  --initial-no-auth-action-count N
                     moto's INITIAL_NO_AUTH_ACTION_COUNT: the first N calls skip
                     authentication, later ones need valid keys and IAM permissions

GET /_harness/stats returns the GetAuthorizationToken call counts as JSON.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from typing import Any, Callable, Iterable

ECR_TOKEN_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
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
    parser.add_argument("--ecr-token-seconds", type=int, default=None)
    return parser.parse_args(argv)


class EcrFaults:
    """WSGI middleware: counts and optionally fails ECR GetAuthorizationToken calls."""

    def __init__(self, app: WsgiApp, throttle: int, fail: bool, token_seconds: int | None) -> None:
        self.app = app
        self.throttle = throttle
        self.fail = fail
        self.token_seconds = token_seconds
        self.lock = threading.Lock()
        self.stats = {"getAuthorizationToken": 0, "throttled": 0, "failed": 0}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            with self.lock:
                body = json.dumps(self.stats).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("HTTP_X_AMZ_TARGET") == ECR_TOKEN_TARGET:
            with self.lock:
                self.stats["getAuthorizationToken"] += 1
                if self.fail:
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


def aws_json_error(start_response: StartResponse, code: str, message: str) -> Iterable[bytes]:
    # The shape ECR (awsJson1_1) really answers with; botocore reads the code from __type.
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response("400 Bad Request", [
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

    app = EcrFaults(DomainDispatcherApplication(create_backend_app), args.throttle_ecr,
                    args.fail_ecr, args.ecr_token_seconds)
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
