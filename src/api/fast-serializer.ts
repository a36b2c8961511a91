import { serializerCompiler } from 'fastify-type-provider-zod';
import { $ZodType } from 'zod/v4/core';

/**
 * Response serialization without a zod walk of every response object.
 *
 * fastify-type-provider-zod serializes a response with `safeEncode(schema, data)` and then
 * `JSON.stringify`: a full parse of what our own code built (50 ticket DTOs a page), about 5% of the
 * server's CPU under load. Here a response schema made only of plain zod types (objects, arrays,
 * nullable/optional, strings, numbers, booleans, enums, literals, records, unions of scalars) is
 * compiled once into a plan that writes what zod's encode would give: the schema's keys in the
 * schema's order, unknown keys dropped (an object strips them: that is what keeps a field out of a
 * response), everything else as `JSON.stringify` writes it. Data already in that shape (our DTOs)
 * is only checked, key by key, and goes to `JSON.stringify` as it is. A schema with anything that changes the
 * output (transforms, codecs, pipes, defaults, catches, overwrite checks such as `.trim()`, loose
 * objects, lazy, tuples, intersections, dates...) keeps the zod encode, and so does a schema that is
 * not a zod type at all (the library throws for those, as before).
 *
 * What is lost is the check that the data fits the schema (an `int` that is not, an enum value that
 * is not one): a development-time check of our own code. So it stays on in tests: with `verify`
 * (the default under vitest, where NODE_ENV is `test` and VITEST is set; that includes the servers
 * the integration tests spawn, which inherit the environment) every response is encoded by zod as
 * before — failing on data the schema rejects — and the fast output must be the same string, so the
 * whole test suite also checks this stringifier against zod on every route. Production pays neither.
 * The OpenAPI document does not come from here (jsonSchemaTransform reads the same schemas).
 */

/**
 * How to write a value of a schema. `fits`: whether `JSON.stringify(value)` already writes what
 * zod's encode would (null: always, for scalars); `project`: the value cut to the schema (its keys,
 * in its order), for one that does not fit.
 */
interface Plan {
  fits: ((value: unknown) => boolean) | null;
  project: (value: unknown) => unknown;
}

const identity = (v: unknown) => v;
/** Scalars (and `unknown`): zod's output is the input itself. */
const SCALAR: Plan = { fits: null, project: identity };
const SCALARS = new Set(['string', 'number', 'boolean', 'null', 'enum', 'literal', 'unknown', 'any']);

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string } } }[];
  shape?: Record<string, $ZodType>;
  catchall?: $ZodType;
  element?: $ZodType;
  innerType?: $ZodType;
  options?: $ZodType[];
  keyType?: $ZodType;
  valueType?: $ZodType;
}

const defOf = (schema: $ZodType) => schema._zod.def as unknown as Def;

/** A plain object: `JSON.stringify` writes its own keys and calls no `toJSON` of a class. */
function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The plan for a schema, or undefined if zod's encode could write something else. */
function planOf(schema: $ZodType): Plan | undefined {
  const def = defOf(schema);
  // `.trim()`, `.toLowerCase()` and the like rewrite the value.
  if (def.checks?.some((c) => c._zod.def.check === 'overwrite')) return undefined;
  if (SCALARS.has(def.type)) return SCALAR;
  switch (def.type) {
    case 'nullable':
    case 'optional': {
      // null and undefined are written as they are (undefined is left out, by both).
      const inner = planOf(def.innerType as $ZodType);
      if (!inner || inner === SCALAR) return inner;
      const { fits, project } = inner;
      return {
        fits: fits && ((v) => v === null || v === undefined || fits(v)),
        project: (v) => (v === null || v === undefined ? v : project(v)),
      };
    }
    case 'union':
      // Unions of scalars only: for objects zod's output depends on which option matched.
      return def.options?.every((o) => planOf(o) === SCALAR) ? SCALAR : undefined;
    case 'array': {
      const element = planOf(def.element as $ZodType);
      if (!element || element === SCALAR) return element;
      const { fits, project } = element;
      return {
        fits: fits && ((v) => Array.isArray(v) && v.every(fits)),
        project: (v) => (Array.isArray(v) ? v.map(project) : v),
      };
    }
    case 'record': {
      // Keys as given (zod's output keeps them in order): only a plain string key schema.
      const key = defOf(def.keyType as $ZodType);
      if (key.type !== 'string' || key.checks?.length) return undefined;
      const value = planOf(def.valueType as $ZodType);
      if (!value || value === SCALAR) return value;
      const { fits, project } = value;
      return {
        fits: fits && ((v) => isPlain(v) && Object.values(v).every(fits)),
        project: (v) => {
          if (!isPlain(v)) return v;
          const out: Record<string, unknown> = {};
          for (const k of Object.keys(v)) if (k !== '__proto__') out[k] = project(v[k]);
          return out;
        },
      };
    }
    case 'object':
      return objectPlan(def);
    default:
      return undefined;
  }
}

