/**
 * A strict walk over the protobuf wire format (protobuf.dev/programming-guides/encoding) of a
 * Sparkplug B payload, run before protobufjs decodes it. protobufjs is lenient where it matters
 * here: it reads a known field by its declared type whatever the wire type says, and lets
 * truncated varints, invalid wire types and field number 0 through, so damaged bytes could
 * decode into made-up metrics. This walk refuses them with a reason that names the field:
 * - a varint has at most 10 bytes, fits 64 bits and ends inside its message;
 * - a length, a fixed32 and a fixed64 stay inside their message;
 * - wire types are 0, 1, 2 or 5 (3 and 4, groups, are deprecated and unused by Sparkplug B; 6
 *   and 7 do not exist), a tag fits 32 bits and its field number is not 0;
 * - a field the Sparkplug B schema declares (sparkplug_b.proto: Payload, Metric, MetaData,
 *   PropertySet, PropertySetList, PropertyValue) has the wire type of its declared type, and its
 *   embedded messages are walked too, at most MAX_DEPTH deep. DataSet, Template and the
 *   extension messages are only bounds-checked, as opaque bytes.
 * A field number the schema does not declare is allowed if its wire structure is sound (forward
 * compatibility, as protobuf requires of a reader).
 */

/** Wire types [protobuf encoding, "Message Structure"]. */
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;
type WireType = typeof VARINT | typeof I64 | typeof LEN | typeof I32;
const WIRE_NAMES: Readonly<Record<number, string>> = {
  0: 'varint',
  1: 'fixed64',
  2: 'length-delimited',
  3: 'start group',
  4: 'end group',
  5: 'fixed32',
};

/** How deep embedded messages may nest (Payload is 1): property sets may nest, but not without end. */
export const MAX_DEPTH = 32;
const MAX_VARINT_BYTES = 10;

interface FieldSpec {
  name: string;
  wire: WireType;
  repeated?: boolean;
  /** The embedded message to walk; absent for strings, bytes and opaque messages. */
  message?: () => MessageSpec;
}
interface MessageSpec {
  name: string;
  fields: ReadonlyMap<number, FieldSpec>;
}

const varint = (name: string): FieldSpec => ({ name, wire: VARINT });
const fixed32 = (name: string): FieldSpec => ({ name, wire: I32 });
const fixed64 = (name: string): FieldSpec => ({ name, wire: I64 });
/** string, bytes, or a message only bounds-checked (DataSet, Template, extensions). */
const bytes = (name: string, repeated = false): FieldSpec => ({ name, wire: LEN, repeated });
const embedded = (name: string, message: () => MessageSpec, repeated = false): FieldSpec => ({
  name,
  wire: LEN,
  repeated,
  message,
});
const spec = (name: string, fields: Record<number, FieldSpec>): MessageSpec => ({
  name,
  fields: new Map(Object.entries(fields).map(([n, f]) => [Number(n), f])),
});

// Field numbers and types from Eclipse Tahu's sparkplug_b.proto (spBv1.0).
const PROPERTY_VALUE: MessageSpec = spec('PropertyValue', {
  1: varint('type'),
  2: varint('is_null'),
  3: varint('int_value'),
  4: varint('long_value'),
  5: fixed32('float_value'),
  6: fixed64('double_value'),
  7: varint('boolean_value'),
  8: bytes('string_value'),
  9: embedded('propertyset_value', () => PROPERTY_SET),
  10: embedded('propertysets_value', () => PROPERTY_SET_LIST),
  11: bytes('extension_value'),
});
const PROPERTY_SET: MessageSpec = spec('PropertySet', {
  1: bytes('keys', true),
  2: embedded('values', () => PROPERTY_VALUE, true),
});
const PROPERTY_SET_LIST: MessageSpec = spec('PropertySetList', {
  1: embedded('propertyset', () => PROPERTY_SET, true),
});
const META_DATA: MessageSpec = spec('MetaData', {
  1: varint('is_multi_part'),
  2: bytes('content_type'),
  3: varint('size'),
  4: varint('seq'),
  5: bytes('file_name'),
  6: bytes('file_type'),
  7: bytes('md5'),
  8: bytes('description'),
});
const METRIC: MessageSpec = spec('Metric', {
  1: bytes('name'),
  2: varint('alias'),
  3: varint('timestamp'),
  4: varint('datatype'),
  5: varint('is_historical'),
  6: varint('is_transient'),
  7: varint('is_null'),
  8: embedded('metadata', () => META_DATA),
  9: embedded('properties', () => PROPERTY_SET),
  10: varint('int_value'),
  11: varint('long_value'),
  12: fixed32('float_value'),
  13: fixed64('double_value'),
  14: varint('boolean_value'),
  15: bytes('string_value'),
  16: bytes('bytes_value'),
  17: bytes('dataset_value'),
  18: bytes('template_value'),
  19: bytes('extension_value'),
});
const PAYLOAD: MessageSpec = spec('Payload', {
  1: varint('timestamp'),
  2: embedded('metrics', () => METRIC, true),
  3: varint('seq'),
  4: bytes('uuid'),
  5: bytes('body'),
});

class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

