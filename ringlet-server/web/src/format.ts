// Numbers and times as people read them. Cost is never shown as $0 when some usage has no
// known price: the unpriced part is flagged instead.

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 })
const usdSmall = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 4, maximumFractionDigits: 4 })
const count = new Intl.NumberFormat('en-US')
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })

export function money(value: number): string {
  return value > 0 && value < 0.01 ? usdSmall.format(value) : usd.format(value)
}

/** A cost with what is unpriced: "$1.20", "$1.20 + 3 unpriced", or "unpriced (3 events)". */
export function cost(row: { cost_usd: number; priced_events: number; unpriced_events: number }): string {
  if (row.unpriced_events > 0 && row.priced_events === 0) {
    return `unpriced (${count.format(row.unpriced_events)} ${row.unpriced_events === 1 ? 'event' : 'events'})`
  }
  const base = money(row.cost_usd)
  return row.unpriced_events > 0 ? `${base} + ${count.format(row.unpriced_events)} unpriced` : base
}

export function tokens(n: number): string {
  return n >= 10_000 ? compact.format(n) : count.format(n)
}

export function number(n: number): string {
  return count.format(n)
}

/** A time as a date and time in `zone` (an IANA name; the browser's when absent). */
export function when(iso: string | null | undefined, zone?: string): string {
  if (!iso) return 'never'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(undefined, { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' })
}

/** How long ago, roughly ("3 min ago"). */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never'
  const s = Math.round((now - new Date(iso).getTime()) / 1000)
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone

/** Today's date in `zone`, YYYY-MM-DD. */
export function today(zone: string, at = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at)
}

/** The first day of this month in `zone`, YYYY-MM-DD. */
export function monthStart(zone: string, at = new Date()): string {
  return today(zone, at).slice(0, 8) + '01'
}
