import { htmlToPdf } from './render/chromium.ts';
import { renderReportCsv } from './render/csv.ts';
import { esc } from './render/format.ts';
import { renderReportHtml } from './render/html.ts';
import { REPORT_MESSAGES } from './render/messages.ts';
import type { ReportFormat, WeeklyReportView } from './render/model.ts';

export interface RenderedReport {
  body: string | Buffer;
  contentType: string;
  /** `xiaoer-report-2026-W48.pdf` */
  fileName: string;
}

const CONTENT_TYPES: Record<ReportFormat, string> = {
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
};

/** The report in one format; PDF needs Chromium (else `pdf_unavailable`, 503). */
export async function renderWeeklyReport(
  view: WeeklyReportView,
  format: ReportFormat,
  opts: { chromium?: string } = {},
): Promise<RenderedReport> {
  const fileName = `xiaoer-report-${view.period.label}.${format}`;
  const contentType = CONTENT_TYPES[format];
  switch (format) {
    case 'html':
      return { body: renderReportHtml(view), contentType, fileName };
    case 'csv':
      return { body: renderReportCsv(view), contentType, fileName };
    case 'pdf': {
      const m = REPORT_MESSAGES[view.lang];
      const title = `${view.kind === 'week' ? m.titleWeek : m.titleMonth} ${view.period.label}`;
      const body = await htmlToPdf(renderReportHtml(view), {
        footer: esc(title),
        ...(opts.chromium ? { executablePath: opts.chromium } : {}),
      });
      return { body, contentType, fileName };
    }
  }
}
