import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';

/** The setting that keeps the signing key (base64), made on first use. */
export const QR_KEY_SETTING = 'qr.signingKey';
/** 80 bits of HMAC: short enough for a small QR code, far beyond guessing over HTTP. */
const SIGNATURE_HEX = 20;
const SIGNATURE = /^[0-9a-f]{20}$/;

export type ScanKind = 'asset' | 'site';

/**
 * Signs the paths printed on QR labels: `/scan/asset/<site>/<assetId>` on an asset and
 * `/scan/site/<site>` at a site entrance, with `?sig=` an HMAC-SHA256 of the path. A label
 * cannot be made for another asset without the key, so opening it is proof of being there.
 */
export class QrSigner {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** The key kept in the store's settings; 32 random bytes the first time (the first writer wins). */
  static async fromStore(store: Pick<Store, 'settingOrInit'>): Promise<QrSigner> {
    const key = await store.settingOrInit(QR_KEY_SETTING, randomBytes(32).toString('base64'));
    return new QrSigner(Buffer.from(key, 'base64'));
  }

  static assetPath(site: string, assetId: string): string {
    return `/scan/asset/${encodeURIComponent(site)}/${encodeURIComponent(assetId)}`;
  }

  static sitePath(site: string): string {
    return `/scan/site/${encodeURIComponent(site)}`;
  }

  static pathOf(kind: ScanKind, site: string, assetId?: string): string {
    return kind === 'asset' ? QrSigner.assetPath(site, assetId ?? '') : QrSigner.sitePath(site);
  }

  sign(path: string): string {
    return createHmac('sha256', this.#key).update(path).digest('hex').slice(0, SIGNATURE_HEX);
  }

  /** The path with its signature, as printed on the label. */
  signed(path: string): string {
    return `${path}?sig=${this.sign(path)}`;
  }

  /** In constant time (timingSafeEqual), so the signature cannot be found a character at a time. */
  verify(path: string, sig: string): boolean {
    if (!SIGNATURE.test(sig)) return false;
    return timingSafeEqual(Buffer.from(this.sign(path)), Buffer.from(sig));
  }
}
