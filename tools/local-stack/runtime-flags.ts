/**
 * The V8 flags `npm start` runs the local stack with (package.json's `start` script; a spec keeps the two equal,
 * and the benchmark's single-process runs use these too).
 *
 * `--max-semi-space-size=16`: V8 starts marking the old generation when the room left under its limit is no more
 * than the young generation's capacity. With V8's default young generation on a large machine (about 50 MB filled
 * between scavenges here) the three apps in one process fell, often, into a state where every young-generation fill
 * became a full mark-compact: at 50 hooks/s one every 1.4 s, each answer in flight then 20-60 ms late (issue 17:
 * p99 at 50/s 43-50 ms in that state, 13-17 ms out of it). With 16 MB semi-spaces it never happened in the A/Bs
 * (bench/results-issue-17-semi-space.md); scavenges come every 0.4 s at 50/s and take 1-2 ms, for somewhat more CPU
 * per hook above 100/s. The Helm chart sets the per-app value (`<app>.runtime.maxSemiSpaceMb`, 8).
 */
export const LOCAL_STACK_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
