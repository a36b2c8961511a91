import type { RouteRecordRaw } from 'vue-router';

/** The desk board, the ticket page, the maintainer's phone pages, the QR scan pages and the asset page. */
export const deskRoutes: RouteRecordRaw[] = [
  {
    path: '/board',
    name: 'board',
    component: () => import('../views/desk/BoardView.vue'),
    meta: { roles: ['staff', 'admin'], title: 'board.title' },
  },
  {
    path: '/tickets/:id(\\d+)',
    name: 'ticket',
    component: () => import('../views/desk/TicketView.vue'),
    meta: { title: 'ticket.title' },
  },
  {
    path: '/m',
    name: 'mine',
    component: () => import('../views/desk/PhoneHomeView.vue'),
    meta: { roles: ['maintainer'], title: 'phone.title' },
  },
  {
    path: '/m/shift',
    name: 'shift',
    component: () => import('../views/desk/ShiftView.vue'),
    meta: { roles: ['maintainer'], title: 'shift.title' },
  },
  {
    path: '/scan/asset/:site/:assetId',
    name: 'scan-asset',
    component: () => import('../views/desk/ScanView.vue'),
    meta: { title: 'scan.title' },
  },
  {
    path: '/scan/site/:site',
    name: 'scan-site',
    component: () => import('../views/desk/ScanView.vue'),
    meta: { title: 'scan.title' },
  },
  {
    path: '/assets/:site/:assetId',
    name: 'asset',
    component: () => import('../views/desk/AssetView.vue'),
    meta: { title: 'asset.title' },
  },
];