/**
 * Where a field sits, to name a defect's place (`Payload.metrics[2].properties.values[0]`). The
 * path string is built only when there is a defect to report: the walk itself is hot.
 */
interface Place {
  parent: Place | undefined;
  number: number;
  field: FieldSpec | undefined;
  /** Which occurrence of a repeated field. */
  index: number;
}

function pathOf(place: Place | undefined): string {
  if (!place) return 'Payload';
  const { field, number, index } = place;
  if (!field) return `${pathOf(place.parent)} field ${number}`;
  return `${pathOf(place.parent)}.${field.name}${field.repeated ? `[${index}]` : ''}`;
}

// Where the last varint read ended: readVarint returns only the value, so the walk allocates nothing
// per field but its Place. The walk is synchronous, so no other walk can move it between a read
// and its use.
let varintEnd = 0;

/** A varint ending before `end`; its value is exact up to 2^53, enough for tags and lengths. */
function readVarint(buf: Uint8Array, pos: number, end: number, at: Place | undefined, what: string): number {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos + i >= end) throw varintDefect(at, what, pos, 'runs past the end');
    const b = buf[pos + i] as number;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      // The 10th byte holds bit 63 only.
      if (i === MAX_VARINT_BYTES - 1 && b > 1) throw varintDefect(at, what, pos, 'does not fit 64 bits');
      varintEnd = pos + i + 1;
      return value;
    }
  }
  throw varintDefect(at, what, pos, `is longer than ${MAX_VARINT_BYTES} bytes`);
}

function varintDefect(at: Place | undefined, what: string, pos: number, why: string): WireFormatError {
  return new WireFormatError(`${pathOf(at)}${what}: varint at byte ${pos} ${why}`);
}

/** The byte after `size` bytes from `pos`, which must end by `end`. */
function skip(pos: number, size: number, end: number, place: Place, kind: string): number {
  if (size > end - pos) {
    throw new WireFormatError(
      `${pathOf(place)}: ${kind} of ${size} bytes at byte ${pos} runs past the end (${end - pos} left)`,
    );
  }
  return pos + size;
}

function checkWireType(wire: number, pos: number, place: Place): void {
  if (wire !== VARINT && wire !== I64 && wire !== LEN && wire !== I32) {
    const name = WIRE_NAMES[wire] ? `${WIRE_NAMES[wire]}, deprecated` : 'no such wire type';
    throw new WireFormatError(`${pathOf(place)}: wire type ${wire} (${name}) at byte ${pos}`);
  }
  const declared = place.field?.wire;
  if (declared !== undefined && declared !== wire) {
    throw new WireFormatError(
      `${pathOf(place)} (field ${place.number}): wire type ${wire} (${WIRE_NAMES[wire]}) at byte ${pos}, ` +
        `declared ${declared} (${WIRE_NAMES[declared]})`,
    );
  }
}

/** One field's value from `pos` (after its tag); returns where the next field starts. */
function walkValue(
  buf: Uint8Array,
  pos: number,
  end: number,
  wire: number,
  place: Place,
  depth: number,
): number {
  if (wire === VARINT) {
    readVarint(buf, pos, end, place, '');
    return varintEnd;
  }
  if (wire === I64) return skip(pos, 8, end, place, 'fixed64');
  if (wire === I32) return skip(pos, 4, end, place, 'fixed32');
  const length = readVarint(buf, pos, end, place, ' length');
  const start = varintEnd;
  const next = skip(start, length, end, place, 'length-delimited value');
  const message = place.field?.message?.();
  if (message) walkMessage(buf, start, next, message, place, depth + 1);
  return next;
}

function walkMessage(
  buf: Uint8Array,
  start: number,
  end: number,
  message: MessageSpec,
  parent: Place | undefined,
  depth: number,
): void {
  if (depth > MAX_DEPTH) {
    throw new WireFormatError(`${pathOf(parent)}: messages nested deeper than ${MAX_DEPTH}`);
  }
  const repeats: number[] = []; // occurrences so far of each repeated field, for the path
  let pos = start;
  while (pos < end) {
    const tag = readVarint(buf, pos, end, parent, ' field tag');
    const valueStart = varintEnd;
    if (tag > 0xffffffff) {
      throw new WireFormatError(`${pathOf(parent)}: tag at byte ${pos} does not fit 32 bits`);
    }
    const number = Math.floor(tag / 8);
    if (number === 0) throw new WireFormatError(`${pathOf(parent)}: field number 0 at byte ${pos}`);
    const field = message.fields.get(number);
    const index = field?.repeated ? (repeats[number] ?? -1) + 1 : 0;
    if (field?.repeated) repeats[number] = index;
    const place: Place = { parent, number, field, index };
    const wire = tag % 8;
    checkWireType(wire, pos, place);
    pos = walkValue(buf, valueStart, end, wire, place, depth);
  }
}

/** What is wrong with the wire format of a Sparkplug B payload, or undefined if nothing is. */
export function wireFormatDefect(payload: Uint8Array): string | undefined {
  try {
    walkMessage(payload, 0, payload.length, PAYLOAD, undefined, 1);
    return undefined;
  } catch (err) {
    if (err instanceof WireFormatError) return err.message;
    throw err;
  }
}
