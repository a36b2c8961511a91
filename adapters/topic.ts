/**
 * Topic patterns with named single-level captures, e.g. `{site}/zigbee2mqtt/{device}/availability`.
 * A capture matches exactly one level [MQTT-4.7.1-3 semantics of `+`], so the same pattern also
 * yields the subscription filter for an external broker.
 */
export interface TopicPattern {
  readonly source: string;
  readonly filter: string;
  /** The subscription filter with some captures bound, e.g. `{site}` to one site: `north/zigbee2mqtt/+`. */
  filterWith(bound: Readonly<Record<string, string>>): string;
  match(topic: string): Record<string, string> | undefined;
}

export function compileTopic(source: string): TopicPattern {
  const parts = source.split('/').map((level) => {
    const capture = /^\{([a-z][a-zA-Z0-9]*)\}$/.exec(level);
    if (!capture && /[{}+#]/.test(level)) throw new Error(`topic pattern "${source}": bad level "${level}"`);
    return capture?.[1]
      ? { capture: capture[1], literal: undefined }
      : { capture: undefined, literal: level };
  });
  const captures = parts.flatMap((p) => (p.capture !== undefined ? [p.capture] : []));
  const repeated = captures.find((name, i) => captures.indexOf(name) !== i);
  if (repeated) throw new Error(`topic pattern "${source}": capture {${repeated}} appears twice`);
  const filter = parts.map((p) => (p.capture !== undefined ? '+' : p.literal)).join('/');
  return {
    source,
    filter,
    filterWith(bound) {
      return parts.map((p) => (p.capture !== undefined ? (bound[p.capture] ?? '+') : p.literal)).join('/');
    },
    match(topic) {
      const levels = topic.split('/');
      if (levels.length !== parts.length) return undefined;
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as (typeof parts)[number];
        const level = levels[i] as string;
        if (part.capture !== undefined) {
          if (level === '') return undefined;
          params[part.capture] = level;
        } else if (part.literal !== level) {
          return undefined;
        }
      }
      return params;
    },
  };
}
