import type { z } from 'zod';
import type { PayloadEncoding } from '../../adapters/define.ts';
import { formatPath } from '../config/load.ts';

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Deeper JSON than this is refused before parsing (a validator recursing into it would overflow the stack). */
export const DEFAULT_MAX_JSON_DEPTH = 32;

/** Bytes to a value for the schema: strict UTF-8, then JSON where the route expects it. */
export function decodePayload(
  payload: Uint8Array,
  encoding: PayloadEncoding,
  maxDepth = DEFAULT_MAX_JSON_DEPTH,
): Decoded {
  if (encoding === 'binary') return { ok: true, value: payload };
  let text: string;
  try {
    text = utf8.decode(payload).trim();
  } catch {
    return { ok: false, reason: 'not_utf8', detail: 'payload is not valid UTF-8 text' };
  }
  if (encoding === 'text') return { ok: true, value: text };
  const depth = jsonDepth(text, maxDepth);
  if (depth > maxDepth) {
    return {
      ok: false,
      reason: 'invalid_payload',
      detail: `JSON nested more than ${maxDepth} levels deep (ingest.maxJsonDepth)`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    if (encoding === 'json-or-text') return { ok: true, value: text };
    return { ok: false, reason: 'not_json', detail: `payload is not JSON: ${(err as Error).message}` };
  }
}

/** A schema failure as `field: message; ...`, the same form as config errors. */
export function describeSchemaError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${formatPath(i.path)}: ${i.message}`)
    .join('; ');
}

/**
 * How deeply arrays and objects nest in JSON text, counted up to `stopAt + 1`, skipping strings.
 * One pass over the characters: far cheaper than the parse it guards.
 */
export function jsonDepth(text: string, stopAt: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAt) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
