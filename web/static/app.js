// Parley chat page: streams replies with fetch + Server-Sent Events. Without this script every form
// still works (the server waits for the whole reply and redirects back to the chat).
'use strict';

(function () {
  const chat = document.getElementById('chat');
  if (!chat) return;
  const composer = document.getElementById('composer');
  const messages = document.getElementById('messages');
  const liveStatus = document.getElementById('live-status');
  const stopForm = document.getElementById('stop-form');
  const regenerateForm = document.getElementById('regenerate-form');
  const content = document.getElementById('content');
  let running = null;  // {controller, stopTimer}

  function formBody(form, extra) {
    const params = new URLSearchParams(new FormData(form));
    if (extra) for (const [k, v] of Object.entries(extra)) params.set(k, v);
    return params;
  }

  function fromHtml(html) {
    const t = document.createElement('template');
    t.innerHTML = html.trim();  // server-rendered: markdown with raw HTML off, escaped text
    return t.content.firstElementChild;
  }

  function scrollDown() { window.scrollTo(0, document.body.scrollHeight); }

  function pendingReply() {
    const li = document.createElement('li');
    li.className = 'msg assistant partial streaming';
    const who = document.createElement('div');
    who.className = 'who';
    who.textContent = 'Assistant';
    const body = document.createElement('div');
    body.className = 'body streaming';
    li.append(who, body);
    return li;
  }

  function pendingUser(text) {
    const li = document.createElement('li');
    li.className = 'msg user';
    const who = document.createElement('div');
    who.className = 'who';
    who.textContent = 'You';
    const body = document.createElement('div');
    body.className = 'body streaming';
    body.textContent = text;  // escaped until the server's rendering replaces it
    li.append(who, body);
    return li;
  }

  // Parses an SSE byte stream: calls onEvent(name, data) per event.
  function sseParser(onEvent) {
    let buffer = '';
    return function feed(chunk) {
      buffer += chunk;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer[end] === '\r' ? 4 : 2));
        let name = 'message';
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') name = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length) onEvent(name, data.join('\n'));
      }
    };
  }

  // A new reply clears the last status line; the end of one keeps what it says (an error, a 429's
  // "You can send again in N seconds.", "Stopped.").
  function setStreaming(on) {
    document.body.classList.toggle('streaming', on);
    if (on) liveStatus.textContent = '';
  }

  async function errorMessage(response) {
    try {
      const j = await response.json();
      if (j && j.error && j.error.message) return j.error.message;
    } catch (e) { /* not JSON */ }
    return 'The request failed (' + response.status + ').';
  }

  async function run(url, body, userText) {
    if (running) return;
    const controller = new AbortController();
    running = { controller: controller, stopTimer: null };
    setStreaming(true);
    let userLi = null;
    if (userText !== null) {
      userLi = pendingUser(userText);
      messages.append(userLi);
    }
    let reply = pendingReply();
    const replyBody = reply.querySelector('.body');
    messages.append(reply);
    scrollDown();
    let text = '';
    let finished = false;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Accept': 'text/event-stream' },
        body: body,
        signal: controller.signal,
        credentials: 'same-origin',
      });
      if (!response.ok || !response.body) {
        const msg = await errorMessage(response);
        if (userLi) userLi.remove();  // not sent: the text goes back into the box
        reply.remove();
        liveStatus.textContent = msg;
        finished = true;
        return false;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const feed = sseParser(function (name, data) {
        const value = JSON.parse(data);
        if (name === 'piece') {
          text += value;
          replyBody.textContent = text;  // escaped while streaming
          liveStatus.textContent = '';
          scrollDown();
        } else if (name === 'user' && userLi) {
          const li = fromHtml(value.html);
          userLi.replaceWith(li);
          userLi = li;
          if (value.title) {  // the first message named the chat
            document.getElementById('chat-title').textContent = value.title;
            document.title = value.title + ' · Parley';
            const input = document.querySelector('input[name=title]');
            if (input) input.value = value.title;
          }
        } else if (name === 'status') {
          liveStatus.textContent = value.message;
        } else if (name === 'done' || name === 'error') {
          if (value.html) {
            const li = fromHtml(value.html);
            reply.replaceWith(li);
            reply = li;
          }
          liveStatus.textContent = name === 'error' ? value.message : '';
          finished = true;
        }
      });
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed(value);
      }
      return true;
    } catch (e) {
      if (!finished) {
        reply.classList.add('partial');
        liveStatus.textContent = controller.signal.aborted ? 'Stopped.' : 'The connection was lost; reload to see what was saved.';
      }
      return true;  // the message reached the server (it stored it before generating)
    } finally {
      if (running && running.stopTimer) clearTimeout(running.stopTimer);
      running = null;
      setStreaming(false);
      if (!finished) reply.classList.remove('streaming');
    }
  }

  composer.addEventListener('submit', function (ev) {
    ev.preventDefault();
    const text = content.value;
    if (!text.trim() || running) return;
    const body = formBody(composer);
    content.value = '';
    run(composer.action, body, text).then(function (ok) {
      if (!ok && !content.value) content.value = text;
    });
  });

  content.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) composer.requestSubmit();
  });

  regenerateForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (running) return;
    const last = messages.lastElementChild;
    if (last && last.classList.contains('assistant')) last.remove();
    run(regenerateForm.action, formBody(regenerateForm), null);
  });

  // Stop: ask the server to stop (it then ends the stream with what was generated); if that does
  // not arrive quickly, drop the connection, which the server also treats as a stop.
  stopForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!running) return;
    const current = running;
    fetch(stopForm.action, { method: 'POST', body: formBody(stopForm), credentials: 'same-origin',
                             headers: { 'Accept': 'application/json' } })
      .catch(function () { current.controller.abort(); });
    current.stopTimer = setTimeout(function () { current.controller.abort(); }, 3000);
  });
})();
