// Capabilities a package has now that it did not have before (e.g. a patch
// release that suddenly spawns processes or opens sockets): the signal that
// matters most in an update.

export interface CapabilitiesGained {
  readonly name: string
  /** capabilities in `current` and not in `previous`, sorted */
  readonly gained: string[]
}

/**
 * Compares capability sets by package (name or location, as the caller keys
 * them). Only packages present in both maps are compared, unless
 * `includeNew` is set, in which case a new package gains all it has.
 * Packages that gained nothing are left out; the list is sorted by name.
 */
export function capabilitiesGained (
  previous: ReadonlyMap<string, readonly string[]>,
  current: ReadonlyMap<string, readonly string[]>,
  opts: { includeNew?: boolean } = {},
): CapabilitiesGained[] {
  const out: CapabilitiesGained[] = []
  for (const [name, caps] of current) {
    const before = previous.get(name)
    if (before === undefined && !opts.includeNew) continue
    const had = new Set(before ?? [])
    const gained = [...new Set(caps)].filter(c => !had.has(c)).sort()
    if (gained.length > 0) out.push({ name, gained })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}
