import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { homeFor, onSignOut, session } from './auth';
import { adminRoutes } from './routes/admin';
import { deskRoutes } from './routes/desk';
import { reportsRoutes } from './routes/reports';
import type { Role } from './types';
// The first page anyone sees comes with the entry, not one round trip after it.
import LoginView from './views/LoginView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Who may open the page; absent: anyone logged in. */
    roles?: Role[];
    /** The login page and other pages open without a session. */
    public?: boolean;
    /** The page's title key in the i18n messages. */
    title?: string;
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', redirect: () => homeFor(session.user) },
  {
    path: '/login',
    name: 'login',
    component: LoginView,
    meta: { public: true, title: 'login.title' },
  },
  ...deskRoutes,
  ...adminRoutes,
  ...reportsRoutes,
  {
    path: '/:rest(.*)*',
    name: 'not-found',
    component: () => import('./views/NotFoundView.vue'),
    meta: { title: 'common.notFound' },
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach((to) => {
  if (to.meta.public) return true;
  if (!session.token || !session.user) {
    // A QR label opened before logging in comes back to itself after the login.
    return { name: 'login', query: { next: to.fullPath } };
  }
  if (to.meta.roles && !to.meta.roles.includes(session.user.role)) {
    return { path: homeFor(session.user), query: { denied: to.path } };
  }
  return true;
});

onSignOut(() => {
  const current = router.currentRoute.value;
  if (current.meta.public) return;
  void router.push({ name: 'login', query: { next: current.fullPath } });
});
