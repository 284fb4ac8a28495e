// Node.js flags every workload process runs with: in the workload image (ENV NODE_OPTIONS,
// checked against this by test/packaging), in the pods the operator renders, and in the
// benchmarks, so that what is measured is what runs.
//
// --max-semi-space-size=16 (MB), Node 20's ceiling: Node 24's V8 lets the young generation's
// semi-spaces grow to 64 MB, and at 10,000 ticks/s the collector's short-lived garbage fills
// them before each scavenge. `make bench` measured the collector's peak RSS at 273 MB on
// Node 24's defaults (260 MB against 135 MB on Node 20 with the same code), above its
// 256 Mi default memory limit; with this flag 182 MB, flat over a 300 s soak. 8 MB lowered
// the peak further (165 MB) but cost CPU per tick and let the old generation grow instead.
export const WORKLOAD_NODE_OPTIONS = '--max-semi-space-size=16';
