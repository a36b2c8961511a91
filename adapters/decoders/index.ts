import { decodeLwl02 } from './dragino-lwl02.ts';
import { decodeLwl03a } from './dragino-lwl03a.ts';
import { decodeWs303 } from './milesight-ws303.ts';

export { DecodeError } from './bytes.ts';

/**
 * A LoRaWAN device model whose FRMPayload xiaoer decodes itself, for uplinks that arrive without
 * `decoded_payload` (the application has no payload formatter, or it failed).
 */
export interface LorawanDecoder {
  /** `version_ids.brand_id` / `model_id`: the LoRaWAN Device Repository ids The Things Stack sends. */
  brandId: string;
  modelId: string;
  /** The asset kind, as a hint for a device no admin has confirmed yet. */
  kind: string;
  /** Pure. Returns the vendor decoder's field names; throws `DecodeError` for a damaged frame. */
  decode(bytes: Uint8Array, fPort: number): Record<string, unknown>;
}

export const lorawanDecoders: readonly LorawanDecoder[] = [
  {
    brandId: 'milesight-iot',
    modelId: 'ws303',
    kind: 'plumbing',
    decode: (bytes) => ({ ...decodeWs303(bytes) }),
  },
  {
    brandId: 'dragino',
    modelId: 'lwl03a',
    kind: 'plumbing',
    decode: (b, port) => ({ ...decodeLwl03a(b, port) }),
  },
  {
    brandId: 'dragino',
    modelId: 'lwl02',
    kind: 'plumbing',
    decode: (b, port) => ({ ...decodeLwl02(b, port) }),
  },
];

/**
 * The decoder for an uplink's `version_ids`, which The Things Stack fills in when the end device was
 * registered from the LoRaWAN Device Repository. A device registered by hand has none: then only
 * the application's payload formatter (`decoded_payload`) can tell what the bytes mean.
 */
export function findDecoder(
  ids: { brand_id?: string; model_id?: string } | undefined,
): LorawanDecoder | undefined {
  if (!ids?.brand_id || !ids.model_id) return undefined;
  return lorawanDecoders.find((d) => d.brandId === ids.brand_id && d.modelId === ids.model_id);
}
