/** The optional LLM's narrow interface: four uses, each answering null on any failure so the caller takes the deterministic path. */
import type { Lang } from '../bots/messages.ts';

/** What a call was for; the label of every counted event. */
export type LlmUse = 'understand' | 'wordAnswer' | 'summarize' | 'embed';

/** Why a call gave nothing: the provider did not answer usefully. */
export type LlmFailureReason =
  | 'timeout'
  | 'rate_limited'
  | 'server_error'
  | 'connection'
  | 'client_error'
  | 'malformed'
  | 'schema'
  | 'unexpected';

/** Why a well-formed answer was thrown away by a guardrail (the model's output was not trusted). */
export type LlmDiscardReason =
  | 'intent_not_offered'
  | 'slot_not_offered'
  | 'unsupported'
  | 'citation_not_offered'
  | 'empty'
  | 'invented_number'
  | 'invented_link'
  | 'claims_action'
  | 'too_long';

/**
 * One counted event. `call`: the provider answered (2xx), with its token usage when it said;
 * `failure`: the method returned null because the provider failed (after the retry, if any);
 * `discarded`: a guardrail threw (part of) the model's answer away.
 * One method call gives at most one `failure` and any number of `discarded`.
 */
export interface LlmCountEvent {
  kind: 'call' | 'failure' | 'discarded';
  use: LlmUse;
  reason?: LlmFailureReason | LlmDiscardReason;
  promptTokens?: number;
  completionTokens?: number;
}

/** Callbacks for metrics; a hook that throws is ignored (metrics never break a turn). */
export interface LlmHooks {
  counted?(event: LlmCountEvent): void;
}

/** Provider settings; see docs/llm.md for the environment variables that fill them. */
export interface LlmConfig {
  apiKey: string;
  /** Any OpenAI-compatible endpoint (DashScope compatible mode, DeepSeek, GLM, vLLM, Ollama). Default: OpenAI. */
  baseURL?: string;
  /** Chat model. Required with `baseURL`; default `gpt-4o-mini` on OpenAI itself. */
  model?: string;
  /** Embeddings model; without it `embed` answers null without calling. */
  embeddingModel?: string;
  /** Time limit of one method call, the retry included (default 4000 ms). */
  timeoutMs?: number;
  /** Retries of a transient failure: 0 or 1 (default 1; more is capped at 1). */
  maxRetries?: number;
  /**
   * How structured output is asked for: `json_object` (default, `response_format`) or `tool`
   * (one forced function call). Either way the answer is checked by zod.
   */
  structuredOutput?: 'json_object' | 'tool';
}

/** An intent of the script library as the model sees it. */
export interface LlmIntentOption {
  id: string;
  examples: string[];
}

/** Input of {@link Llm.understand}. */
export interface UnderstandInput {
  text: string;
  lang: Lang;
  intents: LlmIntentOption[];
  slotTypes: string[];
}

/**
 * The model's proposal. `intent` is one of the offered ids or null; `slots` only has offered
 * slot types, values raw as the model wrote them — re-validate them with the rule extractors.
 */
export interface LlmUnderstanding {
  intent: string | null;
  confidence: number;
  slots: Record<string, string>;
}

/** An FAQ entry offered for wording (already retrieved by the FAQ index). */
export interface LlmFaqEntry {
  id: string;
  question: string;
  answer: string;
}

/** Input of {@link Llm.wordAnswer}. */
export interface WordAnswerInput {
  question: string;
  lang: Lang;
  entries: LlmFaqEntry[];
}

/** An answer worded from one offered entry, which it cites. */
export interface LlmWordedAnswer {
  text: string;
  citedId: string;
}

/** Input of {@link Llm.summarize}: the ticket's facts as the pipeline knows them. */
export interface SummarizeInput {
  /** Why the conversation is handed over (e.g. "customer asked for a person"). */
  reason: string;
  lang: Lang;
  intent: string | null;
  slots: Record<string, unknown>;
  /** The last messages, oldest first; `from` is customer, bot or agent. */
  lastMessages: { from: string; text: string }[];
  /** What the bot did or promised, in the pipeline's words (e.g. "order E… looked up"). */
  notes?: string[];
}

/**
 * The optional LLM. Every method answers null on any failure (timeout, 429, 5xx, malformed or
 * schema-invalid output, an answer a guardrail refused) and never throws; the caller then
 * answers from rules, the classifier and FAQ retrieval in the same turn. Nothing here performs
 * an action: the model only proposes.
 */
export interface Llm {
  /** Intent and slots for a message the rules were unsure of; an intent outside `intents` becomes null. */
  understand(input: UnderstandInput): Promise<LlmUnderstanding | null>;
  /** An answer worded only from `entries`, citing one of them; null when none supports an answer. */
  wordAnswer(input: WordAnswerInput): Promise<LlmWordedAnswer | null>;
  /** A handover summary for agents (wants / done / promised), at most 300 characters. */
  summarize(input: SummarizeInput): Promise<string | null>;
  /** One vector per text, in order (needs an embeddings model). */
  embed(texts: string[]): Promise<number[][] | null>;
}
