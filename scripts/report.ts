import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Directory } from '../src/config/directory.ts';
import { type ConfigEnv, loadConfig } from '../src/config/load.ts';
import { systemClock } from '../src/core/clock.ts';
import { XiaoerError } from '../src/core/errors.ts';
import { REPORT_FORMATS, REPORT_LANGS } from '../src/reports/render/model.ts';
import { ReportSource, satisfactionFromCallbacks } from '../src/reports/report-source.ts';
import { buildWeeklyReport } from '../src/reports/weekly.ts';
import { renderWeeklyReport } from '../src/reports/weekly-output.ts';
import { openStore, sqliteFile, storeLocation } from '../src/store/open-store.ts';

const EXIT_USAGE = 64; // EX_USAGE from sysexits.h
const EXIT_CONFIG = 78;

const USAGE = `usage: npm run report -- (--week 2026-W48 | --month 2026-11) [--format pdf|html|csv] [--out file]
                         [--lang zh|en] [--config file]

The service desk's weekly (or monthly) report from the store of the configured dataDir, read
only (xiaoer may keep running). Periods are read in reports.timeZone (default Asia/Shanghai).
--format  pdf (default; needs Debian's chromium), html (print-ready A4) or csv (UTF-8 with BOM)
--out     the file to write (default xiaoer-report-<period>.<format> here; - for standard output)
Progress goes to standard error.`;

const progress = (text: string) => console.error(`report: ${text}`);

async function main(): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse());
  } catch (err) {
    console.error(`report: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  const format = values.format ?? 'pdf';
  const lang = values.lang ?? 'zh';
  if (!isOneOf(REPORT_FORMATS, format) || !isOneOf(REPORT_LANGS, lang)) {
    console.error(
      `report: --format is one of ${REPORT_FORMATS.join(', ')}; --lang one of ${REPORT_LANGS.join(', ')}`,
    );
    return EXIT_USAGE;
  }
  let config: ReturnType<typeof loadConfig>['config'];
  try {
    config = loadConfig(values.config, process.env as ConfigEnv).config;
  } catch (err) {
    console.error(`report: ${(err as Error).message}`);
    return EXIT_CONFIG;
  }
  const file = sqliteFile(config);
  // Opening a missing file would create an empty store: say where it was looked for instead.
  if (!config.database.url && !existsSync(file)) {
    console.error(
      `report: no store at ${file} (dataDir ${config.dataDir}); has xiaoer run with this config?`,
    );
    return EXIT_CONFIG;
  }
  progress(`reading ${storeLocation(config)}`);
  // Never migrated or written here: the running xiaoer owns the schema.
  const store = openStore(config);
  try {
    const directory = new Directory(config);
    const source = new ReportSource({
      store,
      directory,
      clock: systemClock,
      config: config.reports,
      satisfaction: satisfactionFromCallbacks((ids) => store.satisfaction(ids)),
    });
    const view = await buildWeeklyReport(
      { source, directory, store, targets: config.sla, now: () => systemClock.now() },
      {
        ...(values.week ? { week: values.week } : {}),
        ...(values.month ? { month: values.month } : {}),
        lang,
      },
    );
    progress(`${view.period.label}: ${view.faults.total} tickets, ${view.breaches.length} missed targets`);
    if (format === 'pdf') progress('rendering the PDF in Chromium');
    const out = await renderWeeklyReport(view, format);
    const target = values.out ?? out.fileName;
    if (target === '-') process.stdout.write(out.body);
    else writeFileSync(target, out.body);
    progress(`wrote ${target === '-' ? 'standard output' : path.resolve(target)} (${out.body.length} bytes)`);
    return 0;
  } catch (err) {
    if (err instanceof XiaoerError) {
      console.error(`report: ${err.message}`);
      return err.httpStatus === 400 ? EXIT_USAGE : 1;
    }
    throw err;
  } finally {
    await store.close();
  }
}

function parse() {
  return parseArgs({
    options: {
      week: { type: 'string' },
      month: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string', short: 'o' },
      lang: { type: 'string' },
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}

const isOneOf = <T extends string>(list: readonly T[], value: string): value is T =>
  list.includes(value as T);

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('report: failed', err);
    process.exit(1);
  },
);
