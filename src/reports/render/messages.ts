import type { ScoreWeights } from '../scores.ts';
import type { ReportLang, TimingStep } from './model.ts';

/** Every word the report prints, per language; a missing key fails the type-check. */
export interface ReportMessages {
  titleWeek: string;
  titleMonth: string;
  org: string;
  period: string;
  to: string;
  timeZone: string;
  generated: string;
  sites: string;
  headline: string;
  tickets: string;
  arrivalCompliance: string;
  repairCompliance: string;
  mttr: string;
  target: (minutes: number) => string;
  vsPrevious: string;
  breachedOf: (breached: number, total: number) => string;
  median: string;
  satisfaction: string;
  charts: string;
  chartFaultMix: string;
  chartSiteCompliance: string;
  chartTrend: string;
  arrival: string;
  repair: string;
  slaTitle: string;
  bySite: string;
  byCategory: string;
  byMaintainer: string;
  group: string;
  total: string;
  met: string;
  breached: string;
  compliance: string;
  timingsTitle: string;
  step: string;
  count: string;
  mean: string;
  p90: string;
  week: string;
  steps: Record<TimingStep, string>;
  faultsTitle: string;
  category: string;
  fault: string;
  share: string;
  site: string;
  byFault: string;
  bySiteCategory: string;
  noiseTitle: string;
  rule: string;
  closedTickets: string;
  noiseScore: string;
  repeatTitle: string;
  asset: string;
  room: string;
  scoresTitle: string;
  maintainer: string;
  reopenRate: string;
  score: string;
  weights: string;
  weightNames: Record<keyof ScoreWeights, string>;
  responses: string;
  notableTitle: string;
  breaches: string;
  workOrder: string;
  clock: string;
  due: string;
  reached: string;
  missedBy: string;
  notReached: string;
  reopened: string;
  reopenCount: string;
  flapping: string;
  detected: string;
  none: string;
  unassigned: string;
}

const zh: ReportMessages = {
  titleWeek: '服务台周报',
  titleMonth: '服务台月报',
  org: '机关事务管理局 · 一站式服务平台',
  period: '统计周期',
  to: '至',
  timeZone: '时区',
  generated: '生成时间',
  sites: '院区',
  headline: '核心指标',
  tickets: '工单总数',
  arrivalCompliance: '到场达标率',
  repairCompliance: '修复达标率',
  mttr: '平均修复时长 (MTTR)',
  target: (m) => (m < 60 ? `目标 ${m} 分钟内` : `目标 ${m / 60} 小时内`),
  vsPrevious: '较上期',
  breachedOf: (b, t) => `超时 ${b} / ${t}`,
  median: '中位数',
  satisfaction: '回访满意度',
  charts: '图表',
  chartFaultMix: '故障类别占比',
  chartSiteCompliance: '各院区达标率',
  chartTrend: '逐周时长趋势（中位数，分钟）',
  arrival: '到场',
  repair: '修复',
  slaTitle: '服务时效达标情况',
  bySite: '按院区',
  byCategory: '按类别',
  byMaintainer: '按维修人员',
  group: '分组',
  total: '工单数',
  met: '达标',
  breached: '超时',
  compliance: '达标率',
  timingsTitle: '处理时长',
  step: '环节',
  count: '件数',
  mean: '平均',
  p90: '90 分位',
  week: '周',
  steps: { dispatch: '派单', arrive: '到场', repair: '修复', verify: '验证' },
  faultsTitle: '故障构成',
  category: '类别',
  fault: '故障',
  share: '占比',
  site: '院区',
  byFault: '按故障代码',
  bySiteCategory: '各院区类别构成',
  noiseTitle: '规则误报率',
  rule: '规则',
  closedTickets: '已关闭工单',
  noiseScore: '误报率（无故障/传感器故障）',
  repeatTitle: '高频报修设备与房间',
  asset: '设备',
  room: '房间/位置',
  scoresTitle: '满意度与绩效评分',
  maintainer: '维修人员',
  reopenRate: '返修率',
  score: '评分',
  weights: '权重',
  weightNames: { sla: '时效达标', reopen: '返修率', satisfaction: '满意度' },
  responses: '回访数',
  notableTitle: '重点工单',
  breaches: '超时工单',
  workOrder: '工单号',
  clock: '时限',
  due: '应完成',
  reached: '实际完成',
  missedBy: '超出',
  notReached: '未完成',
  reopened: '返修（重开）工单',
  reopenCount: '重开次数',
  flapping: '频繁告警（抖动）工单',
  detected: '发现时间',
  none: '无',
  unassigned: '未派单',
};

const en: ReportMessages = {
  titleWeek: 'Service desk weekly report',
  titleMonth: 'Service desk monthly report',
  org: 'Government Affairs Bureau · one-stop service desk',
  period: 'Period',
  to: 'to',
  timeZone: 'Time zone',
  generated: 'Generated',
  sites: 'Sites',
  headline: 'Headline figures',
  tickets: 'Tickets',
  arrivalCompliance: 'On site in time',
  repairCompliance: 'Repaired in time',
  mttr: 'Mean time to repair (MTTR)',
  target: (m) => (m < 60 ? `target ${m} min` : `target ${m / 60} h`),
  vsPrevious: 'vs previous',
  breachedOf: (b, t) => `${b} of ${t} missed`,
  median: 'median',
  satisfaction: 'Satisfaction (call-backs)',
  charts: 'Charts',
  chartFaultMix: 'Fault mix by category',
  chartSiteCompliance: 'Compliance by site',
  chartTrend: 'Week over week (median, minutes)',
  arrival: 'Arrival',
  repair: 'Repair',
  slaTitle: 'SLA compliance',
  bySite: 'By site',
  byCategory: 'By category',
  byMaintainer: 'By maintainer',
  group: 'Group',
  total: 'Tickets',
  met: 'Met',
  breached: 'Missed',
  compliance: 'Compliance',
  timingsTitle: 'Timings',
  step: 'Step',
  count: 'Count',
  mean: 'Mean',
  p90: '90th pct.',
  week: 'Week',
  steps: { dispatch: 'Dispatch', arrive: 'Arrive', repair: 'Repair', verify: 'Verify' },
  faultsTitle: 'Fault mix',
  category: 'Category',
  fault: 'Fault',
  share: 'Share',
  site: 'Site',
  byFault: 'By fault code',
  bySiteCategory: 'Categories per site',
  noiseTitle: 'Noise per rule',
  rule: 'Rule',
  closedTickets: 'Closed tickets',
  noiseScore: 'Noise (no fault / sensor fault)',
  repeatTitle: 'Repeat offenders: assets and rooms',
  asset: 'Asset',
  room: 'Room / location',
  scoresTitle: 'Satisfaction and scores',
  maintainer: 'Maintainer',
  reopenRate: 'Reopen rate',
  score: 'Score',
  weights: 'Weights',
  weightNames: { sla: 'SLA compliance', reopen: 'reopen rate', satisfaction: 'satisfaction' },
  responses: 'Call-backs',
  notableTitle: 'Notable tickets',
  breaches: 'Missed targets',
  workOrder: 'Work order',
  clock: 'Clock',
  due: 'Due',
  reached: 'Reached',
  missedBy: 'Missed by',
  notReached: 'not reached',
  reopened: 'Reopened tickets',
  reopenCount: 'Reopened',
  flapping: 'Flapping tickets',
  detected: 'Detected',
  none: 'None',
  unassigned: 'not dispatched',
};

export const REPORT_MESSAGES: Record<ReportLang, ReportMessages> = { zh, en };
