import type { ReportLang } from './model.ts';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Every value printed into the report goes through this (asset names come from config and devices). */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** `yyyy-mm-dd hh:mm` in the sites' time zone. */
export function localDateTime(at: number, timeZone: string): string {
  const parts = partsOf(at, timeZone);
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** `mm-dd hh:mm` in the sites' time zone: a time within the report's own period. */
export function shortDateTime(at: number, timeZone: string): string {
  const parts = partsOf(at, timeZone);
  return `${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** `yyyy-mm-dd` in the sites' time zone. */
export function localDay(at: number, timeZone: string): string {
  const parts = partsOf(at, timeZone);
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function partsOf(at: number, timeZone: string): Record<string, string> {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
}

/** A share as a percentage with one decimal, or a dash when there is nothing to divide. */
export function percent(share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`;
}

/** A duration for people: `42 s`, `4.5 min`, `1.2 h` (`秒/分钟/小时` in Chinese). */
export function duration(seconds: number | null | undefined, lang: ReportLang): string {
  if (seconds === null || seconds === undefined) return '—';
  const units = lang === 'zh' ? { s: ' 秒', m: ' 分钟', h: ' 小时' } : { s: ' s', m: ' min', h: ' h' };
  if (seconds < 90) return `${Math.round(seconds)}${units.s}`;
  if (seconds < 90 * 60) return `${trim(seconds / 60)}${units.m}`;
  return `${trim(seconds / 3600)}${units.h}`;
}

const trim = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** A change against the period before, as `+3` / `−2.5 pp`, or empty without a base. */
export function change(now: number | null, before: number | null | undefined, unit: 'count' | 'pp'): string {
  if (now === null || before === null || before === undefined) return '';
  const delta = unit === 'pp' ? (now - before) * 100 : now - before;
  if (Math.abs(delta) < 0.05) return '±0';
  const text = unit === 'pp' ? `${Math.abs(delta).toFixed(1)} pp` : String(Math.abs(Math.round(delta)));
  return `${delta > 0 ? '+' : '−'}${text}`;
}
