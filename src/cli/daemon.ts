#!/usr/bin/env node
/**
 * Entry point of the per-user mux daemon, started detached by `sshmux ssh`:
 * `node daemon.js [--runtime-dir DIR] [--persist SECONDS]`. Not a user command. The process is
 * guarded before anything else loads: the daemon lives for minutes and holds the user's logins.
 */
import { guardProcess } from './process-guard.js';

guardProcess();
await import('./daemon-run.js');
