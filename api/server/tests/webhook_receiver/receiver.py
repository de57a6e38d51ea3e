"""A webhook receiver for Nexus's tests: it verifies every delivery with the `standardwebhooks`
package (an implementation independent of Nexus's) and records what it saw.

It prints its port on the first line of stdout, then serves until killed:
- POST /_config  {"secrets": [...], "fail_first": n, "hang_first": n, "hang_seconds": s}
- GET  /_seen    every delivery attempt, in arrival order
- POST /<any>    a delivery: answered 500 for the first `fail_first` attempts of each
                 webhook-id, held for `hang_seconds` for the first `hang_first`, else 200;
                 /slow answers after 3 s, /huge answers 200 with an 8 MiB body.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
STATE = {"secrets": [], "fail_first": 0, "hang_first": 0, "hang_seconds": 30, "attempts": {}, "seen": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"ok"):
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with LOCK:
            body = json.dumps({"seen": STATE["seen"]}).encode()
        self.reply(200, body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/_config":
            with LOCK:
                STATE.update(json.loads(body))
            return self.reply(200)
        message_id = self.headers.get("webhook-id")
        headers = {name: value for name, value in self.headers.items()}
        with LOCK:
            attempt = STATE["attempts"].get(message_id, 0) + 1
            STATE["attempts"][message_id] = attempt
            secrets = list(STATE["secrets"])
            fail_first, hang_first, hang_seconds = STATE["fail_first"], STATE["hang_first"], STATE["hang_seconds"]
        verified_by = []
        for index, secret in enumerate(secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified_by.append(index)
            except WebhookVerificationError:
                pass
        if attempt <= hang_first:
            answer = 200
        elif attempt <= hang_first + fail_first:
            answer = 500
        else:
            answer = 200
        entry = {
            "path": self.path,
            "id": message_id,
            "attempt": attempt,
            "verified_by": verified_by,
            "answered": answer,
            "body": json.loads(body),
        }
        with LOCK:
            STATE["seen"].append(entry)
        if attempt <= hang_first:
            time.sleep(hang_seconds)
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/huge":
            chunk = b"x" * 65536
            self.send_response(200)
            self.send_header("content-length", str(len(chunk) * 128))
            self.end_headers()
            try:
                for _ in range(128):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        self.reply(answer)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
