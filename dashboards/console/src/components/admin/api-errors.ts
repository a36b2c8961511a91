import { ApiError } from '../../api';
import { i18n } from '../../i18n';

/** One line for an error: the API's own message (it names the field), or the network's. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The API's field errors by field name: a rule change judged as a whole says `{field, message}`
 * (src/tuning/validate.ts); a body refused by its schema says `{path: '/changes/above', message}`.
 */
export function fieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  const details = err.detail.details;
  if (!Array.isArray(details)) return {};
  const out: Record<string, string> = {};
  for (const d of details as { field?: unknown; path?: unknown; message?: unknown }[]) {
    const where =
      typeof d.field === 'string' ? d.field : typeof d.path === 'string' ? d.path.split('/').pop() : '';
    if (where && typeof d.message === 'string')
      out[where] = out[where] ? `${out[where]}; ${d.message}` : d.message;
  }
  return out;
}

/** "出错了：…" for an alert. */
export function errorLine(err: unknown): string {
  return i18n.global.t('common.error', { message: errorText(err) });
}
