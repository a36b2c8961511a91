export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface SseStream {
  status: number;
  events: SseEvent[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens a Server-Sent Events stream and collects its events as they arrive (WHATWG SSE framing). */
export async function readSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return { status: res.status, events, ended: Promise.resolve(), close: () => {} };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const ended = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: SseEvent = { data: '' };
        for (const line of block.split('\n')) {
          const [field, ...rest] = line.split(': ');
          const text = rest.join(': ');
          if (field === 'id') e.id = text;
          else if (field === 'event') e.event = text;
          else if (field === 'data') e.data += text;
        }
        if (e.event || e.data) events.push(e);
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => {});
  return { status: res.status, events, ended, close: () => controller.abort() };
}
