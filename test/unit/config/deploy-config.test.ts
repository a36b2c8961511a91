import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

describe('deploy/xiaoer.yaml', () => {
  it('is a valid config for a cluster, with the environment the compose file gives each instance', () => {
    const { config } = loadConfig(
      'deploy/xiaoer.yaml',
      {
        DATABASE_URL: 'postgres://xiaoer:secret@postgres:5432/xiaoer',
        MQTT_URL: 'mqtt://xiaoer:secret@mosquitto:1883',
        XIAOER_INSTANCE_ID: 'xiaoer-1',
      },
      ROOT,
    );
    expect(config.database.url).toBe('postgres://xiaoer:secret@postgres:5432/xiaoer');
    expect(config.mqtt.url).toBe('mqtt://xiaoer:secret@mosquitto:1883');
    expect(config.cluster).toMatchObject({ instanceId: 'xiaoer-1', ingest: 'partitions' });
    expect(config.sites.length).toBeGreaterThan(0);
  });

  it('names the field when a database URL is not PostgreSQL', () => {
    expect(() => loadConfig('deploy/xiaoer.yaml', { DATABASE_URL: 'mysql://x@y/z' }, ROOT)).toThrow(
      /database\.url: expected a PostgreSQL URL/,
    );
  });
});
