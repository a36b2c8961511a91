import { performance } from 'node:perf_hooks';

/**
 * What the private influxd takes on its own on this machine: line-protocol writes of 5,000
 * points (the writer's default batch), two in flight, for `durationMs`. Scenario D's telemetry
 * can only be judged against this: each message carries about four readings, so InfluxDB has to
 * take four points per ingested message.
 */
export async function influxCeiling(url: string, durationMs: number): Promise<number> {
  const database = 'xiaoer_bench_ceiling';
  await fetch(`${url}/query?q=${encodeURIComponent(`CREATE DATABASE ${database}`)}`, { method: 'POST' });
  const writeUrl = `${url}/write?db=${database}&precision=ms`;
  const until = performance.now() + durationMs;
  let points = 0;
  let batchNo = 0;
  const loop = async () => {
    while (performance.now() < until) {
      const body = batch(batchNo++, 5000);
      const res = await fetch(writeUrl, { method: 'POST', body });
      if (res.status !== 204) throw new Error(`influxd answered ${res.status}: ${await res.text()}`);
      points += 5000;
    }
  };
  const started = performance.now();
  await Promise.all([loop(), loop()]);
  return (points * 1000) / (performance.now() - started);
}

/** Points shaped like the writer's: one measurement per metric, tags site/asset/kind, field value. */
function batch(n: number, size: number): string {
  const base = Date.now() - 60_000;
  const lines: string[] = [];
  for (let i = 0; i < size; i++) {
    const asset = `climate-n${String((n * size + i) % 3000).padStart(6, '0')}`;
    lines.push(
      `temperature_c,asset=${asset},kind=hvac,site=xincheng value=${20 + (i % 50) / 10} ${base + n * size + i}`,
    );
  }
  return lines.join('\n');
}
