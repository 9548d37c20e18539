# Usage: /usr/bin/python3 ttft.py SERVICE_TOKEN N  (ui on 28080, lm-api on 28082)
# TTFT through the UI (POST /chats/{id}/messages, SSE) vs straight from lm-api (same one-turn chat).
import http.client, json, re, statistics, sys, time, urllib.parse
UI = ("127.0.0.1", 28080); LM = ("127.0.0.1", 28082); TOKEN = sys.argv[1]; N = int(sys.argv[2])

def ui_session():
    c = http.client.HTTPConnection(*UI); c.request("GET", "/"); r = c.getresponse(); body = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    return cookie, csrf

def ui_ttft(cookie, csrf, text):
    c = http.client.HTTPConnection(*UI)
    c.request("POST", "/chats", body="csrf=" + csrf, headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse(); r.read(); loc = r.getheader("Location")
    body = "csrf=" + urllib.parse.quote(csrf) + "&content=" + urllib.parse.quote(text)
    t0 = time.perf_counter()
    c.request("POST", loc + "/messages", body=body, headers={"Cookie": cookie, "Accept": "text/event-stream",
              "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    buf = b""
    while b"event: piece" not in buf:
        buf += r.read1(4096)
    t = time.perf_counter() - t0
    r.read(); c.close(); return t

def lm_ttft(text):
    c = http.client.HTTPConnection(*LM)
    body = json.dumps({"model": "x", "stream": True, "max_tokens": 40, "messages": [{"role": "user", "content": text}]})
    t0 = time.perf_counter()
    c.request("POST", "/v1/chat/completions", body=body, headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    r = c.getresponse(); buf = b""
    while b'"content":"' not in buf or b'"content":""' in buf and buf.count(b'"content":"') < 2:
        buf += r.read1(4096)
    t = time.perf_counter() - t0
    r.read(); c.close(); return t

cookie, csrf = ui_session()
ui, lm = [], []
for i in range(N):
    text = "Once upon a time there was a cat number %d" % i
    lm.append(lm_ttft(text)); ui.append(ui_ttft(cookie, csrf, text))
p = lambda xs, q: sorted(xs)[int(q * (len(xs) - 1))] * 1000
print("lm-api direct TTFT ms p50 %.2f p90 %.2f" % (p(lm, .5), p(lm, .9)))
print("through ui    TTFT ms p50 %.2f p90 %.2f" % (p(ui, .5), p(ui, .9)))
d = [u - l for u, l in zip(ui, lm)]
print("ui adds (paired) ms p50 %.2f p90 %.2f" % (p(d, .5), p(d, .9)))
