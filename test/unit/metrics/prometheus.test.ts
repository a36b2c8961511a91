import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../../src/metrics/prometheus.ts';
import { raisedLeak, ticketHarness } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-12-01T09:00:00Z');

describe('the Prometheus registry', () => {
  let h: Awaited<ReturnType<typeof ticketHarness>>;
  beforeEach(async () => {
    h = await ticketHarness(':memory:');
  });
  afterEach(async () => {
    await h.store.close();
  });

  it('exposes dead letters, consumer lag and open tickets to Prometheus, read from their owners', async () => {
    await h.tickets.applyAlarm(raisedLeak({ raisedAt: T0 }));
    const metrics = new PrometheusMetrics({
      eventLog: h.eventLog,
      sources: {
        ingest: () => ({
          stats: {
            received: 5,
            unrouted: 1,
            empty: 0,
            accepted: 3,
            deadLettered: { invalid_payload: 1 },
            unconfirmedReadings: 0,
            silenced: 0,
            alarms: 1,
            evaluations: 4,
          },
          routes: [{ adapter: 'zigbee2mqtt', site: 'xincheng', messages: 3, readings: 6 }],
        }),
        telemetry: () => undefined,
        flow: () => ({
          inFlight: 7,
          holding: null,
          holds: { gateway_rate: 2, in_flight: 0, telemetry: 0, event_loop: 1 },
          heldMs: { gateway_rate: 1500, in_flight: 0, telemetry: 0, event_loop: 20 },
        }),
        consumers: () => [
          {
            id: 'mqtt-out',
            state: 'ok',
            position: 0,
            backlog: 1,
            handled: 0,
            delivered: 0,
            givenUp: 0,
            retries: 0,
            lastError: null,
            failingSince: null,
          },
        ],
        openTickets: () => h.store.listTickets({ open: true }),
        sites: () => ['xincheng'],
        categories: () => ['plumbing'],
      },
    });
    const text = await metrics.metrics();
    expect(text).toMatch(/^xiaoer_dead_letters_total\{reason="invalid_payload"\} 1$/m);
    expect(text).toMatch(/^xiaoer_ingest_readings_total\{adapter="zigbee2mqtt",site="xincheng"\} 6$/m);
    expect(text).toMatch(/^xiaoer_rule_evaluations_total 4$/m);
    expect(text).toMatch(/^xiaoer_ingest_in_flight 7$/m);
    expect(text).toMatch(/^xiaoer_ingest_held_seconds_total\{reason="gateway_rate"\} 1\.5$/m);
    expect(text).toMatch(/^xiaoer_consumer_lag_events\{consumer="mqtt-out"\} 1$/m);
    expect(text).toMatch(/^xiaoer_open_tickets\{site="xincheng",category="plumbing",state="raised"\} 1$/m);
    expect(text).toMatch(
      /^xiaoer_open_tickets\{site="xincheng",category="plumbing",state="dispatched"\} 0$/m,
    );
    // Scraped twice, a mirrored counter is not added up again.
    expect(await metrics.metrics()).toMatch(/^xiaoer_dead_letters_total\{reason="invalid_payload"\} 1$/m);
  });
});
