import { api } from '../../api';

/** Every item of a paged list (`{total, <key>: T[]}`), a page of `limit` at a time. */
export async function fetchAll<T>(
  path: string,
  key: string,
  query: Record<string, string> = {},
  limit = 500,
): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const page = await api<{ total: number } & Record<string, unknown>>(path, {
      query: { ...query, limit, offset: out.length },
    });
    const items = (page[key] ?? []) as T[];
    out.push(...items);
    if (items.length === 0 || out.length >= page.total) return out;
  }
}
