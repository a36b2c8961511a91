/** Shapes of the API answers the desk, phone, scan and asset pages read (src/api/routes/*, src/api/views.ts). */
import type { Asset, KbEntry, Shift, Ticket, TicketEvent } from './types';

export type ClockName = 'arrival' | 'repair';

/** GET /api/tickets/:id: the ticket with its audit trail, knowledge-base hints and outage children. */
export interface TicketDetail extends Ticket {
  events: TicketEvent[];
  knowledge?: KbEntry[];
  children?: Ticket[];
}

/** One message of the live feed (`event: ticket`). */
export interface LiveMessage {
  ticket: Ticket;
  event: TicketEvent;
}

/** GET /api/maintainers?site= */
export interface Maintainer {
  username: string;
  displayName: string;
  sites: string[];
  onShift: boolean;
  shiftSite: string | null;
}

export interface SiteDevice {
  id: string;
  kind: string;
  name: string;
  location?: string;
  category?: string;
}

/** One site of GET /api/sites. */
export interface SiteInfo {
  id: string;
  name: string;
  devices: SiteDevice[];
  onShift?: { username: string; displayName: string; since: string }[];
}

/** POST /api/scan */
export type ScanAnswer = { kind: 'asset'; ticket: Ticket } | { kind: 'site'; shift: Shift };

/** GET /api/assets/:site/:assetId */
export interface AssetDetail {
  asset: Asset;
  tickets: Ticket[];
}

export interface ReadingSeries {
  metric: string;
  unit: string | null;
  points: [string, number][];
}

/** GET /api/assets/:site/:assetId/readings */
export interface Readings {
  from: string;
  to: string;
  series: ReadingSeries[];
}
