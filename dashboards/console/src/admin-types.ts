/**
 * The admin API's shapes as the admin pages read them: src/tuning/rule-view.ts (rules and their
 * versions), src/rules/replay.ts (the preview), src/api/routes/{admin,assets}.ts and the console
 * contract (labels, knowledge base).
 */
import type { Asset, RuleLimit, User } from './types';

/** Where a rule's value comes from: the schema's default, the rule itself, a site or an asset override. */
export type ValueSource = 'default' | 'kind' | 'site' | 'asset';

export interface RuleValue {
  field: string;
  value: unknown;
  source: ValueSource;
  site: string | null;
  assetId: string | null;
}

export type VersionState = 'applied' | 'pending' | 'rejected';

export interface RuleVersion {
  ruleId: string;
  version: number;
  state: VersionState;
  author: string;
  createdAt: string;
  comment: string;
  diff: { path: string; from: unknown; to: unknown }[];
  assetsAffected: number;
  baseVersion: number | null;
  restoredFrom: number | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionComment: string | null;
}

export interface RuleView {
  id: string;
  type: string;
  kinds: string[];
  version: number;
  metric: { name: string; unit: string | null } | null;
  values: RuleValue[];
  pending: RuleVersion[];
}

export interface NoiseRow {
  ruleId: string;
  closed: number;
  noise: number;
  score: number;
  byResolution: Record<string, number>;
  preview: { rule: string; changes: Record<string, unknown>; days: number };
}

export interface NoiseList {
  threshold: number;
  minTickets: number;
  windowDays: number;
  rules: NoiseRow[];
}

export interface PreviewAsset {
  site: string;
  assetId: string;
  alarms: number;
  flaps: number;
  firstAt: string[];
}

export interface PreviewSide {
  alarms: number;
  tickets: number;
  flaps: number;
  clears: number;
  assets: PreviewAsset[];
}

export interface ChartLimits {
  current: RuleLimit | null;
  proposed: RuleLimit | null;
}

export interface PreviewChartSeries {
  site: string;
  assetId: string;
  /** What this asset is judged against: the rule with its site's and its own overrides. */
  limits?: ChartLimits;
  points: [string, number][];
  raised: { current: string[]; proposed: string[] };
}

export interface PreviewChart {
  metric: string | null;
  limits: ChartLimits;
  series: PreviewChartSeries[];
}

export interface PreviewResult {
  rule: string;
  from: string;
  to: string;
  readings: number;
  assets: number;
  current: PreviewSide;
  proposed: PreviewSide;
  difference: {
    alarms: number;
    tickets: number;
    flaps: number;
    onlyCurrent: string[];
    onlyProposed: string[];
  };
  elapsedMs: number;
  /** Added with the console; absent from an older server. */
  chart?: PreviewChart;
}

export interface AdminUser extends User {
  disabled: boolean;
}

export type { Asset };

export interface AssetPage {
  total: number;
  limit: number;
  offset: number;
  assets: Asset[];
}

export type LabelKind = 'asset' | 'site';

export interface Label {
  kind: LabelKind;
  site: string;
  siteName: string;
  assetId: string | null;
  assetName: string | null;
  location: string | null;
  /** The signed path, `/scan/asset/<site>/<assetId>?sig=…`. */
  path: string;
  /** The public address plus the path: what the QR code encodes. */
  url: string;
}
