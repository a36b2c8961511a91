import { i18n } from './i18n';

/** "4:59", "1:02:03": a countdown's remaining (or overdue) time, without its sign. */
export function formatDuration(seconds: number): string {
  const s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** An ISO instant in the reader's language: `short` (date and minute), `long` or `time`. */
export function formatInstant(
  iso: string | null | undefined,
  style: 'short' | 'long' | 'time' = 'short',
): string {
  if (!iso) return '—';
  return i18n.global.d(new Date(iso), style);
}

/** A reading with its unit: "28.4 °C", "true". */
export function formatValue(value: unknown, unit?: string | null): string {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'number' ? String(Math.round(value * 100) / 100) : String(value);
  return unit ? `${text} ${unit}` : text;
}
