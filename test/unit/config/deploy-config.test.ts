import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('asks for a stable instance id with shared subscriptions, whose broker session it names', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-deploy-config-'));
    try {
      const file = path.join(dir, 'shared.yaml');
      writeFileSync(
        file,
        readFileSync(path.join(ROOT, 'deploy/xiaoer.yaml'), 'utf8').replace(
          'ingest: partitions',
          'ingest: shared',
        ),
      );
      expect(() => loadConfig(file, { DATABASE_URL: 'postgres://x@y/z' }, ROOT)).toThrow(
        /cluster\.instanceId: required with cluster\.ingest: shared/,
      );
      expect(loadConfig(file, { XIAOER_INSTANCE_ID: 'xiaoer-1' }, ROOT).config.cluster.instanceId).toBe(
        'xiaoer-1',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the field when a database URL is not PostgreSQL', () => {
    expect(() => loadConfig('deploy/xiaoer.yaml', { DATABASE_URL: 'mysql://x@y/z' }, ROOT)).toThrow(
      /database\.url: expected a PostgreSQL URL/,
    );
  });
});
