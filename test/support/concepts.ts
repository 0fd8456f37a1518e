/**
 * Stand-in embeddings models for tests. `knowingModel`: a model that knows which entry each of
 * an FAQ's wordings is about, and is told what some other questions are about (so "买错了想还回去"
 * can be near 退货 although they share no character); `randomModel`: a random direction per
 * text, which says nothing of the meaning; `noiseModel`: a bag of the text's characters, which
 * says as much as its characters do. All give every text a point of its own.
 */
import type { FaqEntry } from '../../src/knowledge/faq.ts';
import { prng } from '../../src/shared/prng.ts';

const OWN = 16;

function own(text: string, v: number[], offset: number, weight: number): void {
  for (const ch of text) {
    const d = offset + ((((ch.codePointAt(0) ?? 0) * 2654435761) >>> 0) % OWN);
    v[d] = (v[d] ?? 0) + weight;
  }
}

/** Embeds like a model that knows what the entries' wordings and the `about` questions mean. */
export function knowingModel(entries: readonly FaqEntry[], about: Record<string, string> = {}): (texts: string[]) => number[][] {
  const topic = new Map<string, number>();
  entries.forEach((e, i) => {
    for (const w of [e.question, ...e.alternates]) topic.set(w, i);
  });
  for (const [text, id] of Object.entries(about)) {
    const i = entries.findIndex((e) => e.id === id);
    if (i < 0) throw new Error(`no entry ${id}`);
    topic.set(text, i);
  }
  return (texts) => texts.map((text) => {
    const v = Array.from({ length: entries.length + OWN }, () => 0);
    const t = topic.get(text);
    if (t !== undefined) v[t] = 1;
    own(text, v, entries.length, 0.1);
    return v;
  });
}

/** Embeds with vectors that carry nothing but the characters' hash. */
export function noiseModel(texts: string[]): number[][] {
  return texts.map((text) => {
    const v = Array.from({ length: OWN }, () => 0);
    own(text, v, 0, 1);
    return v;
  });
}

/** Embeds each text as a random direction of 64 dimensions (the same for the same text). */
export function randomModel(texts: string[]): number[][] {
  return texts.map((text) => {
    let seed = 2166136261;
    for (const ch of text) seed = Math.imul(seed ^ (ch.codePointAt(0) ?? 0), 16777619) >>> 0;
    const next = prng(seed);
    return Array.from({ length: 64 }, () => next() * 2 - 1);
  });
}
