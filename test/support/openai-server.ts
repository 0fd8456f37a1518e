/**
 * A local OpenAI-compatible server for tests: real HTTP, POST /v1/chat/completions (non-streaming,
 * JSON mode and forced function calls, with usage) and POST /v1/embeddings, a programmable
 * behaviour per request (scripted reply, delay, error status, malformed body) and a log of
 * every request received, so tests can assert what left the process.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One chat message as the client sent it. */
export interface ReceivedMessage {
  role: string;
  content: string;
}

/** One request the server received, parsed. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  /** The raw body text, exactly as it arrived. */
  raw: string;
  body: Record<string, unknown>;
  /** Chat requests: the messages with their text content. */
  messages: ReceivedMessage[];
  /** Chat requests: the forced function's name when `tools` + `tool_choice` were sent. */
  toolName: string | null;
  /** Chat requests: whether `response_format: {type: 'json_object'}` was sent. */
  jsonMode: boolean;
}

/**
 * What the scripted model produces for one chat request: `json` is sent as the forced tool
 * call's arguments (tool mode) or as the message content (JSON mode); `content` is sent as
 * the message content as is (to send broken or chatty output); `toolCall` sends a call of any
 * function with any arguments text.
 */
export interface ScriptedReply {
  json?: unknown;
  content?: string;
  toolCall?: { name: string; arguments: string };
  finishReason?: 'stop' | 'length' | 'tool_calls';
}

/** How the server answers one request. Fields combine: a delay, then a status or a reply. */
export interface Behaviour {
  /** Wait this long before answering (a client with a shorter time limit gives up). */
  delayMs?: number;
  /** Answer with this error status (429, 500, 503, 400…) and an OpenAI-style error body. */
  status?: number;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
  /** Answer 200 with a body that is not JSON. */
  malformedBody?: boolean;
  /** The model's output for a chat request. Default: {@link FakeOpenAi.defaultReply}. */
  reply?: (request: ReceivedRequest) => ScriptedReply;
  /** Token usage reported. Default: counted from the text lengths. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  /** Embeddings: vectors to return (default: a deterministic 8-dim vector per input). */
  embeddings?: (inputs: string[]) => number[][];
}

export interface FakeOpenAi {
  /** The client's baseURL (`http://127.0.0.1:port/v1`). */
  baseURL: string;
  /** Every request received, in order, including those answered with an error. */
  requests: ReceivedRequest[];
  /** Behaviours for the next requests, one each, in order; after them `fallback` answers. */
  next(...behaviours: Behaviour[]): void;
  /** The behaviour when no scripted one is queued (default: `{}`, the default reply). */
  fallback: Behaviour;
  /** The reply when a behaviour has no `reply`: `{}` as JSON. */
  defaultReply: (request: ReceivedRequest) => ScriptedReply;
  /** Forgets queued behaviours and received requests; the fallback becomes `{}` again. */
  reset(): void;
  close(): Promise<void>;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part: unknown) =>
      part !== null && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : '').join('');
  }
  return '';
}

function parseRequest(path: string, headers: IncomingMessage['headers'], raw: string): ReceivedRequest {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // Left empty: the route answers 400.
  }
  const messages = Array.isArray(body.messages)
    ? body.messages.map((m: unknown) => {
      const record = (m ?? {}) as Record<string, unknown>;
      return { role: String(record.role ?? ''), content: textOf(record.content) };
    })
    : [];
  const choice = body.tool_choice as { function?: { name?: unknown } } | undefined;
  const toolName = Array.isArray(body.tools) && typeof choice?.function?.name === 'string' ? choice.function.name : null;
  const format = body.response_format as { type?: unknown } | undefined;
  return { path, headers, raw, body, messages, toolName, jsonMode: format?.type === 'json_object' };
}

/** A deterministic small vector for a text, so equal texts embed equally. */
function vectorOf(text: string): number[] {
  const v = Array.from({ length: 8 }, () => 0);
  for (let i = 0; i < text.length; i++) v[i % 8] = (v[i % 8] ?? 0) + (text.charCodeAt(i) % 97) / 97;
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function errorBody(status: number, message: string): unknown {
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, code: type, param: null } };
}

