// The official OpenAI Node.js SDK against a live lm-api (started by run.sh on the tiny model).
// Streaming and non-streaming chat and completions; errors surface as the SDK's typed errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const baseURL = process.env.LM_API_URL;
const golden = readFileSync(process.env.GOLDEN, 'utf8');
const client = new OpenAI({ baseURL, apiKey: 'sdk-test-key', maxRetries: 0 });
let failures = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

await check('models.list', async () => {
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].object, 'model');
});

await check('completions.create (greedy) equals the golden text', async () => {
  const r = await client.completions.create({ model: 'any', prompt: 'Once upon a time', max_tokens: 64, temperature: 0 });
  assert.equal(r.choices[0].text, golden);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 64);
});

await check('completions.create stream equals the golden text', async () => {
  const stream = await client.completions.create({ model: 'any', prompt: 'Once upon a time', max_tokens: 64, temperature: 0, stream: true });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) { text += chunk.choices[0]?.text ?? ''; chunks++; }
  assert.equal(text, golden);
  assert.ok(chunks > 10, `streamed in ${chunks} chunks`);
});

await check('chat.completions.create and its stream agree, usage reported', async () => {
  const params = { model: 'any', messages: [{ role: 'system', content: 'Tell a story.' }, { role: 'user', content: 'Once upon a time' }], max_tokens: 24, temperature: 0 };
  const plain = await client.chat.completions.create(params);
  assert.equal(plain.object, 'chat.completion');
  assert.equal(plain.choices[0].message.role, 'assistant');
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (c?.delta?.content) text += c.delta.content;
    if (c?.finish_reason) finish = c.finish_reason;
  }
  assert.equal(text, plain.choices[0].message.content);
  assert.equal(finish, plain.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, plain.usage.completion_tokens);
});

await check('a bad request is a BadRequestError with the server message', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'x' }], n: 3 }),
    (e) => e instanceof OpenAI.BadRequestError && /n must be 1/.test(e.message));
});

await check('a wrong key is an AuthenticationError', async () => {
  const wrong = new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
});

await check('aborting a stream mid-way works', async () => {
  const controller = new AbortController();
  const stream = await client.completions.create({ model: 'any', prompt: 'Once', max_tokens: 400, stream: true }, { signal: controller.signal });
  let n = 0;
  try {
    for await (const _ of stream) { if (++n === 3) controller.abort(); }
  } catch (e) {
    assert.ok(e.name === 'AbortError' || e instanceof OpenAI.APIUserAbortError, `unexpected ${e}`);
  }
  assert.ok(n >= 3 && n < 400, `stopped after ${n} chunks`);
});

process.exit(failures ? 1 : 0);
