import { reactive } from 'vue';
import { api } from '../api';
import { hasRole } from '../auth';
import type { Maintainer } from '../desk-types';

/** Display names of the maintainers the desk sees (GET /api/maintainers), by user name. */
const names = reactive(new Map<string, string>());
let loading: Promise<void> | null = null;

function load(): Promise<void> {
  loading ??= api<Maintainer[]>('/maintainers')
    .then((list) => {
      for (const m of list) names.set(m.username, m.displayName);
    })
    .catch(() => {})
    .finally(() => {
      // A name not known yet (a maintainer added since) is looked up again on the next miss.
      setTimeout(() => {
        loading = null;
      }, 30_000);
    });
  return loading;
}

/** "王师傅" for `wang` on the desk's pages; the user name itself where the list is not readable. */
export function usePeopleNames() {
  const desk = hasRole('staff', 'admin');
  if (desk) void load();
  function nameOf(username: string): string {
    const known = names.get(username);
    if (known) return known;
    if (desk) void load();
    return username;
  }
  return { nameOf };
}