function objectPlan(def: Def): Plan | undefined {
  // A strict object's output has no other keys than the schema's (else it fails); a loose one keeps them.
  if (def.catchall && defOf(def.catchall).type !== 'never') return undefined;
  const shape = def.shape as Record<string, $ZodType>;
  const keys = Object.keys(shape).filter((k) => k !== '__proto__');
  const plans: Plan[] = [];
  for (const key of keys) {
    const plan = planOf(shape[key] as $ZodType);
    if (!plan) return undefined;
    plans.push(plan);
  }
  /** The members to look into: objects, arrays and records. */
  const nested = keys.flatMap((key, i) => {
    const fits = (plans[i] as Plan).fits;
    return fits ? [{ key, fits }] : [];
  });
  return {
    // Its own keys are the schema's, in the schema's order (some may be absent), and what is in them fits.
    fits: (v) => {
      if (!isPlain(v)) return false;
      // A schema key passed over must be absent: not out of order, nor hidden from JSON.stringify.
      let next = 0;
      for (const key in v) {
        for (;;) {
          if (next === keys.length) return false;
          const known = keys[next++] as string;
          if (known === key) break;
          if (known in v) return false;
        }
      }
      for (; next < keys.length; next++) if ((keys[next] as string) in v) return false;
      for (const { key, fits } of nested) if (!fits(v[key])) return false;
      return true;
    },
    project: (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
      const from = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const value = from[key];
        if (value !== undefined) out[key] = (plans[i] as Plan).project(value);
      }
      return out;
    },
  };
}

/**
 * Writes a value of the schema as zod's encode and JSON.stringify would, or undefined if the
 * schema could make zod write something else. Our DTOs are built in the schema's shape, so they are
 * checked (keys and their order) and handed to JSON.stringify as they are; anything else is cut to
 * the schema first.
 */
export function compileStringify(schema: $ZodType): ((value: unknown) => string) | undefined {
  const plan = planOf(schema);
  if (!plan) return undefined;
  const { fits, project } = plan;
  return (v) => JSON.stringify(fits === null || fits(v) ? v : project(v));
}

export const isTestRun = (env: NodeJS.ProcessEnv = process.env) =>
  env.NODE_ENV === 'test' || env.VITEST !== undefined;

/**
 * A fastify serializer compiler: the fast stringifier where the schema allows it, zod's encode
 * (fastify-type-provider-zod's serializerCompiler) elsewhere. `verify`: see the top of this file.
 */
export function createFastSerializerCompiler(opts: { verify?: boolean } = {}): typeof serializerCompiler {
  const verify = opts.verify ?? isTestRun();
  return (route) => {
    const { schema, method, url } = route;
    const fast = schema instanceof $ZodType ? compileStringify(schema) : undefined;
    if (!fast) return serializerCompiler(route);
    if (!verify) return fast;
    const strict = serializerCompiler(route);
    return (data: unknown) => {
      const expected = strict(data);
      const got = fast(data);
      if (got !== expected) {
        throw new Error(
          `fast serializer differs from zod for ${method} ${url}: ${got?.slice(0, 200)} vs ${expected?.slice(0, 200)}`,
        );
      }
      return got;
    };
  };
}
