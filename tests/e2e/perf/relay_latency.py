# Usage: /usr/bin/python3 relay_latency.py UPSTREAM_PORT UI_PORT N  (start `parley ui --lm-api http://127.0.0.1:UPSTREAM_PORT ...` first)
# Latency the UI adds to a streamed token: a minimal OpenAI-protocol upstream stamps the moment each
# content chunk leaves it; the client stamps the moment the matching SSE piece arrives through the UI.
import http.client, http.server, json, re, socketserver, sys, threading, time, urllib.parse
UPSTREAM_PORT = int(sys.argv[1]); UI = ("127.0.0.1", int(sys.argv[2])); N = int(sys.argv[3])
sent = {}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        body = b'{"object":"list","data":[{"id":"relay","object":"model"}]}'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = req["messages"][-1]["content"]
        self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
        def chunk(data):
            b = ("data: " + data + "\n\n").encode(); self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b)); self.wfile.flush()
        for i in range(5):
            d = {"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "tok%d " % i}, "finish_reason": None}]}
            sent[(key, i)] = time.perf_counter(); chunk(json.dumps(d)); time.sleep(0.01)
        chunk(json.dumps({"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}))
        chunk("[DONE]"); self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    def handle_error(self, *a): pass  # pooled connections the UI closes
srv = S(("127.0.0.1", UPSTREAM_PORT), H); threading.Thread(target=srv.serve_forever, daemon=True).start()
if N == 0:
    threading.Event().wait()

c = http.client.HTTPConnection(*UI); c.request("GET", "/"); r = c.getresponse(); body = r.read().decode()
cookie = r.getheader("Set-Cookie").split(";")[0]; csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
first, later = [], []
for n in range(N):
    c.request("POST", "/chats", body="csrf=" + csrf, headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse(); r.read(); loc = r.getheader("Location")
    key = "relay test %d" % n
    c.request("POST", loc + "/messages", body="csrf=" + urllib.parse.quote(csrf) + "&content=" + urllib.parse.quote(key),
              headers={"Cookie": cookie, "Accept": "text/event-stream", "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse(); buf = b""; seen = 0
    while seen < 5:
        data = r.read1(65536)
        if not data: break
        now = time.perf_counter(); buf += data
        complete = len(re.findall(rb"event: piece\ndata: [^\n]*\n\n", buf))
        while seen < complete:
            (first if seen == 0 else later).append(now - sent[(key, seen)]); seen += 1
    r.read()
p = lambda xs, q: sorted(xs)[int(q * (len(xs) - 1))] * 1000
print("first token relay ms: p50 %.3f p90 %.3f p99 %.3f (n=%d)" % (p(first, .5), p(first, .9), p(first, .99), len(first)))
print("later tokens relay ms: p50 %.3f p90 %.3f p99 %.3f (n=%d)" % (p(later, .5), p(later, .9), p(later, .99), len(later)))
