import { i18n } from '../../i18n';
import type { Compliance } from './types';

/** "92.3%", or "—" when nothing was due. */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${Math.round(value * 1000) / 10}%`;
}

/** "12 / 13" met of due. */
export function metOf(c: Compliance | undefined): string {
  return c ? `${c.met} / ${c.total}` : '—';
}

/** A time span for a reader: "3 min 20 s", "1 h 05 min", "40 s". */
export function humanDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.round(Math.abs(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const { t } = i18n.global;
  if (s > 0 && sec === 0 && m === 0) return t('reports.dur.h', { h });
  if (s > 0 && sec === 0 && h === 0) return t('reports.dur.m', { m });
  if (h > 0) return t('reports.dur.hm', { h, m: String(m).padStart(2, '0') });
  if (m > 0) return t('reports.dur.ms', { m, s: String(sec).padStart(2, '0') });
  return t('reports.dur.s', { s: sec });
}

/** An instant the API gives as epoch ms or ISO text, as ISO text. */
export function isoOf(at: number | string | null | undefined): string | null {
  if (at === null || at === undefined) return null;
  return typeof at === 'number' ? new Date(at).toISOString() : at;
}
