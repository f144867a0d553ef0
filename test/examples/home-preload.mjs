// Preloaded (`node --import`) into every example the examples test runs: sshmux, like ssh,
// finds ~/.ssh through the account's home directory (os.userInfo), not $HOME, so the runner's
// scratch home is given there too. Nothing else is changed.
import os from 'node:os';

const home = process.env.HOME;
if (!home) throw new Error('home-preload: HOME is not set');
const real = os.userInfo.bind(os);
os.userInfo = (options) => ({ ...real(options), homedir: home });
