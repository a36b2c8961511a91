import { reactive } from 'vue';
import { api } from '../api';
import type { KbEntry } from '../types';

/** Hints per category and fault, fetched once per page load (GET /api/kb?category=&fault=). */
const hints = reactive(new Map<string, KbEntry | null>());
const asked = new Set<string>();

const keyOf = (category: string, fault: string) => `${category}\u0000${fault}`;

/** The best hint for a fault: an entry for that fault, else one for its whole category. */
export function useKbHints() {
  function hintFor(category: string, fault: string): KbEntry | null {
    const key = keyOf(category, fault);
    if (!asked.has(key)) {
      asked.add(key);
      api<KbEntry[] | { entries: KbEntry[] }>('/kb', { query: { category, fault } })
        .then((answer) => {
          const list = Array.isArray(answer) ? answer : answer.entries;
          hints.set(key, list.find((e) => e.fault === fault) ?? list.find((e) => e.fault === null) ?? null);
        })
        .catch(() => {
          asked.delete(key);
        });
    }
    return hints.get(key) ?? null;
  }
  return { hintFor };
}
