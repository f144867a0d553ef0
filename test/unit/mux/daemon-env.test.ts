import { describe, expect, it } from 'vitest';
import { daemonEnvironment } from '../../../src/mux/daemon-env.js';

describe('the environment a started daemon inherits', () => {
  it("drops Node's, libuv's and the loader's process-altering variables and keeps the rest", () => {
    const env = daemonEnvironment({
      HOME: '/home/u',
      PATH: '/usr/bin',
      XDG_RUNTIME_DIR: '/run/user/1',
      SSHMUX_PERSIST: '5',
      LANG: 'C.UTF-8',
      LD_LIBRARY_PATH: '/opt/node/lib',
      NODE_OPTIONS: '--require /tmp/evil.cjs',
      Node_Options: '--inspect',
      NODE_DEBUG: 'net',
      NODE_V8_COVERAGE: '/tmp/cov',
      NODE_EXTRA_CA_CERTS: '/tmp/ca.pem',
      UV_THREADPOOL_SIZE: '1',
      LD_PRELOAD: '/tmp/evil.so',
      LD_AUDIT: '/tmp/audit.so',
      DYLD_INSERT_LIBRARIES: '/tmp/evil.dylib',
    });
    expect(env).toEqual({
      HOME: '/home/u',
      PATH: '/usr/bin',
      XDG_RUNTIME_DIR: '/run/user/1',
      SSHMUX_PERSIST: '5',
      LANG: 'C.UTF-8',
      LD_LIBRARY_PATH: '/opt/node/lib',
    });
  });
});
