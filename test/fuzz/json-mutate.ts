import type { Rng } from './random.ts';

/**
 * Mutations of a JSON payload as a value tree, written back as text that JSON.stringify could
 * never produce: duplicated keys, numbers past the double range, 400-digit literals, `NaN`,
 * nesting far past any sane depth. Leaves are kept as their literal text for that reason.
 */
type Node = { leaf: string } | { items: Node[] } | { entries: [string, Node][] };

function toNode(v: unknown): Node {
  if (Array.isArray(v)) return { items: v.map(toNode) };
  if (v !== null && typeof v === 'object')
    return { entries: Object.entries(v).map(([k, x]) => [k, toNode(x)]) };
  return { leaf: JSON.stringify(v) ?? 'null' };
}

function toText(n: Node): string {
  if ('leaf' in n) return n.leaf;
  if ('items' in n) return `[${n.items.map(toText).join(',')}]`;
  return `{${n.entries.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
}

const digits = (rng: Rng, n: number): string => {
  let s = String(rng.int(1, 9));
  while (s.length < n) s += String(rng.uint32() % 1e9).padStart(9, '0');
  return s.slice(0, n);
};

/** JSON text (or nearly JSON) a device should never send, each chosen to hit a different check. */
export function oddValueText(rng: Rng): string {
  return rng.pick<() => string>([
    () => '1e308',
    () => '-1e308',
    () => '1.7976931348623157e308',
    () => '1e309', // parses to Infinity
    () => '-1e999',
    () => '5e-324',
    () => '-0',
    () => '9007199254740993',
    () => '18446744073709551616',
    () => digits(rng, 400),
    () => `-${digits(rng, 400)}`,
    () => `0.${digits(rng, 400)}`,
    () => `"${digits(rng, 400)}"`,
    () => 'NaN',
    () => 'Infinity',
    () => '-Infinity',
    () => 'undefined',
    () => '"NaN"',
    () => '"Infinity"',
    () => '"-Infinity"',
    () => '"nan"',
    () => '"inf"',
    () => '"1e999"',
    () => '"0x1F"',
    () => '""',
    () => '" "',
    () => 'null',
    () => 'true',
    () => 'false',
    () => '0',
    () => '-1',
    () => '4294967296',
    () => '"true"',
    () => '"ON"',
    () => '"\\u0000"',
    () => '"\\ud800"',
    () => '"水漏了"',
    () => '"2025-13-45T99:99:99Z"',
    () => `"${'x'.repeat(rng.int(257, 5000))}"`,
    () => '[]',
    () => '{}',
    () => '[null]',
    () => `[${Array(rng.int(100, 3000)).fill('1').join(',')}]`,
    () => '{"__proto__":{"polluted":true}}',
    () => '{"constructor":{"prototype":{"polluted":true}}}',
    () => nested(rng, rng.pick([31, 32, 33, 40, 200])),
  ])();
}

/** Arrays or objects `depth` levels deep, around a value. */
export function nested(rng: Rng, depth: number, inner = '1'): string {
  return rng.chance(0.5)
    ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/** Every node of the tree with a way to replace it (the root cannot be replaced in place). */
function slots(root: Node): { node: Node; set(n: Node): void }[] {
  const out: { node: Node; set(n: Node): void }[] = [];
  const walk = (n: Node) => {
    if ('items' in n)
      n.items.forEach((child, i) => {
        out.push({ node: child, set: (x) => (n.items[i] = x) });
        walk(child);
      });
    else if ('entries' in n)
      for (const entry of n.entries) {
        out.push({ node: entry[1], set: (x) => (entry[1] = x) });
        walk(entry[1]);
      }
  };
  walk(root);
  return out;
}

const objects = (root: Node): { entries: [string, Node][] }[] =>
  [root, ...slots(root).map((s) => s.node)].filter((n): n is { entries: [string, Node][] } => 'entries' in n);

function nullEverywhere(n: Node): Node {
  if ('leaf' in n) return { leaf: 'null' };
  if ('items' in n) return { items: n.items.map(nullEverywhere) };
  return { entries: n.entries.map(([k, v]) => [k, nullEverywhere(v)]) };
}

/** One change to the tree, in place where it can be. */
function mutateOnce(rng: Rng, root: Node): Node {
  const all = slots(root);
  const objs = objects(root);
  const op = rng.int(0, 7);
  const target = all.length > 0 ? rng.pick(all) : undefined;
  const obj = objs.length > 0 ? rng.pick(objs) : undefined;
  if (op === 0 && target) target.set({ leaf: oddValueText(rng) });
  else if (op === 1 && obj && obj.entries.length > 0)
    obj.entries.splice(rng.int(0, obj.entries.length - 1), 1);
  else if (op === 2 && obj && obj.entries.length > 0) {
    // The same key twice [RFC 8259 section 4: names SHOULD be unique]: JSON.parse keeps the last.
    const [key] = rng.pick(obj.entries);
    obj.entries.splice(rng.int(0, obj.entries.length), 0, [key, { leaf: oddValueText(rng) }]);
  } else if (op === 3 && obj)
    obj.entries.push([rng.chance(0.5) ? 'x'.repeat(rng.int(100, 4000)) : '', { leaf: oddValueText(rng) }]);
  else if (op === 4 && target) target.set({ leaf: nested(rng, rng.int(20, 120), toText(target.node)) });
  else if (op === 5 && target)
    target.set(rng.chance(0.5) ? { items: [target.node] } : { leaf: JSON.stringify(toText(target.node)) });
  else if (op === 6) return nullEverywhere(root);
  else if (target && 'leaf' in target.node)
    target.set({ leaf: rng.pick(['"1"', '1', 'true', '"true"', '[1]', '{"value":1}']) });
  else return { leaf: oddValueText(rng) };
  return root;
}

/** A mutated copy of a JSON payload: 1 to 3 changes to its value tree. */
export function mutateJson(rng: Rng, text: string): string {
  let root = toNode(JSON.parse(text));
  for (let i = rng.int(1, 3); i > 0; i--) root = mutateOnce(rng, root);
  return toText(root);
}
