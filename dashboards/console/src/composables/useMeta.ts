import { ref } from 'vue';
import { api } from '../api';
import { onSignOut } from '../auth';
import type { Meta } from '../types';

/**
 * GET /api/meta, fetched once per session: sites, categories and resolutions do not change at
 * runtime, but the sites are the user's, so the next user to log in fetches their own.
 */
const meta = ref<Meta | null>(null);
let pending: Promise<Meta> | null = null;
onSignOut(() => {
  meta.value = null;
  pending = null;
});

export function useMeta() {
  if (!meta.value && !pending) {
    pending = api<Meta>('/meta')
      .then((m) => {
        meta.value = m;
        return m;
      })
      .catch((e: unknown) => {
        pending = null;
        throw e;
      });
    pending.catch(() => {});
  }
  const siteName = (id: string) => meta.value?.sites.find((s) => s.id === id)?.name ?? id;
  const categoryName = (id: string) => meta.value?.categories.find((c) => c.id === id)?.name ?? id;
  return { meta, siteName, categoryName };
}
