// Node clients of the client matrix (scripts/client_matrix.py drives this process).
//
// One JSON job per stdin line: {client, base_url, model, messages, tools, timeout_ms};
// one JSON answer per stdout line: {result: {...assembled fields...}} or {raised: "Type"}.
// Only 127.0.0.1 is ever fetched (anything else is refused); retries are off; a read that
// stays idle for timeout_ms aborts the request.
import { readFileSync } from "node:fs";
import readline from "node:readline";
import OpenAI from "openai";
import { streamText, jsonSchema, tool } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";

const versions = Object.fromEntries(
  ["openai", "ai", "@ai-sdk/openai-compatible"].map((p) => {
    const url = new URL(`./node_modules/${p}/package.json`, import.meta.url);
    return [p, JSON.parse(readFileSync(url, "utf8")).version];
  }),
);

const realFetch = globalThis.fetch;

function isLoopback(url) {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

// fetch that refuses non-loopback addresses and aborts when the body stays idle too long.
function guardedFetch(idleMs) {
  return async (input, init = {}) => {
    const url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
    if (!isLoopback(url)) throw new Error(`blocked: a client tried to reach ${url}`);
    const ctrl = new AbortController();
    if (init.signal) init.signal.addEventListener("abort", () => ctrl.abort(init.signal.reason));
    const timeout = () => ctrl.abort(new DOMException("idle read timeout", "TimeoutError"));
    let timer = setTimeout(timeout, idleMs);
    let resp;
    try {
      resp = await realFetch(input, { ...init, signal: ctrl.signal });
    } finally {
      clearTimeout(timer);
    }
    if (!resp.body) return resp;
    const reader = resp.body.getReader();
    const body = new ReadableStream({
      async pull(controller) {
        timer = setTimeout(timeout, idleMs);
        try {
          const { done, value } = await reader.read();
          clearTimeout(timer);
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          clearTimeout(timer);
          controller.error(err);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
  };
}
globalThis.fetch = (input, init) => {
  const url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
  if (!isLoopback(url)) return Promise.reject(new Error(`blocked: ${url}`));
  return realFetch(input, init);
};

function parseArgs(text) {
  if (typeof text !== "string") return text ?? null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function usageOf(u) {
  if (!u) return null;
  return {
    prompt_tokens: u.prompt_tokens ?? null,
    completion_tokens: u.completion_tokens ?? null,
    total_tokens: u.total_tokens ?? null,
  };
}

function openaiClient(job) {
  return new OpenAI({
    baseURL: job.base_url,
    apiKey: "test",
    maxRetries: 0,
    timeout: job.timeout_ms * 5,
    fetch: guardedFetch(job.timeout_ms),
  });
}

function request(job) {
  const req = {
    model: job.model,
    messages: job.messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (job.tools.length) req.tools = job.tools;
  return req;
}

// create({stream: true}) and the usual accumulation loop, tool calls keyed by index.
async function openaiIterate(job) {
  const stream = await openaiClient(job).chat.completions.create(request(job));
  const out = { role: null, id: null, model: null, finish_reason: null, usage: null };
  let text = "", refusal = "", reasoning = "";
  const calls = new Map();
  for await (const chunk of stream) {
    out.id = out.id || chunk.id || null;
    out.model = out.model || chunk.model || null;
    if (chunk.usage) out.usage = usageOf(chunk.usage);
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== 0) continue;
      const d = choice.delta ?? {};
      if (d.role) out.role = d.role;
      if (d.content) text += d.content;
      if (d.refusal) refusal += d.refusal;
      const r = d.reasoning_content ?? d.reasoning;
      if (typeof r === "string") reasoning += r;
      for (const tc of d.tool_calls ?? []) {
        if (!calls.has(tc.index)) calls.set(tc.index, { id: null, name: null, arguments: "" });
        const entry = calls.get(tc.index);
        if (tc.id) entry.id = tc.id;
        if (tc.function?.name) entry.name = tc.function.name;
        if (tc.function?.arguments) entry.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) out.finish_reason = choice.finish_reason;
    }
  }
  const keys = [...calls.keys()].sort((a, b) => (a ?? -1) - (b ?? -1));
  return {
    ...out,
    text: text || null,
    refusal: refusal || null,
    reasoning: reasoning || null,
    tool_calls: keys.map((k) => {
      const c = calls.get(k);
      return { id: c.id, name: c.name, arguments: parseArgs(c.arguments) };
    }),
  };
}

// stream() -> finalChatCompletion().
async function openaiStream(job) {
  const runner = openaiClient(job).chat.completions.stream(request(job));
  for await (const _ of runner) {
    // drain
  }
  const final = await runner.finalChatCompletion();
  const choice = final.choices.find((c) => c.index === 0);
  const msg = choice?.message ?? {};
  const reasoning = msg.reasoning_content ?? msg.reasoning;
  return {
    role: msg.role ?? null,
    id: final.id ?? null,
    model: final.model ?? null,
    text: msg.content || null,
    refusal: msg.refusal || null,
    reasoning: typeof reasoning === "string" && reasoning ? reasoning : null,
    tool_calls: (msg.tool_calls ?? []).map((t) => ({
      id: t.id ?? null,
      name: t.function?.name ?? null,
      arguments: parseArgs(t.function?.arguments),
    })),
    usage: usageOf(final.usage),
    finish_reason: choice?.finish_reason ?? null,
  };
}

const FINISH = { "tool-calls": "tool_calls", "content-filter": "content_filter" };

// The AI SDK: streamText with @ai-sdk/openai-compatible (an `error` part counts as raised).
async function aiSdk(job) {
  const provider = createOpenAICompatible({
    name: "oapi",
    baseURL: job.base_url,
    apiKey: "test",
    includeUsage: true,
    fetch: guardedFetch(job.timeout_ms),
  });
  const tools = {};
  for (const t of job.tools) {
    tools[t.function.name] = tool({
      description: t.function.description,
      inputSchema: jsonSchema(t.function.parameters),
    });
  }
  const result = streamText({
    model: provider.chatModel(job.model),
    messages: job.messages,
    tools: job.tools.length ? tools : undefined,
    maxRetries: 0,
    onError: () => {},
  });
  let error = null;
  for await (const part of result.fullStream) {
    if (part.type === "error" && !error) error = part.error;
    if (part.type === "tool-error" && !error) error = part.error;
  }
  if (error) {
    // An Error, or the raw error payload the provider streamed (a plain object or a string).
    const name = error instanceof Error ? error.name : "error part";
    throw Object.assign(new Error(String(error?.message ?? JSON.stringify(error))), { name });
  }
  const [text, reasoning, toolCalls, usage, finishReason, response] = await Promise.all([
    result.text,
    result.reasoningText,
    result.toolCalls,
    result.usage,
    result.finishReason,
    result.response,
  ]);
  return {
    role: null,
    id: response?.id ?? null,
    model: response?.modelId ?? null,
    text: text || null,
    refusal: null,
    reasoning: reasoning || null,
    tool_calls: toolCalls.map((t) => ({ id: t.toolCallId ?? null, name: t.toolName ?? null, arguments: t.input ?? null })),
    usage:
      usage && (usage.inputTokens !== undefined || usage.outputTokens !== undefined)
        ? {
            prompt_tokens: usage.inputTokens ?? null,
            completion_tokens: usage.outputTokens ?? null,
            total_tokens: usage.totalTokens ?? null,
          }
        : null,
    finish_reason: FINISH[finishReason] ?? finishReason ?? null,
  };
}

const CLIENTS = {
  "openai-node iterate": openaiIterate,
  "openai-node .stream()": openaiStream,
  "ai-sdk streamText": aiSdk,
};

function errorName(err) {
  if (err && typeof err === "object") return err.name && err.name !== "Error" ? err.name : err.constructor?.name ?? "Error";
  return typeof err;
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const job = JSON.parse(line);
  let answer;
  if (job.hello) {
    answer = { versions };
  } else {
    try {
      answer = { result: await CLIENTS[job.client](job) };
    } catch (err) {
      answer = { raised: errorName(err), message: String(err?.message ?? err).slice(0, 300) };
    }
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
