/**
 * The environment the per-user daemon starts with. It outlives the client that happened to
 * start it and then serves every later `sshmux ssh` of this user, so nothing that alters how a
 * process runs may be handed down from that one client: Node's own settings (NODE_OPTIONS can
 * preload code or open the inspector, NODE_DEBUG logs internals, NODE_V8_COVERAGE and the like
 * write files), libuv's, and the dynamic loader's preload/audit hooks (its search paths stay: a
 * Node installed against libraries outside the default paths needs them to start at all).
 * Everything else is kept:
 * the daemon needs HOME, USER, PATH, XDG_RUNTIME_DIR/LOCALAPPDATA, SSHMUX_* and the locale, and
 * sessions' SendEnv values travel in each request, not through this environment.
 */
const DROPPED_PREFIXES = ['NODE_', 'UV_'];
const DROPPED = new Set(['LD_PRELOAD', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES']);

/** Whether a variable of the client's environment is withheld from the daemon. */
export function isDroppedForDaemon(name: string): boolean {
  // Windows names are case-insensitive (Node_Options works there).
  const upper = name.toUpperCase();
  return DROPPED.has(upper) || DROPPED_PREFIXES.some((p) => upper.startsWith(p));
}

/** `env` without what the daemon must not inherit. */
export function daemonEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isDroppedForDaemon(name)) out[name] = value;
  }
  return out;
}
