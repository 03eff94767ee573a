// The server's token, as the user pasted it on the sign-in page. Kept in sessionStorage: this
// tab only, gone when it closes, never in a URL or a cookie (the server refuses tokens in URLs,
// and a cookie would be sent by other sites' requests too).
import { ref } from 'vue'

const KEY = 'ringlet.token'

export const signedIn = ref(sessionStorage.getItem(KEY) !== null)

export function token(): string | null {
  return sessionStorage.getItem(KEY)
}

export function signIn(value: string): void {
  sessionStorage.setItem(KEY, value)
  signedIn.value = true
}

export function signOut(): void {
  sessionStorage.removeItem(KEY)
  signedIn.value = false
}
