import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { QR_KEY_SETTING, QrSigner } from '../../../src/auth/qr-signer.ts';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';

const KEY = Buffer.alloc(32, 7);

describe('QR label signatures', () => {
  const signer = new QrSigner(KEY);

  it('signs the path with 20 hex characters of HMAC-SHA256', () => {
    const path = QrSigner.assetPath('xincheng', 'leak-b1-riser');
    expect(path).toBe('/scan/asset/xincheng/leak-b1-riser');
    const expected = createHmac('sha256', KEY).update(path).digest('hex').slice(0, 20);
    expect(signer.sign(path)).toBe(expected);
    expect(signer.signed(path)).toBe(`${path}?sig=${expected}`);
    expect(signer.verify(path, expected)).toBe(true);
  });

  it('refuses a signature of another path, a changed one, and anything not 20 hex characters', () => {
    const lock = QrSigner.assetPath('xincheng', 'lock-3f-east');
    const sig = signer.sign(lock);
    expect(signer.verify(QrSigner.assetPath('north', 'lock-3f-east'), sig)).toBe(false);
    expect(signer.verify(QrSigner.sitePath('xincheng'), sig)).toBe(false);
    const flipped = `${sig.slice(0, 19)}${sig[19] === '0' ? '1' : '0'}`;
    expect(signer.verify(lock, flipped)).toBe(false);
    for (const bad of ['', sig.slice(0, 19), `${sig}0`, sig.toUpperCase(), 'zzzzzzzzzzzzzzzzzzzz'])
      expect(signer.verify(lock, bad), bad).toBe(false);
    // Another key signs differently: a label is only good for the xiaoer that printed it.
    expect(new QrSigner(Buffer.alloc(32, 8)).verify(lock, sig)).toBe(false);
  });

  it('encodes ids in the path, so "/" in an id cannot forge another path', () => {
    expect(QrSigner.assetPath('east', 'a b/c')).toBe('/scan/asset/east/a%20b%2Fc');
    expect(QrSigner.pathOf('site', 'east')).toBe('/scan/site/east');
    expect(QrSigner.pathOf('asset', 'east', 'x')).toBe('/scan/asset/east/x');
  });

  it('keeps its key in the settings: made once, the same after a restart', async () => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    const first = await QrSigner.fromStore(store);
    const again = await QrSigner.fromStore(store);
    const path = QrSigner.sitePath('north');
    expect(again.sign(path)).toBe(first.sign(path));
    const key = Buffer.from(await store.settingOrInit(QR_KEY_SETTING, 'unused'), 'base64');
    expect(key).toHaveLength(32);
    expect(new QrSigner(key).sign(path)).toBe(first.sign(path));
    await store.close();
  });
});
