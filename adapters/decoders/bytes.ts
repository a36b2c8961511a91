/**
 * Reading LoRaWAN application payloads (FRMPayload) byte by byte. Vendor decoders written in
 * JavaScript read past the end of a short frame and get `undefined`, which `<<` and `&` turn into 0
 * (a truncated WS303 frame decodes to `battery: 0`); these helpers throw instead, so a damaged frame
 * becomes a dead letter rather than a false reading.
 */

/** A frame that does not have the layout its vendor documents. */
export class DecodeError extends Error {
  readonly code = 'frame_invalid';
  override readonly name = 'DecodeError';
}

/** Throws unless `bytes` has `length` bytes from `offset` on. */
export function need(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (offset + length > bytes.length) {
    throw new DecodeError(
      `${what}: needs ${length} byte(s) at offset ${offset}, the frame has ${bytes.length}`,
    );
  }
}

export function u8(bytes: Uint8Array, offset: number): number {
  return bytes[offset] ?? 0;
}

export function u16be(bytes: Uint8Array, offset: number): number {
  return (u8(bytes, offset) << 8) | u8(bytes, offset + 1);
}

export function u24be(bytes: Uint8Array, offset: number): number {
  return (u8(bytes, offset) << 16) | (u8(bytes, offset + 1) << 8) | u8(bytes, offset + 2);
}

/** Unsigned: `<< 24` alone would make a time after 2038 negative. */
export function u32be(bytes: Uint8Array, offset: number): number {
  return u8(bytes, offset) * 0x1000000 + u24be(bytes, offset + 1);
}
