/** What the conversations, the handover table and the shop tell the reports, as they happen (docs/reports.md). */

/** Something to count. Each is told once, by the part where it happens, never from a bus broadcast. */
export type ReportEvent =
  /** A customer message was handled (its turn committed); `newConversation` for a conversation's first. */
  | { kind: 'customerMessage'; newConversation: boolean }
  /** Messages the bot sent (replies, reminders, the 回访 question). */
  | { kind: 'botMessages'; count: number }
  /** An event the flow engine recorded (`RecordedEvent`, or any later one), with its detail. */
  | { kind: 'engine'; event: string; detail?: string }
  /** The bot changed an order (address, phone, variant, quantity, delivery request, cancel). */
  | { kind: 'orderChanged'; change: string }
  /** The bot created a return or exchange request, with the reason recorded on it. */
  | { kind: 'afterSale'; afterSale: 'return' | 'exchange'; reason: string }
  /** A ticket was opened: a handoff to a person, or a promised follow-up. */
  | { kind: 'ticket'; ticket: 'handoff' | 'follow_up'; reason: string; complaintKind?: string }
  | { kind: 'agentMessage' }
  /** A person answered a handed-off customer for the first time, `seconds` after the wait began. */
  | { kind: 'firstResponse'; seconds: number }
  /** A ticket passed its first-response due time (counted once per ticket). */
  | { kind: 'slaBreach' }
  /** A ticket moved to the next shift: by an agent (with a note) or by the system when a shift ended. */
  | { kind: 'handedOver'; by: 'agent' | 'system' }
  /** The customer's 回访 score, 1–5 (the first answer per ticket). */
  | { kind: 'satisfaction'; score: number };

/** Where report events go. Never throws: a lost count must not break a customer's turn or an agent's reply. */
export interface ReportRecorder {
  /** Counts `events` that happened at `at`, in `conversationId` when they belong to one. */
  record(at: Date, conversationId: string | null, events: readonly ReportEvent[]): Promise<void>;
}
