/**
 * The V8 flags `npm start` runs the local stack with (package.json's `start` script; a spec keeps the two equal,
 * and the benchmark's single-process runs use these too).
 *
 * `--max-semi-space-size=16`: V8 starts marking the old generation whenever the room left under its limit is no
 * more than the young generation's capacity. By default a large machine gets 64 MB semi-spaces; the three apps in one
 * process hold 60-70 MB live, so after a full collection the room left (40-50 MB) is below that capacity, and every
 * time the young generation fills V8 runs a full mark-compact instead of a scavenge: at 50 hooks/s one every 1.4 s,
 * each stalling the loop for 20-60 ms (issue 17: p99 at 50/s 41-54 ms in that state, 13-16 ms out of it). 16 MB
 * keeps the room well above the capacity (no full collection in 50 s at 10-50 hooks/s); scavenges come every
 * 0.4 s at 50/s and take 1-2 ms. The Helm chart sets the per-app value (`<app>.runtime.maxSemiSpaceMb`).
 */
export const LOCAL_STACK_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
