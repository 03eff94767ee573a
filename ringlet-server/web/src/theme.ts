// Light, dark, or the system's choice (the default); remembered in localStorage (not a secret).
import { ref, watch } from 'vue'

export type Theme = 'system' | 'light' | 'dark'
const KEY = 'ringlet.theme'

export const theme = ref<Theme>((localStorage.getItem(KEY) as Theme | null) ?? 'system')

function apply(t: Theme) {
  const root = document.documentElement
  if (t === 'system') root.removeAttribute('data-theme')
  else root.setAttribute('data-theme', t)
}

apply(theme.value)
watch(theme, (t) => {
  localStorage.setItem(KEY, t)
  apply(t)
})

const media = window.matchMedia('(prefers-color-scheme: dark)')
/** The system's choice, followed live (the terminal's colours are set from script). */
export const systemDark = ref(media.matches)
media.addEventListener('change', (e) => (systemDark.value = e.matches))

/** Whether the page is dark right now. */
export function isDark(): boolean {
  if (theme.value !== 'system') return theme.value === 'dark'
  return systemDark.value
}
