/** The LLM part's one named error (STYLE.md §6); it never leaves src/llm — the methods turn it into null. */
import type { LlmFailureReason } from './types.ts';

/** A provider call that gave nothing usable; `retryable` says whether trying again may help. */
export class LlmError extends Error {
  constructor(
    readonly reason: LlmFailureReason,
    readonly retryable: boolean,
    message: string,
    /** How long the provider asked us to wait before retrying (Retry-After), if it said. */
    readonly retryAfterMs?: number,
  ) {
    super(`llm ${reason}: ${message}`);
    this.name = 'LlmError';
  }
}
