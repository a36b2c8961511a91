import type { z } from 'zod';
import type { PayloadEncoding } from '../../adapters/define.ts';
import { formatPath } from '../config/load.ts';

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes to a value for the schema: strict UTF-8, then JSON where the route expects it. */
export function decodePayload(payload: Uint8Array, encoding: PayloadEncoding): Decoded {
  if (encoding === 'binary') return { ok: true, value: payload };
  let text: string;
  try {
    text = utf8.decode(payload).trim();
  } catch {
    return { ok: false, reason: 'not_utf8', detail: 'payload is not valid UTF-8 text' };
  }
  if (encoding === 'text') return { ok: true, value: text };
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
