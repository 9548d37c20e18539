# Usage: /usr/bin/python3 open_streams.py UPSTREAM_PORT UI_PORT N UI_PID
# Memory of `parley ui` with N reply streams open at once: an asyncio OpenAI-protocol upstream that
# sends one chunk a second, N chats each streaming a reply through the UI; prints the UI's RSS
# before and once every stream has delivered a piece. (Start `parley ui --lm-api
# http://127.0.0.1:UPSTREAM_PORT --max-generations-per-session N ...` first.)
import asyncio, json, re, sys, time, urllib.parse
UP, UI, N, PID = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def rss_mib():
    for line in open(f"/proc/{PID}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024

async def upstream(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)) if b"ontent-" in head else 0
        await reader.readexactly(n)
        if head.startswith(b"GET"):
            body = b'{"object":"list","data":[{"id":"slow","object":"model"}]}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)); await writer.drain(); return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(120):
            d = json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "w%d " % i}}]})
            b = ("data: " + d + "\n\n").encode(); writer.write(b"%x\r\n%s\r\n" % (len(b), b)); await writer.drain()
            await asyncio.sleep(1)
    except Exception:
        pass
    finally:
        writer.close()

async def http(method, path, cookie=None, body=b"", accept=None):
    r, w = await asyncio.open_connection("127.0.0.1", UI)
    h = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    if cookie: h += f"Cookie: {cookie}\r\n"
    if accept: h += f"Accept: {accept}\r\n"
    w.write(h.encode() + b"\r\n" + body); await w.drain()
    return r, w

async def main():
    srv = await asyncio.start_server(upstream, "127.0.0.1", UP, backlog=4096)
    r, w = await http("GET", "/"); data = await r.read(65536)
    while b"</html>" not in data: data += await r.read(65536)
    cookie = re.search(rb"Set-Cookie: (parley_session=[^;]+)", data).group(1).decode()
    csrf = re.search(rb'name="csrf" value="([^"]+)"', data).group(1).decode(); w.close()
    chats = []
    for i in range(N):
        r, w = await http("POST", "/chats", cookie, ("csrf=" + csrf).encode())
        head = await r.readuntil(b"\r\n\r\n"); chats.append(re.search(rb"Location: (\S+)", head).group(1).decode()); w.close()
    before = rss_mib()
    got = asyncio.Event(); count = 0; conns = []
    async def stream(chat):
        nonlocal count
        r, w = await http("POST", chat + "/messages", cookie, ("csrf=" + urllib.parse.quote(csrf) + "&content=hi").encode(), "text/event-stream")
        conns.append(w); buf = b""
        while b"event: piece" not in buf:
            d = await r.read(4096)
            if not d: return
            buf += d
        count += 1
        if count == N: got.set()
        while await r.read(4096): pass
    tasks = [asyncio.create_task(stream(c)) for c in chats]
    t0 = time.time()
    try:
        await asyncio.wait_for(got.wait(), 120)
    except asyncio.TimeoutError:
        pass
    print(f"{count}/{N} streams open and delivering after {time.time()-t0:.1f} s; ui RSS before {before:.1f} MiB, with the streams {rss_mib():.1f} MiB")
    for w in conns: w.close()
    for t in tasks: t.cancel()
    srv.close()

asyncio.run(main())
