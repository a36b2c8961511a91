import { ApiError, withQuery } from '../../api';
import { session, signOut } from '../../auth';

export type ReportFormat = 'pdf' | 'html' | 'csv';

/** The file name the server gave (Content-Disposition), else the fallback. */
function fileName(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=(?:UTF-8'')?([^;]+)/i.exec(disposition);
  if (star?.[1]) return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain?.[1]?.trim() || fallback;
}

/**
 * Downloads the weekly or monthly report (GET /api/reports/weekly): a link cannot carry the bearer
 * token, so the file is fetched with it and saved from a blob.
 */
export async function downloadReport(
  period: { week?: string | null; month?: string | null },
  format: ReportFormat,
  lang: 'zh' | 'en' = 'zh',
): Promise<string> {
  const query = {
    ...(period.week ? { week: period.week } : { month: period.month ?? undefined }),
    format,
    lang: lang === 'zh' ? undefined : lang,
  };
  const headers: Record<string, string> = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  const res = await fetch(withQuery('/api/reports/weekly', query), { headers });
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON: keep the status
    }
    if (res.status === 401 && session.token) signOut('expired');
    throw new ApiError(res.status, code, message);
  }
  const blob = await res.blob();
  const name = fileName(
    res.headers.get('content-disposition'),
    `xiaoer-report-${period.week ?? period.month ?? 'period'}.${format}`,
  );
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
