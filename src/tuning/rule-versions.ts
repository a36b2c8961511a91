import { stringify } from 'yaml';
import type { Asset } from '../config/directory.ts';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest, conflict, notFound, XiaoerError } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { RuleConfig, RuleOverride } from '../rules/config.ts';
import type { RuleSet } from '../rules/rule-set.ts';
import type { NewRuleVersion, RuleDocument, RuleNoiseRow, RuleVersion, Store } from '../store/store.ts';
import {
  canonical,
  compactOverrides,
  diffDocuments,
  documentsFromConfig,
  hashDocument,
  RULE_DEFAULTS,
  ruleSetOf,
} from './rule-document.ts';
import { candidateIssues } from './validate.ts';

export const CONFIG_AUTHOR = 'system:config';

export interface RuleVersionsDeps {
  config: Config;
  store: Store;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** Every asset rules may apply to (configured and confirmed), to count what a change affects. */
  assets(): Iterable<Asset>;
}

export interface NoiseReport {
  threshold: number;
  minTickets: number;
  windowDays: number;
  rules: (RuleNoiseRow & {
    score: number;
    preview: { rule: string; changes: Record<string, never>; days: number };
  })[];
}

/** Where an override applies: a whole site, or one asset of it. */
export interface OverrideScope {
  site: string;
  assetId?: string;
}

/**
 * The alert rules as versions: seeded from the YAML, changed at runtime by admins, each change a
 * new version with its author, comment and diff, audited. The rules in force are the latest
 * applied version of each; a change takes effect by handing the engine a new `RuleSet` (the
 * `rulesChanged` event), all at once. Changes are made one at a time.
 */
export class RuleVersions {
  readonly #deps: RuleVersionsDeps;
  /** The latest applied version of each rule (its document null once removed). */
  readonly #current = new Map<string, RuleVersion>();
  #ruleSet = ruleSetOf([]);
  #serial: Promise<unknown> = Promise.resolve();

  constructor(deps: RuleVersionsDeps) {
    this.#deps = deps;
  }

  get ruleSet(): RuleSet {
    return this.#ruleSet;
  }

  /**
   * Reads the versions and reconciles them with the YAML: a rule seen for the first time is
   * version 1; a rule whose YAML changed since the last start gets a new version by
   * `system:config` with its diff (the YAML wins when it changes, over runtime edits of that rule);
   * an unchanged YAML leaves runtime edits in force. A rule gone from the YAML is removed.
   */
  async load(): Promise<RuleSet> {
    const { store, clock } = this.#deps;
    const all = await store.listRuleVersions();
    const lastSeeded = new Map<string, string>();
    for (const v of all) {
      if (v.state === 'applied') this.#current.set(v.ruleId, v);
      if (v.sourceHash !== undefined) lastSeeded.set(v.ruleId, v.sourceHash);
    }
    const fromYaml = documentsFromConfig(this.#deps.config);
    const now = clock.now();
    for (const [ruleId, doc] of fromYaml) {
      const hash = hashDocument(doc);
      if (lastSeeded.get(ruleId) === hash) continue;
      const before = this.#current.get(ruleId);
      const comment = before ? 'the configuration file changed' : 'from the configuration file';
      await this.#record(
        this.#version(ruleId, doc, CONFIG_AUTHOR, comment, now, { sourceHash: hash }),
        'applied',
      );
    }
    for (const [ruleId, v] of [...this.#current]) {
      if (v.document && !fromYaml.has(ruleId) && lastSeeded.has(ruleId)) {
        const removed = this.#version(
          ruleId,
          null,
          CONFIG_AUTHOR,
          'removed from the configuration file',
          now,
          {
            sourceHash: hashDocument(null),
          },
        );
        await this.#record(removed, 'applied');
      }
    }
    this.#rebuild(false);
    return this.#ruleSet;
  }

