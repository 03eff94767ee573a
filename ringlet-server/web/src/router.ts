// The client routes. ringlet-server/src/web.rs serves index.html for each of these prefixes
// (CLIENT_ROUTES there, checked against this file by a test): keep the two in step.
import { createRouter, createWebHistory } from 'vue-router'
import { signedIn } from './auth'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/profiles' },
    { path: '/sign-in', name: 'sign-in', component: () => import('./views/SignIn.vue'), meta: { title: 'Sign in', public: true } },
    { path: '/profiles', name: 'profiles', component: () => import('./views/Profiles.vue'), meta: { title: 'Profiles' } },
    { path: '/profiles/new', name: 'profile-new', component: () => import('./views/ProfileForm.vue'), meta: { title: 'New profile' } },
    { path: '/profiles/:alias/edit', name: 'profile-edit', component: () => import('./views/ProfileForm.vue'), props: true, meta: { title: 'Edit profile' } },
    { path: '/usage', name: 'usage', component: () => import('./views/Usage.vue'), meta: { title: 'Usage' } },
    { path: '/agents', name: 'agents', component: () => import('./views/Agents.vue'), meta: { title: 'Agents & providers' } },
    { path: '/hooks', name: 'hooks', component: () => import('./views/Hooks.vue'), meta: { title: 'Hooks' } },
    { path: '/terminal', name: 'sessions', component: () => import('./views/Sessions.vue'), meta: { title: 'Terminal sessions' } },
    { path: '/terminal/:id', name: 'terminal', component: () => import('./views/Terminal.vue'), props: true, meta: { title: 'Terminal' } },
    { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFound.vue'), meta: { title: 'Not found', public: true } },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !signedIn.value) {
    return { name: 'sign-in', query: { next: to.fullPath } }
  }
})

router.afterEach((to, from) => {
  document.title = `${(to.meta.title as string) ?? 'ringlet'} · ringlet`
  // After an in-app navigation, focus moves to the page's content (as a page load would put a
  // screen reader at the top), not left on a link that may no longer exist.
  if (from.matched.length > 0 && to.path !== from.path) {
    setTimeout(() => document.getElementById('content')?.focus({ preventScroll: true }))
  }
})