/** Starts the server on a free port of 127.0.0.1. */
export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const queue: Behaviour[] = [];
  let completionId = 0;

  const fake: FakeOpenAi = {
    baseURL: '',
    requests: [],
    next: (...behaviours) => void queue.push(...behaviours),
    fallback: {},
    defaultReply: () => ({ json: {} }),
    reset: () => {
      queue.length = 0;
      fake.requests.length = 0;
      fake.fallback = {};
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  async function answerChat(req: ReceivedRequest, behaviour: Behaviour, res: ServerResponse): Promise<void> {
    if (typeof req.body.model !== 'string' || req.messages.length === 0) {
      send(res, 400, errorBody(400, 'model and messages are required'));
      return;
    }
    if (req.body.stream === true) {
      send(res, 400, errorBody(400, 'this test server does not stream'));
      return;
    }
    // As OpenAI and DashScope do: JSON mode needs the word "json" somewhere in the messages.
    if (req.jsonMode && !req.messages.some((m) => /json/i.test(m.content))) {
      send(res, 400, errorBody(400, "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."));
      return;
    }
    const scripted = (behaviour.reply ?? fake.defaultReply)(req);
    let content: string | null = null;
    let toolCalls: unknown[] | undefined;
    if (scripted.toolCall) {
      toolCalls = [{ id: 'call_1', type: 'function', function: scripted.toolCall }];
    } else if (scripted.json !== undefined && req.toolName !== null) {
      toolCalls = [{ id: 'call_1', type: 'function', function: { name: req.toolName, arguments: JSON.stringify(scripted.json) } }];
    } else if (scripted.json !== undefined) {
      content = JSON.stringify(scripted.json);
    }
    if (scripted.content !== undefined) content = scripted.content;
    const promptChars = req.messages.reduce((n, m) => n + m.content.length, 0);
    const completionChars = (content ?? '').length + JSON.stringify(toolCalls ?? '').length;
    const counts = behaviour.usage === undefined
      ? { prompt_tokens: Math.ceil(promptChars / 2), completion_tokens: Math.ceil(completionChars / 2) }
      : behaviour.usage;
    const usage = counts ? { ...counts, total_tokens: counts.prompt_tokens + counts.completion_tokens } : null;
    send(res, 200, {
      id: `chatcmpl-${++completionId}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.body.model,
      choices: [{
        index: 0,
        message: { role: 'assistant', content, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
        finish_reason: scripted.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
      }],
      ...(usage ? { usage } : {}),
    }, behaviour.headers);
  }

  function answerEmbeddings(req: ReceivedRequest, behaviour: Behaviour, res: ServerResponse): void {
    const input = req.body.input;
    const inputs = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((t) => typeof t === 'string') ? input as string[] : null;
    if (typeof req.body.model !== 'string' || !inputs || inputs.some((t) => t.length === 0)) {
      send(res, 400, errorBody(400, 'model and a non-empty input are required'));
      return;
    }
    const vectors = behaviour.embeddings ? behaviour.embeddings(inputs) : inputs.map(vectorOf);
    const base64 = req.body.encoding_format === 'base64';
    send(res, 200, {
      object: 'list',
      model: req.body.model,
      data: vectors.map((embedding, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(new Float32Array(embedding).buffer).toString('base64') : embedding,
      })),
      usage: { prompt_tokens: inputs.join('').length, total_tokens: inputs.join('').length },
    }, behaviour.headers);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '').split('?')[0] ?? '';
        const received = parseRequest(path, req.headers, Buffer.concat(chunks).toString('utf8'));
        fake.requests.push(received);
        const behaviour = queue.shift() ?? fake.fallback;
        if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
        if (res.destroyed) return;
        if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/embeddings')) {
          send(res, 404, errorBody(404, `no route ${req.method} ${path}`));
        } else if (behaviour.status) {
          send(res, behaviour.status, errorBody(behaviour.status, `scripted status ${behaviour.status}`), behaviour.headers);
        } else if (behaviour.malformedBody) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"id": "chatcmpl-broken", "choices": [ {"message": ');
        } else if (path === '/v1/embeddings') {
          answerEmbeddings(received, behaviour, res);
        } else {
          await answerChat(received, behaviour, res);
        }
      })();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
