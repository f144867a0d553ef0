#!/usr/bin/env node
// The `sshmux` binary. Guard the process before anything else loads (see process-guard.ts),
// then run the CLI.
import { guardProcess } from './process-guard.js';

guardProcess();
await import('./run.js');