  /** The rules in force, each with its current version, and the versions pending approval. */
  async list(): Promise<{ current: RuleVersion; pending: RuleVersion[] }[]> {
    const pending = (await this.#deps.store.listRuleVersions()).filter((v) => v.state === 'pending');
    return [...this.#current.values()]
      .filter((v) => v.document !== null)
      .map((current) => ({ current, pending: pending.filter((p) => p.ruleId === current.ruleId) }));
  }

  current(ruleId: string): RuleVersion {
    const v = this.#current.get(ruleId);
    if (!v?.document) throw notFound('rule', ruleId);
    return v;
  }

  async versionsOf(ruleId: string): Promise<RuleVersion[]> {
    const versions = await this.#deps.store.listRuleVersions(ruleId);
    if (versions.length === 0) throw notFound('rule', ruleId);
    return versions;
  }

  /** Changes fields of the rule itself; `null` removes an optional field. */
  change(
    ruleId: string,
    changes: Record<string, unknown>,
    comment: string,
    actor: string,
  ): Promise<RuleVersion> {
    return this.#exclusive(async () => {
      const { proposed } = this.proposal(ruleId, changes);
      return this.#propose(ruleId, proposed, comment, actor, 'rule.change');
    });
  }

  /**
   * The rule in force and the rule as `changes` would make it, checked as a change would be
   * (for a preview, which saves nothing).
   */
  proposal(
    ruleId: string,
    changes: Record<string, unknown>,
  ): { current: RuleDocument; proposed: RuleDocument } {
    const current = this.#document(ruleId);
    const rule = { ...current.rule } as Record<string, unknown>;
    for (const [field, value] of Object.entries(changes)) {
      if (value === null) delete rule[field];
      else rule[field] = value;
    }
    const proposed = { rule: rule as RuleConfig, overrides: current.overrides };
    this.#check(ruleId, proposed);
    return { current, proposed };
  }

