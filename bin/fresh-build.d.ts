// Types for bin/fresh-build.js (plain JavaScript so the entry point needs no loader).
export declare function freshBuild(root: string): { entry: string; stale?: undefined } | { stale: string; entry?: undefined };
