import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { REPORT_FORMATS, REPORT_LANGS } from '../../reports/render/model.ts';
import { buildWeeklyReport, type WeeklyReportDeps } from '../../reports/weekly.ts';
import { renderWeeklyReport } from '../../reports/weekly-output.ts';
import type { ApiDeps } from '../build-api.ts';
import { query } from '../views.ts';
import { userOf } from './tickets.ts';

/** The report page may hold nothing active: its own inline styles and nothing else. */
const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/**
 * The weekly or monthly report (issue 13) as print-ready HTML, CSV or PDF. A maintainer's report
 * covers their own sites only.
 */
export const weeklyReportRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const weekly: WeeklyReportDeps = {
      source: deps.reports,
      directory: deps.directory,
      store: deps.store,
      targets: deps.sla,
      now: () => deps.clock.now(),
    };
    app.get(
      '/reports/weekly',
      {
        onRequest: app.requireRole(),
        schema: {
          summary: 'The weekly or monthly report (HTML, CSV or PDF)',
          description:
            'Exactly one of `week` (ISO week, `2026-W48`) and `month` (`2026-11`), read in `reports.timeZone`. ' +
            '`html` is print-ready A4 (no script, inline SVG charts); `csv` is one UTF-8 file (with BOM) in ' +
            'sections; `pdf` needs Chromium on the server and answers 503 `pdf_unavailable` without it. ' +
            'Chinese by default (`lang=en` for English). Only the sites the user sees. Errors are the usual ' +
            '`{ error: { code, message } }`: 400 for a bad period, 503 `pdf_unavailable` or `pdf_busy`.',
          tags: ['reports'],
          querystring: query({
            week: z.string().max(16).optional(),
            month: z.string().max(16).optional(),
            format: z.enum(REPORT_FORMATS).default('html'),
            lang: z.enum(REPORT_LANGS).default('zh'),
          }),
        },
      },
      async (req, reply) => {
        const { week, month, format, lang } = req.query;
        const view = await buildWeeklyReport(weekly, {
          ...(week !== undefined ? { week } : {}),
          ...(month !== undefined ? { month } : {}),
          lang,
          sites: userOf(req).sites,
        });
        const out = await renderWeeklyReport(view, format);
        const disposition = format === 'html' ? 'inline' : 'attachment';
        void reply
          .header('content-type', out.contentType)
          .header('content-disposition', `${disposition}; filename="${out.fileName}"`)
          .header('cache-control', 'private, no-store');
        if (format === 'html') void reply.header('content-security-policy', REPORT_CSP);
        return reply.send(out.body);
      },
    );
  };
