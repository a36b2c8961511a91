import { reactive } from 'vue';
import { ApiError, api } from '../../api';
import { onSignOut } from '../../auth';
import type { Meta } from '../../types';

interface MetaState {
  sites: Meta['sites'];
  categories: Meta['categories'];
  publicUrl: string | null;
  loaded: boolean;
  error: unknown;
}

const state = reactive<MetaState>({ sites: [], categories: [], publicUrl: null, loaded: false, error: null });
let loading: Promise<void> | null = null;

async function load(): Promise<void> {
  try {
    const meta = await api<Meta>('/meta');
    Object.assign(state, {
      sites: meta.sites,
      categories: meta.categories,
      publicUrl: meta.publicUrl,
      loaded: true,
      error: null,
    });
  } catch (err) {
    // A server without GET /api/meta still lists its sites.
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    const { sites } = await api<{ sites: { id: string; name: string }[] }>('/sites');
    Object.assign(state, { sites: sites.map(({ id, name }) => ({ id, name })), loaded: true, error: null });
  }
}

/** The sites and categories the admin pages choose from, read once per session. */
export function useMeta(): MetaState {
  if (!state.loaded && !loading) {
    loading = load()
      .catch((err: unknown) => {
        state.error = err;
      })
      .finally(() => {
        loading = null;
      });
  }
  return state;
}

/** A site's name, or its id while the names load. */
export function siteName(id: string): string {
  return state.sites.find((s) => s.id === id)?.name ?? id;
}

export function categoryName(id: string): string {
  return state.categories.find((c) => c.id === id)?.name ?? id;
}

onSignOut(() => {
  Object.assign(state, { sites: [], categories: [], publicUrl: null, loaded: false, error: null });
});
