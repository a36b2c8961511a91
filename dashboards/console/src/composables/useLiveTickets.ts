import { computed, getCurrentScope, onScopeDispose, type Ref, reactive, ref } from 'vue';
import { api } from '../api';
import { session } from '../auth';
import type { LiveMessage } from '../desk-types';
import type { Ticket } from '../types';

export type LiveState = 'connecting' | 'open';

export interface LiveTicketsOptions {
  /** Filters of GET /api/tickets besides `open=true` (e.g. `{ site }`). */
  query?: Record<string, string>;
  /** Each change as it arrives live (not the ones in the first list). */
  onMessage?: (message: LiveMessage) => void;
}

/** After the browser gave up (the server refused the stream), a new one is tried this much later. */
const RETRY_MS = 5000;
/** How many closed ticket ids are remembered against late answers (a screen runs for months). */
const MAX_CLOSED = 1000;

/**
 * The open tickets the user may see, kept live: the list from GET /api/tickets?open=true, then
 * every change from the SSE feed (/api/live) applied to it in the log's order: upserted while
 * open, removed once closed. The browser resumes a dropped stream by itself with Last-Event-ID;
 * `event: reset` (too far behind) and a stream the browser gave up on reload the list. Changes
 * that arrive while a list is being fetched are applied on top of it, so none is lost in between.
 * An action's own answer (`offer`) only fills in what the feed has not brought yet: two changes
 * may carry the same `updatedAt` (an escalation is dated at the raise), so the feed's order wins.
 */
export function useLiveTickets(options: LiveTicketsOptions = {}) {
  const byId = reactive(new Map<number, Ticket>());
  const state: Ref<LiveState> = ref('connecting');
  const loading = ref(true);
  const error = ref<string | null>(null);
  let source: EventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let lastEventId = 0;
  /** Live changes seen while a list is on its way (null: no fetch running). */
  let duringFetch: Map<number, Ticket> | null = null;
  let fetchSeq = 0;
  let stopped = false;

  /** Tickets the feed closed: a late answer to an action must not bring one back (the latest few). */
  const closed = new Set<number>();

  function apply(ticket: Ticket): void {
    if (ticket.status === 'closed') {
      closed.add(ticket.id);
      if (closed.size > MAX_CLOSED) closed.delete(closed.values().next().value as number);
      byId.delete(ticket.id);
    } else {
      closed.delete(ticket.id);
      byId.set(ticket.id, ticket);
    }
  }

  /** A ticket from an action's answer: taken when unknown or strictly newer than what is shown. */
  function offer(ticket: Ticket): void {
    const known = byId.get(ticket.id);
    if (closed.has(ticket.id) && ticket.status !== 'closed') return;
    if (known && Date.parse(ticket.updatedAt) <= Date.parse(known.updatedAt)) return;
    apply(ticket);
  }

  async function load(): Promise<void> {
    const seq = ++fetchSeq;
    duringFetch = new Map();
    loading.value = true;
    try {
      const { tickets } = await api<{ tickets: Ticket[] }>('/tickets', {
        query: { open: 'true', sort: 'deadline', limit: 1000, ...options.query },
      });
      if (seq !== fetchSeq || stopped) return;
      const live = duringFetch;
      byId.clear();
      for (const t of tickets) if (!closed.has(t.id)) byId.set(t.id, t);
      for (const t of live?.values() ?? []) apply(t);
      error.value = null;
    } catch (e) {
      if (seq === fetchSeq) error.value = (e as Error).message;
    } finally {
      if (seq === fetchSeq) {
        duringFetch = null;
        loading.value = false;
      }
    }
  }

  function onTicket(e: MessageEvent<string>): void {
    const message = JSON.parse(e.data) as LiveMessage;
    const id = message.event.id;
    // A replay after a reconnect may repeat what was already applied.
    if (id <= lastEventId) return;
    lastEventId = id;
    duringFetch?.set(message.ticket.id, message.ticket);
    apply(message.ticket);
    options.onMessage?.(message);
  }

  function connect(): void {
    if (stopped || !session.token) return;
    state.value = 'connecting';
    const es = new EventSource(`/api/live?token=${encodeURIComponent(session.token)}`);
    source = es;
    es.onopen = () => {
      state.value = 'open';
    };
    es.onerror = () => {
      state.value = 'connecting';
      if (es.readyState !== EventSource.CLOSED || stopped) return;
      // Refused (an expired token, too many feeds): start again later with a fresh list.
      clearTimeout(retry);
      retry = setTimeout(() => {
        connect();
        void load();
      }, RETRY_MS);
    };
    es.addEventListener('ticket', onTicket as EventListener);
    es.addEventListener('reset', () => void load());
  }

  function stop(): void {
    stopped = true;
    clearTimeout(retry);
    source?.close();
    source = null;
  }

  connect();
  void load();
  if (getCurrentScope()) onScopeDispose(stop);

  const tickets = computed(() => [...byId.values()]);
  return { tickets, byId, state, loading, error, offer, reload: load, stop };
}
