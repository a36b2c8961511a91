import type { RouteRecordRaw } from 'vue-router';

/** The reports page: the desk and admins; a maintainer sees their own sites' figures (the API scopes them). */
export const reportsRoutes: RouteRecordRaw[] = [
  {
    path: '/reports',
    name: 'reports',
    component: () => import('../views/reports/ReportsView.vue'),
    meta: { roles: ['staff', 'admin', 'maintainer'], title: 'reports.title' },
  },
];