  /**
   * Sets the rule's override for a site or an asset (fields merged into what is there, `null`
   * removes a field), or removes the override with `override` null.
   */
  setOverride(
    ruleId: string,
    scope: OverrideScope,
    override: Record<string, unknown> | null,
    comment: string,
    actor: string,
  ): Promise<RuleVersion> {
    return this.#exclusive(async () => {
      const doc = this.#document(ruleId);
      const sites = { ...doc.overrides.sites };
      const assets = { ...doc.overrides.assets };
      const before = scope.assetId === undefined ? sites[scope.site] : assets[scope.site]?.[scope.assetId];
      if (override === null && before === undefined) {
        const where =
          scope.assetId === undefined ? `site "${scope.site}"` : `asset ${scope.site}/${scope.assetId}`;
        throw notFound(`override of rule "${ruleId}" for`, where);
      }
      const merged: Record<string, unknown> = { ...before };
      for (const [field, value] of Object.entries(override ?? {})) {
        if (value === null) delete merged[field];
        else merged[field] = value;
      }
      const next = override === null ? {} : (merged as RuleOverride);
      if (scope.assetId === undefined) sites[scope.site] = next;
      else assets[scope.site] = { ...assets[scope.site], [scope.assetId]: next };
      const overrides = compactOverrides({ sites, assets });
      return this.#propose(ruleId, { rule: doc.rule, overrides }, comment, actor, 'rule.override');
    });
  }

  /** Makes an earlier version's rule the current one again, as a new version. */
  restore(ruleId: string, version: number, comment: string, actor: string): Promise<RuleVersion> {
    return this.#exclusive(async () => {
      const old = (await this.versionsOf(ruleId)).find((v) => v.version === version);
      if (!old) throw notFound(`version of rule "${ruleId}"`, version);
      if (!old.document)
        throw conflict('rule_version_empty', `version ${version} of rule "${ruleId}" removed it`);
      return this.#propose(ruleId, old.document, comment, actor, 'rule.restore', version);
    });
  }

  /** A second admin approves or rejects a pending version. */
  decide(
    ruleId: string,
    version: number,
    approve: boolean,
    actor: string,
    comment?: string,
  ): Promise<RuleVersion> {
    return this.#exclusive(async () => {
      const { store, clock } = this.#deps;
      const pending = (await this.versionsOf(ruleId)).find((v) => v.version === version);
      if (!pending) throw notFound(`version of rule "${ruleId}"`, version);
      if (approve && pending.author === actor) {
        throw new XiaoerError(
          'approval_by_author',
          'a change must be approved by another admin than its author',
          {
            httpStatus: 403,
          },
        );
      }
      const current = this.#current.get(ruleId);
      if (approve && pending.state === 'pending' && pending.baseVersion !== current?.version) {
        throw conflict(
          'rule_version_stale',
          `rule "${ruleId}" changed since version ${version} was proposed (it is at version ${current?.version}); propose the change again`,
        );
      }
      const at = clock.now();
      const decided = await store.decideRuleVersion(ruleId, version, {
        state: approve ? 'applied' : 'rejected',
        by: actor,
        at,
        ...(comment ? { comment } : {}),
      });
      await this.#audit(actor, approve ? 'rule.approve' : 'rule.reject', decided, comment ?? decided.comment);
      if (approve) {
        this.#current.set(ruleId, decided);
        this.#rebuild(true);
      }
      return decided;
    });
  }

  /**
   * Rules whose tickets are often closed with nothing wrong (no fault found, or the sensor at
   * fault): candidates for tuning, noisiest first, each with a preview request to start from.
   */
  async noise(): Promise<NoiseReport> {
    const { noiseThreshold, noiseMinTickets, noiseWindowDays } = this.#deps.config.tuning;
    const since = this.#deps.clock.now() - noiseWindowDays * 86_400_000;
    const rows = await this.#deps.store.ruleNoise(since);
    const rules = rows
      .filter((r) => this.#current.get(r.ruleId)?.document && r.closed >= noiseMinTickets)
      .map((r) => ({ ...r, score: r.noise / r.closed }))
      .filter((r) => r.score >= noiseThreshold)
      .sort((a, b) => b.score - a.score || b.closed - a.closed)
      .map((r) => ({ ...r, preview: { rule: r.ruleId, changes: {}, days: Math.min(30, noiseWindowDays) } }));
    return { threshold: noiseThreshold, minTickets: noiseMinTickets, windowDays: noiseWindowDays, rules };
  }

  /** The rules in force as YAML for the config file's `rules:` (defaults left out). */
  exportYaml(): string {
    const rules = [...this.#current.values()].flatMap((v) => {
      if (!v.document) return [];
      const rule = Object.fromEntries(
        Object.entries(v.document.rule).filter(
          ([k, value]) => canonical(RULE_DEFAULTS[k]) !== canonical(value),
        ),
      );
      const { sites, assets } = v.document.overrides;
      return [{ ...rule, ...(sites || assets ? { overrides: v.document.overrides } : {}) }];
    });
    const versions = [...this.#current.values()].map((v) => `${v.ruleId} v${v.version}`).join(', ');
    const header = [
      `# xiaoer alert rules, exported ${new Date(this.#deps.clock.now()).toISOString()}`,
      `# versions: ${versions}`,
      '# Replace the config file\'s "rules:" with this. Devices\' own "rules:" are included under',
      '# overrides.assets; where a device keeps one as well, the two must agree.',
    ].join('\n');
    return `${header}\n${stringify({ rules }, { lineWidth: 0 })}`;
  }

  #document(ruleId: string): RuleDocument {
    return this.current(ruleId).document as RuleDocument;
  }

  /** Validates, counts the assets affected, and applies the change or holds it for approval. */
  async #propose(
    ruleId: string,
    doc: RuleDocument,
    comment: string,
    actor: string,
    action: string,
    restoredFrom?: number,
  ): Promise<RuleVersion> {
    this.#check(ruleId, doc);
    const version = this.#version(ruleId, doc, actor, comment, this.#deps.clock.now(), {
      ...(restoredFrom === undefined ? {} : { restoredFrom }),
    });
    if (version.diff.length === 0)
      throw badRequest('rule_unchanged', `the change leaves rule "${ruleId}" as it is`);
    const limit = this.#deps.config.tuning.approvalAboveAssets;
    const state = limit !== undefined && version.assetsAffected > limit ? 'pending' : 'applied';
    const saved = await this.#record(version, state);
    await this.#audit(actor, action, saved, comment);
    if (state === 'applied') this.#rebuild(true);
    return saved;
  }

  #check(ruleId: string, doc: RuleDocument): void {
    const docs = new Map(
      [...this.#current].flatMap(([id, v]) => (v.document ? [[id, v.document] as const] : [])),
    );
    const issues = candidateIssues(this.#deps.config, docs, ruleId, doc);
    if (issues.length > 0) {
      throw badRequest(
        'rule_invalid',
        `the change to rule "${ruleId}" is not valid: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
        issues,
      );
    }
  }

  #version(
    ruleId: string,
    doc: RuleDocument | null,
    author: string,
    comment: string,
    at: number,
    extra: Partial<NewRuleVersion>,
  ): NewRuleVersion {
    const before = this.#current.get(ruleId);
    return {
      ruleId,
      state: 'applied',
      document: doc,
      ...(before ? { baseVersion: before.version } : {}),
      author,
      createdAt: at,
      comment,
      diff: diffDocuments(before?.document ?? null, doc),
      assetsAffected: this.#affected(before?.document ?? null, doc),
      ...extra,
    };
  }

  async #record(version: NewRuleVersion, state: RuleVersion['state']): Promise<RuleVersion> {
    const saved = await this.#deps.store.addRuleVersion({ ...version, state });
    if (state === 'applied') this.#current.set(saved.ruleId, saved);
    if (version.author === CONFIG_AUTHOR)
      await this.#audit(CONFIG_AUTHOR, 'rule.config', saved, version.comment);
    return saved;
  }

  /** Assets whose rule is not the same under the two documents (kinds, limits, overrides). */
  #affected(before: RuleDocument | null, after: RuleDocument | null): number {
    const resolveWith = (doc: RuleDocument | null) => {
      if (!doc) return () => undefined;
      const set = ruleSetOf([doc]);
      return (asset: Asset) =>
        doc.rule.kinds.includes(asset.kind) ? set.resolve(doc.rule, asset) : undefined;
    };
    const a = resolveWith(before);
    const b = resolveWith(after);
    let n = 0;
    for (const asset of this.#deps.assets())
      if (canonical(a(asset) ?? null) !== canonical(b(asset) ?? null)) n++;
    return n;
  }

  async #audit(actor: string, action: string, v: RuleVersion, comment: string): Promise<void> {
    await this.#deps.store.addAudit({
      at: this.#deps.clock.now(),
      actor,
      action,
      target: `rule:${v.ruleId}`,
      detail: { version: v.version, state: v.state, comment, diff: v.diff, assetsAffected: v.assetsAffected },
    });
  }

  /**
   * Another instance applied a change (src/cluster): the versions in force read again from the
   * store, and, if any differs from what this instance judges by, the new set handed on.
   */
  refresh(): Promise<void> {
    return this.#exclusive(async () => {
      const applied = new Map<string, RuleVersion>();
      for (const v of await this.#deps.store.listRuleVersions())
        if (v.state === 'applied') applied.set(v.ruleId, v);
      const same =
        applied.size === this.#current.size &&
        [...applied].every(([id, v]) => this.#current.get(id)?.version === v.version);
      if (same) return;
      this.#current.clear();
      for (const [id, v] of applied) this.#current.set(id, v);
      this.#rebuild(true);
    });
  }

  /** The rules in force as one new set, handed to whoever judges by them. */
  #rebuild(announce: boolean): void {
    const docs = [...this.#current.values()].flatMap((v) => (v.document ? [v.document] : []));
    this.#ruleSet = ruleSetOf(docs);
    if (announce) this.#deps.bus.emit('rulesChanged', this.#ruleSet);
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(work, work);
    this.#serial = run.catch(() => undefined);
    return run;
  }
}
