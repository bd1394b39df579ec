// Package fairshare computes Slurm's fair-share factor of every user
// association, under an account tree with shares, from each
// association's decayed usage. The factor feeds the multifactor priority
// (pkg/sched/priority). It is pure: no clock, no I/O, sorted iteration.
//
// # The tree
//
// New builds it from api.Account values. "root" is implicit; an account
// whose Parent is "" hangs under it. An account named "root" may be listed
// (without a Parent) to give root user associations of its own; its Shares
// are ignored. Shares and UserShares of 0 are taken as 1 (as api.Account
// documents), so every association configured has shares; negative ones
// are rejected. The children of an account are its users, then its
// sub-accounts, each in configuration order: that is "tree order", the
// order of Report. Users and sub-accounts of one account are one sibling
// set.
//
// Usage is the association's decayed raw usage in billing-seconds (see
// Decay and BillingWeights.Billing). An account's usage is the sum over its
// subtree. A negative, NaN or infinite usage is an error.
//
// # Fair Tree (FairTree, Slurm's default)
//
// Within each sibling set, S = shares / Σ sibling shares and U = subtree
// usage / Σ sibling subtree usage (0 for all when none of them has usage).
// The Level Fairness is LF = S/U, with LF = 0 when S = 0 and +Inf when
// U = 0. Siblings are sorted by LF, highest first, and visited depth-first:
// every user under a sibling is ranked before any user under a sibling of
// lower LF. The first user visited gets rank N (the number of user
// associations) and factor rank/N = 1; the last gets 1/N.
//
// Ties (exact equality of LF; no tolerance, so the result stays
// deterministic and the relation transitive) follow Slurm's rules:
//   - sibling users with the same LF get the same rank;
//   - sibling accounts with the same LF have their children merged into one
//     set, each child keeping the LF it has among its own siblings, and
//     that set is sorted and visited as one level. So the children of two
//     tied accounts interleave by their own LF instead of one account
//     going first by an arbitrary tie-break;
//   - a user with the same LF as a sibling account gets the same rank as
//     the highest-ranked user under that account. Concretely, in a run of
//     equal LF the users are ranked first, all with one rank, and the first
//     user found in the merged accounts below shares it.
//
// Ranks are "competition" ranks: k users sharing rank r are followed by
// rank r−k, so a user's rank is always N minus the number of users ranked
// strictly above it. Slurm's implementation also lets the first user of
// two tied accounts tie with the user visited just before them even when
// no user sibling tied; that quirk is not reproduced: the order never
// depends on which sibling a sort happens to put first.
//
// # Classic (Classic, Slurm's PriorityFlags=NO_FAIR_TREE)
//
// S_norm is the product along the path of shares / Σ sibling shares.
// U_norm is subtree usage / the whole tree's usage. The effective usage of
// an association directly under root is its U_norm (as Slurm's
// classic_fair_share documentation states and its worked example
// computes); deeper down it is
//
//	U_eff = U_norm + (U_eff(parent) − U_norm) · shares/Σ sibling shares
//
// and the factor is F = 2^(−U_eff/S_norm). With no usage at all every
// factor is 1; an association with S_norm = 0 gets 0 (unreachable from a
// configuration, since shares are at least 1, but kept for safety).
//
// Both algorithms are monotone: more usage for one association never
// raises its factor (the property tests check this on random trees).
package fairshare
