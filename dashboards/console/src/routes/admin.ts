import type { RouteRecordRaw } from 'vue-router';

/** The admin pages; the noise list is also read by the service desk. */
export const adminRoutes: RouteRecordRaw[] = [
  { path: '/admin', redirect: '/admin/rules' },
  {
    path: '/admin/rules',
    name: 'admin-rules',
    component: () => import('../views/admin/RulesView.vue'),
    meta: { roles: ['admin'], title: 'admin.rules.title' },
  },
  {
    path: '/admin/noise',
    name: 'admin-noise',
    component: () => import('../views/admin/NoiseView.vue'),
    meta: { roles: ['admin', 'staff'], title: 'admin.noise.title' },
  },
  {
    path: '/admin/users',
    name: 'admin-users',
    component: () => import('../views/admin/UsersView.vue'),
    meta: { roles: ['admin'], title: 'admin.users.title' },
  },
  {
    path: '/admin/assets',
    name: 'admin-assets',
    component: () => import('../views/admin/AssetsView.vue'),
    meta: { roles: ['admin'], title: 'admin.assets.title' },
  },
  {
    path: '/admin/kb',
    name: 'admin-kb',
    component: () => import('../views/admin/KbView.vue'),
    meta: { roles: ['admin'], title: 'admin.kb.title' },
  },
  {
    path: '/admin/labels',
    name: 'admin-labels',
    component: () => import('../views/admin/LabelsView.vue'),
    meta: { roles: ['admin'], title: 'admin.labels.title' },
  },
];
