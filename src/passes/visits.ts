/**
 * Work counters of the passes, for tests of their complexity (a pass over a chain of n nodes must do O(n) work,
 * whatever order the rewrites come in). Plain numbers bumped in the inner loops; nothing reads them in the engine.
 * Tests reset them with `resetPassVisits()` and compare counts across graph sizes.
 */
export const passVisits = {
  /** Non-leaf nodes copied into a rebuilt graph (by `rebuild`, or a rewrite pass keeping a node). */
  copies: 0,
  /** Rules tried on a node by simplify or stabilize (only rules whose pattern's root op is the node's). */
  ruleTrials: 0,
  /** Commutative nodes cse looked at before deciding whether to rebuild. */
  cseChecks: 0,
  /** Terms gathered by the addn pass when it builds an addN (each absorbed sum's terms are gathered once). */
  addnTerms: 0,
  /** Liveness answered from the last sweep of the same graph and outputs (`liveNodes`). */
  livenessReused: 0,
};

export function resetPassVisits(): void {
  for (const key of Object.keys(passVisits) as (keyof typeof passVisits)[]) passVisits[key] = 0;
}
