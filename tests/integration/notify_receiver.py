#!/usr/bin/python3
"""A test receiver for stemd's [notify] events: HTTPS on 127.0.0.1.

Every request is appended to --log as one JSON line (path, the webhook-*
headers, the body as text) before it is answered, so a test sees a
request even when the receiver holds it. --plan lists what to do with the
requests in the order they come: an HTTP status, or "hold" (read it, never
answer); once the plan is used up every request gets 200. The signature is
checked by the test, not here.
"""
import argparse
import http.server
import json
import ssl
import threading


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--plan", default="")
    args = p.parse_args()
    plan = [step for step in args.plan.split(",") if step]
    lock = threading.Lock()
    forever = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                step = plan.pop(0) if plan else "200"
                with open(args.log, "a") as log:
                    log.write(json.dumps({
                        "path": self.path,
                        "id": self.headers.get("webhook-id", ""),
                        "timestamp": self.headers.get("webhook-timestamp", ""),
                        "signature": self.headers.get("webhook-signature", ""),
                        "content_type": self.headers.get("Content-Type", ""),
                        "body": body.decode("utf-8"),
                        "answer": step,
                    }) + "\n")
            if step == "hold":
                forever.wait()
                return
            self.send_response(int(step))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.cert, args.key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
